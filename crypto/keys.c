/*
 * keys.c — generation, public derivation, text form and files of 32-byte keys.
 *
 * Files are opened first and checked with fstat() on the open descriptor, so
 * the mode that is checked is the mode of the file that is read (no race
 * between a stat() and an open()). O_NONBLOCK keeps a FIFO planted at the path
 * from hanging the open; it is then refused as not a regular file.
 */
#define _GNU_SOURCE	/* mkostemp() */

#include "crypto/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/b64.h"

/* A key file is one 44-character line; anything much longer is not a key file. */
enum { KEY_FILE_MAX = 128 };

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int keys_generate(uint8_t key[KEYS_LEN])
{
	if (RAND_priv_bytes(key, KEYS_LEN) != 1) {
		OPENSSL_cleanse(key, KEYS_LEN);
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

static int derive_public(int type, const uint8_t priv[KEYS_LEN], uint8_t pub[KEYS_LEN])
{
	/* OpenSSL wipes its copy of the private key when the EVP_PKEY is freed. */
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(type, NULL, priv, KEYS_LEN);
	size_t len = KEYS_LEN;
	int ret = -EIO;

	if (pkey && EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1 && len == KEYS_LEN)
		ret = 0;
	EVP_PKEY_free(pkey);
	if (ret) {
		memset(pub, 0, KEYS_LEN);
		ERR_clear_error();
	}
	return ret;
}

int keys_public_x25519(const uint8_t priv[KEYS_LEN], uint8_t pub[KEYS_LEN])
{
	return derive_public(EVP_PKEY_X25519, priv, pub);
}

int keys_public_ed25519(const uint8_t priv[KEYS_LEN], uint8_t pub[KEYS_LEN])
{
	return derive_public(EVP_PKEY_ED25519, priv, pub);
}

void keys_to_text(const uint8_t key[KEYS_LEN], char text[KEYS_TEXT_LEN + 1])
{
	/* Cannot fail: the buffer is exactly b64_encoded_len(32) + 1. */
	(void)b64_encode(key, KEYS_LEN, text, KEYS_TEXT_LEN + 1);
}

int keys_from_text(const char *text, size_t len, uint8_t key[KEYS_LEN])
{
	size_t n = 0;

	if (len != KEYS_TEXT_LEN || b64_decode(text, len, key, KEYS_LEN, &n) || n != KEYS_LEN) {
		OPENSSL_cleanse(key, KEYS_LEN);
		return -EINVAL;
	}
	return 0;
}

static bool is_trailing_space(char c)
{
	return c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

int keys_check_file(int fd, const char *path, const char *kind, const char *secret,
		    char *err, size_t errlen)
{
	struct stat st;
	int ret;

	if (fstat(fd, &st)) {
		ret = -errno;
		say(err, errlen, "%s: cannot stat: %s", path, strerror(-ret));
		return ret;
	}
	if (S_ISDIR(st.st_mode)) {
		say(err, errlen, "%s is a directory, not a %s file", path, kind);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		say(err, errlen, "%s is not a regular file", path);
		return -EINVAL;
	}
	if (secret && (st.st_mode & 077)) {
		say(err, errlen,
		    "%s has mode %04o: a %s must not be accessible to group or others; "
		    "run: chmod 600 %s", path, (unsigned)(st.st_mode & 07777), secret, path);
		return -EPERM;
	}
	return 0;
}

/*
 * Read and parse the key file at @path; @private adds the mode check. Messages
 * never quote the file's content: it may be a private key.
 */
static int read_key_file(const char *path, bool private, uint8_t key[KEYS_LEN],
			 char *err, size_t errlen)
{
	char buf[KEY_FILE_MAX];
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	memset(key, 0, KEYS_LEN);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			say(err, errlen, "%s: no such file", path);
		else
			say(err, errlen, "%s: cannot open: %s", path, strerror(-ret));
		return ret;
	}
	ret = keys_check_file(fd, path, "key", private ? "private key" : NULL, err, errlen);
	if (ret)
		goto out;
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			say(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == sizeof(buf)) {
		ret = -EINVAL;
		say(err, errlen, "%s: not a key file (a key is one line of %d base64 characters)",
		    path, KEYS_TEXT_LEN);
		goto out;
	}
	while (len && is_trailing_space(buf[len - 1]))
		len--;
	if (!len) {
		ret = -EINVAL;
		say(err, errlen, "%s is empty", path);
		goto out;
	}
	if (len != KEYS_TEXT_LEN) {
		ret = -EINVAL;
		say(err, errlen, "%s: a key is %d base64 characters, this file has %zu",
		    path, KEYS_TEXT_LEN, len);
		goto out;
	}
	ret = keys_from_text(buf, len, key);
	if (ret)
		say(err, errlen, "%s: not a valid base64 key", path);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return ret;
}

int keys_load_private(const char *path, uint8_t key[KEYS_LEN], char *err, size_t errlen)
{
	return read_key_file(path, true, key, err, errlen);
}

int keys_load_public(const char *arg, uint8_t key[KEYS_LEN], char *err, size_t errlen)
{
	size_t len;

	if (arg[0] == '@')
		return read_key_file(arg + 1, false, key, err, errlen);
	len = strlen(arg);
	if (keys_from_text(arg, len, key)) {
		if (len != KEYS_TEXT_LEN)
			say(err, errlen, "not a key: a key is %d base64 characters, got %zu "
			    "(use @FILE to read it from a file)", KEYS_TEXT_LEN, len);
		else
			say(err, errlen, "not a valid base64 key");
		return -EINVAL;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write the key line to @fd, flush it to disk and close @fd. */
static int write_key_fd(int fd, const uint8_t key[KEYS_LEN])
{
	char line[KEYS_TEXT_LEN + 2];
	int ret;

	keys_to_text(key, line);
	line[KEYS_TEXT_LEN] = '\n';
	ret = write_all(fd, line, KEYS_TEXT_LEN + 1);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	OPENSSL_cleanse(line, sizeof(line));
	return ret;
}

int keys_save_private(const char *path, const uint8_t key[KEYS_LEN], bool overwrite,
		      char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int fd, ret;

	if (!overwrite) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0) {
			ret = -errno;
			if (ret == -EEXIST)
				say(err, errlen, "%s already exists; not overwriting a key file",
				    path);
			else
				say(err, errlen, "%s: cannot create: %s", path, strerror(-ret));
			return ret;
		}
		ret = write_key_fd(fd, key);
		if (ret) {
			say(err, errlen, "%s: cannot write: %s", path, strerror(-ret));
			unlink(path);
		}
		return ret;
	}

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		say(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* mkostemp creates the file 0600 with O_EXCL. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		say(err, errlen, "%s: cannot create a file beside it: %s", path, strerror(-ret));
		return ret;
	}
	ret = write_key_fd(fd, key);
	if (ret) {
		say(err, errlen, "%s: cannot write: %s", tmp, strerror(-ret));
		unlink(tmp);
		return ret;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		say(err, errlen, "%s: cannot replace: %s", path, strerror(-ret));
		unlink(tmp);
		return ret;
	}
	return 0;
}
