/*
 * handshake.h — the relay's HANDSHAKE_INIT responder (protocol.md §3.4, §5).
 *
 * In order, for each INIT of a burst:
 *	cookie_check_macs: bad mac1 → drop bad_mac1, never answer
 *	draining → drop shutting_down
 *	under load (this burst holds more INITs than the budget, or the budget is
 *	spent; the state lasts one second, as in WireGuard) and no valid mac2
 *	→ COOKIE_REPLY in the same mbuf (64 bytes, always smaller than the INIT)
 *	under load with a valid mac2: per-source token bucket → drop ratelimited
 *	Noise IKpsk2 read (bad_handshake) → payload flags (bad_handshake)
 *	static key owned by another worker → hand the INIT over (it runs again there)
 *	TAI64N timestamp not newer than this key's last → replayed_handshake
 *	token_verify against the handshake's static key → token_<reason>
 *	new session: session or keypair table full, directory full → session_limit
 *	write HANDSHAKE_RESP (Noise msg 2, indices, mac1 keyed by the initiator's
 *	static key) into the same mbuf, install the keypair as next, send.
 * Failures after the mac1 check send nothing.
 *
 * An INIT from a live session's key adds a keypair to it (channels survive).
 * With NEW_SESSION, or a token that changes the role, tenant or tunnels, the
 * session's channels are closed first (PEER_GONE to the other sides) and a
 * gateway's directory entries are rewritten.
 *
 * Threads: the owning worker.
 */
#ifndef POSTERN_RELAY_HANDSHAKE_H
#define POSTERN_RELAY_HANDSHAKE_H

#include <stdbool.h>

struct rte_mbuf;
struct relay_worker;

/* The @n INITs of one RX burst. Consumes them. */
void handshake_burst(struct relay_worker *w, struct rte_mbuf **pkts, unsigned n);

/*
 * Noise onward for one INIT that passed the mac and load checks (or came
 * from another worker: @handed, never handed on again). Consumes @m.
 */
void handshake_consume(struct relay_worker *w, struct rte_mbuf *m, bool handed);

#endif /* POSTERN_RELAY_HANDSHAKE_H */
