/*
 * keys.h — 32-byte static keys, their text form and their files.
 *
 * Two kinds of key share one format:
 *   - X25519 static keys of the relay and of endpoints (the Noise `s`,
 *     docs/protocol.md §3.2);
 *   - Ed25519 control-plane signing keys, which sign tokens (§6).
 * Either private key is 32 random bytes (an X25519 scalar, clamped at use per
 * RFC 7748 §5, or an Ed25519 seed per RFC 8032 §5.1.5); only the public key
 * derivation differs, so the caller says which one it wants.
 *
 * Text form: standard base64 (RFC 4648 §4) of the 32 bytes, 44 characters
 * ending in '=', on one line — the same as WireGuard's keys, so the usual
 * habits (`posternctl genkey > k; chmod 600 k`) carry over. Files hold that
 * line; a trailing newline (and other trailing whitespace) is accepted,
 * anything else is not.
 *
 * Error messages: functions taking @err/@errlen write one line (no newline)
 * that names the file and says what to do, for a command-line tool to print
 * as is. @err may be NULL when @errlen is 0. On success @err is untouched.
 *
 * Secrets: private key bytes and their text are wiped (OPENSSL_cleanse) from
 * every buffer of this module on every path; on failure, @key is zeroed.
 * Threads: no shared state; any thread, concurrently.
 */
#ifndef POSTERN_CRYPTO_KEYS_H
#define POSTERN_CRYPTO_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	KEYS_LEN = 32,		/* raw key, private or public */
	KEYS_TEXT_LEN = 44,	/* base64 characters, without NUL */
};

/* Fill @key with 32 bytes from OpenSSL's private DRBG. @return 0 or -EIO. */
int keys_generate(uint8_t key[KEYS_LEN]);

/*
 * Public key of an X25519 private key (RFC 7748: X25519(clamp(priv), 9)) or of
 * an Ed25519 seed (RFC 8032 §5.1.5).
 * @return 0, or -EIO if OpenSSL fails (then @pub is zeroed).
 */
int keys_public_x25519(const uint8_t priv[KEYS_LEN], uint8_t pub[KEYS_LEN]);
int keys_public_ed25519(const uint8_t priv[KEYS_LEN], uint8_t pub[KEYS_LEN]);

/* Write the 44-character text form of @key and a NUL to @text. */
void keys_to_text(const uint8_t key[KEYS_LEN], char text[KEYS_TEXT_LEN + 1]);

/*
 * Parse exactly @len characters of @text as a key (no whitespace allowed).
 * @return 0; -EINVAL if it is not canonical base64 of exactly 32 bytes
 * (@key is then zeroed).
 */
int keys_from_text(const char *text, size_t len, uint8_t key[KEYS_LEN]);

/*
 * Check the file open at @fd (named @path in messages) before a secret or a
 * key is read from it: it must be a regular file, and if @secret names what
 * it holds ("private key", "token"), one that neither group nor others may
 * read or write (mode & 077 == 0), since a secret others can read is no
 * longer secret. Checked with fstat() on @fd, so the mode checked is the mode
 * of the file the caller reads: there is no window to swap the file. Open @fd
 * with O_NONBLOCK, so that a FIFO at @path is refused here instead of hanging
 * the open. @kind names the file in "PATH is a directory, not a KIND file".
 * Messages, word for word (relay/cfgfile.h quotes them):
 *   "PATH: cannot stat: STRERROR", "PATH is a directory, not a KIND file",
 *   "PATH is not a regular file",
 *   "PATH has mode 0644: a SECRET must not be accessible to group or others;
 *    run: chmod 600 PATH".
 * @return 0; -EISDIR, -EINVAL (not a regular file), -EPERM (mode), or the
 * -errno of fstat(). @fd stays open either way: the caller closes it.
 */
int keys_check_file(int fd, const char *path, const char *kind, const char *secret,
		    char *err, size_t errlen);

/*
 * Read a private key from the file at @path. The file must be a regular file
 * that neither group nor others may read or write (mode & 077 == 0): a key
 * others can read is no longer private, so it is refused, with the fix in the
 * message ("... run: chmod 600 FILE").
 * @return 0; -ENOENT (missing), -EISDIR (a directory), -EPERM (mode), -EINVAL
 * (not a regular file, empty, not base64, not 32 bytes), or another -errno
 * from open/read. @err says which, naming @path.
 */
int keys_load_private(const char *path, uint8_t key[KEYS_LEN], char *err, size_t errlen);

/*
 * Read a public key given on a command line or in a config file: "@PATH"
 * reads the key from the file PATH (any mode), anything else is the key's
 * text itself. No permission check: public keys are public.
 * @return 0; -EINVAL (bad text), or the file errors of keys_load_private().
 */
int keys_load_public(const char *arg, uint8_t key[KEYS_LEN], char *err, size_t errlen);

/*
 * Write @key's text form and a newline to @path with mode 0600 (less if the
 * umask says so). Without @overwrite an existing @path is an error (O_EXCL),
 * so a key is never lost by accident. With @overwrite the key is written to a
 * new 0600 file beside @path and renamed over it, so the old file's mode never
 * applies to the new key and a crash leaves one whole key or the other.
 * @return 0; -EEXIST, or another -errno from open/write/fsync/rename; on error
 * no partial file is left behind.
 */
int keys_save_private(const char *path, const uint8_t key[KEYS_LEN], bool overwrite,
		      char *err, size_t errlen);

#endif /* POSTERN_CRYPTO_KEYS_H */
