/*
 * cmd_key.c — `posternctl genkey` and `posternctl pubkey`.
 *
 * Private keys pass through stack buffers here; every one is wiped at the
 * single exit of its command (crypto/keys.h documents the key format).
 */
#include <getopt.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "crypto/keys.h"
#include "relay/ctl/ctl.h"
#include "relay/ctl/io.h"

static const char genkey_usage[] =
	"Usage: posternctl genkey [-o FILE [--force]]\n"
	"\n"
	"Generate a private key: 32 random bytes as one line of base64 (44 characters).\n"
	"The same format serves the X25519 static keys of relays and endpoints and the\n"
	"Ed25519 signing keys of the control plane; 'posternctl pubkey' derives the\n"
	"public key of either.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE  write the key to FILE, created with mode 0600; an existing\n"
	"                     FILE is refused unless --force is given\n"
	"  -f, --force        with -o, replace FILE if it exists\n"
	"  -h, --help         show this help\n"
	"\n"
	"Without -o the key is printed on stdout; keep it private, e.g.\n"
	"  (umask 077; posternctl genkey > relay.key)\n"
	"\n"
	CTL_EXIT_CODES_HELP;

static const char pubkey_usage[] =
	"Usage: posternctl pubkey [--signing] [FILE | -]\n"
	"\n"
	"Read a private key from FILE, or from stdin if FILE is '-' or absent, and print\n"
	"its public key as one line of base64. A key FILE must not be accessible to group\n"
	"or others (chmod 600 FILE).\n"
	"\n"
	"Options:\n"
	"  -s, --signing  the key is an Ed25519 control-plane signing key: print the\n"
	"                 public key that relays trust (token inspect --trust)\n"
	"                 Default: an X25519 static key: print the key endpoints pin and\n"
	"                 tokens bind (token issue --endpoint-key)\n"
	"  -h, --help     show this help\n"
	"\n"
	CTL_EXIT_CODES_HELP;

int cmd_genkey(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char text[KEYS_TEXT_LEN + 2], err[512];
	const char *output = NULL;
	uint8_t key[KEYS_LEN];
	bool force = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":o:fh", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			return ctl_print(genkey_usage);
		default:
			return ctl_getopt_err("genkey", c, argv);
		}
	}
	if (optind < argc)
		return ctl_usage_err("genkey", "unexpected argument '%s'", argv[optind]);
	if (force && !output)
		return ctl_usage_err("genkey", "--force only applies with -o FILE");

	if (keys_generate(key)) {
		ret = ctl_err("cannot generate a key: the random generator failed");
		goto out;
	}
	if (output) {
		ret = keys_save_private(output, key, force, err, sizeof(err)) ?
		      ctl_err("%s", err) : CTL_EXIT_OK;
		goto out;
	}
	keys_to_text(key, text);
	strcat(text, "\n");
	ret = ctl_print(text);
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(text, sizeof(text));
	return ret;
}

/* Read a private key's text from stdin into @key. */
static int read_stdin_key(uint8_t key[KEYS_LEN])
{
	char buf[128], err[256];
	size_t len = 0;
	int ret = CTL_EXIT_OK;

	if (io_read_fd(STDIN_FILENO, "stdin", buf, sizeof(buf), &len, err, sizeof(err)))
		ret = ctl_err("%s", err);
	else if (keys_from_text(buf, len, key))
		ret = ctl_err("stdin: not a private key (expected one line of %d base64 "
			      "characters, as 'posternctl genkey' prints)", KEYS_TEXT_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

int cmd_pubkey(int argc, char **argv)
{
	static const struct option options[] = {
		{ "signing", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t priv[KEYS_LEN], pub[KEYS_LEN];
	char text[KEYS_TEXT_LEN + 2], err[512];
	const char *path = NULL;
	bool signing = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":sh", options, NULL)) != -1) {
		switch (c) {
		case 's':
			signing = true;
			break;
		case 'h':
			return ctl_print(pubkey_usage);
		default:
			return ctl_getopt_err("pubkey", c, argv);
		}
	}
	if (argc - optind > 1)
		return ctl_usage_err("pubkey", "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc && strcmp(argv[optind], "-"))
		path = argv[optind];

	if (path)
		ret = keys_load_private(path, priv, err, sizeof(err)) ? ctl_err("%s", err)
								     : CTL_EXIT_OK;
	else
		ret = read_stdin_key(priv);
	if (ret)
		goto out;
	if (signing ? keys_public_ed25519(priv, pub) : keys_public_x25519(priv, pub)) {
		ret = ctl_err("cannot derive the public key: OpenSSL failed");
		goto out;
	}
	keys_to_text(pub, text);
	strcat(text, "\n");
	ret = ctl_print(text);
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	return ret;
}
