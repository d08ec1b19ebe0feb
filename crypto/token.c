/*
 * token.c — encoding, parsing and verification of tokens (docs/protocol.md §6).
 *
 * Layout, version 1 (§6.1), little-endian:
 *   0 version | 1 role | 2 flags(2) | 4 id(16) | 20 signer id(8) | 28 not before(8)
 *   36 expiry(8) | 44 endpoint key(32) | 76 tenant len, tenant | tunnel count N |
 *   N x (len, name) | signature(64) over "postern-token-v1" || all bytes before it
 *
 * The signature has a fixed size and sits at the end, so the signed body is
 * always the first len - 64 bytes; the parser walks the names inside that body
 * and requires it to end exactly where the signature begins ("no byte left
 * over"). Every length is checked against the body before it is used.
 */
#include "crypto/token.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/b64.h"

/* Ed25519 signing context prefix (§6.1): 16 ASCII bytes, no NUL. */
static const char sig_context[] = "postern-token-v1";
enum { SIG_CONTEXT_LEN = sizeof(sig_context) - 1 };

/* Offsets of the fixed part (§6.1). */
enum {
	OFF_VERSION = 0,
	OFF_ROLE = 1,
	OFF_FLAGS = 2,
	OFF_ID = 4,
	OFF_SIGNER = 20,
	OFF_NOT_BEFORE = 28,
	OFF_EXPIRY = 36,
	OFF_ENDPOINT = 44,
	OFF_TENANT = 76,
};

struct signer {
	uint8_t id[TOKEN_SIGNER_ID_LEN];
	uint8_t pub[TOKEN_KEY_LEN];
	EVP_PKEY *pkey;			/* parsed once, shared read-only by verifiers */
};

struct token_trust {
	struct signer signers[TOKEN_MAX_SIGNERS];
	unsigned n_signers;
	/* Revoked ids, sorted by memcmp order, for bsearch. */
	uint8_t (*revoked)[TOKEN_ID_LEN];
	size_t n_revoked;
	size_t cap_revoked;
};

static const char *const status_names[] = {
	[TOKEN_OK] = "ok",
	[TOKEN_MALFORMED] = "malformed",
	[TOKEN_UNKNOWN_SIGNER] = "unknown_signer",
	[TOKEN_BAD_SIGNATURE] = "bad_signature",
	[TOKEN_NOT_YET_VALID] = "not_yet_valid",
	[TOKEN_EXPIRED] = "expired",
	[TOKEN_REVOKED] = "revoked",
	[TOKEN_KEY_MISMATCH] = "key_mismatch",
};

const char *token_status_name(enum token_status status)
{
	if ((unsigned)status >= sizeof(status_names) / sizeof(status_names[0]))
		return "?";
	return status_names[status];
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* §6.1: names are 1..63 bytes of [A-Za-z0-9._-]. */
static bool name_char_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool name_chars_ok(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(p[i]))
			return false;
	return true;
}

bool token_name_is_valid(const char *name)
{
	size_t len = strnlen(name, TOKEN_NAME_MAX + 1);

	return len >= 1 && len <= TOKEN_NAME_MAX && name_chars_ok((const uint8_t *)name, len);
}

static bool is_any(const uint8_t *p, size_t len)
{
	return len == 1 && p[0] == '*';
}

/*
 * Check one tunnel name of a token with @role and @n tunnels. `*` is valid
 * only as the single tunnel of an agent grant (§6.1).
 */
static const char *check_tunnel(const uint8_t *p, size_t len, unsigned n, unsigned role)
{
	if (len < 1 || len > TOKEN_NAME_MAX)
		return "a tunnel name is not 1..63 bytes long";
	if (is_any(p, len)) {
		if (role != TOKEN_ROLE_AGENT)
			return "'*' is only valid in an agent token";
		if (n != 1)
			return "'*' must be the only tunnel of an agent token";
		return NULL;
	}
	if (!name_chars_ok(p, len))
		return "a tunnel name has a character outside [A-Za-z0-9._-]";
	return NULL;
}

static const char *check_tenant(const uint8_t *p, size_t len)
{
	if (len < 1 || len > TOKEN_NAME_MAX)
		return "the tenant name is not 1..63 bytes long";
	if (!name_chars_ok(p, len))
		return "the tenant name has a character outside [A-Za-z0-9._-]";
	return NULL;
}

/* Read one length-prefixed name at *@off within the @end-byte body. */
static const char *take_name(const uint8_t *buf, size_t end, size_t *off, char out[],
			     const uint8_t **name, size_t *name_len)
{
	size_t len;

	if (*off >= end)
		return "truncated: a name is missing";
	len = buf[*off];
	if (len > end - *off - 1)
		return "truncated: a name runs into the signature";
	*name = buf + *off + 1;
	*name_len = len;
	if (len <= TOKEN_NAME_MAX) {
		memcpy(out, *name, len);
		out[len] = '\0';
	}
	*off += 1 + len;
	return NULL;
}

/* Parse @buf into @t; @return NULL or why it is malformed (@t then zeroed). */
static const char *parse(const uint8_t *buf, size_t len, struct token *t)
{
	const uint8_t *name;
	size_t off = OFF_TENANT, end, name_len;
	const char *why;
	unsigned n;

	memset(t, 0, sizeof(*t));
	if (len < TOKEN_MIN_LEN) {
		why = "shorter than the smallest token (145 bytes)";
		goto bad;
	}
	if (len > TOKEN_MAX_LEN) {
		why = "longer than the largest token (717 bytes)";
		goto bad;
	}
	if (buf[OFF_VERSION] != TOKEN_VERSION) {
		why = "version is not 1";
		goto bad;
	}
	if (buf[OFF_ROLE] != TOKEN_ROLE_GATEWAY && buf[OFF_ROLE] != TOKEN_ROLE_AGENT) {
		why = "unknown role";
		goto bad;
	}
	if (buf[OFF_FLAGS] || buf[OFF_FLAGS + 1]) {
		why = "flags are not 0";
		goto bad;
	}
	t->role = buf[OFF_ROLE];
	memcpy(t->id, buf + OFF_ID, TOKEN_ID_LEN);
	memcpy(t->signer_id, buf + OFF_SIGNER, TOKEN_SIGNER_ID_LEN);
	t->not_before = get_le64(buf + OFF_NOT_BEFORE);
	t->expiry = get_le64(buf + OFF_EXPIRY);
	memcpy(t->endpoint_pub, buf + OFF_ENDPOINT, TOKEN_KEY_LEN);
	if (t->expiry <= t->not_before) {
		why = "expiry is not after not-before";
		goto bad;
	}

	end = len - TOKEN_SIG_LEN;
	why = take_name(buf, end, &off, t->tenant, &name, &name_len);
	if (!why)
		why = check_tenant(name, name_len);
	if (why)
		goto bad;
	if (off >= end) {
		why = "truncated: the tunnel count is missing";
		goto bad;
	}
	n = buf[off++];
	if (n < 1 || n > TOKEN_MAX_TUNNELS) {
		why = "tunnel count is not 1..8";
		goto bad;
	}
	for (unsigned i = 0; i < n; i++) {
		why = take_name(buf, end, &off, t->tunnels[i], &name, &name_len);
		if (!why)
			why = check_tunnel(name, name_len, n, t->role);
		if (why)
			goto bad;
	}
	if (off != end) {
		why = "bytes left over after the last tunnel name";
		goto bad;
	}
	t->n_tunnels = n;
	return NULL;
bad:
	memset(t, 0, sizeof(*t));
	return why;
}

int token_parse(const uint8_t *buf, size_t len, struct token *out)
{
	return parse(buf, len, out) ? -EINVAL : 0;
}

const char *token_malformed_reason(const uint8_t *buf, size_t len)
{
	struct token t;

	return parse(buf, len, &t);
}

int token_generate_id(uint8_t id[TOKEN_ID_LEN])
{
	if (RAND_bytes(id, TOKEN_ID_LEN) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

int token_signer_id(const uint8_t signer_pub[TOKEN_KEY_LEN], uint8_t id[TOKEN_SIGNER_ID_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (EVP_Digest(signer_pub, TOKEN_KEY_LEN, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < TOKEN_SIGNER_ID_LEN) {
		ERR_clear_error();
		return -EIO;
	}
	memcpy(id, md, TOKEN_SIGNER_ID_LEN);
	return 0;
}

/* Validate @tok as token_parse() would validate its encoding; @return its size or 0. */
static size_t encoded_size(const struct token *tok)
{
	size_t size = OFF_TENANT, len;

	if (tok->role != TOKEN_ROLE_GATEWAY && tok->role != TOKEN_ROLE_AGENT)
		return 0;
	if (tok->expiry <= tok->not_before)
		return 0;
	if (tok->n_tunnels < 1 || tok->n_tunnels > TOKEN_MAX_TUNNELS)
		return 0;
	len = strnlen(tok->tenant, sizeof(tok->tenant));
	if (check_tenant((const uint8_t *)tok->tenant, len))
		return 0;
	size += 1 + len + 1;
	for (unsigned i = 0; i < tok->n_tunnels; i++) {
		len = strnlen(tok->tunnels[i], sizeof(tok->tunnels[i]));
		if (check_tunnel((const uint8_t *)tok->tunnels[i], len, tok->n_tunnels,
				 tok->role))
			return 0;
		size += 1 + len;
	}
	return size + TOKEN_SIG_LEN;
}

static size_t put_name(uint8_t *p, const char *name)
{
	size_t len = strlen(name);

	p[0] = (uint8_t)len;
	memcpy(p + 1, name, len);
	return 1 + len;
}

int token_encode_signed(const struct token *tok, const uint8_t signer_priv[TOKEN_KEY_LEN],
			uint8_t *out, size_t cap, size_t *len)
{
	/* The signed message: context || body, contiguous (Ed25519 is one-shot). */
	uint8_t msg[SIG_CONTEXT_LEN + TOKEN_MAX_LEN];
	uint8_t *body = msg + SIG_CONTEXT_LEN;
	uint8_t pub[TOKEN_KEY_LEN];
	size_t size = encoded_size(tok), off, siglen = TOKEN_SIG_LEN, publen = sizeof(pub);
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int ret = -EIO;

	*len = 0;
	if (!size)
		return -EINVAL;
	if (cap < size)
		return -ENOSPC;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, signer_priv, TOKEN_KEY_LEN);
	if (!pkey || EVP_PKEY_get_raw_public_key(pkey, pub, &publen) != 1 ||
	    publen != TOKEN_KEY_LEN)
		goto out;

	memcpy(msg, sig_context, SIG_CONTEXT_LEN);
	body[OFF_VERSION] = TOKEN_VERSION;
	body[OFF_ROLE] = (uint8_t)tok->role;
	body[OFF_FLAGS] = 0;
	body[OFF_FLAGS + 1] = 0;
	memcpy(body + OFF_ID, tok->id, TOKEN_ID_LEN);
	if (token_signer_id(pub, body + OFF_SIGNER))
		goto out;
	put_le64(body + OFF_NOT_BEFORE, tok->not_before);
	put_le64(body + OFF_EXPIRY, tok->expiry);
	memcpy(body + OFF_ENDPOINT, tok->endpoint_pub, TOKEN_KEY_LEN);
	off = OFF_TENANT;
	off += put_name(body + off, tok->tenant);
	body[off++] = (uint8_t)tok->n_tunnels;
	for (unsigned i = 0; i < tok->n_tunnels; i++)
		off += put_name(body + off, tok->tunnels[i]);

	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, out + off, &siglen, msg, SIG_CONTEXT_LEN + off) != 1 ||
	    siglen != TOKEN_SIG_LEN)
		goto out;
	memcpy(out, body, off);
	*len = off + TOKEN_SIG_LEN;
	ret = 0;
out:
	if (ret) {
		OPENSSL_cleanse(out, size);
		ERR_clear_error();
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);	/* wipes OpenSSL's copy of the private key */
	return ret;
}

static const struct signer *find_signer(const struct token_trust *trust,
					const uint8_t id[TOKEN_SIGNER_ID_LEN])
{
	for (unsigned i = 0; trust && i < trust->n_signers; i++)
		if (!memcmp(trust->signers[i].id, id, TOKEN_SIGNER_ID_LEN))
			return &trust->signers[i];
	return NULL;
}

/* @return true only if OpenSSL says the signature verifies; any error is false. */
static bool signature_ok(const struct signer *s, const uint8_t *buf, size_t len)
{
	uint8_t msg[SIG_CONTEXT_LEN + TOKEN_MAX_LEN];
	size_t body = len - TOKEN_SIG_LEN;
	EVP_MD_CTX *ctx;
	bool ok = false;

	memcpy(msg, sig_context, SIG_CONTEXT_LEN);
	memcpy(msg + SIG_CONTEXT_LEN, buf, body);
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, s->pkey) == 1 &&
	    EVP_DigestVerify(ctx, buf + body, TOKEN_SIG_LEN, msg, SIG_CONTEXT_LEN + body) == 1)
		ok = true;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		ERR_clear_error();
	return ok;
}

enum token_status token_verify(const uint8_t *buf, size_t len, const struct token_trust *trust,
			       uint64_t now, uint64_t skew,
			       const uint8_t handshake_static[TOKEN_KEY_LEN],
			       struct token *out)
{
	const struct signer *s;
	enum token_status st;
	struct token t;

	/* §6.2, in the table's order: the first failing check is the reason. */
	if (parse(buf, len, &t)) {
		st = TOKEN_MALFORMED;
		goto out;
	}
	s = find_signer(trust, t.signer_id);
	if (!s) {
		st = TOKEN_UNKNOWN_SIGNER;
		goto out;
	}
	if (!signature_ok(s, buf, len)) {
		st = TOKEN_BAD_SIGNATURE;
		goto out;
	}
	/* now >= not_before - skew, written so that nothing can wrap. */
	if (t.not_before > now && t.not_before - now > skew) {
		st = TOKEN_NOT_YET_VALID;
		goto out;
	}
	/* now < expiry + skew, likewise. */
	if (now >= t.expiry && now - t.expiry >= skew) {
		st = TOKEN_EXPIRED;
		goto out;
	}
	if (token_trust_is_revoked(trust, t.id)) {
		st = TOKEN_REVOKED;
		goto out;
	}
	if (handshake_static && CRYPTO_memcmp(handshake_static, t.endpoint_pub, TOKEN_KEY_LEN)) {
		st = TOKEN_KEY_MISMATCH;
		goto out;
	}
	st = TOKEN_OK;
out:
	if (out) {
		if (st == TOKEN_OK)
			*out = t;
		else
			memset(out, 0, sizeof(*out));
	}
	return st;
}

int token_to_text(const uint8_t *buf, size_t len, char *text, size_t cap)
{
	if (len < TOKEN_MIN_LEN || len > TOKEN_MAX_LEN)
		return -EINVAL;
	if (cap < TOKEN_TEXT_PREFIX_LEN + b64url_encoded_len(len) + 1) {
		if (cap)
			text[0] = '\0';
		return -ENOSPC;
	}
	memcpy(text, TOKEN_TEXT_PREFIX, TOKEN_TEXT_PREFIX_LEN);
	return b64url_encode(buf, len, text + TOKEN_TEXT_PREFIX_LEN,
			     cap - TOKEN_TEXT_PREFIX_LEN);
}

int token_from_text(const char *text, size_t textlen, uint8_t *buf, size_t cap, size_t *len)
{
	int ret;

	*len = 0;
	if (textlen < TOKEN_TEXT_PREFIX_LEN ||
	    memcmp(text, TOKEN_TEXT_PREFIX, TOKEN_TEXT_PREFIX_LEN))
		return -EINVAL;
	if (cap > TOKEN_MAX_LEN)
		cap = TOKEN_MAX_LEN;
	ret = b64url_decode(text + TOKEN_TEXT_PREFIX_LEN, textlen - TOKEN_TEXT_PREFIX_LEN,
			    buf, cap, len);
	return ret == -ENOSPC ? -EMSGSIZE : ret;
}

int token_trust_create(struct token_trust **out)
{
	struct token_trust *trust = calloc(1, sizeof(*trust));

	if (!trust)
		return -ENOMEM;
	*out = trust;
	return 0;
}

int token_trust_dup(struct token_trust **out, const struct token_trust *src)
{
	struct token_trust *trust;

	trust = malloc(sizeof(*trust));
	if (!trust)
		return -ENOMEM;
	*trust = *src;
	trust->revoked = NULL;
	trust->cap_revoked = src->n_revoked;
	if (src->n_revoked) {
		trust->revoked = malloc(src->n_revoked * sizeof(*src->revoked));
		if (!trust->revoked)
			goto err_trust;
		memcpy(trust->revoked, src->revoked, src->n_revoked * sizeof(*src->revoked));
	}
	for (unsigned i = 0; i < trust->n_signers; i++)
		if (EVP_PKEY_up_ref(trust->signers[i].pkey) != 1) {
			/* Keep only the references actually taken. */
			trust->n_signers = i;
			token_trust_destroy(trust);
			return -ENOMEM;
		}
	*out = trust;
	return 0;

err_trust:
	free(trust);
	return -ENOMEM;
}

void token_trust_destroy(struct token_trust *trust)
{
	if (!trust)
		return;
	for (unsigned i = 0; i < trust->n_signers; i++)
		EVP_PKEY_free(trust->signers[i].pkey);
	free(trust->revoked);
	free(trust);
}

int token_trust_add_signer(struct token_trust *trust, const uint8_t pub[TOKEN_KEY_LEN])
{
	struct signer s;
	int ret;

	ret = token_signer_id(pub, s.id);
	if (ret)
		return ret;
	if (find_signer(trust, s.id))
		return -EEXIST;
	if (trust->n_signers == TOKEN_MAX_SIGNERS)
		return -ENOSPC;
	s.pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, TOKEN_KEY_LEN);
	if (!s.pkey) {
		ERR_clear_error();
		return -EINVAL;
	}
	memcpy(s.pub, pub, TOKEN_KEY_LEN);
	trust->signers[trust->n_signers++] = s;
	return 0;
}

int token_trust_remove_signer(struct token_trust *trust, const uint8_t pub[TOKEN_KEY_LEN])
{
	for (unsigned i = 0; i < trust->n_signers; i++) {
		if (memcmp(trust->signers[i].pub, pub, TOKEN_KEY_LEN))
			continue;
		EVP_PKEY_free(trust->signers[i].pkey);
		memmove(&trust->signers[i], &trust->signers[i + 1],
			(trust->n_signers - i - 1) * sizeof(trust->signers[0]));
		trust->n_signers--;
		return 0;
	}
	return -ENOENT;
}

unsigned token_trust_n_signers(const struct token_trust *trust)
{
	return trust->n_signers;
}

/* @return the index of the first revoked id >= @id (the insertion point). */
static size_t revoked_lower_bound(const struct token_trust *trust, const uint8_t id[TOKEN_ID_LEN])
{
	size_t lo = 0, hi = trust->n_revoked;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(trust->revoked[mid], id, TOKEN_ID_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int token_trust_revoke(struct token_trust *trust, const uint8_t id[TOKEN_ID_LEN])
{
	size_t at = revoked_lower_bound(trust, id);

	if (at < trust->n_revoked && !memcmp(trust->revoked[at], id, TOKEN_ID_LEN))
		return 0;
	if (trust->n_revoked == trust->cap_revoked) {
		size_t cap = trust->cap_revoked ? trust->cap_revoked * 2 : 16;
		void *p = reallocarray(trust->revoked, cap, sizeof(*trust->revoked));

		if (!p)
			return -ENOMEM;
		trust->revoked = p;
		trust->cap_revoked = cap;
	}
	memmove(trust->revoked[at + 1], trust->revoked[at],
		(trust->n_revoked - at) * sizeof(*trust->revoked));
	memcpy(trust->revoked[at], id, TOKEN_ID_LEN);
	trust->n_revoked++;
	return 0;
}

bool token_trust_is_revoked(const struct token_trust *trust, const uint8_t id[TOKEN_ID_LEN])
{
	size_t at;

	if (!trust)
		return false;
	at = revoked_lower_bound(trust, id);
	return at < trust->n_revoked && !memcmp(trust->revoked[at], id, TOKEN_ID_LEN);
}
