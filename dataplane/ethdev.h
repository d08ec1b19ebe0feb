/*
 * ethdev.h — the DPDK ethdev backend: the relay core on Ethernet ports,
 * each worker run to completion on its own RX/TX queue pair of every port.
 *
 * For each configured port (dataplane/portconf.h) the backend finds the
 * ethdev EAL created (dp_eal_params.devices) and brings it up with
 * dp_port_open() (dataplane/port.h): one RX and one TX queue per relay
 * worker, RSS over IP addresses and UDP ports where the device offers it
 * (dev_info.flow_type_rss_offloads; otherwise the device spreads the flows
 * itself, or not at all — docs/relay.md lists the virtual devices), the RX
 * and TX checksum offloads the device has; then it waits a moment for the
 * links. Worker i owns queue i of every port, and one dp_l2l3 per port
 * (dataplane/l2l3.h): its own neighbour cache and counters.
 *
 * The worker loop (relay/worker.h's contract, ethdev_loop.c):
 *   for each port: rte_eth_rx_burst → dp_l2l3_rx → relay_worker_rx
 *   ARP/ND copies from other workers → dp_l2l3_rx (learning only)
 *   relay_worker_poll; every 100 ms dp_l2l3_tick
 *   TX: the core's relay_tx_fn → dp_l2l3_tx (the port is the one whose
 *   listener pkt_meta.listener names) → the port's TX vector, handed to
 *   rte_eth_tx_burst when 32 frames wait, when the oldest has waited
 *   DP_ETHDEV_TX_DRAIN_US, or when an iteration received nothing; frames the
 *   device does not take are freed and counted (tx_unsent)
 *   relay_worker_account; idle back-off (below)
 *
 * Listener numbering: pkt_meta.listener as the core sees it runs over all
 * ports, port 0's listeners first (dp_ethdev_port_info.listener_base).
 *
 * Neighbours on a multi-queue port: ARP and ND are not spread by RSS, so an
 * answer to one worker's solicitation may reach another worker's queue. The
 * worker that receives an ARP reply, a gratuitous ARP or a neighbour
 * advertisement copies it to every other worker (an rte_ring each; copies
 * from the pool) and each learns from it in its own cache. Those frames never
 * call for an answer, so nothing is sent twice; requests and solicitations
 * are answered by the worker that receives them. Each worker's cache stays
 * single-owner (no lock, no shared writes on the fast path).
 *
 * Idle: DP_ETHDEV_IDLE_POLL spins forever (lowest latency, a core per
 * worker). DP_ETHDEV_IDLE_SLEEP spins DP_ETHDEV_IDLE_SPIN_US after the last
 * work, then sleeps DP_ETHDEV_SLEEP_MIN_US, doubling each idle round up to
 * DP_ETHDEV_SLEEP_MAX_US, back to spinning at the first packet; another
 * worker's handoff (relay wake hook) or ARP copy cuts the sleep short
 * (eventfd, written only while the worker sleeps).
 *
 * Mbufs: the pool needs dp_ethdev_mbuf_data() bytes of data room (a whole
 * frame) and PKT_PRIV_SIZE private bytes; dp_ethdev_mbufs_per_worker() is the
 * backend's share per worker. dp_ethdev_destroy() returns every mbuf the
 * backend or the devices hold (RX queues drained, TX vectors and neighbour
 * queues freed, ports stopped and closed).
 *
 * Threads: everything on the main thread; dp_ethdev_wake_all() from any
 * thread; the stats getters from any thread (values a little stale), those
 * that ask the device (dp_ethdev_port_stats, dp_ethdev_metrics) from one
 * thread at a time.
 */
#ifndef POSTERN_DATAPLANE_ETHDEV_H
#define POSTERN_DATAPLANE_ETHDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "dataplane/l2stats.h"
#include "dataplane/port.h"
#include "dataplane/portconf.h"
#include "relay/pkt.h"

struct rte_mempool;
struct relay;
struct dp_ethdev;
struct metrics_backend;

enum dp_ethdev_idle {
	DP_ETHDEV_IDLE_SLEEP,
	DP_ETHDEV_IDLE_POLL,
};

enum {
	DP_ETHDEV_MAX_PORTS = DP_PORTCONF_MAX_PORTS,
	DP_ETHDEV_RX_DESC = DP_PORT_RX_DESC,	/* asked for; the device may adjust */
	DP_ETHDEV_TX_DESC = DP_PORT_TX_DESC,
	DP_ETHDEV_TX_DRAIN_US = 100,
	DP_ETHDEV_IDLE_SPIN_US = 50,
	DP_ETHDEV_SLEEP_MIN_US = 20,
	DP_ETHDEV_SLEEP_MAX_US = 500,
	DP_ETHDEV_LINK_WAIT_MS = 3000,		/* default wait for links to come up */
	DP_ETHDEV_TICK_MS = 100,		/* neighbour cache housekeeping */
};

struct dp_ethdev_params {
	const struct dp_portconf *ports;	/* copied; each passes dp_portconf_check() */
	unsigned n_ports;			/* 1..DP_ETHDEV_MAX_PORTS */
	const struct pkt_addr *listen;	/* the relay's listen addresses (portconf.h) */
	unsigned n_listen;
	enum dp_ethdev_idle idle;
	unsigned link_wait_ms;			/* 0: DP_ETHDEV_LINK_WAIT_MS */
	struct rte_mempool *pool;		/* borrowed */
	struct relay *relay;			/* borrowed; one queue pair per worker */
};

/* A port as the backend set it up. */
struct dp_ethdev_port_info {
	char name[DP_PORTCONF_NAME_MAX];	/* ethdev name */
	char driver[32];			/* e.g. "net_af_packet" */
	uint16_t port_id;
	struct rte_ether_addr mac;
	unsigned queues;			/* RX = TX = workers */
	uint16_t rx_desc, tx_desc;
	uint64_t rss_hf;			/* RSS hash types programmed; 0: none */
	uint64_t rx_offloads, tx_offloads;	/* RTE_ETH_{RX,TX}_OFFLOAD_* enabled */
	uint16_t mtu;
	unsigned listener_base, n_listeners;	/* the core's listener ids of this port */
	bool link_up;				/* when dp_ethdev_create() returned */
	uint32_t link_speed;			/* Mb/s; 0 unknown */
};

/* One worker's backend counters, over all its ports. */
struct dp_ethdev_worker_stats {
	uint64_t rx_frames;		/* frames received from the devices */
	uint64_t tx_frames;		/* frames the devices took */
	uint64_t tx_unsent;		/* frames a device refused (queue full): freed */
	uint64_t tx_bad_listener;	/* core packets naming no listener: freed */
	uint64_t l2_copies_out;		/* ARP replies / NAs copied to other workers */
	uint64_t l2_copies_in;		/* copies from other workers learned from */
	uint64_t l2_copy_failed;	/* no mbuf for a copy, or its ring was full */
	uint64_t sleeps, wakeups;	/* idle sleeps, and those cut short by a wake */
};

/* "sleep" / "poll". */
const char *dp_ethdev_idle_name(enum dp_ethdev_idle idle);

/* @return 0 and *@out for "sleep" or "poll", -EINVAL otherwise. */
int dp_ethdev_idle_parse(const char *name, enum dp_ethdev_idle *out);

/* Mbufs the backend may hold per worker with @n_ports ports, for sizing the pool. */
unsigned dp_ethdev_mbufs_per_worker(unsigned n_ports);

/* Data room (after the headroom) an mbuf needs for a whole frame of any of @ports. */
unsigned dp_ethdev_mbuf_data(const struct dp_portconf *ports, unsigned n_ports);

/*
 * Set up and start every port: find it, configure its queues, offloads and
 * RSS, start it, wait up to link_wait_ms for its link (a link still down is
 * not an error: dp_ethdev_port_info() says so), and build each worker's
 * layer 2 state. Nothing runs yet.
 * @return 0; -ENODEV (no such port), -EINVAL (the device cannot do what the
 * configuration asks: queues, MTU, frame size), -ENOMEM, or a device's
 * -errno; @err says which port and why.
 */
int dp_ethdev_create(struct dp_ethdev **out, const struct dp_ethdev_params *p,
		     char *err, size_t errlen);

/*
 * Attach the TX and wake functions to every relay worker and launch worker i
 * on EAL worker lcore i+1. Returns once every worker runs (0), or -errno
 * with @err after stopping those that did.
 */
int dp_ethdev_start(struct dp_ethdev *s, char *err, size_t errlen);

/* Wake every sleeping worker now (e.g. after relay_drain()). */
void dp_ethdev_wake_all(struct dp_ethdev *s);

/*
 * Ask every worker to return and wait for them; each frees what it holds
 * (TX vectors, ARP/ND copies). Ports keep running. Idempotent.
 */
void dp_ethdev_stop(struct dp_ethdev *s);

/*
 * Stop (if needed), drain every RX queue, stop and close every port, free the
 * layer 2 state (and any packet a neighbour cache still holds) and detach from
 * the relay's workers. NULL: no-op.
 */
void dp_ethdev_destroy(struct dp_ethdev *s);

unsigned dp_ethdev_port_count(const struct dp_ethdev *s);

/* @return 0 and *@out, or -ENOENT for a port index out of range. */
int dp_ethdev_port_info(const struct dp_ethdev *s, unsigned port,
			struct dp_ethdev_port_info *out);

/* The device's counters. @return 0, -ENOENT, or the device's -errno. */
int dp_ethdev_port_stats(const struct dp_ethdev *s, unsigned port,
			 struct dp_port_stats *out);

/* A copy of worker @worker's counters (zero for an index out of range). */
void dp_ethdev_worker_stats(const struct dp_ethdev *s, unsigned worker,
			    struct dp_ethdev_worker_stats *out);

/* Worker @worker's layer 2 counters on @port; NULL for indexes out of range. */
const struct dp_l2stats *dp_ethdev_l2stats(const struct dp_ethdev *s, unsigned worker,
					   unsigned port);

/* Every worker's layer 2 counters on @port, added up into @sum. */
void dp_ethdev_l2stats_total(const struct dp_ethdev *s, unsigned port, struct dp_l2stats *sum);

/*
 * /metrics (relay/metrics.h): fill @out->ports with every port's name, its
 * device's counters (dp_ethdev_port_stats(); have_device false if the device
 * would not tell) and its workers' layer 2 counters added up. The workers
 * pay nothing for it: their counters are plain single-writer fields this
 * reads as they are (a little stale), and rte_eth_stats_get() runs beside
 * their bursts. Call it, like dp_ethdev_port_stats(), from one thread only
 * (the control loop's): some PMDs keep totals of their own in stats_get
 * (af_packet adds up the kernel's drop counts, which reading resets).
 */
void dp_ethdev_metrics(const struct dp_ethdev *s, struct metrics_backend *out);

#endif /* POSTERN_DATAPLANE_ETHDEV_H */
