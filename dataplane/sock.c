/*
 * sock.c — the socket backend: sockets, worker lifecycle and the worker loop
 * (sock.h). The batched I/O itself is an engine behind udpio.h.
 */
#define _GNU_SOURCE

#include "dataplane/sock.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/addr.h"
#include "dataplane/udpio.h"
#include "relay/metrics.h"
#include "relay/relay.h"
#include "relay/worker.h"

enum {
	START_TIMEOUT_MS = 10000,
};

enum worker_state {
	W_IDLE,			/* not launched */
	W_STARTING,
	W_RUNNING,
	W_FAILED,		/* engine setup failed; loop returned */
	W_DONE,			/* loop returned */
};

struct sock_worker {
	/* Written by other threads: its own line, so they do not slow the loop. */
	atomic_int asleep;
	int wake_fd;
	char pad0[RTE_CACHE_LINE_SIZE - sizeof(atomic_int) - sizeof(int)];

	struct dp_sock *dp;
	struct relay_worker *rw;
	unsigned id, lcore;
	int fds[DP_SOCK_MAX_LISTEN];
	void *io;			/* engine, valid while W_RUNNING */
	atomic_int state;
	int error;
	struct dp_sock_io_stats final;	/* engine counters, kept after it is gone */
	char detail[80];

	/* dp_sock_metrics()'s, on lines of their own: the worker never touches them. */
	struct {
		uint32_t seen[DP_SOCK_MAX_LISTEN];	/* SK_MEMINFO_DROPS at the last read */
		uint64_t total[DP_SOCK_MAX_LISTEN];	/* the same, extended to 64 bits */
	} drops __rte_cache_aligned;
} __rte_cache_aligned;

struct dp_sock {
	struct relay *relay;
	struct rte_mempool *pool;
	const struct udpio_ops *ops;
	struct pkt_addr listen[DP_SOCK_MAX_LISTEN];
	unsigned n_listen, n_workers, sock_buf;
	atomic_bool quit;
	bool launched;
	struct sock_worker *w;
};

static const struct udpio_ops *const engines[] = {
	[DP_SOCK_IO_MMSG] = &udpio_mmsg_ops,
	[DP_SOCK_IO_URING] = &udpio_uring_ops,
};

const char *dp_sock_io_name(enum dp_sock_io io)
{
	return (unsigned)io < RTE_DIM(engines) ? engines[io]->name : "?";
}

int dp_sock_io_parse(const char *name, enum dp_sock_io *out)
{
	for (unsigned i = 0; i < RTE_DIM(engines); i++) {
		if (!strcmp(name, engines[i]->name)) {
			*out = (enum dp_sock_io)i;
			return 0;
		}
	}
	return -EINVAL;
}

unsigned dp_sock_mbufs_per_worker(enum dp_sock_io io)
{
	return (unsigned)io < RTE_DIM(engines) ? engines[io]->mbufs_held : 0;
}

/* ---- sockets ---------------------------------------------------------- */

static int set_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) ? -errno : 0;
}

/* Root may exceed net.core.{r,w}mem_max; others get what the sysctl allows. */
static void set_buffers(int fd, unsigned bytes)
{
	int v = (int)RTE_MIN(bytes, (unsigned)INT32_MAX / 2);

	if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, v))
		set_int(fd, SOL_SOCKET, SO_RCVBUF, v);
	if (set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, v))
		set_int(fd, SOL_SOCKET, SO_SNDBUF, v);
}

/* A bound UDP socket for @a; with @reuseport, one member of the worker group. */
static int open_socket(const struct pkt_addr *a, bool reuseport, unsigned sock_buf, int *out)
{
	struct sockaddr_storage ss;
	unsigned len = dp_addr_to_sockaddr(a, &ss);
	int fd, ret;

	fd = socket(a->family == PKT_AF_INET ? AF_INET : AF_INET6,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a->family == PKT_AF_INET6 && (ret = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)))
		goto err_fd;
	if (reuseport && (ret = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)))
		goto err_fd;
	if (sock_buf)
		set_buffers(fd, sock_buf);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		ret = -errno;
		goto err_fd;
	}
	*out = fd;
	return 0;

err_fd:
	close(fd);
	return ret;
}

/*
 * Is the port free? A socket without SO_REUSEPORT cannot join an existing
 * reuseport group, so this bind fails if anyone (another relay) holds it.
 */
static int probe_free(const struct pkt_addr *a)
{
	int fd, ret = open_socket(a, false, 0, &fd);

	if (ret == 0)
		close(fd);
	return ret;
}

static void close_sockets(struct dp_sock *s)
{
	for (unsigned w = 0; w < s->n_workers; w++) {
		struct sock_worker *sw = &s->w[w];

		for (unsigned l = 0; l < s->n_listen; l++)
			if (sw->fds[l] >= 0)
				close(sw->fds[l]);
		if (sw->wake_fd >= 0)
			close(sw->wake_fd);
	}
}

static int open_sockets(struct dp_sock *s, char *err, size_t errlen)
{
	char text[DP_ADDR_TEXT_MAX];
	int ret;

	for (unsigned l = 0; l < s->n_listen; l++) {
		ret = probe_free(&s->listen[l]);
		if (ret) {
			dp_addr_format(&s->listen[l], text);
			snprintf(err, errlen, "listen %s: %s%s", text, strerror(-ret),
				 ret == -EADDRINUSE ? " (another process, or another relay, "
				 "holds this port)" : "");
			return ret;
		}
	}
	for (unsigned w = 0; w < s->n_workers; w++) {
		struct sock_worker *sw = &s->w[w];

		sw->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (sw->wake_fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "eventfd: %s", strerror(-ret));
			return ret;
		}
		for (unsigned l = 0; l < s->n_listen; l++) {
			ret = open_socket(&s->listen[l], true, s->sock_buf, &sw->fds[l]);
			if (ret) {
				dp_addr_format(&s->listen[l], text);
				snprintf(err, errlen, "listen %s (worker %u): %s", text, w,
					 strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

int dp_sock_create(struct dp_sock **out, const struct dp_sock_params *p,
		   char *err, size_t errlen)
{
	struct dp_sock *s;
	int ret = -ENOMEM;

	if (!p->relay || !p->pool || p->n_listen < 1 || p->n_listen > DP_SOCK_MAX_LISTEN ||
	    (unsigned)p->io >= RTE_DIM(engines)) {
		snprintf(err, errlen, "socket backend: invalid parameters");
		return -EINVAL;
	}
	s = rte_zmalloc("dp_sock", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (!s)
		goto err_msg;
	s->relay = p->relay;
	s->pool = p->pool;
	s->ops = engines[p->io];
	memcpy(s->listen, p->listen, p->n_listen * sizeof(p->listen[0]));
	s->n_listen = p->n_listen;
	s->n_workers = relay_worker_count(p->relay);
	s->sock_buf = p->sock_buf ? p->sock_buf : DP_SOCK_BUF_DEFAULT;
	atomic_init(&s->quit, false);
	s->w = rte_zmalloc("dp_sock_workers", s->n_workers * sizeof(s->w[0]),
			   RTE_CACHE_LINE_SIZE);
	if (!s->w)
		goto err_sock;
	for (unsigned w = 0; w < s->n_workers; w++) {
		struct sock_worker *sw = &s->w[w];

		sw->dp = s;
		sw->id = w;
		sw->rw = relay_get_worker(p->relay, w);
		sw->wake_fd = -1;
		for (unsigned l = 0; l < DP_SOCK_MAX_LISTEN; l++)
			sw->fds[l] = -1;
		atomic_init(&sw->state, W_IDLE);
		atomic_init(&sw->asleep, 0);
	}
	ret = open_sockets(s, err, errlen);
	if (ret)
		goto err_fds;
	*out = s;
	return 0;

err_fds:
	close_sockets(s);
	rte_free(s->w);
err_sock:
	rte_free(s);
err_msg:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "socket backend: out of memory");
	return ret;
}

/* ---- the worker loop -------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* relay_tx_fn: the core hands over packets to send, on this worker's thread. */
static uint16_t worker_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct sock_worker *sw = ctx;

	/* After the loop ended (relay_destroy flushing), refuse: the core frees them. */
	if (!sw->io)
		return 0;
	return sw->dp->ops->tx(sw->io, pkts, n);
}

/*
 * relay_wake_fn, called by another worker after it enqueued something for
 * this one. Pairs with worker_sleep(): the waker's enqueue, then this fence,
 * then the load of asleep; the sleeper's store of asleep, then its fence, then
 * one more relay_worker_poll(). Either the sleeper sees the enqueued item, or
 * the waker sees asleep and writes the eventfd — never neither.
 */
static void worker_wake(void *ctx)
{
	struct sock_worker *sw = ctx;

	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&sw->asleep, memory_order_relaxed))
		eventfd_write(sw->wake_fd, 1);
}

/* @return the work the last-chance poll found (0 if the worker slept). */
static unsigned worker_sleep(struct sock_worker *sw, uint64_t now)
{
	unsigned work;

	atomic_store_explicit(&sw->asleep, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	work = relay_worker_poll(sw->rw, now);
	if (!work && !atomic_load_explicit(&sw->dp->quit, memory_order_relaxed))
		sw->dp->ops->wait(sw->io, DP_SOCK_IDLE_TIMEOUT_MS);
	atomic_store_explicit(&sw->asleep, 0, memory_order_relaxed);
	return work;
}

/*
 * relay/worker.h's loop. Busy iterations are accounted as busy; an idle one
 * spins for at most DP_SOCK_IDLE_SPIN_US (a packet arriving right after a
 * burst is common under load) and then sleeps; the sleep counts as idle.
 */
static void worker_loop(struct sock_worker *sw)
{
	const struct udpio_ops *ops = sw->dp->ops;
	const uint64_t spin = rte_get_tsc_hz() / 1000000 * DP_SOCK_IDLE_SPIN_US;
	struct rte_mbuf *pkts[RELAY_BURST];
	uint64_t idle_since = 0;

	while (!atomic_load_explicit(&sw->dp->quit, memory_order_relaxed)) {
		uint64_t t0 = rte_rdtsc(), now = now_ns();
		uint16_t n = ops->rx(sw->io, pkts, RELAY_BURST);
		unsigned work;

		if (n)
			relay_worker_rx(sw->rw, pkts, n, now);
		work = relay_worker_poll(sw->rw, now);
		if (n || work) {
			idle_since = 0;
		} else if (!idle_since) {
			idle_since = t0;
		} else if (t0 - idle_since >= spin) {
			work = worker_sleep(sw, now);
			idle_since = 0;
		}
		relay_worker_account(sw->rw, rte_rdtsc() - t0, n, n || work);
	}
}

static int worker_main(void *arg)
{
	struct sock_worker *sw = arg;
	const struct udpio_ops *ops = sw->dp->ops;
	struct udpio_setup setup = {
		.fds = sw->fds,
		.n_fds = sw->dp->n_listen,
		.wake_fd = sw->wake_fd,
		.pool = sw->dp->pool,
	};
	void *io;
	int ret;

	ret = ops->create(&io, &setup);
	if (ret) {
		sw->error = ret;
		atomic_store(&sw->state, W_FAILED);
		return ret;
	}
	snprintf(sw->detail, sizeof(sw->detail), "%s", ops->detail(io));
	sw->io = io;
	atomic_store(&sw->state, W_RUNNING);

	worker_loop(sw);

	sw->final = *ops->stats(io);
	sw->io = NULL;
	ops->destroy(io);
	atomic_store(&sw->state, W_DONE);
	return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

int dp_sock_start(struct dp_sock *s, char *err, size_t errlen)
{
	unsigned lcore = rte_get_main_lcore();
	uint64_t deadline;
	int ret;

	if (rte_lcore_count() < s->n_workers + 1) {
		snprintf(err, errlen, "socket backend: %u workers need %u EAL lcores, have %u",
			 s->n_workers, s->n_workers + 1, rte_lcore_count());
		return -EINVAL;
	}
	atomic_store(&s->quit, false);
	for (unsigned w = 0; w < s->n_workers; w++) {
		struct sock_worker *sw = &s->w[w];

		lcore = rte_get_next_lcore(lcore, 1, 0);
		sw->lcore = lcore;
		relay_worker_attach(sw->rw, worker_tx, sw);
		relay_worker_set_wake(sw->rw, worker_wake, sw);
		atomic_store(&sw->state, W_STARTING);
		ret = rte_eal_remote_launch(worker_main, sw, lcore);
		if (ret) {
			atomic_store(&sw->state, W_IDLE);
			snprintf(err, errlen, "worker %u: cannot launch on lcore %u: %s", w, lcore,
				 strerror(-ret));
			s->launched = true;
			dp_sock_stop(s);
			return ret;
		}
	}
	s->launched = true;

	deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * START_TIMEOUT_MS;
	for (unsigned w = 0; w < s->n_workers; w++) {
		struct sock_worker *sw = &s->w[w];

		while (atomic_load(&sw->state) == W_STARTING && rte_get_tsc_cycles() < deadline)
			usleep(1000);
		if (atomic_load(&sw->state) != W_RUNNING) {
			ret = atomic_load(&sw->state) == W_FAILED ? sw->error : -ETIMEDOUT;
			snprintf(err, errlen, "worker %u: cannot set up %s I/O: %s%s", w,
				 s->ops->name, strerror(-ret),
				 s->ops == &udpio_uring_ops ? " (io_uring disabled here? try "
				 "io = \"mmsg\")" : "");
			dp_sock_stop(s);
			return ret;
		}
	}
	return 0;
}

void dp_sock_wake_all(struct dp_sock *s)
{
	for (unsigned w = 0; w < s->n_workers; w++)
		eventfd_write(s->w[w].wake_fd, 1);
}

void dp_sock_stop(struct dp_sock *s)
{
	if (!s->launched)
		return;
	atomic_store(&s->quit, true);
	dp_sock_wake_all(s);
	for (unsigned w = 0; w < s->n_workers; w++)
		if (atomic_load(&s->w[w].state) != W_IDLE)
			rte_eal_wait_lcore(s->w[w].lcore);
	s->launched = false;
}

void dp_sock_destroy(struct dp_sock *s)
{
	if (!s)
		return;
	dp_sock_stop(s);
	close_sockets(s);
	rte_free(s->w);
	rte_free(s);
}

void dp_sock_io_stats(const struct dp_sock *s, unsigned worker, struct dp_sock_io_stats *out)
{
	const struct sock_worker *sw;
	void *io;

	memset(out, 0, sizeof(*out));
	if (worker >= s->n_workers)
		return;
	sw = &s->w[worker];
	io = sw->io;
	*out = io ? *s->ops->stats(io) : sw->final;
}

/*
 * Kernel receive drops: why SO_MEMINFO from the control thread, and not
 * SO_RXQ_OVFL. Both report the socket's sk_drops, the counter the kernel
 * bumps when a datagram finds the receive buffer full (or fails its
 * checksum). SO_RXQ_OVFL delivers it as a cmsg with every datagram: the
 * kernel builds and copies one cmsg per datagram, each recvmmsg slot needs
 * control space, a multishot io_uring recvmsg (which does deliver it when
 * its msghdr has msg_controllen) takes that space out of every provided
 * buffer, and the engines would parse it per packet — all on the fast path.
 * It also says nothing while no datagram arrives, so drops stay unseen until
 * the next one. SO_MEMINFO's SK_MEMINFO_DROPS is the same counter, read with
 * one getsockopt per socket per scrape, on the control thread: exact
 * whenever it is read, and free for the workers.
 */
static int read_drops(int fd, uint32_t *out)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return -errno;
	if (len < (SK_MEMINFO_DROPS + 1) * sizeof(mem[0]))
		return -EPROTO;
	*out = mem[SK_MEMINFO_DROPS];
	return 0;
}

void dp_sock_metrics(struct dp_sock *s, struct metrics_backend *out)
{
	unsigned n = out->n_sockets;

	for (unsigned w = 0; w < s->n_workers; w++) {
		struct sock_worker *sw = &s->w[w];

		for (unsigned l = 0; l < s->n_listen && n < METRICS_MAX_SOCKETS; l++) {
			struct metrics_socket *ms = &out->sockets[n++];
			uint32_t now = 0;

			/* Unsigned difference: right across the kernel's 32-bit wrap. */
			if (read_drops(sw->fds[l], &now) == 0) {
				sw->drops.total[l] += (uint32_t)(now - sw->drops.seen[l]);
				sw->drops.seen[l] = now;
			}
			ms->worker = w;
			dp_addr_format(&s->listen[l], ms->listen);
			ms->rx_drops = sw->drops.total[l];
		}
	}
	out->n_sockets = n;
}

const char *dp_sock_io_detail(const struct dp_sock *s)
{
	return s->w[0].detail[0] ? s->w[0].detail : s->ops->name;
}
