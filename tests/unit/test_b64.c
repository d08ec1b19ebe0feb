/*
 * test_b64.c — RFC 4648 base64 / base64url: known answers, agreement with
 * OpenSSL's encoder, and the strict decoder's refusals.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/b64.h"

/* RFC 4648 §10 test vectors. */
static const struct {
	const char *in, *std, *url;
} rfc4648[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

Test(b64, rfc4648_vectors)
{
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *in = rfc4648[i].in;
		size_t len = strlen(in), n;
		uint8_t back[16];
		char out[32];

		cr_assert_eq(b64_encode((const uint8_t *)in, len, out, sizeof(out)), 0);
		cr_expect_str_eq(out, rfc4648[i].std);
		cr_expect_eq(b64_encoded_len(len), strlen(rfc4648[i].std));
		cr_assert_eq(b64url_encode((const uint8_t *)in, len, out, sizeof(out)), 0);
		cr_expect_str_eq(out, rfc4648[i].url);
		cr_expect_eq(b64url_encoded_len(len), strlen(rfc4648[i].url));

		cr_assert_eq(b64_decode(rfc4648[i].std, strlen(rfc4648[i].std), back,
					sizeof(back), &n), 0, "decode %s", rfc4648[i].std);
		cr_expect(n == len && !memcmp(back, in, len));
		cr_assert_eq(b64url_decode(rfc4648[i].url, strlen(rfc4648[i].url), back,
					   sizeof(back), &n), 0, "decode %s", rfc4648[i].url);
		cr_expect(n == len && !memcmp(back, in, len));
	}
}

/* Every byte value at every position, against OpenSSL's encoder. */
Test(b64, agrees_with_openssl_and_round_trips)
{
	uint8_t in[300], back[300];
	char ours[420], ref[420];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(in); len++) {
		size_t n, j, k;

		cr_assert_eq(b64_encode(in, len, ours, sizeof(ours)), 0);
		EVP_EncodeBlock((unsigned char *)ref, in, (int)len);
		cr_assert_str_eq(ours, ref, "len %zu", len);
		cr_assert_eq(b64_decode(ours, strlen(ours), back, sizeof(back), &n), 0);
		cr_assert(n == len && !memcmp(back, in, len), "len %zu", len);

		/* base64url = the same with '-' '_' and no '=' padding. */
		for (j = k = 0; ref[j]; j++)
			if (ref[j] != '=')
				ref[k++] = ref[j] == '+' ? '-' : ref[j] == '/' ? '_' : ref[j];
		ref[k] = '\0';
		cr_assert_eq(b64url_encode(in, len, ours, sizeof(ours)), 0);
		cr_assert_str_eq(ours, ref, "len %zu", len);
		cr_assert_eq(b64url_decode(ours, strlen(ours), back, sizeof(back), &n), 0);
		cr_assert(n == len && !memcmp(back, in, len), "len %zu", len);
	}
}

/* Each text is refused; len 0 means strlen(text). */
static const struct {
	const char *text;
	size_t len;
	bool url;
	const char *why;
} refused[] = {
	{ "Zg", 0, false, "standard needs padding" },
	{ "Zg=", 0, false, "length not a multiple of 4" },
	{ "Zh==", 0, false, "non-zero unused bits (1 byte)" },
	{ "Zm9=", 0, false, "non-zero unused bits (2 bytes)" },
	{ "Zg==Zg==", 0, false, "padding in the middle" },
	{ "Z===", 0, false, "three padding characters" },
	{ "====", 0, false, "only padding" },
	{ "Zm9v\n", 0, false, "trailing newline" },
	{ " Zm9v", 0, false, "leading space" },
	{ "Zm-v", 0, false, "url character in standard" },
	{ "Zm_v", 0, false, "url character in standard" },
	{ "Zm9\xc3", 0, false, "non-ASCII byte" },
	{ "Zm9\0", 4, false, "NUL inside" },
	{ "Zg==", 0, true, "url has no padding" },
	{ "Zm8=", 0, true, "url has no padding" },
	{ "Zm+v", 0, true, "standard character in url" },
	{ "Zm/v", 0, true, "standard character in url" },
	{ "Z", 0, true, "one leftover character" },
	{ "Zm9vY", 0, true, "one leftover character" },
	{ "Zh", 0, true, "non-zero unused bits (1 byte)" },
	{ "Zm9", 0, true, "non-zero unused bits (2 bytes)" },
	{ "Zm9v.", 0, true, "dot" },
};

Test(b64, strict_decoder_refuses)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *t = refused[i].text;
		size_t len = refused[i].len ? refused[i].len : strlen(t), n = 99;
		uint8_t out[16];
		int r;

		r = refused[i].url ? b64url_decode(t, len, out, sizeof(out), &n)
				   : b64_decode(t, len, out, sizeof(out), &n);
		cr_expect_eq(r, -EINVAL, "\"%s\" (%s) gave %d", t, refused[i].why, r);
		cr_expect_eq(n, 0);
	}
}

Test(b64, failed_decode_wipes_output)
{
	uint8_t out[12];
	size_t n;

	memset(out, 0xaa, sizeof(out));
	/* The bad character is last: 9 bytes have been written before it is seen. */
	cr_assert_eq(b64_decode("Zm9vYmFyZm9vYmF!", 16, out, sizeof(out), &n), -EINVAL);
	for (size_t i = 0; i < 12; i++)
		cr_expect_eq(out[i], 0, "byte %zu left at %#x", i, out[i]);
}

Test(b64, too_small_buffers)
{
	uint8_t out[5];
	char text[8];
	size_t n;

	cr_expect_eq(b64_decode("Zm9vYmFy", 8, out, sizeof(out), &n), -ENOSPC);
	cr_expect_eq(b64url_decode("Zm9vYmFy", 8, out, sizeof(out), &n), -ENOSPC);
	cr_expect_eq(b64_encode((const uint8_t *)"foobar", 6, text, 8), -ENOSPC);
	cr_expect_eq(text[0], '\0');
	cr_expect_eq(b64url_encode((const uint8_t *)"fooba", 5, text, 8), 0);
	cr_expect_str_eq(text, "Zm9vYmE");
}
