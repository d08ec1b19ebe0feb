/*
 * test_relaybench_dpdk.c — the pure parts of relaybench's DPDK transport:
 * flow ports per thread and address (bench/relaybench/flowport.h), the port
 * range each address listens on, the classification of received frames that
 * decides which thread owns one, and the command line of --transport dpdk
 * (bench/relaybench/opts.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/relaybench/flowport.h"
#include "bench/relaybench/opts.h"

/* --- ports ---------------------------------------------------------------------- */

Test(flowport, plan_shares_the_range_between_threads)
{
	static const struct {
		unsigned threads, n_bind;
		uint32_t span, capacity;
	} cases[] = {
		{ 1, 1, 64512, 64512 },
		{ 1, 2, 64512, 129024 },
		{ 2, 1, 32256, 32256 },
		{ 3, 4, 21504, 86016 },
		{ 5, 1, 12902, 12902 },		/* 2 ports left over: nobody's */
		{ 64, 16, 1008, 16128 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flowport_plan p;

		cr_assert_eq(flowport_plan_init(&p, cases[i].threads, cases[i].n_bind), 0);
		cr_expect_eq(p.span, cases[i].span, "case %zu", i);
		cr_expect_eq(flowport_capacity(&p), cases[i].capacity, "case %zu", i);
	}
}

Test(flowport, plan_refuses_no_threads_or_addresses)
{
	struct flowport_plan p;

	cr_expect_eq(flowport_plan_init(&p, 0, 1), -EINVAL);
	cr_expect_eq(flowport_plan_init(&p, 1, 0), -EINVAL);
	cr_expect_eq(flowport_plan_init(&p, FLOWPORT_THREADS_MAX + 1, 1), -EINVAL);
	cr_expect_eq(flowport_plan_init(&p, 1, FLOWPORT_BIND_MAX + 1), -EINVAL);
}

/*
 * Every flow of every thread gets its own (address, port), inside the range,
 * and the owner lookup of that pair names that thread and flow back.
 */
Test(flowport, every_flow_is_unique_and_found_back)
{
	static const unsigned plans[][2] = { { 1, 1 }, { 2, 3 }, { 5, 2 }, { 64, 1 } };

	for (size_t c = 0; c < sizeof(plans) / sizeof(plans[0]); c++) {
		struct flowport_plan p;
		uint8_t *seen;

		cr_assert_eq(flowport_plan_init(&p, plans[c][0], plans[c][1]), 0);
		seen = calloc((size_t)p.n_bind * 65536, 1);
		cr_assert_not_null(seen);
		for (unsigned t = 0; t < p.threads; t++) {
			for (uint32_t f = 0; f < flowport_capacity(&p); f++) {
				unsigned b, ot;
				uint32_t of;
				uint16_t port;

				cr_assert_eq(flowport_local(&p, t, f, &b, &port), 0);
				cr_assert(port >= FLOWPORT_FIRST && b < p.n_bind);
				cr_assert_eq(seen[(size_t)b * 65536 + port]++, 0,
					     "plan %zu: thread %u flow %u reuses %u/%u", c, t, f, b,
					     port);
				cr_assert(flowport_owner(&p, b, port, &ot, &of));
				cr_assert(ot == t && of == f, "plan %zu: %u/%u -> thread %u "
					  "flow %u, want %u %u", c, b, port, ot, of, t, f);
			}
		}
		free(seen);
	}
}

Test(flowport, exhaustion_is_an_error)
{
	struct flowport_plan p;
	unsigned b;
	uint16_t port;

	cr_assert_eq(flowport_plan_init(&p, 2, 1), 0);
	cr_expect_eq(flowport_local(&p, 1, flowport_capacity(&p) - 1, &b, &port), 0);
	cr_expect_eq(port, FLOWPORT_LAST);
	cr_expect_eq(flowport_local(&p, 0, flowport_capacity(&p), &b, &port), -ENOSPC);
	cr_expect_eq(flowport_local(&p, 2, 0, &b, &port), -EINVAL);
}

Test(flowport, ports_of_no_flow_have_no_owner)
{
	static const struct {
		unsigned threads, bind;
		uint16_t port;
	} cases[] = {
		{ 1, 0, FLOWPORT_FIRST - 1 },	/* just below the range */
		{ 1, 0, 53 },
		{ 1, 1, 2000 },			/* address index beyond --bind */
		{ 5, 0, 65534 },		/* past the last whole block */
		{ 5, 0, 65535 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flowport_plan p;
		unsigned t;
		uint32_t f;

		cr_assert_eq(flowport_plan_init(&p, cases[i].threads, 1), 0);
		cr_expect(!flowport_owner(&p, cases[i].bind, cases[i].port, &t, &f), "case %zu", i);
	}
}

/*
 * The range each address listens on is exactly the ports of some thread's
 * flows: its first and last port have owners, the ports around it none.
 */
Test(flowport, listener_range_covers_every_flow_and_nothing_else)
{
	static const unsigned threads[] = { 1, 2, 5, 7, 64 };

	for (size_t c = 0; c < sizeof(threads) / sizeof(threads[0]); c++) {
		struct flowport_plan p;
		uint16_t hi, port;
		unsigned b, t;
		uint32_t f;

		cr_assert_eq(flowport_plan_init(&p, threads[c], 2), 0);
		hi = flowport_port_hi(&p);
		cr_expect(flowport_owner(&p, 1, FLOWPORT_FIRST, &t, &f) && t == 0,
			  "%u threads: the first port", threads[c]);
		cr_expect(flowport_owner(&p, 1, hi, &t, &f) && t == threads[c] - 1,
			  "%u threads: the last port %u", threads[c], hi);
		cr_expect(hi == FLOWPORT_LAST || !flowport_owner(&p, 0, (uint16_t)(hi + 1), &t, &f),
			  "%u threads: %u is nobody's", threads[c], hi + 1);
		/* The last flow of the last thread sends from the last port. */
		cr_assert_eq(flowport_local(&p, threads[c] - 1, flowport_capacity(&p) - 1, &b,
					    &port), 0);
		cr_expect_eq(port, hi, "%u threads", threads[c]);
	}
}

/* --- frames ------------------------------------------------------------------------ */

enum { FRAME_MAX = 256 };

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 (@opt_words of options) + UDP with @payload bytes. */
static void ipv4_udp(struct frame *f, unsigned opt_words, uint16_t sport, uint16_t dport,
		     size_t payload)
{
	size_t ihl = 20 + 4 * opt_words, l4 = 14 + ihl;

	memset(f, 0, sizeof(*f));
	f->len = l4 + 8 + payload;
	put16(f->b + 12, 0x0800);
	f->b[14] = (uint8_t)(0x40 | (5 + opt_words));
	put16(f->b + 16, (uint16_t)(ihl + 8 + payload));
	put16(f->b + 20, 0x4000);		/* DF */
	f->b[22] = 64;
	f->b[23] = 17;
	memcpy(f->b + 26, (uint8_t[]){ 10, 77, 40, 1 }, 4);
	memcpy(f->b + 30, (uint8_t[]){ 10, 77, 40, 2 }, 4);
	put16(f->b + l4, sport);
	put16(f->b + l4 + 2, dport);
	put16(f->b + l4 + 4, (uint16_t)(8 + payload));
	for (size_t i = 0; i < payload; i++)
		f->b[l4 + 8 + i] = (uint8_t)(i * 7 + 3);
}

static void ipv6_udp(struct frame *f, uint16_t sport, uint16_t dport, size_t payload)
{
	size_t l4 = 14 + 40;

	memset(f, 0, sizeof(*f));
	f->len = l4 + 8 + payload;
	put16(f->b + 12, 0x86dd);
	f->b[14] = 0x60;
	put16(f->b + 18, (uint16_t)(8 + payload));
	f->b[20] = 17;
	f->b[21] = 64;
	f->b[22] = 0xfd;
	f->b[23] = 0x77;
	f->b[37] = 1;
	f->b[38] = 0xfd;
	f->b[39] = 0x77;
	f->b[53] = 2;
	put16(f->b + l4, sport);
	put16(f->b + l4 + 2, dport);
	put16(f->b + l4 + 4, (uint16_t)(8 + payload));
	for (size_t i = 0; i < payload; i++)
		f->b[l4 + 8 + i] = (uint8_t)(i * 13 + 1);
}

static void arp(struct frame *f, uint16_t op, const uint8_t sip[4], const uint8_t tip[4])
{
	memset(f, 0, sizeof(*f));
	f->len = 60;
	put16(f->b + 12, 0x0806);
	put16(f->b + 14, 1);
	put16(f->b + 16, 0x0800);
	f->b[18] = 6;
	f->b[19] = 4;
	put16(f->b + 20, op);
	memcpy(f->b + 28, sip, 4);
	memcpy(f->b + 38, tip, 4);
}

static void icmp6(struct frame *f, uint8_t type)
{
	ipv6_udp(f, 1, 1, 24);
	f->b[20] = 58;
	f->b[54] = type;
}

Test(flowport, peek_classifies_frames)
{
	static const uint8_t a[4] = { 10, 77, 40, 1 }, b[4] = { 10, 77, 40, 2 };
	struct {
		const char *name;
		struct frame f;
		enum flowport_kind want;
	} cases[16];
	unsigned n = 0;

#define CASE(label, build, kind) do {				\
		cases[n].name = label;				\
		build;						\
		cases[n++].want = kind;				\
	} while (0)
	CASE("ipv4 udp", ipv4_udp(&cases[n].f, 0, 51820, 2000, 40), FLOWPORT_UDP);
	CASE("ipv4 udp with options", ipv4_udp(&cases[n].f, 2, 51820, 2000, 40), FLOWPORT_UDP);
	CASE("ipv6 udp", ipv6_udp(&cases[n].f, 51820, 2000, 40), FLOWPORT_UDP);
	CASE("ipv4 fragment", (ipv4_udp(&cases[n].f, 0, 1, 2, 40), cases[n].f.b[20] = 0x20),
	     FLOWPORT_OTHER);
	CASE("ipv4 tcp", (ipv4_udp(&cases[n].f, 0, 1, 2, 40), cases[n].f.b[23] = 6),
	     FLOWPORT_OTHER);
	CASE("ipv4 udp header cut", (ipv4_udp(&cases[n].f, 0, 1, 2, 0), cases[n].f.len -= 1),
	     FLOWPORT_OTHER);
	CASE("ipv6 extension header", (ipv6_udp(&cases[n].f, 1, 2, 8), cases[n].f.b[20] = 0),
	     FLOWPORT_OTHER);
	CASE("vlan tagged", (ipv4_udp(&cases[n].f, 0, 1, 2, 8), put16(cases[n].f.b + 12, 0x8100)),
	     FLOWPORT_OTHER);
	CASE("runt", (ipv4_udp(&cases[n].f, 0, 1, 2, 8), cases[n].f.len = 13), FLOWPORT_OTHER);
	CASE("arp reply", arp(&cases[n].f, 2, a, b), FLOWPORT_NEIGH_ANSWER);
	CASE("arp request", arp(&cases[n].f, 1, a, b), FLOWPORT_OTHER);
	CASE("gratuitous arp", arp(&cases[n].f, 1, a, a), FLOWPORT_NEIGH_ANSWER);
	CASE("arp cut", (arp(&cases[n].f, 2, a, b), cases[n].f.len = 14 + 27), FLOWPORT_OTHER);
	CASE("neighbour advertisement", icmp6(&cases[n].f, 136), FLOWPORT_NEIGH_ANSWER);
	CASE("neighbour solicitation", icmp6(&cases[n].f, 135), FLOWPORT_OTHER);
	CASE("icmpv6 echo", icmp6(&cases[n].f, 128), FLOWPORT_OTHER);
#undef CASE

	for (unsigned i = 0; i < n; i++) {
		struct flowport_frame ff;

		cr_expect_eq(flowport_peek(cases[i].f.b, cases[i].f.len, &ff), cases[i].want, "%s",
			     cases[i].name);
	}
}

Test(flowport, peek_finds_the_udp_fields)
{
	struct frame f;
	struct flowport_frame ff;

	ipv4_udp(&f, 3, 51820, 4242, 10);
	cr_assert_eq(flowport_peek(f.b, f.len, &ff), FLOWPORT_UDP);
	cr_expect_eq(ff.family, 4);
	cr_expect_eq(ff.l4_off, 14 + 32);
	cr_expect_eq(ff.src_port, 51820);
	cr_expect_eq(ff.dst_port, 4242);
	cr_expect_eq(memcmp(f.b + ff.dst_off, (uint8_t[]){ 10, 77, 40, 2 }, 4), 0);
	ipv6_udp(&f, 443, 65535, 0);
	cr_assert_eq(flowport_peek(f.b, f.len, &ff), FLOWPORT_UDP);
	cr_expect_eq(ff.family, 6);
	cr_expect_eq(ff.l4_off, 54);
	cr_expect_eq(ff.src_port, 443);
	cr_expect_eq(ff.dst_port, 65535);
	cr_expect_eq(f.b[ff.dst_off + 15], 2);
	cr_expect_eq(f.b[ff.src_off + 15], 1);
}

/* --- the command line --------------------------------------------------------------- */

#define BASE "run", "--relay", "10.77.40.1:51820", "--relay-key", "@k.pub", \
	"--signing-key", "b.key"

enum { ARGS_MAX = 40 };

static int parse(struct opts *o, char *err, const char *const *extra)
{
	static const char *const base[] = { BASE };
	char *argv[ARGS_MAX];
	int argc = 0;

	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		argv[argc++] = (char *)base[i];
	for (size_t i = 0; extra[i]; i++) {
		cr_assert_lt(argc, ARGS_MAX - 1);
		argv[argc++] = (char *)extra[i];
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return opts_parse_run(argc, argv, o, err, 256);
}

Test(opts_dpdk, eal_arguments_are_split_and_sorted)
{
	static const char *const args[] = {
		"--transport", "dpdk", "--bind", "10.77.40.2", "--threads", "3",
		"--eal", "  --vdev=net_memif0,socket=/tmp/x.sock,role=client\t--no-huge -m 96 "
		"--file-prefix rbd-x -l 0-1,4 --log-level=7 ",
		"--gateway", "10.77.40.254", "--idle", "sleep", "--link-timeout", "2.5", NULL,
	};
	static struct opts o;
	char err[256];

	cr_assert_eq(parse(&o, err, args), 0, "%s", err);
	cr_expect_eq(o.transport, OPTS_TRANSPORT_DPDK);
	cr_assert_eq(o.n_eal_args, 4);
	cr_expect_str_eq(o.eal_args[0], "--vdev=net_memif0,socket=/tmp/x.sock,role=client");
	cr_expect_str_eq(o.eal_args[1], "--file-prefix");
	cr_expect_str_eq(o.eal_args[2], "rbd-x");
	cr_expect_str_eq(o.eal_args[3], "--log-level=7");
	cr_expect(!o.eal_hugepages);
	cr_expect_eq(o.eal_memory_mb, 96);
	cr_assert_eq(o.n_eal_cpus, 3);
	cr_expect(o.eal_cpus[0] == 0 && o.eal_cpus[1] == 1 && o.eal_cpus[2] == 4);
	cr_expect_str_eq(o.gateway, "10.77.40.254");
	cr_expect(o.dpdk_sleep);
	cr_expect_eq(o.link_timeout_ns, 2500000000u);
}

Test(opts_dpdk, core_list_spellings)
{
	static const struct {
		const char *eal;
		unsigned n, first, last;
	} cases[] = {
		{ "--vdev=net_null0 -l 2", 1, 2, 2 },
		{ "--vdev=net_null0 -l2-3", 2, 2, 3 },
		{ "--vdev=net_null0 --lcores 0,3", 2, 0, 3 },
		{ "--vdev=net_null0 --lcores=1-2", 2, 1, 2 },
		{ "--vdev=net_null0", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[] = { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal",
				       cases[i].eal, NULL };
		static struct opts o;
		char err[256];

		cr_assert_eq(parse(&o, err, args), 0, "%s: %s", cases[i].eal, err);
		cr_expect_eq(o.n_eal_cpus, cases[i].n, "%s", cases[i].eal);
		if (cases[i].n) {
			cr_expect_eq(o.eal_cpus[0], cases[i].first, "%s", cases[i].eal);
			cr_expect_eq(o.eal_cpus[o.n_eal_cpus - 1], cases[i].last, "%s",
				     cases[i].eal);
		}
		cr_expect_eq(o.n_eal_args, 1, "%s", cases[i].eal);
	}
}

/* Each bad combination: -EINVAL and one line that starts with what it names. */
Test(opts_dpdk, bad_command_lines_name_the_option)
{
	static const struct {
		const char *args[12];
		const char *says;
	} cases[] = {
		{ { "--transport", "dpdk", "--bind", "10.77.40.2" },
		  "--transport dpdk: missing --eal" },
		{ { "--transport", "dpdk", "--eal", "--vdev=net_null0" },
		  "--transport dpdk: missing --bind" },
		{ { "--transport", "rdma" }, "--transport: 'rdma' is not udp or dpdk" },
		{ { "--eal", "--vdev=net_null0" }, "--eal: only with --transport dpdk" },
		{ { "--gateway", "10.77.40.254" }, "--gateway: only with --transport dpdk" },
		{ { "--idle", "sleep" }, "--idle: only with --transport dpdk" },
		{ { "--link-timeout", "3" }, "--link-timeout: only with --transport dpdk" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "   " },
		  "--eal: empty" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "-c 0x3" },
		  "--eal: -c: give the CPUs with -l" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "-l 0@1" },
		  "--eal: -l '0@1': relaybench takes CPU numbers" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "-l 3-1" },
		  "--eal: -l '3-1'" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "-l 1," },
		  "--eal: -l '1,'" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "-l 2000" },
		  "--eal: -l '2000'" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "-m 32" },
		  "--eal: -m: '32' is out of range" },
		{ { "--transport", "dpdk", "--bind", "fd77:40::2", "--eal", "--vdev=net_null0" },
		  "--bind: 'fd77:40::2' is not of the same address family" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.1", "--eal", "--vdev=net_null0" },
		  "--bind: '10.77.40.1' is the relay's own address" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--bind", "10.77.40.2", "--eal",
		    "--vdev=net_null0" }, "--bind: '10.77.40.2' given twice" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "--vdev=net_null0",
		    "--gateway", "fd77:40::fe" }, "--gateway: 'fd77:40::fe' is not of the same" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "--vdev=net_null0",
		    "--gateway", "router" }, "--gateway: 'router' is not a numeric" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "--vdev=net_null0",
		    "--idle", "nap" }, "--idle: 'nap' is not poll or sleep" },
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "--vdev=net_null0",
		    "--link-timeout", "0" }, "--link-timeout: '0' is below" },
		/* 70 000 endpoints need more than one address's 64512 ports. */
		{ { "--transport", "dpdk", "--bind", "10.77.40.2", "--eal", "--vdev=net_null0",
		    "--gateways", "35000", "--agents", "35000" },
		  "--bind: 70000 endpoints per thread need as many source ports" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct opts o;
		char err[256];

		cr_expect_eq(parse(&o, err, cases[i].args), -EINVAL, "case %zu: accepted", i);
		cr_expect(!strncmp(err, cases[i].says, strlen(cases[i].says)),
			  "case %zu: '%s' does not start with '%s'", i, err, cases[i].says);
		cr_expect(!strchr(err, '\n'), "case %zu: more than one line", i);
	}
}

/* A second address makes room for the fleet one address could not hold. */
Test(opts_dpdk, enough_ports_with_more_addresses)
{
	static const char *const args[] = {
		"--transport", "dpdk", "--bind", "10.77.40.2", "--bind", "10.77.40.3",
		"--eal", "--vdev=net_null0", "--gateways", "35000", "--agents", "35000", NULL,
	};
	static struct opts o;
	char err[256];

	cr_expect_eq(parse(&o, err, args), 0, "%s", err);
}
