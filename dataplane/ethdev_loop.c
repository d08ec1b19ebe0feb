/*
 * ethdev_loop.c — the ethdev backend's worker loop (ethdev.h): receive,
 * classify, hand to the core, transmit in batches, copy neighbour answers to
 * the other workers, back off when idle.
 *
 * One iteration, in phases (the shape of DPDK's l3fwd, with relay/worker.h's
 * calls in the middle):
 *
 *   1. clock: the TSC, for batching and accounting and (scaled by tsclock.h,
 *      which reads CLOCK_MONOTONIC once a millisecond) for the core
 *   2. each port: rx burst → copy neighbour answers out → dp_l2l3_rx →
 *      relay_worker_rx (the core's TX function appends to the TX vectors)
 *   3. ARP/ND copies from the other workers → dp_l2l3_rx
 *   4. relay_worker_poll: handoffs, timers, drain, the core's TX flush
 *   5. every DP_ETHDEV_TICK_MS: dp_l2l3_tick (neighbour cache housekeeping)
 *   6. TX: a vector goes to the device when ETH_TX_FLUSH frames wait, when
 *      its oldest frame has waited DP_ETHDEV_TX_DRAIN_US, or when this
 *      iteration received nothing (no more frames to batch with)
 *   7. idle back-off (sleep mode), then relay_worker_account
 */
#define _GNU_SOURCE	/* ppoll */

#include "dataplane/ethdev_loop.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "dataplane/nd.h"
#include "relay/relay.h"
#include "relay/worker.h"

enum {
	ETH_LEN = sizeof(struct rte_ether_hdr),
	ARP_LEN = sizeof(struct rte_arp_hdr),
	IP6_LEN = sizeof(struct rte_ipv6_hdr),
	NO_PORT = 0xff,
};

/* ---- TX ------------------------------------------------------------------ */

/* Hand the vector to the device; what it does not take is freed and counted. */
static void flush(struct eth_worker *w, struct eth_queue *q)
{
	uint16_t n = (uint16_t)q->tx.n, sent;

	q->tx_since = 0;
	if (!n)
		return;
	sent = rte_eth_tx_burst(q->port_id, q->queue, q->tx.m, n);
	w->st.tx_frames += sent;
	if (sent < n) {
		rte_pktmbuf_free_bulk(q->tx.m + sent, n - sent);
		w->st.tx_unsent += n - sent;
	}
	q->tx.n = 0;
}

/* Make room for @need frames, so that dp_l2l3 never has to drop for want of it. */
static void room(struct eth_worker *w, struct eth_queue *q, unsigned need)
{
	if (q->tx.cap - q->tx.n < need)
		flush(w, q);
}

/* Start the drain clock when the vector stops being empty. */
static void queued(struct eth_queue *q, uint64_t tsc)
{
	if (q->tx.n && !q->tx_since)
		q->tx_since = tsc;
}

/* The port whose listeners include the core's listener id @l. */
static unsigned port_of(const struct eth_worker *w, unsigned l)
{
	for (unsigned p = 0; p < w->dp->n_ports; p++)
		if (l - w->q[p].listener_base < w->q[p].n_listeners)
			return p;
	return NO_PORT;
}

/* Encapsulate @n core packets, all for port @q, onto its vector. Consumes all. */
static void send_run(struct eth_worker *w, struct eth_queue *q, struct rte_mbuf **pkts,
		     unsigned n)
{
	while (n) {
		unsigned k = n < ETH_TX_CHUNK ? n : ETH_TX_CHUNK;

		room(w, q, DP_L2L3_TX_TXV_MAX(k));
		dp_l2l3_tx(q->l2, pkts, k, &q->tx, w->now_ns);
		queued(q, rte_rdtsc());
		if (q->tx.n >= ETH_TX_FLUSH)
			flush(w, q);
		pkts += k;
		n -= k;
	}
}

/*
 * relay_tx_fn. Takes all @n: runs of packets for one port are encapsulated
 * together; the listener id goes back to the port's own numbering on the way.
 */
uint16_t dp_ethdev_loop_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct eth_worker *w = ctx;
	unsigned i = 0;

	/* After the loop ended (relay_destroy flushing), refuse: the core frees them. */
	if (!w->running)
		return 0;
	while (i < n) {
		unsigned p = port_of(w, pkt_meta(pkts[i])->listener), j = i;

		if (p == NO_PORT) {
			rte_pktmbuf_free(pkts[i++]);
			w->st.tx_bad_listener++;
			continue;
		}
		for (; j < n; j++) {
			struct pkt_meta *meta = pkt_meta(pkts[j]);

			if (port_of(w, meta->listener) != p)
				break;
			meta->listener = (uint16_t)(meta->listener - w->q[p].listener_base);
		}
		send_run(w, &w->q[p], pkts + i, j - i);
		i = j;
	}
	return n;
}

/* ---- neighbour answers for every worker ---------------------------------- */

/*
 * Frames that teach a neighbour's MAC without asking anything back: ARP
 * replies, gratuitous ARP (sender = target, RFC 5227 announcements) and
 * neighbour advertisements. Only the worker that solicited needs the answer,
 * but RSS does not know which one that is. Requests and solicitations are
 * not copied: the receiving worker answers them, once.
 */
static bool teaches_neighbour(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	unsigned len = rte_pktmbuf_data_len(m);

	if (m->nb_segs != 1 || len < ETH_LEN)
		return false;
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);

		if (len < ETH_LEN + ARP_LEN)
			return false;
		return arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY) ||
		       arp->arp_data.arp_sip == arp->arp_data.arp_tip;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

		if (len < ETH_LEN + IP6_LEN + 4)
			return false;
		return ip->proto == IPPROTO_ICMPV6 &&
		       *(const uint8_t *)(ip + 1) == DP_ND_ADVERT;
	}
	return false;
}

static void copy_to_others(struct eth_worker *w, unsigned port, const struct rte_mbuf *m)
{
	struct dp_ethdev *dp = w->dp;

	for (unsigned o = 0; o < dp->n_workers; o++) {
		struct eth_worker *other = &dp->w[o];
		struct rte_mbuf *c;

		if (other == w)
			continue;
		c = rte_pktmbuf_copy(m, dp->pool, 0, UINT32_MAX);
		if (!c) {
			w->st.l2_copy_failed++;
			continue;
		}
		c->port = (uint16_t)port;
		if (rte_ring_mp_enqueue(other->l2in, c)) {
			rte_pktmbuf_free(c);
			w->st.l2_copy_failed++;
			continue;
		}
		w->st.l2_copies_out++;
		dp_ethdev_loop_wake(other);
	}
}

/* Learn from the copies other workers sent. @return how many. */
static unsigned take_copies(struct eth_worker *w, uint64_t now, uint64_t tsc)
{
	struct rte_mbuf *in[RELAY_BURST], *hop[1];
	unsigned n = rte_ring_sc_dequeue_burst(w->l2in, (void **)in, RELAY_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct eth_queue *q = &w->q[in[i]->port < w->dp->n_ports ? in[i]->port : 0];

		room(w, q, DP_L2L3_RX_TXV_MAX(1));
		/* Neither ARP nor ND is a hop packet: nothing comes out for the core. */
		if (dp_l2l3_rx(q->l2, &in[i], 1, hop, &q->tx, now))
			rte_pktmbuf_free(hop[0]);
		queued(q, tsc);
	}
	w->st.l2_copies_in += n;
	return n;
}

/* ---- RX ------------------------------------------------------------------ */

/* Phase 2 for one port. @return the frames received. */
static unsigned rx_port(struct eth_worker *w, unsigned p, uint64_t now, uint64_t tsc)
{
	struct eth_queue *q = &w->q[p];
	struct rte_mbuf *rx[RELAY_BURST], *hop[RELAY_BURST];
	uint16_t n = rte_eth_rx_burst(q->port_id, q->queue, rx, RELAY_BURST);
	unsigned nh;

	if (!n)
		return 0;
	w->st.rx_frames += n;
	if (w->dp->n_workers > 1)
		for (unsigned i = 0; i < n; i++)
			if (teaches_neighbour(rx[i]))
				copy_to_others(w, p, rx[i]);
	room(w, q, DP_L2L3_RX_TXV_MAX(n));
	nh = dp_l2l3_rx(q->l2, rx, n, hop, &q->tx, now);
	queued(q, tsc);
	for (unsigned i = 0; i < nh; i++)
		pkt_meta(hop[i])->listener = (uint16_t)(pkt_meta(hop[i])->listener +
							q->listener_base);
	if (nh)
		relay_worker_rx(w->rw, hop, (uint16_t)nh, now);
	return n;
}

/* Phase 5. */
static void tick(struct eth_worker *w, uint64_t now, uint64_t tsc)
{
	if (now < w->next_tick_ns)
		return;
	w->next_tick_ns = now + DP_ETHDEV_TICK_MS * 1000000ull;
	for (unsigned p = 0; p < w->dp->n_ports; p++) {
		struct eth_queue *q = &w->q[p];

		/* A tick solicits each unresolved neighbour: give it the whole vector. */
		flush(w, q);
		dp_l2l3_tick(q->l2, &q->tx, now);
		queued(q, tsc);
	}
}

/* Phase 6. */
static void drain(struct eth_worker *w, bool idle, uint64_t tsc)
{
	for (unsigned p = 0; p < w->dp->n_ports; p++) {
		struct eth_queue *q = &w->q[p];

		if (q->tx.n && (idle || q->tx.n >= ETH_TX_FLUSH ||
				tsc - q->tx_since >= w->dp->drain_tsc))
			flush(w, q);
	}
}

/* ---- idle ---------------------------------------------------------------- */

/*
 * relay_wake_fn, also called after an ARP/ND copy is enqueued. Pairs with
 * worker_sleep(): the waker's enqueue, then this fence, then the load of
 * asleep; the sleeper's store of asleep, then its fence, then one more look
 * at the core and the copy ring. Either the sleeper sees the item, or the
 * waker sees asleep and writes the eventfd.
 */
void dp_ethdev_loop_wake(void *ctx)
{
	struct eth_worker *w = ctx;

	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&w->asleep, memory_order_relaxed))
		eventfd_write(w->wake_fd, 1);
}

/* @return the work the last look found (0 if the worker slept). */
static unsigned worker_sleep(struct eth_worker *w, uint64_t now)
{
	struct timespec ts = {
		.tv_sec = (time_t)(w->sleep_ns / 1000000000u),
		.tv_nsec = (long)(w->sleep_ns % 1000000000u),
	};
	struct pollfd pfd = { .fd = w->wake_fd, .events = POLLIN };
	eventfd_t v;
	unsigned work;

	atomic_store_explicit(&w->asleep, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	work = relay_worker_poll(w->rw, now) + rte_ring_count(w->l2in);
	if (!work && !atomic_load_explicit(&w->dp->quit, memory_order_relaxed)) {
		w->st.sleeps++;
		if (ppoll(&pfd, 1, &ts, NULL) > 0 && eventfd_read(w->wake_fd, &v) == 0)
			w->st.wakeups++;
		/* Packets may have queued up meanwhile: sleep longer only while none come. */
		w->sleep_ns = RTE_MIN(2 * w->sleep_ns, DP_ETHDEV_SLEEP_MAX_US * 1000ull);
	}
	atomic_store_explicit(&w->asleep, 0, memory_order_relaxed);
	return work;
}

static void worker_loop(struct eth_worker *w)
{
	const bool sleepy = w->dp->idle == DP_ETHDEV_IDLE_SLEEP;
	uint64_t idle_since = 0;

	w->sleep_ns = DP_ETHDEV_SLEEP_MIN_US * 1000ull;
	while (!atomic_load_explicit(&w->dp->quit, memory_order_relaxed)) {
		uint64_t t0 = rte_rdtsc(), now = dp_tsclock_ns(&w->clock, t0);
		unsigned n = 0, work;

		w->now_ns = now;
		for (unsigned p = 0; p < w->dp->n_ports; p++)
			n += rx_port(w, p, now, t0);
		work = take_copies(w, now, t0);
		work += relay_worker_poll(w->rw, now);
		tick(w, now, t0);
		drain(w, n == 0, rte_rdtsc());

		if (n || work) {
			idle_since = 0;
			w->sleep_ns = DP_ETHDEV_SLEEP_MIN_US * 1000ull;
		} else if (!sleepy) {
			/* poll mode: spin */
		} else if (!idle_since) {
			idle_since = t0;
		} else if (t0 - idle_since >= w->dp->spin_tsc) {
			work = worker_sleep(w, now);
			if (work)
				drain(w, true, rte_rdtsc());
		}
		relay_worker_account(w->rw, rte_rdtsc() - t0, n, n || work);
	}
}

/* Give back what the worker holds: the copy ring and the TX vectors (sent if possible). */
static void worker_release(struct eth_worker *w)
{
	struct rte_mbuf *m;

	while (rte_ring_sc_dequeue(w->l2in, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	for (unsigned p = 0; p < w->dp->n_ports; p++)
		flush(w, &w->q[p]);
}

int dp_ethdev_loop_main(void *arg)
{
	struct eth_worker *w = arg;

	w->next_tick_ns = 0;
	/* rte_get_tsc_hz() is in range on any host EAL starts on: cannot fail. */
	dp_tsclock_init(&w->clock, rte_get_tsc_hz(), rte_rdtsc());
	w->running = true;
	atomic_store(&w->state, EW_RUNNING);

	worker_loop(w);

	w->running = false;
	worker_release(w);
	atomic_store(&w->state, EW_DONE);
	return 0;
}
