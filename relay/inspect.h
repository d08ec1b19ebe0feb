/*
 * inspect.h — the control plane's window on the workers: list their sessions
 * and channels, end one session (docs/control.md: sessions.list,
 * channels.list, sessions.kick).
 *
 * A worker owns its sessions and channel ends outright, so the main thread
 * never reads or locks its tables. Instead it posts a request in each
 * worker's mailbox (struct inspect_mbox, core.h), wakes the workers (their
 * relay_wake_fn, if the backend set one), and each worker answers on its next
 * relay_worker_poll(): it copies its entries into the caller's buffer, or
 * ends the session, and publishes that it is done. The main thread waits a
 * bounded time. A worker that has not begun by then is withdrawn from the
 * request — it will never touch the caller's buffer — and the request fails
 * with -ETIMEDOUT rather than show part of the picture. (A worker that has
 * begun always finishes: its answer is a bounded copy, with no lock or I/O.)
 *
 * What is shown:
 *   - a session's id is its handle (handle.h): stable while it lives, unique
 *     across workers, never given to another session;
 *   - a channel is listed once, from its agent end (its worker knows the
 *     gateway's session and channel id since ACCEPTED); one still waiting for
 *     ACCEPT shows gateway session 0;
 *   - bytes are CHANNEL_DATA payload bytes the relay accepted from the agent
 *     (to the gateway) and passed on toward it (to the agent);
 *   - entries come in no particular order; @total counts every live one,
 *     also those beyond @cap.
 *
 * Two ways to ask:
 *   inspect_sessions(), inspect_channels(), inspect_kick(): post, wake, sleep
 *     in 1 ms steps for at most @timeout_ms, collect. For a main thread whose
 *     workers run on threads of their own.
 *   inspect_post(), then inspect_collect() until it stops saying -EINPROGRESS,
 *     or inspect_abandon(): for a caller that runs the workers itself (tests).
 *
 * Threads: inspect_answer() on a worker, from relay_worker_poll(); everything
 * else on the main thread (the only writer of the mailboxes), one request at
 * a time.
 */
#ifndef POSTERN_RELAY_INSPECT_H
#define POSTERN_RELAY_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "relay/control.h"
#include "relay/pkt.h"

struct relay;
struct relay_worker;

enum {
	INSPECT_TIMEOUT_MS = 500,	/* what the control plane allows all workers together */
};

enum inspect_kind {
	INSPECT_SESSIONS = 1,		/* @out: struct control_session[@cap] */
	INSPECT_CHANNELS,		/* @out: struct control_channel[@cap] */
	INSPECT_KICK,			/* end session @id */
};

/* One request. The caller fills the first group and keeps it (and @out) until it is over. */
struct inspect_req {
	enum inspect_kind kind;
	void *out;
	size_t cap;
	uint64_t id;

	/* The answer, once inspect_collect() or inspect_abandon() returned it. */
	size_t n;			/* entries written to out[0..n) */
	size_t total;			/* entries the answering workers hold */
	uint64_t missed;		/* bit per worker withdrawn (inspect_abandon) */

	/* Private. */
	size_t next;			/* atomic: the next entry of out a worker may claim */
	uint64_t posted;		/* bit per worker the request went to */
};

/*
 * Post @q to the workers it concerns (all, or a kick's owner) and wake them.
 * @return 0; -EINVAL (bad kind, or no buffer for a list); -ENOENT (a kick
 * whose id names no worker of this relay: nothing is posted); -EBUSY
 * (another request is still posted).
 */
int inspect_post(struct relay *r, struct inspect_req *q);

/*
 * @return -EINPROGRESS until every worker posted to has answered; then the
 * answer: 0 (lists, a kick that ended its session) or -ENOENT (a kick of no
 * live session), with q->n and q->total set, and the mailboxes free again.
 */
int inspect_collect(struct relay *r, struct inspect_req *q);

/*
 * Stop waiting: withdraw @q from every worker that has not begun on it (they
 * are marked in q->missed), let those that have begun finish.
 * @return -ETIMEDOUT if some worker was withdrawn, else what inspect_collect()
 * would have returned. The mailboxes are free again afterwards.
 */
int inspect_abandon(struct relay *r, struct inspect_req *q);

/*
 * inspect_post(), then inspect_collect() every millisecond; inspect_abandon()
 * once @timeout_ms of sleep have passed.
 * @return as inspect_collect() or inspect_abandon(), or inspect_post()'s error.
 */
int inspect_run(struct relay *r, struct inspect_req *q, uint32_t timeout_ms);

/*
 * The control plane's operations (control.h): every live session or channel,
 * at most @cap of them into @out, *@total how many there are; end session @id.
 * @return 0; -ETIMEDOUT (some worker did not answer within @timeout_ms:
 * nothing is shown, and a kick is not done); -ENOENT (kick: no such live
 * session); -EBUSY.
 */
int inspect_sessions(struct relay *r, struct control_session *out, size_t cap, size_t *n,
		     size_t *total, uint32_t timeout_ms);
int inspect_channels(struct relay *r, struct control_channel *out, size_t cap, size_t *n,
		     size_t *total, uint32_t timeout_ms);
int inspect_kick(struct relay *r, uint64_t id, uint32_t timeout_ms);

/*
 * The worker's side: answer the request posted to @w, if it is still posted.
 * A kick ends the session as any session death does (session_destroy: its
 * channels closed with PEER_GONE toward the other side) and is counted in the
 * worker's relay_stats.sessions_kicked (/metrics). @return 1 if it answered,
 * else 0.
 */
unsigned inspect_answer(struct relay_worker *w);

/*
 * @a as text, "192.0.2.1:51820" or "[2001:db8::1]:51820" (RFC 5952, as
 * inet_ntop writes it), without a socket header. CONTROL_ADDR_MAX always
 * suffices.
 */
void inspect_format_addr(const struct pkt_addr *a, char out[CONTROL_ADDR_MAX]);

#endif /* POSTERN_RELAY_INSPECT_H */
