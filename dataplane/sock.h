/*
 * sock.h — the socket backend: the relay core on kernel UDP sockets.
 *
 * For each worker and each listen address the backend opens its own UDP
 * socket bound with SO_REUSEPORT (IPv6 sockets with IPV6_V6ONLY, so
 * "0.0.0.0:P" and "[::]:P" coexist). The kernel's reuseport hash keeps a
 * 5-tuple on one socket, hence on one worker — the role RSS plays in the DPDK
 * backend (DESIGN.md §2). Packets are received straight into mbuf data, one
 * single-segment mbuf per datagram, with struct pkt_meta filled (peer, and
 * listener = index of the listen address); the core's TX function sends each
 * mbuf from the worker's socket for pkt_meta.listener to pkt_meta.peer.
 *
 * Two I/O engines, chosen per relay:
 *   DP_SOCK_IO_MMSG   recvmmsg/sendmmsg, epoll when idle
 *   DP_SOCK_IO_URING  io_uring: multishot recvmsg into a ring of provided mbuf
 *                     buffers (kernel 6.0+; a batch of re-armed recvmsg SQEs
 *                     on older kernels), sendmsg SQEs, one io_uring_enter per
 *                     loop iteration
 *
 * Each worker runs the loop of relay/worker.h on its EAL worker lcore. When
 * an iteration finds no work for a while, the worker sleeps until a socket
 * is readable, another worker wakes it (eventfd, written by the relay's wake
 * hook only while the worker sleeps) or DP_SOCK_IDLE_TIMEOUT_MS passes (the
 * core's timers need ~100 ms granularity): an idle relay uses no CPU.
 *
 * Threads: everything on the main thread; dp_sock_wake_all() from any thread;
 * dp_sock_metrics() from one thread at a time.
 */
#ifndef POSTERN_DATAPLANE_SOCK_H
#define POSTERN_DATAPLANE_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "relay/pkt.h"

struct rte_mempool;
struct relay;
struct dp_sock;
struct metrics_backend;

enum dp_sock_io {
	DP_SOCK_IO_MMSG,
	DP_SOCK_IO_URING,
};

enum {
	DP_SOCK_MAX_LISTEN = 16,
	DP_SOCK_BUF_DEFAULT = 4 << 20,		/* SO_RCVBUF and SO_SNDBUF, bytes */
	DP_SOCK_IDLE_TIMEOUT_MS = 100,		/* longest sleep of an idle worker */
	DP_SOCK_IDLE_SPIN_US = 50,		/* empty iterations this long before sleeping */
};

struct dp_sock_params {
	const struct pkt_addr *listen;		/* copied; listener i = listen[i] */
	unsigned n_listen;			/* 1..DP_SOCK_MAX_LISTEN */
	enum dp_sock_io io;
	unsigned sock_buf;			/* SO_RCVBUF/SO_SNDBUF; 0 = default */
	struct rte_mempool *pool;		/* borrowed; PKT_PRIV_SIZE private area */
	struct relay *relay;			/* borrowed; one loop per relay worker */
};

/* What a worker's I/O engine counts (never per packet logged, only counted). */
struct dp_sock_io_stats {
	uint64_t rx_calls;		/* receive syscalls (mmsg) or enters (uring) */
	uint64_t rx_errors;		/* failed receives, last errno in rx_errno */
	uint64_t rx_nombuf;		/* receives skipped because the pool was empty */
	uint64_t tx_errors;		/* packets the kernel refused (taken and freed) */
	uint64_t tx_again;		/* bursts cut short by a full socket buffer */
	uint64_t sleeps, wakeups;	/* idle waits, and those ended by a wake */
	int rx_errno, tx_errno;
};

/* "mmsg" / "uring". */
const char *dp_sock_io_name(enum dp_sock_io io);

/* @return 0 and *@out for "mmsg" or "uring", -EINVAL otherwise. */
int dp_sock_io_parse(const char *name, enum dp_sock_io *out);

/* Mbufs one worker's engine may hold at once, for sizing the pool. */
unsigned dp_sock_mbufs_per_worker(enum dp_sock_io io);

/*
 * Open and bind every socket (workers × listeners), so that address errors
 * surface before anything runs. A listen port another process already holds
 * is refused (-EADDRINUSE), even if that process also uses SO_REUSEPORT:
 * sharing it would silently split the traffic between two relays.
 * @return 0; -EINVAL, -ENOMEM, or the -errno of socket/bind; @err names the
 * address.
 */
int dp_sock_create(struct dp_sock **out, const struct dp_sock_params *p,
		   char *err, size_t errlen);

/*
 * Attach TX and wake functions to every relay worker and launch each
 * worker's loop on EAL worker lcore i+1. Returns once every worker has set up
 * its I/O engine (0), or after stopping them all if one could not (-errno,
 * with @err).
 */
int dp_sock_start(struct dp_sock *s, char *err, size_t errlen);

/* Wake every sleeping worker now (e.g. after relay_drain()). */
void dp_sock_wake_all(struct dp_sock *s);

/* Ask every loop to return and wait for them. Idempotent. */
void dp_sock_stop(struct dp_sock *s);

/* Close the sockets and free the backend; stopped first if still running. NULL: no-op. */
void dp_sock_destroy(struct dp_sock *s);

/* A copy of worker @worker's engine counters (a little stale while running). */
void dp_sock_io_stats(const struct dp_sock *s, unsigned worker, struct dp_sock_io_stats *out);

/*
 * /metrics (relay/metrics.h): append one entry per socket (worker × listen
 * address, worker-major) to @out->sockets, up to METRICS_MAX_SOCKETS, with
 * the datagrams the kernel dropped on it since it was opened: its receive
 * buffer was full (the worker fell behind: raise sock_buf and
 * net.core.rmem_max, or add workers), or a checksum was bad. Read with
 * getsockopt(SO_MEMINFO): no cost to the workers. The kernel counts in
 * 32 bits; each call extends the count to 64, exactly as long as fewer than
 * 2^32 drops happen between two calls.
 * Threads: one thread at a time (the control loop's); any time between
 * dp_sock_create() and dp_sock_destroy().
 */
void dp_sock_metrics(struct dp_sock *s, struct metrics_backend *out);

/* The I/O engine in use, after dp_sock_start(): e.g. "uring (multishot)". */
const char *dp_sock_io_detail(const struct dp_sock *s);

#endif /* POSTERN_DATAPLANE_SOCK_H */
