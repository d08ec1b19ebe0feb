/*
 * cookie.h — mac1, mac2 and COOKIE_REPLY: the hop layer's denial-of-service
 * protection (docs/protocol.md §5). The design is WireGuard's, with the two
 * changes §5 names: the reply key is derived per nonce (OpenSSL 3.0 has no
 * XChaCha20-Poly1305), and suite 2 uses HMAC-SHA-256 where suite 1 uses keyed
 * BLAKE2s.
 *
 *   relay     struct cookie_checker, one per worker: checks mac1/mac2 on an
 *             INIT (§3.4 step 2–3) and, under load, writes a COOKIE_REPLY.
 *   initiator struct cookie_maker, one per (endpoint, relay): puts mac1/mac2 on
 *             each INIT it sends and takes the cookie out of a COOKIE_REPLY.
 *   RESP      cookie_mac1_write()/cookie_mac1_verify(): the relay's mac1 on a
 *             HANDSHAKE_RESP, keyed with the initiator's static public key.
 *
 * Packets: mac1 and mac2 are always the last COOKIE_MACS_LEN bytes of the
 * packet passed in (INIT §2.1, RESP §2.2); the MACs cover everything before
 * them. The module checks lengths but does not parse headers, except in
 * cookie_consume_reply(), which reads a whole COOKIE_REPLY (§2.3).
 *
 * Time: @now_ns is the caller's monotonic clock in nanoseconds; nothing here
 * reads a clock, so tests run on a fake one. A clock that goes backwards makes
 * the secret and the cookie count as expired (fail safe).
 * Randomness: the secret R and each reply nonce come from checker->rand,
 * RAND_bytes unless a test replaced it after cookie_checker_init().
 *
 * Cookie lifetime (as in WireGuard): the checker's secret R is made on first
 * use and replaced lazily, on the first call at or after COOKIE_SECRET_MAX_AGE_S
 * seconds from its birth. A cookie made from the old R stops verifying at that
 * moment, however young the cookie is: an initiator then gets NO_COOKIE and,
 * under load, a fresh COOKIE_REPLY. The maker stops using a cookie
 * COOKIE_MAX_AGE_S seconds after it received it (mac2 is then 16 zero bytes).
 *
 * A zero-filled checker or maker is dead: checks fail (COOKIE_MAC_INVALID,
 * false) and other calls return -EINVAL until it is initialised.
 *
 * Threads: a checker or a maker belongs to one thread (the worker or the
 * endpoint's loop); nothing locks. The stateless functions (cookie_mac1_*)
 * may be called from any thread. OpenSSL algorithms are fetched once per
 * process on first use.
 *
 * Secrets: R, cookies and reply keys are wiped with OPENSSL_cleanse when no
 * longer needed; cookie_checker_wipe()/cookie_maker_wipe() wipe a whole
 * struct. The mac1 and cookie-encryption keys derive from public keys only.
 */
#ifndef POSTERN_CRYPTO_COOKIE_H
#define POSTERN_CRYPTO_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

enum {
	COOKIE_MAC_LEN = 16,			/* mac1, mac2 */
	COOKIE_MACS_LEN = 2 * COOKIE_MAC_LEN,	/* mac1 || mac2 ending INIT and RESP */
	COOKIE_LEN = 16,
	COOKIE_SECRET_LEN = 32,			/* R, §5.3 */
	COOKIE_NONCE_LEN = 24,
	COOKIE_REPLY_LEN = 64,			/* §2.3 */
	/* Shortest packet the MAC functions take: header, index, mac1, mac2. */
	COOKIE_MIN_PACKET_LEN = 8 + COOKIE_MACS_LEN,
	COOKIE_SECRET_MAX_AGE_S = 120,		/* §4: R rotates this often */
	COOKIE_MAX_AGE_S = 110,			/* §4: initiator drops a cookie this old */
	COOKIE_NSUITES = 2,			/* arrays below are indexed by suite - 1 */
};

/* Fill @buf with @len random bytes. @return 0 or -errno. */
typedef int (*cookie_rand_fn)(uint8_t *buf, size_t len);

/* Relay side. Public so a worker can embed it; treat the fields as private. */
struct cookie_checker {
	uint8_t secret[COOKIE_SECRET_LEN];		/* R */
	uint64_t secret_born_ns;
	bool have_secret;
	/* HASH("mac1----" || S_relay_pub) and HASH("cookie--" || S_relay_pub), per suite. */
	uint8_t mac1_key[COOKIE_NSUITES][SUITE_HASH_LEN];
	uint8_t cookie_key[COOKIE_NSUITES][SUITE_HASH_LEN];
	cookie_rand_fn rand;				/* tests may replace it after init */
	bool ready;					/* false: every check fails */
};

/* Initiator side. Public so a peer struct can embed it; treat the fields as private. */
struct cookie_maker {
	uint8_t mac1_key[COOKIE_NSUITES][SUITE_HASH_LEN];
	uint8_t cookie_key[COOKIE_NSUITES][SUITE_HASH_LEN];
	/* The cookie from the last reply that verified, and what it is good for. */
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_born_ns;
	enum suite_id cookie_suite;
	bool have_cookie;
	/* The last INIT sent: a reply must name its index, suite and mac1. */
	uint8_t last_mac1[COOKIE_MAC_LEN];
	uint8_t last_index[4];
	enum suite_id last_suite;
	bool have_sent_mac1;
	bool ready;					/* false: every call fails */
};

enum cookie_mac_state {
	COOKIE_MAC_INVALID,		/* drop (bad_mac1), never answer */
	COOKIE_MAC1_VALID_NO_COOKIE,	/* under load: answer a COOKIE_REPLY */
	COOKIE_MAC1_VALID_WITH_COOKIE,	/* the source proved it receives at its address */
};

/*
 * Derive the checker's keys from the relay's static public key for both
 * suites and set rand to RAND_bytes. R is made on first use, not here.
 * @return 0, or -EIO if OpenSSL failed (the checker is then wiped, i.e. dead).
 */
int cookie_checker_init(struct cookie_checker *checker, const uint8_t relay_pub[SUITE_DH_LEN]);

/* Wipe the whole checker (R included). It must be initialised again before use. */
void cookie_checker_wipe(struct cookie_checker *checker);

/*
 * Check mac1 and mac2 of a @len-byte INIT of @suite that came from
 * @src_addr (@addr_len 4 or 16 bytes, network order) and @src_port (host
 * order). mac2 is checked only when mac1 is valid; checking it may rotate R.
 * @return COOKIE_MAC_INVALID when mac1 is wrong, or @suite, @len (below
 * COOKIE_MIN_PACKET_LEN) or @addr_len is invalid; COOKIE_MAC1_VALID_NO_COOKIE
 * when mac1 is right and mac2 is not the MAC of this source's current
 * cookie (or R could not be made); COOKIE_MAC1_VALID_WITH_COOKIE when both are.
 */
enum cookie_mac_state cookie_check_macs(struct cookie_checker *checker, enum suite_id suite,
					const uint8_t *packet, size_t len,
					const uint8_t *src_addr, size_t addr_len,
					uint16_t src_port, uint64_t now_ns);

/*
 * Write the COOKIE_REPLY (§2.3, §5.3) answering a @len-byte packet of @suite
 * from @src_addr/@src_port into @out: header (3, 1, @suite, 0), @receiver_index
 * (the INIT's sender index, written little-endian), a fresh random nonce and
 * the sealed cookie with the packet's mac1 as associated data. Call it only
 * for a packet cookie_check_macs() found mac1-valid; mac1 is not checked again.
 * A packet shorter than COOKIE_REPLY_LEN is refused, so the reply is never
 * larger than what it answers. @out must not overlap @packet.
 * @return 0; -EINVAL (dead checker, bad suite or @addr_len), -EMSGSIZE (@len below
 * COOKIE_REPLY_LEN), or -EIO (OpenSSL or rand failed). On error @out is zeroed.
 */
int cookie_reply_create(struct cookie_checker *checker, enum suite_id suite,
			const uint8_t *packet, size_t len, uint32_t receiver_index,
			const uint8_t *src_addr, size_t addr_len, uint16_t src_port,
			uint64_t now_ns, uint8_t out[COOKIE_REPLY_LEN]);

/*
 * Derive the maker's keys from the relay's static public key; no cookie held,
 * no INIT sent. @return 0, or -EIO if OpenSSL failed (the maker is then dead).
 */
int cookie_maker_init(struct cookie_maker *maker, const uint8_t relay_pub[SUITE_DH_LEN]);

/* Wipe the whole maker (cookie included). It must be initialised again before use. */
void cookie_maker_wipe(struct cookie_maker *maker);

/*
 * Write mac1 and mac2 into the last COOKIE_MACS_LEN bytes of a @len-byte INIT
 * of @suite, which is complete up to them. mac2 is the MAC under the held
 * cookie if it came in a reply of the same @suite less than COOKIE_MAX_AGE_S
 * ago, else 16 zero bytes. Remembers mac1, @suite and the sender index
 * (bytes 4..7) so that cookie_consume_reply() can check the answer.
 * @return 0, -EINVAL (dead maker, bad @suite or @len below
 * COOKIE_MIN_PACKET_LEN), or -EIO (OpenSSL failed; both MACs are then zero
 * and nothing is remembered).
 */
int cookie_add_macs(struct cookie_maker *maker, enum suite_id suite, uint8_t *packet,
		    size_t len, uint64_t now_ns);

/*
 * Take the cookie out of a COOKIE_REPLY. It must be exactly COOKIE_REPLY_LEN
 * bytes, answer the last INIT given to cookie_add_macs() (header 3, 1, that
 * INIT's suite, 0; receiver index = its sender index) and decrypt with its
 * mac1 as associated data. Each INIT's reply is taken once: after success a
 * second reply (a replay) fails until the next cookie_add_macs().
 * @return 0 and the cookie stored (born at @now_ns); -EBADMSG if the reply does
 * not verify, no INIT was sent or the maker is dead; -EIO if OpenSSL failed.
 * On any error the maker is unchanged.
 */
int cookie_consume_reply(struct cookie_maker *maker, const uint8_t *reply, size_t len,
			 uint64_t now_ns);

/*
 * RESP direction (§5.1): write mac1 = MAC(HASH("mac1----" || @receiver_pub),
 * packet before mac1) into a @len-byte packet of @suite, and a zero mac2 (the
 * relay never holds a cookie from an endpoint).
 * @return 0, -EINVAL (bad @suite or @len below COOKIE_MIN_PACKET_LEN) or -EIO.
 */
int cookie_mac1_write(enum suite_id suite, const uint8_t receiver_pub[SUITE_DH_LEN],
		      uint8_t *packet, size_t len);

/*
 * @return true if the packet's mac1 is the one cookie_mac1_write() would write
 * for @receiver_pub (the caller's own static public key), in constant time;
 * false otherwise, including a bad @suite or @len and an OpenSSL failure.
 */
bool cookie_mac1_verify(enum suite_id suite, const uint8_t receiver_pub[SUITE_DH_LEN],
			const uint8_t *packet, size_t len);

#endif /* POSTERN_CRYPTO_COOKIE_H */
