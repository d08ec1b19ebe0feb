/*
 * ep_config.h — what the configurations of postern-gateway (gw_config.h) and
 * postern-connect (conn_config.h) share: the values both read by the same
 * rules (relay addresses, the hop suite; certificate fingerprints are read and
 * written by quic_tls.h, which computes and checks them), the files
 * both load (a token, a certificate and its key) and the lines both print for
 * --check-config (a relays entry, a token comment, a time).
 *
 * The parsers take text from any source (file, environment, flag) and say
 * what is wrong without saying where: the caller adds "FILE:LINE: LABEL: "
 * (relay/cfgfile.h) or the variable or flag. The file loaders name the file
 * in their messages; the caller adds the setting.
 *
 * Threads: no global state; any thread, one configuration per thread.
 */
#ifndef POSTERN_ENDPOINT_EP_CONFIG_H
#define POSTERN_ENDPOINT_EP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/keys.h"
#include "crypto/suite.h"
#include "crypto/token.h"
#include "endpoint/quic_tls.h"

enum {
	EP_CONFIG_MAX_RELAYS = 16,
	EP_CONFIG_NAME_MAX = TOKEN_NAME_MAX,	/* route, tunnel: 1..63 of [A-Za-z0-9._-] */
	EP_CONFIG_HOST_MAX = 253,		/* a DNS name, or an IPv6 literal */
	EP_CONFIG_PORT_MAX = 5,			/* "65535" */
	EP_CONFIG_ADDR_MAX = EP_CONFIG_HOST_MAX + EP_CONFIG_PORT_MAX + 3,	/* "[h]:p" */
	EP_CONFIG_FP_LEN = QUIC_FP_LEN,		/* SHA-256 (quic_tls.h) */
	EP_CONFIG_FP_HEX_LEN = QUIC_FP_HEX_LEN,
	EP_CONFIG_WHERE_MAX = 300,		/* "FILE:LINE", "POSTERN_X", "--x" (cfgfile.h) */
	EP_CONFIG_TIME_MAX = 40,		/* ep_config_format_time(), with NUL */
	EP_CONFIG_ERR_MAX = 1024,		/* a message buffer that always suffices */
};

/* A relay to dial, as configured: "host:port" and its pinned static key. */
struct ep_config_relay {
	char address[EP_CONFIG_ADDR_MAX + 1];	/* as written */
	char host[EP_CONFIG_HOST_MAX + 1];	/* a name or a literal, no brackets */
	char port[EP_CONFIG_PORT_MAX + 1];
	uint8_t public_key[KEYS_LEN];
	char where[EP_CONFIG_WHERE_MAX];	/* "FILE:LINE", "POSTERN_X" or "--x" */
};

/* What an endpoint offers relays unless hop_suite says otherwise (protocol.md §3.1). */
#define EP_CONFIG_DEFAULT_HOP_SUITE SUITE_CHACHAPOLY_BLAKE2S

/* ---- values --------------------------------------------------------------------- */

/*
 * Split "HOST:PORT" or "[IPV6]:PORT" into @host (no brackets) and @port.
 * HOST is an IPv4 or IPv6 literal (IPv6 only in brackets) or a DNS name
 * (labels of [A-Za-z0-9_-], 1..63 each, 253 at most); PORT is 1..65535 in
 * decimal without leading zeros. *@literal says whether HOST is an IP.
 * @return 0, or -EINVAL with *@why a static phrase.
 */
int ep_config_parse_hostport(const char *text, char host[EP_CONFIG_HOST_MAX + 1],
			     char port[EP_CONFIG_PORT_MAX + 1], bool *literal, const char **why);

/*
 * The hop suite an endpoint offers relays (docs/protocol.md §3.1), by the
 * names postern-relay's `suites` setting uses: "chachapoly"
 * (SUITE_CHACHAPOLY_BLAKE2S) or "aesgcm" (SUITE_AESGCM_SHA256). Nothing else
 * is accepted, so an operator writes one vocabulary for both ends. On a
 * refusal @msg gets
 *   expected "chachapoly" or "aesgcm"[ (did you mean "NAME"?)]
 * suggesting a name within two edits, or the suite another spelling of it
 * names ("aes-256-gcm", "ChaCha20-Poly1305").
 * @return 0 and *@suite, or -EINVAL with @msg set (@suite untouched).
 */
int ep_config_parse_hop_suite(const char *text, enum suite_id *suite, char *msg, size_t len);

/* @suite's name as ep_config_parse_hop_suite() takes it; "?" if it is no suite. */
const char *ep_config_hop_suite_name(enum suite_id suite);

/* Write Unix time @t as UTC "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339) and a NUL. */
void ep_config_format_time(uint64_t t, char text[EP_CONFIG_TIME_MAX]);

/* ---- files ---------------------------------------------------------------------- */

/*
 * Read the token file at @path (the text form, trailing whitespace allowed;
 * the file must not be readable by group or others), check its structure, its
 * @role, that it names @pub as its endpoint key and that it has not expired
 * at @now (with the relay's default skew, TOKEN_DEFAULT_SKEW). @what names
 * the setting in messages ("token", "grant").
 * @return 0 with @buf/@len/@tok filled, or -errno with @err set (naming
 * @path), @buf wiped and *@len 0.
 */
int ep_config_load_token(const char *path, const char *what, enum token_role role,
			 const uint8_t pub[KEYS_LEN], uint64_t now, uint8_t buf[TOKEN_MAX_LEN],
			 size_t *len, struct token *tok, char *err, size_t errlen);

/*
 * Read a PEM certificate (its first one) and the PEM private key for it (the
 * key file must not be readable by group or others; unencrypted PKCS#8 or
 * traditional form), check that they match and compute the fingerprint: the
 * SHA-256 of the certificate's DER SubjectPublicKeyInfo (docs/protocol.md §10).
 * The key's bytes are wiped before return.
 * @return 0 and @fp, or -errno with @err set (naming the file).
 */
int ep_config_load_identity(const char *cert_path, const char *key_path,
			    uint8_t fp[EP_CONFIG_FP_LEN], char *err, size_t errlen);

/* ---- printing (--check-config) -------------------------------------------------- */

/*
 * One entry of `relays = ( ... );`, as
 * `  { address = "ADDRESS"; public_key = "KEY"; }` and a comma unless @last.
 */
void ep_config_print_relay(FILE *out, const char *address, const uint8_t key[KEYS_LEN],
			   bool last);

/*
 * A comment about a loaded token, as
 * "# WHAT: tenant T, tunnels A, B; expires 2026-01-01T00:00:00Z".
 */
void ep_config_print_token(FILE *out, const char *what, const struct token *tok);

#endif /* POSTERN_ENDPOINT_EP_CONFIG_H */
