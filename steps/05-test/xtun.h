/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtun.h - what the two halves of xtun share.
 *
 * xtun_net.c is the net_device half: the stack transmits into it.
 * xtun_chr.c is the char-device half: /dev/xtun, where a process reads
 * what the stack transmitted and writes what xtun receives.
 */
#ifndef _XTUN_H
#define _XTUN_H

#include <linux/miscdevice.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/wait.h>

#define XTUN_IFNAME "xtun"

/* Bits in xtun_priv.flags */
#define XTUN_READER	0	/* /dev/xtun is open: queue frames for it */

/**
 * struct xtun_priv - per-device state, allocated with the net_device
 * @msg_enable: netif_msg_*() classes that are logged
 * @dev: the net_device this state belongs to
 * @misc: the character device /dev/xtun
 * @flags: XTUN_READER
 * @txq: frames the stack transmitted, waiting for read(); its own lock
 *	 serialises producers (ndo_start_xmit) against consumers (read, close)
 * @readq: readers sleep here until @txq is not empty
 */
struct xtun_priv {
	u32 msg_enable;
	struct net_device *dev;
	struct miscdevice misc;
	unsigned long flags;
	struct sk_buff_head txq;
	wait_queue_head_t readq;
};

/* xtun_net.c */
struct net_device *xtun_net_create(void);
void xtun_net_destroy(struct net_device *dev);

/* xtun_chr.c */
int xtun_chr_register(struct xtun_priv *priv);
void xtun_chr_unregister(struct xtun_priv *priv);
bool xtun_chr_enqueue(struct xtun_priv *priv, struct sk_buff *skb);

#endif /* _XTUN_H */
