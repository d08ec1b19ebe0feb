/*
 * payload.h — the E2E bytes relaybench puts in each CHANNEL_DATA: a header
 * the echo brings back unchanged, then filler.
 *
 *	offset  size  field
 *	 0      8     seq        per-channel packet sequence, from 0
 *	 8      8     sent_ns    the agent's monotonic clock when sent
 *	16      4     channel    the agent's channel id (catches mis-splicing)
 *	20      4     msg        per-channel message number (low 32 bits)
 *	24      2     chunk      this chunk's index in its message
 *	26      2     chunks     how many chunks the message has
 *	28      4     check      a hash of bytes 0..27 and the length
 *	32      ...   filler     one byte value derived from seq, repeated
 *
 * All little-endian. The relay never reads these bytes (they stand for QUIC
 * ciphertext); the agent reads them back from the echo to measure round
 * trips, loss, reordering and corruption.
 *
 * Threads: pure functions.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_PAYLOAD_H
#define POSTERN_BENCH_RELAYBENCH_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PAYLOAD_HEADER_LEN = 32,
};

struct payload_hdr {
	uint64_t seq;
	uint64_t sent_ns;
	uint32_t channel;
	uint32_t msg;
	uint16_t chunk;
	uint16_t chunks;
};

/* Write @h and the filler into @len (>= PAYLOAD_HEADER_LEN) bytes at @buf. */
void payload_write(uint8_t *buf, size_t len, const struct payload_hdr *h);

/*
 * Read back @len bytes at @buf into *@h.
 * @return false if they are shorter than the header, the check does not
 * match, a filler byte is wrong, or chunk >= chunks.
 */
bool payload_read(const uint8_t *buf, size_t len, struct payload_hdr *h);

#endif /* POSTERN_BENCH_RELAYBENCH_PAYLOAD_H */
