// SPDX-License-Identifier: GPL-2.0
/*
 * xtun - a TUN/TAP-style teaching driver.
 *
 * It registers the Ethernet device "xtun".
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/netdevice.h>

#include "xtun.h"

static struct net_device *xtun_dev;

static int __init xtun_init(void)
{
	struct net_device *dev;

	dev = xtun_net_create();
	if (IS_ERR(dev))
		return PTR_ERR(dev);

	xtun_dev = dev;
	return 0;
}

static void __exit xtun_exit(void)
{
	xtun_net_destroy(xtun_dev);
}

module_init(xtun_init);
module_exit(xtun_exit);

MODULE_DESCRIPTION("xtun: a TUN/TAP-style teaching driver");
MODULE_AUTHOR("xtun lab");
MODULE_LICENSE("GPL");
