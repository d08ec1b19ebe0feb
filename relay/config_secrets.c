/*
 * config_secrets.c — the files postern-relay's settings name, read once the
 * settings are final: the private key, the PSK, the trusted control-plane
 * keys and the revocation file (relay_config_load_secrets(), config.h).
 */
#define _GNU_SOURCE	/* getline */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "relay/cfgfile.h"
#include "relay/config.h"
#include "relay/config_settings.h"

/* Read every trusted key (text or @FILE); refuse a key given twice. */
static int load_trusted(struct relay_config *c, char *err, size_t errlen)
{
	char kerr[RELAY_CONFIG_ERR_MAX / 2];

	for (unsigned i = 0; i < c->n_trusted; i++) {
		if (keys_load_public(c->trusted_arg[i], c->trusted[i], kerr, sizeof(kerr))) {
			snprintf(err, errlen, "%s: %s", c->trusted_at[i], kerr);
			return -EINVAL;
		}
		for (unsigned k = 0; k < i; k++) {
			if (!memcmp(c->trusted[k], c->trusted[i], KEYS_LEN)) {
				snprintf(err, errlen, "%s: the same key is trusted twice",
					 c->trusted_at[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* "set it in FILE or give --flag", for a setting that is missing. */
static int missing(const struct relay_config *c, const char *what, const char *name,
		   const char *flag, char *err, size_t errlen)
{
	if (c->file)
		snprintf(err, errlen, "%s: no %s: set %s, or give --%s", c->file, what, name,
			 flag);
	else
		snprintf(err, errlen, "no %s: give --%s, or a configuration file with -c", what,
			 flag);
	return -EINVAL;
}

static void trim(char *s)
{
	size_t n = strlen(s), start = 0;

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[start] == ' ' || s[start] == '\t')
		start++;
	memmove(s, s + start, n - start + 1);
}

/* One token id per line; blank lines and '#' comments are skipped. */
static int load_revoked_file(struct relay_config *c, char *err, size_t errlen)
{
	uint8_t id[TOKEN_ID_LEN];
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	FILE *fp;
	int ret = 0;

	fp = fopen(c->revoked_file, "re");
	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "%s: revoked_file: cannot read %s: %s", c->revoked_file_at,
			 c->revoked_file, strerror(-ret));
		return ret;
	}
	while (getline(&line, &cap, fp) >= 0) {
		char *hash = strchr(line, '#');

		lineno++;
		if (hash)
			*hash = '\0';
		trim(line);
		if (!line[0])
			continue;
		if (relay_setting_parse_token_id(line, id)) {
			snprintf(err, errlen, "%s:%u: '%.40s' is not a token id (%d hex digits)",
				 c->revoked_file, lineno, line, 2 * TOKEN_ID_LEN);
			ret = -EINVAL;
			break;
		}
		if (token_trust_revoke(c->trust, id)) {
			snprintf(err, errlen, "%s: out of memory", c->revoked_file);
			ret = -ENOMEM;
			break;
		}
		c->n_revoked_file++;
	}
	if (!ret && ferror(fp)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", c->revoked_file);
	}
	free(line);
	fclose(fp);
	return ret;
}

static int build_trust(struct relay_config *c, char *err, size_t errlen)
{
	int ret;

	token_trust_destroy(c->trust);
	c->n_revoked_file = 0;
	ret = token_trust_create(&c->trust);
	if (ret) {
		c->trust = NULL;
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	ret = load_trusted(c, err, errlen);
	if (ret)
		return ret;
	for (unsigned i = 0; i < c->n_trusted; i++) {
		ret = token_trust_add_signer(c->trust, c->trusted[i]);
		if (ret) {
			snprintf(err, errlen, "%s: not a usable Ed25519 public key (%s)",
				 c->trusted_at[i], strerror(-ret));
			return ret;
		}
	}
	for (unsigned i = 0; i < c->n_revoked; i++) {
		ret = token_trust_revoke(c->trust, c->revoked[i]);
		if (ret) {
			snprintf(err, errlen, "out of memory");
			return ret;
		}
	}
	return c->revoked_file ? load_revoked_file(c, err, errlen) : 0;
}

int relay_config_load_secrets(struct relay_config *c, char *err, size_t errlen)
{
	char kerr[RELAY_CONFIG_ERR_MAX / 2];
	struct relay_params *p = &c->params;
	int ret;

	if (!c->n_listen)
		return missing(c, "listen address", "listen", "listen", err, errlen);
	if (!c->private_key)
		return missing(c, "private key", "private_key", "private-key", err, errlen);
	if (!c->n_trusted)
		return missing(c, "trusted control-plane key", "trusted_keys", "trust", err,
			       errlen);
	if (!c->suites)
		return missing(c, "handshake suite", "suites", "suite", err, errlen);
	if (c->max_sessions < c->workers) {
		snprintf(err, errlen, "limits.max_sessions (%u) must be at least workers (%u): "
			 "each worker holds its share", c->max_sessions, c->workers);
		return -EINVAL;
	}

	relay_params_default(p);
	ret = cfgfile_load_private_key(c->private_key, c->private_key_at, p->static_priv,
				       c->public_key, err, errlen);
	if (ret)
		goto err_secrets;
	c->has_psk = false;
	if (c->psk_file) {
		ret = keys_load_private(c->psk_file, p->psk, kerr, sizeof(kerr));
		if (ret) {
			snprintf(err, errlen, "%s: psk_file: %s", c->psk_file_at, kerr);
			goto err_secrets;
		}
		c->has_psk = true;
	}
	ret = build_trust(c, err, errlen);
	if (ret)
		goto err_secrets;

	p->n_workers = c->workers;
	p->suites = c->suites;
	p->trust = c->trust;
	p->token_skew_s = c->token_skew;
	p->max_sessions = c->max_sessions;
	p->max_channels = c->max_channels;
	p->max_channel_ends = c->max_channel_ends;
	p->handshake_budget = c->handshake_budget;
	p->handshake_rate = c->handshake_rate;
	p->pool = NULL;
	return 0;

err_secrets:
	OPENSSL_cleanse(p, sizeof(*p));
	return ret;
}
