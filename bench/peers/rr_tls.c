/*
 * rr_tls.c — TLS 1.3 client for rr_load (rr_tls.h), OpenSSL 3.
 *
 * Partial writes are allowed and the write buffer may move between retries
 * (SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER): the
 * caller's buffer slides as bytes leave, exactly like a plain socket's.
 */
#include "bench/peers/rr_tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

int rr_tls_ctx_create(SSL_CTX **out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return -ENOMEM;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		SSL_CTX_free(ctx);
		return -EIO;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	*out = ctx;
	return 0;
}

void rr_tls_ctx_destroy(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

int rr_tls_connect(SSL_CTX *ctx, int fd, SSL **out, char *err, size_t err_len)
{
	SSL *ssl = SSL_new(ctx);
	int rc;

	if (!ssl) {
		snprintf(err, err_len, "SSL_new failed");
		return -EPROTO;
	}
	if (!SSL_set_fd(ssl, fd)) {
		snprintf(err, err_len, "SSL_set_fd failed");
		goto err_ssl;
	}
	rc = SSL_connect(ssl);
	if (rc != 1) {
		unsigned long e = ERR_get_error();

		snprintf(err, err_len, "TLS handshake failed: %s",
			 e ? ERR_reason_error_string(e) : "connection closed or timed out");
		ERR_clear_error();
		goto err_ssl;
	}
	*out = ssl;
	return 0;

err_ssl:
	SSL_free(ssl);
	return -EPROTO;
}

const char *rr_tls_version(SSL *ssl)
{
	return SSL_get_version(ssl);
}

const char *rr_tls_cipher(SSL *ssl)
{
	return SSL_get_cipher_name(ssl);
}

/* Map SSL_get_error() after a call that returned @rc <= 0. */
static ssize_t tls_result(SSL *ssl, int rc)
{
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ERR_clear_error();
		return -EIO;
	}
}

ssize_t rr_tls_read(SSL *ssl, void *buf, size_t n)
{
	int rc = SSL_read(ssl, buf, n > INT_MAX ? INT_MAX : (int)n);

	return rc > 0 ? rc : tls_result(ssl, rc);
}

ssize_t rr_tls_write(SSL *ssl, const void *buf, size_t n)
{
	int rc = SSL_write(ssl, buf, n > INT_MAX ? INT_MAX : (int)n);

	if (rc > 0)
		return rc;
	rc = (int)tls_result(ssl, rc);
	return rc == 0 ? -EIO : rc;	/* a write never sees a clean end */
}

void rr_tls_close(SSL *ssl)
{
	SSL_free(ssl);
}
