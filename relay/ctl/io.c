/*
 * io.c — posternctl's text inputs (operand, @FILE, stdin) and output files.
 */
#define _GNU_SOURCE	/* mkostemp() */

#include "relay/ctl/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trim @buf (@len bytes) in place at both ends; NUL-terminate. @return the new length. */
static size_t trim(char *buf, size_t len)
{
	size_t start = 0;

	while (len && is_space(buf[len - 1]))
		len--;
	while (start < len && is_space(buf[start]))
		start++;
	memmove(buf, buf + start, len - start);
	buf[len - start] = '\0';
	return len - start;
}

int io_read_fd(int fd, const char *what, char *buf, size_t cap, size_t *len,
	       char *err, size_t errlen)
{
	size_t got = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int ret = -errno;

			snprintf(err, errlen, "%s: cannot read: %s", what, strerror(-ret));
			buf[0] = '\0';
			return ret;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap) {
			snprintf(err, errlen, "%s: too long (more than %zu bytes)", what, cap - 1);
			buf[0] = '\0';
			return -EFBIG;
		}
	}
	*len = trim(buf, got);
	return 0;
}

int io_read_arg(const char *arg, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	size_t n;
	int fd, ret;

	if (!strcmp(arg, "-"))
		return io_read_fd(STDIN_FILENO, "stdin", buf, cap, len, err, errlen);
	if (arg[0] == '@') {
		fd = open(arg + 1, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", arg + 1,
				 ret == -ENOENT ? "no such file" : strerror(-ret));
			return ret;
		}
		ret = io_read_fd(fd, arg + 1, buf, cap, len, err, errlen);
		close(fd);
		return ret;
	}
	n = strlen(arg);
	if (n >= cap) {
		snprintf(err, errlen, "argument too long (more than %zu bytes)", cap - 1);
		return -EFBIG;
	}
	memcpy(buf, arg, n);
	*len = trim(buf, n);
	return 0;
}

int io_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	const char *p = data;
	size_t left = len;
	ssize_t n;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);	/* 0600, O_EXCL */
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot create a file beside it: %s", path,
			 strerror(-ret));
		return ret;
	}
	while (left && !ret) {
		n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-ret));
		unlink(tmp);
	}
	return ret;
}
