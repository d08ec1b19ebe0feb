/*
 * token.h — signed admission tokens (docs/protocol.md §6).
 *
 * A token binds an endpoint's X25519 static key to a tenant, a role and up to
 * eight tunnel names for a time window, signed with a control-plane Ed25519
 * key. The relay admits an endpoint when its token verifies under a trusted
 * key and is not revoked; it needs no registry.
 *
 *   token_encode_signed()  struct token -> signed bytes (posternctl, tests)
 *   token_parse()          bytes -> struct token, structure only, no signature
 *   token_verify()         bytes -> status, every §6.2 check in §6.2's order
 *   token_to_text(), token_from_text()   `pt1.` + base64url (§6.1)
 *
 * Trust: a struct token_trust holds up to TOKEN_MAX_SIGNERS trusted Ed25519
 * public keys (each parsed into an EVP_PKEY once, when added) and a set of
 * revoked token ids.
 *
 * Threads: token_verify() only reads the trust; it may run on any number of
 * threads at once on one struct token_trust, provided nothing modifies it
 * meanwhile. The mutators (add/remove signer, revoke) are not thread-safe. The
 * relay's intended use is RCU-style: the control thread builds a new trust
 * with token_trust_dup() plus mutations, publishes the pointer, and destroys
 * the old one after every worker has passed a quiescent point. Each trust is
 * thus immutable once published. Everything else here is stateless.
 *
 * Fail closed: an OpenSSL error anywhere in verification makes the token
 * invalid (TOKEN_BAD_SIGNATURE), never valid.
 */
#ifndef POSTERN_CRYPTO_TOKEN_H
#define POSTERN_CRYPTO_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum token_role {
	TOKEN_ROLE_GATEWAY = 1,
	TOKEN_ROLE_AGENT = 2,
};

enum {
	TOKEN_VERSION = 1,
	TOKEN_ID_LEN = 16,
	TOKEN_SIGNER_ID_LEN = 8,	/* first 8 bytes of SHA-256(signer public key) */
	TOKEN_KEY_LEN = 32,		/* X25519 endpoint key, Ed25519 keys */
	TOKEN_SIG_LEN = 64,
	TOKEN_NAME_MAX = 63,		/* tenant and tunnel names: 1..63 bytes */
	TOKEN_MAX_TUNNELS = 8,
	TOKEN_MIN_LEN = 145,		/* one 1-byte tenant, one 1-byte tunnel */
	TOKEN_MAX_LEN = 717,		/* 63-byte tenant, eight 63-byte tunnels */
	TOKEN_TEXT_PREFIX_LEN = 4,	/* "pt1." */
	TOKEN_TEXT_MAX = 960,		/* "pt1." + base64url of TOKEN_MAX_LEN bytes */
	TOKEN_MAX_SIGNERS = 16,
	TOKEN_DEFAULT_SKEW = 30,	/* seconds, §6.2 */
};

#define TOKEN_TEXT_PREFIX "pt1."
/* The single tunnel name that grants an agent every tunnel of its tenant. */
#define TOKEN_TUNNEL_ANY "*"

/*
 * The fields of a token. Names are NUL-terminated. The signature is not kept:
 * a parsed struct says nothing about validity; only token_verify() does.
 */
struct token {
	enum token_role role;
	uint8_t id[TOKEN_ID_LEN];
	uint8_t signer_id[TOKEN_SIGNER_ID_LEN];
	uint64_t not_before;		/* Unix seconds */
	uint64_t expiry;		/* Unix seconds, > not_before */
	uint8_t endpoint_pub[TOKEN_KEY_LEN];
	char tenant[TOKEN_NAME_MAX + 1];
	char tunnels[TOKEN_MAX_TUNNELS][TOKEN_NAME_MAX + 1];
	unsigned n_tunnels;		/* 1..TOKEN_MAX_TUNNELS */
};

/* §6.2 outcomes, in the order the checks run. */
enum token_status {
	TOKEN_OK,
	TOKEN_MALFORMED,
	TOKEN_UNKNOWN_SIGNER,
	TOKEN_BAD_SIGNATURE,
	TOKEN_NOT_YET_VALID,
	TOKEN_EXPIRED,
	TOKEN_REVOKED,
	TOKEN_KEY_MISMATCH,
};

struct token_trust;

/*
 * @return the §6.2 reason name ("malformed", "unknown_signer", ...), "ok" for
 * TOKEN_OK, "?" for a value outside the enum. Static strings.
 */
const char *token_status_name(enum token_status status);

/*
 * @return true if @name is a valid tenant or tunnel name (§6.1): 1..63 bytes
 * of [A-Za-z0-9._-], NUL-terminated. "*" is not a name (see TOKEN_TUNNEL_ANY).
 */
bool token_name_is_valid(const char *name);

/* Fill @id with random bytes for a new token. @return 0 or -EIO. */
int token_generate_id(uint8_t id[TOKEN_ID_LEN]);

/* The signer id of an Ed25519 public key (§6.1). @return 0 or -EIO. */
int token_signer_id(const uint8_t signer_pub[TOKEN_KEY_LEN], uint8_t id[TOKEN_SIGNER_ID_LEN]);

/*
 * Encode @tok and sign it with the Ed25519 private key (seed) @signer_priv.
 * The signer id is derived from the key; @tok->signer_id is ignored. @tok must
 * satisfy every structural rule of §6.1 (the same rules token_parse() checks,
 * including expiry > not_before and `*` only as an agent's single tunnel).
 * @return 0 and *@len set; -EINVAL if @tok breaks a rule; -ENOSPC if @cap is
 * below the encoded size (TOKEN_MAX_LEN always suffices); -EIO if OpenSSL
 * fails. On error nothing usable is in @out.
 */
int token_encode_signed(const struct token *tok, const uint8_t signer_priv[TOKEN_KEY_LEN],
			uint8_t *out, size_t cap, size_t *len);

/*
 * Parse the structure of @len bytes at @buf (the `malformed` row of §6.2):
 * sizes, names, no byte left over, version, role, flags, expiry > not_before.
 * The signature is not checked.
 * @return 0 and *@out filled, or -EINVAL (*@out zeroed).
 */
int token_parse(const uint8_t *buf, size_t len, struct token *out);

/*
 * Why @buf does not parse, for operators: a static phrase such as "tunnel 2
 * name has a character outside [A-Za-z0-9._-]", or NULL if it parses.
 */
const char *token_malformed_reason(const uint8_t *buf, size_t len);

/*
 * Verify @len bytes at @buf at time @now (Unix seconds) with clock allowance
 * @skew, against @trust, running the §6.2 checks in order and returning the
 * first that fails. @handshake_static is the static key the Noise handshake
 * revealed; NULL skips the key_mismatch check (offline inspection only — the
 * relay always passes it). @trust is only read.
 * @return TOKEN_OK and *@out filled (if @out is not NULL), or the failing
 * check's status and *@out zeroed: a rejected token's fields are never handed
 * out from here (use token_parse() to show them).
 */
enum token_status token_verify(const uint8_t *buf, size_t len, const struct token_trust *trust,
			       uint64_t now, uint64_t skew,
			       const uint8_t handshake_static[TOKEN_KEY_LEN],
			       struct token *out);

/*
 * Write "pt1." + base64url(@buf) and a NUL to @text (@cap bytes, including
 * the NUL; TOKEN_TEXT_MAX + 1 always suffices for a token).
 * @return 0, -EINVAL if @len is outside TOKEN_MIN_LEN..TOKEN_MAX_LEN, -ENOSPC.
 */
int token_to_text(const uint8_t *buf, size_t len, char *text, size_t cap);

/*
 * Decode exactly @textlen characters of @text (no whitespace) from the text
 * form. The decoded bytes are not parsed.
 * @return 0 and *@len set; -EINVAL if the prefix is not "pt1." or the rest is
 * not strict unpadded base64url; -EMSGSIZE if it decodes to more than
 * TOKEN_MAX_LEN bytes or more than @cap.
 */
int token_from_text(const char *text, size_t textlen, uint8_t *buf, size_t cap, size_t *len);

/* An empty trust: no signers, nothing revoked. @return 0, -ENOMEM. */
int token_trust_create(struct token_trust **out);

/*
 * A copy of @src (signers and revocations) that can be modified without
 * touching @src, for copy-on-write publication. EVP_PKEYs are shared by
 * reference count, not re-parsed. @return 0, -ENOMEM.
 */
int token_trust_dup(struct token_trust **out, const struct token_trust *src);

/* Free @trust and its keys. NULL is a no-op. */
void token_trust_destroy(struct token_trust *trust);

/*
 * Trust the Ed25519 public key @pub for signing tokens.
 * @return 0; -EEXIST if a trusted key already has the same signer id (the same
 * key, or — never seen in practice — an 8-byte id collision); -ENOSPC if
 * TOKEN_MAX_SIGNERS are trusted; -EINVAL if OpenSSL refuses the key; -ENOMEM/-EIO.
 */
int token_trust_add_signer(struct token_trust *trust, const uint8_t pub[TOKEN_KEY_LEN]);

/*
 * Stop trusting @pub: tokens it signed become TOKEN_UNKNOWN_SIGNER.
 * @return 0, or -ENOENT if @pub is not trusted.
 */
int token_trust_remove_signer(struct token_trust *trust, const uint8_t pub[TOKEN_KEY_LEN]);

/* @return how many signers @trust holds. */
unsigned token_trust_n_signers(const struct token_trust *trust);

/* Add @id to the revocation set (again is fine). @return 0 or -ENOMEM. */
int token_trust_revoke(struct token_trust *trust, const uint8_t id[TOKEN_ID_LEN]);

/* @return true if @id is revoked. O(log n), no allocation. */
bool token_trust_is_revoked(const struct token_trust *trust, const uint8_t id[TOKEN_ID_LEN]);

#endif /* POSTERN_CRYPTO_TOKEN_H */
