// SPDX-License-Identifier: GPL-2.0
/*
 * xtun - a TUN/TAP-style teaching driver.
 *
 * The net_device "xtun" hands every frame the stack transmits to the
 * process that reads /dev/xtun.
 * A frame a process writes to /dev/xtun enters the stack as if xtun had
 * received it.
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/netdevice.h>

#include "xtun.h"

static struct net_device *xtun_dev;

static int __init xtun_init(void)
{
	struct net_device *dev;
	int err;

	dev = xtun_net_create();
	if (IS_ERR(dev))
		return PTR_ERR(dev);

	err = xtun_chr_register(netdev_priv(dev));
	if (err)
		goto destroy_net;

	xtun_dev = dev;
	return 0;

destroy_net:
	xtun_net_destroy(dev);
	return err;
}

static void __exit xtun_exit(void)
{
	/* No file is open: each open file holds a reference on this module. */
	xtun_chr_unregister(netdev_priv(xtun_dev));
	xtun_net_destroy(xtun_dev);
}

module_init(xtun_init);
module_exit(xtun_exit);

MODULE_DESCRIPTION("xtun: a TUN/TAP-style teaching driver");
MODULE_AUTHOR("xtun lab");
MODULE_LICENSE("GPL");
