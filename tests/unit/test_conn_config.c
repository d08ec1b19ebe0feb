/*
 * test_conn_config.c — postern-connect's configuration as an operator or an
 * MCP client launching it meets it: file, environment and flags, in that
 * order of strength; each bad value refused naming where it came from;
 * public listeners refused unless asked for; the grant and identity checked.
 */
#define _GNU_SOURCE	/* open_memstream */

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "endpoint/conn_config.h"
#include "endpoint/quic_tls.h"

#include "cfg_fixture.h"

#define GW_FP "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static uint8_t priv[KEYS_LEN], pub[KEYS_LEN], signer[KEYS_LEN];
static char relay_pub_text[KEYS_TEXT_LEN + 1];
static uint8_t agent_fp[EP_CONFIG_FP_LEN];

static void setup(void)
{
	uint8_t relay_priv[KEYS_LEN], relay_pub[KEYS_LEN];

	cfx_setup("connconf");
	cr_assert_eq(keys_generate(priv), 0);
	cr_assert_eq(keys_public_x25519(priv, pub), 0);
	cr_assert_eq(keys_generate(signer), 0);
	cr_assert_eq(keys_generate(relay_priv), 0);
	cr_assert_eq(keys_public_x25519(relay_priv, relay_pub), 0);
	keys_to_text(relay_pub, relay_pub_text);
	cfx_save_key("relay.pub", relay_pub, 0644);
	cfx_save_key("agent.key", priv, 0600);
	cfx_save_token("crm.grant", signer, TOKEN_ROLE_AGENT, "crm", pub, 3600, 0600);
	cfx_save_token("any.grant", signer, TOKEN_ROLE_AGENT, TOKEN_TUNNEL_ANY, pub, 3600, 0600);
	cfx_save_token("gateway.token", signer, TOKEN_ROLE_GATEWAY, "crm", pub, 3600, 0600);
	cfx_save_identity("agent.crt", "agent.pem", 0600, CFX_P256, agent_fp);
}

static void teardown(void)
{
	cfx_teardown();
}

TestSuite(conn_config, .init = setup, .fini = teardown);

/* Everything a connector needs except listen, in the file (lines 1..7). */
static void write_base(const char *name, const char *extra)
{
	cfx_write(name, 0644,
		  "relays = ( { address = \"relay.example.net:51820\"; public_key = \"%s\"; } );\n"
		  "private_key = \"%s\";\n"
		  "grant = \"%s\";\n"
		  "tunnel = \"crm\";\n"
		  "gateway_fingerprint = \"" GW_FP "\";\n"
		  "certificate = \"%s\";\n"
		  "certificate_key = \"%s\";\n"
		  "%s",
		  relay_pub_text, cfx_path("agent.key"), cfx_path("crm.grant"),
		  cfx_path("agent.crt"), cfx_path("agent.pem"), extra);
}

/* Parse @argv (NULL-terminated, without the program) and load with @envp. */
static int load(struct conn_config *c, const char *const *argv, char *const *envp, char *err,
		size_t errlen)
{
	char *args[64] = { "postern-connect" };
	struct conn_config_args a;
	int argc = 1, ret;

	for (; argv && argv[argc - 1]; argc++)
		args[argc] = (char *)argv[argc - 1];
	conn_config_init(c);
	ret = conn_config_parse_args(&a, argc, args, err, errlen);
	if (ret)
		return ret;
	return conn_config_load(c, &a, envp, err, errlen);
}

/* What --check-config prints for @c; the caller frees it. */
static char *printed(const struct conn_config *c)
{
	size_t len;
	char *text;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(out);
	cr_assert_eq(conn_config_print(c, out), 0);
	fclose(out);
	return text;
}

Test(conn_config, a_full_file_fills_every_setting)
{
	const char *argv[] = { "-c", cfx_path("full.conf"), NULL };
	char err[CONN_CONFIG_ERR_MAX] = "", fp[EP_CONFIG_FP_HEX_LEN + 1];
	const struct sockaddr_in6 *in6;
	const struct sockaddr_in *in;
	struct conn_config c;

	cfx_write("full.conf", 0644,
		  "relays = (\n"
		  "  { address = \"192.0.2.1:51820\"; public_key = \"%s\"; },\n"
		  "  { address = \"relay.example.net:51820\"; public_key = \"@%s\"; }\n"
		  ");\n"
		  "private_key = \"%s\";\n"
		  "grant = \"%s\";\n"
		  "tunnel = \"crm\";\n"
		  "gateway_fingerprint = \"" GW_FP "\";\n"
		  "certificate = \"%s\";\n"
		  "certificate_key = \"%s\";\n"
		  "listen = (\n"
		  "  { route = \"db\"; address = \"127.0.0.1:15432\"; },\n"
		  "  { route = \"fs\"; address = \"[::1]:15433\"; }\n"
		  ");\n"
		  "listen_public = false;\n"
		  "log_level = \"warn\";\n",
		  relay_pub_text, cfx_path("relay.pub"), cfx_path("agent.key"),
		  cfx_path("crm.grant"), cfx_path("agent.crt"), cfx_path("agent.pem"));
	cr_assert_eq(load(&c, argv, NULL, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.file, cfx_path("full.conf"));
	cr_expect_eq(c.n_relays, 2u);
	cr_expect_str_eq(c.relays[1].host, "relay.example.net");
	cr_expect_eq(memcmp(c.relays[0].public_key, c.relays[1].public_key, KEYS_LEN), 0);
	cr_expect_str_eq(c.tunnel, "crm");
	quic_fingerprint_format(fp, c.gateway_fingerprint);
	cr_expect_str_eq(fp, GW_FP);
	cr_assert_eq(c.n_listen, 2u);
	cr_expect_str_eq(c.listen[0].route, "db");
	in = (const struct sockaddr_in *)&c.listen[0].addr;
	cr_expect_eq(in->sin_family, AF_INET);
	cr_expect_eq(ntohs(in->sin_port), 15432);
	cr_expect_eq(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	cr_expect_eq(c.listen[0].addr_len, sizeof(*in));
	in6 = (const struct sockaddr_in6 *)&c.listen[1].addr;
	cr_expect_eq(in6->sin6_family, AF_INET6);
	cr_expect(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
	cr_expect(c.listen[1].loopback);
	cr_expect_not(c.listen_public);
	cr_expect_eq(c.log_level, LOG_LEVEL_WARN);
	cr_expect_str_eq(c.stdio, "");

	cr_assert_eq(conn_config_load_files(&c, (uint64_t)time(NULL), err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(memcmp(c.static_pub, pub, KEYS_LEN), 0);
	cr_expect_eq(memcmp(c.fingerprint, agent_fp, EP_CONFIG_FP_LEN), 0);
	cr_expect_str_eq(c.grant_info.tunnels[0], "crm");
	conn_config_free(&c);
}

Test(conn_config, flags_beat_environment_beats_file)
{
	const char *file_only[] = { "-c", cfx_path("p.conf"), NULL };
	const char *with_flags[] = { "-c", cfx_path("p.conf"), "--tunnel", "flag-t", "--listen",
				     "f=127.0.0.1:3", "--log-level", "debug", NULL };
	char *env[] = { "POSTERN_TUNNEL=env-t", "POSTERN_LISTEN= e1=127.0.0.1:1\te2=[::1]:2 ",
			"HOME=/root", NULL };
	char err[CONN_CONFIG_ERR_MAX] = "";
	struct conn_config c;

	write_base("p.conf", "listen = ( { route = \"file\"; address = \"127.0.0.1:9\"; } );\n"
		   "log_level = \"error\";\n");
	/* File alone. */
	cr_assert_eq(load(&c, file_only, NULL, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.tunnel, "crm");
	cr_assert_eq(c.n_listen, 1u);
	cr_expect_str_eq(c.listen[0].route, "file");
	conn_config_free(&c);

	/* The environment over the file: lists are replaced, not merged. */
	cr_assert_eq(load(&c, file_only, env, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.tunnel, "env-t");
	cr_assert_eq(c.n_listen, 2u);
	cr_expect_str_eq(c.listen[0].route, "e1");
	cr_expect_str_eq(c.listen[1].route, "e2");
	cr_expect_str_eq(c.listen[0].where, "POSTERN_LISTEN");
	cr_expect_eq(c.log_level, LOG_LEVEL_ERROR, "the file's value where nothing overrides it");
	conn_config_free(&c);

	/* Flags over both. */
	cr_assert_eq(load(&c, with_flags, env, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.tunnel, "flag-t");
	cr_assert_eq(c.n_listen, 1u);
	cr_expect_str_eq(c.listen[0].route, "f");
	cr_expect_str_eq(c.listen[0].where, "--listen");
	cr_expect_eq(c.log_level, LOG_LEVEL_DEBUG);
	conn_config_free(&c);
}

Test(conn_config, flags_and_environment_alone_suffice)
{
	char relay[128], key[256], grant[256], cert[256], ckey[256];
	const char *argv[] = { "--relay", relay, "--relay", "[2001:db8::7]:51820,x", NULL };
	char *env[] = { key,
			grant,
			cert,
			ckey,
			"POSTERN_TUNNEL=crm",
			"POSTERN_GATEWAY_FINGERPRINT=" GW_FP,
			"POSTERN_STDIO=fs",
			"POSTERN_SOCKET=/run/postern/relay.sock",
			"POSTERN_SOMETHING_ELSE=1",
			NULL };
	char err[CONN_CONFIG_ERR_MAX] = "";
	struct conn_config c;

	snprintf(relay, sizeof(relay), "192.0.2.1:51820,%s", relay_pub_text);
	snprintf(key, sizeof(key), "POSTERN_PRIVATE_KEY=%s", cfx_path("agent.key"));
	snprintf(grant, sizeof(grant), "POSTERN_GRANT=%s", cfx_path("any.grant"));
	snprintf(cert, sizeof(cert), "POSTERN_CERTIFICATE=%s", cfx_path("agent.crt"));
	snprintf(ckey, sizeof(ckey), "POSTERN_CERTIFICATE_KEY=%s", cfx_path("agent.pem"));

	/* The second relay's key is bad: the flag is named. */
	cr_expect_eq(load(&c, argv, env, err, sizeof(err)), -EINVAL);
	cr_expect(!strncmp(err, "--relay '[2001:db8::7]:51820,x': ", 33), "%s", err);
	conn_config_free(&c);

	argv[2] = NULL;
	cr_assert_eq(load(&c, argv, env, err, sizeof(err)), 0, "%s", err);
	cr_expect_null(c.file);
	cr_expect_eq(c.n_relays, 1u);
	cr_expect_str_eq(c.relays[0].where, "--relay");
	cr_expect_str_eq(c.stdio, "fs");
	cr_expect_eq(c.n_listen, 0u, "stdio needs no listener");
	cr_expect_str_eq(c.private_key_at, "POSTERN_PRIVATE_KEY");
	cr_assert_eq(conn_config_load_files(&c, (uint64_t)time(NULL), err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_str_eq(c.grant_info.tunnels[0], "*", "a '*' grant covers tunnel crm");
	conn_config_free(&c);
}

Test(conn_config, postern_config_names_the_file_and_c_overrides_it)
{
	char env_file[256];
	char *env[] = { env_file, NULL };
	const char *argv[] = { "-c", cfx_path("b.conf"), NULL };
	char err[CONN_CONFIG_ERR_MAX] = "";
	struct conn_config c;

	write_base("a.conf", "listen = ( { route = \"a\"; address = \"127.0.0.1:1\"; } );\n");
	write_base("b.conf", "listen = ( { route = \"b\"; address = \"127.0.0.1:1\"; } );\n");
	snprintf(env_file, sizeof(env_file), "POSTERN_CONFIG=%s", cfx_path("a.conf"));
	cr_assert_eq(load(&c, NULL, env, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.listen[0].route, "a");
	conn_config_free(&c);
	cr_assert_eq(load(&c, argv, env, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.listen[0].route, "b");
	conn_config_free(&c);
}

Test(conn_config, listeners_outside_loopback_need_listen_public)
{
	static const struct {
		const char *addr;
		bool loopback;
	} cases[] = {
		{ "127.0.0.1:15432", true },
		{ "127.3.4.5:15432", true },
		{ "[::1]:15432", true },
		{ "[::ffff:127.0.0.1]:15432", true },
		{ "0.0.0.0:15432", false },
		{ "[::]:15432", false },
		{ "10.1.2.3:15432", false },
		{ "[fd00::1]:15432", false },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char extra[256], err[CONN_CONFIG_ERR_MAX] = "", want[512];
		const char *argv[] = { "-c", cfx_path("l.conf"), NULL, NULL, NULL };
		struct conn_config c;

		snprintf(extra, sizeof(extra),
			 "listen = (\n { route = \"db\"; address = \"%s\"; } );\n", cases[i].addr);
		write_base("l.conf", extra);
		if (cases[i].loopback) {
			cr_expect_eq(load(&c, argv, NULL, err, sizeof(err)), 0, "%s: %s",
				     cases[i].addr, err);
			conn_config_free(&c);
			continue;
		}
		cr_expect_eq(load(&c, argv, NULL, err, sizeof(err)), -EINVAL, "%s", cases[i].addr);
		snprintf(want, sizeof(want), "%s:9: listen 'db=%s': not a loopback address: anyone "
			 "who can reach it gets this connector's access to route 'db'; set "
			 "listen_public = true", cfx_path("l.conf"), cases[i].addr);
		cr_expect(!strncmp(err, want, strlen(want)), "\n got: %s\nwant: %s", err, want);
		conn_config_free(&c);

		argv[2] = "--listen-public";
		argv[3] = "true";
		cr_expect_eq(load(&c, argv, NULL, err, sizeof(err)), 0, "%s: %s", cases[i].addr,
			     err);
		cr_expect(c.listen_public);
		conn_config_free(&c);
	}
}

Test(conn_config, bad_values_name_where_they_came_from)
{
	static const struct {
		const char *file; /* appended to the base file (lines 1..7), or NULL: no file */
		const char *env;	/* one variable, or NULL */
		const char *flag, *value;	/* one flag, or NULL */
		const char *msg;	/* prefix; %F is the file's path */
	} cases[] = {
		{ "tunel = \"x\";\n", NULL, NULL, NULL,
		  "%F:8: unknown setting 'tunel' (did you mean 'tunnel'?)" },
		{ "listen = (\n { route = \"db\"; adress = \"127.0.0.1:1\"; } );\n", NULL, NULL,
		  NULL, "%F:9: listen[0]: unknown setting 'adress' (did you mean 'address'?)" },
		{ "listen = (\n { route = \"db\";\n address = \"localhost:1\"; } );\n", NULL, NULL,
		  NULL, "%F:10: listen[0].address: 'localhost:1': a listen address is numeric" },
		{ "listen = (\n { route = \"d b\"; address = \"127.0.0.1:1\"; } );\n", NULL, NULL,
		  NULL, "%F:9: listen[0].route: 'd b': a route name is 1 to 63 characters" },
		{ "listen = (\n { route = \"db\"; } );\n", NULL, NULL, NULL,
		  "%F:9: listen[0]: needs address" },
		{ "listen = (\n { route = \"a\"; address = \"127.0.0.1:1\"; },\n"
		  " { route = \"b\"; address = \"127.0.0.1:1\"; } );\n",
		  NULL, NULL, NULL,
		  "%F:10: listen[1]: 127.0.0.1:1 is already the address of route 'a' (%F:9)" },
		{ "listen_public = \"yes\";\n", NULL, NULL, NULL,
		  "%F:8: listen_public: must be true or false, not a string" },
		{ "log_level = \"chatty\";\n", NULL, NULL, NULL,
		  "%F:8: log_level: 'chatty': expected one of error, warn, info, debug" },
		{ "relays = ( { address = \"r.example:51820\"; } );\n", NULL, NULL, NULL,
		  "%F:8: syntax error: duplicate setting name" },
		{ "", "POSTERN_TUNNEL=a b", NULL, NULL,
		  "POSTERN_TUNNEL='a b': a tunnel name is 1 to 63 characters" },
		{ "", "POSTERN_LISTEN=db=127.0.0.1:1 fs", NULL, NULL,
		  "POSTERN_LISTEN: 'fs': expected ROUTE=ADDR:PORT" },
		{ "", "POSTERN_LISTEN_PUBLIC=yes", NULL, NULL,
		  "POSTERN_LISTEN_PUBLIC='yes': must be true or false" },
		{ "", "POSTERN_PRIVATEKEY=/k", NULL, NULL,
		  "environment variable POSTERN_PRIVATEKEY: unknown (did you mean "
		  "POSTERN_PRIVATE_KEY?)" },
		{ "", "POSTERN_RELAYS=192.0.2.1:51820", NULL, NULL,
		  "POSTERN_RELAYS: '192.0.2.1:51820': expected HOST:PORT,KEY" },
		{ "", NULL, "--gateway-fingerprint", "abc",
		  "--gateway-fingerprint 'abc': a fingerprint is 64 hex digits" },
		{ "", NULL, "--gateway-fingerprint",
		  "00:112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		  "--gateway-fingerprint '00:112233445566778899aabbccddeeff00112233445566778899aabbc"
		  "cddeeff': a fingerprint is 64 hex digits" },
		{ "", NULL, "--listen", "db=127.0.0.1:0",
		  "--listen 'db=127.0.0.1:0': the port must be a number from 1 to 65535" },
		{ "", NULL, "--stdio", "", "--stdio '': a route name is 1 to 63 characters" },
		{ "", NULL, "--private-key", "", "--private-key '': must not be empty" },
		{ "", NULL, NULL, NULL, "%F: nothing to serve: give listen" },
		{ NULL, NULL, NULL, NULL,
		  "relays: not set: give --relay, set POSTERN_RELAYS, or set "
		  "it in a configuration file (-c)" },
		{ "hop_suite = \"aes-256-gcm\";\n", NULL, NULL, NULL,
		  "%F:8: hop_suite: 'aes-256-gcm': expected \"chachapoly\" or \"aesgcm\" (did you "
		  "mean \"aesgcm\"?)" },
		{ "", "POSTERN_HOP_SUITE=AES", NULL, NULL,
		  "POSTERN_HOP_SUITE='AES': expected \"chachapoly\" or \"aesgcm\" (did you mean "
		  "\"aesgcm\"?)" },
		{ "", NULL, "--hop-suite", "chacha",
		  "--hop-suite 'chacha': expected \"chachapoly\" or \"aesgcm\" (did you mean "
		  "\"chachapoly\"?)" },
		{ "", "POSTERN_HOPSUITE=aesgcm", NULL, NULL,
		  "environment variable POSTERN_HOPSUITE: unknown (did you mean "
		  "POSTERN_HOP_SUITE?)" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[5] = { NULL };
		char *env[2] = { (char *)cases[i].env, NULL };
		char err[CONN_CONFIG_ERR_MAX] = "", want[1024];
		struct conn_config c;
		size_t n = 0;
		int k = 0;

		if (cases[i].file) {
			write_base("bad.conf", cases[i].file);
			argv[k++] = "-c";
			argv[k++] = cfx_path("bad.conf");
		}
		if (cases[i].flag) {
			argv[k++] = cases[i].flag;
			argv[k++] = cases[i].value;
		}
		for (const char *p = cases[i].msg; *p && n < sizeof(want) - 200; p++) {
			if (p[0] == '%' && p[1] == 'F') {
				n += (size_t)snprintf(want + n, sizeof(want) - n, "%s",
						      cfx_path("bad.conf"));
				p++;
			} else {
				want[n++] = *p;
			}
		}
		want[n] = '\0';
		cr_expect_eq(load(&c, argv, env, err, sizeof(err)), -EINVAL, "case %u", i);
		cr_expect(!strncmp(err, want, strlen(want)), "case %u:\n got: %s\nwant: %s...", i,
			  err, want);
		conn_config_free(&c);
	}
}

/* hop_suite: file, then environment, then flag, like every setting; printed. */
Test(conn_config, hop_suite_from_file_environment_and_flag_is_printed)
{
	static const struct {
		const char *file;	/* the base file's extra line */
		char *env;		/* NULL: none */
		const char *flag;	/* --hop-suite's value; NULL: none */
		enum suite_id suite;
		const char *printed;
	} cases[] = {
		{ "", NULL, NULL, SUITE_CHACHAPOLY_BLAKE2S, "hop_suite = \"chachapoly\";\n" },
		{ "hop_suite = \"aesgcm\";\n", NULL, NULL, SUITE_AESGCM_SHA256,
		  "hop_suite = \"aesgcm\";\n" },
		{ "hop_suite = \"aesgcm\";\n", "POSTERN_HOP_SUITE=chachapoly", NULL,
		  SUITE_CHACHAPOLY_BLAKE2S, "hop_suite = \"chachapoly\";\n" },
		{ "hop_suite = \"chachapoly\";\n", "POSTERN_HOP_SUITE=chachapoly", "aesgcm",
		  SUITE_AESGCM_SHA256, "hop_suite = \"aesgcm\";\n" },
		{ "hop_suite = \"aesgcm\";\n", NULL, "chachapoly", SUITE_CHACHAPOLY_BLAKE2S,
		  "hop_suite = \"chachapoly\";\n" },
	};

	/* Paths are taken per case: cfx_path() reuses its buffers. */
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { "-c", cfx_path("suite.conf"), "--hop-suite", cases[i].flag,
				       NULL };
		const char *again_argv[] = { "-c", cfx_path("suite-printed.conf"), NULL };
		char *env[] = { cases[i].env, NULL };
		char err[CONN_CONFIG_ERR_MAX] = "", extra[256];
		struct conn_config c, again;
		char *text;

		if (!cases[i].flag)
			argv[2] = NULL;
		snprintf(extra, sizeof(extra), "%slisten = ( { route = \"db\"; address = "
			 "\"127.0.0.1:15432\"; } );\n", cases[i].file);
		write_base("suite.conf", extra);
		cr_assert_eq(load(&c, argv, env, err, sizeof(err)), 0, "case %u: %s", i, err);
		cr_expect_eq(c.hop_suite, cases[i].suite, "case %u", i);
		text = printed(&c);
		cr_expect(strstr(text, cases[i].printed), "case %u:\n%s", i, text);
		cfx_write("suite-printed.conf", 0644, "%s", text);
		cr_assert_eq(load(&again, again_argv, NULL, err, sizeof(err)), 0, "case %u: %s", i,
			     err);
		cr_expect_eq(again.hop_suite, cases[i].suite, "case %u: printed, read back", i);
		conn_config_free(&again);
		conn_config_free(&c);
		free(text);
	}
	cr_expect(strstr(conn_config_usage(), "--hop-suite NAME"));
	cr_expect(strstr(conn_config_usage(), "($POSTERN_HOP_SUITE)"));
}

Test(conn_config, grant_and_identity_are_checked)
{
	static const struct {
		const char *grant, *tunnel;
		int ret;
		const char *msg;	/* substring */
	} cases[] = {
		{ "crm.grant", "crm", 0, "" },
		{ "any.grant", "billing", 0, "" },
		{ "crm.grant", "billing", -EINVAL,
		  "does not grant tunnel 'billing' (it grants crm)" },
		{ "gateway.token", "crm", -EINVAL,
		  "this is a gateway token; a connector needs an agent "
		  "token (posternctl token issue --role agent)" },
		{ "missing.grant", "crm", -ENOENT, "missing.grant: no such file" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { "-c",	   cfx_path("g.conf"),
				       "--grant",  cfx_path(cases[i].grant),
				       "--tunnel", cases[i].tunnel,
				       "--listen", "x=127.0.0.1:1",
				       NULL };
		char err[CONN_CONFIG_ERR_MAX] = "";
		struct conn_config c;

		write_base("g.conf", "");
		cr_assert_eq(load(&c, argv, NULL, err, sizeof(err)), 0, "case %u: %s", i, err);
		cr_expect_eq(conn_config_load_files(&c, (uint64_t)time(NULL), err, sizeof(err)),
			     cases[i].ret, "case %u: %s", i, err);
		if (cases[i].ret) {
			cr_expect(!strncmp(err, "--grant: grant: ", 16), "case %u: %s", i, err);
			cr_expect(strstr(err, cases[i].msg), "case %u: %s", i, err);
		}
		conn_config_free(&c);
	}
}

Test(conn_config, print_shows_the_agent_fingerprint_and_no_secret)
{
	const char *argv[] = { "-c", cfx_path("pr.conf"), NULL };
	char err[CONN_CONFIG_ERR_MAX] = "", fp[EP_CONFIG_FP_HEX_LEN + 1], key[KEYS_TEXT_LEN + 1];
	const char *again_argv[] = { "-c", cfx_path("printed.conf"), NULL };
	struct conn_config c, again;
	size_t len;
	char *text;
	FILE *out;

	write_base("pr.conf", "listen = ( { route = \"db\"; address = \"127.0.0.1:15432\"; } );\n");
	cr_assert_eq(load(&c, argv, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(conn_config_load_files(&c, (uint64_t)time(NULL), err, sizeof(err)), 0, "%s",
		     err);
	out = open_memstream(&text, &len);
	cr_assert_eq(conn_config_print(&c, out), 0);
	fclose(out);
	quic_fingerprint_format(fp, agent_fp);
	cr_expect(strstr(text, fp), "the fingerprint gateways list:\n%s", text);
	keys_to_text(priv, key);
	cr_expect_null(strstr(text, key), "never the private key");
	cfx_write("printed.conf", 0644, "%s", text);
	cr_assert_eq(load(&again, again_argv, NULL, err, sizeof(err)), 0, "%s\n%s", err, text);
	cr_expect_str_eq(again.listen[0].address, "127.0.0.1:15432");
	cr_expect_str_eq(again.tunnel, "crm");
	conn_config_free(&again);
	conn_config_free(&c);
	free(text);
}

Test(conn_config, command_line_errors)
{
	static const struct {
		const char *argv[4];
		const char *err;
	} cases[] = {
		{ { "--tunnel", NULL }, "option '--tunnel' needs a value" },
		{ { "--workers", "2", NULL }, "unknown option '--workers'" },
		{ { "stray", NULL }, "unexpected argument 'stray'" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[CONN_CONFIG_ERR_MAX] = "";
		struct conn_config c;

		cr_expect_eq(load(&c, cases[i].argv, NULL, err, sizeof(err)), -EINVAL, "case %u",
			     i);
		cr_expect(!strncmp(err, cases[i].err, strlen(cases[i].err)), "case %u: %s", i, err);
		conn_config_free(&c);
	}
	cr_expect(strstr(conn_config_usage(), "--gateway-fingerprint HEX"));
	cr_expect(strstr(conn_config_usage(), "($POSTERN_GATEWAY_FINGERPRINT)"));
}
