/*
 * rr_tls.h — the optional TLS client side of rr_load: TLS 1.3 over an
 * already connected TCP socket, so the client-to-proxy leg of a TLS
 * terminating proxy (nginx's stream module) is encrypted like every other
 * path bench/peers compares.
 *
 * A benchmark client, not a secure one: the server's certificate is not
 * verified (the peers run self-signed certificates in private namespaces).
 * Only TLS 1.3 is offered.
 *
 * Ownership: rr_tls_ctx_create() returns a context the caller frees with
 * rr_tls_ctx_destroy() after every connection made from it is closed;
 * rr_tls_connect() returns an SSL the caller frees with rr_tls_close().
 * Threads: one connection per thread at a time; the context may be shared.
 */
#ifndef POSTERN_BENCH_PEERS_RR_TLS_H
#define POSTERN_BENCH_PEERS_RR_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct ssl_ctx_st;
struct ssl_st;

/* A TLS 1.3-only client context. @return 0 and *@out, or -ENOMEM / -EIO. */
int rr_tls_ctx_create(struct ssl_ctx_st **out);

/* Free @ctx. NULL is a no-op. */
void rr_tls_ctx_destroy(struct ssl_ctx_st *ctx);

/*
 * Run the handshake on @fd, a connected, *blocking* TCP socket (give it
 * SO_RCVTIMEO / SO_SNDTIMEO to bound the wait). The caller may make @fd
 * non-blocking afterwards; the SSL then follows.
 * @return 0 and *@out, or -EPROTO with the reason in @err (@err_len bytes).
 */
int rr_tls_connect(struct ssl_ctx_st *ctx, int fd, struct ssl_st **out, char *err,
		   size_t err_len);

/* The negotiated protocol version and cipher suite names (static strings). */
const char *rr_tls_version(struct ssl_st *ssl);
const char *rr_tls_cipher(struct ssl_st *ssl);

/*
 * Read or write up to @n bytes on a non-blocking connection.
 * @return the number of bytes (> 0); 0 when the peer closed the stream
 * (read only); -EAGAIN when the socket must become ready first; -EIO on a
 * TLS or socket error.
 */
ssize_t rr_tls_read(struct ssl_st *ssl, void *buf, size_t n);
ssize_t rr_tls_write(struct ssl_st *ssl, const void *buf, size_t n);

/* Free @ssl (without a close_notify: the benchmark is over). NULL is a no-op. */
void rr_tls_close(struct ssl_st *ssl);

#endif /* POSTERN_BENCH_PEERS_RR_TLS_H */
