// SPDX-License-Identifier: GPL-2.0
/*
 * xtun_net.c - the net_device half of xtun.
 */
#include <linux/etherdevice.h>
//> 06 net-includes-ctl
#include <linux/if_arp.h>
#include <linux/if_tun.h>
//< net-includes-ctl
#include <linux/netdevice.h>
//> 06 net-includes-rtnl
#include <net/ip_tunnels.h>
#include <net/rtnetlink.h>
//< net-includes-rtnl

#include "xtun.h"

//> 01 msg-default
#define XTUN_MSG_DEFAULT	(NETIF_MSG_DRV | NETIF_MSG_PROBE | \
				 NETIF_MSG_IFUP | NETIF_MSG_IFDOWN)
//< msg-default
//> 06 max-mtu
/* The largest frame a write() may carry, as in tun. */
#define XTUN_MAX_MTU		65535
//< max-mtu

//> 02 open-stop
static int xtun_net_open(struct net_device *dev)
{
	struct xtun_priv *priv = netdev_priv(dev);

	netif_info(priv, ifup, dev, "open\n");
	netif_start_queue(dev);
	return 0;
}

static int xtun_net_stop(struct net_device *dev)
{
	struct xtun_priv *priv = netdev_priv(dev);

	netif_info(priv, ifdown, dev, "stop\n");
	netif_stop_queue(dev);
	return 0;
}

//< open-stop
//> 02-02 xmit
/* Called with the tx queue's lock held and BHs disabled. */
static netdev_tx_t xtun_net_start_xmit(struct sk_buff *skb,
				       struct net_device *dev)
{
	lockdep_assert_held(&netdev_get_tx_queue(dev, 0)->_xmit_lock);

	/* Nothing receives the frame yet: count it as sent and free it. */
	DEV_STATS_INC(dev, tx_packets);
	DEV_STATS_ADD(dev, tx_bytes, skb->len);
//> 02 xmit-free -leak-skb
	dev_consume_skb_any(skb);
//< xmit-free
	return NETDEV_TX_OK;
}

//< xmit
//> 03 xmit-queue
/*
 * Called with the tx queue's lock held and BHs disabled, so only one
 * xtun_net_start_xmit() runs at a time. The frame is counted as sent
 * when a process reads it (xtun_chr.c), as tun does.
 */
static netdev_tx_t xtun_net_start_xmit(struct sk_buff *skb,
				       struct net_device *dev)
{
	struct xtun_priv *priv = netdev_priv(dev);

	lockdep_assert_held(&netdev_get_tx_queue(dev, 0)->_xmit_lock);

	/*
	 * The reader may keep the frame for a long time. A zerocopy frame's
	 * pages still belong to the sender: copy them now, which completes
	 * the sender's MSG_ZEROCOPY send. Then give the sending socket its
	 * buffer space back, or the sender stalls, and drop the frame's
	 * conntrack reference. tun does all three (tun_net_xmit()).
	 */
//> 03 xmit-orphan-frags -keep-zerocopy
	if (unlikely(skb_orphan_frags_rx(skb, GFP_ATOMIC)))
		goto drop;
//< xmit-orphan-frags
	skb_orphan(skb);
	nf_reset_ct(skb);

	if (!xtun_chr_enqueue(priv, skb))
		goto drop;
	return NETDEV_TX_OK;

drop:
	DEV_STATS_INC(dev, tx_dropped);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

//< xmit-queue
//> 06 uninit-carrier
/* Called under RTNL by unregister_netdevice(), whoever calls it. */
static void xtun_net_uninit(struct net_device *dev)
{
	xtun_chr_detach(netdev_priv(dev));
}

/* After unregister, once nothing holds the device: a reader may have put one back. */
static void xtun_net_free_queue(struct net_device *dev)
{
	struct xtun_priv *priv = netdev_priv(dev);

	skb_queue_purge(&priv->txq);
}

/* TUNSETCARRIER and ip link set carrier: on only while a file is attached. */
int xtun_net_change_carrier(struct net_device *dev, bool new_carrier)
{
	struct xtun_priv *priv = netdev_priv(dev);

	if (new_carrier && !rtnl_dereference(priv->file))
		return -EPERM;
	if (new_carrier)
		netif_carrier_on(dev);
	else
		netif_carrier_off(dev);
	return 0;
}

//< uninit-carrier
//> 01 netdev-ops -null-netdev-ops
static const struct net_device_ops xtun_net_netdev_ops = {
//> 06 netdev-ops-uninit
	.ndo_uninit		= xtun_net_uninit,
//< netdev-ops-uninit
//> 02 netdev-ops-data
	.ndo_open		= xtun_net_open,
	.ndo_stop		= xtun_net_stop,
	.ndo_start_xmit		= xtun_net_start_xmit,
//< netdev-ops-data
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
//> 06 netdev-ops-carrier
	.ndo_change_carrier	= xtun_net_change_carrier,
//< netdev-ops-carrier
};

//< netdev-ops
//> 06 ip-ops
/* A TUN device carries IP packets: no MAC address to set or validate. */
static const struct net_device_ops xtun_net_ip_ops = {
	.ndo_uninit		= xtun_net_uninit,
	.ndo_open		= xtun_net_open,
	.ndo_stop		= xtun_net_stop,
	.ndo_start_xmit		= xtun_net_start_xmit,
	.ndo_change_carrier	= xtun_net_change_carrier,
};

//< ip-ops
//> 03 empty-header-ops +empty-header-ops
/* The article's experiment: an all-NULL header_ops. */
static const struct header_ops xtun_net_header_ops;

//< empty-header-ops
//> 01-05 setup
static void xtun_net_setup(struct net_device *dev)
{
	struct xtun_priv *priv = netdev_priv(dev);

	/* Ethernet type, MTU, addresses, flags and header_ops. */
	ether_setup(dev);
//> 04 setup-noarp +noarp
	dev->flags = IFF_NOARP;		/* copied from snull */
//< setup-noarp
//> 03 setup-empty-header-ops +empty-header-ops
	dev->header_ops = &xtun_net_header_ops;
//< setup-empty-header-ops
//> 01 setup-ops -null-netdev-ops
	dev->netdev_ops = &xtun_net_netdev_ops;
//< setup-ops
	eth_hw_addr_random(dev);

	priv->msg_enable = XTUN_MSG_DEFAULT;
//> 03 setup-queue
	/* Frames are queued, so one skb must not be sent twice (pktgen). */
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	priv->dev = dev;
	skb_queue_head_init(&priv->txq);
	init_waitqueue_head(&priv->readq);
//< setup-queue
}
//< setup

//> 06 setup-ctl
/* alloc_netdev() calls it; the type follows, from TUNSETIFF's flags. */
static void xtun_net_setup(struct net_device *dev)
{
	struct xtun_priv *priv = netdev_priv(dev);

	priv->msg_enable = XTUN_MSG_DEFAULT;
	priv->dev = dev;
	priv->owner = INVALID_UID;
	priv->group = INVALID_GID;
	priv->sndbuf = INT_MAX;
	skb_queue_head_init(&priv->txq);
	/*
	 * tun's queue length (TUN_READQ_SIZE); ether_setup() makes a TAP's
	 * 1000. Left 0, alloc_netdev() would take xtun for a device without a
	 * queue (IFF_NO_QUEUE) and give it no qdisc to hold frames back in.
	 */
//> 06 setup-queue-len -no-queue-len
	dev->tx_queue_len = 500;
//< setup-queue-len
	/* The last close, ip link del or rmmod unregisters it; then it is freed. */
	dev->needs_free_netdev = true;
	dev->priv_destructor = xtun_net_free_queue;
}

/* IFF_TAP: an Ethernet device; IFF_TUN: point-to-point IP, as tun's. */
static void xtun_net_set_mode(struct net_device *dev, unsigned int mode)
{
	struct xtun_priv *priv = netdev_priv(dev);

	priv->tun_flags = mode;
	if (mode == IFF_TAP) {
		ether_setup(dev);
		dev->netdev_ops = &xtun_net_netdev_ops;
		/* Frames are queued, so one skb must not be sent twice (pktgen). */
		dev->priv_flags &= ~IFF_TX_SKB_SHARING;
		dev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
		eth_hw_addr_random(dev);
	} else {
		dev->netdev_ops = &xtun_net_ip_ops;
		/* Lets a packet socket's frames carry their IP version. */
		dev->header_ops = &ip_tunnel_header_ops;
		dev->type = ARPHRD_NONE;
		dev->hard_header_len = 0;
		dev->addr_len = 0;
		dev->mtu = ETH_DATA_LEN;
		dev->flags = IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST;
	}
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = XTUN_MAX_MTU - dev->hard_header_len;
}

//< setup-ctl
//> 06 sysfs
/* /sys/class/net/<name>/tun_flags, owner and group, as tun shows them. */
static struct xtun_priv *xtun_net_sysfs_priv(struct device *d)
{
	return netdev_priv(to_net_dev(d));
}

static ssize_t tun_flags_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "0x%x\n",
			  READ_ONCE(xtun_net_sysfs_priv(d)->tun_flags));
}

static ssize_t owner_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	kuid_t owner = READ_ONCE(xtun_net_sysfs_priv(d)->owner);

	if (!uid_valid(owner))
		return sysfs_emit(buf, "-1\n");
	return sysfs_emit(buf, "%u\n", from_kuid_munged(current_user_ns(), owner));
}

static ssize_t group_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	kgid_t group = READ_ONCE(xtun_net_sysfs_priv(d)->group);

	if (!gid_valid(group))
		return sysfs_emit(buf, "-1\n");
	return sysfs_emit(buf, "%u\n", from_kgid_munged(current_user_ns(), group));
}

static DEVICE_ATTR_RO(tun_flags);
static DEVICE_ATTR_RO(owner);
static DEVICE_ATTR_RO(group);

static struct attribute *xtun_net_attrs[] = {
	&dev_attr_tun_flags.attr,
	&dev_attr_owner.attr,
	&dev_attr_group.attr,
	NULL
};

static const struct attribute_group xtun_net_attr_group = {
	.attrs = xtun_net_attrs,
};

//< sysfs
//> 06 link-ops
/* ip link add cannot make one: TUNSETIFF does, as for tun. */
static int xtun_net_validate(struct nlattr *tb[], struct nlattr *data[],
			     struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack, "xtun devices are created with TUNSETIFF on /dev/xtun");
	return -EOPNOTSUPP;
}

/* The device kind "xtun": ip link del deletes one, rmmod all of them. */
static struct rtnl_link_ops xtun_net_link_ops __read_mostly = {
	.kind		= XTUN_IFNAME,
	.priv_size	= sizeof(struct xtun_priv),
	.setup		= xtun_net_setup,
	.validate	= xtun_net_validate,
};

int xtun_net_register_kind(void)
{
	return rtnl_link_register(&xtun_net_link_ops);
}

void xtun_net_unregister_kind(void)
{
	rtnl_link_unregister(&xtun_net_link_ops);
}

bool xtun_net_is_xtun(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &xtun_net_link_ops;
}

/* Called under RTNL by TUNSETIFF; @name may be a template such as "xtap%d". */
struct net_device *xtun_net_create(struct net *net, const char *name,
				   unsigned int mode)
{
	struct xtun_priv *priv;
	struct net_device *dev;
	int err;

	ASSERT_RTNL();
	dev = alloc_netdev(sizeof(struct xtun_priv), name, NET_NAME_UNKNOWN,
			   xtun_net_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);

	xtun_net_set_mode(dev, mode);
	dev_net_set(dev, net);
	dev->rtnl_link_ops = &xtun_net_link_ops;
	dev->sysfs_groups[0] = &xtun_net_attr_group;

	err = register_netdevice(dev);
	if (err)
		goto free_dev;

	priv = netdev_priv(dev);
	netif_info(priv, probe, dev, "registered, %s\n",
		   mode == IFF_TAP ? "tap" : "tun");
	return dev;

free_dev:
	free_netdev(dev);
	return ERR_PTR(err);
}
//< link-ops
//> 01-05 create
struct net_device *xtun_net_create(void)
{
	struct xtun_priv *priv;
	struct net_device *dev;
	int err;

	dev = alloc_netdev(sizeof(*priv), XTUN_IFNAME, NET_NAME_PREDICTABLE,
			   xtun_net_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);

	err = register_netdev(dev);
	if (err)
		goto free_dev;

	priv = netdev_priv(dev);
	netif_info(priv, probe, dev, "registered, address %pM\n",
		   dev->dev_addr);
	return dev;

free_dev:
	free_netdev(dev);
	return ERR_PTR(err);
}
//< create

//> 01-05 destroy
void xtun_net_destroy(struct net_device *dev)
{
	unregister_netdev(dev);
//> 01 destroy-free -no-free-netdev
	free_netdev(dev);
//< destroy-free
}
//< destroy
