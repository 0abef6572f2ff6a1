// SPDX-License-Identifier: GPL-2.0
/*
 * xtun_net.c - the net_device half of xtun.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>

#include "xtun.h"

#define XTUN_MSG_DEFAULT	(NETIF_MSG_DRV | NETIF_MSG_PROBE | \
				 NETIF_MSG_IFUP | NETIF_MSG_IFDOWN)

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
	if (unlikely(skb_orphan_frags_rx(skb, GFP_ATOMIC)))
		goto drop;
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

static const struct net_device_ops xtun_net_netdev_ops = {
	.ndo_open		= xtun_net_open,
	.ndo_stop		= xtun_net_stop,
	.ndo_start_xmit		= xtun_net_start_xmit,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

static void xtun_net_setup(struct net_device *dev)
{
	struct xtun_priv *priv = netdev_priv(dev);

	/* Ethernet type, MTU, addresses, flags and header_ops. */
	ether_setup(dev);
	dev->netdev_ops = &xtun_net_netdev_ops;
	eth_hw_addr_random(dev);

	priv->msg_enable = XTUN_MSG_DEFAULT;
	/* Frames are queued, so one skb must not be sent twice (pktgen). */
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	priv->dev = dev;
	skb_queue_head_init(&priv->txq);
	init_waitqueue_head(&priv->readq);
}

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

void xtun_net_destroy(struct net_device *dev)
{
	unregister_netdev(dev);
	free_netdev(dev);
}
