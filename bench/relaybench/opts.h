/*
 * opts.h — `relaybench run`'s command line: every option, its default, its
 * range, and the rules between options, checked before anything is opened.
 *
 * opts_parse_run() never prints and never exits: on a bad command line it
 * returns -EINVAL with one line in @err that names the option and says what
 * is wrong ("--duration: '7200' is above 3600 seconds: runs are bounded"),
 * which main.c prints before exiting 2. Files (keys, PSK) are only named
 * here; main.c reads them.
 *
 * Threads: uses getopt_long(), so one caller at a time.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_OPTS_H
#define POSTERN_BENCH_RELAYBENCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/relaybench/model.h"
#include "bench/relaybench/plan.h"
#include "crypto/suite.h"

enum {
	OPTS_BIND_MAX = 16,
	OPTS_ENDPOINTS_MAX = 100000,	/* gateways + agents */
	OPTS_CHANNELS_MAX = 1024,	/* per agent: the relay's default per-session limit */
	OPTS_CHANNELS_TOTAL_MAX = 1000000,
	OPTS_THREADS_MAX = 64,
	OPTS_INFLIGHT_MAX = 1024,
	OPTS_MAX_INFLIGHT_MAX = 4096,
	OPTS_DURATION_MAX_S = 3600,	/* a run is bounded to an hour */
	OPTS_WARMUP_MAX_S = 600,
	OPTS_SETUP_MAX_S = 600,
	OPTS_LOSS_TIMEOUT_MAX_MS = 60000,
	OPTS_INSTANCE_MAX = 65535,
	OPTS_SIZE_MAX = 1413,		/* HOP_MTU - DATA overhead (32) - CHANNEL_DATA header (7) */
};

/* --transport: how the fleet reaches the relay. */
enum opts_transport {
	OPTS_TRANSPORT_UDP,		/* kernel sockets (transport_udp.c) */
	OPTS_TRANSPORT_DPDK,		/* a DPDK port (transport_dpdk.h) */
};

enum {
	OPTS_EAL_ARGS_MAX = 48,		/* what dataplane/eal.c appends to its own */
	OPTS_EAL_TEXT_MAX = 2048,
	OPTS_CPUS_MAX = 256,
	OPTS_CPU_MAX = 1023,		/* highest CPU number in -l (CPU_SETSIZE - 1) */
	OPTS_DPDK_BIND_MAX = 8,		/* DP_IFACE_ADDRS_MAX: addresses of one port */
	OPTS_LINK_TIMEOUT_MAX_S = 600,
};

#define OPTS_RATE_MAX 10e6		/* messages per second */
#define OPTS_SWEEP_TIME_MAX_S 3600	/* sweep: steps × (warm-up + window) */

enum {
	OPTS_STEPS_MIN = 2,
	OPTS_STEPS_MAX = 32,
};
#define OPTS_HANDSHAKE_RATE_MAX 1e6

struct opts {
	const char *relay;		/* ADDR:PORT, numeric */
	const char *relay_key;		/* KEY or @FILE */
	const char *signing_key;	/* FILE: control-plane Ed25519 private key */
	const char *psk_file;		/* NULL: all-zero PSK */
	const char *tenant;
	const char *metrics;		/* URL or NULL */
	const char *bind[OPTS_BIND_MAX];	/* local addresses, round robin */
	unsigned n_bind;
	enum opts_transport transport;
	/*
	 * --transport dpdk: --eal split on blanks (into eal_text), less what
	 * relaybench passes to EAL itself: the core list (-l/--lcores, into
	 * eal_cpus), -m (eal_memory_mb, 0 if not given) and --no-huge.
	 */
	const char *eal;		/* as given, or NULL */
	const char *eal_args[OPTS_EAL_ARGS_MAX];
	unsigned n_eal_args;
	char eal_text[OPTS_EAL_TEXT_MAX];
	unsigned eal_memory_mb;
	bool eal_hugepages;		/* no --no-huge */
	uint16_t eal_cpus[OPTS_CPUS_MAX];	/* fleet thread i runs on eal_cpus[i % n] */
	unsigned n_eal_cpus;		/* 0: no -l, threads unpinned */
	const char *gateway;		/* --gateway: next hop to the relay, or NULL (on-link) */
	bool dpdk_sleep;		/* --idle sleep */
	uint64_t link_timeout_ns;	/* --link-timeout */
	enum suite_id suite;
	uint32_t gateways, agents, channels;
	enum model_kind model;
	uint32_t size;			/* stream: E2E bytes per message */
	bool open_loop;			/* --rate given */
	double rate;			/* open loop: messages per second, all channels */
	enum model_arrivals arrivals;
	uint32_t inflight;		/* closed loop: messages in flight per channel */
	uint32_t max_inflight;		/* open loop: messages tracked per channel */
	uint64_t warmup_ns, duration_ns, setup_timeout_ns, loss_timeout_ns;
	double handshake_rate;		/* connection attempts started per second */
	unsigned threads;
	uint64_t seed;
	uint32_t instance;		/* identity set: runs that share a relay differ */
	bool json;
	const char *report;		/* --report FILE.html, or NULL */
	bool help;			/* --help: print the usage, run nothing */
	int progress;			/* -1: when stderr is a terminal; 0 off; 1 on */
	/* `relaybench sweep` only: open-loop steps from rate_from to rate_to. */
	bool sweep;
	double rate_from, rate_to;
	unsigned steps;
	uint64_t slo_p99_ns;		/* message latency p99 a step must stay under */
	double max_loss;		/* packet loss ratio a step must stay under */
	/* The command line itself, for the method section of reports. */
	int argc;
	char *const *argv;
};

/* `relaybench plan`: measured figures (flags or --from) and the target. */
struct opts_plan {
	const char *from;		/* --from FILE.json (a run or sweep), or NULL */
	uint32_t relay_workers;		/* --relay-workers; 0: from the file */
	bool pps_given, p99_given;
	struct plan_measured measured;	/* hs_per_core always; pps and p99 without --from */
	struct plan_target target;
	bool json;
	bool help;
};

enum {
	OPTS_PLAN_RELAY_WORKERS_MAX = 64,	/* the relay's own --workers limit */
	OPTS_PLAN_CORES_MAX = 1024,
	OPTS_PLAN_LIMIT_MAX = 1 << 24,		/* --max-sessions, --max-channel-ends */
	OPTS_PLAN_STORM_MAX_S = 3600,
};

#define OPTS_PLAN_GATEWAYS_MAX 100e6
#define OPTS_PLAN_TENANTS_MAX 1e6
#define OPTS_PLAN_CHANNELS_MAX 1e6		/* per tenant */
#define OPTS_PLAN_KBPS_MAX 10e6			/* 10 Gbit/s per gateway */
#define OPTS_PLAN_PPS_MAX 1e9			/* per core */
#define OPTS_PLAN_HS_MAX 10e6			/* per core */
#define OPTS_PLAN_MS_MAX 60000.0

/* `relaybench run --help`, `relaybench sweep --help`. */
extern const char opts_run_usage[];
extern const char opts_sweep_usage[];
extern const char opts_plan_usage[];

/*
 * Parse `relaybench run` or `relaybench sweep` options: @argv[0] is "run" or
 * "sweep", options follow. A sweep takes the run options except --rate and
 * --inflight (it is open loop, at the rate of each step), plus --rate-from,
 * --rate-to, --steps, --slo-p99 and --max-loss; o->rate is then rate_from.
 * @return 0 and *@o filled (defaults for what was not given; o->help set and
 * nothing checked when --help was given), or
 * -EINVAL with the reason in @err (one line, no newline, no program name).
 */
int opts_parse_run(int argc, char **argv, struct opts *o, char *err, size_t errlen);

/*
 * Parse `relaybench plan` options: @argv[0] is "plan". Checks each value's
 * syntax and range and the rules between options (--from or
 * --pps-per-core, not both; --handshakes-per-core, --gateways and
 * --gateway-kbps required); the file is only named here, and whether the
 * figures make sense together is plan_compute()'s to say.
 * @return 0 and *@o filled (o->help set and nothing checked when --help was
 * given), or -EINVAL with one line in @err.
 */
int opts_parse_plan(int argc, char **argv, struct opts_plan *o, char *err, size_t errlen);

/* @return gateways + agents. */
uint32_t opts_endpoints(const struct opts *o);

#endif /* POSTERN_BENCH_RELAYBENCH_OPTS_H */
