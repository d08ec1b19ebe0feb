/*
 * ctlproto.h — the control protocol spoken on the relay's Unix control socket
 * (docs/control.md): one JSON object per line in each direction.
 *
 *   request   {"cmd":"sessions.kick","id":"0000000100000007"}\n
 *   response  {"ok":true}\n
 *             {"ok":false,"code":"not_found","error":"no session 0000000100000007"}\n
 *
 * A request is parsed strictly: it must be one JSON object (no duplicate keys,
 * nothing after it), with a known "cmd" and exactly that command's fields,
 * each of the right type and range. Anything else gets an error response with
 * a code (CTLPROTO_E_*) and a message saying what to fix; nothing in a request
 * can crash the relay or reach an op unvalidated.
 *
 * No I/O here: control.c reads the line and writes the response.
 * Threads: stateless; the ops are called on the calling thread.
 */
#ifndef POSTERN_RELAY_CTLPROTO_H
#define POSTERN_RELAY_CTLPROTO_H

#include <stddef.h>

#include "relay/control.h"

enum {
	CTLPROTO_MAX_REQUEST = 65536,		/* bytes in one request line, newline excluded */
	CTLPROTO_LIST_DEFAULT = 100,		/* sessions.list / channels.list "limit" */
	CTLPROTO_LIST_MAX = 1000,
	CTLPROTO_DRAIN_DEFAULT_MS = 30000,	/* drain "timeout_ms" */
	CTLPROTO_DRAIN_MAX_MS = 3600000,
};

/* Error codes ("code" of an error response). */
#define CTLPROTO_E_BAD_REQUEST "bad_request"		/* not JSON, wrong fields or values */
#define CTLPROTO_E_TOO_LARGE "too_large"		/* over CTLPROTO_MAX_REQUEST */
#define CTLPROTO_E_UNKNOWN_COMMAND "unknown_command"
#define CTLPROTO_E_NOT_FOUND "not_found"		/* no such session or key */
#define CTLPROTO_E_EXISTS "exists"			/* key already trusted */
#define CTLPROTO_E_FULL "full"				/* no room (trust store) */
#define CTLPROTO_E_BUSY "busy"				/* try again later */
#define CTLPROTO_E_UNSUPPORTED "unsupported"		/* this relay lacks the operation */
#define CTLPROTO_E_FORBIDDEN "forbidden"		/* peer credentials refused */
#define CTLPROTO_E_FAILED "failed"			/* the operation itself failed */
#define CTLPROTO_E_TIMEOUT "timeout"			/* the request did not arrive in time */

/*
 * Handle one request: @len bytes at @req, without the newline (need not be
 * NUL-terminated). Validates it, runs the op, and builds the response line.
 * A command that changes something (everything but status, stats and the
 * lists) is logged at info with its outcome and @peer, e.g. "pid=42 uid=0"
 * (NULL: "-"), so the log shows who did what.
 * @return 0 with *@resp (malloc'd, ends with '\n', NUL-terminated; the caller
 * frees it) and *@resp_len set, whatever the request was; -ENOMEM if no
 * response could be built.
 */
int ctlproto_handle(const struct control_ops *ops, const char *peer, const char *req,
		    size_t len, char **resp, size_t *resp_len);

/*
 * Build the error response {"ok":false,"code":@code,"error":@message}\n, for
 * what the loop refuses before a request is read (forbidden, busy, too_large).
 * @return 0 or -ENOMEM, as ctlproto_handle().
 */
int ctlproto_error(const char *code, const char *message, char **resp, size_t *resp_len);

#endif /* POSTERN_RELAY_CTLPROTO_H */
