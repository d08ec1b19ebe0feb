/*
 * udpio_mmsg.c — the recvmmsg/sendmmsg engine (udpio.h).
 *
 * RX: one recvmmsg per socket per burst, straight into the data of mbufs
 * allocated ahead (a spare burst is kept so an empty poll allocates nothing).
 * TX: sendmmsg over each run of packets that leave from the same listener.
 * Idle: epoll on the sockets and the wake eventfd.
 */
#define _GNU_SOURCE	/* recvmmsg, sendmmsg */

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/udpio.h"
#include "relay/worker.h"

enum {
	BURST = RELAY_BURST,
};

struct mmsg {
	const int *fds;
	unsigned n_fds;
	int wake_fd;
	int epfd;
	unsigned next_fd;		/* which socket is read first, for fairness */
	struct rte_mempool *pool;
	struct dp_sock_io_stats st;

	struct rte_mbuf *spare[BURST];	/* allocated, not yet filled */
	unsigned n_spare;
	struct mmsghdr rx_msg[BURST];
	struct iovec rx_iov[BURST];
	union udpio_sa rx_from[BURST];

	struct mmsghdr tx_msg[BURST];
	struct iovec tx_iov[BURST];
	union udpio_sa tx_to[BURST];
};

static int mmsg_create(void **out, const struct udpio_setup *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct mmsg *io;
	int ret;

	io = rte_zmalloc("udpio_mmsg", sizeof(*io), RTE_CACHE_LINE_SIZE);
	if (!io)
		return -ENOMEM;
	io->fds = s->fds;
	io->n_fds = s->n_fds;
	io->wake_fd = s->wake_fd;
	io->pool = s->pool;
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (io->epfd < 0) {
		ret = -errno;
		goto err_io;
	}
	for (unsigned i = 0; i <= s->n_fds; i++) {
		int fd = i < s->n_fds ? s->fds[i] : s->wake_fd;

		ev.data.u32 = i;
		if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			ret = -errno;
			goto err_epoll;
		}
	}
	*out = io;
	return 0;

err_epoll:
	close(io->epfd);
err_io:
	rte_free(io);
	return ret;
}

static void mmsg_destroy(void *arg)
{
	struct mmsg *io = arg;

	rte_pktmbuf_free_bulk(io->spare, io->n_spare);
	close(io->epfd);
	rte_free(io);
}

/* Keep @n spare mbufs. All-or-nothing, as rte_pktmbuf_alloc_bulk is. */
static bool refill(struct mmsg *io, unsigned n)
{
	if (io->n_spare >= n)
		return true;
	if (rte_pktmbuf_alloc_bulk(io->pool, io->spare + io->n_spare, n - io->n_spare)) {
		io->st.rx_nombuf++;
		return io->n_spare > 0;
	}
	io->n_spare = n;
	return true;
}

/* Read up to @want datagrams from listener @l into spare[0..want). */
static unsigned recv_one(struct mmsg *io, unsigned l, unsigned want)
{
	int got;

	for (unsigned i = 0; i < want; i++) {
		struct rte_mbuf *m = io->spare[io->n_spare - 1 - i];

		io->rx_iov[i].iov_base = rte_pktmbuf_mtod(m, void *);
		io->rx_iov[i].iov_len = rte_pktmbuf_tailroom(m);
		io->rx_msg[i].msg_hdr = (struct msghdr){
			.msg_name = &io->rx_from[i],
			.msg_namelen = sizeof(io->rx_from[i]),
			.msg_iov = &io->rx_iov[i],
			.msg_iovlen = 1,
		};
	}
	io->st.rx_calls++;
	got = recvmmsg(io->fds[l], io->rx_msg, want, MSG_DONTWAIT, NULL);
	if (got < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			io->st.rx_errors++;
			io->st.rx_errno = errno;
		}
		return 0;
	}
	return (unsigned)got;
}

static uint16_t mmsg_rx(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct mmsg *io = arg;
	uint16_t out = 0;

	n = RTE_MIN(n, (uint16_t)BURST);
	for (unsigned k = 0; k < io->n_fds && out < n; k++) {
		unsigned l = (io->next_fd + k) % io->n_fds, got;

		if (!refill(io, n - out))
			break;
		got = recv_one(io, l, RTE_MIN(io->n_spare, (unsigned)(n - out)));
		for (unsigned i = 0; i < got; i++) {
			struct rte_mbuf *m = io->spare[--io->n_spare];

			/* A truncated datagram keeps the buffer's length: longer than HOP_MTU. */
			m->data_len = (uint16_t)io->rx_msg[i].msg_len;
			m->pkt_len = m->data_len;
			udpio_meta_rx(m, &io->rx_from[i], (uint16_t)l);
			pkts[out++] = m;
		}
	}
	io->next_fd = io->n_fds > 1 ? (io->next_fd + 1) % io->n_fds : 0;
	return out;
}

/*
 * Send pkts[0..n) from listener @l's socket. @return how many were taken:
 * sent, or refused by the kernel for good (freed, counted in tx_errors). A
 * full socket buffer (EAGAIN, ENOBUFS) ends the burst: the rest stay the
 * caller's, which counts them as tx_full.
 */
static unsigned send_run(struct mmsg *io, struct rte_mbuf **pkts, unsigned n, unsigned l)
{
	unsigned done = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		io->tx_iov[i].iov_base = rte_pktmbuf_mtod(m, void *);
		io->tx_iov[i].iov_len = rte_pktmbuf_data_len(m);
		io->tx_msg[i].msg_hdr = (struct msghdr){
			.msg_name = &io->tx_to[i],
			.msg_namelen = udpio_meta_tx(m, &io->tx_to[i]),
			.msg_iov = &io->tx_iov[i],
			.msg_iovlen = 1,
		};
	}
	while (done < n) {
		int sent = sendmmsg(io->fds[l], io->tx_msg + done, n - done, MSG_DONTWAIT);

		if (sent > 0) {
			rte_pktmbuf_free_bulk(pkts + done, (unsigned)sent);
			done += (unsigned)sent;
			continue;
		}
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent == 0 || errno == EAGAIN || errno == ENOBUFS) {
			io->st.tx_again++;
			break;
		}
		/* This one packet is unsendable (bad peer, no route): drop it, go on. */
		io->st.tx_errors++;
		io->st.tx_errno = errno;
		rte_pktmbuf_free(pkts[done++]);
	}
	return done;
}

static uint16_t mmsg_tx(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct mmsg *io = arg;
	unsigned taken = 0;

	while (taken < n) {
		unsigned l = pkt_meta(pkts[taken])->listener, run = 1, done;

		if (l >= io->n_fds) {
			/* No such listener: a core bug, never the network's doing. */
			io->st.tx_errors++;
			io->st.tx_errno = EBADF;
			rte_pktmbuf_free(pkts[taken++]);
			continue;
		}
		while (taken + run < n && run < BURST &&
		       pkt_meta(pkts[taken + run])->listener == l)
			run++;
		done = send_run(io, pkts + taken, run, l);
		taken += done;
		if (done < run)
			break;
	}
	return (uint16_t)taken;
}

static bool mmsg_wait(void *arg, int timeout_ms)
{
	struct mmsg *io = arg;
	struct epoll_event ev[DP_SOCK_MAX_LISTEN + 1];
	bool woken = false;
	uint64_t v;
	int n;

	io->st.sleeps++;
	n = epoll_wait(io->epfd, ev, (int)RTE_DIM(ev), timeout_ms);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u32 == io->n_fds) {
			woken = true;
			if (read(io->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				io->st.rx_errno = errno;
		}
	}
	if (woken)
		io->st.wakeups++;
	return woken;
}

static const char *mmsg_detail(void *arg)
{
	(void)arg;
	return "mmsg (recvmmsg/sendmmsg, epoll when idle)";
}

static struct dp_sock_io_stats *mmsg_stats(void *arg)
{
	return &((struct mmsg *)arg)->st;
}

const struct udpio_ops udpio_mmsg_ops = {
	.name = "mmsg",
	.mbufs_held = BURST,
	.create = mmsg_create,
	.destroy = mmsg_destroy,
	.rx = mmsg_rx,
	.tx = mmsg_tx,
	.wait = mmsg_wait,
	.detail = mmsg_detail,
	.stats = mmsg_stats,
};
