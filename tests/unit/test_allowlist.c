/*
 * test_allowlist.c — allowed_ips as an operator and an attacker meet it:
 * networks parse exactly, addresses match by family and prefix, IPv4-mapped
 * IPv6 counts as IPv4, the default list admits private ranges and refuses
 * metadata, link-local and "this host", and every refusal says why.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "endpoint/allowlist.h"

/* A sockaddr for a numeric address, v4 or v6. */
static struct sockaddr_storage addr_of(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(443);
		cr_assert_eq(inet_pton(AF_INET6, text, &in6->sin6_addr), 1, "%s", text);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(443);
		cr_assert_eq(inet_pton(AF_INET, text, &in->sin_addr), 1, "%s", text);
	}
	return ss;
}

static bool check(const struct allowlist *a, const char *text, char *why, size_t len)
{
	struct sockaddr_storage ss = addr_of(text);

	return allowlist_check(a, (const struct sockaddr *)&ss, why, len);
}

static struct allowlist *list_of(const char *const *cidrs, unsigned n)
{
	char why[ALLOWLIST_REASON_MAX];
	struct allowlist *a;

	cr_assert_eq(allowlist_create(&a), 0);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(allowlist_add(a, cidrs[i], why, sizeof(why)), 0, "%s: %s", cidrs[i],
			     why);
	return a;
}

Test(allowlist, configured_networks_match_by_prefix)
{
	static const char *const cidrs[] = {
		"10.0.0.0/8", "192.0.2.7", "fd00::/8", "2001:db8::5", "198.51.100.128/25",
		"::ffff:203.0.113.0/120",
	};
	static const struct {
		const char *addr;
		bool allowed;
	} cases[] = {
		{ "10.0.0.1", true },
		{ "10.255.255.255", true },
		{ "11.0.0.0", false },
		{ "9.255.255.255", false },
		{ "192.0.2.7", true }, /* a bare address is a /32 */
		{ "192.0.2.8", false },
		{ "198.51.100.128", true },
		{ "198.51.100.255", true },
		{ "198.51.100.127", false },
		{ "fd12:3456::1", true },
		{ "fe00::1", false },
		{ "2001:db8::5", true }, /* a bare address is a /128 */
		{ "2001:db8::6", false },
		{ "203.0.113.77", true }, /* the mapped entry is stored as 203.0.113.0/24 */
		/* IPv4-mapped IPv6 is IPv4: matched against the IPv4 entries. */
		{ "::ffff:10.1.2.3", true },
		{ "::ffff:11.1.2.3", false },
		{ "::ffff:192.0.2.7", true },
		/* The same bits as 10/8 in IPv6 are not 10/8. */
		{ "a00::1", false },
	};
	struct allowlist *a = list_of(cidrs, sizeof(cidrs) / sizeof(cidrs[0]));
	char why[ALLOWLIST_REASON_MAX];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(check(a, cases[i].addr, why, sizeof(why)), cases[i].allowed,
			     "%s: expected %s", cases[i].addr,
			     cases[i].allowed ? "allowed" : "refused");
	allowlist_destroy(a);
}

Test(allowlist, an_ipv6_entry_never_matches_a_mapped_address)
{
	static const char *const cidrs[] = { "::/0" };
	struct allowlist *a = list_of(cidrs, 1);
	char why[ALLOWLIST_REASON_MAX];

	cr_expect(check(a, "2001:db8::1", why, sizeof(why)));
	cr_expect_not(check(a, "::ffff:169.254.169.254", why, sizeof(why)),
		      "::/0 must not let IPv4 in through the mapped form");
	cr_expect_str_eq(why, "169.254.169.254 is not in allowed_ips");
	allowlist_destroy(a);
}

Test(allowlist, default_list_admits_private_ranges_only)
{
	static const struct {
		const char *addr;
		bool allowed;
	} cases[] = {
		{ "10.1.2.3", true },
		{ "172.16.0.1", true },
		{ "172.31.255.254", true },
		{ "172.32.0.1", false },
		{ "192.168.1.10", true },
		{ "100.64.0.1", true },			/* CGNAT */
		{ "100.127.255.254", true },
		{ "100.128.0.1", false },
		{ "127.0.0.1", true },
		{ "127.10.0.1", true },
		{ "::1", true },
		{ "fd77::1", true },
		{ "fc00::1", true },
		{ "::ffff:192.168.0.5", true },
		/* Never by default: */
		{ "169.254.169.254", false },		/* AWS, GCP, Azure, OCI metadata */
		{ "169.254.0.1", false },
		{ "::ffff:169.254.169.254", false },
		{ "fe80::1", false },
		{ "100.100.100.200", false },		/* Alibaba metadata, inside 100.64/10 */
		{ "fd00:ec2::254", false },		/* AWS IPv6 metadata, inside fc00::/7 */
		{ "0.0.0.0", false },
		{ "0.1.2.3", false },
		{ "::", false },
		{ "224.0.0.1", false },
		{ "239.255.255.250", false },
		{ "255.255.255.255", false },
		{ "ff02::1", false },
		{ "8.8.8.8", false },
		{ "2001:4860:4860::8888", false },
	};
	char why[ALLOWLIST_REASON_MAX];
	struct allowlist *a;

	cr_assert_eq(allowlist_create_default(&a), 0);
	cr_expect(allowlist_is_default(a));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(check(a, cases[i].addr, why, sizeof(why)), cases[i].allowed,
			     "%s: expected %s", cases[i].addr,
			     cases[i].allowed ? "allowed" : "refused");
	allowlist_destroy(a);
}

Test(allowlist, refusals_say_why)
{
	static const char *const cidrs[] = { "10.0.0.0/8" };
	static const struct {
		const char *addr;
		bool is_default;
		const char *why;
	} cases[] = {
		{ "203.0.113.9", false, "203.0.113.9 is not in allowed_ips" },
		{ "::ffff:203.0.113.9", false, "203.0.113.9 is not in allowed_ips" },
		{ "2001:db8::9", false, "2001:db8::9 is not in allowed_ips" },
		{ "203.0.113.9", true,
		  "203.0.113.9 is not in allowed_ips (the default: private "
		  "and loopback ranges)" },
		{ "169.254.169.254", true,
		  "169.254.169.254 is not in allowed_ips (link-local, "
		  "where cloud metadata services live, is left out of the "
		  "default list)" },
		{ "100.100.100.200", true,
		  "100.100.100.200 is not in allowed_ips (a cloud metadata "
		  "address, left out of the default list)" },
	};
	struct allowlist *conf = list_of(cidrs, 1), *def;
	char why[ALLOWLIST_REASON_MAX];

	cr_assert_eq(allowlist_create_default(&def), 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		cr_expect_not(check(cases[i].is_default ? def : conf, cases[i].addr, why,
				    sizeof(why)), "%s", cases[i].addr);
		cr_expect_str_eq(why, cases[i].why, "%s", cases[i].addr);
	}
	allowlist_destroy(conf);
	allowlist_destroy(def);
}

Test(allowlist, bad_networks_are_refused_with_a_reason)
{
	static const struct {
		const char *cidr;
		const char *why;	/* a substring of the message */
	} cases[] = {
		{ "", "an empty network" },
		{ "10.0.0.1/8", "has host bits set past the prefix (the network is 10.0.0.0/8)" },
		{ "fd00::1/8", "(the network is fd00::/8)" },
		{ "10.0.0.0/33", "the prefix length must be a number from 0 to 32" },
		{ "fd00::/129", "from 0 to 128" },
		{ "10.0.0.0/", "the prefix length" },
		{ "10.0.0.0/08", "the prefix length" },
		{ "10.0.0.0/-1", "the prefix length" },
		{ "10.0.0.0/8/8", "the prefix length" },
		{ "10.0.0.0 /8", "is not an IP address" },
		{ "10/8", "is not an IP address" },
		{ "10.0.0", "is not an IP address" },
		{ "10.0.0.256", "is not an IP address" },
		{ "db.internal", "is not an IP address" },
		{ "/8", "is not an IP address or network" },
		{ "fe80::1%eth0", "no zone" },
		{ "[fd00::]/8", "is not an IP address" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[ALLOWLIST_REASON_MAX] = "";
		struct allowlist *a;

		cr_assert_eq(allowlist_create(&a), 0);
		cr_expect_eq(allowlist_add(a, cases[i].cidr, why, sizeof(why)), -EINVAL, "'%s'",
			     cases[i].cidr);
		cr_expect(strstr(why, cases[i].why), "'%s': got \"%s\", want \"%s\"",
			  cases[i].cidr, why, cases[i].why);
		cr_expect_eq(allowlist_count(a), 0u, "'%s' must add nothing", cases[i].cidr);
		allowlist_destroy(a);
	}
}

Test(allowlist, empty_list_allows_nothing)
{
	char why[ALLOWLIST_REASON_MAX];
	struct allowlist *a;

	cr_assert_eq(allowlist_create(&a), 0);
	cr_expect_not(check(a, "127.0.0.1", why, sizeof(why)));
	cr_expect_not(check(a, "::1", why, sizeof(why)));
	allowlist_destroy(a);
}

Test(allowlist, entries_print_canonically_and_once)
{
	static const char *const cidrs[] = {
		"10.0.0.0/8", "10.0.0.0/8", "FD00:0:0::/8", "::ffff:192.0.2.0/120", "0.0.0.0/0",
	};
	static const char *const want[] = { "10.0.0.0/8", "fd00::/8", "192.0.2.0/24", "0.0.0.0/0" };
	struct allowlist *a = list_of(cidrs, sizeof(cidrs) / sizeof(cidrs[0]));
	char text[ALLOWLIST_TEXT_MAX];

	cr_assert_eq(allowlist_count(a), 4u);
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(allowlist_format(a, i, text), 0);
		cr_expect_str_eq(text, want[i]);
	}
	cr_expect_eq(allowlist_format(a, 4, text), -ERANGE);
	cr_expect_not(allowlist_is_default(a));
	allowlist_destroy(a);
}

Test(allowlist, default_list_prints_exceptions_first)
{
	char text[ALLOWLIST_TEXT_MAX];
	struct allowlist *a;

	cr_assert_eq(allowlist_create_default(&a), 0);
	cr_assert_eq(allowlist_count(a), 9u);
	cr_assert_eq(allowlist_format(a, 0, text), 0);
	cr_expect_str_eq(text, "!100.100.100.200/32");
	cr_assert_eq(allowlist_format(a, 1, text), 0);
	cr_expect_str_eq(text, "!fd00:ec2::254/128");
	cr_assert_eq(allowlist_format(a, 8, text), 0);
	cr_expect_str_eq(text, "fc00::/7");
	allowlist_destroy(a);
}

Test(allowlist, other_families_are_refused)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNIX };
	char why[ALLOWLIST_REASON_MAX];
	struct allowlist *a;

	cr_assert_eq(allowlist_create_default(&a), 0);
	cr_expect_not(allowlist_check(a, (struct sockaddr *)&ss, why, sizeof(why)));
	cr_expect_str_eq(why, "address family 1 is not IP");
	allowlist_destroy(a);
}
