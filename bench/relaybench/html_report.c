/*
 * html_report.c — the HTML report of a run or a sweep (html_report.h).
 *
 * Everything here reads the JSON document, never relaybench's structures,
 * so that a saved document renders exactly as the live result did. Field
 * names and meanings are those of docs/relaybench.md.
 */
#include "bench/relaybench/html_report.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/relaybench/html.h"
#include "bench/relaybench/html_method.h"
#include "bench/relaybench/svg.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

enum { CDF_MAX = 1024, STEPS_MAX = 64 };

#define BLUE "#1f77b4"
#define ORANGE "#ff7f0e"
#define GREEN "#2ca02c"
#define RED "#d62728"
#define GRAY "#7f7f7f"
#define PURPLE "#9467bd"

/*
 * No script, no fetch: the page is read as it is, wherever it is opened
 * (CSP Level 3 §6.1: default-src 'none' blocks every load and every script).
 */
static const char head_css[] =
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"style-src 'unsafe-inline'\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<style>\n"
	"body{font-family:sans-serif;margin:2em auto;max-width:62em;padding:0 1em;color:#222}\n"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\n"
	"figure{margin:1.5em 0}svg.plot{max-width:100%;height:auto;border:1px solid #ddd}\n"
	"figcaption{font-size:.9em;color:#555;margin-top:.4em;max-width:50em}\n"
	"table{border-collapse:collapse;font-size:.9em;margin:.5em 0}\n"
	"th,td{padding:.25em .7em;border-bottom:1px solid #e5e5e5;text-align:left}\n"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"tr.miss td{color:#b00}tr.knee td{font-weight:bold;background:#f2f7fc}\n"
	"table.steps{font-size:.8em}\n"
	"ul.warnings li{color:#a04000}code{word-break:break-all}\n"
	"dl.method dt{font-weight:bold;margin-top:.6em}dl.method dd{margin-left:1.5em}\n"
	"pre{font-size:.8em;background:#f7f7f7;padding:1em;overflow:auto;max-height:30em}\n"
	"</style>\n";

/* --- reading the document ------------------------------------------------------ */

/* The value at @path ("a.b.c") under @doc, or NULL. */
static const json_t *at(const json_t *doc, const char *path)
{
	char key[64];
	const char *dot;

	while (doc && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		doc = json_object_get(doc, key);
		path = dot + 1;
	}
	return doc ? json_object_get(doc, path) : NULL;
}

static double num(const json_t *doc, const char *path)
{
	const json_t *v = at(doc, path);

	return v && json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *doc, const char *path)
{
	return json_string_value(at(doc, path));
}

/* @s, or a dash for a field the document lacks. */
static const char *or_dash(const char *s)
{
	return s ? s : "–";
}

static bool truth(const json_t *doc, const char *path)
{
	return json_is_true(at(doc, path));
}

/* Whether the generator's load at @path is a polling thread's busy share, not CPU time. */
static bool poll_busy(const json_t *doc, const char *path)
{
	const char *m = str(doc, path);

	return m && !strcmp(m, "poll_busy");
}

/* --- page frame --------------------------------------------------------------------- */

static void page_begin(FILE *f, const char *kind, const json_t *doc)
{
	const char *relay = str(doc, "config.relay");

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
	fputs(head_css, f);
	fputs("<meta name=\"generator\" content=\"relaybench " POSTERN_VERSION "\">\n<title>", f);
	html_escapef(f, "relaybench %s: %s", kind, relay ? relay : "unknown relay");
	fputs("</title>\n</head>\n<body>\n<h1>", f);
	html_escapef(f, "relaybench %s against %s", kind, relay ? relay : "an unknown relay");
	fputs("</h1>\n", f);
}

static void warnings(FILE *f, const json_t *doc)
{
	const json_t *w = at(doc, "warnings");
	size_t i;

	if (!json_array_size(w))
		return;
	fputs("<h2>Warnings</h2>\n<ul class=\"warnings\">\n", f);
	for (i = 0; i < json_array_size(w); i++) {
		fputs("<li>", f);
		html_escape(f, json_string_value(json_array_get(w, i)));
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

static void method(FILE *f, const json_t *doc, const char *source)
{
	const json_t *m = at(doc, "method");
	char now[32], *text;

	fputs("<h2>Method</h2>\n<dl class=\"method\">\n", f);
	if (json_is_object(m)) {
		fputs("<dt>Command</dt><dd><code class=\"command\">", f);
		html_escape(f, str(m, "command"));
		fputs("</code></dd>\n<dt>Measured</dt><dd class=\"date\">", f);
		html_escape(f, str(m, "date"));
		fputs(" (UTC, when the result was written)</dd>\n<dt>Versions</dt>"
		      "<dd class=\"versions\">", f);
		html_escapef(f, "relaybench %s; OpenSSL: %s; jansson %s; kernel %s; %.0f CPUs",
			     or_dash(str(m, "versions.relaybench")),
			     or_dash(str(m, "versions.openssl")),
			     or_dash(str(m, "versions.jansson")),
			     or_dash(str(m, "versions.kernel")), num(m, "cpus"));
		fputs("</dd>\n", f);
	} else {
		fputs("<dt>Command, date, versions</dt>"
		      "<dd>not recorded in this document</dd>\n", f);
	}
	html_method_date(now, sizeof(now));
	fputs("<dt>Report</dt><dd>", f);
	html_escapef(f, "rendered by relaybench %s on %s from %s", POSTERN_VERSION, now,
		     source ? source : "a document");
	fputs("</dd>\n<dt>How it is measured</dt><dd>Emulated gateways and agents with real "
	      "hop handshakes and encryption; the gateways echo every chunk, and the agents time "
	      "each round trip. Latency percentiles come from a log-linear histogram (never "
	      "below the true value, at most 0.8&nbsp;% above). Loss: an echo that is not back "
	      "within the loss timeout. Every field is defined in docs/relaybench.md.</dd>\n"
	      "</dl>\n", f);
	text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (text) {
		fputs("<details><summary>The document this report was rendered from</summary>"
		      "<pre class=\"document\">", f);
		html_escape(f, text);
		fputs("</pre></details>\n", f);
		free(text);
	}
}

static void row_num(FILE *f, const char *name, double v, int decimals, const char *unit)
{
	fputs("<tr><th>", f);
	html_escape(f, name);
	fputs("</th>", f);
	html_cell_num(f, v, decimals);
	fputs("<td>", f);
	html_escape(f, unit);
	fputs("</td></tr>\n", f);
}

/* --- run ----------------------------------------------------------------------------- */

/* Points of a CDF from "latency_cdf" ([[µs, fraction], ...]), or from the percentiles. */
static unsigned cdf_points(const json_t *doc, const char *cdf_path, const char *lat_path,
			   double *x, double *y)
{
	static const struct {
		const char *key;
		double p;
	} pct[] = { { "min", 0 }, { "p50", .5 }, { "p90", .9 }, { "p99", .99 },
		    { "p99_9", .999 }, { "max", 1 } };
	const json_t *a = at(doc, cdf_path), *lat = at(doc, lat_path);
	unsigned n = 0;

	for (size_t i = 0; i < json_array_size(a) && n < CDF_MAX; i++) {
		const json_t *pt = json_array_get(a, i);

		if (json_array_size(pt) != 2 || !json_is_number(json_array_get(pt, 0)) ||
		    !json_is_number(json_array_get(pt, 1)))
			continue;
		x[n] = json_number_value(json_array_get(pt, 0));
		y[n++] = json_number_value(json_array_get(pt, 1));
	}
	if (n || !(num(lat, "count") > 0))
		return n;
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		x[n] = num(lat, pct[i].key);
		y[n++] = pct[i].p;
	}
	return n;
}

static void run_cdf(FILE *f, const json_t *doc)
{
	static double rx[CDF_MAX], ry[CDF_MAX], mx[CDF_MAX], my[CDF_MAX];
	struct svg_plot p = {
		.id = "latency-cdf",
		.title = "Latency CDF",
		.x = { .label = "latency (log scale)", .scale = SVG_LOG, .unit = SVG_UNIT_US,
		       .min = NAN, .max = NAN },
		.y = { .label = "fraction at or below", .scale = SVG_LINEAR,
		       .unit = SVG_UNIT_FRACTION, .min = 0, .max = 1 },
		.n_series = 2,
		.n_hlines = 2,
	};

	p.series[0] = (struct svg_series){
		.name = "packet round trip", .color = GREEN, .x = rx, .y = ry,
		.n = cdf_points(doc, "latency_cdf.rtt_us", "packets.rtt_us", rx, ry),
	};
	p.series[1] = (struct svg_series){
		.name = "message", .color = BLUE, .x = mx, .y = my,
		.n = cdf_points(doc, "latency_cdf.message_us", "messages.latency_us", mx, my),
	};
	p.hline[0] = (struct svg_hline){ .y = 0.5, .label = "p50", .cls = "guide", .color = GRAY };
	p.hline[1] = (struct svg_hline){ .y = 0.99, .label = "p99", .cls = "guide", .color = GRAY };
	fputs("<figure id=\"figure-cdf\">\n", f);
	svg_plot_write(f, &p);
	fputs("<figcaption>The fraction of packet round trips and of messages (first chunk sent "
	      "to last chunk echoed) of the measured window that completed within each "
	      "latency; the time axis is logarithmic. Lost packets and messages are not in "
	      "it.</figcaption>\n</figure>\n", f);
}

static void latency_row(FILE *f, const char *name, const json_t *lat)
{
	static const char *const keys[] = { "min", "p50", "p90", "p99", "p99_9", "max", "mean" };

	fputs("<tr><th>", f);
	html_escape(f, name);
	fputs("</th>", f);
	html_cell_num(f, num(lat, "count"), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		html_cell_num(f, num(lat, keys[i]), 1);
	fputs("</tr>\n", f);
}

static void run_latency_table(FILE *f, const json_t *doc)
{
	fputs("<table class=\"latency\">\n<caption>Latency, µs</caption>\n<tr><th></th>"
	      "<th class=\"num\">count</th><th class=\"num\">min</th><th class=\"num\">p50</th>"
	      "<th class=\"num\">p90</th><th class=\"num\">p99</th><th class=\"num\">p99.9</th>"
	      "<th class=\"num\">max</th><th class=\"num\">mean</th></tr>\n", f);
	latency_row(f, "packet round trip", at(doc, "packets.rtt_us"));
	latency_row(f, "message", at(doc, "messages.latency_us"));
	if (json_is_object(at(doc, "open_loop")))
		latency_row(f, "send lag (open loop)", at(doc, "open_loop.send_lag_us"));
	latency_row(f, "handshake", at(doc, "handshakes.latency_us"));
	latency_row(f, "channel open", at(doc, "channels.open_latency_us"));
	fputs("</table>\n", f);
}

static void run_traffic_table(FILE *f, const json_t *doc)
{
	fputs("<h2>Traffic</h2>\n<table class=\"traffic\">\n", f);
	row_num(f, "handshakes completed", num(doc, "handshakes.completed"), 0, NULL);
	row_num(f, "handshakes expected", num(doc, "handshakes.expected"), 0, NULL);
	row_num(f, "handshake rate", num(doc, "handshakes.per_s"), 1, "per second");
	row_num(f, "cookies", num(doc, "handshakes.cookies"), 0, NULL);
	row_num(f, "channels opened", num(doc, "channels.opened"), 0, NULL);
	row_num(f, "channels refused", num(doc, "channels.refused"), 0, NULL);
	row_num(f, "window", num(doc, "window_s"), 2, "s");
	row_num(f, "messages sent", num(doc, "messages.sent"), 0, NULL);
	row_num(f, "messages completed", num(doc, "messages.completed"), 0, NULL);
	row_num(f, "messages lost", num(doc, "messages.lost"), 0, NULL);
	row_num(f, "messages per second", num(doc, "messages.per_s"), 1, "completed");
	row_num(f, "packets sent", num(doc, "packets.sent"), 0, NULL);
	row_num(f, "packets echoed", num(doc, "packets.echoed"), 0, NULL);
	row_num(f, "packets lost", num(doc, "packets.lost"), 0, NULL);
	row_num(f, "packet loss", 100 * num(doc, "packets.loss_ratio"), 4, "%");
	row_num(f, "packets reordered", num(doc, "packets.reordered"), 0, NULL);
	row_num(f, "round trips per second", num(doc, "throughput.round_trips_per_s"), 1, NULL);
	row_num(f, "relay packets per second", num(doc, "throughput.relay_pps"), 1,
		"in (as many out)");
	row_num(f, "E2E throughput", num(doc, "throughput.gbps_e2e"), 4, "Gbit/s each way");
	row_num(f, "hop packets into the relay", num(doc, "throughput.gbps_relay"), 4, "Gbit/s");
	if (json_is_object(at(doc, "open_loop"))) {
		row_num(f, "offered rate", num(doc, "open_loop.offered_rate"), 1, "msg/s");
		row_num(f, "achieved rate", num(doc, "open_loop.achieved_rate"), 1, "msg/s");
	}
	fputs("</table>\n", f);
}

static void run_relay_table(FILE *f, const json_t *doc)
{
	const json_t *w = at(doc, "relay.window"), *drops = at(w, "drops");
	const char *reason;
	const json_t *v;

	if (!json_is_object(w))
		return;
	fputs("<h2>Relay (its /metrics over the window)</h2>\n<table class=\"relay\">\n", f);
	row_num(f, "workers", num(w, "workers"), 0, NULL);
	row_num(f, "busy cycles per packet", num(w, "cycles_per_packet"), 0, NULL);
	row_num(f, "packets received", num(w, "rx_packets"), 0, NULL);
	row_num(f, "packets sent", num(w, "tx_packets"), 0, NULL);
	row_num(f, "forwarded", num(w, "forwarded"), 0, NULL);
	row_num(f, "dropped", num(w, "dropped"), 0, NULL);
	json_object_foreach((json_t *)drops, reason, v)
		if (json_is_number(v) && json_number_value(v) > 0) {
			char name[96];

			snprintf(name, sizeof(name), "dropped: %s", reason);
			row_num(f, name, json_number_value(v), 0, NULL);
		}
	row_num(f, "sessions (end)", num(w, "sessions"), 0, NULL);
	row_num(f, "channels (end)", num(w, "channels"), 0, NULL);
	fputs("</table>\n", f);
}

/* A latency in µs as a reader takes it in: "812 µs", "21.6 ms", "1.20 s"; "–" if missing. */
static const char *human_us(double us, char *buf, size_t cap)
{
	if (isnan(us))
		snprintf(buf, cap, "–");
	else if (us < 1e3)
		snprintf(buf, cap, "%.0f µs", us);
	else if (us < 1e6)
		snprintf(buf, cap, us < 1e4 ? "%.2f ms" : "%.1f ms", us / 1e3);
	else
		snprintf(buf, cap, "%.2f s", us / 1e6);
	return buf;
}

static void run_summary(FILE *f, const json_t *doc)
{
	const char *loop = str(doc, "config.loop");
	bool open = loop && !strcmp(loop, "open");
	char msg[32], rtt[32];

	fputs("<p class=\"summary\">", f);
	html_escapef(f, "%.0f gateways, %.0f agents × %.0f channels, model %s, %s loop",
		     num(doc, "config.gateways"), num(doc, "config.agents"),
		     num(doc, "config.channels"), or_dash(str(doc, "config.model")), or_dash(loop));
	if (open)
		html_escapef(f, " at %.0f msg/s offered", num(doc, "config.rate"));
	else
		html_escapef(f, " with %.0f in flight per channel", num(doc, "config.inflight"));
	html_escapef(f, "; window %.1f s: %.1f messages/s completed, packet loss %.4f %%, "
		     "message p99 %s, packet round trip p99 %s.",
		     num(doc, "window_s"), num(doc, "messages.per_s"),
		     100 * num(doc, "packets.loss_ratio"),
		     human_us(num(doc, "messages.latency_us.p99"), msg, sizeof(msg)),
		     human_us(num(doc, "packets.rtt_us.p99"), rtt, sizeof(rtt)));
	if (str(doc, "interrupted"))
		html_escapef(f, " Interrupted by %s: the figures are partial.",
			     str(doc, "interrupted"));
	fputs("</p>\n", f);
}

static void run_page(FILE *f, const json_t *doc, const char *source)
{
	page_begin(f, "run", doc);
	run_summary(f, doc);
	warnings(f, doc);
	fputs("<h2>Latency</h2>\n", f);
	run_cdf(f, doc);
	run_latency_table(f, doc);
	run_traffic_table(f, doc);
	run_relay_table(f, doc);
	fputs("<h2>Generator</h2>\n<table class=\"generator\">\n", f);
	row_num(f, "threads", num(doc, "generator.threads"), 0, NULL);
	if (poll_busy(doc, "generator.saturation_measure"))
		row_num(f, "busiest thread's busy polls", 100 * num(doc, "generator.cpu_max"), 0,
			"% of its polls found work");
	else
		row_num(f, "busiest thread's CPU", 100 * num(doc, "generator.cpu_max"), 0,
			"% of a CPU");
	fputs("<tr><th>saturated</th>", f);
	html_cell_text(f, truth(doc, "generator.saturated") ? "yes: the figures are relaybench's "
			  "limit" : "no");
	fputs("</tr>\n</table>\n", f);
	method(f, doc, source);
}

/* --- sweep --------------------------------------------------------------------------- */

struct sweep_points {
	unsigned n, n_miss;
	double rate[STEPS_MAX], sent[STEPS_MAX], done[STEPS_MAX];
	double p99[STEPS_MAX], rtt_p99[STEPS_MAX];
	double miss_rate[STEPS_MAX], miss_done[STEPS_MAX], miss_p99[STEPS_MAX];
};

static void sweep_collect(const json_t *doc, struct sweep_points *s)
{
	const json_t *steps = at(doc, "steps");

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < json_array_size(steps) && s->n < STEPS_MAX; i++) {
		const json_t *st = json_array_get(steps, i);
		unsigned k = s->n++;

		s->rate[k] = num(st, "rate");
		s->sent[k] = num(st, "achieved");
		s->done[k] = num(st, "completed");
		s->p99[k] = num(st, "p99_ms");
		s->rtt_p99[k] = num(st, "rtt_p99_ms");
		if (!truth(st, "pass")) {
			s->miss_rate[s->n_miss] = s->rate[k];
			s->miss_done[s->n_miss] = s->done[k];
			s->miss_p99[s->n_miss++] = s->p99[k];
		}
	}
}

/* Geometric steps spread over a wide range read best on a logarithmic axis. */
static enum svg_scale rate_scale(const struct sweep_points *s)
{
	double lo = INFINITY, hi = 0;

	for (unsigned i = 0; i < s->n; i++)
		if (s->rate[i] > 0) {
			lo = fmin(lo, s->rate[i]);
			hi = fmax(hi, s->rate[i]);
		}
	return hi >= 4 * lo ? SVG_LOG : SVG_LINEAR;
}

static void knee_mark(struct svg_plot *p, const json_t *doc, const char *y_key)
{
	static char label[64];	/* lives until the plot is written: one plot at a time */

	if (!json_is_object(at(doc, "knee")))
		return;
	snprintf(label, sizeof(label), "knee %.0f msg/s", num(doc, "knee.rate"));
	p->vmark[p->n_vmarks++] = (struct svg_vmark){
		.x = num(doc, "knee.rate"), .y = num(at(doc, "knee"), y_key), .label = label,
		.cls = "knee", .color = PURPLE,
	};
}

static void sweep_throughput(FILE *f, const json_t *doc, const struct sweep_points *s)
{
	enum svg_scale sc = rate_scale(s);
	struct svg_plot p = {
		.id = "throughput",
		.title = "Throughput against offered load",
		.x = { .label = "offered load, messages/s", .scale = sc, .unit = SVG_UNIT_RATE,
		       .min = NAN, .max = NAN, .zero = true },
		.y = { .label = "messages/s", .scale = sc, .unit = SVG_UNIT_RATE, .min = NAN,
		       .max = NAN, .zero = true },
		.n_series = 4,
	};

	p.series[0] = (struct svg_series){ .name = "offered", .color = GRAY, .x = s->rate,
					   .y = s->rate, .n = s->n, .style = SVG_DASHED };
	p.series[1] = (struct svg_series){ .name = "sent", .color = ORANGE, .x = s->rate,
					   .y = s->sent, .n = s->n, .markers = true };
	p.series[2] = (struct svg_series){ .name = "delivered", .color = BLUE, .x = s->rate,
					   .y = s->done, .n = s->n, .markers = true };
	p.series[3] = (struct svg_series){ .name = "missed the SLO", .color = RED,
					   .x = s->miss_rate, .y = s->miss_done, .n = s->n_miss,
					   .style = SVG_MARKERS_ONLY, .crosses = true };
	knee_mark(&p, doc, "completed");
	fputs("<figure id=\"figure-throughput\">\n", f);
	svg_plot_write(f, &p);
	fputs("<figcaption>Messages per second relaybench sent and that came back complete "
	      "(delivered), against the offered open-loop rate of each step. Delivered below "
	      "offered means loss or a generator that fell behind.</figcaption>\n</figure>\n", f);
}

static void sweep_latency(FILE *f, const json_t *doc, const struct sweep_points *s)
{
	double slo = num(doc, "slo.p99_ms"), lo = INFINITY, hi = 0;
	static char slo_label[64];
	struct svg_plot p = {
		.id = "p99",
		.title = "p99 latency against offered load",
		.x = { .label = "offered load, messages/s", .scale = rate_scale(s),
		       .unit = SVG_UNIT_RATE, .min = NAN, .max = NAN, .zero = true },
		.y = { .label = "p99 latency", .unit = SVG_UNIT_MS, .min = NAN, .max = NAN,
		       .zero = true },
		.n_series = 3,
	};

	for (unsigned i = 0; i < s->n; i++)
		if (s->p99[i] > 0) {
			lo = fmin(lo, s->p99[i]);
			if (s->rtt_p99[i] > 0)
				lo = fmin(lo, s->rtt_p99[i]);
			hi = fmax(hi, s->p99[i]);
		}
	if (slo > 0)
		hi = fmax(hi, slo);
	/* Latency that grows by orders of magnitude past the knee needs a log axis. */
	p.y.scale = hi > 0 && hi >= 20 * lo ? SVG_LOG : SVG_LINEAR;
	p.series[0] = (struct svg_series){ .name = "message p99", .color = BLUE, .x = s->rate,
					   .y = s->p99, .n = s->n, .markers = true };
	p.series[1] = (struct svg_series){ .name = "packet round trip p99", .color = GREEN,
					   .x = s->rate, .y = s->rtt_p99, .n = s->n,
					   .markers = true };
	p.series[2] = (struct svg_series){ .name = "missed the SLO", .color = RED,
					   .x = s->miss_rate, .y = s->miss_p99, .n = s->n_miss,
					   .style = SVG_MARKERS_ONLY, .crosses = true };
	if (slo > 0) {
		snprintf(slo_label, sizeof(slo_label), "SLO: p99 < %g ms", slo);
		p.hline[p.n_hlines++] = (struct svg_hline){ .y = slo, .label = slo_label,
							    .cls = "slo", .color = RED };
	}
	knee_mark(&p, doc, "p99_ms");
	fputs("<figure id=\"figure-p99\">\n", f);
	svg_plot_write(f, &p);
	fputs("<figcaption>Message latency p99 (the service level's measure) and packet "
	      "round-trip p99 of each step, against the offered rate. A step passes below the "
	      "SLO line with packet loss under the limit; the knee is the last step that "
	      "passed.</figcaption>\n</figure>\n", f);
}

static void sweep_table(FILE *f, const json_t *doc)
{
	const json_t *steps = at(doc, "steps");
	double knee = num(doc, "knee.rate");

	fprintf(f, "<h2>Steps</h2>\n<table class=\"steps\">\n<tr><th class=\"num\">offered/s</th>"
		"<th class=\"num\">sent/s</th><th class=\"num\">delivered/s</th>"
		"<th class=\"num\">loss %%</th><th class=\"num\">p50 ms</th>"
		"<th class=\"num\">p99 ms</th><th class=\"num\">RTT p99 ms</th>"
		"<th class=\"num\">relay cycles/pkt</th><th class=\"num\">generator %s %%</th>"
		"<th>verdict</th></tr>\n",
		poll_busy(doc, "config.saturation_measure") ? "busy polls" : "CPU");
	for (size_t i = 0; i < json_array_size(steps); i++) {
		const json_t *st = json_array_get(steps, i);
		bool pass = truth(st, "pass");

		fprintf(f, "<tr class=\"%s\">", num(st, "rate") == knee ? "knee" :
			pass ? "pass" : "miss");
		html_cell_num(f, num(st, "rate"), 0);
		html_cell_num(f, num(st, "achieved"), 0);
		html_cell_num(f, num(st, "completed"), 0);
		html_cell_num(f, 100 * num(st, "loss_ratio"), 3);
		html_cell_num(f, num(st, "p50_ms"), 3);
		html_cell_num(f, num(st, "p99_ms"), 3);
		html_cell_num(f, num(st, "rtt_p99_ms"), 3);
		html_cell_num(f, num(st, "relay_cycles_per_packet"), 0);
		html_cell_num(f, 100 * num(st, "cpu_max"), 0);
		fputs("<td>", f);
		if (pass)
			fputs(num(st, "rate") == knee ? "pass (knee)" : "pass", f);
		else
			html_escapef(f, "miss: %s", or_dash(str(st, "miss")));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void sweep_summary(FILE *f, const json_t *doc)
{
	const char *limit = str(doc, "limited_by");

	fputs("<p class=\"summary\">", f);
	html_escapef(f, "%.0f gateways, %.0f agents × %.0f channels, model %s; offered rate "
		     "%.0f to %.0f msg/s in %.0f steps of %.1f s. Service level: packet loss "
		     "under %.3f %%, message p99 under %g ms. ", num(doc, "config.gateways"),
		     num(doc, "config.agents"), num(doc, "config.channels"),
		     or_dash(str(doc, "config.model")), num(doc, "config.rate_from"),
		     num(doc, "config.rate_to"), num(doc, "config.steps"),
		     num(doc, "config.duration_s"), 100 * num(doc, "slo.max_loss_ratio"),
		     num(doc, "slo.p99_ms"));
	if (json_is_object(at(doc, "knee")))
		html_escapef(f, "Knee: %.0f msg/s offered, %.0f delivered per second, p99 %.3f ms",
			     num(doc, "knee.rate"), num(doc, "knee.completed"),
			     num(doc, "knee.p99_ms"));
	else
		html_escape(f, "No knee: the first step already missed");
	html_escapef(f, "; the sweep stopped because of: %s.", limit ? limit : "–");
	if (limit && !strcmp(limit, "generator"))
		html_escape(f, " relaybench, not the relay, reached its limit: the knee is a "
			    "lower bound.");
	if (limit && !strcmp(limit, "range"))
		html_escape(f, " Every step passed: the knee is above the last rate.");
	fputs("</p>\n", f);
}

static void sweep_page(FILE *f, const json_t *doc, const char *source)
{
	static struct sweep_points s;

	sweep_collect(doc, &s);
	page_begin(f, "sweep", doc);
	sweep_summary(f, doc);
	fputs("<h2>Throughput and latency against offered load</h2>\n", f);
	sweep_throughput(f, doc, &s);
	sweep_latency(f, doc, &s);
	sweep_table(f, doc);
	method(f, doc, source);
}

/* --- entry points ------------------------------------------------------------------------ */

int html_report_write(FILE *f, const json_t *doc, const char *source, char *err,
		      size_t errlen)
{
	const char *schema = str(doc, "schema");

	if (schema && !strcmp(schema, "relaybench.run/1"))
		run_page(f, doc, source);
	else if (schema && !strcmp(schema, "relaybench.sweep/1"))
		sweep_page(f, doc, source);
	else {
		snprintf(err, errlen, "not a relaybench run or sweep document (schema %s)",
			 schema ? schema : "missing");
		return -EINVAL;
	}
	fputs("</body>\n</html>\n", f);
	if (fflush(f) || ferror(f)) {
		snprintf(err, errlen, "writing the report failed");
		return -EIO;
	}
	return 0;
}

int html_report_save(const char *path, const json_t *doc, const char *source, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "--report %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = html_report_write(f, doc, source, err, errlen);
	if (fclose(f) && !ret) {
		ret = -EIO;
		snprintf(err, errlen, "--report %s: %s", path, strerror(errno));
	}
	if (ret)
		unlink(path);
	return ret;
}
