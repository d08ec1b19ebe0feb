/*
 * config.h — postern-relay's settings: a libconfig file, command-line flags
 * over it, validation, and the secrets they name (docs/relay.md lists every
 * setting).
 *
 * Order of work, each step its own call so main() can pick the exit code:
 *
 *   relay_config_init()          defaults
 *   relay_config_parse_args()    argv → which file, which flags, what to do
 *                                (-EINVAL: a usage error, exit 2)
 *   relay_config_load()          the file, then the flags over it, each value
 *                                checked where it is set (-EINVAL, exit 1)
 *   relay_config_load_secrets()  private key, PSK, trusted keys, revocations
 *                                → struct relay_params and a token trust
 *   relay_config_print()         the effective configuration (--check-config)
 *   relay_config_free()          wipes the secrets
 *
 * The settings are one table (config_settings.c); config_file.c reads the
 * file, config_args.c the command line, config_secrets.c the files the
 * settings name and config_print.c prints the result. The file's syntax,
 * its errors and the common options are those of every Postern binary
 * (relay/cfgfile.h, relay/cfgargs.h).
 *
 * Flags override the file whatever their order on the command line. A
 * repeatable flag (--listen, --trust, --revoked, --suite, --eal-arg,
 * --dpdk-port) replaces the file's whole list with the values given on the
 * command line.
 *
 * Every error is one line, no newline, naming where the value came from:
 *   "relay.conf:7: workers: must be an integer from 1 to 64"
 *   "relay.conf:3: unknown setting 'wokers' (did you mean 'workers'?)"
 *   "--workers '0': must be an integer from 1 to 64"
 *
 * Threads: none of this is thread-safe; main thread, before anything runs.
 */
#ifndef POSTERN_RELAY_CONFIG_H
#define POSTERN_RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "dataplane/addr.h"
#include "dataplane/ethdev.h"
#include "dataplane/portconf.h"
#include "dataplane/sock.h"
#include "relay/cfgargs.h"
#include "relay/control.h"
#include "relay/log.h"
#include "relay/pkt.h"
#include "relay/relay.h"

enum {
	RELAY_CONFIG_MAX_LISTEN = DP_SOCK_MAX_LISTEN,
	RELAY_CONFIG_MAX_EAL_ARGS = 32,
	RELAY_CONFIG_MAX_FLAGS = CFGARGS_MAX_FLAGS,	/* flags on one command line */
	RELAY_CONFIG_WHERE_MAX = 300,		/* "FILE:LINE" or "--flag" */
	RELAY_CONFIG_ERR_MAX = 1024,		/* a message buffer that always suffices */
	RELAY_CONFIG_DEFAULT_PORT = 51820,
	RELAY_CONFIG_DEFAULT_DRAIN_MS = 2000,
	RELAY_CONFIG_SOCKET_PATH_MAX = 108,	/* sun_path, with its NUL */
	RELAY_CONFIG_GROUP_MAX = 64,
};

#define RELAY_CONFIG_DEFAULT_FILE "/etc/postern/relay.conf"

/* Which dataplane moves the packets (docs/relay.md). */
enum relay_backend {
	RELAY_BACKEND_SOCKET,		/* kernel UDP sockets (dataplane/sock.h) */
	RELAY_BACKEND_DPDK,		/* DPDK ethdev ports (dataplane/ethdev.h) */
};

enum relay_config_action {
	RELAY_CONFIG_RUN = CFGARGS_RUN,
	RELAY_CONFIG_HELP = CFGARGS_HELP,	/* --help: print relay_config_usage() */
	RELAY_CONFIG_VERSION = CFGARGS_VERSION,	/* --version */
	RELAY_CONFIG_CHECK = CFGARGS_CHECK,	/* --check-config: load everything, print, exit */
};

/* The command line, parsed but not applied. */
struct relay_config_args {
	enum relay_config_action action;
	const char *file;		/* -c/--config; NULL: none (flags only) */
	struct cfgargs_flags flags;	/* the settings' flags, in order (values in argv) */
};

struct relay_config {
	const char *file;			/* NULL when only flags were given */

	struct pkt_addr listen[RELAY_CONFIG_MAX_LISTEN];
	unsigned n_listen;
	unsigned workers;			/* default: online CPUs, capped */
	enum relay_backend backend;
	enum dp_sock_io io;
	char *private_key;			/* path */
	char *trusted_arg[TOKEN_MAX_SIGNERS];	/* as written: key text or "@FILE" */
	unsigned n_trusted;
	uint8_t (*revoked)[TOKEN_ID_LEN];	/* from `revoked` and --revoked */
	unsigned n_revoked, cap_revoked;
	char *revoked_file;			/* path or NULL */
	char *psk_file;				/* path or NULL */
	unsigned suites;			/* HOP_SUITES_* mask */
	uint64_t token_skew;			/* seconds */
	uint32_t max_sessions, max_channels, max_channel_ends;
	uint32_t handshake_budget, handshake_rate;
	unsigned eal_memory_mb;
	char *eal_args[RELAY_CONFIG_MAX_EAL_ARGS];
	unsigned n_eal_args;
	bool eal_hugepages;

	/* The DPDK backend (dpdk.*): ports, each checked whole where it is set. */
	struct dp_portconf ports[DP_PORTCONF_MAX_PORTS];
	unsigned n_ports;
	enum dp_ethdev_idle idle;
	uint32_t drain_ms;
	char *stats_file;			/* path or NULL */
	enum log_level log_level;

	/* The control plane (relay/control.h, docs/control.md). */
	char control_socket[RELAY_CONFIG_SOCKET_PATH_MAX];	/* absolute path */
	char control_group[RELAY_CONFIG_GROUP_MAX];	/* as written; "" for none */
	long control_gid;			/* control_group resolved; -1 for none */
	char metrics_listen[DP_ADDR_TEXT_MAX];	/* canonical "ADDR:PORT"; "" when "off" */
	struct pkt_addr metrics_addr;		/* valid when metrics_listen[0] */
	bool metrics_allow_public;		/* allow metrics_listen outside 127/8, ::1 */

	/* Where the path settings were set, for messages about their files. */
	char private_key_at[RELAY_CONFIG_WHERE_MAX];
	char revoked_file_at[RELAY_CONFIG_WHERE_MAX];
	char psk_file_at[RELAY_CONFIG_WHERE_MAX];
	char metrics_listen_at[RELAY_CONFIG_WHERE_MAX];
	char backend_at[RELAY_CONFIG_WHERE_MAX];
	char listen_at[RELAY_CONFIG_MAX_LISTEN][RELAY_CONFIG_WHERE_MAX];
	char ports_at[DP_PORTCONF_MAX_PORTS][RELAY_CONFIG_WHERE_MAX];	/* "FILE:LINE" */
	/* "FILE:LINE: trusted_keys[i]" or "--trust 'ARG'" */
	char trusted_at[TOKEN_MAX_SIGNERS][RELAY_CONFIG_WHERE_MAX];

	/* Filled by relay_config_load_secrets(); params.pool is the caller's. */
	struct relay_params params;		/* holds the private key and PSK */
	struct token_trust *trust;		/* owned; params.trust points here */
	uint8_t public_key[KEYS_LEN];		/* the relay's, for endpoints to pin */
	uint8_t trusted[TOKEN_MAX_SIGNERS][KEYS_LEN];	/* the Ed25519 keys of trusted_arg */
	unsigned n_revoked_file;		/* ids read from revoked_file */
	bool has_psk;
};

/* Defaults for everything; no file, no keys. */
void relay_config_init(struct relay_config *c);

/* Wipe the private key and PSK, free every string and the trust. Idempotent. */
void relay_config_free(struct relay_config *c);

/*
 * Read the command line (argv[0] is the program). Values are not checked
 * here, only that each flag exists and has its value.
 * @return 0, or -EINVAL with @err set for a usage error (unknown flag,
 * missing value, a stray operand, too many flags).
 */
int relay_config_parse_args(struct relay_config_args *a, int argc, char **argv,
			    char *err, size_t errlen);

/*
 * Apply @a to @c: the file @a->file (if any), then every flag. Each value is
 * checked as it is set (control_group is looked up in the group database
 * then); settings the file does not know are refused by name. Last, a
 * metrics_listen address outside 127.0.0.0/8 and ::1 is refused unless
 * metrics_allow_public is set, and with backend "dpdk" there must be a port
 * and every listen address must fall on one (dp_portconf_check_listen()).
 * @return 0, or -EINVAL (-ENOENT etc. for an unreadable file) with @err set.
 */
int relay_config_load(struct relay_config *c, const struct relay_config_args *a,
		      char *err, size_t errlen);

/*
 * Check what must be present (private key, a trusted key), read the private
 * key (refused if group or others may read it: keys_load_private), the PSK
 * and the revocation file, and build the token trust; fill @c->params from
 * relay_params_default() and the settings (pool left NULL).
 * @return 0, or -errno with @err naming the setting and the file.
 */
int relay_config_load_secrets(struct relay_config *c, char *err, size_t errlen);

/*
 * Write the effective configuration in the file's own syntax, with the
 * relay's public key and counts as comments. Never prints a secret.
 * @return 0 or -EIO.
 */
int relay_config_print(const struct relay_config *c, FILE *out);

/* The --help text. */
const char *relay_config_usage(void);

#endif /* POSTERN_RELAY_CONFIG_H */
