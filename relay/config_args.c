/*
 * config_args.c — postern-relay's command line: the common options
 * (relay/cfgargs.h), one flag per setting of config_settings.h, applied over
 * the file (config_args.h), and the --help text.
 */
#include "relay/config_args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "relay/cfgfile.h"
#include "relay/config_settings.h"

int relay_config_parse_args(struct relay_config_args *a, int argc, char **argv,
			    char *err, size_t errlen)
{
	const char *flags[RELAY_SETTINGS_MAX];
	const struct cfgargs_spec spec = {
		.flags = flags,
		.n_flags = relay_settings_n,
		.operand_hint = "(settings are flags or go in the file given with -c)",
	};
	struct cfgargs cmd;
	int ret;

	for (unsigned i = 0; i < relay_settings_n; i++)
		flags[i] = relay_settings[i].flag;
	memset(a, 0, sizeof(*a));
	ret = cfgargs_parse(&cmd, &spec, argc, argv, err, errlen);
	if (ret)
		return ret;
	a->action = (enum relay_config_action)cmd.action;
	a->file = cmd.file;
	a->flags = cmd.flags;
	return 0;
}

int relay_config_args_apply(struct relay_config *c, const struct relay_config_args *a,
			    char *err, size_t errlen)
{
	char msg[RELAY_CONFIG_ERR_MAX / 2], where[RELAY_CONFIG_WHERE_MAX];

	for (unsigned i = 0; i < a->flags.n; i++) {
		const struct cfgargs_flag *fl = &a->flags.v[i];
		const struct relay_setting *s = &relay_settings[fl->setting];
		struct relay_setting_value v = {
			.str = fl->value, .index = fl->nth, .where = where,
		};
		bool b;

		snprintf(where, sizeof(where), "--%s", s->flag);
		if (s->kind == RELAY_SETTING_INT &&
		    cfgfile_parse_int(v.str, s->min, s->max, &v.num))
			return cfgfile_msg(err, errlen,
					   "--%s '%s': must be an integer from %lld to %lld",
					   s->flag, v.str, s->min, s->max);
		if (s->kind == RELAY_SETTING_BOOL) {
			if (cfgfile_parse_bool(v.str, &b))
				return cfgfile_msg(err, errlen, "--%s '%s': must be true or false",
						   s->flag, v.str);
			v.num = b;
		}
		/* A repeatable flag replaces the file's whole list (config.h). */
		if (s->clear && fl->nth == 0)
			s->clear(c);
		if (relay_setting_apply(c, s, &v, msg, sizeof(msg)))
			return cfgfile_msg(err, errlen, "--%s '%s': %s", s->flag, v.str, msg);
	}
	return 0;
}

enum {
	HELP_INDENT = 29,	/* where option descriptions start */
	HELP_WIDTH = 79,
};

/* "      --flag ARG           help text", the help wrapped at HELP_WIDTH. */
static size_t usage_line(char *text, size_t cap, size_t n, const struct relay_setting *s)
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
	for (unsigned i = 0; i < relay_settings_n && n < sizeof(text); i++)
		n = usage_line(text, sizeof(text), n, &relay_settings[i]);
	if (n < sizeof(text))
		snprintf(text + n, sizeof(text) - n,
			 "\n"
			 "Exit status: 0 after a clean shutdown (SIGTERM, SIGINT) or "
			 "--check-config;\n1 for an invalid configuration or a start-up failure; "
			 "2 for a usage error.\n");
	return text;
}
