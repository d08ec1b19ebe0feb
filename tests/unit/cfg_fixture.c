/*
 * cfg_fixture.c — files on disk for the configuration tests (cfg_fixture.h).
 */
#define _GNU_SOURCE	/* vasprintf, nftw */

#include "cfg_fixture.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

char cfx_dir[64];

void cfx_setup(const char *name)
{
	snprintf(cfx_dir, sizeof(cfx_dir), "/tmp/postern-%s-XXXXXX", name);
	cr_assert_not_null(mkdtemp(cfx_dir), "mkdtemp %s: %s", cfx_dir, strerror(errno));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void cfx_teardown(void)
{
	nftw(cfx_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

const char *cfx_path(const char *name)
{
	static char p[32][CFX_PATH_MAX];
	static unsigned next;
	char *out = p[next++ % 32];

	snprintf(out, sizeof(p[0]), "%s/%s", cfx_dir, name);
	return out;
}

void cfx_write(const char *name, mode_t mode, const char *fmt, ...)
{
	const char *path = cfx_path(name);
	char *text;
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, (size_t)n), n);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
	free(text);
}

void cfx_save_key(const char *name, const uint8_t key[KEYS_LEN], mode_t mode)
{
	char text[KEYS_TEXT_LEN + 1];

	keys_to_text(key, text);
	cfx_write(name, mode, "%s\n", text);
}

void cfx_save_token(const char *name, const uint8_t signer[KEYS_LEN], enum token_role role,
		    const char *tunnel, const uint8_t pub[KEYS_LEN], int64_t expiry_from_now,
		    mode_t mode)
{
	struct token tok = { .role = role, .n_tunnels = 1 };
	uint8_t buf[TOKEN_MAX_LEN];
	char text[TOKEN_TEXT_MAX + 1];
	size_t len;

	cr_assert_eq(token_generate_id(tok.id), 0);
	tok.not_before = (uint64_t)time(NULL) - 7200;
	tok.expiry = (uint64_t)((int64_t)time(NULL) + expiry_from_now);
	memcpy(tok.endpoint_pub, pub, KEYS_LEN);
	snprintf(tok.tenant, sizeof(tok.tenant), "acme");
	snprintf(tok.tunnels[0], sizeof(tok.tunnels[0]), "%s", tunnel);
	cr_assert_eq(token_encode_signed(&tok, signer, buf, sizeof(buf), &len), 0);
	cr_assert_eq(token_to_text(buf, len, text, sizeof(text)), 0);
	cfx_write(name, mode, "%s\n", text);
}

void cfx_save_identity(const char *cert_name, const char *key_name, mode_t key_mode,
		       enum cfx_key type, uint8_t fp[CFX_FP_LEN])
{
	EVP_PKEY *k = type == CFX_P256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
					 EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *x = X509_new();
	unsigned char *der = NULL;
	X509_NAME *name;
	BIO *b;
	int n;

	cr_assert(k && x);
	cr_assert(X509_set_version(x, 2));
	cr_assert(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
	cr_assert(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	cr_assert(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	cr_assert(X509_set_pubkey(x, k));
	name = X509_get_subject_name(x);
	cr_assert(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					     (const unsigned char *)"postern-test", -1, -1, 0));
	cr_assert(X509_set_issuer_name(x, name));
	/* Ed25519 signs the message itself: no digest. */
	cr_assert(X509_sign(x, k, type == CFX_P256 ? EVP_sha256() : NULL) > 0);
	b = BIO_new_file(cfx_path(cert_name), "w");
	cr_assert(b && PEM_write_bio_X509(b, x));
	BIO_free(b);
	b = BIO_new_file(cfx_path(key_name), "w");
	cr_assert(b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
	BIO_free(b);
	cr_assert_eq(chmod(cfx_path(key_name), key_mode), 0);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	cr_assert_gt(n, 0);
	cr_assert(EVP_Digest(der, (size_t)n, fp, NULL, EVP_sha256(), NULL));
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
}
