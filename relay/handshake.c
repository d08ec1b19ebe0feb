/*
 * handshake.c — the HANDSHAKE_INIT responder; the order of checks is
 * protocol.md §3.4 and is listed in handshake.h.
 */
#include "relay/handshake.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "crypto/cookie.h"
#include "crypto/noise.h"
#include "crypto/token.h"
#include "relay/channel.h"
#include "relay/core.h"
#include "relay/handle.h"
#include "relay/handoff.h"
#include "relay/identity.h"
#include "relay/ratelimit.h"
#include "relay/send.h"
#include "wire/hop.h"

/* WireGuard keeps "under load" for a second after the queue was last crowded. */
#define LOAD_HOLD_NS UINT64_C(1000000000)

static enum relay_drop token_drop(enum token_status st)
{
	switch (st) {
	case TOKEN_UNKNOWN_SIGNER:
		return RELAY_DROP_TOKEN_UNKNOWN_SIGNER;
	case TOKEN_BAD_SIGNATURE:
		return RELAY_DROP_TOKEN_BAD_SIGNATURE;
	case TOKEN_NOT_YET_VALID:
		return RELAY_DROP_TOKEN_NOT_YET_VALID;
	case TOKEN_EXPIRED:
		return RELAY_DROP_TOKEN_EXPIRED;
	case TOKEN_REVOKED:
		return RELAY_DROP_TOKEN_REVOKED;
	case TOKEN_KEY_MISMATCH:
		return RELAY_DROP_TOKEN_KEY_MISMATCH;
	default:
		return RELAY_DROP_TOKEN_MALFORMED;
	}
}

/* Same role, tenant and tunnels: the session's channels and directory entries stand. */
static bool same_grant(const struct token *a, const struct token *b)
{
	if (a->role != b->role || a->n_tunnels != b->n_tunnels || strcmp(a->tenant, b->tenant))
		return false;
	for (unsigned i = 0; i < a->n_tunnels; i++)
		if (strcmp(a->tunnels[i], b->tunnels[i]))
			return false;
	return true;
}

/* §5.3: answer in the INIT's own mbuf; 64 bytes never exceed the INIT's 297+. */
static void cookie_reply(struct relay_worker *w, struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct pkt_meta *meta = pkt_meta(m);
	uint8_t out[COOKIE_REPLY_LEN];
	uint32_t sender;

	memcpy(&sender, p + HOP_INIT_OFF_SENDER, sizeof(sender));
	sender = rte_le_to_cpu_32(sender);
	if (cookie_reply_create(&w->cookies, (enum suite_id)p[2], p, m->data_len, sender,
				meta->peer.addr, pkt_addr_len(&meta->peer), meta->peer.port,
				w->now, out)) {
		acct_drop(w, m, RELAY_DROP_INTERNAL);
		return;
	}
	memcpy(p, out, sizeof(out));
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - sizeof(out)));
	w->stats.cookies_sent++;
	send_tx(w, m, TX_HANDLED);
}

/* relay_set_admission() may have changed the rate: the buckets are this worker's to adjust. */
static void follow_rate(struct relay_worker *w)
{
	uint32_t rate = __atomic_load_n(&w->r->handshake_rate, __ATOMIC_RELAXED);

	if (rate != w->rl_rate && !ratelimit_set_rate(w->rl, rate))
		w->rl_rate = rate;
}

/* §3.4 steps 2–3 for one INIT of a burst that holds @crowded more than the budget. */
static void admit(struct relay_worker *w, struct rte_mbuf *m, bool crowded)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct pkt_meta *meta = pkt_meta(m);
	enum cookie_mac_state macs;

	macs = cookie_check_macs(&w->cookies, (enum suite_id)p[2], p, m->data_len,
				 meta->peer.addr, pkt_addr_len(&meta->peer), meta->peer.port,
				 w->now);
	if (macs == COOKIE_MAC_INVALID) {
		acct_drop(w, m, RELAY_DROP_BAD_MAC1);
		return;
	}
	if (core_draining(w)) {
		acct_drop(w, m, RELAY_DROP_SHUTTING_DOWN);
		return;
	}
	/* §5.2: under load, no X25519 for a source that has not proven its address. */
	if (crowded || w->hs_burst >= __atomic_load_n(&w->r->handshake_budget, __ATOMIC_RELAXED))
		w->load_until_ns = w->now + LOAD_HOLD_NS;
	if (w->now < w->load_until_ns) {
		if (macs != COOKIE_MAC1_VALID_WITH_COOKIE) {
			cookie_reply(w, m);
			return;
		}
		follow_rate(w);
		if (!ratelimit_allow(w->rl, &meta->peer, w->now)) {
			acct_drop(w, m, RELAY_DROP_RATELIMITED);
			return;
		}
	}
	w->hs_burst++;
	handshake_consume(w, m, false);
}

void handshake_burst(struct relay_worker *w, struct rte_mbuf **pkts, unsigned n)
{
	bool crowded = n > __atomic_load_n(&w->r->handshake_budget, __ATOMIC_RELAXED);

	for (unsigned i = 0; i < n; i++)
		admit(w, pkts[i], crowded);
}

/* A session for a static key nobody holds yet. @return the drop reason, or 0 and *@out. */
static int new_session(struct relay_worker *w, const uint8_t rs[HOP_KEY_LEN],
		       const struct token *tok, struct session **out, uint64_t *owner)
{
	struct session *s = session_alloc(w);
	int ret;

	if (!s)
		return -ENOSPC;
	memcpy(s->static_pub, rs, HOP_KEY_LEN);
	s->tok = *tok;
	ret = identity_claim(w->r->ident, rs, session_handle(w, s), owner);
	if (!ret)
		ret = session_register(w, s);
	if (ret) {
		session_destroy(w, s);
		return ret == -EEXIST ? -EEXIST : -ENOSPC;
	}
	*out = s;
	return 0;
}

/* A new handshake from a live session's key (§3.5): channels survive unless told otherwise. */
static int renew_session(struct relay_worker *w, struct session *s, const struct token *tok,
			 uint8_t flags)
{
	bool changed = !same_grant(&s->tok, tok);

	if ((flags & HOP_PAYLOAD_NEW_SESSION) || changed)
		channel_close_session(w, s);
	if (!changed) {
		s->tok = *tok;
		return 0;
	}
	session_deregister(w, s);
	s->tok = *tok;
	return session_register(w, s);
}

void handshake_consume(struct relay_worker *w, struct rte_mbuf *m, bool handed)
{
	const struct relay *r = w->r;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = m->data_len;
	struct pkt_meta *meta = pkt_meta(m);
	uint8_t payload[HOP_PAYLOAD_MAX];
	uint8_t prologue[PROLOGUE_LEN];
	uint8_t rs[HOP_KEY_LEN];
	struct noise_handshake hs;
	struct noise_keys keys;
	struct hop_resp resp;
	struct hop_payload pl;
	struct hop_init init;
	struct token tok;
	struct session *s = NULL;
	enum token_status status;
	enum relay_drop reason;
	uint64_t owner = HANDLE_NONE;
	uint32_t slot = KP_NONE;
	bool fresh = false;
	size_t plen, n;
	int ret;

	memset(&hs, 0, sizeof(hs));
	memset(&keys, 0, sizeof(keys));
	if (hop_init_decode(p, len, &init) < 0) {
		reason = RELAY_DROP_BAD_HEADER;
		goto drop;
	}
	/* §3.2 prologue: "postern/1" and the suite byte. */
	memcpy(prologue, "postern/1", PROLOGUE_LEN - 1);
	prologue[PROLOGUE_LEN - 1] = init.suite;
	if (noise_handshake_init_pub(&hs, (enum suite_id)init.suite, NOISE_IKPSK2, false,
				     prologue, sizeof(prologue), r->p.static_priv,
				     r->static_pub, NULL, r->p.psk)) {
		reason = RELAY_DROP_INTERNAL;
		goto drop;
	}
	/* §3.4 step 4. */
	if (noise_read_message(&hs, init.ephemeral, hop_init_noise_len(&init), payload,
			       sizeof(payload), &plen) ||
	    hop_payload_decode(payload, plen, &pl)) {
		reason = RELAY_DROP_BAD_HANDSHAKE;
		goto drop;
	}
	memcpy(rs, noise_remote_static(&hs), sizeof(rs));

	/* Only the owner touches a session: a known key elsewhere is handed over. */
	owner = identity_lookup(r->ident, rs);
	if (owner != HANDLE_NONE && handle_worker(owner) != w->id)
		goto elsewhere;
	if (owner != HANDLE_NONE)
		s = session_get(w, owner);

	/* §3.4 step 5: a replayed INIT must not disturb the live session. */
	if (s && memcmp(pl.timestamp, s->last_timestamp, HOP_TIMESTAMP_LEN) <= 0) {
		reason = RELAY_DROP_REPLAYED_HANDSHAKE;
		goto drop;
	}
	/* §3.4 step 6. */
	status = token_verify(pl.token, pl.token_len, core_trust(w)->trust, core_unix_now(w),
			      __atomic_load_n(&r->token_skew_s, __ATOMIC_RELAXED), rs, &tok);
	if (status != TOKEN_OK) {
		reason = token_drop(status);
		goto drop;
	}
	/* §3.4 step 7. */
	slot = session_reserve_keypair(w);
	if (slot == KP_NONE) {
		reason = RELAY_DROP_SESSION_LIMIT;
		goto drop;
	}
	if (!s) {
		ret = new_session(w, rs, &tok, &s, &owner);
		if (ret == -EEXIST)
			goto elsewhere;
		if (ret) {
			reason = RELAY_DROP_SESSION_LIMIT;
			goto drop;
		}
		fresh = true;
	} else if (renew_session(w, s, &tok, pl.flags)) {
		session_destroy(w, s);
		s = NULL;
		reason = RELAY_DROP_SESSION_LIMIT;
		goto drop;
	}

	/* §3.4 step 8: the RESP overwrites the INIT in place; what is needed was copied. */
	memset(&resp, 0, sizeof(resp));
	resp.suite = init.suite;
	resp.sender = handle_index(w->id, slot);
	resp.receiver = init.sender;
	reason = RELAY_DROP_INTERNAL;
	if (hop_resp_encode(p, HOP_RESP_LEN, &resp) != HOP_RESP_LEN ||
	    noise_write_message(&hs, NULL, 0, p + HOP_RESP_OFF_EPHEMERAL, HOP_RESP_NOISE_LEN, &n) ||
	    n != HOP_RESP_NOISE_LEN ||
	    cookie_mac1_write((enum suite_id)init.suite, rs, p, HOP_RESP_LEN) ||
	    noise_split(&hs, &keys))
		goto fail;
	if (session_install_keypair(w, s, slot, (enum suite_id)init.suite, &keys, init.sender)) {
		slot = KP_NONE;		/* given back */
		goto fail;
	}
	slot = KP_NONE;
	memcpy(s->last_timestamp, pl.timestamp, HOP_TIMESTAMP_LEN);
	s->peer = meta->peer;
	s->listener = meta->listener;
	rte_pktmbuf_trim(m, (uint16_t)(len - HOP_RESP_LEN));
	w->stats.handshakes++;
	send_tx(w, m, TX_HANDLED);
	goto out;

elsewhere:
	if (handed) {
		/* The owner changed while the INIT was in a ring: rare; the initiator retries. */
		reason = RELAY_DROP_STALE_HANDLE;
		goto drop;
	}
	handoff_send(w, handle_worker(owner), m, HANDOFF_INIT, owner, 0);
	goto out;
fail:
	if (fresh)
		session_destroy(w, s);
drop:
	acct_drop(w, m, reason);
out:
	if (slot != KP_NONE)
		session_unreserve_keypair(w, slot);
	noise_handshake_wipe(&hs);
	OPENSSL_cleanse(&keys, sizeof(keys));
	OPENSSL_cleanse(payload, sizeof(payload));
}
