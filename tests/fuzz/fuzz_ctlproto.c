/*
 * fuzz_ctlproto.c — libFuzzer target for what the control plane parses from
 * its clients: control requests (relay/ctlproto.h) and HTTP request headers
 * (relay/http.h), both answered by a fake relay (tests/unit/control_fake.c).
 *
 * The first byte picks the parser: 'h' for HTTP, anything else for a control
 * request; the rest is the request. Whatever the bytes, the answer must keep
 * the protocol's promises, or this aborts:
 *   control  one line ending in '\n', no NUL, a JSON object with a boolean
 *            "ok"; an error has exactly "ok", "code" and "error" strings
 *   HTTP     a status line "HTTP/1.1 NNN ", a header block ending CRLF CRLF,
 *            a Content-Length equal to the body's size (HEAD: no body)
 * The parsers, the fake and metrics.c are compiled into this binary with
 * coverage; ASan and UBSan catch the rest.
 *
 * Seeds: tests/fuzz/corpus/ctlproto/ (every command, valid and not; HTTP).
 */
#define _GNU_SOURCE	/* memmem */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relay/ctlproto.h"
#include "relay/http.h"
#include "relay/log.h"
#include "tests/unit/control_fake.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct control_fake fake;
static struct control_ops ops;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);	/* the audit lines would only slow it down */
	return 0;
}

static void check_control(const char *req, size_t len)
{
	json_t *obj, *ok, *code, *error;
	char *resp = NULL;
	size_t resp_len = 0;

	CHECK(ctlproto_handle(&ops, "pid=1 uid=0", req, len, &resp, &resp_len) == 0);
	CHECK(resp && resp_len >= 2 && resp[resp_len - 1] == '\n' && resp[resp_len] == '\0');
	CHECK(strlen(resp) == resp_len);
	CHECK(!memchr(resp, '\n', resp_len - 1));
	obj = json_loadb(resp, resp_len - 1, JSON_REJECT_DUPLICATES, NULL);
	CHECK(json_is_object(obj));
	ok = json_object_get(obj, "ok");
	CHECK(json_is_boolean(ok));
	if (json_is_false(ok)) {
		code = json_object_get(obj, "code");
		error = json_object_get(obj, "error");
		CHECK(json_is_string(code) && json_is_string(error));
		CHECK(json_string_length(error) > 0);
		CHECK(json_object_size(obj) == 3);
	}
	json_decref(obj);
	free(resp);
}

static void check_http(const char *req, size_t len)
{
	char *resp = NULL, *end;
	size_t resp_len = 0;
	unsigned long clen;
	const char *cl;
	int status = 0;

	CHECK(http_header_end(req, len) <= len);
	CHECK(http_handle(&ops, NULL, req, len, &resp, &resp_len) == 0);
	CHECK(resp && resp_len > 17 && !memcmp(resp, "HTTP/1.1 ", 9));
	status = (resp[9] - '0') * 100 + (resp[10] - '0') * 10 + (resp[11] - '0');
	CHECK(status >= 200 && status <= 505 && resp[12] == ' ');
	/* The header block is ours: it holds no NUL and ends once. */
	end = memmem(resp, resp_len, "\r\n\r\n", 4);
	CHECK(end);
	cl = memmem(resp, (size_t)(end - resp), "\r\nContent-Length: ", 18);
	CHECK(cl);
	clen = strtoul(cl + 18, NULL, 10);
	CHECK(clen == resp_len - (size_t)(end + 4 - resp) ||
	      (len >= 5 && !memcmp(req, "HEAD ", 5) && resp_len == (size_t)(end + 4 - resp)));
	free(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	/* A fresh relay each time: kicks and trusts must not carry over between inputs. */
	control_fake_init(&fake);
	control_fake_ops(&fake, &ops);
	if (data[0] == 'h')
		check_http((const char *)data + 1, size - 1);
	else
		check_control((const char *)data + 1, size - 1);
	return 0;
}
