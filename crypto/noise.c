/*
 * noise.c — Noise HandshakeState (Noise spec rev 34 §5) for NN, IK, IKpsk2.
 *
 * States of a struct noise_handshake:
 *   dead        usable == false: zero-filled, failed, split or wiped
 *   running     msg_index < nmsg: message msg_index is next; the initiator
 *               writes the even ones, the responder the odd ones
 *   complete    msg_index == nmsg: only noise_split() (or wipe) remains
 * Triggers: init → running; write/read of the expected message → next
 * message or complete; any failure while a message is half processed →
 * dead (h and ck are then inconsistent, so nothing may continue); split →
 * dead.
 *
 * The SymmetricState and CipherState of §5.1–§5.2 are folded into the
 * handshake: ck, h, and k/n, with has_k == false meaning "k is empty".
 */
#include "crypto/noise.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

enum token { TOK_END = 0, TOK_E, TOK_S, TOK_EE, TOK_ES, TOK_SE, TOK_SS, TOK_PSK };

enum { MAX_TOKENS = 5, NMSG = 2 };

static const struct pattern {
	const char *name;
	bool statics;	/* both sides have a static key; the responder's is pre-known */
	bool psk;	/* psk modifier: "e" also does MixKey(e) (rev 34 §9.2) */
	uint8_t tokens[NMSG][MAX_TOKENS];
} patterns[] = {
	[NOISE_NN] = { "NN", false, false, {
		{ TOK_E },
		{ TOK_E, TOK_EE },
	} },
	[NOISE_IK] = { "IK", true, false, {
		{ TOK_E, TOK_ES, TOK_S, TOK_SS },
		{ TOK_E, TOK_EE, TOK_SE },
	} },
	[NOISE_IKPSK2] = { "IKpsk2", true, true, {
		{ TOK_E, TOK_ES, TOK_S, TOK_SS },
		{ TOK_E, TOK_EE, TOK_SE, TOK_PSK },
	} },
};

static const struct pattern *pattern_get(enum noise_pattern p)
{
	return (unsigned)p < sizeof(patterns) / sizeof(patterns[0]) ? &patterns[p] : NULL;
}

static bool sent_by_us(const struct noise_handshake *hs, unsigned index)
{
	return (index % 2 == 0) == hs->initiator;
}

/*
 * Can message msg_index be processed now, in this direction? A missing psk is
 * a caller's omission, caught here before any state changes rather than as a
 * failure half-way through the message.
 */
static bool may_process(const struct noise_handshake *hs, bool writing)
{
	const struct pattern *p;

	if (!hs->usable || hs->msg_index >= NMSG || sent_by_us(hs, hs->msg_index) != writing)
		return false;
	p = &patterns[hs->pattern];
	for (int i = 0; i < MAX_TOKENS; i++)
		if (p->tokens[hs->msg_index][i] == TOK_PSK && !hs->has_psk)
			return false;
	return true;
}

size_t noise_message_len(enum noise_pattern pattern, unsigned index, size_t payload_len)
{
	const struct pattern *p = pattern_get(pattern);
	bool has_k = false;
	size_t len = 0;

	if (!p || index >= NMSG || payload_len > NOISE_MAX_MSG_LEN)
		return 0;
	/* Replay the key schedule: a field carries a tag once k is non-empty. */
	for (unsigned m = 0; m <= index; m++) {
		for (int i = 0; i < MAX_TOKENS && p->tokens[m][i] != TOK_END; i++) {
			switch (p->tokens[m][i]) {
			case TOK_E:
				if (m == index)
					len += SUITE_DH_LEN;
				has_k |= p->psk;
				break;
			case TOK_S:
				if (m == index)
					len += SUITE_DH_LEN + (has_k ? SUITE_TAG_LEN : 0);
				break;
			default:
				has_k = true;
				break;
			}
		}
	}
	return len + payload_len + (has_k ? SUITE_TAG_LEN : 0);
}

/* --- SymmetricState, rev 34 §5.2 --- */

static int mix_hash(struct noise_handshake *hs, const uint8_t *data, size_t len)
{
	return suite_hash2(hs->suite, hs->h, sizeof(hs->h), data, len, hs->h);
}

static int mix_key(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	/* ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k) resets n. */
	hs->has_k = true;
	hs->n = 0;
	return suite_hkdf(hs->suite, hs->ck, ikm, len, 2, hs->ck, hs->k, NULL);
}

static int mix_key_and_hash(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[SUITE_HASH_LEN];
	int ret;

	hs->has_k = true;
	hs->n = 0;
	ret = suite_hkdf(hs->suite, hs->ck, ikm, len, 3, hs->ck, temp_h, hs->k);
	if (!ret)
		ret = mix_hash(hs, temp_h, sizeof(temp_h));
	OPENSSL_cleanse(temp_h, sizeof(temp_h));
	return ret;
}

/* Writes @len (+ SUITE_TAG_LEN once k is set) bytes to @out. */
static int encrypt_and_hash(struct noise_handshake *hs, const uint8_t *in, size_t len,
			    uint8_t *out)
{
	int ret;

	if (!hs->has_k) {
		if (len)
			memcpy(out, in, len);
	} else {
		ret = suite_seal(hs->suite, hs->k, hs->n, hs->h, sizeof(hs->h), in, len, out);
		if (ret)
			return ret;
		/* Handshake messages use a handful of nonces; 2^64-1 is unreachable. */
		hs->n++;
		len += SUITE_TAG_LEN;
	}
	return mix_hash(hs, out, len);
}

/* Reads @len bytes (tag included once k is set) and writes the plaintext to @out. */
static int decrypt_and_hash(struct noise_handshake *hs, const uint8_t *in, size_t len,
			    uint8_t *out)
{
	uint8_t h_next[SUITE_HASH_LEN];
	int ret;

	if (!hs->has_k) {
		if (len)
			memcpy(out, in, len);
		return mix_hash(hs, in, len);
	}
	/* The ad is the h before this ciphertext; the next h hashes the ciphertext. */
	ret = suite_hash2(hs->suite, hs->h, sizeof(hs->h), in, len, h_next);
	if (ret)
		return ret;
	if (!suite_open(hs->suite, hs->k, hs->n, hs->h, sizeof(hs->h), in, len, out))
		return -EBADMSG;
	hs->n++;
	memcpy(hs->h, h_next, sizeof(hs->h));
	return 0;
}

/* --- HandshakeState, rev 34 §5.3 --- */

static int dh_token(struct noise_handshake *hs, enum token tok)
{
	/* In "es", e is the initiator's key and s the responder's (rev 34 §7.1). */
	bool init_e = tok == TOK_EE || tok == TOK_ES;
	bool resp_e = tok == TOK_EE || tok == TOK_SE;
	bool our_e = hs->initiator ? init_e : resp_e;
	bool their_e = hs->initiator ? resp_e : init_e;
	uint8_t dh[SUITE_DH_LEN];
	int ret;

	/* Our static key is there whenever the pattern has one (init checks). */
	if ((our_e && !hs->has_e) || (their_e ? !hs->has_re : !hs->has_rs))
		return -EINVAL;
	ret = suite_dh_keypair(our_e ? hs->e_priv : hs->s_priv, our_e ? hs->e_pub : hs->s_pub,
			       their_e ? hs->re : hs->rs, dh);
	if (!ret)
		ret = mix_key(hs, dh, sizeof(dh));
	OPENSSL_cleanse(dh, sizeof(dh));
	return ret;
}

static int psk_token(struct noise_handshake *hs)
{
	if (!hs->has_psk)
		return -EINVAL;
	return mix_key_and_hash(hs, hs->psk, sizeof(hs->psk));
}

/* Failure in the middle of a message: h/ck are half-updated, so nothing may continue. */
static int abandon(struct noise_handshake *hs, int err)
{
	noise_handshake_wipe(hs);
	return err;
}

void noise_handshake_wipe(struct noise_handshake *hs)
{
	/* Zero is the dead state: usable == false. */
	OPENSSL_cleanse(hs, sizeof(*hs));
}

int noise_handshake_init(struct noise_handshake *hs, enum suite_id suite,
			 enum noise_pattern pattern, bool initiator,
			 const uint8_t *prologue, size_t prologue_len,
			 const uint8_t *s_priv, const uint8_t *rs_pub, const uint8_t *psk)
{
	return noise_handshake_init_pub(hs, suite, pattern, initiator, prologue, prologue_len,
					s_priv, NULL, rs_pub, psk);
}

int noise_handshake_init_pub(struct noise_handshake *hs, enum suite_id suite,
			     enum noise_pattern pattern, bool initiator,
			     const uint8_t *prologue, size_t prologue_len,
			     const uint8_t *s_priv, const uint8_t *s_pub,
			     const uint8_t *rs_pub, const uint8_t *psk)
{
	const struct pattern *p = pattern_get(pattern);
	char name[64];
	int ret, len;

	noise_handshake_wipe(hs);
	if (!p || !suite_is_valid(suite) || (prologue_len && !prologue))
		return -EINVAL;
	/* Keys must match the pattern: a surplus key is as much a caller bug as a missing one. */
	if (p->statics ? !s_priv : s_priv != NULL)
		return -EINVAL;
	if ((p->statics && initiator) ? !rs_pub : rs_pub != NULL)
		return -EINVAL;
	if (psk && !p->psk)
		return -EINVAL;
	if (s_pub && !s_priv)
		return -EINVAL;

	hs->suite = suite;
	hs->pattern = pattern;
	hs->initiator = initiator;

	/* InitializeSymmetric(protocol_name), rev 34 §5.2. */
	len = snprintf(name, sizeof(name), "Noise_%s_%s", p->name, suite_name(suite));
	if (len < 0 || (size_t)len >= sizeof(name))
		return -EINVAL;
	if ((size_t)len <= sizeof(hs->h)) {
		memcpy(hs->h, name, (size_t)len);
	} else {
		ret = suite_hash2(suite, (const uint8_t *)name, (size_t)len, NULL, 0, hs->h);
		if (ret)
			return abandon(hs, ret);
	}
	memcpy(hs->ck, hs->h, sizeof(hs->ck));

	ret = mix_hash(hs, prologue, prologue_len);
	if (ret)
		return abandon(hs, ret);

	if (s_priv) {
		memcpy(hs->s_priv, s_priv, SUITE_DH_LEN);
		/* A caller that holds its public key saves one X25519 per handshake. */
		ret = 0;
		if (s_pub)
			memcpy(hs->s_pub, s_pub, SUITE_DH_LEN);
		else
			ret = suite_dh_public(hs->s_priv, hs->s_pub);
		if (ret)
			return abandon(hs, ret);
	}
	if (rs_pub) {
		memcpy(hs->rs, rs_pub, SUITE_DH_LEN);
		hs->has_rs = true;
	}
	if (psk) {
		memcpy(hs->psk, psk, NOISE_PSK_LEN);
		hs->has_psk = true;
	}

	/* Pre-message "<- s": both sides hash the responder's static key. */
	if (p->statics) {
		ret = mix_hash(hs, initiator ? hs->rs : hs->s_pub, SUITE_DH_LEN);
		if (ret)
			return abandon(hs, ret);
	}
	hs->usable = true;
	return 0;
}

int noise_handshake_set_ephemeral(struct noise_handshake *hs, const uint8_t e_priv[SUITE_DH_LEN])
{
	int ret;

	if (!hs->usable || hs->e_sent)
		return -EINVAL;
	memcpy(hs->e_priv, e_priv, SUITE_DH_LEN);
	ret = suite_dh_public(hs->e_priv, hs->e_pub);
	if (ret) {
		OPENSSL_cleanse(hs->e_priv, sizeof(hs->e_priv));
		hs->has_e = false;
		return ret;
	}
	hs->has_e = true;
	return 0;
}

int noise_handshake_set_psk(struct noise_handshake *hs, const uint8_t psk[NOISE_PSK_LEN])
{
	if (!hs->usable || !patterns[hs->pattern].psk || noise_handshake_is_complete(hs))
		return -EINVAL;
	memcpy(hs->psk, psk, NOISE_PSK_LEN);
	hs->has_psk = true;
	return 0;
}

static int write_token(struct noise_handshake *hs, enum token tok, uint8_t *out, size_t *off)
{
	int ret;

	switch (tok) {
	case TOK_E:
		if (!hs->has_e) {
			uint8_t e_priv[SUITE_DH_LEN];

			if (RAND_priv_bytes(e_priv, sizeof(e_priv)) != 1)
				return -EIO;
			ret = noise_handshake_set_ephemeral(hs, e_priv);
			OPENSSL_cleanse(e_priv, sizeof(e_priv));
			if (ret)
				return ret;
		}
		hs->e_sent = true;
		memcpy(out + *off, hs->e_pub, SUITE_DH_LEN);
		*off += SUITE_DH_LEN;
		ret = mix_hash(hs, hs->e_pub, SUITE_DH_LEN);
		if (!ret && patterns[hs->pattern].psk)
			ret = mix_key(hs, hs->e_pub, SUITE_DH_LEN);
		return ret;
	case TOK_S: {
		size_t n = SUITE_DH_LEN + (hs->has_k ? SUITE_TAG_LEN : 0);

		ret = encrypt_and_hash(hs, hs->s_pub, SUITE_DH_LEN, out + *off);
		*off += n;
		return ret;
	}
	case TOK_PSK:
		return psk_token(hs);
	default:
		return dh_token(hs, tok);
	}
}

int noise_write_message(struct noise_handshake *hs, const uint8_t *payload, size_t len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	const struct pattern *p;
	size_t need, off = 0;
	int ret;

	*out_len = 0;
	if (!may_process(hs, true) || (len && !payload))
		return -EINVAL;
	p = &patterns[hs->pattern];
	need = noise_message_len(hs->pattern, hs->msg_index, len);
	if (need == 0 || need > NOISE_MAX_MSG_LEN || need > cap)
		return -EMSGSIZE;

	for (int i = 0; i < MAX_TOKENS && p->tokens[hs->msg_index][i] != TOK_END; i++) {
		ret = write_token(hs, p->tokens[hs->msg_index][i], out, &off);
		if (ret)
			goto fail;
	}
	ret = encrypt_and_hash(hs, payload, len, out + off);
	if (ret)
		goto fail;
	off += len + (hs->has_k ? SUITE_TAG_LEN : 0);
	hs->msg_index++;
	*out_len = off;
	return 0;
fail:
	/* Half a message must not reach the wire. */
	OPENSSL_cleanse(out, need);
	return abandon(hs, ret);
}

static int read_token(struct noise_handshake *hs, enum token tok, const uint8_t *msg,
		      size_t *off)
{
	int ret;

	switch (tok) {
	case TOK_E:
		memcpy(hs->re, msg + *off, SUITE_DH_LEN);
		hs->has_re = true;
		*off += SUITE_DH_LEN;
		ret = mix_hash(hs, hs->re, SUITE_DH_LEN);
		if (!ret && patterns[hs->pattern].psk)
			ret = mix_key(hs, hs->re, SUITE_DH_LEN);
		return ret;
	case TOK_S: {
		size_t n = SUITE_DH_LEN + (hs->has_k ? SUITE_TAG_LEN : 0);

		ret = decrypt_and_hash(hs, msg + *off, n, hs->rs);
		*off += n;
		if (!ret)
			hs->has_rs = true;
		return ret;
	}
	case TOK_PSK:
		return psk_token(hs);
	default:
		return dh_token(hs, tok);
	}
}

int noise_read_message(struct noise_handshake *hs, const uint8_t *msg, size_t len,
		       uint8_t *payload, size_t cap, size_t *payload_len)
{
	const struct pattern *p;
	size_t fixed, plen, off = 0;
	int ret;

	*payload_len = 0;
	if (!may_process(hs, false) || (len && !msg) || (cap && !payload))
		return -EINVAL;
	p = &patterns[hs->pattern];
	/* Length is validated once here; the token loop below cannot run past @len. */
	fixed = noise_message_len(hs->pattern, hs->msg_index, 0);
	if (len < fixed || len > NOISE_MAX_MSG_LEN)
		return abandon(hs, -EBADMSG);
	plen = len - fixed;
	if (plen > cap)
		return -EMSGSIZE;

	for (int i = 0; i < MAX_TOKENS && p->tokens[hs->msg_index][i] != TOK_END; i++) {
		ret = read_token(hs, p->tokens[hs->msg_index][i], msg, &off);
		if (ret)
			return abandon(hs, ret);
	}
	ret = decrypt_and_hash(hs, msg + off, len - off, payload);
	if (ret)
		return abandon(hs, ret);
	hs->msg_index++;
	*payload_len = plen;
	return 0;
}

bool noise_handshake_is_complete(const struct noise_handshake *hs)
{
	return hs->usable && hs->msg_index == NMSG;
}

const uint8_t *noise_remote_static(const struct noise_handshake *hs)
{
	return hs->usable && hs->has_rs ? hs->rs : NULL;
}

int noise_split(struct noise_handshake *hs, struct noise_keys *out)
{
	uint8_t k1[SUITE_KEY_LEN], k2[SUITE_KEY_LEN];
	int ret = -EINVAL;

	if (!noise_handshake_is_complete(hs))
		goto out;
	/* rev 34 §5.2 Split(): temp_k1, temp_k2 = HKDF(ck, zerolen, 2); k1 encrypts i→r. */
	ret = suite_hkdf(hs->suite, hs->ck, NULL, 0, 2, k1, k2, NULL);
	if (ret)
		goto out;
	memcpy(out->send, hs->initiator ? k1 : k2, SUITE_KEY_LEN);
	memcpy(out->recv, hs->initiator ? k2 : k1, SUITE_KEY_LEN);
	memcpy(out->hash, hs->h, SUITE_HASH_LEN);
out:
	if (ret)
		OPENSSL_cleanse(out, sizeof(*out));
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	noise_handshake_wipe(hs);
	return ret;
}
