/*
 * test_control.c — the control plane's io_uring loop (relay/control.h) with
 * real sockets in a temporary directory, and its HTTP parser (relay/http.h)
 * in memory.
 *
 *   test thread(s) ── Unix socket DIR/relay.sock ──┐
 *   forked children (other uids) ──────────────────┤── control_run() thread ── fake relay
 *   test thread ── TCP 127.0.0.1:<port 0> ─────────┘          (control_fake.c)
 *
 * What a user would notice: answers arrive, one stuck client does not hold up
 * the others, oversize and slow requests are cut off with a reason, strangers
 * are refused, /metrics /ready /live answer as documented, signals and
 * control_stop() end the loop cleanly and leave no socket file behind.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "relay/control.h"
#include "relay/ctlproto.h"
#include "relay/http.h"
#include "tests/unit/control_fake.h"

enum {
	TEST_IDLE_MS = 400,
	TEST_REQUEST_MS = 1500,
	CLIENT_TIMEOUT_MS = 5000,	/* no client call in these tests blocks longer */
	NOBODY = 65534,
};

struct loop {
	char dir[64], sock[128];
	struct control_fake fake;
	struct control_ops ops;
	struct control *c;
	pthread_t thread;
	int ret;
	uint16_t port;
	atomic_uint ticks;
	unsigned stop_after_ticks;	/* 0: never */
};

static struct loop L;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void on_tick(void *ctx, struct control *c)
{
	struct loop *l = ctx;
	unsigned n = atomic_fetch_add(&l->ticks, 1) + 1;

	if (l->stop_after_ticks && n == l->stop_after_ticks)
		control_stop(c);
}

static void *run_loop(void *arg)
{
	struct loop *l = arg;

	l->ret = control_run(l->c);
	return NULL;
}

/* Parameters every test starts from: short timeouts, HTTP on a free port. */
static void test_params(struct control_params *p)
{
	control_params_default(p);
	p->socket_path = L.sock;
	p->http_addr = "127.0.0.1:0";
	p->idle_ms = TEST_IDLE_MS;
	p->request_ms = TEST_REQUEST_MS;
	p->tick_ms = 20;
	p->tick = on_tick;
	p->tick_ctx = &L;
}

static void make_dir(void)
{
	snprintf(L.dir, sizeof(L.dir), "/tmp/control-test.XXXXXX");
	cr_assert_not_null(mkdtemp(L.dir));
	/* Children running as another uid must reach the socket inside. */
	cr_assert_eq(chmod(L.dir, 0711), 0);
	snprintf(L.sock, sizeof(L.sock), "%s/relay.sock", L.dir);
}

static void loop_start(const struct control_params *p)
{
	char err[256] = "";
	int ret;

	ret = control_create(&L.c, p, &L.ops, err, sizeof(err));
	cr_assert_eq(ret, 0, "control_create: %d: %s", ret, err);
	L.port = control_http_port(L.c);
	cr_assert_eq(pthread_create(&L.thread, NULL, run_loop, &L), 0);
}

static void setup(void)
{
	struct control_params p;

	memset(&L, 0, sizeof(L));
	log_set_level(LOG_LEVEL_ERROR);
	control_fake_init(&L.fake);
	control_fake_ops(&L.fake, &L.ops);
	make_dir();
	test_params(&p);
	loop_start(&p);
}

/*
 * Stop the loop; it must return 0, close everything and remove the socket
 * file. @cc (may be NULL) gets the loop's counters.
 */
static void loop_stop_counters(struct control_counters *cc)
{
	struct stat st;

	if (!L.c)
		return;
	control_stop(L.c);
	cr_assert_eq(pthread_join(L.thread, NULL), 0);
	cr_assert_eq(L.ret, 0, "control_run returned %d", L.ret);
	if (cc)
		control_get_counters(L.c, cc);	/* the loop's thread has ended */
	control_destroy(L.c);
	L.c = NULL;
	cr_assert_neq(lstat(L.sock, &st), 0, "the socket file is left behind");
}

static void loop_stop(void)
{
	loop_stop_counters(NULL);
}

/* Even after a failed assertion: nothing of the test may stay in /tmp. */
static void teardown(void)
{
	static const char *const names[] = { "relay.sock", "child.sock", "other.sock",
					     "stale.sock" };
	char path[160];

	loop_stop();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", L.dir, names[i]);
		unlink(path);
	}
	rmdir(L.dir);
}

TestSuite(control, .init = setup, .fini = teardown, .timeout = 60);

/* --- clients ---------------------------------------------------------------------- */

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* @return a connected fd or -errno. */
static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	set_timeouts(fd, CLIENT_TIMEOUT_MS);
	return fd;
}

static int ctl_connect(void)
{
	int fd = unix_connect(L.sock);

	cr_assert_geq(fd, 0, "connect %s: %s", L.sock, strerror(-fd));
	return fd;
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	set_timeouts(fd, CLIENT_TIMEOUT_MS);
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		cr_assert_gt(n, 0, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* Read one line (without its newline) into @buf. @return its length, -1 at EOF or error. */
static ssize_t read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = recv(fd, buf + n, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (ssize_t)n;
		}
		n++;
	}
	return -1;
}

/* Read until the peer closes. @return the bytes read (NUL-terminated in @buf). */
static size_t read_to_eof(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	/* A signal to the test process is no answer: read on, as read_line() does. */
	while (n + 1 < cap && ((r = recv(fd, buf + n, cap - 1 - n, 0)) > 0 ||
			       (r < 0 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	cr_assert_eq(r, 0, "no EOF: %s", r < 0 ? strerror(errno) : "buffer full");
	buf[n] = '\0';
	return n;
}

static json_t *parse_line(const char *line)
{
	json_error_t jerr;
	json_t *o = json_loads(line, 0, &jerr);

	cr_assert_not_null(o, "not JSON: %s: %s", jerr.text, line);
	return o;
}

static json_t *request(int fd, const char *req)
{
	char line[65536];

	send_str(fd, req);
	send_str(fd, "\n");
	cr_assert_geq(read_line(fd, line, sizeof(line)), 0, "no answer to %s", req);
	return parse_line(line);
}

static bool is_ok(json_t *r)
{
	return json_is_true(json_object_get(r, "ok"));
}

static const char *code_of(json_t *r)
{
	return json_string_value(json_object_get(r, "code"));
}

/* @return true if the peer closes @fd within @ms (after any bytes it still sends). */
static bool closed_within(int fd, int ms)
{
	char buf[256];
	uint64_t end = now_ms() + (uint64_t)ms;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)(end > now_ms() ? end - now_ms() : 0);
		ssize_t r;

		if (poll(&pfd, 1, left) <= 0)
			return false;
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			return true;
	}
}

/* One HTTP exchange on a fresh connection. @return the status; the whole response in @out. */
static int http_raw(const char *req, char *out, size_t cap)
{
	int fd = tcp_connect(L.port), status = 0;

	send_str(fd, req);
	read_to_eof(fd, out, cap);
	close(fd);
	cr_assert_eq(sscanf(out, "HTTP/1.1 %d ", &status), 1, "not a response: %.80s", out);
	return status;
}

static int http_get(const char *path, char *out, size_t cap)
{
	char req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	return http_raw(req, out, cap);
}

static const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	cr_assert_not_null(b);
	return b + 4;
}

/* control_get_counters() belongs to the loop's thread: stop it, then read them. */
static struct control_counters counters(void)
{
	struct control_counters cc = { 0 };

	loop_stop_counters(&cc);
	return cc;
}

/* --- the control socket ----------------------------------------------------------- */

Test(control, answers_requests_and_the_socket_is_private)
{
	struct stat st;
	json_t *r;
	int fd;

	cr_assert_eq(lstat(L.sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "socket mode %o", st.st_mode & 07777);
	cr_assert_eq(st.st_uid, geteuid());
	fd = ctl_connect();
	r = request(fd, "{\"cmd\":\"status\"}");
	cr_assert(is_ok(r));
	cr_assert_str_eq(json_string_value(json_object_get(r, "version")), "9.8.7");
	json_decref(r);
	r = request(fd, "{\"cmd\":\"sessions.kick\",\"id\":\"0000000100000007\"}");
	cr_assert(is_ok(r));
	json_decref(r);
	r = request(fd, "{\"cmd\":\"nope\"}");
	cr_assert_str_eq(code_of(r), "unknown_command");
	json_decref(r);
	close(fd);
	cr_assert_eq(L.fake.n_kicked, 1);
}

Test(control, pipelined_requests_are_answered_in_order)
{
	char line[4096];
	int fd = ctl_connect();
	json_t *r;

	/* Three requests in one write, one with CRLF, the last without a newline. */
	send_str(fd, "{\"cmd\":\"status\"}\n{\"cmd\":\"log-level\",\"level\":\"debug\"}\r\n"
		 "{\"cmd\":\"drain\",\"timeout_ms\":1234}");
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 3; i++) {
		cr_assert_geq(read_line(fd, line, sizeof(line)), 0, "answer %d missing", i);
		r = parse_line(line);
		cr_assert(is_ok(r), "answer %d: %s", i, line);
		cr_assert_eq(i == 0, json_object_get(r, "version") != NULL);
		cr_assert_eq(i == 1, json_object_get(r, "level") != NULL);
		cr_assert_eq(i == 2, json_object_get(r, "timeout_ms") != NULL);
		json_decref(r);
	}
	cr_assert(closed_within(fd, 1000), "the loop closes after the last answer at EOF");
	close(fd);
	cr_assert_eq(L.fake.level, LOG_LEVEL_DEBUG);
	cr_assert_eq(L.fake.drain_ms, 1234);
}

Test(control, many_clients_at_once_all_get_answers)
{
	enum { N = 60 };
	int fds[N];
	char line[65536];

	for (int i = 0; i < N; i++)
		fds[i] = ctl_connect();
	/* Every request is in before any answer is read. */
	for (int i = 0; i < N; i++)
		send_str(fds[i], i % 2 ? "{\"cmd\":\"stats\"}\n" : "{\"cmd\":\"sessions.list\"}\n");
	for (int i = N - 1; i >= 0; i--) {
		json_t *r;

		cr_assert_geq(read_line(fds[i], line, sizeof(line)), 0, "client %d: no answer", i);
		r = parse_line(line);
		cr_assert(is_ok(r), "client %d: %s", i, line);
		cr_assert_not_null(json_object_get(r, i % 2 ? "total" : "sessions"));
		json_decref(r);
		close(fds[i]);
	}
	cr_assert_eq(counters().requests_ctl, N);
}

Test(control, a_stalled_client_does_not_hold_up_the_others)
{
	char line[4096];
	uint64_t t0, worst = 0;
	int slow, fd;

	slow = ctl_connect();
	send_str(slow, "{\"cmd\":\"sta");	/* half a request, then nothing */
	t0 = now_ms();
	for (int i = 0; i < 20; i++) {
		uint64_t t = now_ms();
		json_t *r;

		fd = ctl_connect();
		r = request(fd, "{\"cmd\":\"status\"}");
		cr_assert(is_ok(r));
		json_decref(r);
		close(fd);
		if (now_ms() - t > worst)
			worst = now_ms() - t;
	}
	/* All twenty were answered while the stalled one was still waiting. */
	cr_assert_lt(now_ms() - t0, TEST_IDLE_MS, "others waited %llu ms (worst %llu ms)",
		     (unsigned long long)(now_ms() - t0), (unsigned long long)worst);
	/* Then the stalled one is told why and closed, after idle_ms (not request_ms). */
	cr_assert_geq(read_line(slow, line, sizeof(line)), 0, "no timeout answer");
	cr_assert(strstr(line, "\"code\":\"timeout\""), "%s", line);
	cr_assert_geq(now_ms() - t0, TEST_IDLE_MS - 50);
	cr_assert_lt(now_ms() - t0, TEST_REQUEST_MS - 300, "cut off after %llu ms",
		     (unsigned long long)(now_ms() - t0));
	cr_assert(closed_within(slow, 1000));
	close(slow);
	cr_assert_eq(counters().timeouts, 1);
}

Test(control, a_client_that_trickles_is_cut_off_at_request_ms)
{
	uint64_t t0 = now_ms();
	char line[4096];
	int fd = ctl_connect();
	ssize_t n = 0;

	/* One byte every 100 ms: never idle, never done. */
	for (int i = 0; i < 40 && n >= 0; i++) {
		n = send(fd, "{", 1, MSG_NOSIGNAL);
		sleep_ms(100);
		if (closed_within(fd, 0) || n < 0)
			break;
	}
	cr_assert_lt(now_ms() - t0, TEST_REQUEST_MS + 700, "still open after %llu ms",
		     (unsigned long long)(now_ms() - t0));
	cr_assert_geq(now_ms() - t0, TEST_REQUEST_MS - 100);
	close(fd);
	(void)line;
	cr_assert_eq(counters().timeouts, 1);
}

Test(control, an_idle_client_is_closed_without_a_word)
{
	uint64_t t0 = now_ms();
	int fd = ctl_connect();
	char buf[64];

	cr_assert_eq(recv(fd, buf, sizeof(buf), 0), 0, "idle client got data or no close");
	cr_assert_geq(now_ms() - t0, TEST_IDLE_MS - 50);
	cr_assert_lt(now_ms() - t0, TEST_REQUEST_MS - 300, "closed after %llu ms, not idle_ms",
		     (unsigned long long)(now_ms() - t0));
	close(fd);
	cr_assert_eq(counters().timeouts, 1);
}

Test(control, an_oversize_request_gets_too_large_then_a_clean_close)
{
	size_t n = 100000;
	char *big = malloc(n), line[4096];
	json_t *r;
	int fd;

	cr_assert_not_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	fd = ctl_connect();
	/* All of it goes out: the loop keeps reading (and discarding) after its answer. */
	send_all(fd, big, n);
	cr_assert_geq(read_line(fd, line, sizeof(line)), 0, "no answer");
	r = parse_line(line);
	cr_assert_str_eq(code_of(r), "too_large");
	json_decref(r);
	shutdown(fd, SHUT_WR);
	cr_assert(closed_within(fd, 2000));
	close(fd);
	free(big);
	/* Exactly CTLPROTO_MAX_REQUEST bytes and a newline is still a request. */
	big = malloc(CTLPROTO_MAX_REQUEST + 1);
	memset(big, ' ', CTLPROTO_MAX_REQUEST);
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	big[CTLPROTO_MAX_REQUEST] = '\n';
	fd = ctl_connect();
	send_all(fd, big, CTLPROTO_MAX_REQUEST + 1);
	cr_assert_geq(read_line(fd, line, sizeof(line)), 0);
	cr_assert(strstr(line, "\"ok\":true"), "%s", line);
	close(fd);
	free(big);
	cr_assert_eq(counters().too_large, 1);
}

Test(control, beyond_max_conns_a_client_is_told_busy)
{
	struct control_params p;
	char line[512], resp[1024];
	int fds[4], extra;
	json_t *r;

	loop_stop();
	test_params(&p);
	p.max_conns = 4;
	p.idle_ms = 5000;
	loop_start(&p);
	for (int i = 0; i < 4; i++) {
		fds[i] = ctl_connect();
		r = request(fds[i], "{\"cmd\":\"status\"}");	/* admitted for sure */
		json_decref(r);
	}
	extra = ctl_connect();
	cr_assert_geq(read_line(extra, line, sizeof(line)), 0);
	cr_assert(strstr(line, "\"code\":\"busy\""), "%s", line);
	cr_assert(closed_within(extra, 1000));
	close(extra);
	/* Over HTTP: 503 at once, before the request is even read. */
	extra = tcp_connect(L.port);
	read_to_eof(extra, resp, sizeof(resp));
	close(extra);
	cr_assert(!strncmp(resp, "HTTP/1.1 503 ", 13), "%.60s", resp);
	/* A slot comes back when a client leaves. */
	close(fds[0]);
	sleep_ms(50);
	cr_assert_eq(http_get("/live", resp, sizeof(resp)), 200);
	for (int i = 1; i < 4; i++)
		close(fds[i]);
	cr_assert_eq(counters().refused_busy, 2);
}

Test(control, stop_closes_open_clients_and_removes_the_socket)
{
	int fd = ctl_connect(), h = tcp_connect(L.port);
	json_t *r = request(fd, "{\"cmd\":\"status\"}");

	json_decref(r);
	send_str(h, "GET /metr");
	sleep_ms(50);
	loop_stop();	/* asserts the socket file is gone */
	cr_assert(closed_within(fd, 1000));
	cr_assert(closed_within(h, 1000));
	cr_assert_lt(unix_connect(L.sock), 0);
	close(fd);
	close(h);
}

Test(control, the_tick_runs_and_may_stop_the_loop)
{
	loop_stop();
	L.stop_after_ticks = 5;
	L.ticks = 0;
	{
		struct control_params p;

		test_params(&p);
		loop_start(&p);
	}
	cr_assert_eq(pthread_join(L.thread, NULL), 0, "the loop did not stop from its tick");
	cr_assert_eq(L.ret, 0);
	cr_assert_eq(atomic_load(&L.ticks), 5);
	control_destroy(L.c);
	L.c = NULL;
}

/* --- who may connect -------------------------------------------------------------- */

/*
 * In a child: take @uid, @gid and @groups, connect to the control socket,
 * send status and report the first line of the answer (or "connect: ERR")
 * through a pipe. @return what the child reported.
 */
static void connect_as(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
		       char *out, size_t cap)
{
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	cr_assert_eq(pipe(pfd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char line[512] = "";
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		if (setgroups(n_groups, groups) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			_exit(3);
		fd = unix_connect(L.sock);
		if (fd < 0) {
			snprintf(line, sizeof(line), "connect: %s", strerrorname_np(-fd));
		} else {
			/* A refused peer may be closed before it writes: no SIGPIPE. */
			(void)!send(fd, "{\"cmd\":\"status\"}\n", 17, MSG_NOSIGNAL);
			if (read_line(fd, line, sizeof(line)) < 0)
				snprintf(line, sizeof(line), "no answer");
		}
		(void)!write(pfd[1], line, strlen(line));
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);
}

/* Send fd 2 (the log) to an unlinked file: nothing is left behind even if the test fails. */
static int capture_log_begin(int *saved)
{
	char path[] = "/tmp/control-log.XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	fflush(stderr);
	*saved = dup(2);
	dup2(fd, 2);
	return fd;
}

/* Put fd 2 back. @return what was logged (malloc'd). */
static char *capture_log_end(int saved, int fd)
{
	char *buf = calloc(1, 16384);
	ssize_t n;

	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, 16383, 0);
	close(fd);
	cr_assert_geq(n, 0);
	return buf;
}

Test(control, a_peer_with_another_uid_is_refused_and_logged)
{
	char out[512], *log;
	int saved, fd;

	if (geteuid() != 0)
		cr_skip_test("needs root to take another uid");
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_LEVEL_WARN);
	/* The file mode is the first wall. */
	connect_as(NOBODY, NOBODY, NULL, 0, out, sizeof(out));
	cr_assert_str_eq(out, "connect: EACCES");
	/* SO_PEERCRED is the second, for when the first is opened too wide. */
	cr_assert_eq(chmod(L.sock, 0666), 0);
	fd = capture_log_begin(&saved);
	connect_as(NOBODY, NOBODY, NULL, 0, out, sizeof(out));
	connect_as(NOBODY + 1, NOBODY, NULL, 0, out + 256, sizeof(out) - 256);
	log = capture_log_end(saved, fd);
	cr_assert(strstr(out, "\"code\":\"forbidden\""), "%s", out);
	cr_assert(strstr(out + 256, "\"code\":\"forbidden\""), "%s", out + 256);
	cr_assert(strstr(log, "warn: event=control_refused reason=peer_credentials pid="),
		  "log: %s", log);
	cr_assert(strstr(log, " uid=65534 gid=65534 socket="), "log: %s", log);
	/* The second refusal within a second is counted, not logged. */
	cr_assert_null(strstr(log, "uid=65535"), "log: %s", log);
	free(log);
	/* Root still gets in; nobody's requests never reached the relay. */
	connect_as(0, 0, NULL, 0, out, sizeof(out));
	cr_assert(strstr(out, "\"ok\":true"), "%s", out);
	cr_assert_eq(counters().refused_cred, 2);
}

Test(control, the_socket_group_admits_its_members_only)
{
	struct control_params p;
	gid_t group = 4242, other = 4243;
	char out[512];
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("needs root to take another uid");
	loop_stop();
	test_params(&p);
	p.socket_mode = 0660;
	p.socket_gid = group;
	loop_start(&p);
	cr_assert_eq(lstat(L.sock, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0660);
	cr_assert_eq(st.st_gid, group);
	connect_as(NOBODY, group, NULL, 0, out, sizeof(out));
	cr_assert(strstr(out, "\"ok\":true"), "primary group: %s", out);
	connect_as(NOBODY, other, &group, 1, out, sizeof(out));
	cr_assert(strstr(out, "\"ok\":true"), "supplementary group: %s", out);
	connect_as(NOBODY, other, &other, 1, out, sizeof(out));
	cr_assert_str_eq(out, "connect: EACCES");
	cr_assert_eq(chmod(L.sock, 0666), 0);
	connect_as(NOBODY, other, &other, 1, out, sizeof(out));
	cr_assert(strstr(out, "\"code\":\"forbidden\""), "outsider: %s", out);
}

/* --- HTTP ------------------------------------------------------------------------- */

/* Run tests/metrics_check.py (beside POSTERN_VECTORS) on @text. @return its exit status. */
static int metrics_check(const char *text)
{
	char in[] = "/tmp/control-metrics.XXXXXX", cmd[4600];
	const char *vectors = getenv("POSTERN_VECTORS");
	int fd = mkstemp(in), status;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 '%s/../metrics_check.py' '%s'",
		 vectors ? vectors : "tests/vectors", in);
	status = system(cmd);
	unlink(in);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

Test(control, http_serves_metrics_ready_and_live)
{
	static char resp[1 << 20];

	cr_assert_eq(http_get("/metrics", resp, sizeof(resp)), 200);
	cr_assert(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	cr_assert(strstr(resp, "\r\nConnection: close\r\n"));
	cr_assert(strstr(body_of(resp), "postern_relay_dropped_packets_total{worker=\"1\","
			 "reason=\"bad_mac1\"} 14\n"));
	cr_assert(strstr(body_of(resp),
			 "postern_control_connections_total{listener=\"http\"} 1\n"));
	cr_assert_eq(metrics_check(body_of(resp)), 0, "/metrics fails the checker");

	cr_assert_eq(http_get("/ready", resp, sizeof(resp)), 200);
	cr_assert_str_eq(body_of(resp), "ready\n");
	cr_assert_eq(http_get("/live", resp, sizeof(resp)), 200);
	cr_assert_str_eq(body_of(resp), "live\n");
	cr_assert_eq(http_get("/ready?verbose=1", resp, sizeof(resp)), 200);

	/* A drain over the control socket makes the relay not ready; it is still live. */
	{
		int fd = ctl_connect();

		json_decref(request(fd, "{\"cmd\":\"drain\"}"));
		close(fd);
	}
	cr_assert_eq(http_get("/ready", resp, sizeof(resp)), 503);
	cr_assert_str_eq(body_of(resp), "not ready\n");
	cr_assert_eq(http_get("/live", resp, sizeof(resp)), 200);
	cr_assert_eq(http_get("/metrics", resp, sizeof(resp)), 200);
	cr_assert(strstr(body_of(resp), "\npostern_relay_ready 0\n"));

	cr_assert_eq(http_get("/", resp, sizeof(resp)), 404);
	cr_assert_eq(http_get("/metrics/", resp, sizeof(resp)), 404);
	cr_assert_eq(http_raw("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
			      resp, sizeof(resp)), 405);
	cr_assert(strstr(resp, "\r\nAllow: GET, HEAD\r\n"));
	cr_assert_eq(http_raw("HEAD /live HTTP/1.0\r\n\r\n", resp, sizeof(resp)), 200);
	cr_assert_str_eq(body_of(resp), "", "HEAD has no body");
	cr_assert(strstr(resp, "Content-Length: 5\r\n"));
	cr_assert_eq(http_raw("hello\r\n\r\n", resp, sizeof(resp)), 400);
	cr_assert_eq(counters().requests_http, 12);
}

Test(control, http_oversize_header_gets_431_and_is_read)
{
	static char resp[4096];
	char *big = malloc(20000);
	int fd;

	memcpy(big, "GET /metrics HTTP/1.1\r\nX-Pad: ", 30);
	memset(big + 30, 'a', 20000 - 30);
	fd = tcp_connect(L.port);
	send_all(fd, big, 20000);
	shutdown(fd, SHUT_WR);
	/* No reset: the whole 431 arrives even though we sent more than was read. */
	read_to_eof(fd, resp, sizeof(resp));
	cr_assert(!strncmp(resp, "HTTP/1.1 431 ", 13), "%.60s", resp);
	close(fd);
	free(big);
}

Test(control, http_slowloris_is_cut_off_while_others_are_served)
{
	static char resp[4096];
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: b\r\n";
	uint64_t t0 = now_ms();
	int slow = tcp_connect(L.port);
	size_t sent = 0;

	/* A byte every 50 ms: under idle_ms, so only request_ms stops it. */
	while (!closed_within(slow, 50)) {
		if (send(slow, req + sent % (sizeof(req) - 1), 1, MSG_NOSIGNAL) < 0)
			break;
		sent++;
		if (sent % 4 == 0)
			cr_assert_eq(http_get("/live", resp, sizeof(resp)), 200);
		cr_assert_lt(now_ms() - t0, TEST_REQUEST_MS + 1000, "slowloris still served");
	}
	cr_assert_geq(now_ms() - t0, TEST_REQUEST_MS - 100);
	close(slow);
	/* A client that stops halfway is told 408 before the close. */
	slow = tcp_connect(L.port);
	send_str(slow, "GET /metrics HTTP/1.1\r\n");
	read_to_eof(slow, resp, sizeof(resp));
	cr_assert(!strncmp(resp, "HTTP/1.1 408 ", 13), "%.60s", resp);
	close(slow);
	cr_assert_eq(counters().timeouts, 2);
}

/* --- setup errors ----------------------------------------------------------------- */

Test(control, create_refuses_bad_parameters_with_a_reason)
{
	static const struct {
		const char *http;
		bool allow_public;
		unsigned mode;
		long gid;
		unsigned max_conns;
		const char *msg;
	} cases[] = {
		{ "0.0.0.0:0", false, 0600, -1, 8, "not a loopback address" },
		{ "192.0.2.1:9180", false, 0600, -1, 8, "not a loopback address" },
		{ "[::]:0", false, 0600, -1, 8, "not a loopback address" },
		{ "localhost:9180", false, 0600, -1, 8, "expected IPV4:PORT" },
		{ "127.0.0.1", false, 0600, -1, 8, "expected IPV4:PORT" },
		{ "127.0.0.1:65536", false, 0600, -1, 8, "expected IPV4:PORT" },
		{ "127.0.0.1:-1", false, 0600, -1, 8, "expected IPV4:PORT" },
		{ "::1:9180", false, 0600, -1, 8, "expected IPV4:PORT" },
		{ "[127.0.0.1]:9180", false, 0600, -1, 8, "expected IPV4:PORT" },
		{ "127.0.0.1:0", false, 0644, -1, 8, "mode 0644" },
		{ "127.0.0.1:0", false, 0660, -1, 8, "goes with a group" },
		{ "127.0.0.1:0", false, 0600, 4242, 8, "goes with a group" },
		{ "127.0.0.1:0", false, 0600, -1, 0, "max connections 0" },
		{ "127.0.0.1:0", false, 0600, -1, 5000, "max connections 5000" },
	};
	struct control_params p;
	struct control *c;
	char err[256];

	loop_stop();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_params(&p);
		snprintf(L.sock, sizeof(L.sock), "%s/other.sock", L.dir);
		p.http_addr = cases[i].http;
		p.http_allow_public = cases[i].allow_public;
		p.socket_mode = cases[i].mode;
		p.socket_gid = cases[i].gid;
		p.max_conns = cases[i].max_conns;
		err[0] = '\0';
		cr_assert_eq(control_create(&c, &p, &L.ops, err, sizeof(err)), -EINVAL,
			     "case %zu accepted", i);
		cr_assert(strstr(err, cases[i].msg), "case %zu: '%s' lacks '%s'", i, err,
			  cases[i].msg);
		cr_assert_neq(access(L.sock, F_OK), 0, "case %zu left a socket file", i);
	}
	/* Allowed explicitly, a public address is fine. */
	test_params(&p);
	p.http_addr = "0.0.0.0:0";
	p.http_allow_public = true;
	cr_assert_eq(control_create(&c, &p, &L.ops, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(control_http_port(c), 0);
	control_destroy(c);
	cr_assert_neq(access(L.sock, F_OK), 0);
}

Test(control, a_live_socket_is_kept_a_stale_one_replaced)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control_params p;
	struct control *c;
	char err[256];
	int fd;

	/* L's loop is live on L.sock: a second relay must not steal it. */
	test_params(&p);
	p.http_addr = NULL;
	cr_assert_eq(control_create(&c, &p, &L.ops, err, sizeof(err)), -EADDRINUSE);
	cr_assert(strstr(err, "another relay is listening there"), "%s", err);
	json_decref(request(ctl_connect(), "{\"cmd\":\"status\"}"));

	/* A socket file nobody listens on (a crashed relay's) is replaced. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stale.sock", L.dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	p.socket_path = sa.sun_path;
	cr_assert_eq(control_create(&c, &p, &L.ops, err, sizeof(err)), 0, "%s", err);
	control_destroy(c);
	cr_assert_neq(access(sa.sun_path, F_OK), 0);

	/* Anything else at the path is left alone. */
	fd = open(sa.sun_path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	cr_assert_eq(control_create(&c, &p, &L.ops, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "exists and is not a socket"), "%s", err);
	cr_assert_eq(access(sa.sun_path, F_OK), 0);
	unlink(sa.sun_path);
}

/* --- signals (in a single-threaded child, so no other thread takes them) ---------- */

/* main.c's policy: drain on the first SIGTERM, stop on the second; SIGHUP reloads. */
static void drain_then_stop(void *ctx, struct control *c, int signo)
{
	struct loop *l = ctx;

	if (signo == SIGHUP)
		control_reload(c, "SIGHUP");
	else if (!l->fake.draining)
		l->ops.drain(l->ops.ctx, 1000);
	else
		control_stop(c);
}

/*
 * The child: a loop on DIR/child.sock reading a signalfd, until a signal stops
 * it. Exit status: 100 if anything failed, else 10 * reloads + drains.
 */
static void child_loop(bool hook, int ready_fd)
{
	struct control_params p;
	struct control *c;
	char err[256];
	int sfd, ret;

	if (control_signalfd(&sfd))
		_exit(100);
	test_params(&p);
	snprintf(L.sock, sizeof(L.sock), "%s/child.sock", L.dir);
	p.http_addr = NULL;
	p.tick = NULL;
	p.signal_fd = sfd;
	if (hook) {
		p.on_signal = drain_then_stop;
		p.signal_ctx = &L;
	}
	if (control_create(&c, &p, &L.ops, err, sizeof(err)))
		_exit(100);
	(void)!write(ready_fd, "r", 1);
	ret = control_run(c);
	control_destroy(c);
	close(sfd);
	_exit(ret || !access(L.sock, F_OK) ? 100 : (int)(10 * L.fake.reloads + L.fake.drains));
}

static pid_t start_child(bool hook)
{
	int pfd[2];
	char r;
	pid_t pid;

	loop_stop();	/* nothing of the parent's loop may be live in the child */
	cr_assert_eq(pipe(pfd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* A parent that fails an assertion must not leave this loop running. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		child_loop(hook, pfd[1]);
	}
	close(pfd[1]);
	cr_assert_eq(read(pfd[0], &r, 1), 1, "the child's loop did not start");
	close(pfd[0]);
	snprintf(L.sock, sizeof(L.sock), "%s/child.sock", L.dir);
	return pid;
}

static int wait_child(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the child died: status %d", status);
	return WEXITSTATUS(status);
}

Test(control, sighup_reloads_and_sigterm_stops)
{
	pid_t pid = start_child(false);
	json_t *r;
	int fd;

	cr_assert_eq(kill(pid, SIGHUP), 0);
	fd = ctl_connect();
	r = request(fd, "{\"cmd\":\"status\"}");	/* still serving after SIGHUP */
	cr_assert(is_ok(r));
	json_decref(r);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert(closed_within(fd, 2000), "SIGTERM did not close the client");
	close(fd);
	/* signalfd hands out SIGHUP before SIGTERM, so exactly one reload ran. */
	cr_assert_eq(wait_child(pid), 10);
}

Test(control, an_on_signal_hook_decides_what_signals_mean)
{
	pid_t pid = start_child(true);
	uint64_t t0 = now_ms();
	bool draining = false;
	int fd;

	cr_assert_eq(kill(pid, SIGTERM), 0);	/* the first one drains */
	fd = ctl_connect();
	while (!draining && now_ms() - t0 < 3000) {
		json_t *r = request(fd, "{\"cmd\":\"status\"}");

		draining = json_is_true(json_object_get(r, "draining"));
		json_decref(r);
	}
	cr_assert(draining, "SIGTERM did not start a drain");
	cr_assert_eq(kill(pid, SIGHUP), 0);
	sleep_ms(100);
	cr_assert_eq(kill(pid, SIGTERM), 0);	/* the second one stops */
	cr_assert(closed_within(fd, 2000));
	close(fd);
	cr_assert_eq(wait_child(pid), 11);
}

/* --- the HTTP parser, in memory --------------------------------------------------- */

static int http_status(const char *req, const struct control_ops *ops)
{
	char *resp = NULL;
	size_t len = 0;
	int status = 0;

	cr_assert_eq(http_handle(ops, NULL, req, strlen(req), &resp, &len), 0);
	cr_assert_eq(sscanf(resp, "HTTP/1.1 %d ", &status), 1);
	cr_assert(strstr(resp, "\r\nContent-Length: "), "%s", resp);
	cr_assert(strstr(resp, "\r\nConnection: close\r\n"), "%s", resp);
	free(resp);
	return status;
}

Test(http, requests_map_to_statuses)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET /live HTTP/1.1\r\nHost: a\r\n\r\n", 200 },
		{ "GET /live HTTP/1.0\r\n\r\n", 200 },
		{ "GET /ready HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-Y:\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.1\r\nhost:   a  \r\n\r\n", 200 },
		{ "GET /live?x=1&y HTTP/1.1\r\nHost: a\r\n\r\n", 200 },
		{ "HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 200 },
		{ "GET /live HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 200 },
		{ "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404 },
		{ "GET /LIVE HTTP/1.1\r\nHost: a\r\n\r\n", 404 },
		{ "GET /live/ HTTP/1.1\r\nHost: a\r\n\r\n", 404 },
		{ "POST /live HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
		{ "DELETE /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
		{ "get /live HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
		{ "GET /live HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
		{ "GET /live HTTP/1.1\r\n\r\n", 400 },			/* no Host */
		{ "GET /live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET /live HTTP/1.1\nHost: a\n\n", 400 },		/* bare LF */
		{ "GET /live HTTP/1.1\r\nHost: a\r\n\r\nextra", 400 },	/* body bytes */
		{ "GET /live HTTP/1.1\r\nHost : a\r\n\r\n", 400 },	/* space before colon */
		{ "GET /live HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400 },
		{ "GET /live HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400 },
		{ "GET /live HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 400 },
		{ "GET /live HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
		{ "GET /live HTTP/1.1\r\nNoColon\r\nHost: a\r\n\r\n", 400 },
		{ "GET  /live HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /live  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET live HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET http://x/live HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /li\x01ve HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /live HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
		{ "G(T /live HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /live\r\n\r\n", 400 },
		{ "\r\n\r\n", 400 },
		{ "GET /live HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 400 },
	};
	struct control_fake fake;
	struct control_ops ops;

	control_fake_init(&fake);
	control_fake_ops(&fake, &ops);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(http_status(cases[i].req, &ops), cases[i].status, "case %zu: %s", i,
			     cases[i].req);
}

Test(http, ready_follows_the_relay_and_metrics_survive_a_failing_relay)
{
	static const char ready[] = "GET /ready HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char metrics[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
	struct control_ops none = { .ctx = NULL };
	struct control_fake fake;
	struct control_ops ops;

	control_fake_init(&fake);
	control_fake_ops(&fake, &ops);
	cr_assert_eq(http_status(ready, &ops), 200);
	fake.ready = false;
	cr_assert_eq(http_status(ready, &ops), 503);
	cr_assert_eq(http_status(ready, &none), 503, "no ready op: never ready");
	cr_assert_eq(http_status(metrics, &none), 200, "no stats op: still metrics");
	fake.fail = -EIO;
	cr_assert_eq(http_status(metrics, &ops), 500);
}

Test(http, header_end_is_found_only_when_complete)
{
	static const struct {
		const char *buf;
		size_t end;
	} cases[] = {
		{ "", 0 },
		{ "GET / HTTP/1.1\r\n", 0 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r", 0 },
		{ "GET / HTTP/1.1\r\n\r\n", 18 },
		{ "GET / HTTP/1.1\r\n\r\nBODY", 18 },
		{ "GET / HTTP/1.1\n\n", 16 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(http_header_end(cases[i].buf, strlen(cases[i].buf)), cases[i].end,
			     "case %zu", i);
}
