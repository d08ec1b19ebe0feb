/*
 * opts.c — `relaybench run` options (opts.h).
 */
#include "bench/relaybench/opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench/relaybench/flowport.h"
#include "bench/relaybench/payload.h"
#include "bench/relaybench/scrape.h"
#include "crypto/token.h"
#include "endpoint/udp.h"

#define NS_PER_S 1e9

const char opts_run_usage[] =
	"Usage: relaybench run --relay ADDR:PORT --relay-key KEY --signing-key FILE [OPTIONS]\n"
	"\n"
	"Emulate gateways and agents in one process against one relay: real handshakes\n"
	"(tokens signed in-process with --signing-key, which the relay must trust), real\n"
	"hop encryption, agents' channels echoed by the gateways. Reports handshakes/s,\n"
	"packets/s, Gbit/s, loss, reordering and latency percentiles. docs/relaybench.md.\n"
	"\n"
	"Relay and identities:\n"
	"  --relay ADDR:PORT        the relay (numeric IPv4:PORT or [IPv6]:PORT); nothing\n"
	"                           is sent anywhere else\n"
	"  --relay-key KEY          the relay's static public key, base64 or @FILE\n"
	"  --signing-key FILE       control-plane Ed25519 private key (mode 0600) that signs\n"
	"                           every endpoint's token; the relay must --trust its public\n"
	"                           key ('relaybench keygen' or 'posternctl genkey')\n"
	"  --psk-file FILE          deployment PSK, if the relay has one\n"
	"  --suite chacha|aes       handshake suite (default chacha)\n"
	"  --tenant NAME            tenant of every token (default relaybench)\n"
	"  --instance N             identity set 0..65535 (default 0): endpoint keys derive\n"
	"                           from the signing key and N, so reruns reuse the relay's\n"
	"                           sessions; give concurrent runs different N\n"
	"  --bind ADDR              local address to send from (repeatable: endpoints are\n"
	"                           spread over them round robin; default: the kernel's)\n"
	"\n"
	"Transport:\n"
	"  --transport udp|dpdk     udp: a kernel socket per endpoint (default); dpdk: one\n"
	"                           DPDK port, relaybench's own Ethernet/IP/UDP, one queue\n"
	"                           pair per thread, busy polling (docs/relaybench.md)\n"
	"  --eal \"ARGS\"             dpdk: EAL arguments, split on blanks: the port\n"
	"                           (--vdev=net_memif0,socket=PATH,role=client or\n"
	"                           --vdev=net_af_packet0,iface=IF,qpairs=T), --no-huge,\n"
	"                           -m MB (at least 64), --file-prefix NAME, -l CPUS (fleet\n"
	"                           thread i runs on the i-th CPU of the list)\n"
	"  --bind ADDR              dpdk: required, the fleet's own address on the port (at\n"
	"                           most 8; 64512 source ports each, shared by the threads)\n"
	"  --gateway ADDR           dpdk: router toward the relay (default: the relay is on\n"
	"                           the port's link)\n"
	"  --idle poll|sleep        dpdk: an idle thread spins (default) or sleeps briefly\n"
	"  --link-timeout S         dpdk: wait for the link and the relay's MAC (default 10)\n"
	"\n"
	"Fleet:\n"
	"  --gateways N             emulated gateways, each serving its own tunnel (default 10)\n"
	"  --agents N               emulated agents (default 10; 0: handshakes only)\n"
	"  --channels N             channels each agent opens, 1..1024 (default 1)\n"
	"  --handshake-rate R       handshakes started per second, gateways first\n"
	"                           (default 500); see docs/relaybench.md on cookies\n"
	"  --threads T              event-loop threads, 1..64 (default 1)\n"
	"\n"
	"Traffic (per channel, agent -> relay -> gateway -> relay -> agent):\n"
	"  --model rr|stream        rr: MCP-like messages of 200 B..64 KB, split into\n"
	"                           1200-byte chunks (default); stream: fixed --size\n"
	"  --size BYTES             stream message size, 32..1413 (default 256)\n"
	"  --inflight W             closed loop: W messages in flight per channel (default 1)\n"
	"  --rate R                 open loop instead: R messages per second in all (k, M\n"
	"                           suffixes allowed)\n"
	"  --arrivals poisson|fixed open-loop spacing (default poisson)\n"
	"  --max-inflight N         open loop: messages tracked per channel; an arrival that\n"
	"                           finds them all busy is counted as skipped (default 64)\n"
	"  --seed N                 traffic model seed (default 1)\n"
	"\n"
	"Time (seconds; a number with ms, s or m also works):\n"
	"  --setup-timeout S        longest wait for handshakes and channel opens (default 60)\n"
	"  --warmup S               traffic before measuring, 0..600 (default 2)\n"
	"  --duration S             measured traffic, up to 3600 (default 10)\n"
	"  --loss-timeout MS        an echo later than this is lost, 1..60000 (default 1000)\n"
	"\n"
	"Output:\n"
	"  --metrics URL            the relay's /metrics (http://127.0.0.1:9180/metrics):\n"
	"                           cycles per packet and drop counters over the run\n"
	"  --json                   one JSON object on stdout instead of the table\n"
	"  --report FILE.html       also write a self-contained HTML report with plots\n"
	"                           ('relaybench report' renders one from saved --json)\n"
	"  --progress, --no-progress  one line per second on stderr (default: if a tty)\n"
	"  -h, --help               this text\n"
	"\n"
	"Exit status: 0 the run completed (read its loss and warnings); 1 it could not\n"
	"run (no handshake completed, socket, memory or DPDK port errors); 2 bad command\n"
	"line.\n";

const char opts_sweep_usage[] =
	"Usage: relaybench sweep --relay ADDR:PORT --relay-key KEY --signing-key FILE\n"
	"                        --rate-to R [--rate-from R] [--steps N] [--slo-p99 MS]\n"
	"                        [--max-loss PCT] [RUN OPTIONS]\n"
	"\n"
	"Step the offered open-loop rate from --rate-from to --rate-to (geometric steps), one\n"
	"complete run per step, and report the knee: the highest rate whose packet loss stays\n"
	"below --max-loss and whose message latency p99 stays below --slo-p99, with the\n"
	"generator neither saturated nor behind. Stops at the first step that misses.\n"
	"\n"
	"  --rate-from R            first step, messages per second (default 1000)\n"
	"  --rate-to R              last step (required)\n"
	"  --steps N                steps, 2..32 (default 8)\n"
	"  --slo-p99 MS             message latency p99 limit (default 50)\n"
	"  --max-loss PCT           packet loss limit, percent (default 0.1)\n"
	"\n"
	"Every 'relaybench run' option applies to each step, except --rate and --inflight.\n"
	"Defaults differ: --warmup 1, --duration 5. steps × (warm-up + duration) is at most\n"
	"3600 s. Output: a table, or with --json one object of schema relaybench.sweep/1;\n"
	"--report FILE.html also writes an HTML report with throughput and p99 plots.\n";

const char opts_plan_usage[] =
	"Usage: relaybench plan (--from FILE.json | --pps-per-core R [--p99-ms MS])\n"
	"                       --handshakes-per-core R --gateways N --gateway-kbps K\n"
	"                       [OPTIONS]\n"
	"\n"
	"Size a relay fleet from measured per-core figures: the relays and cores a target\n"
	"needs with headroom, with one relay lost and its endpoints reconnecting to the\n"
	"others. Prints the arithmetic; docs/relaybench.md explains every line.\n"
	"\n"
	"Measured (per worker core of the measured relay):\n"
	"  --from FILE.json         a saved 'relaybench run --json' (with --metrics) or\n"
	"                           'relaybench sweep --json': packets/s per core at its\n"
	"                           knee (or its load) and the p99 there\n"
	"  --relay-workers N        the measured relay's workers (a sweep does not record\n"
	"                           them; a run with --metrics does)\n"
	"  --pps-per-core R         instead of --from: packets/s the relay received (and\n"
	"                           forwarded) per worker core (k, M suffixes)\n"
	"  --p99-ms MS              message latency p99 measured at that load\n"
	"  --handshakes-per-core R  handshakes/s per worker core (required)\n"
	"\n"
	"Target:\n"
	"  --gateways N             gateways (required)\n"
	"  --gateway-kbps K         average E2E kbit/s per gateway, both directions (required)\n"
	"  --tenants N              tenants (default 1)\n"
	"  --channels-per-tenant N  concurrent agent channels per tenant (default 0); each\n"
	"                           counts as an agent session of its own\n"
	"  --model rr|stream        message mix (default rr, as 'relaybench run'); --size\n"
	"                           BYTES with stream\n"
	"  --slo-p99 MS             message latency p99 target (the measured p99 must be\n"
	"                           below it)\n"
	"  --headroom F             fraction of every core kept spare, 0..0.9 (default 0.3)\n"
	"  --cores-per-relay N      worker cores per relay (default 8)\n"
	"  --reconnect-storm S      a lost relay's endpoints re-handshake within S (default 60)\n"
	"  --max-sessions N         the relays' --max-sessions (default 16384)\n"
	"  --max-channel-ends N     the relays' --max-channel-ends per worker (default 16384)\n"
	"\n"
	"Output: a table with the arithmetic, or with --json one object of schema\n"
	"relaybench.plan/1. Exit status 2: a bad or contradictory input, said in one line.\n";

enum {
	O_RELAY = 256, O_RELAY_KEY, O_SIGNING_KEY, O_PSK_FILE, O_SUITE, O_TENANT, O_INSTANCE,
	O_BIND, O_GATEWAYS, O_AGENTS, O_CHANNELS, O_HS_RATE, O_THREADS, O_MODEL, O_SIZE,
	O_INFLIGHT, O_RATE, O_ARRIVALS, O_MAX_INFLIGHT, O_SEED, O_SETUP, O_WARMUP,
	O_DURATION, O_LOSS, O_METRICS, O_JSON, O_PROGRESS, O_NO_PROGRESS,
	O_RATE_FROM, O_RATE_TO, O_STEPS, O_SLO_P99, O_MAX_LOSS, O_REPORT,
	O_TRANSPORT, O_EAL, O_GATEWAY, O_IDLE, O_LINK_TIMEOUT,
};

static const struct option longopts[] = {
	{ "relay", required_argument, NULL, O_RELAY },
	{ "relay-key", required_argument, NULL, O_RELAY_KEY },
	{ "signing-key", required_argument, NULL, O_SIGNING_KEY },
	{ "psk-file", required_argument, NULL, O_PSK_FILE },
	{ "suite", required_argument, NULL, O_SUITE },
	{ "tenant", required_argument, NULL, O_TENANT },
	{ "instance", required_argument, NULL, O_INSTANCE },
	{ "bind", required_argument, NULL, O_BIND },
	{ "gateways", required_argument, NULL, O_GATEWAYS },
	{ "agents", required_argument, NULL, O_AGENTS },
	{ "channels", required_argument, NULL, O_CHANNELS },
	{ "handshake-rate", required_argument, NULL, O_HS_RATE },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "model", required_argument, NULL, O_MODEL },
	{ "size", required_argument, NULL, O_SIZE },
	{ "inflight", required_argument, NULL, O_INFLIGHT },
	{ "rate", required_argument, NULL, O_RATE },
	{ "arrivals", required_argument, NULL, O_ARRIVALS },
	{ "max-inflight", required_argument, NULL, O_MAX_INFLIGHT },
	{ "seed", required_argument, NULL, O_SEED },
	{ "setup-timeout", required_argument, NULL, O_SETUP },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "loss-timeout", required_argument, NULL, O_LOSS },
	{ "metrics", required_argument, NULL, O_METRICS },
	{ "json", no_argument, NULL, O_JSON },
	{ "progress", no_argument, NULL, O_PROGRESS },
	{ "no-progress", no_argument, NULL, O_NO_PROGRESS },
	{ "rate-from", required_argument, NULL, O_RATE_FROM },
	{ "rate-to", required_argument, NULL, O_RATE_TO },
	{ "steps", required_argument, NULL, O_STEPS },
	{ "slo-p99", required_argument, NULL, O_SLO_P99 },
	{ "max-loss", required_argument, NULL, O_MAX_LOSS },
	{ "report", required_argument, NULL, O_REPORT },
	{ "transport", required_argument, NULL, O_TRANSPORT },
	{ "eal", required_argument, NULL, O_EAL },
	{ "gateway", required_argument, NULL, O_GATEWAY },
	{ "idle", required_argument, NULL, O_IDLE },
	{ "link-timeout", required_argument, NULL, O_LINK_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct parser {
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A decimal number with an optional k (10^3) or M (10^6) suffix. @return false if not. */
static bool number(const char *text, double *out)
{
	char *end;
	double v;

	if (!*text || *text == '-' || *text == '+' || *text == ' ')
		return false;
	v = strtod(text, &end);
	if (end == text || isnan(v) || isinf(v))
		return false;
	if (*end == 'k' || *end == 'K') {
		v *= 1e3;
		end++;
	} else if (*end == 'M') {
		v *= 1e6;
		end++;
	}
	if (*end)
		return false;
	/* No hex or exponent spellings: only what a person types for a count. */
	if (strpbrk(text, "xXpPeE"))
		return false;
	*out = v;
	return true;
}

/* One option for a command's parser; @ctx is that command's. */
typedef int (*option_fn)(struct parser *p, int c, const char *arg, void *ctx);

/*
 * The getopt loop every command shares: -h/--help sets *@help and stops; a
 * missing value, an unknown option and a stray argument each fail naming what
 * was typed; every other option goes to @fn, and its failure ends the parse.
 */
static int each_option(struct parser *p, int argc, char **argv, const struct option *lo,
		       option_fn fn, void *ctx, bool *help)
{
	int c, ret;

	opterr = 0;
	optind = 0;	/* glibc: a full reset, so tests can parse many times */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h') {
			*help = true;
			return 0;
		}
		if (c == ':')
			return fail(p, "%s needs a value", argv[optind - 1]);
		if (c == '?') {
			if (optopt)
				return fail(p, "unknown option '-%c'", optopt);
			return fail(p, "unknown option '%s'", argv[optind - 1]);
		}
		ret = fn(p, c, optarg, ctx);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return fail(p, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static int whole(struct parser *p, const char *opt, const char *text, uint64_t min,
		 uint64_t max, uint64_t *out)
{
	double v;

	if (!number(text, &v) || v != floor(v))
		return fail(p, "%s: '%s' is not a whole number (e.g. 100 or 10k)", opt, text);
	if (v < (double)min || v > (double)max)
		return fail(p, "%s: '%s' is out of range %llu..%llu", opt, text,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

static int u32_opt(struct parser *p, const char *opt, const char *text, uint64_t min,
		   uint64_t max, uint32_t *out)
{
	uint64_t v;
	int ret = whole(p, opt, text, min, max, &v);

	if (!ret)
		*out = (uint32_t)v;
	return ret;
}

static int rate_opt(struct parser *p, const char *opt, const char *text, double max,
		    double *out)
{
	double v;

	if (!number(text, &v))
		return fail(p, "%s: '%s' is not a number per second (e.g. 5000, 2.5k or 1M)",
			    opt, text);
	if (!(v > 0) || v > max)
		return fail(p, "%s: '%s' is out of range: more than 0, at most %.0f per second",
			    opt, text, max);
	*out = v;
	return 0;
}

/* Seconds, or a number with ms, s or m. */
static int time_opt(struct parser *p, const char *opt, const char *text, double min_s,
		    double max_s, uint64_t *ns)
{
	char num[64];
	size_t n = strlen(text);
	double v, scale = 1;

	if (n >= sizeof(num))
		return fail(p, "%s: '%s' is too long", opt, text);
	memcpy(num, text, n + 1);
	if (n > 2 && !strcmp(num + n - 2, "ms")) {
		scale = 1e-3;
		num[n - 2] = '\0';
	} else if (n > 1 && num[n - 1] == 's') {
		num[n - 1] = '\0';
	} else if (n > 1 && num[n - 1] == 'm') {
		scale = 60;
		num[n - 1] = '\0';
	}
	if (!number(num, &v) || strpbrk(num, "kKM"))
		return fail(p, "%s: '%s' is not a time (seconds, or a number with ms, s or m)",
			    opt, text);
	v *= scale;
	if (v > max_s)
		return fail(p, "%s: '%s' is above %.0f seconds: a run is bounded in time", opt,
			    text, max_s);
	if (v < min_s)
		return fail(p, "%s: '%s' is below the minimum of %g seconds", opt, text, min_s);
	*ns = (uint64_t)llround(v * NS_PER_S);
	return 0;
}

static bool is_address(const char *text, int *family)
{
	uint8_t buf[16];

	if (inet_pton(AF_INET, text, buf) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, buf) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

static void defaults(struct opts *o)
{
	*o = (struct opts){
		.tenant = "relaybench",
		.suite = SUITE_CHACHAPOLY_BLAKE2S,
		.gateways = 10,
		.agents = 10,
		.channels = 1,
		.model = MODEL_RR,
		.size = 256,
		.arrivals = MODEL_POISSON,
		.inflight = 1,
		.max_inflight = 64,
		.warmup_ns = (uint64_t)(2 * NS_PER_S),
		.duration_ns = (uint64_t)(10 * NS_PER_S),
		.setup_timeout_ns = (uint64_t)(60 * NS_PER_S),
		.loss_timeout_ns = (uint64_t)(1 * NS_PER_S),
		.handshake_rate = 500,
		.threads = 1,
		.seed = 1,
		.progress = -1,
		.eal_hugepages = true,
		.link_timeout_ns = (uint64_t)(10 * NS_PER_S),
	};
}

/* Which options were given, for the rules between them. */
struct given {
	bool size, inflight, arrivals, max_inflight, channels, rate, sweep_only;
	const char *sweep_opt;		/* a sweep option's name, for the error in `run` */
	const char *dpdk_opt;		/* an option of --transport dpdk's, for the error */
};

/* --- --eal ---------------------------------------------------------------------- */

/* "N", "N-M", comma separated: CPU numbers for -l. @return 0, or -EINVAL. */
static int cpu_list(struct parser *p, const char *text, struct opts *o)
{
	const char *s = text;

	o->n_eal_cpus = 0;
	while (*s) {
		char *end;
		unsigned long a, b;

		if (*s < '0' || *s > '9')
			goto bad;
		a = strtoul(s, &end, 10);
		b = a;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			b = strtoul(end + 1, &end, 10);
		}
		if (a > b || b > OPTS_CPU_MAX || (*end && *end != ','))
			goto bad;
		for (unsigned long c = a; c <= b; c++) {
			if (o->n_eal_cpus == OPTS_CPUS_MAX)
				goto bad;
			o->eal_cpus[o->n_eal_cpus++] = (uint16_t)c;
		}
		s = *end ? end + 1 : end;
		if (*end && !*s)
			goto bad;
	}
	if (o->n_eal_cpus)
		return 0;
bad:
	return fail(p, "--eal: -l '%s': relaybench takes CPU numbers and ranges (0, 0-3, 0,2-3; "
		    "at most %d CPUs, numbers up to %d): fleet thread i runs on the i-th",
		    text, OPTS_CPUS_MAX, OPTS_CPU_MAX);
}

/* The value of @word's option, inline ("-l0", "--lcores=0") or the next word. */
static const char *eal_value(char **w, unsigned n, unsigned *i, const char *opt)
{
	size_t len = strlen(opt);

	if (!strncmp(w[*i], opt, len) && w[*i][len] == '=' && opt[1] == '-')
		return w[*i] + len + 1;
	if (!strncmp(w[*i], opt, len) && w[*i][len] && opt[1] != '-')
		return w[*i] + len;
	if (!strcmp(w[*i], opt))
		return *i + 1 < n ? w[++*i] : "";
	return NULL;
}

/*
 * Split --eal on blanks; keep the core list, -m and --no-huge for
 * dataplane/eal.c's own arguments (it builds the lcore map itself, from the
 * CPUs relaybench may use, and would clash with a second one).
 */
static int eal_opt(struct parser *p, const char *text, struct opts *o)
{
	char *w[OPTS_EAL_ARGS_MAX + 1], *save = NULL, *tok;
	unsigned n = 0;
	const char *v;
	uint64_t mb;

	if (strlen(text) >= sizeof(o->eal_text))
		return fail(p, "--eal: longer than %d characters", OPTS_EAL_TEXT_MAX - 1);
	o->eal = text;
	memcpy(o->eal_text, text, strlen(text) + 1);
	for (tok = strtok_r(o->eal_text, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (n == OPTS_EAL_ARGS_MAX)
			return fail(p, "--eal: more than %d arguments", OPTS_EAL_ARGS_MAX);
		w[n++] = tok;
	}
	if (!n)
		return fail(p, "--eal: empty: give the port at least (--vdev=net_memif0,... or "
			    "--vdev=net_af_packet0,iface=IFACE)");
	o->n_eal_args = 0;
	o->n_eal_cpus = 0;
	o->eal_memory_mb = 0;
	o->eal_hugepages = true;
	for (unsigned i = 0; i < n; i++) {
		if ((v = eal_value(w, n, &i, "-l")) || (v = eal_value(w, n, &i, "--lcores"))) {
			if (cpu_list(p, v, o))
				return -EINVAL;
		} else if ((v = eal_value(w, n, &i, "-m"))) {
			if (whole(p, "--eal: -m", v, 64, 1u << 20, &mb))
				return -EINVAL;
			o->eal_memory_mb = (unsigned)mb;
		} else if (!strcmp(w[i], "--no-huge")) {
			o->eal_hugepages = false;
		} else if (!strcmp(w[i], "-c") || !strncmp(w[i], "--coremask", 10) ||
			   !strncmp(w[i], "--main-lcore", 12) ||
			   !strncmp(w[i], "--master-lcore", 14)) {
			return fail(p, "--eal: %s: give the CPUs with -l (relaybench maps lcores "
				    "itself)", w[i]);
		} else {
			o->eal_args[o->n_eal_args++] = w[i];
		}
	}
	return 0;
}

static int one(struct parser *p, int c, const char *arg, struct opts *o, struct given *g)
{
	uint64_t v;
	int ret;

	switch (c) {
	case O_RELAY: o->relay = arg; return 0;
	case O_RELAY_KEY: o->relay_key = arg; return 0;
	case O_SIGNING_KEY: o->signing_key = arg; return 0;
	case O_PSK_FILE: o->psk_file = arg; return 0;
	case O_METRICS: o->metrics = arg; return 0;
	case O_JSON: o->json = true; return 0;
	case O_REPORT:
		if (!*arg)
			return fail(p, "--report: needs a FILE name");
		o->report = arg;
		return 0;
	case O_PROGRESS: o->progress = 1; return 0;
	case O_NO_PROGRESS: o->progress = 0; return 0;
	case O_SUITE:
		if (!strcmp(arg, "chacha"))
			o->suite = SUITE_CHACHAPOLY_BLAKE2S;
		else if (!strcmp(arg, "aes"))
			o->suite = SUITE_AESGCM_SHA256;
		else
			return fail(p, "--suite: '%s' is not chacha or aes", arg);
		return 0;
	case O_TENANT:
		if (!token_name_is_valid(arg))
			return fail(p, "--tenant: '%s' is not 1 to 63 characters of "
				    "A-Z a-z 0-9 . _ -", arg);
		o->tenant = arg;
		return 0;
	case O_INSTANCE:
		return u32_opt(p, "--instance", arg, 0, OPTS_INSTANCE_MAX, &o->instance);
	case O_TRANSPORT:
		if (!strcmp(arg, "udp"))
			o->transport = OPTS_TRANSPORT_UDP;
		else if (!strcmp(arg, "dpdk"))
			o->transport = OPTS_TRANSPORT_DPDK;
		else
			return fail(p, "--transport: '%s' is not udp or dpdk", arg);
		return 0;
	case O_EAL:
		g->dpdk_opt = "--eal";
		return eal_opt(p, arg, o);
	case O_GATEWAY:
		g->dpdk_opt = "--gateway";
		o->gateway = arg;
		return 0;
	case O_IDLE:
		g->dpdk_opt = "--idle";
		if (strcmp(arg, "poll") && strcmp(arg, "sleep"))
			return fail(p, "--idle: '%s' is not poll or sleep", arg);
		o->dpdk_sleep = !strcmp(arg, "sleep");
		return 0;
	case O_LINK_TIMEOUT:
		g->dpdk_opt = "--link-timeout";
		return time_opt(p, "--link-timeout", arg, 0.1, OPTS_LINK_TIMEOUT_MAX_S,
				&o->link_timeout_ns);
	case O_BIND:
		if (o->n_bind == OPTS_BIND_MAX)
			return fail(p, "--bind: at most %d addresses", OPTS_BIND_MAX);
		o->bind[o->n_bind++] = arg;
		return 0;
	case O_GATEWAYS:
		return u32_opt(p, "--gateways", arg, 0, OPTS_ENDPOINTS_MAX, &o->gateways);
	case O_AGENTS:
		return u32_opt(p, "--agents", arg, 0, OPTS_ENDPOINTS_MAX, &o->agents);
	case O_CHANNELS:
		g->channels = true;
		return u32_opt(p, "--channels", arg, 1, OPTS_CHANNELS_MAX, &o->channels);
	case O_HS_RATE:
		return rate_opt(p, "--handshake-rate", arg, OPTS_HANDSHAKE_RATE_MAX,
				&o->handshake_rate);
	case O_THREADS:
		ret = whole(p, "--threads", arg, 1, OPTS_THREADS_MAX, &v);
		o->threads = (unsigned)v;
		return ret;
	case O_MODEL:
		if (!strcmp(arg, "rr"))
			o->model = MODEL_RR;
		else if (!strcmp(arg, "stream"))
			o->model = MODEL_STREAM;
		else
			return fail(p, "--model: '%s' is not rr or stream", arg);
		return 0;
	case O_SIZE:
		g->size = true;
		return u32_opt(p, "--size", arg, PAYLOAD_HEADER_LEN, OPTS_SIZE_MAX, &o->size);
	case O_INFLIGHT:
		g->inflight = true;
		return u32_opt(p, "--inflight", arg, 1, OPTS_INFLIGHT_MAX, &o->inflight);
	case O_RATE:
		o->open_loop = true;
		g->rate = true;
		return rate_opt(p, "--rate", arg, OPTS_RATE_MAX, &o->rate);
	case O_RATE_FROM:
		g->sweep_opt = "--rate-from";
		return rate_opt(p, "--rate-from", arg, OPTS_RATE_MAX, &o->rate_from);
	case O_RATE_TO:
		g->sweep_opt = "--rate-to";
		return rate_opt(p, "--rate-to", arg, OPTS_RATE_MAX, &o->rate_to);
	case O_STEPS:
		g->sweep_opt = "--steps";
		ret = whole(p, "--steps", arg, OPTS_STEPS_MIN, OPTS_STEPS_MAX, &v);
		o->steps = (unsigned)v;
		return ret;
	case O_SLO_P99:
		g->sweep_opt = "--slo-p99";
		ret = whole(p, "--slo-p99", arg, 1, OPTS_LOSS_TIMEOUT_MAX_MS, &v);
		o->slo_p99_ns = v * 1000000;
		return ret;
	case O_MAX_LOSS: {
		double pct;

		g->sweep_opt = "--max-loss";
		if (!number(arg, &pct) || strpbrk(arg, "kKM") || pct > 100)
			return fail(p, "--max-loss: '%s' is not a percentage from 0 to 100", arg);
		o->max_loss = pct / 100;
		return 0;
	}
	case O_ARRIVALS:
		g->arrivals = true;
		if (!strcmp(arg, "poisson"))
			o->arrivals = MODEL_POISSON;
		else if (!strcmp(arg, "fixed"))
			o->arrivals = MODEL_FIXED;
		else
			return fail(p, "--arrivals: '%s' is not poisson or fixed", arg);
		return 0;
	case O_MAX_INFLIGHT:
		g->max_inflight = true;
		return u32_opt(p, "--max-inflight", arg, 1, OPTS_MAX_INFLIGHT_MAX,
			       &o->max_inflight);
	case O_SEED:
		return whole(p, "--seed", arg, 0, UINT32_MAX, &o->seed);
	case O_SETUP:
		return time_opt(p, "--setup-timeout", arg, 1, OPTS_SETUP_MAX_S,
				&o->setup_timeout_ns);
	case O_WARMUP:
		return time_opt(p, "--warmup", arg, 0, OPTS_WARMUP_MAX_S, &o->warmup_ns);
	case O_DURATION:
		return time_opt(p, "--duration", arg, 0.1, OPTS_DURATION_MAX_S,
				&o->duration_ns);
	case O_LOSS:
		ret = whole(p, "--loss-timeout", arg, 1, OPTS_LOSS_TIMEOUT_MAX_MS, &v);
		o->loss_timeout_ns = v * 1000000;
		return ret;
	default:
		return fail(p, "internal: unhandled option %d", c);
	}
}

static int check_sweep(struct parser *p, const struct opts *o, const struct given *g)
{
	double planned = (double)o->steps * (double)(o->warmup_ns + o->duration_ns) / 1e9;

	if (g->rate)
		return fail(p, "--rate: a sweep sets the rate of each step (--rate-from, "
			    "--rate-to)");
	if (g->inflight)
		return fail(p, "--inflight: a sweep is open loop (--rate-from, --rate-to)");
	if (!o->agents)
		return fail(p, "--agents: a sweep needs agents to send traffic");
	if (!(o->rate_to > 0))
		return fail(p, "missing --rate-to R (the last step's rate)");
	if (o->rate_to <= o->rate_from)
		return fail(p, "--rate-to: %.0f is not above --rate-from %.0f", o->rate_to,
			    o->rate_from);
	if (planned > OPTS_SWEEP_TIME_MAX_S)
		return fail(p, "--steps: %u steps × (warm-up + duration) is %.0f s, above %d s: "
			    "a sweep is bounded in time", o->steps, planned,
			    OPTS_SWEEP_TIME_MAX_S);
	return 0;
}

static uint32_t ceil_div(uint32_t a, uint32_t b)
{
	return a / b + (a % b != 0);
}

/* --transport dpdk: the port, our addresses, and enough source ports. */
static int check_dpdk(struct parser *p, const struct opts *o, const struct sockaddr_storage *ss)
{
	int relay_family = ss->ss_family;
	const void *a = relay_family == AF_INET ?
			(const void *)&((const struct sockaddr_in *)ss)->sin_addr :
			(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	struct flowport_plan plan;
	uint32_t per_thread, cap;
	uint8_t b[16];
	int fam;

	if (!o->eal)
		return fail(p, "--transport dpdk: missing --eal \"EAL ARGS\" (the port at least: "
			    "--vdev=net_memif0,socket=PATH or --vdev=net_af_packet0,iface=IFACE)");
	if (!o->n_bind)
		return fail(p, "--transport dpdk: missing --bind ADDR (the fleet's own address on "
			    "the DPDK port: no kernel picks one)");
	if (o->n_bind > OPTS_DPDK_BIND_MAX)
		return fail(p, "--bind: at most %d addresses with --transport dpdk (one port)",
			    OPTS_DPDK_BIND_MAX);
	for (unsigned i = 0; i < o->n_bind; i++) {
		inet_pton(relay_family, o->bind[i], b);
		if (!memcmp(a, b, relay_family == AF_INET ? 4 : 16))
			return fail(p, "--bind: '%s' is the relay's own address", o->bind[i]);
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(o->bind[i], o->bind[j]))
				return fail(p, "--bind: '%s' given twice", o->bind[i]);
	}
	if (o->gateway) {
		if (!is_address(o->gateway, &fam))
			return fail(p, "--gateway: '%s' is not a numeric IPv4 or IPv6 address",
				    o->gateway);
		if (fam != relay_family)
			return fail(p, "--gateway: '%s' is not of the same address family as "
				    "--relay %s", o->gateway, o->relay);
	}
	flowport_plan_init(&plan, o->threads, o->n_bind);
	per_thread = ceil_div(o->gateways, o->threads) + ceil_div(o->agents, o->threads);
	cap = flowport_capacity(&plan);
	if (per_thread > cap)
		return fail(p, "--bind: %u endpoints per thread need as many source ports, %u "
			    "--bind address%s give%s %u per thread (%u each): add --bind addresses "
			    "(%u needed)", per_thread, o->n_bind, o->n_bind == 1 ? "" : "es",
			    o->n_bind == 1 ? "s" : "", cap, plan.span,
			    ceil_div(per_thread, plan.span));
	return 0;
}

/* The rules between options, once all are known. */
static int check(struct parser *p, const struct opts *o, const struct given *g)
{
	struct sockaddr_storage ss;
	struct scrape_url url;
	const char *why;
	socklen_t len;
	int fam;

	if (!o->relay)
		return fail(p, "missing --relay ADDR:PORT (the relay to load)");
	if (udp_addr_parse(o->relay, &ss, &len))
		return fail(p, "--relay: '%s' is not a numeric IPV4:PORT or [IPV6]:PORT", o->relay);
	if (!o->relay_key)
		return fail(p, "missing --relay-key KEY (the relay's public key, base64 or @FILE)");
	if (!o->signing_key)
		return fail(p, "missing --signing-key FILE (a control-plane key the relay trusts)");
	for (unsigned i = 0; i < o->n_bind; i++) {
		if (!is_address(o->bind[i], &fam))
			return fail(p, "--bind: '%s' is not a numeric IPv4 or IPv6 address",
				    o->bind[i]);
		if (fam != ss.ss_family)
			return fail(p, "--bind: '%s' is not of the same address family as "
				    "--relay %s", o->bind[i], o->relay);
	}
	if (!o->gateways && !o->agents)
		return fail(p, "--gateways and --agents are both 0: nothing to emulate");
	if (o->agents && !o->gateways)
		return fail(p, "--agents: agents need at least one gateway to open channels to "
			    "(--gateways)");
	if ((uint64_t)o->gateways + o->agents > OPTS_ENDPOINTS_MAX)
		return fail(p, "--gateways + --agents: %llu endpoints, at most %d in one process",
			    (unsigned long long)o->gateways + o->agents, OPTS_ENDPOINTS_MAX);
	if ((uint64_t)o->agents * o->channels > OPTS_CHANNELS_TOTAL_MAX)
		return fail(p, "--agents × --channels: %llu channels, at most %d",
			    (unsigned long long)o->agents * o->channels, OPTS_CHANNELS_TOTAL_MAX);
	if (o->threads > opts_endpoints(o))
		return fail(p, "--threads: %u threads for %u endpoints; at most one per endpoint",
			    o->threads, opts_endpoints(o));
	if (o->sweep && (g->rate || g->inflight))
		return check_sweep(p, o, g);
	if (o->open_loop && g->inflight)
		return fail(p, "--rate and --inflight exclude each other: --rate is open loop, "
			    "--inflight closed loop");
	if (!o->open_loop && g->arrivals)
		return fail(p, "--arrivals: only with --rate (open loop)");
	if (!o->open_loop && g->max_inflight)
		return fail(p, "--max-inflight: only with --rate (open loop); closed loop uses "
			    "--inflight");
	if (o->model == MODEL_RR && g->size)
		return fail(p, "--size: only with --model stream (rr draws its sizes from the "
			    "distribution in docs/relaybench.md)");
	if (o->metrics && scrape_url_parse(o->metrics, &url, &why))
		return fail(p, "--metrics: '%s': %s", o->metrics, why);
	if (o->transport == OPTS_TRANSPORT_DPDK) {
		if (check_dpdk(p, o, &ss))
			return -EINVAL;
	} else if (g->dpdk_opt) {
		return fail(p, "%s: only with --transport dpdk", g->dpdk_opt);
	}
	return o->sweep ? check_sweep(p, o, g) : 0;
}

struct run_ctx {
	struct opts *o;
	struct given g;
};

static int run_option(struct parser *p, int c, const char *arg, void *ctx)
{
	struct run_ctx *r = ctx;

	return one(p, c, arg, r->o, &r->g);
}

int opts_parse_run(int argc, char **argv, struct opts *o, char *err, size_t errlen)
{
	struct parser p = { .err = err, .errlen = errlen };
	struct run_ctx ctx = { .o = o };
	struct given *g = &ctx.g;
	int ret;

	defaults(o);
	o->argc = argc;
	o->argv = argv;
	if (argc > 0 && !strcmp(argv[0], "sweep")) {
		o->sweep = true;
		o->open_loop = true;
		o->rate_from = 1000;
		o->steps = 8;
		o->slo_p99_ns = 50 * 1000000ull;
		o->max_loss = 0.001;
		o->warmup_ns = 1000000000ull;
		o->duration_ns = 5000000000ull;
	}
	ret = each_option(&p, argc, argv, longopts, run_option, &ctx, &o->help);
	if (ret || o->help)
		return ret;
	if (!o->sweep && g->sweep_opt)
		return fail(&p, "%s: only with 'relaybench sweep'", g->sweep_opt);
	if (o->sweep)
		o->rate = o->rate_from;
	return check(&p, o, g);
}

uint32_t opts_endpoints(const struct opts *o)
{
	return o->gateways + o->agents;
}

/* --- relaybench plan ----------------------------------------------------------- */

enum {
	P_FROM = 256, P_RELAY_WORKERS, P_PPS, P_HS, P_P99, P_GATEWAYS, P_KBPS, P_TENANTS,
	P_CHANNELS, P_MODEL, P_SIZE, P_SLO, P_HEADROOM, P_CORES, P_STORM, P_MAX_SESSIONS,
	P_MAX_ENDS, P_JSON,
};

static const struct option plan_longopts[] = {
	{ "from", required_argument, NULL, P_FROM },
	{ "relay-workers", required_argument, NULL, P_RELAY_WORKERS },
	{ "pps-per-core", required_argument, NULL, P_PPS },
	{ "handshakes-per-core", required_argument, NULL, P_HS },
	{ "p99-ms", required_argument, NULL, P_P99 },
	{ "gateways", required_argument, NULL, P_GATEWAYS },
	{ "gateway-kbps", required_argument, NULL, P_KBPS },
	{ "tenants", required_argument, NULL, P_TENANTS },
	{ "channels-per-tenant", required_argument, NULL, P_CHANNELS },
	{ "model", required_argument, NULL, P_MODEL },
	{ "size", required_argument, NULL, P_SIZE },
	{ "slo-p99", required_argument, NULL, P_SLO },
	{ "headroom", required_argument, NULL, P_HEADROOM },
	{ "cores-per-relay", required_argument, NULL, P_CORES },
	{ "reconnect-storm", required_argument, NULL, P_STORM },
	{ "max-sessions", required_argument, NULL, P_MAX_SESSIONS },
	{ "max-channel-ends", required_argument, NULL, P_MAX_ENDS },
	{ "json", no_argument, NULL, P_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A plain decimal (no k or M: milliseconds, fractions) in (min, max], or [min, max]. */
static int decimal_opt(struct parser *p, const char *opt, const char *text, double min,
		       bool min_open, double max, const char *what, double *out)
{
	double v;

	if (!number(text, &v) || strpbrk(text, "kKM"))
		return fail(p, "%s: '%s' is not %s", opt, text, what);
	if (v > max || v < min || (min_open && v == min))
		return fail(p, "%s: '%s' is out of range: %s %g, at most %g", opt, text,
			    min_open ? "more than" : "at least", min, max);
	*out = v;
	return 0;
}

struct plan_given {
	bool hs, gateways, kbps, size;
};

static int plan_one(struct parser *p, int c, const char *arg, struct opts_plan *o,
		    struct plan_given *g)
{
	struct plan_target *t = &o->target;
	uint64_t v;
	int ret;

	switch (c) {
	case P_FROM:
		if (!*arg)
			return fail(p, "--from: needs a FILE name");
		o->from = arg;
		return 0;
	case P_RELAY_WORKERS:
		return u32_opt(p, "--relay-workers", arg, 1, OPTS_PLAN_RELAY_WORKERS_MAX,
			       &o->relay_workers);
	case P_PPS:
		o->pps_given = true;
		return rate_opt(p, "--pps-per-core", arg, OPTS_PLAN_PPS_MAX,
				&o->measured.pps_per_core);
	case P_HS:
		g->hs = true;
		return rate_opt(p, "--handshakes-per-core", arg, OPTS_PLAN_HS_MAX,
				&o->measured.hs_per_core);
	case P_P99:
		o->p99_given = true;
		return decimal_opt(p, "--p99-ms", arg, 0, true, OPTS_PLAN_MS_MAX,
				   "a time in milliseconds (e.g. 1.8)", &o->measured.p99_ms);
	case P_GATEWAYS:
		g->gateways = true;
		ret = whole(p, "--gateways", arg, 1, (uint64_t)OPTS_PLAN_GATEWAYS_MAX, &v);
		t->gateways = v;
		return ret;
	case P_KBPS:
		g->kbps = true;
		return decimal_opt(p, "--gateway-kbps", arg, 0, false, OPTS_PLAN_KBPS_MAX,
				   "a rate in kbit/s (e.g. 20 or 2.5)", &t->gateway_kbps);
	case P_TENANTS:
		ret = whole(p, "--tenants", arg, 1, (uint64_t)OPTS_PLAN_TENANTS_MAX, &v);
		t->tenants = v;
		return ret;
	case P_CHANNELS:
		ret = whole(p, "--channels-per-tenant", arg, 0, (uint64_t)OPTS_PLAN_CHANNELS_MAX,
			    &v);
		t->channels_per_tenant = v;
		return ret;
	case P_MODEL:
		if (!strcmp(arg, "rr"))
			t->model = MODEL_RR;
		else if (!strcmp(arg, "stream"))
			t->model = MODEL_STREAM;
		else
			return fail(p, "--model: '%s' is not rr or stream", arg);
		return 0;
	case P_SIZE:
		g->size = true;
		return u32_opt(p, "--size", arg, PAYLOAD_HEADER_LEN, OPTS_SIZE_MAX, &t->size);
	case P_SLO:
		return decimal_opt(p, "--slo-p99", arg, 0, true, OPTS_PLAN_MS_MAX,
				   "a time in milliseconds (e.g. 5)", &t->slo_p99_ms);
	case P_HEADROOM:
		return decimal_opt(p, "--headroom", arg, 0, false, PLAN_HEADROOM_MAX,
				   "a fraction (0.3 keeps 30% of every core spare)", &t->headroom);
	case P_CORES:
		return u32_opt(p, "--cores-per-relay", arg, 1, OPTS_PLAN_CORES_MAX,
			       &t->cores_per_relay);
	case P_STORM: {
		uint64_t ns;

		ret = time_opt(p, "--reconnect-storm", arg, 1, OPTS_PLAN_STORM_MAX_S, &ns);
		t->storm_s = (double)ns / NS_PER_S;
		return ret;
	}
	case P_MAX_SESSIONS:
		return u32_opt(p, "--max-sessions", arg, 1, OPTS_PLAN_LIMIT_MAX,
			       &t->max_sessions);
	case P_MAX_ENDS:
		return u32_opt(p, "--max-channel-ends", arg, 1, OPTS_PLAN_LIMIT_MAX,
			       &t->max_channel_ends);
	case P_JSON:
		o->json = true;
		return 0;
	default:
		return fail(p, "internal: unhandled option %d", c);
	}
}

static int plan_check(struct parser *p, const struct opts_plan *o, const struct plan_given *g)
{
	if (o->from && o->pps_given)
		return fail(p, "--from and --pps-per-core exclude each other: the file gives the "
			    "packets per core");
	if (o->from && o->p99_given)
		return fail(p, "--from and --p99-ms exclude each other: the file gives the p99");
	if (!o->from && !o->pps_given)
		return fail(p, "missing --pps-per-core R or --from FILE.json (the measured "
			    "packets/s per core)");
	if (!o->from && o->relay_workers)
		return fail(p, "--relay-workers: only with --from (per-core figures are given "
			    "per core already)");
	if (!g->hs)
		return fail(p, "missing --handshakes-per-core R (handshakes/s one worker core "
			    "completes)");
	if (!g->gateways)
		return fail(p, "missing --gateways N (the fleet to size)");
	if (!g->kbps)
		return fail(p, "missing --gateway-kbps K (average E2E kbit/s per gateway)");
	if (o->target.model == MODEL_RR && g->size)
		return fail(p, "--size: only with --model stream (rr draws its sizes from the "
			    "distribution in docs/relaybench.md)");
	return 0;
}

struct plan_ctx {
	struct opts_plan *o;
	struct plan_given g;
};

static int plan_option(struct parser *p, int c, const char *arg, void *ctx)
{
	struct plan_ctx *r = ctx;

	return plan_one(p, c, arg, r->o, &r->g);
}

int opts_parse_plan(int argc, char **argv, struct opts_plan *o, char *err, size_t errlen)
{
	struct parser p = { .err = err, .errlen = errlen };
	struct plan_ctx ctx = { .o = o };
	int ret;

	memset(o, 0, sizeof(*o));
	plan_target_defaults(&o->target);
	o->measured.p99_ms = -1;
	snprintf(o->measured.source, sizeof(o->measured.source), "command line");
	ret = each_option(&p, argc, argv, plan_longopts, plan_option, &ctx, &o->help);
	if (ret || o->help)
		return ret;
	return plan_check(&p, o, &ctx.g);
}
