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

/*
 * The calling thread becomes uid:gid with no supplementary groups (and, not
 * root any more, no capabilities). The raw system calls change only this
 * thread's credentials; glibc's wrappers would change every thread's.
 */
static inline int xtun_thread_become(unsigned int uid, unsigned int gid)
{
	if (xtun_drop_groups() != 0)
		return -1;
	if (syscall(SYS_setresgid, gid, gid, gid) != 0)
		return -1;
	return (int)syscall(SYS_setresuid, uid, uid, uid);
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

/* ioctl(2) with a pointer argument that may be NULL or bad on purpose (the fuzzer). */
static inline int xtun_ioctl_pointer(int fd, unsigned long request, void *argument)
{
	return ioctl(fd, request, argument);
}

/* The ioctls do_vfs_ioctl() (fs/ioctl.c) handles before a driver sees them. */
#include <linux/fs.h>
#include <linux/fiemap.h>
static const unsigned long xtun_FIOCLEX = FIOCLEX;
static const unsigned long xtun_FIONCLEX = FIONCLEX;
static const unsigned long xtun_FIONBIO = FIONBIO;
static const unsigned long xtun_FIOASYNC = FIOASYNC;
static const unsigned long xtun_FIOQSIZE = FIOQSIZE;
static const unsigned long xtun_FIFREEZE = FIFREEZE;
static const unsigned long xtun_FITHAW = FITHAW;
static const unsigned long xtun_FS_IOC_FIEMAP = FS_IOC_FIEMAP;
static const unsigned long xtun_FIGETBSZ = FIGETBSZ;
static const unsigned long xtun_FIBMAP = FIBMAP;
static const unsigned long xtun_FICLONE = FICLONE;
static const unsigned long xtun_FICLONERANGE = FICLONERANGE;
static const unsigned long xtun_FIDEDUPERANGE = FIDEDUPERANGE;
static const unsigned long xtun_FS_IOC_GETFLAGS = FS_IOC_GETFLAGS;
static const unsigned long xtun_FS_IOC_SETFLAGS = FS_IOC_SETFLAGS;
static const unsigned long xtun_FS_IOC_FSGETXATTR = FS_IOC_FSGETXATTR;
static const unsigned long xtun_FS_IOC_FSSETXATTR = FS_IOC_FSSETXATTR;
/* 6.5 and 6.9 added these; the host's headers may not have them. */
static const unsigned long xtun_FS_IOC_GETFSUUID = _IOR(0x15, 0, char[17]);
static const unsigned long xtun_FS_IOC_GETFSSYSFSPATH = _IOR(0x15, 1, char[129]);
static const unsigned long xtun_FIONREAD = FIONREAD;

/* _IOC(dir, type, nr, size): an ioctl number from its four fields. */
static inline unsigned long xtun_ioc(unsigned int dir, unsigned int type, unsigned int nr, unsigned int size)
{
	return _IOC(dir & 3, type & 0xff, nr & 0xff, size & 0x3fff);
}

static inline unsigned int xtun_ioc_type(unsigned long request) { return _IOC_TYPE(request); }

/*
 * Sets and clears interface flags (IFF_UP) with SIOCGIFFLAGS and
 * SIOCSIFFLAGS on @socket_fd, an AF_INET datagram socket: ip link set up
 * without exec'ing ip. Returns 0 or -errno.
 */
static inline int xtun_change_interface_flags(int socket_fd, const char *name, short set, short clear)
{
	struct ifreq request;

	memset(&request, 0, sizeof(request));
	strncpy(request.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(socket_fd, SIOCGIFFLAGS, &request) < 0)
		return -errno;
	request.ifr_flags = (short)((request.ifr_flags | set) & ~clear);
	return ioctl(socket_fd, SIOCSIFFLAGS, &request) < 0 ? -errno : 0;
}

#include <netinet/in.h>

/* SIOCSIFADDR and SIOCSIFNETMASK: @address/@prefix (host order) on @name. Returns 0 or -errno. */
static inline int xtun_set_ipv4(int socket_fd, const char *name, unsigned int address, int prefix)
{
	struct ifreq request;
	struct sockaddr_in *in = (struct sockaddr_in *)&request.ifr_addr;

	memset(&request, 0, sizeof(request));
	strncpy(request.ifr_name, name, IFNAMSIZ - 1);
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(address);
	if (ioctl(socket_fd, SIOCSIFADDR, &request) < 0)
		return -errno;
	in->sin_addr.s_addr = htonl(prefix ? ~0u << (32 - prefix) : 0);
	return ioctl(socket_fd, SIOCSIFNETMASK, &request) < 0 ? -errno : 0;
}

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/time.h>

/*
 * RTM_DELLINK by name, as `ip link del NAME` sends it, and waits (at most
 * 5 s) for the kernel's answer. Returns 0 or -errno.
 */
static inline int xtun_delete_link(const char *name)
{
	struct {
		struct nlmsghdr header;
		struct ifinfomsg info;
		char attributes[RTA_SPACE(IFNAMSIZ)];
	} request;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval timeout = { .tv_sec = 5 };
	size_t length = strlen(name) + 1;
	char reply[1024];
	struct nlmsghdr *answer = (struct nlmsghdr *)reply;
	struct rtattr *attribute;
	ssize_t received;
	int fd, result;

	if (length > IFNAMSIZ)
		return -EINVAL;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	memset(&request, 0, sizeof(request));
	request.header.nlmsg_type = RTM_DELLINK;
	request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	request.header.nlmsg_seq = 1;
	request.info.ifi_family = AF_UNSPEC;
	attribute = (struct rtattr *)request.attributes;
	attribute->rta_type = IFLA_IFNAME;
	attribute->rta_len = (unsigned short)RTA_LENGTH(length);
	memcpy(RTA_DATA(attribute), name, length);
	request.header.nlmsg_len = (unsigned int)(NLMSG_LENGTH(sizeof(request.info)) + RTA_SPACE(length));
	if (sendto(fd, &request, request.header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		result = -errno;
	} else {
		received = recv(fd, reply, sizeof(reply), 0);
		if (received < 0)
			result = -errno;
		else if (NLMSG_OK(answer, (unsigned int)received) && answer->nlmsg_type == NLMSG_ERROR)
			result = ((struct nlmsgerr *)NLMSG_DATA(answer))->error;
		else
			result = -EPROTO;
	}
	close(fd);
	return result;
}

/* delete_module(2): glibc has no wrapper. */
static inline int xtun_delete_module(const char *name, unsigned int flags)
{
	return (int)syscall(SYS_delete_module, name, flags);
}
