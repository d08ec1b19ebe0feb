/*
 * gw_config.c — postern-gateway's settings from a libconfig file, each value
 * checked where it is set (gw_config.h), and the files they name. The file's
 * syntax, errors and command line are every Postern binary's (relay/cfgfile.h,
 * relay/cfgargs.h); addresses, the hop suite, the token and the certificate
 * are read as the connector reads them (ep_config.h), fingerprints by
 * quic_fingerprint_parse() (quic_tls.h).
 */
#include "endpoint/gw_config.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "endpoint/quic_tls.h"
#include "relay/cfgfile.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

enum {
	MSG_MAX = GW_CONFIG_ERR_MAX / 2,
};

/* ---- the file: relays ------------------------------------------------------------ */

/* A path setting: a non-empty string, remembered with where it was set. */
static int set_path(const struct cfgfile *f, const config_setting_t *st, const char *name,
		    char **field, char at[EP_CONFIG_WHERE_MAX])
{
	const char *v;
	char *copy;

	if (cfgfile_get_string(f, st, name, &v))
		return -EINVAL;
	if (!v[0])
		return cfgfile_err(f, st, name, "must not be empty");
	copy = strdup(v);
	if (!copy)
		return cfgfile_err(f, st, name, "out of memory");
	free(*field);
	*field = copy;
	cfgfile_where(f, st, at);
	return 0;
}

static const char *const relay_keys[] = { "address", "public_key" };

enum { RELAY_ADDRESS, RELAY_PUBLIC_KEY };

/* One relays entry while its members are read. */
struct relay_entry {
	struct ep_config_relay *r;
	bool has_addr, has_key;
};

static int relay_member(const struct cfgfile *f, const config_setting_t *m, const char *label,
			unsigned key, void *arg)
{
	struct relay_entry *e = arg;
	struct ep_config_relay *r = e->r;
	char kerr[MSG_MAX];
	const char *v, *why;
	bool literal;

	if (cfgfile_get_string(f, m, label, &v))
		return -EINVAL;
	if (key == RELAY_PUBLIC_KEY) {
		if (keys_load_public(v, r->public_key, kerr, sizeof(kerr)))
			return cfgfile_err(f, m, label, "%s", kerr);
		e->has_key = true;
		return 0;
	}
	if (strlen(v) > EP_CONFIG_ADDR_MAX)
		return cfgfile_err(f, m, label, "'%.100s': too long", v);
	if (ep_config_parse_hostport(v, r->host, r->port, &literal, &why))
		return cfgfile_err(f, m, label, "'%.100s': %s", v, why);
	snprintf(r->address, sizeof(r->address), "%s", v);
	e->has_addr = true;
	return 0;
}

static int parse_relay(const struct cfgfile *f, const config_setting_t *g, const char *label,
		       unsigned index, void *arg)
{
	struct gw_config *c = arg;
	struct relay_entry e = { 0 };
	int ret;

	(void)index;
	if (c->n_relays == EP_CONFIG_MAX_RELAYS)
		return cfgfile_err(f, g, label, "at most %d relays", EP_CONFIG_MAX_RELAYS);
	e.r = &c->relays[c->n_relays];
	memset(e.r, 0, sizeof(*e.r));
	cfgfile_where(f, g, e.r->where);
	ret = cfgfile_members(f, g, label, relay_keys, 2, relay_member, &e);
	if (ret)
		return ret;
	if (!e.has_addr || !e.has_key)
		return cfgfile_err(f, g, label, "needs %s (relays = ( { address = \"HOST:PORT\"; "
				   "public_key = \"KEY\"; } ))",
				   e.has_addr ? "public_key" : "address");
	for (unsigned i = 0; i < c->n_relays; i++)
		if (!strcmp(c->relays[i].host, e.r->host) && !strcmp(c->relays[i].port, e.r->port))
			return cfgfile_err(f, g, label, "'%s' is listed twice (also at %s)",
					   e.r->address, c->relays[i].where);
	c->n_relays++;
	return 0;
}

static int set_relays(const struct cfgfile *f, const config_setting_t *st, struct gw_config *c)
{
	c->n_relays = 0;
	return cfgfile_group_list(f, st, "relays",
				  "a list of groups ( { address = ...; public_key = ...; }, ... )",
				  "a group { address = \"HOST:PORT\"; public_key = \"KEY\"; }",
				  parse_relay, c);
}

/* ---- agents, allowed_ips ------------------------------------------------------------ */

static int add_agent(const struct cfgfile *f, const config_setting_t *e, const char *label,
		     const char *v, unsigned index, void *arg)
{
	struct gw_config *c = arg;
	uint8_t fp[GW_CONFIG_FP_LEN];

	(void)index;
	if (!strcmp(v, "any") || !strcmp(v, "*"))
		return cfgfile_err(f, e, label, "'%s': there is no wildcard: list each agent's "
				   "certificate fingerprint (postern-connect --check-config prints "
				   "it)", v);
	if (quic_fingerprint_parse(fp, v))
		return cfgfile_err(f, e, label, "'%.100s': a fingerprint is 64 hex digits (the "
				   "SHA-256 of the agent's certificate)", v);
	for (unsigned i = 0; i < c->n_agents; i++)
		if (!memcmp(c->agents[i], fp, sizeof(fp)))
			return cfgfile_err(f, e, label, "'%.100s' is listed twice", v);
	if (c->n_agents == GW_CONFIG_MAX_AGENTS)
		return cfgfile_err(f, e, label, "at most %d agents", GW_CONFIG_MAX_AGENTS);
	memcpy(c->agents[c->n_agents++], fp, sizeof(fp));
	return 0;
}

static int set_agents(const struct cfgfile *f, const config_setting_t *st, struct gw_config *c)
{
	if (!c->agents) {
		c->agents = calloc(GW_CONFIG_MAX_AGENTS, sizeof(*c->agents));
		if (!c->agents)
			return cfgfile_err(f, st, "agents", "out of memory");
	}
	c->n_agents = 0;
	return cfgfile_string_list(f, st, "agents", add_agent, c);
}

static int add_allowed(const struct cfgfile *f, const config_setting_t *e, const char *label,
		       const char *v, unsigned index, void *arg)
{
	struct gw_config *c = arg;
	char why[ALLOWLIST_REASON_MAX];

	(void)index;
	if (allowlist_add(c->allowed_ips, v, why, sizeof(why)))
		return cfgfile_err(f, e, label, "%s", why);
	return 0;
}

static int set_allowed_ips(const struct cfgfile *f, const config_setting_t *st,
			   struct gw_config *c)
{
	struct allowlist *a;

	/* A configured list replaces the default one entirely (allowlist.h). */
	if (allowlist_create(&a))
		return cfgfile_err(f, st, "allowed_ips", "out of memory");
	allowlist_destroy(c->allowed_ips);
	c->allowed_ips = a;
	return cfgfile_string_list(f, st, "allowed_ips", add_allowed, c);
}

/* ---- routes ------------------------------------------------------------------------- */

static const char *const route_keys[] = { "name", "upstream", "command", "env", "cwd" };

enum { ROUTE_NAME, ROUTE_UPSTREAM, ROUTE_COMMAND, ROUTE_ENV, ROUTE_CWD, N_ROUTE_KEYS };

/* One route while its members are read: which of them were set, and where. */
struct route_entry {
	struct gw_route *r;
	const config_setting_t *up, *cmd, *env, *cwd;
};

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

static int route_upstream(const struct cfgfile *f, const config_setting_t *m, const char *label,
			  struct gw_route *r)
{
	char host[EP_CONFIG_HOST_MAX + 1], port[EP_CONFIG_PORT_MAX + 1];
	const char *v, *why;

	if (cfgfile_get_string(f, m, label, &v))
		return -EINVAL;
	if (strncmp(v, "tcp://", 6))
		return cfgfile_err(f, m, label, "'%.100s': expected tcp://HOST:PORT (or a "
				   "command = [ ... ] instead of upstream)", v);
	if (strlen(v + 6) > EP_CONFIG_ADDR_MAX)
		return cfgfile_err(f, m, label, "'%.100s': too long", v);
	if (ep_config_parse_hostport(v + 6, host, port, &r->host_is_literal, &why))
		return cfgfile_err(f, m, label, "'%.100s': %s", v, why);
	r->upstream = strdup(v);
	r->host = strdup(host);
	r->port = strdup(port);
	if (!r->upstream || !r->host || !r->port)
		return cfgfile_err(f, m, label, "out of memory");
	return 0;
}

/* The strings of command or env, kept in a NULL-terminated array. */
struct strings {
	char **v;
	unsigned *count;
};

static int add_string(const struct cfgfile *f, const config_setting_t *e, const char *label,
		      const char *value, unsigned index, void *arg)
{
	struct strings *s = arg;

	s->v[index] = strdup(value);
	if (!s->v[index])
		return cfgfile_err(f, e, label, "out of memory");
	*s->count = index + 1;
	return 0;
}

static int route_strings(const struct cfgfile *f, const config_setting_t *m, const char *label,
			 char ***out, unsigned *count)
{
	int type = config_setting_type(m), n = config_setting_length(m);
	struct strings s = { .count = count };

	/* A command is its words: a lone string is not split, so it is refused. */
	if (type == CONFIG_TYPE_STRING)
		return cfgfile_err(f, m, label,
				   "must be a list of strings [ \"...\", ... ], not %s",
				   cfgfile_type_name(type));
	if (n > GW_CONFIG_MAX_ARGS)
		return cfgfile_err(f, m, label, "at most %d entries", GW_CONFIG_MAX_ARGS);
	*out = calloc((size_t)n + 1, sizeof(char *));
	if (!*out)
		return cfgfile_err(f, m, label, "out of memory");
	s.v = *out;
	return cfgfile_string_list(f, m, label, add_string, &s);
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

static int check_env(const struct cfgfile *f, const config_setting_t *m, const char *label,
		     const struct gw_route *r)
{
	char elabel[CFGFILE_LABEL_MAX];

	for (unsigned i = 0; i < r->envc; i++) {
		const char *eq = strchr(r->envp[i], '=');
		size_t n = eq ? (size_t)(eq - r->envp[i]) : 0;
		const config_setting_t *e = config_setting_get_elem(m, i);

		snprintf(elabel, sizeof(elabel), "%s[%u]", label, i);
		if (!eq || !is_env_name(r->envp[i], n))
			return cfgfile_err(f, e, elabel, "'%.60s': expected NAME=VALUE, NAME of "
					   "[A-Za-z0-9_] not starting with a digit", r->envp[i]);
		for (unsigned k = 0; k < i; k++)
			if (!strncmp(r->envp[k], r->envp[i], n + 1))
				return cfgfile_err(f, e, elabel, "%.*s is set twice", (int)n,
						   r->envp[i]);
	}
	return 0;
}

static int route_member(const struct cfgfile *f, const config_setting_t *m, const char *label,
			unsigned key, void *arg)
{
	struct route_entry *e = arg;
	struct gw_route *r = e->r;
	const char *v;
	int ret = 0;

	switch (key) {
	case ROUTE_NAME:
		if (cfgfile_get_string(f, m, label, &v))
			return -EINVAL;
		if (!token_name_is_valid(v))
			return cfgfile_err(f, m, label, "'%.100s': a route name is 1 to %d "
					   "characters of [A-Za-z0-9._-]", v, EP_CONFIG_NAME_MAX);
		snprintf(r->name, sizeof(r->name), "%s", v);
		break;
	case ROUTE_UPSTREAM:
		ret = route_upstream(f, m, label, r);
		e->up = m;
		break;
	case ROUTE_COMMAND:
		ret = route_strings(f, m, label, &r->argv, &r->argc);
		if (!ret && !r->argc)
			return cfgfile_err(f, m, label, "must name a program");
		if (!ret && r->argv[0][0] != '/')
			return cfgfile_err(f, m, label, "'%.100s': the program must be an absolute "
					   "path (the gateway does not search PATH)", r->argv[0]);
		e->cmd = m;
		break;
	case ROUTE_ENV:
		ret = route_strings(f, m, label, &r->envp, &r->envc);
		if (!ret)
			ret = check_env(f, m, label, r);
		e->env = m;
		break;
	case ROUTE_CWD:
		if (cfgfile_get_string(f, m, label, &v))
			return -EINVAL;
		if (v[0] != '/')
			return cfgfile_err(f, m, label, "'%.100s': must be an absolute path", v);
		r->cwd = strdup(v);
		if (!r->cwd)
			return cfgfile_err(f, m, label, "out of memory");
		e->cwd = m;
		break;
	}
	return ret;
}

/* A route is a tcp upstream or a command, never both; env and cwd go with a command. */
static int route_target(const struct cfgfile *f, const config_setting_t *g, const char *label,
			const struct route_entry *e)
{
	struct gw_route *r = e->r;

	if (!r->name[0])
		return cfgfile_err(f, g, label, "needs a name");
	if (!e->up && !e->cmd)
		return cfgfile_err(f, g, label, "route '%s' needs upstream = \"tcp://HOST:PORT\" "
				   "or command = [ \"/path/to/program\", ... ]", r->name);
	if (e->up && e->cmd)
		return cfgfile_err(f, e->cmd, label, "route '%s' has both upstream and command; a "
				   "route is one or the other", r->name);
	if (e->up && (e->env || e->cwd))
		return cfgfile_err(f, e->env ? e->env : e->cwd, label, "route '%s': %s applies to "
				   "a command, not to a tcp upstream", r->name,
				   e->env ? "env" : "cwd");
	if (e->up) {
		r->target.kind = UPSTREAM_TCP;
		r->target.host = r->host;
		r->target.port = r->port;
		return 0;
	}
	r->target.kind = UPSTREAM_STDIO;
	r->target.argv = r->argv;
	if (!r->envp) {
		r->envp = calloc(1, sizeof(char *));
		if (!r->envp)
			return cfgfile_err(f, g, label, "out of memory");
	}
	r->target.envp = r->envp;
	r->target.cwd = r->cwd;
	return 0;
}

static int parse_route(const struct cfgfile *f, const config_setting_t *g, const char *label,
		       unsigned index, void *arg)
{
	struct gw_config *c = arg;
	struct route_entry e = { .r = &c->routes[c->n_routes] };
	char nlabel[CFGFILE_LABEL_MAX];
	int ret;

	/* Counted first, so free_routes() frees a half-parsed route too. */
	c->n_routes++;
	cfgfile_where(f, g, e.r->where);
	ret = cfgfile_members(f, g, label, route_keys, N_ROUTE_KEYS, route_member, &e);
	if (!ret)
		ret = route_target(f, g, label, &e);
	if (ret)
		return ret;
	for (unsigned k = 0; k + 1 < c->n_routes; k++) {
		if (strcmp(c->routes[k].name, e.r->name))
			continue;
		snprintf(nlabel, sizeof(nlabel), "routes[%u].name", index);
		return cfgfile_err(f, g, nlabel, "'%s' is already the name of routes[%u] (%s)",
				   e.r->name, k, c->routes[k].where);
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

static int set_routes(const struct cfgfile *f, const config_setting_t *st, struct gw_config *c)
{
	int n = config_setting_type(st) == CONFIG_TYPE_LIST ? config_setting_length(st) : 1;

	free_routes(c);
	if (n > GW_CONFIG_MAX_ROUTES)
		return cfgfile_err(f, st, "routes", "at most %d routes", GW_CONFIG_MAX_ROUTES);
	/* Allocated once: each route's target points at its own strings. */
	c->routes = calloc((size_t)n + 1, sizeof(*c->routes));
	if (!c->routes)
		return cfgfile_err(f, st, "routes", "out of memory");
	return cfgfile_group_list(f, st, "routes",
				  "a list of groups ( { name = ...; upstream = ...; }, ... )",
				  "a group { name = \"...\"; upstream = \"tcp://HOST:PORT\"; } or "
				  "{ name = \"...\"; command = [ ... ]; }", parse_route, c);
}

/* ---- scalars ------------------------------------------------------------------------ */

static int set_private_key(const struct cfgfile *f, const config_setting_t *st,
			   struct gw_config *c)
{
	return set_path(f, st, "private_key", &c->private_key, c->private_key_at);
}

static int set_token(const struct cfgfile *f, const config_setting_t *st, struct gw_config *c)
{
	return set_path(f, st, "token", &c->token, c->token_at);
}

static int set_certificate(const struct cfgfile *f, const config_setting_t *st,
			   struct gw_config *c)
{
	return set_path(f, st, "certificate", &c->certificate, c->certificate_at);
}

static int set_certificate_key(const struct cfgfile *f, const config_setting_t *st,
			       struct gw_config *c)
{
	return set_path(f, st, "certificate_key", &c->certificate_key, c->certificate_key_at);
}

static int set_hop_suite(const struct cfgfile *f, const config_setting_t *st,
			 struct gw_config *c)
{
	char msg[MSG_MAX];
	const char *v;

	if (cfgfile_get_string(f, st, "hop_suite", &v))
		return -EINVAL;
	if (ep_config_parse_hop_suite(v, &c->hop_suite, msg, sizeof(msg)))
		return cfgfile_err(f, st, "hop_suite", "'%.100s': %s", v, msg);
	return 0;
}

static int set_shutdown_timeout(const struct cfgfile *f, const config_setting_t *st,
				struct gw_config *c)
{
	long long v;

	if (cfgfile_get_int(f, st, "shutdown_timeout", 0, GW_CONFIG_MAX_SHUTDOWN_TIMEOUT,
			    "seconds", &v))
		return -EINVAL;
	c->shutdown_timeout = (unsigned)v;
	return 0;
}

static int set_audit_log(const struct cfgfile *f, const config_setting_t *st,
			 struct gw_config *c)
{
	const char *v;
	char *copy;

	if (cfgfile_get_string(f, st, "audit_log", &v))
		return -EINVAL;
	if (strcmp(v, "stderr") && v[0] != '/')
		return cfgfile_err(f, st, "audit_log", "'%.100s': expected \"stderr\" or an "
				   "absolute path", v);
	copy = strdup(v);
	if (!copy)
		return cfgfile_err(f, st, "audit_log", "out of memory");
	free(c->audit_log);
	c->audit_log = copy;
	return 0;
}

static int set_log_level(const struct cfgfile *f, const config_setting_t *st,
			 struct gw_config *c)
{
	const char *v;

	if (cfgfile_get_string(f, st, "log_level", &v))
		return -EINVAL;
	if (log_level_parse(v, &c->log_level))
		return cfgfile_err(f, st, "log_level", "'%.40s': expected one of %s", v,
				   LOG_LEVEL_NAMES);
	return 0;
}

/* ---- the file ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*set)(const struct cfgfile *f, const config_setting_t *st, struct gw_config *c);
} settings[] = {
	{ "relays", set_relays },
	{ "hop_suite", set_hop_suite },
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

static int file_setting(const struct cfgfile *f, const config_setting_t *st, const char *label,
			unsigned key, void *arg)
{
	(void)label;
	return settings[key].set(f, st, arg);
}

/* What must be present, and what settings must agree on. */
static int check_whole(const struct cfgfile *f, const struct gw_config *c)
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
	const bool present[] = { c->n_relays, c->private_key, c->token, c->certificate,
				 c->certificate_key, c->n_agents, c->n_routes };
	char why[ALLOWLIST_REASON_MAX];

	for (unsigned i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!present[i])
			return cfgfile_msg(f->err, f->errlen, "%s: %s: not set (%s)", f->path,
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
			return cfgfile_msg(f->err, f->errlen,
					   "%s: routes[%u].upstream: %s; add it to "
					   "allowed_ips if this route is meant to reach it",
					   r->where, i, why);
	}
	return 0;
}

static int file_root(const struct cfgfile *f, const config_setting_t *root, void *arg)
{
	const char *names[N_SETTINGS];
	int ret;

	for (unsigned i = 0; i < N_SETTINGS; i++)
		names[i] = settings[i].name;
	ret = cfgfile_members(f, root, "", names, N_SETTINGS, file_setting, arg);
	return ret ? ret : check_whole(f, arg);
}

int gw_config_load(struct gw_config *c, const char *path, char *err, size_t errlen)
{
	c->file = path;
	return cfgfile_load(path, file_root, c, err, errlen);
}

/* ---- defaults, files, teardown -------------------------------------------------- */

int gw_config_init(struct gw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hop_suite = EP_CONFIG_DEFAULT_HOP_SUITE;
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

	ret = cfgfile_load_private_key(c->private_key, c->private_key_at, c->static_priv,
				       c->static_pub, err, errlen);
	if (ret)
		goto out;
	ret = ep_config_load_token(c->token, "token", TOKEN_ROLE_GATEWAY, c->static_pub, now,
				   c->token_bytes, &c->token_len, &c->token_info, ferr,
				   sizeof(ferr));
	if (ret) {
		cfgfile_msg(err, errlen, "%s: token: %s", c->token_at, ferr);
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

int gw_config_parse_args(struct gw_config_args *a, int argc, char **argv, char *err,
			 size_t errlen)
{
	static const struct cfgargs_spec spec = {
		.unknown_hint = "(settings go in the file given with -c)",
		.operand_hint = "(settings go in the file given with -c)",
	};
	struct cfgargs cmd;
	int ret;

	memset(a, 0, sizeof(*a));
	a->file = GW_CONFIG_DEFAULT_FILE;
	ret = cfgargs_parse(&cmd, &spec, argc, argv, err, errlen);
	if (ret)
		return ret;
	a->action = (enum gw_config_action)cmd.action;
	if (cmd.file)
		a->file = cmd.file;
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

static void put_route(FILE *out, const struct gw_route *r, bool last)
{
	fputs("  { name = ", out);
	cfgfile_put_string(out, r->name);
	if (r->target.kind == UPSTREAM_TCP) {
		fputs("; upstream = ", out);
		cfgfile_put_string(out, r->upstream);
		fprintf(out, "; }%s\n", last ? "" : ",");
		return;
	}
	fputs(";\n    command = [", out);
	for (unsigned i = 0; i < r->argc; i++) {
		fputs(i ? ", " : " ", out);
		cfgfile_put_string(out, r->argv[i]);
	}
	fputs(" ];\n", out);
	if (r->cwd) {
		fputs("    cwd = ", out);
		cfgfile_put_string(out, r->cwd);
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

	fprintf(out, "# postern-gateway %s: effective configuration (%s)\n", POSTERN_VERSION,
		c->file ? c->file : "no file");
	fputs("relays = (\n", out);
	for (unsigned i = 0; i < c->n_relays; i++)
		ep_config_print_relay(out, c->relays[i].address, c->relays[i].public_key,
				      i + 1 == c->n_relays);
	fputs(");\n", out);
	cfgfile_put_setting(out, "hop_suite", ep_config_hop_suite_name(c->hop_suite));
	cfgfile_put_setting(out, "private_key", c->private_key);
	if (c->files_loaded) {
		keys_to_text(c->static_pub, key);
		fprintf(out, "# the gateway's public key (for posternctl token issue): %s\n", key);
	}
	cfgfile_put_setting(out, "token", c->token);
	if (c->files_loaded)
		ep_config_print_token(out, "token", &c->token_info);
	cfgfile_put_setting(out, "certificate", c->certificate);
	cfgfile_put_setting(out, "certificate_key", c->certificate_key);
	if (c->files_loaded) {
		quic_fingerprint_format(fp, c->fingerprint);
		fprintf(out, "# the gateway's fingerprint (connectors pin it): %s\n", fp);
	}
	fputs("agents = [", out);
	for (unsigned i = 0; i < c->n_agents; i++) {
		quic_fingerprint_format(fp, c->agents[i]);
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
	cfgfile_put_setting(out, "audit_log", c->audit_log);
	fprintf(out, "log_level = \"%s\";\n", log_level_name(c->log_level));
	return fflush(out) || ferror(out) ? -EIO : 0;
}
