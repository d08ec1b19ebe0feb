/*
 * scrape.h — fetch the relay's /metrics page over plain HTTP/1.0 (what
 * `relaybench run --metrics URL` asks for; the relay's listener is described
 * in docs/control.md).
 *
 * URLs: "http://HOST:PORT/PATH" with a numeric IPv4 host or a bracketed
 * numeric IPv6 host ("http://[::1]:9180/metrics"); the port may be left out
 * (80); the path defaults to "/metrics". No DNS, no TLS, no redirects: the
 * relay's metrics listener is on loopback or a management network.
 *
 * Threads: no shared state. scrape_fetch() blocks up to its timeout.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_SCRAPE_H
#define POSTERN_BENCH_RELAYBENCH_SCRAPE_H

#include <stddef.h>

#include <sys/socket.h>

enum {
	SCRAPE_URL_MAX = 255,		/* longest URL accepted */
	SCRAPE_BODY_MAX = 8 << 20,	/* longest response accepted */
};

struct scrape_url {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char hostport[SCRAPE_URL_MAX + 1];	/* for the Host header */
	char path[SCRAPE_URL_MAX + 1];
};

/*
 * Parse @url into *@out.
 * @return 0, or -EINVAL with a short reason in @why (a static string):
 * not http://, host not numeric, bad port, too long.
 */
int scrape_url_parse(const char *url, struct scrape_url *out, const char **why);

/*
 * GET the URL; wait at most @timeout_ms in all. On success *@body is the
 * response body (malloc'd, NUL-terminated; the caller frees it) of *@len bytes.
 * @return 0; -ETIMEDOUT; -ECONNREFUSED or another connect/read -errno;
 * -EPROTO (not an HTTP 200 response); -EMSGSIZE (over SCRAPE_BODY_MAX);
 * -ENOMEM.
 */
int scrape_fetch(const struct scrape_url *u, int timeout_ms, char **body, size_t *len);

#endif /* POSTERN_BENCH_RELAYBENCH_SCRAPE_H */
