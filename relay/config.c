/*
 * config.c — postern-relay's settings: one table, read from a libconfig file
 * and from flags, checked once where each value is set (config.h).
 */
#define _GNU_SOURCE	/* getline */

#include "relay/config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dataplane/addr.h"
#include "dataplane/eal.h"
#include "wire/hop.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

enum kind {
	K_INT,		/* an integer within [min, max] */
	K_STR,		/* one string */
	K_LIST,		/* a list of strings; repeatable flag */
	K_BOOL,		/* true or false */
	K_PORTS,	/* dpdk.ports: a list of groups in the file; a repeatable flag */
};

/* One value being set: from the file or from a flag. */
struct value {
	const char *str;	/* K_STR, K_LIST */
	long long num;		/* K_INT, K_BOOL (0 or 1) */
	unsigned index;		/* K_LIST: position in the list */
	const char *where;	/* "FILE:LINE" or "--flag" */
};

struct setting;
typedef int (*set_fn)(struct relay_config *c, const struct setting *s, const struct value *v,
		      char *msg, size_t len);
typedef void (*clear_fn)(struct relay_config *c);

struct setting {
	const char *name;	/* in the file, "group.name" inside a group */
	const char *flag;	/* long option, without "--" */
	enum kind kind;
	long long min, max;	/* K_INT */
	size_t off;		/* K_INT, K_BOOL and paths: the field */
	unsigned size;		/* K_INT: sizeof the field */
	size_t where_off;	/* paths: where it was set; 0 for none */
	set_fn set;		/* NULL for K_INT, K_BOOL: stored by off/size */
	clear_fn clear;		/* K_LIST */
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

/* ---- setters ------------------------------------------------------------ */

static void store_int(struct relay_config *c, const struct setting *s, long long v)
{
	char *field = (char *)c + s->off;

	switch (s->size) {
	case sizeof(uint64_t): {
		uint64_t x = (uint64_t)v;

		memcpy(field, &x, sizeof(x));
		break;
	}
	default: {
		uint32_t x = (uint32_t)v;

		memcpy(field, &x, sizeof(x));
		break;
	}
	}
}

static int set_path(struct relay_config *c, const struct setting *s, const struct value *v,
		    char *msg, size_t len)
{
	char **field = (char **)(void *)((char *)c + s->off);
	char *copy;

	if (!v->str[0])
		return msgf(msg, len, "must not be empty");
	copy = strdup(v->str);
	if (!copy)
		return msgf(msg, len, "out of memory");
	free(*field);
	*field = copy;
	if (s->where_off)
		snprintf((char *)c + s->where_off, RELAY_CONFIG_WHERE_MAX, "%s", v->where);
	return 0;
}

static void clear_listen(struct relay_config *c)
{
	c->n_listen = 0;
}

static int set_listen(struct relay_config *c, const struct setting *s, const struct value *v,
		      char *msg, size_t len)
{
	struct pkt_addr a;
	const char *why;

	(void)s;
	if (dp_addr_parse(v->str, &a, &why))
		return msgf(msg, len, "%s", why);
	for (unsigned i = 0; i < c->n_listen; i++)
		if (pkt_addr_equal(&c->listen[i], &a))
			return msgf(msg, len, "listed twice");
	if (c->n_listen == RELAY_CONFIG_MAX_LISTEN)
		return msgf(msg, len, "at most %d listen addresses", RELAY_CONFIG_MAX_LISTEN);
	snprintf(c->listen_at[c->n_listen], RELAY_CONFIG_WHERE_MAX, "%s", v->where);
	c->listen[c->n_listen++] = a;
	return 0;
}

static int set_backend(struct relay_config *c, const struct setting *s, const struct value *v,
		       char *msg, size_t len)
{
	(void)s;
	if (!strcmp(v->str, "socket"))
		c->backend = RELAY_BACKEND_SOCKET;
	else if (!strcmp(v->str, "dpdk"))
		c->backend = RELAY_BACKEND_DPDK;
	else
		return msgf(msg, len, "expected \"socket\" or \"dpdk\"");
	snprintf(c->backend_at, sizeof(c->backend_at), "%s", v->where);
	return 0;
}

static int set_idle(struct relay_config *c, const struct setting *s, const struct value *v,
		    char *msg, size_t len)
{
	(void)s;
	if (dp_ethdev_idle_parse(v->str, &c->idle))
		return msgf(msg, len, "expected \"sleep\" or \"poll\"");
	return 0;
}

static void clear_ports(struct relay_config *c)
{
	memset(c->ports, 0, sizeof(c->ports));
	c->n_ports = 0;
}

/* Append a complete port; two ports on one ethdev would fight over its queues. */
static int add_port(struct relay_config *c, const struct dp_portconf *pc, const char *where,
		    char *msg, size_t len)
{
	char name[DP_PORTCONF_NAME_MAX], other[DP_PORTCONF_NAME_MAX];

	if (c->n_ports == DP_PORTCONF_MAX_PORTS)
		return msgf(msg, len, "at most %d ports", DP_PORTCONF_MAX_PORTS);
	dp_portconf_name(pc->device, name, sizeof(name));
	for (unsigned i = 0; i < c->n_ports; i++) {
		dp_portconf_name(c->ports[i].device, other, sizeof(other));
		if (!strcmp(name, other))
			return msgf(msg, len, "device %s is already port %u", name, i);
	}
	snprintf(c->ports_at[c->n_ports], RELAY_CONFIG_WHERE_MAX, "%s", where);
	c->ports[c->n_ports++] = *pc;
	return 0;
}

/* --dpdk-port "DEVICE;address=A/L;...": the flag form of one port (portconf.h). */
static int set_port(struct relay_config *c, const struct setting *s, const struct value *v,
		    char *msg, size_t len)
{
	struct dp_portconf pc;
	const char *why;

	(void)s;
	if (dp_portconf_parse(&pc, v->str, &why))
		return msgf(msg, len, "%s", why);
	return add_port(c, &pc, v->where, msg, len);
}

static int set_io(struct relay_config *c, const struct setting *s, const struct value *v,
		  char *msg, size_t len)
{
	(void)s;
	if (dp_sock_io_parse(v->str, &c->io))
		return msgf(msg, len, "expected \"mmsg\" or \"uring\"");
	return 0;
}

static void clear_trusted(struct relay_config *c)
{
	for (unsigned i = 0; i < c->n_trusted; i++)
		free(c->trusted_arg[i]);
	c->n_trusted = 0;
}

/*
 * Kept as written; read in relay_config_load_secrets(), so that a key file
 * named in the configuration but replaced by --trust is never opened.
 */
static int set_trusted(struct relay_config *c, const struct setting *s, const struct value *v,
		       char *msg, size_t len)
{
	char *at = c->trusted_at[c->n_trusted];

	if (c->n_trusted == TOKEN_MAX_SIGNERS)
		return msgf(msg, len, "at most %d trusted keys", TOKEN_MAX_SIGNERS);
	if (!v->str[0])
		return msgf(msg, len, "must not be empty");
	c->trusted_arg[c->n_trusted] = strdup(v->str);
	if (!c->trusted_arg[c->n_trusted])
		return msgf(msg, len, "out of memory");
	if (!strncmp(v->where, "--", 2))
		snprintf(at, RELAY_CONFIG_WHERE_MAX, "%s '%s'", v->where, v->str);
	else
		snprintf(at, RELAY_CONFIG_WHERE_MAX, "%s: %s[%u]", v->where, s->name, v->index);
	c->n_trusted++;
	return 0;
}

/* Read every trusted key (text or @FILE); refuse a key given twice. */
static int load_trusted(struct relay_config *c, char *err, size_t errlen)
{
	char kerr[RELAY_CONFIG_ERR_MAX / 2];

	for (unsigned i = 0; i < c->n_trusted; i++) {
		if (keys_load_public(c->trusted_arg[i], c->trusted[i], kerr, sizeof(kerr))) {
			snprintf(err, errlen, "%s: %s", c->trusted_at[i], kerr);
			return -EINVAL;
		}
		for (unsigned k = 0; k < i; k++) {
			if (!memcmp(c->trusted[k], c->trusted[i], KEYS_LEN)) {
				snprintf(err, errlen, "%s: the same key is trusted twice",
					 c->trusted_at[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Exactly 2 * TOKEN_ID_LEN hex digits, either case. */
static int parse_token_id(const char *s, uint8_t id[TOKEN_ID_LEN])
{
	if (strlen(s) != 2 * TOKEN_ID_LEN)
		return -EINVAL;
	for (unsigned i = 0; i < 2 * TOKEN_ID_LEN; i++) {
		char ch = s[i];
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return -EINVAL;
		if (i % 2 == 0)
			id[i / 2] = (uint8_t)(d << 4);
		else
			id[i / 2] |= (uint8_t)d;
	}
	return 0;
}

static int add_revoked(struct relay_config *c, const uint8_t id[TOKEN_ID_LEN])
{
	if (c->n_revoked == c->cap_revoked) {
		unsigned cap = c->cap_revoked ? 2 * c->cap_revoked : 64;
		void *p = realloc(c->revoked, (size_t)cap * TOKEN_ID_LEN);

		if (!p)
			return -ENOMEM;
		c->revoked = p;
		c->cap_revoked = cap;
	}
	memcpy(c->revoked[c->n_revoked++], id, TOKEN_ID_LEN);
	return 0;
}

static void clear_revoked(struct relay_config *c)
{
	c->n_revoked = 0;
}

static int set_revoked(struct relay_config *c, const struct setting *s, const struct value *v,
		       char *msg, size_t len)
{
	uint8_t id[TOKEN_ID_LEN];

	(void)s;
	if (parse_token_id(v->str, id))
		return msgf(msg, len, "a token id is %d hex digits", 2 * TOKEN_ID_LEN);
	if (add_revoked(c, id))
		return msgf(msg, len, "out of memory");
	return 0;
}

static const struct {
	const char *name;
	unsigned mask;
} suite_names[] = {
	{ "chachapoly", HOP_SUITES_CHACHAPOLY },
	{ "aesgcm", HOP_SUITES_AESGCM },
};

static void clear_suites(struct relay_config *c)
{
	c->suites = 0;
}

static int set_suite(struct relay_config *c, const struct setting *s, const struct value *v,
		     char *msg, size_t len)
{
	(void)s;
	for (unsigned i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]); i++) {
		if (!strcmp(v->str, suite_names[i].name)) {
			c->suites |= suite_names[i].mask;
			return 0;
		}
	}
	return msgf(msg, len, "expected \"chachapoly\" or \"aesgcm\"");
}

static void clear_eal_args(struct relay_config *c)
{
	for (unsigned i = 0; i < c->n_eal_args; i++)
		free(c->eal_args[i]);
	c->n_eal_args = 0;
}

static int set_eal_arg(struct relay_config *c, const struct setting *s, const struct value *v,
		       char *msg, size_t len)
{
	(void)s;
	if (c->n_eal_args == RELAY_CONFIG_MAX_EAL_ARGS)
		return msgf(msg, len, "at most %d EAL arguments", RELAY_CONFIG_MAX_EAL_ARGS);
	if (!v->str[0])
		return msgf(msg, len, "an empty argument");
	c->eal_args[c->n_eal_args] = strdup(v->str);
	if (!c->eal_args[c->n_eal_args])
		return msgf(msg, len, "out of memory");
	c->n_eal_args++;
	return 0;
}

static int set_log_level(struct relay_config *c, const struct setting *s, const struct value *v,
			 char *msg, size_t len)
{
	(void)s;
	if (log_level_parse(v->str, &c->log_level))
		return msgf(msg, len, "expected one of %s", LOG_LEVEL_NAMES);
	return 0;
}

static int set_control_socket(struct relay_config *c, const struct setting *s,
			      const struct value *v, char *msg, size_t len)
{
	(void)s;
	if (v->str[0] != '/')
		return msgf(msg, len, "must be an absolute path");
	if (strlen(v->str) >= sizeof(c->control_socket))
		return msgf(msg, len, "a socket path is at most %zu characters",
			    sizeof(c->control_socket) - 1);
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", v->str);
	return 0;
}

/* A group name or a numeric gid, resolved now so that a typo stops the start. */
static int set_control_group(struct relay_config *c, const struct setting *s,
			     const struct value *v, char *msg, size_t len)
{
	struct group *g;
	char *end;
	long gid;

	(void)s;
	if (!v->str[0])
		return msgf(msg, len, "must not be empty");
	if (strlen(v->str) >= sizeof(c->control_group))
		return msgf(msg, len, "too long");
	errno = 0;
	gid = strtol(v->str, &end, 10);
	if (v->str[0] >= '0' && v->str[0] <= '9' && !*end) {
		if (errno || gid > (long)UINT32_MAX - 1)
			return msgf(msg, len, "not a group id");
	} else {
		errno = 0;
		g = getgrnam(v->str);
		if (!g)
			return msgf(msg, len, "no such group%s%s", errno ? ": " : "",
				    errno ? strerror(errno) : "");
		gid = (long)g->gr_gid;
	}
	snprintf(c->control_group, sizeof(c->control_group), "%s", v->str);
	c->control_gid = gid;
	return 0;
}

static int set_metrics_listen(struct relay_config *c, const struct setting *s,
			      const struct value *v, char *msg, size_t len)
{
	struct pkt_addr a;
	const char *why;

	(void)s;
	snprintf(c->metrics_listen_at, sizeof(c->metrics_listen_at), "%s", v->where);
	if (!strcmp(v->str, "off")) {
		c->metrics_listen[0] = '\0';
		return 0;
	}
	if (dp_addr_parse(v->str, &a, &why))
		return msgf(msg, len, "%s (or \"off\")", why);
	c->metrics_addr = a;
	dp_addr_format(&a, c->metrics_listen);
	return 0;
}

static bool is_loopback(const struct pkt_addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (a->family == PKT_AF_INET)
		return a->addr[0] == 127;
	return !memcmp(a->addr, v6_loopback, sizeof(v6_loopback));
}

/* ---- the table ---------------------------------------------------------- */

#define INT(n, fl, lo, hi, f, a, h) \
	{ .name = n, .flag = fl, .kind = K_INT, .min = lo, .max = hi, \
	  .off = offsetof(struct relay_config, f), .size = sizeof(((struct relay_config *)0)->f), \
	  .arg = a, .help = h }
/* A file path; @at is the field that remembers where it was set (or 0). */
#define PATH(n, fl, f, at, a, h) \
	{ .name = n, .flag = fl, .kind = K_STR, .off = offsetof(struct relay_config, f), \
	  .where_off = at, .set = set_path, .arg = a, .help = h }
#define BOOL(n, fl, f, h) \
	{ .name = n, .flag = fl, .kind = K_BOOL, .off = offsetof(struct relay_config, f), \
	  .size = sizeof(((struct relay_config *)0)->f), .arg = "true|false", .help = h }
#define AT(f) offsetof(struct relay_config, f)
#define STR(n, fl, fn, a, h) \
	{ .name = n, .flag = fl, .kind = K_STR, .set = fn, .arg = a, .help = h }
#define LIST(n, fl, fn, cl, a, h) \
	{ .name = n, .flag = fl, .kind = K_LIST, .set = fn, .clear = cl, .arg = a, .help = h }

static const struct setting settings[] = {
	LIST("listen", "listen", set_listen, clear_listen, "ADDR:PORT",
	     "UDP address to listen on, IPV4:PORT or [IPV6]:PORT (repeatable)"),
	INT("workers", "workers", 1, RELAY_MAX_WORKERS, workers, "N",
	    "worker threads (default: online CPUs)"),
	STR("backend", "backend", set_backend, "socket|dpdk",
	    "dataplane backend: kernel sockets or DPDK ports (default socket)"),
	STR("io", "io", set_io, "mmsg|uring", "socket I/O engine"),
	PATH("private_key", "private-key", private_key, AT(private_key_at), "FILE",
	     "the relay's X25519 private key (mode 0600)"),
	LIST("trusted_keys", "trust", set_trusted, clear_trusted, "KEY|@FILE",
	     "control-plane Ed25519 public key that signs tokens (repeatable)"),
	LIST("revoked", "revoked", set_revoked, clear_revoked, "ID",
	     "revoked token id, 32 hex digits (repeatable)"),
	PATH("revoked_file", "revoked-file", revoked_file, AT(revoked_file_at), "FILE",
	     "revoked token ids, one per line ('#' comments)"),
	PATH("psk_file", "psk-file", psk_file, AT(psk_file_at), "FILE",
	     "deployment pre-shared key (mode 0600)"),
	LIST("suites", "suite", set_suite, clear_suites, "NAME",
	     "handshake suite to accept: chachapoly, aesgcm (repeatable)"),
	INT("token_skew", "token-skew", 0, 3600, token_skew, "SECONDS",
	    "clock allowance for token validity"),
	INT("limits.max_sessions", "max-sessions", 1, 5000000, max_sessions, "N",
	    "sessions, whole relay"),
	INT("limits.max_channels", "max-channels", 1, 65535, max_channels, "N",
	    "channels per session"),
	INT("limits.max_channel_ends", "max-channel-ends", 1, (1 << 24) - 1, max_channel_ends, "N",
	    "channel ends per worker (one per side of each channel it holds)"),
	INT("limits.handshake_budget", "handshake-budget", 1, 4096, handshake_budget, "N",
	    "handshakes a worker computes per burst before answering with cookies"),
	INT("limits.handshake_rate", "handshake-rate", 1, 1000000, handshake_rate, "N",
	    "INITs per second per source address under load"),
	INT("eal.memory_mb", "eal-memory-mb", DP_EAL_MEMORY_MB_MIN, 65536, eal_memory_mb, "MB",
	    "DPDK memory (-m), all touched at start"),
	LIST("eal.args", "eal-arg", set_eal_arg, clear_eal_args, "ARG",
	     "extra DPDK EAL argument (repeatable)"),
	BOOL("eal.hugepages", "eal-hugepages", eal_hugepages,
	     "DPDK memory from hugepages (default false: --no-huge)"),
	{ .name = "dpdk.ports", .flag = "dpdk-port", .kind = K_PORTS, .set = set_port,
	  .clear = clear_ports, .arg = "SPEC",
	  .help = "backend dpdk: a port, \"DEVICE;address=A/LEN[;address=...][;gateway=G]"
		  "[;mtu=N]\" (repeatable)" },
	STR("dpdk.idle", "dpdk-idle", set_idle, "sleep|poll",
	    "backend dpdk: idle workers sleep (default) or poll"),
	INT("drain_ms", "drain-ms", 0, 600000, drain_ms, "MS",
	    "on SIGTERM/SIGINT: how long to drain before exiting"),
	PATH("stats_file", "stats-file", stats_file, 0, "FILE",
	     "write counters as JSON here every second and at exit"),
	STR("log_level", "log-level", set_log_level, "LEVEL", "error, warn, info or debug"),
	STR("control_socket", "control-socket", set_control_socket, "PATH",
	    "control socket for posternctl (default " CONTROL_DEFAULT_SOCKET ")"),
	STR("control_group", "control-group", set_control_group, "GROUP",
	    "group that may use the control socket (mode 0660; default: none, 0600)"),
	STR("metrics_listen", "metrics-listen", set_metrics_listen, "ADDR:PORT|off",
	    "HTTP for /metrics, /ready, /live (default " CONTROL_DEFAULT_HTTP ")"),
	BOOL("metrics_allow_public", "metrics-allow-public", metrics_allow_public,
	     "allow metrics_listen outside loopback (default false)"),
};

enum {
	N_SETTINGS = sizeof(settings) / sizeof(settings[0]),
	OPT_SETTING = 1000,		/* getopt value of settings[i]: OPT_SETTING + i */
	OPT_HELP = 'h',
	OPT_CONFIG = 'c',
	OPT_VERSION = 900,
	OPT_CHECK,
};

static const char *const groups[] = { "limits", "eal", "dpdk" };

/* ---- defaults and teardown ---------------------------------------------- */

void relay_config_init(struct relay_config *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *why;

	memset(c, 0, sizeof(*c));
	dp_addr_parse("0.0.0.0:51820", &c->listen[c->n_listen++], &why);
	dp_addr_parse("[::]:51820", &c->listen[c->n_listen++], &why);
	snprintf(c->listen_at[0], sizeof(c->listen_at[0]), "default");
	snprintf(c->listen_at[1], sizeof(c->listen_at[1]), "default");
	c->workers = cpus < 1 ? 1 : cpus > RELAY_MAX_WORKERS ? RELAY_MAX_WORKERS : (unsigned)cpus;
	c->io = DP_SOCK_IO_URING;
	c->backend = RELAY_BACKEND_SOCKET;
	c->idle = DP_ETHDEV_IDLE_SLEEP;
	snprintf(c->backend_at, sizeof(c->backend_at), "default");
	c->suites = HOP_SUITES_ALL;
	c->token_skew = TOKEN_DEFAULT_SKEW;
	relay_params_default(&c->params);
	c->max_sessions = c->params.max_sessions;
	c->max_channels = c->params.max_channels;
	c->max_channel_ends = c->params.max_channel_ends;
	c->handshake_budget = c->params.handshake_budget;
	c->handshake_rate = c->params.handshake_rate;
	c->eal_memory_mb = DP_EAL_MEMORY_MB_DEFAULT;
	c->drain_ms = RELAY_CONFIG_DEFAULT_DRAIN_MS;
	c->log_level = LOG_LEVEL_INFO;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", CONTROL_DEFAULT_SOCKET);
	c->control_gid = -1;
	dp_addr_parse(CONTROL_DEFAULT_HTTP, &c->metrics_addr, &why);
	dp_addr_format(&c->metrics_addr, c->metrics_listen);
	snprintf(c->metrics_listen_at, sizeof(c->metrics_listen_at), "default");
}

void relay_config_free(struct relay_config *c)
{
	free(c->private_key);
	free(c->revoked_file);
	free(c->psk_file);
	free(c->stats_file);
	free(c->revoked);
	clear_eal_args(c);
	clear_trusted(c);
	token_trust_destroy(c->trust);
	OPENSSL_cleanse(&c->params, sizeof(c->params));
	memset(c, 0, sizeof(*c));
}

/* ---- applying one value ------------------------------------------------- */

/* Check and store @v; on error @msg says why (without saying where). */
static int apply(struct relay_config *c, const struct setting *s, const struct value *v,
		 char *msg, size_t len)
{
	if (s->kind == K_BOOL) {
		bool b = v->num != 0;

		memcpy((char *)c + s->off, &b, sizeof(b));
		return 0;
	}
	if (s->kind == K_INT) {
		if (v->num < s->min || v->num > s->max)
			return msgf(msg, len, "must be an integer from %lld to %lld", s->min,
				    s->max);
		store_int(c, s, v->num);
		return 0;
	}
	return s->set(c, s, v, msg, len);
}

/* Strict decimal, optional '-', for flags; range is apply()'s business. */
static int parse_ll(const char *s, long long *out)
{
	char *end;

	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

/* ---- the file ----------------------------------------------------------- */

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
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);

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

/* The known name closest to @full ("prefix.name"), if it is close enough to be a typo. */
static const char *suggest(const char *full)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (unsigned i = 0; i < N_SETTINGS; i++) {
		unsigned d = edit_distance(full, settings[i].name);

		if (d < best_d) {
			best_d = d;
			best = settings[i].name;
		}
	}
	for (unsigned i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		unsigned d = edit_distance(full, groups[i]);

		if (d < best_d) {
			best_d = d;
			best = groups[i];
		}
	}
	return best;
}

static const struct setting *find_setting(const char *full)
{
	for (unsigned i = 0; i < N_SETTINGS; i++)
		if (!strcmp(settings[i].name, full))
			return &settings[i];
	return NULL;
}

static bool is_group_name(const char *name)
{
	for (unsigned i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (!strcmp(groups[i], name))
			return true;
	return false;
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

struct file_ctx {
	struct relay_config *c;
	const char *path;
	char *err;
	size_t errlen;
};

static int file_err(const struct file_ctx *f, const config_setting_t *st, const char *label,
		    const char *msg)
{
	const char *file = config_setting_source_file(st);

	snprintf(f->err, f->errlen, "%s:%u: %s: %s", file ? file : f->path,
		 config_setting_source_line(st), label, msg);
	return -EINVAL;
}

/* A refused string value: quoted in the message, since a list's line may hold several. */
static int value_err(const struct file_ctx *f, const config_setting_t *st, const char *label,
		     const char *value, const char *msg)
{
	char both[RELAY_CONFIG_ERR_MAX / 2];

	if (!value || !value[0])
		return file_err(f, st, label, msg);
	snprintf(both, sizeof(both), "'%.100s': %s", value, msg);
	return file_err(f, st, label, both);
}

static void where_of(const struct file_ctx *f, const config_setting_t *st, char *out)
{
	const char *file = config_setting_source_file(st);

	snprintf(out, RELAY_CONFIG_WHERE_MAX, "%s:%u", file ? file : f->path,
		 config_setting_source_line(st));
}

static int file_list(const struct file_ctx *f, const struct setting *s, config_setting_t *st)
{
	char msg[RELAY_CONFIG_ERR_MAX / 2], label[96], where[RELAY_CONFIG_WHERE_MAX];
	int type = config_setting_type(st), n;

	s->clear(f->c);
	if (type == CONFIG_TYPE_STRING) {
		/* A lone string is a one-element list: `listen = "0.0.0.0:51820";`. */
		struct value v = { .str = config_setting_get_string(st), .where = where };

		where_of(f, st, where);
		if (apply(f->c, s, &v, msg, sizeof(msg)))
			return value_err(f, st, s->name, v.str, msg);
		return 0;
	}
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		snprintf(msg, sizeof(msg), "must be a list of strings [ \"...\", ... ], not %s",
			 type_name(type));
		return file_err(f, st, s->name, msg);
	}
	n = config_setting_length(st);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(st, (unsigned)i);
		struct value v = { .index = (unsigned)i, .where = where };

		snprintf(label, sizeof(label), "%s[%d]", s->name, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			snprintf(msg, sizeof(msg), "must be a string, not %s",
				 type_name(config_setting_type(e)));
			return file_err(f, e, label, msg);
		}
		v.str = config_setting_get_string(e);
		where_of(f, e, where);
		if (apply(f->c, s, &v, msg, sizeof(msg)))
			return value_err(f, e, label, v.str, msg);
	}
	return 0;
}

typedef int (*port_text_fn)(struct dp_portconf *pc, const char *text, const char **why);

/* A port's string member, or list of strings (addresses, gateway), each through @fn. */
static int port_strings(const struct file_ctx *f, config_setting_t *st, const char *label,
			port_text_fn fn, struct dp_portconf *pc)
{
	char msg[RELAY_CONFIG_ERR_MAX / 2], elem[128];
	int type = config_setting_type(st), n;
	const char *why, *text;

	if (type == CONFIG_TYPE_STRING) {
		text = config_setting_get_string(st);
		return fn(pc, text, &why) ? value_err(f, st, label, text, why) : 0;
	}
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		snprintf(msg, sizeof(msg), "must be a string or a list of strings, not %s",
			 type_name(type));
		return file_err(f, st, label, msg);
	}
	n = config_setting_length(st);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(st, (unsigned)i);

		snprintf(elem, sizeof(elem), "%s[%d]", label, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			snprintf(msg, sizeof(msg), "must be a string, not %s",
				 type_name(config_setting_type(e)));
			return file_err(f, e, elem, msg);
		}
		text = config_setting_get_string(e);
		if (fn(pc, text, &why))
			return value_err(f, e, elem, text, why);
	}
	return 0;
}

static int port_member(const struct file_ctx *f, config_setting_t *m, const char *label,
		       struct dp_portconf *pc)
{
	const char *name = config_setting_name(m), *why;
	char msg[RELAY_CONFIG_ERR_MAX / 2];
	int type = config_setting_type(m);

	if (!strcmp(name, "addresses"))
		return port_strings(f, m, label, dp_portconf_add_address, pc);
	if (!strcmp(name, "gateway"))
		return port_strings(f, m, label, dp_portconf_set_gateway, pc);
	if (!strcmp(name, "device")) {
		if (type != CONFIG_TYPE_STRING) {
			snprintf(msg, sizeof(msg), "must be a string in double quotes, not %s",
				 type_name(type));
			return file_err(f, m, label, msg);
		}
		if (dp_portconf_set_device(pc, config_setting_get_string(m), &why))
			return value_err(f, m, label, config_setting_get_string(m), why);
		return 0;
	}
	if (!strcmp(name, "mtu")) {
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			snprintf(msg, sizeof(msg), "must be an integer, not %s", type_name(type));
			return file_err(f, m, label, msg);
		}
		if (dp_portconf_set_mtu(pc, config_setting_get_int64(m), &why))
			return file_err(f, m, label, why);
		return 0;
	}
	snprintf(msg, sizeof(msg), "unknown setting in a port (a port has device, addresses, "
		 "gateway, mtu)");
	return file_err(f, m, label, msg);
}

/* One port: { device = "..."; addresses = [ "A/LEN", ... ]; gateway = "G"; mtu = N; } */
static int file_port(const struct file_ctx *f, config_setting_t *g, unsigned i)
{
	char label[96], msg[RELAY_CONFIG_ERR_MAX / 2], where[RELAY_CONFIG_WHERE_MAX];
	struct dp_portconf pc;
	const char *why;
	int n, ret;

	memset(&pc, 0, sizeof(pc));
	snprintf(label, sizeof(label), "dpdk.ports[%u]", i);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return file_err(f, g, label, "must be a group { device = \"...\"; addresses = "
				"[ \"ADDRESS/PREFIX\" ]; }");
	n = config_setting_length(g);
	for (int k = 0; k < n; k++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)k);

		snprintf(label, sizeof(label), "dpdk.ports[%u].%s", i, config_setting_name(m));
		ret = port_member(f, m, label, &pc);
		if (ret)
			return ret;
	}
	snprintf(label, sizeof(label), "dpdk.ports[%u]", i);
	if (dp_portconf_check(&pc, &why))
		return file_err(f, g, label, why);
	where_of(f, g, where);
	if (add_port(f->c, &pc, where, msg, sizeof(msg)))
		return file_err(f, g, label, msg);
	return 0;
}

/* dpdk.ports: a list of groups `( { ... }, { ... } )`; a lone group is one port. */
static int file_ports(const struct file_ctx *f, const struct setting *s, config_setting_t *st)
{
	char msg[RELAY_CONFIG_ERR_MAX / 2];
	int type = config_setting_type(st), n;

	s->clear(f->c);
	if (type == CONFIG_TYPE_GROUP)
		return file_port(f, st, 0);
	if (type != CONFIG_TYPE_LIST &&
	    !(type == CONFIG_TYPE_ARRAY && !config_setting_length(st))) {
		snprintf(msg, sizeof(msg), "must be a list of ports ( { device = ...; }, ... ), "
			 "not %s", type_name(type));
		return file_err(f, st, s->name, msg);
	}
	n = config_setting_length(st);
	for (int i = 0; i < n; i++) {
		int ret = file_port(f, config_setting_get_elem(st, (unsigned)i), (unsigned)i);

		if (ret)
			return ret;
	}
	return 0;
}

static int file_setting(const struct file_ctx *f, const struct setting *s, config_setting_t *st)
{
	char msg[RELAY_CONFIG_ERR_MAX / 2], where[RELAY_CONFIG_WHERE_MAX];
	struct value v = { .where = where };
	int type = config_setting_type(st);

	where_of(f, st, where);
	switch (s->kind) {
	case K_LIST:
		return file_list(f, s, st);
	case K_PORTS:
		return file_ports(f, s, st);
	case K_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			snprintf(msg, sizeof(msg), "must be an integer, not %s", type_name(type));
			return file_err(f, st, s->name, msg);
		}
		v.num = config_setting_get_int64(st);
		break;
	case K_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			snprintf(msg, sizeof(msg), "must be true or false, not %s",
				 type_name(type));
			return file_err(f, st, s->name, msg);
		}
		v.num = config_setting_get_bool(st);
		break;
	case K_STR:
		if (type != CONFIG_TYPE_STRING) {
			snprintf(msg, sizeof(msg), "must be a string in double quotes, not %s",
				 type_name(type));
			return file_err(f, st, s->name, msg);
		}
		v.str = config_setting_get_string(st);
		break;
	}
	if (apply(f->c, s, &v, msg, sizeof(msg)))
		return s->kind == K_STR ? value_err(f, st, s->name, v.str, msg) :
					  file_err(f, st, s->name, msg);
	return 0;
}

static int file_group(const struct file_ctx *f, config_setting_t *group, const char *prefix)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		config_setting_t *st = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(st);
		char full[128], msg[RELAY_CONFIG_ERR_MAX / 2], where[RELAY_CONFIG_WHERE_MAX];
		const struct setting *s;
		const char *near;
		int ret;

		snprintf(full, sizeof(full), "%s%s", prefix, name ? name : "?");
		if (!*prefix && is_group_name(full)) {
			if (config_setting_type(st) != CONFIG_TYPE_GROUP)
				return file_err(f, st, full,
						"must be a group: { name = value; ... }");
			snprintf(full, sizeof(full), "%s.", name);
			ret = file_group(f, st, full);
			if (ret)
				return ret;
			continue;
		}
		s = find_setting(full);
		if (!s) {
			near = suggest(full);
			if (near)
				snprintf(msg, sizeof(msg),
					 "unknown setting '%s' (did you mean '%s'?)", full, near);
			else
				snprintf(msg, sizeof(msg), "unknown setting '%s'", full);
			where_of(f, st, where);
			snprintf(f->err, f->errlen, "%s: %s", where, msg);
			return -EINVAL;
		}
		ret = file_setting(f, s, st);
		if (ret)
			return ret;
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

static int load_file(struct relay_config *c, const char *path, char *err, size_t errlen)
{
	struct file_ctx f = { .c = c, .path = path, .err = err, .errlen = errlen };
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
		ret = file_group(&f, config_root_setting(&cfg), "");
	}
	config_destroy(&cfg);
	fclose(fp);
	return ret;
}

/* ---- the command line --------------------------------------------------- */

int relay_config_parse_args(struct relay_config_args *a, int argc, char **argv,
			    char *err, size_t errlen)
{
	struct option opts[N_SETTINGS + 5];
	unsigned n = 0;
	int ch;

	memset(a, 0, sizeof(*a));
	for (unsigned i = 0; i < N_SETTINGS; i++)
		opts[n++] = (struct option){ settings[i].flag, required_argument, NULL,
					     OPT_SETTING + (int)i };
	opts[n++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	opts[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	opts[n++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	opts[n++] = (struct option){ "check-config", no_argument, NULL, OPT_CHECK };
	opts[n] = (struct option){ 0 };

	optind = 0;	/* glibc: start over, this may run more than once (tests) */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_CONFIG:
			a->file = optarg;
			break;
		case OPT_HELP:
			a->action = RELAY_CONFIG_HELP;
			return 0;
		case OPT_VERSION:
			a->action = RELAY_CONFIG_VERSION;
			return 0;
		case OPT_CHECK:
			a->action = RELAY_CONFIG_CHECK;
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		case '?':
			if (optopt > 0 && optopt < 256 && strncmp(argv[optind - 1], "--", 2))
				snprintf(err, errlen, "unknown option '-%c'", optopt);
			else
				snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		default:
			if (a->n == RELAY_CONFIG_MAX_FLAGS) {
				snprintf(err, errlen, "too many options (at most %d)",
					 RELAY_CONFIG_MAX_FLAGS);
				return -EINVAL;
			}
			a->flags[a->n].setting = ch - OPT_SETTING;
			a->flags[a->n].value = optarg;
			a->flags[a->n].flag = settings[ch - OPT_SETTING].flag;
			a->n++;
			break;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (settings are flags or go in "
			 "the file given with -c)", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int apply_flags(struct relay_config *c, const struct relay_config_args *a,
		       char *err, size_t errlen)
{
	bool cleared[N_SETTINGS] = { false };
	unsigned count[N_SETTINGS] = { 0 };
	char msg[RELAY_CONFIG_ERR_MAX / 2], where[RELAY_CONFIG_WHERE_MAX];

	for (unsigned i = 0; i < a->n; i++) {
		unsigned idx = (unsigned)a->flags[i].setting;
		const struct setting *s = &settings[idx];
		struct value v = { .str = a->flags[i].value, .where = where };

		snprintf(where, sizeof(where), "--%s", s->flag);
		if (s->kind == K_INT && parse_ll(v.str, &v.num)) {
			snprintf(err, errlen, "--%s '%s': must be an integer from %lld to %lld",
				 s->flag, v.str, s->min, s->max);
			return -EINVAL;
		}
		if (s->kind == K_BOOL) {
			if (!strcmp(v.str, "true") || !strcmp(v.str, "false")) {
				v.num = !strcmp(v.str, "true");
			} else {
				snprintf(err, errlen, "--%s '%s': must be true or false",
					 s->flag, v.str);
				return -EINVAL;
			}
		}
		if ((s->kind == K_LIST || s->kind == K_PORTS) && !cleared[idx]) {
			s->clear(c);
			cleared[idx] = true;
		}
		v.index = count[idx]++;
		if (apply(c, s, &v, msg, sizeof(msg))) {
			snprintf(err, errlen, "--%s '%s': %s", s->flag, v.str, msg);
			return -EINVAL;
		}
	}
	return 0;
}

/* Backend "dpdk": a port, and every listen address on one (dataplane/portconf.h). */
static int check_dpdk(const struct relay_config *c, char *err, size_t errlen)
{
	char text[DP_ADDR_TEXT_MAX];
	unsigned bad = 0;
	int ret;

	if (!c->n_ports) {
		snprintf(err, errlen, "%s: backend 'dpdk': no port; set dpdk.ports, or give "
			 "--dpdk-port", c->backend_at);
		return -EINVAL;
	}
	ret = dp_portconf_check_listen(c->ports, c->n_ports, c->listen, c->n_listen, &bad);
	switch (ret) {
	case 0:
		return 0;
	case -EADDRNOTAVAIL:
		dp_addr_format(&c->listen[bad], text);
		snprintf(err, errlen, "%s: listen '%s': not an address of any dpdk port "
			 "(a port's addresses, or 0.0.0.0:PORT / [::]:PORT for all of them)",
			 c->listen_at[bad], text);
		break;
	case -E2BIG:
		snprintf(err, errlen, "%s: dpdk.ports[%u]: more than %d listeners (each listen "
			 "address times the port's addresses it covers)", c->ports_at[bad], bad,
			 DP_IFACE_LISTENERS_MAX);
		break;
	default:
		snprintf(err, errlen, "%s: listen: no listen address falls on a dpdk port (a "
			 "wildcard needs a port address of its family)",
			 c->n_listen ? c->listen_at[0] : c->backend_at);
		break;
	}
	return -EINVAL;
}

int relay_config_load(struct relay_config *c, const struct relay_config_args *a,
		      char *err, size_t errlen)
{
	int ret;

	c->file = a->file;
	if (a->file) {
		ret = load_file(c, a->file, err, errlen);
		if (ret)
			return ret;
	}
	ret = apply_flags(c, a, err, errlen);
	if (ret)
		return ret;
	/* docs/control.md: /metrics reveals traffic volumes and sessions. */
	if (c->metrics_listen[0] && !c->metrics_allow_public && !is_loopback(&c->metrics_addr)) {
		snprintf(err, errlen, "%s: metrics_listen '%s': not a loopback address; set "
			 "metrics_allow_public = true to serve /metrics there",
			 c->metrics_listen_at, c->metrics_listen);
		return -EINVAL;
	}
	return c->backend == RELAY_BACKEND_DPDK ? check_dpdk(c, err, errlen) : 0;
}

/* ---- secrets ------------------------------------------------------------ */

/* "set it in FILE or give --flag", for a setting that is missing. */
static int missing(const struct relay_config *c, const char *what, const char *name,
		   const char *flag, char *err, size_t errlen)
{
	if (c->file)
		snprintf(err, errlen, "%s: no %s: set %s, or give --%s", c->file, what, name,
			 flag);
	else
		snprintf(err, errlen, "no %s: give --%s, or a configuration file with -c", what,
			 flag);
	return -EINVAL;
}

static void trim(char *s)
{
	size_t n = strlen(s), start = 0;

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[start] == ' ' || s[start] == '\t')
		start++;
	memmove(s, s + start, n - start + 1);
}

/* One token id per line; blank lines and '#' comments are skipped. */
static int load_revoked_file(struct relay_config *c, char *err, size_t errlen)
{
	uint8_t id[TOKEN_ID_LEN];
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	FILE *fp;
	int ret = 0;

	fp = fopen(c->revoked_file, "re");
	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "%s: revoked_file: cannot read %s: %s", c->revoked_file_at,
			 c->revoked_file, strerror(-ret));
		return ret;
	}
	while (getline(&line, &cap, fp) >= 0) {
		char *hash = strchr(line, '#');

		lineno++;
		if (hash)
			*hash = '\0';
		trim(line);
		if (!line[0])
			continue;
		if (parse_token_id(line, id)) {
			snprintf(err, errlen, "%s:%u: '%.40s' is not a token id (%d hex digits)",
				 c->revoked_file, lineno, line, 2 * TOKEN_ID_LEN);
			ret = -EINVAL;
			break;
		}
		if (token_trust_revoke(c->trust, id)) {
			snprintf(err, errlen, "%s: out of memory", c->revoked_file);
			ret = -ENOMEM;
			break;
		}
		c->n_revoked_file++;
	}
	if (!ret && ferror(fp)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", c->revoked_file);
	}
	free(line);
	fclose(fp);
	return ret;
}

static int build_trust(struct relay_config *c, char *err, size_t errlen)
{
	int ret;

	token_trust_destroy(c->trust);
	c->n_revoked_file = 0;
	ret = token_trust_create(&c->trust);
	if (ret) {
		c->trust = NULL;
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	ret = load_trusted(c, err, errlen);
	if (ret)
		return ret;
	for (unsigned i = 0; i < c->n_trusted; i++) {
		ret = token_trust_add_signer(c->trust, c->trusted[i]);
		if (ret) {
			snprintf(err, errlen, "%s: not a usable Ed25519 public key (%s)",
				 c->trusted_at[i], strerror(-ret));
			return ret;
		}
	}
	for (unsigned i = 0; i < c->n_revoked; i++) {
		ret = token_trust_revoke(c->trust, c->revoked[i]);
		if (ret) {
			snprintf(err, errlen, "out of memory");
			return ret;
		}
	}
	return c->revoked_file ? load_revoked_file(c, err, errlen) : 0;
}

int relay_config_load_secrets(struct relay_config *c, char *err, size_t errlen)
{
	char kerr[RELAY_CONFIG_ERR_MAX / 2];
	struct relay_params *p = &c->params;
	int ret;

	if (!c->n_listen)
		return missing(c, "listen address", "listen", "listen", err, errlen);
	if (!c->private_key)
		return missing(c, "private key", "private_key", "private-key", err, errlen);
	if (!c->n_trusted)
		return missing(c, "trusted control-plane key", "trusted_keys", "trust", err,
			       errlen);
	if (!c->suites)
		return missing(c, "handshake suite", "suites", "suite", err, errlen);
	if (c->max_sessions < c->workers) {
		snprintf(err, errlen, "limits.max_sessions (%u) must be at least workers (%u): "
			 "each worker holds its share", c->max_sessions, c->workers);
		return -EINVAL;
	}

	relay_params_default(p);
	ret = keys_load_private(c->private_key, p->static_priv, kerr, sizeof(kerr));
	if (ret) {
		snprintf(err, errlen, "%s: private_key: %s", c->private_key_at, kerr);
		goto err_secrets;
	}
	ret = keys_public_x25519(p->static_priv, c->public_key);
	if (ret) {
		snprintf(err, errlen, "%s: private_key: cannot derive the public key",
			 c->private_key_at);
		goto err_secrets;
	}
	c->has_psk = false;
	if (c->psk_file) {
		ret = keys_load_private(c->psk_file, p->psk, kerr, sizeof(kerr));
		if (ret) {
			snprintf(err, errlen, "%s: psk_file: %s", c->psk_file_at, kerr);
			goto err_secrets;
		}
		c->has_psk = true;
	}
	ret = build_trust(c, err, errlen);
	if (ret)
		goto err_secrets;

	p->n_workers = c->workers;
	p->suites = c->suites;
	p->trust = c->trust;
	p->token_skew_s = c->token_skew;
	p->max_sessions = c->max_sessions;
	p->max_channels = c->max_channels;
	p->max_channel_ends = c->max_channel_ends;
	p->handshake_budget = c->handshake_budget;
	p->handshake_rate = c->handshake_rate;
	p->pool = NULL;
	return 0;

err_secrets:
	OPENSSL_cleanse(p, sizeof(*p));
	return ret;
}

/* ---- printing ----------------------------------------------------------- */

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

static void put_opt_path(FILE *out, const char *name, const char *path)
{
	if (!path) {
		fprintf(out, "# %s: not set\n", name);
		return;
	}
	fprintf(out, "%s = ", name);
	put_string(out, path);
	fputs(";\n", out);
}

static void print_port(const struct dp_portconf *pc, FILE *out)
{
	char text[DP_PORTCONF_TEXT_MAX];
	bool first = true;

	fputs("    { device = ", out);
	put_string(out, pc->device);
	fputs("; addresses = [", out);
	for (unsigned i = 0; i < pc->n_addrs; i++) {
		dp_portconf_format_ifaddr(&pc->addrs[i], text);
		fprintf(out, "%s \"%s\"", i ? "," : "", text);
	}
	fputs(" ]; gateway = [", out);
	for (unsigned f = 0; f < 2; f++) {
		const uint8_t *gw = f ? pc->gateway6 : pc->gateway4;
		unsigned len = f ? 16 : 4;
		bool none = true;

		for (unsigned k = 0; k < len; k++)
			none &= gw[k] == 0;
		if (none)
			continue;
		dp_portconf_format_ip(f ? PKT_AF_INET6 : PKT_AF_INET, gw, text);
		fprintf(out, "%s \"%s\"", first ? "" : ",", text);
		first = false;
	}
	fprintf(out, " ]; mtu = %u; }", pc->mtu ? pc->mtu : DP_IFACE_MTU_DEFAULT);
}

static void print_dpdk(const struct relay_config *c, FILE *out)
{
	fprintf(out, "dpdk = {\n  idle = \"%s\";\n  ports = (", dp_ethdev_idle_name(c->idle));
	for (unsigned i = 0; i < c->n_ports; i++) {
		fputs(i ? ",\n" : "\n", out);
		print_port(&c->ports[i], out);
	}
	fputs(c->n_ports ? "\n  );\n};\n" : " );\n};\n", out);
}

int relay_config_print(const struct relay_config *c, FILE *out)
{
	char text[DP_ADDR_TEXT_MAX], key[KEYS_TEXT_LEN + 1];
	bool first = true;

	fprintf(out, "# postern-relay %s: effective configuration (%s%s)\n", POSTERN_VERSION,
		c->file ? c->file : "no file", c->file ? " and flags" : ", flags only");
	fputs("listen = [", out);
	for (unsigned i = 0; i < c->n_listen; i++) {
		dp_addr_format(&c->listen[i], text);
		fprintf(out, "%s \"%s\"", i ? "," : "", text);
	}
	fputs(" ];\n", out);
	fprintf(out, "workers = %u;\n", c->workers);
	fprintf(out, "backend = \"%s\";\n",
		c->backend == RELAY_BACKEND_DPDK ? "dpdk" : "socket");
	fprintf(out, "io = \"%s\";\n", dp_sock_io_name(c->io));
	put_opt_path(out, "private_key", c->private_key);
	if (c->trust) {
		keys_to_text(c->public_key, key);
		fprintf(out, "# the relay's public key (endpoints pin it): %s\n", key);
	}
	fputs("trusted_keys = [", out);
	for (unsigned i = 0; i < c->n_trusted; i++) {
		keys_to_text(c->trusted[i], key);
		fprintf(out, "%s \"%s\"", i ? "," : "", key);
	}
	fputs(" ];\n", out);
	fputs("revoked = [", out);
	for (unsigned i = 0; i < c->n_revoked; i++) {
		fprintf(out, "%s \"", i ? "," : "");
		for (unsigned b = 0; b < TOKEN_ID_LEN; b++)
			fprintf(out, "%02x", c->revoked[i][b]);
		fputc('"', out);
	}
	fputs(" ];\n", out);
	put_opt_path(out, "revoked_file", c->revoked_file);
	if (c->revoked_file && c->trust)
		fprintf(out, "# %u ids read from revoked_file\n", c->n_revoked_file);
	put_opt_path(out, "psk_file", c->psk_file);
	fputs("suites = [", out);
	for (unsigned i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]); i++) {
		if (c->suites & suite_names[i].mask) {
			fprintf(out, "%s \"%s\"", first ? "" : ",", suite_names[i].name);
			first = false;
		}
	}
	fputs(" ];\n", out);
	fprintf(out, "token_skew = %llu;\n", (unsigned long long)c->token_skew);
	fprintf(out, "limits = {\n  max_sessions = %u;\n  max_channels = %u;\n"
		"  max_channel_ends = %u;\n  handshake_budget = %u;\n  handshake_rate = %u;\n};\n",
		c->max_sessions, c->max_channels, c->max_channel_ends, c->handshake_budget,
		c->handshake_rate);
	fprintf(out, "eal = {\n  memory_mb = %u;\n  args = [", c->eal_memory_mb);
	for (unsigned i = 0; i < c->n_eal_args; i++) {
		fputs(i ? ", " : " ", out);
		put_string(out, c->eal_args[i]);
	}
	fprintf(out, " ];\n  hugepages = %s;\n};\n", c->eal_hugepages ? "true" : "false");
	print_dpdk(c, out);
	fprintf(out, "drain_ms = %u;\n", c->drain_ms);
	put_opt_path(out, "stats_file", c->stats_file);
	fprintf(out, "log_level = \"%s\";\n", log_level_name(c->log_level));
	fputs("control_socket = ", out);
	put_string(out, c->control_socket);
	fputs(";\n", out);
	put_opt_path(out, "control_group", c->control_group[0] ? c->control_group : NULL);
	fprintf(out, "metrics_listen = \"%s\";\n", c->metrics_listen[0] ? c->metrics_listen : "off");
	fprintf(out, "metrics_allow_public = %s;\n", c->metrics_allow_public ? "true" : "false");
	return fflush(out) || ferror(out) ? -EIO : 0;
}

enum {
	HELP_INDENT = 29,	/* where option descriptions start */
	HELP_WIDTH = 79,
};

/* "      --flag ARG           help text", the help wrapped at HELP_WIDTH. */
static size_t usage_line(char *text, size_t cap, size_t n, const struct setting *s)
{
	char left[64];
	const char *h = s->help;
	int col, w;

	snprintf(left, sizeof(left), "--%s %s", s->flag, s->arg);
	w = snprintf(text + n, cap - n, "      %s", left);
	if (w < 0 || (size_t)w >= cap - n)
		return cap;
	n += (size_t)w;
	col = w;
	/* Pad to the description column, or go to the next line if the flag is that long. */
	if (col > HELP_INDENT - 2)
		w = snprintf(text + n, cap - n, "\n%*s", HELP_INDENT, "");
	else
		w = snprintf(text + n, cap - n, "%*s", HELP_INDENT - col, "");
	if (w < 0 || (size_t)w >= cap - n)
		return cap;
	n += (size_t)w;
	col = HELP_INDENT;
	while (*h && n < cap - 1) {
		size_t word = strcspn(h, " ");

		if (col > HELP_INDENT && col + 1 + (int)word > HELP_WIDTH) {
			w = snprintf(text + n, cap - n, "\n%*s", HELP_INDENT, "");
			n += (size_t)w;
			col = HELP_INDENT;
		} else if (col > HELP_INDENT) {
			text[n++] = ' ';
			col++;
		}
		w = snprintf(text + n, cap - n, "%.*s", (int)word, h);
		if (w < 0 || (size_t)w >= cap - n)
			return cap;
		n += (size_t)w;
		col += w;
		h += word;
		while (*h == ' ')
			h++;
	}
	if (n < cap - 1)
		text[n++] = '\n';
	text[n < cap ? n : cap - 1] = '\0';
	return n;
}

const char *relay_config_usage(void)
{
	static char text[8192];
	size_t n;

	if (text[0])
		return text;
	n = (size_t)snprintf(text, sizeof(text),
		"Usage: postern-relay [-c FILE] [OPTIONS]\n"
		"\n"
		"Postern's relay: admits endpoints with signed tokens and splices their\n"
		"channels (docs/relay.md). Settings come from the configuration file and\n"
		"from these options, which override it; repeatable options replace the\n"
		"file's list.\n"
		"\n"
		"  -c, --config FILE          configuration file (libconfig syntax), e.g.\n"
		"                             " RELAY_CONFIG_DEFAULT_FILE "\n"
		"      --check-config         validate everything, print the effective\n"
		"                             configuration, exit\n"
		"  -h, --help                 this text\n"
		"      --version              print the version\n"
		"\n");
	for (unsigned i = 0; i < N_SETTINGS && n < sizeof(text); i++)
		n = usage_line(text, sizeof(text), n, &settings[i]);
	if (n < sizeof(text))
		snprintf(text + n, sizeof(text) - n,
			 "\n"
			 "Exit status: 0 after a clean shutdown (SIGTERM, SIGINT) or "
			 "--check-config;\n1 for an invalid configuration or a start-up failure; "
			 "2 for a usage error.\n");
	return text;
}
