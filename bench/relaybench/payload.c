/*
 * payload.c — relaybench's E2E payload header and filler (payload.h).
 *
 * The filler is a single repeated byte so that writing and checking it costs
 * a memset and a compare loop, not a keystream: the generator must stay
 * cheaper per packet than the relay it measures.
 */
#include "bench/relaybench/payload.h"

#include <string.h>

#include "wire/bytes.h"

enum {
	OFF_SEQ = 0,
	OFF_SENT = 8,
	OFF_CHANNEL = 16,
	OFF_MSG = 20,
	OFF_CHUNK = 24,
	OFF_CHUNKS = 26,
	OFF_CHECK = 28,
};

static uint32_t check_of(const uint8_t *buf, size_t len)
{
	uint64_t x = bytes_get_le64(buf);

	x ^= bytes_get_le64(buf + 8) * UINT64_C(0x9e3779b97f4a7c15);
	x ^= bytes_get_le64(buf + 16) * UINT64_C(0xbf58476d1ce4e5b9);
	x ^= ((uint64_t)bytes_get_le32(buf + 24) << 17) ^ ((uint64_t)len << 40);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (uint32_t)(x ^ (x >> 31));
}

static uint8_t filler(uint64_t seq)
{
	return (uint8_t)(0xa5 ^ seq ^ (seq >> 8));
}

void payload_write(uint8_t *buf, size_t len, const struct payload_hdr *h)
{
	bytes_put_le64(buf + OFF_SEQ, h->seq);
	bytes_put_le64(buf + OFF_SENT, h->sent_ns);
	bytes_put_le32(buf + OFF_CHANNEL, h->channel);
	bytes_put_le32(buf + OFF_MSG, h->msg);
	bytes_put_le16(buf + OFF_CHUNK, h->chunk);
	bytes_put_le16(buf + OFF_CHUNKS, h->chunks);
	bytes_put_le32(buf + OFF_CHECK, check_of(buf, len));
	memset(buf + PAYLOAD_HEADER_LEN, filler(h->seq), len - PAYLOAD_HEADER_LEN);
}

bool payload_read(const uint8_t *buf, size_t len, struct payload_hdr *h)
{
	uint8_t f;

	if (len < PAYLOAD_HEADER_LEN || bytes_get_le32(buf + OFF_CHECK) != check_of(buf, len))
		return false;
	h->seq = bytes_get_le64(buf + OFF_SEQ);
	h->sent_ns = bytes_get_le64(buf + OFF_SENT);
	h->channel = bytes_get_le32(buf + OFF_CHANNEL);
	h->msg = bytes_get_le32(buf + OFF_MSG);
	h->chunk = bytes_get_le16(buf + OFF_CHUNK);
	h->chunks = bytes_get_le16(buf + OFF_CHUNKS);
	if (h->chunk >= h->chunks)
		return false;
	f = filler(h->seq);
	for (size_t i = PAYLOAD_HEADER_LEN; i < len; i++)
		if (buf[i] != f)
			return false;
	return true;
}
