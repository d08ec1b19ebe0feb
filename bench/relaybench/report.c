/*
 * report.c — progress line, table, JSON and warnings (report.h). The JSON
 * field names and meanings are a contract: docs/relaybench.md lists them,
 * and a change of meaning needs a new schema name.
 */
#include "bench/relaybench/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <jansson.h>

#include "bench/relaybench/html_method.h"
#include "endpoint/hop_client.h"
#include "wire/frame.h"

/* Hop bytes around the E2E bytes of one CHANNEL_DATA packet: DATA header, tag, frame header. */
enum { HOP_OVERHEAD = 16 + 16 + FRAME_DATA_OVERHEAD };

const char *const report_phase_names[] = {
	[WORKER_SETUP] = "setup",
	[WORKER_GATEWAYS] = "gateways",
	[WORKER_AGENTS] = "agents",
	[WORKER_TRAFFIC] = "traffic",
	[WORKER_CLOSE] = "close",
	[WORKER_ABORT] = "abort",
};

/* --- numbers --------------------------------------------------------------- */

static double per_s(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static double ratio(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t pkts_lost(const struct counters *c)
{
	return sub0(c->pkts_sent, c->pkts_echoed);
}

/* Hop-packet bits per second the relay received for the echoed traffic (both legs). */
static double gbps_relay(const struct counters *c, double s)
{
	return s > 0 ? 2.0 * (double)(c->bytes_echoed + HOP_OVERHEAD * c->pkts_echoed) * 8 / s / 1e9
		     : 0;
}

static double gbps_e2e(const struct counters *c, double s)
{
	return s > 0 ? (double)c->bytes_echoed * 8 / s / 1e9 : 0;
}

/* "812 us", "12.3 ms", "1.20 s": three significant digits or so. */
static const char *fmt_ns(uint64_t ns, char *buf, size_t cap)
{
	double v = (double)ns;

	if (v < 1e3)
		snprintf(buf, cap, "%.0f ns", v);
	else if (v < 1e6)
		snprintf(buf, cap, v < 1e4 ? "%.2f us" : v < 1e5 ? "%.1f us" : "%.0f us", v / 1e3);
	else if (v < 1e9)
		snprintf(buf, cap, v < 1e7 ? "%.2f ms" : v < 1e8 ? "%.1f ms" : "%.0f ms", v / 1e6);
	else
		snprintf(buf, cap, "%.2f s", v / 1e9);
	return buf;
}

/* "12.3k", "4.56M": for rates in the progress line. */
static const char *fmt_si(double v, char *buf, size_t cap)
{
	if (v >= 1e6)
		snprintf(buf, cap, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, cap, "%.1fk", v / 1e3);
	else
		snprintf(buf, cap, "%.0f", v);
	return buf;
}

static const char *transport_name(const struct opts *o)
{
	return o->transport == OPTS_TRANSPORT_DPDK ? "dpdk" : "udp";
}

static const char *close_name(unsigned r)
{
	return r <= FRAME_CLOSE_TIMEOUT ? frame_close_reason_name(r) : "other";
}

/* --- progress --------------------------------------------------------------- */

void report_progress(FILE *f, double elapsed_s, const char *phase, const struct counters *now,
		     const struct counters *prev, double dt, double cpu,
		     const struct run_result *r)
{
	char msgs[16], pkts[16], p99[24];

	fprintf(f, "relaybench: %7.1fs %-8s hs %" PRIu64 "/%" PRIu64 "  ch %" PRIu64 "/%" PRIu64
		"  msg/s %s  pkt/s %s  Gbit/s %.3f  p99 %s  lost %" PRIu64 "  cpu %.0f%%\n",
		elapsed_s, phase, now->hs_done, r->expected_handshakes, now->ch_opened,
		r->expected_channels,
		fmt_si(per_s(now->all_msgs_done - prev->all_msgs_done, dt), msgs, sizeof(msgs)),
		fmt_si(per_s(now->all_pkts_echoed - prev->all_pkts_echoed, dt), pkts, sizeof(pkts)),
		dt > 0 ? (double)(now->all_bytes_echoed - prev->all_bytes_echoed) * 8 / dt / 1e9
		       : 0,
		now->interval_p99_ns ? fmt_ns(now->interval_p99_ns, p99, sizeof(p99)) : "-",
		now->all_msgs_lost, cpu * 100);
	fflush(f);
}

/* --- warnings ---------------------------------------------------------------- */

static void warn(struct report_warnings *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct report_warnings *w, const char *fmt, ...)
{
	va_list ap;

	if (w->n == REPORT_WARNINGS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(w->line[w->n++], REPORT_WARNING_LEN, fmt, ap);
	va_end(ap);
}

static void warn_relay_drops(const struct opts *o, const struct run_result *r,
			     struct report_warnings *w)
{
	/* With agents the window is what the traffic figures describe; else the whole run. */
	const struct prom_relay *d = o->agents ? &r->relay_window : &r->relay_run;
	char list[160] = "";
	size_t n = 0;

	if (!r->relay || !d->dropped_total)
		return;
	for (unsigned i = 0; i < d->n_reasons && n < sizeof(list); i++)
		if (d->dropped[i])
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s %" PRIu64,
					      n ? ", " : "", d->reason[i], d->dropped[i]);
	warn(w, "the relay dropped %" PRIu64 " packets during the %s (%s)", d->dropped_total,
	     o->agents ? "window" : "run", list);
}

void report_warnings(const struct opts *o, const struct run_result *r, struct report_warnings *w)
{
	const struct worker_totals *t = &r->t;
	const struct counters *c = &t->c;
	char lag[24];

	memset(w, 0, sizeof(*w));
	for (unsigned i = 0; i < t->n_threads; i++) {
		if (t->tp.polling && t->busy[i] > RUN_SATURATED_CPU)
			warn(w, "GENERATOR SATURATED: fleet thread %u's poll loop was busy %.0f%% "
			     "of the window (measured by its idle polls: a polling thread always "
			     "uses 100%% of its CPU), so these figures are relaybench's limit, not "
			     "the relay's; add --threads (and CPUs to -l), lower the load, or run "
			     "relaybench on another machine", i, t->busy[i] * 100);
		else if (!t->tp.polling && t->cpu[i] > RUN_SATURATED_CPU)
			warn(w, "GENERATOR SATURATED: fleet thread %u used %.0f%% of a CPU (user "
			     "%.0f%%, sys %.0f%%) during the window, so these figures are "
			     "relaybench's limit, not the relay's; add --threads, lower the load, "
			     "or run relaybench on another machine", i, t->cpu[i] * 100,
			     t->cpu_user[i] * 100, t->cpu_sys[i] * 100);
	}
	if (r->behind)
		warn(w, "GENERATOR BEHIND: %" PRIu64 " messages sent of the %.0f the offered rate "
		     "asks for (%.0f%%), send lag p99 %s: the offered load was not applied",
		     c->msgs_sent, r->offered, 100 * (double)c->msgs_sent / r->offered,
		     fmt_ns(hdr_percentile(t->lag, 99), lag, sizeof(lag)));
	if (c->msgs_skipped)
		warn(w, "%" PRIu64 " open-loop arrivals found all --max-inflight %u message slots "
		     "of their channel busy and were not sent", c->msgs_skipped, o->max_inflight);
	if (r->signal)
		warn(w, "interrupted by %s: the run ended early and its figures are partial",
		     strsignal(r->signal));
	if (c->hs_done < r->expected_handshakes)
		warn(w, "only %" PRIu64 " of %" PRIu64 " endpoints completed a handshake%s",
		     c->hs_done, r->expected_handshakes,
		     r->setup_timed_out ? " within --setup-timeout" : "");
	if (c->ch_opened < r->expected_channels && c->hs_done == r->expected_handshakes)
		warn(w, "only %" PRIu64 " of %" PRIu64 " channels opened (%" PRIu64 " refused)",
		     c->ch_opened, r->expected_channels, c->ch_refused);
	if (t->hop_cookies)
		warn(w, "the relay answered %" PRIu64 " INITs with cookies (handshake load, "
		     "docs/protocol.md §5.2): those endpoints waited for a retransmission; "
		     "lower --handshake-rate or spread --bind addresses", t->hop_cookies);
	if ((c->tx_errors || c->echo_errors || t->tp.tx_errors) && t->tp.polling)
		warn(w, "relaybench's DPDK port refused or dropped %" PRIu64 " packets (TX queue "
		     "full, no mbuf, or the relay's MAC unresolved): counted as lost, the relay "
		     "never saw them", c->tx_errors + c->echo_errors + t->tp.tx_errors);
	else if (c->tx_errors || c->echo_errors || t->tp.tx_errors)
		warn(w, "relaybench's own sockets refused %" PRIu64 " packets (a full buffer, or "
		     "an ICMP error: nothing listening): counted as lost, the relay never saw them",
		     c->tx_errors + c->echo_errors + t->tp.tx_errors);
	if (c->pkts_corrupt)
		warn(w, "%" PRIu64 " echoes failed the payload check (wrong channel, size or "
		     "bytes)", c->pkts_corrupt);
	if (c->disconnects || c->goaways)
		warn(w, "%" PRIu64 " disconnects and %" PRIu64 " GOAWAYs during the run",
		     c->disconnects, c->goaways);
	if (r->kernel && (r->kernel_udp.rcvbuf_errors || r->kernel_udp.sndbuf_errors))
		warn(w, "the kernel dropped %" PRIu64 " UDP datagrams for a full receive buffer "
		     "and %" PRIu64 " for a full send buffer in relaybench's network namespace "
		     "during the %s (the relay's sockets count here too if it shares the "
		     "namespace; raise net.core.rmem_max or lower the load)",
		     r->kernel_udp.rcvbuf_errors, r->kernel_udp.sndbuf_errors,
		     o->agents ? "window" : "run");
	if (t->tp.handoff_drops)
		warn(w, "%" PRIu64 " frames for another fleet thread's flow (or neighbour answers "
		     "copied to it) found its handoff ring full and were dropped: that thread "
		     "could not keep up", t->tp.handoff_drops);
	if (t->tp.polling && t->tp.rx_errors)
		warn(w, "%" PRIu64 " hop packets reached the DPDK port for no open flow or not "
		     "from the relay (late echoes of an earlier run count here) and were dropped",
		     t->tp.rx_errors);
	if (r->dpdk && r->dpdk_info.in_use != r->dpdk_info.in_use_before)
		warn(w, "DPDK mbufs: %u in use after the run, %u before it: %s",
		     r->dpdk_info.in_use, r->dpdk_info.in_use_before,
		     r->dpdk_info.in_use > r->dpdk_info.in_use_before ? "a leak" : "freed twice?");
	warn_relay_drops(o, r, w);
	if (o->metrics && !r->relay)
		warn(w, "relay metrics incomplete: %s", r->relay_error);
}

/* --- table ------------------------------------------------------------------- */

static void latency_row(FILE *f, const char *name, const struct hdr *h)
{
	char a[24], b[24], c[24], d[24], e[24], m[24];

	if (!hdr_count(h)) {
		fprintf(f, "  %-18s %s\n", name, "-");
		return;
	}
	fprintf(f, "  %-18s %10s %10s %10s %10s %10s %10s\n", name,
		fmt_ns(hdr_percentile(h, 50), a, sizeof(a)),
		fmt_ns(hdr_percentile(h, 90), b, sizeof(b)),
		fmt_ns(hdr_percentile(h, 99), c, sizeof(c)),
		fmt_ns(hdr_percentile(h, 99.9), d, sizeof(d)),
		fmt_ns(hdr_max(h), e, sizeof(e)),
		fmt_ns((uint64_t)hdr_mean(h), m, sizeof(m)));
}

static void table_config(FILE *f, const struct opts *o, const struct run_result *r)
{
	fprintf(f, "relaybench run -> %s: %u gateways, %u agents x %u channels, model %s",
		o->relay, o->gateways, o->agents, o->channels, model_kind_name(o->model));
	if (o->model == MODEL_STREAM)
		fprintf(f, " (%u B)", o->size);
	if (o->open_loop)
		fprintf(f, ", open loop %.0f msg/s %s", o->rate, model_arrivals_name(o->arrivals));
	else
		fprintf(f, ", closed loop %u in flight per channel", o->inflight);
	fprintf(f, ", %u thread%s\n", o->threads, o->threads == 1 ? "" : "s");
	if (!o->agents) {
		fprintf(f, "  handshakes only, handshake rate %.0f/s\n\n", o->handshake_rate);
		return;
	}
	fprintf(f, "  warm-up %.1f s, window %.1f s, loss timeout %.0f ms, handshake rate "
		"%.0f/s\n\n",
		(double)o->warmup_ns / 1e9, r->window_s, (double)o->loss_timeout_ns / 1e6,
		o->handshake_rate);
}

static void table_setup(FILE *f, const struct run_result *r)
{
	const struct worker_totals *t = &r->t;
	const struct counters *c = &t->c;
	char a[24], b[24], d[24];

	fprintf(f, "handshakes   %" PRIu64 " of %" PRIu64 " in %.2f s (%.0f/s)   INITs %" PRIu64
		", retransmits %" PRIu64 ", cookies %" PRIu64 "\n", c->hs_done,
		r->expected_handshakes, r->handshake_s, per_s(c->hs_done, r->handshake_s),
		t->hop_inits, t->hop_retransmits, t->hop_cookies);
	if (hdr_count(t->hs_latency))
		fprintf(f, "             latency p50 %s  p99 %s  max %s\n",
			fmt_ns(hdr_percentile(t->hs_latency, 50), a, sizeof(a)),
			fmt_ns(hdr_percentile(t->hs_latency, 99), b, sizeof(b)),
			fmt_ns(hdr_max(t->hs_latency), d, sizeof(d)));
	if (!r->expected_channels)
		return;
	fprintf(f, "channels     %" PRIu64 " of %" PRIu64 " opened, %" PRIu64 " refused",
		c->ch_opened, r->expected_channels, c->ch_refused);
	for (unsigned i = 0; i < WORKER_CLOSE_REASONS; i++)
		if (t->refused_by[i])
			fprintf(f, " %s %" PRIu64, close_name(i), t->refused_by[i]);
	if (hdr_count(t->open_latency))
		fprintf(f, "   open latency p50 %s  p99 %s",
			fmt_ns(hdr_percentile(t->open_latency, 50), a, sizeof(a)),
			fmt_ns(hdr_percentile(t->open_latency, 99), b, sizeof(b)));
	fputc('\n', f);
}

static void table_traffic(FILE *f, const struct opts *o, const struct run_result *r)
{
	const struct worker_totals *t = &r->t;
	const struct counters *c = &t->c;
	double s = r->window_s;

	fprintf(f, "\ntraffic in the window   %12s %12s %10s %8s %10s %10s\n", "sent", "echoed",
		"lost", "late", "reordered", "duplicate");
	fprintf(f, "  messages              %12" PRIu64 " %12" PRIu64 " %10" PRIu64 "\n",
		c->msgs_sent, c->msgs_done, c->msgs_lost);
	fprintf(f, "  packets               %12" PRIu64 " %12" PRIu64 " %10" PRIu64 " %8" PRIu64
		" %10" PRIu64 " %10" PRIu64 "\n", c->pkts_sent, c->pkts_echoed, pkts_lost(c),
		c->pkts_late, c->pkts_reordered, c->pkts_duplicate);
	fprintf(f, "  loss                  %.4f%% of packets, %.4f%% of messages\n",
		100 * ratio(pkts_lost(c), c->pkts_sent), 100 * ratio(c->msgs_lost, c->msgs_sent));
	fprintf(f, "  rate                  %.1f msg/s, %.1f round trips/s (relay: %.1f pkt/s in, "
		"as many out)\n", per_s(c->msgs_done, s), per_s(c->pkts_echoed, s),
		2 * per_s(c->pkts_echoed, s));
	fprintf(f, "  throughput            %.3f Gbit/s E2E each way, %.3f Gbit/s of hop packets "
		"into the relay\n", gbps_e2e(c, s), gbps_relay(c, s));
	fprintf(f, "\nlatency                 %10s %10s %10s %10s %10s %10s\n", "p50", "p90", "p99",
		"p99.9", "max", "mean");
	latency_row(f, "packet round trip", t->rtt);
	latency_row(f, "message", t->msg_latency);
	if (o->open_loop)
		latency_row(f, "send lag", t->lag);
}

static void table_relay(FILE *f, const struct opts *o, const struct run_result *r)
{
	const struct prom_relay *w = &r->relay_window, *u = &r->relay_run;

	fprintf(f, "\nrelay (/metrics)");
	if (o->agents)
		fprintf(f, "  window: %.0f busy cycles/packet over %u workers, rx %" PRIu64 ", tx %"
			PRIu64 ", forwarded %" PRIu64 ", dropped %" PRIu64 "\n                 ",
			prom_cycles_per_packet(w), w->n_workers, w->rx_packets, w->tx_packets,
			w->forwarded, w->dropped_total);
	fprintf(f, " run: %.0f busy cycles/packet, handshakes %" PRIu64 ", cookies %" PRIu64
		", dropped %" PRIu64 "; now %" PRIu64 " sessions, %" PRIu64 " channels\n",
		prom_cycles_per_packet(u), u->handshakes, u->cookies_sent, u->dropped_total,
		u->sessions, u->channels);
}

static void table_dpdk(FILE *f, const struct run_result *r)
{
	const struct transport_dpdk_info *d = &r->dpdk_info;
	const struct transport_stats *tp = &r->t.tp;

	fprintf(f, "dpdk port         %s (%s) %s, %u queue pair%s: frames rx %" PRIu64 " tx %"
		PRIu64 ", waited %" PRIu64 ", unsent %" PRIu64 "; handoffs %" PRIu64
		", ring drops %" PRIu64 "; ARP in %" PRIu64 " out %" PRIu64 ", ND in %" PRIu64
		" out %" PRIu64 "\n",
		d->port, d->driver, d->mac, d->queues, d->queues == 1 ? "" : "s", d->rx_frames,
		d->tx_frames, d->tx_waited, d->tx_unsent, tp->handoffs_out, tp->handoff_drops,
		d->arp_requests_in + d->arp_replies_in, d->arp_requests_out + d->arp_replies_out,
		d->nd_solicits_in + d->nd_adverts_in, d->nd_solicits_out + d->nd_adverts_out);
	fprintf(f, "                  mbufs in use %u before the run, %u after (pool %u)\n",
		d->in_use_before, d->in_use, d->pool_size);
}

void report_table(FILE *f, const struct opts *o, const struct run_result *r,
		  const struct report_warnings *w)
{
	const struct worker_totals *t = &r->t;

	table_config(f, o, r);
	table_setup(f, r);
	if (o->agents)
		table_traffic(f, o, r);
	if (r->relay)
		table_relay(f, o, r);
	fprintf(f, "\ngenerator         %u thread%s, CPU", t->n_threads,
		t->n_threads == 1 ? "" : "s");
	for (unsigned i = 0; i < t->n_threads; i++)
		fprintf(f, "%s %.0f%%", i ? "," : "", t->cpu[i] * 100);
	fprintf(f, " of one core each %s", o->agents ? "in the window" : "during the handshakes");
	if (t->tp.polling) {
		fprintf(f, "; poll loop busy");
		for (unsigned i = 0; i < t->n_threads; i++)
			fprintf(f, "%s %.0f%%", i ? "," : "", t->busy[i] * 100);
		fprintf(f, " (the saturation measure)");
	}
	fprintf(f, "; %s tx %" PRIu64 ", rx %" PRIu64 ", tx errors %" PRIu64 "\n",
		transport_name(o), t->tp.tx_packets, t->tp.rx_packets, t->tp.tx_errors);
	if (r->dpdk)
		table_dpdk(f, r);
	if (r->kernel)
		fprintf(f, "kernel UDP        %s: receive buffer drops %" PRIu64
			", send buffer drops %" PRIu64 " (this network namespace)\n",
			o->agents ? "window" : "run", r->kernel_udp.rcvbuf_errors,
			r->kernel_udp.sndbuf_errors);
	for (unsigned i = 0; i < w->n; i++)
		fprintf(f, "%s%s\n", i ? "" : "\n", w->line[i]);
}

/* --- JSON ----------------------------------------------------------------------- */

static json_t *num(double v)
{
	return json_real(v);
}

static json_t *count(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *us(uint64_t ns)
{
	return json_real((double)(ns / 10) / 100.0);	/* µs with 2 decimals */
}

static json_t *latency(const struct hdr *h)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "count", count(hdr_count(h)), "min", us(hdr_min(h)),
			 "p50", us(hdr_percentile(h, 50)), "p90", us(hdr_percentile(h, 90)),
			 "p99", us(hdr_percentile(h, 99)), "p99_9", us(hdr_percentile(h, 99.9)),
			 "max", us(hdr_max(h)), "mean", us((uint64_t)hdr_mean(h)));
}

/*
 * The distribution of @h as [µs, fraction] pairs for the report's CDF plot:
 * every percent, then ever closer to the tail (1 - 10^(-k/20): 99 % to
 * 99.999 %), then the maximum.
 */
static json_t *cdf(const struct hdr *h)
{
	json_t *a = json_array();

	if (!a || !hdr_count(h))
		return a;
	for (unsigned i = 0; i < 99; i++)
		json_array_append_new(a, json_pack("[o, f]", us(hdr_percentile(h, i)), i / 100.0));
	for (unsigned k = 40; k <= 100; k++) {
		double p = 1 - pow(10, -(double)k / 20);

		json_array_append_new(a, json_pack("[o, f]", us(hdr_percentile(h, 100 * p)), p));
	}
	json_array_append_new(a, json_pack("[o, f]", us(hdr_max(h)), 1.0));
	return a;
}

static json_t *j_config(const struct opts *o, const struct run_result *r)
{
	return json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:s, s:o, s:s, s:o, s:o, s:o, s:o,"
			 " s:f, s:f, s:f, s:i, s:f, s:s, s:s, s:i, s:I}",
			 "relay", o->relay, "transport", transport_name(o),
			 "gateways", (int)o->gateways, "agents", (int)o->agents,
			 "channels", (int)o->channels, "threads", (int)o->threads,
			 "model", model_kind_name(o->model),
			 "size", o->model == MODEL_STREAM ? count(o->size) : json_null(),
			 "loop", o->open_loop ? "open" : "closed",
			 "inflight", o->open_loop ? json_null() : count(o->inflight),
			 "rate", o->open_loop ? num(o->rate) : json_null(),
			 "arrivals", o->open_loop ? json_string(model_arrivals_name(o->arrivals))
						  : json_null(),
			 "max_inflight", o->open_loop ? count(o->max_inflight) : json_null(),
			 "warmup_s", (double)o->warmup_ns / 1e9, "duration_s", r->window_s,
			 "setup_timeout_s", (double)o->setup_timeout_ns / 1e9,
			 "loss_timeout_ms", (int)(o->loss_timeout_ns / 1000000),
			 "handshake_rate", o->handshake_rate,
			 "suite", o->suite == SUITE_AESGCM_SHA256 ? "aes" : "chacha",
			 "tenant", o->tenant, "instance", (int)o->instance,
			 "seed", (json_int_t)o->seed);
}

static json_t *j_handshakes(const struct run_result *r)
{
	const struct worker_totals *t = &r->t;

	return json_pack("{s:o, s:o, s:o, s:o, s:f, s:f, s:o, s:o, s:o, s:o, s:b, s:o}",
			 "expected", count(r->expected_handshakes),
			 "completed", count(t->c.hs_done),
			 "gateways", count(t->c.gw_up), "agents", count(t->c.ag_up),
			 "elapsed_s", r->handshake_s, "per_s", per_s(t->c.hs_done, r->handshake_s),
			 "inits", count(t->hop_inits), "retransmits", count(t->hop_retransmits),
			 "cookies", count(t->hop_cookies), "give_ups", count(t->hop_give_ups),
			 "setup_timed_out", r->setup_timed_out,
			 "latency_us", latency(t->hs_latency));
}

static json_t *j_channels(const struct run_result *r)
{
	const struct worker_totals *t = &r->t;
	json_t *by = json_object();

	for (unsigned i = 0; i < WORKER_CLOSE_REASONS; i++)
		if (t->refused_by[i])
			json_object_set_new(by, close_name(i), count(t->refused_by[i]));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
			 "expected", count(r->expected_channels), "opened", count(t->c.ch_opened),
			 "refused", count(t->c.ch_refused), "refused_by", by,
			 "closed_by_relay", count(t->c.ch_closed),
			 "open_latency_us", latency(t->open_latency));
}

static json_t *j_traffic(const struct opts *o, const struct run_result *r, json_t *j)
{
	const struct worker_totals *t = &r->t;
	const struct counters *c = &t->c;
	double s = r->window_s;

	json_object_set_new(j, "messages", json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:f, s:f, s:o}",
		"sent", count(c->msgs_sent), "completed", count(c->msgs_done),
		"lost", count(c->msgs_lost), "skipped", count(c->msgs_skipped),
		"unresolved", count(sub0(c->msgs_sent, c->msgs_done + c->msgs_lost)),
		"per_s", per_s(c->msgs_done, s), "loss_ratio", ratio(c->msgs_lost, c->msgs_sent),
		"latency_us", latency(t->msg_latency)));
	json_object_set_new(j, "packets", json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:o}",
		"sent", count(c->pkts_sent), "echoed", count(c->pkts_echoed),
		"lost", count(pkts_lost(c)), "late", count(c->pkts_late),
		"reordered", count(c->pkts_reordered), "duplicate", count(c->pkts_duplicate),
		"corrupt", count(c->pkts_corrupt),
		"tx_errors", count(c->tx_errors + c->echo_errors + t->tp.tx_errors),
		"not_connected", count(c->not_connected),
		"loss_ratio", ratio(pkts_lost(c), c->pkts_sent), "rtt_us", latency(t->rtt)));
	json_object_set_new(j, "throughput", json_pack(
		"{s:f, s:f, s:f, s:f, s:o, s:o}",
		"round_trips_per_s", per_s(c->pkts_echoed, s),
		"relay_pps", 2 * per_s(c->pkts_echoed, s),
		"gbps_e2e", gbps_e2e(c, s), "gbps_relay", gbps_relay(c, s),
		"bytes_sent", count(c->bytes_sent), "bytes_echoed", count(c->bytes_echoed)));
	if (!o->open_loop) {
		json_object_set_new(j, "open_loop", json_null());
		return j;
	}
	json_object_set_new(j, "open_loop", json_pack(
		"{s:f, s:f, s:f, s:b, s:o, s:o}",
		"offered_rate", o->rate, "offered", r->offered,
		"achieved_rate", per_s(c->msgs_sent, s), "behind", r->behind,
		"skipped", count(c->msgs_skipped), "send_lag_us", latency(t->lag)));
	return j;
}

static json_t *j_relay_counters(const struct prom_relay *d)
{
	json_t *drops = json_object(), *cpp = json_array();

	for (unsigned i = 0; i < d->n_reasons; i++)
		json_object_set_new(drops, d->reason[i], count(d->dropped[i]));
	for (unsigned w = 0; w < d->n_workers; w++)
		json_array_append_new(cpp, num(d->worker_busy_packets[w] ?
			(double)d->worker_busy_cycles[w] / (double)d->worker_busy_packets[w] : 0));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:o,"
			 " s:o, s:o, s:o}",
			 "rx_packets", count(d->rx_packets), "tx_packets", count(d->tx_packets),
			 "rx_bytes", count(d->rx_bytes), "tx_bytes", count(d->tx_bytes),
			 "forwarded", count(d->forwarded), "handled", count(d->handled),
			 "dropped", count(d->dropped_total), "drops", drops,
			 "handshakes", count(d->handshakes), "cookies_sent", count(d->cookies_sent),
			 "busy_cycles", count(d->busy_cycles),
			 "busy_packets", count(d->busy_packets),
			 "cycles_per_packet", prom_cycles_per_packet(d),
			 "cycles_per_packet_by_worker", cpp,
			 "workers", count(d->n_workers), "sessions", count(d->sessions),
			 "channels", count(d->channels));
}

static json_t *j_relay(const struct opts *o, const struct run_result *r)
{
	if (!o->metrics)
		return json_null();
	return json_pack("{s:s, s:o, s:o, s:o}", "url", o->metrics,
			 "window", r->relay && o->agents ? j_relay_counters(&r->relay_window)
							 : json_null(),
			 "run", r->relay ? j_relay_counters(&r->relay_run) : json_null(),
			 "error", r->relay_error[0] ? json_string(r->relay_error) : json_null());
}

static json_t *j_kernel(const struct run_result *r)
{
	const struct snmp_udp *k = &r->kernel_udp;

	if (!r->kernel)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
			 "in_datagrams", count(k->in_datagrams),
			 "out_datagrams", count(k->out_datagrams),
			 "no_ports", count(k->no_ports), "in_errors", count(k->in_errors),
			 "rcvbuf_errors", count(k->rcvbuf_errors),
			 "sndbuf_errors", count(k->sndbuf_errors));
}

/* --transport dpdk: the port over the run; null otherwise. */
static json_t *j_dpdk(const struct run_result *r)
{
	const struct transport_dpdk_info *d = &r->dpdk_info;
	const struct transport_stats *tp = &r->t.tp;

	if (!r->dpdk)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:o, s:{s:o, s:o, s:o, s:b},"
			 " s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:{s:o, s:o, s:o, s:o},"
			 " s:{s:o, s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o, s:o, s:o, s:o}, s:o}",
			 "port", d->port, "driver", d->driver, "mac", d->mac,
			 "file_prefix", d->file_prefix, "queues", (int)d->queues,
			 "link_up", d->link_up, "link_speed_mbps", count(d->link_speed),
			 "mbufs", "pool", count(d->pool_size),
			 "in_use_before", count(d->in_use_before),
			 "in_use_after", count(d->in_use),
			 "all_back", d->in_use == d->in_use_before,
			 "frames", "rx", count(d->rx_frames), "rx_hop", count(d->rx_hop),
			 "rx_handled", count(d->rx_handled), "rx_dropped", count(d->rx_dropped),
			 "tx", count(d->tx_frames), "tx_dropped", count(d->tx_dropped),
			 "arp", "requests_in", count(d->arp_requests_in),
			 "replies_out", count(d->arp_replies_out),
			 "requests_out", count(d->arp_requests_out),
			 "replies_in", count(d->arp_replies_in),
			 "handoffs", "out", count(tp->handoffs_out), "in", count(tp->handoffs_in),
			 "ring_drops", count(tp->handoff_drops),
			 "polls", "busy", count(tp->polls_busy), "idle", count(tp->polls_idle),
			 "device", "tx_unsent", count(d->tx_unsent), "tx_waited",
			 count(d->tx_waited), "imissed", count(d->imissed),
			 "ierrors", count(d->ierrors), "rx_nombuf", count(d->rx_nombuf),
			 "neighbour", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
						"nd_solicits_in", count(d->nd_solicits_in),
						"nd_adverts_out", count(d->nd_adverts_out),
						"nd_solicits_out", count(d->nd_solicits_out),
						"nd_adverts_in", count(d->nd_adverts_in),
						"copies", count(d->neigh_copies),
						"stale_frames", count(d->stale)));
}

static json_t *j_generator(const struct opts *o, const struct run_result *r)
{
	const struct worker_totals *t = &r->t;
	json_t *cpu = json_array(), *user = json_array(), *sys = json_array();
	json_t *busy = t->tp.polling ? json_array() : json_null();
	json_t *drops = json_object();

	for (unsigned i = 0; i < t->n_threads; i++) {
		json_array_append_new(cpu, num(t->cpu[i]));
		json_array_append_new(user, num(t->cpu_user[i]));
		json_array_append_new(sys, num(t->cpu_sys[i]));
		if (t->tp.polling)
			json_array_append_new(busy, num(t->busy[i]));
	}
	for (unsigned i = 0; i < HOP_CLIENT_DROP_MAX; i++)
		json_object_set_new(drops, hop_client_drop_name(i), count(t->hop_drops[i]));
	return json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:s, s:f, s:b, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o, s:o, s:o}",
			 "transport", transport_name(o), "threads", (int)t->n_threads,
			 "cpu", cpu, "cpu_user", user, "cpu_sys", sys, "busy", busy,
			 "saturation_measure", t->tp.polling ? "poll_busy" : "cpu",
			 "cpu_max", r->cpu_max, "saturated", r->saturated,
			 "tx_packets", count(t->tp.tx_packets),
			 "rx_packets", count(t->tp.rx_packets),
			 "tx_errors", count(t->tp.tx_errors), "rx_errors", count(t->tp.rx_errors),
			 "keepalives", count(t->hop_keepalives),
			 "echoed_by_gateways", count(t->c.echoed_by_gw), "hop_drops", drops,
			 "kernel_udp", j_kernel(r), "dpdk", j_dpdk(r));
}

int report_json(FILE *f, const struct opts *o, const struct run_result *r,
		const struct report_warnings *w)
{
	json_t *j = json_object(), *warnings = json_array();
	int ret;

	if (!j || !warnings)
		return -ENOMEM;
	for (unsigned i = 0; i < w->n; i++)
		json_array_append_new(warnings, json_string(w->line[i]));
	json_object_set_new(j, "schema", json_string(REPORT_SCHEMA));
	json_object_set_new(j, "config", j_config(o, r));
	json_object_set_new(j, "interrupted", r->signal ? json_string(strsignal(r->signal))
							: json_null());
	json_object_set_new(j, "handshakes", j_handshakes(r));
	json_object_set_new(j, "channels", j_channels(r));
	json_object_set_new(j, "setup_s", num(r->setup_s));
	json_object_set_new(j, "window_s", num(r->window_s));
	j_traffic(o, r, j);
	json_object_set_new(j, "relay", j_relay(o, r));
	json_object_set_new(j, "generator", j_generator(o, r));
	json_object_set_new(j, "warnings", warnings);
	json_object_set_new(j, "latency_cdf", json_pack("{s:o, s:o}",
		"rtt_us", cdf(r->t.rtt), "message_us", cdf(r->t.msg_latency)));
	json_object_set_new(j, "method", html_method_json(o->argc, o->argv));
	ret = json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(j);
	return ret ? -EIO : 0;
}
