/*
 * conn_config.c — postern-connect's settings: one table, read from a
 * libconfig file, the environment and flags, in that order (conn_config.h).
 * The file's syntax, errors and command line are every Postern binary's
 * (relay/cfgfile.h, relay/cfgargs.h).
 */
#include "endpoint/conn_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "endpoint/quic_tls.h"
#include "relay/cfgfile.h"

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

/* ---- setters ------------------------------------------------------------------ */

static int set_path(struct conn_config *c, const struct setting *s, const char *v,
		    const struct origin *o, char *msg, size_t len)
{
	char **field = (char **)(void *)((char *)c + s->off);
	char *copy;

	if (!v[0])
		return cfgfile_msg(msg, len, "must not be empty");
	copy = strdup(v);
	if (!copy)
		return cfgfile_msg(msg, len, "out of memory");
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
	if (cfgfile_parse_bool(v, &b))
		return cfgfile_msg(msg, len, "must be true or false");
	memcpy((char *)c + s->off, &b, sizeof(b));
	return 0;
}

static int set_tunnel(struct conn_config *c, const struct setting *s, const char *v,
		      const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	if (!token_name_is_valid(v))
		return cfgfile_msg(msg, len,
				   "a tunnel name is 1 to %d characters of [A-Za-z0-9._-]",
				   TOKEN_NAME_MAX);
	snprintf(c->tunnel, sizeof(c->tunnel), "%s", v);
	return 0;
}

static int set_stdio(struct conn_config *c, const struct setting *s, const char *v,
		     const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	if (!token_name_is_valid(v))
		return cfgfile_msg(msg, len, "a route name is 1 to %d characters of [A-Za-z0-9._-]",
				   EP_CONFIG_NAME_MAX);
	snprintf(c->stdio, sizeof(c->stdio), "%s", v);
	return 0;
}

static int set_fingerprint(struct conn_config *c, const struct setting *s, const char *v,
			   const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	if (quic_fingerprint_parse(c->gateway_fingerprint, v))
		return cfgfile_msg(msg, len, "a fingerprint is 64 hex digits (the SHA-256 of the "
				   "gateway's certificate; postern-gateway --check-config prints "
				   "it)");
	c->has_gateway_fingerprint = true;
	return 0;
}

static int set_hop_suite(struct conn_config *c, const struct setting *s, const char *v,
			 const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	return ep_config_parse_hop_suite(v, &c->hop_suite, msg, len);
}

static int set_log_level(struct conn_config *c, const struct setting *s, const char *v,
			 const struct origin *o, char *msg, size_t len)
{
	(void)s, (void)o;
	if (log_level_parse(v, &c->log_level))
		return cfgfile_msg(msg, len, "expected one of %s", LOG_LEVEL_NAMES);
	return 0;
}

/* -- relays: an entry is built by its two parts, then committed -- */

static int relay_address(struct ep_config_relay *r, const char *v, char *msg, size_t len)
{
	const char *why;
	bool literal;

	if (strlen(v) > EP_CONFIG_ADDR_MAX)
		return cfgfile_msg(msg, len, "too long");
	if (ep_config_parse_hostport(v, r->host, r->port, &literal, &why))
		return cfgfile_msg(msg, len, "%s", why);
	snprintf(r->address, sizeof(r->address), "%s", v);
	return 0;
}

static int relay_key(struct ep_config_relay *r, const char *v, char *msg, size_t len)
{
	return keys_load_public(v, r->public_key, msg, len) ? -EINVAL : 0;
}

static int relay_commit(struct conn_config *c, const struct ep_config_relay *r, char *msg,
			size_t len)
{
	for (unsigned i = 0; i < c->n_relays; i++)
		if (!strcmp(c->relays[i].host, r->host) && !strcmp(c->relays[i].port, r->port))
			return cfgfile_msg(msg, len, "'%s' is listed twice (also at %s)",
					   r->address, c->relays[i].where);
	if (c->n_relays == CONN_CONFIG_MAX_RELAYS)
		return cfgfile_msg(msg, len, "at most %d relays", CONN_CONFIG_MAX_RELAYS);
	c->relays[c->n_relays++] = *r;
	return 0;
}

/* "HOST:PORT,KEY" from the environment or --relay. */
static int add_relay_text(struct conn_config *c, const struct setting *s, const char *v,
			  const struct origin *o, char *msg, size_t len)
{
	struct ep_config_relay r = { 0 };
	const char *comma = strchr(v, ',');
	char addr[EP_CONFIG_ADDR_MAX + 1];

	(void)s;
	if (!comma || (size_t)(comma - v) > EP_CONFIG_ADDR_MAX)
		return cfgfile_msg(msg, len,
				   "expected HOST:PORT,KEY (KEY: the relay's public key or @FILE)");
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
	char host[EP_CONFIG_HOST_MAX + 1], port[EP_CONFIG_PORT_MAX + 1];
	const char *why;
	bool literal;

	if (strlen(v) > EP_CONFIG_ADDR_MAX)
		return cfgfile_msg(msg, len, "too long");
	if (ep_config_parse_hostport(v, host, port, &literal, &why))
		return cfgfile_msg(msg, len, "%s", why);
	if (!literal)
		return cfgfile_msg(msg, len,
				   "a listen address is numeric: 127.0.0.1:PORT or [::1]:PORT");
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
		return cfgfile_msg(msg, len, "a route name is 1 to %d characters of [A-Za-z0-9._-]",
				   EP_CONFIG_NAME_MAX);
	snprintf(l->route, sizeof(l->route), "%.*s", EP_CONFIG_NAME_MAX, v);
	return 0;
}

static int listen_commit(struct conn_config *c, const struct conn_listen *l, char *msg,
			 size_t len)
{
	for (unsigned i = 0; i < c->n_listen; i++)
		if (c->listen[i].addr_len == l->addr_len &&
		    !memcmp(&c->listen[i].addr, &l->addr, l->addr_len))
			return cfgfile_msg(msg, len, "%s is already the address of route '%s' (%s)",
					   l->address, c->listen[i].route, c->listen[i].where);
	if (c->n_listen == CONN_CONFIG_MAX_LISTEN)
		return cfgfile_msg(msg, len, "at most %d listen addresses", CONN_CONFIG_MAX_LISTEN);
	c->listen[c->n_listen++] = *l;
	return 0;
}

/* "ROUTE=ADDR:PORT" from the environment or --listen. */
static int add_listen_text(struct conn_config *c, const struct setting *s, const char *v,
			   const struct origin *o, char *msg, size_t len)
{
	struct conn_listen l = { 0 };
	const char *eq = strchr(v, '=');
	char route[EP_CONFIG_NAME_MAX + 1];

	(void)s;
	if (!eq || eq == v || (size_t)(eq - v) > EP_CONFIG_NAME_MAX)
		return cfgfile_msg(msg, len, "expected ROUTE=ADDR:PORT, e.g. db=127.0.0.1:15432");
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
	{ "hop_suite", "hop-suite", "POSTERN_HOP_SUITE", K_STR, set_hop_suite, 0, 0, "NAME",
	  "hop cipher suite: chachapoly (default) or aesgcm" },
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

enum { N_SETTINGS = sizeof(settings) / sizeof(settings[0]) };

/* Variables of other Postern tools, never mistaken for typos of ours. */
static const char *const foreign_env[] = { "POSTERN_CONFIG", "POSTERN_SOCKET",
					   "POSTERN_VECTORS" };

/* ---- defaults and teardown ---------------------------------------------------- */

void conn_config_init(struct conn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hop_suite = EP_CONFIG_DEFAULT_HOP_SUITE;
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

static void file_origin(const struct cfgfile *f, const config_setting_t *st, struct origin *o)
{
	o->src = SRC_FILE;
	cfgfile_where(f, st, o->where);
}

static const char *const relay_keys[] = { "address", "public_key" };

enum { RELAY_ADDRESS, RELAY_PUBLIC_KEY };

static int relay_member(const struct cfgfile *f, const config_setting_t *m, const char *label,
			unsigned key, void *arg)
{
	struct ep_config_relay *r = arg;
	char msg[MSG_MAX];
	const char *v;

	if (cfgfile_get_string(f, m, label, &v))
		return -EINVAL;
	if (key == RELAY_ADDRESS ? relay_address(r, v, msg, sizeof(msg)) :
				   relay_key(r, v, msg, sizeof(msg)))
		return cfgfile_err(f, m, label, "'%.100s': %s", v, msg);
	return 0;
}

/* One relays entry: { address = "HOST:PORT"; public_key = "KEY"; } */
static int file_relay(const struct cfgfile *f, const config_setting_t *g, const char *label,
		      unsigned index, void *arg)
{
	static const uint8_t zero[KEYS_LEN];
	struct ep_config_relay r = { 0 };
	char msg[MSG_MAX];
	int ret;

	(void)index;
	ret = cfgfile_members(f, g, label, relay_keys, 2, relay_member, &r);
	if (ret)
		return ret;
	if (!r.address[0] || !memcmp(r.public_key, zero, KEYS_LEN))
		return cfgfile_err(f, g, label, "needs %s (relays = ( { address = \"HOST:PORT\"; "
				   "public_key = \"KEY\"; } ))",
				   r.address[0] ? "public_key" : "address");
	cfgfile_where(f, g, r.where);
	if (relay_commit(arg, &r, msg, sizeof(msg)))
		return cfgfile_err(f, g, label, "%s", msg);
	return 0;
}

static const char *const listen_keys[] = { "route", "address" };

enum { LISTEN_ROUTE, LISTEN_ADDRESS };

static int listen_member(const struct cfgfile *f, const config_setting_t *m, const char *label,
			 unsigned key, void *arg)
{
	struct conn_listen *l = arg;
	char msg[MSG_MAX];
	const char *v;

	if (cfgfile_get_string(f, m, label, &v))
		return -EINVAL;
	if (key == LISTEN_ROUTE ? listen_route(l, v, msg, sizeof(msg)) :
				  listen_address(l, v, msg, sizeof(msg)))
		return cfgfile_err(f, m, label, "'%.100s': %s", v, msg);
	return 0;
}

/* One listen entry: { route = "NAME"; address = "127.0.0.1:PORT"; } */
static int file_listen(const struct cfgfile *f, const config_setting_t *g, const char *label,
		       unsigned index, void *arg)
{
	struct conn_listen l = { 0 };
	char msg[MSG_MAX];
	int ret;

	(void)index;
	ret = cfgfile_members(f, g, label, listen_keys, 2, listen_member, &l);
	if (ret)
		return ret;
	if (!l.route[0] || !l.address[0])
		return cfgfile_err(f, g, label, "needs %s (listen = ( { route = \"NAME\"; "
				   "address = \"127.0.0.1:PORT\"; } ))",
				   l.route[0] ? "address" : "route");
	cfgfile_where(f, g, l.where);
	if (listen_commit(arg, &l, msg, sizeof(msg)))
		return cfgfile_err(f, g, label, "%s", msg);
	return 0;
}

static int file_setting(const struct cfgfile *f, const config_setting_t *st, const char *label,
			unsigned key, void *arg)
{
	const struct setting *s = &settings[key];
	struct conn_config *c = arg;
	char msg[MSG_MAX];
	struct origin o;
	const char *v;
	bool b;

	(void)label;
	switch (s->kind) {
	case K_RELAYS:
		clear_list(c, s);
		return cfgfile_group_list(f, st, s->name, "a list of groups ( { address = "
					  "\"HOST:PORT\"; public_key = \"KEY\"; }, ... )",
					  "a group { address = \"HOST:PORT\"; "
					  "public_key = \"KEY\"; }", file_relay, c);
	case K_LISTEN:
		clear_list(c, s);
		return cfgfile_group_list(f, st, s->name, "a list of groups ( { route = \"NAME\"; "
					  "address = \"127.0.0.1:PORT\"; }, ... )",
					  "a group { route = \"NAME\"; "
					  "address = \"127.0.0.1:PORT\"; }", file_listen, c);
	case K_BOOL:
		if (cfgfile_get_bool(f, st, s->name, &b))
			return -EINVAL;
		v = b ? "true" : "false";
		break;
	default:
		if (cfgfile_get_string(f, st, s->name, &v))
			return -EINVAL;
		break;
	}
	file_origin(f, st, &o);
	if (s->set(c, s, v, &o, msg, sizeof(msg)))
		return cfgfile_err(f, st, s->name, "'%.100s': %s", v, msg);
	return 0;
}

static int file_root(const struct cfgfile *f, const config_setting_t *root, void *arg)
{
	const char *names[N_SETTINGS];

	for (unsigned i = 0; i < N_SETTINGS; i++)
		names[i] = settings[i].name;
	return cfgfile_members(f, root, "", names, N_SETTINGS, file_setting, arg);
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
			return cfgfile_msg(err, errlen, "%s='%.100s': %s", o->where, value, msg);
		return cfgfile_msg(err, errlen, "%s '%.100s': %s", o->where, value, msg);
	}
	for (;;) {
		size_t n;

		p += strspn(p, " \t\n");
		if (!*p)
			return 0;
		n = strcspn(p, " \t\n");
		if (n >= sizeof(item))
			return cfgfile_msg(err, errlen, "%s: an item longer than %d characters",
					   o->where, ITEM_MAX - 1);
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if (s->set(c, s, item, o, msg, sizeof(msg)))
			return cfgfile_msg(err, errlen, "%s: '%.100s': %s", o->where, item, msg);
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
		near = cfgfile_suggest(name, names, N_SETTINGS);
		if (near && strcmp(near, name))
			return cfgfile_msg(err, errlen,
					   "environment variable %s: unknown (did you mean %s?)",
					   name, near);
	}
	return 0;
}

int conn_config_parse_args(struct conn_config_args *a, int argc, char **argv, char *err,
			   size_t errlen)
{
	const char *flags[N_SETTINGS];
	const struct cfgargs_spec spec = {
		.flags = flags,
		.n_flags = N_SETTINGS,
		.operand_hint = "(settings are flags, environment variables or go in the file "
				"given with -c)",
	};
	struct cfgargs cmd;
	int ret;

	for (unsigned i = 0; i < N_SETTINGS; i++)
		flags[i] = settings[i].flag;
	memset(a, 0, sizeof(*a));
	ret = cfgargs_parse(&cmd, &spec, argc, argv, err, errlen);
	if (ret)
		return ret;
	a->action = (enum conn_config_action)cmd.action;
	a->file = cmd.file;
	a->flags = cmd.flags;
	return 0;
}

static int apply_flags(struct conn_config *c, const struct conn_config_args *a, char *err,
		       size_t errlen)
{
	for (unsigned i = 0; i < a->flags.n; i++) {
		const struct cfgargs_flag *fl = &a->flags.v[i];
		const struct setting *s = &settings[fl->setting];
		struct origin o = { .src = SRC_FLAG };
		int ret;

		snprintf(o.where, sizeof(o.where), "--%s", s->flag);
		/* A repeatable flag replaces the whole list (conn_config.h). */
		if (fl->nth == 0)
			clear_list(c, s);
		ret = apply_text(c, s, fl->value, &o, err, errlen);
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
	return cfgfile_msg(err, errlen,
			   "%s%s%s: not set: give --%s, set %s, or set it in a configuration "
			   "file (-c)", c->file ? c->file : "", c->file ? ": " : "", name, s->flag,
			   s->env);
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
		return cfgfile_msg(err, errlen,
				   "%s%snothing to serve: give listen (--listen ROUTE=ADDR:PORT) "
				   "or --stdio ROUTE", c->file ? c->file : "", c->file ? ": " : "");
	/*
	 * A listener is an open door to the route, with this connector's grant
	 * and identity behind it: only local processes may knock unless the
	 * operator says otherwise (docs/connector.md).
	 */
	for (unsigned i = 0; i < c->n_listen && !c->listen_public; i++)
		if (!c->listen[i].loopback)
			return cfgfile_msg(err, errlen,
					   "%s: listen '%s=%s': not a loopback address: anyone "
					   "who can reach it gets this connector's access to "
					   "route '%s'; set listen_public = true (--listen-public "
					   "true) if that is intended", c->listen[i].where,
					   c->listen[i].route, c->listen[i].address,
					   c->listen[i].route);
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
		ret = cfgfile_load(c->file, file_root, c, err, errlen);
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

	ret = cfgfile_load_private_key(c->private_key, c->private_key_at, c->static_priv,
				       c->static_pub, err, errlen);
	if (ret)
		goto out;
	ret = ep_config_load_token(c->grant, "grant", TOKEN_ROLE_AGENT, c->static_pub, now,
				   c->grant_bytes, &c->grant_len, g, ferr, sizeof(ferr));
	if (ret) {
		cfgfile_msg(err, errlen, "%s: grant: %s", c->grant_at, ferr);
		goto out;
	}
	/* The relay would answer NOT_PERMITTED (protocol.md §7): say why now. */
	for (unsigned i = 0; i < g->n_tunnels; i++)
		covered |= !strcmp(g->tunnels[i], c->tunnel) ||
			   !strcmp(g->tunnels[i], TOKEN_TUNNEL_ANY);
	if (!covered) {
		ret = cfgfile_msg(err, errlen,
				  "%s: grant: %s does not grant tunnel '%s' (it grants %s%s)",
				  c->grant_at, c->grant, c->tunnel, g->tunnels[0],
				  g->n_tunnels > 1 ? " and others" : "");
		goto out;
	}
	ret = ep_config_load_identity(c->certificate, c->certificate_key, c->fingerprint, ferr,
				      sizeof(ferr));
	if (ret) {
		cfgfile_msg(err, errlen, "%s: certificate: %s", c->certificate_at, ferr);
		goto out;
	}
	c->files_loaded = true;
out:
	if (ret)
		OPENSSL_cleanse(c->static_priv, sizeof(c->static_priv));
	return ret;
}

/* ---- printing ------------------------------------------------------------------- */

int conn_config_print(const struct conn_config *c, FILE *out)
{
	char key[KEYS_TEXT_LEN + 1], fp[EP_CONFIG_FP_HEX_LEN + 1];

	fprintf(out, "# postern-connect %s: effective configuration (%s, environment, flags)\n",
		POSTERN_VERSION, c->file ? c->file : "no file");
	fputs("relays = (\n", out);
	for (unsigned i = 0; i < c->n_relays; i++)
		ep_config_print_relay(out, c->relays[i].address, c->relays[i].public_key,
				      i + 1 == c->n_relays);
	fputs(");\n", out);
	cfgfile_put_setting(out, "hop_suite", ep_config_hop_suite_name(c->hop_suite));
	cfgfile_put_setting(out, "private_key", c->private_key);
	if (c->files_loaded) {
		keys_to_text(c->static_pub, key);
		fprintf(out, "# the connector's public key (for posternctl token issue): %s\n",
			key);
	}
	cfgfile_put_setting(out, "grant", c->grant);
	if (c->files_loaded)
		ep_config_print_token(out, "grant", &c->grant_info);
	fprintf(out, "tunnel = \"%s\";\n", c->tunnel);
	quic_fingerprint_format(fp, c->gateway_fingerprint);
	fprintf(out, "gateway_fingerprint = \"%s\";\n", fp);
	cfgfile_put_setting(out, "certificate", c->certificate);
	cfgfile_put_setting(out, "certificate_key", c->certificate_key);
	if (c->files_loaded) {
		quic_fingerprint_format(fp, c->fingerprint);
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
	fprintf(out, "log_level = \"%s\";\n", log_level_name(c->log_level));
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
