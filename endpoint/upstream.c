/*
 * upstream.c — one upstream connection per stream: a TCP socket checked
 * against allowed_ips, or a child process on pipes (upstream.h).
 *
 * Child lifetime: the child is its own process group leader, so one kill()
 * reaches whatever it started. Until it is reaped, its pid (and so its
 * process group id) cannot be reused; that is why the group is sent SIGKILL
 * while the child is still a zombie (waitid(WNOWAIT) sees the exit without
 * reaping), and never after waitpid() has released the pid.
 */
#define _GNU_SOURCE	/* pipe2, posix_spawn_file_actions_add{chdir,closefrom}_np, pidfd_open */

#include "endpoint/upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct upstream {
	enum upstream_kind kind;
	int rfd, wfd;		/* tcp: the same socket */
	int errfd;		/* the child's stderr pipe, or -1 */
	int pidfd;		/* -1 for tcp, or when pidfd_open() is unavailable */
	pid_t pid;		/* 0 for tcp and once reaped */
	int status;		/* waitpid status once reaped */
	bool connected;
	int connect_err;	/* a failed connect, reported again on every call */
	bool wr_shut;
	bool terminated;
	char peer[UPSTREAM_PEER_MAX];
	char *prefix;		/* stderr line prefix; NULL when stderr is inherited */
	int err_out;		/* where the last pump wrote, for the last partial line */
	size_t err_len;
	char err_line[UPSTREAM_STDERR_LINE];
};

static int say(char *why, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int say(char *why, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static struct upstream *alloc_upstream(enum upstream_kind kind)
{
	struct upstream *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->kind = kind;
	u->rfd = u->wfd = u->errfd = u->pidfd = u->err_out = -1;
	return u;
}

/* ---- tcp ------------------------------------------------------------------ */

static bool is_literal(const char *host)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void format_peer(const struct sockaddr *sa, char *text, size_t cap)
{
	char addr[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		snprintf(text, cap, "%s:%u", addr, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		snprintf(text, cap, "[%s]:%u", addr, ntohs(in6->sin6_port));
	}
}

static int resolve(const struct upstream_target *t, struct addrinfo **res, char *why,
		   size_t whylen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_NUMERICSERV,
	};
	int rc;

	/* A literal never goes near DNS, so it cannot be answered by a resolver. */
	if (is_literal(t->host))
		hints.ai_flags |= AI_NUMERICHOST;
	rc = getaddrinfo(t->host, t->port, &hints, res);
	if (!rc)
		return 0;
	if (rc == EAI_SYSTEM) {
		rc = errno ? -errno : -EIO;
		return say(why, whylen, rc, "cannot resolve %s: %s", t->host, strerror(-rc));
	}
	if (rc == EAI_MEMORY)
		return say(why, whylen, -ENOMEM, "cannot resolve %s: out of memory", t->host);
	return say(why, whylen, -EHOSTUNREACH, "cannot resolve %s: %s", t->host,
		   gai_strerror(rc));
}

static int open_tcp(struct upstream *u, const struct upstream_target *t,
		    const struct allowlist *allow, char *why, size_t whylen)
{
	char first_why[ALLOWLIST_REASON_MAX] = "";
	struct addrinfo *res, *ai;
	unsigned refused = 0;
	int ret, fd, one = 1;

	if (!t->host || !t->port || !allow)
		return say(why, whylen, -EINVAL, "tcp upstream without host, port or allowed_ips");
	ret = resolve(t, &res, why, whylen);
	if (ret)
		return ret;
	/* Every address is checked; the first allowed one is used (upstream.h). */
	for (ai = res; ai; ai = ai->ai_next) {
		char reason[ALLOWLIST_REASON_MAX];

		if (allowlist_check(allow, ai->ai_addr, reason, sizeof(reason)))
			break;
		if (!refused++)
			snprintf(first_why, sizeof(first_why), "%s", reason);
	}
	if (!ai) {
		if (refused > 1)
			ret = say(why, whylen, -EPERM,
				  "%s: none of its %u addresses is allowed: %s", t->host, refused,
				  first_why);
		else
			ret = say(why, whylen, -EPERM, "%s", first_why);
		goto out;
	}
	format_peer(ai->ai_addr, u->peer, sizeof(u->peer));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		ret = say(why, whylen, -errno, "socket: %s", strerror(errno));
		goto out;
	}
	/* MCP and HTTP exchange small messages: send each one as it comes. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		u->connected = true;
	} else if (errno != EINPROGRESS) {
		ret = say(why, whylen, -errno, "connect to %s: %s", u->peer, strerror(errno));
		close(fd);
		goto out;
	}
	u->rfd = u->wfd = fd;
	ret = 0;
out:
	freeaddrinfo(res);
	return ret;
}

/* ---- stdio ---------------------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int spawn(struct upstream *u, const struct upstream_target *t, int in_fd, int out_fd,
		 int err_fd)
{
	static char *const empty_env[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int ret;

	ret = posix_spawn_file_actions_init(&fa);
	if (ret)
		return -ret;
	ret = posix_spawnattr_init(&attr);
	if (ret) {
		posix_spawn_file_actions_destroy(&fa);
		return -ret;
	}
	sigemptyset(&none);
	sigfillset(&all);
	ret = posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	if (!ret)
		ret = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	if (!ret && err_fd >= 0)
		ret = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	if (!ret && t->cwd)
		ret = posix_spawn_file_actions_addchdir_np(&fa, t->cwd);
	/* Only 0, 1, 2 cross over, even if some descriptor lacks O_CLOEXEC. */
	if (!ret)
		ret = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	/*
	 * Its own process group (one kill reaches its children), an empty mask
	 * and default dispositions: the gateway ignores SIGPIPE, and an ignored
	 * signal would otherwise stay ignored across exec.
	 */
	if (!ret)
		ret = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
							      POSIX_SPAWN_SETSIGMASK |
							      POSIX_SPAWN_SETSIGDEF);
	if (!ret)
		ret = posix_spawnattr_setpgroup(&attr, 0);
	if (!ret)
		ret = posix_spawnattr_setsigmask(&attr, &none);
	if (!ret)
		ret = posix_spawnattr_setsigdefault(&attr, &all);
	if (!ret)
		ret = posix_spawn(&u->pid, t->argv[0], &fa, &attr, t->argv,
				  t->envp ? t->envp : empty_env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		u->pid = 0;
	return -ret;
}

static int open_stdio(struct upstream *u, const struct upstream_target *t, char *why,
		      size_t whylen)
{
	int in[2], out[2], err[2] = { -1, -1 };
	int ret;

	if (!t->argv || !t->argv[0] || t->argv[0][0] != '/')
		return say(why, whylen, -EINVAL, "the command must be an absolute path");
	snprintf(u->peer, sizeof(u->peer), "%s", t->argv[0]);
	if (t->stderr_prefix) {
		u->prefix = strdup(t->stderr_prefix);
		if (!u->prefix)
			return say(why, whylen, -ENOMEM, "out of memory");
	}
	if (pipe2(in, O_CLOEXEC))
		return say(why, whylen, -errno, "pipe: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC)) {
		ret = say(why, whylen, -errno, "pipe: %s", strerror(errno));
		goto err_in;
	}
	if (u->prefix && pipe2(err, O_CLOEXEC)) {
		ret = say(why, whylen, -errno, "pipe: %s", strerror(errno));
		goto err_out;
	}
	ret = spawn(u, t, in[0], out[1], err[1]);
	if (ret) {
		/* posix_spawn reports exec's own error (ENOENT, EACCES, ENOEXEC...). */
		say(why, whylen, ret, "cannot start %s%s%s%s: %s", t->argv[0],
		    t->cwd ? " (in " : "", t->cwd ? t->cwd : "", t->cwd ? ")" : "",
		    strerror(-ret));
		if (ret == -EPERM)
			ret = -EACCES;	/* -EPERM means allowed_ips (upstream.h) */
		goto err_err;
	}
	close(in[0]);
	close(out[1]);
	close_fd(&err[1]);
	u->wfd = in[1];
	u->rfd = out[0];
	u->errfd = err[0];
	u->connected = true;
	/* The child is ours until reaped, so this pid names it: no race. */
	u->pidfd = pidfd_open(u->pid, 0);
	if (set_nonblock(u->wfd) || set_nonblock(u->rfd) ||
	    (u->errfd >= 0 && set_nonblock(u->errfd)))
		return say(why, whylen, -errno, "fcntl: %s", strerror(errno));
	return 0;

err_err:
	close_fd(&err[0]);
	close_fd(&err[1]);
err_out:
	close(out[0]);
	close(out[1]);
err_in:
	close(in[0]);
	close(in[1]);
	return ret;
}

/* ---- the interface -------------------------------------------------------- */

int upstream_open(struct upstream **out, const struct upstream_target *t,
		  const struct allowlist *allow, char *why, size_t whylen)
{
	struct upstream *u = alloc_upstream(t->kind);
	int ret;

	if (!u)
		return say(why, whylen, -ENOMEM, "out of memory");
	if (t->kind == UPSTREAM_TCP)
		ret = open_tcp(u, t, allow, why, whylen);
	else if (t->kind == UPSTREAM_STDIO)
		ret = open_stdio(u, t, why, whylen);
	else
		ret = say(why, whylen, -EINVAL, "unknown upstream kind");
	if (ret) {
		upstream_destroy(u, 0);
		return ret;
	}
	*out = u;
	return 0;
}

int upstream_connect_status(struct upstream *u)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), el = sizeof(int);
	struct pollfd p = { .fd = u->wfd, .events = POLLOUT };
	int err = 0;

	if (u->connected)
		return 0;
	if (u->connect_err)
		return u->connect_err;
	if (u->rfd < 0)
		return -EBADF;
	if (poll(&p, 1, 0) <= 0 || !p.revents)
		return -EINPROGRESS;
	if (getsockopt(u->rfd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (!err && getpeername(u->rfd, (struct sockaddr *)&ss, &sl) < 0)
		err = errno == ENOTCONN ? ECONNREFUSED : errno;
	if (err) {
		u->connect_err = -err;
		return u->connect_err;
	}
	u->connected = true;
	return 0;
}

int upstream_read_fd(const struct upstream *u)
{
	return u->rfd;
}

int upstream_write_fd(const struct upstream *u)
{
	return u->wr_shut ? -1 : u->wfd;
}

const char *upstream_peer(const struct upstream *u)
{
	return u->peer;
}

enum upstream_kind upstream_kind(const struct upstream *u)
{
	return u->kind;
}

ssize_t upstream_read(struct upstream *u, void *buf, size_t len)
{
	ssize_t n;

	if (u->rfd < 0)
		return -EBADF;
	do
		n = u->kind == UPSTREAM_TCP ? recv(u->rfd, buf, len, 0) : read(u->rfd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

ssize_t upstream_write(struct upstream *u, const void *buf, size_t len)
{
	ssize_t n;

	if (u->wr_shut || u->wfd < 0)
		return -EPIPE;
	do
		n = u->kind == UPSTREAM_TCP ? send(u->wfd, buf, len, MSG_NOSIGNAL) :
					      write(u->wfd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

int upstream_shutdown_write(struct upstream *u)
{
	if (u->wr_shut)
		return 0;
	u->wr_shut = true;
	if (u->kind == UPSTREAM_TCP)
		return u->wfd >= 0 && shutdown(u->wfd, SHUT_WR) < 0 && errno != ENOTCONN ?
			       -errno : 0;
	/* The child's stdin ends: for a stdio server, the end of its requests. */
	close_fd(&u->wfd);
	return 0;
}

/* ---- stderr --------------------------------------------------------------- */

int upstream_stderr_fd(const struct upstream *u)
{
	return u->errfd;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;		/* best effort (upstream.h) */
		p += w;
		n -= (size_t)w;
	}
}

/* One line (or piece) with its prefix, written in one write(2). */
static void emit_line(struct upstream *u, int out_fd, const char *s, size_t n)
{
	char line[UPSTREAM_STDERR_LINE + 128];
	int head = snprintf(line, sizeof(line), "%s[%ld]: ", u->prefix, (long)u->pid);

	if (head < 0 || (size_t)head >= sizeof(line) - n - 1)
		head = 0;
	memcpy(line + head, s, n);
	line[head + (int)n] = '\n';
	write_all(out_fd, line, (size_t)head + n + 1);
}

static void flush_stderr(struct upstream *u)
{
	if (u->err_len && u->err_out >= 0)
		emit_line(u, u->err_out, u->err_line, u->err_len);
	u->err_len = 0;
}

void upstream_stderr_pump(struct upstream *u, int out_fd)
{
	/* Bounded: a chatty child cannot keep the loop here. */
	for (unsigned round = 0; round < 16 && u->errfd >= 0; round++) {
		ssize_t n = read(u->errfd, u->err_line + u->err_len,
				 sizeof(u->err_line) - u->err_len);
		size_t start = 0;

		u->err_out = out_fd;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			flush_stderr(u);
			close_fd(&u->errfd);
			return;
		}
		u->err_len += (size_t)n;
		for (size_t i = 0; i < u->err_len; i++) {
			if (u->err_line[i] != '\n')
				continue;
			emit_line(u, out_fd, u->err_line + start, i - start);
			start = i + 1;
		}
		memmove(u->err_line, u->err_line + start, u->err_len - start);
		u->err_len -= start;
		if (u->err_len == sizeof(u->err_line))
			flush_stderr(u);
	}
}

/* ---- the child's end ------------------------------------------------------ */

pid_t upstream_pid(const struct upstream *u)
{
	return u->pid;
}

int upstream_exit_fd(const struct upstream *u)
{
	return u->pidfd;
}

enum child_state {
	CHILD_RUNNING,
	CHILD_EXITED,		/* a zombie (WNOWAIT): its pid is still ours */
	CHILD_GONE,		/* reaped by someone else (upstream.h forbids it) */
};

static enum child_state child_state(struct upstream *u)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)u->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD ? CHILD_GONE : CHILD_RUNNING;
	return si.si_pid == u->pid ? CHILD_EXITED : CHILD_RUNNING;
}

static bool child_exited(struct upstream *u)
{
	return child_state(u) != CHILD_RUNNING;
}

static void reap(struct upstream *u)
{
	pid_t r;

	/*
	 * Whatever the child left running in its group goes with it. Only
	 * while the pid is still ours (running or a zombie): a pid someone else
	 * reaped may already name another process.
	 */
	if (child_state(u) != CHILD_GONE) {
		kill(-u->pid, SIGKILL);
		do
			r = waitpid(u->pid, &u->status, 0);
		while (r < 0 && errno == EINTR);
	}
	u->pid = 0;
	close_fd(&u->pidfd);
}

bool upstream_reaped(struct upstream *u, int *status)
{
	if (u->pid && child_exited(u))
		reap(u);
	if (!u->pid && status)
		*status = u->status;
	return u->pid == 0;
}

void upstream_terminate(struct upstream *u)
{
	flush_stderr(u);
	if (u->kind == UPSTREAM_TCP) {
		close_fd(&u->rfd);
		u->wfd = -1;
	} else {
		close_fd(&u->rfd);
		close_fd(&u->wfd);
		close_fd(&u->errfd);
	}
	if (u->pid && !u->terminated)
		kill(-u->pid, SIGTERM);
	u->terminated = true;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until the child exits or @grace_ms pass. */
static void wait_exit(struct upstream *u, unsigned grace_ms)
{
	uint64_t deadline = mono_ms() + grace_ms;

	while (!child_exited(u)) {
		uint64_t now = mono_ms();

		if (now >= deadline)
			return;
		if (u->pidfd >= 0) {
			struct pollfd p = { .fd = u->pidfd, .events = POLLIN };

			poll(&p, 1, (int)(deadline - now));
		} else {
			struct timespec ts = { .tv_nsec = 2 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
}

void upstream_destroy(struct upstream *u, unsigned grace_ms)
{
	if (!u)
		return;
	upstream_terminate(u);
	if (u->pid) {
		if (grace_ms)
			wait_exit(u, grace_ms);
		reap(u);	/* SIGKILL first: a child still running dies now */
	}
	close_fd(&u->pidfd);
	free(u->prefix);
	free(u);
}
