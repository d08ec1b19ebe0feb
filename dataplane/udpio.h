/*
 * udpio.h — one worker's batched UDP I/O over its sockets: the part of the
 * socket backend (sock.c) that differs between recvmmsg/sendmmsg
 * (udpio_mmsg.c) and io_uring (udpio_uring.c). Internal to dataplane/.
 *
 * An engine is created, used and destroyed on its worker's own thread
 * (io_uring rings are set up single-issuer). Mbuf ownership:
 *   rx   the engine hands out mbufs it filled; the caller owns them;
 *   tx   the engine takes the first k of @pkts (sent, in flight, or refused
 *        by the kernel and freed) and returns k; the caller keeps the rest;
 *   destroy frees every mbuf the engine still holds.
 */
#ifndef POSTERN_DATAPLANE_UDPIO_H
#define POSTERN_DATAPLANE_UDPIO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_mbuf.h>

#include "dataplane/sock.h"
#include "relay/pkt.h"

struct udpio_setup {
	const int *fds;			/* index = listener; not owned */
	unsigned n_fds;
	int wake_fd;			/* eventfd; readable = wake up */
	struct rte_mempool *pool;
};

struct udpio_ops {
	const char *name;
	/* Mbufs an engine may hold at once (pool sizing). */
	unsigned mbufs_held;
	int (*create)(void **out, const struct udpio_setup *s);
	void (*destroy)(void *io);
	/* Up to @n received packets, meta filled. Never blocks. */
	uint16_t (*rx)(void *io, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx)(void *io, struct rte_mbuf **pkts, uint16_t n);
	/*
	 * Sleep until a socket may be readable, the wake eventfd fired, or
	 * @timeout_ms passed. @return true if woken by the eventfd.
	 */
	bool (*wait)(void *io, int timeout_ms);
	/* e.g. "uring (multishot)"; valid after create. */
	const char *(*detail)(void *io);
	struct dp_sock_io_stats *(*stats)(void *io);
};

extern const struct udpio_ops udpio_mmsg_ops;
extern const struct udpio_ops udpio_uring_ops;

/* IPv4 or IPv6 peer; big enough for either. */
union udpio_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* Received: fill the meta from the kernel's source address. */
static inline void udpio_meta_rx(struct rte_mbuf *m, const union udpio_sa *from,
				 uint16_t listener)
{
	struct pkt_meta *meta = pkt_meta(m);

	memset(&meta->peer, 0, sizeof(meta->peer));
	if (from->sa.sa_family == AF_INET) {
		meta->peer.family = PKT_AF_INET;
		meta->peer.port = ntohs(from->in.sin_port);
		memcpy(meta->peer.addr, &from->in.sin_addr, 4);
	} else {
		meta->peer.family = PKT_AF_INET6;
		meta->peer.port = ntohs(from->in6.sin6_port);
		memcpy(meta->peer.addr, &from->in6.sin6_addr, 16);
	}
	meta->listener = listener;
	meta->handoff = 0;
	meta->aux = 0;
}

/* To send: the destination from the meta. @return the sockaddr length. */
static inline socklen_t udpio_meta_tx(const struct rte_mbuf *m, union udpio_sa *to)
{
	const struct pkt_meta *meta = pkt_meta((struct rte_mbuf *)(uintptr_t)m);

	if (meta->peer.family == PKT_AF_INET) {
		to->in.sin_family = AF_INET;
		to->in.sin_port = htons(meta->peer.port);
		memcpy(&to->in.sin_addr, meta->peer.addr, 4);
		memset(to->in.sin_zero, 0, sizeof(to->in.sin_zero));
		return sizeof(to->in);
	}
	memset(&to->in6, 0, sizeof(to->in6));
	to->in6.sin6_family = AF_INET6;
	to->in6.sin6_port = htons(meta->peer.port);
	memcpy(&to->in6.sin6_addr, meta->peer.addr, 16);
	return sizeof(to->in6);
}

#endif /* POSTERN_DATAPLANE_UDPIO_H */
