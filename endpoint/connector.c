/*
 * connector.c — postern-connect's loop (connector.h): the E2E connection and
 * its carrier. The local side (listeners, clients, pumps) is in
 * connector_local.c; both share connector_internal.h.
 *
 * The carrier (protocol.md §7, §10.5), one hop channel at a time:
 *
 *	NONE ──(session with the current relay up, retry time reached)──▶ OPENING
 *	OPENING ──ACCEPT──▶ OPEN        first: quic_conn_connect(); later:
 *	                                quic_conn_carrier_up() (RESUME)
 *	OPENING ──CLOSE──▶ NONE         NOT_PERMITTED before anything was ever
 *	                                accepted: fatal; RESUME_UNKNOWN: the conn
 *	                                is dead, a new one; else retry after the
 *	                                backoff (250 ms doubling to 4 s)
 *	OPEN ──session down / CLOSE──▶ NONE      then RESUME as soon as a session
 *	                                         is up again
 *	OPEN on a draining relay: still the carrier while the next relay's
 *	OPENING completes; at its ACCEPT the old channel is closed.
 *
 * The E2E connection: made with a random tag, replaced (new tag, its
 * streams failed) when QUIC ends it (idle timeout, the peer closed), when the
 * gateway no longer knows it (RESUME_UNKNOWN), or when the carrier is lost
 * before its handshake completed (a RESUME of a half-made connection could
 * only be refused). While there is no carrier, QUIC's send callback gets
 * -ENOTCONN, which QUIC treats as loss.
 *
 * Callbacks of the hop link and of QUIC only record what happened; the
 * loop's step() acts on it, outside every callback, so nothing is destroyed
 * under its caller.
 */
#define _GNU_SOURCE	/* strsignal */

#include "endpoint/connector_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "endpoint/ep_config.h"
#include "endpoint/ep_relay.h"

#define BACKOFF_MIN_NS (250 * QUIC_NS_PER_MS)
#define BACKOFF_MAX_NS (4 * QUIC_NS_PER_S)
/* The relay answers an OPEN within 10 s (TIMEOUT, §7); give it a little more. */
#define OPEN_WAIT_NS (15 * QUIC_NS_PER_S)
/* The longest the loop sleeps, so a clock or deadline surprise costs at most this. */
#define SLEEP_MAX_MS 1000

enum {
	EPOLL_BATCH = 64,
};

uint64_t connector_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * QUIC_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void connector_fatal(struct connector *cn, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("event=fatal %s", msg);
	cn->exit_code = 1;
	cn->done = true;
}

/* ---- the carrier ---- */

static const char *relay_name(const struct connector *cn, unsigned relay)
{
	return hop_link_addr(cn->link, relay);
}

static struct hop_client *chan_client(struct connector *cn, const struct chan *ch)
{
	return hop_link_client(cn->link, ch->relay);
}

static void backoff(struct connector *cn, uint64_t now)
{
	cn->retry_at = now + cn->backoff_ns;
	cn->backoff_ns *= 2;
	if (cn->backoff_ns > BACKOFF_MAX_NS)
		cn->backoff_ns = BACKOFF_MAX_NS;
}

/* Tell the relay a channel is done with, if its session can still carry a frame. */
static void chan_close(struct connector *cn, struct chan *ch, uint64_t now)
{
	struct hop_client *hc = chan_client(cn, ch);

	if (ch->st != CH_NONE && hop_client_is_connected(hc))
		(void)hop_client_close_channel(hc, ch->id, FRAME_CLOSE_NORMAL, now);
	ch->st = CH_NONE;
}

/* The carrier went away; QUIC sees loss until the next one is accepted. */
static void carrier_lost(struct connector *cn, const char *why, uint64_t now)
{
	if (cn->carrier.st != CH_OPEN)
		return;
	cn->carrier.st = CH_NONE;
	cn->lost_at = now;
	cn->stats.carrier_losses++;
	log_warn("event=carrier_down relay=%s channel=%u why=%s", relay_name(cn, cn->carrier.relay),
		 cn->carrier.id, why);
	/* §10.5: a half-made connection cannot be resumed; start it again. */
	if (cn->q && cn->q_started && !quic_conn_is_connected(cn->q))
		cn->restart = "carrier lost during the QUIC handshake";
}

static uint32_t next_channel_id(struct connector *cn)
{
	if (++cn->next_chan_id == 0)
		cn->next_chan_id = 1;
	return cn->next_chan_id;
}

static void chan_open(struct connector *cn, unsigned relay, uint64_t now)
{
	const char *tunnel = cn->cfg->tunnel;
	bool resume = cn->q_started;
	struct frame_open o = {
		.channel_id = next_channel_id(cn),
		.flags = resume ? FRAME_OPEN_RESUME : 0,
		.conn_tag = quic_conn_tag(cn->q),
		.tunnel = (const uint8_t *)tunnel,
		.tunnel_len = (uint8_t)strlen(tunnel),
	};
	int ret;

	ret = hop_client_open_channel(hop_link_client(cn->link, relay), &o, now);
	if (ret < 0) {
		log_warn("event=open_failed relay=%s error=%s", relay_name(cn, relay),
			 strerror(-ret));
		backoff(cn, now);
		return;
	}
	cn->opening = (struct chan){ .st = CH_OPENING, .relay = relay, .id = o.channel_id,
				     .since = now, .resume = resume };
	log_debug("event=channel_opening relay=%s channel=%u resume=%d", relay_name(cn, relay),
		  o.channel_id, resume);
}

static void on_accept(struct connector *cn, unsigned relay, uint32_t id, uint64_t now)
{
	struct chan *op = &cn->opening;
	uint64_t gap_ms;
	int ret;

	if (op->st != CH_OPENING || op->relay != relay || op->id != id) {
		log_debug("event=stale_accept relay=%s channel=%u", relay_name(cn, relay), id);
		return;
	}
	/* The new carrier replaces one still open on a draining relay (§7 GOAWAY): no gap. */
	gap_ms = cn->carrier.st == CH_OPEN ? 0 : (now - cn->lost_at) / QUIC_NS_PER_MS;
	if (cn->carrier.st == CH_OPEN)
		chan_close(cn, &cn->carrier, now);
	cn->carrier = *op;
	cn->carrier.st = CH_OPEN;
	op->st = CH_NONE;
	cn->backoff_ns = BACKOFF_MIN_NS;
	cn->ever_accepted = true;
	if (!cn->q_started) {
		cn->q_started = true;
		log_info("event=channel_open relay=%s channel=%u resume=0", relay_name(cn, relay),
			 id);
		ret = quic_conn_connect(cn->q, now);
		if (ret < 0)
			cn->restart = "QUIC could not start its handshake";
		return;
	}
	cn->stats.resumes++;
	log_info("event=channel_open relay=%s channel=%u resume=1 gap_ms=%llu",
		 relay_name(cn, relay), id, (unsigned long long)gap_ms);
	(void)quic_conn_carrier_up(cn->q, now);
}

/* A CHANNEL_CLOSE of the channel being opened, or of the carrier. */
static void on_refused(struct connector *cn, uint16_t reason, uint64_t now)
{
	switch (reason) {
	case FRAME_CLOSE_NOT_PERMITTED:
		/* §7: a tunnel outside the grant and an unknown one look alike. */
		if (!cn->ever_accepted) {
			connector_fatal(cn, "error=not_permitted tunnel=%s msg=\"the grant does "
					"not cover tunnel %s (or it does not exist)\"",
					cn->cfg->tunnel, cn->cfg->tunnel);
			return;
		}
		/* A restarted relay knows the tunnel once its gateway is back. */
		backoff(cn, now);
		return;
	case FRAME_CLOSE_RESUME_UNKNOWN:
		cn->restart = "the gateway does not know the connection (RESUME_UNKNOWN)";
		cn->retry_at = now;
		return;
	default:
		backoff(cn, now);
		return;
	}
}

static void on_close(struct connector *cn, unsigned relay, const struct frame_close *c,
		     uint64_t now)
{
	const char *name = frame_close_reason_name(c->reason);

	if (cn->opening.st == CH_OPENING && cn->opening.relay == relay &&
	    cn->opening.id == c->channel_id) {
		cn->opening.st = CH_NONE;
		log_warn("event=channel_refused relay=%s channel=%u reason=%s resume=%d",
			 relay_name(cn, relay), c->channel_id, name, cn->opening.resume);
		on_refused(cn, c->reason, now);
		return;
	}
	if (cn->carrier.st == CH_OPEN && cn->carrier.relay == relay &&
	    cn->carrier.id == c->channel_id) {
		char why[48];

		/*
		 * The gateway closes the old channel when our RESUME reaches it
		 * (§10.5), which may overtake the new channel's ACCEPT: not a loss.
		 */
		if (c->reason == FRAME_CLOSE_NORMAL && cn->opening.st == CH_OPENING &&
		    cn->opening.resume && cn->opening.relay != relay) {
			log_info("event=carrier_moving relay=%s channel=%u to=%s",
				 relay_name(cn, relay), c->channel_id,
				 relay_name(cn, cn->opening.relay));
			cn->carrier.st = CH_NONE;
			cn->lost_at = now;
			return;
		}

		snprintf(why, sizeof(why), "closed:%s", name);
		carrier_lost(cn, why, now);
		on_refused(cn, c->reason, now);
	}
}

static void link_frame(void *ctx, unsigned relay, const struct frame *f, uint64_t now)
{
	struct connector *cn = ctx;
	struct frame_close c;
	struct frame_data d;
	uint32_t id;

	switch (f->type) {
	case FRAME_CHANNEL_ACCEPT:
		if (frame_accept_decode(f->body, f->len, &id) == 0)
			on_accept(cn, relay, id, now);
		break;
	case FRAME_CHANNEL_CLOSE:
		if (frame_close_decode(f->body, f->len, &c) == 0)
			on_close(cn, relay, &c, now);
		break;
	case FRAME_CHANNEL_DATA:
		if (frame_data_decode(f->body, f->len, &d) < 0 || !cn->q)
			break;
		/* Datagrams of the carrier only; a replaced channel's stragglers are loss. */
		if (cn->carrier.st == CH_OPEN && cn->carrier.relay == relay &&
		    cn->carrier.id == d.channel_id)
			(void)quic_conn_input(cn->q, d.e2e, d.e2e_len, now);
		else
			cn->stats.stray_datagrams++;
		break;
	default:
		break;	/* a relay never sends a connector CHANNEL_OPEN */
	}
}

static void link_state(void *ctx, unsigned relay, enum hop_link_state st, enum hop_link_why why,
		       uint32_t drain_ms)
{
	struct connector *cn = ctx;
	uint64_t now = cn->now;

	switch (st) {
	case HOP_LINK_UP:
		if (!cn->relay_up[relay])
			log_info("event=relay_up relay=%s", relay_name(cn, relay));
		cn->relay_up[relay] = true;
		break;
	case HOP_LINK_DRAINING:
		/* The channel still flows for drain_ms; the next relay is being joined. */
		log_info("event=relay_draining relay=%s drain_ms=%u", relay_name(cn, relay),
			 drain_ms);
		break;
	case HOP_LINK_DOWN:
		cn->relay_up[relay] = false;
		log_warn("event=relay_down relay=%s why=%s", relay_name(cn, relay),
			 hop_link_why_name(why));
		if (cn->opening.st == CH_OPENING && cn->opening.relay == relay)
			cn->opening.st = CH_NONE;
		if (cn->carrier.st == CH_OPEN && cn->carrier.relay == relay)
			carrier_lost(cn, hop_link_why_name(why), now);
		break;
	case HOP_LINK_UNANSWERED:
		/* No session in this series: its channels, if any, went at DOWN. */
		hop_link_log_unanswered(cn->link, relay,
					ep_config_hop_suite_name(cn->cfg->hop_suite),
					"connector's grant");
		break;
	}
}

/* QUIC's datagrams go out on the carrier as CHANNEL_DATA (§10.1). */
static int quic_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct connector *cn = ctx;
	struct hop_client *hc;

	if (cn->carrier.st != CH_OPEN)
		return -ENOTCONN;
	hc = chan_client(cn, &cn->carrier);
	if (!hop_client_is_connected(hc))
		return -ENOTCONN;
	return hop_client_send_data(hc, cn->carrier.id, pkt, len, cn->now);
}

static void quic_event(void *ctx, const struct quic_event *ev)
{
	struct connector *cn = ctx;
	char fp[QUIC_FP_HEX_LEN + 1];
	uint8_t peer[QUIC_FP_LEN];

	switch (ev->type) {
	case QUIC_EV_CONNECTED:
		cn->q_ever_connected = true;
		cn->stats.conns++;
		if (quic_conn_peer_fingerprint(cn->q, peer))
			quic_fingerprint_format(fp, peer);
		else
			strcpy(fp, "-");
		log_info("event=connected tunnel=%s gateway=%s", cn->cfg->tunnel, fp);
		break;
	case QUIC_EV_CLOSED:
		cn->q_closed = true;
		break;
	default:
		connector_stream_event(cn, ev);
		break;
	}
}

static void quic_data(void *ctx, struct quic_stream *s, const uint8_t *data, size_t len,
		      bool fin)
{
	connector_stream_data(ctx, s, data, len, fin);
}

static int conn_new(struct connector *cn)
{
	const struct quic_config qc = {
		.role = QUIC_CLIENT,
		.identity = cn->id,
		.server_fp = cn->cfg->gateway_fingerprint,
		.max_payload = hop_client_max_frames(hop_link_client(cn->link, 0)) -
			       FRAME_DATA_OVERHEAD,
		.send = quic_send,
		.defer_send = true,	/* flush_out() once per turn */
		.on_event = quic_event,
		.on_data = quic_data,
		.ctx = cn,
	};
	int ret;

	ret = quic_conn_create(&cn->q, &qc);
	if (ret < 0)
		return ret;
	cn->q_started = false;
	cn->q_closed = false;
	return 0;
}

/* Why the connection ended, as a fatal error when it is a configuration error. */
static bool conn_ended_fatally(struct connector *cn)
{
	char want[QUIC_FP_HEX_LEN + 1], got[QUIC_FP_HEX_LEN + 1];
	uint8_t peer[QUIC_FP_LEN];
	enum quic_error e = quic_conn_error(cn->q);

	if (e == QUIC_ERR_PIN_MISMATCH) {
		quic_fingerprint_format(want, cn->cfg->gateway_fingerprint);
		if (quic_conn_peer_fingerprint(cn->q, peer))
			quic_fingerprint_format(got, peer);
		else
			strcpy(got, "(none)");
		connector_fatal(cn, "error=pin_mismatch tunnel=%s msg=\"the gateway's certificate "
				"fingerprint is %s, not the pinned gateway_fingerprint %s: a "
				"gateway or relay that is not the configured one answered, or the "
				"setting is out of date\"", cn->cfg->tunnel, got, want);
		return true;
	}
	if ((e == QUIC_ERR_PEER_REFUSED || e == QUIC_ERR_TLS) && !cn->q_ever_connected) {
		quic_fingerprint_format(got, cn->cfg->fingerprint);
		connector_fatal(cn, "error=%s tunnel=%s msg=\"the E2E handshake failed: %s (this "
				"agent's fingerprint is %s; the gateway must list it in agents)\"",
				quic_error_name(e), cn->cfg->tunnel, quic_conn_error_text(cn->q),
				got);
		return true;
	}
	return false;
}

/* Replace the connection: its streams fail, a new tag, a fresh OPEN. */
static void conn_restart(struct connector *cn, const char *why, uint64_t now)
{
	int ret;

	log_warn("event=conn_restart why=\"%s\" streams=%u", why, cn->n_streams);
	cn->stats.restarts++;
	if (!quic_conn_is_closed(cn->q))
		(void)quic_conn_close(cn->q, QUIC_APP_NO_ERROR, why, now);
	/* §7 NORMAL: the E2E connection ended. */
	chan_close(cn, &cn->carrier, now);
	cn->opening.st = CH_NONE;
	connector_sweep(cn);
	quic_conn_destroy(cn->q);
	cn->q = NULL;
	ret = conn_new(cn);
	if (ret < 0)
		connector_fatal(cn, "error=quic msg=\"cannot make a QUIC connection: %s\"",
				strerror(-ret));
}

/* ---- the loop ---- */

/* A channel should be opened on the current relay (once retry_at has come). */
static bool wants_channel(const struct connector *cn)
{
	int cur = hop_link_current(cn->link);

	if (cn->done || cn->stopping || !cn->q || cn->opening.st != CH_NONE || cur < 0)
		return false;
	if (cn->carrier.st == CH_OPEN && cn->carrier.relay == (unsigned)cur)
		return false;
	return hop_link_is_up(cn->link, (unsigned)cur);
}

static void carrier_step(struct connector *cn, uint64_t now)
{
	if (cn->q_closed) {
		if (conn_ended_fatally(cn))
			return;
		log_warn("event=conn_closed error=%s msg=\"%s\"",
			 quic_error_name(quic_conn_error(cn->q)), quic_conn_error_text(cn->q));
		conn_restart(cn, "the QUIC connection ended", now);
		backoff(cn, now);
	}
	if (cn->restart && !cn->done) {
		const char *why = cn->restart;

		cn->restart = NULL;
		conn_restart(cn, why, now);
	}
	if (cn->done || cn->stopping)
		return;
	if (cn->opening.st == CH_OPENING) {
		if (now - cn->opening.since < OPEN_WAIT_NS)
			return;
		log_warn("event=channel_refused relay=%s channel=%u reason=no_answer",
			 relay_name(cn, cn->opening.relay), cn->opening.id);
		cn->opening.st = CH_NONE;
		backoff(cn, now);
	}
	if (wants_channel(cn) && now >= cn->retry_at)
		chan_open(cn, (unsigned)hop_link_current(cn->link), now);
}

/*
 * Before the loop sleeps: what this turn made ready goes out together, QUIC's
 * datagrams (packed across streams, ACKs for the whole turn) and then the
 * relay sockets' queues, one sendmmsg each (hop_link.h).
 */
static void flush_out(struct connector *cn, uint64_t now)
{
	if (cn->q)
		quic_conn_flush(cn->q, now);
	hop_link_flush(cn->link);
}

static uint64_t next_deadline(struct connector *cn)
{
	uint64_t t = hop_link_next_deadline(cn->link), q;

	if (cn->q) {
		q = quic_conn_next_deadline(cn->q);
		if (q < t)
			t = q;
	}
	if (wants_channel(cn) && cn->retry_at < t)
		t = cn->retry_at;
	if (cn->opening.st == CH_OPENING && cn->opening.since + OPEN_WAIT_NS < t)
		t = cn->opening.since + OPEN_WAIT_NS;
	q = connector_local_deadline(cn);
	if (q < t)
		t = q;
	return t;
}

static void on_signal(struct connector *cn, uint64_t now)
{
	struct signalfd_siginfo si;

	while (read(cn->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (cn->stopping)
			continue;
		log_info("event=shutdown signal=%s streams=%u grace_s=%d",
			 strsignal((int)si.ssi_signo), cn->n_streams, CONNECTOR_SHUTDOWN_GRACE_S);
		cn->stopping = true;
		cn->signalled = true;
		cn->stop_deadline = now + CONNECTOR_SHUTDOWN_GRACE_S * QUIC_NS_PER_S;
		connector_local_stop(cn);
	}
}

/* The last act: streams aborted, CONNECTION_CLOSE, CHANNEL_CLOSE. */
static void finish(struct connector *cn, uint64_t now)
{
	connector_local_abort(cn, now);
	if (cn->q && !quic_conn_is_closed(cn->q))
		(void)quic_conn_close(cn->q, QUIC_APP_SHUTDOWN, "connector shutting down", now);
	connector_sweep(cn);
	chan_close(cn, &cn->carrier, now);
	chan_close(cn, &cn->opening, now);
	cn->done = true;
}

static void dispatch(struct connector *cn, struct watch *w, uint32_t events, uint64_t now)
{
	switch (w->kind) {
	case WATCH_RELAY:
		hop_link_readable(cn->link, w->idx, now);
		break;
	case WATCH_SIGNAL:
		on_signal(cn, now);
		break;
	default:
		connector_local_event(cn, w, events, now);
		break;
	}
}

int connector_run(struct connector *cn)
{
	struct epoll_event evs[EPOLL_BATCH];
	uint64_t now, deadline;
	int n, timeout;

	now = cn->now = connector_now();
	cn->backoff_ns = BACKOFF_MIN_NS;
	cn->retry_at = now;
	log_info("event=start tunnel=%s relays=%u mode=%s", cn->cfg->tunnel,
		 hop_link_relay_count(cn->link), cn->cfg->stdio[0] ? "stdio" : "listen");
	hop_link_start(cn->link, now);
	while (!cn->done) {
		now = cn->now = connector_now();
		flush_out(cn, now);
		deadline = next_deadline(cn);
		if (deadline <= now)
			timeout = 0;
		else if (deadline - now >= (uint64_t)SLEEP_MAX_MS * QUIC_NS_PER_MS)
			timeout = SLEEP_MAX_MS;
		else
			timeout = (int)((deadline - now + QUIC_NS_PER_MS - 1) / QUIC_NS_PER_MS);
		n = epoll_wait(cn->ep, evs, EPOLL_BATCH, timeout);
		if (n < 0 && errno != EINTR) {
			connector_fatal(cn, "error=epoll msg=\"%s\"", strerror(errno));
			break;
		}
		now = cn->now = connector_now();
		for (int i = 0; i < n && !cn->done; i++)
			dispatch(cn, evs[i].data.ptr, evs[i].events, now);
		now = cn->now = connector_now();
		if (hop_link_next_deadline(cn->link) <= now)
			hop_link_tick(cn->link, now);
		if (cn->q && quic_conn_next_deadline(cn->q) <= now)
			quic_conn_tick(cn->q, now);
		if (cn->done)
			break;
		carrier_step(cn, now);
		if (cn->done)
			break;
		connector_local_step(cn, now);
		if (cn->stopping && !cn->done &&
		    (!cn->clients || now >= cn->stop_deadline))
			finish(cn, now);
	}
	/* The CONNECTION_CLOSE and CHANNEL_CLOSEs of the last turn. */
	flush_out(cn, cn->now);
	if (cn->exit_code == 0 && cn->stdio_failed && !cn->signalled)
		cn->exit_code = 1;
	log_info("event=exit status=%d conns=%llu resumes=%llu carrier_losses=%llu "
		 "restarts=%llu streams=%llu", cn->exit_code, (unsigned long long)cn->stats.conns,
		 (unsigned long long)cn->stats.resumes,
		 (unsigned long long)cn->stats.carrier_losses,
		 (unsigned long long)cn->stats.restarts, (unsigned long long)cn->stats.streams);
	return cn->exit_code;
}

/* ---- setup ---- */

static int watch_add(struct connector *cn, int fd, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(cn->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int make_link(struct connector *cn, char *err, size_t errlen)
{
	struct hop_link_relay relays[HOP_LINK_MAX_RELAYS];
	const struct conn_config *cfg = cn->cfg;
	struct hop_link_config lc = {
		.policy = HOP_LINK_ONE,
		.relays = relays,
		.n_relays = cfg->n_relays,
		.static_priv = cfg->static_priv,
		.suite = cfg->hop_suite,
		.token = cfg->grant_bytes,
		.token_len = cfg->grant_len,
		.on_frame = link_frame,
		.on_state = link_state,
		.ctx = cn,
		.tx_batch = true,	/* flush_out() once per turn */
	};
	int ret;

	if (cfg->n_relays == 0 || cfg->n_relays > HOP_LINK_MAX_RELAYS) {
		snprintf(err, errlen, "relays: 1 to %d relays", HOP_LINK_MAX_RELAYS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		ret = ep_relay_resolve(&cfg->relays[i], &relays[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	ret = hop_link_create(&cn->link, &lc);
	if (ret < 0) {
		snprintf(err, errlen, "cannot open the relay sockets: %s", strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < cfg->n_relays; i++) {
		cn->relay_w[i] = (struct watch){ .kind = WATCH_RELAY, .idx = i };
		ret = watch_add(cn, hop_link_fd(cn->link, i), &cn->relay_w[i], EPOLLIN);
		if (ret < 0) {
			snprintf(err, errlen, "epoll: %s", strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int make_signals(struct connector *cn, char *err, size_t errlen)
{
	sigset_t set;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		goto fail;
	cn->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (cn->sigfd < 0)
		goto fail;
	cn->sig_w = (struct watch){ .kind = WATCH_SIGNAL };
	ret = watch_add(cn, cn->sigfd, &cn->sig_w, EPOLLIN);
	if (ret < 0) {
		errno = -ret;
		goto fail;
	}
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "signals: %s", strerror(errno));
	return ret;
}

int connector_create(struct connector **out, const struct conn_config *cfg,
		     const struct quic_identity *id, char *err, size_t errlen)
{
	struct connector *cn;
	int ret;

	if (!cfg->files_loaded) {
		snprintf(err, errlen, "the configuration's files are not loaded");
		return -EINVAL;
	}
	cn = calloc(1, sizeof(*cn));
	if (!cn) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cn->cfg = cfg;
	cn->id = id;
	cn->sigfd = -1;
	cn->ep = epoll_create1(EPOLL_CLOEXEC);
	if (cn->ep < 0) {
		ret = -errno;
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto err_cn;
	}
	ret = make_signals(cn, err, errlen);
	if (ret < 0)
		goto err_cn;
	ret = make_link(cn, err, errlen);
	if (ret < 0)
		goto err_cn;
	ret = conn_new(cn);
	if (ret < 0) {
		snprintf(err, errlen, "cannot make the QUIC connection: %s", strerror(-ret));
		goto err_cn;
	}
	ret = connector_local_create(cn, err, errlen);
	if (ret < 0)
		goto err_cn;
	*out = cn;
	return 0;

err_cn:
	connector_destroy(cn);
	return ret;
}

void connector_destroy(struct connector *cn)
{
	if (!cn)
		return;
	connector_local_destroy(cn);
	quic_conn_destroy(cn->q);
	hop_link_destroy(cn->link);
	if (cn->sigfd >= 0)
		close(cn->sigfd);
	if (cn->ep >= 0)
		close(cn->ep);
	free(cn);
}
