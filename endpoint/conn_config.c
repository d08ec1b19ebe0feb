/*
 * conn_config.c — postern-connect's settings: one table, read from a
 * libconfig file, the environment and flags, in that order (conn_config.h).
 */
#define _GNU_SOURCE	/* strndup */

#include "endpoint/conn_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

enum {
	MSG_MAX = CONN_CONFIG_ERR_MAX / 2,
	ITEM_MAX = 1024,	/* one item of a list from the environment or a flag */
};

enum kind {
	K_PATH,		/* a file path */
	K_STR,		/* one string */
	K_BOOL,		/* true or false */
	K_RELAYS,	/* list: file groups { address; public_key; }, else "HOST:PORT,KEY" */
	K_LISTEN,	/* list: file groups { route; address; }, else "ROUTE=ADDR:PORT" */
};

/* Where a value comes from, for messages and for the *_at fields. */
enum source {
	SRC_FILE,
	SRC_ENV,
	SRC_FLAG,
};

struct origin {
	enum source src;
	char where[CONN_CONFIG_WHERE_MAX];	/* "FILE:LINE", "POSTERN_X" or "--x" */
};

struct setting;
/* Check and store one value (a list: one item); @msg says why not (without where). */
typedef int (*set_fn)(struct conn_config *c, const struct setting *s, const char *v,
		      const struct origin *o, char *msg, size_t len);

struct setting {
	const char *name;	/* in the file */
	const char *flag;	/* without "--" */
	const char *env;
	enum kind kind;
	set_fn set;		/* K_PATH, K_STR, K_BOOL; lists: one text item */
	size_t off;		/* K_PATH: the field; K_BOOL: the bool */
	size_t at_off;		/* K_PATH: where it was set */
	const char *arg;	/* for --help */
	const char *help;
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

/* ---- setters ------------------------------------------------------------------ */

static int set_path(struct conn_config *c, const struct setting *s, const char *v,
		    const struct origin *o, char *msg, size_t len)
{
	char **field = (char **)(void *)((char *)c + s->off);
	char *copy;

	if (!v[0])
		return msgf(msg, len, "must not be empty");
	copy = strdup(v);
	if (!copy)
		return msgf(msg, len, "out of memory");
	free(*field);
	*field = copy;
	snprintf((char *)c + s->at_off, CONN_CONFIG_WHERE_MAX, "%s", o->where);
	return 0;
}

static int set_bool(struct conn_config *c, const struct setting *s, const char *v,
		    const struct origin *o, char *msg, size_t len)
{
	bool b;

	(void)o;
	if (!strcmp(v, "true"))
		b = true;
	else if (!strcmp(v, "false"))
		b = false;
	else
		return msgf(msg, len, "must be true or false");
	memcpy((char *)c + s->off, &b, sizeof(b));
	return 0;
}

static int set_tunnel(struct conn_config *c, const struct setting *s, const char *v,
		      const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	if (!token_name_is_valid(v))
		return msgf(msg, len, "a tunnel name is 1 to %d characters of [A-Za-z0-9._-]",
			    TOKEN_NAME_MAX);
	snprintf(c->tunnel, sizeof(c->tunnel), "%s", v);
	return 0;
}

static int set_stdio(struct conn_config *c, const struct setting *s, const char *v,
		     const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	if (!token_name_is_valid(v))
		return msgf(msg, len, "a route name is 1 to %d characters of [A-Za-z0-9._-]",
			    GW_CONFIG_NAME_MAX);
	snprintf(c->stdio, sizeof(c->stdio), "%s", v);
	return 0;
}

static int set_fingerprint(struct conn_config *c, const struct setting *s, const char *v,
			   const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	if (gw_config_parse_fingerprint(v, c->gateway_fingerprint))
		return msgf(msg, len, "a fingerprint is 64 hex digits (the SHA-256 of the "
			    "gateway's certificate; postern-gateway --check-config prints it)");
	c->has_gateway_fingerprint = true;
	return 0;
}

static int set_log_level(struct conn_config *c, const struct setting *s, const char *v,
			 const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	if (gw_config_parse_log_level(v, &c->log_level))
		return msgf(msg, len, "expected one of %s", LOG_LEVEL_NAMES);
	return 0;
}

/* -- relays: an entry is built by its two parts, then committed -- */

static int relay_address(struct conn_config_relay *r, const char *v, char *msg, size_t len)
{
	const char *why;
	bool literal;

	if (strlen(v) > GW_CONFIG_ADDR_MAX)
		return msgf(msg, len, "too long");
	if (gw_config_parse_hostport(v, r->host, r->port, &literal, &why))
		return msgf(msg, len, "%s", why);
	snprintf(r->address, sizeof(r->address), "%s", v);
	return 0;
}

static int relay_key(struct conn_config_relay *r, const char *v, char *msg, size_t len)
{
	return keys_load_public(v, r->public_key, msg, len) ? -EINVAL : 0;
}

static int relay_commit(struct conn_config *c, const struct conn_config_relay *r, char *msg,
			size_t len)
{
	for (unsigned i = 0; i < c->n_relays; i++)
		if (!strcmp(c->relays[i].host, r->host) && !strcmp(c->relays[i].port, r->port))
			return msgf(msg, len, "'%s' is listed twice (also at %s)", r->address,
				    c->relays[i].where);
	if (c->n_relays == CONN_CONFIG_MAX_RELAYS)
		return msgf(msg, len, "at most %d relays", CONN_CONFIG_MAX_RELAYS);
	c->relays[c->n_relays++] = *r;
	return 0;
}

/* "HOST:PORT,KEY" from the environment or --relay. */
static int add_relay_text(struct conn_config *c, const struct setting *s, const char *v,
			  const struct origin *o, char *msg, size_t len)
{
	struct conn_config_relay r = { 0 };
	const char *comma = strchr(v, ',');
	char addr[GW_CONFIG_ADDR_MAX + 1];

	(void)s;
	if (!comma || (size_t)(comma - v) > GW_CONFIG_ADDR_MAX)
		return msgf(msg, len, "expected HOST:PORT,KEY (KEY: the relay's public key or "
			    "@FILE)");
	snprintf(addr, sizeof(addr), "%.*s", (int)(comma - v), v);
	if (relay_address(&r, addr, msg, len) || relay_key(&r, comma + 1, msg, len))
		return -EINVAL;
	snprintf(r.where, sizeof(r.where), "%s", o->where);
	return relay_commit(c, &r, msg, len);
}

/* -- listen -- */

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	const struct sockaddr_in6 *in6 = (const void *)ss;

	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		return in6->sin6_addr.s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

static int listen_address(struct conn_listen *l, const char *v, char *msg, size_t len)
{
	char host[GW_CONFIG_HOST_MAX + 1], port[GW_CONFIG_PORT_MAX + 1];
	const char *why;
	bool literal;

	if (strlen(v) > GW_CONFIG_ADDR_MAX)
		return msgf(msg, len, "too long");
	if (gw_config_parse_hostport(v, host, port, &literal, &why))
		return msgf(msg, len, "%s", why);
	if (!literal)
		return msgf(msg, len, "a listen address is numeric: 127.0.0.1:PORT or [::1]:PORT");
	memset(&l->addr, 0, sizeof(l->addr));
	if (v[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(port));
		inet_pton(AF_INET6, host, &in6->sin6_addr);
		l->addr_len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&l->addr;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(port));
		inet_pton(AF_INET, host, &in->sin_addr);
		l->addr_len = sizeof(*in);
	}
	l->loopback = is_loopback(&l->addr);
	snprintf(l->address, sizeof(l->address), "%s", v);
	return 0;
}

static int listen_route(struct conn_listen *l, const char *v, char *msg, size_t len)
{
	if (!token_name_is_valid(v))
		return msgf(msg, len, "a route name is 1 to %d characters of [A-Za-z0-9._-]",
			    GW_CONFIG_NAME_MAX);
	snprintf(l->route, sizeof(l->route), "%.*s", GW_CONFIG_NAME_MAX, v);
	return 0;
}

static int listen_commit(struct conn_config *c, const struct conn_listen *l, char *msg,
			 size_t len)
{
	for (unsigned i = 0; i < c->n_listen; i++)
		if (c->listen[i].addr_len == l->addr_len &&
		    !memcmp(&c->listen[i].addr, &l->addr, l->addr_len))
			return msgf(msg, len, "%s is already the address of route '%s' (%s)",
				    l->address, c->listen[i].route, c->listen[i].where);
	if (c->n_listen == CONN_CONFIG_MAX_LISTEN)
		return msgf(msg, len, "at most %d listen addresses", CONN_CONFIG_MAX_LISTEN);
	c->listen[c->n_listen++] = *l;
	return 0;
}

/* "ROUTE=ADDR:PORT" from the environment or --listen. */
static int add_listen_text(struct conn_config *c, const struct setting *s, const char *v,
			   const struct origin *o, char *msg, size_t len)
{
	struct conn_listen l = { 0 };
	const char *eq = strchr(v, '=');
	char route[GW_CONFIG_NAME_MAX + 1];

	(void)s;
	if (!eq || eq == v || (size_t)(eq - v) > GW_CONFIG_NAME_MAX)
		return msgf(msg, len, "expected ROUTE=ADDR:PORT, e.g. db=127.0.0.1:15432");
	snprintf(route, sizeof(route), "%.*s", (int)(eq - v), v);
	if (listen_route(&l, route, msg, len) || listen_address(&l, eq + 1, msg, len))
		return -EINVAL;
	snprintf(l.where, sizeof(l.where), "%s", o->where);
	return listen_commit(c, &l, msg, len);
}

static void clear_list(struct conn_config *c, const struct setting *s)
{
	if (s->kind == K_RELAYS)
		c->n_relays = 0;
	else if (s->kind == K_LISTEN)
		c->n_listen = 0;
}

/* ---- the table ---------------------------------------------------------------- */

#define OFF(f) offsetof(struct conn_config, f)

static const struct setting settings[] = {
	{ "relays", "relay", "POSTERN_RELAYS", K_RELAYS, add_relay_text, 0, 0, "HOST:PORT,KEY",
	  "a relay and its public key (text or @FILE) (repeatable)" },
	{ "private_key", "private-key", "POSTERN_PRIVATE_KEY", K_PATH, set_path, OFF(private_key),
	  OFF(private_key_at), "FILE", "the connector's X25519 private key (mode 0600)" },
	{ "grant", "grant", "POSTERN_GRANT", K_PATH, set_path, OFF(grant), OFF(grant_at), "FILE",
	  "the agent grant token file (mode 0600)" },
	{ "tunnel", "tunnel", "POSTERN_TUNNEL", K_STR, set_tunnel, 0, 0, "NAME",
	  "the tunnel to open" },
	{ "gateway_fingerprint", "gateway-fingerprint", "POSTERN_GATEWAY_FINGERPRINT", K_STR,
	  set_fingerprint, 0, 0, "HEX",
	  "the gateway certificate's pinned SHA-256 (64 hex digits)" },
	{ "certificate", "certificate", "POSTERN_CERTIFICATE", K_PATH, set_path, OFF(certificate),
	  OFF(certificate_at), "FILE", "the agent's PEM certificate (mTLS)" },
	{ "certificate_key", "certificate-key", "POSTERN_CERTIFICATE_KEY", K_PATH, set_path,
	  OFF(certificate_key), OFF(certificate_key_at), "FILE",
	  "the PEM private key of certificate (mode 0600)" },
	{ "listen", "listen", "POSTERN_LISTEN", K_LISTEN, add_listen_text, 0, 0, "ROUTE=ADDR:PORT",
	  "a local TCP listener for a route (repeatable)" },
	{ "listen_public", "listen-public", "POSTERN_LISTEN_PUBLIC", K_BOOL, set_bool,
	  OFF(listen_public), 0, "true|false", "allow listen addresses outside loopback" },
	{ "stdio", "stdio", "POSTERN_STDIO", K_STR, set_stdio, 0, 0, "ROUTE",
	  "serve one stream of ROUTE on stdin/stdout instead of listening" },
	{ "log_level", "log-level", "POSTERN_LOG_LEVEL", K_STR, set_log_level, 0, 0, "LEVEL",
	  "error, warn, info or debug" },
};

enum {
	N_SETTINGS = sizeof(settings) / sizeof(settings[0]),
	OPT_SETTING = 1000,		/* getopt value of settings[i]: OPT_SETTING + i */
	OPT_VERSION = 900,
	OPT_CHECK,
};

/* Variables of other Postern tools, never mistaken for typos of ours. */
static const char *const foreign_env[] = { "POSTERN_CONFIG", "POSTERN_SOCKET",
					   "POSTERN_VECTORS" };

/* ---- defaults and teardown ---------------------------------------------------- */

void conn_config_init(struct conn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LEVEL_INFO;
}

void conn_config_free(struct conn_config *c)
{
	OPENSSL_cleanse(c->static_priv, sizeof(c->static_priv));
	free(c->private_key);
	free(c->grant);
	free(c->certificate);
	free(c->certificate_key);
	memset(c, 0, sizeof(*c));
}

/* ---- the file ------------------------------------------------------------------- */

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
	struct conn_config *c;
	const char *path;
	char *err;
	size_t errlen;
};

static void file_origin(const struct ctx *f, const config_setting_t *st, struct origin *o)
{
	const char *file = config_setting_source_file(st);

	o->src = SRC_FILE;
	snprintf(o->where, sizeof(o->where), "%s:%u", file ? file : f->path,
		 config_setting_source_line(st));
}

static int file_err(const struct ctx *f, const config_setting_t *st, const char *label,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int file_err(const struct ctx *f, const config_setting_t *st, const char *label,
		    const char *fmt, ...)
{
	char msg[MSG_MAX];
	struct origin o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	file_origin(f, st, &o);
	snprintf(f->err, f->errlen, "%s: %s: %s", o.where, label, msg);
	return -EINVAL;
}

static int file_unknown(const struct ctx *f, const config_setting_t *st, const char *in,
			const char *name, const char *const *names, unsigned n)
{
	const char *near = gw_config_suggest(name, names, n);
	struct origin o;

	file_origin(f, st, &o);
	snprintf(f->err, f->errlen, "%s: %s%sunknown setting '%s'%s%s%s", o.where, in,
		 in[0] ? ": " : "", name, near ? " (did you mean '" : "", near ? near : "",
		 near ? "'?)" : "");
	return -EINVAL;
}

static int file_string(const struct ctx *f, const config_setting_t *st, const char *label,
		       const char **out)
{
	*out = "";
	if (config_setting_type(st) != CONFIG_TYPE_STRING)
		return file_err(f, st, label, "must be a string in double quotes, not %s",
				type_name(config_setting_type(st)));
	*out = config_setting_get_string(st);
	return 0;
}

/* Members of one list entry (a group), by name; @fn takes each. */
typedef int (*member_fn)(const struct ctx *f, void *entry, const char *member,
			 const config_setting_t *m, const char *label);

static int file_entries(const struct ctx *f, const config_setting_t *st, const char *name,
			const char *const *keys, unsigned n_keys, const char *shape, void *entry,
			size_t entry_size, member_fn member,
			int (*commit)(const struct ctx *f, void *entry, const config_setting_t *g,
				      const char *label))
{
	int type = config_setting_type(st), n = 1;

	if (type == CONFIG_TYPE_LIST)
		n = config_setting_length(st);
	else if (type != CONFIG_TYPE_GROUP)
		return file_err(f, st, name, "must be a list of groups ( %s, ... ), not %s", shape,
				type_name(type));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = type == CONFIG_TYPE_GROUP ? st :
					    config_setting_get_elem(st, (unsigned)i);
		char label[64];
		int members, ret;

		snprintf(label, sizeof(label), "%s[%d]", name, i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP)
			return file_err(f, g, label, "must be a group %s, not %s", shape,
					type_name(config_setting_type(g)));
		memset(entry, 0, entry_size);
		members = config_setting_length(g);
		for (int k = 0; k < members; k++) {
			const config_setting_t *m = config_setting_get_elem(g, (unsigned)k);
			const char *mname = config_setting_name(m);
			char mlabel[128];
			unsigned j;

			for (j = 0; j < n_keys; j++)
				if (!strcmp(keys[j], mname))
					break;
			if (j == n_keys)
				return file_unknown(f, m, label, mname, keys, n_keys);
			snprintf(mlabel, sizeof(mlabel), "%s.%s", label, mname);
			ret = member(f, entry, mname, m, mlabel);
			if (ret)
				return ret;
		}
		ret = commit(f, entry, g, label);
		if (ret)
			return ret;
	}
	return 0;
}

static const char *const relay_keys[] = { "address", "public_key" };

static int relay_member(const struct ctx *f, void *entry, const char *member,
			const config_setting_t *m, const char *label)
{
	struct conn_config_relay *r = entry;
	char msg[MSG_MAX];
	const char *v;

	if (file_string(f, m, label, &v))
		return -EINVAL;
	if (!strcmp(member, "address") ? relay_address(r, v, msg, sizeof(msg)) :
					 relay_key(r, v, msg, sizeof(msg)))
		return file_err(f, m, label, "'%.100s': %s", v, msg);
	return 0;
}

static int relay_file_commit(const struct ctx *f, void *entry, const config_setting_t *g,
			     const char *label)
{
	struct conn_config_relay *r = entry;
	static const uint8_t zero[KEYS_LEN];
	char msg[MSG_MAX];
	struct origin o;

	if (!r->address[0] || !memcmp(r->public_key, zero, KEYS_LEN))
		return file_err(f, g, label,
				"needs %s (relays = ( { address = \"HOST:PORT\"; "
				"public_key = \"KEY\"; } ))",
				r->address[0] ? "public_key" : "address");
	file_origin(f, g, &o);
	snprintf(r->where, sizeof(r->where), "%s", o.where);
	if (relay_commit(f->c, r, msg, sizeof(msg)))
		return file_err(f, g, label, "%s", msg);
	return 0;
}

static const char *const listen_keys[] = { "route", "address" };

static int listen_member(const struct ctx *f, void *entry, const char *member,
			 const config_setting_t *m, const char *label)
{
	struct conn_listen *l = entry;
	char msg[MSG_MAX];
	const char *v;

	if (file_string(f, m, label, &v))
		return -EINVAL;
	if (!strcmp(member, "route") ? listen_route(l, v, msg, sizeof(msg)) :
				       listen_address(l, v, msg, sizeof(msg)))
		return file_err(f, m, label, "'%.100s': %s", v, msg);
	return 0;
}

static int listen_file_commit(const struct ctx *f, void *entry, const config_setting_t *g,
			      const char *label)
{
	struct conn_listen *l = entry;
	char msg[MSG_MAX];
	struct origin o;

	if (!l->route[0] || !l->address[0])
		return file_err(f, g, label, "needs %s (listen = ( { route = \"NAME\"; address = "
				"\"127.0.0.1:PORT\"; } ))", l->route[0] ? "address" : "route");
	file_origin(f, g, &o);
	snprintf(l->where, sizeof(l->where), "%s", o.where);
	if (listen_commit(f->c, l, msg, sizeof(msg)))
		return file_err(f, g, label, "%s", msg);
	return 0;
}

static int file_setting(const struct ctx *f, const struct setting *s, const config_setting_t *st)
{
	char msg[MSG_MAX];
	struct origin o;
	const char *v;
	int type = config_setting_type(st);

	switch (s->kind) {
	case K_RELAYS: {
		struct conn_config_relay r;

		clear_list(f->c, s);
		return file_entries(f, st, s->name, relay_keys, 2,
				    "{ address = \"HOST:PORT\"; public_key = \"KEY\"; }", &r,
				    sizeof(r), relay_member, relay_file_commit);
	}
	case K_LISTEN: {
		struct conn_listen l;

		clear_list(f->c, s);
		return file_entries(f, st, s->name, listen_keys, 2,
				    "{ route = \"NAME\"; address = \"127.0.0.1:PORT\"; }", &l,
				    sizeof(l), listen_member, listen_file_commit);
	}
	case K_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			return file_err(f, st, s->name, "must be true or false, not %s",
					type_name(type));
		v = config_setting_get_bool(st) ? "true" : "false";
		break;
	default:
		if (file_string(f, st, s->name, &v))
			return -EINVAL;
		break;
	}
	file_origin(f, st, &o);
	if (s->set(f->c, s, v, &o, msg, sizeof(msg)))
		return file_err(f, st, s->name, "'%.100s': %s", v, msg);
	return 0;
}

static int load_file(struct conn_config *c, const char *path, char *err, size_t errlen)
{
	struct ctx f = { .c = c, .path = path, .err = err, .errlen = errlen };
	const char *names[N_SETTINGS];
	config_t cfg;
	FILE *fp;
	int ret = 0;

	fp = fopen(path, "re");
	if (!fp) {
		ret = -errno;
		msgf(err, errlen, "%s: cannot read the configuration: %s", path, strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < N_SETTINGS; i++)
		names[i] = settings[i].name;
	config_init(&cfg);
	if (!config_read(&cfg, fp)) {
		const char *file = config_error_file(&cfg);

		ret = msgf(err, errlen, "%s:%d: syntax error: %s", file ? file : path,
			   config_error_line(&cfg), config_error_text(&cfg));
	} else {
		const config_setting_t *root = config_root_setting(&cfg);
		int n = config_setting_length(root);

		for (int i = 0; i < n && !ret; i++) {
			const config_setting_t *st = config_setting_get_elem(root, (unsigned)i);
			const char *name = config_setting_name(st);
			unsigned k;

			for (k = 0; k < N_SETTINGS; k++)
				if (!strcmp(settings[k].name, name))
					break;
			if (k == N_SETTINGS)
				ret = file_unknown(&f, st, "", name, names, N_SETTINGS);
			else
				ret = file_setting(&f, &settings[k], st);
		}
	}
	config_destroy(&cfg);
	fclose(fp);
	return ret;
}

/* ---- environment and flags ------------------------------------------------------ */

/*
 * Apply @value from the environment or a flag: a list's items are separated
 * by spaces in the environment; a flag is one item.
 */
static int apply_text(struct conn_config *c, const struct setting *s, const char *value,
		      const struct origin *o, char *err, size_t errlen)
{
	char msg[MSG_MAX], item[ITEM_MAX];
	bool list = s->kind == K_RELAYS || s->kind == K_LISTEN;
	const char *p = value;

	if (!list || o->src == SRC_FLAG) {
		if (!s->set(c, s, value, o, msg, sizeof(msg)))
			return 0;
		if (o->src == SRC_ENV)
			return msgf(err, errlen, "%s='%.100s': %s", o->where, value, msg);
		return msgf(err, errlen, "%s '%.100s': %s", o->where, value, msg);
	}
	for (;;) {
		size_t n;

		p += strspn(p, " \t\n");
		if (!*p)
			return 0;
		n = strcspn(p, " \t\n");
		if (n >= sizeof(item))
			return msgf(err, errlen, "%s: an item longer than %d characters", o->where,
				    ITEM_MAX - 1);
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if (s->set(c, s, item, o, msg, sizeof(msg)))
			return msgf(err, errlen, "%s: '%.100s': %s", o->where, item, msg);
	}
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static bool is_foreign(const char *name, size_t n)
{
	for (unsigned i = 0; i < sizeof(foreign_env) / sizeof(foreign_env[0]); i++)
		if (strlen(foreign_env[i]) == n && !strncmp(foreign_env[i], name, n))
			return true;
	return false;
}

static int apply_env(struct conn_config *c, char *const *envp, char *err, size_t errlen)
{
	const char *names[N_SETTINGS];

	for (unsigned i = 0; i < N_SETTINGS; i++)
		names[i] = settings[i].env;
	/* In table order, not environment order, so the result never depends on it. */
	for (unsigned i = 0; i < N_SETTINGS; i++) {
		const char *v = env_get(envp, settings[i].env);
		struct origin o = { .src = SRC_ENV };
		int ret;

		if (!v)
			continue;
		snprintf(o.where, sizeof(o.where), "%s", settings[i].env);
		clear_list(c, &settings[i]);
		ret = apply_text(c, &settings[i], v, &o, err, errlen);
		if (ret)
			return ret;
	}
	for (; envp && *envp; envp++) {
		const char *eq = strchr(*envp, '=');
		size_t n = eq ? (size_t)(eq - *envp) : strlen(*envp);
		char name[64];
		const char *near;

		if (strncmp(*envp, "POSTERN_", 8) || n >= sizeof(name) || is_foreign(*envp, n))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)n, *envp);
		near = gw_config_suggest(name, names, N_SETTINGS);
		if (near && strcmp(near, name))
			return msgf(err, errlen, "environment variable %s: unknown (did you mean "
				    "%s?)", name, near);
	}
	return 0;
}

int conn_config_parse_args(struct conn_config_args *a, int argc, char **argv, char *err,
			   size_t errlen)
{
	struct option opts[N_SETTINGS + 5];
	unsigned n = 0;
	int ch;

	memset(a, 0, sizeof(*a));
	for (unsigned i = 0; i < N_SETTINGS; i++)
		opts[n++] = (struct option){ settings[i].flag, required_argument, NULL,
					     OPT_SETTING + (int)i };
	opts[n++] = (struct option){ "config", required_argument, NULL, 'c' };
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	opts[n++] = (struct option){ "check-config", no_argument, NULL, OPT_CHECK };
	opts[n] = (struct option){ 0 };

	optind = 0;	/* glibc: start over, this may run more than once (tests) */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->file = optarg;
			break;
		case 'h':
			a->action = CONN_CONFIG_HELP;
			return 0;
		case OPT_VERSION:
			a->action = CONN_CONFIG_VERSION;
			return 0;
		case OPT_CHECK:
			a->action = CONN_CONFIG_CHECK;
			break;
		case ':':
			return msgf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		case '?':
			return msgf(err, errlen, "unknown option '%s'", argv[optind - 1]);
		default:
			if (a->n == CONN_CONFIG_MAX_FLAGS)
				return msgf(err, errlen, "too many options (at most %d)",
					    CONN_CONFIG_MAX_FLAGS);
			a->flags[a->n].setting = ch - OPT_SETTING;
			a->flags[a->n].value = optarg;
			a->n++;
			break;
		}
	}
	if (optind < argc)
		return msgf(err, errlen,
			    "unexpected argument '%s' (settings are flags, environment "
			    "variables or go in the file given with -c)",
			    argv[optind]);
	return 0;
}

static int apply_flags(struct conn_config *c, const struct conn_config_args *a, char *err,
		       size_t errlen)
{
	bool cleared[N_SETTINGS] = { false };

	for (unsigned i = 0; i < a->n; i++) {
		const struct setting *s = &settings[a->flags[i].setting];
		struct origin o = { .src = SRC_FLAG };
		int ret;

		snprintf(o.where, sizeof(o.where), "--%s", s->flag);
		if (!cleared[a->flags[i].setting]) {
			clear_list(c, s);
			cleared[a->flags[i].setting] = true;
		}
		ret = apply_text(c, s, a->flags[i].value, &o, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* "set it in FILE, $VAR or --flag", for a setting that is missing. */
static int missing(const struct conn_config *c, const char *name, char *err, size_t errlen)
{
	const struct setting *s = NULL;

	for (unsigned i = 0; i < N_SETTINGS; i++)
		if (!strcmp(settings[i].name, name))
			s = &settings[i];
	return msgf(err, errlen,
		    "%s%s%s: not set: give --%s, set %s, or set it in a configuration "
		    "file (-c)",
		    c->file ? c->file : "", c->file ? ": " : "", name, s->flag, s->env);
}

static int check_whole(struct conn_config *c, char *err, size_t errlen)
{
	if (!c->n_relays)
		return missing(c, "relays", err, errlen);
	if (!c->private_key)
		return missing(c, "private_key", err, errlen);
	if (!c->grant)
		return missing(c, "grant", err, errlen);
	if (!c->tunnel[0])
		return missing(c, "tunnel", err, errlen);
	if (!c->has_gateway_fingerprint)
		return missing(c, "gateway_fingerprint", err, errlen);
	if (!c->certificate)
		return missing(c, "certificate", err, errlen);
	if (!c->certificate_key)
		return missing(c, "certificate_key", err, errlen);
	if (!c->n_listen && !c->stdio[0])
		return msgf(err, errlen,
			    "%s%snothing to serve: give listen (--listen ROUTE=ADDR:PORT) "
			    "or --stdio ROUTE",
			    c->file ? c->file : "", c->file ? ": " : "");
	/*
	 * A listener is an open door to the route, with this connector's grant
	 * and identity behind it: only local processes may knock unless the
	 * operator says otherwise (docs/connector.md).
	 */
	for (unsigned i = 0; i < c->n_listen && !c->listen_public; i++)
		if (!c->listen[i].loopback)
			return msgf(err, errlen, "%s: listen '%s=%s': not a loopback address: "
				    "anyone who can reach it gets this connector's access to route "
				    "'%s'; set listen_public = true (--listen-public true) if that "
				    "is intended", c->listen[i].where, c->listen[i].route,
				    c->listen[i].address, c->listen[i].route);
	return 0;
}

int conn_config_load(struct conn_config *c, const struct conn_config_args *a,
		     char *const *envp, char *err, size_t errlen)
{
	int ret;

	c->file = a->file ? a->file : env_get(envp, "POSTERN_CONFIG");
	if (c->file && !c->file[0])
		c->file = NULL;
	if (c->file) {
		ret = load_file(c, c->file, err, errlen);
		if (ret)
			return ret;
	}
	ret = apply_env(c, envp, err, errlen);
	if (!ret)
		ret = apply_flags(c, a, err, errlen);
	if (!ret)
		ret = check_whole(c, err, errlen);
	return ret;
}

/* ---- files ---------------------------------------------------------------------- */

int conn_config_load_files(struct conn_config *c, uint64_t now, char *err, size_t errlen)
{
	struct token *g = &c->grant_info;
	char ferr[MSG_MAX];
	bool covered = false;
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
	ret = gw_config_load_token(c->grant, "grant", TOKEN_ROLE_AGENT, c->static_pub, now,
				   c->grant_bytes, &c->grant_len, g, ferr, sizeof(ferr));
	if (ret) {
		msgf(err, errlen, "%s: grant: %s", c->grant_at, ferr);
		goto out;
	}
	/* The relay would answer NOT_PERMITTED (protocol.md §7): say why now. */
	for (unsigned i = 0; i < g->n_tunnels; i++)
		covered |= !strcmp(g->tunnels[i], c->tunnel) ||
			   !strcmp(g->tunnels[i], TOKEN_TUNNEL_ANY);
	if (!covered) {
		ret = msgf(err, errlen, "%s: grant: %s does not grant tunnel '%s' (it grants %s%s)",
			   c->grant_at, c->grant, c->tunnel, g->tunnels[0],
			   g->n_tunnels > 1 ? " and others" : "");
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

/* ---- printing ------------------------------------------------------------------- */

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

int conn_config_print(const struct conn_config *c, FILE *out)
{
	char key[KEYS_TEXT_LEN + 1], fp[GW_CONFIG_FP_HEX_LEN + 1], when[GW_CONFIG_TIME_MAX];

	fprintf(out, "# postern-connect %s: effective configuration (%s, environment, flags)\n",
		POSTERN_VERSION, c->file ? c->file : "no file");
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
		fprintf(out, "# the connector's public key (for posternctl token issue): %s\n",
			key);
	}
	put_path(out, "grant", c->grant);
	if (c->files_loaded) {
		fprintf(out, "# grant: tenant %s, tunnels", c->grant_info.tenant);
		for (unsigned i = 0; i < c->grant_info.n_tunnels; i++)
			fprintf(out, "%s %s", i ? "," : "", c->grant_info.tunnels[i]);
		gw_config_format_time(c->grant_info.expiry, when);
		fprintf(out, "; expires %s\n", when);
	}
	fprintf(out, "tunnel = \"%s\";\n", c->tunnel);
	gw_config_format_fingerprint(c->gateway_fingerprint, fp);
	fprintf(out, "gateway_fingerprint = \"%s\";\n", fp);
	put_path(out, "certificate", c->certificate);
	put_path(out, "certificate_key", c->certificate_key);
	if (c->files_loaded) {
		gw_config_format_fingerprint(c->fingerprint, fp);
		fprintf(out, "# this agent's fingerprint (for the gateway's agents): %s\n", fp);
	}
	fputs("listen = (\n", out);
	for (unsigned i = 0; i < c->n_listen; i++)
		fprintf(out, "  { route = \"%s\"; address = \"%s\"; }%s\n", c->listen[i].route,
			c->listen[i].address, i + 1 < c->n_listen ? "," : "");
	fputs(");\n", out);
	fprintf(out, "listen_public = %s;\n", c->listen_public ? "true" : "false");
	if (c->stdio[0])
		fprintf(out, "stdio = \"%s\";\n", c->stdio);
	fprintf(out, "log_level = \"%s\";\n", gw_config_log_level_name(c->log_level));
	return fflush(out) || ferror(out) ? -EIO : 0;
}

const char *conn_config_usage(void)
{
	static char text[4096];
	size_t n;

	if (text[0])
		return text;
	n = (size_t)snprintf(text, sizeof(text),
		"Usage: postern-connect [-c FILE] [OPTIONS]\n"
		"\n"
		"Postern's connector: exposes a tunnel's routes as local TCP listeners, or one\n"
		"route on stdin/stdout (docs/connector.md). Each option is also a setting in\n"
		"the file and an environment variable; flags override the environment, which\n"
		"overrides the file. A repeatable option replaces the whole list.\n"
		"\n"
		"  -c, --config FILE                configuration file ($POSTERN_CONFIG)\n"
		"      --check-config               validate, print the effective configuration\n"
		"  -h, --help                       this text\n"
		"      --version                    print the version\n"
		"\n");
	for (unsigned i = 0; i < N_SETTINGS && n < sizeof(text); i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s %s", settings[i].flag, settings[i].arg);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "      %-27s  %s\n%35s($%s)\n",
				      left, settings[i].help, "", settings[i].env);
	}
	return text;
}
