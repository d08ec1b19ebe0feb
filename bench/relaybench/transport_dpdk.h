/*
 * transport_dpdk.h — relaybench's DPDK transport: the fleet on one DPDK port
 * (net_memif against a relay's DPDK backend, net_af_packet on a veth or NIC
 * against any relay, or a real NIC), with the fleet's own Ethernet, IP and
 * UDP headers, so that no kernel socket limits the rate.
 *
 * Two objects:
 *
 *	struct transport_dpdk_port   once per process, on the main thread: EAL
 *	                             (dataplane/eal.h), the mbuf pool, the port
 *	                             with one RX/TX queue pair per fleet thread,
 *	                             and one handoff ring per thread. Outlives
 *	                             every run of a sweep.
 *	struct transport (dpdk)      one per fleet thread and run, made on that
 *	                             thread: queue pair i, its own Ethernet/IP
 *	                             layer (dataplane/l2l3.h: ARP/ND answers, the
 *	                             relay's MAC, headers and checksums)
 *
 * Addresses: the fleet's addresses are the --bind addresses, on the port
 * only (the kernel does not know them); relaybench answers ARP and neighbour
 * solicitations for them. Flow k of thread i sends from the address and
 * port flowport.h assigns. The relay is on-link, or behind @gateway.
 *
 * Demultiplexing: a reply may arrive on any queue (a relay sends it from
 * whichever of its workers handles it; af_packet fans out by its own hash).
 * Each thread sorts what its queue receives by destination (address, port):
 * frames for another thread's flow go to that thread's ring (handoffs_out;
 * handoff_drops when full, never silently), ARP replies and neighbour
 * advertisements are copied to every other thread (each has its own
 * neighbour cache), the rest is its own.
 *
 * Polling: transport_poll() spins on the queue and the ring until a frame
 * arrives or the wait ends (TRANSPORT_DPDK_SLEEP: short sleeps after a spin
 * of TRANSPORT_DPDK_SPIN_US). stats.polling is set: the busy fraction, not
 * the thread's CPU time, says how loaded the thread is.
 *
 * Threads: transport_dpdk_port_create(), _port_info() and _port_destroy()
 * on the main thread, with no fleet thread running (except _port_info());
 * transport_dpdk_create() on the fleet thread that will own the transport:
 * it registers that thread with EAL (rte_thread_register) and pins it to
 * the thread's CPU; transport_thread_exit() unregisters it.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_TRANSPORT_DPDK_H
#define POSTERN_BENCH_RELAYBENCH_TRANSPORT_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/relaybench/transport.h"

struct transport_dpdk_port;

enum transport_dpdk_idle {
	TRANSPORT_DPDK_POLL,		/* spin until the wait ends: lowest latency */
	TRANSPORT_DPDK_SLEEP,		/* spin a little, then sleep in short steps */
};

enum {
	TRANSPORT_DPDK_CPUS_MAX = 256,
	TRANSPORT_DPDK_SPIN_US = 50,
	TRANSPORT_DPDK_SLEEP_MAX_US = 200,
	TRANSPORT_DPDK_RING = 4096,	/* handoff ring per thread, frames */
};

struct transport_dpdk_config {
	/* EAL: the user's arguments less the core list, -m and --no-huge, given here. */
	const char *const *eal_args;
	unsigned n_eal_args;
	unsigned memory_mb;		/* 0: DP_EAL_MEMORY_MB_DEFAULT */
	bool hugepages;
	const uint16_t *cpus;		/* -l: where relaybench runs; fleet thread i on */
	unsigned n_cpus;		/* cpus[i % n_cpus]. 0: anywhere, unpinned */
	/* The network. */
	const char *relay;		/* numeric "ADDR:PORT" or "[V6]:PORT" */
	const char *const *bind;	/* our addresses on the port, same family */
	unsigned n_bind;
	const char *gateway;		/* next hop to the relay; NULL: the relay is on-link */
	unsigned threads;		/* queue pairs */
	uint32_t max_flows;		/* the most flows one thread opens */
	uint64_t link_timeout_ns;	/* wait for the link, and for the relay's MAC */
	enum transport_dpdk_idle idle;
};

/* The port and its counters, for reports; counters summed over the transports destroyed. */
struct transport_dpdk_info {
	char port[64], driver[32], mac[18], file_prefix[64];
	unsigned queues;
	uint16_t rx_desc, tx_desc;
	bool link_up;
	uint32_t link_speed;		/* Mb/s, 0 unknown */
	unsigned pool_size;		/* mbufs */
	unsigned in_use;		/* mbufs out of the pool now */
	unsigned in_use_before;		/* transport_dpdk_info_since(): at the earlier snapshot */
	/* The Ethernet/IP layers of the transports (dataplane/l2stats.h). */
	uint64_t rx_frames, rx_hop, rx_handled, rx_dropped;
	uint64_t tx_frames, tx_dropped;
	uint64_t arp_requests_in, arp_replies_out, arp_requests_out, arp_replies_in;
	uint64_t nd_solicits_in, nd_adverts_out, nd_solicits_out, nd_adverts_in;
	/* The devices. */
	uint64_t tx_unsent;		/* frames the device did not take: freed */
	uint64_t tx_waited;		/* frames a full TX ring made wait for a later flush */
	uint64_t neigh_copies;		/* ARP/ND answers copied to other threads */
	uint64_t stale;			/* frames left on a ring or queue between runs: freed */
	uint64_t imissed, ierrors, oerrors, rx_nombuf;	/* the device's (dp_port_stats) */
};

/*
 * Initialise EAL, create the pool, find the one Ethernet port EAL made (the
 * user's --vdev or -a), set up @cfg->threads queue pairs and start it, wait
 * for its link. Blocks every signal while EAL starts its threads.
 * @return 0 and *@out, or -errno with one line in @err: -EINVAL (bad
 * addresses, bad EAL arguments, a port that cannot give the queues), -ENODEV
 * (no port, or several), -ENOSPC (more flows per thread than ports),
 * -ETIMEDOUT (link still down after link_timeout_ns), -ENOMEM.
 */
int transport_dpdk_port_create(struct transport_dpdk_port **out,
			       const struct transport_dpdk_config *cfg, char *err, size_t errlen);

/*
 * Free the frames left on the handoff rings and in the RX queues (counted as
 * stale): between runs, when no fleet thread polls.
 */
void transport_dpdk_port_drain(struct transport_dpdk_port *p);

/* The port as it is now. */
void transport_dpdk_port_info(const struct transport_dpdk_port *p, struct transport_dpdk_info *out);

/* @now becomes the counters since @before (in_use_before = @before's in_use). */
void transport_dpdk_info_since(struct transport_dpdk_info *now,
			       const struct transport_dpdk_info *before);

/*
 * Stop and close the port, free the pool and clean up EAL (its runtime
 * directory included). Every transport must be destroyed. *@final gets the
 * last counters. @return how many mbufs were not back in the pool (0: none
 * leaked). NULL: no-op, returns 0.
 */
unsigned transport_dpdk_port_destroy(struct transport_dpdk_port *p,
				     struct transport_dpdk_info *final);

/*
 * The transport of fleet thread @thread (queue pair @thread) for up to
 * @max_flows flows, on the calling thread: registers it with EAL, pins it,
 * resolves the relay's MAC (ARP or neighbour solicitation; the answer may
 * come through another thread, which must be polling meanwhile) within the
 * link timeout. @return 0 and *@out, or -errno with one line in @err:
 * -EINVAL, -ENOSPC (@max_flows above the thread's ports), -EHOSTUNREACH (no
 * answer from the relay's address), -ENOMEM, or EAL's -errno.
 */
int transport_dpdk_create(struct transport **out, struct transport_dpdk_port *p,
			  unsigned thread, uint32_t max_flows, char *err, size_t errlen);

#endif /* POSTERN_BENCH_RELAYBENCH_TRANSPORT_DPDK_H */
