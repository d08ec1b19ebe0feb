/*
 * quic_tls.c — identities (self-signed certificates), fingerprints, and the
 * GnuTLS half of a QUIC connection: TLS 1.3 only, ALPN "postern/1", no
 * session tickets (so no 0-RTT: a request can never be replayed, §10.2), and
 * the pinning check that replaces certificate-chain validation.
 *
 * The check runs from GnuTLS's verify callback, called when the peer's
 * Certificate arrives (before its CertificateVerify signature is checked;
 * both must pass for the handshake to complete). A refusal makes GnuTLS send
 * an alert; ngtcp2 turns it into CONNECTION_CLOSE with CRYPTO_ERROR (0x100 +
 * alert, RFC 9001 §4.8), to which quic.c adds our reason phrase.
 */
#include "endpoint/quic_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

/*
 * TLS 1.3 with the AEADs ngtcp2's GnuTLS helper supports for QUIC (RFC 9001
 * §5.3), X25519 then P-256 for the key share; middlebox compatibility mode
 * has no place in QUIC (RFC 9001 §8.4).
 */
static const char priority[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:"
	"+AES-256-GCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:%DISABLE_TLS13_COMPAT_MODE";

enum {
	PEM_FILE_MAX = 64 * 1024,
	SERIAL_LEN = 16,
};

struct quic_identity {
	gnutls_certificate_credentials_t cred;
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	gnutls_datum_t der;
	uint8_t fp[QUIC_FP_LEN];
};

static int verify_peer(gnutls_session_t session);

static int gnutls_errno(int ret)
{
	return ret == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EIO;
}

/*
 * The pin is the SHA-256 of the certificate's SubjectPublicKeyInfo (as in
 * RFC 7469), not of the whole certificate: a gateway that renews its
 * certificate with the same key keeps its fingerprint, so no connector
 * configuration has to change. Same value as
 *   openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum
 */
int quic_fingerprint_x509(uint8_t fp[QUIC_FP_LEN], X509 *x)
{
	unsigned char *spki = NULL;
	unsigned int n = 0;
	int spki_len, ret = -EIO;

	spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	if (spki_len > 0 &&
	    EVP_Digest(spki, (size_t)spki_len, fp, &n, EVP_sha256(), NULL) && n == QUIC_FP_LEN)
		ret = 0;
	OPENSSL_free(spki);
	return ret;
}

int quic_fingerprint_der(uint8_t fp[QUIC_FP_LEN], const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int ret;

	if (!x)
		return -EINVAL;
	ret = quic_fingerprint_x509(fp, x);
	X509_free(x);
	return ret;
}

/*
 * Exactly the two forms the settings allow (quic_tls.h): all 64 digits run
 * together, or every pair but the last followed by ':'. A text with colons
 * in only some places is neither form, so it is refused rather than guessed at.
 */
int quic_fingerprint_parse(uint8_t fp[QUIC_FP_LEN], const char *text)
{
	uint8_t out[QUIC_FP_LEN];
	bool colons;
	size_t n;

	if (!text)
		return -EINVAL;
	n = strlen(text);
	colons = n == 3 * QUIC_FP_LEN - 1;
	if (n != QUIC_FP_HEX_LEN && !colons)
		return -EINVAL;
	for (size_t i = 0; i < QUIC_FP_LEN; i++) {
		const char *p = text + (colons ? 3 * i : 2 * i);
		int hi = OPENSSL_hexchar2int((unsigned char)p[0]);
		int lo = OPENSSL_hexchar2int((unsigned char)p[1]);

		if (hi < 0 || lo < 0 || (colons && i + 1 < QUIC_FP_LEN && p[2] != ':'))
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(fp, out, QUIC_FP_LEN);
	return 0;
}

void quic_fingerprint_format(char text[QUIC_FP_HEX_LEN + 1], const uint8_t fp[QUIC_FP_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < QUIC_FP_LEN; i++) {
		text[2 * i] = digits[fp[i] >> 4];
		text[2 * i + 1] = digits[fp[i] & 0xf];
	}
	text[QUIC_FP_HEX_LEN] = '\0';
}

/* The credentials GnuTLS uses, the DER and the fingerprint, from crt and key. */
static int identity_finish(struct quic_identity *id)
{
	int ret;

	ret = gnutls_x509_crt_export2(id->crt, GNUTLS_X509_FMT_DER, &id->der);
	if (ret < 0)
		return gnutls_errno(ret);
	ret = quic_fingerprint_der(id->fp, id->der.data, id->der.size);
	if (ret < 0)
		return ret;
	ret = gnutls_certificate_allocate_credentials(&id->cred);
	if (ret < 0)
		return gnutls_errno(ret);
	ret = gnutls_certificate_set_x509_key(id->cred, &id->crt, 1, id->key);
	if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
		return -EINVAL;
	if (ret < 0)
		return gnutls_errno(ret);
	/* No trust anchors: our callback is the whole verification. */
	gnutls_certificate_set_verify_function(id->cred, verify_peer);
	return 0;
}

static int identity_alloc(struct quic_identity **out)
{
	struct quic_identity *id = calloc(1, sizeof(*id));

	if (!id)
		return -ENOMEM;
	if (gnutls_x509_crt_init(&id->crt) < 0)
		goto err_id;
	if (gnutls_x509_privkey_init(&id->key) < 0)
		goto err_crt;
	*out = id;
	return 0;

err_crt:
	gnutls_x509_crt_deinit(id->crt);
err_id:
	free(id);
	return -ENOMEM;
}

void quic_identity_destroy(struct quic_identity *id)
{
	if (!id)
		return;
	if (id->cred)
		gnutls_certificate_free_credentials(id->cred);
	gnutls_free(id->der.data);
	gnutls_x509_privkey_deinit(id->key);
	gnutls_x509_crt_deinit(id->crt);
	free(id);
}

static bool cn_valid(const char *cn)
{
	size_t n = cn ? strlen(cn) : 0;

	if (n == 0 || n > QUIC_CN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (cn[i] < 0x20 || cn[i] > 0x7e)
			return false;
	return true;
}

/* RFC 5280 §4.1: v3, positive serial, subject = issuer, no CA, signing only. */
static int self_sign(struct quic_identity *id, const char *cn, enum quic_key_type type)
{
	/* Ed25519 signs the message itself (PureEdDSA, RFC 8032 §5.1): no digest. */
	gnutls_digest_algorithm_t dig = type == QUIC_KEY_ED25519 ? GNUTLS_DIG_UNKNOWN :
					GNUTLS_DIG_SHA256;
	uint8_t serial[SERIAL_LEN];
	time_t now = time(NULL);
	int ret;

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return -EIO;
	serial[0] = (serial[0] & 0x7f) | 0x40;	/* positive, and exactly 16 bytes long */
	ret = gnutls_x509_crt_set_version(id->crt, 3);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_serial(id->crt, serial, sizeof(serial));
	if (ret >= 0)
		ret = gnutls_x509_crt_set_activation_time(id->crt, now - 3600);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_expiration_time(id->crt,
							  GNUTLS_X509_NO_WELL_DEFINED_EXPIRATION);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_dn_by_oid(id->crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						    (unsigned int)strlen(cn));
	if (ret >= 0)
		ret = gnutls_x509_crt_set_key(id->crt, id->key);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_basic_constraints(id->crt, 0, -1);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_key_usage(id->crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (ret >= 0)
		ret = gnutls_x509_crt_sign2(id->crt, id->crt, id->key, dig, 0);
	return ret < 0 ? gnutls_errno(ret) : 0;
}

int quic_identity_generate(struct quic_identity **out, enum quic_key_type type, const char *cn)
{
	struct quic_identity *id;
	int ret;

	if (!out || !cn_valid(cn) || (type != QUIC_KEY_ED25519 && type != QUIC_KEY_ECDSA_P256))
		return -EINVAL;
	ret = identity_alloc(&id);
	if (ret < 0)
		return ret;
	if (type == QUIC_KEY_ED25519)
		ret = gnutls_x509_privkey_generate(id->key, GNUTLS_PK_EDDSA_ED25519,
					GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519), 0);
	else
		ret = gnutls_x509_privkey_generate(id->key, GNUTLS_PK_ECDSA,
					GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	ret = ret < 0 ? gnutls_errno(ret) : self_sign(id, cn, type);
	if (ret == 0)
		ret = identity_finish(id);
	if (ret < 0) {
		quic_identity_destroy(id);
		return ret;
	}
	*out = id;
	return 0;
}

int quic_identity_from_pem(struct quic_identity **out, const char *cert_pem, size_t cert_len,
			   const char *key_pem, size_t key_len)
{
	gnutls_datum_t c = { (unsigned char *)cert_pem, (unsigned int)cert_len };
	gnutls_datum_t k = { (unsigned char *)key_pem, (unsigned int)key_len };
	struct quic_identity *id;
	int ret;

	if (!out || !cert_pem || !key_pem || cert_len > PEM_FILE_MAX || key_len > PEM_FILE_MAX)
		return -EINVAL;
	ret = identity_alloc(&id);
	if (ret < 0)
		return ret;
	ret = gnutls_x509_crt_import(id->crt, &c, GNUTLS_X509_FMT_PEM);
	if (ret >= 0)
		ret = gnutls_x509_privkey_import2(id->key, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (ret < 0)
		ret = ret == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL;
	else
		ret = identity_finish(id);
	if (ret < 0) {
		quic_identity_destroy(id);
		return ret;
	}
	*out = id;
	return 0;
}

/* Read a whole (small) file into a fresh buffer. */
static int read_file(const char *path, char **buf, size_t *len)
{
	size_t n = 0;
	char *b;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	b = malloc(PEM_FILE_MAX);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, b + n, PEM_FILE_MAX - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == PEM_FILE_MAX) {
			ret = -EINVAL;		/* no PEM certificate or key is this big */
			break;
		}
	}
	close(fd);
	if (ret < 0) {
		OPENSSL_cleanse(b, n);
		free(b);
		return ret;
	}
	*buf = b;
	*len = n;
	return 0;
}

int quic_identity_load(struct quic_identity **out, const char *cert_path, const char *key_path)
{
	char *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int ret;

	if (!out || !cert_path || !key_path)
		return -EINVAL;
	ret = read_file(cert_path, &cert, &cert_len);
	if (ret < 0)
		goto out;
	ret = read_file(key_path, &key, &key_len);
	if (ret < 0)
		goto out;
	ret = quic_identity_from_pem(out, cert, cert_len, key, key_len);
out:
	if (key)
		OPENSSL_cleanse(key, key_len);
	free(key);
	free(cert);
	return ret;
}

static int write_file(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
	size_t off = 0;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* An existing file keeps its mode through O_CREAT: set ours. */
	if (fchmod(fd, mode) < 0)
		ret = -errno;
	while (ret == 0 && off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			ret = -errno;
		else
			off += (size_t)w;
	}
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

int quic_identity_save(const struct quic_identity *id, const char *cert_path,
		       const char *key_path)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret;

	if (!id)
		return -EINVAL;
	if (cert_path) {
		ret = gnutls_x509_crt_export2(id->crt, GNUTLS_X509_FMT_PEM, &d);
		if (ret < 0)
			return gnutls_errno(ret);
		ret = write_file(cert_path, d.data, d.size, 0644);
		gnutls_free(d.data);
		if (ret < 0)
			return ret;
	}
	if (!key_path)
		return 0;
	ret = gnutls_x509_privkey_export2_pkcs8(id->key, GNUTLS_X509_FMT_PEM, NULL,
						GNUTLS_PKCS_PLAIN, &d);
	if (ret < 0)
		return gnutls_errno(ret);
	ret = write_file(key_path, d.data, d.size, 0600);
	OPENSSL_cleanse(d.data, d.size);
	gnutls_free(d.data);
	return ret;
}

const uint8_t *quic_identity_fingerprint(const struct quic_identity *id)
{
	return id->fp;
}

const uint8_t *quic_identity_cert_der(const struct quic_identity *id, size_t *len)
{
	*len = id->der.size;
	return id->der.data;
}

/* ---- The TLS session of one connection ---- */

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct quic_conn *c = ref->user_data;

	return c->conn;
}

static bool client_allowed(const struct quic_conn *c)
{
	for (size_t i = 0; i < c->n_allowed; i++)
		if (CRYPTO_memcmp(c->allowed[i], c->peer_fp, QUIC_FP_LEN) == 0)
			return true;
	return c->authorize && c->authorize(c->ctx, c->peer_fp);
}

/* Remember why we refuse; GnuTLS then fails the handshake with an alert. */
static int refuse(struct quic_conn *c, enum quic_error err, const char *reason, const char *text)
{
	c->tls_error = err;
	c->tls_reason = reason;
	snprintf(c->error_text, sizeof(c->error_text), "%s", text);
	return -1;
}

static int verify_peer(gnutls_session_t session)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(session);
	struct quic_conn *c = ref->user_data;
	char have[QUIC_FP_HEX_LEN + 1], want[QUIC_FP_HEX_LEN + 1];
	char text[QUIC_REASON_MAX];
	const gnutls_datum_t *certs;
	gnutls_datum_t alpn;
	unsigned int n = 0;

	/* GNUTLS_ALPN_MANDATORY refuses a mismatch; a peer that sent none gets here. */
	if (gnutls_alpn_get_selected_protocol(session, &alpn) != 0 ||
	    alpn.size != strlen(QUIC_ALPN) || memcmp(alpn.data, QUIC_ALPN, alpn.size) != 0)
		return refuse(c, QUIC_ERR_TLS, "ALPN postern/1 required",
			      "the peer did not negotiate ALPN postern/1");
	certs = gnutls_certificate_get_peers(session, &n);
	if (!certs || n == 0)
		return refuse(c, QUIC_ERR_TLS, "certificate required",
			      "the peer sent no certificate");
	if (quic_fingerprint_der(c->peer_fp, certs[0].data, certs[0].size) < 0)
		return refuse(c, QUIC_ERR_INTERNAL, "internal error", "SHA-256 failed");
	c->have_peer_fp = true;
	quic_fingerprint_format(have, c->peer_fp);
	if (c->role == QUIC_CLIENT) {
		if (CRYPTO_memcmp(c->peer_fp, c->server_fp, QUIC_FP_LEN) == 0)
			return 0;
		quic_fingerprint_format(want, c->server_fp);
		snprintf(text, sizeof(text), "server certificate %s is not the pinned %s",
			 have, want);
		return refuse(c, QUIC_ERR_PIN_MISMATCH, "server certificate not pinned", text);
	}
	if (client_allowed(c))
		return 0;
	snprintf(text, sizeof(text), "client certificate %s is not allowed", have);
	return refuse(c, QUIC_ERR_CLIENT_REFUSED, "client certificate not allowed", text);
}

int quic_tls_session_init(struct quic_conn *c)
{
	const gnutls_datum_t alpn = { (unsigned char *)QUIC_ALPN, sizeof(QUIC_ALPN) - 1 };
	bool server = c->role == QUIC_SERVER;
	gnutls_session_t s;
	int ret;

	ret = gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_TICKETS);
	if (ret < 0)
		return gnutls_errno(ret);
	ret = gnutls_priority_set_direct(s, priority, NULL);
	if (ret < 0)
		goto err_session;
	ret = server ? ngtcp2_crypto_gnutls_configure_server_session(s) :
		       ngtcp2_crypto_gnutls_configure_client_session(s);
	if (ret != 0)
		goto err_session;
	ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, c->identity->cred);
	if (ret < 0)
		goto err_session;
	ret = gnutls_alpn_set_protocols(s, &alpn, 1, GNUTLS_ALPN_MANDATORY);
	if (ret < 0)
		goto err_session;
	if (server)
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	c->ref.get_conn = get_conn;
	c->ref.user_data = c;
	gnutls_session_set_ptr(s, &c->ref);
	ngtcp2_conn_set_tls_native_handle(c->conn, s);
	c->tls = s;
	return 0;

err_session:
	gnutls_deinit(s);
	return ret == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EIO;
}

void quic_tls_session_fini(struct quic_conn *c)
{
	if (c->tls)
		gnutls_deinit(c->tls);
	c->tls = NULL;
}
