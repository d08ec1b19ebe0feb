/*
 * reload.h — re-reading postern-relay's configuration while it runs
 * (SIGHUP and `posternctl reload`; docs/relay.md#reload).
 *
 * A reload reads the same file with the same command-line flags as the start
 * did (flags still override the file) and loads every key and file it names,
 * exactly as the start does (relay/config.h). Only if all of that is valid
 * does it compare the result with the configuration the relay runs with:
 *
 *   applied live     log_level; trusted_keys (keys added and removed);
 *                    revoked, revoked_file (ids added are revoked);
 *                    limits.max_sessions (up to its value at start),
 *                    limits.max_channels; drain_ms; stats_file;
 *                    token_skew, limits.handshake_budget,
 *                    limits.handshake_rate (from each worker's next INIT)
 *   needs restart    every other setting that differs, a changed private
 *                    key or PSK behind an unchanged path, and a revoked id
 *                    that was removed (a revocation is not undone live)
 *
 * "Every other setting" is found by comparing the two configurations as
 * relay_config_print() writes them, setting by setting, so a setting this
 * file does not know about is reported as needing a restart, never ignored.
 * What needs a restart stays as it was: the next reload reports it again.
 *
 * No session is dropped: a trust change ends only the sessions it condemns,
 * as keys.untrust and tokens.revoke do, and limits hold for new sessions and
 * channels. An invalid configuration changes nothing.
 *
 * Threads: the main thread (the one that owns @cur and changes the relay's
 * trust store).
 */
#ifndef POSTERN_RELAY_RELOAD_H
#define POSTERN_RELAY_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "relay/config.h"

struct relay;
struct reload;

enum {
	RELOAD_NAMES_MAX = 512,		/* a comma-separated list of setting names */
};

/* What one reload did. */
struct reload_report {
	char applied[RELOAD_NAMES_MAX];	/* "log_level,trusted_keys", or "" */
	char restart[RELOAD_NAMES_MAX];	/* "workers,listen", or "" */
	bool trust_changed;		/* a trust store was published: wake the workers */
};

/*
 * Remember @args (borrowed: the start's command line, which must outlive the
 * reload) and @cur (borrowed: the running configuration, loaded with secrets;
 * a reload updates what it applies in place). Reads @cur's revoked_file to
 * know which ids the configuration revokes.
 * @return 0, -ENOMEM, or -errno with @err naming the file.
 */
int reload_create(struct reload **out, const struct relay_config_args *args,
		  struct relay_config *cur, char *err, size_t errlen);
void reload_destroy(struct reload *rl);

/*
 * Reload into relay @r. @return 0 with @rep filled; or -errno with @err one
 * line saying why (the file and line of a bad setting, a trust store that is
 * full or busy) and nothing changed.
 */
int reload_run(struct reload *rl, struct relay *r, struct reload_report *rep, char *err,
	       size_t errlen);

/* For people: "applied: a, b; needs restart: c" or "no change". */
void reload_summary(const struct reload_report *rep, char *msg, size_t len);

#endif /* POSTERN_RELAY_RELOAD_H */
