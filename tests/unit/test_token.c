/*
 * test_token.c — tokens (docs/protocol.md §6): encoding, text form, every
 * §6.2 failure reason and its order, the structural rules, and trust sets.
 *
 * Malformed cases are built by hand and then signed with the real signer
 * (sign_raw(), plain EVP), so a structural rule is what rejects them, not a
 * broken signature.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/keys.h"
#include "crypto/token.h"

/* RFC 8032 §7.1 TEST 1 and TEST 2 seeds: two control-plane keys. */
static const char seed1_hex[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char seed2_hex[] = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

static uint8_t seed1[32], pub1[32], seed2[32], pub2[32];
static uint8_t endpoint[32];
static struct token_trust *trust;

enum { NB = 1800000000, EXP = 1800086400, SKEW = 30 };

static void hex(const char *h, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(sscanf(h + 2 * i, "%2hhx", &out[i]), 1);
}

static void setup(void)
{
	hex(seed1_hex, seed1, 32);
	hex(seed2_hex, seed2, 32);
	cr_assert_eq(keys_public_ed25519(seed1, pub1), 0);
	cr_assert_eq(keys_public_ed25519(seed2, pub2), 0);
	for (int i = 0; i < 32; i++)
		endpoint[i] = (uint8_t)(0x40 + i);
	cr_assert_eq(token_trust_create(&trust), 0);
	cr_assert_eq(token_trust_add_signer(trust, pub1), 0);
}

static void teardown(void)
{
	token_trust_destroy(trust);
	trust = NULL;
}

TestSuite(token, .init = setup, .fini = teardown);

static struct token base_token(void)
{
	struct token t;

	memset(&t, 0, sizeof(t));
	t.role = TOKEN_ROLE_GATEWAY;
	for (int i = 0; i < TOKEN_ID_LEN; i++)
		t.id[i] = (uint8_t)(0xa0 + i);
	t.not_before = NB;
	t.expiry = EXP;
	memcpy(t.endpoint_pub, endpoint, 32);
	strcpy(t.tenant, "acme");
	strcpy(t.tunnels[0], "crm");
	strcpy(t.tunnels[1], "wiki.internal");
	t.n_tunnels = 2;
	return t;
}

static size_t encode(const struct token *t, const uint8_t *seed, uint8_t *out)
{
	size_t len = 0;

	cr_assert_eq(token_encode_signed(t, seed, out, TOKEN_MAX_LEN, &len), 0);
	return len;
}

/* Ed25519-sign "postern-token-v1" || buf[0 .. len-64) into the last 64 bytes. */
static void sign_raw(uint8_t *buf, size_t len, const uint8_t *seed)
{
	uint8_t msg[16 + 1024];
	size_t siglen = 64;
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	cr_assert(len >= 64 && len - 64 <= 1024);
	memcpy(msg, "postern-token-v1", 16);
	memcpy(msg + 16, buf, len - 64);
	cr_assert(pkey && ctx);
	cr_assert_eq(EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey), 1);
	cr_assert_eq(EVP_DigestSign(ctx, buf + len - 64, &siglen, msg, 16 + len - 64), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
}

static enum token_status verify_at(const uint8_t *buf, size_t len, uint64_t now)
{
	return token_verify(buf, len, trust, now, SKEW, endpoint, NULL);
}

Test(token, round_trip_binary_and_text)
{
	struct token t = base_token(), back;
	uint8_t buf[TOKEN_MAX_LEN], again[TOKEN_MAX_LEN + 8], sid[8];
	char text[TOKEN_TEXT_MAX + 1];
	size_t len = encode(&t, seed1, buf), len2;

	/* 76 fixed + tenant (1+4) + count (1) + tunnels (1+3, 1+13) + signature. */
	cr_expect_eq(len, 76 + 5 + 1 + 4 + 14 + 64);
	cr_assert_eq(token_parse(buf, len, &back), 0);
	cr_assert_eq(token_signer_id(pub1, sid), 0);
	cr_expect_arr_eq(back.signer_id, sid, 8);
	cr_expect_eq(back.role, TOKEN_ROLE_GATEWAY);
	cr_expect_arr_eq(back.id, t.id, TOKEN_ID_LEN);
	cr_expect_eq(back.not_before, NB);
	cr_expect_eq(back.expiry, EXP);
	cr_expect_arr_eq(back.endpoint_pub, endpoint, 32);
	cr_expect_str_eq(back.tenant, "acme");
	cr_expect_eq(back.n_tunnels, 2);
	cr_expect_str_eq(back.tunnels[0], "crm");
	cr_expect_str_eq(back.tunnels[1], "wiki.internal");

	cr_assert_eq(token_to_text(buf, len, text, sizeof(text)), 0);
	cr_expect_eq(strncmp(text, "pt1.", 4), 0);
	cr_expect_eq(strspn(text + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789-_"), strlen(text) - 4, "%s", text);
	cr_assert_eq(token_from_text(text, strlen(text), again, sizeof(again), &len2), 0);
	cr_expect_eq(len2, len);
	cr_expect_arr_eq(again, buf, len);

	memset(&back, 0xee, sizeof(back));
	cr_expect_eq(token_verify(again, len2, trust, NB + 10, SKEW, endpoint, &back), TOKEN_OK);
	cr_expect_str_eq(back.tenant, "acme");
	cr_expect_eq(back.n_tunnels, 2);
}

/* The little-endian times and the signature scheme of §6.1, checked with plain EVP. */
Test(token, layout_and_signature_follow_the_spec)
{
	struct token t = base_token();
	uint8_t buf[TOKEN_MAX_LEN], msg[16 + TOKEN_MAX_LEN];
	size_t len = encode(&t, seed1, buf);
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub1, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	cr_expect_eq(buf[0], 1);
	cr_expect_eq(buf[1], 1);
	cr_expect(buf[28] == (NB & 0xff) && buf[35] == 0, "not before is little-endian");
	cr_expect_eq(buf[76], 4);
	cr_expect_eq(memcmp(buf + 77, "acme", 4), 0);
	cr_expect_eq(buf[81], 2);
	memcpy(msg, "postern-token-v1", 16);
	memcpy(msg + 16, buf, len - 64);
	cr_assert(pkey && ctx);
	cr_assert_eq(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey), 1);
	cr_expect_eq(EVP_DigestVerify(ctx, buf + len - 64, 64, msg, 16 + len - 64), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
}

Test(token, smallest_and_largest_tokens)
{
	struct token t = base_token();
	uint8_t buf[TOKEN_MAX_LEN];
	size_t len;

	strcpy(t.tenant, "a");
	strcpy(t.tunnels[0], "b");
	t.n_tunnels = 1;
	len = encode(&t, seed1, buf);
	cr_expect_eq(len, TOKEN_MIN_LEN);
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_OK);

	memset(t.tenant, 'T', 63);
	t.tenant[63] = '\0';
	for (int i = 0; i < TOKEN_MAX_TUNNELS; i++) {
		memset(t.tunnels[i], 'a' + i, 63);
		t.tunnels[i][63] = '\0';
	}
	t.n_tunnels = TOKEN_MAX_TUNNELS;
	len = encode(&t, seed1, buf);
	cr_expect_eq(len, TOKEN_MAX_LEN);
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_OK);
}

Test(token, agent_grant_with_star)
{
	struct token t = base_token(), back;
	uint8_t buf[TOKEN_MAX_LEN];
	size_t len;

	t.role = TOKEN_ROLE_AGENT;
	strcpy(t.tunnels[0], "*");
	t.n_tunnels = 1;
	len = encode(&t, seed1, buf);
	cr_expect_eq(token_verify(buf, len, trust, NB, SKEW, endpoint, &back), TOKEN_OK);
	cr_expect_eq(back.role, TOKEN_ROLE_AGENT);
	cr_expect_str_eq(back.tunnels[0], TOKEN_TUNNEL_ANY);
}

/*
 * Verification outcomes. Each case starts from the base token, signed by
 * seed1, verified at NB + 100 with skew 30 against pub1, endpoint matching;
 * the hook changes one thing.
 */
struct vcase {
	const char *name;
	enum token_status want;
	void (*hook)(uint8_t *buf, size_t *len, uint64_t *now, uint64_t *skew,
		     const uint8_t **hs, struct token_trust *tr);
};

#define HOOK(n) static void n(uint8_t *buf, size_t *len, uint64_t *now, uint64_t *skew, \
			      const uint8_t **hs, struct token_trust *tr)
#define UNUSED_ARGS (void)buf, (void)len, (void)now, (void)skew, (void)hs, (void)tr

static const uint8_t other_endpoint[32] = { 1, 2, 3 };

HOOK(nothing) { UNUSED_ARGS; }
HOOK(flip_endpoint_byte) { UNUSED_ARGS; buf[50] ^= 0x01; }
HOOK(flip_id_byte) { UNUSED_ARGS; buf[4] ^= 0x80; }
HOOK(flip_expiry_byte) { UNUSED_ARGS; buf[36] ^= 0x01; }
HOOK(flip_tenant_char) { UNUSED_ARGS; buf[77] = 'b'; }		/* "acme" -> "bcme" */
HOOK(flip_first_sig_byte) { UNUSED_ARGS; buf[*len - 64] ^= 0x01; }
HOOK(flip_last_sig_byte) { UNUSED_ARGS; buf[*len - 1] ^= 0x01; }
HOOK(zero_signature) { UNUSED_ARGS; memset(buf + *len - 64, 0, 64); }
HOOK(flip_signer_id) { UNUSED_ARGS; buf[20] ^= 0x01; }
HOOK(signed_by_other) { UNUSED_ARGS; sign_raw(buf, *len, seed2); }
HOOK(signer_id_of_other) { UNUSED_ARGS; uint8_t sid[8];
	cr_assert_eq(token_signer_id(pub2, sid), 0); memcpy(buf + 20, sid, 8); }
HOOK(untrust_signer) { UNUSED_ARGS; cr_assert_eq(token_trust_remove_signer(tr, pub1), 0); }
HOOK(trust_only_other) { UNUSED_ARGS; cr_assert_eq(token_trust_remove_signer(tr, pub1), 0);
	cr_assert_eq(token_trust_add_signer(tr, pub2), 0); }
HOOK(other_signer_trusted_too) { UNUSED_ARGS; cr_assert_eq(token_trust_add_signer(tr, pub2), 0);
	sign_raw(buf, *len, seed2); }
/* Clock edges: valid from NB - SKEW to EXP + SKEW - 1 inclusive. */
HOOK(at_nb_minus_skew) { UNUSED_ARGS; *now = NB - SKEW; }
HOOK(at_nb_minus_skew_minus_1) { UNUSED_ARGS; *now = NB - SKEW - 1; }
HOOK(at_exp_plus_skew_minus_1) { UNUSED_ARGS; *now = EXP + SKEW - 1; }
HOOK(at_exp_plus_skew) { UNUSED_ARGS; *now = EXP + SKEW; }
HOOK(long_expired) { UNUSED_ARGS; *now = EXP + 86400; }
HOOK(at_zero) { UNUSED_ARGS; *now = 0; }
HOOK(at_max) { UNUSED_ARGS; *now = UINT64_MAX; }
HOOK(no_skew_at_nb) { UNUSED_ARGS; *skew = 0; *now = NB; }
HOOK(no_skew_before_nb) { UNUSED_ARGS; *skew = 0; *now = NB - 1; }
HOOK(no_skew_at_exp_minus_1) { UNUSED_ARGS; *skew = 0; *now = EXP - 1; }
HOOK(no_skew_at_exp) { UNUSED_ARGS; *skew = 0; *now = EXP; }
HOOK(huge_skew) { UNUSED_ARGS; *skew = UINT64_MAX; *now = 0; }
HOOK(huge_skew_late) { UNUSED_ARGS; *skew = UINT64_MAX; *now = UINT64_MAX; }
HOOK(revoke_it) { UNUSED_ARGS; struct token t = base_token();
	cr_assert_eq(token_trust_revoke(tr, t.id), 0); }
HOOK(revoke_another) { UNUSED_ARGS; uint8_t id[16] = { 0xa0 };
	cr_assert_eq(token_trust_revoke(tr, id), 0); }
HOOK(wrong_static) { UNUSED_ARGS; *hs = other_endpoint; }
HOOK(no_static) { UNUSED_ARGS; *hs = NULL; }
/* Several failures at once: the earliest §6.2 row wins. */
HOOK(revoked_and_mismatch) { revoke_it(buf, len, now, skew, hs, tr); *hs = other_endpoint; }
HOOK(expired_revoked_mismatch) { revoked_and_mismatch(buf, len, now, skew, hs, tr);
	*now = EXP + SKEW; }
HOOK(early_revoked_mismatch) { UNUSED_ARGS; revoked_and_mismatch(buf, len, now, skew, hs, tr);
	*now = NB - SKEW - 1; }
HOOK(bad_sig_and_expired) { flip_endpoint_byte(buf, len, now, skew, hs, tr); *now = EXP + SKEW; }
HOOK(unknown_and_bad_sig) { flip_signer_id(buf, len, now, skew, hs, tr); buf[50] ^= 1; }
HOOK(malformed_and_unknown) { flip_signer_id(buf, len, now, skew, hs, tr); buf[0] = 2; }

static const struct vcase vcases[] = {
	{ "untouched", TOKEN_OK, nothing },
	{ "flipped endpoint key byte", TOKEN_BAD_SIGNATURE, flip_endpoint_byte },
	{ "flipped token id byte", TOKEN_BAD_SIGNATURE, flip_id_byte },
	{ "flipped expiry byte", TOKEN_BAD_SIGNATURE, flip_expiry_byte },
	{ "changed tenant character", TOKEN_BAD_SIGNATURE, flip_tenant_char },
	{ "flipped first signature byte", TOKEN_BAD_SIGNATURE, flip_first_sig_byte },
	{ "flipped last signature byte", TOKEN_BAD_SIGNATURE, flip_last_sig_byte },
	{ "all-zero signature", TOKEN_BAD_SIGNATURE, zero_signature },
	{ "flipped signer id", TOKEN_UNKNOWN_SIGNER, flip_signer_id },
	{ "signed by an untrusted key", TOKEN_BAD_SIGNATURE, signed_by_other },
	{ "names an untrusted signer", TOKEN_UNKNOWN_SIGNER, signer_id_of_other },
	{ "signer untrusted", TOKEN_UNKNOWN_SIGNER, untrust_signer },
	{ "only another key trusted", TOKEN_UNKNOWN_SIGNER, trust_only_other },
	{ "signature by another trusted key", TOKEN_BAD_SIGNATURE, other_signer_trusted_too },
	{ "now = not_before - skew", TOKEN_OK, at_nb_minus_skew },
	{ "now = not_before - skew - 1", TOKEN_NOT_YET_VALID, at_nb_minus_skew_minus_1 },
	{ "now = expiry + skew - 1", TOKEN_OK, at_exp_plus_skew_minus_1 },
	{ "now = expiry + skew", TOKEN_EXPIRED, at_exp_plus_skew },
	{ "a day after expiry", TOKEN_EXPIRED, long_expired },
	{ "now = 0", TOKEN_NOT_YET_VALID, at_zero },
	{ "now = UINT64_MAX", TOKEN_EXPIRED, at_max },
	{ "skew 0, now = not_before", TOKEN_OK, no_skew_at_nb },
	{ "skew 0, now = not_before - 1", TOKEN_NOT_YET_VALID, no_skew_before_nb },
	{ "skew 0, now = expiry - 1", TOKEN_OK, no_skew_at_exp_minus_1 },
	{ "skew 0, now = expiry", TOKEN_EXPIRED, no_skew_at_exp },
	{ "skew UINT64_MAX, now 0 (no wrap)", TOKEN_OK, huge_skew },
	{ "skew UINT64_MAX, now max (no wrap)", TOKEN_OK, huge_skew_late },
	{ "revoked", TOKEN_REVOKED, revoke_it },
	{ "another id revoked", TOKEN_OK, revoke_another },
	{ "handshake key differs", TOKEN_KEY_MISMATCH, wrong_static },
	{ "no handshake key given", TOKEN_OK, no_static },
	{ "order: revoked before key_mismatch", TOKEN_REVOKED, revoked_and_mismatch },
	{ "order: expired before revoked", TOKEN_EXPIRED, expired_revoked_mismatch },
	{ "order: not_yet_valid before revoked", TOKEN_NOT_YET_VALID, early_revoked_mismatch },
	{ "order: bad_signature before expired", TOKEN_BAD_SIGNATURE, bad_sig_and_expired },
	{ "order: unknown_signer before bad_signature", TOKEN_UNKNOWN_SIGNER, unknown_and_bad_sig },
	{ "order: malformed before unknown_signer", TOKEN_MALFORMED, malformed_and_unknown },
};

Test(token, verification_outcomes)
{
	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		struct token t = base_token(), out;
		struct token_trust *tr;
		uint8_t buf[TOKEN_MAX_LEN];
		size_t len = encode(&t, seed1, buf);
		uint64_t now = NB + 100, skew = SKEW;
		const uint8_t *hs = endpoint;
		enum token_status st;

		cr_assert_eq(token_trust_dup(&tr, trust), 0);
		vcases[i].hook(buf, &len, &now, &skew, &hs, tr);
		memset(&out, 0x5a, sizeof(out));
		st = token_verify(buf, len, tr, now, skew, hs, &out);
		cr_expect_eq(st, vcases[i].want, "%s: got %s, want %s", vcases[i].name,
			     token_status_name(st), token_status_name(vcases[i].want));
		if (st != TOKEN_OK) {
			struct token zero;

			memset(&zero, 0, sizeof(zero));
			cr_expect_eq(memcmp(&out, &zero, sizeof(out)), 0,
				     "%s: rejected token's fields handed out", vcases[i].name);
		}
		token_trust_destroy(tr);
	}
}

Test(token, null_or_empty_trust_knows_no_signer)
{
	struct token t = base_token();
	struct token_trust *empty;
	uint8_t buf[TOKEN_MAX_LEN];
	size_t len = encode(&t, seed1, buf);

	cr_assert_eq(token_trust_create(&empty), 0);
	cr_expect_eq(token_verify(buf, len, empty, NB, SKEW, endpoint, NULL),
		     TOKEN_UNKNOWN_SIGNER);
	cr_expect_eq(token_verify(buf, len, NULL, NB, SKEW, endpoint, NULL), TOKEN_UNKNOWN_SIGNER);
	token_trust_destroy(empty);
}

Test(token, truncated_at_every_length_is_malformed)
{
	struct token t = base_token();
	uint8_t buf[TOKEN_MAX_LEN];
	size_t len = encode(&t, seed1, buf);
	struct token out;

	for (size_t n = 0; n < len; n++) {
		cr_expect_eq(verify_at(buf, n, NB), TOKEN_MALFORMED, "length %zu", n);
		cr_expect_eq(token_parse(buf, n, &out), -EINVAL, "length %zu", n);
	}
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_OK);
}

/*
 * Hand-built tokens, validly signed: a structural rule must reject them.
 * Names are given as strings; "" is an empty name. extra adds bytes of 'x'
 * between the last tunnel and the signature.
 */
struct raw {
	uint8_t version, role;
	uint16_t flags;
	uint64_t nb, exp;
	const char *tenant;
	unsigned n;		/* tunnel count byte */
	unsigned given;		/* how many names follow (may differ from n) */
	const char *tunnels[10];
	size_t extra;
};

static size_t build_raw(const struct raw *r, uint8_t *buf)
{
	size_t off = 0, l;

	buf[off++] = r->version;
	buf[off++] = r->role;
	buf[off++] = (uint8_t)r->flags;
	buf[off++] = (uint8_t)(r->flags >> 8);
	memset(buf + off, 0x11, 16);
	off += 16;
	cr_assert_eq(token_signer_id(pub1, buf + off), 0);
	off += 8;
	for (int i = 0; i < 8; i++)
		buf[off + i] = (uint8_t)(r->nb >> (8 * i));
	off += 8;
	for (int i = 0; i < 8; i++)
		buf[off + i] = (uint8_t)(r->exp >> (8 * i));
	off += 8;
	memcpy(buf + off, endpoint, 32);
	off += 32;
	l = strlen(r->tenant);
	buf[off++] = (uint8_t)l;
	memcpy(buf + off, r->tenant, l);
	off += l;
	buf[off++] = (uint8_t)r->n;
	for (unsigned i = 0; i < r->given; i++) {
		l = strlen(r->tunnels[i]);
		buf[off++] = (uint8_t)l;
		memcpy(buf + off, r->tunnels[i], l);
		off += l;
	}
	memset(buf + off, 'x', r->extra);
	off += r->extra;
	off += 64;
	sign_raw(buf, off, seed1);
	return off;
}

#define N63 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789."
#define N64 N63 "-"
#define GW 1, 1, 0, NB, EXP
#define T1(a) 1, 1, { a }, 0

static const struct {
	const char *name;
	bool ok;
	struct raw r;
} shapes[] = {
	{ "well formed", true, { GW, "acme", T1("crm") } },
	{ "63-byte names", true, { GW, N63, T1(N63) } },
	{ "8 tunnels", true, { GW, "acme", 8, 8, { "a", "b", "c", "d", "e", "f", "g", "h" }, 0 } },
	{ "agent with *", true, { 1, 2, 0, NB, EXP, "acme", T1("*") } },
	{ "all name characters", true, { GW, "A-z_0.9", T1("...") } },
	{ "version 2", false, { 2, 1, 0, NB, EXP, "acme", T1("crm") } },
	{ "version 0", false, { 0, 1, 0, NB, EXP, "acme", T1("crm") } },
	{ "role 0", false, { 1, 0, 0, NB, EXP, "acme", T1("crm") } },
	{ "role 3", false, { 1, 3, 0, NB, EXP, "acme", T1("crm") } },
	{ "flags 1", false, { 1, 1, 1, NB, EXP, "acme", T1("crm") } },
	{ "flags 0x8000", false, { 1, 1, 0x8000, NB, EXP, "acme", T1("crm") } },
	{ "expiry = not_before", false, { 1, 1, 0, NB, NB, "acme", T1("crm") } },
	{ "expiry < not_before", false, { 1, 1, 0, EXP, NB, "acme", T1("crm") } },
	{ "zero tunnels", false, { GW, "acme", 0, 0, { NULL }, 0 } },
	{ "9 tunnels", false, { GW, "acme", 9, 9,
				{ "a", "b", "c", "d", "e", "f", "g", "h", "i" }, 0 } },
	{ "count says 2, one name", false, { GW, "acme", 2, 1, { "a" }, 0 } },
	{ "count says 1, two names", false, { GW, "acme", 1, 2, { "a", "b" }, 0 } },
	{ "empty tenant", false, { GW, "", T1("crm") } },
	{ "empty tunnel name", false, { GW, "acme", T1("") } },
	{ "64-byte tenant", false, { GW, N64, T1("crm") } },
	{ "64-byte tunnel name", false, { GW, "acme", T1(N64) } },
	{ "space in tenant", false, { GW, "ac me", T1("crm") } },
	{ "slash in tunnel", false, { GW, "acme", T1("a/b") } },
	{ "@ in tunnel", false, { GW, "acme", T1("a@b") } },
	{ "non-ASCII in tenant", false, { GW, "acm\xc3\xa9", T1("crm") } },
	{ "control byte in tunnel", false, { GW, "acme", T1("cr\x01m") } },
	{ "* in a gateway token", false, { GW, "acme", T1("*") } },
	{ "* as tenant", false, { 1, 2, 0, NB, EXP, "*", T1("crm") } },
	{ "* beside another tunnel", false, { 1, 2, 0, NB, EXP, "acme", 2, 2, { "*", "crm" }, 0 } },
	{ "** as tunnel", false, { 1, 2, 0, NB, EXP, "acme", T1("**") } },
	{ "a* as tunnel", false, { 1, 2, 0, NB, EXP, "acme", T1("a*") } },
	{ "one byte left over", false, { GW, "acme", 1, 1, { "crm" }, 1 } },
	{ "many bytes left over", false, { GW, "acme", 1, 1, { "crm" }, 100 } },
};

Test(token, structural_rules)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		uint8_t buf[1024];
		size_t len = build_raw(&shapes[i].r, buf);
		struct token out;
		enum token_status st = verify_at(buf, len, NB);

		cr_expect_eq(st, shapes[i].ok ? TOKEN_OK : TOKEN_MALFORMED, "%s: got %s",
			     shapes[i].name, token_status_name(st));
		cr_expect_eq(token_parse(buf, len, &out), shapes[i].ok ? 0 : -EINVAL, "%s",
			     shapes[i].name);
		cr_expect_eq(token_malformed_reason(buf, len) == NULL, shapes[i].ok, "%s: %s",
			     shapes[i].name, token_malformed_reason(buf, len));
	}
}

Test(token, trailing_byte_after_signature_is_malformed)
{
	struct token t = base_token();
	uint8_t buf[TOKEN_MAX_LEN + 1];
	size_t len = encode(&t, seed1, buf);

	buf[len] = 0;
	cr_expect_eq(verify_at(buf, len + 1, NB), TOKEN_MALFORMED);
}

Test(token, oversized_buffer_is_malformed)
{
	uint8_t buf[TOKEN_MAX_LEN + 1];
	struct raw r = { GW, N63, 8, 8, { N63, N63, N63, N63, N63, N63, N63, N63 }, 0 };
	size_t len = build_raw(&r, buf);

	cr_assert_eq(len, TOKEN_MAX_LEN);
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_OK);
	buf[len] = 0;
	cr_expect_eq(verify_at(buf, len + 1, NB), TOKEN_MALFORMED);
}

static void bad_role(struct token *t) { t->role = 3; }
static void no_tunnels(struct token *t) { t->n_tunnels = 0; }
static void nine_tunnels(struct token *t) { t->n_tunnels = 9; }
static void unterminated_tenant(struct token *t) { memset(t->tenant, 'a', sizeof(t->tenant)); }
static void empty_tunnel(struct token *t) { t->tunnels[1][0] = '\0'; }
static void star_gateway(struct token *t) { strcpy(t->tunnels[0], "*"); t->n_tunnels = 1; }
static void star_and_more(struct token *t) { t->role = TOKEN_ROLE_AGENT;
	strcpy(t->tunnels[0], "*"); }
static void no_window(struct token *t) { t->expiry = t->not_before; }
static void space_in_tenant(struct token *t) { strcpy(t->tenant, "a b"); }

static const struct {
	const char *name;
	void (*mutate)(struct token *t);
} unencodable[] = {
	{ "role 3", bad_role },
	{ "0 tunnels", no_tunnels },
	{ "9 tunnels", nine_tunnels },
	{ "unterminated tenant", unterminated_tenant },
	{ "empty tunnel name", empty_tunnel },
	{ "* in a gateway token", star_gateway },
	{ "* beside another tunnel", star_and_more },
	{ "expiry = not_before", no_window },
	{ "space in tenant", space_in_tenant },
};

Test(token, encoder_refuses_what_the_parser_refuses)
{
	for (size_t i = 0; i < sizeof(unencodable) / sizeof(unencodable[0]); i++) {
		struct token t = base_token();
		uint8_t buf[TOKEN_MAX_LEN];
		size_t len = 99;

		unencodable[i].mutate(&t);
		cr_expect_eq(token_encode_signed(&t, seed1, buf, sizeof(buf), &len), -EINVAL,
			     "%s", unencodable[i].name);
		cr_expect_eq(len, 0, "%s", unencodable[i].name);
	}
}

Test(token, encoder_needs_room)
{
	struct token t = base_token();
	uint8_t buf[TOKEN_MAX_LEN];
	size_t len;

	cr_expect_eq(token_encode_signed(&t, seed1, buf, 163, &len), -ENOSPC);
	cr_expect_eq(token_encode_signed(&t, seed1, buf, 164, &len), 0);
	cr_expect_eq(len, 164);
}

static const struct {
	const char *text;
	int want;
} bad_texts[] = {
	{ "", -EINVAL },
	{ "pt1", -EINVAL },
	{ "pt2.AAAA", -EINVAL },
	{ "PT1.AAAA", -EINVAL },
	{ "AAAAAAAA", -EINVAL },
	{ "pt1.AAA=", -EINVAL },		/* padding */
	{ "pt1.AA+A", -EINVAL },		/* standard alphabet */
	{ "pt1.AAAA ", -EINVAL },		/* whitespace */
	{ "pt1.AAAAA", -EINVAL },		/* impossible length */
	{ "pt1.AB", -EINVAL },			/* non-canonical last character */
};

Test(token, text_form_is_strict)
{
	struct token t = base_token();
	uint8_t buf[TOKEN_MAX_LEN], back[TOKEN_MAX_LEN];
	char text[TOKEN_TEXT_MAX + 2], big[TOKEN_TEXT_MAX + 8];
	size_t len = encode(&t, seed1, buf), n;

	for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++)
		cr_expect_eq(token_from_text(bad_texts[i].text, strlen(bad_texts[i].text), back,
					     sizeof(back), &n), bad_texts[i].want, "\"%s\"",
			     bad_texts[i].text);

	cr_assert_eq(token_to_text(buf, len, text, sizeof(text)), 0);
	strcat(text, "\n");
	cr_expect_eq(token_from_text(text, strlen(text), back, sizeof(back), &n), -EINVAL,
		     "trailing newline");

	/* 956 characters are 717 bytes, the most a token has; 960 are 720. */
	memcpy(big, "pt1.", 4);
	memset(big + 4, 'A', 960);
	cr_expect_eq(token_from_text(big, 4 + 956, back, sizeof(back), &n), 0);
	cr_expect_eq(n, TOKEN_MAX_LEN);
	cr_expect_eq(token_from_text(big, 4 + 960, back, sizeof(back), &n), -EMSGSIZE);
	cr_expect_eq(token_from_text(big, 4 + 956, back, 100, &n), -EMSGSIZE);

	cr_expect_eq(token_to_text(buf, len, text, 4 + 219), -ENOSPC);
	cr_expect_eq(token_to_text(buf, 144, text, sizeof(text)), -EINVAL);
}

Test(token, status_names_are_the_protocol_reasons)
{
	static const struct {
		enum token_status st;
		const char *name;
	} names[] = {
		{ TOKEN_OK, "ok" },
		{ TOKEN_MALFORMED, "malformed" },
		{ TOKEN_UNKNOWN_SIGNER, "unknown_signer" },
		{ TOKEN_BAD_SIGNATURE, "bad_signature" },
		{ TOKEN_NOT_YET_VALID, "not_yet_valid" },
		{ TOKEN_EXPIRED, "expired" },
		{ TOKEN_REVOKED, "revoked" },
		{ TOKEN_KEY_MISMATCH, "key_mismatch" },
		{ (enum token_status)99, "?" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_str_eq(token_status_name(names[i].st), names[i].name);
}

Test(token, untrusting_then_retrusting_a_signer)
{
	struct token t = base_token();
	uint8_t buf[TOKEN_MAX_LEN];
	size_t len = encode(&t, seed1, buf);

	cr_expect_eq(verify_at(buf, len, NB), TOKEN_OK);
	cr_assert_eq(token_trust_remove_signer(trust, pub1), 0);
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_UNKNOWN_SIGNER);
	cr_expect_eq(token_trust_remove_signer(trust, pub1), -ENOENT);
	cr_assert_eq(token_trust_add_signer(trust, pub1), 0);
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_OK);
}

Test(token, signer_limits)
{
	uint8_t pub[32], seed[32];

	cr_expect_eq(token_trust_add_signer(trust, pub1), -EEXIST);
	for (int i = 1; i < TOKEN_MAX_SIGNERS; i++) {
		cr_assert_eq(keys_generate(seed), 0);
		cr_assert_eq(keys_public_ed25519(seed, pub), 0);
		cr_assert_eq(token_trust_add_signer(trust, pub), 0, "signer %d", i);
	}
	cr_expect_eq(token_trust_n_signers(trust), TOKEN_MAX_SIGNERS);
	cr_assert_eq(keys_generate(seed), 0);
	cr_assert_eq(keys_public_ed25519(seed, pub), 0);
	cr_expect_eq(token_trust_add_signer(trust, pub), -ENOSPC);
	cr_expect_eq(token_trust_remove_signer(trust, pub), -ENOENT);
}

/* A copy can change without touching the original, and outlives it (shared EVP_PKEYs). */
Test(token, dup_is_independent)
{
	struct token t = base_token();
	struct token_trust *copy;
	uint8_t buf[TOKEN_MAX_LEN];
	size_t len = encode(&t, seed1, buf);

	cr_assert_eq(token_trust_dup(&copy, trust), 0);
	cr_assert_eq(token_trust_revoke(copy, t.id), 0);
	cr_expect_eq(token_verify(buf, len, copy, NB, SKEW, endpoint, NULL), TOKEN_REVOKED);
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_OK);

	cr_assert_eq(token_trust_remove_signer(trust, pub1), 0);
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_UNKNOWN_SIGNER);
	token_trust_destroy(trust);
	trust = copy;
	cr_expect_eq(verify_at(buf, len, NB), TOKEN_REVOKED);
}

Test(token, revocation_set)
{
	enum { N = 2000 };
	uint8_t (*ids)[16] = malloc(N * 16);
	uint8_t probe[16];

	cr_assert_not_null(ids);
	srand(7);
	for (int i = 0; i < N; i++) {
		for (int j = 0; j < 16; j++)
			ids[i][j] = (uint8_t)rand();
		ids[i][0] &= 0xfe;	/* even first byte: revoked; odd: never revoked */
		cr_assert_eq(token_trust_revoke(trust, ids[i]), 0);
	}
	/* Revoking again changes nothing. */
	for (int i = 0; i < N; i += 3)
		cr_assert_eq(token_trust_revoke(trust, ids[i]), 0);
	for (int i = 0; i < N; i++) {
		cr_expect(token_trust_is_revoked(trust, ids[i]), "id %d", i);
		memcpy(probe, ids[i], 16);
		probe[0] |= 1;
		cr_expect(!token_trust_is_revoked(trust, probe), "probe %d", i);
	}
	memset(probe, 0, 16);
	cr_expect(!token_trust_is_revoked(trust, probe));
	memset(probe, 0xff, 16);
	cr_expect(!token_trust_is_revoked(trust, probe));
	free(ids);
}
