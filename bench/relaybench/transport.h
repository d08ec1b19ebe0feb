/*
 * transport.h — how relaybench's emulated endpoints reach the relay: one
 * "flow" (its own source address and port) per endpoint, packets out, and
 * batches of received packets handed back per flow.
 *
 * The fleet (worker.c) sees only this interface, so another transport can
 * replace kernel UDP without touching it:
 *
 *	transport_udp_create()   kernel UDP: one connected socket per flow,
 *	                         epoll; works against any relay (transport_udp.c)
 *	transport_dpdk_create()  a DPDK port (net_memif, net_af_packet, a NIC):
 *	                         the fleet's own Ethernet/IP/UDP, one source
 *	                         port per flow, one queue pair per thread, busy
 *	                         polling (transport_dpdk.h)
 *
 * Usage, one transport per fleet thread:
 *
 *	transport_flow_open(t, ep, &flow)      for each endpoint
 *	transport_send(t, flow, pkt, len)      from the hop client's send callback:
 *	                                       queued, sent in bursts per flow
 *	transport_poll(t, wait_ns, on_rx)      once per loop turn: sends what is
 *	                                       queued, waits up to wait_ns for
 *	                                       packets, calls on_rx for each (and
 *	                                       sends what they queued), returns
 *	transport_flush(t)                     send what is queued now
 *	transport_thread_exit(t)               on the owning thread, last: it is
 *	                                       done with the transport
 *	transport_destroy(t)                   from any thread, after that
 *
 * A transport only ever sends to the one relay address it was created with.
 *
 * Errors: int functions return 0 (or a count) or -errno.
 * Threads: a transport belongs to one thread, which calls everything up to
 * transport_thread_exit(); then another thread may read its stats and
 * destroy it. Nothing locks.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_TRANSPORT_H
#define POSTERN_BENCH_RELAYBENCH_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct transport;

enum {
	TRANSPORT_BIND_MAX = 16,	/* local addresses a UDP transport spreads flows over */
};

/*
 * One received packet for the flow opened with @flow_ctx. @pkt is scratch
 * (the hop client decrypts in place), valid until the callback returns.
 * @now_ns: the monotonic clock read once for the batch.
 */
typedef void (*transport_rx_fn)(void *flow_ctx, uint8_t *pkt, size_t len, uint64_t now_ns);

/* Counters since create, for the generator's own report. */
struct transport_stats {
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_errors;		/* refused by the kernel/driver (full buffer, ...),
					 * or dropped on the way (no route, unresolved MAC) */
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_errors;		/* receive errors, truncated datagrams; DPDK: hop
					 * packets for no open flow or not from the relay */
	uint64_t rx_calls, waits;	/* receive syscalls (or bursts); sleeps in the poller */
	/*
	 * Polling transports (DPDK). A poll loop uses all of its CPU whatever
	 * the load, so its CPU time says nothing; the time its iterations found
	 * nothing to do does: busy = 1 - idle_ns / wall time.
	 */
	bool polling;			/* the transport busy-polls: read idle_ns, not CPU */
	uint64_t polls_busy, polls_idle;	/* iterations that found frames / nothing */
	uint64_t idle_ns;		/* time in idle iterations (and idle sleeps) */
	/* Frames for another thread's flow: passed on its ring (out), taken from ours (in). */
	uint64_t handoffs_out, handoffs_in;
	uint64_t handoff_drops;		/* the owner's ring was full: freed */
};

struct transport_ops {
	const char *name;
	int (*flow_open)(struct transport *t, void *flow_ctx, uint32_t *flow);
	int (*send)(struct transport *t, uint32_t flow, const uint8_t *pkt, size_t len);
	int (*poll)(struct transport *t, uint64_t wait_ns, transport_rx_fn rx);
	void (*flush)(struct transport *t);
	void (*thread_exit)(struct transport *t);	/* may be NULL */
	void (*destroy)(struct transport *t);
};

/* The head of every transport; implementations embed it first. */
struct transport {
	const struct transport_ops *ops;
	struct transport_stats stats;
};

struct transport_udp_config {
	const char *relay;		/* numeric "ADDR:PORT" or "[V6]:PORT" */
	const char *const *bind;	/* local addresses, round robin over flows; may be NULL */
	unsigned n_bind;
	uint32_t max_flows;
	int socket_buffer;		/* bytes of SO_RCVBUF/SO_SNDBUF per socket (best effort) */
};

/*
 * Kernel UDP: each flow is a nonblocking socket bound to the next --bind
 * address (or none) and connect()ed to the relay, so the kernel picks a
 * distinct source port and delivers only the relay's packets to it. Queued
 * packets leave with one sendmmsg() per run of packets of one flow.
 * @return 0 and *@out, -EINVAL (bad address), -ENOMEM, or epoll's -errno.
 */
int transport_udp_create(struct transport **out, const struct transport_udp_config *cfg);

/*
 * Open a flow for @flow_ctx (passed back to the rx callback). @return 0 and
 * *@flow, -ENOSPC (max_flows reached), -EMFILE (no file descriptors left), or
 * another -errno of socket()/bind()/connect().
 */
static inline int transport_flow_open(struct transport *t, void *flow_ctx, uint32_t *flow)
{
	return t->ops->flow_open(t, flow_ctx, flow);
}

/*
 * Queue one packet on @flow (copied). Queued packets go out at the latest on
 * the next transport_poll() or transport_flush(), back to back per flow; a
 * packet refused then is counted in stats.tx_errors (the hop layer is
 * unreliable: nothing is retried). @return 0, or -errno when the packet could
 * not even be queued.
 */
static inline int transport_send(struct transport *t, uint32_t flow, const uint8_t *pkt,
				 size_t len)
{
	return t->ops->send(t, flow, pkt, len);
}

/*
 * Deliver what has arrived, waiting up to @wait_ns (0: do not wait) for the
 * first packet. @return how many packets were delivered, or -errno.
 */
static inline int transport_poll(struct transport *t, uint64_t wait_ns, transport_rx_fn rx)
{
	return t->ops->poll(t, wait_ns, rx);
}

/* Send every queued packet now. */
static inline void transport_flush(struct transport *t)
{
	t->ops->flush(t);
}

/*
 * The owning thread is done with @t (it sends what is queued, and releases
 * what it holds as that thread); call it on that thread before it returns.
 * NULL is a no-op.
 */
static inline void transport_thread_exit(struct transport *t)
{
	if (t && t->ops->thread_exit)
		t->ops->thread_exit(t);
}

/* Close every flow and free @t (queued packets are dropped). NULL is a no-op. */
static inline void transport_destroy(struct transport *t)
{
	if (t)
		t->ops->destroy(t);
}

#endif /* POSTERN_BENCH_RELAYBENCH_TRANSPORT_H */
