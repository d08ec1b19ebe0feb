/*
 * cfgfile.c — a configuration file in libconfig syntax, walked and its errors
 * worded alike for every Postern binary (cfgfile.h).
 */
#include "relay/cfgfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

int cfgfile_msg(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- loading ----------------------------------------------------------------------- */

/* The directory of @path, for @include lines relative to the file. */
static void dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else
		snprintf(out, len, "%.*s", (int)(slash == path ? 1 : slash - path), path);
}

int cfgfile_load(const char *path, cfgfile_root_fn fn, void *arg, char *err, size_t errlen)
{
	struct cfgfile f = { .path = path, .err = err, .errlen = errlen };
	char dir[PATH_MAX];
	config_t cfg;
	FILE *fp;
	int ret;

	fp = fopen(path, "re");
	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot read the configuration: %s", path,
			 strerror(-ret));
		return ret;
	}
	config_init(&cfg);
	dir_of(path, dir, sizeof(dir));
	config_set_include_dir(&cfg, dir);
	if (!config_read(&cfg, fp)) {
		const char *file = config_error_file(&cfg);

		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", file ? file : path,
				 config_error_text(&cfg));
		else
			snprintf(err, errlen, "%s:%d: syntax error: %s", file ? file : path,
				 config_error_line(&cfg), config_error_text(&cfg));
		ret = -EINVAL;
	} else {
		ret = fn(&f, config_root_setting(&cfg), arg);
	}
	config_destroy(&cfg);
	fclose(fp);
	return ret;
}

/* ---- messages ---------------------------------------------------------------------- */

void cfgfile_where(const struct cfgfile *f, const config_setting_t *st,
		   char where[CFGFILE_WHERE_MAX])
{
	const char *file = config_setting_source_file(st);

	snprintf(where, CFGFILE_WHERE_MAX, "%s:%u", file ? file : f->path,
		 config_setting_source_line(st));
}

int cfgfile_err(const struct cfgfile *f, const config_setting_t *st, const char *label,
		const char *fmt, ...)
{
	char where[CFGFILE_WHERE_MAX], msg[CFGFILE_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfgfile_where(f, st, where);
	snprintf(f->err, f->errlen, "%s: %s: %s", where, label, msg);
	return -EINVAL;
}

int cfgfile_unknown(const struct cfgfile *f, const config_setting_t *st, const char *in,
		    const char *name, const char *const *names, unsigned n)
{
	const char *near = cfgfile_suggest(name, names, n);
	char where[CFGFILE_WHERE_MAX];

	cfgfile_where(f, st, where);
	snprintf(f->err, f->errlen, "%s: %s%sunknown setting '%s'%s%s%s", where, in,
		 in[0] ? ": " : "", name, near ? " (did you mean '" : "", near ? near : "",
		 near ? "'?)" : "");
	return -EINVAL;
}

/* Levenshtein distance, one row at a time; UINT_MAX for names too long to be typos. */
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

const char *cfgfile_suggest(const char *name, const char *const *names, unsigned n)
{
	const char *best = NULL;
	unsigned best_d = CFGFILE_SUGGEST_EDITS + 1;

	for (unsigned i = 0; i < n; i++) {
		unsigned d = edit_distance(name, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best;
}

const char *cfgfile_type_name(int type)
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

/* ---- typed values ------------------------------------------------------------------ */

int cfgfile_get_string(const struct cfgfile *f, const config_setting_t *st, const char *label,
		       const char **out)
{
	int type = config_setting_type(st);

	*out = "";
	if (type != CONFIG_TYPE_STRING)
		return cfgfile_err(f, st, label, "must be a string in double quotes, not %s",
				   cfgfile_type_name(type));
	*out = config_setting_get_string(st);
	return 0;
}

int cfgfile_get_int(const struct cfgfile *f, const config_setting_t *st, const char *label,
		    long long min, long long max, const char *unit, long long *out)
{
	int type = config_setting_type(st);
	long long v;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return cfgfile_err(f, st, label, "must be an integer%s%s%s, not %s",
				   unit ? " (" : "", unit ? unit : "", unit ? ")" : "",
				   cfgfile_type_name(type));
	v = config_setting_get_int64(st);
	if (v < min || v > max)
		return cfgfile_err(f, st, label, "must be an integer from %lld to %lld", min, max);
	*out = v;
	return 0;
}

int cfgfile_get_bool(const struct cfgfile *f, const config_setting_t *st, const char *label,
		     bool *out)
{
	int type = config_setting_type(st);

	if (type != CONFIG_TYPE_BOOL)
		return cfgfile_err(f, st, label, "must be true or false, not %s",
				   cfgfile_type_name(type));
	*out = config_setting_get_bool(st) != 0;
	return 0;
}

/* ---- lists ------------------------------------------------------------------------- */

static bool is_list(int type)
{
	return type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST;
}

int cfgfile_string_list(const struct cfgfile *f, const config_setting_t *st, const char *label,
			cfgfile_string_fn fn, void *arg)
{
	char elem[CFGFILE_LABEL_MAX];
	int type = config_setting_type(st), n;

	/* A lone string is a one-element list: `listen = "0.0.0.0:51820";`. */
	if (type == CONFIG_TYPE_STRING)
		return fn(f, st, label, config_setting_get_string(st), 0, arg);
	if (!is_list(type))
		return cfgfile_err(f, st, label,
				   "must be a list of strings [ \"...\", ... ], not %s",
				   cfgfile_type_name(type));
	n = config_setting_length(st);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(st, (unsigned)i);
		int etype = config_setting_type(e), ret;

		snprintf(elem, sizeof(elem), "%s[%d]", label, i);
		if (etype != CONFIG_TYPE_STRING)
			return cfgfile_err(f, e, elem, "must be a string, not %s",
					   cfgfile_type_name(etype));
		ret = fn(f, e, elem, config_setting_get_string(e), (unsigned)i, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int cfgfile_group_list(const struct cfgfile *f, const config_setting_t *st, const char *label,
		       const char *list_shape, const char *group_shape, cfgfile_group_fn fn,
		       void *arg)
{
	char elem[CFGFILE_LABEL_MAX];
	int type = config_setting_type(st), n = 1;

	/* A lone group is a one-element list: `relays = { address = ...; };`. */
	if (type == CONFIG_TYPE_LIST)
		n = config_setting_length(st);
	else if (type != CONFIG_TYPE_GROUP)
		return cfgfile_err(f, st, label, "must be %s, not %s", list_shape,
				   cfgfile_type_name(type));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = type == CONFIG_TYPE_GROUP ? st :
					    config_setting_get_elem(st, (unsigned)i);
		int gtype = config_setting_type(g), ret;

		snprintf(elem, sizeof(elem), "%s[%d]", label, i);
		if (gtype != CONFIG_TYPE_GROUP)
			return cfgfile_err(f, g, elem, "must be %s, not %s", group_shape,
					   cfgfile_type_name(gtype));
		ret = fn(f, g, elem, (unsigned)i, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int cfgfile_members(const struct cfgfile *f, const config_setting_t *g, const char *label,
		    const char *const *names, unsigned n, cfgfile_member_fn fn, void *arg)
{
	char mlabel[CFGFILE_LABEL_MAX];
	int members = config_setting_length(g);

	for (int i = 0; i < members; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		unsigned k;
		int ret;

		for (k = 0; k < n; k++)
			if (!strcmp(names[k], name))
				break;
		if (k == n)
			return cfgfile_unknown(f, m, label, name, names, n);
		snprintf(mlabel, sizeof(mlabel), "%s%s%s", label, label[0] ? "." : "", name);
		ret = fn(f, m, mlabel, k, arg);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- files a configuration names --------------------------------------------------- */

int cfgfile_read(const char *path, bool secret, const char *what, char *buf, size_t cap,
		 size_t *len, char *err, size_t errlen)
{
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			cfgfile_msg(err, errlen, "%s: no such file", path);
		else
			cfgfile_msg(err, errlen, "%s: cannot open: %s", path, strerror(-ret));
		return ret;
	}
	/* On the descriptor read: no window to swap the file after the check. */
	ret = keys_check_file(fd, path, what, secret ? what : NULL, err, errlen);
	if (ret)
		goto out;
	while (got < cap - 1) {
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			cfgfile_msg(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == cap - 1) {
		ret = -EFBIG;
		cfgfile_msg(err, errlen, "%s: too large for a %s file", path, what);
		goto out;
	}
	buf[got] = '\0';
	*len = got;
out:
	close(fd);
	return ret;
}

int cfgfile_load_private_key(const char *path, const char *at, uint8_t priv[KEYS_LEN],
			     uint8_t pub[KEYS_LEN], char *err, size_t errlen)
{
	char why[CFGFILE_MSG_MAX];
	int ret;

	ret = keys_load_private(path, priv, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: private_key: %s", at, why);
		goto out;
	}
	ret = keys_public_x25519(priv, pub);
	if (ret)
		snprintf(err, errlen, "%s: private_key: cannot derive the public key", at);
out:
	if (ret)
		OPENSSL_cleanse(priv, KEYS_LEN);
	return ret;
}

/* ---- flags and the environment ----------------------------------------------------- */

int cfgfile_parse_int(const char *text, long long min, long long max, long long *out)
{
	long long v;
	char *end;

	if (!*text || (*text != '-' && (*text < '0' || *text > '9')))
		return -EINVAL;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int cfgfile_parse_bool(const char *text, bool *out)
{
	if (!strcmp(text, "true"))
		*out = true;
	else if (!strcmp(text, "false"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* ---- printing ---------------------------------------------------------------------- */

void cfgfile_put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void cfgfile_put_setting(FILE *out, const char *name, const char *value)
{
	fprintf(out, "%s = ", name);
	cfgfile_put_string(out, value ? value : "");
	fputs(";\n", out);
}
