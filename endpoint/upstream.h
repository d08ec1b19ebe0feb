/*
 * upstream.h — the gateway's side of one stream: the connection to a route's
 * upstream (docs/protocol.md §10: one QUIC stream = one upstream connection),
 * opened without blocking on the network, for the gateway's event loop.
 *
 * Two kinds, one interface:
 *
 *   tcp    "tcp://HOST:PORT". HOST is resolved (getaddrinfo; numeric only
 *          when it is a literal), every address is checked against
 *          allowed_ips, and a nonblocking connect() goes to the first allowed
 *          one. If no address is allowed, nothing is sent: no socket is even
 *          made. A name is resolved on every open (DNS changes are seen; the
 *          lookup itself blocks the caller: use literals or /etc/hosts names
 *          where that matters).
 *   stdio  a command (an MCP stdio server) started per stream: its stdin and
 *          stdout are pipes to the gateway; its stderr is the gateway's, or a
 *          third pipe whose lines upstream_stderr_pump() copies with a
 *          prefix. It runs in its own process group, with exactly the
 *          configured environment (not the gateway's: secrets in the
 *          gateway's environment stay there), default signal dispositions
 *          and an empty signal mask, and no file descriptor of the gateway
 *          but 0, 1, 2.
 *
 * Bytes: upstream_read() and upstream_write() work on either kind. Upstream
 * → agent is read from upstream_read_fd(), agent → upstream is written to
 * upstream_write_fd(); for tcp both are the socket. Half-close (a FIN from
 * the agent): upstream_shutdown_write() — shutdown(SHUT_WR) for tcp, close
 * the child's stdin for stdio.
 *
 * Close: upstream_terminate() closes every descriptor and sends SIGTERM to
 * the child's process group; upstream_destroy(u, grace_ms) does that, waits
 * at most @grace_ms for the child to exit, then sends SIGKILL to the group
 * and reaps the child. No zombie and no process of the group is left. A loop
 * that must not block polls upstream_exit_fd() (a pidfd, readable once the
 * child has exited) with its own timer, and calls upstream_destroy(u, 0) when
 * it fires or the timer expires. Nothing else in the process may reap our
 * children (no waitpid(-1, ...) or SIGCHLD = SIG_IGN).
 *
 * Signals: a write to a pipe whose reader is gone raises SIGPIPE; the gateway
 * must ignore SIGPIPE (then the write returns -EPIPE). TCP writes use
 * MSG_NOSIGNAL and need nothing.
 *
 * Errors: int functions return 0 or -errno. upstream_open() reports -EPERM
 * only for an allowed_ips refusal (audit reason not_allowed); every other
 * failure (-ECONNREFUSED, -EHOSTUNREACH for a name that does not resolve,
 * -ENOENT for a command that does not exist, ...) is upstream_refused.
 *
 * Threads: an upstream belongs to the thread that opened it.
 */
#ifndef POSTERN_ENDPOINT_UPSTREAM_H
#define POSTERN_ENDPOINT_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "endpoint/allowlist.h"

enum upstream_kind {
	UPSTREAM_TCP,
	UPSTREAM_STDIO,
};

enum {
	UPSTREAM_WHY_MAX = 512,		/* a message buffer that always suffices */
	UPSTREAM_PEER_MAX = 300,	/* upstream_peer() text, with NUL */
	UPSTREAM_STDERR_LINE = 1024,	/* a longer stderr line is passed on in pieces */
};

/* What a route connects to (gw_config fills it; the caller owns every string). */
struct upstream_target {
	enum upstream_kind kind;
	/* UPSTREAM_TCP */
	const char *host;		/* a name, or a literal (IPv6 without brackets) */
	const char *port;		/* decimal, 1..65535 */
	/* UPSTREAM_STDIO */
	char *const *argv;		/* NULL-terminated; argv[0] an absolute path */
	char *const *envp;		/* NULL-terminated "K=V", the whole environment */
	const char *cwd;		/* NULL: the gateway's working directory */
	const char *stderr_prefix;	/* NULL: inherit stderr; else pipe, see pump */
};

struct upstream;

/*
 * Open @t. For tcp, @allow decides which addresses may be connected to.
 * @return 0 and *@out — for tcp the connect may still be in progress
 * (upstream_connect_status()); or -errno with @why set to one line:
 *   -EPERM         no resolved address is in @allow ("203.0.113.9 is not in
 *                  allowed_ips"); nothing was sent
 *   -EHOSTUNREACH  the name does not resolve
 *   -ECONNREFUSED, -ENETUNREACH, ...  connect() failed at once
 *   -ENOENT, -EACCES, ...  the command could not be started
 *   -ENOMEM, -EMFILE, ...
 */
int upstream_open(struct upstream **out, const struct upstream_target *t,
		  const struct allowlist *allow, char *why, size_t whylen);

/*
 * Where a tcp connect stands; call it when upstream_write_fd() is writable
 * (or has an error). stdio is connected from the start.
 * @return 0 connected; -EINPROGRESS not yet; -errno the connect failed
 * (-ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, ...).
 */
int upstream_connect_status(struct upstream *u);

/* @return the fd to poll for reading (socket, or the child's stdout); -1 once closed. */
int upstream_read_fd(const struct upstream *u);

/* @return the fd to poll for writing (socket, or the child's stdin); -1 after half-close. */
int upstream_write_fd(const struct upstream *u);

/* @return "10.1.2.3:5432", "[fd00::5]:443" or the command's path, for logs and audit. */
const char *upstream_peer(const struct upstream *u);

/* @return UPSTREAM_TCP or UPSTREAM_STDIO. */
enum upstream_kind upstream_kind(const struct upstream *u);

/*
 * Read what is there, up to @len bytes.
 * @return bytes read (> 0); 0 at end of stream (the upstream half-closed, or
 * the child closed its stdout); -EAGAIN; -ECONNRESET etc.
 */
ssize_t upstream_read(struct upstream *u, void *buf, size_t len);

/*
 * Write up to @len bytes. @return bytes written (> 0, maybe fewer than @len);
 * -EAGAIN; -EPIPE (the reader is gone, or after upstream_shutdown_write());
 * -ECONNRESET etc.
 */
ssize_t upstream_write(struct upstream *u, const void *buf, size_t len);

/* Half-close toward the upstream (the agent sent FIN). Idempotent. @return 0 or -errno. */
int upstream_shutdown_write(struct upstream *u);

/* @return the child's stderr pipe to poll for reading; -1 if none (or at its end). */
int upstream_stderr_fd(const struct upstream *u);

/*
 * Copy what the child wrote to its stderr to @out_fd, each line prefixed
 * with "PREFIX[PID]: ". A line longer than UPSTREAM_STDERR_LINE goes out in
 * pieces; a last line without newline gets one. At the pipe's end (or on a
 * read error) the pipe is closed and upstream_stderr_fd() becomes -1.
 * Writes to @out_fd are best effort (a full terminal loses lines, never
 * blocks the loop for long: @out_fd is written as it is).
 */
void upstream_stderr_pump(struct upstream *u, int out_fd);

/* @return the child's pid (stdio), or 0 (tcp, or already reaped). */
pid_t upstream_pid(const struct upstream *u);

/* @return a pidfd, readable once the child has exited; -1 for tcp or if unavailable. */
int upstream_exit_fd(const struct upstream *u);

/*
 * Has the child exited? If so, kill what is left of its process group and
 * reap it (*@status, if not NULL, gets the waitpid status). Never blocks.
 * @return true once reaped (always true for tcp).
 */
bool upstream_reaped(struct upstream *u, int *status);

/*
 * Close every descriptor (the child sees EOF on stdin) and, for stdio, send
 * SIGTERM to the child's process group if it has not been reaped. Idempotent.
 */
void upstream_terminate(struct upstream *u);

/*
 * upstream_terminate(), wait up to @grace_ms for the child to exit, then
 * SIGKILL its group and reap it; free @u. Blocks at most @grace_ms (plus the
 * time a SIGKILLed process takes to die). NULL is a no-op.
 */
void upstream_destroy(struct upstream *u, unsigned grace_ms);

#endif /* POSTERN_ENDPOINT_UPSTREAM_H */
