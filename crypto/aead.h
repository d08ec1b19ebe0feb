/*
 * aead.h — transport AEAD for DATA packets: one keyed context per session
 * direction, only the nonce changes per packet.
 *
 *   SUITE_CHACHAPOLY_BLAKE2S  ChaCha20-Poly1305 (RFC 8439)
 *   SUITE_AESGCM_SHA256       AES-256-GCM (NIST SP 800-38D)
 *
 * The key is scheduled once in aead_ctx_create(); aead_seal()/aead_open() only
 * set the 12-byte Noise nonce (Noise rev 34 §12: 4 zero bytes, then the 64-bit
 * counter, little-endian for ChaChaPoly, big-endian for AESGCM). Re-keying an
 * OpenSSL 3 EVP context per packet would cost several hundred ns; this does not.
 *
 * Counters: this module encrypts under whatever counter it is given. Choosing
 * fresh counters (TX) and rejecting replays (RX, replay.h) is the session's job.
 * The one counter refused here is UINT64_MAX, which Noise reserves (§5.1).
 *
 * Threads: a context is used by one thread at a time (the worker that owns the
 * session); no call locks. Different contexts may be used concurrently.
 * aead_ctx_create() may be called from any thread.
 *
 * Buffers: @in and @out may be the same pointer (in-place, as the relay does in
 * the mbuf) or must not overlap at all. @ad may be NULL when @adlen is 0 (the
 * DATA path passes its 16-byte header); @in may be NULL for an empty payload,
 * and so may aead_open()'s @out (seal always writes the tag to @out).
 *
 * Cost: no allocation, no lock, no OpenSSL error-queue entry on a failed open.
 */
#ifndef POSTERN_CRYPTO_AEAD_H
#define POSTERN_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

enum {
	AEAD_TAG_LEN = SUITE_TAG_LEN,
	/* Largest @len accepted by seal (and @len - tag by open): OpenSSL takes int lengths. */
	AEAD_MAX_LEN = 0x7fffffff - SUITE_TAG_LEN,
};

struct aead_ctx;

/*
 * Create a context for @suite keyed with @key, for sealing (@seal true) or
 * opening (@seal false) only. @key is not kept: OpenSSL holds only its key
 * schedule, which aead_ctx_destroy() wipes; the caller wipes its own copy.
 * @return 0 and *@out set, or -EINVAL (bad suite or NULL argument), -ENOMEM,
 * -ENOTSUP (the linked OpenSSL lacks the cipher), -EIO (OpenSSL failed).
 * On error *@out is left untouched.
 */
int aead_ctx_create(struct aead_ctx **out, enum suite_id suite,
		    const uint8_t key[SUITE_KEY_LEN], bool seal);

/* Free @ctx and wipe its key schedule. NULL is a no-op. */
void aead_ctx_destroy(struct aead_ctx *ctx);

/*
 * Encrypt @len bytes of @in under nonce(@counter) with @adlen bytes of
 * associated data, writing @len + AEAD_TAG_LEN bytes (ciphertext, then tag) to
 * @out. No allocation.
 * @return 0; -EINVAL if @ctx is an open context, @counter is UINT64_MAX, or
 * @len > AEAD_MAX_LEN / @adlen > INT_MAX; -EIO if OpenSSL fails. On error @out
 * holds no usable ciphertext and must not be sent.
 */
int aead_seal(struct aead_ctx *ctx, uint64_t counter, const uint8_t *ad, size_t adlen,
	      const uint8_t *in, size_t len, uint8_t *out);

/*
 * Decrypt and verify @len bytes of @in (ciphertext followed by the 16-byte tag)
 * under nonce(@counter) and @ad, writing @len - AEAD_TAG_LEN bytes of plaintext
 * to @out. No allocation.
 * @return true only if the tag verified. On false, when @len >= AEAD_TAG_LEN,
 * the first @len - AEAD_TAG_LEN bytes of @out are all zero (in-place callers
 * thus lose the ciphertext, never gain unauthenticated plaintext); when @len is
 * shorter than a tag nothing is written. False also for a seal context,
 * @counter UINT64_MAX, or lengths above the limits of aead_seal().
 */
bool aead_open(struct aead_ctx *ctx, uint64_t counter, const uint8_t *ad, size_t adlen,
	       const uint8_t *in, size_t len, uint8_t *out);

#endif /* POSTERN_CRYPTO_AEAD_H */
