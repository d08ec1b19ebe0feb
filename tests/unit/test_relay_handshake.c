/*
 * test_relay_handshake.c — the relay's admission path (protocol.md §3.4, §5):
 * handshakes for both roles and suites, every token failure reason, silence
 * on bad mac1 and failed Noise, cookies under load, the per-source rate
 * limit, replayed INITs, limits, draining, the packet classifier, and INITs
 * that land on a worker other than the session's owner.
 *
 * Each test runs the relay core in memory (relay_harness.h) and ends in
 * rh_stop(), which asserts the stats invariant and that every mbuf is back.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <string.h>

#include "crypto/keys.h"
#include "relay_harness.h"

static struct rh h;

static void setup(void)
{
	memset(&h, 0, sizeof(h));
}

static void teardown(void)
{
	rh_stop(&h);
	rh_eal_fini();
}

TestSuite(relay_handshake, .init = setup, .fini = teardown);

static const char *const crm[] = { "crm" };
static const char *const any[] = { "*" };

/* Nothing at all was transmitted to anyone. */
static void assert_silent(struct rh_ep *ep)
{
	cr_assert_eq(ep->n_resp + ep->n_cookie + ep->n_data, 0, "%s got an answer", ep->name);
	cr_assert_eq(h.tx_unmatched, 0);
	cr_assert_eq(rh_stats(&h).tx_packets, 0);
}

static void ping_pong(struct rh_ep *ep)
{
	uint8_t buf[16], opaque[FRAME_PING_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct rh_frame f;
	int off = frame_ping_encode(buf, sizeof(buf), 0, opaque);

	cr_assert_gt(off, 0);
	rh_send(&h, ep, buf, (size_t)off);
	rh_pump(&h);
	f = rh_expect(ep, FRAME_PONG);
	cr_assert_arr_eq(f.bytes, opaque, sizeof(opaque));
}

Test(relay_handshake, both_roles_both_suites)
{
	static const struct {
		enum token_role role;
		enum suite_id suite;
		unsigned worker;
	} cases[] = {
		{ TOKEN_ROLE_GATEWAY, SUITE_CHACHAPOLY_BLAKE2S, 0 },
		{ TOKEN_ROLE_GATEWAY, SUITE_AESGCM_SHA256, 1 },
		{ TOKEN_ROLE_AGENT, SUITE_CHACHAPOLY_BLAKE2S, 1 },
		{ TOKEN_ROLE_AGENT, SUITE_AESGCM_SHA256, 0 },
	};

	rh_start(&h, NULL);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rh_ep *ep = rh_ep_new(&h, "ep", cases[i].role, "acme",
					     cases[i].role == TOKEN_ROLE_AGENT ? any : crm, 1,
					     cases[i].worker, (uint8_t)(10 + i));

		ep->suite = cases[i].suite;
		rh_connect(&h, ep, 0);
		cr_assert(ep->established, "case %u", i);
		ping_pong(ep);
	}
	struct relay_stats s = rh_stats(&h);

	cr_assert_eq(s.handshakes, 4);
	cr_assert_eq(s.sessions, 4);
	cr_assert_eq(relay_stats_dropped(&s), 0);
	rh_assert_invariant(&h);
}

enum tamper {
	T_VERSION,
	T_OTHER_SIGNER,
	T_SIGNATURE,
	T_NOT_YET,
	T_EXPIRED,
	T_REVOKED,
	T_OTHER_KEY,
};

Test(relay_handshake, token_failures_dropped_silently)
{
	static const struct {
		enum tamper t;
		enum relay_drop reason;
	} cases[] = {
		{ T_VERSION, RELAY_DROP_TOKEN_MALFORMED },
		{ T_OTHER_SIGNER, RELAY_DROP_TOKEN_UNKNOWN_SIGNER },
		{ T_SIGNATURE, RELAY_DROP_TOKEN_BAD_SIGNATURE },
		{ T_NOT_YET, RELAY_DROP_TOKEN_NOT_YET_VALID },
		{ T_EXPIRED, RELAY_DROP_TOKEN_EXPIRED },
		{ T_REVOKED, RELAY_DROP_TOKEN_REVOKED },
		{ T_OTHER_KEY, RELAY_DROP_TOKEN_KEY_MISMATCH },
	};
	unsigned n = sizeof(cases) / sizeof(cases[0]);

	rh_start(&h, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct rh_ep *ep = rh_ep_new(&h, "bad", TOKEN_ROLE_GATEWAY, "acme", crm, 1, i % 2,
					     (uint8_t)(20 + i));
		uint8_t other[32];

		switch (cases[i].t) {
		case T_VERSION:
			ep->token[0] = 2;
			break;
		case T_OTHER_SIGNER:
			cr_assert_eq(keys_generate(other), 0);
			rh_ep_resign(&h, ep, other);
			break;
		case T_SIGNATURE:
			ep->token[ep->token_len - 1] ^= 1;
			break;
		case T_NOT_YET:
			ep->tok.not_before = RH_UNIX_START + 3600;
			ep->tok.expiry = RH_UNIX_START + 7200;
			rh_ep_resign(&h, ep, NULL);
			break;
		case T_EXPIRED:
			ep->tok.expiry = RH_UNIX_START - 60;
			rh_ep_resign(&h, ep, NULL);
			break;
		case T_REVOKED:
			cr_assert_eq(token_trust_revoke(h.trust, ep->tok.id), 0);
			break;
		case T_OTHER_KEY:
			cr_assert_eq(keys_generate(other), 0);
			cr_assert_eq(keys_public_x25519(other, ep->tok.endpoint_pub), 0);
			rh_ep_resign(&h, ep, NULL);
			break;
		}
		rh_init_build(&h, ep, 0);
		rh_inject(&h, ep->worker, ep, ep->last_init, ep->last_init_len);
		rh_pump(&h);
		assert_silent(ep);
		cr_assert_eq(rh_stats(&h).dropped[cases[i].reason], 1, "%s",
			     relay_drop_name(cases[i].reason));
	}
	struct relay_stats s = rh_stats(&h);

	cr_assert_eq(relay_stats_dropped(&s), n);
	cr_assert_eq(s.sessions, 0);
	cr_assert_eq(s.handshakes, 0);
}

Test(relay_handshake, bad_mac1_never_answered)
{
	struct rh_ep *ep;
	uint8_t other_priv[32], other_pub[32];

	rh_start(&h, NULL);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 5);
	/* A flipped byte anywhere under mac1. */
	rh_init_build(&h, ep, 0);
	ep->last_init[50] ^= 0x40;
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	/* mac1 for another relay's key: a scanner that guesses cannot get an answer. */
	cr_assert_eq(keys_generate(other_priv), 0);
	cr_assert_eq(keys_public_x25519(other_priv, other_pub), 0);
	rh_init_build(&h, ep, 0);
	cookie_maker_wipe(&ep->maker);
	cr_assert_eq(cookie_maker_init(&ep->maker, other_pub), 0);
	cr_assert_eq(cookie_add_macs(&ep->maker, ep->suite, ep->last_init, ep->last_init_len,
				     h.now), 0);
	rh_inject(&h, 1, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	assert_silent(ep);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_BAD_MAC1], 2);
}

Test(relay_handshake, failed_noise_is_silent)
{
	struct rh_ep *ep;

	rh_start(&h, NULL);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 5);
	/* A valid mac1 over a broken Noise message (encrypted static). */
	rh_init_build(&h, ep, 0);
	ep->last_init[HOP_INIT_OFF_STATIC + 3] ^= 1;
	cr_assert_eq(cookie_add_macs(&ep->maker, ep->suite, ep->last_init, ep->last_init_len,
				     h.now), 0);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	/* Unknown flag bits in the payload: a Noise-valid but malformed INIT. */
	rh_init_build(&h, ep, 0x80);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	assert_silent(ep);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_BAD_HANDSHAKE], 2);
}

Test(relay_handshake, cookie_under_load_then_success_with_mac2)
{
	struct relay_params p;
	struct rh_ep *ep[2];

	rh_params(&h, &p);
	p.handshake_budget = 1;
	rh_start(&h, &p);
	ep[0] = rh_ep_new(&h, "gw1", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 1);
	ep[1] = rh_ep_new(&h, "gw2", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 2);
	/* Two INITs in a burst whose budget is one: under load, no DH at all. */
	rh_init_build(&h, ep[0], 0);
	rh_init_build(&h, ep[1], 0);
	rh_inject_inits(&h, 0, ep, 2);
	rh_pump(&h);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(ep[i]->n_cookie, 1);
		cr_assert_eq(ep[i]->n_resp, 0);
		cr_assert(ep[i]->maker.have_cookie);
	}
	cr_assert_eq(rh_stats(&h).cookies_sent, 2);
	cr_assert_eq(rh_stats(&h).handshakes, 0);
	cr_assert_eq(rh_stats(&h).sessions, 0);
	/* Still under load, half a second later: INITs with mac2 are worth the work. */
	rh_advance(&h, 500 * RH_MS);
	for (int i = 0; i < 2; i++) {
		rh_init_build(&h, ep[i], 0);
		rh_inject(&h, 0, ep[i], ep[i]->last_init, ep[i]->last_init_len);
		rh_pump(&h);
		cr_assert_eq(ep[i]->n_resp, 1, "%s", ep[i]->name);
		cr_assert_eq(ep[i]->n_cookie, 1);
	}
	cr_assert_eq(rh_stats(&h).handshakes, 2);
	cr_assert_eq(rh_stats(&h).cookies_sent, 2);
}

Test(relay_handshake, cookie_reply_is_smaller_than_the_init)
{
	struct relay_params p;
	struct rh_ep *ep;

	rh_params(&h, &p);
	p.handshake_budget = 0;		/* always under load */
	rh_start(&h, &p);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 1);
	rh_init_build(&h, ep, 0);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	/* Look at the reply before the harness consumes it. */
	relay_worker_poll(relay_get_worker(h.r, 0), h.now);
	cr_assert_eq(h.ntx, 1);
	cr_assert_eq(h.tx[0]->data_len, HOP_COOKIE_REPLY_LEN);
	cr_assert_lt(h.tx[0]->data_len, ep->last_init_len);
	rh_pump(&h);
	cr_assert_eq(ep->n_cookie, 1);
}

/* A burst of @n INITs from @ep, each with its cookie; @return the handshakes it added. */
static unsigned cookie_burst(struct rh_ep *ep, unsigned n)
{
	static uint8_t inits[10][HOP_INIT_MAX];
	uint64_t before = rh_stats(&h).handshakes;
	uint8_t *pkts[10];
	size_t lens[10];

	cr_assert_leq(n, 10);
	for (unsigned i = 0; i < n; i++) {
		rh_init_build(&h, ep, 0);
		memcpy(inits[i], ep->last_init, ep->last_init_len);
		pkts[i] = inits[i];
		lens[i] = ep->last_init_len;
	}
	rh_inject_burst(&h, 0, ep, pkts, lens, n);
	rh_pump(&h);
	return (unsigned)(rh_stats(&h).handshakes - before);
}

/* A relay always under load (budget 0), and a gateway that holds its cookie. */
static struct rh_ep *gateway_with_cookie(void)
{
	struct relay_params p;
	struct rh_ep *ep;

	rh_params(&h, &p);
	p.handshake_budget = 0;
	rh_start(&h, &p);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 1);
	rh_init_build(&h, ep, 0);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	cr_assert_eq(ep->n_cookie, 1);
	return ep;
}

Test(relay_handshake, ratelimit_with_valid_mac2)
{
	struct rh_ep *ep = gateway_with_cookie();

	/* Ten INITs with a valid cookie in one burst from one address: a burst of 5 passes. */
	cr_assert_eq(cookie_burst(ep, 10), 5);
	cr_assert_eq(rh_stats(&h).handshakes, 5);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_RATELIMITED], 5);
	/* The last INIT was rate-limited, so only stale RESPs arrived. */
	cr_assert_eq(ep->n_stale_resp, 5);
	/* A second later the bucket has refilled. */
	rh_advance(&h, RH_SEC);
	rh_init_build(&h, ep, 0);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	cr_assert_eq(ep->n_resp, 1);
}

Test(relay_handshake, admission_settings_change_while_running)
{
	struct rh_ep *ep = gateway_with_cookie();
	unsigned cookies;

	cr_assert_eq(cookie_burst(ep, 10), 5);

	/* 20/s refills the burst of 5 in a second; 1/s refills one INIT's worth. */
	cr_assert_eq(relay_set_admission(h.r, 0, 1, TOKEN_DEFAULT_SKEW), 0);
	rh_advance(&h, RH_SEC);
	cr_assert_eq(cookie_burst(ep, 10), 1);
	cr_assert_eq(relay_set_admission(h.r, 0, 20, TOKEN_DEFAULT_SKEW), 0);
	rh_advance(&h, RH_SEC);
	cr_assert_eq(cookie_burst(ep, 10), 5);

	/* A budget again: once the load has passed, an INIT without a cookie is answered. */
	cr_assert_eq(relay_set_admission(h.r, 4, 20, TOKEN_DEFAULT_SKEW), 0);
	rh_advance(&h, 2 * RH_SEC);
	cookies = ep->n_cookie;
	rh_init_build(&h, ep, 0);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	cr_assert_eq(ep->n_cookie, cookies);
	cr_assert_eq(ep->n_resp, 1);

	cr_assert_eq(relay_set_admission(h.r, 4, 0, TOKEN_DEFAULT_SKEW), -EINVAL);
}

Test(relay_handshake, replayed_init_dropped_session_unharmed)
{
	struct rh_ep *ep;
	uint8_t copy[HOP_INIT_MAX];
	size_t len;

	rh_start(&h, NULL);
	ep = rh_ep_new(&h, "agent", TOKEN_ROLE_AGENT, "acme", any, 1, 1, 7);
	rh_connect(&h, ep, 0);
	memcpy(copy, ep->last_init, ep->last_init_len);
	len = ep->last_init_len;
	rh_inject(&h, 1, ep, copy, len);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_REPLAYED_HANDSHAKE], 1);
	cr_assert_eq(ep->n_resp + ep->n_stale_resp, 1);
	cr_assert_eq(rh_stats(&h).handshakes, 1);
	ping_pong(ep);
}

Test(relay_handshake, rekey_keeps_one_session)
{
	struct rh_ep *ep;

	rh_start(&h, NULL);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 7);
	for (int i = 0; i < 3; i++) {
		rh_connect(&h, ep, 0);
		ping_pong(ep);
	}
	cr_assert_eq(rh_stats(&h).handshakes, 3);
	cr_assert_eq(rh_stats(&h).sessions, 1);
}

Test(relay_handshake, known_key_on_another_worker_goes_to_its_owner)
{
	struct rh_ep *ep;
	struct relay_stats s;

	rh_start(&h, NULL);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 7);
	rh_connect(&h, ep, 0);
	/* NAT rebinding: new address, and RSS now picks worker 1. */
	ep->addr.port++;
	ep->worker = 1;
	rh_connect(&h, ep, 0);
	s = rh_stats(&h);
	cr_assert_eq(s.sessions, 1);
	cr_assert_eq(relay_worker_stats(relay_get_worker(h.r, 0))->sessions, 1);
	cr_assert_eq(relay_worker_stats(relay_get_worker(h.r, 0))->handshakes, 2);
	cr_assert_geq(relay_worker_stats(relay_get_worker(h.r, 0))->handoff_in, 2);
	/* DATA arriving on worker 1 for worker 0's index is handed over too; replies roam. */
	ping_pong(ep);
	cr_assert_eq(relay_stats_dropped(&s), 0);
}

Test(relay_handshake, session_limit)
{
	struct relay_params p;
	struct rh_ep *a, *b;

	rh_params(&h, &p);
	p.max_sessions = 2;		/* one per worker */
	rh_start(&h, &p);
	a = rh_ep_new(&h, "a", TOKEN_ROLE_AGENT, "acme", any, 1, 0, 1);
	b = rh_ep_new(&h, "b", TOKEN_ROLE_AGENT, "acme", any, 1, 0, 2);
	rh_connect(&h, a, 0);
	rh_init_build(&h, b, 0);
	rh_inject(&h, 0, b, b->last_init, b->last_init_len);
	rh_pump(&h);
	cr_assert_eq(b->n_resp, 0);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_SESSION_LIMIT], 1);
	/* The same endpoint is admitted on the other worker, which has room. */
	b->worker = 1;
	rh_connect(&h, b, 0);
}

Test(relay_handshake, draining_refuses_new_handshakes)
{
	struct rh_ep *ep;

	rh_start(&h, NULL);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 7);
	relay_drain(h.r, 1000);
	rh_pump(&h);
	rh_init_build(&h, ep, 0);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	assert_silent(ep);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_SHUTTING_DOWN], 1);
}

Test(relay_handshake, classifier_drops)
{
	static const struct {
		const char *name;
		uint8_t bytes[8];
		size_t len;
		enum relay_drop reason;
	} cases[] = {
		{ "short", { 4, 1, 0 }, 3, RELAY_DROP_BAD_HEADER },
		{ "unknown type", { 9, 1, 0, 0 }, 64, RELAY_DROP_BAD_HEADER },
		{ "version 2", { 4, 2, 0, 0 }, 64, RELAY_DROP_BAD_VERSION },
		{ "reserved byte", { 4, 1, 0, 1 }, 64, RELAY_DROP_BAD_HEADER },
		{ "DATA with a suite", { 4, 1, 1, 0 }, 64, RELAY_DROP_BAD_HEADER },
		{ "RESP to a relay", { 2, 1, 1, 0 }, 92, RELAY_DROP_BAD_HEADER },
		{ "COOKIE to a relay", { 3, 1, 1, 0 }, 64, RELAY_DROP_BAD_HEADER },
		{ "short DATA", { 4, 1, 0, 0 }, 31, RELAY_DROP_BAD_HEADER },
		{ "DATA above the MTU", { 4, 1, 0, 0 }, HOP_MTU + 1, RELAY_DROP_BAD_HEADER },
		{ "short INIT", { 1, 1, 1, 0 }, 296, RELAY_DROP_BAD_HEADER },
		{ "DATA, unknown worker", { 4, 1, 0, 0, 0, 0, 0, 0x7f }, 64,
		  RELAY_DROP_UNKNOWN_INDEX },
		{ "DATA, unknown slot", { 4, 1, 0, 0, 0x33, 0, 0, 0 }, 64,
		  RELAY_DROP_UNKNOWN_INDEX },
	};
	static uint8_t buf[HOP_MTU + 1];
	unsigned n = sizeof(cases) / sizeof(cases[0]);

	rh_start(&h, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct relay_stats before = rh_stats(&h);

		memset(buf, 0, sizeof(buf));
		memcpy(buf, cases[i].bytes, sizeof(cases[i].bytes));
		rh_inject(&h, i % 2, NULL, buf, cases[i].len);
		rh_pump(&h);
		cr_assert_eq(rh_stats(&h).dropped[cases[i].reason],
			     before.dropped[cases[i].reason] + 1, "%s", cases[i].name);
	}
	{
		struct relay_stats s = rh_stats(&h);

		cr_assert_eq(relay_stats_dropped(&s), n);
		cr_assert_eq(s.tx_packets, 0);
	}
}

Test(relay_handshake, suite_policy)
{
	struct relay_params p;
	struct rh_ep *ep;

	rh_params(&h, &p);
	p.suites = HOP_SUITES_AESGCM;
	rh_start(&h, &p);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 7);
	rh_init_build(&h, ep, 0);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	assert_silent(ep);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_BAD_HEADER], 1);
	ep->suite = SUITE_AESGCM_SHA256;
	rh_connect(&h, ep, 0);
}

Test(relay_handshake, psk_must_match)
{
	struct relay_params p;
	struct rh_ep *ep, *stranger;

	rh_params(&h, &p);
	memset(p.psk, 0x42, sizeof(p.psk));
	rh_start(&h, &p);
	/* Same deployment PSK: it connects. */
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 7);
	rh_connect(&h, ep, 0);
	ping_pong(ep);
	/*
	 * Another PSK: the psk token is in message 2 (IKpsk2), so the relay
	 * answers, and the initiator cannot read the answer.
	 */
	stranger = rh_ep_new(&h, "gw2", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 1, 8);
	stranger->psk_override = true;
	memset(stranger->psk, 0x43, sizeof(stranger->psk));
	rh_init_build(&h, stranger, 0);
	rh_inject(&h, 1, stranger, stranger->last_init, stranger->last_init_len);
	rh_pump(&h);
	cr_assert_eq(stranger->n_bad_resp, 1);
	cr_assert_not(stranger->established);
}
