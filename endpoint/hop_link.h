/*
 * hop_link.h — an endpoint's hop sessions with its relays: one UDP socket and
 * one hop_client per configured relay, liveness, and the choice of relay.
 *
 * Two policies (DESIGN.md §4, docs/protocol.md §7 GOAWAY and §10 Resume):
 *   HOP_LINK_ALL   a gateway: a session with every relay at once, so an agent
 *                  reaches the tunnel through any of them; a relay that dies
 *                  or drains is re-joined (same relay) when it comes back.
 *   HOP_LINK_ONE   a connector: one relay at a time, the first that answers;
 *                  on GOAWAY or when the relay stops answering, the next relay
 *                  in the list (round robin, the same one when it is alone).
 *                  The caller then re-opens its channels there with RESUME.
 *
 * Liveness. The relay answers PING with PONG, so a relay that has gone (killed,
 * rebooted, unreachable) is noticed without waiting for key expiry: while a
 * session is up and nothing has been received for ping_ns, a PING goes out
 * every ping_ns; nothing at all received for dead_ns means the relay is gone:
 * the session is dropped (HOP_LINK_DOWN) and a new handshake starts (with the
 * same relay under ALL, with the next under ONE). A restarted relay knows
 * nothing of the old session, so only a new handshake brings it back.
 *
 * Unanswered handshakes. A relay that answers none of a handshake series'
 * INITs for REKEY_ATTEMPT_TIME (hop_client's NO_ANSWER, protocol.md §8) is
 * reported once for that series: HOP_LINK_UNANSWERED, why SILENT. It is not
 * running or not reachable, or it drops the INITs unanswered as §9 wants for
 * a key, suite or token it refuses (another public key pinned, a hop suite it
 * does not accept, a token it does not admit). Nothing else changes: the
 * client starts its next series after the §8 backoff, and ONE moves to the
 * next relay at once (after the report). The relay's stats then hold the
 * INITs that series sent and how many series in a row went unanswered.
 *
 * The link owns its sockets; the caller's loop polls them:
 *	hop_link_create(&l, &cfg); hop_link_start(l, now);
 *	for each i < hop_link_relay_count(l): watch hop_link_fd(l, i) for input
 *	loop: on input on fd i → hop_link_readable(l, i, now)
 *	      at hop_link_next_deadline(l) → hop_link_tick(l, now)
 *	      before sleeping → hop_link_flush(l)          (cfg.tx_batch only)
 * Frames arrive through cfg.on_frame with the relay's index; send with
 * hop_link_client(l, i) and the hop_client_* frame functions.
 *
 * System calls. hop_link_readable() takes up to UDP_BATCH_MAX datagrams per
 * recvmmsg(2). With cfg.tx_batch, every packet the clients send is queued
 * on its relay's socket instead of sent at once, and hop_link_flush() sends
 * each relay's queue with one sendmmsg(2), runs of full-size packets as one
 * UDP GSO send (udp_txq_send): a loop that flushes once per turn pays one
 * system call per relay and turn, not one per packet. A full queue
 * (UDP_BATCH_MAX packets) is sent at once; hop_link_destroy() sends what is
 * left. Without tx_batch each packet is one send(2), as it is made.
 *
 * Time: the link keeps the latest now_ns given to hop_link_start, _readable
 * and _tick, and uses it for what it starts from inside a client's callback
 * (the next relay's handshake after a GOAWAY or an unanswered series).
 *
 * Callbacks run inside hop_link_start/_readable/_tick; from them the caller may
 * use hop_link_client() and every hop_client_* send function, not destroy.
 * Errors: 0 or -errno. Threads: one loop thread; nothing locks.
 */
#ifndef POSTERN_ENDPOINT_HOP_LINK_H
#define POSTERN_ENDPOINT_HOP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint/hop_client.h"
#include "wire/frame.h"

enum {
	HOP_LINK_MAX_RELAYS = 16,
	HOP_LINK_ADDR_MAX = 64,
};

#define HOP_LINK_PING_DEFAULT_NS (1 * HOP_CLIENT_NS_PER_S)
#define HOP_LINK_DEAD_DEFAULT_NS (4 * HOP_CLIENT_NS_PER_S)

enum hop_link_policy {
	HOP_LINK_ALL,
	HOP_LINK_ONE,
};

enum hop_link_state {
	HOP_LINK_UP,		/* the session is usable: frames can be sent */
	HOP_LINK_DOWN,		/* the session is gone (.why); a new handshake is under way */
	HOP_LINK_DRAINING,	/* GOAWAY: existing channels still flow for .drain_ms; open
				 * new ones elsewhere (ONE: the next relay is being joined) */
	HOP_LINK_UNANSWERED,	/* a handshake series got no answer (.why SILENT); the
				 * client retries after its backoff (ONE: the next relay) */
};

enum hop_link_why {
	HOP_LINK_WHY_NONE,
	HOP_LINK_WHY_SILENT,	/* nothing received for dead_ns; UNANSWERED: no RESP to a
				 * series of INITs */
	HOP_LINK_WHY_EXPIRED,	/* the keys expired with no newer handshake */
	HOP_LINK_WHY_GOAWAY,	/* the drain time of a GOAWAY ended */
};

struct hop_link_relay {
	char addr[HOP_LINK_ADDR_MAX];	/* "192.0.2.1:51820" or "[2001:db8::1]:51820" */
	uint8_t pub[32];		/* its pinned X25519 public key */
};

struct hop_link;

typedef void (*hop_link_frame_fn)(void *ctx, unsigned relay, const struct frame *f,
				  uint64_t now_ns);
typedef void (*hop_link_state_fn)(void *ctx, unsigned relay, enum hop_link_state st,
				  enum hop_link_why why, uint32_t drain_ms);

struct hop_link_config {
	enum hop_link_policy policy;
	const struct hop_link_relay *relays;	/* copied */
	unsigned n_relays;			/* 1..HOP_LINK_MAX_RELAYS */
	const uint8_t *static_priv;		/* 32 bytes, copied */
	const uint8_t *psk;			/* 32 bytes or NULL */
	const uint8_t *token;			/* copied */
	size_t token_len;
	enum suite_id suite;			/* 0: ChaCha20-Poly1305/BLAKE2s */
	uint64_t ping_ns;			/* 0: HOP_LINK_PING_DEFAULT_NS */
	uint64_t dead_ns;			/* 0: HOP_LINK_DEAD_DEFAULT_NS; > ping_ns */
	int sock_buf;				/* SO_RCVBUF/SNDBUF bytes; 0: 4 MiB */
	bool tx_batch;				/* queue sends until hop_link_flush() */
	hop_link_frame_fn on_frame;		/* channel frames (OPEN/ACCEPT/CLOSE/DATA) */
	hop_link_state_fn on_state;
	void *ctx;
};

/*
 * Per relay, for status lines and tests. Read from on_state's UNANSWERED
 * report, unanswered_inits and unanswered_run describe the series reported.
 */
struct hop_link_relay_stats {
	uint64_t ups, downs, silent_downs, goaways, moves_away;
	uint64_t rx_errors, tx_errors;
	uint64_t rx_syscalls, tx_syscalls;	/* recvmmsg / send and sendmmsg calls */
	uint64_t unanswered;		/* handshake series given up (UNANSWERED reports) */
	uint64_t unanswered_run;	/* of them since the relay was last up (0 at UP) */
	uint64_t unanswered_inits;	/* INITs sent in the latest unanswered series */
};

/*
 * Open a socket per relay and make its hop client (nothing sent yet).
 * @return 0; -EINVAL (bad address, key or token; dead_ns <= ping_ns), -ENOMEM,
 * -EIO, or a socket's -errno.
 */
int hop_link_create(struct hop_link **out, const struct hop_link_config *cfg);

/* Send what is queued, close the sockets, wipe and free. NULL: no-op. Not from a callback. */
void hop_link_destroy(struct hop_link *l);

/* Start handshaking: every relay (ALL) or the first (ONE). */
int hop_link_start(struct hop_link *l, uint64_t now_ns);

unsigned hop_link_relay_count(const struct hop_link *l);
int hop_link_fd(const struct hop_link *l, unsigned relay);
const char *hop_link_addr(const struct hop_link *l, unsigned relay);

/* Read everything waiting on relay @relay's socket and feed it to its client. */
void hop_link_readable(struct hop_link *l, unsigned relay, uint64_t now_ns);

/*
 * cfg.tx_batch: send every relay's queued packets (one sendmmsg each, see
 * above). Call it before the loop sleeps. A no-op without tx_batch.
 */
void hop_link_flush(struct hop_link *l);

/* Timers of every client, PINGs, liveness. @return hop_link_next_deadline(). */
uint64_t hop_link_tick(struct hop_link *l, uint64_t now_ns);
uint64_t hop_link_next_deadline(const struct hop_link *l);

/* The relay's hop client, to send frames on (hop_client_* in hop_client.h). */
struct hop_client *hop_link_client(struct hop_link *l, unsigned relay);

/* @return whether relay @relay's session can send now (not draining). */
bool hop_link_is_up(const struct hop_link *l, unsigned relay);

/*
 * ONE: the relay in use, whose session may not be up yet; ALL: the up relay
 * with the lowest index, or -1 when none is up (so a caller may pick one).
 */
int hop_link_current(const struct hop_link *l);

const struct hop_link_relay_stats *hop_link_relay_stats(const struct hop_link *l,
							 unsigned relay);

/*
 * For an on_state UNANSWERED report: the operator's line. The first series
 * since @relay was last up (or since start) is one warning with the INITs it
 * sent, @hop_suite and what to check, naming the endpoint's @credential
 * ("connector's grant", "gateway's token"); later series in a row only at debug. A relay answers
 * nothing to an INIT it refuses (protocol.md §9), so without this line a
 * misconfigured endpoint would just never come up.
 */
void hop_link_log_unanswered(const struct hop_link *l, unsigned relay, const char *hop_suite,
			     const char *credential);

/* "up", "down", "draining", "unanswered"; "silent", "expired", "goaway", "none". */
const char *hop_link_state_name(enum hop_link_state st);
const char *hop_link_why_name(enum hop_link_why why);

#endif /* POSTERN_ENDPOINT_HOP_LINK_H */
