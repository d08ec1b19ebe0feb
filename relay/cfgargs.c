/*
 * cfgargs.c — the command line every Postern binary with a configuration file
 * shares: getopt_long over the common options and the settings' flags
 * (cfgargs.h).
 */
#include "relay/cfgargs.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_HELP = 'h',
	OPT_CONFIG = 'c',
	OPT_VERSION = 900,
	OPT_CHECK,
	OPT_SETTING = 1000,	/* getopt value of setting i: OPT_SETTING + i */
	N_COMMON = 4,		/* --config, --help, --version, --check-config */
};

static int usage_err(char *err, size_t errlen, const char *what, const char *arg,
		     const char *hint)
{
	snprintf(err, errlen, "%s '%s'%s%s", what, arg, hint ? " " : "", hint ? hint : "");
	return -EINVAL;
}

/*
 * The option at argv[@at] is unknown (or takes no value but was given one): a
 * long option is named as written, a short one alone, even inside "-xh".
 */
static int unknown_option(char **argv, int argc, int at, const char *hint, char *err,
			  size_t errlen)
{
	char name[3] = { '-', (char)optopt, '\0' };

	if (at < argc && !strncmp(argv[at], "--", 2))
		return usage_err(err, errlen, "unknown option", argv[at], hint);
	return usage_err(err, errlen, "unknown option", name, hint);
}

/* Note a setting flag's @value, and how many flags of its setting came before. */
static int add_flag(struct cfgargs_flags *fl, unsigned setting, const char *value, char *err,
		    size_t errlen)
{
	unsigned nth = 0;

	if (fl->n == CFGARGS_MAX_FLAGS) {
		snprintf(err, errlen, "too many options (at most %d)", CFGARGS_MAX_FLAGS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < fl->n; i++)
		nth += fl->v[i].setting == setting;
	fl->v[fl->n++] = (struct cfgargs_flag){ .setting = setting, .nth = nth, .value = value };
	return 0;
}

static int parse(struct cfgargs *a, const struct cfgargs_spec *spec, const struct option *opts,
		 int argc, char **argv, char *err, size_t errlen)
{
	int ch, at;

	optind = 0;	/* glibc: start over, this may run more than once (tests, reloads) */
	opterr = 0;
	for (;;) {
		/* The element getopt looks at next (optind 0 means "start": element 1). */
		at = optind ? optind : 1;
		ch = getopt_long(argc, argv, "+:c:h", opts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case OPT_CONFIG:
			a->file = optarg;
			break;
		case OPT_HELP:
			a->action = CFGARGS_HELP;
			return 0;
		case OPT_VERSION:
			a->action = CFGARGS_VERSION;
			return 0;
		case OPT_CHECK:
			a->action = CFGARGS_CHECK;
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		case '?':
			return unknown_option(argv, argc, at, spec->unknown_hint, err, errlen);
		default:
			if (add_flag(&a->flags, (unsigned)(ch - OPT_SETTING), optarg, err, errlen))
				return -EINVAL;
			break;
		}
	}
	if (optind < argc)
		return usage_err(err, errlen, "unexpected argument", argv[optind],
				 spec->operand_hint);
	return 0;
}

int cfgargs_parse(struct cfgargs *a, const struct cfgargs_spec *spec, int argc, char **argv,
		  char *err, size_t errlen)
{
	struct option *opts;
	unsigned n = 0;
	int ret;

	memset(a, 0, sizeof(*a));
	opts = calloc((size_t)spec->n_flags + N_COMMON + 1, sizeof(*opts));
	if (!opts) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < spec->n_flags; i++)
		opts[n++] = (struct option){ spec->flags[i], required_argument, NULL,
					     OPT_SETTING + (int)i };
	opts[n++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	opts[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	opts[n++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	opts[n++] = (struct option){ "check-config", no_argument, NULL, OPT_CHECK };
	ret = parse(a, spec, opts, argc, argv, err, errlen);
	free(opts);
	return ret;
}
