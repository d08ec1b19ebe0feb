/*
 * cfgargs.h — the command line of postern-relay, postern-gateway and
 * postern-connect: the options they all take, and one long option per
 * setting of the binary's own table (getopt_long).
 *
 * Every binary takes
 *
 *   -c, --config FILE   the configuration file
 *   --check-config      load everything, print the effective configuration, exit
 *   -h, --help          (stops reading: what follows is not looked at)
 *   --version           (likewise)
 *
 * and, for each setting its table names, `--FLAG VALUE` (also `--FLAG=VALUE`;
 * unambiguous prefixes are accepted, as getopt_long does). Options end at
 * the first operand or at "--"; an operand is an error. Values are not
 * checked here: the binary applies them over its file and words those errors.
 *
 * Errors, one line each, no newline:
 *   "unknown option '--wokers'[HINT]"    "unknown option '-x'[HINT]"
 *   "option '--workers' needs a value"   "unexpected argument 'stray'[HINT]"
 *   "too many options (at most 256)"
 *
 * Threads: uses getopt's globals (optind, opterr): main thread only, and
 * never concurrently with another getopt user.
 */
#ifndef POSTERN_RELAY_CFGARGS_H
#define POSTERN_RELAY_CFGARGS_H

#include <stddef.h>

enum {
	CFGARGS_MAX_FLAGS = 256,	/* setting flags on one command line */
};

enum cfgargs_action {
	CFGARGS_RUN,
	CFGARGS_HELP,		/* -h, --help */
	CFGARGS_VERSION,	/* --version */
	CFGARGS_CHECK,		/* --check-config */
};

/* The setting flags given, in command-line order. */
struct cfgargs_flags {
	unsigned n;
	struct cfgargs_flag {
		unsigned setting;	/* index in cfgargs_spec.flags */
		unsigned nth;		/* earlier flags of the same setting: 0 for the first */
		const char *value;	/* points into argv */
	} v[CFGARGS_MAX_FLAGS];
};

/* The command line, read but not applied. */
struct cfgargs {
	enum cfgargs_action action;
	const char *file;		/* -c/--config FILE; NULL if not given */
	struct cfgargs_flags flags;
};

/* What a binary accepts beyond the common options. */
struct cfgargs_spec {
	const char *const *flags;	/* long option of each setting, without "--" */
	unsigned n_flags;		/* 0: the common options only */
	const char *unknown_hint;	/* after "unknown option 'X'"; NULL for none */
	const char *operand_hint;	/* after "unexpected argument 'X'"; NULL for none */
};

/*
 * Read @argv (@argc entries, argv[0] the program) as @spec says into @a.
 * May run more than once in a process (it restarts getopt).
 * @return 0, or -EINVAL with @err set for a usage error.
 */
int cfgargs_parse(struct cfgargs *a, const struct cfgargs_spec *spec, int argc, char **argv,
		  char *err, size_t errlen);

#endif /* POSTERN_RELAY_CFGARGS_H */
