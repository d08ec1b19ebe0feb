/*
 * inspect.c — control-plane requests answered by the workers (inspect.h).
 *
 * The mailbox protocol is the state list above struct inspect_mbox in core.h.
 * Ordering: the main thread writes the request, then stores POSTED with
 * release; a worker takes it with an acquiring compare-and-swap, so it sees
 * the request whole. The worker writes its entries, then stores DONE with
 * release; the main thread reads DONE with acquire before it reads them.
 * Withdrawal is a compare-and-swap POSTED → IDLE by the main thread: exactly
 * one of it and the worker wins, so a withdrawn worker never writes.
 */
#include "relay/inspect.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "relay/core.h"
#include "relay/handle.h"
#include "relay/session.h"

static uint64_t bit(unsigned worker)
{
	return UINT64_C(1) << worker;
}

static uint32_t state(const struct relay_worker *w)
{
	return __atomic_load_n(&w->mbox.state, __ATOMIC_ACQUIRE);
}

int inspect_post(struct relay *r, struct inspect_req *q)
{
	unsigned first = 0, end = r->p.n_workers;

	if (q->kind != INSPECT_SESSIONS && q->kind != INSPECT_CHANNELS && q->kind != INSPECT_KICK)
		return -EINVAL;
	if (q->kind != INSPECT_KICK && q->cap && !q->out)
		return -EINVAL;
	for (unsigned i = 0; i < r->p.n_workers; i++)
		if (__atomic_load_n(&r->w[i]->mbox.state, __ATOMIC_RELAXED) != INSPECT_IDLE)
			return -EBUSY;
	if (q->kind == INSPECT_KICK) {
		/* Only the owner may end a session; the handle names it. */
		first = handle_worker(q->id);
		if (first >= r->p.n_workers || q->id == HANDLE_NONE)
			return -ENOENT;
		end = first + 1;
	}
	q->n = q->total = 0;
	q->missed = q->posted = 0;
	__atomic_store_n(&q->next, 0, __ATOMIC_RELAXED);
	for (unsigned i = first; i < end; i++) {
		struct inspect_mbox *mb = &r->w[i]->mbox;

		mb->req = q;
		mb->total = 0;
		mb->result = 0;
		q->posted |= bit(i);
		__atomic_store_n(&mb->state, INSPECT_POSTED, __ATOMIC_RELEASE);
	}
	for (unsigned i = first; i < end; i++)
		if (r->w[i]->wake)
			r->w[i]->wake(r->w[i]->wake_ctx);
	return 0;
}

/* Every posted worker has answered or was withdrawn: read the answers, free the mailboxes. */
static int finish(struct relay *r, struct inspect_req *q)
{
	size_t used = __atomic_load_n(&q->next, __ATOMIC_RELAXED);
	int ret = 0;

	for (unsigned i = 0; i < r->p.n_workers; i++) {
		struct inspect_mbox *mb = &r->w[i]->mbox;

		if (!(q->posted & bit(i)))
			continue;
		if (!(q->missed & bit(i))) {
			q->total += mb->total;
			if (mb->result)
				ret = mb->result;
		}
		mb->req = NULL;
		__atomic_store_n(&mb->state, INSPECT_IDLE, __ATOMIC_RELAXED);
	}
	q->n = used < q->cap ? used : q->cap;
	q->posted = 0;
	return q->missed ? -ETIMEDOUT : ret;
}

int inspect_collect(struct relay *r, struct inspect_req *q)
{
	for (unsigned i = 0; i < r->p.n_workers; i++)
		if ((q->posted & bit(i)) && state(r->w[i]) != INSPECT_DONE)
			return -EINPROGRESS;
	return finish(r, q);
}

int inspect_abandon(struct relay *r, struct inspect_req *q)
{
	for (unsigned i = 0; i < r->p.n_workers; i++) {
		struct inspect_mbox *mb = &r->w[i]->mbox;
		uint32_t expect = INSPECT_POSTED;

		if (!(q->posted & bit(i)))
			continue;
		if (__atomic_compare_exchange_n(&mb->state, &expect, INSPECT_IDLE, false,
						__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
			q->missed |= bit(i);
			continue;
		}
		/* It has begun: it writes into the caller's buffer until it says DONE. */
		while (state(r->w[i]) != INSPECT_DONE)
			sched_yield();
	}
	return finish(r, q);
}

int inspect_run(struct relay *r, struct inspect_req *q, uint32_t timeout_ms)
{
	const struct timespec step = { .tv_nsec = 1000000 };
	int ret;

	ret = inspect_post(r, q);
	if (ret)
		return ret;
	/* Counting sleeps, not reading a clock: the core reads none (worker.h). */
	for (uint32_t slept = 0;; slept++) {
		ret = inspect_collect(r, q);
		if (ret != -EINPROGRESS)
			return ret;
		if (slept >= timeout_ms)
			return inspect_abandon(r, q);
		nanosleep(&step, NULL);
	}
}

int inspect_sessions(struct relay *r, struct control_session *out, size_t cap, size_t *n,
		     size_t *total, uint32_t timeout_ms)
{
	struct inspect_req q = { .kind = INSPECT_SESSIONS, .out = out, .cap = cap };
	int ret = inspect_run(r, &q, timeout_ms);

	*n = ret ? 0 : q.n;
	*total = ret ? 0 : q.total;
	return ret;
}

int inspect_channels(struct relay *r, struct control_channel *out, size_t cap, size_t *n,
		     size_t *total, uint32_t timeout_ms)
{
	struct inspect_req q = { .kind = INSPECT_CHANNELS, .out = out, .cap = cap };
	int ret = inspect_run(r, &q, timeout_ms);

	*n = ret ? 0 : q.n;
	*total = ret ? 0 : q.total;
	return ret;
}

int inspect_kick(struct relay *r, uint64_t id, uint32_t timeout_ms)
{
	struct inspect_req q = { .kind = INSPECT_KICK, .id = id };

	return inspect_run(r, &q, timeout_ms);
}

/* ---- the worker's side ------------------------------------------------------ */

/* The next entry of the caller's buffer this worker may fill, or NULL once it is full. */
static void *claim(struct inspect_req *q, size_t size)
{
	size_t k = __atomic_fetch_add(&q->next, 1, __ATOMIC_RELAXED);

	return k < q->cap ? (uint8_t *)q->out + k * size : NULL;
}

static void describe_session(const struct relay_worker *w, const struct session *s,
			     uint64_t id, struct control_session *o)
{
	const struct token *tok = &s->tok;
	unsigned nt = tok->n_tunnels < TOKEN_MAX_TUNNELS ? tok->n_tunnels : TOKEN_MAX_TUNNELS;

	memset(o, 0, sizeof(*o));
	o->id = id;
	o->worker = w->id;
	o->role = tok->role;
	memcpy(o->tenant, tok->tenant, sizeof(o->tenant));
	memcpy(o->tunnels, tok->tunnels, nt * sizeof(o->tunnels[0]));
	o->n_tunnels = nt;
	inspect_format_addr(&s->peer, o->peer);
	memcpy(o->token_id, tok->id, sizeof(o->token_id));
	o->established_s = core_unix_at(w, s->established_ns);
	o->idle_ms = w->now > s->last_rx_ns ? (w->now - s->last_rx_ns) / 1000000u : 0;
	o->rx_packets = s->rx_packets;
	o->rx_bytes = s->rx_bytes;
	o->tx_packets = s->tx_packets;
	o->tx_bytes = s->tx_bytes;
	o->channels = s->load;
}

static size_t list_sessions(struct relay_worker *w, struct inspect_req *q)
{
	size_t total = 0;

	for (uint32_t i = 0; i < w->sess.free.cap; i++) {
		const struct session *s = &w->sess.s[i];
		struct control_session *o;

		if (!s->live)
			continue;
		total++;
		o = claim(q, sizeof(*o));
		if (o)
			describe_session(w, s, session_handle(w, s), o);
	}
	return total;
}

static void describe_channel(const struct relay_worker *w, const struct chan *c,
			     const struct session *agent, struct control_channel *o)
{
	const struct chan_info *in = &w->chinfo[c - w->chans.c];

	memset(o, 0, sizeof(*o));
	o->agent_session = session_handle(w, agent);
	o->agent_channel = c->id;
	/* Still OPENING: the gateway's side is not known yet (inspect.h). */
	o->gateway_session = c->state == CHAN_OPEN ? in->peer_session : 0;
	o->gateway_channel = c->state == CHAN_OPEN ? in->peer_id : 0;
	memcpy(o->tunnel, in->tunnel, sizeof(o->tunnel));
	memcpy(o->route, in->route, sizeof(o->route));
	o->opened_s = core_unix_at(w, c->opened_ns);
	o->bytes_to_gateway = in->bytes_in;
	o->bytes_to_agent = in->bytes_out;
}

/* Each channel once: from its agent end, which is the end an OPEN creates first. */
static size_t list_channels(struct relay_worker *w, struct inspect_req *q)
{
	size_t total = 0;

	for (uint32_t i = 0; i < w->chans.free.cap; i++) {
		const struct chan *c = &w->chans.c[i];
		const struct session *s;
		struct control_channel *o;

		if (c->state != CHAN_OPENING && c->state != CHAN_OPEN)
			continue;
		s = &w->sess.s[c->session];
		if (s->tok.role != TOKEN_ROLE_AGENT)
			continue;
		total++;
		o = claim(q, sizeof(*o));
		if (o)
			describe_channel(w, c, s, o);
	}
	return total;
}

static int kick(struct relay_worker *w, uint64_t id)
{
	struct session *s = session_get(w, id);

	if (!s)
		return -ENOENT;
	session_destroy(w, s);
	/*
	 * Two counts of the same event: w->kicked for relay_sessions_kicked()
	 * (the log line), stats.sessions_kicked for /metrics, which sees a
	 * worker only through its struct relay_stats. Both are this worker's.
	 */
	__atomic_store_n(&w->kicked, w->kicked + 1, __ATOMIC_RELAXED);
	w->stats.sessions_kicked++;
	return 0;
}

unsigned inspect_answer(struct relay_worker *w)
{
	struct inspect_mbox *mb = &w->mbox;
	uint32_t expect = INSPECT_POSTED;
	struct inspect_req *q;

	if (!__atomic_compare_exchange_n(&mb->state, &expect, INSPECT_BUSY, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;	/* withdrawn meanwhile */
	q = mb->req;
	switch (q->kind) {
	case INSPECT_SESSIONS:
		mb->total = list_sessions(w, q);
		break;
	case INSPECT_CHANNELS:
		mb->total = list_channels(w, q);
		break;
	case INSPECT_KICK:
		mb->result = kick(w, q->id);
		break;
	}
	__atomic_store_n(&mb->state, INSPECT_DONE, __ATOMIC_RELEASE);
	return 1;
}

/* ---- addresses ------------------------------------------------------------------ */

/* RFC 5952 §4: the longest run of two or more zero groups (the first of equals) is "::". */
static void zero_run(const uint16_t g[8], int *start, int *len)
{
	*start = -1;
	*len = 0;
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > *len && j - i >= 2) {
			*start = i;
			*len = j - i;
		}
		i = j > i ? j : i + 1;
	}
}

static void format_v6(const uint8_t b[16], char *out, size_t cap)
{
	uint16_t g[8];
	size_t n = 0;
	int start, len;

	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
	zero_run(g, &start, &len);
	for (int i = 0; i < 8 && n < cap; i++) {
		if (i == start) {
			n += (size_t)snprintf(out + n, cap - n, "::");
			i += len - 1;
			continue;
		}
		/* As inet_ntop: IPv4-mapped and -compatible addresses end in dotted quads. */
		if (i == 6 && start == 0 && (len == 6 || (len == 5 && g[5] == 0xffff))) {
			n += (size_t)snprintf(out + n, cap - n, "%s%u.%u.%u.%u",
					      out[n - 1] != ':' ? ":" : "", b[12], b[13], b[14],
					      b[15]);
			break;
		}
		n += (size_t)snprintf(out + n, cap - n, "%s%x", n && out[n - 1] != ':' ? ":" : "",
				      g[i]);
	}
}

void inspect_format_addr(const struct pkt_addr *a, char out[CONTROL_ADDR_MAX])
{
	char host[40];	/* 8 groups of 4 and 7 colons, and a NUL */

	if (a->family == PKT_AF_INET) {
		snprintf(out, CONTROL_ADDR_MAX, "%u.%u.%u.%u:%u", a->addr[0], a->addr[1],
			 a->addr[2], a->addr[3], a->port);
	} else if (a->family == PKT_AF_INET6) {
		format_v6(a->addr, host, sizeof(host));
		snprintf(out, CONTROL_ADDR_MAX, "[%s]:%u", host, a->port);
	} else {
		snprintf(out, CONTROL_ADDR_MAX, "-");
	}
}
