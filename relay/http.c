/*
 * http.c — a strict HTTP/1.1 request parser for bodiless requests and the
 * three endpoints (http.h).
 *
 * Why not a library: the control plane serves three GET paths on loopback and
 * never reads a body, so it needs the request line and header syntax of
 * RFC 9112 §2–§5 and nothing else (no chunking, no pipelining, no bodies).
 * That subset is short enough to read in one sitting and is fuzzed with the
 * control protocol (tests/fuzz/fuzz_ctlproto.c); a general parser would add a
 * dependency (Debian's http-parser is no longer maintained upstream) and still
 * leave the checks below (Host, lengths, bodies) to us.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/http.h"
#include "relay/metrics.h"

struct request {
	bool head;		/* HEAD: headers only */
	bool get;		/* GET or HEAD */
	const char *path;	/* request-target up to '?' */
	size_t path_len;
};

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

/* RFC 9110 §5.5 field-vchar, plus SP and HTAB inside a value. */
static bool is_value_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

size_t http_header_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* One CRLF-terminated line from *@p (inside [*@p, @end)); NULL if it has a bare CR or LF. */
static const char *next_line(const char **p, const char *end, size_t *len)
{
	const char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));

	if (!nl || nl == line || nl[-1] != '\r')
		return NULL;
	*len = (size_t)(nl - 1 - line);
	if (memchr(line, '\r', *len))
		return NULL;
	*p = nl + 1;
	return line;
}

static bool token_eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && !strncasecmp(s, lit, len);
}

/* RFC 9112 §3: method SP request-target SP HTTP-version. @return 0 or an HTTP status. */
static int parse_request_line(const char *s, size_t len, struct request *rq, bool *http11)
{
	const char *sp1, *sp2, *target, *version;
	size_t mlen, tlen, vlen;

	sp1 = memchr(s, ' ', len);
	if (!sp1)
		return 400;
	mlen = (size_t)(sp1 - s);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - mlen - 1);
	if (!sp2)
		return 400;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = len - mlen - tlen - 2;
	if (!mlen || !tlen)
		return 400;
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 400;
	if (target[0] != '/')
		return 400;	/* only origin-form: nobody proxies to a loopback endpoint */
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] >= 0x7f)
			return 400;
	if (vlen == 8 && !memcmp(version, "HTTP/1.1", 8))
		*http11 = true;
	else if (vlen == 8 && !memcmp(version, "HTTP/1.0", 8))
		*http11 = false;
	else if (vlen == 8 && !memcmp(version, "HTTP/", 5) && version[5] >= '0' &&
		 version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9')
		return 505;
	else
		return 400;
	/* Methods are case-sensitive (RFC 9110 §9.1). */
	rq->head = mlen == 4 && !memcmp(s, "HEAD", 4);
	rq->get = rq->head || (mlen == 3 && !memcmp(s, "GET", 3));
	rq->path = target;
	rq->path_len = tlen;
	for (size_t i = 0; i < tlen; i++) {
		if (target[i] == '?') {
			rq->path_len = i;
			break;
		}
	}
	return 0;
}

/* RFC 9112 §5: field-name ":" OWS field-value OWS. @return 0 or an HTTP status. */
static int parse_header(const char *s, size_t len, unsigned *hosts)
{
	const char *colon = memchr(s, ':', len), *v;
	size_t nlen, vlen;

	if (!colon || colon == s)
		return 400;
	nlen = (size_t)(colon - s);
	for (size_t i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 400;	/* also refuses space before the colon (§5.1) */
	v = colon + 1;
	vlen = len - nlen - 1;
	for (size_t i = 0; i < vlen; i++)
		if (!is_value_char((unsigned char)v[i]))
			return 400;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (token_eq(s, nlen, "host"))
		(*hosts)++;
	/* No bodies: a length other than 0, or any transfer coding, is refused. */
	if (token_eq(s, nlen, "content-length") && !(vlen == 1 && v[0] == '0'))
		return 400;
	if (token_eq(s, nlen, "transfer-encoding"))
		return 400;
	return 0;
}

static int parse(const char *req, size_t len, struct request *rq)
{
	const char *p = req, *end = req + len, *line;
	unsigned hosts = 0;
	bool http11 = false;
	size_t llen;
	int status;

	line = next_line(&p, end, &llen);
	if (!line)
		return 400;
	status = parse_request_line(line, llen, rq, &http11);
	if (status)
		return status;
	for (;;) {
		line = next_line(&p, end, &llen);
		if (!line)
			return 400;
		if (!llen)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return 400;	/* obs-fold (§5.2) */
		status = parse_header(line, llen, &hosts);
		if (status)
			return status;
	}
	if (p != end)
		return 400;	/* bytes after the header block: a body we did not allow */
	if (hosts > 1 || (http11 && hosts != 1))
		return 400;	/* RFC 9112 §3.2 */
	return 0;
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

static int respond(int status, const char *type, const char *body, size_t body_len,
		   bool head, char **resp, size_t *resp_len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int err;

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
	fprintf(f, "Content-Type: %s\r\nContent-Length: %zu\r\n", type, body_len);
	if (status == 405)
		fputs("Allow: GET, HEAD\r\n", f);
	fputs("Cache-Control: no-store\r\nConnection: close\r\n\r\n", f);
	if (!head)
		fwrite(body, 1, body_len, f);
	err = ferror(f);
	if (fclose(f) || err) {
		free(buf);
		return -ENOMEM;
	}
	*resp = buf;
	*resp_len = size;
	return 0;
}

static int respond_text(int status, const char *text, bool head, char **resp, size_t *resp_len)
{
	return respond(status, "text/plain; charset=utf-8", text, strlen(text), head, resp,
		       resp_len);
}

int http_error(int status, char **resp, size_t *resp_len)
{
	char text[64];

	if (status != 408 && status != 431 && status != 503)
		status = 500;
	snprintf(text, sizeof(text), "%s\n", reason_phrase(status));
	return respond_text(status, text, false, resp, resp_len);
}

static int serve_metrics(const struct control_ops *ops, const struct control_counters *cc,
			 bool head, char **resp, size_t *resp_len)
{
	struct metrics_input in = { .control = cc };
	struct metrics_backend *backend = NULL;
	struct relay_stats *per;
	char *text;
	size_t len;
	int ret;

	per = aligned_alloc(_Alignof(struct relay_stats),
			    CONTROL_MAX_WORKERS * sizeof(struct relay_stats));
	if (!per)
		return -ENOMEM;
	memset(per, 0, CONTROL_MAX_WORKERS * sizeof(struct relay_stats));
	if (ops->stats && ops->stats(ops->ctx, per, CONTROL_MAX_WORKERS, &in.n_workers)) {
		free(per);
		return respond_text(500, "stats unavailable\n", head, resp, resp_len);
	}
	if (in.n_workers > CONTROL_MAX_WORKERS)
		in.n_workers = CONTROL_MAX_WORKERS;
	if (ops->backend_stats) {
		backend = metrics_backend_alloc();
		if (!backend) {
			free(per);
			return -ENOMEM;
		}
		if (ops->backend_stats(ops->ctx, backend)) {
			free(backend);
			free(per);
			return respond_text(500, "stats unavailable\n", head, resp, resp_len);
		}
		in.backend = backend;
	}
	in.per_worker = per;
	in.ready = ops->ready && ops->ready(ops->ctx);
	ret = metrics_render(&in, &text, &len);
	free(backend);
	free(per);
	if (ret)
		return ret;
	ret = respond(200, METRICS_CONTENT_TYPE, text, len, head, resp, resp_len);
	free(text);
	return ret;
}

static bool path_is(const struct request *rq, const char *path)
{
	return rq->path_len == strlen(path) && !memcmp(rq->path, path, rq->path_len);
}

int http_handle(const struct control_ops *ops, const struct control_counters *counters,
		const char *req, size_t len, char **resp, size_t *resp_len)
{
	struct request rq = { .get = false };
	bool known;
	int status;

	if (len > HTTP_MAX_HEADER)
		return http_error(431, resp, resp_len);
	status = parse(req, len, &rq);
	if (status)
		return respond_text(status, "malformed request\n", false, resp, resp_len);
	known = path_is(&rq, "/metrics") || path_is(&rq, "/ready") || path_is(&rq, "/live");
	if (!known)
		return respond_text(404, "not found\n", rq.head, resp, resp_len);
	if (!rq.get)
		return respond_text(405, "method not allowed\n", false, resp, resp_len);
	if (path_is(&rq, "/metrics"))
		return serve_metrics(ops, counters, rq.head, resp, resp_len);
	if (path_is(&rq, "/ready")) {
		if (ops->ready && ops->ready(ops->ctx))
			return respond_text(200, "ready\n", rq.head, resp, resp_len);
		return respond_text(503, "not ready\n", rq.head, resp, resp_len);
	}
	return respond_text(200, "live\n", rq.head, resp, resp_len);
}
