/*
 * config_settings.c — postern-relay's settings, one table, and the setters
 * that check each value where it is set (config_settings.h; docs/relay.md
 * lists every setting).
 */
#include "relay/config_settings.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/addr.h"
#include "dataplane/eal.h"
#include "relay/cfgfile.h"
#include "wire/hop.h"

/* ---- setters ------------------------------------------------------------ */

static void store_int(struct relay_config *c, const struct relay_setting *s, long long v)
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

static int set_path(struct relay_config *c, const struct relay_setting *s,
		    const struct relay_setting_value *v, char *msg, size_t len)
{
	char **field = (char **)(void *)((char *)c + s->off);
	char *copy;

	if (!v->str[0])
		return cfgfile_msg(msg, len, "must not be empty");
	copy = strdup(v->str);
	if (!copy)
		return cfgfile_msg(msg, len, "out of memory");
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

static int set_listen(struct relay_config *c, const struct relay_setting *s,
		      const struct relay_setting_value *v, char *msg, size_t len)
{
	struct pkt_addr a;
	const char *why;

	(void)s;
	if (dp_addr_parse(v->str, &a, &why))
		return cfgfile_msg(msg, len, "%s", why);
	for (unsigned i = 0; i < c->n_listen; i++)
		if (pkt_addr_equal(&c->listen[i], &a))
			return cfgfile_msg(msg, len, "listed twice");
	if (c->n_listen == RELAY_CONFIG_MAX_LISTEN)
		return cfgfile_msg(msg, len, "at most %d listen addresses",
				   RELAY_CONFIG_MAX_LISTEN);
	snprintf(c->listen_at[c->n_listen], RELAY_CONFIG_WHERE_MAX, "%s", v->where);
	c->listen[c->n_listen++] = a;
	return 0;
}

static int set_backend(struct relay_config *c, const struct relay_setting *s,
		       const struct relay_setting_value *v, char *msg, size_t len)
{
	(void)s;
	if (!strcmp(v->str, "socket"))
		c->backend = RELAY_BACKEND_SOCKET;
	else if (!strcmp(v->str, "dpdk"))
		c->backend = RELAY_BACKEND_DPDK;
	else
		return cfgfile_msg(msg, len, "expected \"socket\" or \"dpdk\"");
	snprintf(c->backend_at, sizeof(c->backend_at), "%s", v->where);
	return 0;
}

static int set_idle(struct relay_config *c, const struct relay_setting *s,
		    const struct relay_setting_value *v, char *msg, size_t len)
{
	(void)s;
	if (dp_ethdev_idle_parse(v->str, &c->idle))
		return cfgfile_msg(msg, len, "expected \"sleep\" or \"poll\"");
	return 0;
}

static void clear_ports(struct relay_config *c)
{
	memset(c->ports, 0, sizeof(c->ports));
	c->n_ports = 0;
}

/* Two ports on one ethdev would fight over its queues. */
int relay_setting_add_port(struct relay_config *c, const struct dp_portconf *pc,
			   const char *where, char *msg, size_t len)
{
	char name[DP_PORTCONF_NAME_MAX], other[DP_PORTCONF_NAME_MAX];

	if (c->n_ports == DP_PORTCONF_MAX_PORTS)
		return cfgfile_msg(msg, len, "at most %d ports", DP_PORTCONF_MAX_PORTS);
	dp_portconf_name(pc->device, name, sizeof(name));
	for (unsigned i = 0; i < c->n_ports; i++) {
		dp_portconf_name(c->ports[i].device, other, sizeof(other));
		if (!strcmp(name, other))
			return cfgfile_msg(msg, len, "device %s is already port %u", name, i);
	}
	snprintf(c->ports_at[c->n_ports], RELAY_CONFIG_WHERE_MAX, "%s", where);
	c->ports[c->n_ports++] = *pc;
	return 0;
}

/* --dpdk-port "DEVICE;address=A/L;...": the flag form of one port (portconf.h). */
static int set_port(struct relay_config *c, const struct relay_setting *s,
		    const struct relay_setting_value *v, char *msg, size_t len)
{
	struct dp_portconf pc;
	const char *why;

	(void)s;
	if (dp_portconf_parse(&pc, v->str, &why))
		return cfgfile_msg(msg, len, "%s", why);
	return relay_setting_add_port(c, &pc, v->where, msg, len);
}

static int set_io(struct relay_config *c, const struct relay_setting *s,
		  const struct relay_setting_value *v, char *msg, size_t len)
{
	(void)s;
	if (dp_sock_io_parse(v->str, &c->io))
		return cfgfile_msg(msg, len, "expected \"mmsg\" or \"uring\"");
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
static int set_trusted(struct relay_config *c, const struct relay_setting *s,
		       const struct relay_setting_value *v, char *msg, size_t len)
{
	char *at = c->trusted_at[c->n_trusted];

	if (c->n_trusted == TOKEN_MAX_SIGNERS)
		return cfgfile_msg(msg, len, "at most %d trusted keys", TOKEN_MAX_SIGNERS);
	if (!v->str[0])
		return cfgfile_msg(msg, len, "must not be empty");
	c->trusted_arg[c->n_trusted] = strdup(v->str);
	if (!c->trusted_arg[c->n_trusted])
		return cfgfile_msg(msg, len, "out of memory");
	if (!strncmp(v->where, "--", 2))
		snprintf(at, RELAY_CONFIG_WHERE_MAX, "%s '%s'", v->where, v->str);
	else
		snprintf(at, RELAY_CONFIG_WHERE_MAX, "%s: %s[%u]", v->where, s->name, v->index);
	c->n_trusted++;
	return 0;
}

int relay_setting_parse_token_id(const char *s, uint8_t id[TOKEN_ID_LEN])
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

static int set_revoked(struct relay_config *c, const struct relay_setting *s,
		       const struct relay_setting_value *v, char *msg, size_t len)
{
	uint8_t id[TOKEN_ID_LEN];

	(void)s;
	if (relay_setting_parse_token_id(v->str, id))
		return cfgfile_msg(msg, len, "a token id is %d hex digits", 2 * TOKEN_ID_LEN);
	if (add_revoked(c, id))
		return cfgfile_msg(msg, len, "out of memory");
	return 0;
}

const struct relay_setting_suite relay_setting_suites[RELAY_SETTING_SUITES] = {
	{ "chachapoly", HOP_SUITES_CHACHAPOLY },
	{ "aesgcm", HOP_SUITES_AESGCM },
};

static void clear_suites(struct relay_config *c)
{
	c->suites = 0;
}

static int set_suite(struct relay_config *c, const struct relay_setting *s,
		     const struct relay_setting_value *v, char *msg, size_t len)
{
	(void)s;
	for (unsigned i = 0; i < RELAY_SETTING_SUITES; i++) {
		if (!strcmp(v->str, relay_setting_suites[i].name)) {
			c->suites |= relay_setting_suites[i].mask;
			return 0;
		}
	}
	return cfgfile_msg(msg, len, "expected \"chachapoly\" or \"aesgcm\"");
}

static void clear_eal_args(struct relay_config *c)
{
	for (unsigned i = 0; i < c->n_eal_args; i++)
		free(c->eal_args[i]);
	c->n_eal_args = 0;
}

static int set_eal_arg(struct relay_config *c, const struct relay_setting *s,
		       const struct relay_setting_value *v, char *msg, size_t len)
{
	(void)s;
	if (c->n_eal_args == RELAY_CONFIG_MAX_EAL_ARGS)
		return cfgfile_msg(msg, len, "at most %d EAL arguments", RELAY_CONFIG_MAX_EAL_ARGS);
	if (!v->str[0])
		return cfgfile_msg(msg, len, "an empty argument");
	c->eal_args[c->n_eal_args] = strdup(v->str);
	if (!c->eal_args[c->n_eal_args])
		return cfgfile_msg(msg, len, "out of memory");
	c->n_eal_args++;
	return 0;
}

static int set_log_level(struct relay_config *c, const struct relay_setting *s,
			 const struct relay_setting_value *v, char *msg, size_t len)
{
	(void)s;
	if (log_level_parse(v->str, &c->log_level))
		return cfgfile_msg(msg, len, "expected one of %s", LOG_LEVEL_NAMES);
	return 0;
}

static int set_control_socket(struct relay_config *c, const struct relay_setting *s,
			      const struct relay_setting_value *v, char *msg, size_t len)
{
	(void)s;
	if (v->str[0] != '/')
		return cfgfile_msg(msg, len, "must be an absolute path");
	if (strlen(v->str) >= sizeof(c->control_socket))
		return cfgfile_msg(msg, len, "a socket path is at most %zu characters",
				   sizeof(c->control_socket) - 1);
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", v->str);
	return 0;
}

/* A group name or a numeric gid, resolved now so that a typo stops the start. */
static int set_control_group(struct relay_config *c, const struct relay_setting *s,
			     const struct relay_setting_value *v, char *msg, size_t len)
{
	struct group *g;
	char *end;
	long gid;

	(void)s;
	if (!v->str[0])
		return cfgfile_msg(msg, len, "must not be empty");
	if (strlen(v->str) >= sizeof(c->control_group))
		return cfgfile_msg(msg, len, "too long");
	errno = 0;
	gid = strtol(v->str, &end, 10);
	if (v->str[0] >= '0' && v->str[0] <= '9' && !*end) {
		if (errno || gid > (long)UINT32_MAX - 1)
			return cfgfile_msg(msg, len, "not a group id");
	} else {
		errno = 0;
		g = getgrnam(v->str);
		if (!g)
			return cfgfile_msg(msg, len, "no such group%s%s", errno ? ": " : "",
					   errno ? strerror(errno) : "");
		gid = (long)g->gr_gid;
	}
	snprintf(c->control_group, sizeof(c->control_group), "%s", v->str);
	c->control_gid = gid;
	return 0;
}

static int set_metrics_listen(struct relay_config *c, const struct relay_setting *s,
			      const struct relay_setting_value *v, char *msg, size_t len)
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
		return cfgfile_msg(msg, len, "%s (or \"off\")", why);
	c->metrics_addr = a;
	dp_addr_format(&a, c->metrics_listen);
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

#define INT(n, fl, lo, hi, f, a, h) \
	{ .name = n, .flag = fl, .kind = RELAY_SETTING_INT, .min = lo, .max = hi, \
	  .off = offsetof(struct relay_config, f), .size = sizeof(((struct relay_config *)0)->f), \
	  .arg = a, .help = h }
/* A file path; @at is the field that remembers where it was set (or 0). */
#define PATH(n, fl, f, at, a, h) \
	{ .name = n, .flag = fl, .kind = RELAY_SETTING_STR, \
	  .off = offsetof(struct relay_config, f), .where_off = at, .set = set_path, \
	  .arg = a, .help = h }
#define BOOL(n, fl, f, h) \
	{ .name = n, .flag = fl, .kind = RELAY_SETTING_BOOL, \
	  .off = offsetof(struct relay_config, f), .size = sizeof(((struct relay_config *)0)->f), \
	  .arg = "true|false", .help = h }
#define AT(f) offsetof(struct relay_config, f)
#define STR(n, fl, fn, a, h) \
	{ .name = n, .flag = fl, .kind = RELAY_SETTING_STR, .set = fn, .arg = a, .help = h }
#define LIST(n, fl, fn, cl, a, h) \
	{ .name = n, .flag = fl, .kind = RELAY_SETTING_LIST, .set = fn, .clear = cl, .arg = a, \
	  .help = h }

const struct relay_setting relay_settings[] = {
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
	{ .name = "dpdk.ports", .flag = "dpdk-port", .kind = RELAY_SETTING_PORTS, .set = set_port,
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

const unsigned relay_settings_n = sizeof(relay_settings) / sizeof(relay_settings[0]);

_Static_assert(sizeof(relay_settings) / sizeof(relay_settings[0]) <= RELAY_SETTINGS_MAX,
	       "RELAY_SETTINGS_MAX is too small for the table");

const char *const relay_setting_groups[RELAY_SETTING_GROUPS] = { "limits", "eal", "dpdk" };

const struct relay_setting *relay_setting_find(const char *name)
{
	for (unsigned i = 0; i < relay_settings_n; i++)
		if (!strcmp(relay_settings[i].name, name))
			return &relay_settings[i];
	return NULL;
}

int relay_setting_apply(struct relay_config *c, const struct relay_setting *s,
			const struct relay_setting_value *v, char *msg, size_t len)
{
	if (s->kind == RELAY_SETTING_BOOL) {
		bool b = v->num != 0;

		memcpy((char *)c + s->off, &b, sizeof(b));
		return 0;
	}
	if (s->kind == RELAY_SETTING_INT) {
		if (v->num < s->min || v->num > s->max)
			return cfgfile_msg(msg, len, "must be an integer from %lld to %lld", s->min,
					   s->max);
		store_int(c, s, v->num);
		return 0;
	}
	return s->set(c, s, v, msg, len);
}
