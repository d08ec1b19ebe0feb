/*
 * aead.c — per-packet AEAD over pre-keyed OpenSSL 3 EVP contexts.
 *
 * Per packet the only EVP work is: EVP_CipherInit_ex() with just the IV (the
 * provider keeps the key schedule and resets its MAC state), the AD through
 * EVP_CipherUpdate() with a NULL output, the payload, Final, and the tag
 * through EVP_CIPHER_CTX_ctrl(). Both providers (chacha20_poly1305, aes-gcm)
 * accept an IV-only re-init on a keyed context.
 */
#include "crypto/aead.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct aead_ctx {
	EVP_CIPHER_CTX *evp;
	bool seal;
	bool nonce_be;	/* AESGCM puts the counter big-endian, ChaChaPoly little-endian */
};

/*
 * Fetched once per process, never freed: an explicit fetch avoids the implicit
 * fetch (a locked method-store lookup) that EVP_chacha20_poly1305() and
 * EVP_aes_256_gcm() would cost on every session creation.
 */
static EVP_CIPHER *cipher_chachapoly;
static EVP_CIPHER *cipher_aesgcm;
static pthread_once_t cipher_once = PTHREAD_ONCE_INIT;

static void cipher_fetch(void)
{
	cipher_chachapoly = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	cipher_aesgcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

/* Noise rev 34 §12: ChaChaPoly and AESGCM nonces are 32 zero bits, then n. */
static inline void nonce_build(const struct aead_ctx *ctx, uint64_t counter,
			       uint8_t nonce[SUITE_NONCE_LEN])
{
	uint64_t n = ctx->nonce_be ? htobe64(counter) : htole64(counter);

	memset(nonce, 0, 4);
	memcpy(nonce + 4, &n, sizeof(n));
}

int aead_ctx_create(struct aead_ctx **out, enum suite_id suite,
		    const uint8_t key[SUITE_KEY_LEN], bool seal)
{
	const EVP_CIPHER *cipher;
	struct aead_ctx *ctx;
	int ret;

	if (!out || !key)
		return -EINVAL;

	switch (suite) {
	case SUITE_CHACHAPOLY_BLAKE2S:
	case SUITE_AESGCM_SHA256:
		break;
	default:
		return -EINVAL;
	}
	if (pthread_once(&cipher_once, cipher_fetch) != 0)
		return -EIO;
	cipher = suite == SUITE_AESGCM_SHA256 ? cipher_aesgcm : cipher_chachapoly;
	if (!cipher)
		return -ENOTSUP;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->seal = seal;
	ctx->nonce_be = suite == SUITE_AESGCM_SHA256;

	ctx->evp = EVP_CIPHER_CTX_new();
	if (!ctx->evp) {
		ret = -ENOMEM;
		goto err_ctx;
	}
	/* Key only; every packet supplies its IV (the default 12 bytes for both). */
	if (!EVP_CipherInit_ex(ctx->evp, cipher, NULL, key, NULL, seal ? 1 : 0)) {
		ret = -EIO;
		goto err_evp;
	}
	*out = ctx;
	return 0;

err_evp:
	/* The provider context may hold part of a key schedule: free clears it. */
	EVP_CIPHER_CTX_free(ctx->evp);
err_ctx:
	free(ctx);
	return ret;
}

void aead_ctx_destroy(struct aead_ctx *ctx)
{
	if (!ctx)
		return;
	/*
	 * Both providers free their context with OPENSSL_clear_free(), which
	 * wipes the key schedule; aead_ctx itself never holds key bytes.
	 */
	EVP_CIPHER_CTX_free(ctx->evp);
	free(ctx);
}

/*
 * Start one message: new IV (enc = -1 keeps the direction), then the AD.
 * GCM and ChaCha20-Poly1305 both re-initialise their MAC state on a new IV.
 */
static bool message_begin(struct aead_ctx *ctx, uint64_t counter,
			  const uint8_t *ad, size_t adlen)
{
	uint8_t nonce[SUITE_NONCE_LEN];
	int outl;

	nonce_build(ctx, counter, nonce);
	if (!EVP_CipherInit_ex(ctx->evp, NULL, NULL, NULL, nonce, -1))
		return false;
	/* A zero-length update is a no-op in EVP; skip the call. */
	if (adlen && !EVP_CipherUpdate(ctx->evp, NULL, &outl, ad, (int)adlen))
		return false;
	return true;
}

int aead_seal(struct aead_ctx *ctx, uint64_t counter, const uint8_t *ad, size_t adlen,
	      const uint8_t *in, size_t len, uint8_t *out)
{
	int outl;

	/* Noise §5.1: n = 2^64 - 1 is reserved and must never encrypt. */
	if (!ctx->seal || counter == UINT64_MAX || len > AEAD_MAX_LEN || adlen > INT_MAX)
		return -EINVAL;
	if (!message_begin(ctx, counter, ad, adlen))
		return -EIO;
	/* Both ciphers are stream-like: Update emits exactly len bytes, Final none. */
	if (len && (!EVP_CipherUpdate(ctx->evp, out, &outl, in, (int)len) ||
		    (size_t)outl != len))
		return -EIO;
	if (!EVP_CipherFinal_ex(ctx->evp, out + len, &outl))
		return -EIO;
	if (!EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, out + len))
		return -EIO;
	return 0;
}

bool aead_open(struct aead_ctx *ctx, uint64_t counter, const uint8_t *ad, size_t adlen,
	       const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t tag[AEAD_TAG_LEN];
	size_t plen;
	int outl;

	if (len < AEAD_TAG_LEN)
		return false;
	plen = len - AEAD_TAG_LEN;
	if (!ctx->seal && counter != UINT64_MAX && plen <= AEAD_MAX_LEN && adlen <= INT_MAX &&
	    message_begin(ctx, counter, ad, adlen)) {
		/* Copied so the const input is never handed to OpenSSL as writable. */
		memcpy(tag, in + plen, AEAD_TAG_LEN);
		if (EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, tag) &&
		    (!plen || (EVP_CipherUpdate(ctx->evp, out, &outl, in, (int)plen) &&
			       (size_t)outl == plen)) &&
		    EVP_CipherFinal_ex(ctx->evp, out, &outl))
			return true;
	}
	/*
	 * EVP decrypts before the tag is checked in Final, so @out may hold
	 * plaintext of a forged or replayed packet: erase it (the contract in
	 * aead.h). memset on the caller's buffer cannot be elided.
	 */
	if (plen)
		memset(out, 0, plen);
	return false;
}
