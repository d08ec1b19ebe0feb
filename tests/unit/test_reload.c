/*
 * test_reload.c — re-reading postern-relay's configuration while it runs
 * (relay/reload.h), as an operator meets it: edit the file, reload, and the
 * relay applies what it can at once (trusted keys, revocations, log level,
 * limits, drain time, stats file), names every other change as needing a
 * restart, and changes nothing at all when the new file is bad.
 *
 * Each test writes a configuration file in its own temporary directory and
 * runs a relay core in memory (relay_harness.h: two workers, a fake clock)
 * whose trust matches the file, so that handshakes show what a reload did.
 */
#define _GNU_SOURCE	/* nftw(), vasprintf() */

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "relay/config.h"
#include "relay/log.h"
#include "relay/reload.h"
#include "relay_harness.h"

static struct rh h;
static char dir[64];
static char conf_path[128];
static char *argv_conf[] = { "postern-relay", "-c", conf_path, NULL };
static struct relay_config_args args;
static struct relay_config cur;
static struct reload *rl;
static struct reload_report rep;
static char err[RELAY_CONFIG_ERR_MAX];

static const char *const crm[] = { "crm" };

/* One setting of the file: "name" and its value as written ("[ ... ]", "{ ... }", "5"). */
struct kv {
	const char *name;
	const char *value;
};

static const char *path_of(const char *name)
{
	static char p[8][128];
	static unsigned next;
	char *out = p[next++ % 8];

	snprintf(out, sizeof(p[0]), "%s/%s", dir, name);
	return out;
}

static void write_text(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static const char *key_text(const uint8_t key[KEYS_LEN])
{
	static char t[4][KEYS_TEXT_LEN + 1];
	static unsigned next;
	char *out = t[next++ % 4];

	keys_to_text(key, out);
	return out;
}

static const char *trusted_list(const uint8_t *a, const uint8_t *b)
{
	static char t[2][128];
	static unsigned next;
	char *out = t[next++ % 2];

	if (b)
		snprintf(out, sizeof(t[0]), "[ \"%s\", \"%s\" ]", key_text(a), key_text(b));
	else
		snprintf(out, sizeof(t[0]), "[ \"%s\" ]", key_text(a));
	return out;
}

/* The test's file: the base settings, each of @over replacing its namesake or added. */
static void write_conf(const struct kv *over, size_t n)
{
	struct kv base[] = {
		{ "listen", "[ \"127.0.0.1:51820\" ]" },
		{ "workers", "2" },
		{ "private_key", NULL },
		{ "trusted_keys", trusted_list(h.signer_pub, NULL) },
		{ "log_level", "\"info\"" },
		{ "drain_ms", "2000" },
		{ "limits", "{ max_sessions = 64; max_channels = 16; }" },
		{ "control_socket", "\"/run/postern-test/relay.sock\"" },
		{ "metrics_listen", "\"off\"" },
	};
	char quoted_key[160];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	snprintf(quoted_key, sizeof(quoted_key), "\"%s\"", path_of("relay.key"));
	base[2].value = quoted_key;
	cr_assert_not_null(f);
	fprintf(f, "# written by test_reload\n");
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		const char *v = base[i].value;

		for (size_t k = 0; k < n; k++)
			if (!strcmp(over[k].name, base[i].name))
				v = over[k].value;
		if (v)
			fprintf(f, "%s = %s;\n", base[i].name, v);
	}
	for (size_t k = 0; k < n; k++) {
		bool known = false;

		for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
			known |= !strcmp(over[k].name, base[i].name);
		if (!known)
			fprintf(f, "%s = %s;\n", over[k].name, over[k].value);
	}
	cr_assert_eq(fclose(f), 0);
	write_text(conf_path, 0644, text);
	free(text);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	uint8_t key[KEYS_LEN];

	memset(&h, 0, sizeof(h));
	snprintf(dir, sizeof(dir), "/tmp/pst-reload-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/relay.conf", dir);
	rh_start(&h, NULL);
	cr_assert_eq(keys_generate(key), 0);
	cr_assert_eq(keys_save_private(path_of("relay.key"), key, false, err, sizeof(err)), 0,
		     "%s", err);
	write_conf(NULL, 0);
	relay_config_init(&cur);
	cr_assert_eq(relay_config_parse_args(&args, 3, argv_conf, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(relay_config_load(&cur, &args, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(relay_config_load_secrets(&cur, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(reload_create(&rl, &args, &cur, err, sizeof(err)), 0, "%s", err);
	log_set_level(cur.log_level);
}

static void teardown(void)
{
	reload_destroy(rl);
	relay_config_free(&cur);
	rh_stop(&h);
	rh_eal_fini();
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(reload, .init = setup, .fini = teardown);

/* Reload; assert it succeeded and listed exactly @applied and @restart. */
static void reload_ok(const char *applied, const char *restart)
{
	int ret = reload_run(rl, h.r, &rep, err, sizeof(err));

	cr_assert_eq(ret, 0, "reload failed: %s", err);
	cr_assert_str_eq(rep.applied, applied);
	cr_assert_str_eq(rep.restart, restart);
	rh_pump(&h);
}

/* The running configuration as --check-config would print it. */
static char *printed(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(relay_config_print(&cur, f), 0);
	fclose(f);
	return text;
}

static struct rh_ep *agent(const char *name, uint8_t host, const uint8_t *signer)
{
	struct rh_ep *ep = rh_ep_new(&h, name, TOKEN_ROLE_AGENT, "acme", crm, 1, host % 2, host);

	if (signer)
		rh_ep_resign(&h, ep, signer);
	return ep;
}

/* A fresh INIT from @ep is answered (@admitted) or dropped under @reason. */
static void handshake(struct rh_ep *ep, bool admitted, enum relay_drop reason)
{
	uint64_t before = rh_stats(&h).dropped[reason];
	unsigned resp = ep->n_resp;

	if (admitted) {
		rh_connect(&h, ep, 0);
		return;
	}
	rh_init_build(&h, ep, 0);
	rh_inject(&h, ep->worker, ep, ep->last_init, ep->last_init_len);
	rh_pump(&h);
	cr_assert_eq(ep->n_resp, resp, "%s was admitted", ep->name);
	cr_assert_eq(rh_stats(&h).dropped[reason], before + 1, "%s: not %s", ep->name,
		     relay_drop_name(reason));
}

Test(reload, an_unchanged_file_changes_nothing)
{
	char msg[128];

	reload_ok("", "");
	cr_assert_not(rep.trust_changed);
	cr_assert_eq(relay_trust_generation(h.r), 0, "a store was published for nothing");
	reload_summary(&rep, msg, sizeof(msg));
	cr_assert_str_eq(msg, "no change");
}

Test(reload, a_trusted_key_is_added_and_removed_live)
{
	uint8_t signer2[KEYS_LEN], pub2[KEYS_LEN];
	struct rh_ep *old, *fresh;

	cr_assert_eq(keys_generate(signer2), 0);
	cr_assert_eq(keys_public_ed25519(signer2, pub2), 0);
	old = agent("old", 2, NULL);
	rh_connect(&h, old, 0);
	fresh = agent("fresh", 3, signer2);
	handshake(fresh, false, RELAY_DROP_TOKEN_UNKNOWN_SIGNER);

	write_conf((const struct kv[]){
		{ "trusted_keys", trusted_list(h.signer_pub, pub2) },
		{ "log_level", "\"debug\"" },
	}, 2);
	reload_ok("trusted_keys,log_level", "");
	cr_assert(rep.trust_changed);
	cr_assert_eq(log_get_level(), LOG_LEVEL_DEBUG);
	handshake(fresh, true, 0);
	cr_assert_eq(rh_stats(&h).sessions, 2);
	/* Reloading the same file again changes nothing more. */
	reload_ok("", "");

	/* The first key goes: its agent's session ends, the new key's stays. */
	write_conf((const struct kv[]){
		{ "trusted_keys", trusted_list(pub2, NULL) },
		{ "log_level", "\"debug\"" },
	}, 2);
	reload_ok("trusted_keys", "");
	cr_assert_eq(rh_stats(&h).sessions, 1);
	handshake(old, false, RELAY_DROP_TOKEN_UNKNOWN_SIGNER);
	handshake(fresh, true, 0);
	cr_assert_eq(cur.n_trusted, 1, "the running configuration took the change");
	cr_assert_arr_eq(cur.trusted[0], pub2, KEYS_LEN);
}

Test(reload, revocations_are_added_live_and_never_undone)
{
	char list[64], file_ids[128], msg[128], quoted[160];
	struct rh_ep *a, *b;

	a = agent("a", 2, NULL);
	b = agent("b", 3, NULL);
	rh_connect(&h, a, 0);
	rh_connect(&h, b, 0);

	/* An id in `revoked`: a's session ends at the workers' next poll. */
	snprintf(list, sizeof(list), "[ \"");
	for (unsigned i = 0; i < TOKEN_ID_LEN; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%02x", a->tok.id[i]);
	strcat(list, "\" ]");
	write_conf((const struct kv[]){ { "revoked", list } }, 1);
	reload_ok("revoked", "");
	cr_assert(rep.trust_changed);
	cr_assert_eq(rh_stats(&h).sessions, 1);
	handshake(a, false, RELAY_DROP_TOKEN_REVOKED);

	/* An id in revoked_file: the same. */
	snprintf(file_ids, sizeof(file_ids), "# revoked\n");
	for (unsigned i = 0; i < TOKEN_ID_LEN; i++)
		snprintf(file_ids + strlen(file_ids), sizeof(file_ids) - strlen(file_ids), "%02X",
			 b->tok.id[i]);
	strcat(file_ids, "  # agent b\n");
	write_text(path_of("revoked.txt"), 0644, file_ids);
	snprintf(quoted, sizeof(quoted), "\"%s\"", path_of("revoked.txt"));
	write_conf((const struct kv[]){ { "revoked", list }, { "revoked_file", quoted } }, 2);
	reload_ok("revoked_file", "");
	cr_assert_eq(rh_stats(&h).sessions, 0);
	handshake(b, false, RELAY_DROP_TOKEN_REVOKED);

	/* Taking an id out cannot un-revoke it: a restart is needed, and said every time. */
	write_conf((const struct kv[]){ { "revoked_file", quoted } }, 1);
	reload_ok("", "revoked");
	reload_summary(&rep, msg, sizeof(msg));
	cr_assert_str_eq(msg, "needs restart: revoked");
	cr_assert_not(rep.trust_changed);
	handshake(a, false, RELAY_DROP_TOKEN_REVOKED);
	reload_ok("", "revoked");
	write_conf(NULL, 0);
	reload_ok("", "revoked,revoked_file");
	handshake(b, false, RELAY_DROP_TOKEN_REVOKED);
}

/* A bad file of any kind: refused with where and why, and nothing changes. */
Test(reload, a_bad_file_changes_nothing)
{
	static char missing_key[160], bad_revoked[160];
	static const struct {
		struct kv bad;
		const char *where;	/* in the message */
	} cases[] = {
		{ { "wokers", "2" }, "relay.conf:" },
		{ { "workers", "0" }, "relay.conf:" },
		{ { "drain_ms", "\"soon\"" }, "relay.conf:" },
		{ { "trusted_keys", "[ \"not a key\" ]" }, "relay.conf:" },
		{ { "private_key", missing_key }, "nope.key" },
		{ { "revoked_file", bad_revoked }, "bad-revoked.txt:2" },
		{ { "listen", "[ \"127.0.0.1\" ]" }, "relay.conf:" },
	};
	uint8_t signer2[KEYS_LEN], pub2[KEYS_LEN];
	char *before, *now, trust2[128];
	struct rh_ep *fresh;

	cr_assert_eq(keys_generate(signer2), 0);
	cr_assert_eq(keys_public_ed25519(signer2, pub2), 0);
	snprintf(trust2, sizeof(trust2), "%s", trusted_list(h.signer_pub, pub2));
	snprintf(missing_key, sizeof(missing_key), "\"%s\"", path_of("nope.key"));
	write_text(path_of("bad-revoked.txt"), 0644, "# ok\nnot-an-id\n");
	snprintf(bad_revoked, sizeof(bad_revoked), "\"%s\"", path_of("bad-revoked.txt"));
	fresh = agent("fresh", 3, signer2);
	before = printed();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Good changes beside the bad one must not slip through either. */
		write_conf((const struct kv[]){
			{ "trusted_keys", trust2 },
			{ "log_level", "\"debug\"" },
			{ "drain_ms", "7000" },
			cases[i].bad,
		}, 4);
		err[0] = '\0';
		cr_assert_neq(reload_run(rl, h.r, &rep, err, sizeof(err)), 0, "case %zu accepted",
			      i);
		cr_assert(strstr(err, cases[i].where), "case %zu: \"%s\" does not name %s", i, err,
			  cases[i].where);
		cr_assert_str_eq(rep.applied, "");
		cr_assert_eq(relay_trust_generation(h.r), 0, "case %zu published a store", i);
		cr_assert_eq(log_get_level(), LOG_LEVEL_INFO, "case %zu set the log level", i);
		now = printed();
		cr_assert_str_eq(now, before, "case %zu changed the running configuration", i);
		free(now);
		handshake(fresh, false, RELAY_DROP_TOKEN_UNKNOWN_SIGNER);
	}
	free(before);
	/* Fixed, it applies. */
	write_conf((const struct kv[]){ { "trusted_keys", trust2 }, { "drain_ms", "7000" } }, 2);
	reload_ok("trusted_keys,drain_ms", "");
	cr_assert_eq(cur.drain_ms, 7000);
	handshake(fresh, true, 0);
}

/* Settings a running relay cannot take: named, not applied, named again next time. */
Test(reload, settings_that_need_a_restart_are_reported_not_applied)
{
	uint8_t key2[KEYS_LEN], psk[KEYS_LEN];
	char psk_path[160];
	const struct {
		struct kv change;
		const char *name;
	} cases[] = {
		{ { "workers", "3" }, "workers" },
		{ { "listen", "[ \"127.0.0.1:51821\" ]" }, "listen" },
		{ { "io", "\"mmsg\"" }, "io" },
		{ { "suites", "[ \"aesgcm\" ]" }, "suites" },
		{ { "control_socket", "\"/run/postern-test/other.sock\"" }, "control_socket" },
		{ { "control_group", "\"0\"" }, "control_group" },
		{ { "metrics_listen", "\"127.0.0.1:9999\"" }, "metrics_listen" },
		{ { "metrics_allow_public", "true" }, "metrics_allow_public" },
		{ { "eal", "{ memory_mb = 256; }" }, "eal.memory_mb" },
		{ { "eal", "{ args = [ \"--no-telemetry\" ]; }" }, "eal.args" },
		{ { "limits", "{ max_sessions = 64; max_channels = 16; max_channel_ends = 99; }" },
		  "limits.max_channel_ends" },
		{ { "limits", "{ max_sessions = 65; max_channels = 16; }" },
		  "limits.max_sessions" },
		{ { "psk_file", psk_path }, "psk_file" },
	};
	char msg[256];

	cr_assert_eq(keys_generate(psk), 0);
	cr_assert_eq(keys_save_private(path_of("psk"), psk, false, err, sizeof(err)), 0);
	snprintf(psk_path, sizeof(psk_path), "\"%s\"", path_of("psk"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_conf((const struct kv[]){ cases[i].change, { "drain_ms", "3000" } }, 2);
		reload_ok(i == 0 ? "drain_ms" : "", cases[i].name);
		reload_ok("", cases[i].name);
		cr_assert_eq(cur.workers, 2);
		cr_assert_eq(cur.max_sessions, 64);
	}
	cr_assert_eq(relay_trust_generation(h.r), 0);

	/* Several at once, and a new key behind the same private_key path. */
	cr_assert_eq(keys_generate(key2), 0);
	cr_assert_eq(keys_save_private(path_of("relay.key"), key2, true, err, sizeof(err)), 0);
	write_conf((const struct kv[]){
		{ "workers", "4" }, { "log_level", "\"warn\"" }, { "drain_ms", "3000" },
	}, 3);
	reload_ok("log_level", "workers,private_key");
	reload_summary(&rep, msg, sizeof(msg));
	cr_assert_str_eq(msg, "applied: log_level; needs restart: workers, private_key");
}

Test(reload, limits_apply_to_new_sessions_and_channels)
{
	struct rh_ep *gw, *a, *b, *c;
	struct rh_frame f;

	gw = rh_ep_new(&h, "gw", TOKEN_ROLE_GATEWAY, "acme", crm, 1, 1, 1);
	rh_connect(&h, gw, 0);
	a = agent("a", 2, NULL);
	rh_connect(&h, a, 0);
	rh_open_channel(&h, a, gw, 1, "crm");

	/* One channel per session from now on: a's second OPEN is refused with LIMIT. */
	write_conf((const struct kv[]){ { "limits", "{ max_sessions = 4; max_channels = 1; }" } },
		   1);
	reload_ok("limits.max_sessions,limits.max_channels", "");
	rh_send_open(&h, a, 2, "crm", "");
	rh_pump(&h);
	f = rh_expect(a, FRAME_CHANNEL_CLOSE);
	cr_assert_eq(f.id, 2);
	cr_assert_eq(f.reason, FRAME_CLOSE_LIMIT);
	rh_expect_nothing(gw);

	/* Four sessions, two per worker: worker 0 holds a and then b; c would be its third. */
	b = agent("b", 4, NULL);
	rh_connect(&h, b, 0);
	c = agent("c", 6, NULL);
	handshake(c, false, RELAY_DROP_SESSION_LIMIT);

	/* Back up (not beyond the start's 64): admitted again. */
	write_conf(NULL, 0);
	reload_ok("limits.max_sessions,limits.max_channels", "");
	handshake(c, true, 0);
	rh_send_open(&h, a, 2, "crm", "");
	rh_pump(&h);
	rh_expect(gw, FRAME_CHANNEL_OPEN);
}

Test(reload, handshake_admission_settings_apply_from_the_next_init)
{
	struct rh_ep *late = agent("late", 2, NULL);

	/* A token that expired 45 s ago: beyond the default 30 s of skew. */
	late->tok.expiry = RH_UNIX_START - 45;
	rh_ep_resign(&h, late, NULL);
	handshake(late, false, RELAY_DROP_TOKEN_EXPIRED);

	write_conf((const struct kv[]){
		{ "token_skew", "60" },
		{ "limits", "{ max_sessions = 64; max_channels = 16; handshake_budget = 9; "
			    "handshake_rate = 5; }" },
	}, 2);
	reload_ok("token_skew,limits.handshake_budget,limits.handshake_rate", "");
	cr_assert_eq(cur.token_skew, 60);
	cr_assert_eq(cur.handshake_budget, 9);
	cr_assert_eq(cur.handshake_rate, 5);
	handshake(late, true, 0);

	/* And back: the same token is refused again. */
	write_conf(NULL, 0);
	reload_ok("token_skew,limits.handshake_budget,limits.handshake_rate", "");
	handshake(late, false, RELAY_DROP_TOKEN_EXPIRED);
}

Test(reload, stats_file_and_drain_ms_are_taken_by_the_running_configuration)
{
	char quoted[160];

	snprintf(quoted, sizeof(quoted), "\"%s\"", path_of("stats.json"));
	write_conf((const struct kv[]){ { "stats_file", quoted }, { "drain_ms", "500" } }, 2);
	reload_ok("drain_ms,stats_file", "");
	cr_assert_str_eq(cur.stats_file, path_of("stats.json"));
	cr_assert_eq(cur.drain_ms, 500);
	write_conf(NULL, 0);
	reload_ok("drain_ms,stats_file", "");
	cr_assert_null(cur.stats_file);
	cr_assert_eq(cur.drain_ms, 2000);
}

Test(reload, the_summary_reads_as_a_sentence)
{
	static const struct {
		const char *applied, *restart, *text;
	} cases[] = {
		{ "", "", "no change" },
		{ "log_level", "", "applied: log_level" },
		{ "", "workers,listen", "needs restart: workers, listen" },
		{ "trusted_keys,revoked", "io",
		  "applied: trusted_keys, revoked; needs restart: io" },
	};
	char msg[128], tiny[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reload_report r = { 0 };

		snprintf(r.applied, sizeof(r.applied), "%s", cases[i].applied);
		snprintf(r.restart, sizeof(r.restart), "%s", cases[i].restart);
		reload_summary(&r, msg, sizeof(msg));
		cr_assert_str_eq(msg, cases[i].text);
		reload_summary(&r, tiny, sizeof(tiny));
		cr_assert_eq(strncmp(tiny, cases[i].text, sizeof(tiny) - 1), 0, "cut, not garbled");
	}
}
