/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtun.h - what the two halves of xtun share.
 *
 * xtun_net.c is the net_device half: the stack transmits into it.
 * xtun_chr.c is the char-device half: /dev/xtun, where a process creates
 * or attaches a device with tun's ioctls, reads what the stack transmitted
 * on it and writes what it receives.
 */
#ifndef _XTUN_H
#define _XTUN_H

#include <linux/if_tun.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#define XTUN_IFNAME "xtun"

/* Bits in xtun_priv.flags */
#define XTUN_READER	0	/* a file is attached: queue frames for it */

/* The TUNSETIFF flags xtun implements, as TUNGETFEATURES reports them. */
#define XTUN_FEATURES	(IFF_TUN | IFF_TAP | IFF_NO_CARRIER | IFF_NO_PI | \
			 IFF_ONE_QUEUE)

struct xtun_file;

/**
 * struct xtun_priv - per-device state, allocated with the net_device
 * @msg_enable: netif_msg_*() classes that are logged
 * @dev: the net_device this state belongs to
 * @flags: XTUN_READER
 * @txq: frames the stack transmitted, waiting for read(); its own lock
 *	 serialises producers (ndo_start_xmit) against consumers (read,
 *	 detach), and XTUN_READER changes under it
 * @file: the attached file, or NULL; changed under RTNL, read under RCU
 * @tun_flags: IFF_TUN or IFF_TAP, IFF_NO_PI, IFF_ONE_QUEUE, IFF_PERSIST as
 *	       tun's sysfs tun_flags shows them; changed under RTNL
 * @owner: who may attach without CAP_NET_ADMIN (TUNSETOWNER), or invalid
 * @group: the group that may (TUNSETGROUP), or invalid
 * @sndbuf: TUNSETSNDBUF's value, which TUNGETSNDBUF returns
 */
struct xtun_priv {
	u32 msg_enable;
	struct net_device *dev;
	unsigned long flags;
	struct sk_buff_head txq;
	struct xtun_file __rcu *file;
	unsigned int tun_flags;
	kuid_t owner;
	kgid_t group;
	int sndbuf;
};

/**
 * struct xtun_file - one open /dev/xtun
 * @priv: the device TUNSETIFF attached it to, or NULL; changed under RTNL,
 *	  read under RCU
 * @net: the opener's network namespace, where TUNSETIFF creates devices
 * @readq: its reader sleeps here until the device's queue is not empty or
 *	   the file is detached; in the file, not the device, because poll
 *	   and epoll keep a pointer to it for as long as the file is open
 * @rcu: the file is freed after a grace period: ndo_start_xmit may still
 *	 be waking @readq
 */
struct xtun_file {
	struct xtun_priv __rcu *priv;
	struct net *net;
	wait_queue_head_t readq;
	struct rcu_head rcu;
};

/* xtun_net.c */
int xtun_net_register_kind(void);
void xtun_net_unregister_kind(void);
bool xtun_net_is_xtun(const struct net_device *dev);
int xtun_net_change_carrier(struct net_device *dev, bool new_carrier);
struct net_device *xtun_net_create(struct net *net, const char *name,
				   unsigned int mode);

/* xtun_chr.c */
int xtun_chr_register(void);
void xtun_chr_unregister(void);
void xtun_chr_detach(struct xtun_priv *priv);
bool xtun_chr_enqueue(struct xtun_priv *priv, struct sk_buff *skb);

#endif /* _XTUN_H */
