/*
 * scrape.c — a minimal HTTP/1.0 GET for the relay's /metrics (scrape.h).
 *
 * HTTP/1.0 without keep-alive: the server closes the connection after the
 * response, so the body is everything after the header block (RFC 1945 §7.2)
 * and no chunked decoding is ever needed.
 */
#include "bench/relaybench/scrape.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "endpoint/udp.h"

int scrape_url_parse(const char *url, struct scrape_url *out, const char **why)
{
	static const char scheme[] = "http://";
	const char *hp, *slash;
	char host[SCRAPE_URL_MAX + 8];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (strlen(url) > SCRAPE_URL_MAX) {
		*why = "longer than 255 characters";
		return -EINVAL;
	}
	if (strncmp(url, scheme, sizeof(scheme) - 1)) {
		*why = "expected http://HOST:PORT/PATH (https is not supported)";
		return -EINVAL;
	}
	hp = url + sizeof(scheme) - 1;
	slash = strchr(hp, '/');
	n = slash ? (size_t)(slash - hp) : strlen(hp);
	if (!n) {
		*why = "no host";
		return -EINVAL;
	}
	memcpy(out->hostport, hp, n);
	out->hostport[n] = '\0';
	snprintf(out->path, sizeof(out->path), "%s", slash ? slash : "/metrics");
	/* udp_addr_parse() wants a port: default to 80 when there is none. */
	if (out->hostport[n - 1] == ']' || !strchr(out->hostport, ':'))
		snprintf(host, sizeof(host), "%s:80", out->hostport);
	else
		snprintf(host, sizeof(host), "%s", out->hostport);
	if (udp_addr_parse(host, &out->addr, &out->addr_len)) {
		*why = "the host must be a numeric IPv4 address or [IPv6] with a port 1..65535";
		return -EINVAL;
	}
	for (const char *p = out->path; *p; p++)
		if (*p <= ' ' || *p == 0x7f) {
			*why = "the path has a space or control character";
			return -EINVAL;
		}
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for @events on @fd until @deadline (ms). @return 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now = mono_ms();
	int n;

	if (now >= deadline)
		return -ETIMEDOUT;
	n = poll(&p, 1, (int)(deadline - now));
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

static int connect_to(const struct scrape_url *u, uint64_t deadline, int *out)
{
	int fd, ret, err = 0;
	socklen_t elen = sizeof(err);

	fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&u->addr, u->addr_len) < 0) {
		if (errno != EINPROGRESS) {
			ret = -errno;
			goto err_fd;
		}
		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret)
			goto err_fd;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
			ret = err ? -err : -errno;
			goto err_fd;
		}
	}
	*out = fd;
	return 0;

err_fd:
	close(fd);
	return ret;
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		int ret;

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n < 0) {
			ret = wait_fd(fd, POLLOUT, deadline);
			if (ret)
				return ret;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until the server closes. @return 0 with *@buf (NUL-terminated) and *@len, or -errno. */
static int recv_all(int fd, uint64_t deadline, char **buf, size_t *len)
{
	size_t cap = 64 << 10, n = 0;
	char *b = malloc(cap + 1), *nb;
	int ret;

	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= SCRAPE_BODY_MAX + 4096) {
				ret = -EMSGSIZE;
				goto err_buf;
			}
			cap *= 2;
			nb = realloc(b, cap + 1);
			if (!nb) {
				ret = -ENOMEM;
				goto err_buf;
			}
			b = nb;
		}
		r = recv(fd, b + n, cap - n, 0);
		if (r == 0)
			break;
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			ret = -errno;
			goto err_buf;
		}
		if (r < 0) {
			ret = wait_fd(fd, POLLIN, deadline);
			if (ret)
				goto err_buf;
			continue;
		}
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;

err_buf:
	free(b);
	return ret;
}

int scrape_fetch(const struct scrape_url *u, int timeout_ms, char **body, size_t *len)
{
	uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;
	char req[2 * SCRAPE_URL_MAX + 128], *resp = NULL, *hdr_end;
	size_t rlen = 0, blen;
	int fd = -1, ret, n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: relaybench\r\n"
		     "Accept: text/plain\r\n\r\n", u->path, u->hostport);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -EINVAL;
	ret = connect_to(u, deadline, &fd);
	if (ret)
		return ret;
	ret = send_all(fd, req, (size_t)n, deadline);
	if (!ret)
		ret = recv_all(fd, deadline, &resp, &rlen);
	close(fd);
	if (ret)
		return ret;
	/* "HTTP/1.x 200 ..." then headers, an empty line, the body. */
	hdr_end = strstr(resp, "\r\n\r\n");
	if (!hdr_end || rlen < 12 || strncmp(resp, "HTTP/1.", 7) || strncmp(resp + 8, " 200", 4)) {
		free(resp);
		return -EPROTO;
	}
	blen = rlen - (size_t)(hdr_end + 4 - resp);
	if (blen > SCRAPE_BODY_MAX) {
		free(resp);
		return -EMSGSIZE;
	}
	memmove(resp, hdr_end + 4, blen + 1);
	*body = resp;
	*len = blen;
	return 0;
}
