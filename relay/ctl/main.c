/*
 * posternctl — the operator's tool: keys and tokens, and the commands for a
 * running relay over its control socket (cmd_relay.c).
 *
 * main() only picks the command; each command parses its own options.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "relay/ctl/ctl.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

static const char usage[] =
	"Usage: posternctl [--help] [--version] [--socket PATH] COMMAND [ARGS...]\n"
	"\n"
	"Keys and tokens for Postern relays and endpoints, and control of a running relay.\n"
	"\n"
	"Commands:\n"
	"  genkey          generate a private key (X25519 static or Ed25519 signing)\n"
	"  pubkey          print the public key of a private key\n"
	"  token issue     issue a signed token for a gateway or an agent\n"
	"  token inspect   show a token's fields and, given --trust, whether it is valid\n"
	"\n"
	"Commands for a running relay (its control socket: --socket PATH, else\n"
	"$POSTERN_SOCKET, else /run/postern/relay.sock):\n"
	"  status          version, uptime, readiness, sessions and channels\n"
	"  stats           packet counters and drop reasons\n"
	"  sessions list   hop sessions          sessions kick ID   end one\n"
	"  channels list   spliced channels\n"
	"  tokens revoke   revoke a token now    keys trust|untrust KEY\n"
	"  drain           GOAWAY to everyone, exit when empty\n"
	"  reload          re-read the configuration\n"
	"  log-level LVL   error, warn, info or debug\n"
	"\n"
	"Run 'posternctl COMMAND --help' for a command's options.\n"
	"\n"
	CTL_EXIT_CODES_HELP;

int ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("posternctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_INVALID;
}

int ctl_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "posternctl: %s%s", cmd, *cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'posternctl %s%s--help'.\n", cmd, *cmd ? " " : "");
	return CTL_EXIT_USAGE;
}

int ctl_getopt_err(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return ctl_usage_err(cmd, "option '%s' needs a value", arg);
	/* A short option's letter is in optopt; a long option is the whole argument. */
	if (optopt > 0 && optopt < 256 && strncmp(arg, "--", 2))
		return ctl_usage_err(cmd, "unknown option '-%c'", optopt);
	return ctl_usage_err(cmd, "unknown or ambiguous option '%s'", arg);
}

int ctl_print(const char *text)
{
	if (fputs(text, stdout) < 0 || fflush(stdout))
		return ctl_err("cannot write to stdout");
	return CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "socket", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "genkey", cmd_genkey },
		{ "pubkey", cmd_pubkey },
		{ "token", cmd_token },
		{ "status", cmd_status },
		{ "stats", cmd_stats },
		{ "sessions", cmd_sessions },
		{ "channels", cmd_channels },
		{ "tokens", cmd_tokens },
		{ "keys", cmd_keys },
		{ "drain", cmd_drain },
		{ "reload", cmd_reload },
		{ "log-level", cmd_log_level },
	};
	int c;

	opterr = 0;
	/* '+': stop at the command name; its options belong to the command. */
	while ((c = getopt_long(argc, argv, "+:hV", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return ctl_print(usage);
		case 'V':
			return ctl_print("posternctl " POSTERN_VERSION "\n");
		case 'S':
			ctl_socket_path = optarg;
			break;
		default:
			return ctl_getopt_err("", c, argv);
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return CTL_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help"))
		return ctl_print(usage);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		argc -= optind;
		argv += optind;
		optind = 0;	/* glibc: start the next getopt scan afresh, at argv[1] */
		return commands[i].run(argc, argv);
	}
	ctl_err("unknown command '%s'", argv[optind]);
	fputs("Try 'posternctl --help'.\n", stderr);
	return CTL_EXIT_USAGE;
}
