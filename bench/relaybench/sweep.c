/*
 * sweep.c — `relaybench sweep` (sweep.h).
 */
#include "bench/relaybench/sweep.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "bench/relaybench/html_method.h"

static const char *const limit_names[] = {
	[SWEEP_LIMIT_RELAY] = "relay",
	[SWEEP_LIMIT_GENERATOR] = "generator",
	[SWEEP_LIMIT_SETUP] = "setup",
	[SWEEP_LIMIT_RANGE] = "range",
	[SWEEP_LIMIT_INTERRUPTED] = "interrupted",
};

static double step_rate(const struct opts *o, unsigned i)
{
	return o->rate_from * pow(o->rate_to / o->rate_from, (double)i / (o->steps - 1));
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Fill @s from one run's result and judge it against the service level. */
/*
 * What cpu_max measures: CPU time for kernel sockets; for a DPDK port, whose
 * threads poll and use their whole CPU regardless, the busy share of the polls.
 */
static bool poll_busy(const struct opts *o)
{
	return o->transport == OPTS_TRANSPORT_DPDK;
}

static void judge(const struct opts *o, const struct run_result *r, struct sweep_step *s)
{
	const struct worker_totals *t = &r->t;
	const struct counters *c = &t->c;

	s->achieved = r->window_s > 0 ? (double)c->msgs_sent / r->window_s : 0;
	s->completed = r->window_s > 0 ? (double)c->msgs_done / r->window_s : 0;
	s->msgs_sent = c->msgs_sent;
	s->pkts_sent = c->pkts_sent;
	s->pkts_lost = c->pkts_sent > c->pkts_echoed ? c->pkts_sent - c->pkts_echoed : 0;
	s->loss = c->pkts_sent ? (double)s->pkts_lost / (double)c->pkts_sent : 0;
	s->p50_ns = hdr_percentile(t->msg_latency, 50);
	s->p99_ns = hdr_percentile(t->msg_latency, 99);
	s->rtt_p99_ns = hdr_percentile(t->rtt, 99);
	s->relay_cpp = r->relay ? prom_cycles_per_packet(&r->relay_window) : 0;
	s->relay_drops = r->relay ? r->relay_window.dropped_total : 0;
	s->cpu_max = r->cpu_max;
	s->saturated = r->saturated;
	s->behind = r->behind;
	s->setup_ok = c->hs_done == r->expected_handshakes && c->ch_opened == r->expected_channels;
	if (!s->setup_ok)
		snprintf(s->why, sizeof(s->why), "setup: %" PRIu64 "/%" PRIu64 " handshakes, %"
			 PRIu64 "/%" PRIu64 " channels", c->hs_done, r->expected_handshakes,
			 c->ch_opened, r->expected_channels);
	else if (s->saturated || s->behind)
		snprintf(s->why, sizeof(s->why), "generator %s (%s %.0f%%)",
			 s->saturated ? "saturated" : "behind", poll_busy(o) ? "poll busy" : "CPU",
			 100 * s->cpu_max);
	else if (s->loss >= o->max_loss && s->pkts_lost)
		snprintf(s->why, sizeof(s->why), "loss %.3f%% >= %.3f%%", 100 * s->loss,
			 100 * o->max_loss);
	else if (s->p99_ns >= o->slo_p99_ns)
		snprintf(s->why, sizeof(s->why), "p99 %.2f ms >= %.2f ms", ms(s->p99_ns),
			 ms(o->slo_p99_ns));
	else if (!c->msgs_done)
		snprintf(s->why, sizeof(s->why), "no message completed");
	else
		s->pass = true;
}

int sweep_execute(const struct opts *o, const struct run_inputs *in, bool progress,
		  struct sweep_result *r, char *err, size_t errlen)
{
	static struct run_result rr;
	struct opts step = *o;
	int ret;

	memset(r, 0, sizeof(*r));
	r->knee = -1;
	r->limit = SWEEP_LIMIT_RANGE;
	for (unsigned i = 0; i < o->steps; i++) {
		struct sweep_step *s = &r->step[i];

		step.rate = step_rate(o, i);
		s->rate = step.rate;
		ret = run_execute(&step, in, progress, &rr, err, errlen);
		if (ret)
			return ret;
		r->n = i + 1;
		judge(o, &rr, s);
		if (rr.signal) {
			run_result_fini(&rr);
			r->limit = SWEEP_LIMIT_INTERRUPTED;
			s->pass = false;
			snprintf(s->why, sizeof(s->why), "interrupted");
			break;
		}
		run_result_fini(&rr);
		fprintf(stderr, "relaybench: sweep step %u/%u at %.0f msg/s: sent %.0f/s, loss "
			"%.3f%%, p99 %.2f ms, relaybench %s %.0f%%: %s%s\n", i + 1, o->steps,
			s->rate, s->achieved, 100 * s->loss, ms(s->p99_ns),
			poll_busy(o) ? "poll busy" : "CPU", 100 * s->cpu_max,
			s->pass ? "pass" : "miss: ", s->pass ? "" : s->why);
		if (s->pass) {
			r->knee = (int)i;
			continue;
		}
		r->limit = !s->setup_ok ? SWEEP_LIMIT_SETUP :
			   s->saturated || s->behind ? SWEEP_LIMIT_GENERATOR : SWEEP_LIMIT_RELAY;
		break;
	}
	return 0;
}

void sweep_table(FILE *f, const struct opts *o, const struct sweep_result *r)
{
	fprintf(f, "relaybench sweep -> %s: %u gateways, %u agents x %u channels, model %s, "
		"%.0f to %.0f msg/s in %u steps\n", o->relay, o->gateways, o->agents, o->channels,
		model_kind_name(o->model), o->rate_from, o->rate_to, o->steps);
	fprintf(f, "  service level: packet loss < %.3f%%, message latency p99 < %.2f ms; "
		"window %.1f s per step\n\n", 100 * o->max_loss, ms(o->slo_p99_ns),
		(double)o->duration_ns / 1e9);
	fprintf(f, "%12s %12s %12s %9s %10s %10s %10s %8s  %s\n", "offered/s", "sent/s",
		"done/s", "loss %", "p50 ms", "p99 ms", "relay cpp",
		poll_busy(o) ? "gen busy" : "gen CPU", "verdict");
	for (unsigned i = 0; i < r->n; i++) {
		const struct sweep_step *s = &r->step[i];

		fprintf(f, "%12.0f %12.0f %12.0f %9.3f %10.2f %10.2f %10.0f %7.0f%%  %s%s\n",
			s->rate, s->achieved, s->completed, 100 * s->loss, ms(s->p50_ns),
			ms(s->p99_ns), s->relay_cpp, 100 * s->cpu_max, s->pass ? "pass" : "miss: ",
			s->pass ? "" : s->why);
	}
	fputc('\n', f);
	if (r->knee >= 0)
		fprintf(f, "knee: %.0f msg/s (%.0f completed/s, p99 %.2f ms)",
			r->step[r->knee].rate, r->step[r->knee].completed,
			ms(r->step[r->knee].p99_ns));
	else
		fprintf(f, "knee: none, the first step already missed");
	switch (r->limit) {
	case SWEEP_LIMIT_RELAY:
		fprintf(f, r->knee >= 0 ? "; the next step missed the service level\n" : "\n");
		break;
	case SWEEP_LIMIT_GENERATOR:
		fprintf(f, "\nGENERATOR SATURATED: the sweep stopped because relaybench, not the "
			"relay, reached its limit; add --threads or run relaybench elsewhere\n");
		break;
	case SWEEP_LIMIT_SETUP:
		fprintf(f, "; a step could not set up every handshake and channel\n");
		break;
	case SWEEP_LIMIT_RANGE:
		fprintf(f, "; every step passed: the knee is above --rate-to\n");
		break;
	case SWEEP_LIMIT_INTERRUPTED:
		fprintf(f, "; interrupted\n");
		break;
	}
}

int sweep_json(FILE *f, const struct opts *o, const struct sweep_result *r)
{
	json_t *j = json_object(), *steps = json_array();
	int ret;

	if (!j || !steps)
		return -ENOMEM;
	for (unsigned i = 0; i < r->n; i++) {
		const struct sweep_step *s = &r->step[i];

		json_array_append_new(steps, json_pack(
			"{s:f, s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:I, s:f,"
			" s:b, s:b, s:b, s:b, s:o}",
			"rate", s->rate, "achieved", s->achieved, "completed", s->completed,
			"messages_sent", (json_int_t)s->msgs_sent,
			"packets_sent", (json_int_t)s->pkts_sent,
			"packets_lost", (json_int_t)s->pkts_lost, "loss_ratio", s->loss,
			"p50_ms", ms(s->p50_ns), "p99_ms", ms(s->p99_ns),
			"rtt_p99_ms", ms(s->rtt_p99_ns), "relay_cycles_per_packet", s->relay_cpp,
			"relay_drops", (json_int_t)s->relay_drops, "cpu_max", s->cpu_max,
			"saturated", s->saturated, "behind", s->behind, "setup_ok", s->setup_ok,
			"pass", s->pass, "miss", s->pass ? json_null() : json_string(s->why)));
	}
	json_object_set_new(j, "schema", json_string(SWEEP_SCHEMA));
	json_object_set_new(j, "config", json_pack(
		"{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:s, s:o, s:s, s:f, s:f, s:i, s:f, s:f, s:f}",
		"relay", o->relay, "transport", poll_busy(o) ? "dpdk" : "udp",
		"saturation_measure", poll_busy(o) ? "poll_busy" : "cpu",
		"gateways", (int)o->gateways, "agents", (int)o->agents,
		"channels", (int)o->channels, "threads", (int)o->threads,
		"model", model_kind_name(o->model),
		"size", o->model == MODEL_STREAM ? json_integer(o->size) : json_null(),
		"arrivals", model_arrivals_name(o->arrivals),
		"rate_from", o->rate_from, "rate_to", o->rate_to, "steps", (int)o->steps,
		"warmup_s", (double)o->warmup_ns / 1e9, "duration_s", (double)o->duration_ns / 1e9,
		"loss_timeout_ms", ms(o->loss_timeout_ns)));
	json_object_set_new(j, "slo", json_pack("{s:f, s:f}", "p99_ms", ms(o->slo_p99_ns),
						"max_loss_ratio", o->max_loss));
	json_object_set_new(j, "steps", steps);
	json_object_set_new(j, "knee", r->knee >= 0 ? json_pack(
		"{s:f, s:f, s:f}", "rate", r->step[r->knee].rate,
		"completed", r->step[r->knee].completed, "p99_ms", ms(r->step[r->knee].p99_ns))
						   : json_null());
	json_object_set_new(j, "limited_by", json_string(limit_names[r->limit]));
	json_object_set_new(j, "method", html_method_json(o->argc, o->argv));
	ret = json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(j);
	return ret ? -EIO : 0;
}
