/*
 * worker.c — one fleet thread: setup, the phases and the event loop
 * (worker.h). The agents' traffic is agent.c's, the gateways' echo echo.c's.
 */
#define _GNU_SOURCE	/* RUSAGE_THREAD */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <openssl/crypto.h>

#include "bench/relaybench/fleet.h"
#include "bench/relaybench/ident.h"
#include "bench/relaybench/model.h"

enum {
	SLOTS_MEMORY_MAX = 1 << 30,	/* bytes of message slots per thread */
	SETUP_POLL_EVERY = 64,		/* identities made between polls of a polling transport */
};

/*
 * What worker.c keeps beside struct worker (fleet.h): a polling transport's
 * idle time at the window's two ends, for the busy fraction. The worker is
 * allocated as this, and found back from it with container_of.
 */
struct worker_ext {
	struct worker w;
	uint64_t idle_start_ns, idle_end_ns;
};

static struct worker_ext *ext_of(const struct worker *w)
{
	return (struct worker_ext *)((char *)w - offsetof(struct worker_ext, w));
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void fail(struct worker *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct worker *w, int err, const char *fmt, ...)
{
	va_list ap;

	w->err = err;
	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	__atomic_fetch_add(&w->sh->failed, 1, __ATOMIC_RELEASE);
}

/* --- hop client callbacks ------------------------------------------------ */

static int emu_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct emu *e = ctx;

	return transport_send(e->w->tp, e->flow, pkt, len);
}

static void emu_frame(void *ctx, const struct frame *f, uint64_t now)
{
	struct emu *e = ctx;

	if (e->agent)
		agent_on_frame(e, f, now);
	else
		echo_on_frame(e, f, now);
}

static void emu_event(void *ctx, const struct hop_client_event *ev)
{
	struct emu *e = ctx;
	struct worker *w = e->w;
	uint64_t now = w->now;

	switch (ev->type) {
	case HOP_CLIENT_CONNECTED:
		if (e->up_once)
			break;		/* a rekey */
		e->up_once = true;
		w->c.hs_done++;
		if (e->agent)
			w->c.ag_up++;
		else
			w->c.gw_up++;
		hdr_record(w->hs_lat, now - e->connect_ns);
		if (now > w->hs_last)
			w->hs_last = now;
		if (e->agent)
			agent_on_connected(e, now);
		break;
	case HOP_CLIENT_DISCONNECTED:
		w->c.disconnects++;
		break;
	case HOP_CLIENT_GOAWAY:
		w->c.goaways++;
		break;
	default:
		break;
	}
}

static void on_rx(void *ctx, uint8_t *pkt, size_t len, uint64_t now)
{
	struct emu *e = ctx;

	e->w->now = now;	/* for the event callback, which gets no time */
	hop_client_input(e->hc, pkt, len, now);
}

/* --- setup ---------------------------------------------------------------- */

static uint32_t share(uint32_t total, unsigned id, unsigned threads)
{
	return total / threads + (id < total % threads);
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int alloc_fleet(struct worker *w)
{
	const struct opts *o = w->o;
	unsigned id = w->cfg.id, t = w->cfg.threads;
	uint32_t n_ag = share(o->agents, id, t);
	uint64_t slots_bytes;

	w->n_gw = share(o->gateways, id, t);
	w->n_eps = w->n_gw + n_ag;
	w->n_chans = n_ag * o->channels;
	w->slot_cap = pow2_at_least(o->open_loop ? o->max_inflight : 2 * o->inflight);
	slots_bytes = (uint64_t)w->n_chans * w->slot_cap * sizeof(struct msg_slot);
	if (slots_bytes > SLOTS_MEMORY_MAX) {
		fail(w, -ENOMEM, "%u channels × %u message slots need %llu MiB in thread %u: "
		     "lower --max-inflight or --inflight, or add --threads", w->n_chans,
		     w->slot_cap, (unsigned long long)(slots_bytes >> 20), id);
		return -ENOMEM;
	}
	w->eps = calloc(w->n_eps ? w->n_eps : 1, sizeof(*w->eps));
	w->chans = calloc(w->n_chans ? w->n_chans : 1, sizeof(*w->chans));
	w->slots = calloc(slots_bytes ? slots_bytes / sizeof(struct msg_slot) : 1,
			  sizeof(struct msg_slot));
	if (!w->eps || !w->chans || !w->slots) {
		fail(w, -ENOMEM, "out of memory for %u endpoints in thread %u", w->n_eps, id);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < w->n_eps; i++) {
		struct emu *e = &w->eps[i];

		e->w = w;
		e->agent = i >= w->n_gw;
		/* Endpoint k of a role lives in thread k % threads. */
		e->index = (e->agent ? i - w->n_gw : i) * t + id;
		if (!e->agent)
			continue;
		e->ch = &w->chans[(i - w->n_gw) * o->channels];
		for (uint32_t c = 0; c < o->channels; c++) {
			struct chan *ch = &e->ch[c];
			uint64_t n = (uint64_t)e->index * o->channels + c;

			ch->owner = e;
			ch->id = c + 1;
			/* Channels spread evenly over the gateways' tunnels. */
			ch->tunnel = (uint32_t)(n % o->gateways);
			ch->slots = &w->slots[(size_t)(ch - w->chans) * w->slot_cap];
			seqwin_init(&ch->win);
		}
	}
	return 0;
}

static int make_endpoint(struct worker *w, struct emu *e)
{
	uint8_t priv[KEYS_LEN], tok[TOKEN_MAX_LEN];
	struct hop_client_config hc = {
		.suite = w->o->suite,
		.static_priv = priv,
		.relay_pub = w->cfg.relay_pub,
		.psk = w->cfg.psk,
		.token = tok,
		.send = emu_send,
		.on_frame = emu_frame,
		.on_event = emu_event,
		.ctx = e,
	};
	const char *role = e->agent ? "agent" : "gateway";
	int ret;

	ret = ident_endpoint(w->cfg.ident, e->agent ? TOKEN_ROLE_AGENT : TOKEN_ROLE_GATEWAY,
			     e->index, priv, tok, &hc.token_len);
	if (ret) {
		fail(w, ret, "cannot make the identity of %s %u: %s", role, e->index,
		     strerror(-ret));
		return ret;
	}
	ret = hop_client_create(&e->hc, &hc);
	OPENSSL_cleanse(priv, sizeof(priv));
	if (ret) {
		fail(w, ret, "cannot create the hop client of %s %u: %s", role, e->index,
		     strerror(-ret));
		return ret;
	}
	ret = transport_flow_open(w->tp, e, &e->flow);
	if (ret == -EMFILE || ret == -ENFILE)
		fail(w, ret, "out of file descriptors at %s %u (one socket per endpoint): "
		     "raise 'ulimit -n'", role, e->index);
	else if (ret)
		fail(w, ret, "cannot open a socket for %s %u toward %s: %s", role, e->index,
		     w->o->relay, strerror(-ret));
	return ret;
}

static int make_transport(struct worker *w)
{
	struct transport_udp_config tc = {
		.relay = w->o->relay,
		.bind = w->o->bind,
		.n_bind = w->o->n_bind,
		.socket_buffer = FLEET_SOCKET_BUFFER,
		.max_flows = w->n_eps ? w->n_eps : 1,
	};
	char err[200];
	int ret;

	if (w->cfg.dpdk) {
		ret = transport_dpdk_create(&w->tp, w->cfg.dpdk, w->cfg.id, tc.max_flows, err,
					    sizeof(err));
		if (ret)
			fail(w, ret, "cannot create the DPDK transport: %s", err);
		return ret;
	}
	ret = transport_udp_create(&w->tp, &tc);
	if (ret)
		fail(w, ret, "cannot create the UDP transport: %s", strerror(-ret));
	return ret;
}

static int setup(struct worker *w)
{
	double chans_total = (double)w->o->agents * w->o->channels;
	int ret;

	/* Wake-ups on time: open-loop gaps are microseconds, the default slack is 50 µs. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	rng_seed(&w->rng, w->o->seed * UINT64_C(0x100000001b3) + w->cfg.id);
	ret = alloc_fleet(w);
	if (ret)
		return ret;
	ret = make_transport(w);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < w->n_eps; i++) {
		ret = make_endpoint(w, &w->eps[i]);
		if (ret)
			return ret;
		/*
		 * Other threads may hand this one frames (the relay's ARP answers
		 * above all) while it signs thousands of tokens: a polling
		 * transport has nobody else to take them off its ring.
		 */
		if (w->tp->stats.polling && i % SETUP_POLL_EVERY == SETUP_POLL_EVERY - 1)
			transport_poll(w->tp, 0, on_rx);
	}
	w->hs_gap = 1e9 * w->cfg.threads / w->o->handshake_rate;
	/* Each thread offers the share of the rate its channels carry. */
	w->arrival_rate = chans_total > 0 ? w->o->rate * w->n_chans / chans_total : 0;
	return 0;
}

/* --- the loop ------------------------------------------------------------- */

/* Endpoints whose handshake may start in @phase: gateways, then everyone. */
static uint32_t ramp_limit(const struct worker *w, int phase)
{
	if (phase >= WORKER_AGENTS)
		return w->n_eps;
	return phase == WORKER_GATEWAYS ? w->n_gw : 0;
}

/*
 * Start handshakes at the configured pace. A loop turn that came late does
 * not catch up with a burst: a burst of INITs is what makes a relay answer
 * with cookies (docs/protocol.md §5.2), which would measure the ramp, not
 * the relay.
 */
static void ramp(struct worker *w, int phase, uint64_t now)
{
	uint32_t limit = ramp_limit(w, phase);

	while (w->next_connect < limit && (double)now >= w->connect_at) {
		struct emu *e = &w->eps[w->next_connect++];

		e->connect_ns = now;
		if (!w->hs_first)
			w->hs_first = now;
		w->c.hs_started++;
		hop_client_connect(e->hc, now);
		w->connect_at += w->hs_gap;
		if (w->connect_at < (double)now)
			w->connect_at = (double)now;
	}
}

static void arrive(struct worker *w, uint64_t now)
{
	for (uint32_t tries = 0; tries < w->n_chans; tries++) {
		struct chan *ch = &w->chans[w->cursor++ % w->n_chans];

		if (ch->state != CHAN_OPEN)
			continue;
		if (!agent_send_message(w, ch, now))
			w->c.msgs_skipped += fleet_in_window(w, now);
		return;
	}
	w->c.msgs_skipped += fleet_in_window(w, now);	/* no open channel at all */
}

static void arrivals(struct worker *w, uint64_t now)
{
	for (unsigned n = 0; n < FLEET_ARRIVALS_PER_TURN && w->next_arrival <= (double)now; n++) {
		if (fleet_in_window(w, now))
			hdr_record(w->lag, now - (uint64_t)w->next_arrival);
		arrive(w, now);
		w->next_arrival += model_gap_ns(&w->rng, w->o->arrivals, w->arrival_rate);
	}
}

static void window_open(struct worker *w, uint64_t now)
{
	w->window_open = true;
	w->wall_start = now;
	getrusage(RUSAGE_THREAD, &w->ru_start);
	ext_of(w)->idle_start_ns = w->tp->stats.idle_ns;
}

static void window_close(struct worker *w, uint64_t now)
{
	w->window_closed = true;
	w->wall_end = now;
	getrusage(RUSAGE_THREAD, &w->ru_end);
	ext_of(w)->idle_end_ns = w->tp->stats.idle_ns;
}

static void traffic(struct worker *w, uint64_t now)
{
	if (!w->traffic) {
		w->traffic = true;
		w->measure_start = __atomic_load_n(&w->sh->measure_start_ns, __ATOMIC_RELAXED);
		w->measure_end = __atomic_load_n(&w->sh->measure_end_ns, __ATOMIC_RELAXED);
		w->sending = true;
		w->next_arrival = (double)now;
		for (uint32_t i = 0; i < w->n_chans; i++)
			agent_refill(w, &w->chans[i], now);
	}
	if (!w->window_open && now >= w->measure_start)
		window_open(w, now);
	if (!w->window_closed && now >= w->measure_end) {
		w->sending = false;
		window_close(w, now);
	}
	if (w->o->open_loop && w->sending && w->n_chans)
		arrivals(w, now);
}

static void publish(struct worker *w)
{
	w->c.inflight = w->inflight;
	/* Only once it sends nothing new: a momentary 0 in flight is not the end. */
	w->c.drained = w->window_closed && !w->inflight;
	counters_publish(&w->pub, &w->c);
}

static void tick(struct worker *w, uint64_t now)
{
	for (uint32_t i = 0; i < w->next_connect; i++)
		hop_client_tick(w->eps[i].hc, now);
	agent_scan(w, now);
	if (now >= w->next_interval) {
		w->c.interval_p99_ns = hdr_percentile(w->interval, 99);
		hdr_reset(w->interval);
		w->next_interval = now + NS_PER_S;
	}
	if (now >= w->next_publish) {
		publish(w);
		w->next_publish = now + FLEET_PUBLISH_NS;
	}
	w->next_tick = now + FLEET_TICK_NS;
}

static uint64_t wait_ns(const struct worker *w, int phase, uint64_t now)
{
	uint64_t until = w->next_tick;

	if (w->next_connect < ramp_limit(w, phase))
		until = min_u64(until, (uint64_t)w->connect_at);
	if (w->traffic && w->o->open_loop && w->sending && w->n_chans)
		until = min_u64(until, (uint64_t)w->next_arrival);
	if (w->traffic && !w->window_open)
		until = min_u64(until, w->measure_start);
	if (w->traffic && !w->window_closed)
		until = min_u64(until, w->measure_end);
	return until > now ? until - now : 0;
}

static void loop(struct worker *w)
{
	for (;;) {
		uint64_t now = mono_ns();
		int phase = __atomic_load_n(&w->sh->phase, __ATOMIC_ACQUIRE);
		int ret;

		w->now = now;
		if (phase >= WORKER_CLOSE) {
			/* Interrupted, or a handshakes-only run: its window ends here. */
			if (w->window_open && !w->window_closed)
				window_close(w, now);
			if (phase == WORKER_CLOSE) {
				agent_close_all(w, now);
				transport_flush(w->tp);
			}
			return;
		}
		/* Without agents the handshakes are the load: their CPU is what counts. */
		if (!w->o->agents && !w->window_open)
			window_open(w, now);
		ramp(w, phase, now);
		if (phase == WORKER_TRAFFIC)
			traffic(w, now);
		if (now >= w->next_tick)
			tick(w, now);
		ret = transport_poll(w->tp, wait_ns(w, phase, now), on_rx);
		if (ret < 0) {
			fail(w, ret, "the transport failed: %s", strerror(-ret));
			return;
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (setup(w))
		goto out;
	__atomic_fetch_add(&w->sh->ready, 1, __ATOMIC_RELEASE);
	w->measure_start = UINT64_MAX;
	w->measure_end = UINT64_MAX;
	while (__atomic_load_n(&w->sh->phase, __ATOMIC_ACQUIRE) == WORKER_SETUP)
		if (transport_poll(w->tp, NS_PER_MS, on_rx) < 0)
			break;
	loop(w);
	publish(w);
out:
	/* Last on this thread: a DPDK transport unregisters it from EAL here. */
	transport_thread_exit(w->tp);
	return NULL;
}

/* --- lifecycle ------------------------------------------------------------ */

int worker_create(struct worker **out, const struct worker_config *cfg)
{
	struct worker_ext *x = calloc(1, sizeof(*x));
	struct worker *w;

	if (!x)
		return -ENOMEM;
	w = &x->w;
	w->cfg = *cfg;
	w->o = cfg->o;
	w->sh = cfg->sh;
	if (hdr_create(&w->hs_lat) || hdr_create(&w->open_lat) || hdr_create(&w->rtt) ||
	    hdr_create(&w->msg_lat) || hdr_create(&w->lag) || hdr_create(&w->interval)) {
		worker_destroy(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

int worker_start(struct worker *w)
{
	sigset_t all, old;
	int ret;

	/* Signals go to the controller's thread only. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	w->started = true;
	return 0;
}

int worker_join(struct worker *w)
{
	if (w->started) {
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	return w->err;
}

const char *worker_error(const struct worker *w)
{
	return w->errmsg;
}

const struct counters *worker_published(const struct worker *w)
{
	return &w->pub;
}

int worker_totals_init(struct worker_totals *t)
{
	memset(t, 0, sizeof(*t));
	if (hdr_create(&t->hs_latency) || hdr_create(&t->open_latency) || hdr_create(&t->rtt) ||
	    hdr_create(&t->msg_latency) || hdr_create(&t->lag)) {
		worker_totals_fini(t);
		return -ENOMEM;
	}
	return 0;
}

void worker_totals_fini(struct worker_totals *t)
{
	hdr_destroy(t->hs_latency);
	hdr_destroy(t->open_latency);
	hdr_destroy(t->rtt);
	hdr_destroy(t->msg_latency);
	hdr_destroy(t->lag);
	memset(t, 0, sizeof(*t));
}

static double seconds(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_usec - a->tv_usec) / 1e6;
}

void worker_collect(const struct worker *w, struct worker_totals *t)
{
	unsigned i = t->n_threads;

	counters_add(&t->c, &w->c);
	if (w->tp) {
		const struct transport_stats *s = &w->tp->stats;

		t->tp.tx_packets += s->tx_packets;
		t->tp.tx_bytes += s->tx_bytes;
		t->tp.tx_errors += s->tx_errors;
		t->tp.rx_packets += s->rx_packets;
		t->tp.rx_bytes += s->rx_bytes;
		t->tp.rx_errors += s->rx_errors;
		t->tp.rx_calls += s->rx_calls;
		t->tp.waits += s->waits;
		t->tp.polling |= s->polling;
		t->tp.polls_busy += s->polls_busy;
		t->tp.polls_idle += s->polls_idle;
		t->tp.idle_ns += s->idle_ns;
		t->tp.handoffs_out += s->handoffs_out;
		t->tp.handoffs_in += s->handoffs_in;
		t->tp.handoff_drops += s->handoff_drops;
	}
	hdr_merge(t->hs_latency, w->hs_lat);
	hdr_merge(t->open_latency, w->open_lat);
	hdr_merge(t->rtt, w->rtt);
	hdr_merge(t->msg_latency, w->msg_lat);
	hdr_merge(t->lag, w->lag);
	for (unsigned r = 0; r < WORKER_CLOSE_REASONS; r++)
		t->refused_by[r] += w->refused_by[r];
	for (uint32_t k = 0; k < w->n_eps; k++) {
		const struct hop_client_stats *s;

		if (!w->eps[k].hc)
			continue;
		s = hop_client_stats(w->eps[k].hc);
		t->hop_inits += s->inits;
		t->hop_retransmits += s->retransmits;
		t->hop_cookies += s->cookies;
		t->hop_give_ups += s->give_ups;
		t->hop_keepalives += s->keepalives;
		t->hop_send_errors += s->send_errors;
		for (unsigned r = 0; r < HOP_CLIENT_DROP_MAX; r++)
			t->hop_drops[r] += s->drops[r];
	}
	if (w->hs_first && (!t->hs_first_ns || w->hs_first < t->hs_first_ns))
		t->hs_first_ns = w->hs_first;
	if (w->hs_last > t->hs_last_ns)
		t->hs_last_ns = w->hs_last;
	if (i < OPTS_THREADS_MAX) {
		double wall = w->wall_end > w->wall_start ?
			      (double)(w->wall_end - w->wall_start) / 1e9 : 0;

		if (wall > 0 && w->window_closed) {
			const struct worker_ext *x = ext_of(w);
			double idle = (double)(x->idle_end_ns - x->idle_start_ns) / 1e9;

			t->cpu_user[i] = seconds(&w->ru_start.ru_utime, &w->ru_end.ru_utime) / wall;
			t->cpu_sys[i] = seconds(&w->ru_start.ru_stime, &w->ru_end.ru_stime) / wall;
			t->cpu[i] = t->cpu_user[i] + t->cpu_sys[i];
			t->busy[i] = idle < wall ? 1 - idle / wall : 0;
		}
		t->n_threads++;
	}
}

void worker_destroy(struct worker *w)
{
	if (!w)
		return;
	if (w->eps)
		for (uint32_t i = 0; i < w->n_eps; i++)
			hop_client_destroy(w->eps[i].hc);
	transport_destroy(w->tp);
	free(w->eps);
	free(w->chans);
	free(w->slots);
	hdr_destroy(w->hs_lat);
	hdr_destroy(w->open_lat);
	hdr_destroy(w->rtt);
	hdr_destroy(w->msg_lat);
	hdr_destroy(w->lag);
	hdr_destroy(w->interval);
	free(ext_of(w));
}
