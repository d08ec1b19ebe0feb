/*
 * plan.c — sizing a relay fleet from measured per-core figures (plan.h).
 */
#include "bench/relaybench/plan.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <jansson.h>

#include "bench/relaybench/fail.h"

/* Comparisons of computed core counts tolerate rounding, not more. */
#define EPSILON 1e-9

static const char *const limit_names[] = {
	[PLAN_LIMIT_MINIMUM] = "minimum",
	[PLAN_LIMIT_CORES] = "cores",
	[PLAN_LIMIT_SESSIONS] = "sessions",
	[PLAN_LIMIT_CHANNEL_ENDS] = "channel_ends",
};

const char *plan_limit_name(enum plan_limit l)
{
	return limit_names[l];
}

/* --- the message mix ---------------------------------------------------------- */

/* E2E bytes a message of @size puts on the wire: the last chunk is at least 32 bytes. */
static double wire_bytes(uint32_t size)
{
	unsigned n = model_chunks(size);

	return (double)(n - 1) * MODEL_CHUNK + model_chunk_len(size, n - 1);
}

/*
 * Sum every size of one rr class with its probability. Uniform classes draw
 * lo..hi alike; a log-uniform class draws v = lo × (hi/lo)^u, u in [0, 1), and
 * truncates, so size s (lo <= s < hi) has probability ln((s+1)/s) / ln(hi/lo)
 * (model.c).
 */
static void add_class(const struct model_class *c, double *bytes, double *pkts)
{
	double share = c->percent / 100.0, span = log((double)c->hi / c->lo);

	for (uint32_t s = c->lo; s <= c->hi; s++) {
		double p;

		if (c->log_uniform)
			p = s < c->hi ? log((s + 1.0) / s) / span : 0;
		else
			p = 1.0 / (c->hi - c->lo + 1);
		*bytes += share * p * wire_bytes(s);
		*pkts += share * p * model_chunks(s);
	}
}

void plan_mix_of(enum model_kind model, uint32_t size, struct plan_mix *out)
{
	double bytes = 0, pkts = 0;

	if (model == MODEL_STREAM) {
		bytes = size < MODEL_CHUNK_MIN ? MODEL_CHUNK_MIN : size;
		pkts = 1;
	} else {
		for (unsigned i = 0; i < MODEL_RR_CLASSES; i++)
			add_class(&model_rr_classes[i], &bytes, &pkts);
	}
	out->msg_bytes = bytes;
	out->pkts_per_msg = pkts;
	out->bytes_per_pkt = bytes / pkts;
}

/* --- the sizing ------------------------------------------------------------- */

static bool positive(double v)
{
	return isfinite(v) && v > 0;
}

static int check(const struct plan_measured *m, const struct plan_target *t, char *err,
		 size_t errlen)
{
	if (!positive(m->pps_per_core))
		return fail_set(err, errlen, -EINVAL, "packets per core: %g is not a positive rate",
				m->pps_per_core);
	if (!positive(m->hs_per_core))
		return fail_set(err, errlen, -EINVAL, "--handshakes-per-core: %g is not a positive "
				"rate", m->hs_per_core);
	if (!t->gateways)
		return fail_set(err, errlen, -EINVAL, "--gateways: a fleet needs at least one "
				"gateway");
	if (!isfinite(t->gateway_kbps) || t->gateway_kbps < 0)
		return fail_set(err, errlen, -EINVAL, "--gateway-kbps: %g is not a rate",
				t->gateway_kbps);
	if (!(t->headroom >= 0 && t->headroom <= PLAN_HEADROOM_MAX))
		return fail_set(err, errlen, -EINVAL, "--headroom: %g is not a fraction from 0 to "
				"%.1f (0.3 keeps 30%% of every core spare)", t->headroom,
				PLAN_HEADROOM_MAX);
	if (!t->cores_per_relay)
		return fail_set(err, errlen, -EINVAL, "--cores-per-relay: a relay needs a core");
	if (!positive(t->storm_s))
		return fail_set(err, errlen, -EINVAL, "--reconnect-storm: %g s is not a time",
				t->storm_s);
	if (!t->max_sessions || !t->max_channel_ends)
		return fail_set(err, errlen, -EINVAL, "--max-sessions, --max-channel-ends: a relay "
				"limit of 0 admits nothing");
	if (t->model == MODEL_STREAM && t->size < MODEL_CHUNK_MIN)
		return fail_set(err, errlen, -EINVAL, "--size: %u bytes is below the %d-byte "
				"minimum of a message", t->size, MODEL_CHUNK_MIN);
	if (t->slo_p99_ms > 0 && m->p99_ms < 0)
		return fail_set(err, errlen, -EINVAL, "--slo-p99: the p99 latency at the measured "
				"load is unknown; give --p99-ms (measured at --pps-per-core) or "
				"--from a run or sweep");
	/* Below, not at: a sweep step passes only below its SLO (sweep.c). */
	if (t->slo_p99_ms > 0 && m->p99_ms >= t->slo_p99_ms)
		return fail_set(err, errlen, -EINVAL, "the per-core figures were measured at "
				"p99 %.2f ms, at or above --slo-p99 %.2f ms: at that load the "
				"relay misses the target; measure again (relaybench sweep "
				"--slo-p99 %.0f) and plan from its knee", m->p99_ms,
				t->slo_p99_ms, ceil(t->slo_p99_ms));
	return 0;
}

/* X(n): the lost relay's sessions, N / (n + 1), re-handshake on n survivors within S. */
static double storm_per_survivor(const struct plan_target *t, const struct plan_result *r,
				 uint32_t n)
{
	return (double)r->sessions / (n + 1.0) / t->storm_s / n;
}

/* c(n): the cores one of n survivors needs during the storm. */
static double survivor_cores(const struct plan_target *t, const struct plan_result *r,
			     uint32_t n)
{
	return r->input_pps / n / r->pps_usable +
	       (r->rekey_per_s / n + storm_per_survivor(t, r, n)) / r->hs_usable;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* The fleet's load, before any relay is counted. */
static void load(const struct plan_measured *m, const struct plan_target *t,
		 struct plan_result *r)
{
	plan_mix_of(t->model, t->size, &r->mix);
	r->channels = t->tenants * t->channels_per_tenant;
	r->sessions = t->gateways + r->channels;
	r->e2e_bytes_per_s = (double)t->gateways * t->gateway_kbps * 1000 / 8;
	r->data_pps = r->e2e_bytes_per_s / r->mix.bytes_per_pkt;
	r->keepalive_pps = (double)r->sessions / PLAN_KEEPALIVE_S;
	r->input_pps = r->data_pps + r->keepalive_pps;
	r->input_gbps = (r->e2e_bytes_per_s + PLAN_HOP_OVERHEAD * r->data_pps) * 8 / 1e9;
	r->rekey_per_s = (double)r->sessions / PLAN_REKEY_S;
	r->gateway_pps = t->gateway_kbps * 1000 / 8 / r->mix.bytes_per_pkt +
			 1.0 / PLAN_KEEPALIVE_S;
	r->pps_usable = m->pps_per_core * (1 - t->headroom);
	r->hs_usable = m->hs_per_core * (1 - t->headroom);
}

int plan_compute(const struct plan_measured *m, const struct plan_target *t,
		 struct plan_result *r, char *err, size_t errlen)
{
	uint64_t ends;
	uint32_t n;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = check(m, t, err, errlen);
	if (ret)
		return ret;
	if ((double)t->tenants * (double)t->channels_per_tenant > 1e12)
		return fail_set(err, errlen, -EINVAL, "--tenants × --channels-per-tenant: %g "
				"channels is beyond any fleet", (double)t->tenants *
				(double)t->channels_per_tenant);
	load(m, t, r);
	/* A session lives on one worker (DESIGN §2): its packets cannot be spread. */
	if (r->gateway_pps > r->pps_usable)
		return fail_set(err, errlen, -EINVAL, "--gateway-kbps: one gateway's %.0f "
				"packets/s exceed one core's usable %.0f; a session lives on one "
				"worker, so no number of relays carries it", r->gateway_pps,
				r->pps_usable);
	r->n_by_sessions = (uint32_t)fmin(div_up(r->sessions, t->max_sessions),
					  PLAN_RELAYS_MAX + 1.0);
	ends = (uint64_t)t->max_channel_ends * t->cores_per_relay;
	r->n_by_channel_ends = (uint32_t)fmin(div_up(2 * r->channels, ends),
					      PLAN_RELAYS_MAX + 1.0);
	/* c(n) falls as n grows: the first n that fits is the least. */
	for (n = 1; n <= PLAN_RELAYS_MAX; n++)
		if (survivor_cores(t, r, n) <= t->cores_per_relay + EPSILON)
			break;
	r->n_by_cores = n;
	n = 1;
	r->limit = PLAN_LIMIT_MINIMUM;
	if (r->n_by_cores > n) {
		n = r->n_by_cores;
		r->limit = PLAN_LIMIT_CORES;
	}
	if (r->n_by_sessions > n) {
		n = r->n_by_sessions;
		r->limit = PLAN_LIMIT_SESSIONS;
	}
	if (r->n_by_channel_ends > n) {
		n = r->n_by_channel_ends;
		r->limit = PLAN_LIMIT_CHANNEL_ENDS;
	}
	if (n > PLAN_RELAYS_MAX)
		return fail_set(err, errlen, -ERANGE, "the target needs more than %d relays of %u "
				"cores (limited by %s): more cores per relay, or a smaller target",
				PLAN_RELAYS_MAX, t->cores_per_relay, limit_names[r->limit]);
	r->survivors = n;
	r->relays = n + 1;
	r->cores = (uint64_t)r->relays * t->cores_per_relay;
	r->storm_sessions = (double)r->sessions / r->relays;
	r->storm_per_s = storm_per_survivor(t, r, n);
	r->survivor_pps = r->input_pps / n;
	r->survivor_hs_per_s = r->rekey_per_s / n + r->storm_per_s;
	r->survivor_data_cores = r->survivor_pps / r->pps_usable;
	r->survivor_hs_cores = r->survivor_hs_per_s / r->hs_usable;
	r->survivor_cores = r->survivor_data_cores + r->survivor_hs_cores;
	r->survivor_sessions = (double)r->sessions / n;
	r->survivor_channel_ends = 2.0 * (double)r->channels / n;
	r->normal_cores = r->input_pps / r->relays / m->pps_per_core +
			  r->rekey_per_s / r->relays / m->hs_per_core;
	r->normal_utilization = r->normal_cores / t->cores_per_relay;
	return 0;
}

/* --- figures from a saved run or sweep --------------------------------------- */

/* The number at @path ("a.b.c") in @doc, or NAN. */
static double num_at(const json_t *doc, const char *path)
{
	char key[64];
	const char *dot;

	while (doc && json_is_object(doc) && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			return NAN;
		memcpy(key, path, n);
		key[n] = '\0';
		doc = json_object_get(doc, key);
		path = dot + 1;
	}
	doc = doc && json_is_object(doc) ? json_object_get(doc, path) : NULL;
	return doc && json_is_number(doc) ? json_number_value(doc) : NAN;
}

static int from_run(const json_t *doc, const char *name, uint32_t workers,
		    struct plan_measured *m, char *err, size_t errlen)
{
	double pps = num_at(doc, "throughput.relay_pps");
	double w = workers ? workers : num_at(doc, "relay.window.workers");
	double p99_us = num_at(doc, "messages.latency_us.p99");
	const json_t *g = json_object_get(doc, "generator");

	if (!positive(pps))
		return fail_set(err, errlen, -EINVAL, "--from %s: the run carried no traffic "
				"(throughput.relay_pps); plan from a run with agents", name);
	if (!positive(w) || w != floor(w))
		return fail_set(err, errlen, -EINVAL, "--from %s: the run does not say how many "
				"workers the relay had (a run with --metrics does); give "
				"--relay-workers N", name);
	m->pps_per_core = pps / w;
	m->p99_ms = isnan(p99_us) ? -1 : p99_us / 1000;
	snprintf(m->note, sizeof(m->note), "run: %.0f relay packets/s over %.0f worker%s%s",
		 pps, w, w == 1 ? "" : "s",
		 json_is_true(json_object_get(g, "saturated")) ?
		 "; relaybench was saturated, so this is a lower bound" : "");
	return 0;
}

static int from_sweep(const json_t *doc, const char *name, uint32_t workers,
		      struct plan_measured *m, char *err, size_t errlen)
{
	const json_t *knee = json_object_get(doc, "knee");
	const json_t *steps = json_object_get(doc, "steps");
	const char *limit = json_string_value(json_object_get(doc, "limited_by"));
	double rate = num_at(doc, "knee.rate"), window = num_at(doc, "config.duration_s");
	const json_t *step = NULL;
	double sent, lost, pps;
	size_t i;

	if (!json_is_object(knee))
		return fail_set(err, errlen, -EINVAL, "--from %s: the sweep has no knee (its first "
				"step already missed); sweep from a lower --rate-from", name);
	for (i = 0; i < json_array_size(steps); i++) {
		const json_t *s = json_array_get(steps, i);

		if (json_is_true(json_object_get(s, "pass")) &&
		    fabs(num_at(s, "rate") - rate) <= 1e-6 * rate)
			step = s;
	}
	sent = num_at(step, "packets_sent");
	lost = num_at(step, "packets_lost");
	if (!step || !positive(window) || !positive(sent) || !(lost >= 0) || lost > sent)
		return fail_set(err, errlen, -EINVAL, "--from %s: the knee's step (packets_sent, "
				"packets_lost, config.duration_s) is missing or malformed", name);
	if (!workers)
		return fail_set(err, errlen, -EINVAL, "--from %s: a sweep does not record the "
				"relay's worker count; give --relay-workers N", name);
	/* Every echoed round trip is two packets into the relay (docs/relaybench.md). */
	pps = 2 * (sent - lost) / window;
	m->pps_per_core = pps / workers;
	m->p99_ms = num_at(knee, "p99_ms");
	if (isnan(m->p99_ms))
		m->p99_ms = -1;
	snprintf(m->note, sizeof(m->note), "sweep knee at %.0f msg/s: %.0f relay packets/s "
		 "over %u worker%s%s", rate, pps, workers, workers == 1 ? "" : "s",
		 limit && !strcmp(limit, "generator") ?
		 "; relaybench, not the relay, was the limit: a lower bound" :
		 limit && !strcmp(limit, "range") ?
		 "; every step passed, the knee is higher: a lower bound" : "");
	return 0;
}

int plan_measured_from_json(const struct json_t *doc, const char *name, uint32_t relay_workers,
			    struct plan_measured *m, char *err, size_t errlen)
{
	const char *schema = json_string_value(json_object_get(doc, "schema"));

	snprintf(m->source, sizeof(m->source), "%s", name);
	m->note[0] = '\0';
	if (schema && !strcmp(schema, "relaybench.run/1"))
		return from_run(doc, name, relay_workers, m, err, errlen);
	if (schema && !strcmp(schema, "relaybench.sweep/1"))
		return from_sweep(doc, name, relay_workers, m, err, errlen);
	return fail_set(err, errlen, -EINVAL, "--from %s: not a relaybench run or sweep (schema "
		    "%s); save one with --json", name, schema ? schema : "missing");
}

/* --- output -------------------------------------------------------------------- */

static void row(FILE *f, const char *what, const char *how, const char *result)
{
	fprintf(f, "  %-22s %-50s %s\n", what, how, result);
}

static void rowf(FILE *f, const char *what, const char *how, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void rowf(FILE *f, const char *what, const char *how, const char *fmt, ...)
{
	char result[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(result, sizeof(result), fmt, ap);
	va_end(ap);
	row(f, what, how, result);
}

static const char *fmt(char *buf, size_t cap, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static const char *fmt(char *buf, size_t cap, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsnprintf(buf, cap, format, ap);
	va_end(ap);
	return buf;
}

static void table_traffic(FILE *f, const struct plan_target *t, const struct plan_result *r)
{
	char how[128];

	fprintf(f, "traffic\n");
	if (t->model == MODEL_STREAM)
		rowf(f, "message mix stream", fmt(how, sizeof(how), "%u B, one packet per "
		     "message", t->size), "%.0f B per packet", r->mix.bytes_per_pkt);
	else
		rowf(f, "message mix rr", fmt(how, sizeof(how), "%.0f B per message / %.3f "
		     "packets", r->mix.msg_bytes, r->mix.pkts_per_msg), "%.1f B per packet",
		     r->mix.bytes_per_pkt);
	rowf(f, "E2E bytes", fmt(how, sizeof(how), "%" PRIu64 " gateways x %g kbit/s / 8",
				 t->gateways, t->gateway_kbps),
	     "%.1f MB/s", r->e2e_bytes_per_s / 1e6);
	rowf(f, "data packets", fmt(how, sizeof(how), "%.1f MB/s / %.1f B",
				    r->e2e_bytes_per_s / 1e6, r->mix.bytes_per_pkt),
	     "%.0f pkt/s", r->data_pps);
	rowf(f, "keepalives", fmt(how, sizeof(how), "%" PRIu64 " sessions / %d s (idle ones)",
				  r->sessions, PLAN_KEEPALIVE_S),
	     "%.0f pkt/s", r->keepalive_pps);
	rowf(f, "relay input", fmt(how, sizeof(how), "%.0f + %.0f", r->data_pps,
				   r->keepalive_pps),
	     "%.0f pkt/s (as many out), %.3f Gbit/s", r->input_pps, r->input_gbps);
	rowf(f, "one gateway", fmt(how, sizeof(how), "%g kbit/s / 8 / %.1f B + 1 / %d s",
				   t->gateway_kbps, r->mix.bytes_per_pkt, PLAN_KEEPALIVE_S),
	     "%.1f pkt/s (one worker)", r->gateway_pps);
}

static void table_handshakes(FILE *f, const struct plan_target *t, const struct plan_result *r)
{
	char how[128];

	fprintf(f, "handshakes\n");
	rowf(f, "sessions", fmt(how, sizeof(how), "%" PRIu64 " gateways + %" PRIu64 " x %" PRIu64
				" agent channels", t->gateways, t->tenants,
				t->channels_per_tenant), "%" PRIu64, r->sessions);
	rowf(f, "rekeys", fmt(how, sizeof(how), "%" PRIu64 " sessions / %d s", r->sessions,
			      PLAN_REKEY_S), "%.1f/s", r->rekey_per_s);
	rowf(f, "reconnect storm", fmt(how, sizeof(how), "%" PRIu64 " / %u relays / %g s / %u "
				       "survivor%s", r->sessions, r->relays, t->storm_s,
				       r->survivors, r->survivors == 1 ? "" : "s"),
	     "%.1f/s per survivor", r->storm_per_s);
}

void plan_table(FILE *f, const struct plan_measured *m, const struct plan_target *t,
		const struct plan_result *r)
{
	char how[128], p99[32];

	fprintf(f, "relaybench plan: %" PRIu64 " gateways at %g kbit/s, %" PRIu64 " tenant%s x %"
		PRIu64 " agent channels, model %s\n", t->gateways, t->gateway_kbps, t->tenants,
		t->tenants == 1 ? "" : "s", t->channels_per_tenant, model_kind_name(t->model));
	fprintf(f, "  measured (%s): %.0f pkt/s and %.0f handshakes/s per core, p99 %s at "
		"that load\n", m->source, m->pps_per_core, m->hs_per_core,
		m->p99_ms < 0 ? "unknown" : fmt(p99, sizeof(p99), "%.2f ms", m->p99_ms));
	if (m->note[0])
		fprintf(f, "  from %s\n", m->note);
	fprintf(f, "  target: ");
	if (t->slo_p99_ms > 0)
		fprintf(f, "p99 under %.2f ms, ", t->slo_p99_ms);
	fprintf(f, "%.0f%% headroom, %u cores per relay, reconnect storm %g s, one relay "
		"lost\n\n", 100 * t->headroom, t->cores_per_relay, t->storm_s);
	fprintf(f, "  %-22s %-50s %s\n", "", "arithmetic", "result");
	table_traffic(f, t, r);
	table_handshakes(f, t, r);
	fprintf(f, "capacity per core\n");
	rowf(f, "packets", fmt(how, sizeof(how), "%.0f x (1 - %.2f)", m->pps_per_core,
			       t->headroom), "%.0f pkt/s", r->pps_usable);
	rowf(f, "handshakes", fmt(how, sizeof(how), "%.0f x (1 - %.2f)", m->hs_per_core,
				  t->headroom), "%.0f/s", r->hs_usable);
	fprintf(f, "one relay lost: each of %u survivor%s\n", r->survivors,
		r->survivors == 1 ? "" : "s");
	rowf(f, "data", fmt(how, sizeof(how), "%.0f / %u / %.0f", r->input_pps, r->survivors,
			    r->pps_usable), "%.3f cores", r->survivor_data_cores);
	rowf(f, "handshakes", fmt(how, sizeof(how), "(%.1f / %u + %.1f) / %.0f", r->rekey_per_s,
				  r->survivors, r->storm_per_s, r->hs_usable),
	     "%.3f cores", r->survivor_hs_cores);
	rowf(f, "cores", fmt(how, sizeof(how), "%.3f + %.3f", r->survivor_data_cores,
			     r->survivor_hs_cores),
	     "%.3f of %u", r->survivor_cores, t->cores_per_relay);
	rowf(f, "sessions", fmt(how, sizeof(how), "%" PRIu64 " / %u", r->sessions, r->survivors),
	     "%.0f (limit %u)", r->survivor_sessions, t->max_sessions);
	rowf(f, "channel ends", fmt(how, sizeof(how), "2 x %" PRIu64 " / %u", r->channels,
				    r->survivors),
	     "%.0f (limit %u x %u)", r->survivor_channel_ends, t->max_channel_ends,
	     t->cores_per_relay);
	rowf(f, "relays needed", fmt(how, sizeof(how), "by cores %u, by sessions %u, by channel "
				     "ends %u", r->n_by_cores, r->n_by_sessions,
				     r->n_by_channel_ends), "%u + 1 spare", r->survivors);
	fprintf(f, "\nresult: %u relays x %u cores = %" PRIu64 " cores (limited by %s); normal "
		"load %.1f%% of each relay's cores\n", r->relays, t->cores_per_relay, r->cores,
		limit_names[r->limit], 100 * r->normal_utilization);
	if (t->slo_p99_ms > 0)
		fprintf(f, "latency: p99 %.2f ms at the measured load, under the %.2f ms target; "
			"no core is planned above %.0f%% of that load\n", m->p99_ms,
			t->slo_p99_ms, 100 * (1 - t->headroom));
}

int plan_json(FILE *f, const struct plan_measured *m, const struct plan_target *t,
	      const struct plan_result *r)
{
	json_t *j = json_object();
	int ret;

	if (!j)
		return -ENOMEM;
	json_object_set_new(j, "schema", json_string(PLAN_SCHEMA));
	json_object_set_new(j, "measured", json_pack(
		"{s:s, s:f, s:f, s:o, s:o}", "source", m->source,
		"pps_per_core", m->pps_per_core, "handshakes_per_core", m->hs_per_core,
		"p99_ms", m->p99_ms < 0 ? json_null() : json_real(m->p99_ms),
		"note", m->note[0] ? json_string(m->note) : json_null()));
	json_object_set_new(j, "target", json_pack(
		"{s:I, s:f, s:I, s:I, s:s, s:o, s:o, s:f, s:i, s:f, s:i, s:i}",
		"gateways", (json_int_t)t->gateways, "gateway_kbps", t->gateway_kbps,
		"tenants", (json_int_t)t->tenants,
		"channels_per_tenant", (json_int_t)t->channels_per_tenant,
		"model", model_kind_name(t->model),
		"size", t->model == MODEL_STREAM ? json_integer(t->size) : json_null(),
		"slo_p99_ms", t->slo_p99_ms > 0 ? json_real(t->slo_p99_ms) : json_null(),
		"headroom", t->headroom, "cores_per_relay", (int)t->cores_per_relay,
		"reconnect_storm_s", t->storm_s, "max_sessions", (int)t->max_sessions,
		"max_channel_ends", (int)t->max_channel_ends));
	json_object_set_new(j, "traffic", json_pack(
		"{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
		"message_bytes", r->mix.msg_bytes, "packets_per_message", r->mix.pkts_per_msg,
		"bytes_per_packet", r->mix.bytes_per_pkt, "e2e_bytes_per_s", r->e2e_bytes_per_s,
		"data_pps", r->data_pps, "keepalive_pps", r->keepalive_pps,
		"relay_pps", r->input_pps, "relay_gbps", r->input_gbps,
		"gateway_pps", r->gateway_pps));
	json_object_set_new(j, "handshakes", json_pack(
		"{s:I, s:I, s:f, s:f, s:f}", "sessions", (json_int_t)r->sessions,
		"channels", (json_int_t)r->channels, "rekey_per_s", r->rekey_per_s,
		"storm_sessions", r->storm_sessions, "storm_per_s_per_survivor", r->storm_per_s));
	json_object_set_new(j, "usable_per_core", json_pack(
		"{s:f, s:f}", "pps", r->pps_usable, "handshakes", r->hs_usable));
	json_object_set_new(j, "survivor", json_pack(
		"{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "relay_pps", r->survivor_pps,
		"handshakes_per_s", r->survivor_hs_per_s, "data_cores", r->survivor_data_cores,
		"handshake_cores", r->survivor_hs_cores, "cores", r->survivor_cores,
		"sessions", r->survivor_sessions, "channel_ends", r->survivor_channel_ends));
	json_object_set_new(j, "relays_needed_by", json_pack(
		"{s:i, s:i, s:i}", "cores", (int)r->n_by_cores, "sessions", (int)r->n_by_sessions,
		"channel_ends", (int)r->n_by_channel_ends));
	json_object_set_new(j, "survivors", json_integer(r->survivors));
	json_object_set_new(j, "relays", json_integer(r->relays));
	json_object_set_new(j, "cores", json_integer((json_int_t)r->cores));
	json_object_set_new(j, "limited_by", json_string(limit_names[r->limit]));
	json_object_set_new(j, "normal", json_pack(
		"{s:f, s:f}", "cores_per_relay", r->normal_cores,
		"utilization", r->normal_utilization));
	ret = json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	fputc('\n', f);
	json_decref(j);
	return ret ? -EIO : 0;
}
