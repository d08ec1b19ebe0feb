/*
 * run.c — the controller of one `relaybench run` (run.h).
 */
#define _GNU_SOURCE

#include "bench/relaybench/run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/relaybench/fail.h"
#include "bench/relaybench/report.h"
#include "bench/relaybench/scrape.h"

#define NS_PER_S UINT64_C(1000000000)
#define NS_PER_MS UINT64_C(1000000)

enum {
	STEP_NS = 100 * 1000 * 1000,		/* the controller looks every 100 ms */
	SCRAPE_TIMEOUT_MS = 3000,
	DRAIN_MARGIN_NS = 200 * 1000 * 1000,	/* after the loss timeout: 2 loss scans + publish */
};

struct ctl {
	const struct opts *o;
	const struct run_inputs *in;
	bool progress;
	struct run_result *r;
	struct worker_shared sh;
	struct worker **w;
	unsigned n;
	uint64_t t0;				/* controller start */
	struct scrape_url url;
	struct prom_relay m0, m1, m2;		/* run start, window start, after drain */
	struct snmp_udp k0, k1, k2;		/* the same moments, kernel UDP counters */
	bool window_seen;			/* m1 and k1 were taken */
	/* Progress. */
	uint64_t last_print;
	struct counters last;
	struct rusage ru_last;
	int phase;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NS_PER_S),
			       .tv_nsec = (long)(ns % NS_PER_S) };

	nanosleep(&ts, NULL);	/* a signal cuts it short: the caller checks */
}

static void set_phase(struct ctl *c, int phase)
{
	c->phase = phase;
	__atomic_store_n(&c->sh.phase, phase, __ATOMIC_RELEASE);
}

static void totals(const struct ctl *c, struct counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < c->n; i++) {
		struct counters one;

		counters_snapshot(&one, worker_published(c->w[i]));
		counters_add(sum, &one);
	}
}

static double tv_s(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

/* Once a second: one line on stderr. */
static void progress(struct ctl *c, uint64_t now)
{
	struct counters sum;
	struct rusage ru;
	double dt, cpu;

	if (!c->progress || now < c->last_print + NS_PER_S)
		return;
	totals(c, &sum);
	getrusage(RUSAGE_SELF, &ru);
	dt = (double)(now - c->last_print) / 1e9;
	cpu = (tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime) - tv_s(&c->ru_last.ru_utime) -
	       tv_s(&c->ru_last.ru_stime)) / dt / c->n;
	report_progress(stderr, (double)(now - c->t0) / 1e9, report_phase_names[c->phase], &sum,
			&c->last, dt, cpu, c->r);
	c->last = sum;
	c->ru_last = ru;
	c->last_print = now;
}

/* @return 0, or -errno with the reason kept in r->relay_error (first failure only). */
static int scrape(struct ctl *c, struct prom_relay *out)
{
	char *body;
	size_t len;
	int ret;

	if (!c->o->metrics)
		return 0;
	ret = scrape_fetch(&c->url, SCRAPE_TIMEOUT_MS, &body, &len);
	if (!ret) {
		ret = prom_parse_relay(body, len, out);
		free(body);
		if (ret && !c->r->relay_error[0])
			snprintf(c->r->relay_error, sizeof(c->r->relay_error), "%s: %s",
				 c->o->metrics, ret == -ENOENT ? "no postern_relay_ metrics there"
							       : "cannot parse the page");
	} else if (!c->r->relay_error[0]) {
		snprintf(c->r->relay_error, sizeof(c->r->relay_error), "%s: %s", c->o->metrics,
			 ret == -EPROTO ? "not an HTTP 200 response" : strerror(-ret));
	}
	if (ret)
		c->r->relay = false;
	return ret;
}

/* The relay's counters and the kernel's, at one moment. */
static void snapshot(struct ctl *c, struct prom_relay *m, struct snmp_udp *k)
{
	if (snmp_udp_read(k))
		c->r->kernel = false;
	scrape(c, m);
}

static bool stopped(const struct ctl *c)
{
	return *c->in->stop != 0;
}

static bool failed(const struct ctl *c)
{
	return __atomic_load_n(&c->sh.failed, __ATOMIC_ACQUIRE) != 0;
}

/* Start the threads and wait until each has its identities and sockets. */
static int start(struct ctl *c, char *err, size_t errlen)
{
	struct worker_config wc = {
		.threads = c->n,
		.o = c->o,
		.ident = c->in->ident,
		.relay_pub = c->in->relay_pub,
		.psk = c->in->psk,
		.dpdk = c->in->dpdk,
		.sh = &c->sh,
	};
	int ret;

	for (unsigned i = 0; i < c->n; i++) {
		wc.id = i;
		ret = worker_create(&c->w[i], &wc);
		if (!ret)
			ret = worker_start(c->w[i]);
		if (ret)
			return fail_set(err, errlen, ret, "cannot start fleet thread %u: %s", i,
					strerror(-ret));
	}
	for (;;) {
		if (failed(c)) {
			for (unsigned i = 0; i < c->n; i++)
				if (worker_error(c->w[i])[0])
					return fail_set(err, errlen, -EIO, "%s",
							worker_error(c->w[i]));
			return fail_set(err, errlen, -EIO, "a fleet thread failed");
		}
		if (__atomic_load_n(&c->sh.ready, __ATOMIC_ACQUIRE) == c->n)
			return 0;
		if (stopped(c))
			return fail_set(err, errlen, -EINTR, "interrupted during setup");
		sleep_ns(10 * NS_PER_MS);
	}
}

/* Wait for @cond over the published counters, until @deadline. @return true if met. */
static bool wait_until(struct ctl *c, uint64_t deadline,
		       bool (*cond)(const struct ctl *, const struct counters *))
{
	for (;;) {
		uint64_t now = mono_ns();
		struct counters sum;

		totals(c, &sum);
		if (cond(c, &sum))
			return true;
		if (now >= deadline || stopped(c) || failed(c))
			return false;
		progress(c, now);
		sleep_ns(deadline - now < STEP_NS ? deadline - now : STEP_NS);
	}
}

static bool gateways_up(const struct ctl *c, const struct counters *s)
{
	return s->gw_up >= c->o->gateways;
}

static bool agents_ready(const struct ctl *c, const struct counters *s)
{
	return s->ag_up >= c->o->agents &&
	       s->ch_opened + s->ch_refused >= (uint64_t)c->o->agents * c->o->channels;
}

static bool drained(const struct ctl *c, const struct counters *s)
{
	return s->drained >= c->n;
}

static bool never(const struct ctl *c, const struct counters *s)
{
	(void)c;
	(void)s;
	return false;
}

static int handshakes(struct ctl *c, char *err, size_t errlen)
{
	uint64_t deadline = mono_ns() + c->o->setup_timeout_ns;
	struct counters sum;

	set_phase(c, WORKER_GATEWAYS);
	if (!wait_until(c, deadline, gateways_up)) {
		if (stopped(c) || failed(c))
			return 0;
		totals(c, &sum);
		c->r->setup_timed_out = true;
		if (!sum.gw_up)
			return fail_set(err, errlen, -ETIMEDOUT,
					"no gateway completed a handshake with %s in %.0f s (%llu "
					"started): is a relay listening there, is --relay-key its "
					"public key, and does it --trust the public key of "
					"--signing-key?", c->o->relay,
					(double)c->o->setup_timeout_ns / 1e9,
					(unsigned long long)sum.hs_started);
	}
	if (!c->o->agents || stopped(c))
		return 0;
	set_phase(c, WORKER_AGENTS);
	if (!wait_until(c, deadline, agents_ready) && !stopped(c))
		c->r->setup_timed_out = true;
	return 0;
}

static void traffic(struct ctl *c)
{
	uint64_t start = mono_ns() + c->o->warmup_ns, end = start + c->o->duration_ns;

	__atomic_store_n(&c->sh.measure_start_ns, start, __ATOMIC_RELAXED);
	__atomic_store_n(&c->sh.measure_end_ns, end, __ATOMIC_RELAXED);
	set_phase(c, WORKER_TRAFFIC);
	wait_until(c, start, never);
	if (stopped(c))
		return;
	snapshot(c, &c->m1, &c->k1);
	c->window_seen = true;
	wait_until(c, end, never);
	if (stopped(c))
		return;
	wait_until(c, end + c->o->loss_timeout_ns + DRAIN_MARGIN_NS, drained);
}

static void finish(struct ctl *c)
{
	struct run_result *r = c->r;
	const struct worker_totals *t = &r->t;
	uint64_t sent;

	if (t->hs_last_ns > t->hs_first_ns)
		r->handshake_s = (double)(t->hs_last_ns - t->hs_first_ns) / 1e9;
	/* A polling thread's CPU is always ~100 %: its busy share is what says saturated. */
	for (unsigned i = 0; i < t->n_threads; i++) {
		double load = t->tp.polling ? t->busy[i] : t->cpu[i];

		if (load > r->cpu_max)
			r->cpu_max = load;
	}
	r->saturated = r->cpu_max > RUN_SATURATED_CPU;
	if (c->o->open_loop && c->o->agents && r->window_s > 0) {
		r->offered = c->o->rate * r->window_s;
		sent = t->c.msgs_sent;
		r->behind = (double)sent < RUN_BEHIND_RATIO * r->offered;
	}
	/* Interrupted before the window began: only whole-run figures exist. */
	if (c->o->agents && !c->window_seen) {
		c->m1 = c->m0;
		c->k1 = c->k0;
	}
	if (r->kernel)
		snmp_udp_delta(c->o->agents ? &c->k1 : &c->k0, &c->k2, &r->kernel_udp);
	if (c->o->metrics && r->relay) {
		prom_relay_delta(&c->m0, &c->m2, &r->relay_run);
		prom_relay_delta(&c->m1, &c->m2, &r->relay_window);
	}
}

int run_execute(const struct opts *o, const struct run_inputs *in, bool progress_on,
		struct run_result *r, char *err, size_t errlen)
{
	struct ctl c = { .o = o, .in = in, .progress = progress_on, .r = r, .n = o->threads };
	struct transport_dpdk_info before;
	const char *why;
	uint64_t setup_start;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = worker_totals_init(&r->t);
	if (ret)
		return fail_set(err, errlen, ret, "out of memory");
	r->expected_handshakes = opts_endpoints(o);
	r->expected_channels = (uint64_t)o->agents * o->channels;
	r->window_s = o->agents ? (double)o->duration_ns / 1e9 : 0;
	c.t0 = mono_ns();
	c.last_print = c.t0;
	getrusage(RUSAGE_SELF, &c.ru_last);
	r->kernel = snmp_udp_read(&c.k0) == 0;
	if (o->metrics) {
		scrape_url_parse(o->metrics, &c.url, &why);	/* checked by opts */
		r->relay = true;
		ret = scrape(&c, &c.m0);
		if (ret) {
			ret = fail_set(err, errlen, ret, "--metrics %s", r->relay_error);
			goto out_totals;
		}
	}
	if (in->dpdk) {
		transport_dpdk_port_drain(in->dpdk);
		transport_dpdk_port_info(in->dpdk, &before);
	}
	c.w = calloc(c.n, sizeof(*c.w));
	if (!c.w) {
		ret = fail_set(err, errlen, -ENOMEM, "out of memory");
		goto out_totals;
	}
	ret = start(&c, err, errlen);
	if (ret)
		goto out_threads;
	setup_start = mono_ns();
	ret = handshakes(&c, err, errlen);
	if (ret)
		goto out_threads;
	r->setup_s = (double)(mono_ns() - setup_start) / 1e9;
	if (o->agents && !stopped(&c) && !failed(&c))
		traffic(&c);
	snapshot(&c, &c.m2, &c.k2);
	set_phase(&c, WORKER_CLOSE);
	for (unsigned i = 0; i < c.n; i++)
		if (worker_join(c.w[i]) && !ret)
			ret = fail_set(err, errlen, -EIO, "%s", worker_error(c.w[i]));
	for (unsigned i = 0; i < c.n; i++)
		worker_collect(c.w[i], &r->t);
	r->signal = *in->stop;
	finish(&c);
out_threads:
	set_phase(&c, WORKER_ABORT);
	for (unsigned i = 0; i < c.n; i++) {
		if (c.w[i])
			worker_join(c.w[i]);
		worker_destroy(c.w[i]);
	}
	free(c.w);
	/* Every transport is gone: the pool should hold what it held before the run. */
	if (in->dpdk && !ret) {
		transport_dpdk_port_drain(in->dpdk);
		transport_dpdk_port_info(in->dpdk, &r->dpdk_info);
		transport_dpdk_info_since(&r->dpdk_info, &before);
		r->dpdk = true;
	}
out_totals:
	if (ret)
		worker_totals_fini(&r->t);
	return ret;
}

void run_result_fini(struct run_result *r)
{
	worker_totals_fini(&r->t);
}
