/*
 * test_upstream.c — opening a route's upstream as the gateway's loop does:
 * a loopback TCP listener (connect, bytes both ways, half-close), a refused
 * port, a metadata address refused before any packet leaves (checked with the
 * kernel's own counters in a private network namespace), and stdio children:
 * echo, EOF on half-close, exactly the configured environment and directory,
 * no inherited descriptor, stderr prefixed, and no process left behind.
 */
#define _GNU_SOURCE	/* unshare, pipe2 */

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "endpoint/allowlist.h"
#include "endpoint/upstream.h"

enum { WAIT_MS = 10000 };	/* bounded waits, generous: the machine is shared */

static struct allowlist *defaults;

static void setup(void)
{
	/* What the gateway does, so a write to a dead child returns -EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(allowlist_create_default(&defaults), 0);
}

static void teardown(void)
{
	allowlist_destroy(defaults);
}

TestSuite(upstream, .init = setup, .fini = teardown);

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1;
}

/* A listening TCP socket on 127.0.0.1, any port; *@port gets it as text. */
static int listener(char port[8])
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(port, 8, "%u", ntohs(sin.sin_port));
	return fd;
}

/* Wait (bounded) until the connect is no longer in progress; @return its status. */
static int wait_connected(struct upstream *u)
{
	uint64_t deadline = mono_ms() + WAIT_MS;
	int ret;

	while ((ret = upstream_connect_status(u)) == -EINPROGRESS && mono_ms() < deadline)
		wait_fd(upstream_write_fd(u), POLLOUT, 100);
	return ret;
}

/* Read from @u until @want bytes or EOF (bounded). @return bytes read; *@eof set at EOF. */
static size_t read_upstream(struct upstream *u, char *buf, size_t want, bool *eof)
{
	uint64_t deadline = mono_ms() + WAIT_MS;
	size_t got = 0;

	*eof = false;
	while (got < want && mono_ms() < deadline) {
		ssize_t n;

		wait_fd(upstream_read_fd(u), POLLIN, 100);
		n = upstream_read(u, buf + got, want - got);
		if (n == 0) {
			*eof = true;
			break;
		}
		if (n == -EAGAIN)
			continue;
		cr_assert_gt(n, 0, "read: %s", strerror((int)-n));
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got;
}

/* Everything @u's child writes until EOF (bounded). */
static const char *read_to_eof(struct upstream *u)
{
	static char text[8192];
	bool eof;

	read_upstream(u, text, sizeof(text) - 1, &eof);
	cr_assert(eof, "no EOF from the child within %d ms; got: %s", WAIT_MS, text);
	return text;
}

static bool process_gone(pid_t pid)
{
	char path[64], stat[512];
	FILE *fp;
	bool gone;

	/* Not our child any more (reparented): gone, or a zombie its new parent will reap. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		return true;
	gone = fgets(stat, sizeof(stat), fp) && strstr(stat, ") Z ");
	fclose(fp);
	return gone;
}

/* ---- tcp ------------------------------------------------------------------ */

Test(upstream, tcp_connects_carries_bytes_and_half_closes)
{
	struct upstream_target t = { .kind = UPSTREAM_TCP, .host = "127.0.0.1" };
	char port[8], peer[32], buf[64], why[UPSTREAM_WHY_MAX] = "";
	int lfd = listener(port), cfd;
	struct upstream *u;
	bool eof;

	t.port = port;
	cr_assert_eq(upstream_open(&u, &t, defaults, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(upstream_kind(u), UPSTREAM_TCP);
	cr_assert_eq(wait_connected(u), 0);
	snprintf(peer, sizeof(peer), "127.0.0.1:%s", port);
	cr_expect_str_eq(upstream_peer(u), peer);
	cr_expect_eq(upstream_pid(u), 0);
	cr_expect_eq(upstream_exit_fd(u), -1);
	cfd = accept(lfd, NULL, NULL);
	cr_assert_geq(cfd, 0);

	/* agent → upstream */
	cr_assert_eq(upstream_write(u, "ping", 4), 4);
	cr_assert_eq(read(cfd, buf, sizeof(buf)), 4);
	cr_expect_eq(memcmp(buf, "ping", 4), 0);
	/* upstream → agent */
	cr_assert_eq(write(cfd, "pong!", 5), 5);
	cr_expect_eq(read_upstream(u, buf, 5, &eof), 5u);
	cr_expect_str_eq(buf, "pong!");

	/* FIN from the agent: the upstream reads EOF and may still answer. */
	cr_expect_eq(upstream_shutdown_write(u), 0);
	cr_expect_eq(upstream_shutdown_write(u), 0, "idempotent");
	cr_expect_eq(upstream_write_fd(u), -1);
	cr_expect_eq(upstream_write(u, "x", 1), -EPIPE);
	cr_assert(wait_fd(cfd, POLLIN, WAIT_MS));
	cr_expect_eq(read(cfd, buf, sizeof(buf)), 0, "the upstream sees the half-close");
	cr_assert_eq(write(cfd, "late", 4), 4);
	cr_expect_eq(read_upstream(u, buf, 4, &eof), 4u);
	cr_expect_str_eq(buf, "late");
	close(cfd);
	read_upstream(u, buf, 1, &eof);
	cr_expect(eof, "the upstream's close is EOF");

	upstream_destroy(u, 0);
	close(lfd);
}

Test(upstream, tcp_refused_port_reports_econnrefused)
{
	struct upstream_target t = { .kind = UPSTREAM_TCP, .host = "127.0.0.1" };
	char port[8], why[UPSTREAM_WHY_MAX] = "";
	struct upstream *u;
	int ret;

	/* A port that was just free: nothing listens on it now. */
	close(listener(port));
	t.port = port;
	ret = upstream_open(&u, &t, defaults, why, sizeof(why));
	if (ret) {
		cr_expect_eq(ret, -ECONNREFUSED, "%s", why);
		return;
	}
	cr_expect_eq(wait_connected(u), -ECONNREFUSED);
	cr_expect_eq(upstream_connect_status(u), -ECONNREFUSED, "the failure stays reported");
	upstream_destroy(u, 0);
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

Test(upstream, tcp_refusals_name_the_address_and_open_nothing)
{
	static const char *const ten[] = { "10.0.0.0/8" };
	static const struct {
		const char *host;
		bool use_default;
		const char *why;	/* substring */
	} cases[] = {
		{ "169.254.169.254", true, "169.254.169.254 is not in allowed_ips (link-local" },
		{ "::ffff:169.254.169.254", true, "169.254.169.254 is not in allowed_ips" },
		{ "fe80::1", true, "fe80::1 is not in allowed_ips" },
		{ "100.100.100.200", true, "a cloud metadata address" },
		{ "0.0.0.0", true, "0.0.0.0 is not in allowed_ips" },
		{ "203.0.113.9", false, "203.0.113.9 is not in allowed_ips" },
		{ "127.0.0.1", false, "127.0.0.1 is not in allowed_ips" },
		/* A name: every address it resolves to is checked. */
		{ "localhost", false, "127.0.0.1 is not in allowed_ips" },
	};
	struct allowlist *conf;
	char why[ALLOWLIST_REASON_MAX];

	cr_assert_eq(allowlist_create(&conf), 0);
	cr_assert_eq(allowlist_add(conf, ten[0], why, sizeof(why)), 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct upstream_target t = { .kind = UPSTREAM_TCP, .host = cases[i].host,
					     .port = "80" };
		char uwhy[UPSTREAM_WHY_MAX] = "";
		struct upstream *u = NULL;
		int before = count_fds();

		cr_expect_eq(upstream_open(&u, &t, cases[i].use_default ? defaults : conf, uwhy,
					   sizeof(uwhy)), -EPERM, "%s", cases[i].host);
		cr_expect(strstr(uwhy, cases[i].why), "%s: got \"%s\"", cases[i].host, uwhy);
		cr_expect_eq(count_fds(), before, "%s: no socket was made", cases[i].host);
	}
	allowlist_destroy(conf);
}

/* Tcp ActiveOpens and OutSegs, Ip OutRequests of the calling thread's namespace. */
static void snmp_counters(unsigned long long out[3])
{
	static const struct {
		const char *proto, *field;
	} want[] = { { "Tcp:", "ActiveOpens" }, { "Tcp:", "OutSegs" }, { "Ip:", "OutRequests" } };
	char head[2048], vals[2048];
	FILE *fp = fopen("/proc/net/snmp", "r");

	memset(out, 0xff, 3 * sizeof(out[0]));
	if (!fp)
		return;
	while (fgets(head, sizeof(head), fp) && fgets(vals, sizeof(vals), fp)) {
		for (unsigned w = 0; w < 3; w++) {
			char *hs, *vs, *h, *v;
			char hcopy[2048], vcopy[2048];

			if (strncmp(head, want[w].proto, strlen(want[w].proto)))
				continue;
			snprintf(hcopy, sizeof(hcopy), "%s", head);
			snprintf(vcopy, sizeof(vcopy), "%s", vals);
			h = strtok_r(hcopy, " \n", &hs);
			v = strtok_r(vcopy, " \n", &vs);
			while (h && v) {
				if (!strcmp(h, want[w].field))
					out[w] = strtoull(v, NULL, 10);
				h = strtok_r(NULL, " \n", &hs);
				v = strtok_r(NULL, " \n", &vs);
			}
		}
	}
	fclose(fp);
}

/*
 * In a fresh network namespace where 169.254.169.254 is a local address with
 * a listener on port 80 (a stand-in metadata service that any connect()
 * would reach): a plain connect does reach it, and upstream_open() with the
 * default list sends nothing — the namespace's own counters do not move and
 * the listener has nothing to accept. Runs in a child process: @return what
 * went wrong, or "ok", or "skip".
 */
static const char *metadata_in_netns(void)
{
	struct upstream_target t = { .kind = UPSTREAM_TCP, .host = "169.254.169.254",
				     .port = "80" };
	struct sockaddr_in md = { .sin_family = AF_INET, .sin_port = htons(80) };
	unsigned long long before[3], after[3];
	char why[UPSTREAM_WHY_MAX];
	struct ifreq ifr;
	struct upstream *u;
	int s, lfd, cfd, afd;

	if (unshare(CLONE_NEWNET))
		return "skip";
	inet_pton(AF_INET, "169.254.169.254", &md.sin_addr);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		return "SIOCGIFFLAGS lo";
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		return "bring lo up";
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:1");
	memcpy(&ifr.ifr_addr, &md, sizeof(md));
	if (ioctl(s, SIOCSIFADDR, &ifr))
		return "add 169.254.169.254 to lo";
	close(s);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&md, sizeof(md)) || listen(lfd, 8))
		return "listen on 169.254.169.254:80";

	/* Control: the counters see a real connect, and the listener gets it. */
	snmp_counters(before);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&md, sizeof(md)))
		return "control connect failed";
	snmp_counters(after);
	if (after[0] != before[0] + 1 || after[1] <= before[1])
		return "control connect not counted";
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		return "control connect not accepted";
	close(afd);
	close(cfd);

	snmp_counters(before);
	if (upstream_open(&u, &t, defaults, why, sizeof(why)) != -EPERM)
		return "upstream_open did not refuse 169.254.169.254";
	snmp_counters(after);
	if (memcmp(before, after, sizeof(before)))
		return "a packet was sent";
	if (accept(lfd, NULL, NULL) >= 0 || errno != EAGAIN)
		return "the stand-in metadata service got a connection";
	close(lfd);
	return "ok";
}

Test(upstream, metadata_refused_without_any_packet_sent)
{
	char msg[128] = "";
	int p[2], status;
	pid_t pid;
	ssize_t n;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const char *r = metadata_in_netns();

		n = write(p[1], r, strlen(r));
		_exit(n > 0 ? 0 : 1);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (!strcmp(msg, "skip"))
		cr_skip_test("no network namespace (needs root or CAP_NET_ADMIN)");
	cr_expect_str_eq(msg, "ok");
}

/* ---- stdio ---------------------------------------------------------------- */

static struct upstream *spawn(char *const *argv, char *const *envp, const char *cwd,
			      const char *prefix)
{
	struct upstream_target t = { .kind = UPSTREAM_STDIO, .argv = argv, .envp = envp,
				     .cwd = cwd, .stderr_prefix = prefix };
	char why[UPSTREAM_WHY_MAX] = "";
	struct upstream *u;

	cr_assert_eq(upstream_open(&u, &t, NULL, why, sizeof(why)), 0, "%s", why);
	return u;
}

static bool no_zombie(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == -1 && errno == ECHILD && process_gone(pid);
}

Test(upstream, stdio_cat_echoes_and_half_close_gives_eof)
{
	static char *const argv[] = { "/bin/cat", NULL };
	struct upstream *u = spawn(argv, NULL, NULL, NULL);
	char buf[64];
	pid_t pid = upstream_pid(u);
	bool eof;
	int status = -1;

	cr_assert_gt(pid, 0);
	cr_expect_eq(upstream_kind(u), UPSTREAM_STDIO);
	cr_expect_eq(upstream_connect_status(u), 0);
	cr_expect_str_eq(upstream_peer(u), "/bin/cat");
	cr_expect_neq(upstream_read_fd(u), upstream_write_fd(u));
	cr_expect_geq(upstream_exit_fd(u), 0);
	cr_expect_eq(upstream_stderr_fd(u), -1, "stderr inherited without a prefix");

	cr_assert_eq(upstream_write(u, "hello\n", 6), 6);
	cr_expect_eq(read_upstream(u, buf, 6, &eof), 6u);
	cr_expect_str_eq(buf, "hello\n");
	cr_expect_eq(upstream_read(u, buf, sizeof(buf)), -EAGAIN, "nonblocking");

	/* The agent's FIN closes cat's stdin: cat finishes, its stdout ends. */
	cr_expect_eq(upstream_shutdown_write(u), 0);
	cr_expect_eq(upstream_write_fd(u), -1);
	cr_expect_str_eq(read_to_eof(u), "");
	cr_assert(wait_fd(upstream_exit_fd(u), POLLIN, WAIT_MS), "the pidfd says it exited");
	cr_expect(upstream_reaped(u, &status));
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %x", status);
	cr_expect_eq(upstream_pid(u), 0);
	cr_expect(no_zombie(pid));
	upstream_destroy(u, 1000);
}

Test(upstream, stdio_close_reaps_a_running_child)
{
	static char *const argv[] = { "/bin/cat", NULL };
	struct upstream *u = spawn(argv, NULL, NULL, NULL);
	pid_t pid = upstream_pid(u);
	uint64_t t0 = mono_ms();

	cr_expect_not(upstream_reaped(u, NULL), "cat waits for input");
	/* SIGTERM (and EOF) end cat well inside the grace period. */
	upstream_destroy(u, WAIT_MS);
	cr_expect_lt(mono_ms() - t0, (uint64_t)WAIT_MS, "did not wait out the grace period");
	cr_expect(no_zombie(pid));
}

Test(upstream, stdio_sigterm_ignored_means_sigkill_after_grace_for_the_whole_group)
{
	/* sh and its background sleep ignore SIGTERM (inherited), and sh prints sleep's pid. */
	static char *const argv[] = {
		"/bin/sh", "-c", "trap '' TERM; /bin/sleep 1000 & echo $!; wait", NULL,
	};
	struct upstream *u = spawn(argv, NULL, NULL, NULL);
	pid_t pid = upstream_pid(u), grandchild;
	char buf[32];
	uint64_t t0, took;
	bool eof;

	/* One line holds the pid. */
	for (size_t got = 0; !memchr(buf, '\n', got) && got < sizeof(buf) - 1;) {
		size_t n = read_upstream(u, buf + got, 1, &eof);

		cr_assert(n == 1 && !eof, "sh printed no pid");
		got += n;
	}
	grandchild = (pid_t)atoi(buf);
	cr_assert_gt(grandchild, 1, "%s", buf);
	t0 = mono_ms();
	upstream_destroy(u, 300);
	took = mono_ms() - t0;
	cr_expect_geq(took, 290u, "the grace period is given (%llu ms)", (unsigned long long)took);
	cr_expect_lt(took, (uint64_t)WAIT_MS);
	cr_expect(no_zombie(pid));
	/* The grandchild got SIGKILL with its group; its new parent reaps it. */
	for (t0 = mono_ms(); !process_gone(grandchild) && mono_ms() - t0 < WAIT_MS;)
		usleep(10000);
	cr_expect(process_gone(grandchild), "sleep %d survived", (int)grandchild);
}

Test(upstream, stdio_child_gets_exactly_its_environment_and_directory)
{
	static char *const env_argv[] = { "/usr/bin/env", NULL };
	static char *const pwd_argv[] = { "/bin/sh", "-c", "pwd; echo \"${HOME-unset}\"", NULL };
	static char *const envp[] = { "FOO=bar", "MCP_TOKEN=s3cret", NULL };
	struct upstream *u;

	setenv("POSTERN_TEST_GATEWAY_SECRET", "must-not-leak", 1);
	u = spawn(env_argv, envp, NULL, NULL);
	cr_expect_str_eq(read_to_eof(u), "FOO=bar\nMCP_TOKEN=s3cret\n");
	upstream_destroy(u, 1000);

	u = spawn(env_argv, NULL, NULL, NULL);
	cr_expect_str_eq(read_to_eof(u), "", "no env: an empty environment");
	upstream_destroy(u, 1000);

	u = spawn(pwd_argv, NULL, "/tmp", NULL);
	cr_expect_str_eq(read_to_eof(u), "/tmp\nunset\n");
	upstream_destroy(u, 1000);
}

Test(upstream, stdio_child_inherits_no_descriptor_and_default_signals)
{
	static char *const ls_argv[] = { "/bin/ls", "/proc/self/fd", NULL };
	static char *const sig_argv[] = { "/bin/grep", "^SigIgn", "/proc/self/status", NULL };
	int leak = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC, on purpose */
	struct upstream *u;
	const char *out;

	cr_assert_geq(leak, 0);
	cr_assert_eq(dup2(leak, 50), 50);
	u = spawn(ls_argv, NULL, NULL, NULL);
	out = read_to_eof(u);
	/* 0, 1, 2, and ls's own directory descriptor. */
	cr_expect_str_eq(out, "0\n1\n2\n3\n");
	upstream_destroy(u, 1000);
	close(50);
	close(leak);

	/*
	 * The test ignores SIGPIPE like the gateway; the child must not inherit
	 * that. Only signals 1..31 count: glibc's posix_spawn leaves its own two
	 * internal real-time signals (32, 33) ignored, which no program notices.
	 */
	u = spawn(sig_argv, NULL, NULL, NULL);
	out = read_to_eof(u);
	cr_assert(!strncmp(out, "SigIgn:\t", 8), "%s", out);
	cr_expect_eq(strtoull(out + 8, NULL, 16) & 0x7fffffffull, 0ull, "ignored: %s", out);
	upstream_destroy(u, 1000);
}

Test(upstream, stdio_stderr_lines_are_prefixed)
{
	static char *const argv[] = {
		"/bin/sh", "-c", "echo one >&2; echo two >&2; printf partial >&2", NULL,
	};
	struct upstream *u = spawn(argv, NULL, NULL, "fs");
	char want[256], got[256] = "";
	uint64_t deadline = mono_ms() + WAIT_MS;
	int p[2];
	ssize_t n;

	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	snprintf(want, sizeof(want), "fs[%d]: one\nfs[%d]: two\nfs[%d]: partial\n",
		 (int)upstream_pid(u), (int)upstream_pid(u), (int)upstream_pid(u));
	cr_assert_geq(upstream_stderr_fd(u), 0);
	while (upstream_stderr_fd(u) >= 0 && mono_ms() < deadline) {
		wait_fd(upstream_stderr_fd(u), POLLIN, 100);
		upstream_stderr_pump(u, p[1]);
	}
	cr_expect_eq(upstream_stderr_fd(u), -1, "the pipe's end closes it");
	n = read(p[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	cr_expect_str_eq(got, want);
	upstream_destroy(u, 1000);
	close(p[0]);
	close(p[1]);
}

Test(upstream, stdio_write_to_a_finished_child_is_epipe)
{
	static char *const argv[] = { "/bin/true", NULL };
	struct upstream *u = spawn(argv, NULL, NULL, NULL);
	uint64_t deadline = mono_ms() + WAIT_MS;
	ssize_t n = 0;

	read_to_eof(u);
	while (!upstream_reaped(u, NULL) && mono_ms() < deadline)
		wait_fd(upstream_exit_fd(u), POLLIN, 100);
	n = upstream_write(u, "x", 1);
	cr_expect_eq(n, -EPIPE);
	upstream_destroy(u, 0);
}

Test(upstream, stdio_start_failures_say_why)
{
	static char *const missing[] = { "/nonexistent/postern-mcp", NULL };
	static char *const relative[] = { "cat", NULL };
	static char *const cat[] = { "/bin/cat", NULL };
	static const struct {
		char *const *argv;
		const char *cwd;
		int ret;
		const char *why;
	} cases[] = {
		{ missing, NULL, -ENOENT, "cannot start /nonexistent/postern-mcp: No such file" },
		{ cat, "/nonexistent-dir", -ENOENT, "cannot start /bin/cat (in /nonexistent-dir)" },
		{ relative, NULL, -EINVAL, "must be an absolute path" },
		{ cat, "/etc/passwd", -ENOTDIR, "(in /etc/passwd)" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct upstream_target t = { .kind = UPSTREAM_STDIO, .argv = cases[i].argv,
					     .cwd = cases[i].cwd };
		char why[UPSTREAM_WHY_MAX] = "";
		int before = count_fds();
		struct upstream *u;

		cr_expect_eq(upstream_open(&u, &t, NULL, why, sizeof(why)), cases[i].ret,
			     "case %u: %s", i, why);
		cr_expect(strstr(why, cases[i].why), "case %u: got \"%s\"", i, why);
		cr_expect_eq(count_fds(), before, "case %u: no descriptor left open", i);
	}
	cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "no child left behind");
}
