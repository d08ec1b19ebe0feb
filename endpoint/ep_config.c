/*
 * ep_config.c — the values, files and printed lines postern-gateway's and
 * postern-connect's configurations share (ep_config.h). Messages follow
 * relay/cfgfile.h: one line, no newline, the file named, never a secret.
 */
#include "endpoint/ep_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "relay/cfgfile.h"

enum {
	TOKEN_FILE_MAX = 2048,		/* a token's text is at most 960 characters */
	CERT_FILE_MAX = 256 * 1024,	/* a certificate chain */
	KEY_FILE_MAX = 64 * 1024,
};

_Static_assert((int)EP_CONFIG_WHERE_MAX == (int)CFGFILE_WHERE_MAX, "where buffers differ");

/* ---- addresses ------------------------------------------------------------------- */

/*
 * Decimal 1..65535 with no sign and no leading zero ("080" is more likely a
 * typo than port 80); @s ends the address, so it is NUL-terminated.
 */
static int parse_port(const char *s, char port[EP_CONFIG_PORT_MAX + 1])
{
	size_t n = strlen(s);
	long long v;

	if (s[0] < '1' || s[0] > '9' || n > EP_CONFIG_PORT_MAX ||
	    cfgfile_parse_int(s, 1, 65535, &v))
		return -EINVAL;
	memcpy(port, s, n + 1);
	return 0;
}

/* RFC 1123 host names, plus '_' (common in internal DNS and /etc/hosts). */
static bool is_host_name(const char *s)
{
	size_t label = 0, n = strlen(s);
	bool alpha = false;

	if (n == 0 || n > EP_CONFIG_HOST_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (; *s; s++) {
		char ch = *s;

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
		if (!(ch >= '0' && ch <= '9'))
			alpha = true;
		if (++label > 63)
			return false;
	}
	/* All digits and dots would be an IPv4 address that did not parse. */
	return alpha;
}

int ep_config_parse_hostport(const char *text, char host[EP_CONFIG_HOST_MAX + 1],
			     char port[EP_CONFIG_PORT_MAX + 1], bool *literal, const char **why)
{
	const char *colon, *h = text;
	size_t hlen;
	uint8_t buf[16];

	*why = "expected HOST:PORT or [IPV6]:PORT";
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = text + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text);
		if (memchr(text, ':', hlen)) {
			*why = "an IPv6 address goes in brackets: [IPV6]:PORT";
			return -EINVAL;
		}
	}
	if (parse_port(colon + 1, port)) {
		*why = "the port must be a number from 1 to 65535";
		return -EINVAL;
	}
	if (hlen == 0 || hlen > EP_CONFIG_HOST_MAX) {
		*why = "no host, or a host longer than 253 characters";
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (text[0] == '[') {
		if (inet_pton(AF_INET6, host, buf) != 1) {
			*why = "not an IPv6 address inside [ ]";
			return -EINVAL;
		}
		*literal = true;
		return 0;
	}
	if (inet_pton(AF_INET, host, buf) == 1) {
		*literal = true;
		return 0;
	}
	if (!is_host_name(host)) {
		*why = "the host is neither an IP address nor a host name";
		return -EINVAL;
	}
	*literal = false;
	return 0;
}

/* ---- the hop suite --------------------------------------------------------------- */

/* postern-relay's names for its `suites` setting (docs/relay.md), by suite id - 1. */
static const char *const hop_suite_names[] = {
	[SUITE_CHACHAPOLY_BLAKE2S - 1] = "chachapoly",
	[SUITE_AESGCM_SHA256 - 1] = "aesgcm",
};

enum { N_HOP_SUITES = sizeof(hop_suite_names) / sizeof(hop_suite_names[0]) };

/*
 * The suite another spelling names: the AEAD's own name ("aes-256-gcm",
 * "ChaCha20-Poly1305") or the Noise one ("ChaChaPoly_BLAKE2s"), compared by
 * letters and digits alone. NULL if it names neither.
 */
static const char *hop_suite_family(const char *text)
{
	char folded[16];
	size_t n = 0;

	for (; *text && n + 1 < sizeof(folded); text++)
		if (isalnum((unsigned char)*text))
			folded[n++] = (char)tolower((unsigned char)*text);
	folded[n] = '\0';
	if (!strncmp(folded, "chacha", 6))
		return hop_suite_names[SUITE_CHACHAPOLY_BLAKE2S - 1];
	if (!strncmp(folded, "aes", 3))
		return hop_suite_names[SUITE_AESGCM_SHA256 - 1];
	return NULL;
}

int ep_config_parse_hop_suite(const char *text, enum suite_id *suite, char *msg, size_t len)
{
	const char *near;

	for (unsigned i = 0; i < N_HOP_SUITES; i++) {
		if (!strcmp(text, hop_suite_names[i])) {
			*suite = (enum suite_id)(i + 1);
			return 0;
		}
	}
	near = cfgfile_suggest(text, hop_suite_names, N_HOP_SUITES);
	if (!near)
		near = hop_suite_family(text);
	if (!near)
		return cfgfile_msg(msg, len, "expected \"chachapoly\" or \"aesgcm\"");
	return cfgfile_msg(msg, len, "expected \"chachapoly\" or \"aesgcm\" (did you mean \"%s\"?)",
			   near);
}

const char *ep_config_hop_suite_name(enum suite_id suite)
{
	unsigned i = (unsigned)suite - 1;

	return i < N_HOP_SUITES ? hop_suite_names[i] : "?";
}

/* ---- time ------------------------------------------------------------------------ */

void ep_config_format_time(uint64_t t, char text[EP_CONFIG_TIME_MAX])
{
	time_t sec = t > (uint64_t)INT64_MAX ? (time_t)INT64_MAX : (time_t)t;
	struct tm tm;

	if (!gmtime_r(&sec, &tm) ||
	    !strftime(text, EP_CONFIG_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(text, EP_CONFIG_TIME_MAX, "%llu (Unix time)", (unsigned long long)t);
}

/* ---- files ----------------------------------------------------------------------- */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

int ep_config_load_token(const char *path, const char *what, enum token_role role,
			 const uint8_t pub[KEYS_LEN], uint64_t now, uint8_t buf[TOKEN_MAX_LEN],
			 size_t *len, struct token *tok, char *err, size_t errlen)
{
	char text[TOKEN_FILE_MAX], want[KEYS_TEXT_LEN + 1], when[EP_CONFIG_TIME_MAX];
	const char *reason;
	size_t n = 0;
	int ret;

	ret = cfgfile_read(path, true, "token", text, sizeof(text), &n, err, errlen);
	if (ret)
		goto out;
	while (n && is_space(text[n - 1]))
		n--;
	ret = token_from_text(text, n, buf, TOKEN_MAX_LEN, len);
	if (ret) {
		ret = cfgfile_msg(err, errlen,
				  "%s: not a token (one line: \"pt1.\" and base64url, as "
				  "posternctl token issue writes it)", path);
		goto out;
	}
	if (token_parse(buf, *len, tok)) {
		reason = token_malformed_reason(buf, *len);
		ret = cfgfile_msg(err, errlen, "%s: malformed token: %s", path,
				  reason ? reason : "?");
		goto out;
	}
	if (tok->role != role) {
		ret = cfgfile_msg(err, errlen,
				  "%s: this is %s token; a %s needs %s token (posternctl token "
				  "issue --role %s)", path,
				  tok->role == TOKEN_ROLE_GATEWAY ? "a gateway" : "an agent",
				  role == TOKEN_ROLE_GATEWAY ? "gateway" : "connector",
				  role == TOKEN_ROLE_GATEWAY ? "a gateway" : "an agent",
				  role == TOKEN_ROLE_GATEWAY ? "gateway" : "agent");
		goto out;
	}
	/* The relay would refuse it (key_mismatch, §6.2): say so now, with the fix. */
	if (CRYPTO_memcmp(tok->endpoint_pub, pub, KEYS_LEN)) {
		keys_to_text(pub, want);
		ret = cfgfile_msg(err, errlen,
				  "%s: the %s was issued for another key; issue one with "
				  "--endpoint-key %s", path, what, want);
		goto out;
	}
	if (now >= TOKEN_DEFAULT_SKEW && now - TOKEN_DEFAULT_SKEW >= tok->expiry) {
		ep_config_format_time(tok->expiry, when);
		ret = cfgfile_msg(err, errlen, "%s: the %s expired at %s; issue a new one", path,
				  what, when);
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(text, sizeof(text));
	if (ret) {
		OPENSSL_cleanse(buf, TOKEN_MAX_LEN);
		*len = 0;
	}
	return ret;
}

/* Never ask for a passphrase (there is no one to ask): an encrypted key fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

int ep_config_load_identity(const char *cert_path, const char *key_path,
			    uint8_t fp[EP_CONFIG_FP_LEN], char *err, size_t errlen)
{
	char *cert = malloc(CERT_FILE_MAX), *key = malloc(KEY_FILE_MAX);
	size_t cert_len = 0, key_len = 0;
	EVP_PKEY *pkey = NULL;
	X509 *x509 = NULL;
	BIO *bio = NULL;
	int ret;

	if (!cert || !key) {
		ret = -ENOMEM;
		cfgfile_msg(err, errlen, "out of memory");
		goto out;
	}
	ret = cfgfile_read(cert_path, false, "certificate", cert, CERT_FILE_MAX, &cert_len, err,
			   errlen);
	if (ret)
		goto out;
	ret = cfgfile_read(key_path, true, "private key", key, KEY_FILE_MAX, &key_len, err,
			   errlen);
	if (ret)
		goto out;
	ret = -EINVAL;
	bio = BIO_new_mem_buf(cert, (int)cert_len);
	x509 = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!x509) {
		cfgfile_msg(err, errlen, "%s: no PEM certificate in it", cert_path);
		goto out;
	}
	bio = BIO_new_mem_buf(key, (int)key_len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!pkey) {
		cfgfile_msg(err, errlen,
			    "%s: no PEM private key in it (encrypted keys are not supported)",
			    key_path);
		goto out;
	}
	if (X509_check_private_key(x509, pkey) != 1) {
		cfgfile_msg(err, errlen, "%s: this key does not belong to the certificate in %s",
			    key_path, cert_path);
		goto out;
	}
	/* docs/protocol.md §10: the pin is SHA-256 of the DER SubjectPublicKeyInfo. */
	ret = quic_fingerprint_x509(fp, x509);
	if (ret)
		cfgfile_msg(err, errlen, "%s: cannot compute the fingerprint", cert_path);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	X509_free(x509);
	if (key)
		OPENSSL_cleanse(key, KEY_FILE_MAX);
	free(key);
	free(cert);
	return ret;
}

/* ---- printing -------------------------------------------------------------------- */

void ep_config_print_relay(FILE *out, const char *address, const uint8_t key[KEYS_LEN],
			   bool last)
{
	char text[KEYS_TEXT_LEN + 1];

	keys_to_text(key, text);
	fputs("  { address = ", out);
	cfgfile_put_string(out, address);
	fprintf(out, "; public_key = \"%s\"; }%s\n", text, last ? "" : ",");
}

void ep_config_print_token(FILE *out, const char *what, const struct token *tok)
{
	char when[EP_CONFIG_TIME_MAX];

	fprintf(out, "# %s: tenant %s, tunnels", what, tok->tenant);
	for (unsigned i = 0; i < tok->n_tunnels; i++)
		fprintf(out, "%s %s", i ? "," : "", tok->tunnels[i]);
	ep_config_format_time(tok->expiry, when);
	fprintf(out, "; expires %s\n", when);
}

