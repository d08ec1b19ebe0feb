/*
 * quic_tls.h — the certificates of the E2E layer (docs/protocol.md §10.2): an
 * endpoint's identity (certificate and private key) and the SHA-256
 * fingerprints that pin them.
 *
 * There is no CA. A gateway's identity is a self-signed certificate; the
 * connector pins the SHA-256 of its DER SubjectPublicKeyInfo. A connector's identity is
 * another self-signed certificate; the gateway allows it by the same kind of
 * fingerprint. quic_identity_generate() makes one (Ed25519 or ECDSA P-256,
 * no expiry); quic_identity_load() reads PEM files (any key GnuTLS reads:
 * PKCS#8 or the traditional forms), quic_identity_save() writes them.
 *
 * Fingerprint text is what the gateway's and connector's settings take
 * (docs/gateway.md "agents", docs/connector.md "gateway_fingerprint"): 64 hex
 * digits in either case, or the 32 byte pairs with a ':' between each two
 * ("AB:CD:...:EF"), nothing in between. It is written as 64 lowercase hex
 * digits.
 *
 * Certificates and keys live in GnuTLS (the TLS stack ngtcp2 drives here);
 * fingerprints are OpenSSL EVP SHA-256. Private key bytes that pass through
 * our buffers (PEM files) are wiped with OPENSSL_cleanse.
 *
 * Errors: int functions return 0 or -errno: -EINVAL (bad argument, PEM that
 * does not parse, key that does not match the certificate), -ENOENT/-EACCES
 * and other open/read/write errors, -ENOMEM, -EIO (GnuTLS or OpenSSL failed).
 * Threads: an identity is read-only once made; connections of one thread may
 * share it. It must outlive every quic_conn that uses it.
 */
#ifndef POSTERN_ENDPOINT_QUIC_TLS_H
#define POSTERN_ENDPOINT_QUIC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

enum {
	QUIC_FP_LEN = 32,		/* SHA-256 of the certificate's DER SPKI */
	QUIC_FP_HEX_LEN = 2 * QUIC_FP_LEN,
	QUIC_CN_MAX = 64,		/* common name of a generated certificate */
};

enum quic_key_type {
	QUIC_KEY_ED25519,
	QUIC_KEY_ECDSA_P256,
};

struct quic_identity;

/*
 * A fresh key of @type and a self-signed X.509 v3 certificate for it:
 * subject = issuer = CN=@cn (1..QUIC_CN_MAX printable ASCII characters), a
 * random positive 128-bit serial, valid from an hour ago with no well-defined
 * expiration (RFC 5280 §4.1.2.5), not a CA, key usage digitalSignature.
 * @return 0 and *@out, or -EINVAL (type, cn), -ENOMEM, -EIO.
 */
int quic_identity_generate(struct quic_identity **out, enum quic_key_type type, const char *cn);

/*
 * Read a certificate and its private key from PEM files. The certificate
 * file's first certificate is used; the key must match it.
 * @return 0 and *@out, or -errno (see above).
 */
int quic_identity_load(struct quic_identity **out, const char *cert_path, const char *key_path);

/* The same from PEM text in memory (@cert_pem/@key_pem of the given lengths). */
int quic_identity_from_pem(struct quic_identity **out, const char *cert_pem, size_t cert_len,
			   const char *key_pem, size_t key_len);

/*
 * Write the certificate (mode 0644) and the private key (PKCS#8, mode 0600)
 * as PEM, replacing existing files. Either path may be NULL to skip it.
 * @return 0 or -errno.
 */
int quic_identity_save(const struct quic_identity *id, const char *cert_path,
		       const char *key_path);

/* Free @id and its key (GnuTLS zeroes key material it frees). NULL is a no-op. */
void quic_identity_destroy(struct quic_identity *id);

/* @return the certificate's fingerprint, QUIC_FP_LEN bytes, valid as long as @id. */
const uint8_t *quic_identity_fingerprint(const struct quic_identity *id);

/* @return the certificate's DER encoding (*@len bytes), valid as long as @id. */
const uint8_t *quic_identity_cert_der(const struct quic_identity *id, size_t *len);

/*
 * The fingerprint of the certificate @der: SHA-256 of its DER
 * SubjectPublicKeyInfo (survives renewal with the same key).
 * @return 0, -EINVAL (not a certificate), or -EIO.
 */
int quic_fingerprint_der(uint8_t fp[QUIC_FP_LEN], const uint8_t *der, size_t len);

/* The same fingerprint of a parsed certificate @x (borrowed). @return 0 or -EIO. */
int quic_fingerprint_x509(uint8_t fp[QUIC_FP_LEN], X509 *x);

/*
 * Parse fingerprint text (see above: 64 hex digits, or 32 pairs joined by
 * ':') into @fp; the configurations of both endpoints read fingerprints with
 * this. @fp is written only on success.
 * @return 0, or -EINVAL (NULL, wrong length, a non-hex digit, a ':' missing
 * or out of place, colons in only some places).
 */
int quic_fingerprint_parse(uint8_t fp[QUIC_FP_LEN], const char *text);

/* Write @fp as 64 lowercase hex digits and a NUL into @text (what the parser reads back). */
void quic_fingerprint_format(char text[QUIC_FP_HEX_LEN + 1], const uint8_t fp[QUIC_FP_LEN]);

#endif /* POSTERN_ENDPOINT_QUIC_TLS_H */
