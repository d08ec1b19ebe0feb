/*
 * ethdev.c — the ethdev backend's ports and lifecycle (ethdev.h); each port
 * is brought up by dataplane/port.h, the worker loop itself is ethdev_loop.c.
 */
#define _GNU_SOURCE

#include "dataplane/ethdev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/eal.h"
#include "dataplane/ethdev_loop.h"
#include "dataplane/port.h"
#include "relay/metrics.h"
#include "relay/relay.h"
#include "relay/worker.h"

enum {
	START_TIMEOUT_MS = 10000,
	/* Frame overhead over the IP MTU: Ethernet header, one VLAN tag, FCS. */
	FRAME_OVERHEAD = RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN,
	NEIGH_SHARE = 128,		/* neighbour-queue mbufs planned per worker and port */
};

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

/* The layer 3 identity dp_l2l3 needs: MAC from the device, the rest from the config. */
static int port_iface(struct dp_ethdev *s, struct eth_port *ep, const struct dp_portconf *pc,
		      const struct pkt_addr *listen, unsigned n_listen, char *err, size_t errlen)
{
	struct dp_iface *ifc = &ep->ifc;
	const char *why;
	int n;

	memset(ifc, 0, sizeof(*ifc));
	ifc->mac = ep->dev.info.mac;
	memcpy(ifc->addrs, pc->addrs, sizeof(pc->addrs));
	ifc->n_addrs = pc->n_addrs;
	memcpy(ifc->gateway4, pc->gateway4, sizeof(ifc->gateway4));
	memcpy(ifc->gateway6, pc->gateway6, sizeof(ifc->gateway6));
	ifc->mtu = ep->dev.info.mtu;
	ifc->tx_offloads = ep->dev.info.tx_offloads;
	n = dp_portconf_listeners(pc, listen, n_listen, ifc->listeners);
	if (n <= 0) {
		snprintf(err, errlen, "port %s: %s", ep->dev.info.name, n == 0 ?
			 "no listen address falls on this port's addresses" :
			 "more than 16 listeners on this port");
		return -EINVAL;
	}
	ifc->n_listeners = (unsigned)n;
	ep->listener_base = s->n_listeners;
	ep->n_listeners = (unsigned)n;
	s->n_listeners += (unsigned)n;
	if (dp_iface_check(ifc, &why)) {
		snprintf(err, errlen, "port %s: %s", ep->dev.info.name, why);
		return -EINVAL;
	}
	return 0;
}

static int port_setup(struct dp_ethdev *s, struct eth_port *ep, const struct dp_portconf *pc,
		      char *err, size_t errlen)
{
	char name[DP_PORTCONF_NAME_MAX];
	struct dp_port_params pp = {
		.name = name,
		.queues = s->n_workers,
		.queue_users = "workers",
		.rx_desc = DP_ETHDEV_RX_DESC,
		.tx_desc = DP_ETHDEV_TX_DESC,
		.mtu = pc->mtu,
		.pool = s->pool,
	};

	dp_portconf_name(pc->device, name, sizeof(name));
	return dp_port_open(&ep->dev, &pp, err, errlen);
}

/* Links come up asynchronously; wait a little, never fail (a cable may come later). */
static void wait_links(struct dp_ethdev *s, unsigned wait_ms)
{
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * wait_ms;
	bool all_up;

	do {
		all_up = true;
		for (unsigned p = 0; p < s->n_ports; p++)
			all_up &= dp_port_link_up(&s->port[p].dev);
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

		q->port_id = ep->dev.info.port_id;
		q->queue = (uint16_t)id;
		q->listener_base = (uint16_t)ep->listener_base;
		q->n_listeners = (uint16_t)ep->n_listeners;
		dp_txv_init(&q->tx, q->slots, ETH_TXV_CAP);
		ret = dp_l2l3_create(&q->l2, &ep->ifc, s->pool, 0, ep->dev.info.socket, &why);
		if (ret) {
			snprintf(err, errlen, "port %s, worker %u: %s", ep->dev.info.name, id, why);
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

/* Frames the device received but no worker took go back to the pool (dp_port_close). */
static void ports_close(struct dp_ethdev *s)
{
	for (unsigned p = 0; p < s->n_ports; p++)
		dp_port_close(&s->port[p].dev);
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
	const struct eth_port *ep;

	if (port >= s->n_ports)
		return -ENOENT;
	ep = &s->port[port];
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", ep->dev.info.name);
	snprintf(out->driver, sizeof(out->driver), "%s", ep->dev.info.driver);
	out->port_id = ep->dev.info.port_id;
	out->mac = ep->dev.info.mac;
	out->queues = ep->dev.info.queues;
	out->rx_desc = ep->dev.info.rx_desc;
	out->tx_desc = ep->dev.info.tx_desc;
	out->rss_hf = ep->dev.info.rss_hf;
	out->rx_offloads = ep->dev.info.rx_offloads;
	out->tx_offloads = ep->dev.info.tx_offloads;
	out->mtu = ep->dev.info.mtu;
	out->listener_base = ep->listener_base;
	out->n_listeners = ep->n_listeners;
	out->link_up = ep->dev.info.link_up;
	out->link_speed = ep->dev.info.link_speed;
	return 0;
}

int dp_ethdev_port_stats(const struct dp_ethdev *s, unsigned port, struct dp_port_stats *out)
{
	if (port >= s->n_ports) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	return dp_port_stats(&s->port[port].dev, out);
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

		snprintf(mp->name, sizeof(mp->name), "%s", s->port[p].dev.info.name);
		mp->have_device = dp_ethdev_port_stats(s, p, &mp->device) == 0;
		dp_ethdev_l2stats_total(s, p, &mp->l2);
	}
	out->n_ports = n;
	out->n_port_workers = RTE_MIN(s->n_workers, (unsigned)CONTROL_MAX_WORKERS);
	/* Another thread's counter: an aligned 64-bit load, at worst one increment old. */
	for (unsigned w = 0; w < out->n_port_workers; w++)
		out->tx_unsent[w] = s->w[w].st.tx_unsent;
}
