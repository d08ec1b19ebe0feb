/*
 * cfg_fixture.h — what the configuration tests (test_config, test_gw_config,
 * test_conn_config, test_cfgfile) set up on disk: a temporary directory and,
 * in it, files of a given mode, keys, tokens and certificates as the real
 * tools write them.
 *
 * Every helper fails the running Criterion test on error (cr_assert), so a
 * test reads as the operator's steps. One directory per test process: call
 * cfx_setup() from the suite's .init and cfx_teardown() from its .fini.
 *
 * Threads: test thread only (static buffers).
 */
#ifndef POSTERN_TESTS_CFG_FIXTURE_H
#define POSTERN_TESTS_CFG_FIXTURE_H

#include <stdint.h>
#include <sys/types.h>

#include "crypto/keys.h"
#include "crypto/token.h"

enum {
	CFX_FP_LEN = 32,	/* SHA-256 of a certificate's SubjectPublicKeyInfo */
	CFX_PATH_MAX = 128,
};

/* A certificate's key type. */
enum cfx_key {
	CFX_ED25519,
	CFX_P256,
};

/* The test directory, "/tmp/postern-NAME-XXXXXX" once cfx_setup() made it. */
extern char cfx_dir[64];

/* Make a fresh cfx_dir for @name (e.g. "config"). */
void cfx_setup(const char *name);

/* Remove cfx_dir and everything in it. */
void cfx_teardown(void);

/* "cfx_dir/NAME"; the buffer is reused after 32 more calls. */
const char *cfx_path(const char *name);

/* Create or replace cfx_dir/@name with the formatted text and mode @mode. */
void cfx_write(const char *name, mode_t mode, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write @key as posternctl does (one line of base64) with mode @mode. */
void cfx_save_key(const char *name, const uint8_t key[KEYS_LEN], mode_t mode);

/*
 * A token as `posternctl token issue` writes it: tenant "acme", one @tunnel,
 * for endpoint key @pub, signed with @signer (an Ed25519 seed), valid from two
 * hours ago until @expiry_from_now seconds from now (negative: expired).
 */
void cfx_save_token(const char *name, const uint8_t signer[KEYS_LEN], enum token_role role,
		    const char *tunnel, const uint8_t pub[KEYS_LEN], int64_t expiry_from_now,
		    mode_t mode);

/*
 * A self-signed certificate (PEM, @cert_name) and its private key (PEM,
 * @key_name, mode @key_mode) of type @type; @fp gets the certificate's
 * fingerprint, computed independently: SHA-256 of its DER SubjectPublicKeyInfo.
 */
void cfx_save_identity(const char *cert_name, const char *key_name, mode_t key_mode,
		       enum cfx_key type, uint8_t fp[CFX_FP_LEN]);

#endif /* POSTERN_TESTS_CFG_FIXTURE_H */
