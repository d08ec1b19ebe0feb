/*
 * control_fake.h — a fake relay behind struct control_ops, for the control
 * plane's tests (test_ctlproto, test_control) and for tests/cli/fake_relay.
 *
 * It holds a small, fixed picture of a relay (two workers with counters,
 * three sessions, two channels, one trusted key) and records every operation
 * it is asked for, with the rules a real relay follows: kicking an unknown
 * session is -ENOENT, trusting a key twice -EEXIST, a seventeenth key -ENOSPC,
 * untrusting an unknown key -ENOENT, a drain makes it not ready.
 * Setting `fail` makes every op return that -errno instead.
 *
 * Threads: the ops run on the control loop's thread; a test reads the record
 * only after it has received the response to the request it is checking.
 */
#ifndef POSTERN_TESTS_CONTROL_FAKE_H
#define POSTERN_TESTS_CONTROL_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/token.h"
#include "relay/control.h"
#include "relay/log.h"
#include "relay/stats.h"

enum {
	FAKE_WORKERS = 2,
	FAKE_SESSIONS = 3,
	FAKE_CHANNELS = 2,
	FAKE_MAX_RECORD = 32,
};

/* Session ids of the fake picture, as sessions.list shows them. */
#define FAKE_SESSION_GW 0x0000000100000007ULL	/* gateway, worker 0 */
#define FAKE_SESSION_AGENT 0x0000000200000001ULL	/* agent, worker 1 */
#define FAKE_SESSION_GW2 0x0000000100000009ULL	/* gateway, worker 0 */

/* The key trusted from the start (base64), and a token id of a live session. */
#define FAKE_TRUSTED_KEY "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define FAKE_TOKEN_ID_HEX "f82969b47f0a47922dcbaf57f6d11a2d"

struct control_fake {
	struct relay_stats stats[FAKE_WORKERS];
	unsigned n_workers;
	struct control_session sessions[FAKE_SESSIONS];
	size_t n_sessions;
	struct control_channel channels[FAKE_CHANNELS];
	size_t n_channels;
	uint8_t trusted[TOKEN_MAX_SIGNERS][TOKEN_KEY_LEN];
	unsigned n_trusted;
	bool ready, draining;
	enum log_level level;
	int fail;			/* non-zero: every op returns it */

	/* What was asked. */
	uint64_t kicked[FAKE_MAX_RECORD];
	unsigned n_kicked;
	uint8_t revoked[FAKE_MAX_RECORD][TOKEN_ID_LEN];
	unsigned n_revoked;
	uint32_t drain_ms;
	unsigned drains;
	unsigned reloads;
	int reload_ret;			/* what reload returns */
	const char *reload_msg;		/* and writes into its message */
	unsigned level_sets;
	unsigned stats_calls;
};

/* Fill @f with the fixed picture: ready, level info, nothing recorded. */
void control_fake_init(struct control_fake *f);

/* Point @ops at @f (every op set). */
void control_fake_ops(struct control_fake *f, struct control_ops *ops);

#endif /* POSTERN_TESTS_CONTROL_FAKE_H */
