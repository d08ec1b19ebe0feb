/*
 * test_ethdev.c — the DPDK ethdev backend (dataplane/ethdev.h) with its real
 * worker threads, and the port bring-up under it (dataplane/port.h, suite
 * port, driven from the test's thread), on a net_ring port whose rings the
 * test holds: a frame enqueued on RX ring i arrives on the port's RX queue i
 * (worker i's), and what worker i transmits lands on TX ring i.
 *
 *   test ─▶ rx ring 0 ─▶ RX queue 0 ─▶ worker 0 ─▶ TX queue 0 ─▶ tx ring 0 ─▶ test
 *        ─▶ rx ring 1 ─▶ RX queue 1 ─▶ worker 1 ─▶ TX queue 1 ─▶ tx ring 1 ─▶
 *                                   (both workers run the relay core)
 *
 * Each test runs in its own process (Criterion forks) with its own EAL, made
 * by dp_eal_init() (--no-huge, a per-process file prefix, 2 worker lcores)
 * and removed by dp_eal_cleanup(). Every test ends with finish(): the backend
 * destroyed, the relay destroyed, and every mbuf back in the pool.
 * Waits are bounded polls (a few seconds at most): the workers are real
 * threads on a busy machine.
 */
#define _GNU_SOURCE		/* usleep */
#define ALLOW_EXPERIMENTAL_API	/* rte_ipv4/6_udptcp_cksum_verify */

#include <criterion/criterion.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "dataplane/eal.h"
#include "dataplane/ethdev.h"
#include "dataplane/nd.h"
#include "dataplane/port.h"
#include "relay/pkt.h"
#include "relay/relay.h"
#include "relay/stats.h"
#include "wire/hop.h"

enum {
	WORKERS = 2,
	POOL_MBUFS = 4095,
	RING_SIZE = 512,
	RELAY_PORT = 51820,
	PEER_PORT = 40000,
	WAIT_MS = 3000,
	ETH = sizeof(struct rte_ether_hdr),
};

/* rte_eth_from_rings() names its port "net_ring_" + the name it is given. */
static char port_name[32];
static unsigned ports_made;

static struct rte_mempool *pool;
static struct rte_ring *rxr[WORKERS], *txr[WORKERS];
static struct token_trust *trust;
static struct relay *relay;
static struct dp_ethdev *eth;
static struct rte_ether_addr our_mac;

static const uint8_t IP_US[4] = { 10, 77, 0, 1 };
static const uint8_t IP_PEER[4] = { 10, 77, 0, 2 };
static const uint8_t IP6_US[16] = { 0xfd, 0x77, [15] = 1 };
static const uint8_t IP6_PEER[16] = { 0xfd, 0x77, [15] = 2 };
static const struct rte_ether_addr MAC_PEER = { { 0x02, 0, 0, 0x77, 0, 0x02 } };
static const struct rte_ether_addr BCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

/* ---- EAL, the port's rings, the relay ------------------------------------ */

/*
 * A net_ring port over the test's rings. Closing a port does not remove its
 * virtual device, so a second port needs a name of its own.
 */
static void ring_port(void)
{
	char name[16];

	snprintf(name, sizeof(name), "t%u", ports_made++);
	snprintf(port_name, sizeof(port_name), "net_ring_%s", name);
	cr_assert_geq(rte_eth_from_rings(name, rxr, WORKERS, txr, WORKERS, SOCKET_ID_ANY), 0,
		      "net_ring port %s", port_name);
}

static void make_relay(void)
{
	struct relay_params rp;

	relay_params_default(&rp);
	rp.n_workers = WORKERS;
	cr_assert_eq(keys_generate(rp.static_priv), 0);
	rp.trust = trust;
	rp.max_sessions = 64;
	rp.max_channel_ends = 256;
	rp.pool = pool;
	cr_assert_eq(relay_create(&relay, &rp), 0);
	relay_set_clock(relay, 1, (uint64_t)time(NULL) * 1000000000ull);
}

static void up(void)
{
	struct dp_eal_params ep = {
		.n_workers = WORKERS, .memory_mb = 128, .log_level = RTE_LOG_ERR,
	};
	char err[256] = "", name[RTE_RING_NAMESIZE];
	int ret;

	ret = dp_eal_init(&ep, err, sizeof(err));
	cr_assert_eq(ret, 0, "dp_eal_init: %s", err);
	ret = dp_eal_pool_create_sized(&pool, POOL_MBUFS, dp_ethdev_mbuf_data(NULL, 0), err,
				       sizeof(err));
	cr_assert_eq(ret, 0, "pool: %s", err);
	for (unsigned i = 0; i < WORKERS; i++) {
		snprintf(name, sizeof(name), "t_rx%u", i);
		rxr[i] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY, 0);
		snprintf(name, sizeof(name), "t_tx%u", i);
		txr[i] = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY, 0);
		cr_assert(rxr[i] && txr[i]);
	}
	ring_port();
	cr_assert_eq(token_trust_create(&trust), 0);
	make_relay();
}

static void drain_ring(struct rte_ring *r)
{
	struct rte_mbuf *m;

	while (r && rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static void down(void)
{
	dp_ethdev_destroy(eth);
	relay_destroy(relay);
	token_trust_destroy(trust);
	for (unsigned i = 0; i < WORKERS; i++) {
		drain_ring(rxr[i]);
		drain_ring(txr[i]);
	}
	rte_mempool_free(pool);
	dp_eal_cleanup();
}

TestSuite(ethdev, .init = up, .fini = down, .timeout = 60);

/* The port: 10.77.0.1/24 and fd77::1/64, listening on :51820 for both families. */
static void start(enum dp_ethdev_idle idle)
{
	struct dp_portconf pc;
	struct pkt_addr listen[2] = {
		{ .family = PKT_AF_INET, .port = RELAY_PORT },
		{ .family = PKT_AF_INET6, .port = RELAY_PORT },
	};
	struct dp_ethdev_params p = {
		.ports = &pc, .n_ports = 1, .listen = listen, .n_listen = 2, .idle = idle,
		.link_wait_ms = 500, .pool = pool, .relay = relay,
	};
	struct dp_ethdev_port_info info;
	const char *why = "";
	char err[256] = "", spec[128];

	snprintf(spec, sizeof(spec), "%s;address=10.77.0.1/24;address=fd77::1/64", port_name);
	cr_assert_eq(dp_portconf_parse(&pc, spec, &why), 0, "%s", why);
	cr_assert_eq(dp_ethdev_create(&eth, &p, err, sizeof(err)), 0, "create: %s", err);
	cr_assert_eq(dp_ethdev_port_info(eth, 0, &info), 0);
	our_mac = info.mac;
	cr_assert_eq(dp_ethdev_start(eth, err, sizeof(err)), 0, "start: %s", err);
}

/* Everything the test received freed, the backend and the relay gone: the pool is whole. */
static void finish(void)
{
	for (unsigned i = 0; i < WORKERS; i++)
		drain_ring(txr[i]);
	dp_ethdev_destroy(eth);
	eth = NULL;
	relay_destroy(relay);
	relay = NULL;
	for (unsigned i = 0; i < WORKERS; i++)
		cr_assert_eq(rte_ring_count(rxr[i]), 0, "RX ring %u drained at teardown", i);
	cr_assert_eq(rte_mempool_in_use_count(pool), 0, "%u mbufs not back in the pool",
		     rte_mempool_in_use_count(pool));
}

/* ---- frames ---------------------------------------------------------------- */

struct frame {
	uint8_t b[1600];
	unsigned len;
};

static void put_eth(struct frame *f, const struct rte_ether_addr *dst, uint16_t type)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f->b;

	memset(f, 0, sizeof(*f));
	e->dst_addr = *dst;
	e->src_addr = MAC_PEER;
	e->ether_type = rte_cpu_to_be_16(type);
	f->len = ETH;
}

static void put_arp(struct frame *f, const struct rte_ether_addr *dst, uint16_t op,
		    const uint8_t sip[4], const uint8_t tip[4])
{
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(f->b + ETH);

	put_eth(f, dst, RTE_ETHER_TYPE_ARP);
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = MAC_PEER;
	memcpy(&a->arp_data.arp_sip, sip, 4);
	if (op == RTE_ARP_OP_REPLY)
		a->arp_data.arp_tha = our_mac;
	memcpy(&a->arp_data.arp_tip, tip, 4);
	f->len = 60;	/* padded to the Ethernet minimum, as a NIC delivers it */
}

static struct rte_ipv4_hdr *put_ip4(struct frame *f, uint8_t proto, unsigned l4_len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f->b + ETH);

	put_eth(f, &our_mac, RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	memcpy(&ip->src_addr, IP_PEER, 4);
	memcpy(&ip->dst_addr, IP_US, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	f->len = ETH + (unsigned)sizeof(*ip) + l4_len;
	return ip;
}

static void put_echo(struct frame *f, uint16_t id, uint16_t seq)
{
	static const char payload[] = "postern echo payload";
	struct rte_ipv4_hdr *ip = put_ip4(f, IPPROTO_ICMP, 8 + sizeof(payload));
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_ident = rte_cpu_to_be_16(id);
	icmp->icmp_seq_nb = rte_cpu_to_be_16(seq);
	memcpy(icmp + 1, payload, sizeof(payload));
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + sizeof(payload));
}

static void put_udp(struct frame *f, uint16_t dport, const uint8_t *data, unsigned len)
{
	struct rte_ipv4_hdr *ip = put_ip4(f, IPPROTO_UDP, sizeof(struct rte_udp_hdr) + len);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->src_port = rte_cpu_to_be_16(PEER_PORT);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + len));
	memcpy(udp + 1, data, len);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

/* A HANDSHAKE_INIT of the right size and suite whose mac1 is garbage. */
static void put_bad_mac1_init(struct frame *f)
{
	uint8_t init[HOP_INIT_MIN];

	for (unsigned i = 0; i < sizeof(init); i++)
		init[i] = (uint8_t)(i * 37 + 11);
	init[0] = HOP_HANDSHAKE_INIT;
	init[1] = HOP_VERSION;
	init[2] = HOP_SUITE_CHACHAPOLY;
	init[3] = 0;
	put_udp(f, RELAY_PORT, init, sizeof(init));
}

/* An unsolicited-style advertisement from fd77::2 to us: S and O set, target link-layer option. */
static void put_na(struct frame *f)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(f->b + ETH);
	uint8_t *icmp = (uint8_t *)(ip + 1);
	const unsigned len = 4 + 4 + 16 + 8;

	put_eth(f, &our_mac, RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	memcpy(ip->src_addr, IP6_PEER, 16);
	memcpy(ip->dst_addr, IP6_US, 16);
	icmp[0] = DP_ND_ADVERT;
	icmp[4] = 0x60;			/* solicited, override */
	memcpy(icmp + 8, IP6_PEER, 16);
	icmp[24] = 2;			/* target link-layer address, 8 bytes */
	icmp[25] = 1;
	memcpy(icmp + 26, &MAC_PEER, 6);
	*(uint16_t *)(icmp + 2) = rte_ipv6_udptcp_cksum(ip, icmp);
	f->len = ETH + (unsigned)sizeof(*ip) + len;
}

static void inject(unsigned q, const struct frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	cr_assert_not_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)f->len);
	cr_assert_not_null(p);
	memcpy(p, f->b, f->len);
	cr_assert_eq(rte_ring_enqueue(rxr[q], m), 0);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The next frame worker @q transmits, within WAIT_MS; NULL if none. */
static struct rte_mbuf *sent(unsigned q)
{
	uint64_t end = ms_now() + WAIT_MS;
	struct rte_mbuf *m;

	do {
		if (rte_ring_dequeue(txr[q], (void **)&m) == 0)
			return m;
		usleep(1000);
	} while (ms_now() < end);
	return NULL;
}

/* Wait until *@counter reaches @want (a counter a worker writes). */
static bool reaches(const volatile uint64_t *counter, uint64_t want)
{
	uint64_t end = ms_now() + WAIT_MS;

	while (*counter < want && ms_now() < end)
		usleep(1000);
	return *counter >= want;
}

static const struct dp_l2stats *l2(unsigned worker)
{
	const struct dp_l2stats *s = dp_ethdev_l2stats(eth, worker, 0);

	cr_assert_not_null(s);
	return s;
}

/* ---- tests ------------------------------------------------------------------ */

Test(ethdev, port_comes_up_with_a_queue_pair_per_worker)
{
	struct dp_ethdev_port_info info;

	start(DP_ETHDEV_IDLE_SLEEP);
	cr_assert_eq(dp_ethdev_port_count(eth), 1);
	cr_assert_eq(dp_ethdev_port_info(eth, 0, &info), 0);
	cr_assert_str_eq(info.name, port_name);
	cr_assert_eq(info.queues, WORKERS);
	cr_assert(info.link_up, "net_ring's link is up once started");
	cr_assert(rte_is_valid_assigned_ether_addr(&info.mac));
	cr_assert_eq(info.n_listeners, 2, "0.0.0.0:P and [::]:P over one address each");
	cr_assert_eq(info.listener_base, 0);
	cr_assert_eq(info.rss_hf, 0, "net_ring has no RSS: none is programmed");
	cr_assert_eq(dp_ethdev_port_info(eth, 1, &info), -ENOENT);
	finish();
}

/* ARP and ICMP are answered by the worker that received them, on its own queue. */
static void answers_on_the_arrival_queue(enum dp_ethdev_idle idle)
{
	struct frame f;

	start(idle);
	for (unsigned q = 0; q < WORKERS; q++) {
		struct rte_mbuf *m;
		const struct rte_arp_hdr *a;
		const struct rte_ipv4_hdr *ip;
		const struct rte_icmp_hdr *icmp;

		put_arp(&f, &BCAST, RTE_ARP_OP_REQUEST, IP_PEER, IP_US);
		inject(q, &f);
		m = sent(q);
		cr_assert_not_null(m, "queue %u: no ARP reply", q);
		a = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, ETH);
		cr_assert_eq(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type,
			     RTE_BE16(RTE_ETHER_TYPE_ARP));
		cr_assert_eq(a->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
		cr_assert(rte_is_same_ether_addr(&a->arp_data.arp_sha, &our_mac));
		cr_assert(rte_is_same_ether_addr(&a->arp_data.arp_tha, &MAC_PEER));
		cr_assert_arr_eq(&a->arp_data.arp_sip, IP_US, 4);
		cr_assert_arr_eq(&a->arp_data.arp_tip, IP_PEER, 4);
		rte_pktmbuf_free(m);

		put_echo(&f, 0x77, (uint16_t)q);
		inject(q, &f);
		m = sent(q);
		cr_assert_not_null(m, "queue %u: no echo reply", q);
		ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, ETH);
		icmp = (const struct rte_icmp_hdr *)(ip + 1);
		cr_assert_eq(ip->next_proto_id, IPPROTO_ICMP);
		cr_assert_arr_eq(&ip->dst_addr, IP_PEER, 4);
		cr_assert_eq(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
		cr_assert_eq(icmp->icmp_seq_nb, rte_cpu_to_be_16((uint16_t)q));
		cr_assert_eq(rte_raw_cksum(icmp, rte_be_to_cpu_16(ip->total_length) -
					   sizeof(*ip)), 0xffff, "ICMP checksum");
		cr_assert_eq(rte_raw_cksum(ip, sizeof(*ip)), 0xffff, "IPv4 header checksum");
		rte_pktmbuf_free(m);

		cr_assert_eq(rte_ring_count(txr[1 - q]), 0, "the other worker stayed silent");
		cr_assert_eq(l2(q)->arp_replies_out, 1);
		cr_assert_eq(l2(q)->icmp4_echo_replies, 1);
	}
	finish();
}

Test(ethdev, answers_arp_and_ping_on_the_arrival_queue_sleep_mode)
{
	answers_on_the_arrival_queue(DP_ETHDEV_IDLE_SLEEP);
}

Test(ethdev, answers_arp_and_ping_on_the_arrival_queue_poll_mode)
{
	answers_on_the_arrival_queue(DP_ETHDEV_IDLE_POLL);
}

Test(ethdev, bad_mac1_init_reaches_the_core_and_is_dropped_unanswered)
{
	static const uint8_t junk[8] = { 1, 2, 3, 4 };
	const struct relay_stats *rs;
	struct frame f;

	start(DP_ETHDEV_IDLE_SLEEP);
	put_bad_mac1_init(&f);
	inject(1, &f);
	put_udp(&f, RELAY_PORT + 1, junk, sizeof(junk));	/* no listener there */
	inject(1, &f);
	rs = relay_worker_stats(relay_get_worker(relay, 1));
	cr_assert(reaches(&rs->dropped[RELAY_DROP_BAD_MAC1], 1), "worker 1 counts bad_mac1");
	cr_assert(reaches(&l2(1)->rx_dropped[DP_L2STATS_NO_LISTENER], 1));
	cr_assert_eq(rs->rx_packets, 1, "only the listener's packet reaches the core");
	cr_assert_eq(l2(1)->rx_hop, 1);
	cr_assert_eq(relay_worker_stats(relay_get_worker(relay, 0))->rx_packets, 0);
	usleep(200 * 1000);
	cr_assert_eq(rte_ring_count(txr[0]) + rte_ring_count(txr[1]), 0,
		     "a bad mac1 gets no answer at all");
	finish();
}

/* Which received frames are copied to the other worker: those that teach a MAC. */
static const struct {
	const char *name;
	unsigned kind;		/* 0 ARP reply, 1 gratuitous ARP, 2 NA, 3 ARP request */
	bool copied;
} neighbour_cases[] = {
	{ "ARP reply to us", 0, true },
	{ "gratuitous ARP", 1, true },
	{ "neighbour advertisement", 2, true },
	{ "ARP request for us (answered once, not copied)", 3, false },
};

Test(ethdev, neighbour_answers_reach_every_worker)
{
	struct dp_ethdev_worker_stats w0, w1;
	struct frame f;

	start(DP_ETHDEV_IDLE_SLEEP);
	for (unsigned i = 0; i < RTE_DIM(neighbour_cases); i++) {
		const struct dp_l2stats *other = l2(1);
		uint64_t before = other->rx_frames;

		switch (neighbour_cases[i].kind) {
		case 0: put_arp(&f, &our_mac, RTE_ARP_OP_REPLY, IP_PEER, IP_US); break;
		case 1: put_arp(&f, &BCAST, RTE_ARP_OP_REQUEST, IP_PEER, IP_PEER); break;
		case 2: put_na(&f); break;
		default: put_arp(&f, &BCAST, RTE_ARP_OP_REQUEST, IP_PEER, IP_US); break;
		}
		inject(0, &f);
		cr_assert(reaches(&l2(0)->rx_frames, i + 1), "%s: worker 0 took it",
			  neighbour_cases[i].name);
		if (neighbour_cases[i].copied) {
			cr_assert(reaches(&other->rx_frames, before + 1), "%s: worker 1 saw a copy",
				  neighbour_cases[i].name);
			cr_assert_eq(dp_l2stats_rx_dropped(other), 0, "%s: and took it in",
				     neighbour_cases[i].name);
		} else {
			struct rte_mbuf *m = sent(0);

			cr_assert_not_null(m, "%s: answered", neighbour_cases[i].name);
			rte_pktmbuf_free(m);
			cr_assert_eq(other->rx_frames, before, "%s: not copied",
				     neighbour_cases[i].name);
		}
	}
	cr_assert_eq(l2(1)->arp_replies_in, 1);
	cr_assert_eq(l2(1)->arp_gratuitous_in, 1);
	cr_assert_eq(l2(1)->nd_adverts_in, 1);
	cr_assert_eq(l2(1)->arp_requests_in, 0);
	cr_assert_eq(l2(1)->arp_replies_out, 0, "copies are never answered");
	cr_assert_eq(rte_ring_count(txr[1]), 0);
	dp_ethdev_worker_stats(eth, 0, &w0);
	dp_ethdev_worker_stats(eth, 1, &w1);
	cr_assert_eq(w0.l2_copies_out, 3);
	cr_assert_eq(w1.l2_copies_in, 3);
	cr_assert_eq(w0.l2_copy_failed, 0);
	finish();
}

Test(ethdev, idle_workers_sleep_in_sleep_mode_only)
{
	static const enum dp_ethdev_idle modes[] = { DP_ETHDEV_IDLE_SLEEP, DP_ETHDEV_IDLE_POLL };

	for (unsigned i = 0; i < RTE_DIM(modes); i++) {
		struct dp_ethdev_worker_stats st;

		if (i) {
			/* Destroying a backend closes its port: a new port, a new relay. */
			dp_ethdev_destroy(eth);
			eth = NULL;
			relay_destroy(relay);
			relay = NULL;
			ring_port();
			make_relay();
		}
		start(modes[i]);
		usleep(300 * 1000);
		dp_ethdev_worker_stats(eth, 0, &st);
		if (modes[i] == DP_ETHDEV_IDLE_SLEEP)
			cr_assert_gt(st.sleeps, 10, "an idle worker sleeps");
		else
			cr_assert_eq(st.sleeps, 0, "a polling worker never sleeps");
	}
	finish();
}

Test(ethdev, stop_returns_every_mbuf)
{
	struct frame f;

	start(DP_ETHDEV_IDLE_POLL);
	put_echo(&f, 1, 1);
	inject(0, &f);
	rte_pktmbuf_free(sent(0));
	dp_ethdev_stop(eth);
	/* Frames that arrive after the workers stopped wait in the RX queues... */
	for (unsigned i = 0; i < 40; i++)
		inject(i % WORKERS, &f);
	cr_assert_geq(rte_mempool_in_use_count(pool), 40, "in use: %u",
		      rte_mempool_in_use_count(pool));
	/* ...and dp_ethdev_destroy() drains them (finish() checks the pool). */
	finish();
}

/* ---- dataplane/port.h on its own --------------------------------------------- */

TestSuite(port, .init = up, .fini = down, .timeout = 60);

static struct dp_port_params port_params(const char *name, unsigned queues)
{
	return (struct dp_port_params){
		.name = name, .queues = queues, .queue_users = "fleet threads", .pool = pool,
	};
}

/* The port and the test's rings: every frame freed, every mbuf back. */
static void port_done(struct dp_port *p)
{
	dp_port_close(p);
	cr_assert_not(p->configured || p->started, "closed");
	for (unsigned i = 0; i < WORKERS; i++) {
		drain_ring(txr[i]);
		cr_assert_eq(rte_ring_count(rxr[i]), 0, "RX ring %u drained by the close", i);
	}
	cr_assert_eq(rte_mempool_in_use_count(pool), 0, "%u mbufs not back in the pool",
		     rte_mempool_in_use_count(pool));
}

/* With no name, the one port there is; each queue pair carries its own frames. */
Test(port, opens_the_only_port_with_a_queue_pair_each)
{
	struct dp_port_params pp = port_params(NULL, WORKERS);
	struct dp_port p;
	struct dp_port_stats st;
	struct rte_mbuf *m[4];
	struct frame f;
	char err[256] = "";

	cr_assert_eq(dp_port_open(&p, &pp, err, sizeof(err)), 0, "%s", err);
	cr_assert(p.configured && p.started);
	cr_assert_str_eq(p.info.name, port_name);
	cr_assert_str_eq(p.info.driver, "net_ring");
	cr_assert_eq(p.info.queues, WORKERS);
	cr_assert_eq(p.info.mtu, 1500, "the default MTU");
	cr_assert(rte_is_valid_assigned_ether_addr(&p.info.mac), "a MAC even without one");
	cr_assert_eq(p.info.rss_hf, 0, "net_ring has no RSS: none is programmed");
	cr_assert_eq(dp_port_wait_link(&p, WAIT_MS), 0, "net_ring's link is up once started");
	cr_assert(p.info.link_up);
	our_mac = p.info.mac;

	for (unsigned q = 0; q < WORKERS; q++) {
		put_echo(&f, 1, (uint16_t)q);
		inject(q, &f);
		cr_assert_eq(dp_port_rx(&p, (uint16_t)(1 - q), m, 4), 0, "not on the other queue");
		cr_assert_eq(dp_port_rx(&p, (uint16_t)q, m, 4), 1, "queue %u", q);
		cr_assert_eq(rte_pktmbuf_data_len(m[0]), f.len);
		cr_assert_eq(dp_port_tx(&p, (uint16_t)q, m, 1), 1, "the device takes it");
		cr_assert_eq(rte_ring_count(txr[q]), 1, "TX queue %u is TX ring %u", q, q);
		cr_assert_eq(rte_ring_count(txr[1 - q]), 0);
		drain_ring(txr[q]);
	}
	cr_assert_eq(dp_port_stats(&p, &st), 0);
	cr_assert_eq(st.ipackets, WORKERS);
	cr_assert_eq(st.opackets, WORKERS);

	/* Frames nobody took: drained on request, and by the close. */
	inject(0, &f);
	inject(1, &f);
	cr_assert_eq(dp_port_drain(&p), 2);
	inject(1, &f);
	port_done(&p);
	cr_assert_eq(dp_port_stats(&p, &st), -ENODEV, "a closed port has no counters");
}

/* What the device cannot do is refused with the reason, and nothing is left open. */
Test(port, refuses_what_the_device_cannot_do)
{
	char small_name[RTE_MEMPOOL_NAMESIZE] = "t_small";
	struct rte_mempool *small = rte_pktmbuf_pool_create(small_name, 63, 0, PKT_PRIV_SIZE,
							    RTE_PKTMBUF_HEADROOM + 1024,
							    SOCKET_ID_ANY);
	struct {
		const char *name;
		struct dp_port_params pp;
		int want;
		const char *says;
	} cases[] = {
		{ "no such name", port_params("net_ring_nope", 1), -ENODEV,
		  "no such Ethernet device (EAL has: net_ring_t0)" },
		{ "more queues than rings", port_params(NULL, WORKERS + 1), -EINVAL,
		  "3 fleet threads need 3 RX and TX queues, the device has 2 RX and 2 TX" },
		{ "MTU above the mbufs", port_params(NULL, 1), -EINVAL,
		  "MTU 1500 needs mbufs with 1514 bytes of data room, the pool has 1024" },
		{ "no queues", port_params(NULL, 0), -EINVAL, "invalid parameters" },
	};

	cr_assert_not_null(small);
	cases[2].pp.pool = small;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_port p;
		char err[256] = "";

		cr_assert_eq(dp_port_open(&p, &cases[i].pp, err, sizeof(err)), cases[i].want,
			     "%s: %s", cases[i].name, err);
		cr_assert(strstr(err, cases[i].says), "%s: '%s' not in '%s'", cases[i].name,
			  cases[i].says, err);
		cr_assert_not(p.configured || p.started, "%s: left open", cases[i].name);
	}
	rte_mempool_free(small);

	/* With a second port, "the one port" is ambiguous; by name it is not. */
	{
		struct dp_port_params any = port_params(NULL, 1), named = port_params(port_name, 1);
		struct dp_port p;
		char err[256] = "";

		ring_port();
		cr_assert_eq(dp_port_open(&p, &any, err, sizeof(err)), -ENODEV);
		cr_assert(strstr(err, "2 Ethernet ports (net_ring_t0, net_ring_t1)"), "%s", err);
		cr_assert_eq(dp_port_open(&p, &named, err, sizeof(err)), 0, "%s", err);
		cr_assert_str_eq(p.info.name, "net_ring_t1");
		port_done(&p);
	}
}
