/*
 * gateway_internal.h — what gateway.c (the loop), gateway_conn.c (channels
 * and QUIC connections) and gateway_stream.c (streams, upstreams, audit)
 * share. Not a public interface.
 */
#ifndef POSTERN_ENDPOINT_GATEWAY_INTERNAL_H
#define POSTERN_ENDPOINT_GATEWAY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "endpoint/audit.h"
#include "endpoint/gateway.h"
#include "endpoint/hop_link.h"
#include "endpoint/pump.h"
#include "endpoint/quic.h"
#include "endpoint/upstream.h"

enum gw_watch_kind {
	GW_WATCH_RELAY,
	GW_WATCH_SIGNAL,
	GW_WATCH_STREAM,
};

/* One epoll registration; epoll_event.data.ptr points at it. */
struct gw_watch {
	enum gw_watch_kind kind;
	int fd;			/* as registered; -1 when not */
	uint32_t events;	/* as registered */
	unsigned relay;		/* RELAY */
	struct gw_stream *stream;	/* STREAM */
};

/* One stream: a QUIC stream, its upstream and the pump between them. */
struct gw_stream {
	struct gw_stream *next, *prev;	/* in gateway.streams */
	struct gw_conn *conn;		/* NULL once the connection is gone */
	struct upstream *up;
	struct pump *pump;
	struct gw_watch rw, ww;		/* the upstream's read and write fds */
	uint64_t started_ns;
	char route[QUIC_ROUTE_MAX + 1];
	char agent[QUIC_FP_HEX_LEN + 1];
	char principal[FRAME_PRINCIPAL_MAX + 1];
	char relay[HOP_LINK_ADDR_MAX];
	bool aborted_for_shutdown;
};

/* One channel's QUIC connection. Its carrier is the (relay, channel id) it rides now. */
struct gw_conn {
	struct gw_conn *next, *prev;	/* in gateway.conns */
	struct gateway *g;
	struct quic_conn *q;
	uint8_t tag[QUIC_TAG_LEN];
	int relay;			/* carrier: -1 when none (waiting for RESUME) */
	uint32_t channel;
	char route[FRAME_NAME_MAX + 1];	/* the OPEN's route; "" if it named none */
	char principal[FRAME_PRINCIPAL_MAX + 1];
	unsigned streams;		/* open gw_streams */
	uint64_t created_ns;
	bool connected;			/* QUIC_EV_CONNECTED seen */
	bool closed;			/* QUIC_EV_CLOSED seen */
};

struct gateway {
	const struct gw_config *cfg;
	const struct quic_identity *id;
	struct hop_link *link;
	struct audit_log *audit;
	int epfd, sigfd;
	struct gw_watch relay_watch[HOP_LINK_MAX_RELAYS];
	struct gw_watch sig_watch;
	struct gw_conn *conns;
	struct gw_stream *streams;
	struct gw_stream *reaping;	/* stdio upstreams being reaped (->up only) */
	unsigned n_conns, n_streams;
	uint64_t now;			/* CLOCK_MONOTONIC ns, as of the loop's last look */
	bool shutting_down;
	uint64_t shutdown_deadline;
	bool stop;			/* the loop ends at its next turn */
	bool failed;
	/* Rate limits for hot log lines: the last time each was written. */
	uint64_t last_log_unknown_channel;
	uint64_t dropped_unknown_channel;
};

/* gateway.c */
uint64_t gw_now(void);
void gw_watch_sync(struct gateway *g, struct gw_watch *w, int fd, uint32_t events);
void gw_fmt_hex(char *out, const uint8_t *in, size_t len);

/* gateway_conn.c */
void gw_conn_on_frame(void *ctx, unsigned relay, const struct frame *f, uint64_t now_ns);
void gw_conn_on_state(void *ctx, unsigned relay, enum hop_link_state st, enum hop_link_why why,
		      uint32_t drain_ms);
/* Destroy the connections that are over; close every one when shutting down with no stream. */
void gw_conn_sweep(struct gateway *g);
/* Close every connection now (QUIC_APP_SHUTDOWN) and free them. */
void gw_conn_close_all(struct gateway *g);
uint64_t gw_conn_next_deadline(struct gateway *g);
void gw_conn_tick_all(struct gateway *g);
/* Send what every connection made ready this turn (quic_conn_flush). */
void gw_conn_flush_all(struct gateway *g);

/* gateway_stream.c */
void gw_stream_opened(struct gw_conn *c, struct quic_stream *s, const char *route);
void gw_stream_data(struct gw_conn *c, struct quic_stream *s, const uint8_t *data, size_t len,
		    bool fin);
void gw_stream_event(struct gw_conn *c, const struct quic_event *ev);
void gw_stream_fd_event(struct gateway *g, struct gw_watch *w, uint32_t events);
/*
 * Write this turn's stream bytes to the upstreams (pump_flush), finish streams
 * whose pump is done (audit line), resync their epoll registrations.
 */
void gw_stream_sweep(struct gateway *g);
/* Write the line of every stream left and free it (the gateway is going away). */
void gw_stream_finish_all(struct gateway *g);
/* Abort every stream (shutdown timeout or a second signal). */
void gw_stream_abort_all(struct gateway *g);
/* Reap stdio upstreams; @return the next time to look again, or QUIC_NEVER. */
uint64_t gw_stream_reap(struct gateway *g, bool force);

#endif /* POSTERN_ENDPOINT_GATEWAY_INTERNAL_H */
