/*
 * ctl.h — what posternctl's commands share: exit codes, error output and
 * getopt error handling (main.c), and the command entry points.
 *
 * Every command takes (argc, argv) with argv[0] naming the command (e.g.
 * "genkey", "token issue") and returns a process exit code. Commands print
 * their result on stdout and nothing else there; errors go to stderr as one
 * line starting with "posternctl: ".
 * Threads: single-threaded tool; getopt state is global.
 */
#ifndef POSTERN_RELAY_CTL_CTL_H
#define POSTERN_RELAY_CTL_CTL_H

/* Exit codes, documented in every --help. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_INVALID = 1,	/* bad input (file, key, value) or an invalid token */
	CTL_EXIT_USAGE = 2,	/* the command line itself is wrong */
	CTL_EXIT_UNREACHABLE = 3,	/* the relay could not be asked (relay commands) */
};

#define CTL_EXIT_CODES_HELP \
	"Exit codes: 0 success; 1 invalid input (bad key, file, value) or invalid token,\n" \
	"            or the relay refused the request;\n" \
	"            2 usage error (unknown command or option, missing argument);\n" \
	"            3 relay unreachable (no socket, permission denied, no answer).\n"

/* Print "posternctl: <message>\n" to stderr. @return CTL_EXIT_INVALID. */
int ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print "posternctl: <cmd>: <message>" and a "Try 'posternctl <cmd> --help'."
 * line to stderr (@cmd "" for the tool itself). @return CTL_EXIT_USAGE.
 */
int ctl_usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Report what getopt_long() (with opterr = 0 and a leading ':' in optstring)
 * returned for a bad option: @c is '?' or ':'. @return CTL_EXIT_USAGE.
 */
int ctl_getopt_err(const char *cmd, int c, char **argv);

/* Print @text to stdout and flush. @return CTL_EXIT_OK, or CTL_EXIT_INVALID if stdout failed. */
int ctl_print(const char *text);

int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_token(int argc, char **argv);

/* Commands for a running relay, over its control socket (cmd_relay.c). */
int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_sessions(int argc, char **argv);
int cmd_channels(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_drain(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_log_level(int argc, char **argv);

/* `posternctl --socket PATH`: the relay commands' control socket (NULL: default). */
extern const char *ctl_socket_path;

#endif /* POSTERN_RELAY_CTL_CTL_H */
