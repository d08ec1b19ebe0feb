/*
 * test_cfgfile.c — the configuration file and command line every Postern
 * binary shares (relay/cfgfile.h, relay/cfgargs.h), as an operator meets
 * them: each bad value refused in one line naming file, line and setting,
 * typos answered with the name meant, secret files refused when others may
 * read them, and the command line read the same way by every binary.
 */
#define _GNU_SOURCE	/* open_memstream */

#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "relay/cfgargs.h"
#include "relay/cfgfile.h"

#include "cfg_fixture.h"

static void setup(void)
{
	cfx_setup("cfgfile");
}

static void teardown(void)
{
	cfx_teardown();
}

TestSuite(cfgfile, .init = setup, .fini = teardown);

/* "t.conf:LINE: " + @msg, for the messages the cases expect. */
static const char *at_line(unsigned line, const char *msg)
{
	static char out[1024];

	snprintf(out, sizeof(out), "%s:%u: %s", cfx_path("t.conf"), line, msg);
	return out;
}

/* ---- typed values ----------------------------------------------------------------- */

enum getter { GET_INT, GET_BOOL, GET_STRING };

/* What the root callback is to read from setting "v", and what it read. */
struct typed {
	enum getter get;
	long long min, max;
	const char *unit;
	long long num;
	bool b;
	char str[64];
};

static int read_typed(const struct cfgfile *f, const config_setting_t *m, const char *label,
		      unsigned key, void *arg)
{
	struct typed *t = arg;
	const char *s;
	int ret;

	(void)key;
	switch (t->get) {
	case GET_INT:
		return cfgfile_get_int(f, m, label, t->min, t->max, t->unit, &t->num);
	case GET_BOOL:
		return cfgfile_get_bool(f, m, label, &t->b);
	case GET_STRING:
		ret = cfgfile_get_string(f, m, label, &s);
		snprintf(t->str, sizeof(t->str), "%s", s);
		return ret;
	}
	return -EINVAL;
}

static int root_typed(const struct cfgfile *f, const config_setting_t *root, void *arg)
{
	static const char *const names[] = { "v" };

	return cfgfile_members(f, root, "", names, 1, read_typed, arg);
}

Test(cfgfile, typed_values_are_checked_by_type_and_bounds)
{
	static const struct {
		const char *text;
		enum getter get;
		long long min, max;
		const char *unit;
		const char *want;	/* the value as text, or the message after "t.conf:1: " */
		int ret;
	} cases[] = {
		{ "v = 5;", GET_INT, 1, 10, NULL, "5", 0 },
		{ "v = 1;", GET_INT, 1, 10, NULL, "1", 0 },
		{ "v = 10;", GET_INT, 1, 10, NULL, "10", 0 },
		{ "v = -3;", GET_INT, -5, 5, NULL, "-3", 0 },
		{ "v = 10000000000L;", GET_INT, 0, LLONG_MAX, NULL, "10000000000", 0 },
		{ "v = 0;", GET_INT, 1, 10, NULL, "v: must be an integer from 1 to 10", -EINVAL },
		{ "v = 11;", GET_INT, 1, 10, NULL, "v: must be an integer from 1 to 10", -EINVAL },
		{ "v = 10000000000L;", GET_INT, 0, 3600, NULL,
		  "v: must be an integer from 0 to 3600", -EINVAL },
		{ "v = \"5\";", GET_INT, 1, 10, NULL, "v: must be an integer, not a string",
		  -EINVAL },
		{ "v = 2.5;", GET_INT, 0, 9, "seconds",
		  "v: must be an integer (seconds), not a number with a fraction", -EINVAL },
		{ "v = [ 1 ];", GET_INT, 0, 9, NULL, "v: must be an integer, not a list", -EINVAL },
		{ "v = true;", GET_BOOL, 0, 0, NULL, "true", 0 },
		{ "v = false;", GET_BOOL, 0, 0, NULL, "false", 0 },
		{ "v = 1;", GET_BOOL, 0, 0, NULL, "v: must be true or false, not an integer",
		  -EINVAL },
		{ "v = \"true\";", GET_BOOL, 0, 0, NULL, "v: must be true or false, not a string",
		  -EINVAL },
		{ "v = \"a \\\"q\\\"\";", GET_STRING, 0, 0, NULL, "a \"q\"", 0 },
		{ "v = \"\";", GET_STRING, 0, 0, NULL, "", 0 },
		{ "v = [ \"x\" ];", GET_STRING, 0, 0, NULL,
		  "v: must be a string in double quotes, not a list", -EINVAL },
		{ "v = { a = 1; };", GET_STRING, 0, 0, NULL,
		  "v: must be a string in double quotes, not a group", -EINVAL },
		{ "v = true;", GET_STRING, 0, 0, NULL,
		  "v: must be a string in double quotes, not true/false", -EINVAL },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct typed t = { .get = cases[i].get, .min = cases[i].min, .max = cases[i].max,
				   .unit = cases[i].unit };
		char err[1024] = "", got[64];
		int ret;

		cfx_write("t.conf", 0644, "%s\n", cases[i].text);
		ret = cfgfile_load(cfx_path("t.conf"), root_typed, &t, err, sizeof(err));
		cr_expect_eq(ret, cases[i].ret, "case %u (%s): %d %s", i, cases[i].text, ret, err);
		if (ret) {
			cr_expect_str_eq(err, at_line(1, cases[i].want), "case %u", i);
			continue;
		}
		if (t.get == GET_INT)
			snprintf(got, sizeof(got), "%lld", t.num);
		else if (t.get == GET_BOOL)
			snprintf(got, sizeof(got), "%s", t.b ? "true" : "false");
		else
			snprintf(got, sizeof(got), "%s", t.str);
		cr_expect_str_eq(got, cases[i].want, "case %u (%s)", i, cases[i].text);
		cr_expect_str_eq(err, "", "case %u: no message on success", i);
	}
}

/* ---- lists -------------------------------------------------------------------------- */

/* What the walkers handed over, as "LABEL=VALUE@INDEX " (strings) or "LABEL#INDEX " (groups). */
struct seen {
	char text[512];
	size_t n;
};

static int see_string(const struct cfgfile *f, const config_setting_t *e, const char *label,
		      const char *value, unsigned index, void *arg)
{
	struct seen *s = arg;

	if (!strcmp(value, "stop"))
		return cfgfile_err(f, e, label, "'%s': refused by the setting", value);
	s->n += (size_t)snprintf(s->text + s->n, sizeof(s->text) - s->n, "%s=%s@%u ", label,
				 value, index);
	return 0;
}

static int root_strings(const struct cfgfile *f, const config_setting_t *root, void *arg)
{
	return cfgfile_string_list(f, config_setting_get_member(root, "v"), "v", see_string, arg);
}

Test(cfgfile, string_lists_hand_over_each_item_with_its_label)
{
	static const struct {
		const char *text;
		const char *seen;	/* what the callback saw */
		unsigned line;		/* of the error; 0: none */
		const char *msg;
	} cases[] = {
		{ "v = \"a\";", "v=a@0 ", 0, NULL },
		{ "v = [ \"a\", \"b\" ];", "v[0]=a@0 v[1]=b@1 ", 0, NULL },
		{ "v = ( \"a\", \"b\" );", "v[0]=a@0 v[1]=b@1 ", 0, NULL },
		{ "v = [ ];", "", 0, NULL },
		{ "v = ( );", "", 0, NULL },
		{ "v = [ \"a\",\n  \"stop\", \"c\" ];", "v[0]=a@0 ", 2,
		  "v[1]: 'stop': refused by the setting" },
		{ "v = ( \"a\",\n  5 );", "v[0]=a@0 ", 2,
		  "v[1]: must be a string, not an integer" },
		{ "v = ( ( \"a\" ) );", "", 1, "v[0]: must be a string, not a list" },
		{ "v = 5;", "", 1,
		  "v: must be a list of strings [ \"...\", ... ], not an integer" },
		{ "v = { a = \"x\"; };", "", 1,
		  "v: must be a list of strings [ \"...\", ... ], not a group" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { .n = 0 };
		char err[1024] = "";
		int ret;

		cfx_write("t.conf", 0644, "%s\n", cases[i].text);
		ret = cfgfile_load(cfx_path("t.conf"), root_strings, &s, err, sizeof(err));
		cr_expect_eq(ret, cases[i].line ? -EINVAL : 0, "case %u: %s", i, err);
		cr_expect_str_eq(s.text, cases[i].seen, "case %u", i);
		if (cases[i].line)
			cr_expect_str_eq(err, at_line(cases[i].line, cases[i].msg), "case %u", i);
	}
}

static const char *const entry_keys[] = { "address", "public_key" };

static int see_member(const struct cfgfile *f, const config_setting_t *m, const char *label,
		      unsigned key, void *arg)
{
	struct seen *s = arg;

	(void)f, (void)m;
	s->n += (size_t)snprintf(s->text + s->n, sizeof(s->text) - s->n, "%s:%s ", label,
				 entry_keys[key]);
	return 0;
}

static int see_group(const struct cfgfile *f, const config_setting_t *g, const char *label,
		     unsigned index, void *arg)
{
	struct seen *s = arg;

	s->n += (size_t)snprintf(s->text + s->n, sizeof(s->text) - s->n, "%s#%u ", label, index);
	return cfgfile_members(f, g, label, entry_keys, 2, see_member, arg);
}

static int root_groups(const struct cfgfile *f, const config_setting_t *root, void *arg)
{
	return cfgfile_group_list(f, config_setting_get_member(root, "v"), "v",
				  "a list of groups ( { address = ...; }, ... )",
				  "a group { address = \"HOST:PORT\"; }", see_group, arg);
}

Test(cfgfile, group_lists_and_their_members)
{
	static const struct {
		const char *text;
		const char *seen;
		unsigned line;
		const char *msg;
	} cases[] = {
		{ "v = { address = \"a\"; };", "v[0]#0 v[0].address:address ", 0, NULL },
		{ "v = ( { address = \"a\"; },\n { public_key = \"k\"; address = \"b\"; } );",
		  "v[0]#0 v[0].address:address v[1]#1 v[1].public_key:public_key "
		  "v[1].address:address ", 0, NULL },
		{ "v = ( );", "", 0, NULL },
		{ "v = ( { address = \"a\"; },\n \"b\" );", "v[0]#0 v[0].address:address ", 2,
		  "v[1]: must be a group { address = \"HOST:PORT\"; }, not a string" },
		{ "v = [ \"a\" ];", "", 1,
		  "v: must be a list of groups ( { address = ...; }, ... ), not a list" },
		{ "v = 5;", "", 1,
		  "v: must be a list of groups ( { address = ...; }, ... ), not an integer" },
		{ "v = ( {\n adress = \"a\"; } );", "v[0]#0 ", 2,
		  "v[0]: unknown setting 'adress' (did you mean 'address'?)" },
		{ "v = ( { frobnicate = 1; } );", "v[0]#0 ", 1,
		  "v[0]: unknown setting 'frobnicate'" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { .n = 0 };
		char err[1024] = "";
		int ret;

		cfx_write("t.conf", 0644, "%s\n", cases[i].text);
		ret = cfgfile_load(cfx_path("t.conf"), root_groups, &s, err, sizeof(err));
		cr_expect_eq(ret, cases[i].line ? -EINVAL : 0, "case %u: %s", i, err);
		cr_expect_str_eq(s.text, cases[i].seen, "case %u", i);
		if (cases[i].line)
			cr_expect_str_eq(err, at_line(cases[i].line, cases[i].msg), "case %u", i);
	}
}

/* ---- did you mean ------------------------------------------------------------------- */

Test(cfgfile, suggests_the_name_meant_only_when_close)
{
	static const char *const names[] = {
		"workers", "routes", "listen", "limits", "limits.max_sessions", "private_key",
	};
	static const struct {
		const char *name;
		const char *want;	/* NULL: no suggestion */
	} cases[] = {
		{ "wokers", "workers" },		/* one deletion */
		{ "workres", "workers" },		/* two substitutions */
		{ "wrkrs", "workers" },			/* two deletions */
		{ "wkrs", NULL },			/* three */
		{ "workers", "workers" },		/* itself */
		{ "rootes", "routes" },
		{ "lmits", "limits" },
		{ "listens", "listen" },		/* one insertion */
		{ "limits.max_sesions", "limits.max_sessions" },
		{ "privatekey", "private_key" },
		{ "frobnicate", NULL },
		{ "", NULL },
		{ "workers_workers_workers_workers_workers_workers_workers_workers_", NULL },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = cfgfile_suggest(cases[i].name, names,
						  sizeof(names) / sizeof(names[0]));

		if (cases[i].want)
			cr_expect(got && !strcmp(got, cases[i].want), "'%s': got %s, want %s",
				  cases[i].name, got ? got : "nothing", cases[i].want);
		else
			cr_expect_null(got, "'%s': got %s", cases[i].name, got);
	}
}

Test(cfgfile, suggestion_ties_go_to_the_first_name)
{
	static const char *const names[] = { "ab", "ac" };

	cr_expect_str_eq(cfgfile_suggest("aa", names, 2), "ab");
	cr_expect_null(cfgfile_suggest("aa", names, 0), "no names, no suggestion");
}

/* ---- loading -------------------------------------------------------------------------- */

static int root_accept(const struct cfgfile *f, const config_setting_t *root, void *arg)
{
	static const char *const names[] = { "v", "w" };

	return cfgfile_members(f, root, "", names, 2, read_typed, arg);
}

Test(cfgfile, load_errors_name_the_file_and_line)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} cases[] = {
		{ "v = 1;\nw = ;\n", 2, "syntax error" },
		{ "v = 1;\nv = 2;\n", 2, "syntax error: duplicate setting name" },
		{ "\n\nx = 1;\n", 3, "unknown setting 'x'" },
		{ "vv = 1;\n", 1, "unknown setting 'vv' (did you mean 'v'?)" },
		{ "v = 1;\n@include \"nope.inc\"\n", 2, "syntax error: cannot open include file" },
		{ "v = 20;\n", 1, "v: must be an integer from 0 to 9" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct typed t = { .get = GET_INT, .max = 9 };
		char err[1024] = "";

		cfx_write("t.conf", 0644, "%s", cases[i].text);
		cr_expect_eq(cfgfile_load(cfx_path("t.conf"), root_accept, &t, err, sizeof(err)),
			     -EINVAL, "case %u", i);
		cr_expect(!strncmp(err, at_line(cases[i].line, cases[i].msg),
				   strlen(at_line(cases[i].line, cases[i].msg))),
			  "case %u:\n got: %s\nwant: %s...", i, err,
			  at_line(cases[i].line, cases[i].msg));
		cr_expect_null(strchr(err, '\n'), "case %u: one line", i);
	}
}

Test(cfgfile, a_missing_file_is_named_with_the_reason)
{
	char err[1024] = "", want[256];
	struct typed t = { .get = GET_INT };

	cr_expect_eq(cfgfile_load(cfx_path("absent.conf"), root_accept, &t, err, sizeof(err)),
		     -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read the configuration: No such file or directory",
		 cfx_path("absent.conf"));
	cr_expect_str_eq(err, want);
}

/* @include names are relative to the including file, wherever the process runs. */
Test(cfgfile, includes_are_relative_to_the_file_and_named_in_errors)
{
	struct typed t = { .get = GET_INT, .max = 9 };
	char err[1024] = "", cwd[4096];

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(mkdir(cfx_path("sub"), 0755), 0);
	cfx_write("sub/v.inc", 0644, "v = 7;\n");
	cfx_write("t.conf", 0644, "w = 1;\n@include \"sub/v.inc\"\n");
	cr_assert_eq(chdir("/"), 0);
	cr_expect_eq(cfgfile_load(cfx_path("t.conf"), root_accept, &t, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(t.num, 7, "the included file's value, read last");

	cfx_write("sub/v.inc", 0644, "\nv = 70;\n");
	cr_expect_eq(cfgfile_load(cfx_path("t.conf"), root_accept, &t, err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "sub/v.inc:2: v: must be an integer from 0 to 9");
	cr_assert_eq(chdir(cwd), 0);
}

/* ---- secret files ------------------------------------------------------------------- */

Test(cfgfile, secret_files_are_refused_when_group_or_others_may_read_them)
{
	static const struct {
		mode_t mode;
		bool secret;
		int ret;
		const char *msg;	/* after the path; NULL: read */
	} cases[] = {
		{ 0600, true, 0, NULL },
		{ 0400, true, 0, NULL },
		{ 0700, true, 0, NULL },
		{ 0640, true, -EPERM, " has mode 0640: a token must not be accessible to group or "
		  "others; run: chmod 600 " },
		{ 0604, true, -EPERM, " has mode 0604: a token" },
		{ 0620, true, -EPERM, " has mode 0620: a token" },
		{ 0644, true, -EPERM, " has mode 0644: a token" },
		{ 0644, false, 0, NULL },
		{ 0666, false, 0, NULL },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64], err[512] = "", want[512];
		size_t len = 0;
		int ret;

		cfx_write("s.key", cases[i].mode, "secret\n");
		ret = cfgfile_read(cfx_path("s.key"), cases[i].secret, "token", buf, sizeof(buf),
				   &len, err, sizeof(err));
		cr_expect_eq(ret, cases[i].ret, "case %u (%04o): %s", i, (unsigned)cases[i].mode,
			     err);
		if (!ret) {
			cr_expect_eq(len, 7u, "case %u", i);
			cr_expect_str_eq(buf, "secret\n", "case %u", i);
			continue;
		}
		snprintf(want, sizeof(want), "%s%s", cfx_path("s.key"), cases[i].msg);
		cr_expect(!strncmp(err, want, strlen(want)), "case %u:\n got: %s\nwant: %s...", i,
			  err, want);
		cr_expect_null(strstr(err, "secret"), "case %u: the content is never quoted", i);
	}
}

Test(cfgfile, files_that_are_not_readable_regular_files_are_named)
{
	char buf[8], err[512] = "", want[512];
	size_t len = 0;

	cr_expect_eq(cfgfile_read(cfx_path("none"), false, "token", buf, sizeof(buf), &len, err,
				  sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: no such file", cfx_path("none"));
	cr_expect_str_eq(err, want);

	cr_assert_eq(mkdir(cfx_path("d"), 0700), 0);
	cr_expect_eq(cfgfile_read(cfx_path("d"), true, "token", buf, sizeof(buf), &len, err,
				  sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s is a directory, not a token file", cfx_path("d"));
	cr_expect_str_eq(err, want);

	cr_assert_eq(mkfifo(cfx_path("fifo"), 0600), 0);
	cr_expect_eq(cfgfile_read(cfx_path("fifo"), true, "token", buf, sizeof(buf), &len, err,
				  sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s is not a regular file", cfx_path("fifo"));
	cr_expect_str_eq(err, want);

	/* @cap 8: up to 6 bytes of content fit; 7 do not. */
	cfx_write("six", 0600, "123456");
	cr_expect_eq(cfgfile_read(cfx_path("six"), true, "token", buf, sizeof(buf), &len, err,
				  sizeof(err)), 0, "%s", err);
	cr_expect_eq(len, 6u);
	cfx_write("seven", 0600, "1234567");
	cr_expect_eq(cfgfile_read(cfx_path("seven"), true, "token", buf, sizeof(buf), &len, err,
				  sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "%s: too large for a token file", cfx_path("seven"));
	cr_expect_str_eq(err, want);
}

/*
 * The refusals of a secret file, word for word, for each kind of file the
 * configurations name: PATH, @before, WHAT (where the message names it), @after,
 * and PATH again where the fix names the file. The words match crypto/keys.c's.
 */
Test(cfgfile, secret_file_refusals_are_worded_exactly)
{
	static const char *const whats[] = { "token", "private key", "certificate" };
	static const struct {
		const char *name;
		mode_t mode;		/* a file with this mode; 0: see @content */
		const char *content;	/* "/": a directory; "|": a FIFO */
		int ret;
		const char *before;
		bool says_what;
		const char *after;
		bool path_again;
	} cases[] = {
		{ "0600", 0600, NULL, 0, NULL, false, NULL, false },
		{ "0640", 0640, NULL, -EPERM, " has mode 0640: a ", true, " must not be accessible "
		  "to group or others; run: chmod 600 ", true },
		{ "0644", 0644, NULL, -EPERM, " has mode 0644: a ", true, " must not be accessible "
		  "to group or others; run: chmod 600 ", true },
		{ "dir", 0, "/", -EISDIR, " is a directory, not a ", true, " file", false },
		{ "fifo", 0, "|", -EINVAL, " is not a regular file", false, "", false },
	};

	for (unsigned w = 0; w < sizeof(whats) / sizeof(whats[0]); w++) {
		for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const char *c = cases[i].content;
			char buf[64], err[512] = "", want[512], name[32], p[CFX_PATH_MAX];
			size_t len = 0;
			int ret;

			snprintf(name, sizeof(name), "%u-%s", w, cases[i].name);
			snprintf(p, sizeof(p), "%s", cfx_path(name));
			if (c && !strcmp(c, "/"))
				cr_assert_eq(mkdir(p, 0700), 0);
			else if (c && !strcmp(c, "|"))
				cr_assert_eq(mkfifo(p, 0600), 0);
			else
				cfx_write(name, cases[i].mode, "secret\n");
			ret = cfgfile_read(p, true, whats[w], buf, sizeof(buf), &len, err,
					   sizeof(err));
			cr_expect_eq(ret, cases[i].ret, "%s %s: %s", whats[w], cases[i].name, err);
			if (!cases[i].ret) {
				cr_expect_str_eq(buf, "secret\n", "%s %s", whats[w], cases[i].name);
				continue;
			}
			snprintf(want, sizeof(want), "%s%s%s%s%s", p, cases[i].before,
				 cases[i].says_what ? whats[w] : "", cases[i].after,
				 cases[i].path_again ? p : "");
			cr_expect_str_eq(err, want, "%s %s", whats[w], cases[i].name);
		}
	}
}

/* The hop identity of every binary: refused unless only its owner may read it. */
Test(cfgfile, the_private_key_is_read_only_when_private)
{
	static const struct {
		mode_t mode;
		int ret;
		const char *msg;	/* after "AT: private_key: PATH"; NULL: read */
	} cases[] = {
		{ 0600, 0, NULL },
		{ 0400, 0, NULL },
		{ 0640, -EPERM, " has mode 0640: a private key must not be accessible to group or "
		  "others; run: chmod 600 " },
		{ 0644, -EPERM, " has mode 0644: a private key" },
	};
	uint8_t priv[KEYS_LEN], want_pub[KEYS_LEN];

	cr_assert_eq(keys_generate(priv), 0);
	cr_assert_eq(keys_public_x25519(priv, want_pub), 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t got[KEYS_LEN], pub[KEYS_LEN] = { 0 }, zero[KEYS_LEN] = { 0 };
		char err[512] = "", want[512];
		int ret;

		cfx_save_key("hop.key", priv, cases[i].mode);
		memset(got, 0xa5, sizeof(got));
		ret = cfgfile_load_private_key(cfx_path("hop.key"), "relay.conf:3", got, pub, err,
					       sizeof(err));
		cr_expect_eq(ret, cases[i].ret, "case %u (%04o): %s", i, (unsigned)cases[i].mode,
			     err);
		if (!ret) {
			cr_expect_arr_eq(got, priv, KEYS_LEN, "case %u", i);
			cr_expect_arr_eq(pub, want_pub, KEYS_LEN, "case %u: the public key", i);
			continue;
		}
		cr_expect_arr_eq(got, zero, KEYS_LEN, "case %u: nothing left behind", i);
		snprintf(want, sizeof(want), "relay.conf:3: private_key: %s%s", cfx_path("hop.key"),
			 cases[i].msg);
		cr_expect(!strncmp(err, want, strlen(want)), "case %u:\n got: %s\nwant: %s...", i,
			  err, want);
	}
}

Test(cfgfile, a_missing_private_key_names_where_it_was_set)
{
	uint8_t priv[KEYS_LEN], pub[KEYS_LEN];
	char err[512] = "", want[512];

	cr_expect_eq(cfgfile_load_private_key(cfx_path("nope.key"), "--private-key", priv, pub,
					      err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "--private-key: private_key: %s: no such file",
		 cfx_path("nope.key"));
	cr_expect_str_eq(err, want);
}

/* ---- text values, printing ------------------------------------------------------------ */

Test(cfgfile, values_from_flags_and_the_environment)
{
	static const struct {
		const char *text;
		long long min, max;
		int ret;
		long long want;
	} ints[] = {
		{ "5", 0, 10, 0, 5 },
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "-1", -5, 5, 0, -1 },
		{ "11", 0, 10, -EINVAL, 0 },
		{ "-1", 0, 10, -EINVAL, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ "-", 0, 10, -EINVAL, 0 },
		{ "+1", 0, 10, -EINVAL, 0 },
		{ " 1", 0, 10, -EINVAL, 0 },
		{ "1 ", 0, 10, -EINVAL, 0 },
		{ "0x10", 0, 100, -EINVAL, 0 },
		{ "1e3", 0, 10000, -EINVAL, 0 },
		{ "99999999999999999999", 0, LLONG_MAX, -EINVAL, 0 },
		{ "9223372036854775807", 0, LLONG_MAX, 0, LLONG_MAX },
	};
	static const struct {
		const char *text;
		int ret;
		bool want;
	} bools[] = {
		{ "true", 0, true }, { "false", 0, false }, { "True", -EINVAL, false },
		{ "1", -EINVAL, false }, { "yes", -EINVAL, false }, { "", -EINVAL, false },
		{ "true ", -EINVAL, false },
	};

	for (unsigned i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		long long v = 42;

		cr_expect_eq(cfgfile_parse_int(ints[i].text, ints[i].min, ints[i].max, &v),
			     ints[i].ret, "'%s'", ints[i].text);
		cr_expect_eq(v, ints[i].ret ? 42 : ints[i].want, "'%s': untouched on error",
			     ints[i].text);
	}
	for (unsigned i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		bool b = false;

		cr_expect_eq(cfgfile_parse_bool(bools[i].text, &b), bools[i].ret, "'%s'",
			     bools[i].text);
		cr_expect_eq(b, bools[i].want, "'%s'", bools[i].text);
	}
}

static int root_string(const struct cfgfile *f, const config_setting_t *root, void *arg)
{
	const char **out = arg;
	const char *s;

	if (cfgfile_get_string(f, config_setting_get_member(root, "v"), "v", &s))
		return -EINVAL;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* What --check-config prints for a string reads back as the same string. */
Test(cfgfile, printed_strings_read_back_the_same)
{
	static const char *const values[] = {
		"plain", "", "a \"quoted\" word", "back\\slash", "\\\"", "/etc/postern/relay.key",
		"tab\there",
	};

	for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char err[512] = "", *text, *back = NULL;
		size_t len;
		FILE *out = open_memstream(&text, &len);

		cfgfile_put_setting(out, "v", values[i]);
		fclose(out);
		cr_expect_eq(text[len - 1], '\n', "one line");
		cfx_write("p.conf", 0644, "%s", text);
		cr_expect_eq(cfgfile_load(cfx_path("p.conf"), root_string, &back, err, sizeof(err)),
			     0, "'%s' printed as %s: %s", values[i], text, err);
		cr_expect_str_eq(back ? back : "(none)", values[i], "printed as %s", text);
		free(back);
		free(text);
	}
}

Test(cfgfile, an_unset_path_prints_as_an_empty_string)
{
	char *text;
	size_t len;
	FILE *out = open_memstream(&text, &len);

	cfgfile_put_setting(out, "token", NULL);
	fclose(out);
	cr_expect_str_eq(text, "token = \"\";\n");
	free(text);
}

/* ---- the command line -------------------------------------------------------------- */

static const char *const flag_names[] = { "workers", "listen", "log-level" };

static const struct cfgargs_spec spec = {
	.flags = flag_names,
	.n_flags = 3,
	.unknown_hint = "(see --help)",
	.operand_hint = "(settings go in the file)",
};

Test(cfgargs, actions_file_and_flags_in_order)
{
	static const struct {
		const char *argv[8];
		enum cfgargs_action action;
		const char *file;
		const char *flags;	/* "SETTING.NTH=VALUE " each */
	} cases[] = {
		{ { "p" }, CFGARGS_RUN, NULL, "" },
		{ { "p", "-c", "f.conf", "--check-config" }, CFGARGS_CHECK, "f.conf", "" },
		{ { "p", "--config=g.conf" }, CFGARGS_RUN, "g.conf", "" },
		{ { "p", "-ch.conf" }, CFGARGS_RUN, "h.conf", "" },
		{ { "p", "--listen", "a", "--workers", "2", "--listen=b" }, CFGARGS_RUN, NULL,
		  "1.0=a 0.0=2 1.1=b " },
		/* A unique prefix of a flag is that flag. */
		{ { "p", "--work", "3" }, CFGARGS_RUN, NULL, "0.0=3 " },
		{ { "p", "--log-level", "debug", "-c", "x" }, CFGARGS_RUN, "x", "2.0=debug " },
		{ { "p", "--help", "--bogus" }, CFGARGS_HELP, NULL, "" },	/* stops there */
		{ { "p", "-h" }, CFGARGS_HELP, NULL, "" },
		{ { "p", "--workers", "1", "--version" }, CFGARGS_VERSION, NULL, "0.0=1 " },
		/* Values are the binary's to check. */
		{ { "p", "--workers", "" }, CFGARGS_RUN, NULL, "0.0= " },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "", flags[256] = "";
		struct cfgargs a;
		size_t n = 0;
		int argc = 0;

		while (cases[i].argv[argc])
			argc++;
		cr_assert_eq(cfgargs_parse(&a, &spec, argc, (char **)cases[i].argv, err,
					   sizeof(err)), 0, "case %u: %s", i, err);
		cr_expect_eq(a.action, cases[i].action, "case %u", i);
		if (cases[i].file)
			cr_expect_str_eq(a.file ? a.file : "(none)", cases[i].file, "case %u", i);
		else
			cr_expect_null(a.file, "case %u", i);
		for (unsigned k = 0; k < a.flags.n; k++)
			n += (size_t)snprintf(flags + n, sizeof(flags) - n, "%u.%u=%s ",
					      a.flags.v[k].setting, a.flags.v[k].nth,
					      a.flags.v[k].value);
		cr_expect_str_eq(flags, cases[i].flags, "case %u", i);
	}
}

Test(cfgargs, usage_errors_name_the_argument)
{
	static const struct {
		const char *argv[8];
		const char *err;
	} cases[] = {
		{ { "p", "--wokers", "2" }, "unknown option '--wokers' (see --help)" },
		{ { "p", "--wokers=2" }, "unknown option '--wokers=2' (see --help)" },
		{ { "p", "-x" }, "unknown option '-x' (see --help)" },
		{ { "p", "-xh" }, "unknown option '-x' (see --help)" },
		{ { "p", "--check-config", "-xh" }, "unknown option '-x' (see --help)" },
		{ { "p", "--help=1" }, "unknown option '--help=1' (see --help)" },
		{ { "p", "--l", "x" }, "unknown option '--l' (see --help)" },	/* ambiguous */
		{ { "p", "--workers" }, "option '--workers' needs a value" },
		{ { "p", "-c" }, "option '-c' needs a value" },
		{ { "p", "stray" }, "unexpected argument 'stray' (settings go in the file)" },
		{ { "p", "-c", "f", "stray", "--workers", "1" },
		  "unexpected argument 'stray' (settings go in the file)" },
		{ { "p", "--", "--workers" },
		  "unexpected argument '--workers' (settings go in the file)" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct cfgargs a;
		int argc = 0;

		while (cases[i].argv[argc])
			argc++;
		cr_expect_eq(cfgargs_parse(&a, &spec, argc, (char **)cases[i].argv, err,
					   sizeof(err)), -EINVAL, "case %u", i);
		cr_expect_str_eq(err, cases[i].err, "case %u", i);
	}
}

Test(cfgargs, hints_are_optional)
{
	static const struct cfgargs_spec bare = { 0 };
	const char *unknown[] = { "p", "--workers", "1", NULL };
	const char *stray[] = { "p", "x", NULL };
	char err[256] = "";
	struct cfgargs a;

	cr_expect_eq(cfgargs_parse(&a, &bare, 3, (char **)unknown, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "unknown option '--workers'", "no setting flags: no --workers");
	cr_expect_eq(cfgargs_parse(&a, &bare, 2, (char **)stray, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "unexpected argument 'x'");
}

Test(cfgargs, at_most_256_setting_flags)
{
	static char *argv[2 + 2 * (CFGARGS_MAX_FLAGS + 1)];
	char err[256] = "";
	struct cfgargs a;
	int argc = 1;

	argv[0] = "p";
	for (unsigned i = 0; i < CFGARGS_MAX_FLAGS; i++) {
		argv[argc++] = "--workers";
		argv[argc++] = "1";
	}
	cr_expect_eq(cfgargs_parse(&a, &spec, argc, argv, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(a.flags.n, (unsigned)CFGARGS_MAX_FLAGS);
	cr_expect_eq(a.flags.v[CFGARGS_MAX_FLAGS - 1].nth, CFGARGS_MAX_FLAGS - 1u);
	argv[argc++] = "--listen";
	argv[argc++] = "a";
	cr_expect_eq(cfgargs_parse(&a, &spec, argc, argv, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "too many options (at most 256)");
}
