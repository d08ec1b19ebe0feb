/*
 * test_relay_channel.c — channels and the splice (protocol.md §4.1, §7):
 * OPEN / ACCEPT / DATA / CLOSE across two workers with every byte checked,
 * tenant isolation and grants, NO_GATEWAY, LIMIT, the least-loaded gateway,
 * refusals, unknown channels, replayed and forged DATA, malformed frames,
 * multi-frame packets, roaming, TX refusals and stale handles.
 *
 * Topology (relay_harness.h): one relay with two workers; endpoints' packets
 * arrive on the worker the test names.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_rcu_qsbr.h>

#include "relay/directory.h"
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

TestSuite(relay_channel, .init = setup, .fini = teardown);

static const char *const crm[] = { "crm" };
static const char *const wiki[] = { "wiki" };
static const char *const any[] = { "*" };

static struct rh_ep *gateway(const char *name, const char *tenant, const char *const *tunnels,
			     unsigned n, unsigned worker, uint8_t host)
{
	struct rh_ep *ep = rh_ep_new(&h, name, TOKEN_ROLE_GATEWAY, tenant, tunnels, n, worker,
				     host);

	rh_connect(&h, ep, 0);
	return ep;
}

static struct rh_ep *agent(const char *name, const char *tenant, const char *const *grant,
			   unsigned n, unsigned worker, uint8_t host)
{
	struct rh_ep *ep = rh_ep_new(&h, name, TOKEN_ROLE_AGENT, tenant, grant, n, worker, host);

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

static void expect_close(struct rh_ep *ep, uint32_t id, uint16_t reason)
{
	struct rh_frame f = rh_expect(ep, FRAME_CHANNEL_CLOSE);

	cr_assert_eq(f.id, id, "%s: CLOSE for %u, expected %u", ep->name, f.id, id);
	cr_assert_eq(f.reason, reason, "%s: CLOSE %s, expected %s", ep->name,
		     frame_close_reason_name(f.reason), frame_close_reason_name(reason));
}

Test(relay_channel, open_accept_data_close_across_workers)
{
	static const size_t sizes[] = {
		1, 2, 100, 1200, HOP_DATA_PLAINTEXT_MAX - FRAME_DATA_OVERHEAD,
	};
	struct rh_ep *gw, *ag;
	struct rh_frame open;
	struct relay_stats s;
	char want[128];
	uint8_t tag[FRAME_CONN_TAG_LEN];
	uint32_t gid;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);

	rh_send_open(&h, ag, 7, "crm", "db");
	rh_pump(&h);
	open = rh_expect(gw, FRAME_CHANNEL_OPEN);
	rh_expect_nothing(ag);
	cr_assert_neq(open.id, 0);
	cr_assert_str_eq(open.tunnel, "crm");
	cr_assert_str_eq(open.route, "db");
	cr_assert_eq(open.flags, 0);
	rh_fill(tag, sizeof(tag), 7);
	cr_assert_arr_eq(open.conn_tag, tag, sizeof(tag));
	/* The principal is the agent's tenant and token id, for the gateway's audit log. */
	snprintf(want, sizeof(want), "acme/");
	for (int i = 0; i < TOKEN_ID_LEN; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%02x", ag->tok.id[i]);
	cr_assert_str_eq(open.principal, want);
	cr_assert_eq(rh_stats(&h).channels, 1);

	gid = open.id;
	rh_send_accept(&h, gw, gid);
	rh_pump(&h);
	cr_assert_eq(rh_expect(ag, FRAME_CHANNEL_ACCEPT).id, 7);

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		data_ok(ag, 7, gw, gid, sizes[i], 100 + i);
		data_ok(gw, gid, ag, 7, sizes[i], 200 + i);
	}
	s = rh_stats(&h);
	cr_assert_eq(s.forwarded, 2 * sizeof(sizes) / sizeof(sizes[0]));
	cr_assert_gt(s.handoff_in, 0);

	rh_send_close(&h, ag, 7, FRAME_CLOSE_NORMAL);
	rh_pump(&h);
	expect_close(gw, gid, FRAME_CLOSE_NORMAL);
	rh_expect_nothing(ag);
	cr_assert_eq(rh_stats(&h).channels, 0);
	/* Both ends are gone: data on either id is now for an unknown channel. */
	rh_send_data(&h, gw, gid, (const uint8_t *)"x", 1);
	rh_pump(&h);
	expect_close(gw, gid, FRAME_CLOSE_PROTOCOL);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_UNKNOWN_CHANNEL], 1);
	rh_assert_invariant(&h);
}

Test(relay_channel, gateway_closes_and_same_worker_splices_in_place)
{
	struct rh_ep *gw, *ag;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 0, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	data_ok(ag, 1, gw, gid, 500, 1);
	data_ok(gw, gid, ag, 1, 500, 2);
	/* One worker: nothing crossed a ring. */
	cr_assert_eq(rh_stats(&h).handoff_out, 0);
	rh_send_close(&h, gw, gid, FRAME_CLOSE_UPSTREAM_REFUSED);
	rh_pump(&h);
	expect_close(ag, 1, FRAME_CLOSE_UPSTREAM_REFUSED);
	rh_expect_nothing(gw);
	/* The id may be reused once its CLOSE went by. */
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	data_ok(ag, 1, gw, gid, 10, 3);
}

Test(relay_channel, tenant_isolation)
{
	struct rh_ep *gw_beta, *acme_named, *acme_any, *beta;
	uint32_t gid;

	rh_start(&h, NULL);
	gw_beta = gateway("gw-beta", "beta", crm, 1, 1, 1);
	acme_named = agent("acme1", "acme", crm, 1, 0, 2);
	acme_any = agent("acme2", "acme", any, 1, 1, 3);
	beta = agent("beta", "beta", crm, 1, 0, 4);

	/* Tenant acme's agents name beta's tunnel: refused as if it did not exist. */
	rh_send_open(&h, acme_named, 1, "crm", "");
	rh_send_open(&h, acme_any, 2, "crm", "");
	rh_pump(&h);
	expect_close(acme_named, 1, FRAME_CLOSE_NOT_PERMITTED);
	expect_close(acme_any, 2, FRAME_CLOSE_NOT_PERMITTED);
	rh_expect_nothing(gw_beta);
	/* beta's own agent reaches it: the refusals were about the tenant, not the tunnel. */
	gid = rh_open_channel(&h, beta, gw_beta, 3, "crm");
	data_ok(beta, 3, gw_beta, gid, 64, 9);
	cr_assert_eq(rh_stats(&h).channels, 1);
}

Test(relay_channel, grant_checks)
{
	static const struct {
		const char *tunnel;
		uint16_t reason;	/* 0: opens */
	} cases[] = {
		{ "crm", FRAME_CLOSE_NOT_PERMITTED },	/* served, not in the grant */
		{ "wiki", 0 },				/* in the grant and served */
		{ "nosuch", FRAME_CLOSE_NOT_PERMITTED },	/* neither */
	};
	static const char *const grant[] = { "wiki", "nosuch" };
	struct rh_ep *gw_crm, *gw_wiki, *ag;

	rh_start(&h, NULL);
	gw_crm = gateway("gw-crm", "acme", crm, 1, 0, 1);
	gw_wiki = gateway("gw-wiki", "acme", wiki, 1, 1, 2);
	ag = agent("agent", "acme", grant, 2, 0, 3);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t id = 10 + i;

		if (cases[i].reason) {
			rh_send_open(&h, ag, id, cases[i].tunnel, "");
			rh_pump(&h);
			expect_close(ag, id, cases[i].reason);
		} else {
			rh_open_channel(&h, ag, gw_wiki, id, cases[i].tunnel);
		}
	}
	rh_expect_nothing(gw_crm);
	rh_expect_nothing(gw_wiki);
}

Test(relay_channel, no_gateway_once_the_tunnel_lost_its_gateways)
{
	static const char *const other[] = { "other" };
	struct rh_ep *gw, *ag;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", any, 1, 0, 2);
	rh_open_channel(&h, ag, gw, 1, "crm");
	/* The gateway comes back with a token for another tunnel: crm has no gateway now. */
	memset(gw->tok.tunnels, 0, sizeof(gw->tok.tunnels));
	strcpy(gw->tok.tunnels[0], other[0]);
	rh_ep_resign(&h, gw, NULL);
	rh_connect(&h, gw, 0);
	/* Its channels were for crm: closed toward the agent. */
	expect_close(ag, 1, FRAME_CLOSE_PEER_GONE);
	rh_send_open(&h, ag, 2, "crm", "");
	rh_pump(&h);
	expect_close(ag, 2, FRAME_CLOSE_NO_GATEWAY);
	rh_open_channel(&h, ag, gw, 3, "other");
}

Test(relay_channel, limit_per_session)
{
	struct relay_params p;
	struct rh_ep *gw, *a1, *a2;

	rh_params(&h, &p);
	p.max_channels = 2;
	rh_start(&h, &p);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	a1 = agent("a1", "acme", crm, 1, 0, 2);
	a2 = agent("a2", "acme", crm, 1, 1, 3);
	rh_open_channel(&h, a1, gw, 1, "crm");
	/* The agent's own limit. */
	rh_open_channel(&h, a1, gw, 2, "crm");
	rh_send_open(&h, a1, 3, "crm", "");
	rh_pump(&h);
	expect_close(a1, 3, FRAME_CLOSE_LIMIT);
	/* The gateway's: it holds two channels already. */
	rh_send_open(&h, a2, 1, "crm", "");
	rh_pump(&h);
	expect_close(a2, 1, FRAME_CLOSE_LIMIT);
	rh_expect_nothing(gw);
	/* One closes; there is room again. */
	rh_send_close(&h, a1, 1, FRAME_CLOSE_NORMAL);
	rh_pump(&h);
	rh_expect(gw, FRAME_CHANNEL_CLOSE);
	rh_open_channel(&h, a2, gw, 1, "crm");
}

Test(relay_channel, least_loaded_gateway)
{
	struct rh_ep *g1, *g2, *ag;
	struct rh_frame f;

	rh_start(&h, NULL);
	g1 = gateway("g1", "acme", crm, 1, 0, 1);
	g2 = gateway("g2", "acme", crm, 1, 1, 2);
	ag = agent("agent", "acme", crm, 1, 0, 3);
	/* Equal loads: the first registered. Then always the one with fewer channels. */
	rh_open_channel(&h, ag, g1, 1, "crm");
	rh_open_channel(&h, ag, g2, 2, "crm");
	rh_open_channel(&h, ag, g1, 3, "crm");
	rh_open_channel(&h, ag, g2, 4, "crm");
	/* g1 loses two channels: the next two go to g1. */
	rh_send_close(&h, ag, 1, FRAME_CLOSE_NORMAL);
	rh_send_close(&h, ag, 3, FRAME_CLOSE_NORMAL);
	rh_pump(&h);
	f = rh_expect(g1, FRAME_CHANNEL_CLOSE);
	f = rh_expect(g1, FRAME_CHANNEL_CLOSE);
	(void)f;
	rh_open_channel(&h, ag, g1, 5, "crm");
	rh_open_channel(&h, ag, g1, 6, "crm");
	rh_open_channel(&h, ag, g1, 7, "crm");
	rh_open_channel(&h, ag, g2, 8, "crm");
	rh_expect_nothing(g1);
	rh_expect_nothing(g2);
}

Test(relay_channel, refusals)
{
	struct rh_ep *gw, *ag;
	struct rh_frame open;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 5, "crm");
	/* The same id again while it is open. */
	rh_send_open(&h, ag, 5, "crm", "");
	rh_pump(&h);
	expect_close(ag, 5, FRAME_CLOSE_DUPLICATE_ID);
	rh_expect_nothing(gw);
	data_ok(ag, 5, gw, gid, 33, 1);
	/* A gateway may not open channels. */
	rh_send_open(&h, gw, 9, "crm", "");
	rh_pump(&h);
	expect_close(gw, 9, FRAME_CLOSE_PROTOCOL);
	/* The gateway refuses an OPEN: the agent hears the gateway's reason. */
	rh_send_open(&h, ag, 6, "crm", "nosuchroute");
	rh_pump(&h);
	open = rh_expect(gw, FRAME_CHANNEL_OPEN);
	cr_assert_str_eq(open.route, "nosuchroute");
	rh_send_close(&h, gw, open.id, FRAME_CLOSE_UNKNOWN_ROUTE);
	rh_pump(&h);
	expect_close(ag, 6, FRAME_CLOSE_UNKNOWN_ROUTE);
	rh_expect_nothing(gw);
	/* An ACCEPT for a channel that is not waiting is ignored. */
	rh_send_accept(&h, gw, 12345);
	rh_send_accept(&h, ag, 5);
	rh_pump(&h);
	rh_expect_nothing(gw);
	rh_expect_nothing(ag);
	data_ok(gw, gid, ag, 5, 44, 2);
}

Test(relay_channel, data_before_accept_is_dropped_quietly)
{
	struct rh_ep *gw, *ag;
	struct rh_frame open;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	rh_send_open(&h, ag, 1, "crm", "");
	rh_send_data(&h, ag, 1, (const uint8_t *)"early", 5);
	rh_pump(&h);
	open = rh_expect(gw, FRAME_CHANNEL_OPEN);
	rh_expect_nothing(gw);
	rh_expect_nothing(ag);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_UNKNOWN_CHANNEL], 1);
	rh_send_accept(&h, gw, open.id);
	rh_pump(&h);
	rh_expect(ag, FRAME_CHANNEL_ACCEPT);
	data_ok(ag, 1, gw, open.id, 5, 3);
}

Test(relay_channel, unknown_channel_answered_once_per_second)
{
	struct rh_ep *ag;

	rh_start(&h, NULL);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	rh_send_data(&h, ag, 99, (const uint8_t *)"?", 1);
	rh_pump(&h);
	expect_close(ag, 99, FRAME_CLOSE_PROTOCOL);
	rh_send_data(&h, ag, 98, (const uint8_t *)"?", 1);
	rh_advance(&h, 900 * RH_MS);
	rh_send_data(&h, ag, 97, (const uint8_t *)"?", 1);
	rh_pump(&h);
	rh_expect_nothing(ag);
	rh_advance(&h, 100 * RH_MS);
	rh_send_data(&h, ag, 96, (const uint8_t *)"?", 1);
	rh_pump(&h);
	expect_close(ag, 96, FRAME_CLOSE_PROTOCOL);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_UNKNOWN_CHANNEL], 4);
}

Test(relay_channel, replayed_and_forged_data)
{
	static const struct {
		const char *name;
		int flip;		/* byte to flip, -1 none */
		bool twice;		/* send the same packet again */
		enum relay_drop reason;
	} cases[] = {
		{ "replayed", -1, true, RELAY_DROP_REPLAYED },
		{ "ciphertext", 30, false, RELAY_DROP_BAD_TAG },
		{ "tag", -2, false, RELAY_DROP_BAD_TAG },
		{ "counter (AD)", 9, false, RELAY_DROP_BAD_TAG },
		{ "version byte", 1, false, RELAY_DROP_BAD_VERSION },
		{ "receiver index", 4, false, RELAY_DROP_UNKNOWN_INDEX },
	};
	uint8_t frames[64], pkt[HOP_MTU];
	struct rh_ep *gw, *ag;
	uint32_t gid;
	int off;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	off = frame_data_encode(frames, sizeof(frames), 0, 1, (const uint8_t *)"payload", 7);
	cr_assert_gt(off, 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = rh_seal(ag, frames, (size_t)off, pkt, sizeof(pkt));
		struct relay_stats before = rh_stats(&h);

		if (cases[i].twice) {
			rh_inject(&h, ag->worker, ag, pkt, n);
			rh_pump(&h);
			rh_expect(gw, FRAME_CHANNEL_DATA);
		}
		if (cases[i].flip == -2)
			pkt[n - 1] ^= 0x80;
		else if (cases[i].flip >= 0)
			pkt[cases[i].flip] ^= 0x10;
		rh_inject(&h, ag->worker, ag, pkt, n);
		rh_pump(&h);
		rh_expect_nothing(gw);
		rh_expect_nothing(ag);
		cr_assert_eq(rh_stats(&h).dropped[cases[i].reason],
			     before.dropped[cases[i].reason] + 1, "%s", cases[i].name);
	}
	/* Nothing above moved the window or broke the channel. */
	data_ok(ag, 1, gw, gid, 7, 5);
	data_ok(gw, gid, ag, 1, 7, 6);
}

Test(relay_channel, malformed_frames_act_on_nothing)
{
	uint8_t frames[128];
	struct rh_ep *gw, *ag;
	uint32_t gid;
	int off;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	/* A good CHANNEL_DATA and a CLOSE, then an unknown type below 0x80. */
	off = frame_data_encode(frames, sizeof(frames), 0, 1, (const uint8_t *)"abc", 3);
	off = frame_close_encode(frames, sizeof(frames), (size_t)off, 1, FRAME_CLOSE_NORMAL);
	cr_assert_gt(off, 0);
	frames[off] = 0x42;
	frames[off + 1] = 0;
	frames[off + 2] = 0;
	rh_send(&h, ag, frames, (size_t)off + 3);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_BAD_FRAME], 1);
	rh_expect_nothing(gw);
	/* The CLOSE was not acted on: the channel still carries data. */
	data_ok(ag, 1, gw, gid, 3, 1);
}

Test(relay_channel, multi_frame_packets)
{
	uint8_t frames[HOP_DATA_PLAINTEXT_MAX], a[300], b[200];
	uint8_t opaque[FRAME_PING_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	struct rh_ep *gw, *ag;
	struct rh_frame f;
	struct relay_stats before;
	uint32_t gid;
	int off;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	rh_fill(a, sizeof(a), 1);
	rh_fill(b, sizeof(b), 2);
	before = rh_stats(&h);
	/* PADDING, DATA, PING, DATA, KEEPALIVE in one packet. */
	off = frame_padding_encode(frames, sizeof(frames), 0, 5);
	off = frame_data_encode(frames, sizeof(frames), (size_t)off, 1, a, sizeof(a));
	off = frame_ping_encode(frames, sizeof(frames), (size_t)off, opaque);
	off = frame_data_encode(frames, sizeof(frames), (size_t)off, 1, b, sizeof(b));
	off = frame_keepalive_encode(frames, sizeof(frames), (size_t)off);
	cr_assert_gt(off, 0);
	rh_send(&h, ag, frames, (size_t)off);
	rh_pump(&h);
	f = rh_expect(gw, FRAME_CHANNEL_DATA);
	cr_assert_eq(f.id, gid);
	cr_assert_eq(f.len, sizeof(a));
	cr_assert_arr_eq(f.bytes, a, sizeof(a));
	f = rh_expect(gw, FRAME_CHANNEL_DATA);
	cr_assert_eq(f.len, sizeof(b));
	cr_assert_arr_eq(f.bytes, b, sizeof(b));
	f = rh_expect(ag, FRAME_PONG);
	cr_assert_arr_eq(f.bytes, opaque, sizeof(opaque));
	/* One received packet, one outcome; the copies were originated. */
	cr_assert_eq(rh_stats(&h).forwarded, before.forwarded + 1);
	cr_assert_eq(rh_stats(&h).originated, before.originated + 3);
}

Test(relay_channel, keepalives_and_padding_are_handled)
{
	uint8_t frames[32];
	struct rh_ep *ag;
	struct relay_stats before;
	int off;

	rh_start(&h, NULL);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	before = rh_stats(&h);
	rh_send(&h, ag, NULL, 0);
	off = frame_keepalive_encode(frames, sizeof(frames), 0);
	rh_send(&h, ag, frames, (size_t)off);
	off = frame_padding_encode(frames, sizeof(frames), 0, 20);
	rh_send(&h, ag, frames, (size_t)off);
	off = frame_goaway_encode(frames, sizeof(frames), 0, 0, 5);
	rh_send(&h, ag, frames, (size_t)off);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).handled, before.handled + 4);
	cr_assert_eq(rh_stats(&h).tx_packets, before.tx_packets);
	rh_expect_nothing(ag);
}

Test(relay_channel, roaming_follows_the_last_authenticated_packet)
{
	struct rh_ep *gw, *ag;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	ag->addr.addr[3] = 77;
	ag->addr.port = 5555;
	ag->listener = 2;
	/* A forged packet from the new address moves nothing. */
	{
		uint8_t pkt[64];
		size_t n = rh_seal(ag, NULL, 0, pkt, sizeof(pkt));

		pkt[n - 1] ^= 1;
		rh_inject(&h, ag->worker, ag, pkt, n);
		rh_pump(&h);
	}
	data_ok(ag, 1, gw, gid, 10, 1);
	/* The reply goes to the new address, from the listener it arrived on. */
	data_ok(gw, gid, ag, 1, 10, 2);
	cr_assert_eq(h.tx_unmatched, 0);
}

Test(relay_channel, tx_refused_is_counted_and_freed)
{
	struct rh_ep *gw, *ag;
	uint32_t gid;
	struct relay_stats before;
	uint8_t buf[100];

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	before = rh_stats(&h);
	h.tx_refuse = 1;
	rh_fill(buf, sizeof(buf), 4);
	rh_send_data(&h, ag, 1, buf, sizeof(buf));
	rh_pump(&h);
	rh_expect_nothing(gw);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_TX_FULL], 1);
	cr_assert_eq(rh_stats(&h).forwarded, before.forwarded);
	rh_assert_invariant(&h);
	data_ok(ag, 1, gw, gid, 100, 4);
}

Test(relay_channel, channels_survive_rekey_new_session_closes_them)
{
	struct rh_ep *gw, *ag;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	rh_connect(&h, ag, 0);
	rh_connect(&h, gw, 0);
	data_ok(ag, 1, gw, gid, 50, 1);
	data_ok(gw, gid, ag, 1, 50, 2);
	/* The agent restarted without state: the gateway's end is told PEER_GONE. */
	rh_connect(&h, ag, HOP_PAYLOAD_NEW_SESSION);
	expect_close(gw, gid, FRAME_CLOSE_PEER_GONE);
	rh_expect_nothing(ag);
	cr_assert_eq(rh_stats(&h).channels, 0);
	cr_assert_eq(rh_stats(&h).sessions, 2);
	rh_open_channel(&h, ag, gw, 1, "crm");
}

Test(relay_channel, stale_handle_in_a_ring)
{
	struct rh_ep *gw, *ag;
	uint32_t gid;

	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	gid = rh_open_channel(&h, ag, gw, 1, "crm");
	(void)gid;
	/* Worker 0 hands the packet to worker 1's ring ... */
	rh_send_data(&h, ag, 1, (const uint8_t *)"late", 4);
	/* ... but before worker 1 polls, its gateway restarts and drops that channel end. */
	rh_init_build(&h, gw, HOP_PAYLOAD_NEW_SESSION);
	rh_inject(&h, gw->worker, gw, gw->last_init, gw->last_init_len);
	rh_pump(&h);
	cr_assert_eq(gw->n_resp, 2);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_STALE_HANDLE], 1);
	expect_close(ag, 1, FRAME_CLOSE_PEER_GONE);
	rh_expect_nothing(gw);
	rh_assert_invariant(&h);
}

Test(relay_channel, full_ring_drops_are_counted)
{
	enum { N = 4200, BURST = 32 };
	static uint8_t pkts[BURST][64];
	uint8_t frames[16], *p[BURST];
	size_t lens[BURST];
	struct rh_ep *gw, *ag;
	struct relay_stats s;
	int off;

	h.pool_size = 8191;
	rh_start(&h, NULL);
	gw = gateway("gw", "acme", crm, 1, 1, 1);
	ag = agent("agent", "acme", crm, 1, 0, 2);
	rh_open_channel(&h, ag, gw, 1, "crm");
	gw->quiet = true;
	off = frame_data_encode(frames, sizeof(frames), 0, 1, (const uint8_t *)"q", 1);
	/* Worker 1 does not poll while worker 0 hands it more than its ring holds. */
	for (unsigned sent = 0; sent < N; sent += BURST) {
		for (unsigned i = 0; i < BURST; i++) {
			lens[i] = rh_seal(ag, frames, (size_t)off, pkts[i], sizeof(pkts[i]));
			p[i] = pkts[i];
		}
		rh_inject_burst(&h, 0, ag, p, lens, BURST);
	}
	s = rh_stats(&h);
	cr_assert_gt(s.dropped[RELAY_DROP_RING_FULL], 0);
	rh_pump(&h);
	s = rh_stats(&h);
	cr_assert_eq(gw->n_quiet + s.dropped[RELAY_DROP_RING_FULL], 4224);
	cr_assert_eq(gw->n_quiet, 4095, "the ring holds 4095");
	rh_assert_invariant(&h);
}

/* ---- the tunnel directory on its own ------------------------------------- */

TestSuite(relay_directory, .fini = rh_eal_fini);

static struct rte_rcu_qsbr *qsbr_new(unsigned n)
{
	struct rte_rcu_qsbr *v = calloc(1, rte_rcu_qsbr_get_memsize(n));

	cr_assert_not_null(v);
	cr_assert_eq(rte_rcu_qsbr_init(v, n), 0);
	for (unsigned i = 0; i < n; i++) {
		rte_rcu_qsbr_thread_register(v, i);
		rte_rcu_qsbr_thread_online(v, i);
	}
	return v;
}

Test(relay_directory, pick_and_tenants)
{
	struct rte_rcu_qsbr *v;
	struct directory *d;
	uint32_t load[3] = { 5, 2, 2 };
	uint64_t rx[3] = { 100, 100, 100 }, s = 0;
	const uint64_t now = 1000;

	rh_eal_init();
	v = qsbr_new(2);
	cr_assert_eq(directory_create(&d, "t_dir1", 64, v), 0);
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"crm", 3, now, &s), DIRECTORY_UNKNOWN);
	cr_assert_eq(directory_add(d, "acme", "crm", 11, &load[0], &rx[0]), 0);
	cr_assert_eq(directory_add(d, "acme", "crm", 12, &load[1], &rx[1]), 0);
	cr_assert_eq(directory_add(d, "acme", "crm", 13, &load[2], &rx[2]), 0);
	cr_assert_eq(directory_add(d, "beta", "wiki", 21, &load[0], &rx[0]), 0);
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"crm", 3, now, &s), DIRECTORY_FOUND);
	cr_assert_eq(s, 12, "fewest channels, first registered among equals");
	load[1] = 3;
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"crm", 3, now, &s), DIRECTORY_FOUND);
	cr_assert_eq(s, 13, "loads are read live");
	/* A gateway silent for longer than DIRECTORY_FRESH_NS loses to ones heard from. */
	rx[2] = 0;
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"crm", 3, DIRECTORY_FRESH_NS + 1,
				    &s), DIRECTORY_FOUND);
	cr_assert_eq(s, 12, "the silent, least loaded gateway is skipped");
	rx[0] = rx[1] = 0;
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"crm", 3, 3 * DIRECTORY_FRESH_NS,
				    &s), DIRECTORY_FOUND);
	cr_assert_eq(s, 13, "none fresh: the least loaded of all");
	rx[0] = rx[1] = rx[2] = 100;
	/* Names are compared whole, per tenant. */
	cr_assert_eq(directory_pick(d, "beta", (const uint8_t *)"crm", 3, now, &s), DIRECTORY_UNKNOWN);
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"cr", 2, now, &s), DIRECTORY_UNKNOWN);
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"wiki", 4, now, &s), DIRECTORY_UNKNOWN);
	cr_assert_eq(directory_pick(d, "acm", (const uint8_t *)"crm", 3, now, &s), DIRECTORY_UNKNOWN);
	directory_remove(d, "acme", "crm", 11);
	directory_remove(d, "acme", "crm", 12);
	directory_remove(d, "acme", "crm", 13);
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"crm", 3, now, &s), DIRECTORY_EMPTY);
	/* Retired entries wait for both readers' quiescent states. */
	rte_rcu_qsbr_quiescent(v, 0);
	directory_reclaim(d);
	rte_rcu_qsbr_quiescent(v, 1);
	directory_reclaim(d);
	directory_destroy(d);
	free(v);
}

Test(relay_directory, full_table_evicts_tunnels_without_gateways)
{
	struct rte_rcu_qsbr *v;
	struct directory *d;
	uint32_t load = 0;
	uint64_t rx = 0;
	const uint64_t now = 0;
	uint64_t s;
	char name[16];
	unsigned n;
	int ret = 0;

	rh_eal_init();
	v = qsbr_new(1);
	cr_assert_eq(directory_create(&d, "t_dir2", 64, v), 0);
	cr_assert_eq(directory_add(d, "acme", "live", 7, &load, &rx), 0);
	/* Far more tunnels come and go than the table holds: empty ones make room. */
	for (n = 0; n < 1000; n++) {
		snprintf(name, sizeof(name), "t%u", n);
		ret = directory_add(d, "acme", name, 1, &load, &rx);
		if (ret)
			break;
		directory_remove(d, "acme", name, 1);
		rte_rcu_qsbr_quiescent(v, 0);
		directory_reclaim(d);
	}
	cr_assert_eq(ret, 0, "add %u failed: %d", n, ret);
	/* A tunnel with a gateway is never evicted. */
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"live", 4, now, &s), DIRECTORY_FOUND);
	cr_assert_eq(s, 7);
	/* Full of live tunnels: no room, and nothing live is lost. */
	for (n = 0; n < 1000; n++) {
		snprintf(name, sizeof(name), "l%u", n);
		ret = directory_add(d, "acme", name, 2, &load, &rx);
		rte_rcu_qsbr_quiescent(v, 0);
		if (ret)
			break;
	}
	cr_assert_eq(ret, -ENOSPC);
	cr_assert_geq(n, 32);
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"live", 4, now, &s), DIRECTORY_FOUND);
	cr_assert_eq(directory_pick(d, "acme", (const uint8_t *)"l0", 2, now, &s), DIRECTORY_FOUND);
	directory_destroy(d);
	free(v);
}
