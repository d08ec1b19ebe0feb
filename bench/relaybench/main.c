/*
 * main.c — relaybench's command line: `run` and `sweep` (the benchmark),
 * `plan` (sizing from measured figures), `report` (an HTML report from a
 * saved result) and `keygen` (a control-plane signing key for it). Options
 * are parsed by opts.c, the run is run.c's, the sweep sweep.c's, the sizing
 * plan.c's, the output report.c's and html_report.c's; this file reads the
 * files and wires them together. docs/relaybench.md is the manual.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <jansson.h>

#include "bench/relaybench/html_report.h"
#include "bench/relaybench/ident.h"
#include "bench/relaybench/opts.h"
#include "bench/relaybench/plan.h"
#include "bench/relaybench/report.h"
#include "bench/relaybench/run.h"
#include "bench/relaybench/sweep.h"
#include "bench/relaybench/transport_dpdk.h"
#include "crypto/keys.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

enum { EXIT_FAILED = 1, EXIT_USAGE = 2, FD_SPARE = 64 };

static const char usage[] =
	"Usage: relaybench run --relay ADDR:PORT --relay-key KEY --signing-key FILE [OPTIONS]\n"
	"       relaybench sweep --relay ADDR:PORT --relay-key KEY --signing-key FILE\n"
	"                        --rate-to R [OPTIONS]\n"
	"       relaybench plan (--from FILE.json | --pps-per-core R) --handshakes-per-core R\n"
	"                       --gateways N --gateway-kbps K [OPTIONS]\n"
	"       relaybench report --from FILE.json -o FILE.html\n"
	"       relaybench keygen -o FILE [--force]\n"
	"       relaybench --help | --version\n"
	"\n"
	"Load, latency and capacity measurements of a Postern relay with emulated\n"
	"gateways and agents (real handshakes, real hop encryption).\n"
	"\n"
	"  run      run one benchmark; 'relaybench run --help' lists its options\n"
	"  sweep    step the offered rate and find the knee of loss and p99 latency\n"
	"  plan     size a fleet (relays, cores) from measured per-core figures\n"
	"  report   render the HTML report of a saved 'run --json' or 'sweep --json'\n"
	"  keygen   write a new control-plane signing key (mode 0600) for --signing-key\n"
	"           and print its public key, which the relay must trust (--trust KEY)\n"
	"\n"
	"docs/relaybench.md describes the traffic model and every output field.\n";

static const char keygen_usage[] =
	"Usage: relaybench keygen -o FILE [--force]\n"
	"\n"
	"Write a new Ed25519 control-plane signing key to FILE (mode 0600; the format of\n"
	"'posternctl genkey') and print its public key on stdout. Start the relay with\n"
	"--trust KEY (or --trust @FILE of that output) so it admits relaybench's tokens.\n"
	"  -o, --output FILE   where to write the key (required)\n"
	"  --force             replace FILE if it exists\n";

static const char report_usage[] =
	"Usage: relaybench report --from FILE.json -o FILE.html\n"
	"\n"
	"Render the HTML report (plots, tables, method) of a result saved with\n"
	"'relaybench run --json' or 'relaybench sweep --json': the same page their\n"
	"--report option writes. One self-contained file: no script, nothing fetched.\n"
	"  --from FILE.json     the saved result (required)\n"
	"  -o, --output FILE    where to write the page (required; replaced if it exists)\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "relaybench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static int keygen(int argc, char **argv)
{
	const char *out = NULL;
	bool force = false;
	uint8_t priv[KEYS_LEN], pub[KEYS_LEN];
	char text[KEYS_TEXT_LEN + 1], err[512];
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(keygen_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--force")) {
			force = true;
		} else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (++i == argc)
				return usage_error("%s needs a FILE", argv[i - 1]);
			out = argv[i];
		} else {
			return usage_error("keygen: unexpected argument '%s'", argv[i]);
		}
	}
	if (!out)
		return usage_error("keygen: missing -o FILE");
	ret = keys_generate(priv);
	if (!ret)
		ret = keys_public_ed25519(priv, pub);
	if (ret) {
		OPENSSL_cleanse(priv, sizeof(priv));
		fprintf(stderr, "relaybench: keygen: OpenSSL could not make a key\n");
		return EXIT_FAILED;
	}
	ret = keys_save_private(out, priv, force, err, sizeof(err));
	OPENSSL_cleanse(priv, sizeof(priv));
	if (ret) {
		fprintf(stderr, "relaybench: keygen: %s\n", err);
		return ret == -EEXIST ? EXIT_USAGE : EXIT_FAILED;
	}
	keys_to_text(pub, text);
	printf("%s\n", text);
	return 0;
}

/* One socket per endpoint: make room for them, or say which limit is in the way. */
static int raise_fd_limit(const struct opts *o)
{
	rlim_t need = (rlim_t)opts_endpoints(o) + 4 * o->threads + FD_SPARE;
	struct rlimit rl;

	if (o->transport != OPTS_TRANSPORT_UDP)
		return 0;	/* no socket per endpoint */
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "relaybench: --gateways + --agents: %u endpoints need %llu file "
			"descriptors (one socket each); the hard limit is %llu (ulimit -Hn)\n",
			opts_endpoints(o), (unsigned long long)need,
			(unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

struct secrets {
	struct ident_signer signer;
	uint8_t psk[KEYS_LEN];
};

static int load_keys(const struct opts *o, uint8_t relay_pub[KEYS_LEN], struct secrets *s)
{
	char err[512];

	if (keys_load_public(o->relay_key, relay_pub, err, sizeof(err))) {
		fprintf(stderr, "relaybench: --relay-key: %s\n", err);
		return -EINVAL;
	}
	if (ident_signer_load(&s->signer, o->signing_key, err, sizeof(err))) {
		fprintf(stderr, "relaybench: --signing-key: %s\n", err);
		return -EINVAL;
	}
	if (o->psk_file && keys_load_private(o->psk_file, s->psk, err, sizeof(err))) {
		fprintf(stderr, "relaybench: --psk-file: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/* Refuse a --report path that cannot be written before a long run, not after it. */
static int report_writable(const char *path)
{
	struct stat st;
	bool existed = !stat(path, &st);
	FILE *f;

	if (existed && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "relaybench: --report %s: is a directory\n", path);
		return -EISDIR;
	}
	f = fopen(path, "a");
	if (!f) {
		int ret = -errno;

		fprintf(stderr, "relaybench: --report %s: %s\n", path, strerror(-ret));
		return ret;
	}
	fclose(f);
	if (!existed)
		unlink(path);
	return 0;
}

/* The HTML report of the document @text (@len bytes) into @path. @return 0 or -errno. */
static int save_report(const char *path, const char *text, size_t len, const char *source)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr);
	char err[512];
	int ret;

	if (!doc) {
		fprintf(stderr, "relaybench: --report: the result does not parse: %s\n", jerr.text);
		return -EINVAL;
	}
	ret = html_report_save(path, doc, source, err, sizeof(err));
	json_decref(doc);
	if (ret)
		fprintf(stderr, "relaybench: %s\n", err);
	return ret;
}

/*
 * The JSON document @emit writes, printed on stdout with --json and
 * rendered into --report; one document for both, so they agree.
 * @return 0 or -errno.
 */
static int document(const struct opts *o, const char *source,
		    int (*emit)(FILE *f, const void *arg), const void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int ret;

	if (!m)
		return -ENOMEM;
	ret = emit(m, arg);
	if (fclose(m) && !ret)
		ret = -ENOMEM;
	if (!ret && o->json && fwrite(text, 1, len, stdout) != len)
		ret = -EIO;
	if (!ret && o->report)
		ret = save_report(o->report, text, len, source);
	free(text);
	return ret;
}

struct run_doc {
	const struct opts *o;
	const struct run_result *r;
	const struct report_warnings *w;
};

static int emit_run(FILE *f, const void *arg)
{
	const struct run_doc *d = arg;

	return report_json(f, d->o, d->r, d->w);
}

struct sweep_doc {
	const struct opts *o;
	const struct sweep_result *r;
};

static int emit_sweep(FILE *f, const void *arg)
{
	const struct sweep_doc *d = arg;

	return sweep_json(f, d->o, d->r);
}

/* One run: its table or JSON on stdout, and its --report. @return the exit status. */
static int run_one(const struct opts *o, const struct run_inputs *in, bool progress)
{
	static struct run_result r;
	struct report_warnings warnings;
	struct run_doc d = { .o = o, .r = &r, .w = &warnings };
	char err[512];
	int ret = 0;

	ret = run_execute(o, in, progress, &r, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "relaybench: %s\n", err);
		return EXIT_FAILED;
	}
	report_warnings(o, &r, &warnings);
	if (o->json)
		for (unsigned i = 0; i < warnings.n; i++)
			fprintf(stderr, "relaybench: %s\n", warnings.line[i]);
	else
		report_table(stdout, o, &r, &warnings);
	if (o->json || o->report)
		ret = document(o, "this run", emit_run, &d);
	run_result_fini(&r);
	fflush(stdout);
	return ret || ferror(stdout) ? EXIT_FAILED : 0;
}

/* A sweep: its table or JSON on stdout, and its --report. @return the exit status. */
static int sweep(const struct opts *o, const struct run_inputs *in, bool progress)
{
	static struct sweep_result r;
	struct sweep_doc d = { .o = o, .r = &r };
	char err[512];
	int ret = 0;

	ret = sweep_execute(o, in, progress, &r, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "relaybench: %s\n", err);
		return EXIT_FAILED;
	}
	if (!o->json)
		sweep_table(stdout, o, &r);
	if (o->json || o->report)
		ret = document(o, "this sweep", emit_sweep, &d);
	fflush(stdout);
	return ret || ferror(stdout) ? EXIT_FAILED : 0;
}

static uint32_t ceil_div(uint32_t a, uint32_t b)
{
	return a / b + (a % b != 0);
}

/* --transport dpdk: EAL and the port, once for the whole run or sweep. @return 0 or -errno. */
static int dpdk_open(const struct opts *o, struct transport_dpdk_port **port)
{
	struct transport_dpdk_config cfg = {
		.eal_args = o->eal_args,
		.n_eal_args = o->n_eal_args,
		.memory_mb = o->eal_memory_mb,
		.hugepages = o->eal_hugepages,
		.cpus = o->eal_cpus,
		.n_cpus = o->n_eal_cpus,
		.relay = o->relay,
		.bind = o->bind,
		.n_bind = o->n_bind,
		.gateway = o->gateway,
		.threads = o->threads,
		/* Endpoint k of a role lives in thread k % threads (worker.h). */
		.max_flows = ceil_div(o->gateways, o->threads) + ceil_div(o->agents, o->threads),
		.link_timeout_ns = o->link_timeout_ns,
		.idle = o->dpdk_sleep ? TRANSPORT_DPDK_SLEEP : TRANSPORT_DPDK_POLL,
	};
	struct transport_dpdk_info info;
	char err[512];
	int ret;

	ret = transport_dpdk_port_create(port, &cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "relaybench: %s\n", err);
		return ret;
	}
	transport_dpdk_port_info(*port, &info);
	fprintf(stderr, "relaybench: dpdk: port %s (%s) %s up, %u queue pair%s, %u mbufs, "
		"file prefix %s\n", info.port, info.driver, info.mac, info.queues,
		info.queues == 1 ? "" : "s", info.pool_size, info.file_prefix);
	return 0;
}

/* Close the port; say whether every mbuf came back. @return 0, or -EIO for a leak. */
static int dpdk_close(struct transport_dpdk_port *port)
{
	struct transport_dpdk_info info;
	unsigned missing;

	if (!port)
		return 0;
	missing = transport_dpdk_port_destroy(port, &info);
	if (missing) {
		fprintf(stderr, "relaybench: dpdk: port %s closed: %u of %u mbufs NOT back in the "
			"pool (a leak)\n", info.port, missing, info.pool_size);
		return -EIO;
	}
	fprintf(stderr, "relaybench: dpdk: port %s closed: every mbuf back in the pool (%u); "
		"frames rx %llu tx %llu, tx unsent %llu, stale %llu; EAL cleaned up (%s)\n",
		info.port, info.pool_size, (unsigned long long)info.rx_frames,
		(unsigned long long)info.tx_frames, (unsigned long long)info.tx_unsent,
		(unsigned long long)info.stale, info.file_prefix);
	return 0;
}

/* `run` and `sweep`: options, keys, limits, signals; then the benchmark. */
static int bench(int argc, char **argv)
{
	static struct opts o;
	static struct secrets sec;
	uint8_t relay_pub[KEYS_LEN];
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512];
	struct ident_params ip;
	struct run_inputs in;
	bool progress;
	int ret, status = EXIT_USAGE;
	uint64_t longest_s;

	ret = opts_parse_run(argc, argv, &o, err, sizeof(err));
	if (!ret && o.help) {
		fputs(o.sweep ? opts_sweep_usage : opts_run_usage, stdout);
		return 0;
	}
	if (ret) {
		fprintf(stderr, "relaybench: %s\n", err);
		return EXIT_USAGE;
	}
	if ((o.report && report_writable(o.report)) || load_keys(&o, relay_pub, &sec) ||
	    raise_fd_limit(&o))
		goto out;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Tokens outlive the longest run (all steps of a sweep) allowed here, plus an hour. */
	longest_s = (o.setup_timeout_ns + o.warmup_ns + o.duration_ns + o.loss_timeout_ns) /
		    1000000000u + 1;
	ip = (struct ident_params){
		.signer = &sec.signer,
		.tenant = o.tenant,
		.instance = o.instance,
		.now_s = (uint64_t)time(NULL),
		.valid_s = longest_s * (o.sweep ? o.steps : 1) + 3600,
	};
	in = (struct run_inputs){
		.ident = &ip,
		.relay_pub = relay_pub,
		.psk = o.psk_file ? sec.psk : NULL,
		.stop = &stop_signal,
	};
	progress = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress;
	if (o.transport == OPTS_TRANSPORT_DPDK && dpdk_open(&o, &in.dpdk)) {
		status = EXIT_FAILED;
		goto out;
	}
	status = o.sweep ? sweep(&o, &in, progress) : run_one(&o, &in, progress);
	if (dpdk_close(in.dpdk) && !status)
		status = EXIT_FAILED;
out:
	ident_signer_wipe(&sec.signer);
	OPENSSL_cleanse(sec.psk, sizeof(sec.psk));
	return status;
}

/* A saved run or sweep document, or exit 2 with one line. @return NULL on failure. */
static json_t *load_document(const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);

	if (!doc)
		fprintf(stderr, "relaybench: --from %s: %s\n", path, jerr.text);
	return doc;
}

/* `relaybench plan`: per-core figures and a target in, relays and cores out. */
static int plan(int argc, char **argv)
{
	static struct opts_plan o;
	struct plan_measured m;
	struct plan_result r;
	json_t *doc;
	char err[512];
	int ret;

	ret = opts_parse_plan(argc, argv, &o, err, sizeof(err));
	if (!ret && o.help) {
		fputs(opts_plan_usage, stdout);
		return 0;
	}
	if (ret)
		return usage_error("%s", err);
	m = o.measured;
	if (o.from) {
		doc = load_document(o.from);
		if (!doc)
			return EXIT_USAGE;
		ret = plan_measured_from_json(doc, o.from, o.relay_workers, &m, err, sizeof(err));
		json_decref(doc);
		if (ret)
			return usage_error("%s", err);
	}
	ret = plan_compute(&m, &o.target, &r, err, sizeof(err));
	if (ret)
		return usage_error("%s", err);
	if (o.json)
		ret = plan_json(stdout, &m, &o.target, &r);
	else
		plan_table(stdout, &m, &o.target, &r);
	fflush(stdout);
	return ret || ferror(stdout) ? EXIT_FAILED : 0;
}

/* `relaybench report`: the HTML page of a saved result. */
static int report(int argc, char **argv)
{
	const char *from = NULL, *out = NULL;
	char err[512];
	json_t *doc;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(report_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--from") || !strcmp(argv[i], "-o") ||
			   !strcmp(argv[i], "--output")) {
			if (++i == argc)
				return usage_error("%s needs a FILE", argv[i - 1]);
			*(!strcmp(argv[i - 1], "--from") ? &from : &out) = argv[i];
		} else {
			return usage_error("report: unexpected argument '%s'", argv[i]);
		}
	}
	if (!from)
		return usage_error("report: missing --from FILE.json (a saved run or sweep)");
	if (!out)
		return usage_error("report: missing -o FILE.html");
	doc = load_document(from);
	if (!doc)
		return EXIT_USAGE;
	ret = html_report_save(out, doc, from, err, sizeof(err));
	json_decref(doc);
	if (ret == -EINVAL)
		return usage_error("report: --from %s: %s", from, err);
	if (ret) {
		fprintf(stderr, "relaybench: report: %s\n", err);
		return EXIT_FAILED;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("relaybench %s\n", POSTERN_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run") || !strcmp(argv[1], "sweep"))
		return bench(argc - 1, argv + 1);
	if (!strcmp(argv[1], "keygen"))
		return keygen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "plan"))
		return plan(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return report(argc - 1, argv + 1);
	return usage_error("unknown command '%s' (run, sweep, plan, report or keygen; see "
			   "relaybench --help)", argv[1]);
}
