/*
 * cfgfile.h — reading a configuration file in libconfig syntax the way
 * postern-relay, postern-gateway and postern-connect all do, and the files it
 * names (keys, tokens, certificates).
 *
 * Each binary keeps its own table of settings; this module walks the file and
 * words the errors, so the three refuse a bad file alike. Every error is one
 * line, no newline, naming where the value came from:
 *
 *   "relay.conf:7: workers: must be an integer from 1 to 64"
 *   "gateway.conf:3: unknown setting 'rootes' (did you mean 'routes'?)"
 *   "gateway.conf:5: relays[0]: unknown setting 'adress' (did you mean 'address'?)"
 *   "sub/limits.inc:1: limits.max_sessions: must be an integer from 1 to 5000000"
 *
 * FILE is the file the setting was read from: the configuration itself or a
 * file it pulls in with `@include "NAME"` (NAME relative to the including
 * file's directory). A LABEL names the setting as the operator wrote it:
 * "workers", "limits.max_sessions", "relays[1].address", "agents[0]".
 *
 * Conventions of every function taking a `struct cfgfile`: on error it writes
 * the whole message to f->err (truncated to f->errlen) and returns -EINVAL;
 * on success it returns 0 and leaves f->err alone. Callbacks follow the same
 * rule, so the first error stops the walk and is the one reported.
 *
 * Threads: no global state; a struct cfgfile belongs to one thread.
 */
#ifndef POSTERN_RELAY_CFGFILE_H
#define POSTERN_RELAY_CFGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "crypto/keys.h"

enum {
	CFGFILE_WHERE_MAX = 300,	/* "FILE:LINE" (or "--flag", "POSTERN_X"), with NUL */
	CFGFILE_LABEL_MAX = 160,	/* "routes[12].command[3]", with NUL */
	CFGFILE_MSG_MAX = 512,		/* a message without its "FILE:LINE: LABEL: " */
	CFGFILE_SUGGEST_EDITS = 2,	/* cfgfile_suggest(): at most this many edits away */
};

/* The file being read, and where the first error goes. */
struct cfgfile {
	const char *path;	/* as given to cfgfile_load() */
	char *err;
	size_t errlen;
};

/*
 * Called once with the file's root group (its top-level settings, in file
 * order, includes expanded). @arg is cfgfile_load()'s.
 */
typedef int (*cfgfile_root_fn)(const struct cfgfile *f, const config_setting_t *root, void *arg);

/*
 * Parse the file at @path (includes relative to its directory) and hand its
 * root to @fn. Messages: "PATH: cannot read the configuration: REASON" when it
 * cannot be opened, "FILE:LINE: syntax error: REASON" when it does not parse
 * (a missing include is such an error), else whatever @fn wrote.
 * Settings the file holds live only during the call: @fn copies what it keeps.
 * @return 0; -errno of open(2) (with @err set) when the file cannot be opened;
 * -EINVAL for a syntax error; else @fn's return.
 */
int cfgfile_load(const char *path, cfgfile_root_fn fn, void *arg, char *err, size_t errlen);

/* Write "FILE:LINE" of @st (see above: the file it was read from). */
void cfgfile_where(const struct cfgfile *f, const config_setting_t *st,
		   char where[CFGFILE_WHERE_MAX]);

/*
 * Write "FILE:LINE: LABEL: MESSAGE" for @st, MESSAGE from @fmt (cut at
 * CFGFILE_MSG_MAX). @return -EINVAL, so that `return cfgfile_err(...)` ends a
 * setter.
 */
int cfgfile_err(const struct cfgfile *f, const config_setting_t *st, const char *label,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A setting @name that is not one of @names (@n of them), met at @st inside
 * @in ("" at the top level, else e.g. "relays[0]"): writes
 * "FILE:LINE: [IN: ]unknown setting 'NAME'[ (did you mean 'NEAR'?)]" with
 * NEAR = cfgfile_suggest(). @return -EINVAL.
 */
int cfgfile_unknown(const struct cfgfile *f, const config_setting_t *st, const char *in,
		    const char *name, const char *const *names, unsigned n);

/*
 * The name in @names (@n of them) closest to @name by edit distance
 * (Levenshtein: insertions, deletions, substitutions), if at most
 * CFGFILE_SUGGEST_EDITS edits away; the first of equally close ones.
 * Names of 63 characters or more are never close.
 * @return a pointer into @names, or NULL.
 */
const char *cfgfile_suggest(const char *name, const char *const *names, unsigned n);

/* How a libconfig type is called in messages: "an integer", "a list", ... */
const char *cfgfile_type_name(int type);

/* ---- typed values of one setting -------------------------------------------------- */

/*
 * @st's string, or "LABEL: must be a string in double quotes, not TYPE".
 * *@out points into the parsed file (valid during cfgfile_load()); "" on error.
 */
int cfgfile_get_string(const struct cfgfile *f, const config_setting_t *st, const char *label,
		       const char **out);

/*
 * @st's integer within [@min, @max], or "LABEL: must be an integer[ (UNIT)],
 * not TYPE" / "LABEL: must be an integer from MIN to MAX". @unit (e.g.
 * "seconds") may be NULL.
 */
int cfgfile_get_int(const struct cfgfile *f, const config_setting_t *st, const char *label,
		    long long min, long long max, const char *unit, long long *out);

/* @st's true or false, or "LABEL: must be true or false, not TYPE". */
int cfgfile_get_bool(const struct cfgfile *f, const config_setting_t *st, const char *label,
		     bool *out);

/* ---- lists ------------------------------------------------------------------------- */

/*
 * One string of a list: @e is where it stands (for messages), @label
 * "NAME[INDEX]" (or NAME for a lone string), @index its position.
 */
typedef int (*cfgfile_string_fn)(const struct cfgfile *f, const config_setting_t *e,
				  const char *label, const char *value, unsigned index, void *arg);

/*
 * A list of strings, [ "a", "b" ] or ( "a", "b" ), each handed to @fn in
 * order; a lone string is a list of one. Refused: "LABEL: must be a list of
 * strings [ \"...\", ... ], not TYPE" and "LABEL[I]: must be a string, not TYPE".
 */
int cfgfile_string_list(const struct cfgfile *f, const config_setting_t *st, const char *label,
			cfgfile_string_fn fn, void *arg);

/* One group of a list of groups: @g, labelled "NAME[INDEX]". */
typedef int (*cfgfile_group_fn)(const struct cfgfile *f, const config_setting_t *g,
				const char *label, unsigned index, void *arg);

/*
 * A list of groups, ( { ... }, { ... } ), each handed to @fn in order; a lone
 * group is a list of one. @list_shape and @group_shape show the operator what
 * is expected: "LABEL: must be LIST_SHAPE, not TYPE" and
 * "LABEL[I]: must be GROUP_SHAPE, not TYPE", e.g. "a list of groups
 * ( { address = ...; }, ... )" and "a group { address = \"HOST:PORT\"; }".
 */
int cfgfile_group_list(const struct cfgfile *f, const config_setting_t *st, const char *label,
		       const char *list_shape, const char *group_shape, cfgfile_group_fn fn,
		       void *arg);

/* One member of a group: @m, its name names[@key], labelled "LABEL.NAME". */
typedef int (*cfgfile_member_fn)(const struct cfgfile *f, const config_setting_t *m,
				 const char *label, unsigned key, void *arg);

/*
 * Every member of the group @g (the root group included), in file order,
 * handed to @fn with its index in @names; a member that is not one of @names
 * is refused with cfgfile_unknown(@label). @label "" (the root): members are
 * labelled by their bare names.
 */
int cfgfile_members(const struct cfgfile *f, const config_setting_t *g, const char *label,
		    const char *const *names, unsigned n, cfgfile_member_fn fn, void *arg);

/* ---- files a configuration names ------------------------------------------------- */

/*
 * Read the whole regular file at @path into @buf (@cap bytes, NUL-terminated;
 * at most @cap - 2 bytes of content) and set *@len. A @secret file must grant
 * nothing to group or others (mode 0600 or stricter), checked on the file
 * actually read by keys_check_file(), as a private key is (crypto/keys.h).
 * @what names the kind of file in messages ("token", "certificate", "private
 * key"), which never quote the content:
 *   "PATH: no such file", "PATH is a directory, not a WHAT file",
 *   "PATH has mode 0644: a WHAT must not be accessible to group or others;
 *    run: chmod 600 PATH", "PATH: too large for a WHAT file".
 * @err gets the message alone (no "FILE:LINE"): the caller says which setting.
 * @return 0, or -ENOENT, -EISDIR, -EINVAL (not a regular file), -EPERM (mode),
 * -EFBIG, or another -errno from open/fstat/read. The caller wipes @buf.
 */
int cfgfile_read(const char *path, bool secret, const char *what, char *buf, size_t cap,
		 size_t *len, char *err, size_t errlen);

/*
 * The X25519 private key file of setting private_key, @path, set at @at
 * ("FILE:LINE", "--private-key", "POSTERN_PRIVATE_KEY"): read it with
 * keys_load_private() (which refuses a mode other than 0600 or stricter) and
 * derive @pub. Messages: "AT: private_key: WHY" and
 * "AT: private_key: cannot derive the public key".
 * @return 0, or -errno with @priv wiped.
 */
int cfgfile_load_private_key(const char *path, const char *at, uint8_t priv[KEYS_LEN],
			     uint8_t pub[KEYS_LEN], char *err, size_t errlen);

/* ---- values from the command line or the environment ---------------------------- */

/*
 * Strict decimal (optional '-', digits only, no blanks) within [@min, @max].
 * @return 0 and *@out, or -EINVAL (the caller words the message).
 */
int cfgfile_parse_int(const char *text, long long min, long long max, long long *out);

/* Exactly "true" or "false". @return 0 and *@out, or -EINVAL. */
int cfgfile_parse_bool(const char *text, bool *out);

/*
 * Format a message into @msg (@len bytes) and @return -EINVAL: the shape of a
 * setter that refuses a value.
 */
int cfgfile_msg(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- printing the effective configuration (--check-config) ------------------------ */

/* @s as a libconfig string literal: in double quotes, '"' and '\' escaped. */
void cfgfile_put_string(FILE *out, const char *s);

/* `NAME = "VALUE";` and a newline; NULL prints as "". */
void cfgfile_put_setting(FILE *out, const char *name, const char *value);

#endif /* POSTERN_RELAY_CFGFILE_H */
