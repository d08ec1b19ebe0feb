/*
 * test_relaybench_opts.c — `relaybench run`'s command line
 * (bench/relaybench/opts.h): defaults, every value form, and every bad
 * command line refused with one line that names the option at fault.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "bench/relaybench/opts.h"

#define BASE "run", "--relay", "127.0.0.1:51820", "--relay-key", "@k.pub", "--signing-key", "b.key"

enum { ARGS_MAX = 64 };

static int parse(struct opts *o, char *err, const char *const *args)
{
	char *argv[ARGS_MAX];
	int argc = 0;

	while (args[argc]) {
		cr_assert_lt(argc, ARGS_MAX - 1);
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return opts_parse_run(argc, argv, o, err, 256);
}

Test(opts, defaults)
{
	static const char *const args[] = { BASE, NULL };
	struct opts o;
	char err[256];

	cr_assert_eq(parse(&o, err, args), 0, "%s", err);
	cr_expect_str_eq(o.relay, "127.0.0.1:51820");
	cr_expect_eq(o.gateways, 10);
	cr_expect_eq(o.agents, 10);
	cr_expect_eq(o.channels, 1);
	cr_expect_eq(o.model, MODEL_RR);
	cr_expect(!o.open_loop);
	cr_expect_eq(o.inflight, 1);
	cr_expect_eq(o.threads, 1);
	cr_expect_eq(o.duration_ns, 10000000000u);
	cr_expect_eq(o.warmup_ns, 2000000000u);
	cr_expect_eq(o.loss_timeout_ns, 1000000000u);
	cr_expect_eq(o.suite, SUITE_CHACHAPOLY_BLAKE2S);
	cr_expect_str_eq(o.tenant, "relaybench");
	cr_expect_eq(o.progress, -1);
	cr_expect(!o.json);
	cr_expect_null(o.metrics);
}

Test(opts, values_in_every_accepted_form)
{
	static const char *const args[] = {
		BASE, "--gateways", "1k", "--agents", "2000", "--channels", "4",
		"--model", "stream", "--size", "1413", "--rate", "2.5k", "--arrivals", "fixed",
		"--max-inflight", "128", "--duration", "90s", "--warmup", "500ms",
		"--setup-timeout", "2m", "--loss-timeout", "250", "--threads", "2",
		"--handshake-rate", "1M", "--suite", "aes", "--bind", "127.0.0.2",
		"--metrics", "http://127.0.0.1:9180/metrics", "--json", "--no-progress", NULL,
	};
	struct opts o;
	char err[256];

	cr_assert_eq(parse(&o, err, args), 0, "%s", err);
	cr_expect_eq(o.gateways, 1000);
	cr_expect_eq(o.agents, 2000);
	cr_expect_eq(o.channels, 4);
	cr_expect_eq(o.model, MODEL_STREAM);
	cr_expect_eq(o.size, 1413);
	cr_expect(o.open_loop);
	cr_expect_float_eq(o.rate, 2500, 1e-9);
	cr_expect_eq(o.arrivals, MODEL_FIXED);
	cr_expect_eq(o.max_inflight, 128);
	cr_expect_eq(o.duration_ns, 90000000000u);
	cr_expect_eq(o.warmup_ns, 500000000u);
	cr_expect_eq(o.setup_timeout_ns, 120000000000u);
	cr_expect_eq(o.loss_timeout_ns, 250000000u);
	cr_expect_eq(o.threads, 2);
	cr_expect_float_eq(o.handshake_rate, 1e6, 1e-9);
	cr_expect_eq(o.suite, SUITE_AESGCM_SHA256);
	cr_expect_eq(o.n_bind, 1);
	cr_expect(o.json);
	cr_expect_eq(o.progress, 0);
}

Test(opts, help)
{
	static const char *const args[] = { "run", "--gateways", "5", "--help", NULL };
	struct opts o;
	char err[256];

	cr_expect_eq(parse(&o, err, args), 0);
	cr_expect(o.help);
	cr_expect(strstr(opts_run_usage, "--duration") != NULL);
}

/* Each bad command line: -EINVAL and a message that starts with what it names. */
Test(opts, bad_command_lines_name_the_option)
{
	static const struct {
		const char *args[8];
		const char *says;
	} cases[] = {
		{ { "--duration", "3601" }, "--duration: '3601' is above 3600 seconds" },
		{ { "--duration", "2h" }, "--duration: '2h' is not a time" },
		{ { "--duration", "0" }, "--duration: '0' is below" },
		{ { "--duration", "ten" }, "--duration: 'ten' is not a time" },
		{ { "--warmup", "601" }, "--warmup: '601' is above 600" },
		{ { "--warmup", "-1" }, "--warmup: '-1' is not a time" },
		{ { "--setup-timeout", "0" }, "--setup-timeout: '0' is below" },
		{ { "--gateways", "-3" }, "--gateways: '-3' is not a whole number" },
		{ { "--gateways", "100001" }, "--gateways: '100001' is out of range" },
		{ { "--agents", "1.5" }, "--agents: '1.5' is not a whole number" },
		{ { "--agents", "0x10" }, "--agents: '0x10' is not a whole number" },
		{ { "--agents", "1e3" }, "--agents: '1e3' is not a whole number" },
		{ { "--channels", "0" }, "--channels: '0' is out of range 1..1024" },
		{ { "--channels", "1025" }, "--channels: '1025' is out of range" },
		{ { "--threads", "65" }, "--threads: '65' is out of range 1..64" },
		{ { "--threads", "30", "--gateways", "5", "--agents", "5" },
		  "--threads: 30 threads" },
		{ { "--rate", "0" }, "--rate: '0' is out of range" },
		{ { "--rate", "11M" }, "--rate: '11M' is out of range" },
		{ { "--rate", "fast" }, "--rate: 'fast' is not a number" },
		{ { "--rate", "100", "--inflight", "4" }, "--rate and --inflight exclude" },
		{ { "--inflight", "0" }, "--inflight: '0' is out of range" },
		{ { "--inflight", "1025" }, "--inflight: '1025' is out of range" },
		{ { "--arrivals", "fixed" }, "--arrivals: only with --rate" },
		{ { "--rate", "5", "--arrivals", "bursty" }, "--arrivals: 'bursty' is not" },
		{ { "--max-inflight", "8" }, "--max-inflight: only with --rate" },
		{ { "--rate", "5", "--max-inflight", "4097" }, "--max-inflight: '4097' is out" },
		{ { "--size", "100" }, "--size: only with --model stream" },
		{ { "--model", "stream", "--size", "31" },
		  "--size: '31' is out of range 32..1413" },
		{ { "--model", "stream", "--size", "1414" }, "--size: '1414' is out of range" },
		{ { "--model", "batch" }, "--model: 'batch' is not rr or stream" },
		{ { "--loss-timeout", "0" }, "--loss-timeout: '0' is out of range" },
		{ { "--loss-timeout", "60001" }, "--loss-timeout: '60001' is out of range" },
		{ { "--handshake-rate", "0" }, "--handshake-rate: '0' is out of range" },
		{ { "--suite", "rot13" }, "--suite: 'rot13' is not chacha or aes" },
		{ { "--tenant", "a b" }, "--tenant: 'a b' is not 1 to 63 characters" },
		{ { "--instance", "65536" }, "--instance: '65536' is out of range" },
		{ { "--bind", "localhost" }, "--bind: 'localhost' is not a numeric" },
		{ { "--bind", "::1" }, "--bind: '::1' is not of the same address family" },
		{ { "--metrics", "https://127.0.0.1:9180/metrics" }, "--metrics: 'https://" },
		{ { "--metrics", "http://relay.example:9180/" },
		  "--metrics: 'http://relay.example" },
		{ { "--gateways", "0", "--agents", "0" }, "--gateways and --agents are both 0" },
		{ { "--gateways", "0" }, "--agents: agents need at least one gateway" },
		{ { "--gateways", "60000", "--agents", "50000" }, "--gateways + --agents: 110000" },
		{ { "--agents", "2000", "--channels", "1000" }, "--agents × --channels" },
		{ { "--frobnicate" }, "unknown option '--frobnicate'" },
		{ { "-x" }, "unknown option '-x'" },
		{ { "extra" }, "unexpected argument 'extra'" },
		{ { "--rate" }, "--rate needs a value" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[ARGS_MAX] = { BASE };
		size_t n = 7;
		struct opts o;
		char err[256];

		for (size_t k = 0; cases[i].args[k]; k++)
			args[n++] = cases[i].args[k];
		args[n] = NULL;
		cr_expect_eq(parse(&o, err, args), -EINVAL, "case %zu (%s) accepted", i,
			     cases[i].says);
		cr_expect(!strncmp(err, cases[i].says, strlen(cases[i].says)),
			  "case %zu: got \"%s\", want \"%s...\"", i, err, cases[i].says);
		cr_expect(!strchr(err, '\n'), "case %zu: more than one line", i);
	}
}

Test(opts, missing_required_options)
{
	static const struct {
		const char *args[8];
		const char *says;
	} cases[] = {
		{ { "run", "--relay-key", "k", "--signing-key", "f" },
		  "missing --relay ADDR:PORT" },
		{ { "run", "--relay", "127.0.0.1:1", "--signing-key", "f" },
		  "missing --relay-key" },
		{ { "run", "--relay", "127.0.0.1:1", "--relay-key", "k" },
		  "missing --signing-key" },
		{ { "run", "--relay", "localhost:1", "--relay-key", "k", "--signing-key", "f" },
		  "--relay: 'localhost:1' is not a numeric" },
		{ { "run", "--relay", "127.0.0.1", "--relay-key", "k", "--signing-key", "f" },
		  "--relay: '127.0.0.1' is not a numeric" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct opts o;
		char err[256];

		cr_expect_eq(parse(&o, err, cases[i].args), -EINVAL, "case %zu", i);
		cr_expect(!strncmp(err, cases[i].says, strlen(cases[i].says)),
			  "case %zu: got \"%s\"", i, err);
	}
}

Test(opts, ipv6_relay_and_bind)
{
	static const char *const args[] = {
		"run", "--relay", "[::1]:51820", "--relay-key", "k", "--signing-key", "f",
		"--bind", "::1", "--bind", "fd77::2", NULL,
	};
	struct opts o;
	char err[256];

	cr_assert_eq(parse(&o, err, args), 0, "%s", err);
	cr_expect_eq(o.n_bind, 2);
}

Test(opts, handshake_only_run)
{
	static const char *const args[] = { BASE, "--gateways", "500", "--agents", "0", NULL };
	struct opts o;
	char err[256];

	cr_assert_eq(parse(&o, err, args), 0, "%s", err);
	cr_expect_eq(opts_endpoints(&o), 500);
}

#define SWEEP "sweep", "--relay", "127.0.0.1:51820", "--relay-key", "k", "--signing-key", "f"

Test(opts, sweep_defaults_and_values)
{
	static const char *const args[] = {
		SWEEP, "--rate-to", "50k", "--rate-from", "500", "--steps", "4",
		"--slo-p99", "20", "--max-loss", "0.5", NULL,
	};
	struct opts o;
	char err[256];

	cr_assert_eq(parse(&o, err, args), 0, "%s", err);
	cr_expect(o.sweep && o.open_loop);
	cr_expect_float_eq(o.rate_from, 500, 1e-9);
	cr_expect_float_eq(o.rate, 500, 1e-9, "the first step's rate");
	cr_expect_float_eq(o.rate_to, 50000, 1e-9);
	cr_expect_eq(o.steps, 4);
	cr_expect_eq(o.slo_p99_ns, 20000000u);
	cr_expect_float_eq(o.max_loss, 0.005, 1e-12);
	cr_expect_eq(o.duration_ns, 5000000000u, "a sweep's steps default to 5 s");
}

Test(opts, sweep_bad_command_lines)
{
	static const struct {
		const char *args[8];
		const char *says;
	} cases[] = {
		{ { NULL }, "missing --rate-to R" },
		{ { "--rate-to", "100", "--rate-from", "200" }, "--rate-to: 100 is not above" },
		{ { "--rate-to", "1k", "--rate", "5" }, "--rate: a sweep sets the rate" },
		{ { "--rate-to", "1k", "--inflight", "5" }, "--inflight: a sweep is open loop" },
		{ { "--rate-to", "1k", "--steps", "1" }, "--steps: '1' is out of range 2..32" },
		{ { "--rate-to", "2k", "--steps", "32", "--duration", "200" },
		  "--steps: 32 steps" },
		{ { "--rate-to", "1k", "--max-loss", "101" },
		  "--max-loss: '101' is not a percentage" },
		{ { "--rate-to", "1k", "--slo-p99", "0" }, "--slo-p99: '0' is out of range" },
		{ { "--rate-to", "1k", "--agents", "0" }, "--agents: a sweep needs agents" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[ARGS_MAX] = { SWEEP };
		size_t n = 7;
		struct opts o;
		char err[256];

		for (size_t k = 0; cases[i].args[k]; k++)
			args[n++] = cases[i].args[k];
		args[n] = NULL;
		cr_expect_eq(parse(&o, err, args), -EINVAL, "case %zu accepted", i);
		cr_expect(!strncmp(err, cases[i].says, strlen(cases[i].says)),
			  "case %zu: got \"%s\", want \"%s...\"", i, err, cases[i].says);
	}
}

Test(opts, sweep_options_are_refused_by_run)
{
	static const char *const args[] = { BASE, "--rate-to", "5k", NULL };
	struct opts o;
	char err[256];

	cr_expect_eq(parse(&o, err, args), -EINVAL);
	cr_expect_str_eq(err, "--rate-to: only with 'relaybench sweep'");
}
