/*
 * test_gw_config.c — postern-gateway's configuration as an operator meets
 * it: a good file fills every setting, its files load and give the
 * fingerprint connectors pin, and every bad value or file is refused with
 * one line naming the file, the line and the setting.
 */
#define _GNU_SOURCE	/* open_memstream */

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "endpoint/gw_config.h"
#include "endpoint/quic_tls.h"

#include "cfg_fixture.h"

static uint8_t gw_priv[KEYS_LEN], gw_pub[KEYS_LEN], signer[KEYS_LEN];
static char relay_pub_text[KEYS_TEXT_LEN + 1];
static uint8_t gw_fp[GW_CONFIG_FP_LEN];
static char agent_hex[GW_CONFIG_FP_HEX_LEN + 1];

static void setup(void)
{
	uint8_t relay_priv[KEYS_LEN], relay_pub[KEYS_LEN], other[KEYS_LEN], other_pub[KEYS_LEN];
	uint8_t fp[GW_CONFIG_FP_LEN];

	cfx_setup("gwconf");
	cr_assert_eq(keys_generate(gw_priv), 0);
	cr_assert_eq(keys_public_x25519(gw_priv, gw_pub), 0);
	cr_assert_eq(keys_generate(signer), 0);
	cr_assert_eq(keys_generate(relay_priv), 0);
	cr_assert_eq(keys_public_x25519(relay_priv, relay_pub), 0);
	cr_assert_eq(keys_generate(other), 0);
	cr_assert_eq(keys_public_x25519(other, other_pub), 0);
	keys_to_text(relay_pub, relay_pub_text);
	cfx_save_key("relay2.pub", relay_pub, 0644);
	cfx_save_key("gateway.key", gw_priv, 0600);
	cfx_save_key("open.key", gw_priv, 0644);
	cfx_save_token("gateway.token", signer, TOKEN_ROLE_GATEWAY, "crm", gw_pub, 86400, 0600);
	cfx_save_token("open.token", signer, TOKEN_ROLE_GATEWAY, "crm", gw_pub, 86400, 0640);
	cfx_save_token("agent.token", signer, TOKEN_ROLE_AGENT, "crm", gw_pub, 86400, 0600);
	cfx_save_token("other.token", signer, TOKEN_ROLE_GATEWAY, "crm", other_pub, 86400, 0600);
	cfx_save_token("expired.token", signer, TOKEN_ROLE_GATEWAY, "crm", gw_pub, -3600, 0600);
	cfx_write("garbage.token", 0600, "not a token\n");
	cfx_save_identity("gateway.crt", "gateway.pem", 0600, CFX_ED25519, gw_fp);
	cfx_save_identity("other.crt", "other.pem", 0600, CFX_ED25519, fp);
	cfx_save_identity("open.crt", "open.pem", 0644, CFX_ED25519, fp);
	cfx_save_identity("agent.crt", "agent.pem", 0600, CFX_ED25519, fp);
	quic_fingerprint_format(agent_hex, fp);
	cfx_write("not-pem.crt", 0644, "hello\n");
	cfx_write("not-pem.pem", 0600, "hello\n");
}

static void teardown(void)
{
	cfx_teardown();
}

TestSuite(gw_config, .init = setup, .fini = teardown);

/*
 * The settings every gateway needs (lines 1..7), then the default routes
 * (lines 8..10) unless @extra starts with its own routes, then @extra.
 */
static void write_minimal(const char *name, const char *extra)
{
	bool own_routes = !strncmp(extra, "routes", 6);

	cfx_write(name, 0644,
		  "relays = ( { address = \"relay.example.net:51820\";\n"		/* 1 */
		  "             public_key = \"%s\"; } );\n"				/* 2 */
		  "private_key = \"%s\";\n"						/* 3 */
		  "token = \"%s\";\n"							/* 4 */
		  "certificate = \"%s\";\n"						/* 5 */
		  "certificate_key = \"%s\";\n"					/* 6 */
		  "agents = [ \"%s\" ];\n"						/* 7 */
		  "%s%s",
		  relay_pub_text, cfx_path("gateway.key"), cfx_path("gateway.token"),
		  cfx_path("gateway.crt"), cfx_path("gateway.pem"), agent_hex,
		  own_routes ? "" : "routes = (\n"					/* 8 */
		  "  { name = \"db\"; upstream = \"tcp://10.1.2.3:5432\"; }\n"		/* 9 */
		  ");\n",								/* 10 */
		  extra);
}

static int load(struct gw_config *c, const char *name, char *err, size_t errlen)
{
	cr_assert_eq(gw_config_init(c), 0);
	return gw_config_load(c, cfx_path(name), err, errlen);
}

/* What --check-config prints for @c; the caller frees it. */
static char *printed(const struct gw_config *c)
{
	size_t len;
	char *text;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(out);
	cr_assert_eq(gw_config_print(c, out), 0);
	fclose(out);
	return text;
}

Test(gw_config, a_full_configuration_fills_every_setting)
{
	char err[GW_CONFIG_ERR_MAX] = "", colon[3 * GW_CONFIG_FP_LEN];
	const struct gw_route *r;
	struct gw_config c;
	uint8_t fp[GW_CONFIG_FP_LEN];

	/* The agent fingerprint again, in the colon form with capitals. */
	for (unsigned i = 0; i < GW_CONFIG_FP_LEN; i++)
		snprintf(colon + 3 * i, 4, "%c%c%s",
			 agent_hex[2 * i] == 'a' ? 'A' : agent_hex[2 * i], agent_hex[2 * i + 1],
			 i + 1 < GW_CONFIG_FP_LEN ? ":" : "");
	cfx_write(
		"full.conf", 0644,
		"# a gateway\n"
		"relays = (\n"
		"  { address = \"192.0.2.1:51820\"; public_key = \"%s\"; },\n"
		"  { address = \"[2001:db8::1]:51820\"; public_key = \"@%s\"; },\n"
		"  { address = \"relay.example.net:443\"; public_key = \"%s\"; }\n"
		");\n"
		"private_key = \"%s\";\n"
		"token = \"%s\";\n"
		"certificate = \"%s\";\n"
		"certificate_key = \"%s\";\n"
		"agents = [ \"%s\", \"%s\" ];\n"
		"routes = (\n"
		"  { name = \"db\"; upstream = \"tcp://10.1.2.3:5432\"; },\n"
		"  { name = \"wiki.v2\"; upstream = \"tcp://wiki.corp.internal:8080\"; },\n"
		"  { name = \"v6\"; upstream = \"tcp://[fd00::5]:443\"; },\n"
		"  { name = \"fs\"; command = [ \"/usr/bin/node\", \"server.js\", \"stdio\" ];\n"
		"    env = [ \"NODE_ENV=production\", \"MCP_TOKEN=s3cret\" ]; cwd = \"/srv\"; }\n"
		");\n"
		"allowed_ips = [ \"10.0.0.0/8\", \"fd00::/8\" ];\n"
		"shutdown_timeout = 12;\n"
		"audit_log = \"/var/log/postern/audit.log\";\n"
		"log_level = \"debug\";\n",
		relay_pub_text, cfx_path("relay2.pub"), relay_pub_text, cfx_path("gateway.key"),
		cfx_path("gateway.token"), cfx_path("gateway.crt"), cfx_path("gateway.pem"),
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", colon);
	cr_assert_eq(load(&c, "full.conf", err, sizeof(err)), 0, "%s", err);

	cr_expect_eq(c.n_relays, 3u);
	cr_expect_str_eq(c.relays[0].host, "192.0.2.1");
	cr_expect_str_eq(c.relays[0].port, "51820");
	cr_expect_str_eq(c.relays[1].host, "2001:db8::1");
	cr_expect_str_eq(c.relays[1].address, "[2001:db8::1]:51820");
	cr_expect_str_eq(c.relays[2].host, "relay.example.net");
	cr_expect_eq(memcmp(c.relays[0].public_key, c.relays[1].public_key, KEYS_LEN), 0,
		     "@FILE gives the same key");
	cr_expect_eq(c.n_agents, 2u);
	cr_assert_eq(quic_fingerprint_parse(fp, agent_hex), 0);
	cr_expect(gw_config_agent_allowed(&c, fp));
	fp[0] ^= 1;
	cr_expect_not(gw_config_agent_allowed(&c, fp));

	cr_assert_eq(c.n_routes, 4u);
	r = gw_config_find_route(&c, "db");
	cr_assert_not_null(r);
	cr_expect_eq(r->target.kind, UPSTREAM_TCP);
	cr_expect_str_eq(r->target.host, "10.1.2.3");
	cr_expect_str_eq(r->target.port, "5432");
	cr_expect(r->host_is_literal);
	r = gw_config_find_route(&c, "wiki.v2");
	cr_assert_not_null(r);
	cr_expect_str_eq(r->target.host, "wiki.corp.internal");
	cr_expect_not(r->host_is_literal, "a name, resolved at connect time");
	r = gw_config_find_route(&c, "v6");
	cr_assert_not_null(r);
	cr_expect_str_eq(r->target.host, "fd00::5");
	r = gw_config_find_route(&c, "fs");
	cr_assert_not_null(r);
	cr_expect_eq(r->target.kind, UPSTREAM_STDIO);
	cr_expect_str_eq(r->target.argv[0], "/usr/bin/node");
	cr_expect_str_eq(r->target.argv[2], "stdio");
	cr_expect_null(r->target.argv[3]);
	cr_expect_str_eq(r->target.envp[1], "MCP_TOKEN=s3cret");
	cr_expect_null(r->target.envp[2]);
	cr_expect_str_eq(r->target.cwd, "/srv");
	cr_expect_null(r->target.stderr_prefix, "stderr inherited unless the loop asks");
	cr_expect_null(gw_config_find_route(&c, "nope"));

	cr_expect_not(allowlist_is_default(c.allowed_ips));
	cr_expect_eq(allowlist_count(c.allowed_ips), 2u);
	cr_expect_eq(c.shutdown_timeout, 12u);
	cr_expect_str_eq(c.audit_log, "/var/log/postern/audit.log");
	cr_expect_eq(c.log_level, LOG_LEVEL_DEBUG);

	cr_assert_eq(gw_config_load_files(&c, (uint64_t)time(NULL), err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(memcmp(c.static_priv, gw_priv, KEYS_LEN), 0);
	cr_expect_eq(memcmp(c.static_pub, gw_pub, KEYS_LEN), 0);
	cr_expect_eq(memcmp(c.fingerprint, gw_fp, GW_CONFIG_FP_LEN), 0,
		     "the fingerprint is SHA-256 of the certificate's SubjectPublicKeyInfo");
	cr_expect_str_eq(c.token_info.tenant, "acme");
	cr_expect_str_eq(c.token_info.tunnels[0], "crm");
	gw_config_free(&c);
	for (unsigned i = 0; i < sizeof(c); i++)
		cr_assert_eq(((uint8_t *)&c)[i], 0, "free wipes everything");
}

Test(gw_config, defaults)
{
	char err[GW_CONFIG_ERR_MAX] = "";
	struct gw_config c;

	write_minimal("min.conf", "");
	cr_assert_eq(load(&c, "min.conf", err, sizeof(err)), 0, "%s", err);
	cr_expect(allowlist_is_default(c.allowed_ips));
	cr_expect_eq(c.shutdown_timeout, 30u);
	cr_expect_str_eq(c.audit_log, "stderr");
	cr_expect_eq(c.log_level, LOG_LEVEL_INFO);
	cr_expect_eq(c.n_relays, 1u);
	gw_config_free(&c);
}

/*
 * Each bad file: the message is "FILE:LINE: " + @msg (LINE 0: "FILE: " + @msg).
 * A case with @minimal = true is appended to the minimal file (lines 1..10).
 */
Test(gw_config, bad_values_name_file_line_and_setting)
{
	static const struct {
		bool minimal;
		const char *text;
		unsigned line;
		const char *msg;	/* a prefix of what follows "FILE:LINE: " */
	} cases[] = {
		{ false, "rootes = ();\n", 1, "unknown setting 'rootes' (did you mean 'routes'?)" },
		{ false, "\nalowed_ips = [];\n", 2,
		  "unknown setting 'alowed_ips' (did you mean "
		  "'allowed_ips'?)" },
		{ false, "frobnicate = 1;\n", 1, "unknown setting 'frobnicate'" },
		{ false, "shutdown_timeout = 5000;\n", 1,
		  "shutdown_timeout: must be an integer from "
		  "0 to 3600" },
		{ false, "shutdown_timeout = \"30\";\n", 1,
		  "shutdown_timeout: must be an integer "
		  "(seconds), not a string" },
		{ false, "log_level = \"loud\";\n", 1,
		  "log_level: 'loud': expected one of error, "
		  "warn, info, debug" },
		{ false, "audit_log = \"audit.log\";\n", 1,
		  "audit_log: 'audit.log': expected "
		  "\"stderr\" or an absolute path" },
		{ false, "private_key = \"\";\n", 1, "private_key: must not be empty" },
		{ false, "token = 5;\n", 1,
		  "token: must be a string in double quotes, not an integer" },
		{ false, "agents = [ \"any\" ];\n", 1, "agents[0]: 'any': there is no wildcard" },
		{ false, "agents = \"*\";\n", 1, "agents: '*': there is no wildcard" },
		{ false, "agents = [ \"abcd\" ];\n", 1,
		  "agents[0]: 'abcd': a fingerprint is 64 hex "
		  "digits" },
		{ false,
		  "agents = [ "
		  "\"00:112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\" ];\n",
		  1,
		  "agents[0]: '00:112233445566778899aabbccddeeff00112233445566778899aabbccddeeff': "
		  "a fingerprint is 64 hex digits" },
		{ false,
		  "agents = "
		  "[\n\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
		  "\n\"00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\" ];\n",
		  3,
		  "agents[1]: '00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF' "
		  "is "
		  "listed twice" },
		{ false, "allowed_ips = [ \"10.0.0.0/8\",\n \"10.0.0.1/8\" ];\n", 2,
		  "allowed_ips[1]: '10.0.0.1/8' has host bits set past the prefix (the network is "
		  "10.0.0.0/8)" },
		{ false, "allowed_ips = { a = 1; };\n", 1,
		  "allowed_ips: must be a list of strings" },
		{ false, "relays = \"192.0.2.1:51820\";\n", 1, "relays: must be a list of groups" },
		{ false, "relays = ( { address = \"relay:0\"; public_key = \"x\"; } );\n", 1,
		  "relays[0].address: 'relay:0': the port must be a number from 1 to 65535" },
		{ false, "relays = ( { address = \"fd00::1:51820\"; } );\n", 1,
		  "relays[0].address: "
		  "'fd00::1:51820': an IPv6 address goes in brackets" },
		{ false,
		  "relays = ( {\n  address = \"r.example:51820\";\n  public_key = \"nope\"; } );\n",
		  3, "relays[0].public_key: " },
		{ false, "relays = ( { adress = \"r:1\"; } );\n", 1,
		  "relays[0]: unknown setting "
		  "'adress' (did you mean 'address'?)" },
		{ false, "relays = (\n { address = \"r.example:1\"; }\n);\n", 2,
		  "relays[0]: needs "
		  "public_key" },
		{ false, "routes = ( { name = \"db\"; upstream = \"http://db:80\"; } );\n", 1,
		  "routes[0].upstream: 'http://db:80': expected tcp://HOST:PORT" },
		{ false, "routes = ( { name = \"db\"; upstream = \"tcp://db\"; } );\n", 1,
		  "routes[0].upstream: 'tcp://db': expected HOST:PORT" },
		{ false, "routes = ( { name = \"db\"; upstream = \"tcp://fd00::1:5432\"; } );\n", 1,
		  "routes[0].upstream: 'tcp://fd00::1:5432': an IPv6 address goes in brackets" },
		{ false, "routes = ( { name = \"db\"; upstream = \"tcp://db..x:5432\"; } );\n", 1,
		  "routes[0].upstream: 'tcp://db..x:5432': the host is neither" },
		{ false, "routes = ( { name = \"db main\"; } );\n", 1,
		  "routes[0].name: 'db main': a "
		  "route name is 1 to 63 characters of [A-Za-z0-9._-]" },
		{ false, "routes = ( { name = \"db\"; } );\n", 1,
		  "routes[0]: route 'db' needs "
		  "upstream" },
		{ false, "routes = ( { upstream = \"tcp://10.0.0.1:1\"; } );\n", 1,
		  "routes[0]: needs a name" },
		{ false,
		  "routes = ( { name = \"x\"; upstream = \"tcp://10.0.0.1:1\";\n"
		  "  command = [ \"/bin/cat\" ]; } );\n",
		  2,
		  "routes[0]: route 'x' has both upstream "
		  "and command" },
		{ false, "routes = ( { name = \"x\"; command = [ \"node\" ]; } );\n", 1,
		  "routes[0].command: 'node': the program must be an absolute path" },
		{ false, "routes = ( { name = \"x\"; command = [ ]; } );\n", 1,
		  "routes[0].command: must name a program" },
		{ false,
		  "routes = ( { name = \"x\"; command = [ \"/bin/cat\" ];\n"
		  "  env = [ \"A=1\",\n \"1B=2\" ]; } );\n",
		  3,
		  "routes[0].env[1]: '1B=2': expected "
		  "NAME=VALUE" },
		{ false,
		  "routes = ( { name = \"x\"; command = [ \"/bin/cat\" ];\n"
		  "  env = [ \"A=1\", \"A=2\" ]; } );\n",
		  2, "routes[0].env[1]: A is set twice" },
		{ false,
		  "routes = ( { name = \"x\"; upstream = \"tcp://10.0.0.1:1\";\n"
		  "  env = [ \"A=1\" ]; } );\n",
		  2, "routes[0]: route 'x': env applies to a command" },
		{ false,
		  "routes = ( { name = \"x\"; command = [ \"/bin/cat\" ];\n"
		  "  cwd = \"srv\"; } );\n",
		  2, "routes[0].cwd: 'srv': must be an absolute path" },
		{ false, "routes = ( { name = \"x\";\n comand = [ \"/bin/cat\" ]; } );\n", 2,
		  "routes[0]: unknown setting 'comand' (did you mean 'command'?)" },
		{ false, "routes = ( { name = \"x\"; command = \"/bin/cat\"; } );\n", 1,
		  "routes[0].command: must be a list of strings" },
		{ false, "routes = ( { name = \"db\"\n", 2, "syntax error" },
		{ true,
		  "routes = (\n  { name = \"a\"; upstream = \"tcp://10.0.0.1:1\"; },\n"
		  "  { name = \"a\"; upstream = \"tcp://10.0.0.2:1\"; } );\n",
		  10, "routes[1].name: 'a' is already the name of routes[0]" },
		{ true,
		  "routes = (\n  { name = \"md\"; upstream = \"tcp://169.254.169.254:80\"; } );\n",
		  9, "routes[0].upstream: 169.254.169.254 is not in allowed_ips (link-local" },
		{ true, "allowed_ips = [ \"192.168.0.0/16\" ];\n", 9,
		  "routes[0].upstream: 10.1.2.3 is "
		  "not in allowed_ips; add it to allowed_ips" },
		{ false, "relays = ( { address = \"192.0.2.1:1\"; public_key = \"%RELAY%\"; } );\n",
		  0, "private_key: not set (the gateway's X25519 key file" },
		{ false, "", 0, "relays: not set (relays = ( { address" },
		{ false, "hop_suite = \"aes-256-gcm\";\n", 1,
		  "hop_suite: 'aes-256-gcm': expected \"chachapoly\" or \"aesgcm\" (did you mean "
		  "\"aesgcm\"?)" },
		{ true, "hop_suite = \"aesgmc\";\n", 11,
		  "hop_suite: 'aesgmc': expected \"chachapoly\" or \"aesgcm\" (did you mean "
		  "\"aesgcm\"?)" },
		{ false, "hop_suite = \"rot13\";\n", 1,
		  "hop_suite: 'rot13': expected \"chachapoly\" or \"aesgcm\"" },
		{ false, "hop_suite = 2;\n", 1,
		  "hop_suite: must be a string in double quotes, not an integer" },
		{ false, "hop_suit = \"aesgcm\";\n", 1,
		  "unknown setting 'hop_suit' (did you mean 'hop_suite'?)" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[GW_CONFIG_ERR_MAX] = "", want[GW_CONFIG_ERR_MAX], text[1024];
		const char *rel = strstr(cases[i].text, "%RELAY%");
		struct gw_config c;

		if (rel)
			snprintf(text, sizeof(text), "%.*s%s%s", (int)(rel - cases[i].text),
				 cases[i].text, relay_pub_text, rel + 7);
		else
			snprintf(text, sizeof(text), "%s", cases[i].text);
		if (cases[i].minimal)
			write_minimal("bad.conf", text);
		else
			cfx_write("bad.conf", 0644, "%s", text);
		cr_expect_eq(load(&c, "bad.conf", err, sizeof(err)), -EINVAL, "case %u", i);
		if (cases[i].line)
			snprintf(want, sizeof(want), "%s:%u: %s", cfx_path("bad.conf"),
				 cases[i].line, cases[i].msg);
		else
			snprintf(want, sizeof(want), "%s: %s", cfx_path("bad.conf"), cases[i].msg);
		cr_expect(!strncmp(err, want, strlen(want)), "case %u:\n got: %s\nwant: %s...", i,
			  err, want);
		cr_expect_null(strchr(err, '\n'), "case %u: one line", i);
		gw_config_free(&c);
	}
}

/* hop_suite: what the gateway offers relays, in the relay's own names, and printed. */
Test(gw_config, hop_suite_is_chachapoly_unless_set_and_is_printed)
{
	static const struct {
		const char *extra;
		enum suite_id suite;
		const char *printed;
	} cases[] = {
		{ "", SUITE_CHACHAPOLY_BLAKE2S, "hop_suite = \"chachapoly\";\n" },
		{ "hop_suite = \"chachapoly\";\n", SUITE_CHACHAPOLY_BLAKE2S,
		  "hop_suite = \"chachapoly\";\n" },
		{ "hop_suite = \"aesgcm\";\n", SUITE_AESGCM_SHA256, "hop_suite = \"aesgcm\";\n" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[GW_CONFIG_ERR_MAX] = "";
		struct gw_config c, again;
		char *text;

		write_minimal("suite.conf", cases[i].extra);
		cr_assert_eq(load(&c, "suite.conf", err, sizeof(err)), 0, "case %u: %s", i, err);
		cr_expect_eq(c.hop_suite, cases[i].suite, "case %u", i);
		text = printed(&c);
		cr_expect(strstr(text, cases[i].printed), "case %u:\n%s", i, text);
		cfx_write("suite-printed.conf", 0644, "%s", text);
		cr_assert_eq(load(&again, "suite-printed.conf", err, sizeof(err)), 0, "case %u: %s",
			     i, err);
		cr_expect_eq(again.hop_suite, cases[i].suite, "case %u: printed, read back", i);
		gw_config_free(&again);
		gw_config_free(&c);
		free(text);
	}
}

Test(gw_config, unknown_setting_without_a_near_name_has_no_suggestion)
{
	char err[GW_CONFIG_ERR_MAX] = "";
	struct gw_config c;

	cfx_write("bad.conf", 0644, "frobnicate = 1;\n");
	cr_expect_eq(load(&c, "bad.conf", err, sizeof(err)), -EINVAL);
	cr_expect_null(strstr(err, "did you mean"), "%s", err);
	gw_config_free(&c);
}

Test(gw_config, missing_file)
{
	char err[GW_CONFIG_ERR_MAX] = "", want[256];
	struct gw_config c;

	cr_expect_eq(load(&c, "nope.conf", err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read the configuration: No such file or directory",
		 cfx_path("nope.conf"));
	cr_expect_str_eq(err, want);
	gw_config_free(&c);
}

/* Each case swaps one line of the minimal file; the message names that line's setting. */
Test(gw_config, bad_files_are_refused_by_setting_and_file)
{
	static const struct {
		const char *key, *cert, *certkey, *token;
		int ret;
		unsigned line;
		const char *msg;	/* substring after "FILE:LINE: " */
	} cases[] = {
		{ "open.key", NULL, NULL, NULL, -EPERM, 3,
		  "private_key: %D/open.key has mode 0644: "
		  "a private key must not be accessible to group or others; run: chmod 600" },
		{ "missing.key", NULL, NULL, NULL, -ENOENT, 3,
		  "private_key: %D/missing.key: no such "
		  "file" },
		{ NULL, NULL, NULL, "open.token", -EPERM, 4,
		  "token: %D/open.token has mode 0640: a "
		  "token must not be accessible to group or others; run: chmod 600" },
		{ NULL, NULL, NULL, "garbage.token", -EINVAL, 4,
		  "token: %D/garbage.token: not a token" },
		{ NULL, NULL, NULL, "agent.token", -EINVAL, 4,
		  "token: %D/agent.token: this is an agent "
		  "token; a gateway needs a gateway token (posternctl token issue --role "
		  "gateway)" },
		{ NULL, NULL, NULL, "other.token", -EINVAL, 4,
		  "token: %D/other.token: the token was "
		  "issued for another key; issue one with --endpoint-key %P" },
		{ NULL, NULL, NULL, "expired.token", -EINVAL, 4,
		  "token: %D/expired.token: the token "
		  "expired at" },
		{ NULL, "other.crt", NULL, NULL, -EINVAL, 5,
		  "certificate: %D/gateway.pem: this key "
		  "does not belong to the certificate in %D/other.crt" },
		{ NULL, "not-pem.crt", NULL, NULL, -EINVAL, 5,
		  "certificate: %D/not-pem.crt: no PEM "
		  "certificate in it" },
		{ NULL, "open.crt", "open.pem", NULL, -EPERM, 5,
		  "certificate: %D/open.pem has mode "
		  "0644: a private key must not be accessible" },
		{ NULL, NULL, "not-pem.pem", NULL, -EINVAL, 5,
		  "certificate: %D/not-pem.pem: "
		  "no PEM private key in it" },
	};
	char pub_text[KEYS_TEXT_LEN + 1];

	keys_to_text(gw_pub, pub_text);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[GW_CONFIG_ERR_MAX] = "", want[GW_CONFIG_ERR_MAX], msg[512];
		struct gw_config c;
		size_t n = 0;

		cfx_write("files.conf", 0644,
			  "relays = ( { address = \"relay.example.net:51820\";\n"
			  "             public_key = \"%s\"; } );\n"
			  "private_key = \"%s\";\n"
			  "token = \"%s\";\n"
			  "certificate = \"%s\";\n"
			  "certificate_key = \"%s\";\n"
			  "agents = [ \"%s\" ];\n"
			  "routes = ( { name = \"db\"; upstream = \"tcp://10.1.2.3:5432\"; } );\n",
			  relay_pub_text, cfx_path(cases[i].key ? cases[i].key : "gateway.key"),
			  cfx_path(cases[i].token ? cases[i].token : "gateway.token"),
			  cfx_path(cases[i].cert ? cases[i].cert : "gateway.crt"),
			  cfx_path(cases[i].certkey ? cases[i].certkey : "gateway.pem"),
			  agent_hex);
		cr_assert_eq(load(&c, "files.conf", err, sizeof(err)), 0, "case %u: %s", i, err);
		cr_expect_eq(gw_config_load_files(&c, (uint64_t)time(NULL), err, sizeof(err)),
			     cases[i].ret, "case %u: %s", i, err);
		/* Expand %D (the directory) and %P (the gateway's public key). */
		for (const char *p = cases[i].msg; *p && n < sizeof(msg) - 100; p++) {
			if (p[0] == '%' && p[1] == 'D') {
				n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s", cfx_dir);
				p++;
			} else if (p[0] == '%' && p[1] == 'P') {
				n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s", pub_text);
				p++;
			} else {
				msg[n++] = *p;
			}
		}
		msg[n] = '\0';
		snprintf(want, sizeof(want), "%s:%u: %s", cfx_path("files.conf"), cases[i].line,
			 msg);
		cr_expect(!strncmp(err, want, strlen(want)), "case %u:\n got: %s\nwant: %s...", i,
			  err, want);
		for (unsigned k = 0; k < KEYS_LEN; k++)
			cr_assert_eq(c.static_priv[k], 0, "case %u: no key left after a failure",
				     i);
		gw_config_free(&c);
	}
}

Test(gw_config, print_shows_what_others_pin_and_no_secret)
{
	char err[GW_CONFIG_ERR_MAX] = "", fp[GW_CONFIG_FP_HEX_LEN + 1], pub[KEYS_TEXT_LEN + 1];
	char priv[KEYS_TEXT_LEN + 1];
	struct gw_config c, again;
	size_t len;
	char *text;
	FILE *out;

	write_minimal("print.conf",
		      "routes = (\n  { name = \"db\"; upstream = \"tcp://10.1.2.3:5432\"; },\n"
		      "  { name = \"fs\"; command = [ \"/bin/cat\", \"a \\\"quoted\\\" arg\" ];\n"
		      "    env = [ \"MCP_TOKEN=s3cret\" ]; cwd = \"/srv\"; } );\n"
		      "shutdown_timeout = 5;\n");
	cr_assert_eq(load(&c, "print.conf", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(gw_config_load_files(&c, (uint64_t)time(NULL), err, sizeof(err)), 0, "%s",
		     err);
	out = open_memstream(&text, &len);
	cr_assert_eq(gw_config_print(&c, out), 0);
	fclose(out);
	quic_fingerprint_format(fp, gw_fp);
	keys_to_text(gw_pub, pub);
	keys_to_text(gw_priv, priv);
	cr_expect(strstr(text, fp), "the fingerprint connectors pin:\n%s", text);
	cr_expect(strstr(text, pub), "the public key tokens are issued for:\n%s", text);
	cr_expect_null(strstr(text, priv), "never the private key");
	cr_expect_null(strstr(text, "s3cret"), "never an env value:\n%s", text);
	cr_expect(strstr(text, "# env: MCP_TOKEN (values not shown)"), "%s", text);
	cr_expect(strstr(text, "# token: tenant acme, tunnels crm; expires 20"), "%s", text);

	/* What it prints is a configuration that loads to the same settings. */
	cfx_write("printed.conf", 0644, "%s", text);
	cr_assert_eq(load(&again, "printed.conf", err, sizeof(err)), 0, "%s\n%s", err, text);
	cr_expect_eq(again.n_routes, 2u);
	cr_expect_str_eq(again.routes[1].argv[1], "a \"quoted\" arg");
	cr_expect_eq(again.shutdown_timeout, 5u);
	cr_expect(allowlist_is_default(again.allowed_ips));
	cr_expect_eq(memcmp(again.relays[0].public_key, c.relays[0].public_key, KEYS_LEN), 0);
	gw_config_free(&again);
	gw_config_free(&c);
	free(text);
}

Test(gw_config, command_line)
{
	static const struct {
		const char *argv[5];
		int ret;
		enum gw_config_action action;
		const char *file;
		const char *err;
	} cases[] = {
		{ { "gw", NULL }, 0, GW_CONFIG_RUN, GW_CONFIG_DEFAULT_FILE, "" },
		{ { "gw", "-c", "/x.conf", "--check-config", NULL },
		  0,
		  GW_CONFIG_CHECK,
		  "/x.conf",
		  "" },
		{ { "gw", "--config", "/y.conf", NULL }, 0, GW_CONFIG_RUN, "/y.conf", "" },
		{ { "gw", "--help", NULL }, 0, GW_CONFIG_HELP, GW_CONFIG_DEFAULT_FILE, "" },
		{ { "gw", "--version", NULL }, 0, GW_CONFIG_VERSION, GW_CONFIG_DEFAULT_FILE, "" },
		{ { "gw", "-c", NULL }, -EINVAL, 0, NULL, "option '-c' needs a value" },
		{ { "gw", "--workers", "2", NULL },
		  -EINVAL,
		  0,
		  NULL,
		  "unknown option '--workers' "
		  "(settings go in the file given with -c)" },
		{ { "gw", "gateway.conf", NULL },
		  -EINVAL,
		  0,
		  NULL,
		  "unexpected argument "
		  "'gateway.conf'" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_config_args a;
		char err[256] = "";
		int argc = 0;

		while (cases[i].argv[argc])
			argc++;
		cr_expect_eq(
			gw_config_parse_args(&a, argc, (char **)cases[i].argv, err, sizeof(err)),
			cases[i].ret, "case %u: %s", i, err);
		if (cases[i].ret) {
			cr_expect(!strncmp(err, cases[i].err, strlen(cases[i].err)), "case %u: %s",
				  i, err);
			continue;
		}
		cr_expect_eq(a.action, cases[i].action, "case %u", i);
		cr_expect_str_eq(a.file, cases[i].file, "case %u", i);
	}
	cr_expect(strstr(gw_config_usage(), "--check-config"));
}
