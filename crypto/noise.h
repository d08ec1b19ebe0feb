/*
 * noise.h — a Noise HandshakeState (Noise spec rev 34 §5.3) for the patterns
 * Postern needs: NN, IK and IKpsk2, with either suite from suite.h.
 *
 * It speaks Noise message bytes only: msg1 of IK is e || enc(s) || enc(payload)
 * and nothing else. Headers, sender/receiver indices and mac1/mac2 belong to
 * the hop wire layer, which sizes its buffers with noise_message_len().
 *
 * Usage, initiator:  init → [set_ephemeral] → write_message → read_message → split
 *        responder:  init → read_message → [remote_static, set_psk, set_ephemeral]
 *                         → write_message → split
 *
 * struct noise_handshake is public so callers can embed it (no malloc); treat
 * its fields as private. A zero-filled struct is a dead handshake: every call
 * on it fails with -EINVAL until noise_handshake_init().
 *
 * Errors, for every int function below:
 *   -EINVAL    wrong role or order (e.g. a responder writing first), a dead
 *              handshake, a missing or unexpected key (including a psk the
 *              next message needs but nobody set), or a low-order public key
 *              (X25519 gave the all-zero secret).
 *   -EBADMSG   a message is malformed (shorter than its fixed part, or longer
 *              than 65535 bytes) or a tag failed to verify.
 *   -EMSGSIZE  @out / @payload is too small, or a message would exceed the
 *              Noise limit of 65535 bytes. Checked before any state changes,
 *              so the call may be repeated with a larger buffer.
 *   -EIO       OpenSSL failed.
 * Misuse (role, order, missing psk) and -EMSGSIZE are refused before any state
 * changes. Any other failure, and any failure of init, kills the handshake:
 * its secrets are wiped and every later call fails with -EINVAL. In
 * particular, after -EBADMSG no keys can be taken from it. (noise_split()
 * on an incomplete handshake also ends it.) An initiator that must outlive a
 * forged response can copy the struct (plain data) before noise_read_message()
 * and fall back to the copy on failure; it must wipe whichever copy it drops.
 *
 * Threads: a handshake belongs to one thread at a time; distinct handshakes
 * may run concurrently.
 * Secrets: ck, k, h, private keys and DH outputs are wiped with
 * OPENSSL_cleanse when the handshake dies, is split or is wiped.
 */
#ifndef POSTERN_CRYPTO_NOISE_H
#define POSTERN_CRYPTO_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

enum noise_pattern {
	NOISE_NN,	/* -> e; <- e, ee */
	NOISE_IK,	/* <- s ...; -> e, es, s, ss; <- e, ee, se */
	NOISE_IKPSK2,	/* as IK, with psk at the end of message 2 */
};

enum {
	NOISE_PSK_LEN = 32,
	NOISE_MAX_MSG_LEN = 65535,	/* rev 34 §3 */
	/* Bytes a message adds to its payload, for the wire layer's buffers. */
	NOISE_IK_MSG1_OVERHEAD = SUITE_DH_LEN + SUITE_DH_LEN + SUITE_TAG_LEN + SUITE_TAG_LEN,
	NOISE_IK_MSG2_OVERHEAD = SUITE_DH_LEN + SUITE_TAG_LEN,
};

struct noise_handshake {
	/* Private: use the functions below. */
	uint8_t ck[SUITE_HASH_LEN];
	uint8_t h[SUITE_HASH_LEN];
	uint8_t k[SUITE_KEY_LEN];
	uint64_t n;
	uint8_t s_priv[SUITE_DH_LEN], s_pub[SUITE_DH_LEN];
	uint8_t e_priv[SUITE_DH_LEN], e_pub[SUITE_DH_LEN];
	uint8_t rs[SUITE_DH_LEN], re[SUITE_DH_LEN];
	uint8_t psk[NOISE_PSK_LEN];
	enum suite_id suite;
	enum noise_pattern pattern;
	uint8_t msg_index;	/* messages processed so far */
	bool usable;		/* false: never initialised, dead, split or wiped */
	bool initiator;
	bool has_k, has_e, has_rs, has_re, has_psk;
	bool e_sent;		/* our "e" token is processed: e is fixed */
};

/* Both directions' transport keys and the handshake hash, from noise_split(). */
struct noise_keys {
	uint8_t send[SUITE_KEY_LEN];	/* encrypts what this side sends, nonce from 0 */
	uint8_t recv[SUITE_KEY_LEN];	/* decrypts what the peer sends, nonce from 0 */
	uint8_t hash[SUITE_HASH_LEN];	/* handshake hash h, for channel binding */
};

/*
 * Start a handshake: InitializeSymmetric(protocol name), MixHash(prologue),
 * then the pattern's pre-messages.
 * @s_priv     this side's static private key: required for IK/IKpsk2 (both
 *             roles), must be NULL for NN.
 * @rs_pub     the responder's static public key: required for the IK/IKpsk2
 *             initiator, NULL otherwise (the responder learns the initiator's
 *             from message 1).
 * @psk        IKpsk2 only (NULL otherwise); may also be NULL at init and given
 *             later with noise_handshake_set_psk(), e.g. once the responder
 *             knows who the initiator is.
 * @prologue   may be NULL when @prologue_len is 0. Nothing is kept that
 *             points into the caller's buffers.
 * @return 0, -EINVAL or -EIO. On error @hs is dead (wiped).
 */
int noise_handshake_init(struct noise_handshake *hs, enum suite_id suite,
			 enum noise_pattern pattern, bool initiator,
			 const uint8_t *prologue, size_t prologue_len,
			 const uint8_t *s_priv, const uint8_t *rs_pub, const uint8_t *psk);

/*
 * noise_handshake_init() for a caller that already holds its static public
 * key @s_pub (= X25519 public of @s_priv), e.g. a relay answering many
 * handshakes with one key: it skips the scalar multiplication that derives
 * it. @s_pub is not checked; a wrong one makes the peer's tags fail. NULL
 * @s_pub is noise_handshake_init(); a non-NULL @s_pub needs @s_priv.
 * @return as noise_handshake_init().
 */
int noise_handshake_init_pub(struct noise_handshake *hs, enum suite_id suite,
			     enum noise_pattern pattern, bool initiator,
			     const uint8_t *prologue, size_t prologue_len,
			     const uint8_t *s_priv, const uint8_t *s_pub,
			     const uint8_t *rs_pub, const uint8_t *psk);

/*
 * Use @e_priv as this side's ephemeral key instead of RAND_priv_bytes().
 * Meant for test vectors; must come before this side writes its "e".
 * @return 0, -EINVAL (dead, or e already sent) or -EIO.
 */
int noise_handshake_set_ephemeral(struct noise_handshake *hs, const uint8_t e_priv[SUITE_DH_LEN]);

/*
 * Set (or replace) the pre-shared key of an IKpsk2 handshake. Must come
 * before the "psk" token is processed (the responder's write or the
 * initiator's read of message 2).
 * @return 0 or -EINVAL (not IKpsk2, dead, or psk already used).
 */
int noise_handshake_set_psk(struct noise_handshake *hs, const uint8_t psk[NOISE_PSK_LEN]);

/*
 * Write the next handshake message with @payload (may be NULL if @len is 0)
 * into @out (@cap bytes); *@out_len gets its length, which is
 * noise_message_len(pattern, index, len). @payload and @out must not overlap.
 * @return 0, -EINVAL, -EMSGSIZE or -EIO.
 */
int noise_write_message(struct noise_handshake *hs, const uint8_t *payload, size_t len,
			uint8_t *out, size_t cap, size_t *out_len);

/*
 * Read the next handshake message @msg (@len bytes) and write its decrypted
 * payload to @payload (@cap bytes; may be NULL if @cap is 0); *@payload_len
 * gets its length. @msg and @payload must not overlap.
 * @return 0, -EINVAL, -EBADMSG, -EMSGSIZE or -EIO.
 */
int noise_read_message(struct noise_handshake *hs, const uint8_t *msg, size_t len,
		       uint8_t *payload, size_t cap, size_t *payload_len);

/* @return true when every message of the pattern has been written or read. */
bool noise_handshake_is_complete(const struct noise_handshake *hs);

/*
 * @return the peer's static public key (SUITE_DH_LEN bytes), or NULL when it
 * is not known yet or the handshake is dead. An IK initiator knows it from
 * init; an IK responder right after reading message 1 (authenticated by the
 * ss-keyed payload tag), which lets the relay check a token bound to it
 * before it answers. The pointer is into @hs: copy it before noise_split().
 */
const uint8_t *noise_remote_static(const struct noise_handshake *hs);

/*
 * Split() (rev 34 §5.2): derive the transport keys of a complete handshake
 * into @out and wipe @hs. Transport nonces start at 0 in each direction.
 * @return 0, -EINVAL (not complete, or dead) or -EIO. On error @out is zeroed
 * and @hs is wiped as well. The caller wipes @out when done with it.
 */
int noise_split(struct noise_handshake *hs, struct noise_keys *out);

/* Wipe every secret in @hs and make it dead. Safe on a dead or zeroed handshake. */
void noise_handshake_wipe(struct noise_handshake *hs);

/*
 * @return the length of handshake message @index (0-based) of @pattern when
 * it carries @payload_len bytes of payload, or 0 if the pattern has no such
 * message or @payload_len exceeds NOISE_MAX_MSG_LEN.
 * IK/IKpsk2: msg 0 = 96 + payload, msg 1 = 48 + payload.
 * NN: msg 0 = 32 + payload (no key yet, so no tag), msg 1 = 48 + payload.
 */
size_t noise_message_len(enum noise_pattern pattern, unsigned index, size_t payload_len);

#endif /* POSTERN_CRYPTO_NOISE_H */
