/*
 * ethdev.c — the ethdev backend's ports and lifecycle (ethdev.h); the worker
 * loop itself is ethdev_loop.c.
 *
 * Port bring-up follows ethdev's required order (rte_ethdev.h, "Device
 * configuration"): dev_info → configure → RX/TX queue setup → start, then
 * the link. What the device cannot do is asked of it only if dev_info says it
 * can: RSS hash types, checksum offloads, queue counts, MTU.
 */
#define _GNU_SOURCE

#include "dataplane/ethdev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/eal.h"
#include "dataplane/ethdev_loop.h"
#include "relay/metrics.h"
#include "relay/relay.h"
#include "relay/worker.h"

enum {
	START_TIMEOUT_MS = 10000,
	/* Frame overhead over the IP MTU: Ethernet header, one VLAN tag, FCS. */
	FRAME_OVERHEAD = RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN,
	RX_DRAIN_ROUNDS = 1024,		/* bursts per queue when draining at teardown */
	NEIGH_SHARE = 128,		/* neighbour-queue mbufs planned per worker and port */
};

/* Hash on addresses and UDP ports: a hop session's 4-tuple stays on one queue. */
#define RSS_WANTED (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP)
#define CKSUM_RX (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
#define CKSUM_TX (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM)

static const char *const idle_names[] = {
	[DP_ETHDEV_IDLE_SLEEP] = "sleep",
	[DP_ETHDEV_IDLE_POLL] = "poll",
};

const char *dp_ethdev_idle_name(enum dp_ethdev_idle idle)
{
	return (unsigned)idle < RTE_DIM(idle_names) ? idle_names[idle] : "?";
}

int dp_ethdev_idle_parse(const char *name, enum dp_ethdev_idle *out)
{
	for (unsigned i = 0; i < RTE_DIM(idle_names); i++) {
		if (!strcmp(name, idle_names[i])) {
			*out = (enum dp_ethdev_idle)i;
			return 0;
		}
	}
	return -EINVAL;
}

unsigned dp_ethdev_mbufs_per_worker(unsigned n_ports)
{
	return n_ports * (DP_ETHDEV_RX_DESC + DP_ETHDEV_TX_DESC + ETH_TXV_CAP + NEIGH_SHARE) +
	       ETH_L2_RING;
}

unsigned dp_ethdev_mbuf_data(const struct dp_portconf *ports, unsigned n_ports)
{
	unsigned need = 0;

	for (unsigned p = 0; p < n_ports; p++) {
		unsigned mtu = ports[p].mtu ? ports[p].mtu : DP_IFACE_MTU_DEFAULT;

		need = RTE_MAX(need, mtu + FRAME_OVERHEAD);
	}
	/*
	 * DPDK's usual 2048 at least: some PMDs want more than a frame (af_packet
	 * checks its whole ring frame, 2048 bytes less the TPACKET2 header).
	 */
	return RTE_MAX(RTE_ALIGN_CEIL(need, 64), (unsigned)RTE_MBUF_DEFAULT_DATAROOM);
}

/* ---- ports ---------------------------------------------------------------- */

static int port_fail(char *err, size_t errlen, const struct eth_port *ep, int ret,
		     const char *what)
{
	snprintf(err, errlen, "port %s (%s): %s: %s", ep->info.name,
		 ep->info.driver[0] ? ep->info.driver : "?", what, rte_strerror(-ret));
	return ret;
}

/* Every ethdev there is, for the message when a name is not among them. */
static void known_ports(char *out, size_t len)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t pid;
	size_t n = 0;

	out[0] = '\0';
	RTE_ETH_FOREACH_DEV(pid) {
		if (rte_eth_dev_get_name_by_port(pid, name) == 0 && n < len)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", name);
	}
	if (!n)
		snprintf(out, len, "none");
}

static int find_port(struct eth_port *ep, const struct dp_portconf *pc, char *err, size_t errlen)
{
	char known[256];

	dp_portconf_name(pc->device, ep->info.name, sizeof(ep->info.name));
	if (rte_eth_dev_get_port_by_name(ep->info.name, &ep->info.port_id)) {
		known_ports(known, sizeof(known));
		snprintf(err, errlen, "port %s: no such Ethernet device (EAL has: %s)",
			 ep->info.name, known);
		return -ENODEV;
	}
	ep->socket = rte_eth_dev_socket_id(ep->info.port_id);
	if (ep->socket < 0)
		ep->socket = (int)rte_socket_id();
	return 0;
}

/* What the configuration needs against what the device can: queues, MTU, frame size. */
static int check_caps(const struct dp_ethdev *s, struct eth_port *ep,
		      const struct rte_eth_dev_info *di, char *err, size_t errlen)
{
	unsigned mtu = ep->info.mtu;
	unsigned room = rte_pktmbuf_data_room_size(s->pool) - RTE_PKTMBUF_HEADROOM;

	if (di->max_rx_queues < s->n_workers || di->max_tx_queues < s->n_workers) {
		snprintf(err, errlen, "port %s (%s): %u workers need %u RX and TX queues, the "
			 "device has %u RX and %u TX%s", ep->info.name, ep->info.driver,
			 s->n_workers, s->n_workers, di->max_rx_queues, di->max_tx_queues,
			 !strcmp(ep->info.driver, "net_af_packet") ? " (net_af_packet: set "
			 "qpairs= to the number of workers)" : "");
		return -EINVAL;
	}
	if (mtu < di->min_mtu || (di->max_mtu && mtu > di->max_mtu)) {
		snprintf(err, errlen, "port %s (%s): MTU %u is outside the device's %u..%u",
			 ep->info.name, ep->info.driver, mtu, di->min_mtu, di->max_mtu);
		return -EINVAL;
	}
	if (di->max_rx_pktlen && di->max_rx_pktlen < mtu + RTE_ETHER_HDR_LEN) {
		snprintf(err, errlen, "port %s (%s): MTU %u needs %u-byte frames, the device "
			 "receives at most %u", ep->info.name, ep->info.driver, mtu,
			 mtu + RTE_ETHER_HDR_LEN, di->max_rx_pktlen);
		return -EINVAL;
	}
	if (room < mtu + RTE_ETHER_HDR_LEN) {
		snprintf(err, errlen, "port %s: MTU %u needs mbufs with %u bytes of data room, "
			 "the pool has %u", ep->info.name, mtu, mtu + RTE_ETHER_HDR_LEN, room);
		return -EINVAL;
	}
	return 0;
}

/* dev_info → configure → queues → MAC → start. */
static int port_setup(struct dp_ethdev *s, struct eth_port *ep, const struct dp_portconf *pc,
		      char *err, size_t errlen)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	struct rte_eth_rxconf rxq;
	struct rte_eth_txconf txq;
	uint16_t pid, rxd = DP_ETHDEV_RX_DESC, txd = DP_ETHDEV_TX_DESC;
	int ret;

	ret = find_port(ep, pc, err, errlen);
	if (ret)
		return ret;
	pid = ep->info.port_id;
	ret = rte_eth_dev_info_get(pid, &di);
	if (ret)
		return port_fail(err, errlen, ep, ret, "device info");
	snprintf(ep->info.driver, sizeof(ep->info.driver), "%s",
		 di.driver_name ? di.driver_name : "?");
	ep->info.mtu = pc->mtu ? pc->mtu : DP_IFACE_MTU_DEFAULT;
	ret = check_caps(s, ep, &di, err, errlen);
	if (ret)
		return ret;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = ep->info.mtu;
	ep->info.rss_hf = s->n_workers > 1 ? RSS_WANTED & di.flow_type_rss_offloads : 0;
	if (ep->info.rss_hf) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = ep->info.rss_hf;	/* the driver's key */
	}
	ep->info.rx_offloads = CKSUM_RX & di.rx_offload_capa;
	ep->info.tx_offloads = CKSUM_TX & di.tx_offload_capa;
	conf.rxmode.offloads = ep->info.rx_offloads;
	conf.txmode.offloads = ep->info.tx_offloads;
	ret = rte_eth_dev_configure(pid, (uint16_t)s->n_workers, (uint16_t)s->n_workers, &conf);
	if (ret)
		return port_fail(err, errlen, ep, ret, "configure");
	ep->configured = true;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rxd, &txd);
	if (ret)
		return port_fail(err, errlen, ep, ret, "descriptor counts");
	ep->info.rx_desc = rxd;
	ep->info.tx_desc = txd;
	rxq = di.default_rxconf;
	rxq.offloads = conf.rxmode.offloads;
	txq = di.default_txconf;
	txq.offloads = conf.txmode.offloads;
	for (unsigned q = 0; q < s->n_workers; q++) {
		ret = rte_eth_rx_queue_setup(pid, (uint16_t)q, rxd, (unsigned)ep->socket, &rxq,
					     s->pool);
		if (ret)
			return port_fail(err, errlen, ep, ret, "RX queue setup");
		ret = rte_eth_tx_queue_setup(pid, (uint16_t)q, txd, (unsigned)ep->socket, &txq);
		if (ret)
			return port_fail(err, errlen, ep, ret, "TX queue setup");
	}
	ep->info.queues = s->n_workers;
	ret = rte_eth_macaddr_get(pid, &ep->info.mac);
	if (ret)
		return port_fail(err, errlen, ep, ret, "MAC address");
	/*
	 * Some virtual devices (net_ring, net_null) have no address of their own:
	 * a random locally administered one (IEEE 802 U/L bit), told to the device
	 * if it keeps one (it may not filter at all).
	 */
	if (!rte_is_valid_assigned_ether_addr(&ep->info.mac)) {
		rte_eth_random_addr(ep->info.mac.addr_bytes);
		rte_eth_dev_default_mac_addr_set(pid, &ep->info.mac);
	}
	/* Neighbour solicitations go to solicited-node multicast groups (RFC 4861 7.2.2). */
	rte_eth_allmulticast_enable(pid);
	ret = rte_eth_dev_start(pid);
	if (ret)
		return port_fail(err, errlen, ep, ret, "start");
	ep->started = true;
	return 0;
}

/* The layer 3 identity dp_l2l3 needs: MAC from the device, the rest from the config. */
static int port_iface(struct dp_ethdev *s, struct eth_port *ep, const struct dp_portconf *pc,
		      const struct pkt_addr *listen, unsigned n_listen, char *err, size_t errlen)
{
	struct dp_iface *ifc = &ep->ifc;
	const char *why;
	int n;

	memset(ifc, 0, sizeof(*ifc));
	ifc->mac = ep->info.mac;
	memcpy(ifc->addrs, pc->addrs, sizeof(pc->addrs));
	ifc->n_addrs = pc->n_addrs;
	memcpy(ifc->gateway4, pc->gateway4, sizeof(ifc->gateway4));
	memcpy(ifc->gateway6, pc->gateway6, sizeof(ifc->gateway6));
	ifc->mtu = ep->info.mtu;
	ifc->tx_offloads = ep->info.tx_offloads;
	n = dp_portconf_listeners(pc, listen, n_listen, ifc->listeners);
	if (n <= 0) {
		snprintf(err, errlen, "port %s: %s", ep->info.name, n == 0 ?
			 "no listen address falls on this port's addresses" :
			 "more than 16 listeners on this port");
		return -EINVAL;
	}
	ifc->n_listeners = (unsigned)n;
	ep->info.listener_base = s->n_listeners;
	ep->info.n_listeners = (unsigned)n;
	s->n_listeners += (unsigned)n;
	if (dp_iface_check(ifc, &why)) {
		snprintf(err, errlen, "port %s: %s", ep->info.name, why);
		return -EINVAL;
	}
	return 0;
}

/* Links come up asynchronously; wait a little, never fail (a cable may come later). */
static void wait_links(struct dp_ethdev *s, unsigned wait_ms)
{
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * wait_ms;
	bool all_up;

	do {
		all_up = true;
		for (unsigned p = 0; p < s->n_ports; p++) {
			struct eth_port *ep = &s->port[p];
			struct rte_eth_link link;

			memset(&link, 0, sizeof(link));
			if (rte_eth_link_get_nowait(ep->info.port_id, &link) == 0) {
				ep->info.link_up = link.link_status == RTE_ETH_LINK_UP;
				ep->info.link_speed = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ?
						      0 : link.link_speed;
			}
			all_up &= ep->info.link_up;
		}
		if (!all_up)
			usleep(50 * 1000);
	} while (!all_up && rte_get_tsc_cycles() < deadline);
}

/* ---- workers -------------------------------------------------------------- */

static int worker_setup(struct dp_ethdev *s, struct eth_worker *w, unsigned id, char *err,
			size_t errlen)
{
	char name[RTE_RING_NAMESIZE];
	const char *why;
	int ret;

	w->dp = s;
	w->id = id;
	w->rw = relay_get_worker(s->relay, id);
	atomic_init(&w->asleep, 0);
	atomic_init(&w->state, EW_IDLE);
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-ret));
		return ret;
	}
	/* Unique per process: EAL ring names are global. */
	snprintf(name, sizeof(name), "pst_l2in_%u", id);
	w->l2in = rte_ring_create(name, ETH_L2_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!w->l2in) {
		snprintf(err, errlen, "worker %u: cannot create its ARP/ND ring: %s", id,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned p = 0; p < s->n_ports; p++) {
		struct eth_port *ep = &s->port[p];
		struct eth_queue *q = &w->q[p];

		q->port_id = ep->info.port_id;
		q->queue = (uint16_t)id;
		q->listener_base = (uint16_t)ep->info.listener_base;
		q->n_listeners = (uint16_t)ep->info.n_listeners;
		dp_txv_init(&q->tx, q->slots, ETH_TXV_CAP);
		ret = dp_l2l3_create(&q->l2, &ep->ifc, s->pool, 0, ep->socket, &why);
		if (ret) {
			snprintf(err, errlen, "port %s, worker %u: %s", ep->info.name, id, why);
			return ret;
		}
	}
	return 0;
}

/* Free a worker's state; its loop has returned (or never ran). */
static void worker_free(struct eth_worker *w)
{
	struct rte_mbuf *m;

	if (!w->dp)
		return;
	if (w->l2in) {
		while (rte_ring_sc_dequeue(w->l2in, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(w->l2in);
	}
	for (unsigned p = 0; p < w->dp->n_ports; p++) {
		struct eth_queue *q = &w->q[p];

		if (q->tx.m && q->tx.n)
			rte_pktmbuf_free_bulk(q->tx.m, q->tx.n);
		q->tx.n = 0;
		dp_l2l3_destroy(q->l2);
		q->l2 = NULL;
	}
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->wake_fd = -1;
	if (w->rw) {
		relay_worker_attach(w->rw, NULL, NULL);
		relay_worker_set_wake(w->rw, NULL, NULL);
	}
}

/* Frames the device received but no worker took: back to the pool. */
static void drain_rx(const struct eth_port *ep)
{
	struct rte_mbuf *m[RELAY_BURST];

	for (unsigned q = 0; q < ep->info.queues; q++) {
		for (unsigned round = 0; round < RX_DRAIN_ROUNDS; round++) {
			uint16_t n = rte_eth_rx_burst(ep->info.port_id, (uint16_t)q, m,
						      RELAY_BURST);

			if (!n)
				break;
			rte_pktmbuf_free_bulk(m, n);
		}
	}
}

static void ports_close(struct dp_ethdev *s)
{
	for (unsigned p = 0; p < s->n_ports; p++) {
		struct eth_port *ep = &s->port[p];

		if (ep->started) {
			drain_rx(ep);
			rte_eth_dev_stop(ep->info.port_id);
			ep->started = false;
		}
		/* Closing releases the queues, and the mbufs a NIC keeps in its RX rings. */
		if (ep->configured) {
			rte_eth_dev_close(ep->info.port_id);
			ep->configured = false;
		}
	}
}

static void teardown(struct dp_ethdev *s)
{
	for (unsigned w = 0; s->w && w < s->n_workers; w++)
		worker_free(&s->w[w]);
	ports_close(s);
	rte_free(s->w);
	rte_free(s);
}

int dp_ethdev_create(struct dp_ethdev **out, const struct dp_ethdev_params *p,
		     char *err, size_t errlen)
{
	struct dp_ethdev *s;
	const char *why;
	int ret;

	if (!p->relay || !p->pool || p->n_ports < 1 || p->n_ports > DP_ETHDEV_MAX_PORTS ||
	    (unsigned)p->idle >= RTE_DIM(idle_names)) {
		snprintf(err, errlen, "ethdev backend: invalid parameters");
		return -EINVAL;
	}
	for (unsigned i = 0; i < p->n_ports; i++) {
		if (dp_portconf_check(&p->ports[i], &why)) {
			snprintf(err, errlen, "port %u: %s", i, why);
			return -EINVAL;
		}
	}
	if (rte_pktmbuf_priv_size(p->pool) < PKT_PRIV_SIZE) {
		snprintf(err, errlen, "ethdev backend: the pool's mbufs lack the packet metadata");
		return -EINVAL;
	}
	s = rte_zmalloc("dp_ethdev", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (!s)
		goto err_nomem;
	s->relay = p->relay;
	s->pool = p->pool;
	s->idle = p->idle;
	s->n_ports = p->n_ports;
	s->n_workers = relay_worker_count(p->relay);
	memcpy(s->conf, p->ports, p->n_ports * sizeof(p->ports[0]));
	s->drain_tsc = rte_get_tsc_hz() / 1000000 * DP_ETHDEV_TX_DRAIN_US;
	s->spin_tsc = rte_get_tsc_hz() / 1000000 * DP_ETHDEV_IDLE_SPIN_US;
	atomic_init(&s->quit, false);
	s->w = rte_zmalloc("dp_ethdev_workers", s->n_workers * sizeof(s->w[0]),
			   RTE_CACHE_LINE_SIZE);
	if (!s->w) {
		rte_free(s);
		goto err_nomem;
	}
	for (unsigned w = 0; w < s->n_workers; w++)
		s->w[w].wake_fd = -1;

	for (unsigned i = 0; i < s->n_ports; i++) {
		ret = port_setup(s, &s->port[i], &s->conf[i], err, errlen);
		if (ret)
			goto err_teardown;
		ret = port_iface(s, &s->port[i], &s->conf[i], p->listen, p->n_listen, err,
				 errlen);
		if (ret)
			goto err_teardown;
	}
	wait_links(s, p->link_wait_ms ? p->link_wait_ms : DP_ETHDEV_LINK_WAIT_MS);
	for (unsigned w = 0; w < s->n_workers; w++) {
		ret = worker_setup(s, &s->w[w], w, err, errlen);
		if (ret)
			goto err_teardown;
	}
	*out = s;
	return 0;

err_teardown:
	teardown(s);
	return ret;
err_nomem:
	snprintf(err, errlen, "ethdev backend: out of memory");
	return -ENOMEM;
}

int dp_ethdev_start(struct dp_ethdev *s, char *err, size_t errlen)
{
	unsigned lcore = rte_get_main_lcore();
	uint64_t deadline;
	int ret;

	if (rte_lcore_count() < s->n_workers + 1) {
		snprintf(err, errlen, "ethdev backend: %u workers need %u EAL lcores, have %u",
			 s->n_workers, s->n_workers + 1, rte_lcore_count());
		return -EINVAL;
	}
	atomic_store(&s->quit, false);
	for (unsigned i = 0; i < s->n_workers; i++) {
		struct eth_worker *w = &s->w[i];

		lcore = rte_get_next_lcore(lcore, 1, 0);
		w->lcore = lcore;
		relay_worker_attach(w->rw, dp_ethdev_loop_tx, w);
		if (s->idle == DP_ETHDEV_IDLE_SLEEP)
			relay_worker_set_wake(w->rw, dp_ethdev_loop_wake, w);
		atomic_store(&w->state, EW_STARTING);
		ret = rte_eal_remote_launch(dp_ethdev_loop_main, w, lcore);
		if (ret) {
			atomic_store(&w->state, EW_IDLE);
			snprintf(err, errlen, "worker %u: cannot launch on lcore %u: %s", i, lcore,
				 strerror(-ret));
			s->launched = true;
			dp_ethdev_stop(s);
			return ret;
		}
	}
	s->launched = true;

	deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * START_TIMEOUT_MS;
	for (unsigned i = 0; i < s->n_workers; i++) {
		struct eth_worker *w = &s->w[i];

		while (atomic_load(&w->state) == EW_STARTING && rte_get_tsc_cycles() < deadline)
			usleep(1000);
		if (atomic_load(&w->state) != EW_RUNNING) {
			snprintf(err, errlen, "worker %u: did not start on lcore %u", i, w->lcore);
			dp_ethdev_stop(s);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

void dp_ethdev_wake_all(struct dp_ethdev *s)
{
	for (unsigned w = 0; w < s->n_workers; w++)
		eventfd_write(s->w[w].wake_fd, 1);
}

void dp_ethdev_stop(struct dp_ethdev *s)
{
	if (!s->launched)
		return;
	atomic_store(&s->quit, true);
	dp_ethdev_wake_all(s);
	for (unsigned w = 0; w < s->n_workers; w++)
		if (atomic_load(&s->w[w].state) != EW_IDLE)
			rte_eal_wait_lcore(s->w[w].lcore);
	s->launched = false;
}

void dp_ethdev_destroy(struct dp_ethdev *s)
{
	if (!s)
		return;
	dp_ethdev_stop(s);
	teardown(s);
}

unsigned dp_ethdev_port_count(const struct dp_ethdev *s)
{
	return s->n_ports;
}

int dp_ethdev_port_info(const struct dp_ethdev *s, unsigned port,
			struct dp_ethdev_port_info *out)
{
	if (port >= s->n_ports)
		return -ENOENT;
	*out = s->port[port].info;
	return 0;
}

int dp_ethdev_port_stats(const struct dp_ethdev *s, unsigned port,
			 struct dp_ethdev_port_stats *out)
{
	struct rte_eth_stats st;
	int ret;

	memset(out, 0, sizeof(*out));
	if (port >= s->n_ports)
		return -ENOENT;
	ret = rte_eth_stats_get(s->port[port].info.port_id, &st);
	if (ret)
		return ret;
	*out = (struct dp_ethdev_port_stats){
		.ipackets = st.ipackets, .opackets = st.opackets,
		.ibytes = st.ibytes, .obytes = st.obytes,
		.imissed = st.imissed, .ierrors = st.ierrors, .oerrors = st.oerrors,
		.rx_nombuf = st.rx_nombuf,
	};
	return 0;
}

void dp_ethdev_worker_stats(const struct dp_ethdev *s, unsigned worker,
			    struct dp_ethdev_worker_stats *out)
{
	if (worker >= s->n_workers) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = s->w[worker].st;
}

const struct dp_l2stats *dp_ethdev_l2stats(const struct dp_ethdev *s, unsigned worker,
					   unsigned port)
{
	if (worker >= s->n_workers || port >= s->n_ports || !s->w[worker].q[port].l2)
		return NULL;
	return dp_l2l3_stats(s->w[worker].q[port].l2);
}

void dp_ethdev_l2stats_total(const struct dp_ethdev *s, unsigned port, struct dp_l2stats *sum)
{
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)sum;

	memset(sum, 0, sizeof(*sum));
	/* Every field of struct dp_l2stats, up to the last, is a uint64_t counter. */
	for (unsigned w = 0; w < s->n_workers; w++) {
		const struct dp_l2stats *st = dp_ethdev_l2stats(s, w, port);

		if (!st)
			continue;
		src = (const uint64_t *)st;
		for (size_t i = 0; i <= offsetof(struct dp_l2stats, solicit_failed) / 8; i++)
			dst[i] += src[i];
	}
}

void dp_ethdev_metrics(const struct dp_ethdev *s, struct metrics_backend *out)
{
	unsigned n = RTE_MIN(s->n_ports, (unsigned)METRICS_MAX_PORTS);

	for (unsigned p = 0; p < n; p++) {
		struct metrics_port *mp = &out->ports[p];

		snprintf(mp->name, sizeof(mp->name), "%s", s->port[p].info.name);
		mp->have_device = dp_ethdev_port_stats(s, p, &mp->device) == 0;
		dp_ethdev_l2stats_total(s, p, &mp->l2);
	}
	out->n_ports = n;
}
