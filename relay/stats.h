/*
 * stats.h — per-worker counters: every packet a worker receives ends in
 * exactly one outcome, and every drop has a named reason.
 *
 *   received = forwarded + handled + sum(dropped[reason])      (summed over workers)
 *
 * forwarded  a DATA packet spliced to another session (possibly by another worker,
 *            which then counts it: a handoff moves a packet's outcome to the owner)
 * handled    consumed by the relay itself: a handshake answered, a cookie sent,
 *            a keepalive, a channel frame acted on, a PING answered
 * dropped    discarded, counted under one reason below
 *
 * The reason names are those of docs/protocol.md §9 plus the relay's internal ones;
 * they are what /metrics and posternctl show.
 *
 * Packets the relay builds itself (a CHANNEL_CLOSE or GOAWAY it originates, an
 * OPEN toward a gateway, a copy of one frame of a multi-frame packet) were never
 * received, so they stay out of the invariant: they count in `originated`, and
 * those that never leave (no mbuf, ring full, backend refused, stale handle)
 * count in lost[reason]. A received packet the relay answers in its own mbuf
 * (RESP, COOKIE_REPLY, PONG) is a received packet: handled, or dropped[tx_full]
 * if the backend refuses it.
 *
 * Threads: one worker writes its own struct relay_stats (plain increments, no
 * atomics); other threads may read it at any time and see values that are at most
 * a little stale (aligned 64-bit loads do not tear on the platforms we build for).
 */
#ifndef POSTERN_RELAY_STATS_H
#define POSTERN_RELAY_STATS_H

#include <stdint.h>

#include <rte_common.h>

#define RELAY_DROP_REASONS(X)						\
	X(BAD_HEADER, "bad_header")	/* short, unknown type, bad suite */ \
	X(BAD_VERSION, "bad_version")					\
	X(BAD_MAC1, "bad_mac1")		/* never answered */		\
	X(RATELIMITED, "ratelimited")	/* INIT over per-source rate */	\
	X(BAD_HANDSHAKE, "bad_handshake") /* Noise failed: tag, low-order key */ \
	X(REPLAYED_HANDSHAKE, "replayed_handshake") /* timestamp not newer */ \
	X(TOKEN_MALFORMED, "token_malformed")				\
	X(TOKEN_UNKNOWN_SIGNER, "token_unknown_signer")			\
	X(TOKEN_BAD_SIGNATURE, "token_bad_signature")			\
	X(TOKEN_NOT_YET_VALID, "token_not_yet_valid")			\
	X(TOKEN_EXPIRED, "token_expired")				\
	X(TOKEN_REVOKED, "token_revoked")				\
	X(TOKEN_KEY_MISMATCH, "token_key_mismatch")			\
	X(SESSION_LIMIT, "session_limit")				\
	X(UNKNOWN_INDEX, "unknown_index")	/* no such keypair, or expired */ \
	X(REPLAYED, "replayed")		/* counter seen, too old, or exhausted */ \
	X(BAD_TAG, "bad_tag")						\
	X(BAD_FRAME, "bad_frame")	/* malformed frames: whole packet */ \
	X(UNKNOWN_CHANNEL, "unknown_channel")				\
	X(PEER_GONE, "peer_gone")	/* channel's other session vanished */ \
	X(STALE_HANDLE, "stale_handle")	/* handoff named a session since replaced */ \
	X(RING_FULL, "ring_full")	/* handoff ring to another worker full */ \
	X(NO_MBUF, "no_mbuf")		/* pool empty when the relay had to originate */ \
	X(TX_FULL, "tx_full")		/* backend refused the packet */ \
	X(SHUTTING_DOWN, "shutting_down") /* INIT while draining */	\
	X(INTERNAL, "internal")		/* a library call failed (OpenSSL) */

enum relay_drop {
#define RELAY_DROP_ENUM(name, str) RELAY_DROP_##name,
	RELAY_DROP_REASONS(RELAY_DROP_ENUM)
#undef RELAY_DROP_ENUM
	RELAY_DROP_MAX
};

/* @return the reason's metric name, e.g. "bad_mac1"; "?" if out of range. */
const char *relay_drop_name(enum relay_drop reason);

struct relay_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t forwarded;		/* DATA spliced to another session */
	uint64_t handled;		/* consumed by the relay itself */
	uint64_t dropped[RELAY_DROP_MAX];
	uint64_t originated;		/* packets the relay built itself */
	uint64_t lost[RELAY_DROP_MAX];	/* of those, never sent, by reason */
	uint64_t handoff_out, handoff_in;	/* packets passed to / taken from other workers */
	uint64_t handshakes;		/* completed: RESP sent */
	uint64_t cookies_sent;
	uint64_t sessions_kicked;	/* sessions ended by sessions.kick (relay/inspect.h) */
	uint64_t sessions, channels;	/* live now (gauges) */
	uint64_t busy_cycles;		/* TSC cycles spent on bursts that had work */
	uint64_t idle_cycles;
	uint64_t busy_packets;		/* packets processed during busy_cycles */
} __rte_cache_aligned;

/* Sum of every dropped[] counter. */
uint64_t relay_stats_dropped(const struct relay_stats *s);

/* Sum of every lost[] counter. */
uint64_t relay_stats_lost(const struct relay_stats *s);

#endif /* POSTERN_RELAY_STATS_H */
