/*
 * test_keys.c — key generation, RFC known answers for public derivation, the
 * text form, and the checks a user meets when loading key files.
 */
#define _GNU_SOURCE	/* nftw() */

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keys.h"

static char dir[64];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/postern-keys-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	umask(022);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void rm_tmp(void)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *path_of(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const char *content, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, content, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void hex(const char *h, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(sscanf(h + 2 * i, "%2hhx", &out[i]), 1);
}

static const struct {
	const char *name, *priv, *pub;
	int (*derive)(const uint8_t *, uint8_t *);
} kat[] = {
	/* RFC 7748 §6.1, Alice and Bob. */
	{ "x25519 alice", "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	  keys_public_x25519 },
	{ "x25519 bob", "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	  keys_public_x25519 },
	/* RFC 8032 §7.1, TEST 1. */
	{ "ed25519 test 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  keys_public_ed25519 },
	/* RFC 8032 §7.1, TEST 2. */
	{ "ed25519 test 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  keys_public_ed25519 },
};

Test(keys, public_derivation_known_answers)
{
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		uint8_t priv[KEYS_LEN], want[KEYS_LEN], got[KEYS_LEN];

		hex(kat[i].priv, priv, KEYS_LEN);
		hex(kat[i].pub, want, KEYS_LEN);
		cr_assert_eq(kat[i].derive(priv, got), 0, "%s", kat[i].name);
		cr_expect_arr_eq(got, want, KEYS_LEN, "%s", kat[i].name);
	}
}

Test(keys, the_two_derivations_differ)
{
	uint8_t priv[KEYS_LEN], x[KEYS_LEN], ed[KEYS_LEN];

	cr_assert_eq(keys_generate(priv), 0);
	cr_assert_eq(keys_public_x25519(priv, x), 0);
	cr_assert_eq(keys_public_ed25519(priv, ed), 0);
	cr_expect_arr_neq(x, ed, KEYS_LEN);
}

Test(keys, generate_gives_fresh_keys)
{
	uint8_t a[KEYS_LEN], b[KEYS_LEN], zero[KEYS_LEN] = { 0 };

	cr_assert_eq(keys_generate(a), 0);
	cr_assert_eq(keys_generate(b), 0);
	cr_expect_arr_neq(a, b, KEYS_LEN);
	cr_expect_arr_neq(a, zero, KEYS_LEN);
}

Test(keys, text_round_trip)
{
	uint8_t key[KEYS_LEN], back[KEYS_LEN];
	char text[KEYS_TEXT_LEN + 1];

	hex(kat[0].priv, key, KEYS_LEN);
	keys_to_text(key, text);
	cr_expect_str_eq(text, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
	cr_assert_eq(keys_from_text(text, strlen(text), back), 0);
	cr_expect_arr_eq(back, key, KEYS_LEN);
}

static const struct {
	const char *text;
	const char *why;
} bad_text[] = {
	{ "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo", "no padding (43 chars)" },
	{ "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=", "non-canonical last character" },
	{ "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC!=", "bad character" },
	{ "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=A", "45 chars" },
	{ "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L===", "33 bytes would need more" },
	{ "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC==", "31 bytes" },
	{ "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo-", "base64url, not base64" },
	{ "", "empty" },
};

Test(keys, bad_text_is_refused_and_wiped)
{
	for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
		uint8_t key[KEYS_LEN], zero[KEYS_LEN] = { 0 };

		memset(key, 0xaa, sizeof(key));
		cr_expect_eq(keys_from_text(bad_text[i].text, strlen(bad_text[i].text), key),
			     -EINVAL, "%s", bad_text[i].why);
		cr_expect_arr_eq(key, zero, KEYS_LEN, "%s: key not wiped", bad_text[i].why);
	}
}

Test(keys, save_load_round_trip, .init = mkdir_tmp, .fini = rm_tmp)
{
	uint8_t key[KEYS_LEN], back[KEYS_LEN];
	char err[256] = "", text[KEYS_TEXT_LEN + 1], content[64] = "";
	const char *p = path_of("k");
	struct stat st;
	FILE *f;

	cr_assert_eq(keys_generate(key), 0);
	cr_assert_eq(keys_save_private(p, key, false, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);

	/* The file is the text form and a newline, like `wg genkey > file`. */
	keys_to_text(key, text);
	f = fopen(p, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(content, sizeof(content), f));
	fclose(f);
	cr_expect_eq(strlen(content), KEYS_TEXT_LEN + 1);
	cr_expect_eq(strncmp(content, text, KEYS_TEXT_LEN), 0);

	cr_assert_eq(keys_load_private(p, back, err, sizeof(err)), 0, "%s", err);
	cr_expect_arr_eq(back, key, KEYS_LEN);
}

Test(keys, save_refuses_to_overwrite_unless_asked, .init = mkdir_tmp, .fini = rm_tmp)
{
	uint8_t a[KEYS_LEN], b[KEYS_LEN], back[KEYS_LEN];
	char err[256] = "";
	const char *p = path_of("k");
	struct stat st;

	cr_assert_eq(keys_generate(a), 0);
	cr_assert_eq(keys_generate(b), 0);
	cr_assert_eq(keys_save_private(p, a, false, err, sizeof(err)), 0);
	cr_expect_eq(keys_save_private(p, b, false, err, sizeof(err)), -EEXIST);
	cr_expect(strstr(err, p) && strstr(err, "already exists"), "message: %s", err);
	cr_assert_eq(keys_load_private(p, back, err, sizeof(err)), 0);
	cr_expect_arr_eq(back, a, KEYS_LEN, "the first key was clobbered");

	/* Overwriting a 0644 file must still leave a 0600 file. */
	cr_assert_eq(chmod(p, 0644), 0);
	cr_assert_eq(keys_save_private(p, b, true, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	cr_assert_eq(keys_load_private(p, back, err, sizeof(err)), 0, "%s", err);
	cr_expect_arr_eq(back, b, KEYS_LEN);
}

static const struct {
	mode_t mode;
	int want;
	const char *mode_text;
} modes[] = {
	{ 0600, 0, NULL },
	{ 0400, 0, NULL },
	{ 0644, -EPERM, "0644" },
	{ 0640, -EPERM, "0640" },
	{ 0604, -EPERM, "0604" },
	{ 0620, -EPERM, "0620" },
	{ 0602, -EPERM, "0602" },
	{ 0660, -EPERM, "0660" },
};

Test(keys, private_key_readable_by_others_is_refused, .init = mkdir_tmp, .fini = rm_tmp)
{
	const char *line = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n";

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		uint8_t key[KEYS_LEN], zero[KEYS_LEN] = { 0 };
		char err[256] = "", fix[160];
		const char *p = path_of("k");

		write_file(p, line, strlen(line), modes[i].mode);
		memset(key, 0xaa, sizeof(key));
		cr_expect_eq(keys_load_private(p, key, err, sizeof(err)), modes[i].want,
			     "mode %o: %s", modes[i].mode, err);
		if (!modes[i].want)
			continue;
		/* The message names the file, its mode and the fix. */
		snprintf(fix, sizeof(fix), "chmod 600 %s", p);
		cr_expect(strstr(err, p) != NULL, "no path in: %s", err);
		cr_expect(strstr(err, modes[i].mode_text) != NULL, "no mode in: %s", err);
		cr_expect(strstr(err, fix) != NULL, "no fix in: %s", err);
		cr_expect_arr_eq(key, zero, KEYS_LEN);
		/* A public key file may have any mode. */
		cr_expect_eq(keys_load_public(strcat(strcpy(fix, "@"), p), key, err,
					      sizeof(err)), 0, "%s", err);
	}
}

static const struct {
	const char *name;
	const char *content;	/* NULL: do not create; "/": a directory; "|": a FIFO */
	int want;
	const char *says;
} load_errors[] = {
	{ "missing", NULL, -ENOENT, "no such file" },
	{ "dir", "/", -EISDIR, "is a directory" },
	{ "fifo", "|", -EINVAL, "not a regular file" },
	{ "empty", "", -EINVAL, "is empty" },
	{ "newline only", "\n", -EINVAL, "is empty" },
	{ "short", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC=\n", -EINVAL, "has 43" },
	{ "long", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=AAAA\n", -EINVAL, "has 48" },
	{ "bad char", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L*o=\n", -EINVAL,
	  "not a valid base64 key" },
	{ "leading space", " dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", -EINVAL, "has 45" },
	{ "two keys", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n"
		      "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", -EINVAL, "has 89" },
	{ "huge", "x", -EINVAL, "not a key file" },
};

Test(keys, load_errors_are_explained, .init = mkdir_tmp, .fini = rm_tmp)
{
	char huge[4096];

	memset(huge, 'A', sizeof(huge));
	for (size_t i = 0; i < sizeof(load_errors) / sizeof(load_errors[0]); i++) {
		const char *c = load_errors[i].content;
		uint8_t key[KEYS_LEN];
		char err[256] = "", name[32];
		const char *p;

		snprintf(name, sizeof(name), "f%zu", i);
		p = path_of(name);
		if (c && !strcmp(c, "/"))
			cr_assert_eq(mkdir(p, 0700), 0);
		else if (c && !strcmp(c, "|"))
			cr_assert_eq(mkfifo(p, 0600), 0);
		else if (c && !strcmp(load_errors[i].name, "huge"))
			write_file(p, huge, sizeof(huge), 0600);
		else if (c)
			write_file(p, c, strlen(c), 0600);
		cr_expect_eq(keys_load_private(p, key, err, sizeof(err)), load_errors[i].want,
			     "%s: %s", load_errors[i].name, err);
		cr_expect(strstr(err, p) != NULL, "%s: no path in: %s", load_errors[i].name, err);
		cr_expect(strstr(err, load_errors[i].says) != NULL, "%s: unexpected: %s",
			  load_errors[i].name, err);
	}
}

/*
 * The refusals of a key file, word for word (users read them; relay/cfgfile.c
 * words its secret files the same way): the message is "PATH" + @after, then
 * "PATH" again where the fix names the file.
 */
static const struct {
	const char *name;
	mode_t mode;		/* a key file with this mode; 0: see @content */
	const char *content;	/* "/": a directory; "|": a FIFO */
	int want;
	const char *after;
	bool path_again;
} refusals[] = {
	{ "0600", 0600, NULL, 0, NULL, false },
	{ "0640", 0640, NULL, -EPERM, " has mode 0640: a private key must not be accessible to "
	  "group or others; run: chmod 600 ", true },
	{ "0644", 0644, NULL, -EPERM, " has mode 0644: a private key must not be accessible to "
	  "group or others; run: chmod 600 ", true },
	{ "dir", 0, "/", -EISDIR, " is a directory, not a key file", false },
	{ "fifo", 0, "|", -EINVAL, " is not a regular file", false },
};

Test(keys, file_refusals_are_worded_exactly, .init = mkdir_tmp, .fini = rm_tmp)
{
	const char *line = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n";

	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const char *c = refusals[i].content;
		char p[128], err[512] = "", want[512], arg[160];
		uint8_t key[KEYS_LEN];

		snprintf(p, sizeof(p), "%s", path_of(refusals[i].name));
		if (c && !strcmp(c, "/"))
			cr_assert_eq(mkdir(p, 0700), 0);
		else if (c && !strcmp(c, "|"))
			cr_assert_eq(mkfifo(p, 0600), 0);
		else
			write_file(p, line, strlen(line), refusals[i].mode);
		cr_expect_eq(keys_load_private(p, key, err, sizeof(err)), refusals[i].want,
			     "%s: %s", refusals[i].name, err);
		if (refusals[i].want) {
			snprintf(want, sizeof(want), "%s%s%s", p, refusals[i].after,
				 refusals[i].path_again ? p : "");
			cr_expect_str_eq(err, want, "%s", refusals[i].name);
		}
		/* A public key file may have any mode; the other refusals stand. */
		snprintf(arg, sizeof(arg), "@%s", p);
		err[0] = '\0';
		cr_expect_eq(keys_load_public(arg, key, err, sizeof(err)),
			     refusals[i].want == -EPERM ? 0 : refusals[i].want, "%s: public: %s",
			     refusals[i].name, err);
		if (refusals[i].want && refusals[i].want != -EPERM) {
			snprintf(want, sizeof(want), "%s%s", p, refusals[i].after);
			cr_expect_str_eq(err, want, "%s: public", refusals[i].name);
		}
	}
}

/* keys_check_file() alone: @kind and @secret are the caller's words; no @secret, no mode check. */
Test(keys, check_file_words_the_callers_nouns, .init = mkdir_tmp, .fini = rm_tmp)
{
	static const struct {
		const char *name;
		mode_t mode;		/* a file with this mode; 0: a directory */
		const char *secret;
		int want;
		const char *after;	/* after "PATH"; then "PATH" again for -EPERM */
	} cases[] = {
		{ "a", 0644, NULL, 0, NULL },
		{ "b", 0600, "token", 0, NULL },
		{ "c", 0604, "token", -EPERM, " has mode 0604: a token must not be accessible to "
		  "group or others; run: chmod 600 " },
		{ "d", 0, "token", -EISDIR, " is a directory, not a certificate file" },
		{ "e", 0, NULL, -EISDIR, " is a directory, not a certificate file" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char p[128], err[512] = "", want[512];
		int fd;

		snprintf(p, sizeof(p), "%s", path_of(cases[i].name));
		if (cases[i].mode)
			write_file(p, "x", 1, cases[i].mode);
		else
			cr_assert_eq(mkdir(p, 0700), 0);
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		cr_assert(fd >= 0, "%s: %s", p, strerror(errno));
		cr_expect_eq(keys_check_file(fd, p, "certificate", cases[i].secret, err,
					     sizeof(err)), cases[i].want, "case %zu: %s", i, err);
		if (cases[i].want) {
			snprintf(want, sizeof(want), "%s%s%s", p, cases[i].after,
				 cases[i].want == -EPERM ? p : "");
			cr_expect_str_eq(err, want, "case %zu", i);
		} else {
			cr_expect_str_eq(err, "", "case %zu: success leaves @err untouched", i);
		}
		cr_expect_eq(fcntl(fd, F_GETFD), FD_CLOEXEC, "case %zu: @fd stays open", i);
		close(fd);
	}
}

Test(keys, trailing_whitespace_is_accepted, .init = mkdir_tmp, .fini = rm_tmp)
{
	const char *line = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= \r\n";
	uint8_t key[KEYS_LEN], want[KEYS_LEN];
	char err[256] = "";

	hex(kat[0].priv, want, KEYS_LEN);
	write_file(path_of("k"), line, strlen(line), 0600);
	cr_assert_eq(keys_load_private(path_of("k"), key, err, sizeof(err)), 0, "%s", err);
	cr_expect_arr_eq(key, want, KEYS_LEN);
}

Test(keys, load_public_from_text_or_file, .init = mkdir_tmp, .fini = rm_tmp)
{
	const char *text = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
	uint8_t key[KEYS_LEN], want[KEYS_LEN];
	char err[256] = "", arg[160];

	hex(kat[0].pub, want, KEYS_LEN);
	cr_assert_eq(keys_load_public(text, key, err, sizeof(err)), 0, "%s", err);
	cr_expect_arr_eq(key, want, KEYS_LEN);

	write_file(path_of("pub"), text, strlen(text), 0644);
	snprintf(arg, sizeof(arg), "@%s", path_of("pub"));
	memset(key, 0, sizeof(key));
	cr_assert_eq(keys_load_public(arg, key, err, sizeof(err)), 0, "%s", err);
	cr_expect_arr_eq(key, want, KEYS_LEN);

	cr_expect_eq(keys_load_public("hSDwCYkwp1R0i33c", key, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "44") && strstr(err, "got 16"), "message: %s", err);
	cr_expect_eq(keys_load_public("@/nonexistent/x", key, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "/nonexistent/x: no such file"), "message: %s", err);
}
