/*
 * cksum_bench.c — microbenchmark (not a test): the UDP checksum over IPv4 as
 * the DPDK backend computes it on TX and verifies it on RX, dataplane/cksum.c
 * against DPDK's rte_ipv4_udptcp_cksum() in the same run.
 *
 * For each payload size, 7 runs, the two interleaved in slices; the median
 * TSC ticks per checksum and the ratio DPDK / ours are printed.
 *
 *   cksum_bench [ITERATIONS]     (default 200000 per run and size)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/cksum.h"

enum { RUNS = 7, SLICE = 1000, MAX_ITERATIONS = 100000000 };

static const unsigned sizes[] = { 64, 256, 1400 };

/* The two under test, not inlined, so neither is folded into the loop. */
__attribute__((noinline)) static uint16_t with_dpdk(const struct rte_ipv4_hdr *ip, const void *u)
{
	return rte_ipv4_udptcp_cksum(ip, u);
}

__attribute__((noinline)) static uint16_t with_ours(const struct rte_ipv4_hdr *ip, const void *u)
{
	return dp_cksum_udp4(ip, u);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static uint8_t frame[2048] __attribute__((aligned(64)));
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	volatile uint16_t sink = 0;

	if (argc > 2 || iters < SLICE || iters > MAX_ITERATIONS) {
		fprintf(stderr, "usage: cksum_bench [ITERATIONS %d..%d]\n", SLICE, MAX_ITERATIONS);
		return 2;
	}
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 131 + 7);
	printf("%-8s %12s %12s %8s\n", "payload", "dpdk_ticks", "ours_ticks", "ratio");
	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		double dpdk[RUNS], ours[RUNS];

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + sizes[s]));
		ip->next_proto_id = IPPROTO_UDP;
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + sizes[s]));
		if (with_dpdk(ip, udp) != with_ours(ip, udp)) {
			fprintf(stderr, "cksum_bench: results differ at %u bytes\n", sizes[s]);
			return 1;
		}
		for (unsigned r = 0; r < RUNS; r++) {
			unsigned long long td = 0, to = 0;

			for (unsigned long done = 0; done < iters; done += SLICE) {
				unsigned long long t0 = __rdtsc();

				for (unsigned i = 0; i < SLICE; i++)
					sink ^= with_dpdk(ip, udp);
				unsigned long long t1 = __rdtsc();

				for (unsigned i = 0; i < SLICE; i++)
					sink ^= with_ours(ip, udp);
				to += __rdtsc() - t1;
				td += t1 - t0;
			}
			dpdk[r] = (double)td / (double)iters;
			ours[r] = (double)to / (double)iters;
		}
		qsort(dpdk, RUNS, sizeof(double), cmp_double);
		qsort(ours, RUNS, sizeof(double), cmp_double);
		printf("%-8u %12.1f %12.1f %8.2f\n", sizes[s], dpdk[RUNS / 2], ours[RUNS / 2],
		       dpdk[RUNS / 2] / ours[RUNS / 2]);
	}
	(void)sink;
	return 0;
}
