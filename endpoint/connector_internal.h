/*
 * connector_internal.h — what connector.c (the E2E connection and its
 * carrier, the loop) and connector_local.c (listeners, local clients and
 * their pumps) share. Not a public interface: postern-connect only.
 * Threads: the loop's thread only.
 */
#ifndef POSTERN_ENDPOINT_CONNECTOR_INTERNAL_H
#define POSTERN_ENDPOINT_CONNECTOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "endpoint/conn_config.h"
#include "endpoint/connector.h"
#include "endpoint/hop_link.h"
#include "endpoint/quic.h"
#include "relay/log.h"

/* What an epoll event is about: data.ptr points at one of these. */
enum watch_kind {
	WATCH_RELAY,		/* .idx: the relay's socket */
	WATCH_SIGNAL,
	WATCH_LISTENER,		/* .obj: struct listener */
	WATCH_CLIENT_R,		/* .obj: struct client, its rfd (or its only fd) */
	WATCH_CLIENT_W,		/* .obj: struct client, its wfd when it has two */
};

struct watch {
	enum watch_kind kind;
	unsigned idx;
	void *obj;
};

/* A hop channel carrying the E2E connection (connector.c's state block). */
enum chan_state {
	CH_NONE,
	CH_OPENING,		/* CHANNEL_OPEN sent, no answer yet */
	CH_OPEN,		/* accepted: QUIC's datagrams flow on it */
};

struct chan {
	enum chan_state st;
	unsigned relay;
	uint32_t id;
	uint64_t since;		/* OPENING: when the OPEN went out */
	bool resume;
};

struct listener {
	int fd;
	struct watch w;
	const struct conn_listen *cfg;
};

struct client;

struct connector_stats {
	uint64_t conns;			/* QUIC handshakes completed */
	uint64_t resumes;		/* channels re-opened with RESUME and accepted */
	uint64_t carrier_losses;
	uint64_t restarts;		/* connections replaced */
	uint64_t streams;		/* streams opened */
	uint64_t refused;		/* local connections closed before a stream */
	uint64_t stray_datagrams;	/* CHANNEL_DATA not on the carrier */
};

struct connector {
	const struct conn_config *cfg;
	const struct quic_identity *id;
	int ep, sigfd;
	struct watch sig_w;
	uint64_t now;			/* the loop's clock, for callbacks */

	/* Hop layer. */
	struct hop_link *link;
	struct watch relay_w[HOP_LINK_MAX_RELAYS];
	bool relay_up[HOP_LINK_MAX_RELAYS];

	/* The E2E connection and its carrier. */
	struct quic_conn *q;
	bool q_started;			/* quic_conn_connect() done: later opens RESUME */
	bool q_closed;			/* QUIC_EV_CLOSED seen */
	bool q_ever_connected;
	bool ever_accepted;		/* some channel was ever accepted */
	const char *restart;		/* set: replace the connection (why) */
	struct chan carrier, opening;
	uint32_t next_chan_id;
	uint64_t retry_at, backoff_ns;
	uint64_t lost_at;		/* when the carrier was last lost */

	/* Local side (connector_local.c). */
	struct listener listeners[CONN_CONFIG_MAX_LISTEN];
	unsigned n_listeners;
	struct client *clients;		/* every client, pending or pumping */
	struct client *pend_head, *pend_tail;
	unsigned n_pending, n_streams;
	uint64_t next_client;
	bool stdio_done, stdio_failed;

	/* Shutdown. */
	bool stopping, done;
	bool signalled;			/* SIGTERM/SIGINT: a clean exit, 0 */
	uint64_t stop_deadline;
	int exit_code;

	struct connector_stats stats;
};

uint64_t connector_now(void);

/* Log event=fatal with the message, exit status 1, and stop the loop. */
void connector_fatal(struct connector *cn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* connector_local.c */
int connector_local_create(struct connector *cn, char *err, size_t errlen);
void connector_local_destroy(struct connector *cn);
void connector_local_event(struct connector *cn, struct watch *w, uint32_t events,
			   uint64_t now);
/* Open streams for waiting clients, expire them, update epoll, free the ended. */
void connector_local_step(struct connector *cn, uint64_t now);
/* The earliest time connector_local_step() has work; QUIC_NEVER if none. */
uint64_t connector_local_deadline(const struct connector *cn);
/* Shutdown: close the listeners and the clients still waiting for a stream. */
void connector_local_stop(struct connector *cn);
/* Shutdown's end: abort every stream still open (QUIC_APP_SHUTDOWN). */
void connector_local_abort(struct connector *cn, uint64_t now);
/* Free the clients whose streams have closed, one log line each. */
void connector_sweep(struct connector *cn);
/* QUIC's stream events and bytes, for the clients' pumps. */
void connector_stream_event(struct connector *cn, const struct quic_event *ev);
void connector_stream_data(struct connector *cn, struct quic_stream *s, const uint8_t *data,
			   size_t len, bool fin);

#endif /* POSTERN_ENDPOINT_CONNECTOR_INTERNAL_H */
