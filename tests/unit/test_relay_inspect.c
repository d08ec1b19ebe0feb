/*
 * test_relay_inspect.c — the control plane's requests to the workers
 * (relay/inspect.h): sessions.list, channels.list and sessions.kick answered
 * by each worker on its own poll, never by reading its tables from outside.
 *
 * Topology (relay_harness.h): one relay with two workers driven from the
 * test thread, a fake clock. A request is posted, the workers are pumped,
 * the answer collected; a worker that never polls makes the request time out
 * without hanging and without writing anything afterwards.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/handle.h"
#include "relay/inspect.h"
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

TestSuite(relay_inspect, .init = setup, .fini = teardown);

static const char *const crm[] = { "crm" };
static const char *const crm_billing[] = { "crm", "billing" };

enum { LIST_CAP = 16 };

static struct control_session sess[LIST_CAP];
static struct control_channel chans[LIST_CAP];

static struct rh_ep *endpoint(const char *name, enum token_role role, const char *tenant,
			      const char *const *tunnels, unsigned nt, unsigned worker,
			      uint8_t host)
{
	struct rh_ep *ep = rh_ep_new(&h, name, role, tenant, tunnels, nt, worker, host);

	rh_connect(&h, ep, 0);
	return ep;
}

/* Post @q, run the workers, collect: what a control request sees. @return its answer. */
static int ask(struct inspect_req *q)
{
	int ret = inspect_post(h.r, q);

	if (ret)
		return ret;
	rh_pump(&h);
	ret = inspect_collect(h.r, q);
	cr_assert_neq(ret, -EINPROGRESS, "a worker polled and did not answer");
	return ret;
}

static size_t list_sessions(size_t cap, size_t *total)
{
	struct inspect_req q = { .kind = INSPECT_SESSIONS, .out = sess, .cap = cap };

	memset(sess, 0xee, sizeof(sess));
	cr_assert_eq(ask(&q), 0);
	*total = q.total;
	return q.n;
}

static size_t list_channels(size_t *total)
{
	struct inspect_req q = { .kind = INSPECT_CHANNELS, .out = chans, .cap = LIST_CAP };

	memset(chans, 0xee, sizeof(chans));
	cr_assert_eq(ask(&q), 0);
	*total = q.total;
	return q.n;
}

static int kick(uint64_t id)
{
	struct inspect_req q = { .kind = INSPECT_KICK, .id = id };

	return ask(&q);
}

/* The listed session whose token is @ep's; asserts there is exactly one. */
static const struct control_session *session_of(const struct rh_ep *ep, size_t n)
{
	const struct control_session *found = NULL;

	for (size_t i = 0; i < n; i++) {
		if (memcmp(sess[i].token_id, ep->tok.id, TOKEN_ID_LEN))
			continue;
		cr_assert_null(found, "%s listed twice", ep->name);
		found = &sess[i];
	}
	cr_assert_not_null(found, "%s not listed", ep->name);
	return found;
}

static uint64_t id_of(const struct rh_ep *ep)
{
	size_t total, n = list_sessions(LIST_CAP, &total);

	return session_of(ep, n)->id;
}

/* The listed channel with agent channel id @id of agent session @agent. */
static const struct control_channel *channel_of(uint64_t agent, uint32_t id, size_t n)
{
	const struct control_channel *found = NULL;

	for (size_t i = 0; i < n; i++) {
		if (chans[i].agent_session != agent || chans[i].agent_channel != id)
			continue;
		cr_assert_null(found, "channel %u listed twice", id);
		found = &chans[i];
	}
	cr_assert_not_null(found, "channel %u not listed", id);
	return found;
}

static void expect_close(struct rh_ep *ep, uint32_t id, uint16_t reason)
{
	struct rh_frame f = rh_expect(ep, FRAME_CHANNEL_CLOSE);

	cr_assert_eq(f.id, id, "%s: CLOSE for %u, expected %u", ep->name, f.id, id);
	cr_assert_eq(f.reason, reason, "%s: CLOSE %s, expected %s", ep->name,
		     frame_close_reason_name(f.reason), frame_close_reason_name(reason));
}

/* @n seeded bytes from @from on @id arrive intact at @to on @to_id. */
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
	cr_assert_arr_eq(f.bytes, buf, n);
	rh_expect_nothing(to);
}

static uint64_t unix_now(void)
{
	return RH_UNIX_START + (h.now - 1000 * RH_SEC) / RH_SEC;
}

Test(relay_inspect, sessions_list_shows_every_session_with_its_identity)
{
	static const struct {
		const char *name;
		enum token_role role;
		const char *tenant;
		const char *const *tunnels;
		unsigned nt;
		unsigned worker;
		uint8_t host;
		const char *peer;
	} eps[] = {
		{ "gw", TOKEN_ROLE_GATEWAY, "acme", crm_billing, 2, 1, 1, "10.0.0.1:40001" },
		{ "agent", TOKEN_ROLE_AGENT, "acme", crm, 1, 0, 2, "10.0.0.2:40002" },
		{ "beta", TOKEN_ROLE_AGENT, "beta", crm, 1, 1, 3, "10.0.0.3:40003" },
	};
	struct rh_ep *ep[3];
	uint64_t joined[3];
	size_t n, total;

	rh_start(&h, NULL);
	n = list_sessions(LIST_CAP, &total);
	cr_assert_eq(n, 0);
	cr_assert_eq(total, 0);
	for (unsigned i = 0; i < 3; i++) {
		ep[i] = endpoint(eps[i].name, eps[i].role, eps[i].tenant, eps[i].tunnels,
				 eps[i].nt, eps[i].worker, eps[i].host);
		joined[i] = unix_now();
		rh_advance(&h, 7 * RH_SEC);
	}
	rh_open_channel(&h, ep[1], ep[0], 5, "crm");
	rh_advance(&h, 2500 * RH_MS);

	n = list_sessions(LIST_CAP, &total);
	cr_assert_eq(n, 3);
	cr_assert_eq(total, 3);
	for (unsigned i = 0; i < 3; i++) {
		const struct control_session *s = session_of(ep[i], n);

		cr_assert_eq(s->worker, eps[i].worker, "%s", eps[i].name);
		cr_assert_eq(handle_worker(s->id), eps[i].worker, "the id names the owner");
		cr_assert_eq(s->role, eps[i].role);
		cr_assert_str_eq(s->tenant, eps[i].tenant);
		cr_assert_eq(s->n_tunnels, eps[i].nt);
		for (unsigned t = 0; t < eps[i].nt; t++)
			cr_assert_str_eq(s->tunnels[t], eps[i].tunnels[t]);
		cr_assert_str_eq(s->peer, eps[i].peer);
		cr_assert_eq(s->established_s, joined[i], "%s: established %lu, want %lu",
			     eps[i].name, (unsigned long)s->established_s,
			     (unsigned long)joined[i]);
		cr_assert_eq(s->channels, i == 2 ? 0 : 1, "%s: channels", eps[i].name);
		for (unsigned k = 0; k < i; k++)
			cr_assert_neq(s->id, session_of(ep[k], n)->id, "ids are unique");
	}
	/* The agent's last packet was its ACCEPT's trigger, the OPEN: 2.5 s ago. */
	cr_assert_eq(session_of(ep[1], n)->idle_ms, 2500);
	cr_assert_eq(session_of(ep[2], n)->idle_ms, 9500);

	/* A smaller buffer: the count says how many there are. */
	n = list_sessions(2, &total);
	cr_assert_eq(n, 2);
	cr_assert_eq(total, 3);
	cr_assert_eq(sess[2].id, 0xeeeeeeeeeeeeeeee, "written past the caller's capacity");
}

/* Requires the counting hooks in receive.c, send.c and splice.c. */
Test(relay_inspect, lists_count_packets_and_bytes)
{
	struct rh_ep *gw, *ag;
	const struct control_session *s;
	const struct control_channel *c;
	uint64_t gw_id, ag_id;
	uint32_t gid;
	size_t n, total;

	rh_start(&h, NULL);
	gw = endpoint("gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 1, 1);
	ag = endpoint("agent", TOKEN_ROLE_AGENT, "acme", crm, 1, 0, 2);
	n = list_sessions(LIST_CAP, &total);
	gw_id = session_of(gw, n)->id;
	ag_id = session_of(ag, n)->id;
	/* rh_connect's empty DATA: 32 bytes in, nothing out. */
	cr_assert_eq(session_of(ag, n)->rx_packets, 1);
	cr_assert_eq(session_of(ag, n)->rx_bytes, HOP_DATA_MIN);
	cr_assert_eq(session_of(ag, n)->tx_packets, 0);

	gid = rh_open_channel(&h, ag, gw, 7, "crm");
	data_ok(ag, 7, gw, gid, 100, 1);
	data_ok(ag, 7, gw, gid, 1000, 2);
	data_ok(gw, gid, ag, 7, 300, 3);

	n = list_sessions(LIST_CAP, &total);
	s = session_of(ag, n);
	/* In: the empty DATA, OPEN, 2 × CHANNEL_DATA. Out: ACCEPT, 1 × CHANNEL_DATA. */
	cr_assert_eq(s->rx_packets, 4);
	cr_assert_eq(s->tx_packets, 2);
	cr_assert_eq(s->rx_bytes, 2 * HOP_DATA_MIN + FRAME_HEADER_LEN + FRAME_OPEN_MIN + 2 +
		     2 * (HOP_DATA_MIN + FRAME_DATA_OVERHEAD) + 1100, "agent rx_bytes %lu",
		     (unsigned long)s->rx_bytes);
	cr_assert_eq(s->tx_bytes, HOP_DATA_MIN + FRAME_HEADER_LEN + FRAME_ACCEPT_LEN +
		     HOP_DATA_MIN + FRAME_DATA_OVERHEAD + 300);
	s = session_of(gw, n);
	cr_assert_eq(s->rx_packets, 3, "the empty DATA, ACCEPT, one CHANNEL_DATA");
	cr_assert_eq(s->tx_packets, 3, "OPEN, two CHANNEL_DATA");

	n = list_channels(&total);
	cr_assert_eq(n, 1);
	c = channel_of(ag_id, 7, n);
	cr_assert_eq(c->gateway_session, gw_id);
	cr_assert_eq(c->gateway_channel, gid);
	cr_assert_eq(c->bytes_to_gateway, 1100);
	cr_assert_eq(c->bytes_to_agent, 300);
}

Test(relay_inspect, channels_across_workers_are_listed_once)
{
	struct rh_ep *gw, *a, *b;
	const struct control_channel *c;
	uint64_t gw_id, a_id, b_id;
	uint32_t gid_a, gid_b, gid_c;
	uint64_t opened_a, opened_b;
	struct rh_frame open;
	size_t n, total;

	rh_start(&h, NULL);
	gw = endpoint("gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 1, 1);
	a = endpoint("a", TOKEN_ROLE_AGENT, "acme", crm, 1, 0, 2);
	b = endpoint("b", TOKEN_ROLE_AGENT, "acme", crm, 1, 1, 3);
	gw_id = id_of(gw);
	a_id = id_of(a);
	b_id = id_of(b);

	opened_a = unix_now();
	gid_a = rh_open_channel(&h, a, gw, 7, "crm");	/* crosses workers */
	rh_advance(&h, 3 * RH_SEC);
	opened_b = unix_now();
	gid_b = rh_open_channel(&h, b, gw, 9, "crm");	/* one worker */
	/* One with a route, still waiting for the gateway's ACCEPT. */
	rh_send_open(&h, a, 11, "crm", "api");
	rh_pump(&h);
	open = rh_expect(gw, FRAME_CHANNEL_OPEN);
	gid_c = open.id;

	n = list_channels(&total);
	cr_assert_eq(n, 3, "each channel once, not once per end");
	cr_assert_eq(total, 3);
	c = channel_of(a_id, 7, n);
	cr_assert_eq(c->gateway_session, gw_id);
	cr_assert_eq(c->gateway_channel, gid_a);
	cr_assert_str_eq(c->tunnel, "crm");
	cr_assert_str_eq(c->route, "");
	cr_assert_eq(c->opened_s, opened_a);
	c = channel_of(b_id, 9, n);
	cr_assert_eq(c->gateway_session, gw_id);
	cr_assert_eq(c->gateway_channel, gid_b);
	cr_assert_eq(c->opened_s, opened_b);
	c = channel_of(a_id, 11, n);
	cr_assert_eq(c->gateway_session, 0, "not accepted yet");
	cr_assert_str_eq(c->route, "api");

	rh_send_accept(&h, gw, gid_c);
	rh_pump(&h);
	rh_expect(a, FRAME_CHANNEL_ACCEPT);
	n = list_channels(&total);
	c = channel_of(a_id, 11, n);
	cr_assert_eq(c->gateway_session, gw_id);
	cr_assert_eq(c->gateway_channel, gid_c);

	/* Closed channels leave the list. */
	rh_send_close(&h, a, 7, FRAME_CLOSE_NORMAL);
	rh_pump(&h);
	expect_close(gw, gid_a, FRAME_CLOSE_NORMAL);
	n = list_channels(&total);
	cr_assert_eq(n, 2);
	cr_assert_eq(total, 2);
	channel_of(b_id, 9, n);
	channel_of(a_id, 11, n);
}

/* Kick @victim (on @vw); its channel's other end is told PEER_GONE; a bystander flows on. */
static void kick_one(enum token_role victim_role, unsigned vw)
{
	bool agent = victim_role == TOKEN_ROLE_AGENT;
	struct rh_ep *victim, *peer, *gw2, *by;
	uint32_t gid, gid_by, vid, pid;
	uint64_t unknown, id;
	size_t n, total;

	rh_start(&h, NULL);
	victim = endpoint("victim", victim_role, "acme", crm, 1, vw, 1);
	peer = endpoint("peer", agent ? TOKEN_ROLE_GATEWAY : TOKEN_ROLE_AGENT, "acme", crm, 1,
			1 - vw, 2);
	if (agent) {
		gw2 = peer;
		by = endpoint("by", TOKEN_ROLE_AGENT, "acme", crm, 1, vw, 3);
		gid = rh_open_channel(&h, victim, peer, 7, "crm");
		vid = 7;
		pid = gid;
	} else {
		/* Open the victim gateway's channel first: the directory picks the least loaded. */
		gid = rh_open_channel(&h, peer, victim, 7, "crm");
		vid = gid;
		pid = 7;
		gw2 = endpoint("gw2", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 1 - vw, 4);
		by = endpoint("by", TOKEN_ROLE_AGENT, "acme", crm, 1, vw, 3);
	}
	gid_by = rh_open_channel(&h, by, gw2, 9, "crm");
	data_ok(victim, vid, peer, pid, 50, 1);
	id = id_of(victim);

	cr_assert_eq(kick(id), 0);
	expect_close(peer, pid, FRAME_CLOSE_PEER_GONE);
	rh_expect_nothing(peer);
	rh_expect_nothing(victim);
	cr_assert_eq(relay_sessions_kicked(h.r), 1);
	n = list_sessions(LIST_CAP, &total);
	cr_assert_eq(total, agent ? 2 : 3, "one session fewer");
	for (size_t i = 0; i < n; i++)
		cr_assert_neq(sess[i].id, id, "the kicked session is still listed");
	n = list_channels(&total);
	cr_assert_eq(total, 1, "only the bystander's channel is left");

	/* Its keys went with it: its next packet is unknown_index, and nothing moves. */
	unknown = rh_stats(&h).dropped[RELAY_DROP_UNKNOWN_INDEX];
	rh_send_data(&h, victim, vid, (const uint8_t *)"x", 1);
	rh_pump(&h);
	cr_assert_eq(rh_stats(&h).dropped[RELAY_DROP_UNKNOWN_INDEX], unknown + 1);
	rh_expect_nothing(peer);

	/* Once is enough: the id is gone for good. */
	cr_assert_eq(kick(id), -ENOENT);
	cr_assert_eq(relay_sessions_kicked(h.r), 1);
	for (unsigned i = 0; i < 3; i++) {
		data_ok(by, 9, gw2, gid_by, 100 + i, 10 + i);
		data_ok(gw2, gid_by, by, 9, 1200 - i, 20 + i);
	}
	/* It may come back (a kick is not a revocation). */
	rh_connect(&h, victim, 0);
	cr_assert_neq(id_of(victim), id, "a new session, a new id");
}

Test(relay_inspect, kick_an_agent_closes_the_gateway_side_across_workers)
{
	kick_one(TOKEN_ROLE_AGENT, 0);
}

Test(relay_inspect, kick_an_agent_closes_the_gateway_side_on_its_worker)
{
	kick_one(TOKEN_ROLE_AGENT, 1);
}

Test(relay_inspect, kick_a_gateway_closes_the_agent_side)
{
	kick_one(TOKEN_ROLE_GATEWAY, 1);
}

Test(relay_inspect, kick_of_an_unknown_id_is_enoent)
{
	struct rh_ep *ag;
	uint64_t id, ids[6];

	rh_start(&h, NULL);
	ag = endpoint("agent", TOKEN_ROLE_AGENT, "acme", crm, 1, 1, 2);
	id = id_of(ag);
	memcpy(ids, (const uint64_t[]){
		0,						/* none */
		id + (UINT64_C(1) << 32),			/* its slot, a later generation */
		id ^ 1,					/* a free slot of its worker */
		handle_make(0, handle_slot(id), handle_gen(id)),	/* the other worker */
		handle_make(7, handle_slot(id), handle_gen(id)),	/* no such worker */
		handle_make(1, HANDLE_SLOT_MAX, 1),		/* beyond the table */
	}, sizeof(ids));

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct inspect_req q = { .kind = INSPECT_KICK, .id = ids[i] };

		cr_assert_eq(ask(&q), -ENOENT, "id %016lx", (unsigned long)ids[i]);
	}
	cr_assert_eq(relay_sessions_kicked(h.r), 0);
	cr_assert_eq(rh_stats(&h).sessions, 1, "nothing was ended");
	cr_assert_eq(id_of(ag), id);
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(relay_inspect, a_worker_that_never_polls_makes_the_request_time_out)
{
	struct inspect_req q = { .kind = INSPECT_SESSIONS, .out = sess, .cap = LIST_CAP };
	struct control_session before[LIST_CAP];
	struct timespec t0;
	size_t n = 99, total = 99;
	struct rh_ep *ag;
	uint64_t id;

	rh_start(&h, NULL);
	ag = endpoint("agent", TOKEN_ROLE_AGENT, "acme", crm, 1, 0, 2);
	id = id_of(ag);

	/* Nobody polls: the blocking call gives up after its time, not never. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(inspect_sessions(h.r, sess, LIST_CAP, &n, &total, 50), -ETIMEDOUT);
	cr_assert_lt(since(&t0), 5.0, "took %.1f s", since(&t0));
	cr_assert_eq(n, 0);
	cr_assert_eq(total, 0);
	cr_assert_eq(inspect_kick(h.r, id, 20), -ETIMEDOUT);

	/* Withdrawn requests are never answered late: nothing written, nobody kicked. */
	memset(sess, 0xee, sizeof(sess));
	memcpy(before, sess, sizeof(sess));
	rh_pump(&h);
	cr_assert_arr_eq(sess, before, sizeof(sess), "a worker wrote after the timeout");
	cr_assert_eq(rh_stats(&h).sessions, 1, "a withdrawn kick was carried out");
	cr_assert_eq(relay_sessions_kicked(h.r), 0);

	/* One worker answers, the other does not: the whole request fails, honestly. */
	cr_assert_eq(inspect_post(h.r, &q), 0);
	cr_assert_eq(inspect_post(h.r, &q), -EBUSY, "one request at a time");
	relay_worker_poll(relay_get_worker(h.r, 0), h.now);
	cr_assert_eq(inspect_collect(h.r, &q), -EINPROGRESS);
	cr_assert_eq(inspect_abandon(h.r, &q), -ETIMEDOUT);
	cr_assert_eq(q.missed, 1u << 1, "worker 1 is the one that did not answer");
	rh_pump(&h);

	/* And the next request works. */
	cr_assert_eq(id_of(ag), id);
	cr_assert_eq(kick(id), 0);
	cr_assert_eq(rh_stats(&h).sessions, 0);
}

Test(relay_inspect, bad_requests_are_refused_before_posting)
{
	struct inspect_req none = { .kind = 0 };
	struct inspect_req nobuf = { .kind = INSPECT_SESSIONS, .cap = 4 };

	rh_start(&h, NULL);
	cr_assert_eq(inspect_post(h.r, &none), -EINVAL);
	cr_assert_eq(inspect_post(h.r, &nobuf), -EINVAL);
	/* Nothing was left posted. */
	cr_assert_eq(kick(handle_make(1, 0, 1)), -ENOENT);
}

Test(relay_inspect, addresses_are_formatted_as_inet_ntop_does)
{
	static const struct {
		uint8_t family;
		uint8_t addr[16];
		uint16_t port;
		const char *text;
	} cases[] = {
		{ PKT_AF_INET, { 192, 0, 2, 1 }, 51820, "192.0.2.1:51820" },
		{ PKT_AF_INET, { 0 }, 0, "0.0.0.0:0" },
		{ PKT_AF_INET, { 255, 255, 255, 255 }, 65535, "255.255.255.255:65535" },
		{ PKT_AF_INET6, { [15] = 1 }, 1, "[::1]:1" },
		{ PKT_AF_INET6, { 0 }, 2, "[::]:2" },
		{ PKT_AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 443, "[2001:db8::1]:443" },
		{ PKT_AF_INET6, { 0xfe, 0x80, [14] = 0xab, [15] = 0xcd }, 9, "[fe80::abcd]:9" },
		{ PKT_AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 }, 7,
		  "[2001:db8:0:1:1:1:1:1]:7" },
		{ PKT_AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 }, 7,
		  "[2001:db8::1:0:0:1]:7" },
		{ PKT_AF_INET6, { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 }, 80,
		  "[::ffff:192.0.2.1]:80" },
		{ PKT_AF_INET6, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				  0xff, 0xff, 0xff, 0xff, 0xff }, 65535,
		  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	};
	char text[CONTROL_ADDR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt_addr a = { .family = cases[i].family, .port = cases[i].port };

		memcpy(a.addr, cases[i].addr, sizeof(a.addr));
		inspect_format_addr(&a, text);
		cr_assert_str_eq(text, cases[i].text);
	}
	/* Random addresses rich in zero groups, against the C library's own. */
	srand(7);
	for (int i = 0; i < 20000; i++) {
		struct pkt_addr a = { .family = PKT_AF_INET6, .port = (uint16_t)i };
		char want[INET6_ADDRSTRLEN], full[INET6_ADDRSTRLEN + 8];

		for (int g = 0; g < 8; g++) {
			unsigned v = rand() % 3 ? 0 : (unsigned)rand() & 0xffff;

			if (rand() % 9 == 0)
				v = 0xffff;
			a.addr[2 * g] = (uint8_t)(v >> 8);
			a.addr[2 * g + 1] = (uint8_t)v;
		}
		cr_assert_not_null(inet_ntop(AF_INET6, a.addr, want, sizeof(want)));
		snprintf(full, sizeof(full), "[%s]:%u", want, a.port);
		inspect_format_addr(&a, text);
		cr_assert_str_eq(text, full);
	}
}
