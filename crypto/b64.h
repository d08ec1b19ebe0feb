/*
 * b64.h — strict base64 codecs (RFC 4648) for keys and tokens.
 *
 *   b64_*     standard alphabet (§4), '=' padding: key files and key arguments,
 *             like WireGuard's 44-character keys.
 *   b64url_*  URL-safe alphabet (§5), no padding: the text form of tokens
 *             (`pt1.` + base64url, docs/protocol.md §6.1).
 *
 * Decoding is strict, so one byte string has exactly one accepted text: any
 * character outside the alphabet (whitespace included), a length no encoding
 * produces, padding in the wrong place (or any padding for base64url), and
 * non-zero unused bits in the last character are all refused (RFC 4648 §3.5
 * lets decoders reject them; we do, so a token or key cannot be re-spelled).
 *
 * Private keys go through these functions, so neither direction branches on
 * or indexes a table with the data: characters are mapped arithmetically.
 * Only whether the input is valid, and its length, can leak through timing.
 *
 * Threads: no state; any thread, concurrently. Callers own every buffer.
 */
#ifndef POSTERN_CRYPTO_B64_H
#define POSTERN_CRYPTO_B64_H

#include <stddef.h>
#include <stdint.h>

/* @return characters (without the NUL) that b64_encode() writes for @len bytes. */
size_t b64_encoded_len(size_t len);

/* @return characters (without the NUL) that b64url_encode() writes for @len bytes. */
size_t b64url_encoded_len(size_t len);

/*
 * Encode @len bytes of @in as text followed by a NUL. @cap is the size of
 * @out including room for the NUL. @in may be NULL when @len is 0.
 * @return 0, or -ENOSPC if @cap is too small (then @out[0] is NUL when @cap > 0).
 */
int b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
int b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/*
 * Decode exactly @textlen characters of @text (no NUL needed) into @out.
 * @return 0 with *@outlen set; -EINVAL if the text is not canonical base64 of
 * its kind (see above); -ENOSPC if the decoded bytes would not fit in @cap.
 * On error *@outlen is 0; after -EINVAL every byte the decoder may have
 * written is zeroed again, so a half-decoded secret is never left behind
 * (after -ENOSPC nothing was written).
 */
int b64_decode(const char *text, size_t textlen, uint8_t *out, size_t cap, size_t *outlen);
int b64url_decode(const char *text, size_t textlen, uint8_t *out, size_t cap, size_t *outlen);

#endif /* POSTERN_CRYPTO_B64_H */
