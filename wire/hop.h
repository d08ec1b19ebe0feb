/*
 * hop.h — byte layouts of the four hop packets (protocol.md §2): HANDSHAKE_INIT,
 * HANDSHAKE_RESP, COOKIE_REPLY and DATA, plus the plaintext handshake payload
 * carried encrypted inside an INIT (§2.1).
 *
 * No crypto here and no dependency: this module knows offsets and sizes only.
 * Noise (crypto/noise.h) reads and writes the encrypted parts, cookie.c the
 * MACs, aead.h the DATA ciphertext; all of them find their bytes through the
 * offsets and decoded pointers below.
 *
 * Receive path (the relay):
 *
 *	t = hop_classify(pkt, len, accepted_suites);	  // first, on every packet
 *	if (t < 0) drop(t == -EPROTO ? bad_version : bad_header);
 *	switch (t) { case HOP_DATA: hop_data_decode(pkt, len, &d); ... }
 *
 * Decoders are zero-copy: they fill a small struct of values and pointers
 * into the caller's buffer, valid as long as that buffer is. Each decoder
 * repeats the checks of hop_classify() for its type (with every suite
 * accepted), so it is safe on its own; the configured-suite policy is
 * hop_classify()'s job.
 *
 * Send path: each message has one encoder, hop_<msg>_encode(buf, cap, msg),
 * which writes the fixed fields and copies the parts msg points at, returning
 * the packet's length. A part pointer may be NULL: the encoder then leaves
 * those bytes alone and the caller writes them itself at the exported offset
 * (Noise writes straight into the packet, the MACs are computed last over
 * packet[0 .. hop_mac1_offset(len)]). A part may also sit at its own place in
 * @buf already (nothing is copied) or outside the packet's bytes; the DATA
 * ciphertext and the payload's token may be anywhere (memmove). For the DATA
 * fast path (decrypt in place, translate, re-seal in place)
 * hop_data_header_write() rewrites just the 16-byte header, which is the
 * AEAD's associated data.
 *
 * Errors (every int function; the drop reason is protocol.md §2 / §9):
 *	-EPROTO    version byte is not HOP_VERSION              → bad_version
 *	-EBADMSG   unknown type, reserved byte not 0, suite not
 *	           accepted for the type, malformed payload      → bad_header
 *	-EMSGSIZE  shorter than a header, or length outside the
 *	           type's range (e.g. DATA above HOP_MTU)         → bad_header
 *	           (encoders: @cap too small, or the message would
 *	           exceed its maximum size)
 *	-EINVAL    encoders only: a field the spec forbids (bad suite, too
 *	           short a part)
 * The version is checked before the type, sizes and suite, because a future
 * version may define other types and sizes: counting its packets under
 * bad_version tells an operator what is going on.
 *
 * Threads: every function is reentrant; no state, no allocation.
 */
#ifndef POSTERN_WIRE_HOP_H
#define POSTERN_WIRE_HOP_H

#include <stddef.h>
#include <stdint.h>

enum hop_type {
	HOP_HANDSHAKE_INIT = 1,
	HOP_HANDSHAKE_RESP = 2,
	HOP_COOKIE_REPLY = 3,
	HOP_DATA = 4,
};

/* Suite byte values (protocol.md §3.1); the same numbers as crypto/suite.h. */
enum {
	HOP_SUITE_NONE = 0,		/* DATA */
	HOP_SUITE_CHACHAPOLY = 1,	/* Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s */
	HOP_SUITE_AESGCM = 2,		/* Noise_IKpsk2_25519_AESGCM_SHA256 */
};

/* Bit masks of accepted suites for hop_classify(): bit n accepts suite n. */
enum {
	HOP_SUITES_CHACHAPOLY = 1u << HOP_SUITE_CHACHAPOLY,
	HOP_SUITES_AESGCM = 1u << HOP_SUITE_AESGCM,
	HOP_SUITES_ALL = HOP_SUITES_CHACHAPOLY | HOP_SUITES_AESGCM,
};

enum {
	HOP_VERSION = 1,
	HOP_HEADER_LEN = 4,		/* type, version, suite, reserved */
	HOP_INDEX_LEN = 4,
	HOP_KEY_LEN = 32,		/* X25519 public key */
	HOP_TAG_LEN = 16,		/* AEAD tag */
	HOP_MAC_LEN = 16,
	HOP_MACS_LEN = 2 * HOP_MAC_LEN,	/* mac1 || mac2, the last bytes of INIT and RESP */
	HOP_MTU = 1452,			/* §2.5: largest packet sent or accepted */
	HOP_MTU_MIN = 1240,		/* §2.5: smallest hop MTU a deployment may configure */

	/* §6: token size, the T of §2.1. */
	HOP_TOKEN_MIN = 145,
	HOP_TOKEN_MAX = 717,

	/* §2.1 HANDSHAKE_INIT: 152 + T bytes. */
	HOP_INIT_OFF_SENDER = 4,
	HOP_INIT_OFF_EPHEMERAL = 8,	/* the Noise message starts here */
	HOP_INIT_OFF_STATIC = 40,
	HOP_INIT_OFF_PAYLOAD = 88,
	HOP_INIT_ENC_STATIC_LEN = HOP_KEY_LEN + HOP_TAG_LEN,		/* 48 */
	HOP_INIT_OVERHEAD = 152,	/* everything but the token */
	HOP_INIT_MIN = HOP_INIT_OVERHEAD + HOP_TOKEN_MIN,		/* 297 */
	HOP_INIT_MAX = HOP_INIT_OVERHEAD + HOP_TOKEN_MAX,		/* 869 */

	/* §2.1 handshake payload (plaintext inside enc_payload). */
	HOP_TIMESTAMP_LEN = 12,		/* TAI64N */
	HOP_PAYLOAD_OFF_FLAGS = 12,
	HOP_PAYLOAD_OFF_TOKEN = 16,
	HOP_PAYLOAD_MIN = HOP_PAYLOAD_OFF_TOKEN + HOP_TOKEN_MIN,	/* 161 */
	HOP_PAYLOAD_MAX = HOP_PAYLOAD_OFF_TOKEN + HOP_TOKEN_MAX,	/* 733 */
	HOP_INIT_ENC_PAYLOAD_MIN = HOP_PAYLOAD_MIN + HOP_TAG_LEN,	/* 177 */
	HOP_INIT_ENC_PAYLOAD_MAX = HOP_PAYLOAD_MAX + HOP_TAG_LEN,	/* 749 */
	HOP_PAYLOAD_NEW_SESSION = 1u << 0,	/* flags bit 0; other bits are 0 */

	/* §2.2 HANDSHAKE_RESP. */
	HOP_RESP_OFF_SENDER = 4,
	HOP_RESP_OFF_RECEIVER = 8,
	HOP_RESP_OFF_EPHEMERAL = 12,	/* the Noise message starts here */
	HOP_RESP_OFF_EMPTY = 44,
	HOP_RESP_OFF_MAC1 = 60,
	HOP_RESP_OFF_MAC2 = 76,
	HOP_RESP_NOISE_LEN = HOP_KEY_LEN + HOP_TAG_LEN,			/* 48 */
	HOP_RESP_LEN = 92,

	/* §2.3 COOKIE_REPLY. */
	HOP_COOKIE_OFF_RECEIVER = 4,
	HOP_COOKIE_OFF_NONCE = 8,
	HOP_COOKIE_OFF_COOKIE = 32,
	HOP_COOKIE_NONCE_LEN = 24,
	HOP_COOKIE_LEN = 16,
	HOP_COOKIE_ENC_LEN = HOP_COOKIE_LEN + HOP_TAG_LEN,		/* 32 */
	HOP_COOKIE_REPLY_LEN = 64,

	/* §2.4 DATA: header (the AEAD's associated data), then n + 16 bytes. */
	HOP_DATA_OFF_RECEIVER = 4,
	HOP_DATA_OFF_COUNTER = 8,
	HOP_DATA_HEADER_LEN = 16,
	HOP_DATA_MIN = HOP_DATA_HEADER_LEN + HOP_TAG_LEN,		/* 32 */
	HOP_DATA_MAX = HOP_MTU,
	HOP_DATA_PLAINTEXT_MAX = HOP_DATA_MAX - HOP_DATA_MIN,		/* 1420 frame bytes */
};

/* §2.1. The Noise message is ephemeral .. mac1, see hop_init_noise_len(). */
struct hop_init {
	uint8_t suite;
	uint32_t sender;
	const uint8_t *ephemeral;	/* HOP_KEY_LEN bytes */
	const uint8_t *enc_static;	/* HOP_INIT_ENC_STATIC_LEN bytes */
	const uint8_t *enc_payload;	/* enc_payload_len bytes */
	size_t enc_payload_len;		/* HOP_INIT_ENC_PAYLOAD_MIN..MAX */
	const uint8_t *mac1, *mac2;	/* HOP_MAC_LEN bytes each */
};

/* §2.2. The Noise message is ephemeral .. mac1, HOP_RESP_NOISE_LEN bytes. */
struct hop_resp {
	uint8_t suite;
	uint32_t sender;
	uint32_t receiver;
	const uint8_t *ephemeral;	/* HOP_KEY_LEN bytes */
	const uint8_t *enc_empty;	/* HOP_TAG_LEN bytes */
	const uint8_t *mac1, *mac2;	/* HOP_MAC_LEN bytes each */
};

/* §2.3 */
struct hop_cookie_reply {
	uint8_t suite;
	uint32_t receiver;
	const uint8_t *nonce;		/* HOP_COOKIE_NONCE_LEN bytes */
	const uint8_t *enc_cookie;	/* HOP_COOKIE_ENC_LEN bytes */
};

/* §2.4. The header (packet bytes 0..15) is the AEAD's associated data. */
struct hop_data {
	uint32_t receiver;
	uint64_t counter;
	const uint8_t *ciphertext;	/* frames, sealed, then the tag */
	size_t ciphertext_len;		/* HOP_TAG_LEN..HOP_MTU - HOP_DATA_HEADER_LEN */
};

/* §2.1 handshake payload, after Noise decrypted it. */
struct hop_payload {
	const uint8_t *timestamp;	/* HOP_TIMESTAMP_LEN bytes, TAI64N, big-endian */
	uint8_t flags;			/* HOP_PAYLOAD_NEW_SESSION or 0 */
	const uint8_t *token;		/* token_len bytes, parsed by crypto/token.c */
	size_t token_len;		/* HOP_TOKEN_MIN..HOP_TOKEN_MAX */
};

/*
 * Offsets of mac1 and mac2 in an INIT or RESP of @len bytes (≥ HOP_MACS_LEN):
 * mac1 = MAC(key, packet[0 .. hop_mac1_offset(len)]), mac2 likewise (§5.1).
 */
static inline size_t hop_mac1_offset(size_t len)
{
	return len - HOP_MACS_LEN;
}

static inline size_t hop_mac2_offset(size_t len)
{
	return len - HOP_MAC_LEN;
}

/* Length of an INIT's Noise message (e, enc s, enc payload), starting at ephemeral. */
static inline size_t hop_init_noise_len(const struct hop_init *m)
{
	return HOP_KEY_LEN + HOP_INIT_ENC_STATIC_LEN + m->enc_payload_len;
}

/*
 * Classify a received packet: check the 4-byte header and the size range of
 * its type. Call it first on every packet; it reads only @buf[0..3].
 * @suites: the HOP_SUITES_* mask of handshake suites this node accepts
 * (INIT, RESP and COOKIE_REPLY must carry one of them; DATA must carry 0).
 * @return the enum hop_type, or -EPROTO / -EBADMSG / -EMSGSIZE as above.
 */
int hop_classify(const uint8_t *buf, size_t len, unsigned suites);

/*
 * Decoders: check @buf as hop_classify(buf, len, HOP_SUITES_ALL) does, for
 * their own type only, then fill *@out with pointers into @buf.
 * @return 0, or -EPROTO / -EBADMSG / -EMSGSIZE; -EBADMSG also when @buf holds
 * another type. On error *@out is unspecified.
 */
int hop_init_decode(const uint8_t *buf, size_t len, struct hop_init *out);
int hop_resp_decode(const uint8_t *buf, size_t len, struct hop_resp *out);
int hop_cookie_reply_decode(const uint8_t *buf, size_t len, struct hop_cookie_reply *out);
int hop_data_decode(const uint8_t *buf, size_t len, struct hop_data *out);

/*
 * Encoders: write @m into @buf (capacity @cap) as described at the top; NULL
 * part pointers are left for the caller to fill.
 * @return the packet's length (INIT: HOP_INIT_OFF_PAYLOAD + enc_payload_len +
 * HOP_MACS_LEN; RESP, COOKIE_REPLY: their fixed length; DATA:
 * HOP_DATA_HEADER_LEN + ciphertext_len), or -EINVAL (suite not 1 or 2; INIT
 * enc_payload_len out of range; DATA ciphertext shorter than a tag), or
 * -EMSGSIZE (@cap too small; DATA longer than HOP_MTU).
 */
int hop_init_encode(uint8_t *buf, size_t cap, const struct hop_init *m);
int hop_resp_encode(uint8_t *buf, size_t cap, const struct hop_resp *m);
int hop_cookie_reply_encode(uint8_t *buf, size_t cap, const struct hop_cookie_reply *m);
int hop_data_encode(uint8_t *buf, size_t cap, const struct hop_data *m);

/*
 * Fast path: write the 16-byte DATA header (type 4, version 1, 0, 0,
 * @receiver, @counter) at @buf, which must have HOP_DATA_HEADER_LEN bytes.
 * Seal the frames after it with these 16 bytes as associated data.
 */
void hop_data_header_write(uint8_t *buf, uint32_t receiver, uint64_t counter);

/*
 * The handshake payload of §2.1 (INIT plaintext): decode checks the flags
 * (only NEW_SESSION may be set), the 3 reserved bytes (0) and the token size
 * (HOP_TOKEN_MIN..MAX, the rest of @buf); the token itself is crypto/token.c's.
 * A relay counts a malformed payload as `bad_handshake` (§3.4 step 4): it
 * arrived under a valid Noise tag, so the initiator built it wrong.
 * @return 0 or -EBADMSG (bad flags/reserved) or -EMSGSIZE (bad length).
 * Encode: @return the payload length (16 + token_len), -EINVAL (unknown flag
 * bits, token size out of range) or -EMSGSIZE (@cap too small). A NULL
 * timestamp or token is left for the caller to write, as for packets.
 */
int hop_payload_decode(const uint8_t *buf, size_t len, struct hop_payload *out);
int hop_payload_encode(uint8_t *buf, size_t cap, const struct hop_payload *p);

/*
 * Write the TAI64N label of Unix time @sec + @nsec ns into @out (§2.1:
 * 8-byte big-endian 2^62 + seconds, then 4-byte big-endian nanoseconds).
 * Later times give bytewise-greater labels, so the relay's replay check
 * (§3.4 step 5) is memcmp(new, last, HOP_TIMESTAMP_LEN) > 0.
 */
void hop_tai64n_write(uint8_t out[HOP_TIMESTAMP_LEN], uint64_t sec, uint32_t nsec);

/* @return "HANDSHAKE_INIT", ..., "DATA", or "unknown". */
const char *hop_type_name(unsigned type);

#endif /* POSTERN_WIRE_HOP_H */
