/*
 * b64.c — strict RFC 4648 base64 (§4) and unpadded base64url (§5).
 *
 * A lookup table indexed by secret bytes leaks them through the cache, and
 * private keys pass through here, so each 6-bit group is mapped to and from
 * its character with range masks instead. A range mask is all ones when
 * lo <= c <= hi: both (lo - 1 - c) and (c - hi - 1) are then negative, so
 * their AND has the sign bit set and the arithmetic shift spreads it; for
 * any other c (0..255) one operand is a small non-negative number and the
 * shift gives 0. Invalid characters decode to -1 and are collected in one
 * error accumulator that is tested once at the end.
 */
#include "crypto/b64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/crypto.h>

/* All ones if lo <= c <= hi, else 0 (c, lo, hi in 0..255). */
static int in_range(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

/* All ones if x >= k, else 0 (x, k in 0..63). */
static int at_least(int x, int k)
{
	return (k - 1 - x) >> 8;
}

static char enc6(uint32_t v, bool url)
{
	int x = (int)(v & 63);
	int c62 = url ? '-' : '+';
	int c63 = url ? '_' : '/';
	int c = 'A' + x;

	c += at_least(x, 26) & ('a' - 'A' - 26);
	c += at_least(x, 52) & ('0' - 'a' - 26);
	c += at_least(x, 62) & (c62 - '0' - 10);
	c += at_least(x, 63) & (c63 - c62 - 1);
	return (char)c;
}

/* @return the 6-bit value of @ch, or -1 if it is not in the alphabet. */
static int dec6(char ch, bool url)
{
	int c = (unsigned char)ch;
	int c62 = url ? '-' : '+';
	int c63 = url ? '_' : '/';
	int v = -1;

	v += in_range(c, 'A', 'Z') & (c - 'A' + 1);
	v += in_range(c, 'a', 'z') & (c - 'a' + 27);
	v += in_range(c, '0', '9') & (c - '0' + 53);
	v += in_range(c, c62, c62) & 63;
	v += in_range(c, c63, c63) & 64;
	return v;
}

size_t b64_encoded_len(size_t len)
{
	if (len > (SIZE_MAX - 2) / 4 * 3)
		return SIZE_MAX;
	return (len + 2) / 3 * 4;
}

size_t b64url_encoded_len(size_t len)
{
	if (len > (SIZE_MAX - 2) / 4 * 3)
		return SIZE_MAX;
	return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

static int encode(const uint8_t *in, size_t len, char *out, size_t cap, bool url)
{
	size_t need = url ? b64url_encoded_len(len) : b64_encoded_len(len);
	size_t i = 0;
	char *p = out;
	uint32_t w;

	if (need >= cap) {
		if (cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	for (; len - i >= 3; i += 3) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*p++ = enc6(w >> 18, url);
		*p++ = enc6(w >> 12, url);
		*p++ = enc6(w >> 6, url);
		*p++ = enc6(w, url);
	}
	if (len - i == 1) {
		w = (uint32_t)in[i] << 16;
		*p++ = enc6(w >> 18, url);
		*p++ = enc6(w >> 12, url);
		if (!url) {
			*p++ = '=';
			*p++ = '=';
		}
	} else if (len - i == 2) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*p++ = enc6(w >> 18, url);
		*p++ = enc6(w >> 12, url);
		*p++ = enc6(w >> 6, url);
		if (!url)
			*p++ = '=';
	}
	*p = '\0';
	return 0;
}

int b64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	return encode(in, len, out, cap, false);
}

int b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	return encode(in, len, out, cap, true);
}

static int decode(const char *text, size_t n, uint8_t *out, size_t cap, size_t *outlen,
		  bool url)
{
	size_t need, i, o = 0;
	int bad = 0, a, b, c, d;
	uint32_t w;

	*outlen = 0;
	if (!url) {
		/* Padded: whole quads, then at most two '=' (§4); none elsewhere. */
		if (n % 4)
			return -EINVAL;
		if (n && text[n - 1] == '=')
			n--;
		if (n && text[n - 1] == '=')
			n--;
	}
	/* One leftover character cannot hold a whole byte: no encoder emits it. */
	if (n % 4 == 1)
		return -EINVAL;
	need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (need > cap)
		return -ENOSPC;

	for (i = 0; n - i >= 4; i += 4) {
		a = dec6(text[i], url);
		b = dec6(text[i + 1], url);
		c = dec6(text[i + 2], url);
		d = dec6(text[i + 3], url);
		bad |= a | b | c | d;
		w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = (uint8_t)(w >> 16);
		out[o++] = (uint8_t)(w >> 8);
		out[o++] = (uint8_t)w;
	}
	/*
	 * Tails: 2 characters carry 1 byte + 4 unused bits, 3 carry 2 bytes + 2
	 * unused bits. Unused bits must be zero (canonical encoding, §3.5).
	 */
	if (n - i == 2) {
		a = dec6(text[i], url);
		b = dec6(text[i + 1], url);
		bad |= a | b | -(b & 15);
		out[o++] = (uint8_t)((uint32_t)a << 2 | (uint32_t)b >> 4);
	} else if (n - i == 3) {
		a = dec6(text[i], url);
		b = dec6(text[i + 1], url);
		c = dec6(text[i + 2], url);
		bad |= a | b | c | -(c & 3);
		w = (uint32_t)a << 10 | (uint32_t)b << 4 | (uint32_t)c >> 2;
		out[o++] = (uint8_t)(w >> 8);
		out[o++] = (uint8_t)w;
	}
	if (bad < 0) {
		OPENSSL_cleanse(out, need);
		return -EINVAL;
	}
	*outlen = o;
	return 0;
}

int b64_decode(const char *text, size_t textlen, uint8_t *out, size_t cap, size_t *outlen)
{
	return decode(text, textlen, out, cap, outlen, false);
}

int b64url_decode(const char *text, size_t textlen, uint8_t *out, size_t cap, size_t *outlen)
{
	return decode(text, textlen, out, cap, outlen, true);
}
