/*
 * hop_client.h — one hop connection from an endpoint (gateway, connector,
 * relaybench) to one relay: the initiator side of docs/protocol.md §2–§8.
 *
 * A state machine with no I/O of its own (h2o/quicly style): the caller owns
 * the socket, the clock and the event loop.
 *
 *	packets out     cfg.send(ctx, pkt, len)            every INIT and DATA
 *	packets in      hop_client_input(c, pkt, len, now)
 *	timers          hop_client_tick(c, now) → the next deadline
 *	frames in       cfg.on_frame(ctx, frame, now)      CHANNEL_OPEN/ACCEPT/CLOSE/DATA
 *	state changes   cfg.on_event(ctx, event)           connected, disconnected,
 *	                                                   no answer, GOAWAY
 *
 * A gateway's or connector's loop:
 *
 *	hop_client_create(&c, &cfg);
 *	hop_client_connect(c, now());
 *	for (;;) {
 *		deadline = hop_client_next_deadline(c);
 *		poll(fd, until deadline);
 *		while (recv(fd, pkt) > 0)
 *			hop_client_input(c, pkt, len, now());
 *		hop_client_tick(c, now());
 *		... hop_client_send_data(c, id, bytes, n, now()) ...
 *	}
 *
 * Time: every @now_ns is the caller's monotonic clock in nanoseconds; nothing
 * here reads it. Deadlines are on the same clock. The handshake's TAI64N
 * timestamp (§2.1) needs the wall clock: cfg.realtime_ns, clock_gettime
 * (CLOCK_REALTIME) when NULL; timestamps are forced strictly increasing, so a
 * wall clock stepped backwards cannot make the relay refuse our INITs as
 * replayed (§3.4 step 5) for the life of this client.
 *
 * Randomness: sender indices and jitter come from cfg.rand (RAND_bytes when
 * NULL). Ephemeral keys come from OpenSSL's private DRBG inside noise.c,
 * unless a test sets cfg.rand, which then supplies them too (32 bytes per
 * INIT). Each jitter draws 8 bytes, read little-endian, modulo its range;
 * each index 4 bytes (drawn again if 0 or in use).
 *
 * Behaviour, with the §4 timers (the HOP_CLIENT_*_NS values below):
 *   - A handshake *series* starts on hop_client_connect(), when the current
 *     keypair is REKEY_AFTER_TIME old or has sent REKEY_AFTER_MESSAGES, when
 *     every keypair has expired, and when a GOAWAY's drain time is over. Each
 *     INIT has a fresh ephemeral, sender index and timestamp; one goes out
 *     every REKEY_TIMEOUT + jitter(0..333 ms) until a RESP completes it. At
 *     REKEY_ATTEMPT_TIME after the series began it is given up (event
 *     NO_ANSWER) and a new one starts after a backoff of 1 s doubling to 60 s,
 *     ±20%; a completed handshake resets the backoff to 1 s.
 *   - NEW_SESSION is set on every INIT until the first handshake completes,
 *     never afterwards (the client keeps channel state across reconnects).
 *   - A RESP is checked for its mac1 (keyed by our static public key) and its
 *     receiver index before any Noise work, and Noise reads a copy of the
 *     handshake: a forged or stale RESP is dropped and the real one still
 *     completes the handshake. A COOKIE_REPLY stores the cookie; the next INIT
 *     (at the usual retransmit time) carries mac2.
 *   - Keypairs: current (sends; the newest) and previous (receives only,
 *     until it expires). WireGuard's third slot, next, holds a responder's
 *     unconfirmed keypair; an initiator never has one. Each keypair is
 *     refused for sending and receiving REJECT_AFTER_TIME after its handshake.
 *     Right after a handshake the client sends a KEEPALIVE unless the caller
 *     sent a frame from the CONNECTED event, so the relay sees the new key in
 *     use at once.
 *   - KEEPALIVE goes out when no DATA has been sent for KEEPALIVE_TIMEOUT.
 *   - PING from the relay is answered with PONG; hop_client_ping() measures
 *     the round trip (stats.rtt_*).
 *   - GOAWAY: event, then, at the end of the drain time, the client drops its
 *     keypairs (event DISCONNECTED, GOAWAY) and handshakes with the same relay
 *     again, unless the caller has called hop_client_reconnect() before.
 *
 * Callbacks run inside hop_client_connect/_reconnect/_input/_tick/_send*;
 * from a callback the caller may call every function here except
 * hop_client_destroy(). A frame's bytes are valid only during on_frame.
 *
 * Errors: int functions return 0 or -errno: -EINVAL (bad argument), -ENOTCONN
 * (no usable keypair: nothing sent), -EMSGSIZE (the frames do not fit the hop
 * MTU), -ENOMEM, -EIO (OpenSSL failed), or the send callback's own -errno
 * (the packet was built and counted, then the callback refused it).
 *
 * Threads: a client belongs to one thread; nothing locks.
 * Secrets: static and ephemeral private keys, handshake state and transport
 * keys are wiped (OPENSSL_cleanse) when no longer needed and at destroy.
 */
#ifndef POSTERN_ENDPOINT_HOP_CLIENT_H
#define POSTERN_ENDPOINT_HOP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"
#include "wire/frame.h"

/* §4 timers, in nanoseconds. 64-bit values, so macros. */
#define HOP_CLIENT_NS_PER_S UINT64_C(1000000000)
#define HOP_CLIENT_NS_PER_MS UINT64_C(1000000)
#define HOP_CLIENT_REKEY_AFTER_TIME_NS (120 * HOP_CLIENT_NS_PER_S)
#define HOP_CLIENT_REJECT_AFTER_TIME_NS (180 * HOP_CLIENT_NS_PER_S)
#define HOP_CLIENT_REKEY_ATTEMPT_TIME_NS (90 * HOP_CLIENT_NS_PER_S)
#define HOP_CLIENT_REKEY_TIMEOUT_NS (5 * HOP_CLIENT_NS_PER_S)
#define HOP_CLIENT_REKEY_JITTER_MAX_NS (333 * HOP_CLIENT_NS_PER_MS)	/* inclusive */
#define HOP_CLIENT_KEEPALIVE_TIMEOUT_NS (10 * HOP_CLIENT_NS_PER_S)
#define HOP_CLIENT_BACKOFF_MIN_NS (1 * HOP_CLIENT_NS_PER_S)		/* §8 */
#define HOP_CLIENT_BACKOFF_MAX_NS (60 * HOP_CLIENT_NS_PER_S)
/* "No deadline": hop_client_next_deadline() before connect. */
#define HOP_CLIENT_NEVER UINT64_MAX

struct hop_client;

/* Hand one packet to the network. @return 0 or -errno (counted in send_errors). */
typedef int (*hop_client_send_fn)(void *ctx, const uint8_t *pkt, size_t len);

/*
 * A channel frame arrived (type CHANNEL_OPEN, _ACCEPT, _CLOSE or _DATA). Its
 * body has been checked: the frame_*_decode() of its type cannot fail on it.
 * f->body points into the packet given to hop_client_input(), valid until
 * on_frame returns. Frames of one packet arrive in order.
 */
typedef void (*hop_client_frame_fn)(void *ctx, const struct frame *f, uint64_t now_ns);

enum hop_client_event_type {
	HOP_CLIENT_CONNECTED,		/* a keypair is usable: frames can be sent now */
	HOP_CLIENT_DISCONNECTED,	/* no usable keypair any more (.down); retrying */
	HOP_CLIENT_NO_ANSWER,		/* a series got no answer in REKEY_ATTEMPT_TIME;
					 * the next one starts at .retry_at_ns */
	HOP_CLIENT_GOAWAY,		/* the relay is draining (.goaway_reason,
					 * .drain_ms); reconnect at .retry_at_ns */
};

enum hop_client_down_reason {
	HOP_CLIENT_DOWN_EXPIRED,	/* the newest keypair reached REJECT_AFTER_TIME
					 * (or its message limit) with no newer one */
	HOP_CLIENT_DOWN_GOAWAY,		/* a GOAWAY's drain time ended */
};

struct hop_client_event {
	enum hop_client_event_type type;
	enum hop_client_down_reason down;	/* DISCONNECTED */
	uint16_t goaway_reason;			/* GOAWAY: enum frame_goaway_reason */
	uint32_t drain_ms;			/* GOAWAY */
	uint64_t retry_at_ns;			/* NO_ANSWER, GOAWAY */
};

typedef void (*hop_client_event_fn)(void *ctx, const struct hop_client_event *ev);

/* Fill @buf with @len random bytes. @return 0 or -errno. */
typedef int (*hop_client_rand_fn)(uint8_t *buf, size_t len);

/* Unix time in nanoseconds (for the TAI64N timestamp). */
typedef uint64_t (*hop_client_clock_fn)(void *ctx);

struct hop_client_config {
	enum suite_id suite;			/* 0: SUITE_CHACHAPOLY_BLAKE2S */
	const uint8_t *static_priv;		/* our X25519 key, 32 bytes; copied */
	const uint8_t *relay_pub;		/* the pinned relay key, 32 bytes; copied */
	const uint8_t *psk;			/* 32 bytes, or NULL for all zero (§3.2) */
	const uint8_t *token;			/* signed token bytes (§6), copied */
	size_t token_len;			/* HOP_TOKEN_MIN..HOP_TOKEN_MAX */
	size_t mtu;				/* 0: HOP_MTU; else HOP_MTU_MIN..HOP_MTU */
	hop_client_send_fn send;		/* required */
	hop_client_frame_fn on_frame;		/* may be NULL */
	hop_client_event_fn on_event;		/* may be NULL */
	void *ctx;				/* passed to every callback */
	/* Tests: deterministic randomness and wall clock. NULL: the real ones. */
	hop_client_rand_fn rand;
	hop_client_clock_fn realtime_ns;
};

/* Drop reasons (protocol.md §9, initiator side); stats.drops[] index. */
enum hop_client_drop {
	HOP_CLIENT_DROP_BAD_HEADER,	/* short, bad header, wrong suite, or an INIT */
	HOP_CLIENT_DROP_BAD_VERSION,
	HOP_CLIENT_DROP_BAD_MAC1,	/* RESP whose mac1 is not keyed by our static key */
	HOP_CLIENT_DROP_UNKNOWN_INDEX,	/* RESP/COOKIE_REPLY for no pending INIT; DATA
					 * for no live keypair */
	HOP_CLIENT_DROP_BAD_HANDSHAKE,	/* RESP that Noise refused (tag, low-order key) */
	HOP_CLIENT_DROP_BAD_COOKIE,	/* COOKIE_REPLY that does not verify (§9) */
	HOP_CLIENT_DROP_REPLAYED,
	HOP_CLIENT_DROP_BAD_TAG,
	HOP_CLIENT_DROP_BAD_FRAME,	/* authenticated, but a frame is malformed */
	HOP_CLIENT_DROP_MAX,
};

/*
 * Counters since create. rx_packets = packets accepted + sum of drops[], always.
 * Bytes are whole UDP payloads.
 */
struct hop_client_stats {
	uint64_t tx_packets, tx_bytes;		/* handed to cfg.send, INITs included */
	uint64_t rx_packets, rx_bytes;		/* given to hop_client_input */
	uint64_t tx_data, rx_data;		/* DATA sealed / authenticated */
	uint64_t send_errors;			/* cfg.send returned an error */
	uint64_t inits;				/* INITs sent, retransmits included */
	uint64_t retransmits;			/* INITs after the first of their series */
	uint64_t handshakes;			/* RESPs that completed a handshake */
	uint64_t give_ups;			/* series given up (NO_ANSWER events) */
	uint64_t cookies;			/* COOKIE_REPLYs accepted */
	uint64_t keepalives;			/* KEEPALIVE frames sent */
	uint64_t goaways;			/* GOAWAY frames received */
	uint64_t pings, pongs;			/* our PINGs sent, their PONGs matched */
	uint64_t rtt_last_ns, rtt_min_ns, srtt_ns;	/* 0 until the first PONG */
	uint64_t drops[HOP_CLIENT_DROP_MAX];
};

/*
 * Make a client from @cfg (copied; the caller may wipe its key buffers
 * afterwards). Sends nothing until hop_client_connect().
 * @return 0 and *@out set, or -EINVAL (missing key, send callback or token;
 * token size, suite or mtu out of range), -ENOMEM, -EIO.
 */
int hop_client_create(struct hop_client **out, const struct hop_client_config *cfg);

/* Wipe and free @c. NULL is a no-op. Not from a callback. */
void hop_client_destroy(struct hop_client *c);

/*
 * Start the first handshake series: sends an INIT now.
 * @return 0, or -EALREADY if already connecting or connected (an INIT that
 * could not be built or sent is retried at the usual retransmit time).
 */
int hop_client_connect(struct hop_client *c, uint64_t now_ns);

/*
 * Forget the session and handshake afresh: with the relay whose static key is
 * @relay_pub (the caller sends to its address from now on), or with the same
 * relay when @relay_pub is NULL. Keypairs, the pending handshake, a GOAWAY's
 * reconnect, the backoff and (for another relay) the cookie are dropped; an
 * INIT goes out now, without NEW_SESSION once a handshake has ever completed.
 * No DISCONNECTED event: the caller knows. @return 0, or -EIO (OpenSSL failed
 * deriving the new relay's keys; nothing changed).
 */
int hop_client_reconnect(struct hop_client *c, const uint8_t *relay_pub, uint64_t now_ns);

/*
 * Process one received packet (a whole UDP payload from the relay). @pkt is
 * scratch: DATA is decrypted in place. Every outcome is counted (stats); a
 * bad packet is dropped silently and changes nothing (§9).
 */
void hop_client_input(struct hop_client *c, uint8_t *pkt, size_t len, uint64_t now_ns);

/*
 * Run every timer due at @now_ns (retransmit, give up, backoff, rekey, key
 * expiry, keepalive, GOAWAY reconnect).
 * @return hop_client_next_deadline(): call again at or after that time (or
 * sooner: early calls are harmless).
 */
uint64_t hop_client_tick(struct hop_client *c, uint64_t now_ns);

/*
 * @return the earliest time at which hop_client_tick() has work to do, or
 * HOP_CLIENT_NEVER before hop_client_connect(). Input and sends move it.
 */
uint64_t hop_client_next_deadline(const struct hop_client *c);

/* @return true while the current keypair may send (as of the last call). */
bool hop_client_is_connected(const struct hop_client *c);

/*
 * Seal @len bytes of frames (§7: the caller encoded them, e.g. with
 * frame_*_encode()) into one DATA packet on the current keypair and send it.
 * @frames may be the buffer from hop_client_tx_buffer() (sealed in place) or
 * any other memory. @len may be 0 (an empty DATA).
 * @return 0, -ENOTCONN, -EMSGSIZE (@len > hop_client_max_frames(c)), -EIO, or
 * the send callback's error.
 */
int hop_client_send(struct hop_client *c, const uint8_t *frames, size_t len, uint64_t now_ns);

/* @return the most frame bytes one DATA packet carries: mtu - 32 (1420 by default). */
size_t hop_client_max_frames(const struct hop_client *c);

/*
 * Zero-copy batch: the client's plaintext buffer, *@cap =
 * hop_client_max_frames(c) bytes. Encode frames into it, then
 * hop_client_send(c, buf, len, now). Valid until the next call on @c.
 */
uint8_t *hop_client_tx_buffer(struct hop_client *c, size_t *cap);

/*
 * Zero-copy CHANNEL_DATA: hop_client_data_begin() returns where the E2E bytes
 * go, *@room of them at most (max_frames - 7); write them there, then
 * hop_client_data_commit() frames, seals and sends @e2e_len (1..room) bytes.
 * Nothing may be called on @c in between.
 * @return (commit) as hop_client_send(), or -EINVAL (channel 0, bad length).
 */
uint8_t *hop_client_data_begin(struct hop_client *c, uint32_t channel_id, size_t *room);
int hop_client_data_commit(struct hop_client *c, size_t e2e_len, uint64_t now_ns);

/*
 * One frame in one DATA packet, built and sent: §7 CHANNEL_OPEN (connector),
 * CHANNEL_ACCEPT (gateway), CHANNEL_CLOSE (@reason: enum frame_close_reason),
 * CHANNEL_DATA (@e2e copied; 1..max_frames - 7 bytes).
 * @return as hop_client_send(), or -EINVAL for a field frame.h refuses.
 */
int hop_client_open_channel(struct hop_client *c, const struct frame_open *o, uint64_t now_ns);
int hop_client_accept_channel(struct hop_client *c, uint32_t channel_id, uint64_t now_ns);
int hop_client_close_channel(struct hop_client *c, uint32_t channel_id, uint16_t reason,
			     uint64_t now_ns);
int hop_client_send_data(struct hop_client *c, uint32_t channel_id, const uint8_t *e2e,
			 size_t len, uint64_t now_ns);

/*
 * Send a PING; its PONG updates stats.rtt_last_ns, rtt_min_ns and srtt_ns
 * (RFC 6298 smoothing, 1/8). Only the latest PING is matched.
 * @return as hop_client_send().
 */
int hop_client_ping(struct hop_client *c, uint64_t now_ns);

/* Counters (see struct hop_client_stats); valid as long as @c. */
const struct hop_client_stats *hop_client_stats(const struct hop_client *c);

/* @return "bad_header", "bad_mac1", ... (the §9 names), or "unknown". */
const char *hop_client_drop_name(unsigned reason);

/* @return "connected", "disconnected", "no_answer", "goaway", or "unknown". */
const char *hop_client_event_name(unsigned type);

/* @return "expired", "goaway", or "unknown". */
const char *hop_client_down_name(unsigned reason);

/*
 * Tests only: set the current keypair's next send counter, to reach the
 * REKEY_AFTER_MESSAGES and REJECT_AFTER_MESSAGES limits without sending 2^60
 * packets. No effect without a current keypair.
 */
void hop_client_test_set_send_counter(struct hop_client *c, uint64_t counter);

#endif /* POSTERN_ENDPOINT_HOP_CLIENT_H */
