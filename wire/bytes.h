/*
 * bytes.h — little-endian loads and stores at any alignment, for the wire
 * codecs (protocol.md §1: every integer on the wire is little-endian).
 *
 * memcpy through a local keeps the access legal at any alignment (a packet
 * header inside an mbuf is rarely 8-byte aligned) and compiles to one plain
 * load or store on x86-64 and arm64; le*toh/htole* are no-ops there.
 *
 * Every function is static inline, pure and thread-safe. The caller has
 * already checked that the 2, 4 or 8 bytes at @p lie inside its buffer.
 */
#ifndef POSTERN_WIRE_BYTES_H
#define POSTERN_WIRE_BYTES_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t bytes_get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t bytes_get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t bytes_get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void bytes_put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void bytes_put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void bytes_put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

#endif /* POSTERN_WIRE_BYTES_H */
