/*
 * control.h — the relay's control plane: one io_uring event loop, on the
 * calling thread, serving
 *   - a Unix stream socket for posternctl: newline-delimited JSON requests
 *     and responses (relay/ctlproto.h, docs/control.md);
 *   - a loopback HTTP/1.1 listener: GET /metrics, /ready, /live (relay/http.h);
 *   - a periodic tick for the caller (drain checks, stats files);
 *   - a stop request: control_stop() from any thread or signal handler;
 *   - signals read from a signalfd: by default SIGHUP reloads (ops->reload)
 *     and SIGINT/SIGTERM stop the loop; a caller that wants another policy
 *     (drain on the first signal, stop on the second) sets params.on_signal.
 *
 * The control plane reaches the relay only through struct control_ops, so
 * relay/main.c wires it to the core and tests wire it to a fake. Every op runs
 * on the loop's thread, never per packet, and should return within
 * milliseconds: while an op runs, no other control client is served.
 *
 * Connections (both listeners share one cap, params.max_conns):
 *   - a control peer is admitted if its SO_PEERCRED uid is 0 or the relay's
 *     effective uid (the socket file's owner), or if a socket group is
 *     configured and the peer's gid or one of its supplementary groups
 *     (SO_PEERGROUPS) is that group; anyone else gets a "forbidden" error line
 *     and is closed, and the refusal is logged (at most one line a second);
 *   - a request may be at most CTLPROTO_MAX_REQUEST bytes (control) or
 *     HTTP_MAX_HEADER bytes (HTTP header block); more gets an error, then the
 *     loop reads and discards for up to a second so the peer sees the error
 *     rather than a reset, and closes;
 *   - a peer that sends nothing or reads nothing for params.idle_ms is closed,
 *     and so is one that takes longer than params.request_ms from its
 *     connection (or its previous response) to the end of the next response
 *     (slowloris, slow readers); a peer cut off halfway through a request is
 *     told so first ("timeout" / 408);
 *   - beyond max_conns, a new peer gets a "busy" answer (503 over HTTP) and is
 *     closed at once.
 * One client never stalls another: every socket operation is asynchronous.
 * Every operator action (a command that changes something) is logged with
 * the peer's pid and uid: "info: event=control_cmd cmd=tokens.revoke ...".
 *
 * Threads: control_create, control_run and control_destroy on one thread (the
 * loop's); control_stop from any thread or a signal handler.
 */
#ifndef POSTERN_RELAY_CONTROL_H
#define POSTERN_RELAY_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/token.h"
#include "relay/log.h"

/*
 * relay/stats.h and relay/metrics.h are not included, so that posternctl can
 * use this header's constants without DPDK's headers; whoever implements
 * ops->stats or ops->backend_stats includes them.
 */
struct relay_stats;
struct metrics_backend;

enum {
	CONTROL_MAX_WORKERS = 64,	/* per-worker stats the control plane shows */
	CONTROL_ADDR_MAX = 48,		/* "[v6 address]:port" and a NUL */
	CONTROL_DEFAULT_MAX_CONNS = 64,
	CONTROL_DEFAULT_IDLE_MS = 5000,
	CONTROL_DEFAULT_REQUEST_MS = 10000,
	CONTROL_DEFAULT_TICK_MS = 100,
	CONTROL_MAX_CONNS_LIMIT = 4096,
};

#define CONTROL_DEFAULT_SOCKET "/run/postern/relay.sock"
#define CONTROL_DEFAULT_HTTP "127.0.0.1:9180"

/* What `status` shows. */
struct control_status {
	const char *version;		/* static string, e.g. "0.1.0" */
	uint64_t uptime_s;
	unsigned workers;
	uint64_t sessions, channels;	/* live now, whole relay */
	bool ready;			/* accepting new sessions */
	bool draining;			/* drain started */
	bool drained;			/* draining and nothing left: the relay is about to exit */
	const char *log_level;		/* log_level_name() of the current level */
};

/* One hop session, as `sessions.list` shows it. */
struct control_session {
	uint64_t id;			/* what sessions.kick names; stable while it lives */
	unsigned worker;
	enum token_role role;
	char tenant[TOKEN_NAME_MAX + 1];
	char tunnels[TOKEN_MAX_TUNNELS][TOKEN_NAME_MAX + 1];
	unsigned n_tunnels;
	char peer[CONTROL_ADDR_MAX];	/* "192.0.2.1:51820" or "[2001:db8::1]:51820" */
	uint8_t token_id[TOKEN_ID_LEN];
	uint64_t established_s;		/* Unix seconds */
	uint64_t idle_ms;		/* since the last authenticated packet */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint32_t channels;
};

/* One spliced channel, as `channels.list` shows it. */
struct control_channel {
	uint64_t agent_session, gateway_session;	/* control_session.id of each side */
	uint32_t agent_channel, gateway_channel;	/* the channel id on each side */
	char tunnel[TOKEN_NAME_MAX + 1];
	char route[TOKEN_NAME_MAX + 1];			/* may be empty */
	uint64_t opened_s;				/* Unix seconds */
	uint64_t bytes_to_gateway, bytes_to_agent;	/* CHANNEL_DATA payload bytes */
};

/*
 * The relay as the control plane sees it. Any op may be NULL: its command then
 * answers "unsupported" (/ready treats a NULL ready as not ready).
 * Every int op returns 0 or -errno; ctlproto maps -ENOENT to "not_found",
 * -EEXIST to "exists", -ENOSPC to "full", -EINVAL to "bad_request", -EBUSY
 * to "busy", -EOPNOTSUPP to "unsupported", anything else to "failed".
 */
struct control_ops {
	void *ctx;
	/* Copy each worker's counters to @per_worker[0..*@n), *@n <= @cap. */
	int (*stats)(void *ctx, struct relay_stats *per_worker, unsigned cap, unsigned *n);
	/*
	 * The dataplane's own counters for /metrics (relay/metrics.h): fill
	 * @out (zeroed) with the DPDK ports' or the kernel sockets' counters.
	 */
	int (*backend_stats)(void *ctx, struct metrics_backend *out);
	int (*status)(void *ctx, struct control_status *st);
	/*
	 * Fill @out[0..*@n) with at most @cap sessions (any order) and set *@total
	 * to the number of live sessions. Same for channels.
	 */
	int (*sessions_list)(void *ctx, struct control_session *out, size_t cap, size_t *n,
			     size_t *total);
	int (*channels_list)(void *ctx, struct control_channel *out, size_t cap, size_t *n,
			     size_t *total);
	/* End a session (GOAWAY is not sent: the endpoint learns on its next packet). */
	int (*session_kick)(void *ctx, uint64_t id);
	/* docs/protocol.md §6.3: end sessions admitted with @id, refuse it from now on. */
	int (*token_revoke)(void *ctx, const uint8_t id[TOKEN_ID_LEN]);
	/* Trust / stop trusting a control-plane Ed25519 public key (§6.3 rotation). */
	int (*key_trust)(void *ctx, const uint8_t pub[TOKEN_KEY_LEN]);
	int (*key_untrust)(void *ctx, const uint8_t pub[TOKEN_KEY_LEN]);
	/* Start draining: GOAWAY carrying @timeout_ms to every session; see relay_drain(). */
	int (*drain)(void *ctx, uint32_t timeout_ms);
	bool (*ready)(void *ctx);
	/* Re-read the configuration; on error write why (one line) into @msg. */
	int (*reload)(void *ctx, char *msg, size_t msglen);
	int (*log_level)(void *ctx, enum log_level level);
};

/* The loop's own counters, shown under postern_control_* in /metrics. */
struct control_counters {
	uint64_t accepted_ctl, accepted_http;	/* connections admitted */
	uint64_t requests_ctl, requests_http;	/* requests answered */
	uint64_t refused_cred;			/* control peers refused by SO_PEERCRED */
	uint64_t refused_busy;			/* over max_conns */
	uint64_t timeouts;			/* closed for idleness or slowness */
	uint64_t too_large;			/* request over the size limit */
	uint64_t conns;				/* open now (gauge) */
};

struct control;

/* Called every tick_ms on the loop's thread; may call control_stop(@c). */
typedef void (*control_tick_fn)(void *ctx, struct control *c);

/*
 * Called on the loop's thread with each signal read from params.signal_fd
 * (SIGINT, SIGTERM, SIGHUP). It decides: call control_stop(@c) to end the
 * loop, control_reload(@c) to reload, or anything else (e.g. start a drain).
 */
typedef void (*control_signal_fn)(void *ctx, struct control *c, int signo);

struct control_params {
	const char *socket_path;	/* control socket path (NULL: none) */
	unsigned socket_mode;		/* 0600 or 0660 (0660 needs socket_gid) */
	long socket_gid;		/* the socket's group, admitted as peers; -1: none */
	const char *http_addr;		/* "127.0.0.1:9180", "[::1]:9180"; port 0 picks one;
					 * NULL: no HTTP listener */
	bool http_allow_public;		/* allow an address outside 127/8 and ::1 */
	unsigned max_conns;		/* concurrent connections, both listeners */
	uint32_t idle_ms;		/* nothing sent or read for this long: close */
	uint32_t request_ms;		/* connection or last response to next response */
	uint32_t tick_ms;		/* tick period; 0: CONTROL_DEFAULT_TICK_MS */
	control_tick_fn tick;		/* NULL: none */
	void *tick_ctx;
	int signal_fd;			/* from control_signalfd(), or -1 */
	control_signal_fn on_signal;	/* NULL: SIGHUP reloads, SIGINT/SIGTERM stop */
	void *signal_ctx;
};

/* Defaults: CONTROL_DEFAULT_* values, mode 0600, no group, no signal fd, no hooks. */
void control_params_default(struct control_params *p);

/*
 * Block SIGINT, SIGTERM and SIGHUP in the calling thread and return a signalfd
 * reading them, for control_params.signal_fd. Call it before creating any
 * other thread (threads inherit the mask), so no worker receives them; a
 * caller that has blocked them already may pass its own signalfd instead.
 * @return 0 and *@fd set, or -errno. The caller closes *@fd after
 * control_destroy().
 */
int control_signalfd(int *fd);

/*
 * Bind the listeners (the socket file is created mode 0600 and only then given
 * socket_mode and socket_gid; a stale socket file is replaced, a live one is
 * -EADDRINUSE) and set up the ring. @ops is copied.
 * @return 0; -EINVAL (bad params, non-loopback HTTP address without
 * http_allow_public), -EADDRINUSE, -ENOMEM or another -errno; @err then says
 * why in one line naming the path or address.
 */
int control_create(struct control **out, const struct control_params *p,
		   const struct control_ops *ops, char *err, size_t errlen);

/*
 * Run the loop until control_stop() or a stop signal. Open connections are
 * closed on the way out. May be called once.
 * @return 0 when stopped, or -errno if the ring failed.
 */
int control_run(struct control *c);

/* Ask the loop to stop. Any thread; async-signal-safe (one eventfd write). */
void control_stop(struct control *c);

/*
 * Run ops->reload now and log the outcome ("event=reload source=@source
 * result=ok|failed"), as SIGHUP does by default. The loop's thread only (e.g.
 * from an on_signal hook). @return what ops->reload returned, -EOPNOTSUPP
 * without one.
 */
int control_reload(struct control *c, const char *source);

/* The bound HTTP port (useful with port 0), or 0 without an HTTP listener. */
uint16_t control_http_port(const struct control *c);

/* A copy of the loop's counters. The loop's thread only (e.g. from the tick). */
void control_get_counters(const struct control *c, struct control_counters *out);

/* Close the listeners, remove the socket file, free everything. NULL is a no-op. */
void control_destroy(struct control *c);

#endif /* POSTERN_RELAY_CONTROL_H */
