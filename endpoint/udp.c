/*
 * udp.c — nonblocking connected UDP sockets for the endpoints (udp.h).
 */
#define _GNU_SOURCE	/* recvmmsg, sendmmsg */
#include "endpoint/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>

int udp_addr_parse(const char *text, struct sockaddr_storage *out, socklen_t *out_len)
{
	const struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	char host[UDP_ADDR_TEXT_MAX + 1];
	const char *port, *colon;
	struct addrinfo *res;
	size_t hlen;
	char *end;
	long p;

	if (!text || strlen(text) > UDP_ADDR_TEXT_MAX)
		return -EINVAL;
	if (text[0] == '[') {
		/* "[v6]:port": the brackets keep the address's own colons apart. */
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - text - 1);
		memcpy(host, text + 1, hlen);
		port = close + 2;
	} else {
		colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return -EINVAL;	/* a bare v6 address needs brackets */
		hlen = (size_t)(colon - text);
		memcpy(host, text, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	if (hlen == 0 || port[0] < '0' || port[0] > '9')
		return -EINVAL;
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || *end || p < 1 || p > 65535)
		return -EINVAL;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -EINVAL;
	if (res->ai_addrlen > sizeof(*out)) {
		freeaddrinfo(res);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*out_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int udp_addr_format(const struct sockaddr *sa, socklen_t len, char *text, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	const void *addr;
	uint16_t port;
	int n;

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		addr = &in->sin_addr;
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		addr = &in6->sin6_addr;
		port = ntohs(in6->sin6_port);
	} else {
		return -EINVAL;
	}
	if (!inet_ntop(sa->sa_family, addr, host, sizeof(host)))
		return -EINVAL;
	n = snprintf(text, cap, sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

enum {
	/*
	 * One GSO send: at most 64 segments (UDP_MAX_SEGMENTS since UDP GSO
	 * came, Linux 4.18) and an IP payload under 64 KiB.
	 */
	GSO_SEGMENTS_MAX = 64,
	GSO_BYTES_MAX = 65000,
};

int udp_connect(int *fd, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s, ret;

	ret = udp_addr_parse(addr, &ss, &len);
	if (ret)
		return ret;
	s = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&ss, len) < 0) {
		ret = -errno;
		close(s);
		return ret;
	}
	*fd = s;
	return 0;
}

static int set_buffer(int fd, int force_opt, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes)) == 0 ? 0 : -errno;
}

int udp_set_buffers(int fd, int bytes)
{
	int r = set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, bytes);
	int s = set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, bytes);

	return r ? r : s;
}

int udp_send(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_DONTWAIT);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

int udp_recv(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	/* MSG_TRUNC: the real size, so an oversized datagram is refused, not cut. */
	ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if ((size_t)n > cap)
		return -EMSGSIZE;
	*len = (size_t)n;
	return 0;
}

int udp_recv_batch(int fd, struct udp_batch *b)
{
	/* recvmmsg(2) plumbing on the stack (5 KiB), so udp.h needs no _GNU_SOURCE. */
	struct mmsghdr msgs[UDP_BATCH_MAX];
	struct iovec iov[UDP_BATCH_MAX];
	int n;

	for (int i = 0; i < UDP_BATCH_MAX; i++) {
		iov[i] = (struct iovec){ .iov_base = b->buf[i], .iov_len = UDP_DATAGRAM_MAX };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	n = recvmmsg(fd, msgs, UDP_BATCH_MAX, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	for (int i = 0; i < n; i++)
		b->len[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : msgs[i].msg_len;
	return n;
}

int udp_txq_add(struct udp_txq *q, const uint8_t *buf, size_t len)
{
	if (len == 0 || len > UDP_DATAGRAM_MAX)
		return -EMSGSIZE;
	if (q->n == UDP_BATCH_MAX)
		return -ENOSPC;
	memcpy(q->buf[q->n], buf, len);
	q->len[q->n] = (uint16_t)len;
	q->n++;
	return 0;
}

/* sendmmsg(2) plumbing: one message per GSO run (or per datagram). */
struct txq_msgs {
	struct mmsghdr msg[UDP_BATCH_MAX];
	struct iovec iov[UDP_BATCH_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[UDP_BATCH_MAX];
	unsigned first[UDP_BATCH_MAX];	/* each message's first datagram */
	unsigned segs[UDP_BATCH_MAX];	/* and how many it carries */
};

/* How many datagrams from @i on can share one GSO send (1: none can). */
static unsigned gso_run(const struct udp_txq *q, unsigned i, unsigned n)
{
	size_t seg = q->len[i], total = seg;
	unsigned k = 1;

	/* Equal sizes, the last one of the run may be shorter (UDP_SEGMENT's rule). */
	while (i + k < n && k < GSO_SEGMENTS_MAX && q->len[i + k] <= seg &&
	       total + q->len[i + k] <= GSO_BYTES_MAX) {
		total += q->len[i + k];
		k++;
		if (q->len[i + k - 1] < seg)
			break;
	}
	return k;
}

/* Messages for datagrams [@from, @n) of @q. @return how many. */
static unsigned txq_build(const struct udp_txq *q, unsigned from, unsigned n,
			  struct txq_msgs *m)
{
	unsigned nm = 0;

	for (unsigned i = from; i < n; nm++) {
		unsigned k = q->no_gso ? 1 : gso_run(q, i, n);
		struct msghdr *h = &m->msg[nm].msg_hdr;

		for (unsigned j = 0; j < k; j++)
			m->iov[i + j] = (struct iovec){ .iov_base = (void *)q->buf[i + j],
							.iov_len = q->len[i + j] };
		memset(&m->msg[nm], 0, sizeof(m->msg[nm]));
		h->msg_iov = &m->iov[i];
		h->msg_iovlen = k;
		if (k > 1) {
			struct cmsghdr *c;
			uint16_t seg = q->len[i];

			h->msg_control = m->ctl[nm].buf;
			h->msg_controllen = sizeof(m->ctl[nm].buf);
			c = CMSG_FIRSTHDR(h);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(c), &seg, sizeof(seg));
		}
		m->first[nm] = i;
		m->segs[nm] = k;
		i += k;
	}
	return nm;
}

unsigned udp_txq_send(int fd, struct udp_txq *q)
{
	struct txq_msgs m;
	unsigned n = q->n, nm, at = 0, sent = 0;
	bool retried = false;

	q->n = 0;
	nm = txq_build(q, 0, n, &m);
	while (at < nm) {
		int r = sendmmsg(fd, m.msg + at, nm - at, MSG_DONTWAIT);

		q->sends++;
		if (r > 0) {
			for (unsigned j = at; j < at + (unsigned)r; j++)
				sent += m.segs[j];
			at += (unsigned)r;
			retried = false;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ECONNREFUSED && !retried) {
			/*
			 * An ICMP error about an earlier datagram, reported (and
			 * cleared) instead of sending this one: send it again.
			 */
			retried = true;
			continue;
		}
		if (r < 0 && (errno == EIO || errno == EINVAL) && m.segs[at] > 1) {
			/* No GSO on this route: the same datagrams, one by one, from now on. */
			q->no_gso = true;
			nm = txq_build(q, m.first[at], n, &m);
			at = 0;
			continue;
		}
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			break;	/* the socket buffer is full: the rest is loss */
		at++;		/* this one is lost (refused twice, too big); the rest go */
		retried = false;
	}
	return sent;
}
