/*
 * gateway.c — postern-gateway's loop: one epoll over the relays' sockets, the
 * upstreams' fds and a signalfd; one timeout, the earliest of the hop
 * timers, every QUIC connection's, the shutdown deadline and the reaper's.
 *
 * Each turn, in order:
 *	0. send what the last turn made ready: every QUIC connection's datagrams,
 *	   then each relay socket's queue in one sendmmsg (hop_link.h)
 *	1. wait (epoll) until an fd is ready or the earliest deadline
 *	2. relays' sockets → hop_link → frames (gateway_conn.c) → QUIC → streams
 *	3. upstream fds → pumps → QUIC streams
 *	4. signals: TERM/INT → shutdown (a second: now); HUP → audit_reopen
 *	5. timers: hop_link, QUIC connections
 *	6. sweep: stream bytes of this turn to the upstreams (one write per
 *	   stream), finished streams (audit lines), finished connections, epoll
 *	   registrations as the pumps want them, commands to reap
 *	7. shutdown: no stream left (or the timeout passed: abort them) → close
 *	   every connection and stop
 */
#include "endpoint/gateway_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "endpoint/ep_relay.h"
#include "relay/log.h"

enum {
	EVENTS_PER_WAIT = 64,
	MAX_WAIT_MS = 1000,	/* look around at least once a second */
};

uint64_t gw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * QUIC_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void gw_fmt_hex(char *out, const uint8_t *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/*
 * Make @w registered for @events on @fd (0 or fd -1: not registered). An fd
 * the pump closed (or replaced) has left epoll by itself: DEL errors are fine.
 */
void gw_watch_sync(struct gateway *g, struct gw_watch *w, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (fd < 0)
		events = 0;
	if (w->fd >= 0 && (w->fd != fd || !events)) {
		epoll_ctl(g->epfd, EPOLL_CTL_DEL, w->fd, NULL);
		w->fd = -1;
		w->events = 0;
	}
	if (!events || (w->fd == fd && w->events == events))
		return;
	if (epoll_ctl(g->epfd, w->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_error("event=epoll_failed fd=%d err=%s", fd, strerror(errno));
		return;
	}
	w->fd = fd;
	w->events = events;
}

static int make_link(struct gateway *g, char *err, size_t errlen)
{
	const struct gw_config *cfg = g->cfg;
	struct hop_link_relay relays[HOP_LINK_MAX_RELAYS];
	struct hop_link_config lc = { 0 };
	int ret;

	if (cfg->n_relays > HOP_LINK_MAX_RELAYS) {
		snprintf(err, errlen, "%s: at most %d relays", cfg->file, HOP_LINK_MAX_RELAYS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		ret = ep_relay_resolve(&cfg->relays[i], &relays[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	lc.policy = HOP_LINK_ALL;
	lc.relays = relays;
	lc.n_relays = cfg->n_relays;
	lc.static_priv = cfg->static_priv;
	lc.suite = cfg->hop_suite;
	lc.token = cfg->token_bytes;
	lc.token_len = cfg->token_len;
	lc.on_frame = gw_conn_on_frame;
	lc.on_state = gw_conn_on_state;
	lc.ctx = g;
	lc.tx_batch = true;	/* step 0 of every turn sends */
	ret = hop_link_create(&g->link, &lc);
	if (ret < 0)
		snprintf(err, errlen, "cannot set up the relays' sockets: %s", strerror(-ret));
	return ret;
}

static int make_signals(struct gateway *g, char *err, size_t errlen)
{
	sigset_t set;

	/* A write to a command whose stdin is gone returns EPIPE instead (upstream.h). */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		goto err;
	g->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (g->sigfd < 0)
		goto err;
	return 0;
err:
	snprintf(err, errlen, "signals: %s", strerror(errno));
	return -errno;
}

int gateway_create(struct gateway **out, const struct gw_config *cfg,
		   const struct quic_identity *id, char *err, size_t errlen)
{
	struct gateway *g;
	int ret;

	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->cfg = cfg;
	g->id = id;
	g->epfd = g->sigfd = -1;
	ret = audit_open(&g->audit, cfg->audit_log);
	if (ret < 0) {
		snprintf(err, errlen, "%s: audit_log: %s: %s", cfg->file, cfg->audit_log,
			 strerror(-ret));
		goto err_gateway;
	}
	ret = make_link(g, err, errlen);
	if (ret < 0)
		goto err_audit;
	ret = make_signals(g, err, errlen);
	if (ret < 0)
		goto err_link;
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g->epfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto err_signals;
	}
	g->sig_watch = (struct gw_watch){ .kind = GW_WATCH_SIGNAL, .fd = -1 };
	gw_watch_sync(g, &g->sig_watch, g->sigfd, EPOLLIN);
	for (unsigned i = 0; i < hop_link_relay_count(g->link); i++) {
		g->relay_watch[i] = (struct gw_watch){ .kind = GW_WATCH_RELAY, .fd = -1,
						       .relay = i };
		gw_watch_sync(g, &g->relay_watch[i], hop_link_fd(g->link, i), EPOLLIN);
	}
	*out = g;
	return 0;

err_signals:
	close(g->sigfd);
err_link:
	hop_link_destroy(g->link);
err_audit:
	audit_close(g->audit);
err_gateway:
	free(g);
	return ret;
}

static void start_shutdown(struct gateway *g, const char *why)
{
	if (g->shutting_down) {
		/* A second signal: the streams end now. */
		log_warn("event=shutdown_now signal=%s streams=%u", why, g->n_streams);
		g->shutdown_deadline = g->now;
		return;
	}
	g->shutting_down = true;
	g->shutdown_deadline = g->now + (uint64_t)g->cfg->shutdown_timeout * QUIC_NS_PER_S;
	log_info("event=shutdown signal=%s streams=%u conns=%u timeout_s=%u", why, g->n_streams,
		 g->n_conns, g->cfg->shutdown_timeout);
}

static void read_signals(struct gateway *g)
{
	struct signalfd_siginfo si;

	while (read(g->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			int ret = audit_reopen(g->audit);

			if (ret < 0)
				log_error("event=audit_reopen_failed err=%s", strerror(-ret));
			else
				log_info("event=audit_reopened");
		} else {
			start_shutdown(g, si.ssi_signo == SIGINT ? "INT" : "TERM");
		}
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static int wait_ms(struct gateway *g, uint64_t deadline)
{
	uint64_t ms;

	if (deadline <= g->now)
		return 0;
	ms = (deadline - g->now + QUIC_NS_PER_MS - 1) / QUIC_NS_PER_MS;
	return ms > MAX_WAIT_MS ? MAX_WAIT_MS : (int)ms;
}

static void dispatch(struct gateway *g, struct epoll_event *ev)
{
	struct gw_watch *w = ev->data.ptr;

	switch (w->kind) {
	case GW_WATCH_RELAY:
		hop_link_readable(g->link, w->relay, g->now);
		break;
	case GW_WATCH_SIGNAL:
		read_signals(g);
		break;
	case GW_WATCH_STREAM:
		gw_stream_fd_event(g, w, ev->events);
		break;
	}
}

/* Step 7: the end of a graceful shutdown. */
static void shutdown_step(struct gateway *g)
{
	if (!g->shutting_down)
		return;
	if (g->n_streams && g->now >= g->shutdown_deadline) {
		log_warn("event=shutdown_timeout streams=%u", g->n_streams);
		gw_stream_abort_all(g);
		/* Closing the connections closes their streams: the pumps finish. */
		gw_conn_close_all(g);
		gw_stream_sweep(g);
	}
	if (g->n_streams)
		return;
	gw_conn_close_all(g);
	g->stop = true;
}

int gateway_run(struct gateway *g)
{
	struct epoll_event evs[EVENTS_PER_WAIT];
	uint64_t reap_at = QUIC_NEVER;
	int n;

	g->now = gw_now();
	log_info("event=start relays=%u routes=%u agents=%u", g->cfg->n_relays, g->cfg->n_routes,
		 g->cfg->n_agents);
	hop_link_start(g->link, g->now);
	while (!g->stop) {
		uint64_t deadline;

		g->now = gw_now();
		gw_conn_flush_all(g);
		hop_link_flush(g->link);
		deadline = hop_link_next_deadline(g->link);

		deadline = min_u64(deadline, gw_conn_next_deadline(g));
		deadline = min_u64(deadline, reap_at);
		if (g->shutting_down)
			deadline = min_u64(deadline, g->shutdown_deadline);
		n = epoll_wait(g->epfd, evs, EVENTS_PER_WAIT, wait_ms(g, deadline));
		if (n < 0 && errno != EINTR) {
			log_error("event=epoll_wait_failed err=%s", strerror(errno));
			g->failed = true;
			break;
		}
		g->now = gw_now();
		for (int i = 0; i < n; i++)
			dispatch(g, &evs[i]);
		if (hop_link_next_deadline(g->link) <= g->now)
			hop_link_tick(g->link, g->now);
		gw_conn_tick_all(g);
		gw_stream_sweep(g);
		gw_conn_sweep(g);
		reap_at = gw_stream_reap(g, false);
		shutdown_step(g);
	}
	/* The last turn's CONNECTION_CLOSEs and CHANNEL_CLOSEs. */
	gw_conn_flush_all(g);
	hop_link_flush(g->link);
	gw_stream_reap(g, true);
	log_info("event=stopped");
	return g->failed ? 1 : 0;
}

void gateway_destroy(struct gateway *g)
{
	if (!g)
		return;
	g->stop = true;
	gw_stream_abort_all(g);
	gw_conn_close_all(g);
	gw_stream_finish_all(g);
	gw_stream_reap(g, true);
	if (g->epfd >= 0)
		close(g->epfd);
	if (g->sigfd >= 0)
		close(g->sigfd);
	hop_link_destroy(g->link);
	audit_close(g->audit);
	free(g);
}
