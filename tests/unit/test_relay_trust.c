/*
 * test_relay_trust.c — changing the trust store of a running relay
 * (protocol.md §6.3, relay.h relay_trust_*): a revoked token id or an
 * untrusted signer ends the live sessions it admitted on the workers' next
 * poll (their channels closed with PEER_GONE toward the other side) and
 * refuses their next handshakes, while every other channel keeps flowing with
 * every byte intact; superseded stores are freed only after every worker has
 * passed its quiescent point.
 *
 * Topology (relay_harness.h): one relay with two workers, a fake clock; the
 * gateway's packets arrive on worker 1, the agents' on workers 0 and 1.
 */
#include <criterion/criterion.h>

#include <errno.h>
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

TestSuite(relay_trust, .init = setup, .fini = teardown);

static const char *const crm[] = { "crm" };

static struct rh_ep *endpoint(const char *name, enum token_role role, unsigned worker,
			      uint8_t host, const uint8_t *signer)
{
	struct rh_ep *ep = rh_ep_new(&h, name, role, "acme", crm, 1, worker, host);

	if (signer)
		rh_ep_resign(&h, ep, signer);
	rh_connect(&h, ep, 0);
	return ep;
}

/* Send @n bytes (seeded) from @from on @id; assert @to gets exactly them on @to_id. */
static void data_ok(struct rh_ep *from, uint32_t id, struct rh_ep *to, uint32_t to_id, size_t n,
		    unsigned seed)
{
	static uint8_t buf[RH_E2E_MAX];
	struct rh_frame f;

	rh_fill(buf, n, seed);
	rh_send_data(&h, from, id, buf, n);
	rh_pump(&h);
	f = rh_expect(to, FRAME_CHANNEL_DATA);
	cr_assert_eq(f.id, to_id);
	cr_assert_eq(f.len, n);
	cr_assert_arr_eq(f.bytes, buf, n, "%zu bytes from %s to %s differ", n, from->name,
			 to->name);
	rh_expect_nothing(to);
	rh_expect_nothing(from);
}

/* Both directions of the bystander's channel, several sizes: nothing lost or changed. */
static void bystander_flows(struct rh_ep *ag, uint32_t id, struct rh_ep *gw, uint32_t gid,
			    unsigned seed)
{
	static const size_t sizes[] = { 1, 100, 1200 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		data_ok(ag, id, gw, gid, sizes[i], seed + i);
		data_ok(gw, gid, ag, id, sizes[i], seed + 100 + i);
	}
}

static void expect_close(struct rh_ep *ep, uint32_t id, uint16_t reason)
{
	struct rh_frame f = rh_expect(ep, FRAME_CHANNEL_CLOSE);

	cr_assert_eq(f.id, id, "%s: CLOSE for %u, expected %u", ep->name, f.id, id);
	cr_assert_eq(f.reason, reason, "%s: CLOSE %s, expected %s", ep->name,
		     frame_close_reason_name(f.reason), frame_close_reason_name(reason));
}

/* A fresh INIT from @ep is dropped under @reason and answered with nothing. */
static void init_refused(struct rh_ep *ep, enum relay_drop reason)
{
	uint64_t before = rh_stats(&h).dropped[reason];
	unsigned resp = ep->n_resp;

	rh_init_build(&h, ep, 0);
	rh_inject(&h, ep->worker, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).dropped[reason], before + 1, "%s", relay_drop_name(reason));
	cr_assert_eq(ep->n_resp, resp, "%s was answered", ep->name);
	rh_expect_nothing(ep);
}

/* Revoke the agent's id while it and a bystander have channels to one gateway. */
static void revoke_agent(unsigned victim_worker)
{
	struct rh_ep *gw, *victim, *other;
	uint32_t gid_v, gid_o;
	uint64_t unknown;

	rh_start(&h, NULL);
	gw = endpoint("gw", TOKEN_ROLE_GATEWAY, 1, 1, NULL);
	victim = endpoint("victim", TOKEN_ROLE_AGENT, victim_worker, 2, NULL);
	other = endpoint("other", TOKEN_ROLE_AGENT, 1 - victim_worker, 3, NULL);
	gid_v = rh_open_channel(&h, victim, gw, 7, "crm");
	gid_o = rh_open_channel(&h, other, gw, 9, "crm");
	data_ok(victim, 7, gw, gid_v, 100, 1);
	bystander_flows(other, 9, gw, gid_o, 10);
	cr_assert_eq(rh_stats(&h).sessions, 3);
	cr_assert_eq(relay_trust_generation(h.r), 0);

	cr_assert_eq(relay_trust_revoke(h.r, victim->tok.id), 0);
	cr_assert_eq(relay_trust_generation(h.r), 1);
	/* Nobody has polled since the swap: the old store must stay. */
	cr_assert_eq(relay_trust_reclaim(h.r), 1);
	/* Again is fine and publishes nothing. */
	cr_assert_eq(relay_trust_revoke(h.r, victim->tok.id), 0);
	cr_assert_eq(relay_trust_generation(h.r), 1);

	rh_pump(&h);
	cr_assert_eq(relay_trust_reclaim(h.r), 0);
	cr_assert_eq(rh_stats(&h).sessions, 2);
	expect_close(gw, gid_v, FRAME_CLOSE_PEER_GONE);
	rh_expect_nothing(gw);
	rh_expect_nothing(victim);
	cr_assert_eq(rh_stats(&h).channels, 1, "the bystander's channel remains");

	/* The victim's keys are gone with its session. */
	unknown = rh_stats(&h).dropped[RELAY_DROP_UNKNOWN_INDEX];
	rh_send_data(&h, victim, 7, (const uint8_t *)"x", 1);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_UNKNOWN_INDEX], unknown + 1);
	rh_expect_nothing(gw);
	init_refused(victim, RELAY_DROP_TOKEN_REVOKED);

	bystander_flows(other, 9, gw, gid_o, 20);
	rh_assert_invariant(&h);
}

/* The gateway is on worker 1: the victim's CLOSE crosses a ring, or not. */
Test(relay_trust, revoke_ends_the_session_on_another_worker)
{
	revoke_agent(0);
}

Test(relay_trust, revoke_ends_the_session_on_the_same_worker)
{
	revoke_agent(1);
}

/* Revoking a gateway's token closes every channel it served, toward the agents. */
Test(relay_trust, revoked_gateway_closes_the_agents_channels)
{
	struct rh_ep *gw, *gw2, *ag;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = endpoint("gw", TOKEN_ROLE_GATEWAY, 1, 1, NULL);
	ag = endpoint("agent", TOKEN_ROLE_AGENT, 0, 2, NULL);
	gid = rh_open_channel(&h, ag, gw, 7, "crm");
	data_ok(gw, gid, ag, 7, 500, 1);

	cr_assert_eq(relay_trust_revoke(h.r, gw->tok.id), 0);
	rh_pump(&h);
	expect_close(ag, 7, FRAME_CLOSE_PEER_GONE);
	rh_expect_nothing(ag);
	cr_assert_eq(rh_stats(&h).sessions, 1);
	cr_assert_eq(rh_stats(&h).channels, 0);
	init_refused(gw, RELAY_DROP_TOKEN_REVOKED);

	/* Another gateway of the tunnel serves the agent's next channel. */
	gw2 = endpoint("gw2", TOKEN_ROLE_GATEWAY, 0, 3, NULL);
	gid = rh_open_channel(&h, ag, gw2, 8, "crm");
	data_ok(ag, 8, gw2, gid, 700, 2);
	rh_assert_invariant(&h);
}

Test(relay_trust, untrust_ends_the_signers_sessions)
{
	uint8_t signer2[32], pub2[32];
	struct rh_ep *gw, *old, *other;
	uint32_t gid_old, gid_o;

	cr_assert_eq(keys_generate(signer2), 0);
	cr_assert_eq(keys_public_ed25519(signer2, pub2), 0);
	rh_start(&h, NULL);
	gw = endpoint("gw", TOKEN_ROLE_GATEWAY, 1, 1, NULL);
	other = endpoint("other", TOKEN_ROLE_AGENT, 1, 3, NULL);
	gid_o = rh_open_channel(&h, other, gw, 9, "crm");

	/* Not trusted yet: its tokens are unknown_signer. */
	old = rh_ep_new(&h, "signed2", TOKEN_ROLE_AGENT, "acme", crm, 1, 0, 2);
	rh_ep_resign(&h, old, signer2);
	init_refused(old, RELAY_DROP_TOKEN_UNKNOWN_SIGNER);

	cr_assert_eq(relay_trust_add_signer(h.r, pub2), 0);
	cr_assert_eq(relay_trust_add_signer(h.r, pub2), -EEXIST);
	cr_assert_eq(relay_trust_generation(h.r), 1);
	rh_pump(&h);
	rh_connect(&h, old, 0);
	gid_old = rh_open_channel(&h, old, gw, 7, "crm");
	data_ok(old, 7, gw, gid_old, 300, 1);
	bystander_flows(other, 9, gw, gid_o, 10);

	cr_assert_eq(relay_trust_remove_signer(h.r, pub2), 0);
	cr_assert_eq(relay_trust_remove_signer(h.r, pub2), -ENOENT);
	cr_assert_eq(relay_trust_generation(h.r), 2);
	rh_pump(&h);
	expect_close(gw, gid_old, FRAME_CLOSE_PEER_GONE);
	rh_expect_nothing(gw);
	rh_expect_nothing(old);
	cr_assert_eq(rh_stats(&h).sessions, 2);
	init_refused(old, RELAY_DROP_TOKEN_UNKNOWN_SIGNER);
	bystander_flows(other, 9, gw, gid_o, 20);

	/* Trusted again: admitted again (the store forgot it was untrusted). */
	cr_assert_eq(relay_trust_add_signer(h.r, pub2), 0);
	rh_pump(&h);
	rh_connect(&h, old, 0);
	cr_assert_eq(rh_stats(&h).sessions, 3);
	/* And a later, unrelated change ends nothing. */
	cr_assert_eq(relay_trust_revoke(h.r, (const uint8_t[TOKEN_ID_LEN]){ 0xee }), 0);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).sessions, 3);
	bystander_flows(other, 9, gw, gid_o, 30);
	cr_assert_eq(relay_trust_reclaim(h.r), 0);
	rh_assert_invariant(&h);
}

/* Superseded stores wait for every worker; too many waiting is -EBUSY, not a leak. */
Test(relay_trust, retired_stores_wait_for_every_worker)
{
	uint8_t id[TOKEN_ID_LEN] = { 0 };
	unsigned i;
	int ret = 0;

	rh_start(&h, NULL);
	for (i = 0; i < 64; i++) {
		id[0] = (uint8_t)i;
		ret = relay_trust_revoke(h.r, id);
		if (ret)
			break;
	}
	cr_assert_eq(ret, -EBUSY);
	cr_assert_gt(i, 0);
	cr_assert_eq(relay_trust_reclaim(h.r), i);
	/* Only one worker has polled: still nothing may be freed. */
	relay_worker_poll(relay_get_worker(h.r, 0), h.now);
	cr_assert_eq(relay_trust_reclaim(h.r), i);
	relay_worker_poll(relay_get_worker(h.r, 1), h.now);
	cr_assert_eq(relay_trust_reclaim(h.r), 0);
	cr_assert_eq(relay_trust_revoke(h.r, id), 0);
	cr_assert_eq(relay_trust_generation(h.r), i + 1);
}
