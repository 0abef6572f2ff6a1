/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtun.h - what the two halves of xtun share.
 *
 * xtun_net.c is the net_device half: the stack transmits into it.
 */
#ifndef _XTUN_H
#define _XTUN_H

#include <linux/netdevice.h>

#define XTUN_IFNAME "xtun"

/**
 * struct xtun_priv - per-device state, allocated with the net_device
 * @msg_enable: netif_msg_*() classes that are logged
 */
struct xtun_priv {
	u32 msg_enable;
};

/* xtun_net.c */
struct net_device *xtun_net_create(void);
void xtun_net_destroy(struct net_device *dev);

#endif /* _XTUN_H */
