/*
 * audit.h — the gateway's audit log: one line per stream (one upstream
 * connection, docs/protocol.md §10), written when the stream ends, saying who
 * reached what, through which relay, how much and how it ended
 * (docs/gateway.md, "Audit log").
 *
 * Each line is one JSON object (JSON Lines), keys always in this order:
 *
 *	{"ts":"2025-05-01T12:00:00.123Z","route":"db","agent":"3f9a…(64 hex)",
 *	 "principal":"acme/0123…","relay":"198.51.100.7:51820",
 *	 "upstream":"10.1.2.3:5432","bytes_up":1234,"bytes_down":56789,
 *	 "duration_ms":5021,"reason":"fin","detail":null}
 *
 *	ts          when the stream ended: UTC, RFC 3339, milliseconds
 *	route       the route the stream asked for (as asked, even if unknown)
 *	agent       the agent's fingerprint (SHA-256 of its certificate), hex
 *	principal   tenant/agent-token-id as the relay named it (CHANNEL_OPEN)
 *	relay       the relay the channel came through
 *	upstream    the address connected to, or the command's path
 *	bytes_up    bytes from the agent to the upstream; bytes_down the other way
 *	duration_ms from the stream's first byte to its end
 *	reason      how it ended (enum audit_reason)
 *	detail      a human-readable addition, e.g. the allowed_ips refusal
 *
 * A string field the caller leaves NULL is written as null. Strings are
 * escaped per RFC 8259 §7: '"', '\\' and every control character; bytes that
 * are not valid UTF-8 become U+FFFD, so every line is valid JSON whatever the
 * input (a route name or host could come from a peer).
 *
 * Threads: a struct audit_log belongs to one thread (the gateway's loop).
 * Each line is written with one write(2) to an O_APPEND file, so lines from
 * several processes sharing a file never interleave.
 */
#ifndef POSTERN_ENDPOINT_AUDIT_H
#define POSTERN_ENDPOINT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

/* How a stream ended; the log writes the name in quotes. */
enum audit_reason {
	AUDIT_FIN,		/* "fin": both directions ended with a FIN */
	AUDIT_RESET,		/* "reset": the agent sent RESET_STREAM or STOP_SENDING */
	AUDIT_UPSTREAM_RESET,	/* "upstream_reset": the upstream broke (TCP RST, child died) */
	AUDIT_UPSTREAM_REFUSED,	/* "upstream_refused": no connect, resolve or start */
	AUDIT_NOT_ALLOWED,	/* "not_allowed": every address refused by allowed_ips */
	AUDIT_UNKNOWN_ROUTE,	/* "unknown_route": no route of that name */
	AUDIT_BAD_HEADER,	/* "bad_header": a malformed stream header (§10) */
	AUDIT_CONNECTION_LOST,	/* "connection_lost": the E2E connection closed or timed out */
	AUDIT_SHUTDOWN,		/* "shutdown": the gateway was shutting down */
	AUDIT_REASON_COUNT,
};

enum {
	AUDIT_LINE_MAX = 4096,	/* the longest line written; longer strings are cut */
};

/* One stream's record. Every pointer may be NULL (written as null). */
struct audit_record {
	uint64_t ts_ms;		/* Unix time in ms when it ended; 0: now (CLOCK_REALTIME) */
	const char *route;
	const char *agent;
	const char *principal;
	const char *relay;
	const char *upstream;
	uint64_t bytes_up, bytes_down;
	uint64_t duration_ms;
	enum audit_reason reason;
	const char *detail;
};

struct audit_log;

/* @return the reason's name in the log ("fin", ...); "unknown" out of range. */
const char *audit_reason_name(enum audit_reason reason);

/*
 * Format @r as one line, newline included, into @buf (@cap bytes, NUL added).
 * Strings too long for AUDIT_LINE_MAX are cut (at a character boundary) and
 * end in "...", so a record always fits a buffer of AUDIT_LINE_MAX bytes.
 * @return the line's length (without the NUL), or -ENOSPC if @cap is smaller
 * than AUDIT_LINE_MAX.
 */
int audit_format(const struct audit_record *r, char *buf, size_t cap);

/*
 * Open the log: "stderr", or a file path (created mode 0640 if missing,
 * appended to, close-on-exec).
 * @return 0 and *@out; -EINVAL (empty @dest), -ENOMEM, or open()'s -errno.
 */
int audit_open(struct audit_log **out, const char *dest);

/*
 * Open the file again under the same path (after logrotate moved it; on
 * SIGHUP). No-op for "stderr". On failure the old file stays in use.
 * @return 0 or open()'s -errno.
 */
int audit_reopen(struct audit_log *log);

/*
 * Write one line for @r.
 * @return 0; or write()'s -errno (-EAGAIN is not retried; a short write is
 * -EIO) — the caller counts it; the stream's work is done regardless.
 */
int audit_write(struct audit_log *log, const struct audit_record *r);

/* Close the file (not stderr) and free @log. NULL is a no-op. */
void audit_close(struct audit_log *log);

#endif /* POSTERN_ENDPOINT_AUDIT_H */
