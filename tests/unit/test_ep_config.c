/*
 * test_ep_config.c — what postern-gateway's and postern-connect's
 * configurations read alike: relay addresses and the hop suite as an
 * operator writes them, the token and certificate files they load (each
 * refusal naming the file), and the lines --check-config prints. Fingerprint
 * text is quic_tls.h's (test_quic.c, fingerprint_text).
 */
#define _GNU_SOURCE	/* open_memstream */

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/keys.h"
#include "crypto/suite.h"
#include "crypto/token.h"
#include "endpoint/ep_config.h"

#include "cfg_fixture.h"

static uint8_t priv[KEYS_LEN], pub[KEYS_LEN], signer[KEYS_LEN];

static void setup(void)
{
	cfx_setup("epconf");
	cr_assert_eq(keys_generate(priv), 0);
	cr_assert_eq(keys_public_x25519(priv, pub), 0);
	cr_assert_eq(keys_generate(signer), 0);
}

static void teardown(void)
{
	cfx_teardown();
}

TestSuite(ep_config, .init = setup, .fini = teardown);

Test(ep_config, hostport_parser)
{
	static const struct {
		const char *text;
		int ret;
		const char *host, *port;
		bool literal;
	} hp[] = {
		{ "192.0.2.1:51820", 0, "192.0.2.1", "51820", true },
		{ "[2001:db8::1]:443", 0, "2001:db8::1", "443", true },
		{ "relay-1.example.net:1", 0, "relay-1.example.net", "1", false },
		{ "my_host:65535", 0, "my_host", "65535", false },
		{ "host:65536", -EINVAL, NULL, NULL, false },
		{ "host:0", -EINVAL, NULL, NULL, false },
		{ "host:080", -EINVAL, NULL, NULL, false },
		{ "host:", -EINVAL, NULL, NULL, false },
		{ ":80", -EINVAL, NULL, NULL, false },
		{ "host", -EINVAL, NULL, NULL, false },
		{ "[2001:db8::1]", -EINVAL, NULL, NULL, false },
		{ "[relay.example]:80", -EINVAL, NULL, NULL, false },
		{ "2001:db8::1:80", -EINVAL, NULL, NULL, false },
		{ "1.2.3.4.5:80", -EINVAL, NULL, NULL, false },
		{ "999.1.1.1:80", -EINVAL, NULL, NULL, false },
		{ "-bad host:80", -EINVAL, NULL, NULL, false },
		{ ".example:80", -EINVAL, NULL, NULL, false },
	};
	char host[EP_CONFIG_HOST_MAX + 1], port[EP_CONFIG_PORT_MAX + 1];
	const char *why;
	bool literal;

	for (unsigned i = 0; i < sizeof(hp) / sizeof(hp[0]); i++) {
		cr_expect_eq(ep_config_parse_hostport(hp[i].text, host, port, &literal, &why),
			     hp[i].ret, "'%s'", hp[i].text);
		if (hp[i].ret)
			continue;
		cr_expect_str_eq(host, hp[i].host);
		cr_expect_str_eq(port, hp[i].port);
		cr_expect_eq(literal, hp[i].literal, "'%s'", hp[i].text);
	}
}

/* The names are postern-relay's `suites` names, and nothing else is taken. */
Test(ep_config, hop_suite_names_are_the_relays_and_typos_get_a_suggestion)
{
	static const struct {
		const char *text;
		int ret;
		enum suite_id suite;
		const char *near;	/* the suggestion on a refusal; NULL: none */
	} cases[] = {
		{ "chachapoly", 0, SUITE_CHACHAPOLY_BLAKE2S, NULL },
		{ "aesgcm", 0, SUITE_AESGCM_SHA256, NULL },
		{ "aesgmc", -EINVAL, 0, "aesgcm" },
		{ "chachpoly", -EINVAL, 0, "chachapoly" },
		{ "chachapoly ", -EINVAL, 0, "chachapoly" },
		{ "aes-256-gcm", -EINVAL, 0, "aesgcm" },
		{ "AESGCM", -EINVAL, 0, "aesgcm" },
		{ "ChaCha20-Poly1305", -EINVAL, 0, "chachapoly" },
		{ "ChaChaPoly_BLAKE2s", -EINVAL, 0, "chachapoly" },
		{ "25519_ChaChaPoly_BLAKE2s", -EINVAL, 0, NULL },
		{ "rot13", -EINVAL, 0, NULL },
		{ "", -EINVAL, 0, NULL },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum suite_id suite = SUITE_CHACHAPOLY_BLAKE2S + 100;
		char msg[256] = "", want[256];

		cr_expect_eq(ep_config_parse_hop_suite(cases[i].text, &suite, msg, sizeof(msg)),
			     cases[i].ret, "'%s': %s", cases[i].text, msg);
		if (cases[i].ret) {
			snprintf(want, sizeof(want), "expected \"chachapoly\" or \"aesgcm\"%s%s%s",
				 cases[i].near ? " (did you mean \"" : "",
				 cases[i].near ? cases[i].near : "", cases[i].near ? "\"?)" : "");
			cr_expect_str_eq(msg, want, "'%s'", cases[i].text);
			cr_expect_eq(suite, SUITE_CHACHAPOLY_BLAKE2S + 100, "'%s': left alone",
				     cases[i].text);
			continue;
		}
		cr_expect_eq(suite, cases[i].suite, "'%s'", cases[i].text);
		cr_expect_str_eq(ep_config_hop_suite_name(suite), cases[i].text,
				 "what --check-config prints reads back");
	}
	cr_expect_str_eq(ep_config_hop_suite_name(0), "?");
	cr_expect_str_eq(ep_config_hop_suite_name(SUITE_AESGCM_SHA256 + 1), "?");
	cr_expect_str_eq(ep_config_hop_suite_name(EP_CONFIG_DEFAULT_HOP_SUITE), "chachapoly",
			 "today's suite is the default");
}

Test(ep_config, times_print_as_rfc3339_utc)
{
	static const struct {
		uint64_t t;
		const char *text;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1767225599, "2025-12-31T23:59:59Z" },
		{ 1767225600, "2026-01-01T00:00:00Z" },
		{ UINT64_MAX, "18446744073709551615 (Unix time)" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[EP_CONFIG_TIME_MAX];

		ep_config_format_time(cases[i].t, text);
		cr_expect_str_eq(text, cases[i].text);
	}
}

Test(ep_config, relay_entries_and_token_comments_print_in_the_files_syntax)
{
	char key_text[KEYS_TEXT_LEN + 1], want[512];
	struct token tok = { .expiry = 1767225600, .n_tunnels = 2 };
	size_t len;
	char *text;
	FILE *out;

	snprintf(tok.tenant, sizeof(tok.tenant), "acme");
	snprintf(tok.tunnels[0], sizeof(tok.tunnels[0]), "crm");
	snprintf(tok.tunnels[1], sizeof(tok.tunnels[1]), "wiki");
	keys_to_text(pub, key_text);
	out = open_memstream(&text, &len);
	cr_assert_not_null(out);
	ep_config_print_relay(out, "192.0.2.1:51820", pub, false);
	ep_config_print_relay(out, "[2001:db8::1]:443", pub, true);
	ep_config_print_token(out, "grant", &tok);
	fclose(out);
	snprintf(want, sizeof(want),
		 "  { address = \"192.0.2.1:51820\"; public_key = \"%s\"; },\n"
		 "  { address = \"[2001:db8::1]:443\"; public_key = \"%s\"; }\n"
		 "# grant: tenant acme, tunnels crm, wiki; expires 2026-01-01T00:00:00Z\n",
		 key_text, key_text);
	cr_expect_str_eq(text, want);
	free(text);
}

/* @name's content, which must be a token file cfx_save_token() wrote. */
static void read_text(const char *name, char *buf, size_t cap)
{
	FILE *f = fopen(cfx_path(name), "r");
	size_t n;

	cr_assert_not_null(f, "%s", name);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

Test(ep_config, token_files_are_checked_for_role_key_expiry_and_mode)
{
	static const struct {
		const char *file;
		enum token_role role;
		int ret;
		const char *msg;	/* after "DIR/FILE" */
	} cases[] = {
		{ "agent.grant", TOKEN_ROLE_AGENT, 0, NULL },
		{ "padded.grant", TOKEN_ROLE_AGENT, 0, NULL },
		{ "gateway.token", TOKEN_ROLE_GATEWAY, 0, NULL },
		{ "gateway.token", TOKEN_ROLE_AGENT, -EINVAL,
		  ": this is a gateway token; a connector needs an agent token (posternctl "
		  "token issue --role agent)" },
		{ "agent.grant", TOKEN_ROLE_GATEWAY, -EINVAL,
		  ": this is an agent token; a gateway needs a gateway token (posternctl "
		  "token issue --role gateway)" },
		{ "other.grant", TOKEN_ROLE_AGENT, -EINVAL,
		  ": the grant was issued for another key; issue one with --endpoint-key " },
		{ "expired.grant", TOKEN_ROLE_AGENT, -EINVAL, ": the grant expired at 20" },
		{ "garbage.grant", TOKEN_ROLE_AGENT, -EINVAL, ": not a token (one line" },
		{ "open.grant", TOKEN_ROLE_AGENT, -EPERM,
		  " has mode 0644: a token must not be accessible to group or others" },
		{ "missing.grant", TOKEN_ROLE_AGENT, -ENOENT, ": no such file" },
	};
	uint8_t other_priv[KEYS_LEN], other_pub[KEYS_LEN];
	char text[TOKEN_TEXT_MAX + 16];

	cr_assert_eq(keys_generate(other_priv), 0);
	cr_assert_eq(keys_public_x25519(other_priv, other_pub), 0);
	cfx_save_token("agent.grant", signer, TOKEN_ROLE_AGENT, "crm", pub, 3600, 0600);
	cfx_save_token("gateway.token", signer, TOKEN_ROLE_GATEWAY, "crm", pub, 3600, 0600);
	cfx_save_token("other.grant", signer, TOKEN_ROLE_AGENT, "crm", other_pub, 3600, 0600);
	cfx_save_token("expired.grant", signer, TOKEN_ROLE_AGENT, "crm", pub, -3600, 0600);
	cfx_save_token("open.grant", signer, TOKEN_ROLE_AGENT, "crm", pub, 3600, 0644);
	cfx_write("garbage.grant", 0600, "not a token\n");
	read_text("agent.grant", text, sizeof(text));
	cfx_write("padded.grant", 0600, "%.*s \t\r\n\n", (int)strcspn(text, "\n"), text);

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *what = cases[i].role == TOKEN_ROLE_AGENT ? "grant" : "token";
		char err[EP_CONFIG_ERR_MAX] = "", want[EP_CONFIG_ERR_MAX];
		uint8_t buf[TOKEN_MAX_LEN];
		struct token tok;
		size_t len = 99;
		int ret;

		memset(buf, 0xa5, sizeof(buf));
		ret = ep_config_load_token(cfx_path(cases[i].file), what, cases[i].role, pub,
					   (uint64_t)time(NULL), buf, &len, &tok, err, sizeof(err));
		cr_expect_eq(ret, cases[i].ret, "case %u: %s", i, err);
		if (!cases[i].ret) {
			cr_expect_gt(len, 0u, "case %u", i);
			cr_expect_str_eq(tok.tenant, "acme", "case %u", i);
			cr_expect_str_eq(tok.tunnels[0], "crm", "case %u", i);
			cr_expect_eq(tok.role, cases[i].role, "case %u", i);
			continue;
		}
		snprintf(want, sizeof(want), "%s%s", cfx_path(cases[i].file), cases[i].msg);
		cr_expect(!strncmp(err, want, strlen(want)), "case %u:\n got: %s\nwant: %s...", i,
			  err, want);
		cr_expect_eq(len, 0u, "case %u: no length after a refusal", i);
		for (unsigned k = 0; k < sizeof(buf); k++)
			cr_assert_eq(buf[k], 0, "case %u: the buffer is wiped after a refusal", i);
	}
}

Test(ep_config, a_certificate_and_its_key_give_the_pinned_fingerprint)
{
	static const struct {
		const char *cert, *key;
		int ret;
		const char *msg;	/* %C: the certificate's path, %K: the key's */
	} cases[] = {
		{ "ed.crt", "ed.pem", 0, NULL },
		{ "p256.crt", "p256.pem", 0, NULL },
		{ "ed.crt", "p256.pem", -EINVAL,
		  "%K: this key does not belong to the certificate in %C" },
		{ "ed.crt", "open.pem", -EPERM,
		  "%K has mode 0644: a private key must not be accessible to group or others" },
		{ "junk.crt", "ed.pem", -EINVAL, "%C: no PEM certificate in it" },
		{ "ed.crt", "junk.pem", -EINVAL,
		  "%K: no PEM private key in it (encrypted keys are not supported)" },
		{ "none.crt", "ed.pem", -ENOENT, "%C: no such file" },
	};
	uint8_t ed_fp[EP_CONFIG_FP_LEN], p256_fp[EP_CONFIG_FP_LEN], fp[EP_CONFIG_FP_LEN];

	cfx_save_identity("ed.crt", "ed.pem", 0600, CFX_ED25519, ed_fp);
	cfx_save_identity("p256.crt", "p256.pem", 0600, CFX_P256, p256_fp);
	cfx_save_identity("open.crt", "open.pem", 0644, CFX_ED25519, fp);
	cfx_write("junk.crt", 0644, "hello\n");
	cfx_write("junk.pem", 0600, "hello\n");

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[EP_CONFIG_ERR_MAX] = "", want[EP_CONFIG_ERR_MAX];
		size_t n = 0;

		memset(fp, 0, sizeof(fp));
		cr_expect_eq(ep_config_load_identity(cfx_path(cases[i].cert),
						     cfx_path(cases[i].key), fp, err, sizeof(err)),
			     cases[i].ret, "case %u: %s", i, err);
		if (!cases[i].ret) {
			cr_expect_eq(memcmp(fp, strcmp(cases[i].cert, "ed.crt") ? p256_fp : ed_fp,
					    sizeof(fp)), 0,
				     "case %u: SHA-256 of the SubjectPublicKeyInfo", i);
			continue;
		}
		for (const char *p = cases[i].msg; *p && n < sizeof(want) - 200; p++) {
			if (p[0] == '%' && (p[1] == 'C' || p[1] == 'K')) {
				n += (size_t)snprintf(want + n, sizeof(want) - n, "%s",
						      cfx_path(p[1] == 'C' ? cases[i].cert :
									     cases[i].key));
				p++;
			} else {
				want[n++] = *p;
			}
		}
		want[n] = '\0';
		cr_expect(!strncmp(err, want, strlen(want)), "case %u:\n got: %s\nwant: %s...", i,
			  err, want);
	}
}
