/*
 * metrics.c — Prometheus text format 0.0.4 (metrics.h).
 *
 * Format reference: the Prometheus "Exposition formats" document, text format
 * 0.0.4: lines end in '\n'; "# HELP name text" and "# TYPE name type" precede
 * a family's samples; a sample is name{label="value",...} value. Our label
 * values are digits and reason names ([a-z_]), so no escaping is ever needed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "relay/metrics.h"

/* A per-worker family read from one field of struct relay_stats. */
struct family {
	const char *name;
	const char *type;
	const char *help;
	size_t offset;
};

#define FIELD(f) offsetof(struct relay_stats, f)

static const struct family worker_families[] = {
	{ "postern_relay_rx_packets_total", "counter",
	  "Packets the worker received from the dataplane.", FIELD(rx_packets) },
	{ "postern_relay_rx_bytes_total", "counter",
	  "Bytes (UDP payload) the worker received.", FIELD(rx_bytes) },
	{ "postern_relay_tx_packets_total", "counter",
	  "Packets the worker handed to the dataplane to send.", FIELD(tx_packets) },
	{ "postern_relay_tx_bytes_total", "counter",
	  "Bytes (UDP payload) the worker handed to the dataplane.", FIELD(tx_bytes) },
	{ "postern_relay_forwarded_packets_total", "counter",
	  "DATA packets spliced to another session.", FIELD(forwarded) },
	{ "postern_relay_handled_packets_total", "counter",
	  "Packets consumed by the relay itself (handshakes, cookies, keepalives, "
	  "channel frames, pings).", FIELD(handled) },
	{ "postern_relay_originated_packets_total", "counter",
	  "Packets the relay built itself (GOAWAY, CHANNEL_CLOSE, forwarded OPEN, split frames).",
	  FIELD(originated) },
	{ "postern_relay_handoff_out_packets_total", "counter",
	  "Packets passed to another worker's ring.", FIELD(handoff_out) },
	{ "postern_relay_handoff_in_packets_total", "counter",
	  "Packets taken from this worker's ring.", FIELD(handoff_in) },
	{ "postern_relay_handshakes_total", "counter",
	  "Handshakes completed (HANDSHAKE_RESP sent).", FIELD(handshakes) },
	{ "postern_relay_cookies_sent_total", "counter",
	  "COOKIE_REPLY messages sent instead of handshake work.", FIELD(cookies_sent) },
	{ "postern_relay_busy_cycles_total", "counter",
	  "TSC cycles spent on bursts that had work.", FIELD(busy_cycles) },
	{ "postern_relay_idle_cycles_total", "counter",
	  "TSC cycles spent polling with no work.", FIELD(idle_cycles) },
	{ "postern_relay_busy_packets_total", "counter",
	  "Packets processed during busy cycles.", FIELD(busy_packets) },
	{ "postern_relay_sessions", "gauge",
	  "Hop sessions the worker owns now.", FIELD(sessions) },
	{ "postern_relay_channels", "gauge",
	  "Channels the worker's sessions hold now.", FIELD(channels) },
};

static const char *const drop_reasons[] = {
#define REASON_NAME(name, str) str,
	RELAY_DROP_REASONS(REASON_NAME)
#undef REASON_NAME
};

static uint64_t field(const struct relay_stats *s, size_t offset)
{
	return *(const uint64_t *)((const char *)s + offset);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_workers(FILE *f, const struct metrics_input *in)
{
	for (size_t i = 0; i < sizeof(worker_families) / sizeof(worker_families[0]); i++) {
		const struct family *fam = &worker_families[i];

		header(f, fam->name, fam->type, fam->help);
		for (unsigned w = 0; w < in->n_workers; w++)
			fprintf(f, "%s{worker=\"%u\"} %" PRIu64 "\n", fam->name, w,
				field(&in->per_worker[w], fam->offset));
	}

	header(f, "postern_relay_dropped_packets_total", "counter",
	       "Packets dropped, by reason (docs/protocol.md section 9).");
	for (unsigned w = 0; w < in->n_workers; w++)
		for (unsigned r = 0; r < RELAY_DROP_MAX; r++)
			fprintf(f, "postern_relay_dropped_packets_total"
				"{worker=\"%u\",reason=\"%s\"} %" PRIu64 "\n",
				w, drop_reasons[r], in->per_worker[w].dropped[r]);

	header(f, "postern_relay_lost_packets_total", "counter",
	       "Packets the relay built itself that never left, by reason.");
	for (unsigned w = 0; w < in->n_workers; w++)
		for (unsigned r = 0; r < RELAY_DROP_MAX; r++)
			fprintf(f, "postern_relay_lost_packets_total{worker=\"%u\",reason=\"%s\"} "
				"%" PRIu64 "\n", w, drop_reasons[r], in->per_worker[w].lost[r]);

	header(f, "postern_relay_cycles_per_packet", "gauge",
	       "Busy TSC cycles per packet since start; 0 before the first packet.");
	for (unsigned w = 0; w < in->n_workers; w++) {
		const struct relay_stats *s = &in->per_worker[w];

		fprintf(f, "postern_relay_cycles_per_packet{worker=\"%u\"} %.1f\n", w,
			s->busy_packets ? (double)s->busy_cycles / (double)s->busy_packets : 0.0);
	}
}

static void render_control(FILE *f, const struct control_counters *c)
{
	header(f, "postern_control_connections_total", "counter",
	       "Connections admitted by the control plane, by listener.");
	fprintf(f, "postern_control_connections_total{listener=\"control\"} %" PRIu64 "\n",
		c->accepted_ctl);
	fprintf(f, "postern_control_connections_total{listener=\"http\"} %" PRIu64 "\n",
		c->accepted_http);
	header(f, "postern_control_requests_total", "counter",
	       "Requests answered by the control plane, by listener.");
	fprintf(f, "postern_control_requests_total{listener=\"control\"} %" PRIu64 "\n",
		c->requests_ctl);
	fprintf(f, "postern_control_requests_total{listener=\"http\"} %" PRIu64 "\n",
		c->requests_http);
	header(f, "postern_control_refused_total", "counter",
	       "Connections refused, by reason.");
	fprintf(f, "postern_control_refused_total{reason=\"peer_credentials\"} %" PRIu64 "\n",
		c->refused_cred);
	fprintf(f, "postern_control_refused_total{reason=\"busy\"} %" PRIu64 "\n",
		c->refused_busy);
	header(f, "postern_control_timeouts_total", "counter",
	       "Connections closed because the peer was idle or too slow.");
	fprintf(f, "postern_control_timeouts_total %" PRIu64 "\n", c->timeouts);
	header(f, "postern_control_oversize_total", "counter",
	       "Requests refused for exceeding the size limit.");
	fprintf(f, "postern_control_oversize_total %" PRIu64 "\n", c->too_large);
	header(f, "postern_control_connections", "gauge", "Control-plane connections open now.");
	fprintf(f, "postern_control_connections %" PRIu64 "\n", c->conns);
}

int metrics_render(const struct metrics_input *in, char **out, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int err;

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	header(f, "postern_relay_ready", "gauge",
	       "1 when the relay accepts new sessions, 0 before start-up ends and while draining.");
	fprintf(f, "postern_relay_ready %d\n", in->ready ? 1 : 0);
	header(f, "postern_relay_workers", "gauge", "Worker threads.");
	fprintf(f, "postern_relay_workers %u\n", in->n_workers);
	render_workers(f, in);
	if (in->control)
		render_control(f, in->control);
	err = ferror(f);
	if (fclose(f) || err) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = size;
	return 0;
}
