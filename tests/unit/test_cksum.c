/*
 * test_cksum.c — dataplane/cksum.c against DPDK's own checksum helpers, over
 * every length a relay sends and every alignment, and the property a
 * receiver relies on: one flipped bit anywhere is caught.
 */
/* rte_ip.h's checksum verify helpers are marked experimental in 22.11. */
#define ALLOW_EXPERIMENTAL_API

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/cksum.h"

enum { MAX_LEN = 1600, MAX_SHIFT = 8 };

static uint8_t mem[MAX_LEN + MAX_SHIFT + 64];

/* Deterministic bytes: random, or a fill pattern that stresses the carries. */
static void fill(uint8_t *p, size_t n, unsigned kind, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		p[i] = kind == 0 ? (uint8_t)rand() : kind == 1 ? 0xff : 0x00;
}

Test(cksum, raw_sum_equals_dpdk_for_every_length_and_alignment)
{
	for (unsigned kind = 0; kind < 3; kind++)
		for (unsigned shift = 0; shift < MAX_SHIFT; shift++)
			for (size_t len = 0; len <= MAX_LEN; len++) {
				uint8_t *p = mem + shift;

				fill(p, len, kind, (unsigned)(len * 31 + shift));
				cr_assert_eq(dp_cksum_fold(dp_cksum_add(p, len, 0)),
					     rte_raw_cksum(p, len),
					     "kind %u, shift %u, length %zu", kind, shift, len);
			}
}

Test(cksum, pieces_of_even_length_add_up_to_the_whole)
{
	fill(mem, 1400, 0, 7);
	for (size_t cut = 0; cut <= 1400; cut += 2) {
		uint64_t s = dp_cksum_add(mem + cut, 1400 - cut, dp_cksum_add(mem, cut, 0));

		cr_assert_eq(dp_cksum_fold(s), rte_raw_cksum(mem, 1400), "cut at %zu", cut);
	}
}

/* An IPv4 or IPv6 + UDP datagram of @payload bytes at mem + @shift. */
static void *datagram(bool v6, unsigned shift, size_t payload, void **udp)
{
	uint8_t *p = mem + shift;
	size_t ipl = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(p + ipl);
	uint16_t l4 = (uint16_t)(sizeof(*u) + payload);

	memset(p, 0, ipl);
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;

		ip->vtc_flow = RTE_BE32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		fill(ip->src_addr, 32, 0, (unsigned)payload);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(ipl + l4));
		ip->next_proto_id = IPPROTO_UDP;
		ip->time_to_live = 64;
		fill((uint8_t *)&ip->src_addr, 8, 0, (unsigned)payload);
	}
	u->src_port = RTE_BE16(40000);
	u->dst_port = RTE_BE16(51820);
	u->dgram_len = rte_cpu_to_be_16(l4);
	u->dgram_cksum = 0;
	fill((uint8_t *)(u + 1), payload, 0, (unsigned)(payload + shift));
	*udp = u;
	return p;
}

Test(cksum, udp_checksums_equal_dpdk_and_verify)
{
	for (unsigned v6 = 0; v6 < 2; v6++)
		for (unsigned shift = 0; shift < 4; shift++)
			for (size_t payload = 0; payload <= 1472; payload += 1 + payload / 16) {
				void *udp;
				void *ip = datagram(v6, shift, payload, &udp);
				struct rte_udp_hdr *u = udp;
				uint16_t want = v6 ? rte_ipv6_udptcp_cksum(ip, udp)
						   : rte_ipv4_udptcp_cksum(ip, udp);
				uint16_t got = v6 ? dp_cksum_udp6(ip, udp) : dp_cksum_udp4(ip, udp);

				cr_assert_eq(got, want, "v6 %u, shift %u, payload %zu", v6, shift,
					     payload);
				u->dgram_cksum = got;
				cr_assert(v6 ? dp_cksum_udp6_ok(ip, udp) : dp_cksum_udp4_ok(ip, udp),
					  "v6 %u, payload %zu: own checksum verifies", v6, payload);
				cr_assert_eq(v6 ? rte_ipv6_udptcp_cksum_verify(ip, udp)
						: rte_ipv4_udptcp_cksum_verify(ip, udp),
					     0, "DPDK agrees it verifies");
			}
}

Test(cksum, one_flipped_bit_anywhere_is_caught)
{
	for (unsigned v6 = 0; v6 < 2; v6++) {
		void *udp;
		void *ip = datagram(v6, 1, 1400, &udp);
		uint8_t *u = udp;
		size_t len = sizeof(struct rte_udp_hdr) + 1400;

		((struct rte_udp_hdr *)udp)->dgram_cksum =
			v6 ? dp_cksum_udp6(ip, udp) : dp_cksum_udp4(ip, udp);
		for (size_t i = 0; i < len * 8; i++) {
			u[i / 8] ^= (uint8_t)(1u << (i % 8));
			cr_assert_not(v6 ? dp_cksum_udp6_ok(ip, udp) : dp_cksum_udp4_ok(ip, udp),
				      "v6 %u: bit %zu flipped and still verified", v6, i);
			u[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
		cr_assert(v6 ? dp_cksum_udp6_ok(ip, udp) : dp_cksum_udp4_ok(ip, udp));
	}
}
