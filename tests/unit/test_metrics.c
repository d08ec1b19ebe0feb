/*
 * test_metrics.c — /metrics (relay/metrics.h): what metrics_render() writes
 * is valid Prometheus text format 0.0.4 by tests/metrics_check.py, a strict
 * parser, and carries the relay's numbers under the documented names; and the
 * checker itself rejects each kind of malformed exposition.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay/metrics.h"

/* tests/metrics_check.py: beside tests/vectors (POSTERN_VECTORS), or as told. */
static const char *checker(void)
{
	static char path[4096];
	const char *env = getenv("POSTERN_METRICS_CHECK"), *vectors = getenv("POSTERN_VECTORS");

	if (env)
		return env;
	snprintf(path, sizeof(path), "%s/../metrics_check.py", vectors ? vectors : "tests/vectors");
	return path;
}

/* Run the checker on @len bytes of @text. @return its exit status; *@errors its stderr. */
static int check(const char *text, size_t len, char errors[4096])
{
	char in[] = "/tmp/metrics-in.XXXXXX", out[] = "/tmp/metrics-err.XXXXXX", cmd[8400];
	int fd_in = mkstemp(in), fd_out = mkstemp(out), status;
	ssize_t n;

	cr_assert(fd_in >= 0 && fd_out >= 0);
	cr_assert_eq(write(fd_in, text, len), (ssize_t)len);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' 2>'%s'", checker(), in, out);
	status = system(cmd);
	n = pread(fd_out, errors, 4095, 0);
	errors[n > 0 ? n : 0] = '\0';
	close(fd_in);
	close(fd_out);
	unlink(in);
	unlink(out);
	cr_assert(WIFEXITED(status), "the checker did not run: %s", cmd);
	cr_assert_neq(WEXITSTATUS(status), 2, "checker usage error: %s", errors);
	cr_assert_neq(WEXITSTATUS(status), 127, "python3 or %s not found", checker());
	return WEXITSTATUS(status);
}

static struct relay_stats workers[CONTROL_MAX_WORKERS];

static void fill(unsigned n)
{
	memset(workers, 0, sizeof(workers));
	for (unsigned w = 0; w < n; w++) {
		workers[w].rx_packets = 1000 + w;
		workers[w].forwarded = 900;
		workers[w].dropped[RELAY_DROP_BAD_MAC1] = 7 + w;
		workers[w].dropped[RELAY_DROP_INTERNAL] = 1;
		workers[w].lost[RELAY_DROP_NO_MBUF] = 3;
		workers[w].sessions = 10 + w;
		workers[w].channels = 20;
		workers[w].busy_cycles = 2500ull * (1000 + w);
		workers[w].busy_packets = 1000 + w;
		workers[w].handshakes = UINT64_MAX;	/* the full range prints */
	}
}

static char *render(unsigned n, bool ready, const struct control_counters *cc, size_t *len)
{
	struct metrics_input in = { .per_worker = workers, .n_workers = n, .ready = ready,
				    .control = cc };
	char *text = NULL;

	cr_assert_eq(metrics_render(&in, &text, len), 0);
	cr_assert_eq(strlen(text), *len);
	return text;
}

static unsigned count(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(metrics, output_passes_the_strict_checker)
{
	static const unsigned sizes[] = { 0, 1, 2, CONTROL_MAX_WORKERS };
	struct control_counters cc = { .accepted_ctl = 5, .accepted_http = 9, .requests_ctl = 6,
				       .requests_http = 8, .refused_cred = 1, .refused_busy = 2,
				       .timeouts = 3, .too_large = 4, .conns = 1 };
	char errors[4096];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len;
		char *text;

		fill(sizes[i]);
		text = render(sizes[i], i % 2, i % 2 ? &cc : NULL, &len);
		cr_assert_eq(check(text, len, errors), 0, "%u workers: %s", sizes[i], errors);
		free(text);
	}
}

Test(metrics, samples_carry_the_relay_numbers)
{
	struct control_counters cc = { .accepted_http = 9, .refused_cred = 1, .conns = 2 };
	size_t len;
	char *text;

	fill(2);
	text = render(2, true, &cc, &len);
	cr_assert(strstr(text, "\npostern_relay_ready 1\n"));
	cr_assert(strstr(text, "\npostern_relay_workers 2\n"));
	cr_assert(strstr(text, "\npostern_relay_rx_packets_total{worker=\"1\"} 1001\n"));
	cr_assert(strstr(text, "\npostern_relay_dropped_packets_total"
			 "{worker=\"1\",reason=\"bad_mac1\"} 8\n"));
	cr_assert(strstr(text, "\npostern_relay_dropped_packets_total"
			 "{worker=\"0\",reason=\"internal\"} 1\n"));
	cr_assert(strstr(text, "\npostern_relay_lost_packets_total"
			 "{worker=\"0\",reason=\"no_mbuf\"} 3\n"));
	cr_assert(strstr(text, "\npostern_relay_sessions{worker=\"1\"} 11\n"));
	cr_assert(strstr(text, "\npostern_relay_channels{worker=\"0\"} 20\n"));
	cr_assert(strstr(text, "\npostern_relay_cycles_per_packet{worker=\"1\"} 2500.0\n"));
	cr_assert(strstr(text, "\npostern_relay_handshakes_total{worker=\"0\"} "
			 "18446744073709551615\n"));
	cr_assert(strstr(text, "\n# TYPE postern_relay_dropped_packets_total counter\n"));
	cr_assert(strstr(text, "\n# TYPE postern_relay_sessions gauge\n"));
	cr_assert(strstr(text, "\npostern_control_connections_total{listener=\"http\"} 9\n"));
	cr_assert(strstr(text, "\npostern_control_refused_total{reason=\"peer_credentials\"} 1\n"));
	cr_assert(strstr(text, "\npostern_control_connections 2\n"));
	free(text);

	text = render(2, false, NULL, &len);
	cr_assert(strstr(text, "\npostern_relay_ready 0\n"));
	cr_assert_null(strstr(text, "postern_control_"), "no control counters given");
	free(text);
}

Test(metrics, every_reason_of_every_worker_is_present_from_the_start)
{
	char prefix[96];
	size_t len;
	char *text;

	memset(workers, 0, sizeof(workers));
	text = render(3, true, NULL, &len);
	for (unsigned w = 0; w < 3; w++) {
		snprintf(prefix, sizeof(prefix),
			 "\npostern_relay_dropped_packets_total{worker=\"%u\",", w);
		cr_assert_eq(count(text, prefix), RELAY_DROP_MAX, "worker %u", w);
		snprintf(prefix, sizeof(prefix),
			 "\npostern_relay_lost_packets_total{worker=\"%u\",", w);
		cr_assert_eq(count(text, prefix), RELAY_DROP_MAX, "worker %u", w);
	}
	cr_assert_eq(count(text, "reason=\"token_revoked\"} 0\n"), 6);
	cr_assert_eq(count(text, "\npostern_relay_cycles_per_packet{worker=\"2\"} 0.0\n"), 1,
		     "no packets yet reads 0, not NaN");
	free(text);
}

/* The checker is only worth running if it fails what is wrong: one line per defect. */
Test(metrics, the_checker_rejects_malformed_expositions)
{
#define H "# HELP a_total A.\n# TYPE a_total counter\n"
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ H "a_total 1", "no final newline" },
		{ H "a_total 1\r\n", "carriage return" },
		{ "a_total 1\n" H, "sample before TYPE" },
		{ "# TYPE a_total counter\na_total 1\n", "no HELP" },
		{ H "# TYPE a_total counter\na_total 1\n", "TYPE twice" },
		{ H "# HELP a_total again\na_total 1\n", "HELP twice" },
		{ "# HELP a_total A.\n# TYPE a_total countr\na_total 1\n", "unknown type" },
		{ H "a_total 1\na_total 2\n", "duplicate series" },
		{ H "a_total{x=\"1\",y=\"2\"} 1\na_total{y=\"2\",x=\"1\"} 2\n",
		  "duplicate series, labels reordered" },
		{ H "a_total{x=\"1\",x=\"2\"} 1\n", "label twice" },
		{ H "a_total{x=1} 1\n", "unquoted label value" },
		{ H "a_total{x=\"1} 1\n", "unterminated label value" },
		{ H "a_total{x=\"\\t\"} 1\n", "bad escape" },
		{ H "a_total{1x=\"1\"} 1\n", "bad label name" },
		{ H "a_total{__x=\"1\"} 1\n", "reserved label name" },
		{ H "a_total{x=\"1\",} 1\n", "trailing comma" },
		{ H "a_total{} 1\n", "empty label set" },
		{ H "a_total{x=\"1\"}1\n", "no blank before the value" },
		{ H "a_total  1\n", "two spaces" },
		{ H "a_total one\n", "bad value" },
		{ H "a_total 1 2.5\n", "bad timestamp" },
		{ H "a_total 1 2 3\n", "extra token" },
		{ H "a_total -1\n", "negative counter" },
		{ H "a_total NaN\n", "NaN counter" },
		{ "# HELP a A.\n# TYPE a counter\na 1\n", "counter without _total" },
		{ H "a_total 1\n# HELP b B.\n# TYPE b gauge\nb 1\na_total{x=\"1\"} 1\n",
		  "family split in two groups" },
		{ "# HELP 1a A.\n# TYPE 1a gauge\n1a 1\n", "bad metric name" },
		{ H "\na_total 1\n", "blank line" },
		{ H "# a comment\na_total 1\n", "stray comment" },
		{ "# HELP a_total A\\x.\n# TYPE a_total counter\na_total 1\n", "bad HELP escape" },
		{ "# HELP h H.\n# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n",
		  "bucket without le" },
		{ H "a_total \xff\n", "not UTF-8" },
	};
#undef H
	static const char good[] =
		"# HELP a_total A \\\\ \\n.\n# TYPE a_total counter\n"
		"a_total{x=\"q\\\"\\n\\\\\"} 1 -5\n"
		"a_total{x=\"2\"} +Inf\n# HELP g G.\n# TYPE g gauge\ng -1.5e-3\ng{y=\"1\"} NaN\n"
		"# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n";
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	static char lines[N][1100];
	char paths[N][32], cmd[N * 40 + 512], verdict[1100], errors[4096];
	size_t used;
	int status;
	FILE *out;

	cr_assert_eq(check(good, strlen(good), errors), 0, "a valid exposition fails: %s", errors);
	/* One interpreter for the whole table: each file gets its own verdict line. */
	used = (size_t)snprintf(cmd, sizeof(cmd), "python3 '%s'", checker());
	for (size_t i = 0; i < N; i++) {
		int fd;

		snprintf(paths[i], sizeof(paths[i]), "/tmp/metrics-bad.XXXXXX");
		fd = mkstemp(paths[i]);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, cases[i].text, strlen(cases[i].text)),
			     (ssize_t)strlen(cases[i].text));
		close(fd);
		used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, " '%s'", paths[i]);
	}
	snprintf(cmd + used, sizeof(cmd) - used, " 2>/dev/null");
	out = popen(cmd, "r");
	cr_assert_not_null(out);
	for (size_t i = 0; i < N; i++)
		if (!fgets(lines[i], sizeof(lines[i]), out))
			lines[i][0] = '\0';
	status = pclose(out);
	for (size_t i = 0; i < N; i++)
		unlink(paths[i]);
	for (size_t i = 0; i < N; i++) {
		snprintf(verdict, sizeof(verdict), "%s: invalid\n", paths[i]);
		cr_assert_str_eq(lines[i], verdict, "the checker accepted: %s", cases[i].why);
	}
	cr_assert_eq(WEXITSTATUS(status), 1);
}
