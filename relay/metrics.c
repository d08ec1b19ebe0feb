/*
 * metrics.c — Prometheus text format 0.0.4 (metrics.h).
 *
 * Format reference: the Prometheus "Exposition formats" document, text format
 * 0.0.4: lines end in '\n'; "# HELP name text" and "# TYPE name type" precede
 * a family's samples; a sample is name{label="value",...} value. Label values
 * escape '\\', '"' and newline as \\, \" and \n. Ours are digits, reason
 * names ([a-z_]) and addresses, which never need it, and port names, which
 * come from the configuration and might.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	{ "postern_relay_sessions_kicked_total", "counter",
	  "Sessions ended by the control plane (posternctl sessions kick).",
	  FIELD(sessions_kicked) },
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

/* ---- the backend: DPDK ports, kernel sockets ---------------------------------- */

static const char *const l2_reasons[] = {
#define L2_REASON_NAME(name, str) str,
	DP_L2STATS_DROPS(L2_REASON_NAME)
#undef L2_REASON_NAME
};

enum { PORT_SAMPLES_MAX = 8 };

/* One sample of a per-port family: the labels after port="...", and where its value is. */
struct port_sample {
	const char *labels;		/* "" or ",type=\"request\",direction=\"in\"" */
	size_t offset;			/* in struct dp_port_stats or dp_l2stats */
};

struct port_family {
	const char *name;
	const char *help;
	bool device;			/* the device's (rte_eth_stats), else layer 2's */
	struct port_sample s[PORT_SAMPLES_MAX];	/* up to the first with labels NULL */
};

#define DEV(f) { "", offsetof(struct dp_port_stats, f) }
#define L2(f) { "", offsetof(struct dp_l2stats, f) }
#define L2L(labels, f) { labels, offsetof(struct dp_l2stats, f) }

static const struct port_family port_families[] = {
	{ "postern_port_rx_packets_total", "Frames the device received (rte_eth_stats ipackets).",
	  true, { DEV(ipackets) } },
	{ "postern_port_tx_packets_total", "Frames the device sent (opackets).",
	  true, { DEV(opackets) } },
	{ "postern_port_rx_bytes_total", "Bytes the device received (ibytes).",
	  true, { DEV(ibytes) } },
	{ "postern_port_tx_bytes_total", "Bytes the device sent (obytes).",
	  true, { DEV(obytes) } },
	{ "postern_port_rx_missed_total",
	  "Frames the device dropped because its RX queues were full: the workers fell behind "
	  "(imissed).", true, { DEV(imissed) } },
	{ "postern_port_rx_errors_total", "Erroneous frames the device received (ierrors).",
	  true, { DEV(ierrors) } },
	{ "postern_port_tx_errors_total", "Frames the device failed to send (oerrors).",
	  true, { DEV(oerrors) } },
	{ "postern_port_rx_no_mbuf_total",
	  "Frames the device could not receive because the mbuf pool was empty (rx_nombuf).",
	  true, { DEV(rx_nombuf) } },
	{ "postern_port_l2_rx_frames_total", "Frames the workers took from the port.",
	  false, { L2(rx_frames) } },
	{ "postern_port_l2_rx_hop_packets_total",
	  "UDP datagrams for a listen address, handed to the relay core.",
	  false, { L2(rx_hop) } },
	{ "postern_port_l2_rx_handled_total",
	  "Frames the Ethernet/IP layer consumed itself: ARP, neighbour discovery, ICMP echo.",
	  false, { L2(rx_handled) } },
	{ "postern_port_l2_tx_packets_total", "Hop packets the relay core handed over to send.",
	  false, { L2(tx_packets) } },
	{ "postern_port_l2_tx_frames_total", "Hop packets put on the port's TX queues as frames.",
	  false, { L2(tx_frames) } },
	{ "postern_port_arp_messages_total",
	  "ARP messages: requests and replies for our addresses and gratuitous ARP received, "
	  "replies and requests sent.", false, {
		L2L(",type=\"request\",direction=\"in\"", arp_requests_in),
		L2L(",type=\"reply\",direction=\"in\"", arp_replies_in),
		L2L(",type=\"gratuitous\",direction=\"in\"", arp_gratuitous_in),
		L2L(",type=\"reply\",direction=\"out\"", arp_replies_out),
		L2L(",type=\"request\",direction=\"out\"", arp_requests_out) } },
	{ "postern_port_nd_messages_total",
	  "Neighbour discovery messages received (for our addresses) and sent.", false, {
		L2L(",type=\"solicitation\",direction=\"in\"", nd_solicits_in),
		L2L(",type=\"advertisement\",direction=\"in\"", nd_adverts_in),
		L2L(",type=\"advertisement\",direction=\"out\"", nd_adverts_out),
		L2L(",type=\"solicitation\",direction=\"out\"", nd_solicits_out) } },
	{ "postern_port_icmp_echo_replies_total", "ICMP and ICMPv6 echo replies sent.", false, {
		L2L(",family=\"ipv4\"", icmp4_echo_replies),
		L2L(",family=\"ipv6\"", icmp6_echo_replies) } },
	{ "postern_port_neighbour_events_total",
	  "Neighbour cache events: entries created, resolved, changed, recycled; solicitations "
	  "not sent; hop packets queued for an address and released.", false, {
		L2L(",event=\"created\"", neigh_created),
		L2L(",event=\"resolved\"", neigh_resolved),
		L2L(",event=\"changed\"", neigh_changed),
		L2L(",event=\"recycled\"", neigh_recycled),
		L2L(",event=\"solicit_failed\"", solicit_failed),
		L2L(",event=\"queued\"", tx_queued),
		L2L(",event=\"flushed\"", tx_flushed) } },
};

#undef DEV
#undef L2
#undef L2L

/* How many entries of each array to render: never beyond its end. */
static unsigned n_ports(const struct metrics_backend *b)
{
	return b->n_ports < METRICS_MAX_PORTS ? b->n_ports : METRICS_MAX_PORTS;
}

static unsigned n_sockets(const struct metrics_backend *b)
{
	return b->n_sockets < METRICS_MAX_SOCKETS ? b->n_sockets : METRICS_MAX_SOCKETS;
}

/* A label value, escaped as the text format asks (backslash, quote, newline). */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void port_label(FILE *f, const char *name, const struct metrics_port *p)
{
	fprintf(f, "%s{port=\"", name);
	label_value(f, p->name);
	fputc('"', f);
}

static void render_port_family(FILE *f, const struct metrics_backend *b,
			       const struct port_family *fam)
{
	bool any = !fam->device;

	for (unsigned p = 0; p < n_ports(b); p++)
		any |= b->ports[p].have_device;
	if (!any)
		return;
	header(f, fam->name, "counter", fam->help);
	for (unsigned p = 0; p < n_ports(b); p++) {
		const struct metrics_port *port = &b->ports[p];
		const void *base = fam->device ? (const void *)&port->device : &port->l2;

		if (fam->device && !port->have_device)
			continue;
		for (unsigned i = 0; i < PORT_SAMPLES_MAX && fam->s[i].labels; i++) {
			port_label(f, fam->name, port);
			fprintf(f, "%s} %" PRIu64 "\n", fam->s[i].labels,
				*(const uint64_t *)((const char *)base + fam->s[i].offset));
		}
	}
}

/* Every reason but "none", which is not a drop (l2stats.h). */
static void render_port_drops(FILE *f, const struct metrics_backend *b, const char *name,
			      const char *help, bool tx)
{
	header(f, name, "counter", help);
	for (unsigned p = 0; p < n_ports(b); p++) {
		const struct dp_l2stats *l2 = &b->ports[p].l2;

		for (unsigned r = 0; r < DP_L2STATS_DROP_MAX; r++) {
			if (r == DP_L2STATS_NONE)
				continue;
			port_label(f, name, &b->ports[p]);
			fprintf(f, ",reason=\"%s\"} %" PRIu64 "\n", l2_reasons[r],
				tx ? l2->tx_dropped[r] : l2->rx_dropped[r]);
		}
	}
}

static void render_ports(FILE *f, const struct metrics_backend *b)
{
	for (size_t i = 0; i < sizeof(port_families) / sizeof(port_families[0]); i++)
		render_port_family(f, b, &port_families[i]);
	render_port_drops(f, b, "postern_port_l2_rx_dropped_total",
			  "Frames the Ethernet/IP layer dropped, by reason (dataplane/l2stats.h).",
			  false);
	render_port_drops(f, b, "postern_port_l2_tx_dropped_total",
			  "Hop packets the Ethernet/IP layer could not send, by reason.", true);
}

static void render_sockets(FILE *f, const struct metrics_backend *b)
{
	header(f, "postern_socket_rx_drops_total", "counter",
	       "Datagrams the kernel dropped on the socket before the relay read them: "
	       "receive buffer full, or a bad checksum (SO_MEMINFO drops).");
	for (unsigned i = 0; i < n_sockets(b); i++) {
		const struct metrics_socket *s = &b->sockets[i];

		fprintf(f, "postern_socket_rx_drops_total{worker=\"%u\",listen=\"", s->worker);
		label_value(f, s->listen);
		fprintf(f, "\"} %" PRIu64 "\n", s->rx_drops);
	}
}

static void render_port_workers(FILE *f, const struct metrics_backend *b)
{
	unsigned n = b->n_port_workers < CONTROL_MAX_WORKERS ? b->n_port_workers :
							       CONTROL_MAX_WORKERS;

	header(f, "postern_worker_tx_unsent_total", "counter",
	       "Frames a DPDK port's TX queue refused (full), freed by the worker: "
	       "packets the relay forwarded that never left.");
	for (unsigned w = 0; w < n; w++)
		fprintf(f, "postern_worker_tx_unsent_total{worker=\"%u\"} %" PRIu64 "\n", w,
			b->tx_unsent[w]);
}

static void render_backend(FILE *f, const struct metrics_backend *b)
{
	if (n_ports(b))
		render_ports(f, b);
	if (b->n_port_workers)
		render_port_workers(f, b);
	if (n_sockets(b))
		render_sockets(f, b);
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

struct metrics_backend *metrics_backend_alloc(void)
{
	/* sizeof is a multiple of the alignment, as aligned_alloc() wants. */
	struct metrics_backend *b = aligned_alloc(_Alignof(struct metrics_backend), sizeof(*b));

	if (b)
		memset(b, 0, sizeof(*b));
	return b;
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
	if (in->backend)
		render_backend(f, in->backend);
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
