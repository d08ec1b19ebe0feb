/*
 * hop.c — encode and decode the hop packets of protocol.md §2.
 *
 * Every length is checked once, in check_packet(), against the real buffer;
 * the decoders after it only take pointers at fixed offsets inside the range
 * it proved. Encoders refuse anything a decoder would refuse, so
 * decode(encode(m)) == m for every m an encoder accepts.
 */
#include "wire/hop.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "wire/bytes.h"

/* §2.1–§2.4: the size range of each type, indexed by enum hop_type. */
static const struct {
	unsigned short min, max;
} type_size[] = {
	[HOP_HANDSHAKE_INIT] = { HOP_INIT_MIN, HOP_INIT_MAX },
	[HOP_HANDSHAKE_RESP] = { HOP_RESP_LEN, HOP_RESP_LEN },
	[HOP_COOKIE_REPLY] = { HOP_COOKIE_REPLY_LEN, HOP_COOKIE_REPLY_LEN },
	[HOP_DATA] = { HOP_DATA_MIN, HOP_DATA_MAX },
};

static bool suite_accepted(unsigned type, uint8_t suite, unsigned suites)
{
	/* §2: DATA carries 0; the others a handshake suite of §3.1. */
	if (type == HOP_DATA)
		return suite == HOP_SUITE_NONE;
	if (suite != HOP_SUITE_CHACHAPOLY && suite != HOP_SUITE_AESGCM)
		return false;
	return (suites >> suite) & 1u;
}

/*
 * protocol.md §2: the version comes first (a future version may change types
 * and sizes: its packets belong under bad_version), then type, reserved byte,
 * suite and the type's size range (bad_header).
 */
static int check_packet(const uint8_t *buf, size_t len, unsigned suites)
{
	unsigned type;

	if (!buf || len < HOP_HEADER_LEN)
		return -EMSGSIZE;
	if (buf[1] != HOP_VERSION)
		return -EPROTO;
	type = buf[0];
	if (type < HOP_HANDSHAKE_INIT || type > HOP_DATA)
		return -EBADMSG;
	if (buf[3] != 0)
		return -EBADMSG;
	if (!suite_accepted(type, buf[2], suites))
		return -EBADMSG;
	if (len < type_size[type].min || len > type_size[type].max)
		return -EMSGSIZE;
	return (int)type;
}

int hop_classify(const uint8_t *buf, size_t len, unsigned suites)
{
	return check_packet(buf, len, suites);
}

static int check_type(const uint8_t *buf, size_t len, enum hop_type want)
{
	int ret = check_packet(buf, len, HOP_SUITES_ALL);

	if (ret < 0)
		return ret;
	return ret == (int)want ? 0 : -EBADMSG;
}

int hop_init_decode(const uint8_t *buf, size_t len, struct hop_init *out)
{
	int ret = check_type(buf, len, HOP_HANDSHAKE_INIT);

	if (ret < 0)
		return ret;
	out->suite = buf[2];
	out->sender = bytes_get_le32(buf + HOP_INIT_OFF_SENDER);
	out->ephemeral = buf + HOP_INIT_OFF_EPHEMERAL;
	out->enc_static = buf + HOP_INIT_OFF_STATIC;
	out->enc_payload = buf + HOP_INIT_OFF_PAYLOAD;
	/* §2.1: the relay finds the token size T from the packet's length. */
	out->enc_payload_len = hop_mac1_offset(len) - HOP_INIT_OFF_PAYLOAD;
	out->mac1 = buf + hop_mac1_offset(len);
	out->mac2 = buf + hop_mac2_offset(len);
	return 0;
}

int hop_resp_decode(const uint8_t *buf, size_t len, struct hop_resp *out)
{
	int ret = check_type(buf, len, HOP_HANDSHAKE_RESP);

	if (ret < 0)
		return ret;
	out->suite = buf[2];
	out->sender = bytes_get_le32(buf + HOP_RESP_OFF_SENDER);
	out->receiver = bytes_get_le32(buf + HOP_RESP_OFF_RECEIVER);
	out->ephemeral = buf + HOP_RESP_OFF_EPHEMERAL;
	out->enc_empty = buf + HOP_RESP_OFF_EMPTY;
	out->mac1 = buf + HOP_RESP_OFF_MAC1;
	out->mac2 = buf + HOP_RESP_OFF_MAC2;
	return 0;
}

int hop_cookie_reply_decode(const uint8_t *buf, size_t len, struct hop_cookie_reply *out)
{
	int ret = check_type(buf, len, HOP_COOKIE_REPLY);

	if (ret < 0)
		return ret;
	out->suite = buf[2];
	out->receiver = bytes_get_le32(buf + HOP_COOKIE_OFF_RECEIVER);
	out->nonce = buf + HOP_COOKIE_OFF_NONCE;
	out->enc_cookie = buf + HOP_COOKIE_OFF_COOKIE;
	return 0;
}

int hop_data_decode(const uint8_t *buf, size_t len, struct hop_data *out)
{
	int ret = check_type(buf, len, HOP_DATA);

	if (ret < 0)
		return ret;
	out->receiver = bytes_get_le32(buf + HOP_DATA_OFF_RECEIVER);
	out->counter = bytes_get_le64(buf + HOP_DATA_OFF_COUNTER);
	out->ciphertext = buf + HOP_DATA_HEADER_LEN;
	out->ciphertext_len = len - HOP_DATA_HEADER_LEN;
	return 0;
}

static void header_write(uint8_t *buf, enum hop_type type, uint8_t suite)
{
	buf[0] = (uint8_t)type;
	buf[1] = HOP_VERSION;
	buf[2] = suite;
	buf[3] = 0;
}

/* Copy a part to its place; NULL means the caller writes it there itself. */
static void part_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	if (src && src != dst)
		memmove(dst, src, len);
}

static bool handshake_suite(uint8_t suite)
{
	return suite == HOP_SUITE_CHACHAPOLY || suite == HOP_SUITE_AESGCM;
}

int hop_init_encode(uint8_t *buf, size_t cap, const struct hop_init *m)
{
	size_t len;

	if (!handshake_suite(m->suite) ||
	    m->enc_payload_len < HOP_INIT_ENC_PAYLOAD_MIN ||
	    m->enc_payload_len > HOP_INIT_ENC_PAYLOAD_MAX)
		return -EINVAL;
	len = HOP_INIT_OFF_PAYLOAD + m->enc_payload_len + HOP_MACS_LEN;
	if (!buf || cap < len)
		return -EMSGSIZE;
	header_write(buf, HOP_HANDSHAKE_INIT, m->suite);
	bytes_put_le32(buf + HOP_INIT_OFF_SENDER, m->sender);
	part_copy(buf + HOP_INIT_OFF_EPHEMERAL, m->ephemeral, HOP_KEY_LEN);
	part_copy(buf + HOP_INIT_OFF_STATIC, m->enc_static, HOP_INIT_ENC_STATIC_LEN);
	part_copy(buf + HOP_INIT_OFF_PAYLOAD, m->enc_payload, m->enc_payload_len);
	part_copy(buf + hop_mac1_offset(len), m->mac1, HOP_MAC_LEN);
	part_copy(buf + hop_mac2_offset(len), m->mac2, HOP_MAC_LEN);
	return (int)len;
}

int hop_resp_encode(uint8_t *buf, size_t cap, const struct hop_resp *m)
{
	if (!handshake_suite(m->suite))
		return -EINVAL;
	if (!buf || cap < HOP_RESP_LEN)
		return -EMSGSIZE;
	header_write(buf, HOP_HANDSHAKE_RESP, m->suite);
	bytes_put_le32(buf + HOP_RESP_OFF_SENDER, m->sender);
	bytes_put_le32(buf + HOP_RESP_OFF_RECEIVER, m->receiver);
	part_copy(buf + HOP_RESP_OFF_EPHEMERAL, m->ephemeral, HOP_KEY_LEN);
	part_copy(buf + HOP_RESP_OFF_EMPTY, m->enc_empty, HOP_TAG_LEN);
	part_copy(buf + HOP_RESP_OFF_MAC1, m->mac1, HOP_MAC_LEN);
	part_copy(buf + HOP_RESP_OFF_MAC2, m->mac2, HOP_MAC_LEN);
	return HOP_RESP_LEN;
}

int hop_cookie_reply_encode(uint8_t *buf, size_t cap, const struct hop_cookie_reply *m)
{
	if (!handshake_suite(m->suite))
		return -EINVAL;
	if (!buf || cap < HOP_COOKIE_REPLY_LEN)
		return -EMSGSIZE;
	header_write(buf, HOP_COOKIE_REPLY, m->suite);
	bytes_put_le32(buf + HOP_COOKIE_OFF_RECEIVER, m->receiver);
	part_copy(buf + HOP_COOKIE_OFF_NONCE, m->nonce, HOP_COOKIE_NONCE_LEN);
	part_copy(buf + HOP_COOKIE_OFF_COOKIE, m->enc_cookie, HOP_COOKIE_ENC_LEN);
	return HOP_COOKIE_REPLY_LEN;
}

void hop_data_header_write(uint8_t *buf, uint32_t receiver, uint64_t counter)
{
	header_write(buf, HOP_DATA, HOP_SUITE_NONE);
	bytes_put_le32(buf + HOP_DATA_OFF_RECEIVER, receiver);
	bytes_put_le64(buf + HOP_DATA_OFF_COUNTER, counter);
}

int hop_data_encode(uint8_t *buf, size_t cap, const struct hop_data *m)
{
	size_t len;

	if (m->ciphertext_len < HOP_TAG_LEN)
		return -EINVAL;
	if (m->ciphertext_len > HOP_DATA_MAX - HOP_DATA_HEADER_LEN)
		return -EMSGSIZE;
	len = HOP_DATA_HEADER_LEN + m->ciphertext_len;
	if (!buf || cap < len)
		return -EMSGSIZE;
	/* Ciphertext first: it may sit in @buf overlapping the header's place. */
	part_copy(buf + HOP_DATA_HEADER_LEN, m->ciphertext, m->ciphertext_len);
	hop_data_header_write(buf, m->receiver, m->counter);
	return (int)len;
}

int hop_payload_decode(const uint8_t *buf, size_t len, struct hop_payload *out)
{
	if (!buf || len < HOP_PAYLOAD_MIN || len > HOP_PAYLOAD_MAX)
		return -EMSGSIZE;
	/* §2.1: flags bit 0 is NEW_SESSION, other bits and bytes 13..15 are 0. */
	if ((buf[HOP_PAYLOAD_OFF_FLAGS] & ~HOP_PAYLOAD_NEW_SESSION) != 0 ||
	    buf[13] != 0 || buf[14] != 0 || buf[15] != 0)
		return -EBADMSG;
	out->timestamp = buf;
	out->flags = buf[HOP_PAYLOAD_OFF_FLAGS];
	out->token = buf + HOP_PAYLOAD_OFF_TOKEN;
	out->token_len = len - HOP_PAYLOAD_OFF_TOKEN;
	return 0;
}

int hop_payload_encode(uint8_t *buf, size_t cap, const struct hop_payload *p)
{
	size_t len;

	if ((p->flags & ~HOP_PAYLOAD_NEW_SESSION) != 0 ||
	    p->token_len < HOP_TOKEN_MIN || p->token_len > HOP_TOKEN_MAX)
		return -EINVAL;
	len = HOP_PAYLOAD_OFF_TOKEN + p->token_len;
	if (!buf || cap < len)
		return -EMSGSIZE;
	/* Token first: the caller may have built it in place, after the header. */
	part_copy(buf + HOP_PAYLOAD_OFF_TOKEN, p->token, p->token_len);
	part_copy(buf, p->timestamp, HOP_TIMESTAMP_LEN);
	buf[HOP_PAYLOAD_OFF_FLAGS] = p->flags;
	memset(buf + HOP_PAYLOAD_OFF_FLAGS + 1, 0, 3);
	return (int)len;
}

void hop_tai64n_write(uint8_t out[HOP_TIMESTAMP_LEN], uint64_t sec, uint32_t nsec)
{
	/* §2.1: TAI64 label 2^62 + seconds, both halves big-endian. */
	uint64_t label = htobe64((UINT64_C(1) << 62) + sec);
	uint32_t ns = htobe32(nsec);

	memcpy(out, &label, sizeof(label));
	memcpy(out + sizeof(label), &ns, sizeof(ns));
}

const char *hop_type_name(unsigned type)
{
	switch (type) {
	case HOP_HANDSHAKE_INIT:
		return "HANDSHAKE_INIT";
	case HOP_HANDSHAKE_RESP:
		return "HANDSHAKE_RESP";
	case HOP_COOKIE_REPLY:
		return "COOKIE_REPLY";
	case HOP_DATA:
		return "DATA";
	}
	return "unknown";
}
