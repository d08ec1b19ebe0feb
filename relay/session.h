/*
 * session.h — one worker's sessions and their keypairs (protocol.md §3.5).
 *
 * A session is the relay's state for one endpoint identity: its static key,
 * the verified token that admitted it, where it is now (roaming), its channel
 * ends, and up to three keypairs, as a WireGuard peer has:
 *
 *	next      installed by a handshake; the endpoint may already send under it
 *	current   the one the relay sends under; became current when the first
 *	          DATA arrived under it (the endpoint has proven it holds the keys)
 *	previous  the one before, still accepted for packets in flight
 *
 * Keypair states and triggers:
 *	handshake answered  → new keypair is next (old next and previous freed)
 *	DATA under next     → previous := current, current := next, next := none
 *	age ≥ REJECT_AFTER_TIME (180 s) → freed by the timer sweep; refused before
 *	                      that on receive and never used to send
 *	session destroyed   → all freed
 * Session states: live from its first successful handshake until it has held
 * no usable keypair for SESSION_IDLE_TIMEOUT (3 × 180 s), or the relay drops it.
 *
 * The receiver index of a keypair is handle_index(worker, slot) (handle.h);
 * the session's handle is handle_make(worker, slot, gen).
 *
 * Threads: everything here belongs to the owning worker, except two fields
 * other workers may read with relaxed atomic loads: `load` (for the tunnel
 * directory's least-loaded choice) and nothing else. Session and keypair
 * arrays are allocated once and never move, so such a read is always of valid
 * memory; a stale value only skews a load-balancing decision. The control
 * plane sees sessions only through the owner's answers (inspect.h).
 */
#ifndef POSTERN_RELAY_SESSION_H
#define POSTERN_RELAY_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/noise.h"
#include "crypto/replay.h"
#include "crypto/token.h"
#include "relay/pkt.h"
#include "relay/slots.h"
#include "wire/hop.h"

struct aead_ctx;
struct relay_worker;

/* protocol.md §4, in nanoseconds. */
#define SESSION_REJECT_AFTER_TIME_NS (UINT64_C(180) * 1000000000)
#define SESSION_IDLE_TIMEOUT_NS (3 * SESSION_REJECT_AFTER_TIME_NS)

enum { KP_PREVIOUS, KP_CURRENT, KP_NEXT, KP_N };
#define KP_NONE UINT32_MAX

struct keypair {
	struct aead_ctx *send, *recv;
	uint64_t tx_counter;		/* next counter to send under */
	uint64_t born_ns;
	uint32_t remote_index;		/* endpoint's sender index: what we send goes to it */
	uint32_t session;		/* slot of the owning session */
	bool live;
	struct replay replay;
};

struct session {
	uint32_t gen;			/* current generation of this slot */
	uint32_t load;			/* channel ends held; other workers read it (relaxed) */
	bool live;
	bool registered;		/* a gateway's tunnels are in the directory */
	bool goaway_sent;
	uint8_t static_pub[HOP_KEY_LEN];
	struct pkt_addr peer;		/* where the last authenticated packet came from */
	uint16_t listener;
	uint32_t kp[KP_N];		/* keypair slots or KP_NONE */
	uint64_t keys_dead_ns;		/* when the newest keypair reaches REJECT_AFTER_TIME */
	uint8_t last_timestamp[HOP_TIMESTAMP_LEN];	/* §3.4 step 5 */
	uint32_t chan_head;		/* list of this session's channel ends (channel.h) */
	uint32_t next_channel_id;	/* gateway sessions: ids the relay picks (§7) */
	uint64_t last_protocol_close_ns;	/* unknown_channel answers, at most 1/s */
	bool protocol_close_sent;
	struct token tok;		/* verified; names are NUL-terminated */

	/* For sessions.list (inspect.h); the owner's clock, its own counters. */
	uint64_t established_ns;	/* session_alloc() */
	uint64_t last_rx_ns;		/* last authenticated INIT or DATA from the endpoint;
					 * other workers read it (relaxed) in directory_pick() */
	uint64_t rx_packets, rx_bytes;	/* authenticated DATA packets from the endpoint */
	uint64_t tx_packets, tx_bytes;	/* DATA packets sealed for it */
};

struct sessions {
	struct session *s;
	struct slots free;
	struct keypair *kp;
	struct slots kp_free;
	uint32_t live;			/* sessions in use */
};

/* Room for @cap sessions and 3 × @cap keypairs. @return 0, -ENOMEM. */
int sessions_init(struct sessions *t, uint32_t cap);

/* Free the tables and every live keypair's contexts (no packets are sent). */
void sessions_fini(struct sessions *t);

/*
 * @return a new live session (all else zero, no keypairs), or NULL when the
 * table is full or the worker holds its share of relay_set_limits()'s
 * max_sessions already.
 */
struct session *session_alloc(struct relay_worker *w);

/*
 * Close every channel end of @s toward its peers (CLOSE PEER_GONE to the other
 * side), leave the tunnel directory and the static-key table, free the
 * keypairs and the slot. Consumes nothing else; @s is dead afterwards.
 */
void session_destroy(struct relay_worker *w, struct session *s);

/* @return the live session @h names on @w, or NULL (another worker's, stale, none). */
struct session *session_get(struct relay_worker *w, uint64_t h);

uint32_t session_slot(const struct relay_worker *w, const struct session *s);
uint64_t session_handle(const struct relay_worker *w, const struct session *s);

/* An authenticated DATA packet of @bytes from @s's endpoint (receive.c). */
static inline void session_count_rx(struct session *s, uint32_t bytes)
{
	s->rx_packets++;
	s->rx_bytes += bytes;
}

/* A DATA packet of @bytes sealed for @s (send.c). */
static inline void session_count_tx(struct session *s, uint32_t bytes)
{
	s->tx_packets++;
	s->tx_bytes += bytes;
}

/* Publish the number of channel ends @s holds, for other workers' least-loaded choice. */
void session_set_load(struct session *s, uint32_t load);

/*
 * Reserve a keypair slot for a handshake in progress: its receiver index goes
 * into the RESP before the keys exist. @return the slot, or KP_NONE when the
 * table is full. Give it back with session_unreserve_keypair() unless
 * session_install_keypair() takes it.
 */
uint32_t session_reserve_keypair(struct relay_worker *w);
void session_unreserve_keypair(struct relay_worker *w, uint32_t slot);

/*
 * Install the keys of a completed handshake in reserved @slot as @s's next
 * keypair (see the state list above). @remote_index is the INIT's sender index.
 * @return 0, or -ENOMEM/-EIO/-EINVAL (AEAD context); on error the slot is
 * given back and @s is unchanged.
 */
int session_install_keypair(struct relay_worker *w, struct session *s, uint32_t slot,
			    enum suite_id suite, const struct noise_keys *keys,
			    uint32_t remote_index);

/* @return true if @s has a keypair the relay may send under now. */
bool session_can_send(struct relay_worker *w, const struct session *s);

/*
 * Enter a gateway session's tunnels in the directory (no-op for an agent).
 * @return 0 or -ENOSPC (directory full; nothing is left registered).
 */
int session_register(struct relay_worker *w, struct session *s);

/* Leave the directory (no-op for an agent). */
void session_deregister(struct relay_worker *w, struct session *s);

/*
 * The keypair a DATA packet with receiver slot @slot is under, if it is live
 * and younger than REJECT_AFTER_TIME; NULL otherwise (unknown_index).
 */
struct keypair *session_rx_keypair(struct relay_worker *w, uint32_t slot);

/*
 * A DATA packet verified under @kp (slot @slot): confirm it if it is @s's
 * next, and note the time (sessions.list's idle time).
 */
void session_keypair_confirmed(struct relay_worker *w, struct session *s, uint32_t slot);

/*
 * The keypair to send to @s under, with a counter reserved in *@counter;
 * NULL if @s has no current keypair younger than REJECT_AFTER_TIME whose
 * counter is below REJECT_AFTER_MESSAGES.
 */
struct keypair *session_tx_keypair(struct relay_worker *w, struct session *s, uint64_t *counter);

/*
 * Timer: free @s's keypairs older than REJECT_AFTER_TIME.
 * @return true if @s has held no keypair for SESSION_IDLE_TIMEOUT (destroy it).
 */
bool session_expire(struct relay_worker *w, struct session *s);

#endif /* POSTERN_RELAY_SESSION_H */
