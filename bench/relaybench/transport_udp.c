/*
 * transport_udp.c — relaybench's kernel UDP transport (transport.h).
 *
 * One connected socket per flow: the relay's SO_REUSEPORT group spreads
 * flows over its workers by 4-tuple exactly as it would spread real
 * endpoints, and connect() keeps anything but the relay's packets away from
 * the hop clients. One epoll set per transport (level-triggered); a ready
 * socket is drained with recvmmsg() batches.
 *
 * Sends are staged: a gateway echoes a whole receive batch on its one socket,
 * an agent sends a large message's chunks back to back, so runs of packets of
 * one flow are common and one sendmmsg() replaces a send() per packet. The
 * stage is flushed after each received batch, before any wait, and when full.
 */
#define _GNU_SOURCE	/* sendmmsg */

#include "bench/relaybench/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "endpoint/udp.h"
#include "wire/hop.h"

enum { EVENTS_MAX = 256, STAGE_MAX = 64 };

struct staged {
	uint32_t flow;
	uint32_t len;
	uint8_t buf[HOP_MTU];
};

struct flow {
	int fd;
	void *ctx;
};

struct transport_udp {
	struct transport head;		/* first: the struct transport * points here */
	struct sockaddr_storage relay;
	socklen_t relay_len;
	struct sockaddr_storage bind[TRANSPORT_BIND_MAX];
	socklen_t bind_len[TRANSPORT_BIND_MAX];
	unsigned n_bind;
	int ep;
	int socket_buffer;
	uint32_t n_flows, max_flows;
	struct flow *flows;
	struct udp_batch *batch;
	struct epoll_event events[EVENTS_MAX];
	unsigned n_staged;
	struct staged stage[STAGE_MAX];
	struct mmsghdr msgs[STAGE_MAX];
	struct iovec iov[STAGE_MAX];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct transport_udp *udp_of(struct transport *t)
{
	return (struct transport_udp *)t;
}

static int udp_flow_open(struct transport *t, void *ctx, uint32_t *flow)
{
	struct transport_udp *u = udp_of(t);
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned b;
	int fd, ret;

	if (u->n_flows == u->max_flows)
		return -ENOSPC;
	fd = socket(u->relay.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (u->n_bind) {
		b = u->n_flows % u->n_bind;
		if (bind(fd, (struct sockaddr *)&u->bind[b], u->bind_len[b]) < 0) {
			ret = -errno;
			goto err_fd;
		}
	}
	if (connect(fd, (struct sockaddr *)&u->relay, u->relay_len) < 0) {
		ret = -errno;
		goto err_fd;
	}
	/* Best effort: a large message's echoes arrive as one burst. */
	udp_set_buffers(fd, u->socket_buffer);
	ev.data.u32 = u->n_flows;
	if (epoll_ctl(u->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		goto err_fd;
	}
	u->flows[u->n_flows] = (struct flow){ .fd = fd, .ctx = ctx };
	*flow = u->n_flows++;
	return 0;

err_fd:
	close(fd);
	return ret;
}

/* Send staged packets [@i, @j), all of one flow. */
static void send_run(struct transport_udp *u, unsigned i, unsigned j)
{
	struct transport_stats *st = &u->head.stats;
	int fd = u->flows[u->stage[i].flow].fd;
	unsigned done = i;

	for (unsigned k = i; k < j; k++) {
		u->iov[k] = (struct iovec){ .iov_base = u->stage[k].buf,
					    .iov_len = u->stage[k].len };
		u->msgs[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &u->iov[k],
							    .msg_iovlen = 1 } };
	}
	while (done < j) {
		int n = sendmmsg(fd, &u->msgs[done], j - done, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A full buffer or an ICMP error: this one is lost; try the rest. */
			st->tx_errors++;
			done++;
			continue;
		}
		for (int k = 0; k < n; k++)
			st->tx_bytes += u->stage[done + k].len;
		st->tx_packets += (unsigned)n;
		done += (unsigned)n;
	}
}

static void udp_flush(struct transport *t)
{
	struct transport_udp *u = udp_of(t);
	unsigned i = 0;

	while (i < u->n_staged) {
		unsigned j = i + 1;

		while (j < u->n_staged && u->stage[j].flow == u->stage[i].flow)
			j++;
		send_run(u, i, j);
		i = j;
	}
	u->n_staged = 0;
}

static int udp_send_one(struct transport *t, uint32_t flow, const uint8_t *pkt, size_t len)
{
	struct transport_udp *u = udp_of(t);
	struct staged *s;

	if (len > HOP_MTU) {
		t->stats.tx_errors++;
		return -EMSGSIZE;
	}
	if (u->n_staged == STAGE_MAX)
		udp_flush(t);
	s = &u->stage[u->n_staged++];
	s->flow = flow;
	s->len = (uint32_t)len;
	memcpy(s->buf, pkt, len);
	return 0;
}

/* Drain one ready socket. @return packets delivered. */
static int drain(struct transport_udp *u, struct flow *f, transport_rx_fn rx)
{
	struct transport_stats *st = &u->head.stats;
	int total = 0;

	for (;;) {
		int n = udp_recv_batch(f->fd, u->batch);
		uint64_t now;

		st->rx_calls++;
		if (n == -ECONNREFUSED)
			continue;	/* an ICMP error from before: the hop layer retries */
		if (n < 0) {
			if (n != -EAGAIN)
				st->rx_errors++;
			return total;
		}
		now = mono_ns();
		for (int i = 0; i < n; i++) {
			if (!u->batch->len[i]) {
				st->rx_errors++;	/* truncated: no hop packet is that large */
				continue;
			}
			st->rx_packets++;
			st->rx_bytes += u->batch->len[i];
			rx(f->ctx, u->batch->buf[i], u->batch->len[i], now);
		}
		total += n;
		udp_flush(&u->head);	/* the echoes and next messages this batch caused */
		if (n < UDP_BATCH_MAX)
			return total;
	}
}

static int udp_poll(struct transport *t, uint64_t wait_ns, transport_rx_fn rx)
{
	struct transport_udp *u = udp_of(t);
	struct timespec ts = { .tv_sec = (time_t)(wait_ns / 1000000000u),
			       .tv_nsec = (long)(wait_ns % 1000000000u) };
	int n, total = 0;

	udp_flush(t);
	if (wait_ns)
		t->stats.waits++;
	n = epoll_pwait2(u->ep, u->events, EVENTS_MAX, &ts, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++)
		total += drain(u, &u->flows[u->events[i].data.u32], rx);
	return total;
}

static void udp_destroy(struct transport *t)
{
	struct transport_udp *u = udp_of(t);

	for (uint32_t i = 0; i < u->n_flows; i++)
		close(u->flows[i].fd);
	close(u->ep);
	free(u->batch);
	free(u->flows);
	free(u);
}

static const struct transport_ops udp_ops = {
	.name = "udp",
	.flow_open = udp_flow_open,
	.send = udp_send_one,
	.poll = udp_poll,
	.flush = udp_flush,
	.destroy = udp_destroy,
};

static int parse_bind(struct transport_udp *u, const char *text, unsigned i)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&u->bind[i];
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&u->bind[i];

	memset(&u->bind[i], 0, sizeof(u->bind[i]));
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		u->bind_len[i] = sizeof(*in);
	} else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		u->bind_len[i] = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	return u->bind[i].ss_family == u->relay.ss_family ? 0 : -EINVAL;
}

int transport_udp_create(struct transport **out, const struct transport_udp_config *cfg)
{
	struct transport_udp *u;
	int ret;

	if (cfg->n_bind > TRANSPORT_BIND_MAX || !cfg->max_flows)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->head.ops = &udp_ops;
	u->socket_buffer = cfg->socket_buffer;
	u->max_flows = cfg->max_flows;
	ret = udp_addr_parse(cfg->relay, &u->relay, &u->relay_len);
	for (unsigned i = 0; !ret && i < cfg->n_bind; i++)
		ret = parse_bind(u, cfg->bind[i], i);
	if (ret)
		goto err_u;
	u->n_bind = cfg->n_bind;
	u->flows = calloc(cfg->max_flows, sizeof(*u->flows));
	u->batch = malloc(sizeof(*u->batch));
	if (!u->flows || !u->batch) {
		ret = -ENOMEM;
		goto err_mem;
	}
	u->ep = epoll_create1(EPOLL_CLOEXEC);
	if (u->ep < 0) {
		ret = -errno;
		goto err_mem;
	}
	*out = &u->head;
	return 0;

err_mem:
	free(u->batch);
	free(u->flows);
err_u:
	free(u);
	return ret;
}
