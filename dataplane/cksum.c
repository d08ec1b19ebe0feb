/*
 * cksum.c — RFC 1071 sums 32 bits at a time (see cksum.h for why that is
 * the same sum).
 */
#include "dataplane/cksum.h"

#include <string.h>

#include <rte_byteorder.h>

/*
 * Each 8-byte load is split into its two 32-bit halves, added to separate
 * 64-bit accumulators: no carry is ever lost (2^31 bytes would be needed to
 * overflow), and the loop has no carry chain for the compiler to respect,
 * so it unrolls and vectorises. Loads go through memcpy: any alignment.
 */
uint64_t dp_cksum_add(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;
	uint64_t a = 0, b = 0, c = 0, d = 0;

	for (; len >= 16; p += 16, len -= 16) {
		uint64_t x, y;

		memcpy(&x, p, 8);
		memcpy(&y, p + 8, 8);
		a += x & 0xffffffffu;
		b += x >> 32;
		c += y & 0xffffffffu;
		d += y >> 32;
	}
	sum += a + b + c + d;
	if (len >= 8) {
		uint64_t x;

		memcpy(&x, p, 8);
		sum += (x & 0xffffffffu) + (x >> 32);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t x;

		memcpy(&x, p, 4);
		sum += x;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t x;

		memcpy(&x, p, 2);
		sum += x;
		p += 2;
		len -= 2;
	}
	/* An odd last byte is the first byte of a zero-padded word (RFC 1071 2(A)). */
	if (len) {
		uint16_t x = 0;

		memcpy(&x, p, 1);
		sum += x;
	}
	return sum;
}

static uint16_t finish(uint64_t sum)
{
	uint16_t c = (uint16_t)~dp_cksum_fold(sum);

	return c == 0 ? 0xffff : c;
}

uint16_t dp_cksum_udp4(const struct rte_ipv4_hdr *ip, const void *udp)
{
	size_t len = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);

	return finish(dp_cksum_add(udp, len, rte_ipv4_phdr_cksum(ip, 0)));
}

uint16_t dp_cksum_udp6(const struct rte_ipv6_hdr *ip, const void *udp)
{
	return finish(dp_cksum_add(udp, rte_be_to_cpu_16(ip->payload_len),
				   rte_ipv6_phdr_cksum(ip, 0)));
}

/* A datagram with its checksum in place sums to 0xffff (RFC 1071 1(2)). */
bool dp_cksum_udp4_ok(const struct rte_ipv4_hdr *ip, const void *udp)
{
	size_t len = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);

	return dp_cksum_fold(dp_cksum_add(udp, len, rte_ipv4_phdr_cksum(ip, 0))) == 0xffff;
}

bool dp_cksum_udp6_ok(const struct rte_ipv6_hdr *ip, const void *udp)
{
	return dp_cksum_fold(dp_cksum_add(udp, rte_be_to_cpu_16(ip->payload_len),
					  rte_ipv6_phdr_cksum(ip, 0))) == 0xffff;
}
