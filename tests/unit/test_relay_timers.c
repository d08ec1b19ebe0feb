/*
 * test_relay_timers.c — the relay's clocks (protocol.md §4, §6.2, §7): keypair
 * and session expiry, OPEN timeouts, the drain (GOAWAY, then SHUTDOWN),
 * token validity on the injected wall clock, and an empty mempool.
 *
 * The fake clock only moves when a test says so (rh_advance), so every
 * deadline is checked just before and just after it.
 */
#include <criterion/criterion.h>

#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "relay/session.h"
#include "relay/timers.h"
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

TestSuite(relay_timers, .init = setup, .fini = teardown);

static const char *const crm[] = { "crm" };

/* Timers run at most once per TIMERS_PERIOD_NS; a little slack past each deadline. */
#define SLACK (2 * TIMERS_PERIOD_NS)

static struct rh_ep *connect_new(const char *name, enum token_role role, unsigned worker,
				 uint8_t host)
{
	struct rh_ep *ep = rh_ep_new(&h, name, role, "acme", crm, 1, worker, host);

	rh_connect(&h, ep, 0);
	return ep;
}

static void expect_close(struct rh_ep *ep, uint32_t id, uint16_t reason)
{
	struct rh_frame f = rh_expect(ep, FRAME_CHANNEL_CLOSE);

	cr_assert_eq(f.id, id);
	cr_assert_eq(f.reason, reason, "%s: CLOSE %s, expected %s", ep->name,
		     frame_close_reason_name(f.reason), frame_close_reason_name(reason));
}

static bool pong(struct rh_ep *ep)
{
	uint8_t buf[16], opaque[FRAME_PING_LEN] = { 7 };
	int off = frame_ping_encode(buf, sizeof(buf), 0, opaque);

	rh_send(&h, ep, buf, (size_t)off);
	rh_pump(&h);
	if (!ep->n_log)
		return false;
	rh_expect(ep, FRAME_PONG);
	return true;
}

Test(relay_timers, keypair_rejected_after_180_seconds)
{
	struct rh_ep *ep;

	rh_start(&h, NULL);
	ep = connect_new("agent", TOKEN_ROLE_AGENT, 0, 1);
	rh_advance(&h, SESSION_REJECT_AFTER_TIME_NS - RH_SEC);
	cr_assert(pong(ep), "a 179 s old keypair still works");
	rh_advance(&h, RH_SEC);
	cr_assert_not(pong(ep), "a 180 s old keypair must not be used");
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_UNKNOWN_INDEX], 1);
	/* The session is remembered: a new handshake brings it back. */
	cr_assert_eq(rh_stats(&h).sessions, 1);
	rh_connect(&h, ep, 0);
	cr_assert(pong(ep));
	cr_assert_eq(rh_stats(&h).sessions, 1);
}

Test(relay_timers, idle_session_forgotten_and_its_channels_closed)
{
	struct rh_ep *gw, *ag;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = connect_new("gw", TOKEN_ROLE_GATEWAY, 1, 1);
	ag = connect_new("agent", TOKEN_ROLE_AGENT, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	/* The agent rekeys every 100 s; the gateway goes silent. */
	for (uint64_t t = 100; t <= 700; t += 100) {
		rh_advance(&h, 100 * RH_SEC);
		rh_connect(&h, ag, 0);
	}
	/* 700 s: the gateway's keypair died at 180 s; it is forgotten at 180 + 540 s. */
	rh_advance(&h, 20 * RH_SEC - RH_SEC);
	rh_expect_nothing(ag);
	cr_assert_eq(rh_stats(&h).sessions, 2);
	rh_advance(&h, RH_SEC + SLACK);
	expect_close(ag, 1, FRAME_CLOSE_PEER_GONE);
	cr_assert_eq(rh_stats(&h).sessions, 1);
	cr_assert_eq(rh_stats(&h).channels, 0);
	(void)gid;
	/* The tunnel is known but has no gateway now. */
	rh_send_open(&h, ag, 2, "crm", "");
	rh_pump(&h);
	expect_close(ag, 2, FRAME_CLOSE_NO_GATEWAY);
	/* The gateway comes back as a new session; its old INIT timestamp is forgotten too. */
	rh_connect(&h, gw, 0);
	rh_open_channel(&h, ag, gw, 3, "crm");
}

Test(relay_timers, open_times_out_after_10_seconds)
{
	struct rh_ep *gw, *ag;
	struct rh_frame open;

	rh_start(&h, NULL);
	gw = connect_new("gw", TOKEN_ROLE_GATEWAY, 1, 1);
	ag = connect_new("agent", TOKEN_ROLE_AGENT, 0, 2);
	rh_send_open(&h, ag, 4, "crm", "");
	rh_pump(&h);
	open = rh_expect(gw, FRAME_CHANNEL_OPEN);
	rh_advance(&h, 10 * RH_SEC - RH_MS);
	rh_expect_nothing(ag);
	rh_expect_nothing(gw);
	cr_assert_eq(rh_stats(&h).channels, 1);
	rh_advance(&h, RH_MS + SLACK);
	expect_close(ag, 4, FRAME_CLOSE_TIMEOUT);
	expect_close(gw, open.id, FRAME_CLOSE_TIMEOUT);
	cr_assert_eq(rh_stats(&h).channels, 0);
	/* A late ACCEPT finds nothing. */
	rh_send_accept(&h, gw, open.id);
	rh_pump(&h);
	rh_expect_nothing(ag);
	rh_expect_nothing(gw);
}

Test(relay_timers, accept_after_the_agent_gave_up)
{
	struct rh_ep *gw, *ag;
	struct rh_frame open;

	rh_start(&h, NULL);
	gw = connect_new("gw", TOKEN_ROLE_GATEWAY, 1, 1);
	ag = connect_new("agent", TOKEN_ROLE_AGENT, 0, 2);
	rh_send_open(&h, ag, 4, "crm", "");
	rh_pump(&h);
	open = rh_expect(gw, FRAME_CHANNEL_OPEN);
	rh_send_close(&h, ag, 4, FRAME_CLOSE_NORMAL);
	rh_pump(&h);
	rh_expect_nothing(gw);
	/* The gateway accepts; the agent's end is gone, so the gateway's end is closed. */
	rh_send_accept(&h, gw, open.id);
	rh_pump(&h);
	expect_close(gw, open.id, FRAME_CLOSE_PEER_GONE);
	rh_expect_nothing(ag);
	cr_assert_eq(rh_stats(&h).channels, 0);
}

Test(relay_timers, drain_goaway_then_shutdown)
{
	struct rh_ep *gw, *ag, *late;
	struct rh_frame f;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = connect_new("gw", TOKEN_ROLE_GATEWAY, 1, 1);
	ag = connect_new("agent", TOKEN_ROLE_AGENT, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	cr_assert_not(relay_is_drained(h.r));

	relay_drain(h.r, 5000);
	rh_pump(&h);
	f = rh_expect(gw, FRAME_GOAWAY);
	cr_assert_eq(f.reason, FRAME_GOAWAY_SHUTDOWN);
	cr_assert_eq(f.drain_ms, 5000);
	f = rh_expect(ag, FRAME_GOAWAY);
	cr_assert_eq(f.drain_ms, 5000);
	cr_assert_not(relay_is_drained(h.r), "a channel is still open");

	/* Forwarding goes on; new channels and new sessions do not. */
	rh_send_data(&h, ag, 1, (const uint8_t *)"still", 5);
	rh_pump(&h);
	cr_assert_eq(rh_expect(gw, FRAME_CHANNEL_DATA).len, 5);
	rh_send_open(&h, ag, 2, "crm", "");
	rh_pump(&h);
	expect_close(ag, 2, FRAME_CLOSE_SHUTDOWN);
	late = rh_ep_new(&h, "late", TOKEN_ROLE_AGENT, "acme", crm, 1, 0, 3);
	rh_init_build(&h, late, 0);
	rh_inject(&h, 0, late, late->last_init, late->last_init_len);
	rh_pump(&h);
	cr_assert_eq(late->n_resp, 0);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_SHUTTING_DOWN], 1);

	/* The drain time runs out: what is left is shut, on both sides. */
	rh_advance(&h, 5 * RH_SEC + SLACK);
	expect_close(ag, 1, FRAME_CLOSE_SHUTDOWN);
	expect_close(gw, gid, FRAME_CLOSE_SHUTDOWN);
	cr_assert(relay_is_drained(h.r));
	cr_assert_eq(rh_stats(&h).channels, 0);
}

Test(relay_timers, drained_early_when_the_last_channel_closes)
{
	struct rh_ep *gw, *ag;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = connect_new("gw", TOKEN_ROLE_GATEWAY, 1, 1);
	ag = connect_new("agent", TOKEN_ROLE_AGENT, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	relay_drain(h.r, 60000);
	rh_pump(&h);
	rh_expect(gw, FRAME_GOAWAY);
	rh_expect(ag, FRAME_GOAWAY);
	cr_assert_not(relay_is_drained(h.r));
	rh_send_close(&h, gw, gid, FRAME_CLOSE_NORMAL);
	rh_pump(&h);
	expect_close(ag, 1, FRAME_CLOSE_NORMAL);
	cr_assert(relay_is_drained(h.r));
}

Test(relay_timers, token_validity_follows_the_wall_clock)
{
	struct rh_ep *ep;

	rh_start(&h, NULL);
	ep = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 0, 1);
	ep->tok.expiry = RH_UNIX_START + 100;
	rh_ep_resign(&h, ep, NULL);
	rh_connect(&h, ep, 0);
	/* Past expiry + skew (30 s): the next handshake is refused; the live keys still work. */
	rh_advance(&h, 131 * RH_SEC);
	rh_init_build(&h, ep, 0);
	rh_inject(&h, 0, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_TOKEN_EXPIRED], 1);
	cr_assert_eq(ep->n_resp, 1);
	/* A relay whose wall clock is an hour behind still accepts it. */
	relay_set_clock(h.r, h.now, (RH_UNIX_START - 3600) * RH_SEC);
	rh_connect(&h, ep, 0);
	cr_assert_eq(ep->n_resp, 2);
}

Test(relay_timers, empty_pool_counts_lost_packets)
{
	struct rte_mbuf *hoard[1024];
	struct rh_ep *gw, *ag;
	unsigned n = 0;

	rh_start(&h, NULL);
	gw = connect_new("gw", TOKEN_ROLE_GATEWAY, 1, 1);
	ag = connect_new("agent", TOKEN_ROLE_AGENT, 0, 2);
	while (n < 1024 && (hoard[n] = rte_pktmbuf_alloc(h.pool)))
		n++;
	/* GOAWAYs are packets the relay must originate: none can be. */
	relay_drain(h.r, 1000);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).lost[RELAY_DROP_NO_MBUF], 2);
	rh_expect_nothing(gw);
	rh_expect_nothing(ag);
	rh_assert_invariant(&h);
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(hoard[i]);
}
