/*
 * gw_config.c — postern-gateway's settings from a libconfig file, each value
 * checked where it is set (gw_config.h), and the files they name.
 */
#define _GNU_SOURCE	/* strndup */

#include "endpoint/gw_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libconfig.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

enum {
	TOKEN_FILE_MAX = 2048,		/* a token's text is at most 960 characters */
	CERT_FILE_MAX = 256 * 1024,	/* a certificate chain */
	KEY_FILE_MAX = 64 * 1024,
	MSG_MAX = GW_CONFIG_ERR_MAX / 2,
};

static int msgf(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int msgf(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- shared helpers --------------------------------------------------------- */

/* Decimal 1..65535, no sign, no leading zero. */
static int parse_port(const char *s, size_t n, char port[GW_CONFIG_PORT_MAX + 1])
{
	unsigned v = 0;

	if (n == 0 || n > GW_CONFIG_PORT_MAX || s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	memcpy(port, s, n);
	port[n] = '\0';
	return 0;
}

/* RFC 1123 host names, plus '_' (common in internal DNS and /etc/hosts). */
static bool is_host_name(const char *s)
{
	size_t label = 0, n = strlen(s);
	bool alpha = false;

	if (n == 0 || n > GW_CONFIG_HOST_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (; *s; s++) {
		char ch = *s;

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
		if (!(ch >= '0' && ch <= '9'))
			alpha = true;
		if (++label > 63)
			return false;
	}
	/* All digits and dots would be an IPv4 address that did not parse. */
	return alpha;
}

int gw_config_parse_hostport(const char *text, char host[GW_CONFIG_HOST_MAX + 1],
			     char port[GW_CONFIG_PORT_MAX + 1], bool *literal, const char **why)
{
	const char *colon, *h = text;
	size_t hlen;
	uint8_t buf[16];

	*why = "expected HOST:PORT or [IPV6]:PORT";
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = text + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text);
		if (memchr(text, ':', hlen)) {
			*why = "an IPv6 address goes in brackets: [IPV6]:PORT";
			return -EINVAL;
		}
	}
	if (parse_port(colon + 1, strlen(colon + 1), port)) {
		*why = "the port must be a number from 1 to 65535";
		return -EINVAL;
	}
	if (hlen == 0 || hlen > GW_CONFIG_HOST_MAX) {
		*why = "no host, or a host longer than 253 characters";
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (text[0] == '[') {
		if (inet_pton(AF_INET6, host, buf) != 1) {
			*why = "not an IPv6 address inside [ ]";
			return -EINVAL;
		}
		*literal = true;
		return 0;
	}
	if (inet_pton(AF_INET, host, buf) == 1) {
		*literal = true;
		return 0;
	}
	if (!is_host_name(host)) {
		*why = "the host is neither an IP address nor a host name";
		return -EINVAL;
	}
	*literal = false;
	return 0;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int gw_config_parse_fingerprint(const char *text, uint8_t fp[GW_CONFIG_FP_LEN])
{
	size_t n = strlen(text);
	bool colons = n == 3 * GW_CONFIG_FP_LEN - 1;

	if (n != GW_CONFIG_FP_HEX_LEN && !colons)
		return -EINVAL;
	for (unsigned i = 0; i < GW_CONFIG_FP_LEN; i++) {
		const char *p = text + (colons ? 3 * i : 2 * i);
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

		if (hi < 0 || lo < 0 || (colons && i + 1 < GW_CONFIG_FP_LEN && p[2] != ':'))
			return -EINVAL;
		fp[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void gw_config_format_fingerprint(const uint8_t fp[GW_CONFIG_FP_LEN],
				  char text[GW_CONFIG_FP_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < GW_CONFIG_FP_LEN; i++) {
		text[2 * i] = hex[fp[i] >> 4];
		text[2 * i + 1] = hex[fp[i] & 15];
	}
	text[GW_CONFIG_FP_HEX_LEN] = '\0';
}

int gw_config_parse_log_level(const char *name, enum log_level *level)
{
	static const char *const names[] = {
		[LOG_LEVEL_ERROR] = "error",
		[LOG_LEVEL_WARN] = "warn",
		[LOG_LEVEL_INFO] = "info",
		[LOG_LEVEL_DEBUG] = "debug",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *gw_config_log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR: return "error";
	case LOG_LEVEL_WARN: return "warn";
	case LOG_LEVEL_INFO: return "info";
	case LOG_LEVEL_DEBUG: return "debug";
	}
	return "?";
}

void gw_config_format_time(uint64_t t, char text[GW_CONFIG_TIME_MAX])
{
	time_t sec = t > (uint64_t)INT64_MAX ? (time_t)INT64_MAX : (time_t)t;
	struct tm tm;

	if (!gmtime_r(&sec, &tm) ||
	    !strftime(text, GW_CONFIG_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(text, GW_CONFIG_TIME_MAX, "%llu (Unix time)", (unsigned long long)t);
}

/*
 * Read the whole file at @path into @buf (NUL-terminated, @cap bytes). A
 * @secret file must be a regular file with no group or other permission,
 * like a private key (crypto/keys.h): the mode checked is that of the file
 * actually read. Messages never quote the content.
 */
static int read_file(const char *path, bool secret, const char *what, char *buf, size_t cap,
		     size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			msgf(err, errlen, "%s: no such file", path);
		else
			msgf(err, errlen, "%s: cannot open: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		msgf(err, errlen, "%s: cannot stat: %s", path, strerror(-ret));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		msgf(err, errlen, "%s is a directory, not a %s file", path, what);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		msgf(err, errlen, "%s is not a regular file", path);
		goto out;
	}
	if (secret && (st.st_mode & 077)) {
		ret = -EPERM;
		msgf(err, errlen,
		     "%s has mode %04o: a %s must not be accessible to group or others; "
		     "run: chmod 600 %s",
		     path, (unsigned)(st.st_mode & 07777), what, path);
		goto out;
	}
	while (got < cap - 1) {
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			msgf(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == cap - 1) {
		ret = -EFBIG;
		msgf(err, errlen, "%s: too large for a %s file", path, what);
		goto out;
	}
	buf[got] = '\0';
	*len = got;
out:
	close(fd);
	return ret;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

int gw_config_load_token(const char *path, const char *what, enum token_role role,
			 const uint8_t pub[KEYS_LEN], uint64_t now, uint8_t buf[TOKEN_MAX_LEN],
			 size_t *len, struct token *tok, char *err, size_t errlen)
{
	char text[TOKEN_FILE_MAX], want[KEYS_TEXT_LEN + 1], when[GW_CONFIG_TIME_MAX];
	const char *reason;
	size_t n = 0;
	int ret;

	ret = read_file(path, true, "token", text, sizeof(text), &n, err, errlen);
	if (ret)
		goto out;
	while (n && is_space(text[n - 1]))
		n--;
	ret = token_from_text(text, n, buf, TOKEN_MAX_LEN, len);
	if (ret) {
		ret = msgf(err, errlen, "%s: not a token (one line: \"pt1.\" and base64url, as "
			   "posternctl token issue writes it)", path);
		goto out;
	}
	if (token_parse(buf, *len, tok)) {
		reason = token_malformed_reason(buf, *len);
		ret = msgf(err, errlen, "%s: malformed token: %s", path, reason ? reason : "?");
		goto out;
	}
	if (tok->role != role) {
		ret = msgf(err, errlen,
			   "%s: this is %s token; a %s needs %s token (posternctl token "
			   "issue --role %s)",
			   path, tok->role == TOKEN_ROLE_GATEWAY ? "a gateway" : "an agent",
			   role == TOKEN_ROLE_GATEWAY ? "gateway" : "connector",
			   role == TOKEN_ROLE_GATEWAY ? "a gateway" : "an agent",
			   role == TOKEN_ROLE_GATEWAY ? "gateway" : "agent");
		goto out;
	}
	/* The relay would refuse it (key_mismatch, §6.2): say so now, with the fix. */
	if (CRYPTO_memcmp(tok->endpoint_pub, pub, KEYS_LEN)) {
		keys_to_text(pub, want);
		ret = msgf(err, errlen, "%s: the %s was issued for another key; issue one with "
			   "--endpoint-key %s", path, what, want);
		goto out;
	}
	if (now >= TOKEN_DEFAULT_SKEW && now - TOKEN_DEFAULT_SKEW >= tok->expiry) {
		gw_config_format_time(tok->expiry, when);
		ret = msgf(err, errlen, "%s: the %s expired at %s; issue a new one", path, what,
			   when);
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(text, sizeof(text));
	if (ret) {
		OPENSSL_cleanse(buf, TOKEN_MAX_LEN);
		*len = 0;
	}
	return ret;
}

/* Never ask for a passphrase (there is no one to ask): an encrypted key fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

int gw_config_load_identity(const char *cert_path, const char *key_path,
			    uint8_t fp[GW_CONFIG_FP_LEN], char *err, size_t errlen)
{
	char *cert = malloc(CERT_FILE_MAX), *key = malloc(KEY_FILE_MAX);
	size_t cert_len = 0, key_len = 0;
	unsigned char *der = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *x509 = NULL;
	BIO *bio = NULL;
	int ret, n;

	if (!cert || !key) {
		ret = -ENOMEM;
		msgf(err, errlen, "out of memory");
		goto out;
	}
	ret = read_file(cert_path, false, "certificate", cert, CERT_FILE_MAX, &cert_len, err,
			errlen);
	if (ret)
		goto out;
	ret = read_file(key_path, true, "private key", key, KEY_FILE_MAX, &key_len, err, errlen);
	if (ret)
		goto out;
	ret = -EINVAL;
	bio = BIO_new_mem_buf(cert, (int)cert_len);
	x509 = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!x509) {
		msgf(err, errlen, "%s: no PEM certificate in it", cert_path);
		goto out;
	}
	bio = BIO_new_mem_buf(key, (int)key_len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!pkey) {
		msgf(err, errlen, "%s: no PEM private key in it (encrypted keys are not supported)",
		     key_path);
		goto out;
	}
	if (X509_check_private_key(x509, pkey) != 1) {
		msgf(err, errlen, "%s: this key does not belong to the certificate in %s", key_path,
		     cert_path);
		goto out;
	}
	/* docs/protocol.md §10: the pin is SHA-256 of the DER SubjectPublicKeyInfo. */
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509), &der);
	if (n <= 0 || !EVP_Digest(der, (size_t)n, fp, NULL, EVP_sha256(), NULL)) {
		ret = -EIO;
		msgf(err, errlen, "%s: cannot compute the fingerprint", cert_path);
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	X509_free(x509);
	if (key)
		OPENSSL_cleanse(key, KEY_FILE_MAX);
	free(key);
	free(cert);
	return ret;
}

/* ---- the file: walking libconfig ---------------------------------------------- */

static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[64], la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la >= 63 || lb >= 63)
		return UINT_MAX;
	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *gw_config_suggest(const char *name, const char *const *names, unsigned n)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (unsigned i = 0; i < n; i++) {
		unsigned d = edit_distance(name, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best;
}

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number with a fraction";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "true/false";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST: return "a list";
	default: return "something else";
	}
}

struct ctx {
	struct gw_config *c;
	const char *path;
	char *err;
	size_t errlen;
};

static void where_of(const struct ctx *f, const config_setting_t *st, char *out)
{
	const char *file = config_setting_source_file(st);

	snprintf(out, GW_CONFIG_WHERE_MAX, "%s:%u", file ? file : f->path,
		 config_setting_source_line(st));
}

/* "FILE:LINE: LABEL: why". */
static int file_err(const struct ctx *f, const config_setting_t *st, const char *label,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int file_err(const struct ctx *f, const config_setting_t *st, const char *label,
		    const char *fmt, ...)
{
	char where[GW_CONFIG_WHERE_MAX], msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where_of(f, st, where);
	snprintf(f->err, f->errlen, "%s: %s: %s", where, label, msg);
	return -EINVAL;
}

static int unknown_err(const struct ctx *f, const config_setting_t *st, const char *in,
		       const char *name, const char *const *names, unsigned n)
{
	char where[GW_CONFIG_WHERE_MAX];
	const char *near = gw_config_suggest(name, names, n);

	where_of(f, st, where);
	snprintf(f->err, f->errlen, "%s: %s%sunknown setting '%s'%s%s%s", where, in,
		 in[0] ? ": " : "", name, near ? " (did you mean '" : "", near ? near : "",
		 near ? "'?)" : "");
	return -EINVAL;
}

static int get_string(const struct ctx *f, const config_setting_t *st, const char *label,
		      const char **out)
{
	*out = "";
	if (config_setting_type(st) != CONFIG_TYPE_STRING)
		return file_err(f, st, label, "must be a string in double quotes, not %s",
				type_name(config_setting_type(st)));
	*out = config_setting_get_string(st);
	return 0;
}

/*
 * The elements of a list of strings ([ "a", "b" ] or ( "a", "b" )); a lone
 * string is a list of one. @fn checks and stores one element.
 */
typedef int (*string_fn)(const struct ctx *f, const config_setting_t *e, const char *label,
			 const char *value, unsigned index);

static int string_list(const struct ctx *f, const config_setting_t *st, const char *name,
		       string_fn fn)
{
	char label[96];
	int type = config_setting_type(st), n;

	if (type == CONFIG_TYPE_STRING)
		return fn(f, st, name, config_setting_get_string(st), 0);
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return file_err(f, st, name, "must be a list of strings [ \"...\", ... ], not %s",
				type_name(type));
	n = config_setting_length(st);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(st, (unsigned)i);
		const char *v;
		int ret;

		snprintf(label, sizeof(label), "%s[%d]", name, i);
		ret = get_string(f, e, label, &v);
		if (!ret)
			ret = fn(f, e, label, v, (unsigned)i);
		if (ret)
			return ret;
	}
	return 0;
}

/* A path setting: a non-empty string, remembered with where it was set. */
static int set_path(const struct ctx *f, const config_setting_t *st, const char *name,
		    char **field, char at[GW_CONFIG_WHERE_MAX])
{
	const char *v;
	char *copy;
	int ret;

	ret = get_string(f, st, name, &v);
	if (ret)
		return ret;
	if (!v[0])
		return file_err(f, st, name, "must not be empty");
	copy = strdup(v);
	if (!copy)
		return file_err(f, st, name, "out of memory");
	free(*field);
	*field = copy;
	where_of(f, st, at);
	return 0;
}

/* ---- relays ------------------------------------------------------------------- */

static const char *const relay_keys[] = { "address", "public_key" };

static int parse_relay(const struct ctx *f, const config_setting_t *g, unsigned index)
{
	struct gw_config *c = f->c;
	struct gw_config_relay *r = &c->relays[c->n_relays];
	char label[96], kerr[MSG_MAX];
	bool has_addr = false, has_key = false, literal;
	const char *v, *why;
	int n = config_setting_length(g);

	snprintf(label, sizeof(label), "relays[%u]", index);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return file_err(f, g, label,
				"must be a group { address = \"HOST:PORT\"; "
				"public_key = \"KEY\"; }, not %s",
				type_name(config_setting_type(g)));
	if (c->n_relays == GW_CONFIG_MAX_RELAYS)
		return file_err(f, g, label, "at most %d relays", GW_CONFIG_MAX_RELAYS);
	memset(r, 0, sizeof(*r));
	where_of(f, g, r->where);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char mlabel[128];

		snprintf(mlabel, sizeof(mlabel), "%s.%s", label, name);
		if (!strcmp(name, "address")) {
			if (get_string(f, m, mlabel, &v))
				return -EINVAL;
			if (strlen(v) > GW_CONFIG_ADDR_MAX ||
			    gw_config_parse_hostport(v, r->host, r->port, &literal, &why))
				return file_err(f, m, mlabel, "'%.100s': %s", v,
						strlen(v) > GW_CONFIG_ADDR_MAX ? "too long" : why);
			snprintf(r->address, sizeof(r->address), "%s", v);
			has_addr = true;
		} else if (!strcmp(name, "public_key")) {
			if (get_string(f, m, mlabel, &v))
				return -EINVAL;
			if (keys_load_public(v, r->public_key, kerr, sizeof(kerr)))
				return file_err(f, m, mlabel, "%s", kerr);
			has_key = true;
		} else {
			return unknown_err(f, m, label, name, relay_keys, 2);
		}
	}
	if (!has_addr || !has_key)
		return file_err(f, g, label, "needs %s (relays = ( { address = \"HOST:PORT\"; "
				"public_key = \"KEY\"; } ))", has_addr ? "public_key" : "address");
	for (unsigned i = 0; i < c->n_relays; i++)
		if (!strcmp(c->relays[i].host, r->host) && !strcmp(c->relays[i].port, r->port))
			return file_err(f, g, label, "'%s' is listed twice (also at %s)",
					r->address, c->relays[i].where);
	c->n_relays++;
	return 0;
}

static int set_relays(const struct ctx *f, const config_setting_t *st)
{
	int type = config_setting_type(st), n;

	f->c->n_relays = 0;
	if (type == CONFIG_TYPE_GROUP)
		return parse_relay(f, st, 0);
	if (type != CONFIG_TYPE_LIST)
		return file_err(f, st, "relays", "must be a list of groups ( { address = ...; "
				"public_key = ...; }, ... ), not %s", type_name(type));
	n = config_setting_length(st);
	for (int i = 0; i < n; i++) {
		int ret = parse_relay(f, config_setting_get_elem(st, (unsigned)i), (unsigned)i);

		if (ret)
			return ret;
	}
	return 0;
}

/* ---- agents ------------------------------------------------------------------- */

static int add_agent(const struct ctx *f, const config_setting_t *e, const char *label,
		     const char *v, unsigned index)
{
	struct gw_config *c = f->c;
	uint8_t fp[GW_CONFIG_FP_LEN];

	(void)index;
	if (!strcmp(v, "any") || !strcmp(v, "*"))
		return file_err(
			f, e, label,
			"'%s': there is no wildcard: list each agent's "
			"certificate fingerprint (postern-connect --check-config prints it)",
			v);
	if (gw_config_parse_fingerprint(v, fp))
		return file_err(f, e, label,
				"'%.100s': a fingerprint is 64 hex digits (the SHA-256 "
				"of the agent's certificate)",
				v);
	for (unsigned i = 0; i < c->n_agents; i++)
		if (!memcmp(c->agents[i], fp, sizeof(fp)))
			return file_err(f, e, label, "'%.100s' is listed twice", v);
	if (c->n_agents == GW_CONFIG_MAX_AGENTS)
		return file_err(f, e, label, "at most %d agents", GW_CONFIG_MAX_AGENTS);
	memcpy(c->agents[c->n_agents++], fp, sizeof(fp));
	return 0;
}

static int set_agents(const struct ctx *f, const config_setting_t *st)
{
	struct gw_config *c = f->c;

	if (!c->agents) {
		c->agents = calloc(GW_CONFIG_MAX_AGENTS, sizeof(*c->agents));
		if (!c->agents)
			return file_err(f, st, "agents", "out of memory");
	}
	c->n_agents = 0;
	return string_list(f, st, "agents", add_agent);
}

/* ---- allowed_ips -------------------------------------------------------------- */

static int add_allowed(const struct ctx *f, const config_setting_t *e, const char *label,
		       const char *v, unsigned index)
{
	char why[ALLOWLIST_REASON_MAX];

	(void)index;
	if (allowlist_add(f->c->allowed_ips, v, why, sizeof(why)))
		return file_err(f, e, label, "%s", why);
	return 0;
}

static int set_allowed_ips(const struct ctx *f, const config_setting_t *st)
{
	struct allowlist *a;

	/* A configured list replaces the default one entirely (allowlist.h). */
	if (allowlist_create(&a))
		return file_err(f, st, "allowed_ips", "out of memory");
	allowlist_destroy(f->c->allowed_ips);
	f->c->allowed_ips = a;
	return string_list(f, st, "allowed_ips", add_allowed);
}

/* ---- routes ------------------------------------------------------------------- */

static const char *const route_keys[] = { "name", "upstream", "command", "env", "cwd" };

static void free_route(struct gw_route *r)
{
	free(r->upstream);
	free(r->host);
	free(r->port);
	for (unsigned i = 0; i < r->argc; i++)
		free(r->argv[i]);
	free(r->argv);
	for (unsigned i = 0; i < r->envc; i++)
		free(r->envp[i]);
	free(r->envp);
	free(r->cwd);
	memset(r, 0, sizeof(*r));
}

static int route_upstream(const struct ctx *f, const config_setting_t *m, const char *label,
			  struct gw_route *r)
{
	char host[GW_CONFIG_HOST_MAX + 1], port[GW_CONFIG_PORT_MAX + 1];
	const char *v, *why;

	if (get_string(f, m, label, &v))
		return -EINVAL;
	if (strncmp(v, "tcp://", 6))
		return file_err(f, m, label, "'%.100s': expected tcp://HOST:PORT (or a command = "
				"[ ... ] instead of upstream)", v);
	if (strlen(v + 6) > GW_CONFIG_ADDR_MAX ||
	    gw_config_parse_hostport(v + 6, host, port, &r->host_is_literal, &why))
		return file_err(f, m, label, "'%.100s': %s", v,
				strlen(v + 6) > GW_CONFIG_ADDR_MAX ? "too long" : why);
	r->upstream = strdup(v);
	r->host = strdup(host);
	r->port = strdup(port);
	if (!r->upstream || !r->host || !r->port)
		return file_err(f, m, label, "out of memory");
	return 0;
}

/* A list of strings into a NULL-terminated array (command, env). */
static int route_strings(const struct ctx *f, const config_setting_t *m, const char *label,
			 char ***out, unsigned *count)
{
	int type = config_setting_type(m), n;
	char elabel[160];

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return file_err(f, m, label, "must be a list of strings [ \"...\", ... ], not %s",
				type_name(type));
	n = config_setting_length(m);
	if (n > GW_CONFIG_MAX_ARGS)
		return file_err(f, m, label, "at most %d entries", GW_CONFIG_MAX_ARGS);
	*out = calloc((size_t)n + 1, sizeof(char *));
	if (!*out)
		return file_err(f, m, label, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
		const char *v;

		snprintf(elabel, sizeof(elabel), "%s[%d]", label, i);
		if (get_string(f, e, elabel, &v))
			return -EINVAL;
		(*out)[i] = strdup(v);
		if (!(*out)[i])
			return file_err(f, e, elabel, "out of memory");
		*count = (unsigned)i + 1;
	}
	return 0;
}

static bool is_env_name(const char *s, size_t n)
{
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int check_env(const struct ctx *f, const config_setting_t *m, const char *label,
		     const struct gw_route *r)
{
	for (unsigned i = 0; i < r->envc; i++) {
		const char *eq = strchr(r->envp[i], '=');
		size_t n = eq ? (size_t)(eq - r->envp[i]) : 0;
		const config_setting_t *e = config_setting_get_elem(m, i);
		char elabel[160];

		snprintf(elabel, sizeof(elabel), "%s[%u]", label, i);
		if (!eq || !is_env_name(r->envp[i], n))
			return file_err(f, e, elabel, "'%.60s': expected NAME=VALUE, NAME of "
					"[A-Za-z0-9_] not starting with a digit", r->envp[i]);
		for (unsigned k = 0; k < i; k++)
			if (!strncmp(r->envp[k], r->envp[i], n + 1))
				return file_err(f, e, elabel, "%.*s is set twice", (int)n,
						r->envp[i]);
	}
	return 0;
}

static int parse_route(const struct ctx *f, const config_setting_t *g, unsigned index,
		       struct gw_route *r)
{
	const config_setting_t *cmd = NULL, *env = NULL, *cwd = NULL, *up = NULL;
	char label[64], mlabel[128];
	const char *v;
	int n = config_setting_length(g), ret;

	snprintf(label, sizeof(label), "routes[%u]", index);
	where_of(f, g, r->where);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return file_err(f, g, label, "must be a group { name = \"...\"; upstream = "
				"\"tcp://HOST:PORT\"; } or { name = \"...\"; command = [ ... ]; }, "
				"not %s", type_name(config_setting_type(g)));
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);

		snprintf(mlabel, sizeof(mlabel), "%s.%s", label, name);
		if (!strcmp(name, "name")) {
			if (get_string(f, m, mlabel, &v))
				return -EINVAL;
			if (!token_name_is_valid(v))
				return file_err(f, m, mlabel, "'%.100s': a route name is 1 to %d "
						"characters of [A-Za-z0-9._-]", v,
						GW_CONFIG_NAME_MAX);
			snprintf(r->name, sizeof(r->name), "%s", v);
		} else if (!strcmp(name, "upstream")) {
			ret = route_upstream(f, m, mlabel, r);
			if (ret)
				return ret;
			up = m;
		} else if (!strcmp(name, "command")) {
			ret = route_strings(f, m, mlabel, &r->argv, &r->argc);
			if (ret)
				return ret;
			if (!r->argc)
				return file_err(f, m, mlabel, "must name a program");
			if (r->argv[0][0] != '/')
				return file_err(f, m, mlabel, "'%.100s': the program must be an "
						"absolute path (the gateway does not search PATH)",
						r->argv[0]);
			cmd = m;
		} else if (!strcmp(name, "env")) {
			ret = route_strings(f, m, mlabel, &r->envp, &r->envc);
			if (!ret)
				ret = check_env(f, m, mlabel, r);
			if (ret)
				return ret;
			env = m;
		} else if (!strcmp(name, "cwd")) {
			if (get_string(f, m, mlabel, &v))
				return -EINVAL;
			if (v[0] != '/')
				return file_err(f, m, mlabel, "'%.100s': must be an absolute path",
						v);
			r->cwd = strdup(v);
			if (!r->cwd)
				return file_err(f, m, mlabel, "out of memory");
			cwd = m;
		} else {
			return unknown_err(f, m, label, name, route_keys,
					   sizeof(route_keys) / sizeof(route_keys[0]));
		}
	}
	if (!r->name[0])
		return file_err(f, g, label, "needs a name");
	if (!up && !cmd)
		return file_err(f, g, label, "route '%s' needs upstream = \"tcp://HOST:PORT\" or "
				"command = [ \"/path/to/program\", ... ]", r->name);
	if (up && cmd)
		return file_err(f, cmd, label, "route '%s' has both upstream and command; a route "
				"is one or the other", r->name);
	if (up && (env || cwd))
		return file_err(f, env ? env : cwd, label, "route '%s': %s applies to a command, "
				"not to a tcp upstream", r->name, env ? "env" : "cwd");
	if (up) {
		r->target.kind = UPSTREAM_TCP;
		r->target.host = r->host;
		r->target.port = r->port;
	} else {
		r->target.kind = UPSTREAM_STDIO;
		r->target.argv = r->argv;
		if (!r->envp) {
			r->envp = calloc(1, sizeof(char *));
			if (!r->envp)
				return file_err(f, g, label, "out of memory");
		}
		r->target.envp = r->envp;
		r->target.cwd = r->cwd;
	}
	return 0;
}

static void free_routes(struct gw_config *c)
{
	for (unsigned i = 0; i < c->n_routes; i++)
		free_route(&c->routes[i]);
	free(c->routes);
	c->routes = NULL;
	c->n_routes = 0;
}

static int set_routes(const struct ctx *f, const config_setting_t *st)
{
	struct gw_config *c = f->c;
	int type = config_setting_type(st), n = 1;

	free_routes(c);
	if (type == CONFIG_TYPE_LIST)
		n = config_setting_length(st);
	else if (type != CONFIG_TYPE_GROUP)
		return file_err(f, st, "routes", "must be a list of groups ( { name = ...; "
				"upstream = ...; }, ... ), not %s", type_name(type));
	if (n > GW_CONFIG_MAX_ROUTES)
		return file_err(f, st, "routes", "at most %d routes", GW_CONFIG_MAX_ROUTES);
	/* Allocated once: each route's target points at its own strings. */
	c->routes = calloc((size_t)n + 1, sizeof(*c->routes));
	if (!c->routes)
		return file_err(f, st, "routes", "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = type == CONFIG_TYPE_GROUP ? st :
					    config_setting_get_elem(st, (unsigned)i);
		struct gw_route *r = &c->routes[c->n_routes];
		int ret;

		/* Counted first, so free_routes() frees a half-parsed route too. */
		c->n_routes++;
		ret = parse_route(f, g, (unsigned)i, r);
		if (ret)
			return ret;
		for (unsigned k = 0; k + 1 < c->n_routes; k++) {
			char label[64];

			if (strcmp(c->routes[k].name, r->name))
				continue;
			snprintf(label, sizeof(label), "routes[%d].name", i);
			return file_err(f, g, label, "'%s' is already the name of routes[%u] (%s)",
					r->name, k, c->routes[k].where);
		}
	}
	return 0;
}

/* ---- scalars ------------------------------------------------------------------ */

static int set_private_key(const struct ctx *f, const config_setting_t *st)
{
	return set_path(f, st, "private_key", &f->c->private_key, f->c->private_key_at);
}

static int set_token(const struct ctx *f, const config_setting_t *st)
{
	return set_path(f, st, "token", &f->c->token, f->c->token_at);
}

static int set_certificate(const struct ctx *f, const config_setting_t *st)
{
	return set_path(f, st, "certificate", &f->c->certificate, f->c->certificate_at);
}

static int set_certificate_key(const struct ctx *f, const config_setting_t *st)
{
	return set_path(f, st, "certificate_key", &f->c->certificate_key,
			f->c->certificate_key_at);
}

static int set_shutdown_timeout(const struct ctx *f, const config_setting_t *st)
{
	int type = config_setting_type(st);
	long long v;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return file_err(f, st, "shutdown_timeout", "must be an integer (seconds), not %s",
				type_name(type));
	v = config_setting_get_int64(st);
	if (v < 0 || v > GW_CONFIG_MAX_SHUTDOWN_TIMEOUT)
		return file_err(f, st, "shutdown_timeout", "must be an integer from 0 to %d",
				GW_CONFIG_MAX_SHUTDOWN_TIMEOUT);
	f->c->shutdown_timeout = (unsigned)v;
	return 0;
}

static int set_audit_log(const struct ctx *f, const config_setting_t *st)
{
	const char *v;
	char *copy;

	if (get_string(f, st, "audit_log", &v))
		return -EINVAL;
	if (strcmp(v, "stderr") && v[0] != '/')
		return file_err(f, st, "audit_log", "'%.100s': expected \"stderr\" or an absolute "
				"path", v);
	copy = strdup(v);
	if (!copy)
		return file_err(f, st, "audit_log", "out of memory");
	free(f->c->audit_log);
	f->c->audit_log = copy;
	return 0;
}

static int set_log_level(const struct ctx *f, const config_setting_t *st)
{
	const char *v;

	if (get_string(f, st, "log_level", &v))
		return -EINVAL;
	if (gw_config_parse_log_level(v, &f->c->log_level))
		return file_err(f, st, "log_level", "'%.40s': expected one of %s", v,
				LOG_LEVEL_NAMES);
	return 0;
}

static const struct {
	const char *name;
	int (*set)(const struct ctx *f, const config_setting_t *st);
} settings[] = {
	{ "relays", set_relays },
	{ "private_key", set_private_key },
	{ "token", set_token },
	{ "certificate", set_certificate },
	{ "certificate_key", set_certificate_key },
	{ "agents", set_agents },
	{ "routes", set_routes },
	{ "allowed_ips", set_allowed_ips },
	{ "shutdown_timeout", set_shutdown_timeout },
	{ "audit_log", set_audit_log },
	{ "log_level", set_log_level },
};

enum { N_SETTINGS = sizeof(settings) / sizeof(settings[0]) };

static int file_root(const struct ctx *f, const config_setting_t *root)
{
	const char *names[N_SETTINGS];
	int n = config_setting_length(root);

	for (unsigned i = 0; i < N_SETTINGS; i++)
		names[i] = settings[i].name;
	for (int i = 0; i < n; i++) {
		const config_setting_t *st = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(st);
		unsigned k;
		int ret;

		for (k = 0; k < N_SETTINGS; k++)
			if (!strcmp(settings[k].name, name))
				break;
		if (k == N_SETTINGS)
			return unknown_err(f, st, "", name, names, N_SETTINGS);
		ret = settings[k].set(f, st);
		if (ret)
			return ret;
	}
	return 0;
}

/* What must be present, and what settings must agree on. */
static int check_whole(const struct ctx *f)
{
	static const struct {
		const char *name, *hint;
	} required[] = {
		{ "relays", "relays = ( { address = \"HOST:PORT\"; public_key = \"KEY\"; } );" },
		{ "private_key", "the gateway's X25519 key file (posternctl genkey)" },
		{ "token", "the tunnel token file (posternctl token issue --role gateway)" },
		{ "certificate", "the gateway's PEM certificate, which connectors pin" },
		{ "certificate_key", "the PEM private key of certificate" },
		{ "agents", "the fingerprints of the agent certificates allowed in" },
		{ "routes", "routes = ( { name = \"...\"; upstream = \"tcp://HOST:PORT\"; } );" },
	};
	struct gw_config *c = f->c;
	const bool present[] = { c->n_relays, c->private_key, c->token, c->certificate,
				 c->certificate_key, c->n_agents, c->n_routes };
	char why[ALLOWLIST_REASON_MAX];

	for (unsigned i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!present[i])
			return msgf(f->err, f->errlen, "%s: %s: not set (%s)", f->path,
				    required[i].name, required[i].hint);
	/* A literal upstream outside allowed_ips could never be reached: say so now. */
	for (unsigned i = 0; i < c->n_routes; i++) {
		const struct gw_route *r = &c->routes[i];
		struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
					  .ai_socktype = SOCK_STREAM };
		struct addrinfo *ai;
		bool ok;

		if (r->target.kind != UPSTREAM_TCP || !r->host_is_literal)
			continue;
		if (getaddrinfo(r->host, r->port, &hints, &ai))
			continue;
		ok = allowlist_check(c->allowed_ips, ai->ai_addr, why, sizeof(why));
		freeaddrinfo(ai);
		if (!ok)
			return msgf(f->err, f->errlen,
				    "%s: routes[%u].upstream: %s; add it to "
				    "allowed_ips if this route is meant to reach it",
				    r->where, i, why);
	}
	return 0;
}

/* The directory of @path, for @include lines relative to the file. */
static void dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else
		snprintf(out, len, "%.*s", (int)(slash == path ? 1 : slash - path), path);
}

int gw_config_load(struct gw_config *c, const char *path, char *err, size_t errlen)
{
	struct ctx f = { .c = c, .path = path, .err = err, .errlen = errlen };
	char dir[PATH_MAX];
	config_t cfg;
	FILE *fp;
	int ret;

	c->file = path;
	fp = fopen(path, "re");
	if (!fp) {
		ret = -errno;
		msgf(err, errlen, "%s: cannot read the configuration: %s", path, strerror(-ret));
		return ret;
	}
	config_init(&cfg);
	dir_of(path, dir, sizeof(dir));
	config_set_include_dir(&cfg, dir);
	if (!config_read(&cfg, fp)) {
		const char *file = config_error_file(&cfg);

		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			msgf(err, errlen, "%s: cannot read: %s", file ? file : path,
			     config_error_text(&cfg));
		else
			msgf(err, errlen, "%s:%d: syntax error: %s", file ? file : path,
			     config_error_line(&cfg), config_error_text(&cfg));
		ret = -EINVAL;
	} else {
		ret = file_root(&f, config_root_setting(&cfg));
		if (!ret)
			ret = check_whole(&f);
	}
	config_destroy(&cfg);
	fclose(fp);
	return ret;
}

/* ---- defaults, files, teardown -------------------------------------------------- */

int gw_config_init(struct gw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->shutdown_timeout = GW_CONFIG_DEFAULT_SHUTDOWN_TIMEOUT;
	c->log_level = LOG_LEVEL_INFO;
	c->audit_log = strdup("stderr");
	if (!c->audit_log || allowlist_create_default(&c->allowed_ips)) {
		free(c->audit_log);
		c->audit_log = NULL;
		return -ENOMEM;
	}
	return 0;
}

void gw_config_free(struct gw_config *c)
{
	OPENSSL_cleanse(c->static_priv, sizeof(c->static_priv));
	free(c->private_key);
	free(c->token);
	free(c->certificate);
	free(c->certificate_key);
	free(c->agents);
	free_routes(c);
	allowlist_destroy(c->allowed_ips);
	free(c->audit_log);
	memset(c, 0, sizeof(*c));
}

int gw_config_load_files(struct gw_config *c, uint64_t now, char *err, size_t errlen)
{
	char ferr[MSG_MAX];
	int ret;

	ret = keys_load_private(c->private_key, c->static_priv, ferr, sizeof(ferr));
	if (ret) {
		msgf(err, errlen, "%s: private_key: %s", c->private_key_at, ferr);
		goto out;
	}
	ret = keys_public_x25519(c->static_priv, c->static_pub);
	if (ret) {
		msgf(err, errlen, "%s: private_key: cannot derive the public key",
		     c->private_key_at);
		goto out;
	}
	ret = gw_config_load_token(c->token, "token", TOKEN_ROLE_GATEWAY, c->static_pub, now,
				   c->token_bytes, &c->token_len, &c->token_info, ferr,
				   sizeof(ferr));
	if (ret) {
		msgf(err, errlen, "%s: token: %s", c->token_at, ferr);
		goto out;
	}
	ret = gw_config_load_identity(c->certificate, c->certificate_key, c->fingerprint, ferr,
				      sizeof(ferr));
	if (ret) {
		msgf(err, errlen, "%s: certificate: %s", c->certificate_at, ferr);
		goto out;
	}
	c->files_loaded = true;
out:
	if (ret)
		OPENSSL_cleanse(c->static_priv, sizeof(c->static_priv));
	return ret;
}

const struct gw_route *gw_config_find_route(const struct gw_config *c, const char *name)
{
	for (unsigned i = 0; i < c->n_routes; i++)
		if (!strcmp(c->routes[i].name, name))
			return &c->routes[i];
	return NULL;
}

bool gw_config_agent_allowed(const struct gw_config *c, const uint8_t fp[GW_CONFIG_FP_LEN])
{
	bool found = false;

	/* Every entry is compared in full, so timing says nothing about the list. */
	for (unsigned i = 0; i < c->n_agents; i++)
		found |= !CRYPTO_memcmp(c->agents[i], fp, GW_CONFIG_FP_LEN);
	return found;
}

/* ---- the command line ----------------------------------------------------------- */

enum { OPT_VERSION = 900, OPT_CHECK };

int gw_config_parse_args(struct gw_config_args *a, int argc, char **argv, char *err,
			 size_t errlen)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	a->file = GW_CONFIG_DEFAULT_FILE;
	optind = 0;	/* glibc: start over, this may run more than once (tests) */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->file = optarg;
			break;
		case 'h':
			a->action = GW_CONFIG_HELP;
			return 0;
		case OPT_VERSION:
			a->action = GW_CONFIG_VERSION;
			return 0;
		case OPT_CHECK:
			a->action = GW_CONFIG_CHECK;
			break;
		case ':':
			return msgf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		default:
			return msgf(err, errlen,
				    "unknown option '%s' (settings go in the file given "
				    "with -c)",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return msgf(err, errlen, "unexpected argument '%s' (settings go in the file given "
			    "with -c)", argv[optind]);
	return 0;
}

const char *gw_config_usage(void)
{
	return "Usage: postern-gateway [-c FILE] [--check-config]\n"
	       "\n"
	       "Postern's gateway: dials out to relays and connects agents' streams to the\n"
	       "routes it serves (docs/gateway.md). Every setting is in the file.\n"
	       "\n"
	       "  -c, --config FILE     configuration file (libconfig syntax), default\n"
	       "                        " GW_CONFIG_DEFAULT_FILE "\n"
	       "      --check-config    validate everything, print the effective\n"
	       "                        configuration, exit\n"
	       "  -h, --help            this text\n"
	       "      --version         print the version\n"
	       "\n"
	       "Exit status: 0 after a clean shutdown or --check-config; 1 for an invalid\n"
	       "configuration or a start-up failure; 2 for a usage error.\n";
}

/* ---- printing ------------------------------------------------------------------- */

/* A libconfig string literal: quotes and backslashes escaped. */
static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void put_path(FILE *out, const char *name, const char *path)
{
	fprintf(out, "%s = ", name);
	put_string(out, path ? path : "");
	fputs(";\n", out);
}

static void put_route(FILE *out, const struct gw_route *r, bool last)
{
	fputs("  { name = ", out);
	put_string(out, r->name);
	if (r->target.kind == UPSTREAM_TCP) {
		fputs("; upstream = ", out);
		put_string(out, r->upstream);
		fprintf(out, "; }%s\n", last ? "" : ",");
		return;
	}
	fputs(";\n    command = [", out);
	for (unsigned i = 0; i < r->argc; i++) {
		fputs(i ? ", " : " ", out);
		put_string(out, r->argv[i]);
	}
	fputs(" ];\n", out);
	if (r->cwd) {
		fputs("    cwd = ", out);
		put_string(out, r->cwd);
		fputs(";\n", out);
	}
	/* Values may be secrets (API keys): only the names are shown. */
	if (r->envc) {
		fputs("    # env: ", out);
		for (unsigned i = 0; i < r->envc; i++)
			fprintf(out, "%s%.*s", i ? ", " : "", (int)strcspn(r->envp[i], "="),
				r->envp[i]);
		fputs(" (values not shown)\n", out);
	}
	fprintf(out, "  }%s\n", last ? "" : ",");
}

int gw_config_print(const struct gw_config *c, FILE *out)
{
	char key[KEYS_TEXT_LEN + 1], fp[GW_CONFIG_FP_HEX_LEN + 1], net[ALLOWLIST_TEXT_MAX];
	char when[GW_CONFIG_TIME_MAX];

	fprintf(out, "# postern-gateway %s: effective configuration (%s)\n", POSTERN_VERSION,
		c->file ? c->file : "no file");
	fputs("relays = (\n", out);
	for (unsigned i = 0; i < c->n_relays; i++) {
		keys_to_text(c->relays[i].public_key, key);
		fputs("  { address = ", out);
		put_string(out, c->relays[i].address);
		fprintf(out, "; public_key = \"%s\"; }%s\n", key,
			i + 1 < c->n_relays ? "," : "");
	}
	fputs(");\n", out);
	put_path(out, "private_key", c->private_key);
	if (c->files_loaded) {
		keys_to_text(c->static_pub, key);
		fprintf(out, "# the gateway's public key (for posternctl token issue): %s\n", key);
	}
	put_path(out, "token", c->token);
	if (c->files_loaded) {
		fprintf(out, "# token: tenant %s, tunnels", c->token_info.tenant);
		for (unsigned i = 0; i < c->token_info.n_tunnels; i++)
			fprintf(out, "%s %s", i ? "," : "", c->token_info.tunnels[i]);
		gw_config_format_time(c->token_info.expiry, when);
		fprintf(out, "; expires %s\n", when);
	}
	put_path(out, "certificate", c->certificate);
	put_path(out, "certificate_key", c->certificate_key);
	if (c->files_loaded) {
		gw_config_format_fingerprint(c->fingerprint, fp);
		fprintf(out, "# the gateway's fingerprint (connectors pin it): %s\n", fp);
	}
	fputs("agents = [", out);
	for (unsigned i = 0; i < c->n_agents; i++) {
		gw_config_format_fingerprint(c->agents[i], fp);
		fprintf(out, "%s\n  \"%s\"", i ? "," : "", fp);
	}
	fputs(" ];\n", out);
	fputs("routes = (\n", out);
	for (unsigned i = 0; i < c->n_routes; i++)
		put_route(out, &c->routes[i], i + 1 == c->n_routes);
	fputs(");\n", out);
	if (allowlist_is_default(c->allowed_ips))
		fputs("# allowed_ips is not set: the default list ('!' marks an exception)\n# ",
		      out);
	fputs("allowed_ips = [", out);
	for (unsigned i = 0; i < allowlist_count(c->allowed_ips); i++) {
		allowlist_format(c->allowed_ips, i, net);
		fprintf(out, "%s \"%s\"", i ? "," : "", net);
	}
	fputs(" ];\n", out);
	fprintf(out, "shutdown_timeout = %u;\n", c->shutdown_timeout);
	put_path(out, "audit_log", c->audit_log);
	fprintf(out, "log_level = \"%s\";\n", gw_config_log_level_name(c->log_level));
	return fflush(out) || ferror(out) ? -EIO : 0;
}
