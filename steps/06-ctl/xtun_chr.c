// SPDX-License-Identifier: GPL-2.0
/*
 * xtun_chr.c - the char-device half of xtun: /dev/xtun.
 *
 * TUNSETIFF attaches an open file to a device, which it creates if need
 * be, with tun's ioctls and structures (include/uapi/linux/if_tun.h).
 * Then read() returns one frame the stack transmitted on the device and
 * write() hands one frame to the stack as if the device had received it:
 * an Ethernet frame for a TAP device, an IP packet for a TUN device, after
 * a struct tun_pi unless the file asked for IFF_NO_PI.
 */
#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/poll.h>
#include <linux/rtnetlink.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/net_namespace.h>

#include "xtun.h"

/*
 * The device @file is attached to, with a reference that keeps it from
 * being freed until xtun_chr_put(); NULL before TUNSETIFF and after the
 * device is deleted.
 */
static struct xtun_priv *xtun_chr_get(struct file *file)
{
	struct xtun_file *xfile = file->private_data;
	struct xtun_priv *priv;

	rcu_read_lock();
	priv = rcu_dereference(xfile->priv);
	if (priv)
		dev_hold(priv->dev);
	rcu_read_unlock();
	return priv;
}

static void xtun_chr_put(struct xtun_priv *priv)
{
	dev_put(priv->dev);
}

static bool xtun_chr_attached(struct xtun_file *xfile, struct xtun_priv *priv)
{
	return rcu_access_pointer(xfile->priv) == priv;
}

/* Wakes the attached file's reader. ndo_start_xmit is an RCU reader. */
static void xtun_chr_wake_reader(struct xtun_priv *priv)
{
	struct xtun_file *xfile;

	rcu_read_lock();
	xfile = rcu_dereference(priv->file);
	if (xfile)
		wake_up_interruptible_poll(&xfile->readq, EPOLLIN | EPOLLRDNORM);
	rcu_read_unlock();
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
		xtun_chr_wake_reader(priv);
	return queued;
}

/*
 * Wait for a frame unless @nonblock; returns it or an ERR_PTR(): -EBADFD
 * once @xfile is detached from @priv.
 */
static struct sk_buff *xtun_chr_dequeue(struct xtun_priv *priv,
					struct xtun_file *xfile, bool nonblock)
{
	struct sk_buff *skb;
	int err;

	for (;;) {
		if (!xtun_chr_attached(xfile, priv))
			return ERR_PTR(-EBADFD);
		skb = xtun_chr_take(priv);
		if (skb)
			return skb;
		if (nonblock)
			return ERR_PTR(-EAGAIN);
		err = wait_event_interruptible(xfile->readq,
					       !skb_queue_empty_lockless(&priv->txq) ||
					       !xtun_chr_attached(xfile, priv));
		if (err)
			return ERR_PTR(err);
	}
}

/*
 * Without IFF_NO_PI a frame begins with a struct tun_pi: its protocol, and
 * TUN_PKT_STRIP when the buffer is too short for the rest. Returns its
 * size, 0 with IFF_NO_PI, or an errno.
 */
static int xtun_chr_put_pi(struct xtun_priv *priv, struct sk_buff *skb,
			   struct iov_iter *to)
{
	struct tun_pi pi = { .proto = skb->protocol };

	if (READ_ONCE(priv->tun_flags) & IFF_NO_PI)
		return 0;
	if (iov_iter_count(to) < sizeof(pi))
		return -EINVAL;
	if (iov_iter_count(to) < sizeof(pi) + skb->len)
		pi.flags |= TUN_PKT_STRIP;
	if (copy_to_iter(&pi, sizeof(pi), to) != sizeof(pi))
		return -EFAULT;
	return sizeof(pi);
}

static ssize_t xtun_chr_read_frame(struct xtun_priv *priv, struct file *file,
				   struct iov_iter *to)
{
	struct sk_buff *skb;
	size_t len;
	int head;

	if (!iov_iter_count(to))
		return 0;

	skb = xtun_chr_dequeue(priv, file->private_data,
			       file->f_flags & O_NONBLOCK);
	if (IS_ERR(skb))
		return PTR_ERR(skb);

	head = xtun_chr_put_pi(priv, skb, to);
	if (head < 0) {
		/* Bad buffer: keep the frame for the next read(). */
		skb_queue_head(&priv->txq, skb);
		return head;
	}

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
	return head + len;
}

static ssize_t xtun_chr_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct xtun_priv *priv = xtun_chr_get(iocb->ki_filp);
	ssize_t ret;

	if (!priv)
		return -EBADFD;
	ret = xtun_chr_read_frame(priv, iocb->ki_filp, to);
	xtun_chr_put(priv);
	return ret;
}

/*
 * An IP packet for a TUN device. Its protocol is @proto, from its struct
 * tun_pi, or with IFF_NO_PI (@proto 0) its IP version's. Returns 0 or an
 * errno.
 */
static int xtun_chr_write_ip(struct xtun_priv *priv, struct iov_iter *from,
			     size_t len, __be16 proto)
{
	struct net_device *dev = priv->dev;
	struct sk_buff *skb;

	if (!len || len > READ_ONCE(dev->mtu)) {
		DEV_STATS_INC(dev, rx_length_errors);
		DEV_STATS_INC(dev, rx_errors);
		return -EINVAL;
	}

	skb = netdev_alloc_skb(dev, len);
	if (!skb) {
		DEV_STATS_INC(dev, rx_dropped);
		return -ENOMEM;
	}

	if (!copy_from_iter_full(skb_put(skb, len), len, from)) {
		kfree_skb(skb);
		return -EFAULT;
	}

	if (!proto && skb->data[0] >> 4 == 4)
		proto = htons(ETH_P_IP);
	else if (!proto && skb->data[0] >> 4 == 6)
		proto = htons(ETH_P_IPV6);
	if (!proto) {
		DEV_STATS_INC(dev, rx_frame_errors);
		DEV_STATS_INC(dev, rx_errors);
		kfree_skb(skb);
		return -EINVAL;
	}

	skb_reset_mac_header(skb);
	skb_reset_network_header(skb);
	skb->protocol = proto;
	if (netif_rx(skb) == NET_RX_SUCCESS) {
		DEV_STATS_INC(dev, rx_packets);
		DEV_STATS_ADD(dev, rx_bytes, len);
	}
	return 0;
}

/* A TAP device's Ethernet frame or a TUN device's IP packet. */
static ssize_t xtun_chr_write_frame(struct xtun_priv *priv,
				    struct iov_iter *from)
{
	unsigned int flags = READ_ONCE(priv->tun_flags);
	size_t total = iov_iter_count(from);
	__be16 proto = 0;
	int err;
	struct net_device *dev = priv->dev;
	size_t len = iov_iter_count(from);
	struct sk_buff *skb;
	bool multicast;

	if (!netif_running(dev))
		return -EIO;
	if (!(flags & IFF_NO_PI)) {
		struct tun_pi pi;

		if (len < sizeof(pi))
			return -EINVAL;
		if (!copy_from_iter_full(&pi, sizeof(pi), from))
			return -EFAULT;
		len -= sizeof(pi);
		proto = pi.proto;
	}
	if (flags & IFF_TUN) {
		err = xtun_chr_write_ip(priv, from, len, proto);
		return err ? err : total;
	}

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
	return total;
}

static ssize_t xtun_chr_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct xtun_priv *priv = xtun_chr_get(iocb->ki_filp);
	ssize_t ret;

	if (!priv)
		return -EBADFD;
	ret = xtun_chr_write_frame(priv, from);
	xtun_chr_put(priv);
	return ret;
}

static __poll_t xtun_chr_poll(struct file *file, poll_table *wait)
{
	struct xtun_file *xfile = file->private_data;
	struct xtun_priv *priv = xtun_chr_get(file);
	__poll_t mask = 0;

	if (!priv)
		return EPOLLERR;

	poll_wait(file, &xfile->readq, wait);
	/* write() never waits, but fails with -EIO while down: as tun. */
	if (netif_running(priv->dev))
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (!skb_queue_empty_lockless(&priv->txq))
		mask |= EPOLLIN | EPOLLRDNORM;
	xtun_chr_put(priv);
	return mask;
}

/* Called under RTNL. From now on @priv's frames are queued for @xfile. */
static void xtun_chr_attach(struct xtun_priv *priv, struct xtun_file *xfile,
			    unsigned int flags)
{
	/* As tun: the attaching file chooses the framing. */
	const unsigned int per_file = IFF_NO_PI | IFF_ONE_QUEUE;
	struct net_device *dev = priv->dev;

	ASSERT_RTNL();
	WRITE_ONCE(priv->tun_flags,
		   (priv->tun_flags & ~per_file) | (flags & per_file));
	set_bit(XTUN_READER, &priv->flags);
	rcu_assign_pointer(priv->file, xfile);
	rcu_assign_pointer(xfile->priv, priv);

	if (flags & IFF_NO_CARRIER)
		netif_carrier_off(dev);
	else
		netif_carrier_on(dev);
	/* A persistent device's queue may have been left stopped. */
	if (netif_running(dev))
		netif_wake_queue(dev);
}

/*
 * Called under RTNL: by the last close, and by ndo_uninit when the device
 * is deleted under an open file. Frames still queued are dropped; a reader
 * blocked in read() wakes and gets -EBADFD.
 */
void xtun_chr_detach(struct xtun_priv *priv)
{
	struct xtun_file *xfile = rtnl_dereference(priv->file);
	struct sk_buff_head unread;
	unsigned long flags;

	if (!xfile)
		return;

	__skb_queue_head_init(&unread);

	/* After this, xtun_chr_enqueue() drops instead of queueing. */
	spin_lock_irqsave(&priv->txq.lock, flags);
	clear_bit(XTUN_READER, &priv->flags);
	skb_queue_splice_init(&priv->txq, &unread);
	spin_unlock_irqrestore(&priv->txq.lock, flags);

	RCU_INIT_POINTER(priv->file, NULL);
	RCU_INIT_POINTER(xfile->priv, NULL);
	wake_up_interruptible_poll(&xfile->readq, EPOLLIN | EPOLLERR);

	netif_carrier_off(priv->dev);
	/* A stopped tx queue drains into xtun_chr_enqueue(), which drops. */
	if (netif_running(priv->dev))
		netif_wake_queue(priv->dev);
	DEV_STATS_ADD(priv->dev, tx_dropped, skb_queue_len(&unread));
	__skb_queue_purge(&unread);
}

/*
 * As 6.12's tun_permitted(): without CAP_NET_ADMIN a process may attach
 * only to a device whose owner or group is set, and it must match each one
 * that is set. (6.1's tun_not_capable() lets anyone attach to a device
 * with neither.)
 */
static bool xtun_chr_may_attach(const struct xtun_priv *priv)
{
	bool owned = uid_valid(priv->owner), grouped = gid_valid(priv->group);

	if ((owned || grouped) &&
	    (!owned || uid_eq(current_euid(), priv->owner)) &&
	    (!grouped || in_egroup_p(priv->group)))
		return true;
	return ns_capable(dev_net(priv->dev)->user_ns, CAP_NET_ADMIN);
}

/* TUNSETIFF flags tun implements and xtun does not: refused. */
#define XTUN_IFF_REFUSED	(IFF_MULTI_QUEUE | IFF_VNET_HDR | IFF_NAPI | \
				 IFF_NAPI_FRAGS)

/* TUNSETIFF on a device that exists: tun's checks, in tun's order. */
static int xtun_chr_attach_existing(struct xtun_file *xfile,
				    struct net_device *dev, unsigned int flags)
{
	struct xtun_priv *priv = netdev_priv(dev);

	if (flags & IFF_TUN_EXCL)
		return -EBUSY;
	if (!xtun_net_is_xtun(dev) ||
	    !(flags & priv->tun_flags & (IFF_TUN | IFF_TAP)))
		return -EINVAL;
	if (!xtun_chr_may_attach(priv))
		return -EPERM;
	if (rtnl_dereference(priv->file))
		return -EBUSY;

	xtun_chr_attach(priv, xfile, flags);
	netdev_state_change(dev);
	return 0;
}

/* TUNSETIFF on a name that is free, or a template: creates the device. */
static struct net_device *xtun_chr_create(struct xtun_file *xfile,
					  const char *name, unsigned int flags)
{
	unsigned int mode = flags & IFF_TUN ? IFF_TUN : IFF_TAP;
	struct net_device *dev;

	if (!ns_capable(xfile->net->user_ns, CAP_NET_ADMIN))
		return ERR_PTR(-EPERM);
	if (!(flags & (IFF_TUN | IFF_TAP)))
		return ERR_PTR(-EINVAL);
	if (!*name)
		name = mode == IFF_TUN ? "xtun%d" : "xtap%d";

	dev = xtun_net_create(xfile->net, name, mode);
	if (!IS_ERR(dev))
		xtun_chr_attach(netdev_priv(dev), xfile, flags);
	return dev;
}

/* Called under RTNL for a file that is not attached. */
static int xtun_chr_set_iff(struct xtun_file *xfile, struct ifreq *ifr)
{
	unsigned int flags = (u16)ifr->ifr_flags;
	struct net_device *dev;
	int err;

	if (flags & XTUN_IFF_REFUSED)
		return -EINVAL;

	ifr->ifr_name[IFNAMSIZ - 1] = '\0';
	dev = __dev_get_by_name(xfile->net, ifr->ifr_name);
	if (dev) {
		err = xtun_chr_attach_existing(xfile, dev, flags);
		if (err)
			return err;
	} else {
		dev = xtun_chr_create(xfile, ifr->ifr_name, flags);
		if (IS_ERR(dev))
			return PTR_ERR(dev);
	}
	/* A template such as "xtap%d" tells the caller the name it got. */
	strscpy(ifr->ifr_name, dev->name, IFNAMSIZ);
	return 0;
}

/* The ioctls of an attached file. Called under RTNL. */
static long xtun_chr_device_ioctl(struct xtun_priv *priv, unsigned int cmd,
				  unsigned long arg, struct ifreq *ifr)
{
	void __user *argp = (void __user *)arg;
	struct net_device *dev = priv->dev;
	int value;

	switch (cmd) {
	case TUNGETIFF:
		strscpy(ifr->ifr_name, dev->name, IFNAMSIZ);
		/* No socket filter is ever attached, as tun says with IFF_NOFILTER. */
		ifr->ifr_flags = priv->tun_flags | IFF_NOFILTER;
		return 0;
	case TUNSETPERSIST:
		value = arg ? priv->tun_flags | IFF_PERSIST :
			      priv->tun_flags & ~IFF_PERSIST;
		WRITE_ONCE(priv->tun_flags, value);
		netdev_state_change(dev);
		return 0;
	case TUNSETOWNER:
		if (!uid_valid(make_kuid(current_user_ns(), arg)))
			return -EINVAL;
		WRITE_ONCE(priv->owner, make_kuid(current_user_ns(), arg));
		netdev_state_change(dev);
		return 0;
	case TUNSETGROUP:
		if (!gid_valid(make_kgid(current_user_ns(), arg)))
			return -EINVAL;
		WRITE_ONCE(priv->group, make_kgid(current_user_ns(), arg));
		netdev_state_change(dev);
		return 0;
	case TUNSETCARRIER:
		if (get_user(value, (int __user *)argp))
			return -EFAULT;
		return xtun_net_change_carrier(dev, value);
	case TUNGETSNDBUF:
		return put_user(priv->sndbuf, (int __user *)argp);
	case TUNSETSNDBUF:
		if (get_user(value, (int __user *)argp))
			return -EFAULT;
		if (value <= 0)
			return -EINVAL;
		priv->sndbuf = value;
		return 0;
	case SIOCGIFHWADDR:
		return dev_get_mac_address(&ifr->ifr_hwaddr, dev_net(dev),
					   dev->name);
	case SIOCSIFHWADDR:
		return dev_set_mac_address_user(dev, &ifr->ifr_hwaddr, NULL);
	default:
		return -EINVAL;
	}
}

/* Whether @cmd returns a struct ifreq to the caller. */
static bool xtun_chr_returns_ifreq(unsigned int cmd)
{
	return cmd == TUNSETIFF || cmd == TUNGETIFF || cmd == SIOCGIFHWADDR;
}

/*
 * tun's ioctl numbers and structures. All but TUNGETFEATURES run under
 * RTNL, which orders them against each other, against the last close and
 * against the deletion of a device.
 */
static long xtun_chr_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct xtun_file *xfile = file->private_data;
	void __user *argp = (void __user *)arg;
	struct xtun_priv *priv;
	struct ifreq ifr;
	long ret;

	if (cmd == TUNGETFEATURES)
		return put_user(XTUN_FEATURES, (unsigned int __user *)argp);

	/* TUNSETIFF and the socket ioctls (SIOC*) carry a struct ifreq. */
	if (cmd == TUNSETIFF || _IOC_TYPE(cmd) == SOCK_IOC_TYPE) {
		if (copy_from_user(&ifr, argp, sizeof(ifr)))
			return -EFAULT;
	} else {
		memset(&ifr, 0, sizeof(ifr));
	}

	rtnl_lock();
	priv = rtnl_dereference(xfile->priv);
	if (cmd == TUNSETIFF)
		ret = priv ? -EEXIST : xtun_chr_set_iff(xfile, &ifr);
	else
		ret = priv ? xtun_chr_device_ioctl(priv, cmd, arg, &ifr) : -EBADFD;
	rtnl_unlock();

	if (!ret && xtun_chr_returns_ifreq(cmd) &&
	    copy_to_user(argp, &ifr, sizeof(ifr)))
		ret = -EFAULT;
	return ret;
}

static int xtun_chr_open(struct inode *inode, struct file *file)
{
	struct xtun_file *xfile;

	xfile = kzalloc(sizeof(*xfile), GFP_KERNEL);
	if (!xfile)
		return -ENOMEM;

	/* Devices it creates live in the opener's namespace, as tun's. */
	xfile->net = get_net(current->nsproxy->net_ns);
	init_waitqueue_head(&xfile->readq);
	file->private_data = xfile;
	return stream_open(inode, file);
}

/* The last close: a device that is not persistent goes with its file. */
static int xtun_chr_release(struct inode *inode, struct file *file)
{
	struct xtun_file *xfile = file->private_data;
	struct xtun_priv *priv;

	rtnl_lock();
	priv = rtnl_dereference(xfile->priv);
	if (priv) {
		xtun_chr_detach(priv);
		if (!(priv->tun_flags & IFF_PERSIST))
			unregister_netdevice(priv->dev);
	}
	rtnl_unlock();

	put_net(xfile->net);
	/* xtun_chr_wake_reader() may still be looking at it. */
	kfree_rcu(xfile, rcu);
	return 0;
}

/* /proc/<pid>/fdinfo/<fd> names the device, as for tun: "iff:\t<name>". */
static void xtun_chr_show_fdinfo(struct seq_file *m, struct file *file)
{
	char name[IFNAMSIZ] = "";
	struct xtun_priv *priv;

	rtnl_lock();
	priv = xtun_chr_get(file);
	if (priv) {
		strscpy(name, priv->dev->name, IFNAMSIZ);
		xtun_chr_put(priv);
	}
	rtnl_unlock();
	seq_printf(m, "iff:\t%s\n", name);
}

static const struct file_operations xtun_chr_fops = {
	.owner		= THIS_MODULE,
	.open		= xtun_chr_open,
	.release	= xtun_chr_release,
	.read_iter	= xtun_chr_read_iter,
	.write_iter	= xtun_chr_write_iter,
	.poll		= xtun_chr_poll,
	.unlocked_ioctl	= xtun_chr_ioctl,
	.show_fdinfo	= xtun_chr_show_fdinfo,
};

/* Anyone may open /dev/xtun, as /dev/net/tun: TUNSETIFF checks who. */
static struct miscdevice xtun_chr_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= XTUN_IFNAME,		/* devtmpfs creates /dev/xtun */
	.fops	= &xtun_chr_fops,
	.mode	= 0666,
};

int xtun_chr_register(void)
{
	return misc_register(&xtun_chr_misc);
}

void xtun_chr_unregister(void)
{
	misc_deregister(&xtun_chr_misc);
}
