// SPDX-License-Identifier: GPL-2.0
/*
 * xtun_net.c - the net_device half of xtun.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>

#include "xtun.h"

//> 01 msg-default
#define XTUN_MSG_DEFAULT	(NETIF_MSG_DRV | NETIF_MSG_PROBE | \
				 NETIF_MSG_IFUP | NETIF_MSG_IFDOWN)
//< msg-default

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
//> 01 netdev-ops -null-netdev-ops
static const struct net_device_ops xtun_net_netdev_ops = {
//> 02 netdev-ops-data
	.ndo_open		= xtun_net_open,
	.ndo_stop		= xtun_net_stop,
	.ndo_start_xmit		= xtun_net_start_xmit,
//< netdev-ops-data
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

//< netdev-ops
//> 03 empty-header-ops +empty-header-ops
/* The article's experiment: an all-NULL header_ops. */
static const struct header_ops xtun_net_header_ops;

//< empty-header-ops
//> 01 setup
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

//> 01 create
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

//> 01 destroy
void xtun_net_destroy(struct net_device *dev)
{
	unregister_netdev(dev);
//> 01 destroy-free -no-free-netdev
	free_netdev(dev);
//< destroy-free
}
//< destroy
