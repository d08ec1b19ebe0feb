/*
 * plan.h — `relaybench plan`: turn a relay's measured per-core figures into
 * the number of relays and cores a target fleet needs, with headroom and
 * with one relay lost. docs/relaybench.md ("Sizing") is the manual; this is
 * the arithmetic's contract.
 *
 * Measured, per worker core of the relay that was measured:
 *	P  packets per second the relay received (and forwarded) per core,
 *	   at a load where its message latency p99 was L
 *	H  handshakes per second per core
 *
 * Target: G gateways at K kbit/s each (E2E bytes, both directions
 * together), T tenants with C concurrent agent channels each, a message mix
 * (model.h) of B E2E bytes per packet on average, headroom h, c cores per
 * relay, a reconnect storm of S seconds, relay limits (sessions per relay,
 * channel ends per worker).
 *
 *	sessions      N = G + T × C          (one agent session per channel: the most)
 *	data          D = G × K × 1000 / 8 / B               packets/s into the fleet
 *	keepalives    A = N / KEEPALIVE_TIMEOUT (10 s)       (idle sessions, at most)
 *	relay input   Q = D + A              (the relays send as many out)
 *	rekeys        R = N / REKEY_AFTER_TIME (120 s)       handshakes/s
 *	usable        P' = P × (1 - h),  H' = H × (1 - h)
 *
 * With n relays carrying the load after one of n + 1 was lost, the lost
 * relay's N / (n + 1) sessions re-handshake on the n survivors within S:
 *
 *	storm         X(n) = N / (n + 1) / S / n             handshakes/s per survivor
 *	cores         c(n) = Q / n / P' + (R / n + X(n)) / H'  per survivor
 *
 * and n is the smallest number with c(n) <= c, N / n <= the relays' session
 * limit and 2 × T × C / n <= the channel-end limit × c. The plan is n + 1
 * relays (N+1): the fleet keeps its headroom even while one relay's
 * endpoints reconnect to the others.
 *
 * Threads: pure functions of their arguments; the caller's thread.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_PLAN_H
#define POSTERN_BENCH_RELAYBENCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/relaybench/model.h"

struct json_t;		/* jansson's json_t: option parsing includes this header without it */

#define PLAN_SCHEMA "relaybench.plan/1"

enum {
	PLAN_REKEY_S = 120,		/* protocol.md §4 REKEY_AFTER_TIME */
	PLAN_KEEPALIVE_S = 10,		/* protocol.md §4 KEEPALIVE_TIMEOUT */
	PLAN_HOP_OVERHEAD = 39,		/* DATA header 16 + tag 16 + CHANNEL_DATA header 7 */
	PLAN_RELAYS_MAX = 100000,	/* the search for n stops here */
	PLAN_MAX_SESSIONS = 16384,	/* the relay's default --max-sessions */
	PLAN_MAX_CHANNEL_ENDS = 16384,	/* the relay's default --max-channel-ends (per worker) */
};

#define PLAN_HEADROOM_MAX 0.9

/* What the measured relay did, per worker core. */
struct plan_measured {
	double pps_per_core;		/* P: relay-received packets/s per core, > 0 */
	double hs_per_core;		/* H: handshakes/s per core, > 0 */
	double p99_ms;			/* L: message latency p99 at that load; < 0: unknown */
	char source[128];		/* "command line" or the file it came from */
	char note[256];			/* how it was derived from the file, or "" */
};

/* The fleet to size, and the rules to size it by. */
struct plan_target {
	uint64_t gateways;		/* G, >= 1 */
	double gateway_kbps;		/* K: average E2E kbit/s per gateway, both directions */
	uint64_t tenants;		/* T */
	uint64_t channels_per_tenant;	/* C: concurrent agent channels per tenant */
	enum model_kind model;
	uint32_t size;			/* stream: bytes per message */
	double slo_p99_ms;		/* 0: no service level given */
	double headroom;		/* h, 0 .. PLAN_HEADROOM_MAX */
	uint32_t cores_per_relay;	/* c: worker cores per relay */
	double storm_s;			/* S: a lost relay's endpoints are back within this */
	uint32_t max_sessions;		/* per relay */
	uint32_t max_channel_ends;	/* per worker */
};

/* The message mix in E2E bytes, padding of short last chunks included. */
struct plan_mix {
	double msg_bytes;		/* per message */
	double pkts_per_msg;		/* CHANNEL_DATA packets per message */
	double bytes_per_pkt;		/* B = msg_bytes / pkts_per_msg */
};

/* What decided the number of relays. */
enum plan_limit {
	PLAN_LIMIT_MINIMUM,		/* one relay carries it all; plus the spare */
	PLAN_LIMIT_CORES,
	PLAN_LIMIT_SESSIONS,
	PLAN_LIMIT_CHANNEL_ENDS,
};

struct plan_result {
	struct plan_mix mix;
	/* The fleet. */
	uint64_t sessions;		/* N */
	uint64_t channels;		/* T × C */
	double e2e_bytes_per_s;		/* G × K × 1000 / 8 */
	double data_pps;		/* D */
	double keepalive_pps;		/* A */
	double input_pps;		/* Q */
	double input_gbps;		/* hop packets into the fleet: (E2E + 39 per packet) × 8 */
	double rekey_per_s;		/* R */
	double gateway_pps;		/* one gateway's packets/s, keepalives included */
	/* Per core, after headroom. */
	double pps_usable, hs_usable;	/* P', H' */
	/* Relays needed by each rule alone, and the plan. */
	uint32_t n_by_cores, n_by_sessions, n_by_channel_ends;
	uint32_t survivors;		/* n */
	uint32_t relays;		/* n + 1 */
	uint64_t cores;			/* relays × c */
	enum plan_limit limit;
	/* One survivor while the lost relay's endpoints reconnect. */
	double storm_sessions;		/* N / (n + 1) */
	double storm_per_s;		/* X(n) */
	double survivor_pps;		/* Q / n */
	double survivor_hs_per_s;	/* R / n + X(n) */
	double survivor_data_cores;	/* Q / n / P' */
	double survivor_hs_cores;	/* (R / n + X(n)) / H' */
	double survivor_cores;		/* c(n) */
	double survivor_sessions;	/* N / n */
	double survivor_channel_ends;	/* 2 × T × C / n */
	/* All n + 1 relays up, no storm, at the measured (not usable) capacity. */
	double normal_cores;		/* per relay */
	double normal_utilization;	/* normal_cores / c */
};

/* @return "minimum", "cores", "sessions", "channel_ends". */
const char *plan_limit_name(enum plan_limit l);

/*
 * The target's defaults: 1 tenant, 0 channels, rr, no SLO, headroom 0.3,
 * 8 cores per relay, 60 s storm, the relay's default limits; G = K = 0.
 * Inline, so that option parsing needs nothing else of the plan.
 */
static inline void plan_target_defaults(struct plan_target *t)
{
	*t = (struct plan_target){
		.tenants = 1,
		.model = MODEL_RR,
		.size = 256,
		.headroom = 0.3,
		.cores_per_relay = 8,
		.storm_s = 60,
		.max_sessions = PLAN_MAX_SESSIONS,
		.max_channel_ends = PLAN_MAX_CHANNEL_ENDS,
	};
}

/* The mean of @model's messages (@size for MODEL_STREAM): exact over every size. */
void plan_mix_of(enum model_kind model, uint32_t size, struct plan_mix *out);

/*
 * Size the fleet: check that @m and @t make sense together, then do the
 * arithmetic above into *@r.
 * @return 0; or -EINVAL with one line in @err (no program name, no newline)
 * when they do not: a figure that is not positive, a headroom outside 0 ..
 * 0.9, a measured p99 above the SLO (or unknown with one), a gateway whose
 * packets alone exceed one core (a session lives on one worker); or -ERANGE
 * when more than PLAN_RELAYS_MAX relays would be needed.
 */
int plan_compute(const struct plan_measured *m, const struct plan_target *t,
		 struct plan_result *r, char *err, size_t errlen);

/*
 * Per-core figures from a saved relaybench document @doc named @name:
 *   relaybench.run/1    P = throughput.relay_pps / relay.window.workers,
 *                       L = messages.latency_us.p99 (a run with --metrics)
 *   relaybench.sweep/1  at the knee step: P = 2 × (packets_sent -
 *                       packets_lost) / duration_s / @relay_workers,
 *                       L = knee.p99_ms
 * @relay_workers: the measured relay's worker count; 0 to take it from the
 * document (a sweep records none: it is then required). Fills
 * pps_per_core, p99_ms, source and note (a knee that is only a lower bound
 * says so); leaves hs_per_core alone.
 * @return 0, or -EINVAL with one line in @err.
 */
int plan_measured_from_json(const struct json_t *doc, const char *name, uint32_t relay_workers,
			    struct plan_measured *m, char *err, size_t errlen);

/* The human table, arithmetic shown, on @f. */
void plan_table(FILE *f, const struct plan_measured *m, const struct plan_target *t,
		const struct plan_result *r);

/* One JSON object (schema PLAN_SCHEMA) and a newline on @f. @return 0, -ENOMEM or -EIO. */
int plan_json(FILE *f, const struct plan_measured *m, const struct plan_target *t,
	      const struct plan_result *r);

#endif /* POSTERN_BENCH_RELAYBENCH_PLAN_H */
