/*
 * conn_config.h — postern-connect's settings (docs/connector.md lists every
 * one): a libconfig file, environment variables and flags, checked once, and
 * the secrets they name.
 *
 * Every setting can be given three ways; the later source wins:
 *
 *	file          tunnel = "crm";                 (-c FILE or $POSTERN_CONFIG)
 *	environment   POSTERN_TUNNEL=crm
 *	flag          --tunnel crm
 *
 * so flags > environment > file. A list (relays, listen) is replaced whole
 * by a later source, never merged: `--listen` twice on the command line is
 * the listen list, whatever the file and environment say. In the environment
 * a list is its items separated by spaces. Items of relays are "HOST:PORT,KEY"
 * (KEY: the relay's public key, or "@FILE"), items of listen "ROUTE=ADDR:PORT".
 * Variables starting with POSTERN_ that are not settings are ignored, except
 * near misses of a setting's name (POSTERN_PRIVATEKEY), which are refused as
 * typos.
 *
 * Order of work:
 *
 *   conn_config_init()         defaults
 *   conn_config_parse_args()   argv → file, flags, action (-EINVAL: usage, exit 2)
 *   conn_config_load()         file, environment, flags; each value checked
 *                              where it is set; then what must be present, and
 *                              that every listen address is loopback unless
 *                              listen_public (-EINVAL etc., exit 1)
 *   conn_config_load_files()   private key, grant, certificate and its key
 *   conn_config_print()        the effective configuration (--check-config)
 *   conn_config_free()         wipes the private key
 *
 * The file's syntax and errors, and the options every binary takes, are
 * those of relay/cfgfile.h and relay/cfgargs.h; addresses, fingerprints, the
 * hop suite, the grant and the certificate are read as the gateway reads
 * them (ep_config.h). Every error is one line
 * naming where the value came from:
 *   "connect.conf:4: tunnel: 'a b': a tunnel name is 1 to 63 characters of ..."
 *   "POSTERN_LISTEN='db=127.0.0.1': expected ROUTE=ADDR:PORT ..."
 *   "--gateway-fingerprint 'abc': a fingerprint is 64 hex digits ..."
 *
 * Threads: none of this is thread-safe; main thread, before anything runs.
 */
#ifndef POSTERN_ENDPOINT_CONN_CONFIG_H
#define POSTERN_ENDPOINT_CONN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/socket.h>

#include "crypto/keys.h"
#include "crypto/suite.h"
#include "crypto/token.h"
#include "endpoint/ep_config.h"
#include "relay/cfgargs.h"
#include "relay/log.h"

enum {
	CONN_CONFIG_MAX_RELAYS = EP_CONFIG_MAX_RELAYS,
	CONN_CONFIG_MAX_LISTEN = 64,
	CONN_CONFIG_MAX_FLAGS = CFGARGS_MAX_FLAGS,	/* flags on one command line */
	CONN_CONFIG_WHERE_MAX = EP_CONFIG_WHERE_MAX,
	CONN_CONFIG_ERR_MAX = EP_CONFIG_ERR_MAX,
};

enum conn_config_action {
	CONN_CONFIG_RUN = CFGARGS_RUN,
	CONN_CONFIG_HELP = CFGARGS_HELP,	/* --help: print conn_config_usage() */
	CONN_CONFIG_VERSION = CFGARGS_VERSION,	/* --version */
	CONN_CONFIG_CHECK = CFGARGS_CHECK,	/* --check-config: load everything, print, exit */
};

/* The command line, parsed but not applied. */
struct conn_config_args {
	enum conn_config_action action;
	const char *file;		/* -c/--config; NULL: $POSTERN_CONFIG, or no file */
	struct cfgargs_flags flags;	/* the settings' flags, in order (values in argv) */
};

/* A local TCP listener for one route. */
struct conn_listen {
	char route[EP_CONFIG_NAME_MAX + 1];
	char address[EP_CONFIG_ADDR_MAX + 1];	/* as written */
	struct sockaddr_storage addr;		/* numeric: what bind() takes */
	socklen_t addr_len;
	bool loopback;
	char where[CONN_CONFIG_WHERE_MAX];
};

struct conn_config {
	const char *file;			/* NULL: no file */

	struct ep_config_relay relays[CONN_CONFIG_MAX_RELAYS];
	unsigned n_relays;
	enum suite_id hop_suite;		/* offered to the relays */
	char *private_key;			/* paths */
	char *grant;
	char *certificate;
	char *certificate_key;
	char tunnel[EP_CONFIG_NAME_MAX + 1];
	uint8_t gateway_fingerprint[EP_CONFIG_FP_LEN];
	bool has_gateway_fingerprint;
	struct conn_listen listen[CONN_CONFIG_MAX_LISTEN];
	unsigned n_listen;
	bool listen_public;
	char stdio[EP_CONFIG_NAME_MAX + 1];	/* --stdio ROUTE; "" for listeners */
	enum log_level log_level;

	/* Where the path settings were set: "FILE:LINE", "POSTERN_X" or "--x". */
	char private_key_at[CONN_CONFIG_WHERE_MAX];
	char grant_at[CONN_CONFIG_WHERE_MAX];
	char certificate_at[CONN_CONFIG_WHERE_MAX];
	char certificate_key_at[CONN_CONFIG_WHERE_MAX];

	/* Filled by conn_config_load_files(). */
	uint8_t static_priv[KEYS_LEN];		/* secret: the hop identity */
	uint8_t static_pub[KEYS_LEN];
	uint8_t grant_bytes[TOKEN_MAX_LEN];
	size_t grant_len;
	struct token grant_info;		/* parsed, not verified (the relay does that) */
	uint8_t fingerprint[EP_CONFIG_FP_LEN];	/* of certificate: what gateways list in agents */
	bool files_loaded;
};

/* Defaults: nothing set, hop_suite chachapoly, listen_public false, log_level info. */
void conn_config_init(struct conn_config *c);

/* Wipe the private key, free everything. Idempotent. */
void conn_config_free(struct conn_config *c);

/*
 * Read the command line (argv[0] is the program): -c/--config FILE,
 * --check-config, -h/--help, --version and one flag per setting. Values are
 * checked by conn_config_load().
 * @return 0, or -EINVAL with @err set (unknown flag, missing value, a stray
 * operand, too many flags).
 */
int conn_config_parse_args(struct conn_config_args *a, int argc, char **argv, char *err,
			   size_t errlen);

/*
 * Apply, in this order, the file (@a->file, else $POSTERN_CONFIG from @envp,
 * else none), the POSTERN_* variables of @envp (NULL-terminated "K=V", e.g.
 * environ; NULL for none) and the flags of @a. Then check that relays,
 * private_key, grant, tunnel, gateway_fingerprint, certificate,
 * certificate_key and listen (or stdio) are set, and refuse a listen address
 * outside 127.0.0.0/8 and ::1 unless listen_public is true.
 * @return 0, or -EINVAL (-ENOENT etc. for an unreadable file) with @err set.
 */
int conn_config_load(struct conn_config *c, const struct conn_config_args *a,
		     char *const *envp, char *err, size_t errlen);

/*
 * Read the private key, the grant (role agent, bound to the private key's
 * public key, naming tunnel or granting "*", not expired at @now), and the
 * certificate with its key; compute the agent's fingerprint. Every secret
 * file must be unreadable by group and others.
 * @return 0, or -errno with @err naming the setting and the file.
 */
int conn_config_load_files(struct conn_config *c, uint64_t now, char *err, size_t errlen);

/*
 * Write the effective configuration in the file's syntax, with the
 * connector's public key and fingerprint as comments. Never prints a secret.
 * @return 0 or -EIO.
 */
int conn_config_print(const struct conn_config *c, FILE *out);

/* The --help text. */
const char *conn_config_usage(void);

#endif /* POSTERN_ENDPOINT_CONN_CONFIG_H */
