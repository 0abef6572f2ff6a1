// SPDX-License-Identifier: GPL-2.0
/*
 * xtun - a TUN/TAP-style teaching driver.
//> 01-02 main-doc-net
 *
 * It registers the Ethernet device "xtun".
//< main-doc-net
//> 03 main-doc-chr
 *
 * The net_device "xtun" hands every frame the stack transmits to the
 * process that reads /dev/xtun.
//< main-doc-chr
//> 04 main-doc-rx
 * A frame a process writes to /dev/xtun enters the stack as if xtun had
 * received it.
//< main-doc-rx
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/netdevice.h>

#include "xtun.h"

static struct net_device *xtun_dev;

//> 01 init
static int __init xtun_init(void)
{
	struct net_device *dev;
//> 03 init-err
	int err;
//< init-err

	dev = xtun_net_create();
	if (IS_ERR(dev))
		return PTR_ERR(dev);
//> 03 init-chr

	err = xtun_chr_register(netdev_priv(dev));
	if (err)
		goto destroy_net;
//< init-chr

	xtun_dev = dev;
	return 0;
//> 03 init-unwind

destroy_net:
	xtun_net_destroy(dev);
	return err;
//< init-unwind
}
//< init

//> 01 exit
static void __exit xtun_exit(void)
{
//> 03 exit-chr
	/* No file is open: each open file holds a reference on this module. */
	xtun_chr_unregister(netdev_priv(xtun_dev));
//< exit-chr
	xtun_net_destroy(xtun_dev);
}
//< exit

module_init(xtun_init);
module_exit(xtun_exit);

MODULE_DESCRIPTION("xtun: a TUN/TAP-style teaching driver");
MODULE_AUTHOR("xtun lab");
MODULE_LICENSE("GPL");
