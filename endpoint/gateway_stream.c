/*
 * gateway_stream.c — one QUIC stream = one upstream connection
 * (docs/protocol.md §10.4, docs/gateway.md "routes"), and its audit line.
 *
 *   STREAM_OPENED(route)
 *     ──shutting down──▶ reset 0x104, audit "shutdown"
 *     ──no such route (or not the OPEN's)──▶ reset 0x101, "unknown_route"
 *     ──allowed_ips refuses──▶ reset 0x103, "not_allowed" + why
 *     ──upstream_open fails──▶ reset 0x102, "upstream_refused" + why
 *     ──▶ pump (TCP: PUMP_CONNECTING) ──pump_done──▶ audit line, upstream closed
 *
 * A command's process is reaped without blocking the loop: SIGTERM when its
 * stream ends, a look every REAP_POLL_NS, SIGKILL after REAP_GRACE_NS.
 */
#include "endpoint/gateway_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "relay/log.h"

#define REAP_GRACE_NS (2 * QUIC_NS_PER_S)
#define REAP_POLL_NS (50 * QUIC_NS_PER_MS)

static void list_add(struct gw_stream **head, struct gw_stream *st)
{
	st->prev = NULL;
	st->next = *head;
	if (*head)
		(*head)->prev = st;
	*head = st;
}

static void list_del(struct gw_stream **head, struct gw_stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		*head = st->next;
	if (st->next)
		st->next->prev = st->prev;
	st->next = st->prev = NULL;
}

/* Who is asking, for the audit line: the agent's fingerprint, principal, relay. */
static void fill_who(struct gw_conn *c, char agent[QUIC_FP_HEX_LEN + 1],
		     char principal[FRAME_PRINCIPAL_MAX + 1], char relay[HOP_LINK_ADDR_MAX])
{
	uint8_t fp[QUIC_FP_LEN];

	agent[0] = '\0';
	if (quic_conn_peer_fingerprint(c->q, fp))
		gw_fmt_hex(agent, fp, QUIC_FP_LEN);
	snprintf(principal, FRAME_PRINCIPAL_MAX + 1, "%s", c->principal);
	snprintf(relay, HOP_LINK_ADDR_MAX, "%s",
		 c->relay >= 0 ? hop_link_addr(c->g->link, (unsigned)c->relay) : "");
}

static const char *or_null(const char *s)
{
	return s && s[0] ? s : NULL;
}

static void audit(struct gateway *g, const struct audit_record *r)
{
	int ret = audit_write(g->audit, r);

	if (ret < 0)
		log_error("event=audit_write_failed err=%s", strerror(-ret));
}

/* A stream refused before it had an upstream: reset it and write its line now. */
static void refuse(struct gw_conn *c, struct quic_stream *s, const char *route, uint64_t code,
		   enum audit_reason reason, const char *detail)
{
	struct gateway *g = c->g;
	char agent[QUIC_FP_HEX_LEN + 1], principal[FRAME_PRINCIPAL_MAX + 1];
	char relay[HOP_LINK_ADDR_MAX];
	struct audit_record r = { 0 };

	quic_stream_reset(s, code, g->now);
	fill_who(c, agent, principal, relay);
	log_warn("event=stream_refused route=%s agent=%s reason=%s why=\"%s\"", route,
		 agent[0] ? agent : "-", audit_reason_name(reason), detail ? detail : "");
	r.route = route;
	r.agent = or_null(agent);
	r.principal = or_null(principal);
	r.relay = or_null(relay);
	r.reason = reason;
	r.detail = detail;
	audit(g, &r);
}

void gw_stream_opened(struct gw_conn *c, struct quic_stream *s, const char *route)
{
	struct gateway *g = c->g;
	const struct gw_route *rt;
	char why[UPSTREAM_WHY_MAX], detail[UPSTREAM_WHY_MAX + 64];
	struct gw_stream *st;
	struct upstream *u;
	int rfd, wfd, ret;

	if (g->shutting_down) {
		refuse(c, s, route, QUIC_APP_SHUTDOWN, AUDIT_SHUTDOWN,
		       "the gateway is shutting down");
		return;
	}
	rt = gw_config_find_route(g->cfg, route);
	if (!rt) {
		refuse(c, s, route, QUIC_APP_UNKNOWN_ROUTE, AUDIT_UNKNOWN_ROUTE, "no such route");
		return;
	}
	if (c->route[0] && strcmp(c->route, route) != 0) {
		snprintf(detail, sizeof(detail), "the channel was opened for route %s", c->route);
		refuse(c, s, route, QUIC_APP_UNKNOWN_ROUTE, AUDIT_UNKNOWN_ROUTE, detail);
		return;
	}
	why[0] = '\0';
	ret = upstream_open(&u, &rt->target, g->cfg->allowed_ips, why, sizeof(why));
	if (ret == -EPERM) {
		refuse(c, s, route, QUIC_APP_UPSTREAM_NOT_ALLOWED, AUDIT_NOT_ALLOWED, why);
		return;
	}
	if (ret < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s", strerror(-ret));
		refuse(c, s, route, QUIC_APP_UPSTREAM_REFUSED, AUDIT_UPSTREAM_REFUSED, why);
		return;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		goto err_upstream;
	rfd = upstream_read_fd(u);
	wfd = upstream_write_fd(u);
	/* The upstream owns its fds (upstream_destroy closes them). */
	/* The stream's bytes of a turn leave in one write (gw_stream_sweep). */
	ret = pump_create(&st->pump, s, rfd, wfd,
			  PUMP_KEEP_FDS | PUMP_DEFER_WRITES |
			  (upstream_kind(u) == UPSTREAM_TCP ? PUMP_CONNECTING : 0));
	if (ret < 0)
		goto err_stream;
	/* A broken upstream mid-stream: the agent hears "upstream refused" (§10.4). */
	pump_set_error_code(st->pump, QUIC_APP_UPSTREAM_REFUSED);
	st->conn = c;
	st->up = u;
	st->started_ns = g->now;
	st->rw = (struct gw_watch){ .kind = GW_WATCH_STREAM, .fd = -1, .stream = st };
	st->ww = st->rw;
	snprintf(st->route, sizeof(st->route), "%s", route);
	fill_who(c, st->agent, st->principal, st->relay);
	quic_stream_set_user(s, st);
	list_add(&g->streams, st);
	g->n_streams++;
	c->streams++;
	log_info("event=stream_open route=%s agent=%s upstream=%s", route, st->agent,
		 upstream_peer(u));
	return;

err_stream:
	free(st);
err_upstream:
	upstream_destroy(u, 0);
	refuse(c, s, route, QUIC_APP_UPSTREAM_REFUSED, AUDIT_UPSTREAM_REFUSED, "out of memory");
}

void gw_stream_data(struct gw_conn *c, struct quic_stream *s, const uint8_t *data, size_t len,
		    bool fin)
{
	struct gw_stream *st = quic_stream_user(s);

	if (st)
		pump_stream_data(st->pump, data, len, fin, c->g->now);
}

void gw_stream_event(struct gw_conn *c, const struct quic_event *ev)
{
	struct gw_stream *st = ev->stream ? quic_stream_user(ev->stream) : NULL;

	if (!st)
		return;		/* refused at STREAM_OPENED, or not a stream event */
	switch (ev->type) {
	case QUIC_EV_STREAM_WRITABLE:
		pump_stream_writable(st->pump, c->g->now);
		break;
	case QUIC_EV_STREAM_RESET:
		pump_stream_reset(st->pump, ev->code);
		break;
	case QUIC_EV_STREAM_CLOSED:
		pump_stream_closed(st->pump, ev->error != QUIC_ERR_NONE);
		st->conn = NULL;
		c->streams--;
		break;
	default:
		break;
	}
}

void gw_stream_fd_event(struct gateway *g, struct gw_watch *w, uint32_t events)
{
	pump_fd_event(w->stream->pump, w->fd, events, g->now);
}

static enum audit_reason end_reason(const struct gw_stream *st, const struct pump_result *r)
{
	switch (r->end) {
	case PUMP_END_FIN:
		return AUDIT_FIN;
	case PUMP_END_RESET:
		return AUDIT_RESET;
	case PUMP_END_LOCAL_ERROR:
		return r->connect_failed ? AUDIT_UPSTREAM_REFUSED : AUDIT_UPSTREAM_RESET;
	case PUMP_END_ABORTED:
		return st->aborted_for_shutdown ? AUDIT_SHUTDOWN : AUDIT_UPSTREAM_RESET;
	default:
		return AUDIT_CONNECTION_LOST;
	}
}

static void finish(struct gateway *g, struct gw_stream *st)
{
	const struct pump_result *pr = pump_result(st->pump);
	struct audit_record r = { 0 };
	char detail[128] = "";

	r.route = st->route;
	r.agent = or_null(st->agent);
	r.principal = or_null(st->principal);
	r.relay = or_null(st->relay);
	r.upstream = upstream_peer(st->up);
	r.bytes_up = pr->bytes_out;		/* stream → upstream */
	r.bytes_down = pr->bytes_in;		/* upstream → stream */
	r.duration_ms = (g->now - st->started_ns) / QUIC_NS_PER_MS;
	r.reason = end_reason(st, pr);
	if (pr->end == PUMP_END_RESET)
		snprintf(detail, sizeof(detail), "the agent reset the stream (code 0x%llx)",
			 (unsigned long long)pr->code);
	else if (pr->end == PUMP_END_LOCAL_ERROR)
		snprintf(detail, sizeof(detail), "%s: %s", upstream_peer(st->up),
			 strerror(pr->err));
	r.detail = or_null(detail);
	audit(g, &r);
	log_info("event=stream_end route=%s agent=%s reason=%s bytes_up=%llu bytes_down=%llu "
		 "duration_ms=%llu", st->route, st->agent, audit_reason_name(r.reason),
		 (unsigned long long)r.bytes_up, (unsigned long long)r.bytes_down,
		 (unsigned long long)r.duration_ms);

	gw_watch_sync(g, &st->rw, -1, 0);
	gw_watch_sync(g, &st->ww, -1, 0);
	pump_destroy(st->pump);
	st->pump = NULL;
	list_del(&g->streams, st);
	g->n_streams--;
	if (upstream_kind(st->up) == UPSTREAM_TCP) {
		upstream_destroy(st->up, 0);
		free(st);
		return;
	}
	/* A command: SIGTERM now, reaped later without blocking the loop. */
	upstream_terminate(st->up);
	st->started_ns = g->now;	/* now: when the grace period began */
	list_add(&g->reaping, st);
}

static void sync_watches(struct gateway *g, struct gw_stream *st)
{
	int rfd = pump_rfd(st->pump), wfd = pump_wfd(st->pump);

	if (rfd == wfd) {
		gw_watch_sync(g, &st->rw, rfd,
			      pump_wants_rfd(st->pump) | pump_wants_wfd(st->pump));
		return;
	}
	gw_watch_sync(g, &st->rw, rfd, pump_wants_rfd(st->pump));
	gw_watch_sync(g, &st->ww, wfd, pump_wants_wfd(st->pump));
}

void gw_stream_sweep(struct gateway *g)
{
	struct gw_stream *st, *next;

	for (st = g->streams; st; st = next) {
		next = st->next;
		pump_flush(st->pump, g->now);
		if (pump_done(st->pump))
			finish(g, st);
		else
			sync_watches(g, st);
	}
}

void gw_stream_finish_all(struct gateway *g)
{
	while (g->streams)
		finish(g, g->streams);
}

void gw_stream_abort_all(struct gateway *g)
{
	for (struct gw_stream *st = g->streams; st; st = st->next) {
		if (pump_done(st->pump))
			continue;
		st->aborted_for_shutdown = true;
		pump_abort_at(st->pump, QUIC_APP_SHUTDOWN, g->now);
	}
}

uint64_t gw_stream_reap(struct gateway *g, bool force)
{
	uint64_t next_look = QUIC_NEVER;
	struct gw_stream *st, *next;

	for (st = g->reaping; st; st = next) {
		next = st->next;
		if (upstream_reaped(st->up, NULL) || force ||
		    g->now - st->started_ns >= REAP_GRACE_NS) {
			/* SIGKILL to what is left of the group, then reap: no zombie. */
			upstream_destroy(st->up, 0);
			list_del(&g->reaping, st);
			free(st);
			continue;
		}
		next_look = g->now + REAP_POLL_NS;
	}
	return next_look;
}
