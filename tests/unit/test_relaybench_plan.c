/*
 * test_relaybench_plan.c — `relaybench plan`'s arithmetic
 * (bench/relaybench/plan.h): the message mix, the fleet's load, the relays
 * each rule needs and the plan that follows, the refusals of inputs that
 * make no sense, and the per-core figures taken from saved run and sweep
 * documents. Every expected number below was worked out by hand from the
 * formulas in plan.h (the working is in the comments).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "bench/relaybench/plan.h"

static void expect_near(double got, double want, double tol, const char *what)
{
	cr_expect(fabs(got - want) <= tol, "%s: %.9g, want %.9g (±%g)", what, got, want, tol);
}

/* --- the message mix ------------------------------------------------------------- */

Test(plan, stream_mix_is_one_packet_of_the_message_size)
{
	static const struct {
		uint32_t size;
		double bytes;
	} cases[] = { { 1000, 1000 }, { 32, 32 }, { 1413, 1413 } };
	struct plan_mix m;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plan_mix_of(MODEL_STREAM, cases[i].size, &m);
		expect_near(m.msg_bytes, cases[i].bytes, 0, "stream bytes");
		expect_near(m.pkts_per_msg, 1, 0, "stream packets");
		expect_near(m.bytes_per_pkt, cases[i].bytes, 0, "stream bytes per packet");
	}
}

/*
 * rr, class by class (docs/relaybench.md):
 *   80 % uniform 200..800: 500 B, one packet                 -> 400 B, 0.8 packets
 *   15 % uniform 1024..4096 (3073 sizes): 2560 B mean, plus the padding of
 *        the 31-byte-or-shorter last chunks of 1201..1231, 2401..2431,
 *        3601..3631 (31 + 30 + ... + 1 = 496 each, 1488 in all) / 3073
 *        = 2560.484 B; packets (177×1 + 1200×2 + 1200×3 + 496×4) / 3073
 *        = 8161 / 3073 = 2.65571                             -> 384.073 B, 0.39836
 *    5 % log-uniform 4097..65536: mean ≈ (65536 - 4097) / ln 16 - 0.5
 *        = 22158 B, ≈ 22158/1200 + 0.5 = 18.97 packets       -> ≈ 1107.9 B, ≈ 0.948
 * Sum ≈ 1892.0 B and ≈ 2.146 packets: the "about 1.9 KB and 2.1 packets" of
 * the manual; the exact sum over every size is 1892.137 B, 2.146524 packets.
 */
Test(plan, rr_mix_matches_the_documented_distribution)
{
	struct plan_mix m;

	plan_mix_of(MODEL_RR, 0, &m);
	expect_near(m.msg_bytes, 1892.137, 0.01, "rr bytes per message");
	expect_near(m.pkts_per_msg, 2.146524, 1e-5, "rr packets per message");
	expect_near(m.bytes_per_pkt, 1892.137 / 2.146524, 0.01, "rr bytes per packet");
	/* The hand estimate above, to the precision of its approximations. */
	expect_near(m.msg_bytes, 400 + 384.073 + 1107.9, 1.0, "rr bytes, by hand");
	expect_near(m.pkts_per_msg, 0.8 + 0.39836 + 0.948, 0.01, "rr packets, by hand");
}

/* --- the sizing ------------------------------------------------------------------- */

static struct plan_measured measured(double pps, double hs, double p99)
{
	struct plan_measured m = { .pps_per_core = pps, .hs_per_core = hs, .p99_ms = p99 };

	strcpy(m.source, "test");
	return m;
}

static struct plan_target target(uint64_t g, double kbps, uint64_t tenants, uint64_t ch,
				 double headroom, uint32_t cores, double storm)
{
	struct plan_target t;

	plan_target_defaults(&t);
	t.gateways = g;
	t.gateway_kbps = kbps;
	t.tenants = tenants;
	t.channels_per_tenant = ch;
	t.model = MODEL_STREAM;
	t.size = 1000;			/* B = 1000 bytes per packet: round numbers */
	t.headroom = headroom;
	t.cores_per_relay = cores;
	t.storm_s = storm;
	return t;
}

/*
 * One line per case; the working:
 *
 * data: G 10000, K 800, h 0, P 100k, H 1000, c 4, S 10; N = 10000
 *   D = 10000 × 800000 / 8 / 1000 = 1e6, A = 1000, Q = 1001000, R = 83.333
 *   c(n) = 10.01/n + 0.08333/n + 10000/(n+1)/10/n/1000
 *   c(2) = 5.005 + 0.0417 + 0.1667 = 5.213 > 4; c(3) = 3.3367 + 0.0278 + 0.0833 = 3.4478
 *   normal: 1001000/4/1e5 + 83.333/4/1000 = 2.52333 of 4
 * storm: G 100000, K 0, h 0.5, P 1M, H 1000, c 2, S 20; N = 100000
 *   Q = A = 10000, R = 833.33, P' = 5e5, H' = 500
 *   c(2) = 0.01 + 0.8333 + 100000/3/20/2/500 = 2.51 > 2
 *   c(3) = 0.00667 + 0.5556 + 100000/4/20/3/500 (storm 416.67/s) = 1.39556
 *   normal: 10000/4/1e6 + 833.33/4/1000 = 0.21083
 * sessions: G 50000, K 20, T 100, C 200, h 0.3, P 200k, H 5000, c 8, S 60
 *   N = 70000 > 4 × 16384: 5 relays by sessions; D = 125000, A = 7000, Q = 132000
 *   c(5) = 132000/5/140000 + (583.33/5 + 70000/6/60/5)/3500 = 0.18857 + 0.04444
 *   normal: 132000/6/2e5 + 583.33/6/5000 = 0.12944
 * ends: G 1000, K 0, T 10, C 100000, h 0, P 1M, H 100k, c 8, S 60, sessions limit 2^24
 *   channels 1e6: 2e6 ends / (16384 × 8) = 15.26: 16 relays by channel ends
 *   N = 1001000: Q = 100100, R = 8341.67; c(16) = 0.0062563 + (521.35 + 61.336)/1e5
 *   normal: 100100/17/1e6 + 8341.67/17/1e5 = 0.010795
 * minimum: G 10, K 1, h 0, P 100k, H 1000, c 4, S 10: c(1) = 0.0006058
 */
Test(plan, relays_cores_and_the_rule_that_set_them)
{
	static const struct {
		const char *name;
		double pps, hs;
		uint64_t g;
		double kbps;
		uint64_t tenants, ch;
		double headroom;
		uint32_t cores, max_sessions;
		double storm;
		uint32_t by_cores, by_sessions, by_ends, relays;
		enum plan_limit limit;
		double survivor_cores, storm_per_s, normal_cores;
	} cases[] = {
		{ "data", 1e5, 1000, 10000, 800, 1, 0, 0, 4, PLAN_MAX_SESSIONS, 10,
		  3, 1, 0, 4, PLAN_LIMIT_CORES, 3.447778, 83.3333, 2.523333 },
		{ "storm", 1e6, 1000, 100000, 0, 1, 0, 0.5, 2, 1 << 24, 20,
		  3, 1, 0, 4, PLAN_LIMIT_CORES, 1.395556, 416.6667, 0.210833 },
		{ "sessions", 2e5, 5000, 50000, 20, 100, 200, 0.3, 8, PLAN_MAX_SESSIONS, 60,
		  1, 5, 1, 6, PLAN_LIMIT_SESSIONS, 0.233016, 38.8889, 0.129444 },
		{ "ends", 1e6, 1e5, 1000, 0, 10, 100000, 0, 8, 1 << 24, 60,
		  1, 1, 16, 17, PLAN_LIMIT_CHANNEL_ENDS, 0.012083, 61.3358, 0.010795 },
		{ "minimum", 1e5, 1000, 10, 1, 1, 0, 0, 4, PLAN_MAX_SESSIONS, 10,
		  1, 1, 0, 2, PLAN_LIMIT_MINIMUM, 0.000606, 0.5, 0.0000529 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct plan_measured m = measured(cases[i].pps, cases[i].hs, -1);
		struct plan_target t = target(cases[i].g, cases[i].kbps, cases[i].tenants,
					      cases[i].ch, cases[i].headroom, cases[i].cores,
					      cases[i].storm);
		struct plan_result r;
		char err[256] = "";

		t.max_sessions = cases[i].max_sessions;
		cr_assert_eq(plan_compute(&m, &t, &r, err, sizeof(err)), 0, "%s: %s",
			     cases[i].name, err);
		cr_expect_eq(r.n_by_cores, cases[i].by_cores, "%s: by cores %u", cases[i].name,
			     r.n_by_cores);
		cr_expect_eq(r.n_by_sessions, cases[i].by_sessions, "%s: by sessions %u",
			     cases[i].name, r.n_by_sessions);
		cr_expect_eq(r.n_by_channel_ends, cases[i].by_ends, "%s: by ends %u",
			     cases[i].name, r.n_by_channel_ends);
		cr_expect_eq(r.relays, cases[i].relays, "%s: relays %u", cases[i].name, r.relays);
		cr_expect_eq(r.survivors + 1, r.relays, "%s: N+1", cases[i].name);
		cr_expect_eq(r.cores, (uint64_t)cases[i].relays * cases[i].cores, "%s: cores",
			     cases[i].name);
		cr_expect_eq(r.limit, cases[i].limit, "%s: limited by %s", cases[i].name,
			     plan_limit_name(r.limit));
		expect_near(r.survivor_cores, cases[i].survivor_cores, 1e-5, cases[i].name);
		expect_near(r.storm_per_s, cases[i].storm_per_s, 1e-3, cases[i].name);
		expect_near(r.normal_cores, cases[i].normal_cores, 1e-6, cases[i].name);
		cr_expect(r.survivor_cores <= cases[i].cores, "%s: a survivor overloaded",
			  cases[i].name);
	}
}

/* The load figures of the "sessions" case above, each one line of the table. */
Test(plan, load_figures_show_the_arithmetic)
{
	struct plan_measured m = measured(2e5, 5000, 1.9);
	struct plan_target t = target(50000, 20, 100, 200, 0.3, 8, 60);
	struct plan_result r;
	char err[256] = "";

	t.slo_p99_ms = 5;
	cr_assert_eq(plan_compute(&m, &t, &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(r.sessions, 70000);
	cr_expect_eq(r.channels, 20000);
	expect_near(r.e2e_bytes_per_s, 125e6, 0, "E2E bytes/s");	/* 50000 × 20000 / 8 */
	expect_near(r.data_pps, 125000, 1e-6, "data pps");		/* / 1000 B */
	expect_near(r.keepalive_pps, 7000, 1e-9, "keepalives");		/* 70000 / 10 s */
	expect_near(r.input_pps, 132000, 1e-6, "relay input");
	/* (125e6 + 39 × 125000) × 8 = 1.039 Gbit/s of hop packets */
	expect_near(r.input_gbps, 1.039, 1e-9, "relay Gbit/s");
	expect_near(r.rekey_per_s, 70000.0 / 120, 1e-9, "rekeys");
	expect_near(r.pps_usable, 140000, 1e-9, "usable pps");		/* 200k × 0.7 */
	expect_near(r.hs_usable, 3500, 1e-9, "usable handshakes");
	expect_near(r.gateway_pps, 2.5 + 0.1, 1e-9, "one gateway");	/* 2500 B/s / 1000 + 1/10 */
	expect_near(r.storm_sessions, 70000.0 / 6, 1e-6, "the lost relay's sessions");
	expect_near(r.survivor_sessions, 14000, 1e-9, "sessions per survivor");
	expect_near(r.survivor_channel_ends, 8000, 1e-9, "ends per survivor");
	expect_near(r.normal_utilization, 0.129444 / 8, 1e-6, "normal utilization");
}

/* More headroom or a faster storm never needs fewer relays. */
Test(plan, headroom_and_storm_only_add_relays)
{
	struct plan_measured m = measured(1e6, 1000, -1);
	uint32_t prev = 0;
	static const struct {
		double headroom, storm;
	} steps[] = { { 0, 60 }, { 0.3, 60 }, { 0.3, 20 }, { 0.5, 20 }, { 0.5, 5 } };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct plan_target t = target(100000, 0, 1, 0, steps[i].headroom, 2,
					      steps[i].storm);
		struct plan_result r;
		char err[256];

		t.max_sessions = 1 << 24;
		cr_assert_eq(plan_compute(&m, &t, &r, err, sizeof(err)), 0, "%s", err);
		cr_expect_geq(r.relays, prev, "headroom %.1f storm %.0f: %u relays after %u",
			      steps[i].headroom, steps[i].storm, r.relays, prev);
		prev = r.relays;
	}
	cr_expect_gt(prev, 4, "a 5 s storm at 50%% headroom needs more than the 60 s one");
}

/* --- refusals --------------------------------------------------------------------- */

Test(plan, inputs_that_make_no_sense_are_refused)
{
	static const struct {
		const char *name;
		double pps, hs, p99, slo, headroom, kbps;
		uint64_t gateways;
		uint32_t cores, max_sessions;
		int ret;
		const char *says;
	} cases[] = {
		{ "p99 over the SLO", 1e5, 1000, 6, 5, 0.3, 20, 100, 8, 16384, -EINVAL,
		  "above --slo-p99" },
		/* "below the SLO", as a sweep step must be to pass (sweep.c) */
		{ "p99 at the SLO", 1e5, 1000, 5, 5, 0.3, 20, 100, 8, 16384, -EINVAL,
		  "above --slo-p99" },
		{ "SLO, p99 unknown", 1e5, 1000, -1, 5, 0.3, 20, 100, 8, 16384, -EINVAL,
		  "unknown" },
		{ "no gateways", 1e5, 1000, -1, 0, 0.3, 20, 0, 8, 16384, -EINVAL, "--gateways" },
		{ "headroom 0.95", 1e5, 1000, -1, 0, 0.95, 20, 100, 8, 16384, -EINVAL,
		  "--headroom" },
		{ "zero packets per core", 0, 1000, -1, 0, 0.3, 20, 100, 8, 16384, -EINVAL,
		  "packets per core" },
		{ "zero handshakes", 1e5, 0, -1, 0, 0.3, 20, 100, 8, 16384, -EINVAL,
		  "--handshakes-per-core" },
		{ "no cores", 1e5, 1000, -1, 0, 0.3, 20, 100, 0, 16384, -EINVAL,
		  "--cores-per-relay" },
		/* 1000 kbit/s / 8 / 1000 B = 125 pkt/s per gateway > 100 × 0.7 per core */
		{ "one gateway beyond a core", 100, 1000, -1, 0, 0.3, 1000, 100, 8, 16384,
		  -EINVAL, "a session lives on one worker" },
		/* 200000 sessions at 1 per relay: more than PLAN_RELAYS_MAX relays */
		{ "beyond the search", 1e9, 1e6, -1, 0, 0, 0, 200000, 8, 1, -ERANGE,
		  "more than 100000 relays" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct plan_measured m = measured(cases[i].pps, cases[i].hs, cases[i].p99);
		struct plan_target t = target(cases[i].gateways, cases[i].kbps, 1, 0,
					      cases[i].headroom, cases[i].cores, 60);
		struct plan_result r;
		char err[256] = "";

		t.slo_p99_ms = cases[i].slo;
		t.max_sessions = cases[i].max_sessions;
		cr_expect_eq(plan_compute(&m, &t, &r, err, sizeof(err)), cases[i].ret,
			     "%s: not refused (%s)", cases[i].name, err);
		cr_expect(strstr(err, cases[i].says), "%s: '%s' lacks '%s'", cases[i].name, err,
			  cases[i].says);
	}
}

/* --- per-core figures from saved documents ------------------------------------------ */

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	cr_assert(j, "test JSON: %s", e.text);
	return j;
}

Test(plan, figures_from_a_run_divide_the_relay_rate_by_its_workers)
{
	json_t *doc = parse("{\"schema\": \"relaybench.run/1\","
			    " \"throughput\": {\"relay_pps\": 120000.0},"
			    " \"messages\": {\"latency_us\": {\"p99\": 1500.0}},"
			    " \"relay\": {\"window\": {\"workers\": 2}},"
			    " \"generator\": {\"saturated\": false}}");
	struct plan_measured m = measured(0, 777, -1);
	char err[256] = "";

	cr_assert_eq(plan_measured_from_json(doc, "run.json", 0, &m, err, sizeof(err)), 0,
		     "%s", err);
	expect_near(m.pps_per_core, 60000, 0, "run: 120000 / 2 workers");
	expect_near(m.p99_ms, 1.5, 1e-12, "run: p99 1500 µs");
	expect_near(m.hs_per_core, 777, 0, "handshakes left alone");
	cr_expect_str_eq(m.source, "run.json");
	/* --relay-workers overrides the document. */
	cr_assert_eq(plan_measured_from_json(doc, "run.json", 4, &m, err, sizeof(err)), 0);
	expect_near(m.pps_per_core, 30000, 0, "run: 120000 / 4 workers");
	json_decref(doc);
}

Test(plan, figures_from_a_sweep_come_from_its_knee_step)
{
	/* Knee at 400 msg/s: (5000 - 10) echoed × 2 / 5 s = 1996 pkt/s, / 2 workers = 998. */
	json_t *doc = parse("{\"schema\": \"relaybench.sweep/1\","
			    " \"config\": {\"duration_s\": 5.0},"
			    " \"steps\": ["
			    "  {\"rate\": 200.0, \"pass\": true, \"packets_sent\": 2500,"
			    "   \"packets_lost\": 0},"
			    "  {\"rate\": 400.0, \"pass\": true, \"packets_sent\": 5000,"
			    "   \"packets_lost\": 10},"
			    "  {\"rate\": 800.0, \"pass\": false, \"packets_sent\": 9000,"
			    "   \"packets_lost\": 900}],"
			    " \"knee\": {\"rate\": 400.0, \"completed\": 399.0, \"p99_ms\": 2.25},"
			    " \"limited_by\": \"relay\"}");
	struct plan_measured m = measured(0, 1, -1);
	char err[256] = "";

	cr_expect_eq(plan_measured_from_json(doc, "sweep.json", 0, &m, err, sizeof(err)),
		     -EINVAL, "a sweep without --relay-workers");
	cr_expect(strstr(err, "--relay-workers"), "%s", err);
	cr_assert_eq(plan_measured_from_json(doc, "sweep.json", 2, &m, err, sizeof(err)), 0,
		     "%s", err);
	expect_near(m.pps_per_core, 998, 1e-9, "sweep knee per core");
	expect_near(m.p99_ms, 2.25, 0, "sweep knee p99");
	cr_expect(strstr(m.note, "knee at 400 msg/s"), "%s", m.note);
	json_decref(doc);
}

Test(plan, documents_without_usable_figures_are_refused)
{
	static const struct {
		const char *json, *says;
		uint32_t workers;
	} cases[] = {
		{ "{\"schema\": \"relaybench.plan/1\"}", "not a relaybench run or sweep", 2 },
		{ "[1, 2]", "schema missing", 2 },
		{ "{\"schema\": \"relaybench.sweep/1\", \"knee\": null, \"steps\": []}",
		  "no knee", 2 },
		{ "{\"schema\": \"relaybench.sweep/1\", \"config\": {\"duration_s\": 5},"
		  " \"knee\": {\"rate\": 400.0}, \"steps\": []}", "missing or malformed", 2 },
		{ "{\"schema\": \"relaybench.run/1\", \"throughput\": {\"relay_pps\": 100.0},"
		  " \"relay\": null}", "--relay-workers", 0 },
		{ "{\"schema\": \"relaybench.run/1\", \"throughput\": {\"relay_pps\": 0.0}}",
		  "no traffic", 2 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = parse(cases[i].json);
		struct plan_measured m = measured(0, 1, -1);
		char err[256] = "";

		cr_expect_eq(plan_measured_from_json(doc, "f.json", cases[i].workers, &m, err,
						     sizeof(err)), -EINVAL, "case %zu", i);
		cr_expect(strstr(err, cases[i].says), "case %zu: '%s' lacks '%s'", i, err,
			  cases[i].says);
		json_decref(doc);
	}
}
