/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtun.h - what the two halves of xtun share.
 *
 * xtun_net.c is the net_device half: the stack transmits into it.
//> 03-03 header-chr
 * xtun_chr.c is the char-device half: /dev/xtun, where a process reads
 * what the stack transmitted.
//< header-chr
//> 04 header-chr-rx
 * xtun_chr.c is the char-device half: /dev/xtun, where a process reads
 * what the stack transmitted and writes what xtun receives.
//< header-chr-rx
 */
#ifndef _XTUN_H
#define _XTUN_H

//> 03 header-includes
#include <linux/miscdevice.h>
//< header-includes
#include <linux/netdevice.h>
//> 03 header-includes-queue
#include <linux/skbuff.h>
#include <linux/wait.h>
//< header-includes-queue

#define XTUN_IFNAME "xtun"

//> 03 reader-bit
/* Bits in xtun_priv.flags */
#define XTUN_READER	0	/* /dev/xtun is open: queue frames for it */

//< reader-bit
/**
 * struct xtun_priv - per-device state, allocated with the net_device
 * @msg_enable: netif_msg_*() classes that are logged
//> 03 priv-doc
 * @dev: the net_device this state belongs to
 * @misc: the character device /dev/xtun
 * @flags: XTUN_READER
 * @txq: frames the stack transmitted, waiting for read(); its own lock
 *	 serialises producers (ndo_start_xmit) against consumers (read, close)
 * @readq: readers sleep here until @txq is not empty
//< priv-doc
 */
struct xtun_priv {
	u32 msg_enable;
//> 03 priv-queue
	struct net_device *dev;
	struct miscdevice misc;
	unsigned long flags;
	struct sk_buff_head txq;
	wait_queue_head_t readq;
//< priv-queue
};

/* xtun_net.c */
struct net_device *xtun_net_create(void);
void xtun_net_destroy(struct net_device *dev);
//> 03 chr-api

/* xtun_chr.c */
int xtun_chr_register(struct xtun_priv *priv);
void xtun_chr_unregister(struct xtun_priv *priv);
bool xtun_chr_enqueue(struct xtun_priv *priv, struct sk_buff *skb);
//< chr-api

#endif /* _XTUN_H */
