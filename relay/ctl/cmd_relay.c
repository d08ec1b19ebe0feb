/*
 * cmd_relay.c — posternctl's commands for a running relay, spoken over its
 * control socket (the protocol: docs/control.md): status, stats, sessions,
 * channels, tokens revoke, keys trust/untrust, drain, reload, log-level.
 *
 * One connection per command: connect, send one request line, read one
 * response line, print it for a person (tables) or as JSON (--json), exit.
 * Values the relay will check anyway (ids, keys, levels) are checked here
 * first, so a typo gets a message about the command line rather than a round
 * trip; the relay's own checks stay the authority.
 *
 * Exit codes (ctl.h): 0 the relay did it; 1 bad input here or the relay said
 * no (not_found, exists, ...); 2 usage; 3 the relay could not be asked (no
 * socket, permission denied, refused as forbidden or busy, no answer).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "relay/control.h"
#include "relay/ctl/args.h"
#include "relay/ctl/ctl.h"
#include "relay/ctl/io.h"
#include "relay/ctlproto.h"
#include "relay/log.h"

enum {
	ANSWER_TIMEOUT_MS = 10000,
	ANSWER_MAX = 64 << 20,		/* a sessions.list of 1000 is well under 1 MiB */
	CELL_MAX = 72,
	MAX_COLS = 12,
};

/* Set by `posternctl --socket PATH` (main.c); a command's own --socket wins. */
const char *ctl_socket_path;

#define SOCKET_HELP \
	"  --socket PATH   the relay's control socket (default: $POSTERN_SOCKET, else\n" \
	"                  " CONTROL_DEFAULT_SOCKET ")\n"
#define JSON_HELP "  --json          print the relay's answer as JSON\n"
#define HELP_HELP "  -h, --help      show this help\n"

/* Long-only options shared by every relay command. */
enum {
	OPT_SOCKET = 256,
	OPT_JSON,
	OPT_LIMIT,
	OPT_WORKERS,
	OPT_TIMEOUT,
};

/* What a command line asked for, once parsed. */
struct call {
	const char *name;		/* "sessions list", for messages */
	const char *socket;
	bool json;
	bool workers;			/* stats --workers */
	long limit;			/* --limit, 0: the relay's default */
	long timeout_s;			/* drain --timeout, -1: the relay's default */
	char **args;			/* operands */
	int n_args;
	char operand[64];		/* args[0] as sent: session id, token id or key text */
};

/* Which options a command takes, beyond --socket, --json and --help. */
enum {
	TAKES_LIMIT = 1,
	TAKES_WORKERS = 2,
	TAKES_TIMEOUT = 4,
};

/* --- reading the answer ----------------------------------------------------------- */

static uint64_t ju(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	return (uint64_t)json_integer_value(v);
}

static const char *js(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static const char *yes_no(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key)) ? "yes" : "no";
}

/* 250 ms, 3.2 s, 5m 3s, 2d 4h */
static void format_ms(uint64_t ms, char *out, size_t cap)
{
	if (ms < 1000)
		snprintf(out, cap, "%" PRIu64 "ms", ms);
	else if (ms < 60000)
		snprintf(out, cap, "%.1fs", (double)ms / 1000.0);
	else
		args_format_span(ms / 1000, 0, out, cap);
}

/* --- talking to the relay --------------------------------------------------------- */

static const char *socket_of(const struct call *c)
{
	const char *env = getenv("POSTERN_SOCKET");

	if (c->socket)
		return c->socket;
	if (ctl_socket_path)
		return ctl_socket_path;
	return env && *env ? env : CONTROL_DEFAULT_SOCKET;
}

static int unreachable(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int unreachable(const char *fmt, ...)
{
	va_list ap;

	fputs("posternctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_UNREACHABLE;
}

static int connect_relay(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ctl_err("--socket '%s': a socket path is at most %zu bytes", path,
			       sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return unreachable("socket: %s", strerror(errno));
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		*out = fd;
		return CTL_EXIT_OK;
	}
	err = errno;
	close(fd);
	switch (err) {
	case ENOENT:
		return unreachable("no relay at %s (is postern-relay running? Choose the socket "
				   "with --socket or POSTERN_SOCKET)", path);
	case ECONNREFUSED:
		return unreachable("nothing listens at %s: the relay is not running", path);
	case EACCES:
	case EPERM:
		return unreachable("%s: permission denied: run posternctl as root or as the "
				   "relay's user (or a member of the socket's group)", path);
	default:
		return unreachable("cannot connect to %s: %s", path, strerror(err));
	}
}

/*
 * Send @line; a relay that refused us may have closed already, so a failed
 * send is not the end: its answer may be waiting to be read.
 */
static void send_line(int fd, const char *line, size_t len)
{
	while (len) {
		ssize_t n = send(fd, line, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

/* Read up to and including the first newline into a malloc'd *@out. */
static int read_answer(int fd, const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *nl = NULL;
	struct timespec start, now;

	if (!buf)
		return ctl_err("out of memory");
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!nl) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long waited;
		ssize_t r;
		int ready = 0;

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 +
			 (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited < ANSWER_TIMEOUT_MS)
			ready = poll(&pfd, 1, (int)(ANSWER_TIMEOUT_MS - waited));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			free(buf);
			return unreachable("%s: no answer from the relay within %d s", path,
					   ANSWER_TIMEOUT_MS / 1000);
		}
		if (n + 1 >= cap) {
			char *bigger = cap < ANSWER_MAX ? realloc(buf, cap * 2) : NULL;

			if (!bigger) {
				free(buf);
				return unreachable("%s: the relay's answer is too long", path);
			}
			buf = bigger;
			cap *= 2;
		}
		r = recv(fd, buf + n, cap - 1 - n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			free(buf);
			if (r < 0)
				return unreachable("%s: %s", path, strerror(errno));
			return unreachable("%s: the relay closed the connection without answering",
					   path);
		}
		nl = memchr(buf + n, '\n', (size_t)r);
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)(nl - buf);
	return CTL_EXIT_OK;
}

/*
 * Send @req (consumed) and read the answer into *@resp: an object with a
 * boolean "ok". @return CTL_EXIT_OK, or the exit code after printing why not.
 */
static int relay_call(const struct call *c, json_t *req, json_t **resp)
{
	const char *path = socket_of(c), *code;
	char *line, *answer = NULL;
	json_error_t jerr;
	size_t len = 0;
	int fd = -1, ret;

	line = req ? json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(req);
	if (!line)
		return ctl_err("out of memory");
	ret = connect_relay(path, &fd);
	if (ret) {
		free(line);
		return ret;
	}
	send_line(fd, line, strlen(line));
	send_line(fd, "\n", 1);
	free(line);
	ret = read_answer(fd, path, &answer, &len);
	close(fd);
	if (ret)
		return ret;
	*resp = json_loadb(answer, len, JSON_REJECT_DUPLICATES, &jerr);
	free(answer);
	if (!*resp)
		return unreachable("%s: the answer is not JSON: %s", path, jerr.text);
	if (!json_is_object(*resp) || !json_is_boolean(json_object_get(*resp, "ok"))) {
		json_decref(*resp);
		return unreachable("%s: the answer is not the relay's control protocol", path);
	}
	/* Refused before the request was read: the relay could not be asked. */
	code = json_string_value(json_object_get(*resp, "code"));
	if (json_is_false(json_object_get(*resp, "ok")) && code &&
	    (!strcmp(code, CTLPROTO_E_FORBIDDEN) || !strcmp(code, CTLPROTO_E_BUSY))) {
		ret = unreachable("%s: %s", path, js(*resp, "error"));
		json_decref(*resp);
		return ret;
	}
	return CTL_EXIT_OK;
}

/* --- tables ----------------------------------------------------------------------- */

struct table {
	unsigned cols, rows, cap;
	char (*cells)[CELL_MAX];		/* rows * cols, row 0 the header */
	bool right[MAX_COLS];			/* numbers align right */
};

static int table_init(struct table *t, unsigned cols, unsigned rows)
{
	t->cols = cols;
	t->rows = 0;
	t->cap = rows + 1;
	memset(t->right, 0, sizeof(t->right));
	t->cells = calloc((size_t)t->cap * cols, CELL_MAX);
	return t->cells ? 0 : -ENOMEM;
}

static char *cell(struct table *t, unsigned row, unsigned col)
{
	return t->cells[(size_t)row * t->cols + col];
}

static void table_row(struct table *t, const char *const *values)
{
	if (t->rows == t->cap)
		return;
	for (unsigned i = 0; i < t->cols; i++)
		snprintf(cell(t, t->rows, i), CELL_MAX, "%s", values[i]);
	t->rows++;
}

static void table_print(struct table *t)
{
	size_t width[MAX_COLS] = { 0 };

	for (unsigned r = 0; r < t->rows; r++)
		for (unsigned i = 0; i < t->cols; i++)
			if (strlen(cell(t, r, i)) > width[i])
				width[i] = strlen(cell(t, r, i));
	for (unsigned r = 0; r < t->rows; r++) {
		for (unsigned i = 0; i < t->cols; i++) {
			bool last = i + 1 == t->cols;

			if (t->right[i])
				printf("%*s%s", (int)width[i], cell(t, r, i), last ? "" : "  ");
			else
				printf("%-*s%s", last ? 0 : (int)width[i], cell(t, r, i),
				       last ? "" : "  ");
		}
		putchar('\n');
	}
	free(t->cells);
}

/* --- printers, one per command ---------------------------------------------------- */

static int print_status(const struct call *c, json_t *r)
{
	char up[32];

	(void)c;
	args_format_span(ju(r, "uptime_s"), 0, up, sizeof(up));
	printf("relay %s, pid %" PRIu64 ", up %s\n", js(r, "version"), ju(r, "pid"), up);
	printf("ready      %s\n", yes_no(r, "ready"));
	printf("draining   %s%s\n", yes_no(r, "draining"),
	       json_is_true(json_object_get(r, "drained")) ? " (drained: about to exit)" : "");
	printf("workers    %" PRIu64 "\n", ju(r, "workers"));
	printf("sessions   %" PRIu64 "\n", ju(r, "sessions"));
	printf("channels   %" PRIu64 "\n", ju(r, "channels"));
	printf("log level  %s\n", js(r, "log_level"));
	return CTL_EXIT_OK;
}

/* One row of the stats table: @key of "total" and of each worker. */
static void stats_row(struct table *t, const char *label, json_t *total, json_t *workers,
		      bool per_worker, const char *group, const char *key)
{
	const char *values[MAX_COLS];
	char nums[MAX_COLS][32];
	size_t n = per_worker ? json_array_size(workers) : 0;
	json_t *src;

	values[0] = label;
	for (size_t i = 0; i <= n && i + 1 < MAX_COLS; i++) {
		src = i ? json_array_get(workers, i - 1) : total;
		if (group)
			src = json_object_get(src, group);
		if (json_is_real(json_object_get(src, key)))
			snprintf(nums[i], sizeof(nums[i]), "%.1f",
				 json_real_value(json_object_get(src, key)));
		else
			snprintf(nums[i], sizeof(nums[i]), "%" PRIu64, ju(src, key));
		values[i + 1] = nums[i];
	}
	table_row(t, values);
}

static int print_stats(const struct call *c, json_t *r)
{
	static const struct {
		const char *label, *key;
	} rows[] = {
		{ "rx packets", "rx_packets" }, { "rx bytes", "rx_bytes" },
		{ "tx packets", "tx_packets" }, { "tx bytes", "tx_bytes" },
		{ "forwarded", "forwarded" }, { "handled", "handled" },
		{ "dropped", "dropped" },
	};
	static const struct {
		const char *label, *key;
	} tail[] = {
		{ "originated", "originated" }, { "lost", "lost" },
		{ "handshakes", "handshakes" }, { "cookies sent", "cookies_sent" },
		{ "handoff out", "handoff_out" }, { "handoff in", "handoff_in" },
		{ "sessions", "sessions" }, { "sessions kicked", "sessions_kicked" },
		{ "channels", "channels" },
		{ "cycles/packet", "cycles_per_packet" },
	};
	json_t *total = json_object_get(r, "total"), *workers = json_object_get(r, "workers");
	size_t nw = json_array_size(workers), cols = 2 + (c->workers ? nw : 0), n_rows;
	const char *header[MAX_COLS] = { "", "total" };
	char names[MAX_COLS][16], label[CELL_MAX];
	const char *reason;
	struct table t;
	json_t *v;

	if (cols > MAX_COLS)
		cols = MAX_COLS;	/* --json has them all */
	n_rows = sizeof(rows) / sizeof(rows[0]) + sizeof(tail) / sizeof(tail[0]) +
		 json_object_size(json_object_get(total, "drops")) +
		 json_object_size(json_object_get(total, "losses"));
	if (table_init(&t, (unsigned)cols, (unsigned)n_rows))
		return ctl_err("out of memory");
	for (size_t i = 2; i < cols; i++) {
		snprintf(names[i], sizeof(names[i]), "worker %zu", i - 2);
		header[i] = names[i];
	}
	for (size_t i = 1; i < cols; i++)
		t.right[i] = true;
	table_row(&t, header);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		stats_row(&t, rows[i].label, total, workers, c->workers, NULL, rows[i].key);
	/* Reasons that happened, in the relay's order; the rest are zero. */
	json_object_foreach(json_object_get(total, "drops"), reason, v) {
		if (!ju(json_object_get(total, "drops"), reason))
			continue;
		snprintf(label, sizeof(label), "  %s", reason);
		stats_row(&t, label, total, workers, c->workers, "drops", reason);
	}
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
		stats_row(&t, tail[i].label, total, workers, c->workers, NULL, tail[i].key);
		if (strcmp(tail[i].key, "lost"))
			continue;
		json_object_foreach(json_object_get(total, "losses"), reason, v) {
			if (!ju(json_object_get(total, "losses"), reason))
				continue;
			snprintf(label, sizeof(label), "  %s", reason);
			stats_row(&t, label, total, workers, c->workers, "losses", reason);
		}
	}
	table_print(&t);
	if (c->workers && nw + 2 > MAX_COLS)
		printf("(%zu workers; the first %d shown, --json shows all)\n", nw, MAX_COLS - 2);
	return CTL_EXIT_OK;
}

static void print_more(const char *what, size_t shown, uint64_t total)
{
	if (total > shown)
		printf("%zu of %" PRIu64 " %s shown; --limit N shows more (up to %d)\n", shown,
		       total, what, CTLPROTO_LIST_MAX);
	else
		printf("%" PRIu64 " %s\n", total, what);
}

static int print_sessions(const struct call *c, json_t *r)
{
	static const char *const header[] = {
		"ID", "WORKER", "ROLE", "TENANT", "TUNNELS", "PEER", "IDLE", "CHANNELS",
		"RX PKTS", "TX PKTS", "TOKEN",
	};
	json_t *arr = json_object_get(r, "sessions"), *s, *tun;
	size_t i, j;
	struct table t;

	(void)c;
	if (table_init(&t, 11, (unsigned)json_array_size(arr)))
		return ctl_err("out of memory");
	t.right[1] = t.right[6] = t.right[7] = t.right[8] = t.right[9] = true;
	table_row(&t, header);
	json_array_foreach(arr, i, s) {
		char worker[24], idle[32], chans[24], rx[24], tx[24], tunnels[CELL_MAX] = "";
		const char *row[11];
		size_t used = 0;

		json_array_foreach(json_object_get(s, "tunnels"), j, tun) {
			const char *name = json_string_value(tun);

			if (used < sizeof(tunnels))
				used += (size_t)snprintf(tunnels + used, sizeof(tunnels) - used,
							 "%s%s", j ? "," : "", name ? name : "?");
		}
		snprintf(worker, sizeof(worker), "%" PRIu64, ju(s, "worker"));
		format_ms(ju(s, "idle_ms"), idle, sizeof(idle));
		snprintf(chans, sizeof(chans), "%" PRIu64, ju(s, "channels"));
		snprintf(rx, sizeof(rx), "%" PRIu64, ju(s, "rx_packets"));
		snprintf(tx, sizeof(tx), "%" PRIu64, ju(s, "tx_packets"));
		row[0] = js(s, "id");
		row[1] = worker;
		row[2] = js(s, "role");
		row[3] = js(s, "tenant");
		row[4] = tunnels;
		row[5] = js(s, "peer");
		row[6] = idle;
		row[7] = chans;
		row[8] = rx;
		row[9] = tx;
		row[10] = js(s, "token_id");
		table_row(&t, row);
	}
	table_print(&t);
	print_more("sessions", json_array_size(arr), ju(r, "total"));
	return CTL_EXIT_OK;
}

static int print_channels(const struct call *c, json_t *r)
{
	static const char *const header[] = {
		"TUNNEL", "ROUTE", "AGENT SESSION", "CH", "GATEWAY SESSION", "CH", "OPENED",
		"TO GATEWAY", "TO AGENT",
	};
	json_t *arr = json_object_get(r, "channels"), *ch;
	struct table t;
	size_t i;

	(void)c;
	if (table_init(&t, 9, (unsigned)json_array_size(arr)))
		return ctl_err("out of memory");
	t.right[3] = t.right[5] = t.right[7] = t.right[8] = true;
	table_row(&t, header);
	json_array_foreach(arr, i, ch) {
		char ach[24], gch[24], opened[ARGS_TIME_TEXT_MAX], tog[24], toa[24];
		const char *row[9];

		snprintf(ach, sizeof(ach), "%" PRIu64, ju(ch, "agent_channel"));
		snprintf(gch, sizeof(gch), "%" PRIu64, ju(ch, "gateway_channel"));
		args_format_time(ju(ch, "opened"), opened);
		snprintf(tog, sizeof(tog), "%" PRIu64, ju(ch, "bytes_to_gateway"));
		snprintf(toa, sizeof(toa), "%" PRIu64, ju(ch, "bytes_to_agent"));
		row[0] = js(ch, "tunnel");
		row[1] = *js(ch, "route") ? js(ch, "route") : "-";
		row[2] = js(ch, "agent_session");
		row[3] = ach;
		row[4] = js(ch, "gateway_session");
		row[5] = gch;
		row[6] = opened;
		row[7] = tog;
		row[8] = toa;
		table_row(&t, row);
	}
	table_print(&t);
	print_more("channels", json_array_size(arr), ju(r, "total"));
	return CTL_EXIT_OK;
}

static int print_kick(const struct call *c, json_t *r)
{
	(void)r;
	printf("session %s ended\n", c->operand);
	return CTL_EXIT_OK;
}

static int print_revoke(const struct call *c, json_t *r)
{
	(void)r;
	printf("token %s revoked: its sessions are ended and new handshakes with it refused\n",
	       c->operand);
	return CTL_EXIT_OK;
}

static int print_trust(const struct call *c, json_t *r)
{
	printf("%s key %s (signer id %s)\n", strcmp(c->name, "keys trust") ? "no longer trusted:" :
	       "trusted:", c->operand, js(r, "signer_id"));
	return CTL_EXIT_OK;
}

static int print_drain(const struct call *c, json_t *r)
{
	char span[32];

	(void)c;
	format_ms(ju(r, "timeout_ms"), span, sizeof(span));
	printf("draining: endpoints were told to move within %s; new handshakes are refused, and "
	       "the relay exits when its channels are gone\n", span);
	return CTL_EXIT_OK;
}

static int print_reload(const struct call *c, json_t *r)
{
	(void)c;
	printf("configuration reloaded%s%s\n", *js(r, "message") ? ": " : "", js(r, "message"));
	return CTL_EXIT_OK;
}

static int print_level(const struct call *c, json_t *r)
{
	(void)c;
	printf("log level: %s\n", js(r, "level"));
	return CTL_EXIT_OK;
}

/* --- building requests ------------------------------------------------------------ */

static json_t *request(const char *cmd)
{
	json_t *o = json_object();

	if (o && json_object_set_new(o, "cmd", json_string(cmd))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *with(json_t *o, const char *key, json_t *v)
{
	if (o && (!v || json_object_set_new(o, key, v))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * A token id: 32 hex digits, or a token (pt1..., @FILE, -) whose id is read
 * from it. @return CTL_EXIT_OK with @hex set.
 */
static int token_id_arg(const char *arg, char hex[2 * TOKEN_ID_LEN + 1])
{
	uint8_t id[TOKEN_ID_LEN], buf[TOKEN_MAX_LEN];
	char text[TOKEN_TEXT_MAX + 2], err[256];
	struct token t;
	size_t tlen, blen;

	if (!args_parse_hex(arg, id, sizeof(id))) {
		args_format_hex(id, sizeof(id), hex);
		return CTL_EXIT_OK;
	}
	if (io_read_arg(arg, text, sizeof(text), &tlen, err, sizeof(err)))
		return ctl_err("%s", err);
	if (token_from_text(text, tlen, buf, sizeof(buf), &blen) || token_parse(buf, blen, &t))
		return ctl_err("'%s': expected a token id (32 hex digits, as 'posternctl token "
			       "inspect' shows it) or a token (pt1..., @FILE or -)", arg);
	args_format_hex(t.id, sizeof(t.id), hex);
	return CTL_EXIT_OK;
}

/*
 * Fill *@req from @c for command @cmd, and c->operand with the operand as it
 * is sent. Print why not and @return non-zero.
 */
static int build(struct call *c, const char *cmd, json_t **req)
{
	uint8_t key[KEYS_LEN], sid[8];
	char err[512];
	enum log_level level;
	int ret = CTL_EXIT_OK;

	*req = request(cmd);
	if (!strcmp(cmd, "sessions.list") || !strcmp(cmd, "channels.list")) {
		if (c->limit)
			*req = with(*req, "limit", json_integer(c->limit));
	} else if (!strcmp(cmd, "sessions.kick")) {
		if (args_parse_hex(c->args[0], sid, sizeof(sid)))
			ret = ctl_err("'%s': a session id is 16 hex digits, as 'posternctl "
				      "sessions list' shows it", c->args[0]);
		else
			args_format_hex(sid, sizeof(sid), c->operand);
		*req = with(*req, "id", json_string(c->operand));
	} else if (!strcmp(cmd, "tokens.revoke")) {
		ret = token_id_arg(c->args[0], c->operand);
		if (!ret)
			*req = with(*req, "id", json_string(c->operand));
	} else if (!strcmp(cmd, "keys.trust") || !strcmp(cmd, "keys.untrust")) {
		/* A file's message names the file; a bad text does not name itself. */
		if (keys_load_public(c->args[0], key, err, sizeof(err)))
			ret = c->args[0][0] == '@' ? ctl_err("%s", err) :
			      ctl_err("'%s': %s", c->args[0], err);
		if (!ret) {
			keys_to_text(key, c->operand);
			*req = with(*req, "key", json_string(c->operand));
		}
	} else if (!strcmp(cmd, "drain")) {
		if (c->timeout_s >= 0)
			*req = with(*req, "timeout_ms",
				    json_integer((json_int_t)c->timeout_s * 1000));
	} else if (!strcmp(cmd, "log-level")) {
		if (log_level_parse(c->args[0], &level))
			ret = ctl_err("'%s': a log level is one of %s", c->args[0],
				      LOG_LEVEL_NAMES);
		else
			*req = with(*req, "level", json_string(c->args[0]));
	}
	if (ret) {
		json_decref(*req);
		*req = NULL;
		return ret;
	}
	return *req ? CTL_EXIT_OK : ctl_err("out of memory");
}

/* --- one command, start to end ---------------------------------------------------- */

struct relay_cmd {
	const char *name;		/* as typed: "sessions list" */
	const char *cmd;		/* the protocol's: "sessions.list" */
	const char *usage;
	int n_args;			/* operands it needs: 0 or 1 */
	const char *operand;		/* its name, for messages */
	unsigned takes;			/* TAKES_* */
	int (*print)(const struct call *c, json_t *r);
};

static int parse_duration_s(const char *s, long *out)
{
	uint64_t v;

	/* Plain seconds (0 allowed: leave now), or a duration such as 5m. */
	if (args_parse_u64(s, &v) && args_parse_duration(s, &v))
		return -EINVAL;
	if (v > CTLPROTO_DRAIN_MAX_MS / 1000)
		return -ERANGE;
	*out = (long)v;
	return 0;
}

static int parse_args(const struct relay_cmd *rc, int argc, char **argv, struct call *c)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "workers", no_argument, NULL, OPT_WORKERS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int opt;

	memset(c, 0, sizeof(*c));
	c->name = rc->name;
	c->timeout_s = -1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			return ctl_print(rc->usage) == CTL_EXIT_OK ? -1 : CTL_EXIT_INVALID;
		case OPT_SOCKET:
			c->socket = optarg;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_LIMIT:
			if (!(rc->takes & TAKES_LIMIT))
				return ctl_usage_err(rc->name, "unknown option '--limit'");
			if (args_parse_u64(optarg, &v) || !v || v > CTLPROTO_LIST_MAX)
				return ctl_err("--limit '%s': a number from 1 to %d", optarg,
					       CTLPROTO_LIST_MAX);
			c->limit = (long)v;
			break;
		case OPT_WORKERS:
			if (!(rc->takes & TAKES_WORKERS))
				return ctl_usage_err(rc->name, "unknown option '--workers'");
			c->workers = true;
			break;
		case OPT_TIMEOUT:
			if (!(rc->takes & TAKES_TIMEOUT))
				return ctl_usage_err(rc->name, "unknown option '--timeout'");
			if (parse_duration_s(optarg, &c->timeout_s))
				return ctl_err("--timeout '%s': seconds from 0 to %d, or a "
					       "duration such as 90s or 5m", optarg,
					       CTLPROTO_DRAIN_MAX_MS / 1000);
			break;
		default:
			return ctl_getopt_err(rc->name, opt, argv);
		}
	}
	c->args = argv + optind;
	c->n_args = argc - optind;
	if (c->n_args < rc->n_args)
		return ctl_usage_err(rc->name, "missing %s", rc->operand);
	if (c->n_args > rc->n_args)
		return ctl_usage_err(rc->name, "unexpected argument '%s'", c->args[rc->n_args]);
	return CTL_EXIT_OK;
}

static int run_cmd(const struct relay_cmd *rc, int argc, char **argv)
{
	struct call c;
	json_t *req = NULL, *resp = NULL;
	char *text;
	int ret;

	ret = parse_args(rc, argc, argv, &c);
	if (ret)
		return ret < 0 ? CTL_EXIT_OK : ret;	/* -1: --help was printed */
	ret = build(&c, rc->cmd, &req);
	if (ret)
		return ret;
	ret = relay_call(&c, req, &resp);
	if (ret)
		return ret;
	if (c.json) {
		text = json_dumps(resp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		ret = text ? ctl_print(text) : ctl_err("out of memory");
		if (!ret)
			ret = ctl_print("\n");
		free(text);
	}
	if (json_is_false(json_object_get(resp, "ok"))) {
		ctl_err("relay: %s (%s)", js(resp, "error"), js(resp, "code"));
		ret = CTL_EXIT_INVALID;
	} else if (!c.json) {
		ret = rc->print(&c, resp);
		if (fflush(stdout))
			ret = ctl_err("cannot write to stdout");
	}
	json_decref(resp);
	return ret;
}

/* --- the commands ----------------------------------------------------------------- */

#define OPTIONS_HELP(extra) "\nOptions:\n" extra SOCKET_HELP JSON_HELP HELP_HELP "\n" \
	CTL_EXIT_CODES_HELP

static const struct relay_cmd status_cmd = {
	"status", "status",
	"Usage: posternctl [--socket PATH] status [--json]\n"
	"\n"
	"Show the relay's version, uptime, whether it is ready and draining, and how many\n"
	"workers, sessions and channels it has.\n"
	OPTIONS_HELP(""),
	0, NULL, 0, print_status,
};

static const struct relay_cmd stats_cmd = {
	"stats", "stats",
	"Usage: posternctl [--socket PATH] stats [--workers] [--json]\n"
	"\n"
	"Show the relay's packet counters: received = forwarded + handled + dropped, with\n"
	"each drop reason that occurred, packets the relay built and lost, handshakes,\n"
	"and busy TSC cycles per packet. The same numbers are on /metrics.\n"
	OPTIONS_HELP("  --workers       a column for each worker besides the total\n"),
	0, NULL, TAKES_WORKERS, print_stats,
};

static const struct relay_cmd sessions_list_cmd = {
	"sessions list", "sessions.list",
	"Usage: posternctl [--socket PATH] sessions list [--limit N] [--json]\n"
	"\n"
	"List the relay's hop sessions: id, worker, role, tenant, tunnels, peer address,\n"
	"time since the last packet, channels, packets, and the token id.\n"
	OPTIONS_HELP("  --limit N       show at most N sessions (1 to 1000; default 100)\n"),
	0, NULL, TAKES_LIMIT, print_sessions,
};

static const struct relay_cmd sessions_kick_cmd = {
	"sessions kick", "sessions.kick",
	"Usage: posternctl [--socket PATH] sessions kick ID\n"
	"\n"
	"End the session ID (16 hex digits, from 'sessions list'). The endpoint learns on\n"
	"its next packet and handshakes again; to keep it out, revoke its token.\n"
	OPTIONS_HELP(""),
	1, "the session ID", 0, print_kick,
};

static const struct relay_cmd channels_list_cmd = {
	"channels list", "channels.list",
	"Usage: posternctl [--socket PATH] channels list [--limit N] [--json]\n"
	"\n"
	"List the channels the relay splices: tunnel, route, the agent's and the gateway's\n"
	"session and channel id, when it opened, and the bytes carried each way.\n"
	OPTIONS_HELP("  --limit N       show at most N channels (1 to 1000; default 100)\n"),
	0, NULL, TAKES_LIMIT, print_channels,
};

static const struct relay_cmd tokens_revoke_cmd = {
	"tokens revoke", "tokens.revoke",
	"Usage: posternctl [--socket PATH] tokens revoke ID | TOKEN | @FILE | -\n"
	"\n"
	"Revoke a token on this relay: every session admitted with it ends, and handshakes\n"
	"carrying it are refused from now on (docs/protocol.md section 6.3). Give the\n"
	"token id (32 hex digits, as 'posternctl token inspect' shows it) or the token.\n"
	"The revocation lasts until the relay restarts: add it to the relay's revocation\n"
	"list too.\n"
	OPTIONS_HELP(""),
	1, "the token ID", 0, print_revoke,
};

static const struct relay_cmd keys_trust_cmd = {
	"keys trust", "keys.trust",
	"Usage: posternctl [--socket PATH] keys trust KEY | @FILE\n"
	"\n"
	"Trust a control-plane public key ('posternctl pubkey --signing') for signing\n"
	"tokens, from now on. Rotate keys by trusting the new one on every relay, issuing\n"
	"new tokens, then untrusting the old one. Until the relay restarts only: add the\n"
	"key to its configuration too.\n"
	OPTIONS_HELP(""),
	1, "the KEY", 0, print_trust,
};

static const struct relay_cmd keys_untrust_cmd = {
	"keys untrust", "keys.untrust",
	"Usage: posternctl [--socket PATH] keys untrust KEY | @FILE\n"
	"\n"
	"Stop trusting a control-plane public key: handshakes with tokens it signed are\n"
	"refused from now on (unknown_signer).\n"
	OPTIONS_HELP(""),
	1, "the KEY", 0, print_trust,
};

static const struct relay_cmd drain_cmd = {
	"drain", "drain",
	"Usage: posternctl [--socket PATH] drain [--timeout S]\n"
	"\n"
	"Start draining: the relay sends GOAWAY to every endpoint, refuses new\n"
	"handshakes, keeps forwarding for the drain time so channels can move elsewhere,\n"
	"and exits when none is left. /ready answers 503 from now on.\n"
	OPTIONS_HELP("  --timeout S     the drain time endpoints are given: seconds (0 to 3600)\n"
		     "                  or a duration like 5m (default: 30 s)\n"),
	0, NULL, TAKES_TIMEOUT, print_drain,
};

static const struct relay_cmd reload_cmd = {
	"reload", "reload",
	"Usage: posternctl [--socket PATH] reload\n"
	"\n"
	"Make the relay read its configuration again (as SIGHUP does), without dropping\n"
	"sessions. If the new configuration is invalid, the old one stays and the reason\n"
	"is shown.\n"
	OPTIONS_HELP(""),
	0, NULL, 0, print_reload,
};

static const struct relay_cmd log_level_cmd = {
	"log-level", "log-level",
	"Usage: posternctl [--socket PATH] log-level LEVEL\n"
	"\n"
	"Set the relay's log level while it runs: " LOG_LEVEL_NAMES ".\n"
	OPTIONS_HELP(""),
	1, "the LEVEL", 0, print_level,
};

/* `posternctl GROUP SUB ...`: pick SUB among @subs. */
static int run_group(const char *group, const char *usage, const struct relay_cmd *const *subs,
		     size_t n, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_err(group, "missing command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return ctl_print(usage);
	/* argv[1] names the subcommand; getopt scans from argv[2] on. */
	optind = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], strchr(subs[i]->name, ' ') + 1))
			return run_cmd(subs[i], argc - 1, argv + 1);
	return ctl_usage_err(group, "unknown command '%s'", argv[1]);
}

int cmd_status(int argc, char **argv)
{
	return run_cmd(&status_cmd, argc, argv);
}

int cmd_stats(int argc, char **argv)
{
	return run_cmd(&stats_cmd, argc, argv);
}

int cmd_sessions(int argc, char **argv)
{
	static const struct relay_cmd *const subs[] = { &sessions_list_cmd, &sessions_kick_cmd };

	return run_group("sessions",
			 "Usage: posternctl [--socket PATH] sessions list [--limit N] [--json]\n"
			 "       posternctl [--socket PATH] sessions kick ID\n"
			 "\n"
			 "List the relay's hop sessions, or end one. Run\n"
			 "'posternctl sessions list --help' or 'posternctl sessions kick --help'.\n"
			 "\n" CTL_EXIT_CODES_HELP, subs, 2, argc, argv);
}

int cmd_channels(int argc, char **argv)
{
	static const struct relay_cmd *const subs[] = { &channels_list_cmd };

	return run_group("channels",
			 "Usage: posternctl [--socket PATH] channels list [--limit N] [--json]\n"
			 "\n"
			 "List the channels the relay splices.\n"
			 "Run 'posternctl channels list --help'.\n"
			 "\n" CTL_EXIT_CODES_HELP, subs, 1, argc, argv);
}

int cmd_tokens(int argc, char **argv)
{
	static const struct relay_cmd *const subs[] = { &tokens_revoke_cmd };

	return run_group("tokens",
			 "Usage: posternctl [--socket PATH] tokens revoke ID | TOKEN | @FILE | -\n"
			 "\n"
			 "Revoke a token on a running relay ('posternctl token' issues and\n"
			 "inspects tokens). Run 'posternctl tokens revoke --help'.\n"
			 "\n" CTL_EXIT_CODES_HELP, subs, 1, argc, argv);
}

int cmd_keys(int argc, char **argv)
{
	static const struct relay_cmd *const subs[] = { &keys_trust_cmd, &keys_untrust_cmd };

	return run_group("keys",
			 "Usage: posternctl [--socket PATH] keys trust KEY | @FILE\n"
			 "       posternctl [--socket PATH] keys untrust KEY | @FILE\n"
			 "\n"
			 "Trust or stop trusting a control-plane public key on a running relay.\n"
			 "Run 'posternctl keys trust --help' or 'posternctl keys untrust --help'.\n"
			 "\n" CTL_EXIT_CODES_HELP, subs, 2, argc, argv);
}

int cmd_drain(int argc, char **argv)
{
	return run_cmd(&drain_cmd, argc, argv);
}

int cmd_reload(int argc, char **argv)
{
	return run_cmd(&reload_cmd, argc, argv);
}

int cmd_log_level(int argc, char **argv)
{
	return run_cmd(&log_level_cmd, argc, argv);
}
