/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtun.h - what the two halves of xtun share.
 *
 * xtun_net.c is the net_device half: the stack transmits into it.
//> 03-03 header-chr
 * xtun_chr.c is the char-device half: /dev/xtun, where a process reads
 * what the stack transmitted.
//< header-chr
//> 04-05 header-chr-rx
 * xtun_chr.c is the char-device half: /dev/xtun, where a process reads
 * what the stack transmitted and writes what xtun receives.
//< header-chr-rx
//> 06 header-chr-ctl
 * xtun_chr.c is the char-device half: /dev/xtun, where a process creates
 * or attaches a device with tun's ioctls, reads what the stack transmitted
 * on it and writes what it receives.
//< header-chr-ctl
 */
#ifndef _XTUN_H
#define _XTUN_H

//> 06 header-includes-tun
#include <linux/if_tun.h>
//< header-includes-tun
//> 03-05 header-includes
#include <linux/miscdevice.h>
//< header-includes
#include <linux/netdevice.h>
//> 03 header-includes-queue
#include <linux/skbuff.h>
//> 06 header-includes-ctl
#include <linux/types.h>
#include <linux/uidgid.h>
//< header-includes-ctl
#include <linux/wait.h>
//< header-includes-queue

#define XTUN_IFNAME "xtun"

//> 03-05 reader-bit
/* Bits in xtun_priv.flags */
#define XTUN_READER	0	/* /dev/xtun is open: queue frames for it */

//< reader-bit
//> 06 reader-bit-ctl
/* Bits in xtun_priv.flags */
#define XTUN_READER	0	/* a file is attached: queue frames for it */

/* The TUNSETIFF flags xtun implements, as TUNGETFEATURES reports them. */
#define XTUN_FEATURES	(IFF_TUN | IFF_TAP | IFF_NO_CARRIER | IFF_NO_PI | \
			 IFF_ONE_QUEUE)

struct xtun_file;

//< reader-bit-ctl
/**
 * struct xtun_priv - per-device state, allocated with the net_device
 * @msg_enable: netif_msg_*() classes that are logged
//> 03-05 priv-doc
 * @dev: the net_device this state belongs to
 * @misc: the character device /dev/xtun
 * @flags: XTUN_READER
 * @txq: frames the stack transmitted, waiting for read(); its own lock
 *	 serialises producers (ndo_start_xmit) against consumers (read, close)
 * @readq: readers sleep here until @txq is not empty
//< priv-doc
//> 06 priv-doc-ctl
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
//< priv-doc-ctl
 */
struct xtun_priv {
	u32 msg_enable;
//> 03 priv-queue
	struct net_device *dev;
//> 03-05 priv-misc
	struct miscdevice misc;
//< priv-misc
	unsigned long flags;
	struct sk_buff_head txq;
//> 03-05 priv-readq
	wait_queue_head_t readq;
//< priv-readq
//< priv-queue
//> 06 priv-ctl
	struct xtun_file __rcu *file;
	unsigned int tun_flags;
	kuid_t owner;
	kgid_t group;
	int sndbuf;
//< priv-ctl
};
//> 06 file-ctl

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
//< file-ctl

/* xtun_net.c */
//> 01-05 net-api
struct net_device *xtun_net_create(void);
void xtun_net_destroy(struct net_device *dev);
//< net-api
//> 06 net-api-ctl
int xtun_net_register_kind(void);
void xtun_net_unregister_kind(void);
bool xtun_net_is_xtun(const struct net_device *dev);
int xtun_net_change_carrier(struct net_device *dev, bool new_carrier);
struct net_device *xtun_net_create(struct net *net, const char *name,
				   unsigned int mode);
//< net-api-ctl
//> 03 chr-api

/* xtun_chr.c */
//> 03-05 chr-api-register
int xtun_chr_register(struct xtun_priv *priv);
void xtun_chr_unregister(struct xtun_priv *priv);
//< chr-api-register
//> 06 chr-api-ctl
int xtun_chr_register(void);
void xtun_chr_unregister(void);
void xtun_chr_detach(struct xtun_priv *priv);
//< chr-api-ctl
bool xtun_chr_enqueue(struct xtun_priv *priv, struct sk_buff *skb);
//< chr-api

#endif /* _XTUN_H */
