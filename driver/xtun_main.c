// SPDX-License-Identifier: GPL-2.0
/*
 * xtun - a TUN/TAP-style teaching driver.
//> 01-02 main-doc-net
 *
 * It registers the Ethernet device "xtun".
//< main-doc-net
//> 03-05 main-doc-chr
 *
 * The net_device "xtun" hands every frame the stack transmits to the
 * process that reads /dev/xtun.
//< main-doc-chr
//> 04-05 main-doc-rx
 * A frame a process writes to /dev/xtun enters the stack as if xtun had
 * received it.
//< main-doc-rx
//> 06 main-doc-ctl
 * A process creates its devices with tun's TUNSETIFF on /dev/xtun; the
 * module only registers /dev/xtun and the device kind "xtun".
//< main-doc-ctl
 */
//> 01-05 main-includes
#include <linux/err.h>
//< main-includes
#include <linux/module.h>
//> 01-05 main-includes-net
#include <linux/netdevice.h>
//< main-includes-net

#include "xtun.h"

//> 01-05 main-dev
static struct net_device *xtun_dev;

//< main-dev
//> 01-05 init
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

//> 06 init-ctl
static int __init xtun_init(void)
{
	int err;

	err = xtun_net_register_kind();
	if (err)
		return err;

	err = xtun_chr_register();
	if (err)
		goto unregister_kind;
	return 0;

unregister_kind:
	xtun_net_unregister_kind();
	return err;
}
//< init-ctl

//> 01-05 exit
static void __exit xtun_exit(void)
{
//> 03 exit-chr
	/* No file is open: each open file holds a reference on this module. */
	xtun_chr_unregister(netdev_priv(xtun_dev));
//< exit-chr
	xtun_net_destroy(xtun_dev);
}
//< exit
//> 06 exit-ctl
static void __exit xtun_exit(void)
{
	/* No file is open: each open file holds a reference on this module. */
	xtun_chr_unregister();
	/* Deletes the devices left, persistent ones, in every namespace. */
	xtun_net_unregister_kind();
}
//< exit-ctl

module_init(xtun_init);
module_exit(xtun_exit);

MODULE_DESCRIPTION("xtun: a TUN/TAP-style teaching driver");
MODULE_AUTHOR("xtun lab");
MODULE_LICENSE("GPL");
