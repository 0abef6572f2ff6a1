/* Linux headers that Swift's Glibc module does not import. */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <net/ethernet.h>
#include <linux/if_tun.h>

/* Function-like macros Swift cannot import, as functions and constants. */
static inline unsigned int xtun_major(dev_t dev) { return major(dev); }
static inline unsigned int xtun_minor(dev_t dev) { return minor(dev); }
static const unsigned long xtun_TUNSETIFF = TUNSETIFF;
