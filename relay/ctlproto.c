/*
 * ctlproto.c — control requests: parse, validate, dispatch, answer
 * (ctlproto.h; the protocol is docs/control.md).
 *
 * Order of checks, each with its own message: size, JSON syntax (jansson,
 * duplicate keys refused), top-level object, "cmd" present and a string,
 * command known, no field the command does not take, every required field
 * present, each field's JSON type, then each value's range or syntax. Only
 * then does an op run. Text from the request is echoed in messages only after
 * being reduced to printable ASCII and cut short.
 *
 * Commands that change the relay are logged (event=control_cmd) with the
 * peer, the argument and the outcome: an operator's action must leave a trace
 * even when it fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "relay/ctlproto.h"
#include "relay/log.h"
#include "relay/stats.h"

enum {
	ECHO_MAX = 48,		/* request text quoted back in a message or the log */
	MSG_MAX = 256,
	FIELDS_MAX = 2,		/* fields a command takes besides "cmd" */
};

enum field_type {
	FIELD_NONE,
	FIELD_STRING,
	FIELD_INTEGER,
};

struct field {
	const char *name;
	enum field_type type;
	bool required;
};

/* An error answer under construction. */
struct failure {
	const char *code;
	char msg[MSG_MAX];
};

/*
 * A command's handler: fill @res (an empty object; "ok":true is added by the
 * caller) and return 0, or fill @f and return -1. A handler sets f->code to
 * NULL for "out of memory".
 */
typedef int (*command_fn)(const struct control_ops *ops, json_t *req, json_t *res,
			  struct failure *f);

struct command {
	const char *name;
	struct field fields[FIELDS_MAX];
	command_fn run;
	bool audit;		/* changes the relay: log who ran it and how it went */
};

static int fail(struct failure *f, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct failure *f, const char *code, const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_oom(struct failure *f)
{
	f->code = NULL;
	return -1;
}

/* An op's -errno as an error code (control.h documents the mapping). */
static int fail_errno(struct failure *f, int err, const char *what)
{
	static const struct {
		int err;
		const char *code;
	} map[] = {
		{ -ENOENT, CTLPROTO_E_NOT_FOUND },
		{ -EEXIST, CTLPROTO_E_EXISTS },
		{ -ENOSPC, CTLPROTO_E_FULL },
		{ -EINVAL, CTLPROTO_E_BAD_REQUEST },
		{ -EBUSY, CTLPROTO_E_BUSY },
		{ -EOPNOTSUPP, CTLPROTO_E_UNSUPPORTED },
	};
	const char *code = CTLPROTO_E_FAILED;

	if (err == -ENOMEM)
		return fail_oom(f);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].err == err)
			code = map[i].code;
	return fail(f, code, "%s: %s", what, strerror(err < 0 ? -err : err));
}

static int fail_unsupported(struct failure *f, const char *cmd)
{
	return fail(f, CTLPROTO_E_UNSUPPORTED, "this relay does not support \"%s\"", cmd);
}

/* Request text fit to quote in a message: printable ASCII, at most ECHO_MAX. */
static void echo(const char *s, size_t len, char out[ECHO_MAX + 4])
{
	size_t i;

	for (i = 0; i < len && i < ECHO_MAX; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' ? s[i] : '?';
	if (len > ECHO_MAX) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* Builders: each records a failure in *@oom instead of returning it. */
static void put(json_t *obj, const char *key, json_t *v, bool *oom)
{
	if (!v || json_object_set_new(obj, key, v))
		*oom = true;
}

static json_t *ju64(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* A NUL-terminated string of at most @cap bytes from a relay struct; never invalid JSON. */
static json_t *jtext(const char *s, size_t cap)
{
	size_t len = strnlen(s, cap);
	char clean[256];
	json_t *v;

	v = json_stringn(s, len);
	if (v)
		return v;
	/* Not UTF-8 (a relay bug, not the client's): show it, don't fail the command. */
	if (len >= sizeof(clean))
		len = sizeof(clean) - 1;
	for (size_t i = 0; i < len; i++)
		clean[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	return json_stringn(clean, len);
}

static json_t *jhex(const uint8_t *b, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char text[2 * TOKEN_ID_LEN + 1];

	if (2 * len >= sizeof(text))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		text[2 * i] = digits[b[i] >> 4];
		text[2 * i + 1] = digits[b[i] & 15];
	}
	text[2 * len] = '\0';
	return json_string(text);
}

static json_t *jsession_id(uint64_t id)
{
	char text[17];

	snprintf(text, sizeof(text), "%016" PRIx64, id);
	return json_string(text);
}

/* Exactly 2 * @len hex digits, either case. */
static bool parse_hex(const char *s, size_t slen, uint8_t *out, size_t len)
{
	if (slen != 2 * len)
		return false;
	for (size_t i = 0; i < 2 * len; i++) {
		char c = s[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (i % 2)
			out[i / 2] = (uint8_t)(out[i / 2] | v);
		else
			out[i / 2] = (uint8_t)(v << 4);
	}
	return true;
}

static const char *req_string(json_t *req, const char *key, size_t *len)
{
	json_t *v = json_object_get(req, key);

	*len = json_string_length(v);
	return json_string_value(v);
}

/* An optional integer field within [@min, @max], or @dflt when absent. */
static int req_range(json_t *req, const char *key, json_int_t min, json_int_t max,
		     json_int_t dflt, json_int_t *out, struct failure *f)
{
	json_t *v = json_object_get(req, key);

	*out = v ? json_integer_value(v) : dflt;
	if (*out < min || *out > max)
		return fail(f, CTLPROTO_E_BAD_REQUEST, "\"%s\" must be from %lld to %lld", key,
			    (long long)min, (long long)max);
	return 0;
}

/* --- stats ------------------------------------------------------------------------ */

static void stats_add(struct relay_stats *sum, const struct relay_stats *s)
{
	sum->rx_packets += s->rx_packets;
	sum->rx_bytes += s->rx_bytes;
	sum->tx_packets += s->tx_packets;
	sum->tx_bytes += s->tx_bytes;
	sum->forwarded += s->forwarded;
	sum->handled += s->handled;
	for (unsigned r = 0; r < RELAY_DROP_MAX; r++)
		sum->dropped[r] += s->dropped[r];
	sum->originated += s->originated;
	for (unsigned r = 0; r < RELAY_DROP_MAX; r++)
		sum->lost[r] += s->lost[r];
	sum->handoff_out += s->handoff_out;
	sum->handoff_in += s->handoff_in;
	sum->handshakes += s->handshakes;
	sum->cookies_sent += s->cookies_sent;
	sum->sessions_kicked += s->sessions_kicked;
	sum->sessions += s->sessions;
	sum->channels += s->channels;
	sum->busy_cycles += s->busy_cycles;
	sum->idle_cycles += s->idle_cycles;
	sum->busy_packets += s->busy_packets;
}

static json_t *stats_json(const struct relay_stats *s, int worker, bool *oom)
{
	static const char *const reason[] = {
#define REASON_NAME(name, str) str,
		RELAY_DROP_REASONS(REASON_NAME)
#undef REASON_NAME
	};
	json_t *o = json_object(), *drops = json_object(), *losses = json_object();
	uint64_t dropped = 0, lost = 0;

	if (!o || !drops || !losses) {
		*oom = true;
		json_decref(o);
		json_decref(drops);
		json_decref(losses);
		return NULL;
	}
	for (unsigned r = 0; r < RELAY_DROP_MAX; r++) {
		put(drops, reason[r], ju64(s->dropped[r]), oom);
		put(losses, reason[r], ju64(s->lost[r]), oom);
		dropped += s->dropped[r];
		lost += s->lost[r];
	}
	if (worker >= 0)
		put(o, "worker", json_integer(worker), oom);
	put(o, "rx_packets", ju64(s->rx_packets), oom);
	put(o, "rx_bytes", ju64(s->rx_bytes), oom);
	put(o, "tx_packets", ju64(s->tx_packets), oom);
	put(o, "tx_bytes", ju64(s->tx_bytes), oom);
	put(o, "forwarded", ju64(s->forwarded), oom);
	put(o, "handled", ju64(s->handled), oom);
	put(o, "dropped", ju64(dropped), oom);
	put(o, "drops", drops, oom);
	put(o, "originated", ju64(s->originated), oom);
	put(o, "lost", ju64(lost), oom);
	put(o, "losses", losses, oom);
	put(o, "handoff_out", ju64(s->handoff_out), oom);
	put(o, "handoff_in", ju64(s->handoff_in), oom);
	put(o, "handshakes", ju64(s->handshakes), oom);
	put(o, "cookies_sent", ju64(s->cookies_sent), oom);
	put(o, "sessions", ju64(s->sessions), oom);
	put(o, "sessions_kicked", ju64(s->sessions_kicked), oom);
	put(o, "channels", ju64(s->channels), oom);
	put(o, "busy_cycles", ju64(s->busy_cycles), oom);
	put(o, "idle_cycles", ju64(s->idle_cycles), oom);
	put(o, "busy_packets", ju64(s->busy_packets), oom);
	put(o, "cycles_per_packet",
	    json_real(s->busy_packets ? (double)s->busy_cycles / (double)s->busy_packets : 0.0),
	    oom);
	return o;
}

static int cmd_stats(const struct control_ops *ops, json_t *req, json_t *res, struct failure *f)
{
	struct relay_stats *per, total;
	json_t *workers;
	bool oom = false;
	unsigned n = 0;
	int ret;

	(void)req;
	if (!ops->stats)
		return fail_unsupported(f, "stats");
	per = aligned_alloc(_Alignof(struct relay_stats),
			    CONTROL_MAX_WORKERS * sizeof(struct relay_stats));
	if (!per)
		return fail_oom(f);
	memset(per, 0, CONTROL_MAX_WORKERS * sizeof(struct relay_stats));
	ret = ops->stats(ops->ctx, per, CONTROL_MAX_WORKERS, &n);
	if (ret) {
		free(per);
		return fail_errno(f, ret, "stats");
	}
	if (n > CONTROL_MAX_WORKERS)
		n = CONTROL_MAX_WORKERS;
	memset(&total, 0, sizeof(total));
	workers = json_array();
	if (!workers)
		oom = true;
	for (unsigned i = 0; i < n && !oom; i++) {
		stats_add(&total, &per[i]);
		if (json_array_append_new(workers, stats_json(&per[i], (int)i, &oom)))
			oom = true;
	}
	free(per);
	put(res, "workers", workers, &oom);
	put(res, "total", stats_json(&total, -1, &oom), &oom);
	return oom ? fail_oom(f) : 0;
}

/* --- status ----------------------------------------------------------------------- */

static int cmd_status(const struct control_ops *ops, json_t *req, json_t *res, struct failure *f)
{
	struct control_status st;
	bool oom = false;
	int ret;

	(void)req;
	if (!ops->status)
		return fail_unsupported(f, "status");
	memset(&st, 0, sizeof(st));
	ret = ops->status(ops->ctx, &st);
	if (ret)
		return fail_errno(f, ret, "status");
	put(res, "version", json_string(st.version ? st.version : "unknown"), &oom);
	put(res, "pid", json_integer(getpid()), &oom);
	put(res, "uptime_s", ju64(st.uptime_s), &oom);
	put(res, "workers", json_integer(st.workers), &oom);
	put(res, "sessions", ju64(st.sessions), &oom);
	put(res, "channels", ju64(st.channels), &oom);
	put(res, "ready", json_boolean(st.ready), &oom);
	put(res, "draining", json_boolean(st.draining), &oom);
	put(res, "drained", json_boolean(st.drained), &oom);
	put(res, "log_level", json_string(st.log_level ? st.log_level : "unknown"), &oom);
	return oom ? fail_oom(f) : 0;
}

/* --- sessions and channels -------------------------------------------------------- */

static json_t *session_json(const struct control_session *s, bool *oom)
{
	json_t *o = json_object(), *tunnels = json_array();
	unsigned nt = s->n_tunnels < TOKEN_MAX_TUNNELS ? s->n_tunnels : TOKEN_MAX_TUNNELS;

	if (!o || !tunnels) {
		*oom = true;
		json_decref(o);
		json_decref(tunnels);
		return NULL;
	}
	for (unsigned i = 0; i < nt; i++)
		if (json_array_append_new(tunnels, jtext(s->tunnels[i], sizeof(s->tunnels[i]))))
			*oom = true;
	put(o, "id", jsession_id(s->id), oom);
	put(o, "worker", json_integer(s->worker), oom);
	put(o, "role", json_string(s->role == TOKEN_ROLE_GATEWAY ? "gateway" :
				   s->role == TOKEN_ROLE_AGENT ? "agent" : "unknown"), oom);
	put(o, "tenant", jtext(s->tenant, sizeof(s->tenant)), oom);
	put(o, "tunnels", tunnels, oom);
	put(o, "peer", jtext(s->peer, sizeof(s->peer)), oom);
	put(o, "token_id", jhex(s->token_id, sizeof(s->token_id)), oom);
	put(o, "established", ju64(s->established_s), oom);
	put(o, "idle_ms", ju64(s->idle_ms), oom);
	put(o, "rx_packets", ju64(s->rx_packets), oom);
	put(o, "rx_bytes", ju64(s->rx_bytes), oom);
	put(o, "tx_packets", ju64(s->tx_packets), oom);
	put(o, "tx_bytes", ju64(s->tx_bytes), oom);
	put(o, "channels", json_integer(s->channels), oom);
	return o;
}

static json_t *channel_json(const struct control_channel *c, bool *oom)
{
	json_t *o = json_object();

	if (!o) {
		*oom = true;
		return NULL;
	}
	put(o, "tunnel", jtext(c->tunnel, sizeof(c->tunnel)), oom);
	put(o, "route", jtext(c->route, sizeof(c->route)), oom);
	put(o, "agent_session", jsession_id(c->agent_session), oom);
	put(o, "agent_channel", json_integer(c->agent_channel), oom);
	put(o, "gateway_session", jsession_id(c->gateway_session), oom);
	put(o, "gateway_channel", json_integer(c->gateway_channel), oom);
	put(o, "opened", ju64(c->opened_s), oom);
	put(o, "bytes_to_gateway", ju64(c->bytes_to_gateway), oom);
	put(o, "bytes_to_agent", ju64(c->bytes_to_agent), oom);
	return o;
}

static int cmd_sessions_list(const struct control_ops *ops, json_t *req, json_t *res,
			     struct failure *f)
{
	struct control_session *s;
	size_t n = 0, total = 0;
	json_int_t limit;
	json_t *arr;
	bool oom = false;
	int ret;

	if (req_range(req, "limit", 1, CTLPROTO_LIST_MAX, CTLPROTO_LIST_DEFAULT, &limit, f))
		return -1;
	if (!ops->sessions_list)
		return fail_unsupported(f, "sessions.list");
	s = calloc((size_t)limit, sizeof(*s));
	if (!s)
		return fail_oom(f);
	ret = ops->sessions_list(ops->ctx, s, (size_t)limit, &n, &total);
	if (ret) {
		free(s);
		return fail_errno(f, ret, "sessions.list");
	}
	if (n > (size_t)limit)
		n = (size_t)limit;
	arr = json_array();
	if (!arr)
		oom = true;
	for (size_t i = 0; i < n && !oom; i++)
		if (json_array_append_new(arr, session_json(&s[i], &oom)))
			oom = true;
	free(s);
	put(res, "total", ju64(total > n ? total : n), &oom);
	put(res, "sessions", arr, &oom);
	return oom ? fail_oom(f) : 0;
}

static int cmd_channels_list(const struct control_ops *ops, json_t *req, json_t *res,
			     struct failure *f)
{
	struct control_channel *c;
	size_t n = 0, total = 0;
	json_int_t limit;
	json_t *arr;
	bool oom = false;
	int ret;

	if (req_range(req, "limit", 1, CTLPROTO_LIST_MAX, CTLPROTO_LIST_DEFAULT, &limit, f))
		return -1;
	if (!ops->channels_list)
		return fail_unsupported(f, "channels.list");
	c = calloc((size_t)limit, sizeof(*c));
	if (!c)
		return fail_oom(f);
	ret = ops->channels_list(ops->ctx, c, (size_t)limit, &n, &total);
	if (ret) {
		free(c);
		return fail_errno(f, ret, "channels.list");
	}
	if (n > (size_t)limit)
		n = (size_t)limit;
	arr = json_array();
	if (!arr)
		oom = true;
	for (size_t i = 0; i < n && !oom; i++)
		if (json_array_append_new(arr, channel_json(&c[i], &oom)))
			oom = true;
	free(c);
	put(res, "total", ju64(total > n ? total : n), &oom);
	put(res, "channels", arr, &oom);
	return oom ? fail_oom(f) : 0;
}

static int cmd_sessions_kick(const struct control_ops *ops, json_t *req, json_t *res,
			     struct failure *f)
{
	char shown[ECHO_MAX + 4];
	uint8_t b[8];
	uint64_t id = 0;
	const char *s;
	size_t len;
	int ret;

	(void)res;
	s = req_string(req, "id", &len);
	if (!parse_hex(s, len, b, sizeof(b))) {
		echo(s, len, shown);
		return fail(f, CTLPROTO_E_BAD_REQUEST,
			    "\"id\" must be a session id of 16 hex digits, not \"%s\"", shown);
	}
	for (size_t i = 0; i < sizeof(b); i++)
		id = id << 8 | b[i];
	if (!ops->session_kick)
		return fail_unsupported(f, "sessions.kick");
	ret = ops->session_kick(ops->ctx, id);
	if (ret == -ENOENT)
		return fail(f, CTLPROTO_E_NOT_FOUND, "no session %016" PRIx64, id);
	return ret ? fail_errno(f, ret, "sessions.kick") : 0;
}

/* --- tokens and keys -------------------------------------------------------------- */

static int cmd_tokens_revoke(const struct control_ops *ops, json_t *req, json_t *res,
			     struct failure *f)
{
	char shown[ECHO_MAX + 4];
	uint8_t id[TOKEN_ID_LEN];
	const char *s;
	size_t len;
	int ret;

	(void)res;
	s = req_string(req, "id", &len);
	if (!parse_hex(s, len, id, sizeof(id))) {
		echo(s, len, shown);
		return fail(f, CTLPROTO_E_BAD_REQUEST,
			    "\"id\" must be a token id of 32 hex digits, not \"%s\"", shown);
	}
	if (!ops->token_revoke)
		return fail_unsupported(f, "tokens.revoke");
	ret = ops->token_revoke(ops->ctx, id);
	return ret ? fail_errno(f, ret, "tokens.revoke") : 0;
}

static int parse_key(json_t *req, uint8_t key[KEYS_LEN], struct failure *f)
{
	char shown[ECHO_MAX + 4];
	const char *s;
	size_t len;

	s = req_string(req, "key", &len);
	if (keys_from_text(s, len, key)) {
		echo(s, len, shown);
		return fail(f, CTLPROTO_E_BAD_REQUEST,
			    "\"key\" must be an Ed25519 public key: %d base64 characters "
			    "('posternctl pubkey --signing'), not \"%s\"", KEYS_TEXT_LEN, shown);
	}
	return 0;
}

static void put_signer_id(json_t *res, const uint8_t key[KEYS_LEN], bool *oom)
{
	uint8_t sid[TOKEN_SIGNER_ID_LEN];

	/* The id tokens carry (§6.1), so an operator can match keys and tokens. */
	if (!token_signer_id(key, sid))
		put(res, "signer_id", jhex(sid, sizeof(sid)), oom);
}

static int cmd_keys_trust(const struct control_ops *ops, json_t *req, json_t *res,
			  struct failure *f)
{
	uint8_t key[KEYS_LEN];
	bool oom = false;
	int ret;

	if (parse_key(req, key, f))
		return -1;
	if (!ops->key_trust)
		return fail_unsupported(f, "keys.trust");
	ret = ops->key_trust(ops->ctx, key);
	if (ret == -EEXIST)
		return fail(f, CTLPROTO_E_EXISTS, "this key is already trusted");
	if (ret == -ENOSPC)
		return fail(f, CTLPROTO_E_FULL, "the relay already trusts %d keys: "
			    "untrust one first", TOKEN_MAX_SIGNERS);
	if (ret)
		return fail_errno(f, ret, "keys.trust");
	put_signer_id(res, key, &oom);
	return oom ? fail_oom(f) : 0;
}

static int cmd_keys_untrust(const struct control_ops *ops, json_t *req, json_t *res,
			    struct failure *f)
{
	uint8_t key[KEYS_LEN];
	bool oom = false;
	int ret;

	if (parse_key(req, key, f))
		return -1;
	if (!ops->key_untrust)
		return fail_unsupported(f, "keys.untrust");
	ret = ops->key_untrust(ops->ctx, key);
	if (ret == -ENOENT)
		return fail(f, CTLPROTO_E_NOT_FOUND, "this key is not trusted");
	if (ret)
		return fail_errno(f, ret, "keys.untrust");
	put_signer_id(res, key, &oom);
	return oom ? fail_oom(f) : 0;
}

/* --- drain, reload, log level ----------------------------------------------------- */

static int cmd_drain(const struct control_ops *ops, json_t *req, json_t *res, struct failure *f)
{
	json_int_t ms;
	bool oom = false;
	int ret;

	if (req_range(req, "timeout_ms", 0, CTLPROTO_DRAIN_MAX_MS, CTLPROTO_DRAIN_DEFAULT_MS,
		      &ms, f))
		return -1;
	if (!ops->drain)
		return fail_unsupported(f, "drain");
	ret = ops->drain(ops->ctx, (uint32_t)ms);
	if (ret)
		return fail_errno(f, ret, "drain");
	put(res, "timeout_ms", json_integer(ms), &oom);
	return oom ? fail_oom(f) : 0;
}

static int cmd_reload(const struct control_ops *ops, json_t *req, json_t *res, struct failure *f)
{
	char msg[MSG_MAX - 32] = "";
	bool oom = false;
	int ret;

	(void)req;
	if (!ops->reload)
		return fail_unsupported(f, "reload");
	ret = ops->reload(ops->ctx, msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	if (ret == -ENOMEM)
		return fail_oom(f);
	if (ret)
		return fail(f, CTLPROTO_E_FAILED, "reload failed, the old configuration stays: %s",
			    msg[0] ? msg : strerror(-ret));
	if (msg[0])
		put(res, "message", jtext(msg, sizeof(msg)), &oom);
	return oom ? fail_oom(f) : 0;
}

static int cmd_log_level(const struct control_ops *ops, json_t *req, json_t *res,
			 struct failure *f)
{
	char shown[ECHO_MAX + 4];
	enum log_level level;
	const char *s;
	bool oom = false;
	size_t len;
	int ret;

	s = req_string(req, "level", &len);
	if (strlen(s) != len || log_level_parse(s, &level)) {
		echo(s, len, shown);
		return fail(f, CTLPROTO_E_BAD_REQUEST, "\"level\" must be one of %s, not \"%s\"",
			    LOG_LEVEL_NAMES, shown);
	}
	if (!ops->log_level)
		return fail_unsupported(f, "log-level");
	ret = ops->log_level(ops->ctx, level);
	if (ret)
		return fail_errno(f, ret, "log-level");
	put(res, "level", json_string(log_level_name(level)), &oom);
	return oom ? fail_oom(f) : 0;
}

/* --- dispatch --------------------------------------------------------------------- */

#define OPTIONAL(n, t) { .name = (n), .type = (t), .required = false }
#define REQUIRED(n, t) { .name = (n), .type = (t), .required = true }

static const struct command commands[] = {
	{ .name = "status", .run = cmd_status },
	{ .name = "stats", .run = cmd_stats },
	{ .name = "sessions.list", .fields = { OPTIONAL("limit", FIELD_INTEGER) },
	  .run = cmd_sessions_list },
	{ .name = "sessions.kick", .fields = { REQUIRED("id", FIELD_STRING) },
	  .run = cmd_sessions_kick, .audit = true },
	{ .name = "channels.list", .fields = { OPTIONAL("limit", FIELD_INTEGER) },
	  .run = cmd_channels_list },
	{ .name = "tokens.revoke", .fields = { REQUIRED("id", FIELD_STRING) },
	  .run = cmd_tokens_revoke, .audit = true },
	{ .name = "keys.trust", .fields = { REQUIRED("key", FIELD_STRING) },
	  .run = cmd_keys_trust, .audit = true },
	{ .name = "keys.untrust", .fields = { REQUIRED("key", FIELD_STRING) },
	  .run = cmd_keys_untrust, .audit = true },
	{ .name = "drain", .fields = { OPTIONAL("timeout_ms", FIELD_INTEGER) },
	  .run = cmd_drain, .audit = true },
	{ .name = "reload", .run = cmd_reload, .audit = true },
	{ .name = "log-level", .fields = { REQUIRED("level", FIELD_STRING) },
	  .run = cmd_log_level, .audit = true },
};

#define COMMAND_NAMES "status, stats, sessions.list, sessions.kick, channels.list, " \
	"tokens.revoke, keys.trust, keys.untrust, drain, reload, log-level"

static const struct field *find_field(const struct command *cmd, const char *name)
{
	for (unsigned i = 0; i < FIELDS_MAX && cmd->fields[i].name; i++)
		if (!strcmp(cmd->fields[i].name, name))
			return &cmd->fields[i];
	return NULL;
}

/* The request's shape against the command's fields: names, presence, JSON types. */
static int check_fields(const struct command *cmd, json_t *req, struct failure *f)
{
	char shown[ECHO_MAX + 4];
	const char *key;
	json_t *v;

	json_object_foreach(req, key, v) {
		const struct field *fd;

		if (!strcmp(key, "cmd"))
			continue;
		fd = find_field(cmd, key);
		if (!fd) {
			echo(key, strlen(key), shown);
			return fail(f, CTLPROTO_E_BAD_REQUEST,
				    "\"%s\" takes no field \"%s\"", cmd->name, shown);
		}
		if (fd->type == FIELD_STRING && !json_is_string(v))
			return fail(f, CTLPROTO_E_BAD_REQUEST, "\"%s\" must be a string", key);
		if (fd->type == FIELD_INTEGER && !json_is_integer(v))
			return fail(f, CTLPROTO_E_BAD_REQUEST, "\"%s\" must be an integer", key);
	}
	for (unsigned i = 0; i < FIELDS_MAX && cmd->fields[i].name; i++)
		if (cmd->fields[i].required && !json_object_get(req, cmd->fields[i].name))
			return fail(f, CTLPROTO_E_BAD_REQUEST, "\"%s\" needs the field \"%s\"",
				    cmd->name, cmd->fields[i].name);
	return 0;
}

static const struct command *find_command(json_t *req, struct failure *f)
{
	char shown[ECHO_MAX + 4];
	json_t *cmd = json_object_get(req, "cmd");
	const char *name;
	size_t len;

	if (!cmd) {
		fail(f, CTLPROTO_E_BAD_REQUEST, "a request needs \"cmd\"");
		return NULL;
	}
	if (!json_is_string(cmd)) {
		fail(f, CTLPROTO_E_BAD_REQUEST, "\"cmd\" must be a string");
		return NULL;
	}
	name = json_string_value(cmd);
	len = json_string_length(cmd);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strlen(commands[i].name) == len && !memcmp(commands[i].name, name, len))
			return &commands[i];
	echo(name, len, shown);
	fail(f, CTLPROTO_E_UNKNOWN_COMMAND, "unknown command \"%s\"; commands: " COMMAND_NAMES,
	     shown);
	return NULL;
}

/* Serialize @obj as one line. Consumes @obj. */
static int dump_line(json_t *obj, char **resp, size_t *resp_len)
{
	char *text, *line;
	size_t len;

	text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(obj);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	*resp = line;
	*resp_len = len + 1;
	return 0;
}

int ctlproto_error(const char *code, const char *message, char **resp, size_t *resp_len)
{
	json_t *o = json_object();
	bool oom = false;

	put(o, "ok", json_false(), &oom);
	put(o, "code", json_string(code), &oom);
	put(o, "error", jtext(message, strlen(message) + 1), &oom);
	if (oom) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump_line(o, resp, resp_len);
}

/* The command's one argument, as the log shows it: "id=..." or "" for none. */
static void describe_arg(const struct command *cmd, json_t *req, char *out, size_t cap)
{
	const char *name = cmd->fields[0].name;
	char shown[ECHO_MAX + 4];
	json_t *v;

	out[0] = '\0';
	v = name ? json_object_get(req, name) : NULL;
	if (json_is_string(v)) {
		echo(json_string_value(v), json_string_length(v), shown);
		snprintf(out, cap, " %s=\"%s\"", name, shown);
	} else if (json_is_integer(v)) {
		snprintf(out, cap, " %s=%lld", name, (long long)json_integer_value(v));
	}
}

static void audit(const struct command *cmd, json_t *req, const char *peer, int ret,
		  const struct failure *f)
{
	char arg[ECHO_MAX + 32];

	describe_arg(cmd, req, arg, sizeof(arg));
	if (!ret)
		log_info("event=control_cmd cmd=%s%s %s result=ok", cmd->name, arg,
			 peer ? peer : "peer=-");
	else
		log_warn("event=control_cmd cmd=%s%s %s result=error code=%s", cmd->name, arg,
			 peer ? peer : "peer=-", f->code ? f->code : "out_of_memory");
}

static int run(const struct control_ops *ops, const char *peer, const char *req_text,
	       size_t len, json_t *res, struct failure *f)
{
	const struct command *cmd;
	json_error_t jerr;
	json_t *req;
	int ret;

	if (len > CTLPROTO_MAX_REQUEST)
		return fail(f, CTLPROTO_E_TOO_LARGE, "a request is at most %d bytes",
			    CTLPROTO_MAX_REQUEST);
	req = json_loadb(req_text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		return fail(f, CTLPROTO_E_BAD_REQUEST, "not JSON: %s (at byte %d)", jerr.text,
			    jerr.position);
	if (!json_is_object(req)) {
		json_decref(req);
		return fail(f, CTLPROTO_E_BAD_REQUEST, "a request is a JSON object");
	}
	cmd = find_command(req, f);
	ret = cmd ? check_fields(cmd, req, f) : -1;
	if (!ret)
		ret = cmd->run(ops, req, res, f);
	if (cmd && cmd->audit)
		audit(cmd, req, peer, ret, f);
	json_decref(req);
	return ret;
}

int ctlproto_handle(const struct control_ops *ops, const char *peer, const char *req,
		    size_t len, char **resp, size_t *resp_len)
{
	json_t *out = json_object(), *res = json_object();
	struct failure f = { .code = NULL };
	bool oom = false;

	if (!out || !res) {
		json_decref(out);
		json_decref(res);
		return -ENOMEM;
	}
	if (run(ops, peer, req, len, res, &f)) {
		json_decref(out);
		json_decref(res);
		if (!f.code)
			return ctlproto_error(CTLPROTO_E_FAILED, "the relay is out of memory",
					      resp, resp_len);
		return ctlproto_error(f.code, f.msg, resp, resp_len);
	}
	put(out, "ok", json_true(), &oom);
	if (json_object_update(out, res))
		oom = true;
	json_decref(res);
	if (oom) {
		json_decref(out);
		return ctlproto_error(CTLPROTO_E_FAILED, "the relay is out of memory", resp,
				      resp_len);
	}
	return dump_line(out, resp, resp_len);
}
