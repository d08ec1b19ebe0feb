/*
 * worker.h — what a backend's worker loop calls, on the worker's own thread.
 *
 * A backend's loop, for one worker (see dataplane/):
 *
 *	relay_worker_attach(w, my_tx, my_ctx);          once, before the loop
 *	for (;;) {
 *		n = backend_rx_burst(pkts, BURST);           mbufs: data = hop packet, meta filled
 *		if (n) relay_worker_rx(w, pkts, n, now_ns);  consumes all n
 *		work = relay_worker_poll(w, now_ns);         handoff ring, timers, TX flush
 *		relay_worker_account(w, cycles, n, !!(n + work));
 *	}
 *
 * TX: the core collects packets to send in a per-worker buffer and calls the
 * attached relay_tx_fn when the buffer fills and at the end of every
 * relay_worker_rx() and relay_worker_poll().
 * The backend's function takes ownership of the first k mbufs it returns; the
 * core frees the rest and counts them as tx_full drops. Each mbuf's pkt_meta
 * names the peer and the listener to send from.
 *
 * Time: now_ns is a monotonic clock in nanoseconds, read by the backend once per
 * burst. The core never reads a clock (tests drive it with a fake one).
 */
#ifndef POSTERN_RELAY_WORKER_H
#define POSTERN_RELAY_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct relay_worker;

enum {
	RELAY_BURST = 32,	/* packets per RX burst a backend should offer */
};

/* @return how many of @pkts the backend took; it owns those, the caller the rest. */
typedef uint16_t (*relay_tx_fn)(void *ctx, struct rte_mbuf **pkts, uint16_t n);

/* Set the worker's transmit function. Before the worker's loop starts. */
void relay_worker_attach(struct relay_worker *w, relay_tx_fn tx, void *ctx);

/*
 * Set the worker's wake function. The core calls it, from another worker's
 * thread, after it has enqueued packets or messages for this worker, so a
 * backend that sleeps while idle (poll/epoll) wakes up. It must be cheap and
 * thread-safe (e.g. write an eventfd only if the worker is asleep). Optional:
 * a busy-polling backend leaves it unset.
 */
typedef void (*relay_wake_fn)(void *ctx);
void relay_worker_set_wake(struct relay_worker *w, relay_wake_fn wake, void *ctx);

/* Process received packets. Consumes all @n mbufs (forwarded, answered, or freed). */
void relay_worker_rx(struct relay_worker *w, struct rte_mbuf **pkts, uint16_t n, uint64_t now_ns);

/*
 * Everything that is not a received burst: packets and messages handed over by
 * other workers, timers that are due, drain requests, sessions a new trust
 * store condemns (relay_trust_*() in relay.h), and a TX flush.
 * It is also the worker's RCU quiescent state (relay/directory.h): call it
 * between bursts and at least every few milliseconds while idle; a worker
 * that sleeps longer only delays the freeing of retired table entries.
 * @return the amount of work done (0 = idle), so the backend can back off.
 */
unsigned relay_worker_poll(struct relay_worker *w, uint64_t now_ns);

/* Record the cost of one loop iteration (TSC cycles) for cycles-per-packet. */
void relay_worker_account(struct relay_worker *w, uint64_t cycles, unsigned packets, bool busy);

/* The worker's index, 0..n_workers-1. */
unsigned relay_worker_id(const struct relay_worker *w);

#endif /* POSTERN_RELAY_WORKER_H */
