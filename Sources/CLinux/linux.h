/* Linux headers that Swift's Glibc module does not import. */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <net/ethernet.h>
#include <linux/if_tun.h>

/* Function-like macros Swift cannot import, as functions and constants. */
static inline unsigned int xtun_major(dev_t dev) { return major(dev); }
static inline unsigned int xtun_minor(dev_t dev) { return minor(dev); }
static const unsigned long xtun_TUNSETIFF = TUNSETIFF;
static const unsigned long xtun_TUNGETIFF = TUNGETIFF;
static const unsigned long xtun_TUNGETFEATURES = TUNGETFEATURES;
static const unsigned long xtun_TUNSETPERSIST = TUNSETPERSIST;
static const unsigned long xtun_TUNSETOWNER = TUNSETOWNER;
static const unsigned long xtun_TUNSETGROUP = TUNSETGROUP;
static const unsigned long xtun_TUNSETCARRIER = TUNSETCARRIER;
static const unsigned long xtun_TUNGETSNDBUF = TUNGETSNDBUF;
static const unsigned long xtun_TUNSETSNDBUF = TUNSETSNDBUF;
static const unsigned long xtun_TUNSETOFFLOAD = TUNSETOFFLOAD;

/* ioctl(2) whose argument is a number, passed as the unsigned long it is. */
static inline int xtun_ioctl_value(int fd, unsigned long request, unsigned long value)
{
	return ioctl(fd, request, value);
}

/* Pins the calling thread to one of the first 64 CPUs (CPU_SET is a macro). */
static inline int xtun_pin_to_cpu(int cpu)
{
	unsigned long mask = 1UL << cpu;

	return (int)syscall(SYS_sched_setaffinity, 0, sizeof(mask), &mask);
}

#include <linux/sched.h>

/* unshare(CLONE_NEWNET): a network namespace of the caller's own. */
static inline int xtun_unshare_network(void)
{
	return (int)syscall(SYS_unshare, CLONE_NEWNET);
}

/* setns(fd, CLONE_NEWNET): the calling thread enters the namespace fd names. */
static inline int xtun_enter_network(int fd)
{
	return (int)syscall(SYS_setns, fd, CLONE_NEWNET);
}

/* setgroups(2) without <grp.h>'s _DEFAULT_SOURCE dance: no supplementary groups. */
static inline int xtun_drop_groups(void)
{
	return (int)syscall(SYS_setgroups, 0, NULL);
}

#include <linux/errqueue.h>
#include <string.h>

/*
 * Reads one MSG_ZEROCOPY completion from a socket's error queue without
 * waiting: returns 1 and the completed range and code, 0 if the queue is
 * empty, -1 with errno on another error. (CMSG_* are macros Swift cannot call.)
 */
static inline int xtun_zerocopy_completion(int fd, unsigned int *low, unsigned int *high, unsigned int *code)
{
	char control[128];
	struct msghdr message;
	struct cmsghdr *cmsg;

	memset(&message, 0, sizeof(message));
	message.msg_control = control;
	message.msg_controllen = sizeof(control);
	if (recvmsg(fd, &message, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return errno == EAGAIN ? 0 : -1;
	for (cmsg = CMSG_FIRSTHDR(&message); cmsg; cmsg = CMSG_NXTHDR(&message, cmsg)) {
		struct sock_extended_err *error = (struct sock_extended_err *)CMSG_DATA(cmsg);

		if (error->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
			continue;
		*low = error->ee_info;
		*high = error->ee_data;
		*code = error->ee_code;
		return 1;
	}
	return 0;
}

/* finit_module(2): glibc has no wrapper. */
static inline int xtun_finit_module(int fd, const char *params, int flags)
{
	return (int)syscall(SYS_finit_module, fd, params, flags);
}

/*
 * Loads a module with the Nth failable slab allocation of this thread failing
 * (fail-nth, CONFIG_FAULT_INJECTION): writes @n to @nth_fd (an open
 * /proc/thread-self/fail-nth), calls finit_module() at once and reads the
 * file back, all without touching new memory, so only the load's own
 * allocations count. Returns finit_module()'s result (errno in *error);
 * *injected is 1 when the Nth allocation happened and failed.
 */
static inline int xtun_load_failing(int module_fd, int nth_fd, unsigned int n, int *injected, int *error)
{
	char text[16];
	int length = 0, result;
	unsigned int value = n;
	char digits[16];
	int count = 0;

	do {
		digits[count++] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	while (count)
		text[length++] = digits[--count];
	if (pwrite(nth_fd, text, (size_t)length, 0) != length) {
		*error = errno;
		return -2;
	}
	result = (int)syscall(SYS_finit_module, module_fd, "", 0);
	*error = result < 0 ? errno : 0;
	length = (int)pread(nth_fd, text, sizeof(text) - 1, 0);
	*injected = length > 0 && text[0] == '0';
	(void)!pwrite(nth_fd, "0", 1, 0);
	return result;
}
