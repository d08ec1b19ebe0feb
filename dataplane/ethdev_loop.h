/*
 * ethdev_loop.h — the ethdev backend's state and its worker loop, shared by
 * ethdev.c (ports, lifecycle) and ethdev_loop.c (the loop). Internal to
 * dataplane/; the contract is ethdev.h's.
 *
 * Ownership: a struct eth_worker and its eth_queues belong to the worker's
 * lcore while the loop runs, to the main thread before and after. Other
 * threads touch only `asleep` and `wake_fd` (the wake hook) and enqueue to
 * `l2in` (ARP/ND copies; multi-producer, single-consumer).
 */
#ifndef POSTERN_DATAPLANE_ETHDEV_LOOP_H
#define POSTERN_DATAPLANE_ETHDEV_LOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/ethdev.h"
#include "dataplane/iface.h"
#include "dataplane/l2l3.h"
#include "dataplane/port.h"
#include "dataplane/tsclock.h"
#include "dataplane/txv.h"

enum {
	/* Frames a TX vector holds: one RX burst's worst case is DP_L2L3_RX_TXV_MAX(32). */
	ETH_TXV_CAP = 256,
	ETH_TX_FLUSH = 32,		/* hand a vector to the device once this many wait */
	ETH_TX_CHUNK = 64,		/* core packets encapsulated per dp_l2l3_tx() call */
	ETH_L2_RING = 256,		/* ARP/ND copies waiting for one worker */
};

enum eth_worker_state {
	EW_IDLE,			/* not launched */
	EW_STARTING,
	EW_RUNNING,
	EW_DONE,			/* loop returned */
};

/* One worker's queue pair on one port. */
struct eth_queue {
	struct dp_l2l3 *l2;
	uint16_t port_id, queue;
	uint16_t listener_base, n_listeners;
	uint64_t tx_since;		/* TSC when the oldest waiting frame came; 0: none */
	struct dp_txv tx;
	struct rte_mbuf *slots[ETH_TXV_CAP];
};

struct eth_worker {
	/* Written by other threads: its own line, so they do not slow the loop. */
	atomic_int asleep;
	int wake_fd;
	char pad0[RTE_CACHE_LINE_SIZE - sizeof(atomic_int) - sizeof(int)];

	struct dp_ethdev *dp;
	struct relay_worker *rw;
	unsigned id, lcore;
	struct rte_ring *l2in;		/* ARP/ND copies for this worker; mbuf->port: port index */
	atomic_int state;
	bool running;			/* the TX function accepts packets */
	uint64_t now_ns;		/* this iteration's clock, for the TX function */
	struct dp_tsclock clock;	/* now_ns from the TSC */
	uint64_t next_tick_ns;
	uint64_t sleep_ns;		/* the next idle sleep */
	struct dp_ethdev_worker_stats st;
	struct eth_queue q[DP_ETHDEV_MAX_PORTS];
} __rte_cache_aligned;

struct eth_port {
	struct dp_port dev;		/* the device as dp_port_open() set it up */
	struct dp_iface ifc;
	unsigned listener_base, n_listeners;	/* the core's listener ids of this port */
};

struct dp_ethdev {
	struct relay *relay;
	struct rte_mempool *pool;
	enum dp_ethdev_idle idle;
	unsigned n_ports, n_workers, n_listeners;
	struct dp_portconf conf[DP_ETHDEV_MAX_PORTS];
	struct eth_port port[DP_ETHDEV_MAX_PORTS];
	uint64_t drain_tsc, spin_tsc;	/* DP_ETHDEV_TX_DRAIN_US, DP_ETHDEV_IDLE_SPIN_US */
	atomic_bool quit;
	bool launched;
	struct eth_worker *w;
};

/* rte_eal_remote_launch() entry: the loop of worker @arg (a struct eth_worker). */
int dp_ethdev_loop_main(void *arg);

/* relay_tx_fn and relay_wake_fn of a worker (ctx = struct eth_worker). */
uint16_t dp_ethdev_loop_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n);
void dp_ethdev_loop_wake(void *ctx);

#endif /* POSTERN_DATAPLANE_ETHDEV_LOOP_H */
