/*
 * ident.c — endpoint keys and tokens for relaybench (ident.h).
 */
#include "bench/relaybench/ident.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "wire/bytes.h"

#define LABEL "relaybench/1 endpoint"

enum { BACKDATE_S = 600 };

int ident_signer_load(struct ident_signer *s, const char *path, char *err, size_t errlen)
{
	int ret = keys_load_private(path, s->seed, err, errlen);

	if (ret)
		return ret;
	ret = keys_public_ed25519(s->seed, s->pub);
	if (ret) {
		snprintf(err, errlen, "%s: cannot derive the Ed25519 public key", path);
		ident_signer_wipe(s);
	}
	return ret;
}

void ident_signer_wipe(struct ident_signer *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

void ident_tunnel_name(uint32_t instance, uint32_t index, char out[IDENT_TUNNEL_NAME_MAX])
{
	snprintf(out, IDENT_TUNNEL_NAME_MAX, "i%u.t%u", instance, index);
}

/* priv = HMAC-SHA-256(seed, LABEL || instance || role || index). */
static int derive(const struct ident_params *p, enum token_role role, uint32_t index,
		  uint8_t priv[KEYS_LEN])
{
	uint8_t msg[sizeof(LABEL) - 1 + 4 + 1 + 4];
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	size_t out_len = 0;
	int ret = -EIO;

	memcpy(msg, LABEL, sizeof(LABEL) - 1);
	bytes_put_le32(msg + sizeof(LABEL) - 1, p->instance);
	msg[sizeof(LABEL) - 1 + 4] = (uint8_t)role;
	bytes_put_le32(msg + sizeof(LABEL) - 1 + 5, index);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return -EIO;
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx && EVP_MAC_init(ctx, p->signer->seed, KEYS_LEN, params) == 1 &&
	    EVP_MAC_update(ctx, msg, sizeof(msg)) == 1 &&
	    EVP_MAC_final(ctx, priv, &out_len, KEYS_LEN) == 1 && out_len == KEYS_LEN)
		ret = 0;
	EVP_MAC_CTX_free(ctx);	/* wipes its copy of the key */
	EVP_MAC_free(mac);
	if (ret)
		OPENSSL_cleanse(priv, KEYS_LEN);
	return ret;
}

int ident_endpoint(const struct ident_params *p, enum token_role role, uint32_t index,
		   uint8_t priv[KEYS_LEN], uint8_t *tok, size_t *tok_len)
{
	struct token t = { .role = role };
	int ret;

	if (!token_name_is_valid(p->tenant))
		return -EINVAL;
	ret = derive(p, role, index, priv);
	if (ret)
		return ret;
	ret = keys_public_x25519(priv, t.endpoint_pub);
	if (!ret)
		ret = token_generate_id(t.id);
	if (ret)
		goto out;
	strcpy(t.tenant, p->tenant);
	if (role == TOKEN_ROLE_GATEWAY)
		ident_tunnel_name(p->instance, index, t.tunnels[0]);
	else
		strcpy(t.tunnels[0], TOKEN_TUNNEL_ANY);
	t.n_tunnels = 1;
	t.not_before = p->now_s > BACKDATE_S ? p->now_s - BACKDATE_S : 0;
	t.expiry = p->now_s + p->valid_s;
	ret = token_encode_signed(&t, p->signer->seed, tok, TOKEN_MAX_LEN, tok_len);
out:
	if (ret)
		OPENSSL_cleanse(priv, KEYS_LEN);
	return ret;
}
