// SPDX-License-Identifier: GPL-2.0
/*
 * xtun - a TUN/TAP-style teaching driver.
 * A process creates its devices with tun's TUNSETIFF on /dev/xtun; the
 * module only registers /dev/xtun and the device kind "xtun".
 */
#include <linux/module.h>

#include "xtun.h"

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

static void __exit xtun_exit(void)
{
	/* No file is open: each open file holds a reference on this module. */
	xtun_chr_unregister();
	/* Deletes the devices left, persistent ones, in every namespace. */
	xtun_net_unregister_kind();
}

module_init(xtun_init);
module_exit(xtun_exit);

MODULE_DESCRIPTION("xtun: a TUN/TAP-style teaching driver");
MODULE_AUTHOR("xtun lab");
MODULE_LICENSE("GPL");
