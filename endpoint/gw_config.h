/*
 * gw_config.h — postern-gateway's settings: a libconfig file, checked once,
 * and the secrets it names (docs/gateway.md lists every setting).
 *
 * Order of work, each step its own call so main() can pick the exit code:
 *
 *   gw_config_init()         defaults
 *   gw_config_parse_args()   argv → which file, what to do (-EINVAL: usage, exit 2)
 *   gw_config_load()         the file: every value checked where it is set,
 *                            then what must be present and what must agree
 *                            (unique route names, literal upstreams inside
 *                            allowed_ips) (-EINVAL etc., exit 1)
 *   gw_config_load_files()   the private key, the tunnel token, the
 *                            certificate and its key (each secret refused if
 *                            group or others may read it)
 *   gw_config_print()        the effective configuration (--check-config)
 *   gw_config_free()         wipes the private key
 *
 * Every error is one line, no newline, naming where the value came from
 * (the file's syntax and errors are every Postern binary's: relay/cfgfile.h):
 *   "gateway.conf:7: shutdown_timeout: must be an integer from 0 to 3600"
 *   "gateway.conf:3: unknown setting 'rootes' (did you mean 'routes'?)"
 *   "gateway.conf:12: routes[1].upstream: 'tcp://db': expected tcp://HOST:PORT"
 *
 * Agents are allowed by fingerprint: the SHA-256 of the agent certificate's
 * DER SubjectPublicKeyInfo (docs/protocol.md §10, what the E2E layer checks), written
 * as 64 hex digits (either case, optionally with ':' between bytes). There is
 * no "any": a gateway admits only agents it names.
 *
 * What the connector's configuration reads alike (addresses, fingerprints,
 * the hop suite, tokens, certificates) is ep_config.h's.
 *
 * Threads: none of this is thread-safe; main thread, before anything runs.
 */
#ifndef POSTERN_ENDPOINT_GW_CONFIG_H
#define POSTERN_ENDPOINT_GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/keys.h"
#include "crypto/suite.h"
#include "crypto/token.h"
#include "endpoint/allowlist.h"
#include "endpoint/ep_config.h"
#include "endpoint/upstream.h"
#include "relay/cfgargs.h"
#include "relay/log.h"

enum {
	GW_CONFIG_MAX_ROUTES = 256,
	GW_CONFIG_MAX_AGENTS = 1024,
	GW_CONFIG_MAX_ARGS = 256,		/* command and env entries of a route */
	GW_CONFIG_FP_LEN = EP_CONFIG_FP_LEN,	/* an agent's or the gateway's fingerprint */
	GW_CONFIG_FP_HEX_LEN = EP_CONFIG_FP_HEX_LEN,
	GW_CONFIG_ERR_MAX = EP_CONFIG_ERR_MAX,	/* a message buffer that always suffices */
	GW_CONFIG_DEFAULT_SHUTDOWN_TIMEOUT = 30,	/* seconds */
	GW_CONFIG_MAX_SHUTDOWN_TIMEOUT = 3600,
};

#define GW_CONFIG_DEFAULT_FILE "/etc/postern/gateway.conf"

enum gw_config_action {
	GW_CONFIG_RUN = CFGARGS_RUN,
	GW_CONFIG_HELP = CFGARGS_HELP,		/* --help: print gw_config_usage() */
	GW_CONFIG_VERSION = CFGARGS_VERSION,	/* --version */
	GW_CONFIG_CHECK = CFGARGS_CHECK,	/* --check-config: load everything, print, exit */
};

/* The command line, parsed. */
struct gw_config_args {
	enum gw_config_action action;
	const char *file;	/* -c/--config; GW_CONFIG_DEFAULT_FILE if not given */
};

/* A route: a name agents ask for, and what it connects to. */
struct gw_route {
	char name[EP_CONFIG_NAME_MAX + 1];
	/*
	 * What upstream_open() takes; its strings point into the fields below
	 * and live as long as the configuration. stderr_prefix is NULL (the
	 * child writes to the gateway's stderr); a loop that pumps the stderr
	 * pipe (upstream_stderr_pump()) sets it to name for prefixed lines.
	 */
	struct upstream_target target;
	char *upstream;		/* tcp: as written, "tcp://HOST:PORT" */
	char *host, *port;	/* tcp: host without brackets */
	bool host_is_literal;	/* tcp: an IP literal (checked against allowed_ips at load) */
	char **argv;		/* stdio: NULL-terminated */
	unsigned argc;
	char **envp;		/* stdio: NULL-terminated "K=V" */
	unsigned envc;
	char *cwd;		/* stdio: NULL if not set */
	char where[EP_CONFIG_WHERE_MAX];
};

struct gw_config {
	const char *file;

	struct ep_config_relay relays[EP_CONFIG_MAX_RELAYS];
	unsigned n_relays;
	enum suite_id hop_suite;		/* offered to every relay */
	char *private_key;			/* paths */
	char *token;
	char *certificate;
	char *certificate_key;
	uint8_t (*agents)[GW_CONFIG_FP_LEN];	/* allowed agent fingerprints */
	unsigned n_agents;
	struct gw_route *routes;
	unsigned n_routes;
	struct allowlist *allowed_ips;		/* the default list unless set */
	unsigned shutdown_timeout;		/* seconds */
	char *audit_log;			/* "stderr" or an absolute path */
	enum log_level log_level;

	/* Where the path settings were set, for messages about their files. */
	char private_key_at[EP_CONFIG_WHERE_MAX];
	char token_at[EP_CONFIG_WHERE_MAX];
	char certificate_at[EP_CONFIG_WHERE_MAX];
	char certificate_key_at[EP_CONFIG_WHERE_MAX];

	/* Filled by gw_config_load_files(). */
	uint8_t static_priv[KEYS_LEN];		/* secret: the hop identity */
	uint8_t static_pub[KEYS_LEN];
	uint8_t token_bytes[TOKEN_MAX_LEN];
	size_t token_len;
	struct token token_info;		/* parsed, not verified (the relay does that) */
	uint8_t fingerprint[GW_CONFIG_FP_LEN];	/* of certificate: what connectors pin */
	bool files_loaded;
};

/*
 * Defaults: no file, hop_suite chachapoly, the default allowed_ips,
 * shutdown_timeout 30, audit to stderr.
 */
int gw_config_init(struct gw_config *c);

/* Wipe the private key, free everything. Idempotent. */
void gw_config_free(struct gw_config *c);

/*
 * Read the command line: -c/--config FILE, --check-config, -h/--help,
 * --version. Settings live in the file only.
 * @return 0, or -EINVAL with @err set (unknown option, missing value, stray operand).
 */
int gw_config_parse_args(struct gw_config_args *a, int argc, char **argv, char *err,
			 size_t errlen);

/*
 * Read the file at @path into @c (which gw_config_init() prepared), checking
 * each value, then that relays, private_key, token, certificate,
 * certificate_key, agents and routes are set, route names are unique and
 * every literal tcp upstream is inside allowed_ips. Public keys given as
 * "@FILE" are read here.
 * @return 0, or -EINVAL (-ENOENT etc. for an unreadable file) with @err set.
 */
int gw_config_load(struct gw_config *c, const char *path, char *err, size_t errlen);

/*
 * Read the secrets and identity files: private_key (keys_load_private), the
 * token file (strict "pt1." text, role gateway, bound to private_key's public
 * key, not expired at @now), the certificate and its key (PEM; the key must
 * match; encrypted keys are not supported), and compute the fingerprint.
 * Every secret file must be unreadable by group and others.
 * @now: Unix seconds (the caller's clock, time(NULL)).
 * @return 0, or -errno with @err naming the setting and the file.
 */
int gw_config_load_files(struct gw_config *c, uint64_t now, char *err, size_t errlen);

/* @return the route called @name, or NULL. */
const struct gw_route *gw_config_find_route(const struct gw_config *c, const char *name);

/* @return true if @fp (GW_CONFIG_FP_LEN bytes) is one of the configured agents. */
bool gw_config_agent_allowed(const struct gw_config *c, const uint8_t fp[GW_CONFIG_FP_LEN]);

/*
 * Write the effective configuration in the file's own syntax, with the
 * gateway's public key, fingerprint and token as comments (after
 * gw_config_load_files()). Never prints a secret.
 * @return 0 or -EIO.
 */
int gw_config_print(const struct gw_config *c, FILE *out);

/* The --help text. */
const char *gw_config_usage(void);

#endif /* POSTERN_ENDPOINT_GW_CONFIG_H */
