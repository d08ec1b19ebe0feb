/*
 * test_relaybench_prom.c — relaybench reads the relay's /metrics
 * (bench/relaybench/prom.h) from the very text relay/metrics.c renders, so
 * a renamed family breaks this test rather than a benchmark; deltas between
 * two scrapes give cycles per packet and drops per reason; malformed pages
 * and foreign pages are refused; --metrics URLs parse as documented
 * (bench/relaybench/scrape.h); the kernel's UDP drop counters are read from
 * /proc/net/snmp and snmp6 (bench/relaybench/snmp.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/relaybench/prom.h"
#include "bench/relaybench/scrape.h"
#include "bench/relaybench/snmp.h"
#include "relay/metrics.h"

static struct relay_stats workers[2];

/* Render what a relay with @n workers and these counters would serve. */
static char *render(unsigned n, size_t *len)
{
	struct metrics_input in = { .per_worker = workers, .n_workers = n, .ready = true };
	char *text = NULL;

	cr_assert_eq(metrics_render(&in, &text, len), 0);
	return text;
}

static unsigned reason(const struct prom_relay *p, const char *name)
{
	for (unsigned i = 0; i < p->n_reasons; i++)
		if (!strcmp(p->reason[i], name))
			return i;
	cr_assert_fail("no reason %s", name);
	return 0;
}

Test(prom, reads_the_relays_own_page)
{
	struct prom_relay p;
	size_t len;
	char *text;

	memset(workers, 0, sizeof(workers));
	workers[0] = (struct relay_stats){ .rx_packets = 1000, .tx_packets = 990, .forwarded = 980,
					   .handled = 15, .handshakes = 7, .cookies_sent = 2,
					   .busy_cycles = 3000000, .busy_packets = 1000,
					   .sessions = 4, .channels = 9 };
	workers[0].dropped[RELAY_DROP_BAD_MAC1] = 5;
	workers[1] = (struct relay_stats){ .rx_packets = 500, .forwarded = 500,
					   .busy_cycles = 1000000, .busy_packets = 500,
					   .sessions = 3 };
	workers[1].dropped[RELAY_DROP_UNKNOWN_CHANNEL] = 1;
	text = render(2, &len);
	cr_assert_eq(prom_parse_relay(text, len, &p), 0);
	free(text);
	cr_expect(p.seen);
	cr_expect_eq(p.n_workers, 2);
	cr_expect_eq(p.rx_packets, 1500);
	cr_expect_eq(p.tx_packets, 990);
	cr_expect_eq(p.forwarded, 1480);
	cr_expect_eq(p.handled, 15);
	cr_expect_eq(p.handshakes, 7);
	cr_expect_eq(p.cookies_sent, 2);
	cr_expect_eq(p.busy_cycles, 4000000);
	cr_expect_eq(p.busy_packets, 1500);
	cr_expect_eq(p.worker_busy_cycles[1], 1000000);
	cr_expect_eq(p.worker_busy_packets[0], 1000);
	cr_expect_eq(p.sessions, 7);
	cr_expect_eq(p.channels, 9);
	cr_expect_eq(p.dropped_total, 6);
	cr_expect_eq(p.n_reasons, RELAY_DROP_MAX, "every reason is listed, zero or not");
	cr_expect_eq(p.dropped[reason(&p, "bad_mac1")], 5);
	cr_expect_eq(p.dropped[reason(&p, "unknown_channel")], 1);
	cr_expect_eq(p.dropped[reason(&p, "tx_full")], 0);
}

Test(prom, delta_between_two_scrapes)
{
	struct prom_relay a, b, d;
	size_t len;
	char *text;

	memset(workers, 0, sizeof(workers));
	workers[0].rx_packets = 100;
	workers[0].busy_cycles = 100000;
	workers[0].busy_packets = 100;
	workers[0].sessions = 10;
	text = render(1, &len);
	cr_assert_eq(prom_parse_relay(text, len, &a), 0);
	free(text);
	workers[0].rx_packets = 1100;
	workers[0].busy_cycles = 2100000;
	workers[0].busy_packets = 1100;
	workers[0].sessions = 4;
	workers[0].dropped[RELAY_DROP_REPLAYED] = 3;
	text = render(1, &len);
	cr_assert_eq(prom_parse_relay(text, len, &b), 0);
	free(text);
	prom_relay_delta(&a, &b, &d);
	cr_expect_eq(d.rx_packets, 1000);
	cr_expect_eq(d.busy_packets, 1000);
	cr_expect_float_eq(prom_cycles_per_packet(&d), 2000.0, 1e-9);
	cr_expect_eq(d.sessions, 4, "gauges are taken as they are now");
	cr_expect_eq(d.dropped_total, 3);
	cr_expect_eq(d.dropped[reason(&d, "replayed")], 3);
	/* A relay restarted between the scrapes: counters went down, the delta is 0. */
	prom_relay_delta(&b, &a, &d);
	cr_expect_eq(d.rx_packets, 0);
	cr_expect_float_eq(prom_cycles_per_packet(&d), 0.0, 1e-9);
}

Test(prom, label_forms_and_other_families)
{
	static const char page[] =
		"# HELP something_else_total Not ours.\n"
		"something_else_total{a=\"b\"} 99\n"
		"\n"
		"postern_relay_rx_packets_total{worker=\"0\",} 10\n"
		"postern_relay_rx_packets_total{ worker=\"1\"} 5 1700000000000\n"
		"postern_relay_dropped_packets_total{reason=\"we\\\"ird\",worker=\"0\"} 2\n"
		"postern_relay_sessions 3.0\n";
	struct prom_relay p;

	cr_assert_eq(prom_parse_relay(page, sizeof(page) - 1, &p), -EBADMSG,
		     "a space inside the braces is not the format");
	{
		static const char ok[] =
			"something_else_total{a=\"b\"} 99\n"
			"postern_relay_rx_packets_total{worker=\"0\",} 10\n"
			"postern_relay_rx_packets_total{worker=\"1\"} 5 1700000000000\n"
			"postern_relay_dropped_packets_total{reason=\"we\\\"ird\",worker=\"0\"} 2\n"
			"postern_relay_sessions 3.0";
		cr_assert_eq(prom_parse_relay(ok, sizeof(ok) - 1, &p), 0);
		cr_expect_eq(p.rx_packets, 15);
		cr_expect_eq(p.n_workers, 2);
		cr_expect_eq(p.sessions, 3);
		cr_expect_str_eq(p.reason[0], "we\"ird");
		cr_expect_eq(p.dropped_total, 2);
	}
}

Test(prom, malformed_and_foreign_pages)
{
	static const struct {
		const char *page;
		int ret;
	} cases[] = {
		{ "postern_relay_rx_packets_total\n", -EBADMSG },		/* no value */
		{ "postern_relay_rx_packets_total{worker=\"0\" 5\n", -EBADMSG },	/* no } */
		{ "postern_relay_rx_packets_total{worker=0} 5\n", -EBADMSG },	/* unquoted */
		{ "postern_relay_rx_packets_total abc\n", -EBADMSG },
		{ "postern_relay_rx_packets_total 5x\n", -EBADMSG },
		{ "# only comments\n", -ENOENT },
		{ "node_cpu_seconds_total{cpu=\"0\"} 5\n", -ENOENT },
		{ "", -ENOENT },
		{ "<html>Not found</html>\n", -ENOENT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prom_relay p;

		cr_expect_eq(prom_parse_relay(cases[i].page, strlen(cases[i].page), &p),
			     cases[i].ret, "case %zu: %s", i, cases[i].page);
	}
}

Test(scrape, urls)
{
	static const struct {
		const char *url;
		bool ok;
		const char *path, *hostport;
	} cases[] = {
		{ "http://127.0.0.1:9180/metrics", true, "/metrics", "127.0.0.1:9180" },
		{ "http://127.0.0.1:9180", true, "/metrics", "127.0.0.1:9180" },
		{ "http://127.0.0.1/m?x=1", true, "/m?x=1", "127.0.0.1" },
		{ "http://[::1]:9180/metrics", true, "/metrics", "[::1]:9180" },
		{ "http://[::1]/metrics", true, "/metrics", "[::1]" },
		{ "https://127.0.0.1:9180/metrics", false, NULL, NULL },
		{ "127.0.0.1:9180/metrics", false, NULL, NULL },
		{ "http://localhost:9180/metrics", false, NULL, NULL },
		{ "http://127.0.0.1:0/metrics", false, NULL, NULL },
		{ "http://127.0.0.1:70000/", false, NULL, NULL },
		{ "http:///metrics", false, NULL, NULL },
		{ "http://127.0.0.1:9180/a b", false, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scrape_url u;
		const char *why = NULL;
		int ret = scrape_url_parse(cases[i].url, &u, &why);

		cr_expect_eq(ret == 0, cases[i].ok, "%s", cases[i].url);
		if (ret) {
			cr_expect_eq(ret, -EINVAL);
			cr_expect(why && *why, "%s: no reason given", cases[i].url);
			continue;
		}
		cr_expect_str_eq(u.path, cases[i].path);
		cr_expect_str_eq(u.hostport, cases[i].hostport);
	}
}

/* Nothing listens on this port: the fetch fails fast with the connect error. */
Test(scrape, fetch_from_nowhere_fails)
{
	struct scrape_url u;
	const char *why;
	char *body = NULL;
	size_t len;

	cr_assert_eq(scrape_url_parse("http://127.0.0.1:1/metrics", &u, &why), 0);
	cr_expect_eq(scrape_fetch(&u, 2000, &body, &len), -ECONNREFUSED);
	cr_expect_null(body);
}

/* The kernel's UDP counters (bench/relaybench/snmp.h), from both files' real layouts. */
Test(snmp, parses_v4_and_v6_and_sums_them)
{
	static const char v4[] =
		"Ip: Forwarding DefaultTTL\n"
		"Ip: 1 64\n"
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors "
		"InCsumErrors IgnoredMulti MemErrors\n"
		"Udp: 1361367 658 5897 1371431 5897 3 0 0 0\n"
		"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n"
		"UdpLite: 9 9 9 9 9 9\n";
	static const char v6[] =
		"Ip6InReceives                   \t12\n"
		"Udp6InDatagrams                 \t100\n"
		"Udp6NoPorts                     \t1\n"
		"Udp6InErrors                    \t2\n"
		"Udp6OutDatagrams                \t101\n"
		"Udp6RcvbufErrors                \t2\n"
		"Udp6SndbufErrors                \t0\n"
		"UdpLite6InDatagrams             \t7\n";
	struct snmp_udp s, later, d;

	cr_assert_eq(snmp_udp_parse(v4, v6, &s), 0);
	cr_expect_eq(s.in_datagrams, 1361467);
	cr_expect_eq(s.out_datagrams, 1371532);
	cr_expect_eq(s.no_ports, 659);
	cr_expect_eq(s.in_errors, 5899);
	cr_expect_eq(s.rcvbuf_errors, 5899);
	cr_expect_eq(s.sndbuf_errors, 3);
	cr_assert_eq(snmp_udp_parse(v4, NULL, &later), 0);
	later.rcvbuf_errors += 10;
	snmp_udp_delta(&s, &later, &d);
	cr_expect_eq(d.rcvbuf_errors, 8);
	cr_expect_eq(d.in_datagrams, 0, "went backwards: 0, not a wrapped huge number");
}

Test(snmp, refuses_text_without_udp_counters)
{
	struct snmp_udp s;

	cr_expect_eq(snmp_udp_parse("Ip: Forwarding\nIp: 1\n", NULL, &s), -EBADMSG);
	cr_expect_eq(snmp_udp_parse("Udp: InDatagrams NoPorts\nUdp: 1 2\n", NULL, &s), -EBADMSG,
		     "missing counters");
	cr_expect_eq(snmp_udp_parse("Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors "
				    "SndbufErrors\nTcp: 1 2 3 4 5 6\n", NULL, &s), -EBADMSG);
}

Test(snmp, reads_this_namespace)
{
	struct snmp_udp s;

	cr_expect_eq(snmp_udp_read(&s), 0);
}
