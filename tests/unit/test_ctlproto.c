/*
 * test_ctlproto.c — the control protocol (relay/ctlproto.h, docs/control.md)
 * against a fake relay: every malformed request gets a clear error and never
 * reaches an op; every command reaches its op with the right values and
 * answers what the op said.
 */
#define _GNU_SOURCE	/* memmem */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "relay/ctlproto.h"
#include "tests/unit/control_fake.h"

static struct control_fake fake;
static struct control_ops ops;

static void setup(void)
{
	control_fake_init(&fake);
	control_fake_ops(&fake, &ops);
	log_set_level(LOG_LEVEL_ERROR);	/* the audit lines are tested once, below */
}

TestSuite(ctlproto, .init = setup);

/*
 * Send @req (@len bytes) and return the parsed response, after checking that
 * it is exactly one line of one JSON object with a boolean "ok".
 */
static json_t *call_n(const struct control_ops *o, const char *req, size_t len)
{
	json_error_t jerr;
	char *resp = NULL;
	size_t resp_len = 0;
	json_t *obj;

	cr_assert_eq(ctlproto_handle(o, "pid=1 uid=0", req, len, &resp, &resp_len), 0);
	cr_assert(resp_len > 1 && resp[resp_len - 1] == '\n', "response is not a line: %s", resp);
	cr_assert_eq(strlen(resp), resp_len, "response has a NUL inside");
	cr_assert_null(memchr(resp, '\n', resp_len - 1), "response spans lines: %s", resp);
	obj = json_loadb(resp, resp_len, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert_not_null(obj, "response is not JSON (%s): %s", jerr.text, resp);
	cr_assert(json_is_object(obj));
	cr_assert(json_is_boolean(json_object_get(obj, "ok")), "no ok in %s", resp);
	free(resp);
	return obj;
}

static json_t *call(const char *req)
{
	return call_n(&ops, req, strlen(req));
}

static json_t *call_ok(const char *req)
{
	json_t *r = call(req);

	cr_assert(json_is_true(json_object_get(r, "ok")), "%s failed: %s: %s", req,
		  json_string_value(json_object_get(r, "code")),
		  json_string_value(json_object_get(r, "error")));
	return r;
}

/* Check an error response: code and a fragment of its message; frees @r. */
static void expect_error(json_t *r, const char *what, const char *code, const char *msg_part)
{
	const char *c = json_string_value(json_object_get(r, "code"));
	const char *e = json_string_value(json_object_get(r, "error"));

	cr_assert(json_is_false(json_object_get(r, "ok")), "%s: not an error", what);
	cr_assert_not_null(c, "%s: no code", what);
	cr_assert_not_null(e, "%s: no error message", what);
	cr_assert_str_eq(c, code, "%s: code %s, want %s (%s)", what, c, code, e);
	cr_assert(strstr(e, msg_part), "%s: message '%s' lacks '%s'", what, e, msg_part);
	cr_assert_eq(json_object_size(r), 3, "%s: an error has ok, code and error only", what);
	json_decref(r);
}

static uint64_t u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "%s is not an integer", key);
	return (uint64_t)json_integer_value(v);
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

/* Nothing a malformed request says may reach the relay. */
static void expect_no_op_ran(void)
{
	cr_assert_eq(fake.n_kicked + fake.n_revoked + fake.drains + fake.reloads +
		     fake.level_sets, 0, "a malformed request reached an op");
	cr_assert_eq(fake.n_trusted, 1);
}

Test(ctlproto, malformed_requests_get_clear_errors)
{
	static const struct {
		const char *req, *code, *msg;
	} cases[] = {
		{ "", "bad_request", "not JSON" },
		{ "{", "bad_request", "not JSON" },
		{ "{\"cmd\":\"status\"", "bad_request", "not JSON" },
		{ "{\"cmd\":\"status\"} x", "bad_request", "not JSON" },
		{ "{\"cmd\":\"status\"}{}", "bad_request", "not JSON" },
		{ "{'cmd':'status'}", "bad_request", "not JSON" },
		{ "{\"cmd\":\"status\",}", "bad_request", "not JSON" },
		{ "{\"cmd\":\"\xff\xfe\"}", "bad_request", "not JSON" },
		{ "{\"cmd\":\"status\",\"cmd\":\"stats\"}", "bad_request", "not JSON" },
		{ "{\"cmd\":\"log-level\",\"level\":\"info\\u0000\"}", "bad_request", "not JSON" },
		{ "\"status\"", "bad_request", "not JSON" },
		{ "[{\"cmd\":\"status\"}]", "bad_request", "a request is a JSON object" },
		{ "{}", "bad_request", "needs \"cmd\"" },
		{ "{\"command\":\"status\"}", "bad_request", "needs \"cmd\"" },
		{ "{\"cmd\":1}", "bad_request", "\"cmd\" must be a string" },
		{ "{\"cmd\":null}", "bad_request", "\"cmd\" must be a string" },
		{ "{\"cmd\":[\"status\"]}", "bad_request", "\"cmd\" must be a string" },
		{ "{\"cmd\":\"nope\"}", "unknown_command", "unknown command \"nope\"" },
		{ "{\"cmd\":\"STATUS\"}", "unknown_command", "commands: status, stats" },
		{ "{\"cmd\":\"status\\u0000\"}", "bad_request", "not JSON" },
		{ "{\"cmd\":\"sessions\"}", "unknown_command", "sessions.list" },
		{ "{\"cmd\":\"status\",\"verbose\":true}", "bad_request",
		  "\"status\" takes no field \"verbose\"" },
		{ "{\"cmd\":\"drain\",\"timeout\":5}",
		  "bad_request", "takes no field \"timeout\"" },
		{ "{\"cmd\":\"sessions.kick\"}", "bad_request", "needs the field \"id\"" },
		{ "{\"cmd\":\"sessions.kick\",\"id\":7}",
		  "bad_request", "\"id\" must be a string" },
		{ "{\"cmd\":\"sessions.kick\",\"id\":\"7\"}", "bad_request", "16 hex digits" },
		{ "{\"cmd\":\"sessions.kick\",\"id\":\"000000010000000g\"}", "bad_request",
		  "16 hex digits" },
		{ "{\"cmd\":\"sessions.kick\",\"id\":\"00000001000000070\"}", "bad_request",
		  "16 hex digits" },
		{ "{\"cmd\":\"sessions.list\",\"limit\":0}", "bad_request", "from 1 to 1000" },
		{ "{\"cmd\":\"sessions.list\",\"limit\":1001}", "bad_request", "from 1 to 1000" },
		{ "{\"cmd\":\"sessions.list\",\"limit\":-5}", "bad_request", "from 1 to 1000" },
		{ "{\"cmd\":\"sessions.list\",\"limit\":2.0}",
		  "bad_request", "must be an integer" },
		{ "{\"cmd\":\"sessions.list\",\"limit\":\"2\"}",
		  "bad_request", "must be an integer" },
		{ "{\"cmd\":\"sessions.list\",\"limit\":null}",
		  "bad_request", "must be an integer" },
		{ "{\"cmd\":\"sessions.list\",\"limit\":99999999999999999999}", "bad_request",
		  "not JSON" },
		{ "{\"cmd\":\"channels.list\",\"limit\":true}",
		  "bad_request", "must be an integer" },
		{ "{\"cmd\":\"tokens.revoke\"}", "bad_request", "needs the field \"id\"" },
		{ "{\"cmd\":\"tokens.revoke\",\"id\":\"f82969b47f0a47922dcbaf57f6d11a2\"}",
		  "bad_request", "32 hex digits" },
		{ "{\"cmd\":\"tokens.revoke\",\"id\":\"pt1.AAAA\"}",
		  "bad_request", "32 hex digits" },
		{ "{\"cmd\":\"tokens.revoke\",\"id\":{}}", "bad_request", "must be a string" },
		{ "{\"cmd\":\"keys.trust\"}", "bad_request", "needs the field \"key\"" },
		{ "{\"cmd\":\"keys.trust\",\"key\":\"abc\"}", "bad_request", "Ed25519 public key" },
		{ "{\"cmd\":\"keys.trust\",\"key\":\" " FAKE_TRUSTED_KEY "\"}", "bad_request",
		  "Ed25519 public key" },
		{ "{\"cmd\":\"keys.untrust\",\"key\":false}", "bad_request", "must be a string" },
		{ "{\"cmd\":\"drain\",\"timeout_ms\":-1}", "bad_request", "from 0 to 3600000" },
		{ "{\"cmd\":\"drain\",\"timeout_ms\":3600001}",
		  "bad_request", "from 0 to 3600000" },
		{ "{\"cmd\":\"drain\",\"timeout_ms\":1e3}", "bad_request", "must be an integer" },
		{ "{\"cmd\":\"reload\",\"file\":\"/etc/passwd\"}",
		  "bad_request", "takes no field" },
		{ "{\"cmd\":\"log-level\"}", "bad_request", "needs the field \"level\"" },
		{ "{\"cmd\":\"log-level\",\"level\":\"loud\"}", "bad_request",
		  "one of error, warn, info, debug" },
		{ "{\"cmd\":\"log-level\",\"level\":\"INFO\"}", "bad_request", "not \"INFO\"" },
		{ "{\"cmd\":\"log-level\",\"level\":3}", "bad_request", "must be a string" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(call(cases[i].req), cases[i].req, cases[i].code, cases[i].msg);
	expect_no_op_ran();
}

Test(ctlproto, oversize_request_is_refused_before_parsing)
{
	size_t n = CTLPROTO_MAX_REQUEST + 1;
	char *big = malloc(n);
	json_t *r;

	cr_assert_not_null(big);
	/* A valid request padded with spaces (legal JSON whitespace) past the limit. */
	memset(big, ' ', n);
	memcpy(big, "{\"cmd\":\"drain\"}", 15);
	expect_error(call_n(&ops, big, n), "oversize", "too_large", "at most 65536 bytes");
	expect_no_op_ran();
	/* One byte less is exactly the limit: still a request. */
	r = call_n(&ops, big, n - 1);
	cr_assert(json_is_true(json_object_get(r, "ok")));
	cr_assert_eq(fake.drains, 1);
	json_decref(r);
	free(big);
}

Test(ctlproto, deep_nesting_and_binary_garbage_do_not_crash)
{
	size_t n = 60000;
	char *deep = malloc(n);

	cr_assert_not_null(deep);
	memset(deep, '[', n);
	expect_error(call_n(&ops, deep, n), "deep nesting", "bad_request", "not JSON");
	for (size_t i = 0; i < n; i++)
		deep[i] = (char)(i * 131 + 7);
	expect_error(call_n(&ops, deep, n), "garbage", "bad_request", "not JSON");
	/* Request text quoted back is printable ASCII, cut short. */
	memset(deep, 'x', 200);
	memcpy(deep, "{\"cmd\":\"\x01", 9);
	memcpy(deep + 200, "\"}", 2);
	expect_error(call_n(&ops, deep, 202), "control char", "bad_request", "not JSON");
	free(deep);
	expect_no_op_ran();
}

Test(ctlproto, echoed_text_is_sanitised_and_short)
{
	json_t *r = call("{\"cmd\":\"x\\\"\\u00e9\\n"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}");
	const char *e = str(r, "error");

	cr_assert(strstr(e, "unknown command \"x????aaaa"), "%s", e);
	cr_assert(strstr(e, "...\""), "long names are cut: %s", e);
	cr_assert_lt(strlen(e), 300);
	json_decref(r);
}

Test(ctlproto, whitespace_around_the_object_is_fine)
{
	/* JSON whitespace is JSON; control.c has already taken the newline (and a CR). */
	json_decref(call_ok("  {\"cmd\":\"status\"}\t"));
	json_decref(call_ok("{ \"cmd\" : \"status\" }"));
}

Test(ctlproto, status_reports_the_relay)
{
	json_t *r = call_ok("{\"cmd\":\"status\"}");

	cr_assert_str_eq(str(r, "version"), "9.8.7");
	cr_assert_eq(u64(r, "pid"), (uint64_t)getpid());
	cr_assert_eq(u64(r, "uptime_s"), 3725);
	cr_assert_eq(u64(r, "workers"), 2);
	cr_assert_eq(u64(r, "sessions"), 3);
	cr_assert_eq(u64(r, "channels"), 2);
	cr_assert(json_is_true(json_object_get(r, "ready")));
	cr_assert(json_is_false(json_object_get(r, "draining")));
	cr_assert(json_is_false(json_object_get(r, "drained")));
	cr_assert_str_eq(str(r, "log_level"), "info");
	json_decref(r);
}

Test(ctlproto, stats_has_every_worker_every_reason_and_the_total)
{
	json_t *r = call_ok("{\"cmd\":\"stats\"}"), *workers, *total, *drops, *w1;
	const struct relay_stats *s0 = &fake.stats[0], *s1 = &fake.stats[1];

	workers = json_object_get(r, "workers");
	cr_assert(json_is_array(workers));
	cr_assert_eq(json_array_size(workers), 2);
	w1 = json_array_get(workers, 1);
	cr_assert_eq(u64(w1, "worker"), 1);
	cr_assert_eq(u64(w1, "rx_packets"), s1->rx_packets);
	drops = json_object_get(w1, "drops");
	cr_assert_eq(json_object_size(drops), RELAY_DROP_MAX, "every reason is listed");
	cr_assert_eq(u64(drops, "bad_mac1"), 14);
	cr_assert_eq(u64(drops, "replayed"), 46);
	cr_assert_eq(u64(drops, "internal"), 0);
	cr_assert_eq(u64(w1, "dropped"), 60);
	cr_assert_eq(u64(json_object_get(w1, "losses"), "ring_full"), 1);
	cr_assert_eq(u64(w1, "lost"), 1);
	cr_assert_eq(u64(w1, "originated"), 5);
	cr_assert_eq(json_real_value(json_object_get(w1, "cycles_per_packet")), 1500.0);

	total = json_object_get(r, "total");
	cr_assert_null(json_object_get(total, "worker"));
	cr_assert_eq(u64(total, "rx_packets"), s0->rx_packets + s1->rx_packets);
	cr_assert_eq(u64(total, "forwarded"), s0->forwarded + s1->forwarded);
	cr_assert_eq(u64(json_object_get(total, "drops"), "bad_mac1"), 21);
	cr_assert_eq(u64(total, "dropped"), 120);
	cr_assert_eq(u64(total, "lost"), 1);
	cr_assert_eq(u64(total, "sessions"), 3);
	/* The accounting invariant of relay/stats.h holds in what we show. */
	cr_assert_eq(u64(total, "rx_packets"),
		     u64(total, "forwarded") + u64(total, "handled") + u64(total, "dropped"));
	json_decref(r);
}

Test(ctlproto, sessions_list_shows_sessions_and_honours_limit)
{
	json_t *r = call_ok("{\"cmd\":\"sessions.list\"}"), *arr, *s;

	arr = json_object_get(r, "sessions");
	cr_assert_eq(json_array_size(arr), 3);
	cr_assert_eq(u64(r, "total"), 3);
	s = json_array_get(arr, 1);
	cr_assert_str_eq(str(s, "id"), "0000000200000001");
	cr_assert_str_eq(str(s, "role"), "agent");
	cr_assert_str_eq(str(s, "tenant"), "acme");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(s, "tunnels"), 0)), "*");
	cr_assert_str_eq(str(s, "peer"), "[2001:db8::1]:40000");
	cr_assert_str_eq(str(s, "token_id"), "0102030405060708090a0b0c0d0e0f10");
	cr_assert_eq(u64(s, "worker"), 1);
	cr_assert_eq(u64(s, "established"), 1767225600);
	cr_assert_eq(u64(s, "channels"), 2);
	json_decref(r);

	r = call_ok("{\"cmd\":\"sessions.list\",\"limit\":1}");
	cr_assert_eq(json_array_size(json_object_get(r, "sessions")), 1);
	cr_assert_eq(u64(r, "total"), 3, "total counts what the limit left out");
	json_decref(r);
}

Test(ctlproto, channels_list_shows_both_ends)
{
	json_t *r = call_ok("{\"cmd\":\"channels.list\",\"limit\":1000}"), *c;

	cr_assert_eq(u64(r, "total"), 2);
	c = json_array_get(json_object_get(r, "channels"), 0);
	cr_assert_str_eq(str(c, "tunnel"), "crm");
	cr_assert_str_eq(str(c, "route"), "api");
	cr_assert_str_eq(str(c, "agent_session"), "0000000200000001");
	cr_assert_eq(u64(c, "agent_channel"), 1);
	cr_assert_str_eq(str(c, "gateway_session"), "0000000100000007");
	cr_assert_eq(u64(c, "gateway_channel"), 100);
	cr_assert_eq(u64(c, "bytes_to_agent"), 98765);
	json_decref(r);
}

Test(ctlproto, sessions_kick_reaches_the_relay_with_the_id)
{
	json_decref(call_ok("{\"cmd\":\"sessions.kick\",\"id\":\"0000000100000007\"}"));
	cr_assert_eq(fake.n_kicked, 1);
	cr_assert_eq(fake.kicked[0], FAKE_SESSION_GW);
	/* Either case of hex; gone now, so the second kick is not_found. */
	expect_error(call("{\"cmd\":\"sessions.kick\",\"id\":\"000000010000000A\"}"), "unknown",
		     "not_found", "no session 000000010000000a");
	expect_error(call("{\"cmd\":\"sessions.kick\",\"id\":\"0000000100000007\"}"), "again",
		     "not_found", "no session 0000000100000007");
}

Test(ctlproto, tokens_revoke_passes_the_16_byte_id)
{
	static const uint8_t want[TOKEN_ID_LEN] = {
		0xf8, 0x29, 0x69, 0xb4, 0x7f, 0x0a, 0x47, 0x92,
		0x2d, 0xcb, 0xaf, 0x57, 0xf6, 0xd1, 0x1a, 0x2d,
	};

	json_decref(call_ok("{\"cmd\":\"tokens.revoke\","
			    "\"id\":\"F82969B47F0A47922DCBAF57F6D11A2D\"}"));
	cr_assert_eq(fake.n_revoked, 1);
	cr_assert_arr_eq(fake.revoked[0], want, TOKEN_ID_LEN);
}

Test(ctlproto, keys_trust_and_untrust_follow_the_trust_store)
{
	static const char other[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	char req[128];
	json_t *r;

	expect_error(call("{\"cmd\":\"keys.trust\",\"key\":\"" FAKE_TRUSTED_KEY "\"}"), "twice",
		     "exists", "already trusted");
	r = call_ok("{\"cmd\":\"keys.trust\","
		    "\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}");
	cr_assert_eq(strlen(str(r, "signer_id")), 16, "the signer id tokens carry");
	json_decref(r);
	cr_assert_eq(fake.n_trusted, 2);
	/* Fill the store: the seventeenth key is "full". */
	for (unsigned i = 2; i < TOKEN_MAX_SIGNERS; i++) {
		snprintf(req, sizeof(req), "{\"cmd\":\"keys.trust\",\"key\":\"%c%s\"}",
			 'B' + (char)i, other + 1);
		json_decref(call_ok(req));
	}
	expect_error(call("{\"cmd\":\"keys.trust\","
			  "\"key\":\"zAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}"),
		     "seventeenth", "full", "untrust one first");
	json_decref(call_ok("{\"cmd\":\"keys.untrust\",\"key\":\"" FAKE_TRUSTED_KEY "\"}"));
	expect_error(call("{\"cmd\":\"keys.untrust\",\"key\":\"" FAKE_TRUSTED_KEY "\"}"), "gone",
		     "not_found", "not trusted");
	cr_assert_eq(fake.n_trusted, TOKEN_MAX_SIGNERS - 1);
}

Test(ctlproto, drain_reload_and_log_level_reach_the_relay)
{
	json_t *r;

	r = call_ok("{\"cmd\":\"drain\"}");
	cr_assert_eq(u64(r, "timeout_ms"), CTLPROTO_DRAIN_DEFAULT_MS);
	json_decref(r);
	cr_assert_eq(fake.drain_ms, CTLPROTO_DRAIN_DEFAULT_MS);
	json_decref(call_ok("{\"cmd\":\"drain\",\"timeout_ms\":0}"));
	cr_assert_eq(fake.drain_ms, 0);
	cr_assert_eq(fake.drains, 2);

	fake.reload_msg = "2 trusted keys, 5 revoked tokens";
	r = call_ok("{\"cmd\":\"reload\"}");
	cr_assert_str_eq(str(r, "message"), "2 trusted keys, 5 revoked tokens");
	json_decref(r);
	fake.reload_ret = -EINVAL;
	fake.reload_msg = "relay.conf:7: workers: must be an integer from 1 to 64";
	expect_error(call("{\"cmd\":\"reload\"}"), "bad config", "failed",
		     "the old configuration stays: relay.conf:7: workers");
	fake.reload_msg = NULL;
	fake.reload_ret = -EIO;
	expect_error(call("{\"cmd\":\"reload\"}"), "no message", "failed", "Input/output error");
	cr_assert_eq(fake.reloads, 3);

	r = call_ok("{\"cmd\":\"log-level\",\"level\":\"debug\"}");
	cr_assert_str_eq(str(r, "level"), "debug");
	json_decref(r);
	cr_assert_eq(fake.level, LOG_LEVEL_DEBUG);
}

Test(ctlproto, op_errors_map_to_codes)
{
	static const struct {
		int err;
		const char *code;
	} cases[] = {
		{ -EBUSY, "busy" },
		{ -EOPNOTSUPP, "unsupported" },
		{ -EINVAL, "bad_request" },
		{ -EIO, "failed" },
		{ -ENOMEM, "failed" },
		{ -EPERM, "failed" },
	};
	static const char *const reqs[] = {
		"{\"cmd\":\"status\"}",
		"{\"cmd\":\"stats\"}",
		"{\"cmd\":\"sessions.list\"}",
		"{\"cmd\":\"channels.list\"}",
		"{\"cmd\":\"tokens.revoke\",\"id\":\"" FAKE_TOKEN_ID_HEX "\"}",
		"{\"cmd\":\"drain\"}",
		"{\"cmd\":\"log-level\",\"level\":\"warn\"}",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake.fail = cases[i].err;
		for (size_t j = 0; j < sizeof(reqs) / sizeof(reqs[0]); j++)
			expect_error(call(reqs[j]), reqs[j], cases[i].code,
				     cases[i].err == -ENOMEM ? "out of memory" : "");
	}
}

Test(ctlproto, a_relay_without_an_op_says_unsupported)
{
	static const char *const reqs[] = {
		"{\"cmd\":\"status\"}",
		"{\"cmd\":\"stats\"}",
		"{\"cmd\":\"sessions.list\"}",
		"{\"cmd\":\"sessions.kick\",\"id\":\"0000000100000007\"}",
		"{\"cmd\":\"channels.list\"}",
		"{\"cmd\":\"tokens.revoke\",\"id\":\"" FAKE_TOKEN_ID_HEX "\"}",
		"{\"cmd\":\"keys.trust\",\"key\":\"" FAKE_TRUSTED_KEY "\"}",
		"{\"cmd\":\"keys.untrust\",\"key\":\"" FAKE_TRUSTED_KEY "\"}",
		"{\"cmd\":\"drain\"}",
		"{\"cmd\":\"reload\"}",
		"{\"cmd\":\"log-level\",\"level\":\"warn\"}",
	};
	struct control_ops none = { .ctx = NULL };

	for (size_t j = 0; j < sizeof(reqs) / sizeof(reqs[0]); j++)
		expect_error(call_n(&none, reqs[j], strlen(reqs[j])), reqs[j], "unsupported",
			     "this relay does not support");
}

Test(ctlproto, error_lines_for_the_loop)
{
	char *resp = NULL;
	size_t len = 0;

	cr_assert_eq(ctlproto_error(CTLPROTO_E_FORBIDDEN, "permission \"denied\"", &resp, &len), 0);
	cr_assert_str_eq(resp,
			 "{\"ok\":false,\"code\":\"forbidden\","
			 "\"error\":\"permission \\\"denied\\\"\"}\n");
	cr_assert_eq(len, strlen(resp));
	free(resp);
}

/* Run @fn with fd 2 sent to a file; @return what was written there (malloc'd). */
static char *capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/ctlproto-log.XXXXXX", *buf = calloc(1, 8192);
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	cr_assert(fd >= 0 && saved >= 0 && buf);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, 8191, 0);
	close(fd);
	cr_assert(n >= 0);
	return buf;
}

static void run_actions(void)
{
	json_decref(call("{\"cmd\":\"status\"}"));
	json_decref(call("{\"cmd\":\"tokens.revoke\",\"id\":\"" FAKE_TOKEN_ID_HEX "\"}"));
	json_decref(call("{\"cmd\":\"sessions.kick\",\"id\":\"00000000000000ff\"}"));
	json_decref(call("{\"cmd\":\"bogus\"}"));
}

Test(ctlproto, operator_actions_are_logged_with_peer_and_outcome)
{
	char *log;

	unsetenv("JOURNAL_STREAM");	/* plain "level: " prefixes */
	log_set_level(LOG_LEVEL_INFO);
	log = capture_stderr(run_actions);
	cr_assert(strstr(log, "info: event=control_cmd cmd=tokens.revoke id=\"" FAKE_TOKEN_ID_HEX
			  "\" pid=1 uid=0 result=ok\n"), "log: %s", log);
	cr_assert(strstr(log, "warn: event=control_cmd cmd=sessions.kick id=\"00000000000000ff\" "
			  "pid=1 uid=0 result=error code=not_found\n"), "log: %s", log);
	cr_assert_null(strstr(log, "cmd=status"), "reads are not logged: %s", log);
	cr_assert_null(strstr(log, "bogus"), "%s", log);
	free(log);
}
