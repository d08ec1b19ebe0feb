/*
 * ident.h — the identities relaybench's endpoints present to the relay: an
 * X25519 static key and a signed token each (docs/protocol.md §6), made in
 * memory from one control-plane signing key.
 *
 * Endpoint keys are derived, not random: HMAC-SHA-256 keyed with the signing
 * key's seed over "relaybench/1 endpoint" || instance (LE32) || role (1
 * byte) || index (LE32). A rerun with the same signing key and instance
 * therefore presents the same identities, and the relay renews their
 * sessions instead of piling up new ones until its session limit; two runs
 * against one relay at the same time use different instances. Anyone holding
 * the signing key can derive the endpoint keys, which is fine for a key that
 * exists to sign benchmark tokens.
 *
 * Tokens: tenant from the options; a gateway's names the tunnel
 * ident_tunnel_name(instance, index); an agent's grants "*" (every tunnel of the
 * tenant); valid from 10 minutes ago (clock differences between hosts) for
 * @valid_s seconds. Each token gets a fresh random id.
 *
 * Secrets: the signing seed and derived private keys are wiped with
 * OPENSSL_cleanse by ident_signer_wipe() and by the callers of
 * ident_endpoint(). Threads: no shared state; any thread.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_IDENT_H
#define POSTERN_BENCH_RELAYBENCH_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"
#include "crypto/token.h"

enum {
	IDENT_TUNNEL_NAME_MAX = 24,	/* "i65535.t4294967295" + NUL */
};

struct ident_signer {
	uint8_t seed[KEYS_LEN];		/* Ed25519 private key (secret) */
	uint8_t pub[KEYS_LEN];
};

struct ident_params {
	const struct ident_signer *signer;
	const char *tenant;
	uint32_t instance;
	uint64_t now_s;			/* Unix time */
	uint64_t valid_s;		/* token lifetime from now */
};

/*
 * Load the signing key from @path (keys_load_private(): mode 0600 or
 * stricter) and derive its public key.
 * @return 0, or -errno with one line in @err naming the file.
 */
int ident_signer_load(struct ident_signer *s, const char *path, char *err, size_t errlen);

/* Wipe @s. */
void ident_signer_wipe(struct ident_signer *s);

/*
 * Write the tunnel name gateway @index of @instance serves ("i0.t17") into
 * @out. The instance is part of the name because a relay keeps a gateway's
 * session after the process behind it is gone (until its keys expire) and
 * keeps choosing it for the gateway's tunnels: another run's agents must
 * never be sent to it.
 */
void ident_tunnel_name(uint32_t instance, uint32_t index, char out[IDENT_TUNNEL_NAME_MAX]);

/*
 * Make endpoint @index of @role: its private key into @priv (the caller
 * wipes it) and its signed token into @tok (TOKEN_MAX_LEN bytes), *@tok_len.
 * @return 0, -EINVAL (bad tenant), -EIO (OpenSSL failed).
 */
int ident_endpoint(const struct ident_params *p, enum token_role role, uint32_t index,
		   uint8_t priv[KEYS_LEN], uint8_t *tok, size_t *tok_len);

#endif /* POSTERN_BENCH_RELAYBENCH_IDENT_H */
