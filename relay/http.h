/*
 * http.h — the relay's loopback HTTP/1.1 endpoints, for Prometheus and for
 * health checks (docs/control.md):
 *
 *   GET /metrics   200, Prometheus text format 0.0.4 (relay/metrics.h)
 *   GET /ready     200 "ready" when ops->ready() says so, else 503 "not ready"
 *   GET /live      200 "live" while the control loop runs
 *   HEAD           the same without a body
 *   other paths 404, other methods 405, anything malformed 400; every
 *   response carries Content-Length and "Connection: close".
 *
 * The parser is a strict subset of RFC 9112 for bodiless requests: an
 * origin-form request line, HTTP/1.0 or HTTP/1.1, header lines ending in
 * CRLF (no bare LF or CR, no obs-fold, no space before the colon), Host
 * present exactly once for HTTP/1.1, and no Content-Length other than 0 nor
 * Transfer-Encoding. The query string is ignored.
 *
 * No I/O here: control.c reads the header block and writes the response.
 * Threads: stateless; the ops are called on the calling thread.
 */
#ifndef POSTERN_RELAY_HTTP_H
#define POSTERN_RELAY_HTTP_H

#include <stddef.h>

#include "relay/control.h"

enum {
	HTTP_MAX_HEADER = 8192,		/* request line and headers, final CRLF CRLF included */
};

/*
 * Where the header block of the @len bytes at @buf ends: the length up to and
 * including the empty line that ends it ("\r\n\r\n", or a bare "\n\n" that
 * http_handle() will refuse), or 0 if it has not arrived yet.
 */
size_t http_header_end(const char *buf, size_t len);

/*
 * Answer one request whose header block is the @len bytes at @req. @counters
 * (may be NULL) are added to /metrics.
 * @return 0 with *@resp (malloc'd; the caller frees it) and *@resp_len set,
 * whatever the request; -ENOMEM if no response could be built.
 */
int http_handle(const struct control_ops *ops, const struct control_counters *counters,
		const char *req, size_t len, char **resp, size_t *resp_len);

/*
 * A complete bodiless-request error response for the loop's own refusals:
 * @status 408 (too slow), 431 (header over HTTP_MAX_HEADER) or 503 (busy);
 * other values give 500. @return 0 or -ENOMEM, as http_handle().
 */
int http_error(int status, char **resp, size_t *resp_len);

#endif /* POSTERN_RELAY_HTTP_H */
