/*
 * test_l2l3.c — the DPDK port's Ethernet/IP/UDP layer (dataplane/l2l3.h and
 * the arp, nd, icmp, neigh modules under it), fed hand-built frames in mbufs:
 * RX classification, ARP/ND/ICMP answers, TX encapsulation, the neighbour
 * cache, resolving a next hop without a packet, port-range listeners.
 *
 * Each test runs in its own process (Criterion forks) with its own EAL:
 * --no-huge -m 64 --no-pci --no-shconf --no-telemetry and a per-process
 * --file-prefix; teardown removes EAL's runtime directory. Every test ends with
 * done(), which destroys the port and asserts the pool has every mbuf back.
 *
 * With POSTERN_L2L3_DUMP=<dir> some frames are also written there as hex, one
 * file per frame, for a check by an independent parser.
 */
#define _GNU_SOURCE		/* sched_getaffinity */
#define ALLOW_EXPERIMENTAL_API	/* rte_ipv4/6_udptcp_cksum_verify */

#include <criterion/criterion.h>

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/l2l3.h"
#include "relay/pkt.h"

#define NS		1000000000ull
#define T0		(1000 * NS)	/* a clock that did not start at zero */

enum {
	POOL_SIZE = 511,
	PORT_A = 51820,
	PORT_B = 40000,
	PAYLOAD = 32,
	TXV_CAP = 64,
	ETH = 14,
};

static struct rte_mempool *pool;
static char runtime_dir[PATH_MAX];

/* ---- EAL, pool, ports ------------------------------------------------- */

static void eal_up(void)
{
	char prefix[64], lcore[16];
	cpu_set_t set;
	int cpu = 0;

	/* One lcore, on a CPU this process may use. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
			cpu++;
	snprintf(lcore, sizeof(lcore), "%d", cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=test-l2l3-%ld", (long)getpid());
	char *argv[] = {
		"test_l2l3", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		"--no-telemetry", prefix, "--log-level=error", "-l", lcore, NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	cr_assert_geq(rte_eal_init(argc, argv), 0, "EAL init failed");
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	pool = rte_pktmbuf_pool_create("l2l3_test", POOL_SIZE, 0, PKT_PRIV_SIZE,
				       RTE_PKTMBUF_HEADROOM + 2048, SOCKET_ID_ANY);
	cr_assert_not_null(pool);
}

static void eal_down(void)
{
	rte_mempool_free(pool);
	pool = NULL;
	rte_eal_cleanup();
	/* --no-shconf leaves the directory empty, but EAL does not remove it. */
	if (runtime_dir[0] && strstr(runtime_dir, "test-l2l3-"))
		rmdir(runtime_dir);
}

TestSuite(l2l3, .init = eal_up, .fini = eal_down, .timeout = 60);

static const struct rte_ether_addr MAC_A = { { 0x02, 0, 0, 0, 0, 0x0a } };
static const struct rte_ether_addr MAC_B = { { 0x02, 0, 0, 0, 0, 0x0b } };
static const struct rte_ether_addr MAC_B2 = { { 0x02, 0, 0, 0, 0, 0xb2 } };
static const struct rte_ether_addr MAC_C = { { 0x02, 0, 0, 0, 0, 0x0c } };
static const struct rte_ether_addr MAC_GW = { { 0x02, 0, 0, 0, 0, 0xfe } };
static const struct rte_ether_addr BCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static const uint8_t IP4_A[16] = { 10, 0, 0, 1 };
static const uint8_t IP4_B[16] = { 10, 0, 0, 2 };
static const uint8_t IP4_C[16] = { 10, 0, 0, 3 };
static const uint8_t IP4_GW[16] = { 10, 0, 0, 254 };
static const uint8_t IP4_FAR[16] = { 192, 0, 2, 7 };
static const uint8_t IP6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t IP6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t IP6_C[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 };
static const uint8_t IP6_GW[16] = { 0xfe, 0x80, [15] = 0xfe };
static const uint8_t IP6_FAR[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 7 };
static const uint8_t IP6_ALL_NODES[16] = { 0xff, 0x02, [15] = 1 };

static struct pkt_addr paddr(uint8_t family, const uint8_t *a, uint16_t port)
{
	struct pkt_addr p = { .family = family, .port = port };

	memcpy(p.addr, a, family == PKT_AF_INET ? 4 : 16);
	return p;
}

/* Port A: 10.0.0.1/24 and 2001:db8::1/64, listeners :51820 (both) and 10.0.0.1:443. */
static struct dp_iface iface_a(void)
{
	struct dp_iface ifc = { .mac = MAC_A, .n_addrs = 2, .n_listeners = 3 };

	ifc.addrs[0] = (struct dp_ifaddr){ .family = PKT_AF_INET, .prefix_len = 24 };
	memcpy(ifc.addrs[0].addr, IP4_A, 4);
	ifc.addrs[1] = (struct dp_ifaddr){ .family = PKT_AF_INET6, .prefix_len = 64 };
	memcpy(ifc.addrs[1].addr, IP6_A, 16);
	ifc.listeners[0] = paddr(PKT_AF_INET, IP4_A, PORT_A);
	ifc.listeners[1] = paddr(PKT_AF_INET6, IP6_A, PORT_A);
	ifc.listeners[2] = paddr(PKT_AF_INET, IP4_A, 443);
	memcpy(ifc.gateway4, IP4_GW, 4);
	memcpy(ifc.gateway6, IP6_GW, 16);
	return ifc;
}

/* Port B, the peer: 10.0.0.2/24 and 2001:db8::2/64, listeners :40000. */
static struct dp_iface iface_b(void)
{
	struct dp_iface ifc = { .mac = MAC_B, .n_addrs = 2, .n_listeners = 2 };

	ifc.addrs[0] = (struct dp_ifaddr){ .family = PKT_AF_INET, .prefix_len = 24 };
	memcpy(ifc.addrs[0].addr, IP4_B, 4);
	ifc.addrs[1] = (struct dp_ifaddr){ .family = PKT_AF_INET6, .prefix_len = 64 };
	memcpy(ifc.addrs[1].addr, IP6_B, 16);
	ifc.listeners[0] = paddr(PKT_AF_INET, IP4_B, PORT_B);
	ifc.listeners[1] = paddr(PKT_AF_INET6, IP6_B, PORT_B);
	return ifc;
}

static struct dp_l2l3 *make_port(const struct dp_iface *ifc, unsigned neigh_entries)
{
	struct dp_l2l3 *l2 = NULL;
	const char *why = NULL;
	int ret = dp_l2l3_create(&l2, ifc, pool, neigh_entries, SOCKET_ID_ANY, &why);

	cr_assert_eq(ret, 0, "dp_l2l3_create: %d %s", ret, why ? why : "");
	return l2;
}

static struct dp_l2l3 *port_a(void)
{
	struct dp_iface ifc = iface_a();

	return make_port(&ifc, 0);
}

static void check_accounting(const struct dp_l2l3 *l2, uint64_t queued_now)
{
	const struct dp_l2stats *s = dp_l2l3_stats(l2);

	cr_assert_eq(s->rx_frames, s->rx_hop + s->rx_handled + dp_l2stats_rx_dropped(s),
		     "rx: %lu != %lu + %lu + %lu", (unsigned long)s->rx_frames,
		     (unsigned long)s->rx_hop, (unsigned long)s->rx_handled,
		     (unsigned long)dp_l2stats_rx_dropped(s));
	cr_assert_eq(s->tx_packets, s->tx_frames + dp_l2stats_tx_dropped(s) + queued_now,
		     "tx: %lu != %lu + %lu + %lu", (unsigned long)s->tx_packets,
		     (unsigned long)s->tx_frames, (unsigned long)dp_l2stats_tx_dropped(s),
		     (unsigned long)queued_now);
}

static void free_all(struct rte_mbuf **m, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

/* Destroy the port(s) and check every mbuf is back in the pool. */
static void done(struct dp_l2l3 *a, struct dp_l2l3 *b)
{
	dp_l2l3_destroy(a);
	dp_l2l3_destroy(b);
	cr_assert_eq(rte_mempool_in_use_count(pool), 0, "%u mbufs leaked",
		     rte_mempool_in_use_count(pool));
}

/* ---- frames built by hand ---------------------------------------------- */

struct frame {
	uint8_t b[1600];
	unsigned len;
};

static struct rte_ether_hdr *eth_of(struct frame *f)
{
	return (struct rte_ether_hdr *)f->b;
}

static struct rte_ipv4_hdr *ip4_of(struct frame *f)
{
	return (struct rte_ipv4_hdr *)(f->b + ETH);
}

static struct rte_ipv6_hdr *ip6_of(struct frame *f)
{
	return (struct rte_ipv6_hdr *)(f->b + ETH);
}

static struct rte_udp_hdr *udp4_of(struct frame *f)
{
	return (struct rte_udp_hdr *)(f->b + ETH + rte_ipv4_hdr_len(ip4_of(f)));
}

static struct rte_udp_hdr *udp6_of(struct frame *f)
{
	return (struct rte_udp_hdr *)(ip6_of(f) + 1);
}

static void put_eth(struct frame *f, const struct rte_ether_addr *dst,
		    const struct rte_ether_addr *src, uint16_t type)
{
	memset(f, 0, sizeof(*f));
	eth_of(f)->dst_addr = *dst;
	eth_of(f)->src_addr = *src;
	eth_of(f)->ether_type = rte_cpu_to_be_16(type);
	f->len = ETH;
}

static void fill_payload(uint8_t *p, unsigned n, uint8_t seed)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void fix_ip4(struct frame *f)
{
	ip4_of(f)->hdr_checksum = 0;
	ip4_of(f)->hdr_checksum = rte_ipv4_cksum(ip4_of(f));
}

static void fix_udp4(struct frame *f)
{
	udp4_of(f)->dgram_cksum = 0;
	udp4_of(f)->dgram_cksum = rte_ipv4_udptcp_cksum(ip4_of(f), udp4_of(f));
}

static void fix_udp6(struct frame *f)
{
	udp6_of(f)->dgram_cksum = 0;
	udp6_of(f)->dgram_cksum = rte_ipv6_udptcp_cksum(ip6_of(f), udp6_of(f));
}

/* B's 10.0.0.2:40000 -> A's 10.0.0.1:51820, PAYLOAD bytes. */
static void udp4_base(struct frame *f, unsigned payload)
{
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	put_eth(f, &MAC_A, &MAC_B, RTE_ETHER_TYPE_IPV4);
	ip = ip4_of(f);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + payload));
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->time_to_live = 3;		/* TTL is irrelevant to a host */
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, IP4_B, 4);
	memcpy(&ip->dst_addr, IP4_A, 4);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(PORT_B);
	udp->dst_port = rte_cpu_to_be_16(PORT_A);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + payload));
	fill_payload((uint8_t *)(udp + 1), payload, 0x40);
	f->len = ETH + 20 + 8 + payload;
	fix_ip4(f);
	fix_udp4(f);
}

/* [2001:db8::2]:40000 -> [2001:db8::1]:51820, PAYLOAD bytes. */
static void udp6_base(struct frame *f, unsigned payload)
{
	struct rte_ipv6_hdr *ip;
	struct rte_udp_hdr *udp;

	put_eth(f, &MAC_A, &MAC_B, RTE_ETHER_TYPE_IPV6);
	ip = ip6_of(f);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | 0x12345);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(8 + payload));
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 1;
	memcpy(ip->src_addr, IP6_B, 16);
	memcpy(ip->dst_addr, IP6_A, 16);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(PORT_B);
	udp->dst_port = rte_cpu_to_be_16(PORT_A);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + payload));
	fill_payload((uint8_t *)(udp + 1), payload, 0x60);
	f->len = ETH + 40 + 8 + payload;
	fix_udp6(f);
}

static struct rte_mbuf *to_mbuf(const void *bytes, unsigned len, uint64_t ol_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	cr_assert_not_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert_not_null(p);
	memcpy(p, bytes, len);
	m->ol_flags |= ol_flags;
	return m;
}

static const struct rte_ether_addr *dst_mac(const struct rte_mbuf *m)
{
	return &rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->dst_addr;
}

static void dump(const char *name, const struct rte_mbuf *m)
{
	const char *dir = getenv("POSTERN_L2L3_DUMP");
	char path[PATH_MAX];
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.hex", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	for (unsigned i = 0; i < rte_pktmbuf_data_len(m); i++)
		fprintf(f, "%02x", p[i]);
	fputc('\n', f);
	fclose(f);
}

/* ---- RX: valid and malformed UDP, table-driven ------------------------- */

/* Mutations of a valid frame; each leaves exactly one thing wrong. */
static void m_none(struct frame *f) { (void)f; }
static void m_runt_eth(struct frame *f) { f->len = 10; }
static void m4_runt_ip(struct frame *f) { f->len = ETH + 19; }
static void m4_version(struct frame *f) { ip4_of(f)->version_ihl = 0x55; fix_ip4(f); }
static void m4_ihl_small(struct frame *f) { ip4_of(f)->version_ihl = 0x44; }
static void m4_ihl_beyond(struct frame *f)
{
	ip4_of(f)->version_ihl = 0x4f;
	ip4_of(f)->total_length = rte_cpu_to_be_16(56);
}
static void m4_total_long(struct frame *f)
{
	ip4_of(f)->total_length = rte_cpu_to_be_16((uint16_t)(f->len - ETH + 1));
	fix_ip4(f);
}
static void m4_total_short(struct frame *f)
{
	ip4_of(f)->total_length = rte_cpu_to_be_16((uint16_t)(f->len - ETH - 1));
	fix_ip4(f);
}
static void m4_mf(struct frame *f)
{
	ip4_of(f)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	fix_ip4(f);
}
static void m4_offset(struct frame *f)
{
	ip4_of(f)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG | 3);
	fix_ip4(f);
}
static void m4_ip_cksum(struct frame *f) { ip4_of(f)->hdr_checksum ^= 0x0100; }
static void m4_udp_cksum(struct frame *f) { udp4_of(f)->dgram_cksum ^= 0x0100; }
static void m4_udp_cksum0(struct frame *f) { udp4_of(f)->dgram_cksum = 0; }
static void m4_udp_len_long(struct frame *f)
{
	udp4_of(f)->dgram_len = rte_cpu_to_be_16(8 + PAYLOAD + 1);
	fix_udp4(f);
}
static void m4_udp_len_short(struct frame *f)
{
	udp4_of(f)->dgram_len = rte_cpu_to_be_16(8 + PAYLOAD - 1);
	fix_udp4(f);
}
static void m4_udp_runt(struct frame *f)
{
	ip4_of(f)->total_length = rte_cpu_to_be_16(20 + 4);
	fix_ip4(f);
}
static void m4_port(struct frame *f) { udp4_of(f)->dst_port = rte_cpu_to_be_16(9999); fix_udp4(f); }
static void m4_port_443(struct frame *f)
{
	udp4_of(f)->dst_port = rte_cpu_to_be_16(443);
	fix_udp4(f);
}
static void m4_dst(struct frame *f)
{
	memcpy(&ip4_of(f)->dst_addr, IP4_C, 4);
	fix_ip4(f);
	fix_udp4(f);
}
static void m4_dst_bcast(struct frame *f)
{
	ip4_of(f)->dst_addr = RTE_BE32(RTE_IPV4(10, 0, 0, 255));
	fix_ip4(f);
	fix_udp4(f);
}
static void m4_src_lo(struct frame *f)
{
	ip4_of(f)->src_addr = RTE_BE32(RTE_IPV4(127, 0, 0, 1));
	fix_ip4(f);
	fix_udp4(f);
}
static void m4_src_ours(struct frame *f)
{
	memcpy(&ip4_of(f)->src_addr, IP4_A, 4);
	fix_ip4(f);
	fix_udp4(f);
}
static void m4_sport0(struct frame *f) { udp4_of(f)->src_port = 0; fix_udp4(f); }
static void m4_tcp(struct frame *f) { ip4_of(f)->next_proto_id = IPPROTO_TCP; fix_ip4(f); }
static void m_other_mac(struct frame *f) { eth_of(f)->dst_addr = MAC_C; }
static void m_bcast_mac(struct frame *f) { eth_of(f)->dst_addr = BCAST; }
static void m_lldp(struct frame *f) { eth_of(f)->ether_type = RTE_BE16(RTE_ETHER_TYPE_LLDP); }
static void m_vlan(struct frame *f)
{
	/* Insert an 802.1Q tag (VLAN 7) after the MAC addresses. */
	memmove(f->b + 16, f->b + 12, f->len - 12);
	f->b[12] = 0x81;
	f->b[13] = 0x00;
	f->b[14] = 0x00;
	f->b[15] = 0x07;
	f->len += 4;
}
static void m4_pad(struct frame *f)
{
	/* A 4-byte datagram in a frame the sender's NIC padded to 60 bytes with junk. */
	udp4_base(f, 4);
	memset(f->b + f->len, 0xee, 60 - f->len);
	f->len = 60;
}
static void m_trailer(struct frame *f)
{
	memset(f->b + f->len, 0xee, 9);
	f->len += 9;
}
static void m4_options(struct frame *f)
{
	/* IHL 6: four NOP option bytes between the header and UDP. */
	memmove(f->b + ETH + 24, f->b + ETH + 20, f->len - ETH - 20);
	memset(f->b + ETH + 20, RTE_IPV4_HDR_OPT_NOP, 4);
	f->len += 4;
	ip4_of(f)->version_ihl = 0x46;
	ip4_of(f)->total_length = rte_cpu_to_be_16((uint16_t)(f->len - ETH));
	fix_ip4(f);
	fix_udp4(f);
}

static void m6_runt_ip(struct frame *f) { f->len = ETH + 39; }
static void m6_version(struct frame *f) { ip6_of(f)->vtc_flow = rte_cpu_to_be_32(4u << 28); }
static void m6_plen_long(struct frame *f)
{
	ip6_of(f)->payload_len = rte_cpu_to_be_16(8 + PAYLOAD + 1);
}
static void m6_plen_short(struct frame *f)
{
	ip6_of(f)->payload_len = rte_cpu_to_be_16(8 + PAYLOAD - 1);
}
static void m6_hbh(struct frame *f) { ip6_of(f)->proto = 0; }
static void m6_frag(struct frame *f) { ip6_of(f)->proto = 44; }
static void m6_tcp(struct frame *f) { ip6_of(f)->proto = IPPROTO_TCP; }
static void m6_cksum0(struct frame *f) { udp6_of(f)->dgram_cksum = 0; }
static void m6_udp_cksum(struct frame *f) { udp6_of(f)->dgram_cksum ^= 0x0100; }
static void m6_udp_len(struct frame *f)
{
	udp6_of(f)->dgram_len = rte_cpu_to_be_16(8 + PAYLOAD - 1);
	fix_udp6(f);
}
static void m6_port(struct frame *f) { udp6_of(f)->dst_port = rte_cpu_to_be_16(9999); fix_udp6(f); }
static void m6_dst(struct frame *f) { memcpy(ip6_of(f)->dst_addr, IP6_C, 16); fix_udp6(f); }
static void m6_dst_mcast(struct frame *f)
{
	memcpy(ip6_of(f)->dst_addr, IP6_ALL_NODES, 16);
	fix_udp6(f);
}
static void m6_src_mcast(struct frame *f)
{
	memcpy(ip6_of(f)->src_addr, IP6_ALL_NODES, 16);
	fix_udp6(f);
}
static void m6_src_zero(struct frame *f) { memset(ip6_of(f)->src_addr, 0, 16); fix_udp6(f); }
static void m6_src_mapped(struct frame *f)
{
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 };

	memcpy(ip6_of(f)->src_addr, mapped, 16);
	fix_udp6(f);
}
static void m6_src_ours(struct frame *f) { memcpy(ip6_of(f)->src_addr, IP6_A, 16); fix_udp6(f); }

#define GOOD_IP		RTE_MBUF_F_RX_IP_CKSUM_GOOD
#define BAD_IP		RTE_MBUF_F_RX_IP_CKSUM_BAD
#define GOOD_L4		RTE_MBUF_F_RX_L4_CKSUM_GOOD
#define BAD_L4		RTE_MBUF_F_RX_L4_CKSUM_BAD
#define NONE_L4		RTE_MBUF_F_RX_L4_CKSUM_NONE
#define STRIPPED	(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED)

struct rx_case {
	const char *name;
	uint8_t family;
	void (*mutate)(struct frame *f);
	uint64_t ol_flags;		/* what the "NIC" says */
	enum dp_l2stats_drop want;	/* NONE: delivered as a hop packet */
	int listener;			/* when delivered */
};

static const struct rx_case rx_cases[] = {
	{ "v4 valid",			4, m_none, 0, DP_L2STATS_NONE, 0 },
	{ "v4 second listener",		4, m4_port_443, 0, DP_L2STATS_NONE, 2 },
	{ "v4 padded to 60",		4, m4_pad, 0, DP_L2STATS_NONE, 0 },
	{ "v4 trailing bytes",		4, m_trailer, 0, DP_L2STATS_NONE, 0 },
	{ "v4 IP options",		4, m4_options, 0, DP_L2STATS_NONE, 0 },
	{ "v4 UDP checksum 0",		4, m4_udp_cksum0, 0, DP_L2STATS_NONE, 0 },
	{ "v4 NIC: IP cksum good",	4, m4_ip_cksum, GOOD_IP, DP_L2STATS_NONE, 0 },
	{ "v4 NIC: L4 cksum good",	4, m4_udp_cksum, GOOD_L4, DP_L2STATS_NONE, 0 },
	{ "v4 NIC: L4 verified",	4, m4_udp_cksum, NONE_L4, DP_L2STATS_NONE, 0 },
	{ "short frame",		4, m_runt_eth, 0, DP_L2STATS_RUNT, 0 },
	{ "v4 short IP header",		4, m4_runt_ip, 0, DP_L2STATS_RUNT, 0 },
	{ "v4 version 5",		4, m4_version, 0, DP_L2STATS_BAD_IP_VERSION, 0 },
	{ "v4 IHL 4",			4, m4_ihl_small, 0, DP_L2STATS_BAD_IHL, 0 },
	{ "v4 IHL past total",		4, m4_ihl_beyond, 0, DP_L2STATS_BAD_IHL, 0 },
	{ "v4 total past frame",	4, m4_total_long, 0, DP_L2STATS_BAD_IP_LEN, 0 },
	{ "v4 fragment MF",		4, m4_mf, 0, DP_L2STATS_FRAGMENT, 0 },
	{ "v4 fragment offset",		4, m4_offset, 0, DP_L2STATS_FRAGMENT, 0 },
	{ "v4 bad IP cksum",		4, m4_ip_cksum, 0, DP_L2STATS_BAD_IP_CKSUM, 0 },
	{ "v4 NIC: IP cksum bad",	4, m_none, BAD_IP, DP_L2STATS_BAD_IP_CKSUM, 0 },
	{ "v4 bad UDP cksum",		4, m4_udp_cksum, 0, DP_L2STATS_BAD_UDP_CKSUM, 0 },
	{ "v4 NIC: L4 cksum bad",	4, m_none, BAD_L4, DP_L2STATS_BAD_UDP_CKSUM, 0 },
	{ "v4 UDP len > IP",		4, m4_udp_len_long, 0, DP_L2STATS_BAD_UDP_LEN, 0 },
	{ "v4 UDP len < IP",		4, m4_udp_len_short, 0, DP_L2STATS_BAD_UDP_LEN, 0 },
	{ "v4 IP shorter than UDP",	4, m4_total_short, 0, DP_L2STATS_BAD_UDP_LEN, 0 },
	{ "v4 no room for UDP",		4, m4_udp_runt, 0, DP_L2STATS_BAD_UDP_LEN, 0 },
	{ "v4 wrong port",		4, m4_port, 0, DP_L2STATS_NO_LISTENER, 0 },
	{ "v4 not our address",		4, m4_dst, 0, DP_L2STATS_NOT_OURS, 0 },
	{ "v4 subnet broadcast",	4, m4_dst_bcast, 0, DP_L2STATS_NOT_OURS, 0 },
	{ "v4 loopback source",		4, m4_src_lo, 0, DP_L2STATS_BAD_SRC, 0 },
	{ "v4 our own source",		4, m4_src_ours, 0, DP_L2STATS_BAD_SRC, 0 },
	{ "v4 source port 0",		4, m4_sport0, 0, DP_L2STATS_BAD_SRC, 0 },
	{ "v4 TCP",			4, m4_tcp, 0, DP_L2STATS_PROTO, 0 },
	{ "VLAN tag",			4, m_vlan, 0, DP_L2STATS_VLAN, 0 },
	{ "VLAN stripped by NIC",	4, m_none, STRIPPED, DP_L2STATS_VLAN, 0 },
	{ "other host's MAC",		4, m_other_mac, 0, DP_L2STATS_OTHER_HOST, 0 },
	{ "v4 to broadcast MAC",	4, m_bcast_mac, 0, DP_L2STATS_L2_GROUP, 0 },
	{ "LLDP",			4, m_lldp, 0, DP_L2STATS_ETHERTYPE, 0 },
	{ "v6 valid",			6, m_none, 0, DP_L2STATS_NONE, 1 },
	{ "v6 trailing bytes",		6, m_trailer, 0, DP_L2STATS_NONE, 1 },
	{ "v6 NIC: L4 cksum good",	6, m6_udp_cksum, GOOD_L4, DP_L2STATS_NONE, 1 },
	{ "v6 short IP header",		6, m6_runt_ip, 0, DP_L2STATS_RUNT, 0 },
	{ "v6 version 4",		6, m6_version, 0, DP_L2STATS_BAD_IP_VERSION, 0 },
	{ "v6 payload past frame",	6, m6_plen_long, 0, DP_L2STATS_BAD_IP_LEN, 0 },
	{ "v6 hop-by-hop header",	6, m6_hbh, 0, DP_L2STATS_IPV6_EXT, 0 },
	{ "v6 fragment header",		6, m6_frag, 0, DP_L2STATS_IPV6_EXT, 0 },
	{ "v6 TCP",			6, m6_tcp, 0, DP_L2STATS_PROTO, 0 },
	{ "v6 UDP checksum 0",		6, m6_cksum0, 0, DP_L2STATS_UDP_CKSUM_ZERO, 0 },
	{ "v6 UDP cksum 0, NIC good",	6, m6_cksum0, GOOD_L4, DP_L2STATS_UDP_CKSUM_ZERO, 0 },
	{ "v6 bad UDP cksum",		6, m6_udp_cksum, 0, DP_L2STATS_BAD_UDP_CKSUM, 0 },
	{ "v6 NIC: L4 cksum bad",	6, m_none, BAD_L4, DP_L2STATS_BAD_UDP_CKSUM, 0 },
	{ "v6 UDP len < IP",		6, m6_udp_len, 0, DP_L2STATS_BAD_UDP_LEN, 0 },
	{ "v6 IP shorter than UDP",	6, m6_plen_short, 0, DP_L2STATS_BAD_UDP_LEN, 0 },
	{ "v6 wrong port",		6, m6_port, 0, DP_L2STATS_NO_LISTENER, 0 },
	{ "v6 not our address",		6, m6_dst, 0, DP_L2STATS_NOT_OURS, 0 },
	{ "v6 to all-nodes",		6, m6_dst_mcast, 0, DP_L2STATS_NOT_OURS, 0 },
	{ "v6 multicast source",	6, m6_src_mcast, 0, DP_L2STATS_BAD_SRC, 0 },
	{ "v6 unspecified source",	6, m6_src_zero, 0, DP_L2STATS_BAD_SRC, 0 },
	{ "v6 v4-mapped source",	6, m6_src_mapped, 0, DP_L2STATS_BAD_SRC, 0 },
	{ "v6 our own source",		6, m6_src_ours, 0, DP_L2STATS_BAD_SRC, 0 },
	{ "v6 to broadcast MAC",	6, m_bcast_mac, 0, DP_L2STATS_L2_GROUP, 0 },
};

/* The hop packet a valid frame carries: where it starts and how long it is. */
static void expected_payload(struct frame *f, uint8_t family, const uint8_t **p, unsigned *n)
{
	struct rte_udp_hdr *udp = family == 4 ? udp4_of(f) : udp6_of(f);

	*p = (const uint8_t *)(udp + 1);
	*n = rte_be_to_cpu_16(udp->dgram_len) - 8u;
}

Test(l2l3, rx_udp_table)
{
	struct dp_l2l3 *l2 = port_a();

	for (unsigned i = 0; i < sizeof(rx_cases) / sizeof(rx_cases[0]); i++) {
		const struct rx_case *c = &rx_cases[i];
		struct rte_mbuf *hop[1], *slots[TXV_CAP];
		struct dp_txv tx;
		struct frame f;
		struct dp_l2stats before = *dp_l2l3_stats(l2);
		const struct dp_l2stats *after = dp_l2l3_stats(l2);
		struct rte_mbuf *m;
		unsigned n;

		if (c->family == 4)
			udp4_base(&f, PAYLOAD);
		else
			udp6_base(&f, PAYLOAD);
		c->mutate(&f);
		m = to_mbuf(f.b, f.len, c->ol_flags);
		dp_txv_init(&tx, slots, TXV_CAP);
		n = dp_l2l3_rx(l2, &m, 1, hop, &tx, T0);

		cr_assert_eq(tx.n, 0, "%s: nothing to send", c->name);
		if (c->want != DP_L2STATS_NONE) {
			cr_assert_eq(n, 0, "%s: delivered, want %s", c->name,
				     dp_l2stats_drop_name(c->want));
			for (unsigned r = 0; r < DP_L2STATS_DROP_MAX; r++)
				cr_assert_eq(after->rx_dropped[r] - before.rx_dropped[r],
					     r == (unsigned)c->want ? 1u : 0u,
					     "%s: counted as %s, want %s", c->name,
					     dp_l2stats_drop_name(r),
					     dp_l2stats_drop_name(c->want));
			continue;
		}

		const uint8_t *want_payload;
		unsigned want_len;
		const struct pkt_meta *meta;

		cr_assert_eq(n, 1, "%s: not delivered", c->name);
		cr_assert_eq(after->rx_hop - before.rx_hop, 1, "%s", c->name);
		expected_payload(&f, c->family, &want_payload, &want_len);
		cr_assert_eq(rte_pktmbuf_pkt_len(hop[0]), want_len, "%s: length %u, want %u",
			     c->name, rte_pktmbuf_pkt_len(hop[0]), want_len);
		cr_assert_eq(rte_pktmbuf_data_len(hop[0]), want_len, "%s", c->name);
		cr_assert_arr_eq(rte_pktmbuf_mtod(hop[0], void *), want_payload, want_len,
				 "%s: payload", c->name);
		meta = pkt_meta(hop[0]);
		cr_assert_eq(meta->peer.family, c->family == 4 ? PKT_AF_INET : PKT_AF_INET6);
		cr_assert_eq(meta->peer.port, PORT_B, "%s", c->name);
		cr_assert_arr_eq(meta->peer.addr, c->family == 4 ? IP4_B : IP6_B, 16,
				 "%s: peer address", c->name);
		cr_assert_eq(meta->listener, c->listener, "%s: listener", c->name);
		cr_assert_eq(meta->local_port, c->listener == 2 ? 443 : PORT_A, "%s: local port",
			     c->name);
		cr_assert_eq(meta->handoff, 0);
		cr_assert_eq(meta->aux, 0);
		rte_pktmbuf_free(hop[0]);
	}
	check_accounting(l2, 0);
	done(l2, NULL);
}

Test(l2l3, rx_chained_mbuf_is_dropped)
{
	struct dp_l2l3 *l2 = port_a();
	struct rte_mbuf *hop[1], *slots[TXV_CAP], *m, *tail;
	struct dp_txv tx;
	struct frame f;

	udp4_base(&f, PAYLOAD);
	m = to_mbuf(f.b, 40, 0);
	tail = to_mbuf(f.b + 40, f.len - 40, 0);
	cr_assert_eq(rte_pktmbuf_chain(m, tail), 0);
	dp_txv_init(&tx, slots, TXV_CAP);
	cr_assert_eq(dp_l2l3_rx(l2, &m, 1, hop, &tx, T0), 0);
	cr_assert_eq(dp_l2l3_stats(l2)->rx_dropped[DP_L2STATS_SEGMENTED], 1);
	done(l2, NULL);
}

Test(l2l3, rx_burst_mixes_outcomes)
{
	struct dp_l2l3 *l2 = port_a();
	struct rte_mbuf *rx[4], *hop[4], *slots[TXV_CAP];
	struct dp_txv tx;
	struct frame f;
	unsigned n;

	udp4_base(&f, PAYLOAD);
	rx[0] = to_mbuf(f.b, f.len, 0);
	m4_ip_cksum(&f);
	rx[1] = to_mbuf(f.b, f.len, 0);
	udp6_base(&f, 100);
	rx[2] = to_mbuf(f.b, f.len, 0);
	udp4_base(&f, 7);
	rx[3] = to_mbuf(f.b, f.len, 0);
	dp_txv_init(&tx, slots, TXV_CAP);
	n = dp_l2l3_rx(l2, rx, 4, hop, &tx, T0);
	cr_assert_eq(n, 3, "hop packets keep their order, the bad one is gone");
	cr_assert_eq(rte_pktmbuf_data_len(hop[0]), PAYLOAD);
	cr_assert_eq(rte_pktmbuf_data_len(hop[1]), 100);
	cr_assert_eq(rte_pktmbuf_data_len(hop[2]), 7);
	cr_assert_eq(dp_l2l3_stats(l2)->rx_dropped[DP_L2STATS_BAD_IP_CKSUM], 1);
	free_all(hop, n);
	check_accounting(l2, 0);
	done(l2, NULL);
}

/* ---- ARP --------------------------------------------------------------- */

static void arp_frame(struct frame *f, const struct rte_ether_addr *eth_dst, uint16_t op,
		      const struct rte_ether_addr *sha, const uint8_t *sip,
		      const struct rte_ether_addr *tha, const uint8_t *tip)
{
	struct rte_arp_hdr *arp;

	put_eth(f, eth_dst, sha, RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(f->b + ETH);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	arp->arp_data.arp_sha = *sha;
	memcpy(&arp->arp_data.arp_sip, sip, 4);
	arp->arp_data.arp_tha = *tha;
	memcpy(&arp->arp_data.arp_tip, tip, 4);
	/* Padded to the Ethernet minimum, as on the wire. */
	memset(f->b + ETH + sizeof(*arp), 0xee, 60 - ETH - sizeof(*arp));
	f->len = 60;
}

/* Feed one frame to @l2; @return how many frames it put on @tx. */
static unsigned feed(struct dp_l2l3 *l2, struct frame *f, struct dp_txv *tx, uint64_t now)
{
	struct rte_mbuf *m = to_mbuf(f->b, f->len, 0), *hop[1];
	unsigned before = tx->n;

	cr_assert_eq(dp_l2l3_rx(l2, &m, 1, hop, tx, now), 0, "not a hop packet");
	return tx->n - before;
}

static void check_arp_reply(const struct rte_mbuf *m, const struct rte_ether_addr *to_mac,
			    const uint8_t *to_ip, const uint8_t *our_ip)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);
	static const uint8_t zero[60];

	cr_assert_eq(rte_pktmbuf_pkt_len(m), 60, "padded to the minimum frame");
	cr_assert(rte_is_same_ether_addr(&eth->dst_addr, to_mac));
	cr_assert(rte_is_same_ether_addr(&eth->src_addr, &MAC_A));
	cr_assert_eq(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	cr_assert_eq(arp->arp_hardware, RTE_BE16(1));
	cr_assert_eq(arp->arp_protocol, RTE_BE16(0x0800));
	cr_assert_eq(arp->arp_hlen, 6);
	cr_assert_eq(arp->arp_plen, 4);
	cr_assert_eq(arp->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	cr_assert(rte_is_same_ether_addr(&arp->arp_data.arp_sha, &MAC_A));
	cr_assert_arr_eq(&arp->arp_data.arp_sip, our_ip, 4);
	cr_assert(rte_is_same_ether_addr(&arp->arp_data.arp_tha, to_mac));
	cr_assert_arr_eq(&arp->arp_data.arp_tip, to_ip, 4);
	cr_assert_arr_eq(rte_pktmbuf_mtod_offset(m, const uint8_t *, 42), zero, 18,
			 "padding is zeros, not the request's");
	cr_assert_eq(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0);
}

static void check_neigh(const struct dp_l2l3 *l2, uint8_t family, const uint8_t *ip,
			enum dp_neigh_state state, const struct rte_ether_addr *mac)
{
	struct dp_neigh_info info;
	uint8_t key[16] = { 0 };

	memcpy(key, ip, family == PKT_AF_INET ? 4 : 16);
	cr_assert(dp_neigh_lookup(dp_l2l3_neigh(l2), family, key, &info), "no entry");
	cr_assert_eq(info.state, state, "state %d, want %d", info.state, state);
	if (mac)
		cr_assert(rte_is_same_ether_addr(&info.mac, mac), "wrong MAC");
}

static bool has_neigh(const struct dp_l2l3 *l2, uint8_t family, const uint8_t *ip)
{
	struct dp_neigh_info info;
	uint8_t key[16] = { 0 };

	memcpy(key, ip, family == PKT_AF_INET ? 4 : 16);
	return dp_neigh_lookup(dp_l2l3_neigh(l2), family, key, &info);
}

static const struct rte_ether_addr ZERO_MAC;

Test(l2l3, arp_request_broadcast_and_unicast_are_answered)
{
	static const struct {
		const char *name;
		const struct rte_ether_addr *eth_dst;
	} cases[] = {
		{ "broadcast", &BCAST },
		{ "unicast", &MAC_A },
	};
	struct dp_l2l3 *l2 = port_a();

	for (unsigned i = 0; i < 2; i++) {
		struct rte_mbuf *slots[TXV_CAP];
		struct dp_txv tx;
		struct frame f;

		arp_frame(&f, cases[i].eth_dst, RTE_ARP_OP_REQUEST, &MAC_B, IP4_B, &ZERO_MAC,
			  IP4_A);
		dp_txv_init(&tx, slots, TXV_CAP);
		cr_assert_eq(feed(l2, &f, &tx, T0), 1, "%s: one reply", cases[i].name);
		check_arp_reply(tx.m[0], &MAC_B, IP4_B, IP4_A);
		dump(i ? "arp_reply_unicast" : "arp_reply", tx.m[0]);
		free_all(tx.m, tx.n);
	}
	check_neigh(l2, PKT_AF_INET, IP4_B, DP_NEIGH_REACHABLE, &MAC_B);
	cr_assert_eq(dp_l2l3_stats(l2)->arp_requests_in, 2);
	cr_assert_eq(dp_l2l3_stats(l2)->arp_replies_out, 2);
	cr_assert_eq(dp_l2l3_stats(l2)->rx_handled, 2);
	check_accounting(l2, 0);
	done(l2, NULL);
}

Test(l2l3, arp_probe_is_answered_without_learning)
{
	static const uint8_t zero_ip[4];
	struct dp_l2l3 *l2 = port_a();
	struct rte_mbuf *slots[TXV_CAP];
	struct dp_txv tx;
	struct frame f;

	/* RFC 5227 probe: sender 0.0.0.0 asks who has our address. */
	arp_frame(&f, &BCAST, RTE_ARP_OP_REQUEST, &MAC_C, zero_ip, &ZERO_MAC, IP4_A);
	dp_txv_init(&tx, slots, TXV_CAP);
	cr_assert_eq(feed(l2, &f, &tx, T0), 1);
	check_arp_reply(tx.m[0], &MAC_C, zero_ip, IP4_A);
	cr_assert_not(has_neigh(l2, PKT_AF_INET, zero_ip));
	free_all(tx.m, tx.n);
	done(l2, NULL);
}

Test(l2l3, arp_malformed_and_foreign_are_dropped)
{
	static const struct {
		const char *name;
		uint16_t op;
		const struct rte_ether_addr *sha;
		const uint8_t *sip, *tip;
		unsigned len;		/* 0: as built */
		uint8_t hlen;		/* 0: 6 */
		enum dp_l2stats_drop want;
	} cases[] = {
		{ "for another host", RTE_ARP_OP_REQUEST, &MAC_B, IP4_B, IP4_C, 0, 0,
		  DP_L2STATS_ARP_NOT_OURS },
		{ "short", RTE_ARP_OP_REQUEST, &MAC_B, IP4_B, IP4_A, ETH + 27, 0,
		  DP_L2STATS_RUNT },
		{ "hlen 8", RTE_ARP_OP_REQUEST, &MAC_B, IP4_B, IP4_A, 0, 8, DP_L2STATS_BAD_ARP },
		{ "opcode 3", 3, &MAC_B, IP4_B, IP4_A, 0, 0, DP_L2STATS_BAD_ARP },
		{ "broadcast sender", RTE_ARP_OP_REQUEST, &BCAST, IP4_B, IP4_A, 0, 0,
		  DP_L2STATS_BAD_ARP },
		{ "claims our IP", RTE_ARP_OP_REPLY, &MAC_C, IP4_A, IP4_A, 0, 0,
		  DP_L2STATS_FROM_US },
		{ "our own MAC", RTE_ARP_OP_REQUEST, &MAC_A, IP4_C, IP4_A, 0, 0,
		  DP_L2STATS_FROM_US },
	};
	struct dp_l2l3 *l2 = port_a();

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rte_mbuf *slots[TXV_CAP];
		struct dp_txv tx;
		struct frame f;
		uint64_t before = dp_l2l3_stats(l2)->rx_dropped[cases[i].want];

		arp_frame(&f, &BCAST, cases[i].op, cases[i].sha, cases[i].sip, &ZERO_MAC,
			  cases[i].tip);
		if (cases[i].len)
			f.len = cases[i].len;
		if (cases[i].hlen)
			((struct rte_arp_hdr *)(f.b + ETH))->arp_hlen = cases[i].hlen;
		dp_txv_init(&tx, slots, TXV_CAP);
		cr_assert_eq(feed(l2, &f, &tx, T0), 0, "%s: no reply", cases[i].name);
		cr_assert_eq(dp_l2l3_stats(l2)->rx_dropped[cases[i].want], before + 1, "%s",
			     cases[i].name);
	}
	cr_assert_not(has_neigh(l2, PKT_AF_INET, IP4_B), "nothing learned from bad ARP");
	cr_assert_not(has_neigh(l2, PKT_AF_INET, IP4_C));
	check_accounting(l2, 0);
	done(l2, NULL);
}

Test(l2l3, gratuitous_arp_updates_known_and_ignores_unknown)
{
	struct dp_l2l3 *l2 = port_a();
	struct rte_mbuf *slots[TXV_CAP];
	struct dp_txv tx;
	struct frame f;

	dp_txv_init(&tx, slots, TXV_CAP);
	/* Unknown host announces itself: RFC 826 adds only when we are the target. */
	arp_frame(&f, &BCAST, RTE_ARP_OP_REQUEST, &MAC_C, IP4_C, &ZERO_MAC, IP4_C);
	cr_assert_eq(feed(l2, &f, &tx, T0), 0);
	cr_assert_not(has_neigh(l2, PKT_AF_INET, IP4_C));

	/* B is known (it asked for us); then its address moves to another NIC. */
	arp_frame(&f, &BCAST, RTE_ARP_OP_REQUEST, &MAC_B, IP4_B, &ZERO_MAC, IP4_A);
	cr_assert_eq(feed(l2, &f, &tx, T0), 1);
	check_neigh(l2, PKT_AF_INET, IP4_B, DP_NEIGH_REACHABLE, &MAC_B);
	arp_frame(&f, &BCAST, RTE_ARP_OP_REPLY, &MAC_B2, IP4_B, &BCAST, IP4_B);
	cr_assert_eq(feed(l2, &f, &tx, T0 + NS), 0, "an announcement gets no answer");
	check_neigh(l2, PKT_AF_INET, IP4_B, DP_NEIGH_REACHABLE, &MAC_B2);

	cr_assert_eq(dp_l2l3_stats(l2)->arp_gratuitous_in, 2);
	cr_assert_eq(dp_l2l3_stats(l2)->neigh_changed, 1);
	cr_assert_eq(dp_l2l3_stats(l2)->rx_handled, 3);
	free_all(tx.m, tx.n);
	check_accounting(l2, 0);
	done(l2, NULL);
}

/* ---- ICMP echo --------------------------------------------------------- */

static void echo4_frame(struct frame *f, unsigned data)
{
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;

	put_eth(f, &MAC_A, &MAC_B, RTE_ETHER_TYPE_IPV4);
	ip = ip4_of(f);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + data));
	ip->packet_id = rte_cpu_to_be_16(77);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 63;
	ip->next_proto_id = IPPROTO_ICMP;
	memcpy(&ip->src_addr, IP4_B, 4);
	memcpy(&ip->dst_addr, IP4_A, 4);
	fix_ip4(f);
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_ident = rte_cpu_to_be_16(0xbeef);
	icmp->icmp_seq_nb = rte_cpu_to_be_16(3);
	fill_payload((uint8_t *)(icmp + 1), data, 0x11);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + data);
	f->len = ETH + 20 + 8 + data;
	if (f->len < 60)
		f->len = 60;	/* padded by the sender's NIC */
}

Test(l2l3, icmp4_echo_request_gets_a_valid_reply)
{
	static const unsigned sizes[] = { 0, 56, 1400 };
	struct dp_l2l3 *l2 = port_a();

	for (unsigned i = 0; i < 3; i++) {
		struct rte_mbuf *slots[TXV_CAP];
		struct dp_txv tx;
		struct frame f, req;
		const struct rte_ether_hdr *eth;
		const struct rte_ipv4_hdr *ip;
		const struct rte_icmp_hdr *icmp;
		unsigned data = sizes[i], want_len = ETH + 20 + 8 + data;

		echo4_frame(&f, data);
		req = f;
		dp_txv_init(&tx, slots, TXV_CAP);
		cr_assert_eq(feed(l2, &f, &tx, T0), 1, "%u bytes: one reply", data);
		eth = rte_pktmbuf_mtod(tx.m[0], const struct rte_ether_hdr *);
		ip = (const struct rte_ipv4_hdr *)(eth + 1);
		icmp = (const struct rte_icmp_hdr *)(ip + 1);
		cr_assert_eq(rte_pktmbuf_pkt_len(tx.m[0]), want_len < 60 ? 60 : want_len);
		cr_assert(rte_is_same_ether_addr(&eth->dst_addr, &MAC_B));
		cr_assert(rte_is_same_ether_addr(&eth->src_addr, &MAC_A));
		cr_assert_arr_eq(&ip->src_addr, IP4_A, 4);
		cr_assert_arr_eq(&ip->dst_addr, IP4_B, 4);
		cr_assert_eq(ip->total_length, rte_cpu_to_be_16((uint16_t)(28 + data)));
		cr_assert_eq(ip->time_to_live, 64);
		cr_assert_eq(rte_raw_cksum(ip, 20), 0xffff, "IP header checksum");
		cr_assert_eq(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
		cr_assert_eq(icmp->icmp_code, 0);
		cr_assert_eq(rte_raw_cksum(icmp, 8 + data), 0xffff, "ICMP checksum");
		cr_assert_eq(icmp->icmp_ident, rte_cpu_to_be_16(0xbeef));
		cr_assert_eq(icmp->icmp_seq_nb, rte_cpu_to_be_16(3));
		cr_assert_arr_eq(icmp + 1, req.b + ETH + 28, data, "data echoed");
		if (data == 56)
			dump("icmp4_echo_reply", tx.m[0]);
		free_all(tx.m, tx.n);
	}
	cr_assert_eq(dp_l2l3_stats(l2)->icmp4_echo_replies, 3);
	check_accounting(l2, 0);
	done(l2, NULL);
}

static void e4_cksum(struct frame *f) { f->b[ETH + 20 + 2] ^= 1; }
static void e4_type(struct frame *f)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(f->b + ETH + 20);

	icmp->icmp_type = 13;	/* timestamp request */
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8 + 8);
}
static void e4_short(struct frame *f)
{
	ip4_of(f)->total_length = rte_cpu_to_be_16(20 + 7);
	fix_ip4(f);
}

Test(l2l3, icmp4_bad_or_other_is_not_answered)
{
	static const struct {
		const char *name;
		void (*mutate)(struct frame *f);
		enum dp_l2stats_drop want;
	} cases[] = {
		{ "bad checksum", e4_cksum, DP_L2STATS_BAD_ICMP },
		{ "shorter than a header", e4_short, DP_L2STATS_BAD_ICMP },
		{ "timestamp request", e4_type, DP_L2STATS_ICMP_IGNORED },
		{ "to broadcast MAC", m_bcast_mac, DP_L2STATS_L2_GROUP },
		{ "to another address", m4_dst, DP_L2STATS_NOT_OURS },
	};
	struct dp_l2l3 *l2 = port_a();

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rte_mbuf *slots[TXV_CAP];
		struct dp_txv tx;
		struct frame f;
		uint64_t before = dp_l2l3_stats(l2)->rx_dropped[cases[i].want];

		echo4_frame(&f, 8);
		cases[i].mutate(&f);
		dp_txv_init(&tx, slots, TXV_CAP);
		cr_assert_eq(feed(l2, &f, &tx, T0), 0, "%s: no reply", cases[i].name);
		cr_assert_eq(dp_l2l3_stats(l2)->rx_dropped[cases[i].want], before + 1, "%s",
			     cases[i].name);
	}
	check_accounting(l2, 0);
	done(l2, NULL);
}

static void icmp6_frame(struct frame *f, const struct rte_ether_addr *eth_dst,
			const struct rte_ether_addr *eth_src, const uint8_t *src,
			const uint8_t *dst, uint8_t hop_limit, const void *body, unsigned len)
{
	struct rte_ipv6_hdr *ip;
	struct rte_icmp_hdr *icmp;

	put_eth(f, eth_dst, eth_src, RTE_ETHER_TYPE_IPV6);
	ip = ip6_of(f);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = hop_limit;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	memcpy(ip + 1, body, len);
	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = rte_ipv6_udptcp_cksum(ip, icmp);
	f->len = ETH + 40 + len;
}

Test(l2l3, icmp6_echo_request_gets_a_valid_reply)
{
	struct dp_l2l3 *l2 = port_a();
	uint8_t body[8 + 40] = { 128, 0, 0, 0, 0x12, 0x34, 0, 9 };
	struct rte_mbuf *slots[TXV_CAP];
	struct dp_txv tx;
	struct frame f;
	const struct rte_ipv6_hdr *ip;
	const uint8_t *icmp;

	fill_payload(body + 8, 40, 0x22);
	icmp6_frame(&f, &MAC_A, &MAC_B, IP6_B, IP6_A, 64, body, sizeof(body));
	dp_txv_init(&tx, slots, TXV_CAP);
	cr_assert_eq(feed(l2, &f, &tx, T0), 1);
	ip = rte_pktmbuf_mtod_offset(tx.m[0], const struct rte_ipv6_hdr *, ETH);
	icmp = (const uint8_t *)(ip + 1);
	cr_assert(rte_is_same_ether_addr(dst_mac(tx.m[0]), &MAC_B));
	cr_assert_arr_eq(ip->src_addr, IP6_A, 16);
	cr_assert_arr_eq(ip->dst_addr, IP6_B, 16);
	cr_assert_eq(ip->hop_limits, 64);
	cr_assert_eq(icmp[0], 129, "echo reply");
	cr_assert_eq(icmp[1], 0);
	cr_assert_eq(rte_ipv6_udptcp_cksum_verify(ip, icmp), 0, "ICMPv6 checksum");
	cr_assert_arr_eq(icmp + 4, body + 4, sizeof(body) - 4, "id, seq and data echoed");
	dump("icmp6_echo_reply", tx.m[0]);
	free_all(tx.m, tx.n);

	/* A corrupted request and one to all-nodes get nothing. */
	icmp6_frame(&f, &MAC_A, &MAC_B, IP6_B, IP6_A, 64, body, sizeof(body));
	f.b[ETH + 40 + 9] ^= 1;
	dp_txv_init(&tx, slots, TXV_CAP);
	cr_assert_eq(feed(l2, &f, &tx, T0), 0);
	cr_assert_eq(dp_l2l3_stats(l2)->rx_dropped[DP_L2STATS_BAD_ICMP], 1);
	icmp6_frame(&f, &MAC_A, &MAC_B, IP6_B, IP6_ALL_NODES, 64, body, sizeof(body));
	cr_assert_eq(feed(l2, &f, &tx, T0), 0);
	cr_assert_eq(dp_l2l3_stats(l2)->rx_dropped[DP_L2STATS_NOT_OURS], 1);
	cr_assert_eq(dp_l2l3_stats(l2)->icmp6_echo_replies, 1);
	check_accounting(l2, 0);
	done(l2, NULL);
}

/* ---- neighbour discovery ----------------------------------------------- */

static void solicited_node(const uint8_t *a, uint8_t out[16])
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	memcpy(out, prefix, 13);
	memcpy(out + 13, a + 13, 3);
}

static void mcast_mac(const uint8_t *group, struct rte_ether_addr *mac)
{
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(mac->addr_bytes + 2, group + 12, 4);
}

/* NS for @target, with an SLLA option carrying @slla unless NULL. */
static unsigned ns_body(uint8_t *b, const uint8_t *target, const struct rte_ether_addr *slla)
{
	memset(b, 0, 32);
	b[0] = 135;
	memcpy(b + 8, target, 16);
	if (!slla)
		return 24;
	b[24] = 1;
	b[25] = 1;
	memcpy(b + 26, slla, 6);
	return 32;
}

/* NA for @target with flags (R=0x80, S=0x40, O=0x20) and a TLLA option unless NULL. */
static unsigned na_body(uint8_t *b, const uint8_t *target, uint8_t flags,
			const struct rte_ether_addr *tlla)
{
	memset(b, 0, 32);
	b[0] = 136;
	b[4] = flags;
	memcpy(b + 8, target, 16);
	if (!tlla)
		return 24;
	b[24] = 2;
	b[25] = 1;
	memcpy(b + 26, tlla, 6);
	return 32;
}

static void check_na(const struct rte_mbuf *m, const struct rte_ether_addr *eth_dst,
		     const uint8_t *dst, uint8_t flags)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);
	const uint8_t *na = (const uint8_t *)(ip + 1);

	cr_assert_eq(rte_pktmbuf_pkt_len(m), ETH + 40 + 32);
	cr_assert(rte_is_same_ether_addr(&eth->dst_addr, eth_dst), "Ethernet destination");
	cr_assert(rte_is_same_ether_addr(&eth->src_addr, &MAC_A));
	cr_assert_eq(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_IPV6));
	cr_assert_eq(rte_be_to_cpu_32(ip->vtc_flow) >> 28, 6);
	cr_assert_eq(ip->payload_len, RTE_BE16(32));
	cr_assert_eq(ip->proto, IPPROTO_ICMPV6);
	cr_assert_eq(ip->hop_limits, 255);
	cr_assert_arr_eq(ip->src_addr, IP6_A, 16, "from the advertised address");
	cr_assert_arr_eq(ip->dst_addr, dst, 16);
	cr_assert_eq(na[0], 136);
	cr_assert_eq(na[1], 0);
	cr_assert_eq(na[4], flags, "flags 0x%02x, want 0x%02x", na[4], flags);
	cr_assert_eq(na[5] | na[6] | na[7], 0);
	cr_assert_arr_eq(na + 8, IP6_A, 16, "target");
	cr_assert_eq(na[24], 2, "TLLA option");
	cr_assert_eq(na[25], 1);
	cr_assert_arr_eq(na + 26, &MAC_A, 6);
	cr_assert_eq(rte_ipv6_udptcp_cksum_verify(ip, na), 0, "ICMPv6 checksum");
}

Test(l2l3, neighbour_solicitations_get_advertisements)
{
	static const uint8_t unspecified[16];
	uint8_t group[16], body[32];
	struct rte_ether_addr group_mac, all_nodes_mac;
	struct dp_l2l3 *l2 = port_a();
	struct rte_mbuf *slots[TXV_CAP];
	struct dp_txv tx;
	struct frame f;
	unsigned n;

	solicited_node(IP6_A, group);
	mcast_mac(group, &group_mac);
	mcast_mac(IP6_ALL_NODES, &all_nodes_mac);
	dp_txv_init(&tx, slots, TXV_CAP);

	/* Multicast NS with SLLA: NA to the sender's SLLA, S and O set; sender learned. */
	n = ns_body(body, IP6_A, &MAC_B);
	icmp6_frame(&f, &group_mac, &MAC_B, IP6_B, group, 255, body, n);
	cr_assert_eq(feed(l2, &f, &tx, T0), 1);
	check_na(tx.m[0], &MAC_B, IP6_B, 0x60);
	dump("nd_na_solicited", tx.m[0]);
	check_neigh(l2, PKT_AF_INET6, IP6_B, DP_NEIGH_STALE, &MAC_B);

	/* Unicast NS without SLLA (a reachability probe): NA to the frame's source. */
	n = ns_body(body, IP6_A, NULL);
	icmp6_frame(&f, &MAC_A, &MAC_C, IP6_C, IP6_A, 255, body, n);
	cr_assert_eq(feed(l2, &f, &tx, T0), 1);
	check_na(tx.m[1], &MAC_C, IP6_C, 0x60);
	cr_assert_not(has_neigh(l2, PKT_AF_INET6, IP6_C), "no SLLA, nothing to learn");

	/* DAD: from ::, to the solicited-node group: defend, NA to all-nodes, S clear. */
	n = ns_body(body, IP6_A, NULL);
	icmp6_frame(&f, &group_mac, &MAC_C, unspecified, group, 255, body, n);
	cr_assert_eq(feed(l2, &f, &tx, T0), 1);
	check_na(tx.m[2], &all_nodes_mac, IP6_ALL_NODES, 0x20);
	dump("nd_na_dad", tx.m[2]);

	cr_assert_eq(dp_l2l3_stats(l2)->nd_solicits_in, 3);
	cr_assert_eq(dp_l2l3_stats(l2)->nd_adverts_out, 3);
	free_all(tx.m, tx.n);
	check_accounting(l2, 0);
	done(l2, NULL);
}

Test(l2l3, invalid_solicitations_are_dropped)
{
	static const uint8_t unspecified[16];
	uint8_t group[16], group_c[16], body[40];
	struct rte_ether_addr group_mac;
	struct dp_l2l3 *l2 = port_a();
	struct {
		const char *name;
		const uint8_t *src, *dst, *target;
		uint8_t hop_limit;
		bool slla;
		int corrupt;		/* >= 0: flip a byte of the body after checksumming */
		int zero_opt_len;
		enum dp_l2stats_drop want;
	} cases[] = {
		{ "hop limit 64", IP6_B, group, IP6_A, 64, true, -1, 0, DP_L2STATS_BAD_ND },
		{ "bad checksum", IP6_B, group, IP6_A, 255, true, 9, 0, DP_L2STATS_BAD_ICMP },
		{ "DAD with SLLA", unspecified, group, IP6_A, 255, true, -1, 0,
		  DP_L2STATS_BAD_ND },
		{ "DAD to unicast", unspecified, IP6_A, IP6_A, 255, false, -1, 0,
		  DP_L2STATS_BAD_ND },
		{ "option length 0", IP6_B, group, IP6_A, 255, true, -1, 1, DP_L2STATS_BAD_ND },
		{ "multicast target", IP6_B, group, IP6_ALL_NODES, 255, true, -1, 0,
		  DP_L2STATS_BAD_ND },
		{ "wrong group", IP6_B, group_c, IP6_A, 255, true, -1, 0, DP_L2STATS_BAD_ND },
		{ "other target", IP6_B, group_c, IP6_C, 255, true, -1, 0,
		  DP_L2STATS_ND_NOT_OURS },
	};

	solicited_node(IP6_A, group);
	solicited_node(IP6_C, group_c);
	mcast_mac(group, &group_mac);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rte_mbuf *slots[TXV_CAP];
		struct dp_txv tx;
		struct frame f;
		unsigned n = ns_body(body, cases[i].target, cases[i].slla ? &MAC_B : NULL);
		uint64_t before = dp_l2l3_stats(l2)->rx_dropped[cases[i].want];

		if (cases[i].zero_opt_len)
			body[25] = 0;
		icmp6_frame(&f, &group_mac, &MAC_B, cases[i].src, cases[i].dst,
			    cases[i].hop_limit, body, n);
		if (cases[i].corrupt >= 0)
			f.b[ETH + 40 + cases[i].corrupt] ^= 1;
		dp_txv_init(&tx, slots, TXV_CAP);
		cr_assert_eq(feed(l2, &f, &tx, T0), 0, "%s: no answer", cases[i].name);
		cr_assert_eq(dp_l2l3_stats(l2)->rx_dropped[cases[i].want], before + 1,
			     "%s: want %s", cases[i].name, dp_l2stats_drop_name(cases[i].want));
	}
	cr_assert_not(has_neigh(l2, PKT_AF_INET6, IP6_B));
	check_accounting(l2, 0);
	done(l2, NULL);
}

/* ---- TX ---------------------------------------------------------------- */

/* A hop packet from the core: @len bytes, to @peer, leaving from @listener. */
static struct rte_mbuf *hop_packet(unsigned len, uint8_t seed, struct pkt_addr peer,
				   uint16_t listener)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	cr_assert_not_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert_not_null(p);
	fill_payload(p, len, seed);
	memset(pkt_meta(m), 0, sizeof(struct pkt_meta));
	pkt_meta(m)->peer = peer;
	pkt_meta(m)->listener = listener;
	pkt_meta(m)->aux = 0xdeadbeef;	/* core-private: must survive */
	return m;
}

/* Let A learn B (v4 and v6) the way it happens on a LAN: B asks for A. */
static void a_learns_b(struct dp_l2l3 *a, uint64_t now)
{
	struct rte_mbuf *slots[TXV_CAP];
	struct dp_txv tx;
	struct frame f;
	uint8_t group[16], body[32];
	struct rte_ether_addr group_mac;
	unsigned n;

	dp_txv_init(&tx, slots, TXV_CAP);
	arp_frame(&f, &BCAST, RTE_ARP_OP_REQUEST, &MAC_B, IP4_B, &ZERO_MAC, IP4_A);
	cr_assert_eq(feed(a, &f, &tx, now), 1);
	solicited_node(IP6_A, group);
	mcast_mac(group, &group_mac);
	n = ns_body(body, IP6_A, &MAC_B);
	icmp6_frame(&f, &group_mac, &MAC_B, IP6_B, group, 255, body, n);
	cr_assert_eq(feed(a, &f, &tx, now), 1);
	/* An NS only makes B STALE (RFC 4861 7.2.3); B's answer to a probe confirms it. */
	n = na_body(body, IP6_B, 0x60, &MAC_B);
	icmp6_frame(&f, &MAC_A, &MAC_B, IP6_B, IP6_A, 255, body, n);
	cr_assert_eq(feed(a, &f, &tx, now), 0);
	check_neigh(a, PKT_AF_INET, IP4_B, DP_NEIGH_REACHABLE, &MAC_B);
	check_neigh(a, PKT_AF_INET6, IP6_B, DP_NEIGH_REACHABLE, &MAC_B);
	free_all(tx.m, tx.n);
}

/* Clear what a transmitted frame carries only for the local NIC. */
static void over_the_wire(struct rte_mbuf *m)
{
	m->ol_flags = 0;
	m->l2_len = m->l3_len = m->l4_len = 0;
	memset(pkt_meta(m), 0xa5, sizeof(struct pkt_meta));
}

Test(l2l3, tx_frames_parse_back_identically)
{
	struct dp_iface ib = iface_b();
	struct dp_l2l3 *a = port_a(), *b = make_port(&ib, 0);
	static const struct {
		uint8_t family;
		uint16_t listener;	/* on A */
		uint16_t b_listener;
		unsigned len;
	} cases[] = {
		{ PKT_AF_INET, 0, 0, 32 },
		{ PKT_AF_INET, 2, 0, 1400 },
		{ PKT_AF_INET6, 1, 1, 148 },
		{ PKT_AF_INET6, 1, 1, 1232 },
	};

	a_learns_b(a, T0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v4 = cases[i].family == PKT_AF_INET;
		struct pkt_addr peer = paddr(cases[i].family, v4 ? IP4_B : IP6_B, PORT_B);
		struct rte_mbuf *m = hop_packet(cases[i].len, (uint8_t)i, peer,
						cases[i].listener);
		struct rte_mbuf *slots[TXV_CAP], *hop[1];
		uint8_t sent[1500];
		const struct rte_ether_hdr *eth;
		const struct pkt_meta *meta;
		struct dp_txv tx;

		memcpy(sent, rte_pktmbuf_mtod(m, void *), cases[i].len);
		dp_txv_init(&tx, slots, TXV_CAP);
		dp_l2l3_tx(a, &m, 1, &tx, T0 + NS);
		cr_assert_eq(tx.n, 1, "case %u: one frame, no solicitation", i);
		m = tx.m[0];
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		cr_assert(rte_is_same_ether_addr(&eth->dst_addr, &MAC_B));
		cr_assert(rte_is_same_ether_addr(&eth->src_addr, &MAC_A));
		cr_assert_eq(rte_pktmbuf_pkt_len(m),
			     ETH + (v4 ? 20 : 40) + 8 + cases[i].len);
		cr_assert_eq(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0, "no offload asked");
		cr_assert_eq(pkt_meta(m)->aux, 0xdeadbeef, "the core's meta is left alone");
		if (v4) {
			const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

			cr_assert_eq(ip->time_to_live, 64);
			cr_assert_eq(ip->fragment_offset, RTE_BE16(RTE_IPV4_HDR_DF_FLAG));
			cr_assert_eq(rte_raw_cksum(ip, 20), 0xffff);
			cr_assert_eq(rte_ipv4_udptcp_cksum_verify(ip, ip + 1), 0);
		} else {
			const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

			cr_assert_eq(ip->hop_limits, 64);
			cr_assert_eq(rte_ipv6_udptcp_cksum_verify(ip, ip + 1), 0);
		}
		if (i == 0)
			dump("tx_udp4", m);
		if (i == 2)
			dump("tx_udp6", m);

		over_the_wire(m);
		cr_assert_eq(dp_l2l3_rx(b, &m, 1, hop, &tx, T0 + NS), 1, "case %u: B accepts", i);
		meta = pkt_meta(hop[0]);
		cr_assert_eq(rte_pktmbuf_data_len(hop[0]), cases[i].len);
		cr_assert_arr_eq(rte_pktmbuf_mtod(hop[0], void *), sent, cases[i].len);
		cr_assert_eq(meta->peer.family, cases[i].family);
		cr_assert_arr_eq(meta->peer.addr, v4 ? IP4_A : IP6_A, 16);
		cr_assert_eq(meta->peer.port, dp_l2l3_iface(a)->listeners[cases[i].listener].port);
		cr_assert_eq(meta->listener, cases[i].b_listener);
		rte_pktmbuf_free(hop[0]);
	}
	check_accounting(a, 0);
	check_accounting(b, 0);
	cr_assert_eq(dp_l2l3_stats(a)->tx_frames, 4);
	done(a, b);
}

Test(l2l3, tx_offload_leaves_checksums_to_the_nic)
{
	struct dp_iface ia = iface_a(), ib = iface_b();
	struct dp_l2l3 *a, *b = make_port(&ib, 0);

	ia.tx_offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	a = make_port(&ia, 0);
	a_learns_b(a, T0);
	for (unsigned v = 0; v < 2; v++) {
		bool v4 = v == 0;
		struct pkt_addr peer = paddr(v4 ? PKT_AF_INET : PKT_AF_INET6, v4 ? IP4_B : IP6_B,
					     PORT_B);
		struct rte_mbuf *m = hop_packet(100, 9, peer, v4 ? 0 : 1), *slots[4], *hop[1];
		struct dp_txv tx;
		uint64_t want = v4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				     RTE_MBUF_F_TX_UDP_CKSUM :
				     RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;

		dp_txv_init(&tx, slots, 4);
		dp_l2l3_tx(a, &m, 1, &tx, T0);
		cr_assert_eq(tx.n, 1);
		m = tx.m[0];
		cr_assert_eq(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, want);
		cr_assert_eq(m->l2_len, ETH);
		cr_assert_eq(m->l3_len, v4 ? 20 : 40);
		/* Emulate the NIC: what it computes must make a frame B accepts. */
		if (v4) {
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
									  ETH);
			struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

			cr_assert_eq(ip->hdr_checksum, 0);
			cr_assert_eq(udp->dgram_cksum, rte_ipv4_phdr_cksum(ip, 0), "pseudo-header");
			ip->hdr_checksum = rte_ipv4_cksum(ip);
			udp->dgram_cksum = 0;
			udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
		} else {
			struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
									  ETH);
			struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

			cr_assert_eq(udp->dgram_cksum, rte_ipv6_phdr_cksum(ip, 0), "pseudo-header");
			udp->dgram_cksum = 0;
			udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
		}
		over_the_wire(m);
		cr_assert_eq(dp_l2l3_rx(b, &m, 1, hop, &tx, T0), 1);
		rte_pktmbuf_free(hop[0]);
	}
	done(a, b);
}

static void check_arp_request(const struct rte_mbuf *m, const struct rte_ether_addr *dst,
			      const uint8_t *tip)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);

	cr_assert_eq(rte_pktmbuf_pkt_len(m), 60);
	cr_assert(rte_is_same_ether_addr(&eth->dst_addr, dst));
	cr_assert(rte_is_same_ether_addr(&eth->src_addr, &MAC_A));
	cr_assert_eq(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	cr_assert_eq(arp->arp_hardware, RTE_BE16(1));
	cr_assert_eq(arp->arp_protocol, RTE_BE16(0x0800));
	cr_assert_eq(arp->arp_hlen, 6);
	cr_assert_eq(arp->arp_plen, 4);
	cr_assert_eq(arp->arp_opcode, RTE_BE16(RTE_ARP_OP_REQUEST));
	cr_assert(rte_is_same_ether_addr(&arp->arp_data.arp_sha, &MAC_A));
	cr_assert_arr_eq(&arp->arp_data.arp_sip, IP4_A, 4);
	cr_assert(rte_is_zero_ether_addr(&arp->arp_data.arp_tha));
	cr_assert_arr_eq(&arp->arp_data.arp_tip, tip, 4);
}

static uint8_t first_byte(const struct rte_mbuf *m)
{
	return *rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH + 20 + 8);
}

Test(l2l3, tx_unresolved_queues_solicits_once_and_flushes_on_reply)
{
	struct dp_l2l3 *a = port_a();
	struct pkt_addr peer = paddr(PKT_AF_INET, IP4_B, PORT_B);
	struct rte_mbuf *slots[TXV_CAP], *m;
	struct dp_txv tx;
	struct dp_neigh_info info;
	uint8_t key[16] = { 10, 0, 0, 2 };
	struct frame f;

	/* Packets 0..3 within the first second: one ARP request, all four queued. */
	dp_txv_init(&tx, slots, TXV_CAP);
	for (unsigned i = 0; i < 4; i++) {
		m = hop_packet(PAYLOAD, (uint8_t)(i * 16), peer, 0);
		dp_l2l3_tx(a, &m, 1, &tx, T0 + i * NS / 10);
	}
	cr_assert_eq(tx.n, 1, "only the ARP request goes out");
	check_arp_request(tx.m[0], &BCAST, IP4_B);
	dump("arp_request", tx.m[0]);
	free_all(tx.m, tx.n);
	cr_assert(dp_neigh_lookup(dp_l2l3_neigh(a), PKT_AF_INET, key, &info));
	cr_assert_eq(info.state, DP_NEIGH_INCOMPLETE);
	cr_assert_eq(info.queued, 4);
	check_accounting(a, 4);

	/* Packet 4, a second later: a second request, and the oldest is pushed out. */
	dp_txv_init(&tx, slots, TXV_CAP);
	m = hop_packet(PAYLOAD, 4 * 16, peer, 0);
	dp_l2l3_tx(a, &m, 1, &tx, T0 + NS);
	cr_assert_eq(tx.n, 1, "rate limit: one request per second");
	free_all(tx.m, tx.n);
	cr_assert_eq(dp_l2l3_stats(a)->tx_dropped[DP_L2STATS_NEIGH_QUEUE_FULL], 1);
	cr_assert_eq(dp_l2l3_stats(a)->arp_requests_out, 2);
	check_accounting(a, 4);

	/* B's reply flushes packets 1..4, in order, to B's MAC. */
	dp_txv_init(&tx, slots, TXV_CAP);
	arp_frame(&f, &MAC_A, RTE_ARP_OP_REPLY, &MAC_B, IP4_B, &MAC_A, IP4_A);
	cr_assert_eq(feed(a, &f, &tx, T0 + NS + 1000), 4);
	for (unsigned i = 0; i < 4; i++) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(tx.m[i], struct rte_ether_hdr *);

		cr_assert(rte_is_same_ether_addr(&eth->dst_addr, &MAC_B));
		cr_assert_eq(first_byte(tx.m[i]), (i + 1) * 16, "frame %u out of order", i);
	}
	free_all(tx.m, tx.n);
	check_neigh(a, PKT_AF_INET, IP4_B, DP_NEIGH_REACHABLE, &MAC_B);
	cr_assert_eq(dp_l2l3_stats(a)->tx_flushed, 4);
	cr_assert_eq(dp_l2l3_stats(a)->arp_replies_in, 1);
	check_accounting(a, 0);
	done(a, NULL);
}

Test(l2l3, tx_unresolved_v6_solicits_and_flushes_on_advert)
{
	struct dp_l2l3 *a = port_a();
	struct pkt_addr peer = paddr(PKT_AF_INET6, IP6_B, PORT_B);
	struct rte_mbuf *slots[TXV_CAP], *m;
	struct dp_txv tx;
	struct frame f;
	uint8_t group[16], body[32];
	struct rte_ether_addr group_mac;
	const struct rte_ipv6_hdr *ip;
	const uint8_t *ns;
	unsigned n;

	solicited_node(IP6_B, group);
	mcast_mac(group, &group_mac);
	dp_txv_init(&tx, slots, TXV_CAP);
	m = hop_packet(PAYLOAD, 1, peer, 1);
	dp_l2l3_tx(a, &m, 1, &tx, T0);
	m = hop_packet(PAYLOAD, 2, peer, 1);
	dp_l2l3_tx(a, &m, 1, &tx, T0 + 5);
	cr_assert_eq(tx.n, 1);
	/* The NS: to the solicited-node group of B, from A, with A's SLLA. */
	cr_assert(rte_is_same_ether_addr(dst_mac(tx.m[0]), &group_mac));
	ip = rte_pktmbuf_mtod_offset(tx.m[0], const struct rte_ipv6_hdr *, ETH);
	ns = (const uint8_t *)(ip + 1);
	cr_assert_arr_eq(ip->src_addr, IP6_A, 16);
	cr_assert_arr_eq(ip->dst_addr, group, 16);
	cr_assert_eq(ip->hop_limits, 255);
	cr_assert_eq(ns[0], 135);
	cr_assert_arr_eq(ns + 8, IP6_B, 16);
	cr_assert_eq(ns[24], 1, "SLLA option");
	cr_assert_arr_eq(ns + 26, &MAC_A, 6);
	cr_assert_eq(rte_ipv6_udptcp_cksum_verify(ip, ns), 0);
	dump("nd_ns", tx.m[0]);
	free_all(tx.m, tx.n);

	/* An unsolicited NA for an unknown host teaches nothing (RFC 4861 7.2.5). */
	dp_txv_init(&tx, slots, TXV_CAP);
	n = na_body(body, IP6_C, 0x20, &MAC_C);
	icmp6_frame(&f, &MAC_A, &MAC_C, IP6_C, IP6_ALL_NODES, 255, body, n);
	cr_assert_eq(feed(a, &f, &tx, T0 + 10), 0);
	cr_assert_not(has_neigh(a, PKT_AF_INET6, IP6_C));

	/* B's solicited NA resolves it: both packets go out to B's MAC. */
	n = na_body(body, IP6_B, 0x60, &MAC_B);
	icmp6_frame(&f, &MAC_A, &MAC_B, IP6_B, IP6_A, 255, body, n);
	cr_assert_eq(feed(a, &f, &tx, T0 + 20), 2);
	cr_assert(rte_is_same_ether_addr(dst_mac(tx.m[0]), &MAC_B));
	check_neigh(a, PKT_AF_INET6, IP6_B, DP_NEIGH_REACHABLE, &MAC_B);
	cr_assert_eq(dp_l2l3_stats(a)->nd_adverts_in, 2);
	free_all(tx.m, tx.n);
	check_accounting(a, 0);
	done(a, NULL);
}

Test(l2l3, tick_resolicits_then_gives_up)
{
	struct dp_l2l3 *a = port_a();
	struct pkt_addr peer = paddr(PKT_AF_INET, IP4_B, PORT_B);
	struct rte_mbuf *slots[TXV_CAP], *m;
	struct dp_txv tx;

	dp_txv_init(&tx, slots, TXV_CAP);
	m = hop_packet(PAYLOAD, 0, peer, 0);
	dp_l2l3_tx(a, &m, 1, &tx, T0);
	cr_assert_eq(tx.n, 1);
	dp_l2l3_tick(a, &tx, T0 + NS / 2);
	cr_assert_eq(tx.n, 1, "too early to ask again");
	dp_l2l3_tick(a, &tx, T0 + NS);
	cr_assert_eq(tx.n, 2, "asks again after a second while a packet waits");
	check_arp_request(tx.m[1], &BCAST, IP4_B);
	dp_l2l3_tick(a, &tx, T0 + 2 * NS);
	cr_assert_eq(tx.n, 3);
	check_accounting(a, 1);
	dp_l2l3_tick(a, &tx, T0 + 3 * NS);
	cr_assert_eq(tx.n, 3, "nothing left to ask for");
	cr_assert_eq(dp_l2l3_stats(a)->tx_dropped[DP_L2STATS_NEIGH_UNRESOLVED], 1);
	check_accounting(a, 0);
	dp_l2l3_tick(a, &tx, T0 + 6 * NS);
	cr_assert_not(has_neigh(a, PKT_AF_INET, IP4_B), "dead entry freed");
	free_all(tx.m, tx.n);
	done(a, NULL);
}

Test(l2l3, stale_neighbour_is_probed_by_unicast_then_broadcast)
{
	struct dp_l2l3 *a = port_a();
	struct pkt_addr peer = paddr(PKT_AF_INET, IP4_B, PORT_B);
	struct rte_mbuf *slots[TXV_CAP], *m;
	struct dp_txv tx;
	uint64_t t = T0 + DP_NEIGH_REACHABLE_NS + NS;
	struct frame f;

	a_learns_b(a, T0);
	/* Past the reachable time: the packet still goes at once, plus a unicast probe. */
	for (unsigned probe = 0; probe < 3; probe++) {
		dp_txv_init(&tx, slots, TXV_CAP);
		m = hop_packet(PAYLOAD, 0, peer, 0);
		dp_l2l3_tx(a, &m, 1, &tx, t + probe * NS);
		cr_assert_eq(tx.n, 2, "probe %u: frame and probe", probe);
		cr_assert(rte_is_same_ether_addr(dst_mac(tx.m[0]), &MAC_B));
		check_arp_request(tx.m[1], &MAC_B, IP4_B);
		free_all(tx.m, tx.n);
	}
	check_neigh(a, PKT_AF_INET, IP4_B, DP_NEIGH_STALE, &MAC_B);
	/* Three probes unanswered: back to INCOMPLETE and a broadcast; packets wait. */
	dp_txv_init(&tx, slots, TXV_CAP);
	m = hop_packet(PAYLOAD, 0, peer, 0);
	dp_l2l3_tx(a, &m, 1, &tx, t + 3 * NS);
	cr_assert_eq(tx.n, 2, "the frame (old MAC) and a broadcast request");
	check_arp_request(tx.m[1], &BCAST, IP4_B);
	check_neigh(a, PKT_AF_INET, IP4_B, DP_NEIGH_INCOMPLETE, NULL);
	free_all(tx.m, tx.n);
	dp_txv_init(&tx, slots, TXV_CAP);
	m = hop_packet(PAYLOAD, 0, peer, 0);
	dp_l2l3_tx(a, &m, 1, &tx, t + 3 * NS + 1);
	cr_assert_eq(tx.n, 0, "queued");
	/* The answer (a probe from B) resolves it. */
	arp_frame(&f, &BCAST, RTE_ARP_OP_REQUEST, &MAC_B2, IP4_B, &ZERO_MAC, IP4_A);
	cr_assert_eq(feed(a, &f, &tx, t + 4 * NS), 2, "our reply and the queued packet");
	check_neigh(a, PKT_AF_INET, IP4_B, DP_NEIGH_REACHABLE, &MAC_B2);
	free_all(tx.m, tx.n);
	check_accounting(a, 0);
	done(a, NULL);
}

Test(l2l3, off_link_peers_go_through_the_gateway)
{
	struct dp_l2l3 *a = port_a();
	struct rte_mbuf *slots[TXV_CAP], *m;
	struct dp_txv tx;
	struct frame f;
	uint8_t gw_group[16];
	struct rte_ether_addr gw_group_mac;
	const struct rte_ipv6_hdr *ip;

	dp_txv_init(&tx, slots, TXV_CAP);
	m = hop_packet(PAYLOAD, 0, paddr(PKT_AF_INET, IP4_FAR, 9), 0);
	dp_l2l3_tx(a, &m, 1, &tx, T0);
	cr_assert_eq(tx.n, 1);
	check_arp_request(tx.m[0], &BCAST, IP4_GW);
	m = hop_packet(PAYLOAD, 0, paddr(PKT_AF_INET6, IP6_FAR, 9), 1);
	dp_l2l3_tx(a, &m, 1, &tx, T0);
	cr_assert_eq(tx.n, 2);
	solicited_node(IP6_GW, gw_group);
	mcast_mac(gw_group, &gw_group_mac);
	ip = rte_pktmbuf_mtod_offset(tx.m[1], const struct rte_ipv6_hdr *, ETH);
	cr_assert_arr_eq(ip->dst_addr, gw_group, 16, "NS for the link-local gateway");
	cr_assert_arr_eq((const uint8_t *)(ip + 1) + 8, IP6_GW, 16);
	free_all(tx.m, tx.n);

	/* The gateway answers; the far peer's packet leaves with the gateway's MAC. */
	dp_txv_init(&tx, slots, TXV_CAP);
	arp_frame(&f, &MAC_A, RTE_ARP_OP_REPLY, &MAC_GW, IP4_GW, &MAC_A, IP4_A);
	cr_assert_eq(feed(a, &f, &tx, T0 + 1), 1);
	cr_assert(rte_is_same_ether_addr(dst_mac(tx.m[0]), &MAC_GW));
	cr_assert_arr_eq(&rte_pktmbuf_mtod_offset(tx.m[0], const struct rte_ipv4_hdr *,
						  ETH)->dst_addr, IP4_FAR, 4,
			 "IP destination is still the far peer");
	free_all(tx.m, tx.n);
	check_accounting(a, 1);
	done(a, NULL);
}

Test(l2l3, tx_rejects_what_it_cannot_send)
{
	struct dp_iface ia = iface_a();
	struct dp_l2l3 *a;
	struct pkt_addr v4 = paddr(PKT_AF_INET, IP4_B, PORT_B);
	struct pkt_addr v6 = paddr(PKT_AF_INET6, IP6_B, PORT_B);
	struct pkt_addr far = paddr(PKT_AF_INET, IP4_FAR, PORT_B);
	struct pkt_addr port0 = paddr(PKT_AF_INET, IP4_B, 0);
	struct pkt_addr bcast = paddr(PKT_AF_INET, (const uint8_t[]){ 255, 255, 255, 255 }, 9);
	struct {
		const char *name;
		struct pkt_addr peer;
		uint16_t listener;
		unsigned len;
		unsigned headroom;	/* 0: the pool's */
		enum dp_l2stats_drop want;
	} cases[] = {
		{ "listener out of range", v4, 3, 32, 0, DP_L2STATS_TX_BAD_META },
		{ "family mismatch", v6, 0, 32, 0, DP_L2STATS_TX_BAD_META },
		{ "peer port 0", port0, 0, 32, 0, DP_L2STATS_TX_BAD_META },
		{ "broadcast peer", bcast, 0, 32, 0, DP_L2STATS_TX_BAD_META },
		{ "no gateway", far, 0, 32, 0, DP_L2STATS_TX_NO_ROUTE },
		{ "v4 over MTU", v4, 0, 1500 - 28 + 1, 0, DP_L2STATS_TX_TOO_BIG },
		{ "v6 over MTU", v6, 1, 1500 - 48 + 1, 0, DP_L2STATS_TX_TOO_BIG },
		{ "headroom 41", v4, 0, 32, 41, DP_L2STATS_TX_NO_HEADROOM },
		{ "headroom 61 for v6", v6, 1, 32, 61, DP_L2STATS_TX_NO_HEADROOM },
		{ "v4 at MTU", v4, 0, 1500 - 28, 0, DP_L2STATS_NONE },
		{ "v6 at MTU", v6, 1, 1500 - 48, 0, DP_L2STATS_NONE },
		{ "headroom 42 is enough", v4, 0, 32, 42, DP_L2STATS_NONE },
	};

	memset(ia.gateway4, 0, 4);
	a = make_port(&ia, 0);
	a_learns_b(a, T0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rte_mbuf *m = hop_packet(cases[i].len, 0, cases[i].peer, cases[i].listener);
		struct rte_mbuf *slots[TXV_CAP];
		struct dp_txv tx;
		uint64_t before = dp_l2l3_stats(a)->tx_dropped[cases[i].want];

		if (cases[i].headroom) {
			/* Move the data so that exactly @headroom bytes precede it. */
			uint8_t copy[64];

			memcpy(copy, rte_pktmbuf_mtod(m, void *), cases[i].len);
			m->data_off = (uint16_t)cases[i].headroom;
			memcpy(rte_pktmbuf_mtod(m, void *), copy, cases[i].len);
		}
		dp_txv_init(&tx, slots, TXV_CAP);
		dp_l2l3_tx(a, &m, 1, &tx, T0);
		if (cases[i].want == DP_L2STATS_NONE) {
			cr_assert_eq(tx.n, 1, "%s: sent", cases[i].name);
			free_all(tx.m, tx.n);
			continue;
		}
		cr_assert_eq(tx.n, 0, "%s: not sent", cases[i].name);
		cr_assert_eq(dp_l2l3_stats(a)->tx_dropped[cases[i].want], before + 1, "%s",
			     cases[i].name);
	}
	check_accounting(a, 0);
	done(a, NULL);
}

Test(l2l3, full_tx_vector_is_counted_not_leaked)
{
	struct dp_l2l3 *a = port_a();
	struct rte_mbuf *slots[1], *m;
	struct dp_txv tx;
	struct frame f;

	a_learns_b(a, T0);
	dp_txv_init(&tx, slots, 0);
	m = hop_packet(PAYLOAD, 0, paddr(PKT_AF_INET, IP4_B, PORT_B), 0);
	dp_l2l3_tx(a, &m, 1, &tx, T0);
	cr_assert_eq(dp_l2l3_stats(a)->tx_dropped[DP_L2STATS_TX_FULL], 1);
	echo4_frame(&f, 8);
	cr_assert_eq(feed(a, &f, &tx, T0), 0);
	cr_assert_eq(dp_l2l3_stats(a)->rx_dropped[DP_L2STATS_TX_FULL], 1);
	m = hop_packet(PAYLOAD, 0, paddr(PKT_AF_INET, IP4_C, PORT_B), 0);
	dp_l2l3_tx(a, &m, 1, &tx, T0);
	cr_assert_eq(dp_l2l3_stats(a)->solicit_failed, 1, "the ARP request found no room");
	check_accounting(a, 1);
	done(a, NULL);
}

Test(l2l3, full_cache_recycles_least_recently_used)
{
	struct dp_iface ia = iface_a();
	struct dp_l2l3 *a;
	struct rte_mbuf *slots[TXV_CAP], *m;
	struct dp_txv tx;
	struct frame f;
	uint8_t ip[4] = { 10, 0, 0, 0 };

	ia.addrs[0].prefix_len = 16;
	a = make_port(&ia, DP_NEIGH_WAYS);	/* one bucket: every address collides */
	dp_txv_init(&tx, slots, TXV_CAP);
	for (unsigned i = 0; i <= DP_NEIGH_WAYS; i++) {
		ip[3] = (uint8_t)(10 + i);
		m = hop_packet(PAYLOAD, 0, paddr(PKT_AF_INET, ip, PORT_B), 0);
		dp_l2l3_tx(a, &m, 1, &tx, T0 + i);
	}
	free_all(tx.m, tx.n);
	cr_assert_eq(dp_l2l3_stats(a)->neigh_recycled, 1);
	cr_assert_eq(dp_l2l3_stats(a)->tx_dropped[DP_L2STATS_NEIGH_EVICTED], 1);
	ip[3] = 10;
	cr_assert_not(has_neigh(a, PKT_AF_INET, ip), "the oldest went");
	check_accounting(a, DP_NEIGH_WAYS);

	/* An ARP request from a stranger cannot push out neighbours we are using. */
	dp_txv_init(&tx, slots, TXV_CAP);
	arp_frame(&f, &BCAST, RTE_ARP_OP_REQUEST, &MAC_C, (const uint8_t[]){ 10, 0, 1, 1 },
		  &ZERO_MAC, IP4_A);
	cr_assert_eq(feed(a, &f, &tx, T0 + NS), 1, "answered all the same");
	cr_assert_not(has_neigh(a, PKT_AF_INET, (const uint8_t[]){ 10, 0, 1, 1 }));
	cr_assert_eq(dp_l2l3_stats(a)->neigh_recycled, 1);
	free_all(tx.m, tx.n);
	done(a, NULL);
}

Test(l2l3, bad_configuration_is_refused)
{
	static const struct {
		const char *name;
		int what;
	} cases[] = {
		{ "multicast MAC", 0 }, { "no address", 1 }, { "listener not ours", 2 },
		{ "listener port 0", 3 }, { "gateway is ours", 4 }, { "MTU 1000", 5 },
		{ "prefix 33", 6 }, { "duplicate listener", 7 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_iface ifc = iface_a();
		struct dp_l2l3 *l2 = NULL;
		const char *why = NULL;

		switch (cases[i].what) {
		case 0: ifc.mac.addr_bytes[0] = 0x01; break;
		case 1: ifc.n_addrs = 0; break;
		case 2: ifc.listeners[0] = paddr(PKT_AF_INET, IP4_C, PORT_A); break;
		case 3: ifc.listeners[0].port = 0; break;
		case 4: memcpy(ifc.gateway4, IP4_A, 4); break;
		case 5: ifc.mtu = 1000; break;
		case 6: ifc.addrs[0].prefix_len = 33; break;
		case 7: ifc.listeners[2] = ifc.listeners[0]; break;
		}
		cr_assert_eq(dp_l2l3_create(&l2, &ifc, pool, 0, SOCKET_ID_ANY, &why), -EINVAL,
			     "%s accepted", cases[i].name);
		cr_assert_not_null(why, "%s: no reason given", cases[i].name);
	}
	done(NULL, NULL);
}

Test(l2l3, drop_reasons_have_names)
{
	for (unsigned r = 0; r < DP_L2STATS_DROP_MAX; r++) {
		const char *name = dp_l2stats_drop_name(r);

		cr_assert(name && name[0] && strcmp(name, "?") != 0, "reason %u", r);
		for (unsigned s = 0; s < r; s++)
			cr_assert_str_neq(name, dp_l2stats_drop_name(s), "duplicate name");
	}
	cr_assert_str_eq(dp_l2stats_drop_name(DP_L2STATS_DROP_MAX), "?");
}

/* ---- resolving a next hop without a packet (dp_l2l3_resolve) ----------- */

/*
 * An unknown neighbour is asked for at once, then at most once a second
 * however often the caller asks; the answer makes it known; nothing is queued
 * and no hop packet is counted meanwhile.
 */
Test(l2l3, resolve_solicits_at_once_then_once_a_second_until_answered)
{
	struct dp_l2l3 *a = port_a();
	struct rte_mbuf *slots[TXV_CAP];
	struct dp_txv tx;
	struct dp_neigh_info info;
	uint8_t key[16] = { 10, 0, 0, 2 }, group[16], body[32];
	struct rte_ether_addr group_mac;
	const struct rte_ipv6_hdr *ip;
	struct frame f;
	unsigned n;

	dp_txv_init(&tx, slots, TXV_CAP);
	cr_assert_eq(dp_l2l3_resolve(a, PKT_AF_INET, IP4_B, &tx, T0), -EAGAIN);
	cr_assert_eq(tx.n, 1, "one ARP request at once");
	check_arp_request(tx.m[0], &BCAST, IP4_B);
	cr_assert(dp_neigh_lookup(dp_l2l3_neigh(a), PKT_AF_INET, key, &info));
	cr_assert_eq(info.state, DP_NEIGH_INCOMPLETE);
	cr_assert_eq(info.queued, 0, "no packet behind it");
	for (unsigned i = 1; i < 10; i++)
		cr_assert_eq(dp_l2l3_resolve(a, PKT_AF_INET, IP4_B, &tx, T0 + i * NS / 10),
			     -EAGAIN);
	cr_assert_eq(tx.n, 1, "asked again and again within the second: still one request");
	cr_assert_eq(dp_l2l3_resolve(a, PKT_AF_INET, IP4_B, &tx, T0 + NS), -EAGAIN);
	cr_assert_eq(tx.n, 2, "a second later, a second request");
	check_arp_request(tx.m[1], &BCAST, IP4_B);
	free_all(tx.m, tx.n);

	/* B answers: known, and asking costs nothing more. */
	dp_txv_init(&tx, slots, TXV_CAP);
	arp_frame(&f, &MAC_A, RTE_ARP_OP_REPLY, &MAC_B, IP4_B, &MAC_A, IP4_A);
	cr_assert_eq(feed(a, &f, &tx, T0 + NS + 1), 0, "nothing was waiting");
	cr_assert_eq(dp_l2l3_resolve(a, PKT_AF_INET, IP4_B, &tx, T0 + 5 * NS), 0);
	cr_assert_eq(tx.n, 0);
	check_neigh(a, PKT_AF_INET, IP4_B, DP_NEIGH_REACHABLE, &MAC_B);
	cr_assert_eq(dp_l2l3_stats(a)->arp_requests_out, 2);

	/* IPv6: a neighbour solicitation to B's solicited-node group, then its advert. */
	solicited_node(IP6_B, group);
	mcast_mac(group, &group_mac);
	cr_assert_eq(dp_l2l3_resolve(a, PKT_AF_INET6, IP6_B, &tx, T0 + 5 * NS), -EAGAIN);
	cr_assert_eq(tx.n, 1);
	cr_assert(rte_is_same_ether_addr(dst_mac(tx.m[0]), &group_mac));
	ip = rte_pktmbuf_mtod_offset(tx.m[0], const struct rte_ipv6_hdr *, ETH);
	cr_assert_arr_eq(ip->dst_addr, group, 16);
	cr_assert_eq(((const uint8_t *)(ip + 1))[0], 135, "a neighbour solicitation");
	cr_assert_arr_eq((const uint8_t *)(ip + 1) + 8, IP6_B, 16, "for B");
	free_all(tx.m, tx.n);
	dp_txv_init(&tx, slots, TXV_CAP);
	n = na_body(body, IP6_B, 0x60, &MAC_B);
	icmp6_frame(&f, &MAC_A, &MAC_B, IP6_B, IP6_A, 255, body, n);
	cr_assert_eq(feed(a, &f, &tx, T0 + 5 * NS + 1), 0);
	cr_assert_eq(dp_l2l3_resolve(a, PKT_AF_INET6, IP6_B, &tx, T0 + 5 * NS + 2), 0);
	cr_assert_eq(tx.n, 0);
	cr_assert_eq(dp_l2l3_stats(a)->nd_solicits_out, 1);
	check_accounting(a, 0);
	cr_assert_eq(dp_l2l3_stats(a)->tx_packets, 0, "no hop packet was involved");
	done(a, NULL);
}

/* Where the answer must come from, and what cannot be resolved at all. */
Test(l2l3, resolve_asks_for_the_next_hop_or_says_why_not)
{
	struct dp_iface no_gw = iface_a();
	struct dp_l2l3 *a = port_a(), *b;
	static const uint8_t BCAST4[16] = { 255, 255, 255, 255 }, LOOP4[16] = { 127, 0, 0, 1 };
	static const struct {
		const char *name;
		bool gateways;
		uint8_t family;
		const uint8_t *dst;
		int want;
		const uint8_t *asks;	/* the address the ARP request / NS is for */
	} cases[] = {
		{ "on-link v4", true, PKT_AF_INET, IP4_C, -EAGAIN, IP4_C },
		{ "off-link v4: the gateway", true, PKT_AF_INET, IP4_FAR, -EAGAIN, IP4_GW },
		{ "off-link v6: the gateway", true, PKT_AF_INET6, IP6_FAR, -EAGAIN, IP6_GW },
		{ "off-link v4, no gateway", false, PKT_AF_INET, IP4_FAR, -ENETUNREACH, NULL },
		{ "off-link v6, no gateway", false, PKT_AF_INET6, IP6_FAR, -ENETUNREACH, NULL },
		{ "broadcast", true, PKT_AF_INET, BCAST4, -EINVAL, NULL },
		{ "loopback", true, PKT_AF_INET, LOOP4, -EINVAL, NULL },
		{ "all-nodes", true, PKT_AF_INET6, IP6_ALL_NODES, -EINVAL, NULL },
		{ "no such family", true, 5, IP4_C, -EINVAL, NULL },
	};

	memset(no_gw.gateway4, 0, 4);
	memset(no_gw.gateway6, 0, 16);
	b = make_port(&no_gw, 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_l2l3 *l2 = cases[i].gateways ? a : b;
		struct rte_mbuf *slots[TXV_CAP];
		struct dp_txv tx;

		dp_txv_init(&tx, slots, TXV_CAP);
		cr_assert_eq(dp_l2l3_resolve(l2, cases[i].family, cases[i].dst, &tx, T0),
			     cases[i].want, "%s", cases[i].name);
		cr_assert_eq(tx.n, cases[i].asks ? 1u : 0u, "%s: solicitations", cases[i].name);
		if (cases[i].asks) {
			cr_assert(has_neigh(l2, cases[i].family, cases[i].asks), "%s: no entry for "
				  "the next hop", cases[i].name);
			if (cases[i].family == PKT_AF_INET)
				check_arp_request(tx.m[0], &BCAST, cases[i].asks);
		}
		free_all(tx.m, tx.n);
	}
	done(a, b);
}

/*
 * An entry made by resolving lives while the caller keeps asking, and goes
 * DP_NEIGH_QUEUE_NS after the last time nobody answered (as one with packets).
 */
Test(l2l3, resolve_entry_expires_when_nobody_asks_any_more)
{
	struct dp_l2l3 *a = port_a();
	struct rte_mbuf *slots[TXV_CAP];
	struct dp_txv tx;

	dp_txv_init(&tx, slots, TXV_CAP);
	for (unsigned s = 0; s < 6; s++) {
		cr_assert_eq(dp_l2l3_resolve(a, PKT_AF_INET, IP4_B, &tx, T0 + s * NS), -EAGAIN);
		dp_l2l3_tick(a, &tx, T0 + s * NS + NS / 2);
		cr_assert(has_neigh(a, PKT_AF_INET, IP4_B), "second %u: still asked for", s);
	}
	cr_assert_eq(tx.n, 6, "one request a second, none from the ticks (nothing waits)");
	dp_l2l3_tick(a, &tx, T0 + 5 * NS + DP_NEIGH_QUEUE_NS);
	cr_assert_not(has_neigh(a, PKT_AF_INET, IP4_B), "freed once nobody asks");
	free_all(tx.m, tx.n);
	check_accounting(a, 0);
	done(a, NULL);
}

/* ---- port-range listeners ------------------------------------------------ */

enum { RANGE_LO = 2000, RANGE_HI = 2999 };

/*
 * Port A with ranges: 10.0.0.1:2000-2999 (listener 3) and
 * [2001:db8::1]:2000-2999 (listener 4), beside the single ports of iface_a().
 */
static struct dp_iface iface_ranges(void)
{
	struct dp_iface ifc = iface_a();

	ifc.listeners[3] = paddr(PKT_AF_INET, IP4_A, RANGE_LO);
	ifc.listener_port_hi[3] = RANGE_HI;
	ifc.listeners[4] = paddr(PKT_AF_INET6, IP6_A, RANGE_LO);
	ifc.listener_port_hi[4] = RANGE_HI;
	ifc.n_listeners = 5;
	return ifc;
}

/* A frame to any port of a range reaches the range's listener, and says which port. */
Test(l2l3, range_listener_receives_on_every_port_of_its_range)
{
	struct dp_iface ifc = iface_ranges();
	struct dp_l2l3 *l2 = make_port(&ifc, 0);
	static const struct {
		uint8_t family;
		uint16_t port;
		int listener;		/* -1: no_listener */
	} cases[] = {
		{ 4, RANGE_LO, 3 }, { 4, RANGE_LO + 1, 3 }, { 4, 2500, 3 }, { 4, RANGE_HI, 3 },
		{ 4, RANGE_LO - 1, -1 }, { 4, RANGE_HI + 1, -1 }, { 4, 1, -1 }, { 4, 65535, -1 },
		{ 4, PORT_A, 0 }, { 4, 443, 2 },
		{ 6, RANGE_LO, 4 }, { 6, RANGE_HI, 4 }, { 6, RANGE_HI + 1, -1 }, { 6, PORT_A, 1 },
		{ 6, 443, -1 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rte_mbuf *hop[1], *slots[TXV_CAP], *m;
		struct dp_txv tx;
		struct frame f;
		unsigned n;

		if (cases[i].family == 4) {
			udp4_base(&f, PAYLOAD);
			udp4_of(&f)->dst_port = rte_cpu_to_be_16(cases[i].port);
			fix_udp4(&f);
		} else {
			udp6_base(&f, PAYLOAD);
			udp6_of(&f)->dst_port = rte_cpu_to_be_16(cases[i].port);
			fix_udp6(&f);
		}
		m = to_mbuf(f.b, f.len, 0);
		dp_txv_init(&tx, slots, TXV_CAP);
		n = dp_l2l3_rx(l2, &m, 1, hop, &tx, T0);
		if (cases[i].listener < 0) {
			cr_assert_eq(n, 0, "v%u port %u: delivered", cases[i].family,
				     cases[i].port);
			continue;
		}
		cr_assert_eq(n, 1, "v%u port %u: dropped", cases[i].family, cases[i].port);
		cr_assert_eq(pkt_meta(hop[0])->listener, cases[i].listener, "v%u port %u",
			     cases[i].family, cases[i].port);
		cr_assert_eq(pkt_meta(hop[0])->local_port, cases[i].port);
		rte_pktmbuf_free(hop[0]);
	}
	cr_assert_eq(dp_l2l3_stats(l2)->rx_dropped[DP_L2STATS_NO_LISTENER], 6);
	check_accounting(l2, 0);
	done(l2, NULL);
}

/*
 * A range listener sends from the port pkt_meta.local_port names, which must
 * be its own; a single-port listener sends from its port whatever
 * local_port holds (the core reuses received mbufs for other listeners).
 * The peer parses each frame back, checksums included.
 */
Test(l2l3, range_listener_sends_from_the_port_asked_for)
{
	struct dp_iface ia = iface_ranges(), ib = iface_b();
	struct dp_l2l3 *a = make_port(&ia, 0), *b = make_port(&ib, 0);
	static const struct {
		uint8_t family;
		uint16_t listener, local_port;
		uint16_t want;		/* 0: dropped as tx_bad_meta */
	} cases[] = {
		{ PKT_AF_INET, 3, RANGE_LO, RANGE_LO },
		{ PKT_AF_INET, 3, 2345, 2345 },
		{ PKT_AF_INET, 3, RANGE_HI, RANGE_HI },
		{ PKT_AF_INET6, 4, 2777, 2777 },
		{ PKT_AF_INET, 3, 0, 0 },
		{ PKT_AF_INET, 3, RANGE_LO - 1, 0 },
		{ PKT_AF_INET6, 4, RANGE_HI + 1, 0 },
		{ PKT_AF_INET, 0, 2345, PORT_A },
		{ PKT_AF_INET, 2, 0, 443 },
		{ PKT_AF_INET6, 1, 0xa5a5, PORT_A },
	};

	a_learns_b(a, T0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v4 = cases[i].family == PKT_AF_INET;
		struct pkt_addr peer = paddr(cases[i].family, v4 ? IP4_B : IP6_B, PORT_B);
		struct rte_mbuf *m = hop_packet(PAYLOAD, (uint8_t)i, peer, cases[i].listener);
		struct rte_mbuf *slots[TXV_CAP], *hop[1];
		uint64_t bad = dp_l2l3_stats(a)->tx_dropped[DP_L2STATS_TX_BAD_META];
		struct dp_txv tx;

		pkt_meta(m)->local_port = cases[i].local_port;
		dp_txv_init(&tx, slots, TXV_CAP);
		dp_l2l3_tx(a, &m, 1, &tx, T0 + NS);
		if (!cases[i].want) {
			cr_assert_eq(tx.n, 0, "case %u: sent", i);
			cr_assert_eq(dp_l2l3_stats(a)->tx_dropped[DP_L2STATS_TX_BAD_META], bad + 1);
			continue;
		}
		cr_assert_eq(tx.n, 1, "case %u: not sent", i);
		m = tx.m[0];
		over_the_wire(m);
		cr_assert_eq(dp_l2l3_rx(b, &m, 1, hop, &tx, T0 + NS), 1, "case %u: B accepts", i);
		cr_assert_eq(pkt_meta(hop[0])->peer.port, cases[i].want, "case %u", i);
		cr_assert_arr_eq(pkt_meta(hop[0])->peer.addr, v4 ? IP4_A : IP6_A, 16);
		rte_pktmbuf_free(hop[0]);
	}
	check_accounting(a, 0);
	done(a, b);
}

/* Listeners on one address may not share a port, ranges included; a bad range is one port. */
Test(l2l3, range_listeners_must_not_overlap)
{
	static const struct {
		const char *name;
		uint8_t family;
		const uint8_t *addr;
		uint16_t lo, hi;
		bool ok;
	} cases[] = {
		{ "disjoint range", PKT_AF_INET, IP4_A, 3000, 3999, true },
		{ "same range, other family", PKT_AF_INET6, IP6_A, 500, 600, true },
		{ "hi below lo: the one port", PKT_AF_INET, IP4_A, 3000, 100, true },
		{ "touching the range's low end", PKT_AF_INET, IP4_A, 1000, RANGE_LO, false },
		{ "touching the range's high end", PKT_AF_INET, IP4_A, RANGE_HI, 4000, false },
		{ "inside the range", PKT_AF_INET, IP4_A, 2100, 2200, false },
		{ "one port of the range", PKT_AF_INET, IP4_A, 2500, 0, false },
		{ "around a single listener", PKT_AF_INET, IP4_A, 400, 500, false },
		{ "around a single v6 listener", PKT_AF_INET6, IP6_A, 51000, 52000, false },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_iface ifc = iface_a();
		const char *why = NULL;

		/* 10.0.0.1:2000-2999 on top of iface_a()'s :51820 (both) and 10.0.0.1:443. */
		ifc.listeners[3] = paddr(PKT_AF_INET, IP4_A, RANGE_LO);
		ifc.listener_port_hi[3] = RANGE_HI;
		ifc.listeners[4] = paddr(cases[i].family, cases[i].addr, cases[i].lo);
		ifc.listener_port_hi[4] = cases[i].hi;
		ifc.n_listeners = 5;
		cr_assert_eq(dp_iface_check(&ifc, &why), cases[i].ok ? 0 : -EINVAL, "%s: %s",
			     cases[i].name, why ? why : "accepted");
	}
	done(NULL, NULL);
}
