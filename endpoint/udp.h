/*
 * udp.h — a nonblocking kernel UDP socket "connected" to one relay, for the
 * endpoints' event loops (gateway, connector, relaybench in kernel mode,
 * tests/e2e/hop_peer).
 *
 * connect(2) on a UDP socket fixes the peer: send() needs no address and the
 * kernel delivers only datagrams from the relay's address and port, so stray
 * packets never reach the hop client. It also reports ICMP errors: after a
 * "port unreachable" (no relay listening yet) the next send or receive
 * returns -ECONNREFUSED once; a loop that keeps retrying (§8) treats it like
 * -EAGAIN.
 *
 * Addresses are numeric only: "192.0.2.1:51820" or "[2001:db8::1]:51820"
 * (getaddrinfo with AI_NUMERICHOST | AI_NUMERICSERV; no DNS on this path).
 *
 * Errors: int functions return 0 (or a count) or -errno.
 * Threads: no shared state; a socket belongs to its loop's thread.
 */
#ifndef POSTERN_ENDPOINT_UDP_H
#define POSTERN_ENDPOINT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

enum {
	UDP_ADDR_TEXT_MAX = 64,		/* longest "[v6%scope]:port" accepted, without NUL */
	UDP_BATCH_MAX = 64,		/* datagrams per udp_recv_batch() */
	UDP_DATAGRAM_MAX = 2048,	/* receive buffer: larger than any hop packet */
};

/*
 * Parse "host:port" or "[v6host]:port" (numeric, port 1..65535) into *@out.
 * @return 0, or -EINVAL (not that form, not numeric, port 0 or out of range).
 */
int udp_addr_parse(const char *text, struct sockaddr_storage *out, socklen_t *out_len);

/*
 * Write "host:port" or "[v6host]:port" for @sa into @text (@cap bytes, NUL
 * included; UDP_ADDR_TEXT_MAX + 1 suffice). @return 0, -EINVAL or -ENOSPC.
 */
int udp_addr_format(const struct sockaddr *sa, socklen_t len, char *text, size_t cap);

/*
 * Open a nonblocking, close-on-exec UDP socket connected to @addr (text as
 * above). @return 0 and *@fd set, -EINVAL (bad address), or the -errno of
 * socket()/connect() (e.g. -ENETUNREACH).
 */
int udp_connect(int *fd, const char *addr);

/*
 * Ask for @bytes of kernel receive and send buffer on @fd: a window of
 * full-size datagrams arriving in one burst overflows the default (~200 KiB,
 * about 90 datagrams of 1.4 KB). Tries SO_RCVBUFFORCE/SO_SNDBUFFORCE (root
 * may exceed net.core.rmem_max), then SO_RCVBUF/SO_SNDBUF (capped by it).
 * @return 0, or the -errno of the last setsockopt() that failed.
 */
int udp_set_buffers(int fd, int bytes);

/*
 * Send one datagram. @return 0; -EAGAIN (socket buffer full: dropped, the
 * hop layer is unreliable), -ECONNREFUSED (an earlier ICMP error), -EMSGSIZE,
 * or another -errno.
 */
int udp_send(int fd, const uint8_t *buf, size_t len);

/*
 * Receive one datagram into @buf (@cap bytes); *@len gets its size.
 * @return 0; -EAGAIN (nothing waiting); -EMSGSIZE (the datagram was larger
 * than @cap and has been discarded); -ECONNREFUSED; or another -errno.
 */
int udp_recv(int fd, uint8_t *buf, size_t cap, size_t *len);

/* Datagrams received by udp_recv_batch(); embed it, do not share it. */
struct udp_batch {
	uint8_t buf[UDP_BATCH_MAX][UDP_DATAGRAM_MAX];
	size_t len[UDP_BATCH_MAX];
};

/*
 * Receive up to UDP_BATCH_MAX datagrams with one recvmmsg(2) into @b.
 * Datagrams longer than UDP_DATAGRAM_MAX are truncated by the kernel; they
 * are reported with len 0 (callers skip them: no hop packet is that large).
 * @return how many arrived (1..UDP_BATCH_MAX), or -EAGAIN, -ECONNREFUSED, or
 * another -errno.
 */
int udp_recv_batch(int fd, struct udp_batch *b);

/*
 * Datagrams waiting to leave on one socket (udp_txq_send). Embed or allocate
 * it per socket; do not share it. Zero-initialised is empty.
 */
struct udp_txq {
	uint8_t buf[UDP_BATCH_MAX][UDP_DATAGRAM_MAX];
	uint16_t len[UDP_BATCH_MAX];
	unsigned n;			/* queued: buf[0..n) */
	bool no_gso;			/* GSO off for this socket (refused, or asked) */
	uint64_t sends;			/* system calls made by udp_txq_send() */
};

/*
 * Copy one datagram of @len bytes (1..UDP_DATAGRAM_MAX) to the end of @q.
 * @return 0, -EMSGSIZE (too long or empty), -ENOSPC (@q is full: send first).
 */
int udp_txq_add(struct udp_txq *q, const uint8_t *buf, size_t len);

/*
 * Send every datagram queued in @q, in order, with as few system calls as
 * the kernel allows: one sendmmsg(2) for the lot, each run of datagrams of
 * one size (the run's last may be shorter) as a single UDP GSO send
 * (UDP_SEGMENT, Linux 4.18) unless @q->no_gso. The kernel cuts a GSO send
 * back into the same datagrams, at the latest where they leave the host;
 * the receiver sees no difference. A socket that refuses GSO (EIO, EINVAL:
 * no checksum offload on the route's device) gets @q->no_gso set and the
 * same datagrams again without it.
 * A send refused with ECONNREFUSED (an ICMP error about an earlier datagram,
 * cleared by that report) is made again once. Afterwards @q is empty
 * whatever happened: what the kernel did not take (EAGAIN: socket buffer
 * full, then the rest too; refused twice; any other error) is dropped, as
 * udp_send() would have dropped it.
 * @return how many datagrams the kernel took (0..the queued count).
 */
unsigned udp_txq_send(int fd, struct udp_txq *q);

#endif /* POSTERN_ENDPOINT_UDP_H */
