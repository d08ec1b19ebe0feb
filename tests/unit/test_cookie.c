/*
 * test_cookie.c — mac1, mac2 and COOKIE_REPLY (crypto/cookie.h, protocol.md §5).
 *
 * A relay's cookie_checker and an initiator's cookie_maker talk in memory on
 * a fake clock (plain nanosecond values) with a deterministic random source,
 * in both suites. The known answers were computed independently of cookie.c,
 * with Python's hashlib/hmac and pyca/cryptography, from the inputs built by
 * relay_pub(), initiator_pub(), fill_init(), fill_resp() and fake_rand().
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cookie.h"

#define SEC 1000000000ULL
#define NONE (-1000)		/* no byte to flip */

enum {
	INIT_MIN_LEN = 297,	/* §2.1: smallest INIT (145-byte token) */
	INIT_MAX_LEN = 869,
	RESP_LEN = 92,		/* §2.2 */
	SENDER_INDEX = 0x04030201,
};

_Static_assert((int)COOKIE_REPLY_LEN < (int)INIT_MIN_LEN,
	       "a COOKIE_REPLY must be smaller than any INIT it answers (§5.3)");

static const enum suite_id suites[] = { SUITE_CHACHAPOLY_BLAKE2S, SUITE_AESGCM_SHA256 };
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static const uint8_t addr4[4] = { 192, 0, 2, 1 };
static const uint8_t addr4_other[4] = { 192, 0, 2, 2 };
static const uint8_t addr6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t addr6_other[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
/* Starts with the bytes of addr4: the address length must be part of the cookie input. */
static const uint8_t addr6_v4prefix[16] = { 192, 0, 2, 1 };
static const uint16_t port = 51820;

/* Deterministic randomness: consecutive byte values, so R and each nonce are known. */
static uint8_t rand_next;

static int fake_rand(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = rand_next++;
	return 0;
}

static int failing_rand(uint8_t *buf, size_t len)
{
	(void)buf;
	(void)len;
	return -EIO;
}

static void relay_pub(uint8_t pub[SUITE_DH_LEN], uint8_t base)
{
	for (int i = 0; i < SUITE_DH_LEN; i++)
		pub[i] = (uint8_t)(base + i);
}

#define RELAY_KEY 0x40
#define OTHER_RELAY_KEY 0x41
#define INITIATOR_KEY 0x80

/* An INIT of @len bytes: header, sender index, a body that depends on @salt, zero MACs. */
static void fill_init(uint8_t *pkt, size_t len, enum suite_id suite, uint8_t salt)
{
	pkt[0] = 1;
	pkt[1] = 1;
	pkt[2] = (uint8_t)suite;
	pkt[3] = 0;
	pkt[4] = 1;
	pkt[5] = 2;
	pkt[6] = 3;
	pkt[7] = 4;	/* SENDER_INDEX, little-endian */
	for (size_t i = 8; i < len - COOKIE_MACS_LEN; i++)
		pkt[i] = (uint8_t)(i * 7 + suite + salt);
	memset(pkt + len - COOKIE_MACS_LEN, 0, COOKIE_MACS_LEN);
}

static void fill_resp(uint8_t pkt[RESP_LEN], enum suite_id suite)
{
	pkt[0] = 2;
	pkt[1] = 1;
	pkt[2] = (uint8_t)suite;
	pkt[3] = 0;
	for (size_t i = 4; i < RESP_LEN - COOKIE_MACS_LEN; i++)
		pkt[i] = (uint8_t)(i * 5 + suite);
	memset(pkt + RESP_LEN - COOKIE_MACS_LEN, 0, COOKIE_MACS_LEN);
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	cr_assert_eq(strlen(hex), 2 * n, "vector length");
	for (size_t i = 0; i < n; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The byte @flip names in a @len-byte packet: negative counts from the end. */
static size_t flip_at(int flip, size_t len)
{
	return flip < 0 ? len - (size_t)-flip : (size_t)flip;
}

static const uint8_t *mac2_of(const uint8_t *pkt, size_t len)
{
	return pkt + len - COOKIE_MAC_LEN;
}

struct peers {
	struct cookie_checker checker;
	struct cookie_maker maker;
};

static void peers_init(struct peers *p)
{
	uint8_t pub[SUITE_DH_LEN];

	relay_pub(pub, RELAY_KEY);
	cr_assert_eq(cookie_checker_init(&p->checker, pub), 0);
	cr_assert_eq(cookie_maker_init(&p->maker, pub), 0);
	p->checker.rand = fake_rand;
	rand_next = 0x11;
}

static void send_init(struct peers *p, enum suite_id s, uint8_t *pkt, size_t len, uint8_t salt,
		      uint64_t now)
{
	fill_init(pkt, len, s, salt);
	cr_assert_eq(cookie_add_macs(&p->maker, s, pkt, len, now), 0);
}

static enum cookie_mac_state check4(struct peers *p, enum suite_id s, const uint8_t *pkt,
				    size_t len, uint64_t now)
{
	return cookie_check_macs(&p->checker, s, pkt, len, addr4, sizeof(addr4), port, now);
}

/* The relay answers an INIT from addr/port with a reply; the maker takes it. */
static void cookie_exchange(struct peers *p, enum suite_id s, const uint8_t *addr,
			    size_t addr_len, uint16_t src_port, uint64_t now)
{
	uint8_t init[INIT_MIN_LEN], reply[COOKIE_REPLY_LEN];

	send_init(p, s, init, sizeof(init), 0, now);
	cr_assert_eq(cookie_check_macs(&p->checker, s, init, sizeof(init), addr, addr_len,
				       src_port, now), COOKIE_MAC1_VALID_NO_COOKIE);
	cr_assert_eq(cookie_reply_create(&p->checker, s, init, sizeof(init), SENDER_INDEX, addr,
					 addr_len, src_port, now, reply), 0);
	cr_assert_eq(cookie_consume_reply(&p->maker, reply, sizeof(reply), now), 0);
}

Test(cookie, known_answer_vectors)
{
	static const struct {
		enum suite_id suite;
		const char *mac1, *reply, *mac2, *resp_mac1;
	} cases[] = {
		{ SUITE_CHACHAPOLY_BLAKE2S,
		  "5ce9b20360b34c48f807186fdf388589",
		  "03010100010203043132333435363738393a3b3c3d3e3f404142434445464748"
		  "cb4bb8dba4bb88eb332891d2dca723f43ff5b81609e3c234119af636fb7ed6b0",
		  "708e2a6c5eade9da148f58fc6cafa48b",
		  "c8bd1b373eb30c426d691560f31b3c16" },
		{ SUITE_AESGCM_SHA256,
		  "8dd37b5e465d1013cf7db6552f05f1d9",
		  "03010200010203043132333435363738393a3b3c3d3e3f404142434445464748"
		  "fffcfbd2fba06e85282b0d01bc5bd433b52b1530ed72279e290d961c94743054",
		  "9a7272f11c5268d30050c299f65e3fe2",
		  "d16680c4163e7d34f473bf861192611f" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum suite_id s = cases[i].suite;
		uint8_t init[INIT_MIN_LEN], reply[COOKIE_REPLY_LEN], resp[RESP_LEN];
		uint8_t want_mac1[COOKIE_MAC_LEN], want_mac2[COOKIE_MAC_LEN];
		uint8_t want_reply[COOKIE_REPLY_LEN], want_resp[COOKIE_MAC_LEN];
		uint8_t ipub[SUITE_DH_LEN];
		struct peers p;

		unhex(cases[i].mac1, want_mac1, sizeof(want_mac1));
		unhex(cases[i].reply, want_reply, sizeof(want_reply));
		unhex(cases[i].mac2, want_mac2, sizeof(want_mac2));
		unhex(cases[i].resp_mac1, want_resp, sizeof(want_resp));
		peers_init(&p);

		send_init(&p, s, init, sizeof(init), 0, 0);
		cr_assert_arr_eq(init + INIT_MIN_LEN - COOKIE_MACS_LEN, want_mac1, COOKIE_MAC_LEN,
				 "suite %d: mac1", s);
		cr_assert(all_zero(mac2_of(init, sizeof(init)), COOKIE_MAC_LEN),
			  "suite %d: mac2 without a cookie", s);
		/* R = 0x11..0x30, nonce = 0x31..0x48 from fake_rand. */
		cr_assert_eq(cookie_reply_create(&p.checker, s, init, sizeof(init), SENDER_INDEX,
						 addr4, sizeof(addr4), port, 0, reply), 0);
		cr_assert_arr_eq(reply, want_reply, COOKIE_REPLY_LEN, "suite %d: reply", s);
		cr_assert_eq(cookie_consume_reply(&p.maker, reply, sizeof(reply), 0), 0);
		send_init(&p, s, init, sizeof(init), 0, 1 * SEC);
		cr_assert_arr_eq(mac2_of(init, sizeof(init)), want_mac2, COOKIE_MAC_LEN,
				 "suite %d: mac2", s);

		relay_pub(ipub, INITIATOR_KEY);
		fill_resp(resp, s);
		cr_assert_eq(cookie_mac1_write(s, ipub, resp, sizeof(resp)), 0);
		cr_assert_arr_eq(resp + RESP_LEN - COOKIE_MACS_LEN, want_resp, COOKIE_MAC_LEN,
				 "suite %d: RESP mac1", s);
	}
}

Test(cookie, mac1_decides_before_anything_else)
{
	enum mutation { AS_SENT, OTHER_RELAY_KEY_AT_MAKER, CHECKED_AS_OTHER_SUITE, ADDR_LEN_6 };
	static const struct {
		const char *name;
		size_t len;
		int flip;	/* byte to flip; negative counts from the end; NONE */
		enum mutation how;
		enum cookie_mac_state want;
	} cases[] = {
		{ "valid mac1, no cookie", INIT_MIN_LEN, NONE, AS_SENT,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "largest INIT", INIT_MAX_LEN, NONE, AS_SENT, COOKIE_MAC1_VALID_NO_COOKIE },
		{ "mac1 first byte flipped", INIT_MIN_LEN, -32, AS_SENT, COOKIE_MAC_INVALID },
		{ "mac1 last byte flipped", INIT_MIN_LEN, -17, AS_SENT, COOKIE_MAC_INVALID },
		{ "type byte flipped", INIT_MIN_LEN, 0, AS_SENT, COOKIE_MAC_INVALID },
		{ "sender index flipped", INIT_MIN_LEN, 5, AS_SENT, COOKIE_MAC_INVALID },
		{ "ephemeral flipped", INIT_MIN_LEN, 8, AS_SENT, COOKIE_MAC_INVALID },
		{ "body last byte flipped", INIT_MIN_LEN, -33, AS_SENT, COOKIE_MAC_INVALID },
		{ "garbage mac2 (mac1 does not cover it)", INIT_MIN_LEN, -1, AS_SENT,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "maker keyed with another relay", INIT_MIN_LEN, NONE, OTHER_RELAY_KEY_AT_MAKER,
		  COOKIE_MAC_INVALID },
		{ "checked as the other suite", INIT_MIN_LEN, NONE, CHECKED_AS_OTHER_SUITE,
		  COOKIE_MAC_INVALID },
		{ "source address of 6 bytes", INIT_MIN_LEN, NONE, ADDR_LEN_6,
		  COOKIE_MAC_INVALID },
	};

	for (size_t si = 0; si < NSUITES; si++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			enum suite_id s = suites[si], check_as = s;
			uint8_t pkt[INIT_MAX_LEN], addr[16] = { 0 };
			size_t len = cases[i].len, addr_len = sizeof(addr4);
			struct peers p;

			peers_init(&p);
			memcpy(addr, addr4, sizeof(addr4));
			if (cases[i].how == OTHER_RELAY_KEY_AT_MAKER) {
				uint8_t other[SUITE_DH_LEN];

				relay_pub(other, OTHER_RELAY_KEY);
				cr_assert_eq(cookie_maker_init(&p.maker, other), 0);
			}
			if (cases[i].how == CHECKED_AS_OTHER_SUITE)
				check_as = suites[1 - si];
			if (cases[i].how == ADDR_LEN_6)
				addr_len = 6;
			send_init(&p, s, pkt, len, 0, 0);
			if (cases[i].flip != NONE)
				pkt[flip_at(cases[i].flip, len)] ^= 0x01;
			cr_assert_eq(cookie_check_macs(&p.checker, check_as, pkt, len, addr,
						       addr_len, port, 0), cases[i].want,
				     "suite %d: %s", s, cases[i].name);
		}
	}
}

Test(cookie, short_packets_are_refused_without_reading_outside)
{
	uint8_t pub[SUITE_DH_LEN], reply[COOKIE_REPLY_LEN];
	struct peers p;

	relay_pub(pub, RELAY_KEY);
	peers_init(&p);
	/* Heap buffers of the exact length, so ASan sees any read before or after them. */
	for (size_t len = 0; len < COOKIE_MIN_PACKET_LEN; len++) {
		uint8_t *pkt = malloc(len ? len : 1);

		cr_assert_not_null(pkt);
		memset(pkt, 0, len);
		cr_assert_eq(cookie_check_macs(&p.checker, SUITE_CHACHAPOLY_BLAKE2S, pkt, len,
					       addr4, sizeof(addr4), port, 0), COOKIE_MAC_INVALID);
		cr_assert_eq(cookie_add_macs(&p.maker, SUITE_CHACHAPOLY_BLAKE2S, pkt, len, 0),
			     -EINVAL);
		cr_assert_eq(cookie_mac1_write(SUITE_AESGCM_SHA256, pub, pkt, len), -EINVAL);
		cr_assert_not(cookie_mac1_verify(SUITE_AESGCM_SHA256, pub, pkt, len));
		cr_assert_eq(cookie_reply_create(&p.checker, SUITE_AESGCM_SHA256, pkt, len, 1,
						 addr4, sizeof(addr4), port, 0, reply), -EMSGSIZE);
		free(pkt);
	}
}

Test(cookie, cookie_proves_the_source_address_and_port)
{
	static const struct {
		const char *name;
		const uint8_t *reply_addr;
		size_t reply_len;
		uint16_t reply_port;
		const uint8_t *send_addr;
		size_t send_len;
		uint16_t send_port;
		enum cookie_mac_state want;
	} cases[] = {
		{ "same IPv4 source", addr4, 4, port, addr4, 4, port,
		  COOKIE_MAC1_VALID_WITH_COOKIE },
		{ "same IPv6 source", addr6, 16, port, addr6, 16, port,
		  COOKIE_MAC1_VALID_WITH_COOKIE },
		{ "other IPv4 address", addr4, 4, port, addr4_other, 4, port,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "other port", addr4, 4, port, addr4, 4, port + 1,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "other IPv6 address (last byte)", addr6, 16, port, addr6_other, 16, port,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "other port over IPv6", addr6, 16, port, addr6, 16, port + 1,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "port with its bytes swapped", addr4, 4, 0x1234, addr4, 4, 0x3412,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "IPv6 address starting with the IPv4 one", addr6_v4prefix, 16, port, addr4, 4,
		  port, COOKIE_MAC1_VALID_NO_COOKIE },
		{ "IPv4 then IPv6", addr4, 4, port, addr6, 16, port,
		  COOKIE_MAC1_VALID_NO_COOKIE },
	};

	for (size_t si = 0; si < NSUITES; si++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			enum suite_id s = suites[si];
			uint8_t init[INIT_MIN_LEN];
			struct peers p;

			peers_init(&p);
			cookie_exchange(&p, s, cases[i].reply_addr, cases[i].reply_len,
					cases[i].reply_port, 0);
			send_init(&p, s, init, sizeof(init), 1, 1 * SEC);
			cr_assert_not(all_zero(mac2_of(init, sizeof(init)), COOKIE_MAC_LEN),
				      "suite %d: %s: the maker uses its cookie", s, cases[i].name);
			cr_assert_eq(cookie_check_macs(&p.checker, s, init, sizeof(init),
						       cases[i].send_addr, cases[i].send_len,
						       cases[i].send_port, 1 * SEC),
				     cases[i].want, "suite %d: %s", s, cases[i].name);
		}
	}
}

Test(cookie, cookie_and_secret_lifetimes)
{
	static const struct {
		const char *name;
		uint64_t secret_at;	/* first check: R is made */
		uint64_t reply_at;
		uint64_t send_at;
		bool mac2_sent;
		enum cookie_mac_state want;
	} cases[] = {
		{ "fresh cookie", 0, 0, 1 * SEC, true, COOKIE_MAC1_VALID_WITH_COOKIE },
		{ "cookie just under 110 s", 0, 0, 110 * SEC - 1, true,
		  COOKIE_MAC1_VALID_WITH_COOKIE },
		{ "cookie 110 s old: maker sends zero mac2", 0, 0, 110 * SEC, false,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "maker clock went backwards", 0, 50 * SEC, 49 * SEC, false,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "R just under 120 s", 0, 100 * SEC, 120 * SEC - 1, true,
		  COOKIE_MAC1_VALID_WITH_COOKIE },
		{ "R 120 s old: rotated, young cookie invalid", 0, 100 * SEC, 120 * SEC, true,
		  COOKIE_MAC1_VALID_NO_COOKIE },
		{ "reply after rotation is good again", 0, 125 * SEC, 130 * SEC, true,
		  COOKIE_MAC1_VALID_WITH_COOKIE },
		{ "R ages from its first use (500 s)", 500 * SEC, 515 * SEC, 619 * SEC, true,
		  COOKIE_MAC1_VALID_WITH_COOKIE },
		{ "R first used at 500 s, 120 s old", 500 * SEC, 515 * SEC, 620 * SEC, true,
		  COOKIE_MAC1_VALID_NO_COOKIE },
	};

	for (size_t si = 0; si < NSUITES; si++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			enum suite_id s = suites[si];
			uint8_t init[INIT_MIN_LEN];
			struct peers p;

			peers_init(&p);
			send_init(&p, s, init, sizeof(init), 2, cases[i].secret_at);
			cr_assert_eq(check4(&p, s, init, sizeof(init), cases[i].secret_at),
				     COOKIE_MAC1_VALID_NO_COOKIE);
			cookie_exchange(&p, s, addr4, sizeof(addr4), port, cases[i].reply_at);
			send_init(&p, s, init, sizeof(init), 1, cases[i].send_at);
			cr_assert_eq(!all_zero(mac2_of(init, sizeof(init)), COOKIE_MAC_LEN),
				     cases[i].mac2_sent, "suite %d: %s: mac2 sent", s,
				     cases[i].name);
			cr_assert_eq(check4(&p, s, init, sizeof(init), cases[i].send_at),
				     cases[i].want, "suite %d: %s", s, cases[i].name);
		}
	}
}

/* Flip each bit of byte @at in turn: every variant fails and leaves @maker as it was. */
static void expect_every_flip_refused(struct cookie_maker *maker,
				      const uint8_t reply[COOKIE_REPLY_LEN], size_t at,
				      const char *region)
{
	struct cookie_maker before;

	/* memcpy, not assignment: padding bytes are compared too. */
	memcpy(&before, maker, sizeof(before));
	for (int bit = 0; bit < 8; bit++) {
		uint8_t bad[COOKIE_REPLY_LEN];
		int ret;

		memcpy(bad, reply, sizeof(bad));
		bad[at] ^= (uint8_t)(1u << bit);
		ret = cookie_consume_reply(maker, bad, sizeof(bad), 0);
		cr_assert_eq(ret, -EBADMSG, "suite %d: %s byte %zu bit %d: got %d", reply[2],
			     region, at, bit, ret);
		cr_assert_eq(memcmp(maker, &before, sizeof(before)), 0,
			     "suite %d: %s byte %zu bit %d: maker changed", reply[2], region, at,
			     bit);
	}
}

Test(cookie, tampered_reply_is_refused_and_stores_nothing)
{
	static const struct {
		const char *name;
		size_t from, to;
	} regions[] = {
		{ "header", 0, 4 },
		{ "receiver index", 4, 8 },
		{ "nonce", 8, 32 },
		{ "encrypted cookie", 32, 48 },
		{ "tag", 48, 64 },
	};

	for (size_t si = 0; si < NSUITES; si++) {
		enum suite_id s = suites[si];
		uint8_t init[INIT_MIN_LEN], reply[COOKIE_REPLY_LEN];
		struct peers p;

		peers_init(&p);
		send_init(&p, s, init, sizeof(init), 0, 0);
		cr_assert_eq(cookie_reply_create(&p.checker, s, init, sizeof(init), SENDER_INDEX,
						 addr4, sizeof(addr4), port, 0, reply), 0);
		for (size_t r = 0; r < sizeof(regions) / sizeof(regions[0]); r++)
			for (size_t at = regions[r].from; at < regions[r].to; at++)
				expect_every_flip_refused(&p.maker, reply, at, regions[r].name);
		/* The untouched reply still works: the failures above changed nothing. */
		cr_assert_eq(cookie_consume_reply(&p.maker, reply, sizeof(reply), 0), 0);
		send_init(&p, s, init, sizeof(init), 1, 1 * SEC);
		cr_assert_eq(check4(&p, s, init, sizeof(init), 1 * SEC),
			     COOKIE_MAC1_VALID_WITH_COOKIE);
	}
}

Test(cookie, reply_must_answer_the_last_init_sent)
{
	enum scenario {
		NO_INIT_SENT,
		REPLY_TO_EARLIER_INIT,		/* AD = an older mac1 */
		REPLY_TO_OTHER_INITIATOR,	/* same index, other INIT */
		REPLY_FROM_OTHER_RELAY,		/* k_cookie of another relay key */
		REPLAYED_REPLY,
		REPLY_OF_63_BYTES,
		REPLY_OF_65_BYTES,
		REPLY_IN_TIME,			/* control: the same flow succeeds */
	};
	static const struct {
		const char *name;
		enum scenario what;
		int want;
	} cases[] = {
		{ "no INIT sent", NO_INIT_SENT, -EBADMSG },
		{ "reply to an earlier INIT", REPLY_TO_EARLIER_INIT, -EBADMSG },
		{ "reply to another initiator's INIT", REPLY_TO_OTHER_INITIATOR, -EBADMSG },
		{ "reply from a relay with another key", REPLY_FROM_OTHER_RELAY, -EBADMSG },
		{ "replayed reply", REPLAYED_REPLY, -EBADMSG },
		{ "63-byte reply", REPLY_OF_63_BYTES, -EBADMSG },
		{ "65-byte reply", REPLY_OF_65_BYTES, -EBADMSG },
		{ "reply to the last INIT", REPLY_IN_TIME, 0 },
	};

	for (size_t si = 0; si < NSUITES; si++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			enum suite_id s = suites[si];
			uint8_t init[INIT_MIN_LEN], other[INIT_MIN_LEN];
			uint8_t reply[COOKIE_REPLY_LEN + 1];
			struct cookie_checker *checker;
			struct cookie_checker other_relay;
			struct cookie_maker stranger;
			const uint8_t *answered = init;
			size_t reply_len = COOKIE_REPLY_LEN;
			uint8_t pub[SUITE_DH_LEN];
			struct peers p;
			int ret;

			peers_init(&p);
			checker = &p.checker;
			fill_init(init, sizeof(init), s, 0);
			fill_init(other, sizeof(other), s, 9);
			relay_pub(pub, RELAY_KEY);
			switch (cases[i].what) {
			case NO_INIT_SENT:
				/* mac1 as the maker would write it, but the maker did not. */
				cr_assert_eq(cookie_mac1_write(s, pub, init, sizeof(init)), 0);
				break;
			case REPLY_TO_EARLIER_INIT:
				send_init(&p, s, init, sizeof(init), 0, 0);
				send_init(&p, s, other, sizeof(other), 9, 1 * SEC);
				break;
			case REPLY_TO_OTHER_INITIATOR:
				cr_assert_eq(cookie_maker_init(&stranger, pub), 0);
				send_init(&p, s, init, sizeof(init), 0, 0);
				cr_assert_eq(cookie_add_macs(&stranger, s, other, sizeof(other), 0),
					     0);
				answered = other;
				break;
			case REPLY_FROM_OTHER_RELAY:
				relay_pub(pub, OTHER_RELAY_KEY);
				cr_assert_eq(cookie_checker_init(&other_relay, pub), 0);
				checker = &other_relay;
				send_init(&p, s, init, sizeof(init), 0, 0);
				break;
			case REPLY_OF_65_BYTES:
				reply_len = COOKIE_REPLY_LEN + 1;
				/* fall through */
			case REPLAYED_REPLY:
			case REPLY_OF_63_BYTES:
			case REPLY_IN_TIME:
				send_init(&p, s, init, sizeof(init), 0, 0);
				break;
			}
			memset(reply, 0, sizeof(reply));
			cr_assert_eq(cookie_reply_create(checker, s, answered, INIT_MIN_LEN,
							 SENDER_INDEX, addr4, sizeof(addr4), port,
							 0, reply), 0);
			if (cases[i].what == REPLY_OF_63_BYTES)
				reply_len = COOKIE_REPLY_LEN - 1;
			if (cases[i].what == REPLAYED_REPLY) {
				ret = cookie_consume_reply(&p.maker, reply, reply_len, 0);
				cr_assert_eq(ret, 0, "suite %d: first reply taken", s);
			}
			ret = cookie_consume_reply(&p.maker, reply, reply_len, 0);
			cr_assert_eq(ret, cases[i].want, "suite %d: %s: got %d", s, cases[i].name,
				     ret);
		}
	}
}

Test(cookie, reply_is_never_larger_than_the_packet_it_answers)
{
	static const struct {
		size_t len;
		int want;
	} cases[] = {
		{ INIT_MIN_LEN, 0 },
		{ INIT_MAX_LEN, 0 },
		{ COOKIE_REPLY_LEN, 0 },
		{ COOKIE_REPLY_LEN - 1, -EMSGSIZE },
		{ COOKIE_MIN_PACKET_LEN, -EMSGSIZE },
	};

	for (size_t si = 0; si < NSUITES; si++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			enum suite_id s = suites[si];
			uint8_t pkt[INIT_MAX_LEN], reply[COOKIE_REPLY_LEN];
			size_t len = cases[i].len;
			struct peers p;
			int ret;

			peers_init(&p);
			send_init(&p, s, pkt, len, 0, 0);
			cr_assert_eq(check4(&p, s, pkt, len, 0), COOKIE_MAC1_VALID_NO_COOKIE);
			memset(reply, 0xaa, sizeof(reply));
			cr_assert_eq(cookie_reply_create(&p.checker, s, pkt, len, SENDER_INDEX,
							 addr4, sizeof(addr4), port, 0, reply),
				     cases[i].want, "suite %d: %zu-byte packet", s, len);
			if (cases[i].want == 0) {
				/* Amplification factor below 1 for everything answered. */
				cr_assert_leq(sizeof(reply), len);
				ret = cookie_consume_reply(&p.maker, reply, sizeof(reply), 0);
				cr_assert_eq(ret, 0);
			} else {
				cr_assert(all_zero(reply, sizeof(reply)),
					  "suite %d: refused reply is zeroed", s);
			}
		}
	}
}

Test(cookie, resp_mac1_is_keyed_with_the_initiator_key)
{
	enum key { INITIATOR, RELAY };
	static const struct {
		const char *name;
		enum key verify_with;
		int flip;
		bool other_suite;
		bool want;
	} cases[] = {
		{ "initiator's key", INITIATOR, NONE, false, true },
		{ "garbage mac2 is not covered", INITIATOR, -1, false, true },
		{ "relay's key", RELAY, NONE, false, false },
		{ "other suite", INITIATOR, NONE, true, false },
		{ "receiver index flipped", INITIATOR, 8, false, false },
		{ "tag flipped", INITIATOR, 59, false, false },
		{ "mac1 flipped", INITIATOR, -32, false, false },
		{ "mac1 last byte flipped", INITIATOR, -17, false, false },
	};

	for (size_t si = 0; si < NSUITES; si++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			enum suite_id s = suites[si], verify_as;
			uint8_t resp[RESP_LEN], ipub[SUITE_DH_LEN], rpub[SUITE_DH_LEN];
			const uint8_t *key;

			relay_pub(ipub, INITIATOR_KEY);
			relay_pub(rpub, RELAY_KEY);
			fill_resp(resp, s);
			memset(resp + RESP_LEN - COOKIE_MAC_LEN, 0xff, COOKIE_MAC_LEN);
			cr_assert_eq(cookie_mac1_write(s, ipub, resp, sizeof(resp)), 0);
			cr_assert(all_zero(mac2_of(resp, sizeof(resp)), COOKIE_MAC_LEN),
				  "mac2 of a RESP is zero");
			if (cases[i].flip != NONE)
				resp[flip_at(cases[i].flip, RESP_LEN)] ^= 0x80;
			verify_as = cases[i].other_suite ? suites[1 - si] : s;
			key = cases[i].verify_with == INITIATOR ? ipub : rpub;
			cr_assert_eq(cookie_mac1_verify(verify_as, key, resp, sizeof(resp)),
				     cases[i].want, "suite %d: %s", s, cases[i].name);
		}
	}
}

Test(cookie, cookie_is_used_only_with_its_suite)
{
	for (size_t si = 0; si < NSUITES; si++) {
		enum suite_id s = suites[si], t = suites[1 - si];
		uint8_t init[INIT_MIN_LEN];
		struct peers p;

		peers_init(&p);
		cookie_exchange(&p, s, addr4, sizeof(addr4), port, 0);
		send_init(&p, t, init, sizeof(init), 1, 1 * SEC);
		cr_assert(all_zero(mac2_of(init, sizeof(init)), COOKIE_MAC_LEN),
			  "cookie from suite %d not used in suite %d", s, t);
		cr_assert_eq(check4(&p, t, init, sizeof(init), 1 * SEC),
			     COOKIE_MAC1_VALID_NO_COOKIE);
		send_init(&p, s, init, sizeof(init), 1, 2 * SEC);
		cr_assert_eq(check4(&p, s, init, sizeof(init), 2 * SEC),
			     COOKIE_MAC1_VALID_WITH_COOKIE);
	}
}

Test(cookie, fails_closed)
{
	uint8_t init[INIT_MIN_LEN], reply[COOKIE_REPLY_LEN], pub[SUITE_DH_LEN];
	struct cookie_checker dead_checker;
	struct cookie_maker dead_maker;
	struct peers p;

	relay_pub(pub, RELAY_KEY);
	memset(&dead_checker, 0, sizeof(dead_checker));
	memset(&dead_maker, 0, sizeof(dead_maker));
	peers_init(&p);
	send_init(&p, SUITE_CHACHAPOLY_BLAKE2S, init, sizeof(init), 0, 0);

	/* A zero-filled (never initialised) checker or maker does nothing. */
	cr_assert_eq(cookie_check_macs(&dead_checker, SUITE_CHACHAPOLY_BLAKE2S, init, sizeof(init),
				       addr4, sizeof(addr4), port, 0), COOKIE_MAC_INVALID);
	memset(reply, 0xaa, sizeof(reply));
	cr_assert_eq(cookie_reply_create(&dead_checker, SUITE_CHACHAPOLY_BLAKE2S, init,
					 sizeof(init), 1, addr4, sizeof(addr4), port, 0, reply),
		     -EINVAL);
	cr_assert(all_zero(reply, sizeof(reply)));
	cr_assert_eq(cookie_add_macs(&dead_maker, SUITE_CHACHAPOLY_BLAKE2S, init, sizeof(init), 0),
		     -EINVAL);

	/* Unknown suites. */
	for (unsigned bad = 0; bad < 256; bad += 3) {
		enum suite_id s = (enum suite_id)bad;

		if (bad == SUITE_CHACHAPOLY_BLAKE2S || bad == SUITE_AESGCM_SHA256)
			continue;
		cr_assert_eq(check4(&p, s, init, sizeof(init), 0), COOKIE_MAC_INVALID);
		cr_assert_eq(cookie_reply_create(&p.checker, s, init, sizeof(init), 1, addr4,
						 sizeof(addr4), port, 0, reply), -EINVAL);
		cr_assert_eq(cookie_add_macs(&p.maker, s, init, sizeof(init), 0), -EINVAL);
		cr_assert_eq(cookie_mac1_write(s, pub, init, sizeof(init)), -EINVAL);
		cr_assert_not(cookie_mac1_verify(s, pub, init, sizeof(init)));
	}

	/* Randomness fails after R exists: the nonce cannot be made, nothing is sent. */
	send_init(&p, SUITE_AESGCM_SHA256, init, sizeof(init), 0, 0);
	cr_assert_eq(check4(&p, SUITE_AESGCM_SHA256, init, sizeof(init), 0),
		     COOKIE_MAC1_VALID_NO_COOKIE);
	p.checker.rand = failing_rand;
	memset(reply, 0xaa, sizeof(reply));
	cr_assert_eq(cookie_reply_create(&p.checker, SUITE_AESGCM_SHA256, init, sizeof(init), 1,
					 addr4, sizeof(addr4), port, 0, reply), -EIO);
	cr_assert(all_zero(reply, sizeof(reply)));

	/* No randomness when R is due: mac1 still decides, but no cookie is made or accepted. */
	peers_init(&p);
	send_init(&p, SUITE_AESGCM_SHA256, init, sizeof(init), 0, 0);
	p.checker.rand = failing_rand;
	cr_assert_eq(check4(&p, SUITE_AESGCM_SHA256, init, sizeof(init), 0),
		     COOKIE_MAC1_VALID_NO_COOKIE);
	memset(reply, 0xaa, sizeof(reply));
	cr_assert_eq(cookie_reply_create(&p.checker, SUITE_AESGCM_SHA256, init, sizeof(init), 1,
					 addr4, sizeof(addr4), port, 0, reply), -EIO);
	cr_assert(all_zero(reply, sizeof(reply)));
}

Test(cookie, wipe_leaves_nothing)
{
	struct peers p;

	peers_init(&p);
	cookie_exchange(&p, SUITE_CHACHAPOLY_BLAKE2S, addr4, sizeof(addr4), port, 0);
	cr_assert(p.checker.have_secret && p.maker.have_cookie);
	cookie_checker_wipe(&p.checker);
	cookie_maker_wipe(&p.maker);
	cr_assert(all_zero(&p.checker, sizeof(p.checker)));
	cr_assert(all_zero(&p.maker, sizeof(p.maker)));
}
