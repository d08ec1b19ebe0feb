/*
 * udpio_uring.c — the io_uring engine (udpio.h).
 *
 * One ring per worker, created on the worker's thread (SINGLE_ISSUER and
 * DEFER_TASKRUN where the kernel has them, 6.1+: completions are produced
 * only inside our own io_uring_enter, in one batch per loop iteration).
 *
 * RX, kernel 6.0 and later: one multishot IORING_OP_RECVMSG per socket,
 * selecting buffers from a ring of provided buffers that are mbuf data
 * areas. Each buffer is registered HDR bytes before the mbuf's data start,
 * so the kernel's struct io_uring_recvmsg_out and the source address land in
 * the headroom and the datagram lands exactly at rte_pktmbuf_mtod():
 *
 *   buf_addr ........ headroom ........|<- data room ->
 *                   [recvmsg_out][name]|payload......
 *                   ^ registered address (data start - HDR)
 *
 * A completion names its buffer id; that mbuf goes to the core and a fresh
 * one takes its id. Multishot stops (no IORING_CQE_F_MORE) when buffers run
 * out or on error; it is re-armed on the next burst.
 *
 * RX, older kernels (or POSTERN_URING_RX=batch, for measurements): a batch
 * of plain RECVMSG SQEs per socket, each with its own mbuf, re-armed as they
 * complete.
 *
 * TX: one SENDMSG SQE per packet; the mbuf is freed when its completion
 * arrives. SQEs queue up and go to the kernel with the next enter (the next
 * burst or the idle wait), so one syscall serves a whole loop iteration.
 *
 * Idle: a READ of the wake eventfd is always armed; the wait is
 * io_uring_submit_and_wait_timeout() for one completion.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/eal.h"
#include "dataplane/udpio.h"

enum {
	SQ_ENTRIES = 512,
	CQ_ENTRIES = 4096,
	RX_BUFS = 512,			/* provided mbufs per worker (power of 2) */
	BGID = 0,
	RX_PER_FD = 32,			/* plain RECVMSG SQEs per socket (batch mode) */
	RX_SLOTS = RX_PER_FD * DP_SOCK_MAX_LISTEN,
	TX_SLOTS = 512,
	STASH = RX_BUFS + RX_SLOTS,	/* received, not yet handed out */
	HDR = sizeof(struct io_uring_recvmsg_out) + sizeof(struct sockaddr_in6),
	TEARDOWN_MS = 500,
};

/* user_data: kind in the top 8 bits, an index below. */
enum kind {
	K_RX_MULTI = 1,		/* index = listener */
	K_RX_ONE,		/* index = rx slot */
	K_TX,			/* index = tx slot */
	K_WAKE,
	K_CANCEL,
};

static inline uint64_t tag(enum kind k, uint32_t i)
{
	return (uint64_t)k << 56 | i;
}

struct rx_slot {
	struct msghdr msg;
	struct iovec iov;
	union udpio_sa from;
	struct rte_mbuf *m;
	uint16_t listener;
	bool armed;
};

struct tx_slot {
	struct msghdr msg;
	struct iovec iov;
	union udpio_sa to;
	struct rte_mbuf *m;
};

struct uring {
	struct io_uring ring;
	const int *fds;
	unsigned n_fds;
	int wake_fd;
	struct rte_mempool *pool;
	bool multishot;
	unsigned inflight;		/* requests the kernel holds (teardown) */
	char detail[80];
	struct dp_sock_io_stats st;

	/* multishot */
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	struct msghdr ms_msg;		/* template: name room for IPv6, no control */
	struct rte_mbuf *bufs[RX_BUFS];
	uint16_t missing[RX_BUFS];	/* buffer ids waiting for a fresh mbuf */
	unsigned n_missing;
	bool armed[DP_SOCK_MAX_LISTEN];

	/* batch */
	struct rx_slot rx[RX_SLOTS];
	unsigned rx_armed;
	uint16_t rearm[RX_SLOTS];
	unsigned n_rearm;

	struct tx_slot tx[TX_SLOTS];
	uint16_t tx_free[TX_SLOTS];
	unsigned n_tx_free;

	uint64_t wake_val;
	bool wake_armed, woken;

	struct rte_mbuf *stash[STASH];
	unsigned stash_head, n_stash;
};

static bool kernel_has_multishot_recvmsg(void)
{
	const char *force = getenv("POSTERN_URING_RX");
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (force && !strcmp(force, "batch"))
		return false;
	if (force && !strcmp(force, "multishot"))
		return true;
	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	(void)minor;
	return major >= 6;
}

static int ring_init(struct uring *io)
{
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	static const char *const flag_names[] = { "defer_taskrun", "coop_taskrun", "plain" };
	int ret = -EINVAL;

	for (unsigned i = 0; i < RTE_DIM(flag_sets); i++) {
		struct io_uring_params p = {
			.flags = IORING_SETUP_CQSIZE | flag_sets[i],
			.cq_entries = CQ_ENTRIES,
		};

		ret = io_uring_queue_init_params(SQ_ENTRIES, &io->ring, &p);
		if (ret == 0) {
			snprintf(io->detail, sizeof(io->detail), "uring (%s recvmsg, %s)",
				 io->multishot ? "multishot" : "batched", flag_names[i]);
			return 0;
		}
		if (ret != -EINVAL)
			break;
	}
	return ret;
}

/* An SQE, submitting what is queued if the SQ is full. NULL if still none. */
static struct io_uring_sqe *get_sqe(struct uring *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);

	if (!sqe) {
		io_uring_submit(&io->ring);
		sqe = io_uring_get_sqe(&io->ring);
	}
	return sqe;
}

static void *buf_addr(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, char *) - HDR;
}

/*
 * Give the kernel an mbuf for each missing buffer id we can allocate, but
 * never more than the stash could take if they all completed at once.
 */
static void provide_buffers(struct uring *io)
{
	struct rte_mbuf *m[RX_BUFS];
	unsigned provided = RX_BUFS - io->n_missing;
	unsigned want = RTE_MIN(io->n_missing, STASH - io->n_stash - provided), n = want;
	unsigned mask = (unsigned)io_uring_buf_ring_mask(RX_BUFS);

	if (n == 0)
		return;
	/* rte_pktmbuf_alloc_bulk is all or nothing: halve until it fits. */
	while (n && rte_pktmbuf_alloc_bulk(io->pool, m, n))
		n /= 2;
	if (n < want)
		io->st.rx_nombuf++;
	for (unsigned i = 0; i < n; i++) {
		uint16_t bid = io->missing[--io->n_missing];

		io->bufs[bid] = m[i];
		io_uring_buf_ring_add(io->br, buf_addr(m[i]), HDR + rte_pktmbuf_tailroom(m[i]),
				      bid, (int)mask, (int)i);
	}
	io_uring_buf_ring_advance(io->br, (int)n);
}

static void arm_multishot(struct uring *io)
{
	/* Without a buffer the request would end at once with -ENOBUFS. */
	if (io->n_missing == RX_BUFS)
		return;
	for (unsigned l = 0; l < io->n_fds; l++) {
		struct io_uring_sqe *sqe;

		if (io->armed[l] || !(sqe = get_sqe(io)))
			continue;
		io_uring_prep_recvmsg_multishot(sqe, io->fds[l], &io->ms_msg, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
		io_uring_sqe_set_data64(sqe, tag(K_RX_MULTI, l));
		io->armed[l] = true;
		io->inflight++;
	}
}

static void arm_batch(struct uring *io)
{
	/* As for provide_buffers(): everything armed must fit the stash. */
	while (io->n_rearm && io->n_stash + io->rx_armed < STASH) {
		struct rx_slot *s = &io->rx[io->rearm[io->n_rearm - 1]];
		struct io_uring_sqe *sqe;

		if (!s->m && !(s->m = rte_pktmbuf_alloc(io->pool))) {
			io->st.rx_nombuf++;
			return;
		}
		sqe = get_sqe(io);
		if (!sqe)
			return;
		s->iov.iov_base = rte_pktmbuf_mtod(s->m, void *);
		s->iov.iov_len = rte_pktmbuf_tailroom(s->m);
		s->msg = (struct msghdr){
			.msg_name = &s->from,
			.msg_namelen = sizeof(s->from),
			.msg_iov = &s->iov,
			.msg_iovlen = 1,
		};
		io_uring_prep_recvmsg(sqe, io->fds[s->listener], &s->msg, 0);
		io_uring_sqe_set_data64(sqe, tag(K_RX_ONE, io->rearm[--io->n_rearm]));
		s->armed = true;
		io->rx_armed++;
		io->inflight++;
	}
}

static void arm_wake(struct uring *io)
{
	struct io_uring_sqe *sqe;

	if (io->wake_armed || !(sqe = get_sqe(io)))
		return;
	io_uring_prep_read(sqe, io->wake_fd, &io->wake_val, sizeof(io->wake_val), 0);
	io_uring_sqe_set_data64(sqe, tag(K_WAKE, 0));
	io->wake_armed = true;
	io->inflight++;
}

static void stash_push(struct uring *io, struct rte_mbuf *m)
{
	io->stash[(io->stash_head + io->n_stash++) % STASH] = m;
}

static void rx_error(struct uring *io, int res)
{
	/*
	 * -ENOBUFS: the socket held more datagrams than buffers were provided;
	 * not an error, the multishot is re-armed with fresh buffers next burst.
	 */
	if (res != -ENOBUFS && res != -ECANCELED && res != -EAGAIN && res != -EINTR) {
		io->st.rx_errors++;
		io->st.rx_errno = -res;
	}
}

static void complete_multishot(struct uring *io, struct io_uring_cqe *cqe, uint16_t l)
{
	struct io_uring_recvmsg_out *o;
	struct rte_mbuf *m;
	uint16_t bid;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		io->armed[l] = false;
		io->inflight--;
	}
	if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER)) {
		rx_error(io, cqe->res);
		return;
	}
	bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	m = io->bufs[bid];
	io->bufs[bid] = NULL;
	io->missing[io->n_missing++] = bid;
	o = io_uring_recvmsg_validate(buf_addr(m), cqe->res, &io->ms_msg);
	if (!o || o->namelen > sizeof(union udpio_sa)) {
		io->st.rx_errors++;
		io->st.rx_errno = EPROTO;
		rte_pktmbuf_free(m);
		return;
	}
	/* MSG_TRUNC: the length is the whole room, longer than HOP_MTU (eal.h). */
	m->data_len = (uint16_t)io_uring_recvmsg_payload_length(o, cqe->res, &io->ms_msg);
	m->pkt_len = m->data_len;
	udpio_meta_rx(m, io_uring_recvmsg_name(o), l);
	stash_push(io, m);
}

static void complete_one(struct uring *io, struct io_uring_cqe *cqe, uint16_t i)
{
	struct rx_slot *s = &io->rx[i];

	s->armed = false;
	io->rx_armed--;
	io->inflight--;
	if (cqe->res == -ECANCELED)
		return;
	io->rearm[io->n_rearm++] = i;
	if (cqe->res < 0) {
		rx_error(io, cqe->res);	/* keep the mbuf for the re-arm */
		return;
	}
	s->m->data_len = (uint16_t)cqe->res;
	s->m->pkt_len = s->m->data_len;
	udpio_meta_rx(s->m, &s->from, s->listener);
	stash_push(io, s->m);
	s->m = NULL;
}

static void complete_tx(struct uring *io, struct io_uring_cqe *cqe, uint16_t i)
{
	struct tx_slot *s = &io->tx[i];

	io->inflight--;
	if (cqe->res < 0 && cqe->res != -ECANCELED) {
		io->st.tx_errors++;
		io->st.tx_errno = -cqe->res;
	}
	rte_pktmbuf_free(s->m);
	s->m = NULL;
	io->tx_free[io->n_tx_free++] = i;
}

/* Handle every completion the kernel has posted. */
static void reap(struct uring *io)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;

	io_uring_for_each_cqe(&io->ring, head, cqe) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		uint32_t i = (uint32_t)ud;

		/* provide_buffers() keeps stash + kernel-held buffers <= STASH. */
		if (io->n_stash == STASH)
			break;
		switch ((enum kind)(ud >> 56)) {
		case K_RX_MULTI:
			complete_multishot(io, cqe, (uint16_t)i);
			break;
		case K_RX_ONE:
			complete_one(io, cqe, (uint16_t)i);
			break;
		case K_TX:
			complete_tx(io, cqe, (uint16_t)i);
			break;
		case K_WAKE:
			io->wake_armed = false;
			io->woken = true;
			io->inflight--;
			break;
		case K_CANCEL:
			break;
		}
		seen++;
	}
	io_uring_cq_advance(&io->ring, seen);
}

static int uring_create(void **out, const struct udpio_setup *s)
{
	struct io_uring_buf_reg reg = { 0 };
	struct uring *io;
	int ret;

	io = rte_zmalloc("udpio_uring", sizeof(*io), RTE_CACHE_LINE_SIZE);
	if (!io)
		return -ENOMEM;
	io->fds = s->fds;
	io->n_fds = s->n_fds;
	io->wake_fd = s->wake_fd;
	io->pool = s->pool;
	io->multishot = kernel_has_multishot_recvmsg();
	ret = ring_init(io);
	if (ret)
		goto err_io;

	for (unsigned i = 0; i < TX_SLOTS; i++)
		io->tx_free[io->n_tx_free++] = (uint16_t)(TX_SLOTS - 1 - i);

	if (io->multishot) {
		io->br_bytes = RX_BUFS * sizeof(struct io_uring_buf);
		io->br = mmap(NULL, io->br_bytes, PROT_READ | PROT_WRITE,
			      MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		if (io->br == MAP_FAILED) {
			ret = -errno;
			goto err_ring;
		}
		reg.ring_addr = (unsigned long)(uintptr_t)io->br;
		reg.ring_entries = RX_BUFS;
		reg.bgid = BGID;
		ret = io_uring_register_buf_ring(&io->ring, &reg, 0);
		if (ret)
			goto err_map;
		io_uring_buf_ring_init(io->br);
		io->ms_msg.msg_namelen = sizeof(struct sockaddr_in6);
		for (unsigned i = 0; i < RX_BUFS; i++)
			io->missing[io->n_missing++] = (uint16_t)(RX_BUFS - 1 - i);
		provide_buffers(io);
		arm_multishot(io);
	} else {
		for (unsigned l = 0; l < s->n_fds; l++) {
			for (unsigned k = 0; k < RX_PER_FD; k++) {
				uint16_t i = (uint16_t)(l * RX_PER_FD + k);

				io->rx[i].listener = (uint16_t)l;
				io->rearm[io->n_rearm++] = i;
			}
		}
		arm_batch(io);
	}
	arm_wake(io);
	ret = io_uring_submit(&io->ring);
	if (ret < 0)
		goto err_bufs;
	*out = io;
	return 0;

err_bufs:
	/* Nothing was submitted: no request holds a buffer yet. */
	for (unsigned i = 0; i < RX_BUFS; i++)
		rte_pktmbuf_free(io->bufs[i]);
	for (unsigned i = 0; i < RX_SLOTS; i++)
		rte_pktmbuf_free(io->rx[i].m);
	if (io->multishot)
		io_uring_unregister_buf_ring(&io->ring, BGID);
err_map:
	if (io->multishot)
		munmap(io->br, io->br_bytes);
err_ring:
	io_uring_queue_exit(&io->ring);
err_io:
	rte_free(io);
	return ret;
}

/*
 * Cancel everything the kernel holds and collect the completions before any
 * mbuf goes back to the pool: a cancelled receive must not write into a
 * buffer someone else already owns.
 */
static void uring_destroy(void *arg)
{
	struct uring *io = arg;
	struct io_uring_sqe *sqe = get_sqe(io);
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() * TEARDOWN_MS / 1000;
	struct __kernel_timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	struct io_uring_cqe *cqe;

	if (sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data64(sqe, tag(K_CANCEL, 0));
	}
	while (io->inflight && rte_get_tsc_cycles() < deadline) {
		io_uring_submit_and_wait_timeout(&io->ring, &cqe, 1, &ts, NULL);
		reap(io);
	}
	while (io->n_stash) {
		rte_pktmbuf_free(io->stash[io->stash_head]);
		io->stash_head = (io->stash_head + 1) % STASH;
		io->n_stash--;
	}
	if (io->multishot) {
		io_uring_unregister_buf_ring(&io->ring, BGID);
		munmap(io->br, io->br_bytes);
	}
	io_uring_queue_exit(&io->ring);
	/* After queue_exit no request exists, whatever the count said. */
	for (unsigned i = 0; i < RX_BUFS; i++)
		rte_pktmbuf_free(io->bufs[i]);
	for (unsigned i = 0; i < RX_SLOTS; i++)
		rte_pktmbuf_free(io->rx[i].m);
	for (unsigned i = 0; i < TX_SLOTS; i++)
		rte_pktmbuf_free(io->tx[i].m);
	rte_free(io);
}

static uint16_t uring_rx(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct uring *io = arg;
	uint16_t out = 0;

	if (io->multishot) {
		provide_buffers(io);
		arm_multishot(io);
	} else {
		arm_batch(io);
	}
	arm_wake(io);
	/*
	 * One enter: submit queued SQEs (TX of the last iteration, re-arms) and
	 * run the deferred completions. Skipped while completions are waiting
	 * and nothing is queued.
	 */
	if (io_uring_sq_ready(&io->ring) || !io_uring_cq_ready(&io->ring)) {
		int ret = io_uring_submit_and_get_events(&io->ring);

		io->st.rx_calls++;
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			io->st.rx_errors++;
			io->st.rx_errno = -ret;
		}
	}
	reap(io);
	io->woken = false;
	while (out < n && io->n_stash) {
		pkts[out++] = io->stash[io->stash_head];
		io->stash_head = (io->stash_head + 1) % STASH;
		io->n_stash--;
	}
	return out;
}

static uint16_t uring_tx(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct uring *io = arg;
	uint16_t taken = 0;

	while (taken < n) {
		struct rte_mbuf *m = pkts[taken];
		unsigned l = pkt_meta(m)->listener;
		struct io_uring_sqe *sqe;
		struct tx_slot *s;
		uint16_t i;

		if (l >= io->n_fds) {
			io->st.tx_errors++;
			io->st.tx_errno = EBADF;
			rte_pktmbuf_free(m);
			taken++;
			continue;
		}
		if (!io->n_tx_free) {
			/* Completions may be waiting: collect them once. */
			io_uring_submit_and_get_events(&io->ring);
			reap(io);
		}
		if (!io->n_tx_free || !(sqe = get_sqe(io))) {
			io->st.tx_again++;
			break;
		}
		i = io->tx_free[--io->n_tx_free];
		s = &io->tx[i];
		s->m = m;
		s->iov.iov_base = rte_pktmbuf_mtod(m, void *);
		s->iov.iov_len = rte_pktmbuf_data_len(m);
		s->msg = (struct msghdr){
			.msg_name = &s->to,
			.msg_namelen = udpio_meta_tx(m, &s->to),
			.msg_iov = &s->iov,
			.msg_iovlen = 1,
		};
		io_uring_prep_sendmsg(sqe, io->fds[l], &s->msg, 0);
		io_uring_sqe_set_data64(sqe, tag(K_TX, i));
		io->inflight++;
		taken++;
	}
	return taken;
}

static bool uring_wait(void *arg, int timeout_ms)
{
	struct uring *io = arg;
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;
	bool woken;

	if (io->n_stash || io_uring_cq_ready(&io->ring))
		return false;
	arm_wake(io);
	io->st.sleeps++;
	io_uring_submit_and_wait_timeout(&io->ring, &cqe, 1, &ts, NULL);
	reap(io);
	woken = io->woken;
	io->woken = false;
	if (woken)
		io->st.wakeups++;
	return woken;
}

static const char *uring_detail(void *arg)
{
	return ((struct uring *)arg)->detail;
}

static struct dp_sock_io_stats *uring_stats(void *arg)
{
	return &((struct uring *)arg)->st;
}

const struct udpio_ops udpio_uring_ops = {
	.name = "uring",
	.mbufs_held = STASH + TX_SLOTS,
	.create = uring_create,
	.destroy = uring_destroy,
	.rx = uring_rx,
	.tx = uring_tx,
	.wait = uring_wait,
	.detail = uring_detail,
	.stats = uring_stats,
};
