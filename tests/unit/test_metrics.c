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
static struct metrics_backend *backend;

static void backend_free(void)
{
	free(backend);
	backend = NULL;
}

TestSuite(metrics, .fini = backend_free);

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
		workers[w].sessions_kicked = 2 + w;
	}
}

/* A DPDK port as dp_ethdev_metrics() fills it: device and layer 2 counters. */
static void fill_port(struct metrics_port *p, const char *name, bool have_device, uint64_t k)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->have_device = have_device;
	p->device = (struct dp_port_stats){
		.ipackets = 1000 * k, .opackets = 900 * k, .ibytes = 64000 * k,
		.obytes = 60000 * k, .imissed = 3 * k, .ierrors = 2 * k, .oerrors = k,
		.rx_nombuf = 4 * k,
	};
	p->l2.rx_frames = 990 * k;
	p->l2.rx_hop = 950 * k;
	p->l2.rx_handled = 30 * k;
	p->l2.rx_dropped[DP_L2STATS_NOT_OURS] = 6 * k;
	p->l2.rx_dropped[DP_L2STATS_BAD_UDP_CKSUM] = 4 * k;
	p->l2.tx_packets = 880 * k;
	p->l2.tx_frames = 870 * k;
	p->l2.tx_dropped[DP_L2STATS_NEIGH_UNRESOLVED] = 10 * k;
	p->l2.arp_requests_in = 5 * k;
	p->l2.arp_replies_out = 5 * k;
	p->l2.nd_solicits_in = 7 * k;
	p->l2.nd_adverts_out = 7 * k;
	p->l2.icmp4_echo_replies = 11 * k;
	p->l2.icmp6_echo_replies = 13 * k;
	p->l2.neigh_created = 2 * k;
	p->l2.tx_queued = 8 * k;
}

/* The backend: @n_ports DPDK ports, then @n_workers × @n_listen sockets. */
static struct metrics_backend *fill_backend(unsigned n_ports, unsigned n_workers,
					    unsigned n_listen)
{
	static const char *const listen[] = { "0.0.0.0:51820", "[::]:51820", "10.77.0.1:443" };

	free(backend);
	backend = metrics_backend_alloc();
	cr_assert_not_null(backend);
	cr_assert_eq((uintptr_t)backend % _Alignof(struct metrics_backend), 0);
	for (unsigned p = 0; p < n_ports; p++) {
		char name[32];

		snprintf(name, sizeof(name), "net_af_packet%u", p);
		fill_port(&backend->ports[p], name, true, p + 1);
	}
	backend->n_ports = n_ports;
	for (unsigned w = 0; w < n_workers; w++) {
		for (unsigned l = 0; l < n_listen; l++) {
			struct metrics_socket *s = &backend->sockets[backend->n_sockets++];

			s->worker = w;
			snprintf(s->listen, sizeof(s->listen), "%s", listen[l % 3]);
			if (l >= 3)	/* more listen addresses than names: other ports */
				snprintf(s->listen, sizeof(s->listen), "10.77.0.1:%u", 1000 + l);
			s->rx_drops = 40 + w + l;
		}
	}
	return backend;
}

static char *render_with(unsigned n, bool ready, const struct control_counters *cc,
			 const struct metrics_backend *be, size_t *len)
{
	struct metrics_input in = { .per_worker = workers, .n_workers = n, .ready = ready,
				    .control = cc, .backend = be };
	char *text = NULL;

	cr_assert_eq(metrics_render(&in, &text, len), 0);
	cr_assert_eq(strlen(text), *len);
	return text;
}

static char *render(unsigned n, bool ready, const struct control_counters *cc, size_t *len)
{
	return render_with(n, ready, cc, NULL, len);
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

	/* Workers, then the backend: DPDK ports, or sockets (worker × listen address). */
	static const struct {
		unsigned workers, ports, sock_workers, listen;
	} backends[] = {
		{ 2, 1, 0, 0 },
		{ 2, METRICS_MAX_PORTS, 0, 0 },
		{ 2, 0, 2, 2 },
		{ 1, 0, 1, 1 },
		{ CONTROL_MAX_WORKERS, 0, CONTROL_MAX_WORKERS, DP_SOCK_MAX_LISTEN },
		{ 2, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len;
		char *text;

		fill(sizes[i]);
		text = render(sizes[i], i % 2, i % 2 ? &cc : NULL, &len);
		cr_assert_eq(check(text, len, errors), 0, "%u workers: %s", sizes[i], errors);
		free(text);
	}
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		size_t len;
		char *text;

		fill(backends[i].workers);
		fill_backend(backends[i].ports, backends[i].sock_workers, backends[i].listen);
		text = render_with(backends[i].workers, true, &cc, backend, &len);
		cr_assert_eq(check(text, len, errors), 0, "backend case %zu: %s", i, errors);
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
	cr_assert(strstr(text, "\n# TYPE postern_relay_sessions_kicked_total counter\n"));
	cr_assert(strstr(text, "\npostern_relay_sessions_kicked_total{worker=\"0\"} 2\n"));
	cr_assert(strstr(text, "\npostern_relay_sessions_kicked_total{worker=\"1\"} 3\n"));
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

/* Each port's counters under its name: the device's, then the Ethernet/IP layer's. */
Test(metrics, ports_carry_the_device_and_layer_2_counters)
{
	static const char *const want[] = {
		"# TYPE postern_port_rx_packets_total counter",
		"postern_port_rx_packets_total{port=\"net_af_packet0\"} 1000",
		"postern_port_rx_packets_total{port=\"net_af_packet1\"} 2000",
		"postern_port_tx_packets_total{port=\"net_af_packet1\"} 1800",
		"postern_port_rx_bytes_total{port=\"net_af_packet0\"} 64000",
		"postern_port_tx_bytes_total{port=\"net_af_packet0\"} 60000",
		"postern_port_rx_missed_total{port=\"net_af_packet1\"} 6",
		"postern_port_rx_errors_total{port=\"net_af_packet0\"} 2",
		"postern_port_tx_errors_total{port=\"net_af_packet0\"} 1",
		"postern_port_rx_no_mbuf_total{port=\"net_af_packet0\"} 4",
		"postern_port_l2_rx_frames_total{port=\"net_af_packet0\"} 990",
		"postern_port_l2_rx_hop_packets_total{port=\"net_af_packet0\"} 950",
		"postern_port_l2_rx_handled_total{port=\"net_af_packet1\"} 60",
		"postern_port_l2_tx_packets_total{port=\"net_af_packet0\"} 880",
		"postern_port_l2_tx_frames_total{port=\"net_af_packet0\"} 870",
		"postern_port_l2_rx_dropped_total{port=\"net_af_packet0\",reason=\"not_ours\"} 6",
		"postern_port_l2_rx_dropped_total{port=\"net_af_packet1\","
		"reason=\"bad_udp_cksum\"} 8",
		"postern_port_l2_rx_dropped_total{port=\"net_af_packet0\",reason=\"ethertype\"} 0",
		"postern_port_l2_tx_dropped_total{port=\"net_af_packet0\","
		"reason=\"neigh_unresolved\"} 10",
		"postern_port_arp_messages_total{port=\"net_af_packet0\",type=\"request\","
		"direction=\"in\"} 5",
		"postern_port_arp_messages_total{port=\"net_af_packet0\",type=\"reply\","
		"direction=\"out\"} 5",
		"postern_port_arp_messages_total{port=\"net_af_packet0\",type=\"gratuitous\","
		"direction=\"in\"} 0",
		"postern_port_nd_messages_total{port=\"net_af_packet1\",type=\"solicitation\","
		"direction=\"in\"} 14",
		"postern_port_nd_messages_total{port=\"net_af_packet0\",type=\"advertisement\","
		"direction=\"out\"} 7",
		"postern_port_icmp_echo_replies_total{port=\"net_af_packet0\",family=\"ipv4\"} 11",
		"postern_port_icmp_echo_replies_total{port=\"net_af_packet0\",family=\"ipv6\"} 13",
		"postern_port_neighbour_events_total{port=\"net_af_packet0\",event=\"created\"} 2",
		"postern_port_neighbour_events_total{port=\"net_af_packet0\",event=\"queued\"} 8",
	};
	char line[256];
	size_t len;
	char *text;

	fill(2);
	fill_backend(2, 0, 0);
	text = render_with(2, true, NULL, backend, &len);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(line, sizeof(line), "\n%s\n", want[i]);
		cr_assert(strstr(text, line), "missing: %s", want[i]);
	}
	cr_assert_null(strstr(text, "postern_socket_"), "no sockets given");
	free(text);
}

/* Every drop reason of every port is there from the start; "none" is not a drop. */
Test(metrics, every_reason_of_every_port_is_present_from_the_start)
{
	char prefix[128];
	size_t len;
	char *text;

	fill(1);
	fill_backend(3, 0, 0);
	for (unsigned p = 0; p < 3; p++)
		memset(&backend->ports[p].l2, 0, sizeof(backend->ports[p].l2));
	text = render_with(1, true, NULL, backend, &len);
	for (unsigned p = 0; p < 3; p++) {
		snprintf(prefix, sizeof(prefix),
			 "\npostern_port_l2_rx_dropped_total{port=\"net_af_packet%u\",", p);
		cr_assert_eq(count(text, prefix), DP_L2STATS_DROP_MAX - 1, "port %u", p);
		snprintf(prefix, sizeof(prefix),
			 "\npostern_port_l2_tx_dropped_total{port=\"net_af_packet%u\",", p);
		cr_assert_eq(count(text, prefix), DP_L2STATS_DROP_MAX - 1, "port %u", p);
	}
	cr_assert_eq(count(text, "reason=\"none\""), 0);
	cr_assert_eq(count(text, "reason=\"bad_ip_cksum\"} 0\n"), 6);
	free(text);
}

/*
 * A port whose device would not tell has no device series (not a false 0),
 * but keeps its layer 2 ones; with no device answering at all, the device
 * families are left out whole. Without a backend there is no port family.
 */
Test(metrics, ports_without_device_counters_show_only_layer_2)
{
	char errors[4096];
	size_t len;
	char *text;

	fill(1);
	fill_backend(2, 0, 0);
	backend->ports[1].have_device = false;
	text = render_with(1, true, NULL, backend, &len);
	cr_assert_eq(check(text, len, errors), 0, "%s", errors);
	cr_assert(strstr(text, "\npostern_port_rx_packets_total{port=\"net_af_packet0\"} 1000\n"));
	cr_assert_null(strstr(text, "postern_port_rx_packets_total{port=\"net_af_packet1\"}"));
	cr_assert(strstr(text,
			 "\npostern_port_l2_rx_frames_total{port=\"net_af_packet1\"} 1980\n"));
	free(text);

	backend->ports[0].have_device = false;
	text = render_with(1, true, NULL, backend, &len);
	cr_assert_eq(check(text, len, errors), 0, "%s", errors);
	cr_assert_null(strstr(text, "postern_port_rx_packets_total"));
	cr_assert_null(strstr(text, "postern_port_rx_missed_total"));
	cr_assert(strstr(text, "\n# TYPE postern_port_l2_rx_frames_total counter\n"));
	free(text);

	text = render_with(1, true, NULL, NULL, &len);
	cr_assert_null(strstr(text, "postern_port_"));
	cr_assert_null(strstr(text, "postern_socket_"));
	free(text);
}

/* A port name from the configuration is a label value: quote, backslash, newline escaped. */
Test(metrics, port_names_are_escaped)
{
	char errors[4096];
	size_t len;
	char *text;

	fill(1);
	fill_backend(1, 0, 0);
	snprintf(backend->ports[0].name, sizeof(backend->ports[0].name), "we\"ird\\port\n0");
	text = render_with(1, true, NULL, backend, &len);
	cr_assert_eq(check(text, len, errors), 0, "%s", errors);
	cr_assert(strstr(text, "\npostern_port_rx_packets_total"
			 "{port=\"we\\\"ird\\\\port\\n0\"} 1000\n"), "%s", text);
	free(text);
}

/* One series per socket: its worker and listen address, and the kernel's drops. */
Test(metrics, sockets_carry_their_kernel_drops)
{
	size_t len;
	char *text;

	fill(2);
	fill_backend(0, 2, 2);
	text = render_with(2, true, NULL, backend, &len);
	cr_assert(strstr(text, "\n# TYPE postern_socket_rx_drops_total counter\n"));
	cr_assert(strstr(text, "\npostern_socket_rx_drops_total{worker=\"0\","
			 "listen=\"0.0.0.0:51820\"} 40\n"));
	cr_assert(strstr(text, "\npostern_socket_rx_drops_total{worker=\"1\","
			 "listen=\"[::]:51820\"} 42\n"));
	cr_assert_eq(count(text, "\npostern_socket_rx_drops_total{"), 4);
	cr_assert_null(strstr(text, "postern_port_"), "no ports given");
	free(text);

	/* More than fits is cut at METRICS_MAX_SOCKETS, never read beyond the array. */
	fill_backend(0, CONTROL_MAX_WORKERS, DP_SOCK_MAX_LISTEN);
	backend->n_sockets = METRICS_MAX_SOCKETS + 5;
	backend->n_ports = METRICS_MAX_PORTS + 5;
	text = render_with(1, true, NULL, backend, &len);
	cr_assert_eq(count(text, "\npostern_socket_rx_drops_total{"), METRICS_MAX_SOCKETS);
	cr_assert_eq(count(text, "\npostern_port_l2_rx_frames_total{"), METRICS_MAX_PORTS);
	free(text);
}

/* DPDK: what each worker's device refused to send, so a full TX queue is never silent. */
Test(metrics, dpdk_workers_carry_their_refused_frames)
{
	size_t len;
	char *text, errors[4096];

	fill(2);
	fill_backend(1, 0, 0);
	text = render_with(2, true, NULL, backend, &len);
	cr_assert_null(strstr(text, "postern_worker_tx_unsent_total"), "no DPDK workers given");
	free(text);

	backend->n_port_workers = 2;
	backend->tx_unsent[0] = 0;
	backend->tx_unsent[1] = 576;
	text = render_with(2, true, NULL, backend, &len);
	cr_assert_eq(check(text, len, errors), 0, "%s", errors);
	cr_assert(strstr(text, "\n# TYPE postern_worker_tx_unsent_total counter\n"));
	cr_assert(strstr(text, "\npostern_worker_tx_unsent_total{worker=\"0\"} 0\n"), "%s", text);
	cr_assert(strstr(text, "\npostern_worker_tx_unsent_total{worker=\"1\"} 576\n"));
	free(text);

	/* A count beyond the array is cut at CONTROL_MAX_WORKERS. */
	backend->n_port_workers = CONTROL_MAX_WORKERS + 3;
	text = render_with(2, true, NULL, backend, &len);
	cr_assert_eq(count(text, "\npostern_worker_tx_unsent_total{"), CONTROL_MAX_WORKERS);
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
