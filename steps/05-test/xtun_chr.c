// SPDX-License-Identifier: GPL-2.0
/*
 * xtun_chr.c - the char-device half of xtun: /dev/xtun.
 *
 * read() returns one frame the stack transmitted on xtun, Ethernet header
 * included.
 * write() takes one Ethernet frame and hands it to the stack as if xtun
 * had received it.
 */
#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/poll.h>
#include <linux/skbuff.h>
#include <linux/uio.h>

#include "xtun.h"

static struct xtun_priv *xtun_chr_priv(struct file *file)
{
	/* misc_open() points private_data at our struct miscdevice. */
	struct miscdevice *misc = file->private_data;

	return container_of(misc, struct xtun_priv, misc);
}

/*
 * Flow control: when the queue holds tx_queue_len frames, xtun_chr_enqueue()
 * stops the stack's tx queue, so the next frames wait in the qdisc (and a
 * sender blocks on its socket buffer) instead of being dropped; a read that
 * brings the queue down to half wakes it. The half is hysteresis: one wake
 * lets tx_queue_len / 2 frames through, not one.
 */
static u32 xtun_chr_queue_limit(struct xtun_priv *priv)
{
	return max_t(u32, READ_ONCE(priv->dev->tx_queue_len), 1);
}

/*
 * Takes the next frame, or NULL. The queue's lock orders this against
 * xtun_chr_enqueue(): it stops the tx queue under the same lock, so a read
 * cannot empty the queue between its enqueue and its stop and leave the tx
 * queue stopped with nothing left to read, which nothing would ever wake.
 */
static struct sk_buff *xtun_chr_take(struct xtun_priv *priv)
{
	unsigned long flags;
	struct sk_buff *skb;

	spin_lock_irqsave(&priv->txq.lock, flags);
	skb = __skb_dequeue(&priv->txq);
	/* Not while down: ndo_open starts the queue again. */
	if (skb && netif_queue_stopped(priv->dev) && netif_running(priv->dev) &&
	    skb_queue_len(&priv->txq) <= xtun_chr_queue_limit(priv) / 2)
		netif_wake_queue(priv->dev);
	spin_unlock_irqrestore(&priv->txq.lock, flags);
	return skb;
}

/*
 * Called from ndo_start_xmit, under the tx queue's lock with BHs disabled,
 * so one caller at a time. netpoll (netconsole) calls it too, with
 * interrupts off and from hard interrupt context when an interrupt prints,
 * so the queue's lock is taken with interrupts saved and disabled
 * everywhere (here, in release and in xtun_chr_take()). Takes @skb and
 * returns true, or returns false when nobody has /dev/xtun open. The frame
 * that fills the queue stops the tx queue (flow control, above).
 */
bool xtun_chr_enqueue(struct xtun_priv *priv, struct sk_buff *skb)
{
	unsigned long flags;
	bool queued = false;

	lockdep_assert_held(&netdev_get_tx_queue(priv->dev, 0)->_xmit_lock);

	spin_lock_irqsave(&priv->txq.lock, flags);
	if (test_bit(XTUN_READER, &priv->flags)) {
		__skb_queue_tail(&priv->txq, skb);
		queued = true;
		if (skb_queue_len(&priv->txq) >= xtun_chr_queue_limit(priv))
			netif_stop_queue(priv->dev);
	}
	spin_unlock_irqrestore(&priv->txq.lock, flags);

	if (queued)
		wake_up_interruptible_poll(&priv->readq, EPOLLIN | EPOLLRDNORM);
	return queued;
}

/* Wait for a frame unless @nonblock; returns it or an ERR_PTR(). */
static struct sk_buff *xtun_chr_dequeue(struct xtun_priv *priv, bool nonblock)
{
	struct sk_buff *skb;
	int err;

	for (;;) {
		skb = xtun_chr_take(priv);
		if (skb)
			return skb;
		if (nonblock)
			return ERR_PTR(-EAGAIN);
		err = wait_event_interruptible(priv->readq,
					       !skb_queue_empty_lockless(&priv->txq));
		if (err)
			return ERR_PTR(err);
	}
}

static ssize_t xtun_chr_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct xtun_priv *priv = xtun_chr_priv(file);
	struct sk_buff *skb;
	size_t len;

	if (!iov_iter_count(to))
		return 0;

	skb = xtun_chr_dequeue(priv, file->f_flags & O_NONBLOCK);
	if (IS_ERR(skb))
		return PTR_ERR(skb);

	/* One frame per read(); a short buffer gets its head, as in tun. */
	len = min_t(size_t, skb->len, iov_iter_count(to));
	if (skb_copy_datagram_iter(skb, 0, to, len)) {
		/* Bad buffer: keep the frame for the next read(). */
		skb_queue_head(&priv->txq, skb);
		return -EFAULT;
	}

	DEV_STATS_INC(priv->dev, tx_packets);
	DEV_STATS_ADD(priv->dev, tx_bytes, skb->len);
	consume_skb(skb);
	return len;
}

static ssize_t xtun_chr_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct xtun_priv *priv = xtun_chr_priv(iocb->ki_filp);
	struct net_device *dev = priv->dev;
	size_t len = iov_iter_count(from);
	struct sk_buff *skb;
	bool multicast;

	if (!netif_running(dev))
		return -EIO;

	if (len < ETH_HLEN || len > ETH_HLEN + READ_ONCE(dev->mtu)) {
		DEV_STATS_INC(dev, rx_length_errors);
		DEV_STATS_INC(dev, rx_errors);
		return -EINVAL;
	}

	skb = __netdev_alloc_skb_ip_align(dev, len, GFP_KERNEL);
	if (!skb) {
		DEV_STATS_INC(dev, rx_dropped);
		return -ENOMEM;
	}

	if (!copy_from_iter_full(skb_put(skb, len), len, from)) {
		kfree_skb(skb);
		return -EFAULT;
	}

	/* Sets the MAC header, pulls it, and classifies the destination. */
	skb->protocol = eth_type_trans(skb, dev);

	/* A group address is never a frame's source (IEEE 802.3). */
	if (!is_valid_ether_addr(eth_hdr(skb)->h_source)) {
		DEV_STATS_INC(dev, rx_frame_errors);
		DEV_STATS_INC(dev, rx_errors);
		kfree_skb(skb);
		return -EINVAL;
	}

	/* eth_type_trans() classified it; after netif_rx() it is not ours. */
	multicast = skb->pkt_type == PACKET_MULTICAST;

	/*
	 * netif_rx() queues the frame for the receive softirq, in any context.
	 * When the backlog is full it drops the frame and counts rx_dropped.
	 */
	if (netif_rx(skb) == NET_RX_SUCCESS) {
		DEV_STATS_INC(dev, rx_packets);
		DEV_STATS_ADD(dev, rx_bytes, len);
		if (multicast)
			DEV_STATS_INC(dev, multicast);
	}
	return len;
}

static __poll_t xtun_chr_poll(struct file *file, poll_table *wait)
{
	struct xtun_priv *priv = xtun_chr_priv(file);
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;	/* write() never waits */

	poll_wait(file, &priv->readq, wait);
	if (!skb_queue_empty_lockless(&priv->txq))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static int xtun_chr_open(struct inode *inode, struct file *file)
{
	struct xtun_priv *priv = xtun_chr_priv(file);

	/* One reader at a time, like one tun queue: each frame has one owner. */
	if (test_and_set_bit(XTUN_READER, &priv->flags))
		return -EBUSY;
	return stream_open(inode, file);
}

static int xtun_chr_release(struct inode *inode, struct file *file)
{
	struct xtun_priv *priv = xtun_chr_priv(file);
	struct sk_buff_head unread;
	unsigned long flags;

	__skb_queue_head_init(&unread);

	/* After this, xtun_chr_enqueue() drops instead of queueing. */
	spin_lock_irqsave(&priv->txq.lock, flags);
	clear_bit(XTUN_READER, &priv->flags);
	skb_queue_splice_init(&priv->txq, &unread);
	spin_unlock_irqrestore(&priv->txq.lock, flags);

	/* A stopped tx queue drains into xtun_chr_enqueue(), which drops. */
	if (netif_running(priv->dev))
		netif_wake_queue(priv->dev);
	DEV_STATS_ADD(priv->dev, tx_dropped, skb_queue_len(&unread));
	__skb_queue_purge(&unread);
	return 0;
}

static const struct file_operations xtun_chr_fops = {
	.owner		= THIS_MODULE,
	.open		= xtun_chr_open,
	.release	= xtun_chr_release,
	.read_iter	= xtun_chr_read_iter,
	.write_iter	= xtun_chr_write_iter,
	.poll		= xtun_chr_poll,
};

int xtun_chr_register(struct xtun_priv *priv)
{
	priv->misc.minor = MISC_DYNAMIC_MINOR;
	priv->misc.name = XTUN_IFNAME;		/* devtmpfs creates /dev/xtun */
	priv->misc.fops = &xtun_chr_fops;
	return misc_register(&priv->misc);
}

void xtun_chr_unregister(struct xtun_priv *priv)
{
	misc_deregister(&priv->misc);
}
