/*
 * flowport.h — the addressing of relaybench's DPDK transport, as pure
 * functions: which local address and UDP port each flow of each fleet thread
 * sends from, and which thread and flow a received frame belongs to (before
 * the Ethernet/IP layer sees it, so that it reaches the thread owning its flow;
 * transport_dpdk.c says how).
 *
 * Ports: every --bind address offers FLOWPORT_FIRST..FLOWPORT_LAST (64512
 * ports), cut into one block of `span` ports per fleet thread, the same block
 * on every address:
 *
 *	span = FLOWPORT_RANGE / threads
 *	flow k of thread i:  address k % n_bind,
 *	                     port FLOWPORT_FIRST + i * span + k / n_bind
 *
 * so a thread opens at most span × n_bind flows (flowport_capacity()), the
 * blocks never overlap, and the owner of a received (address, port) follows
 * from the port alone, without a table. Each address is one listener of the
 * Ethernet/IP layer with the port range FLOWPORT_FIRST..flowport_port_hi():
 * every block, and none of the ports past the last one.
 *
 * Frames: flowport_peek() locates the UDP header of an untagged Ethernet II
 * frame carrying IPv4 (options allowed, not a fragment) or IPv6 (UDP right
 * after the fixed header), and recognises the frames that teach a
 * neighbour's MAC without asking anything back (ARP reply, gratuitous ARP,
 * neighbour advertisement). It reads only what it needs, within @len; it
 * validates nothing else (the Ethernet/IP layer does, afterwards).
 *
 * Threads: no state; any thread.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_FLOWPORT_H
#define POSTERN_BENCH_RELAYBENCH_FLOWPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	FLOWPORT_FIRST = 1024,		/* below: well-known ports, never a flow's */
	FLOWPORT_LAST = 65535,
	FLOWPORT_RANGE = FLOWPORT_LAST - FLOWPORT_FIRST + 1,
	FLOWPORT_BIND_MAX = 16,
	FLOWPORT_THREADS_MAX = 64,
};

struct flowport_plan {
	unsigned threads, n_bind;
	uint32_t span;			/* ports per thread on each address */
};

/* @return 0 and *@p, or -EINVAL for 0 or too many threads or addresses. */
int flowport_plan_init(struct flowport_plan *p, unsigned threads, unsigned n_bind);

/* @return how many flows one thread can open: span × n_bind. */
uint32_t flowport_capacity(const struct flowport_plan *p);

/* @return the last port any thread's flow has: FLOWPORT_FIRST + span × threads - 1. */
uint16_t flowport_port_hi(const struct flowport_plan *p);

/*
 * The local address index and port of flow @flow of thread @thread.
 * @return 0, -EINVAL (no such thread) or -ENOSPC (@flow beyond the capacity).
 */
int flowport_local(const struct flowport_plan *p, unsigned thread, uint32_t flow,
		   unsigned *bind, uint16_t *port);

/*
 * The inverse: the thread and flow that send from address @bind, port @port.
 * @return false if no flow can have them (outside every thread's block, or
 * an address index out of range). The flow may not be open: the caller checks.
 */
bool flowport_owner(const struct flowport_plan *p, unsigned bind, uint16_t port,
		    unsigned *thread, uint32_t *flow);

enum flowport_kind {
	FLOWPORT_OTHER,			/* anything else */
	FLOWPORT_UDP,			/* IPv4 or IPv6 UDP; the frame's fields filled in */
	FLOWPORT_NEIGH_ANSWER,		/* ARP reply, gratuitous ARP, neighbour advertisement */
};

/* Where a UDP frame's fields are. Offsets from the start of the frame. */
struct flowport_frame {
	uint8_t family;			/* 4 or 6 */
	uint16_t src_off, dst_off;	/* the IP source and destination address */
	uint16_t l4_off;		/* the UDP header */
	uint16_t src_port, dst_port;	/* host byte order */
};

/* Classify the @len bytes at @frame; *@f is filled for FLOWPORT_UDP only. */
enum flowport_kind flowport_peek(const uint8_t *frame, size_t len, struct flowport_frame *f);

#endif /* POSTERN_BENCH_RELAYBENCH_FLOWPORT_H */
