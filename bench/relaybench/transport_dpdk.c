/*
 * transport_dpdk.c — relaybench's DPDK transport (transport_dpdk.h).
 *
 * The Ethernet/IP/UDP work is the relay's own DPDK layer (dataplane/l2l3.h):
 * RX validation, ARP and neighbour discovery answers, the neighbour cache that
 * resolves the relay's MAC (dp_l2l3_resolve() before the first packet), TX
 * headers and checksums; the port is brought up by dataplane/port.h, as the
 * relay's own ports are. The fleet needs one source port per flow, thousands
 * of them: each --bind address is one listener with a port range, the ports
 * of every thread's flows (flowport.h), so that
 *
 *	RX  a hop packet says which address (pkt_meta.listener: the --bind
 *	    index) and port (pkt_meta.local_port) it came to: its flow
 *	TX  a hop packet names its flow's address and port the same way, and
 *	    leaves from them
 *
 * Fleet threads are ordinary pthreads (worker.c) that register with EAL
 * (rte_thread_register) instead of running as EAL lcores: worker.c keeps one
 * thread model for both transports (signals blocked, joined by the
 * controller), the kernel UDP transport needs no EAL at all, and a registered
 * thread has an lcore id, so the mbuf pool's per-lcore cache serves it (an
 * unregistered thread would take every mbuf from the shared ring). Each is
 * pinned to its CPU of the --eal core list.
 *
 * One poll iteration: RX burst → sort (own / another thread's / neighbour
 * answer to copy) → dp_l2l3_rx → flows' callbacks (which queue sends) → the
 * handoff ring, the same way → every 100 ms dp_l2l3_tick → TX: pending hop
 * packets through dp_l2l3_tx, the vector to the device when 32 frames wait
 * and before every wait (the l3fwd shape; a bench has no latency to trade for
 * batching across waits).
 */
#define _GNU_SOURCE	/* pthread_setaffinity_np, CPU_* */

#include "bench/relaybench/transport_dpdk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "bench/relaybench/fail.h"
#include "bench/relaybench/flowport.h"
#include "dataplane/eal.h"
#include "dataplane/iface.h"
#include "dataplane/l2l3.h"
#include "dataplane/neigh.h"
#include "dataplane/port.h"
#include "endpoint/udp.h"
#include "relay/pkt.h"
#include "wire/hop.h"

enum {
	BURST = 32,
	TXV_CAP = 768,			/* above TX_DESC: a full ring's frames wait (tx_burst) */
	TX_FLUSH = 32,			/* hand the vector to the device once this many wait */
	PEND_MAX = 64,			/* hop packets queued before dp_l2l3_tx() */
	RX_DESC = 512,
	TX_DESC = 512,
	TICK_MS = 100,			/* neighbour cache housekeeping */
	LINGER_MS = 100,		/* before closing the port */
	NO_FLOW = UINT32_MAX,
	SLEEP_MIN_US = 10,
};

struct transport_dpdk_port {
	struct rte_mempool *pool;
	struct dp_port port;
	unsigned threads;
	struct flowport_plan plan;
	struct dp_iface ifc;		/* template for every thread's dp_l2l3 */
	struct pkt_addr relay;
	uint8_t nh[16];			/* next hop toward the relay */
	uint16_t cpus[TRANSPORT_DPDK_CPUS_MAX];
	unsigned n_cpus;
	uint64_t link_timeout_ns;
	enum transport_dpdk_idle idle;
	struct rte_ring *ring[FLOWPORT_THREADS_MAX];	/* frames handed to thread i */
	struct transport_dpdk_info info;	/* identity, and the destroyed transports' sums */
};

struct flow {
	void *ctx;
};

struct transport_dpdk {
	struct transport head;		/* first: the struct transport * points here */
	struct transport_dpdk_port *p;
	unsigned id;
	uint16_t queue;
	bool registered;
	struct dp_l2l3 *l2;
	struct flow *flows;
	uint32_t n_flows, max_flows;
	uint64_t hz, tick_cycles, next_tick;
	uint64_t idle_cycles;
	uint64_t l2_tx_dropped_seen;	/* dp_l2l3's TX drops already in stats.tx_errors */
	uint64_t tx_unsent, tx_waited, neigh_copies;
	unsigned tx_kept;		/* frames at the front of tx that waited already */
	unsigned n_pend;
	struct rte_mbuf *pend[PEND_MAX];
	struct dp_txv tx;
	struct rte_mbuf *slots[TXV_CAP];
	uint16_t hop_len[TXV_CAP];	/* per TX vector slot: hop bytes, 0 for other frames */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct transport_dpdk *dpdk_of(struct transport *t)
{
	return (struct transport_dpdk *)t;
}

/* --- TX ----------------------------------------------------------------------- */

/* Note each frame's hop bytes for the counters: every UDP frame we send is a hop packet. */
static void count_hops(struct transport_dpdk *t)
{
	for (unsigned i = 0; i < t->tx.n; i++) {
		struct rte_mbuf *m = t->tx.m[i];
		struct flowport_frame f;

		t->hop_len[i] = 0;
		if (m->nb_segs == 1 &&
		    flowport_peek(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), &f) ==
		    FLOWPORT_UDP)
			t->hop_len[i] = (uint16_t)(rte_pktmbuf_data_len(m) - f.l4_off - 8);
	}
}

/*
 * Hand the vector to the device. What a full ring does not take stays at the
 * front of the vector, in order, for the next flush: a closed loop keeps up to
 * agents x in-flight frames out (1600 for 100 x 16, a memif ring has 1024
 * slots), and a relay that pauses a few milliseconds would otherwise see the
 * fleet lose its own frames. Frames are freed and counted only when the vector
 * itself is full (room()).
 */
static void tx_burst(struct transport_dpdk *t)
{
	struct transport_stats *st = &t->head.stats;
	uint64_t dropped = dp_l2stats_tx_dropped(dp_l2l3_stats(t->l2));
	uint16_t n, sent;

	/* Hop packets the layer dropped (no route, MAC unresolved in time) are ours to count. */
	st->tx_errors += dropped - t->l2_tx_dropped_seen;
	t->l2_tx_dropped_seen = dropped;
	n = (uint16_t)t->tx.n;
	if (!n)
		return;
	count_hops(t);
	sent = dp_port_tx(&t->p->port, t->queue, t->tx.m, n);
	for (uint16_t i = 0; i < sent; i++) {
		if (!t->hop_len[i])
			continue;
		st->tx_packets++;
		st->tx_bytes += t->hop_len[i];
	}
	if (sent < n)
		memmove(t->tx.m, t->tx.m + sent, (size_t)(n - sent) * sizeof(t->tx.m[0]));
	/* Each frame counts once, at its first wait: the first tx_kept ones already did. */
	t->tx_waited += (n - sent) - (t->tx_kept > sent ? t->tx_kept - sent : 0);
	t->tx_kept = n - sent;
	t->tx.n = n - sent;
}

/* Free the @k oldest frames of the vector, counted as unsent (hop packets: as TX errors). */
static void drop_oldest(struct transport_dpdk *t, unsigned k)
{
	count_hops(t);
	for (unsigned i = 0; i < k; i++)
		t->head.stats.tx_errors += t->hop_len[i] != 0;
	rte_pktmbuf_free_bulk(t->tx.m, k);
	memmove(t->tx.m, t->tx.m + k, (t->tx.n - k) * sizeof(t->tx.m[0]));
	t->tx.n -= k;
	t->tx_kept = t->tx_kept > k ? t->tx_kept - k : 0;
	t->tx_unsent += k;
}

/*
 * Make room for @need frames on the vector, so that dp_l2l3 never drops for
 * want of it: send what the device takes, and if frames still wait for a ring
 * that stays full, give up the oldest.
 */
static void room(struct transport_dpdk *t, unsigned need)
{
	if (t->tx.cap - t->tx.n < need)
		tx_burst(t);
	if (t->tx.cap - t->tx.n < need)
		drop_oldest(t, need - (t->tx.cap - t->tx.n));
}

/* Pending hop packets through the Ethernet/IP layer onto the vector. */
static void encap(struct transport_dpdk *t)
{
	if (!t->n_pend)
		return;
	room(t, DP_L2L3_TX_TXV_MAX(t->n_pend));
	dp_l2l3_tx(t->l2, t->pend, t->n_pend, &t->tx, mono_ns());
	t->n_pend = 0;
	if (t->tx.n >= TX_FLUSH)
		tx_burst(t);
}

static void flush_all(struct transport_dpdk *t)
{
	encap(t);
	tx_burst(t);
}

static int dpdk_send(struct transport *tp, uint32_t flow, const uint8_t *pkt, size_t len)
{
	struct transport_dpdk *t = dpdk_of(tp);
	struct rte_mbuf *m;
	struct pkt_meta *meta;
	unsigned bind;
	uint16_t port;
	char *d;

	if (len > HOP_MTU || flow >= t->n_flows) {
		tp->stats.tx_errors++;
		return len > HOP_MTU ? -EMSGSIZE : -EINVAL;
	}
	m = rte_pktmbuf_alloc(t->p->pool);
	if (!m) {
		tp->stats.tx_errors++;
		return -ENOBUFS;
	}
	d = rte_pktmbuf_append(m, (uint16_t)len);
	if (!d) {
		rte_pktmbuf_free(m);
		tp->stats.tx_errors++;
		return -EMSGSIZE;
	}
	memcpy(d, pkt, len);
	flowport_local(&t->p->plan, t->id, flow, &bind, &port);	/* checked at flow_open */
	meta = pkt_meta(m);
	memset(meta, 0, sizeof(*meta));
	meta->peer = t->p->relay;
	meta->listener = (uint16_t)bind;	/* listener i is --bind address i */
	meta->local_port = port;
	t->pend[t->n_pend++] = m;
	if (t->n_pend == PEND_MAX)
		encap(t);
	return 0;
}

static void dpdk_flush(struct transport *tp)
{
	flush_all(dpdk_of(tp));
}

/* --- RX --------------------------------------------------------------------------- */

/* The index of our address @addr (4 or 16 bytes by @family), or -1. */
static int bind_index(const struct dp_iface *ifc, uint8_t family, const uint8_t *addr)
{
	for (unsigned i = 0; i < ifc->n_addrs; i++)
		if (ifc->addrs[i].family == family &&
		    !memcmp(ifc->addrs[i].addr, addr, family == PKT_AF_INET ? 4 : 16))
			return (int)i;
	return -1;
}

/* A frame for thread @owner's flow: onto its ring, or freed and counted. */
static void hand_off(struct transport_dpdk *t, unsigned owner, struct rte_mbuf *m)
{
	if (rte_ring_mp_enqueue(t->p->ring[owner], m)) {
		rte_pktmbuf_free(m);
		t->head.stats.handoff_drops++;
		return;
	}
	t->head.stats.handoffs_out++;
}

/*
 * An ARP reply or neighbour advertisement teaches every thread's cache, but
 * lands on one queue: a copy for each other thread (as the relay's ethdev
 * backend does between its workers). It asks nothing back, so nothing is
 * sent twice.
 */
static void copy_to_others(struct transport_dpdk *t, const struct rte_mbuf *m)
{
	for (unsigned o = 0; o < t->p->threads; o++) {
		struct rte_mbuf *c;

		if (o == t->id)
			continue;
		c = rte_pktmbuf_copy(m, t->p->pool, 0, UINT32_MAX);
		if (!c) {
			t->head.stats.handoff_drops++;
			continue;
		}
		hand_off(t, o, c);
		t->neigh_copies++;
	}
}

/* One hop packet for flow @fl: to its callback, or counted. Consumes @m. @return 1 if delivered. */
static unsigned deliver(struct transport_dpdk *t, struct rte_mbuf *m, uint32_t fl,
			transport_rx_fn rx, uint64_t now)
{
	struct transport_stats *st = &t->head.stats;
	unsigned len = rte_pktmbuf_data_len(m);

	/* As connect() does for the UDP transport: only the relay's packets reach a flow. */
	if (fl >= t->n_flows || !rx || !pkt_addr_equal(&pkt_meta(m)->peer, &t->p->relay)) {
		st->rx_errors++;
		rte_pktmbuf_free(m);
		return 0;
	}
	st->rx_packets++;
	st->rx_bytes += len;
	rx(t->flows[fl].ctx, rte_pktmbuf_mtod(m, uint8_t *), len, now);
	rte_pktmbuf_free(m);
	return 1;
}

/* The flow a hop packet came to: its listener is the --bind index, local_port the flow's. */
static uint32_t flow_of(const struct transport_dpdk *t, struct rte_mbuf *m)
{
	const struct pkt_meta *meta = pkt_meta(m);
	unsigned owner;
	uint32_t fl;

	if (!flowport_owner(&t->p->plan, meta->listener, meta->local_port, &owner, &fl) ||
	    owner != t->id)
		return NO_FLOW;
	return fl;
}

/*
 * Sort @n frames (from our queue, or @from_ring: handed to us) and run ours
 * through the Ethernet/IP layer. Consumes all. @return hop packets delivered.
 */
static unsigned rx_frames(struct transport_dpdk *t, struct rte_mbuf **m, unsigned n,
			  bool from_ring, transport_rx_fn rx, uint64_t now)
{
	struct rte_mbuf *mine[BURST], *hop[BURST];
	unsigned k = 0, nh, delivered = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);
		struct flowport_frame f;
		enum flowport_kind kind = FLOWPORT_OTHER;
		unsigned owner;
		uint32_t fl;
		int b;

		if (m[i]->nb_segs == 1)
			kind = flowport_peek(d, rte_pktmbuf_data_len(m[i]), &f);
		if (kind == FLOWPORT_UDP) {
			b = bind_index(&t->p->ifc, f.family == 4 ? PKT_AF_INET : PKT_AF_INET6,
				       d + f.dst_off);
			if (b >= 0 && flowport_owner(&t->p->plan, (unsigned)b, f.dst_port, &owner,
						     &fl)) {
				if (owner != t->id && !from_ring) {
					hand_off(t, owner, m[i]);
					continue;
				}
				t->head.stats.handoffs_in += from_ring && owner == t->id;
			}
		} else if (kind == FLOWPORT_NEIGH_ANSWER && !from_ring && t->p->threads > 1) {
			copy_to_others(t, m[i]);
		}
		mine[k++] = m[i];
	}
	if (!k)
		return 0;
	room(t, DP_L2L3_RX_TXV_MAX(k));
	nh = dp_l2l3_rx(t->l2, mine, k, hop, &t->tx, now);
	for (unsigned h = 0; h < nh; h++)
		delivered += deliver(t, hop[h], flow_of(t, hop[h]), rx, now);
	return delivered;
}

/* One look at the queue and the ring. @return hop packets delivered; *@work: frames seen. */
static unsigned poll_once(struct transport_dpdk *t, transport_rx_fn rx, bool *work)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = dp_port_rx(&t->p->port, t->queue, m, BURST);
	unsigned r, delivered = 0;
	uint64_t now = 0;

	t->head.stats.rx_calls++;
	if (n) {
		now = mono_ns();
		delivered += rx_frames(t, m, n, false, rx, now);
	}
	r = rte_ring_sc_dequeue_burst(t->p->ring[t->id], (void **)m, BURST, NULL);
	if (r) {
		if (!now)
			now = mono_ns();
		delivered += rx_frames(t, m, r, true, rx, now);
	}
	*work = n || r;
	return delivered;
}

static void tick(struct transport_dpdk *t, uint64_t tsc)
{
	if (tsc < t->next_tick)
		return;
	t->next_tick = tsc + t->tick_cycles;
	/* One solicitation per unresolved neighbour with packets waiting: we have one. */
	room(t, 16);
	dp_l2l3_tick(t->l2, &t->tx, mono_ns());
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(us * 1000) };

	nanosleep(&ts, NULL);
}

static int dpdk_poll(struct transport *tp, uint64_t wait_ns, transport_rx_fn rx)
{
	struct transport_dpdk *t = dpdk_of(tp);
	struct transport_stats *st = &tp->stats;
	uint64_t start = rte_rdtsc(), spin = t->hz / 1000000 * TRANSPORT_DPDK_SPIN_US;
	uint64_t deadline = start + (uint64_t)((double)wait_ns * (double)t->hz / 1e9);
	uint64_t last_work = start, sleep = SLEEP_MIN_US;
	unsigned total = 0;

	flush_all(t);
	if (wait_ns)
		st->waits++;
	for (;;) {
		uint64_t t0 = rte_rdtsc(), now;
		bool work;

		total += poll_once(t, rx, &work);
		tick(t, t0);
		if (work) {
			st->polls_busy++;
			flush_all(t);	/* the answers and echoes this batch caused */
			last_work = t0;
			sleep = SLEEP_MIN_US;
		} else {
			st->polls_idle++;
			now = rte_rdtsc();
			if (t->p->idle == TRANSPORT_DPDK_SLEEP && now - last_work >= spin &&
			    now < deadline) {
				uint64_t left_us = (deadline - now) * 1000000 / t->hz;

				sleep_us(left_us < sleep ? left_us : sleep);
				sleep = RTE_MIN(2 * sleep, (uint64_t)TRANSPORT_DPDK_SLEEP_MAX_US);
			}
			t->idle_cycles += rte_rdtsc() - t0;
		}
		if (total || rte_rdtsc() >= deadline)
			break;
	}
	flush_all(t);
	st->idle_ns = (uint64_t)((double)t->idle_cycles * 1e9 / (double)t->hz);
	return (int)total;
}

/* --- flows, lifecycle ------------------------------------------------------------ */

static int dpdk_flow_open(struct transport *tp, void *ctx, uint32_t *flow)
{
	struct transport_dpdk *t = dpdk_of(tp);
	unsigned bind;
	uint16_t port;

	if (t->n_flows == t->max_flows ||
	    flowport_local(&t->p->plan, t->id, t->n_flows, &bind, &port))
		return -ENOSPC;
	t->flows[t->n_flows].ctx = ctx;
	*flow = t->n_flows++;
	return 0;
}

static void dpdk_thread_exit(struct transport *tp)
{
	struct transport_dpdk *t = dpdk_of(tp);

	if (!t->registered)
		return;
	flush_all(t);
	/* What this lcore's cache holds goes back to the pool before the id is released. */
	rte_mempool_cache_flush(rte_mempool_default_cache(t->p->pool, rte_lcore_id()), t->p->pool);
	rte_thread_unregister();
	t->registered = false;
}

/* The transport's counters into the port's sums (the controller's thread, after the run). */
static void account(struct transport_dpdk *t)
{
	struct transport_dpdk_info *s = &t->p->info;
	const struct dp_l2stats *l2 = dp_l2l3_stats(t->l2);

	s->rx_frames += l2->rx_frames;
	s->rx_hop += l2->rx_hop;
	s->rx_handled += l2->rx_handled;
	s->rx_dropped += dp_l2stats_rx_dropped(l2);
	s->tx_frames += l2->tx_frames;
	s->tx_dropped += dp_l2stats_tx_dropped(l2);
	s->arp_requests_in += l2->arp_requests_in;
	s->arp_replies_out += l2->arp_replies_out;
	s->arp_requests_out += l2->arp_requests_out;
	s->arp_replies_in += l2->arp_replies_in;
	s->nd_solicits_in += l2->nd_solicits_in;
	s->nd_adverts_out += l2->nd_adverts_out;
	s->nd_solicits_out += l2->nd_solicits_out;
	s->nd_adverts_in += l2->nd_adverts_in;
	s->tx_unsent += t->tx_unsent;
	s->tx_waited += t->tx_waited;
	s->neigh_copies += t->neigh_copies;
}

/* Everything @t holds back to the pool, and @t freed. */
static void release(struct transport_dpdk *t)
{
	if (t->n_pend)
		rte_pktmbuf_free_bulk(t->pend, t->n_pend);
	if (t->tx.n)
		rte_pktmbuf_free_bulk(t->tx.m, t->tx.n);
	dp_l2l3_destroy(t->l2);	/* and the packets its neighbour cache holds */
	free(t->flows);
	free(t);
}

static void dpdk_destroy(struct transport *tp)
{
	struct transport_dpdk *t = dpdk_of(tp);

	/* A last offer of what a full ring left waiting; the rest counts as unsent. */
	tx_burst(t);
	if (t->tx.n)
		drop_oldest(t, t->tx.n);
	account(t);
	release(t);
}

static const struct transport_ops dpdk_ops = {
	.name = "dpdk",
	.flow_open = dpdk_flow_open,
	.send = dpdk_send,
	.poll = dpdk_poll,
	.flush = dpdk_flush,
	.thread_exit = dpdk_thread_exit,
	.destroy = dpdk_destroy,
};

/*
 * Know the relay's MAC before the first handshake: INITs sent while it is
 * unknown wait in a queue of DP_NEIGH_QUEUE_LEN and the rest would be lost
 * until the hop layer retransmits. dp_l2l3_resolve() asks (once a second at
 * most); the answer may land on another thread's queue, and that thread
 * copies it here (it polls during its own setup too).
 */
static int resolve(struct transport_dpdk *t, char *err, size_t errlen)
{
	const struct pkt_addr *relay = &t->p->relay;
	uint64_t now = rte_rdtsc();
	uint64_t deadline = now + (uint64_t)((double)t->p->link_timeout_ns * (double)t->hz / 1e9);
	char text[INET6_ADDRSTRLEN];
	bool work;
	int ret;

	for (;;) {
		room(t, 1);
		ret = dp_l2l3_resolve(t->l2, relay->family, relay->addr, &t->tx, mono_ns());
		if (ret != -EAGAIN)
			break;
		flush_all(t);
		now = rte_rdtsc();
		if (now >= deadline) {
			inet_ntop(relay->family == PKT_AF_INET ? AF_INET : AF_INET6, t->p->nh, text,
				  sizeof(text));
			return fail_set(err, errlen, -EHOSTUNREACH,
					"thread %u: no %s answer from %s within %.0f s: is it "
					"on the link of the DPDK port (else give --gateway)?",
					t->id, relay->family == PKT_AF_INET ? "ARP" :
					"neighbour discovery", text,
					(double)t->p->link_timeout_ns / 1e9);
		}
		poll_once(t, NULL, &work);
		tick(t, now);
		flush_all(t);
		if (!work)
			rte_pause();
	}
	flush_all(t);
	if (ret)
		return fail_set(err, errlen, ret, "thread %u: no route to --relay: %s", t->id,
				strerror(-ret));
	return 0;
}

static int pin(const struct transport_dpdk_port *p, unsigned thread)
{
	cpu_set_t set;

	if (!p->n_cpus)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(p->cpus[thread % p->n_cpus], &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int transport_dpdk_create(struct transport **out, struct transport_dpdk_port *p,
			  unsigned thread, uint32_t max_flows, char *err, size_t errlen)
{
	struct transport_dpdk *t;
	const char *why;
	int ret;

	if (thread >= p->threads || !max_flows)
		return fail_set(err, errlen, -EINVAL, "thread %u: no queue pair for it", thread);
	if (max_flows > flowport_capacity(&p->plan))
		return fail_set(err, errlen, -ENOSPC, "thread %u: %u flows, but its share of "
				"source ports is %u: add --bind addresses", thread, max_flows,
				flowport_capacity(&p->plan));
	ret = pin(p, thread);
	if (ret)
		return fail_set(err, errlen, ret, "thread %u: cannot pin it to CPU %u: %s", thread,
				p->cpus[thread % p->n_cpus], strerror(-ret));
	if (rte_thread_register())
		return fail_set(err, errlen, -rte_errno, "thread %u: EAL does not register it: %s",
				thread, rte_strerror(rte_errno));
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = fail_set(err, errlen, -ENOMEM, "thread %u: out of memory", thread);
		goto err_register;
	}
	t->head.ops = &dpdk_ops;
	t->head.stats.polling = true;
	t->p = p;
	t->id = thread;
	t->queue = (uint16_t)thread;
	t->registered = true;
	t->max_flows = max_flows;
	t->hz = rte_get_tsc_hz();
	t->tick_cycles = t->hz / 1000 * TICK_MS;
	dp_txv_init(&t->tx, t->slots, TXV_CAP);
	t->flows = calloc(max_flows, sizeof(*t->flows));
	if (!t->flows) {
		ret = fail_set(err, errlen, -ENOMEM, "thread %u: out of memory for %u flows",
			       thread, max_flows);
		goto err_t;
	}
	ret = dp_l2l3_create(&t->l2, &p->ifc, p->pool, 0, (int)rte_socket_id(), &why);
	if (ret) {
		ret = fail_set(err, errlen, ret, "thread %u: %s", thread, why);
		goto err_t;
	}
	ret = resolve(t, err, errlen);
	if (ret)
		goto err_t;
	*out = &t->head;
	return 0;

err_t:
	release(t);	/* not accounted: other threads may be failing at the same time */
err_register:
	rte_thread_unregister();
	return ret;
}

/* --- the port ----------------------------------------------------------------------- */

static void eal_log(unsigned level, const char *line)
{
	(void)level;
	fprintf(stderr, "relaybench: dpdk: %s\n", line);
}

/* Address text @text of @family into @a (4 or 16 bytes). @return false if not that. */
static bool parse_ip(const char *text, uint8_t family, uint8_t *a)
{
	return inet_pton(family == PKT_AF_INET ? AF_INET : AF_INET6, text, a) == 1;
}

static int parse_relay(struct transport_dpdk_port *p, const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (udp_addr_parse(text, &ss, &len))
		return -EINVAL;
	memset(&p->relay, 0, sizeof(p->relay));
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		p->relay.family = PKT_AF_INET;
		p->relay.port = ntohs(in->sin_port);
		memcpy(p->relay.addr, &in->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

		p->relay.family = PKT_AF_INET6;
		p->relay.port = ntohs(in6->sin6_port);
		memcpy(p->relay.addr, &in6->sin6_addr, 16);
	}
	return 0;
}

/*
 * The port's layer 3 identity: our addresses (host routes); on each, one
 * listener for the ports of every thread's flows (the ports past the last
 * whole block, nobody's, stay closed); the next hop.
 */
static int make_iface(struct transport_dpdk_port *p, const struct transport_dpdk_config *cfg,
		      char *err, size_t errlen)
{
	struct dp_iface *ifc = &p->ifc;
	uint8_t fam = p->relay.family;
	uint8_t *gw = fam == PKT_AF_INET ? ifc->gateway4 : ifc->gateway6;
	const char *why;

	for (unsigned i = 0; i < cfg->n_bind; i++) {
		struct dp_ifaddr *a = &ifc->addrs[i];

		a->family = fam;
		a->prefix_len = fam == PKT_AF_INET ? 32 : 128;
		if (!parse_ip(cfg->bind[i], fam, a->addr))
			return fail_set(err, errlen, -EINVAL,
					"--bind: '%s' is not an %s address like --relay %s",
					cfg->bind[i], fam == PKT_AF_INET ? "IPv4" : "IPv6",
					cfg->relay);
		ifc->listeners[i] = (struct pkt_addr){ .family = fam, .port = FLOWPORT_FIRST };
		ifc->listener_port_hi[i] = flowport_port_hi(&p->plan);
		memcpy(ifc->listeners[i].addr, a->addr, 16);
	}
	ifc->n_addrs = cfg->n_bind;
	ifc->n_listeners = cfg->n_bind;
	/*
	 * Host routes and the relay (or --gateway) as the next hop for all: "taken
	 * as on-link whatever the prefixes say" (iface.h), so no prefix is needed.
	 */
	if (cfg->gateway) {
		if (!parse_ip(cfg->gateway, fam, gw))
			return fail_set(err, errlen, -EINVAL,
					"--gateway: '%s' is not an %s address like --relay %s",
					cfg->gateway, fam == PKT_AF_INET ? "IPv4" : "IPv6",
					cfg->relay);
	} else {
		memcpy(gw, p->relay.addr, fam == PKT_AF_INET ? 4 : 16);
	}
	ifc->mtu = DP_IFACE_MTU_DEFAULT;
	/* Checked now with a stand-in MAC, before EAL starts; again with the port's own. */
	ifc->mac = (struct rte_ether_addr){ .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } };
	if (dp_iface_check(ifc, &why))
		return fail_set(err, errlen, -EINVAL, "--bind/--relay/--gateway: %s", why);
	if (!dp_iface_next_hop(ifc, fam, p->relay.addr, p->nh))
		return fail_set(err, errlen, -EINVAL, "--relay %s: no next hop", cfg->relay);
	return 0;
}

/* The one port EAL made (dataplane/port.h), and our identity on it. */
static int open_port(struct transport_dpdk_port *p, char *err, size_t errlen)
{
	struct dp_port_params pp = {
		.queues = p->threads,
		.queue_users = "fleet threads",
		.rx_desc = RX_DESC,
		.tx_desc = TX_DESC,
		.mtu = DP_IFACE_MTU_DEFAULT,
		.pool = p->pool,
	};
	const struct dp_port_info *pi = &p->port.info;
	const char *why;
	int ret;

	ret = dp_port_open(&p->port, &pp, err, errlen);
	if (ret == -ENODEV && !pp.name) {
		char what[256];

		snprintf(what, sizeof(what), "%s", err);
		return fail_set(err, errlen, ret, "--eal: %s: relaybench drives exactly one "
				"port (give one --vdev=net_memif0,... or "
				"--vdev=net_af_packet0,iface=..., or -a PCI)", what);
	}
	if (ret)
		return ret;
	snprintf(p->info.port, sizeof(p->info.port), "%s", pi->name);
	snprintf(p->info.driver, sizeof(p->info.driver), "%s", pi->driver);
	rte_ether_format_addr(p->info.mac, sizeof(p->info.mac), &pi->mac);
	p->info.queues = pi->queues;
	p->info.rx_desc = pi->rx_desc;
	p->info.tx_desc = pi->tx_desc;
	p->ifc.mac = pi->mac;
	p->ifc.tx_offloads = pi->tx_offloads;
	if (dp_iface_check(&p->ifc, &why))
		return fail_set(err, errlen, -EINVAL, "port %s (%s): %s", pi->name, pi->driver,
				why);
	return 0;
}

static int wait_link(struct transport_dpdk_port *p, char *err, size_t errlen)
{
	if (dp_port_wait_link(&p->port, (unsigned)(p->link_timeout_ns / 1000000)))
		return fail_set(err, errlen, -ETIMEDOUT, "port %s (%s): link still down after "
				"%.0f s%s", p->info.port, p->info.driver,
				(double)p->link_timeout_ns / 1e9,
				!strcmp(p->info.driver, "net_memif") ? " (is the relay, the "
				"memif server, up on that socket, with at least --threads "
				"workers? memif pairs queue i with the server's queue i)" : "");
	p->info.link_up = true;
	p->info.link_speed = p->port.info.link_speed;
	return 0;
}

static int make_rings(struct transport_dpdk_port *p, char *err, size_t errlen)
{
	char name[RTE_RING_NAMESIZE];

	for (unsigned i = 0; i < p->threads; i++) {
		snprintf(name, sizeof(name), "rbd_handoff_%u", i);
		p->ring[i] = rte_ring_create(name, TRANSPORT_DPDK_RING, SOCKET_ID_ANY,
					     RING_F_SC_DEQ);
		if (!p->ring[i])
			return fail_set(err, errlen, -ENOMEM, "thread %u: no handoff ring: %s", i,
					rte_strerror(rte_errno));
	}
	return 0;
}

/* Mbufs one thread may hold: its RX and TX descriptors, vector, pending packets, ring. */
static unsigned mbufs_per_thread(void)
{
	return RX_DESC + TX_DESC + TXV_CAP + PEND_MAX + TRANSPORT_DPDK_RING +
	       DP_NEIGH_QUEUE_LEN;
}

/* EAL with the user's arguments; signals stay with the main thread (eal.h). */
static int start_eal(const struct transport_dpdk_config *cfg, char *err, size_t errlen)
{
	/* Its lcores over the --eal core list (dp_eal_init() maps them; -l is not passed). */
	const struct dp_eal_options opts = {
		.program = "relaybench",
		.file_prefix = "relaybench",
		.args_name = "--eal",
		.cpus = cfg->cpus,
		.n_cpus = cfg->n_cpus,
	};
	struct dp_eal_params ep = {
		.n_workers = 1,		/* EAL needs one; it idles: the fleet threads register */
		.memory_mb = cfg->memory_mb ? cfg->memory_mb : DP_EAL_MEMORY_MB_DEFAULT,
		.extra_args = cfg->eal_args,
		.n_extra = cfg->n_eal_args,
		.log_level = RTE_LOG_ERR,
		.log = eal_log,
		.hugepages = cfg->hugepages,
		.opts = &opts,
	};
	sigset_t all, old;
	char why[256];
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = dp_eal_init(&ep, why, sizeof(why));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		fail_set(err, errlen, ret, "--eal: %s", why);
	return ret;
}

int transport_dpdk_port_create(struct transport_dpdk_port **out,
			       const struct transport_dpdk_config *cfg, char *err, size_t errlen)
{
	struct transport_dpdk_port *p;
	unsigned n;
	int ret;

	if (!cfg->threads || cfg->threads > FLOWPORT_THREADS_MAX || !cfg->n_bind ||
	    cfg->n_bind > FLOWPORT_BIND_MAX || cfg->n_bind > DP_IFACE_ADDRS_MAX ||
	    cfg->n_cpus > TRANSPORT_DPDK_CPUS_MAX)
		return fail_set(err, errlen, -EINVAL,
				"dpdk: 1..%d threads and 1..%d --bind addresses",
				FLOWPORT_THREADS_MAX, DP_IFACE_ADDRS_MAX);
	p = calloc(1, sizeof(*p));
	if (!p)
		return fail_set(err, errlen, -ENOMEM, "out of memory");
	p->threads = cfg->threads;
	p->link_timeout_ns = cfg->link_timeout_ns;
	p->idle = cfg->idle;
	p->n_cpus = cfg->n_cpus;
	memcpy(p->cpus, cfg->cpus, cfg->n_cpus * sizeof(cfg->cpus[0]));
	flowport_plan_init(&p->plan, cfg->threads, cfg->n_bind);
	if (cfg->max_flows > flowport_capacity(&p->plan)) {
		ret = fail_set(err, errlen, -ENOSPC, "--gateways + --agents: %u endpoints per "
			       "thread, but each thread has %u source ports (%u per --bind "
			       "address): add --bind addresses", cfg->max_flows,
			       flowport_capacity(&p->plan), p->plan.span);
		goto err_p;
	}
	if (parse_relay(p, cfg->relay)) {
		ret = fail_set(err, errlen, -EINVAL, "--relay: '%s' is not a numeric ADDR:PORT",
			       cfg->relay);
		goto err_p;
	}
	ret = make_iface(p, cfg, err, errlen);
	if (ret)
		goto err_p;
	ret = start_eal(cfg, err, errlen);
	if (ret)
		goto err_eal;
	snprintf(p->info.file_prefix, sizeof(p->info.file_prefix), "%s", dp_eal_file_prefix());
	n = dp_eal_pool_size(cfg->threads, mbufs_per_thread());
	ret = dp_eal_pool_create_sized(&p->pool, n, RTE_MBUF_DEFAULT_DATAROOM, err, errlen);
	if (ret)
		goto err_eal;
	p->info.pool_size = n;
	ret = open_port(p, err, errlen);
	if (!ret)
		ret = make_rings(p, err, errlen);
	if (!ret)
		ret = wait_link(p, err, errlen);
	if (ret)
		goto err_port;
	*out = p;
	return 0;

err_port:
	transport_dpdk_port_destroy(p, NULL);
	return ret;
err_eal:
	dp_eal_cleanup();
err_p:
	free(p);
	return ret;
}

/* Frames left from a run: on the rings and in the RX queues. @return how many. */
static uint64_t drain(struct transport_dpdk_port *p)
{
	struct rte_mbuf *m[BURST];
	uint64_t n = 0;

	for (unsigned i = 0; i < p->threads; i++) {
		unsigned r;

		while (p->ring[i] && (r = rte_ring_sc_dequeue_burst(p->ring[i], (void **)m, BURST,
								     NULL))) {
			rte_pktmbuf_free_bulk(m, r);
			n += r;
		}
	}
	return n + dp_port_drain(&p->port);
}

void transport_dpdk_port_drain(struct transport_dpdk_port *p)
{
	p->info.stale += drain(p);
}

void transport_dpdk_port_info(const struct transport_dpdk_port *p, struct transport_dpdk_info *out)
{
	struct dp_port_stats st;

	*out = p->info;
	if (p->pool)
		out->in_use = p->pool->size - rte_mempool_avail_count(p->pool);
	if (!dp_port_stats(&p->port, &st)) {
		out->imissed = st.imissed;
		out->ierrors = st.ierrors;
		out->oerrors = st.oerrors;
		out->rx_nombuf = st.rx_nombuf;
	}
}

void transport_dpdk_info_since(struct transport_dpdk_info *now,
			       const struct transport_dpdk_info *before)
{
	uint64_t *a = &now->rx_frames;
	const uint64_t *b = &before->rx_frames;

	/* Every field from rx_frames to the last is a uint64_t counter. */
	for (size_t i = 0; i <= (offsetof(struct transport_dpdk_info, rx_nombuf) -
				 offsetof(struct transport_dpdk_info, rx_frames)) / 8; i++)
		a[i] = a[i] >= b[i] ? a[i] - b[i] : 0;
	now->in_use_before = before->in_use;
}

unsigned transport_dpdk_port_destroy(struct transport_dpdk_port *p,
				     struct transport_dpdk_info *final)
{
	unsigned missing;

	if (!p)
		return 0;
	/*
	 * Linger a moment before the port goes: the last frames sent (the agents'
	 * CHANNEL_CLOSEs) may still wait on a shared ring, and a memif disconnect
	 * discards them; meanwhile what arrives is freed as stale.
	 */
	for (uint64_t end = mono_ns() + LINGER_MS * 1000000ull;
	     p->port.started && mono_ns() < end;) {
		p->info.stale += drain(p);
		usleep(1000);
	}
	p->info.stale += drain(p);
	if (final)
		transport_dpdk_port_info(p, final);
	/* Closing releases the queues and whatever mbufs a device keeps in them. */
	dp_port_close(&p->port);
	for (unsigned i = 0; i < p->threads; i++)
		rte_ring_free(p->ring[i]);
	missing = dp_eal_pool_free(p->pool);
	dp_eal_cleanup();
	free(p);
	return missing;
}
