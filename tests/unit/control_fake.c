/*
 * control_fake.c — a fake relay behind struct control_ops (control_fake.h).
 */
#include "tests/unit/control_fake.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/keys.h"

static void fill_stats(struct relay_stats *s, unsigned w)
{
	uint64_t base = 1000 * (w + 1);

	memset(s, 0, sizeof(*s));
	s->rx_packets = base + 100;
	s->rx_bytes = (base + 100) * 150;
	s->tx_packets = base;
	s->tx_bytes = base * 150;
	s->forwarded = base - 20;
	s->handled = 60;
	s->dropped[RELAY_DROP_BAD_MAC1] = 7 * (w + 1);
	s->dropped[RELAY_DROP_REPLAYED] = 60 - 7 * (w + 1);
	s->originated = 5;
	s->lost[RELAY_DROP_RING_FULL] = w;
	s->handoff_out = 3;
	s->handoff_in = 3;
	s->handshakes = 12 + w;
	s->cookies_sent = 2;
	s->sessions = w ? 1 : 2;
	s->channels = 2;
	s->busy_cycles = 1500 * (base + 100);
	s->idle_cycles = 999999;
	s->busy_packets = base + 100;
}

static void fill_session(struct control_session *s, uint64_t id, unsigned worker,
			 enum token_role role, const char *tunnel, const char *peer)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->worker = worker;
	s->role = role;
	snprintf(s->tenant, sizeof(s->tenant), "acme");
	snprintf(s->tunnels[0], sizeof(s->tunnels[0]), "%s", tunnel);
	s->n_tunnels = 1;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	for (unsigned i = 0; i < TOKEN_ID_LEN; i++)
		s->token_id[i] = (uint8_t)(id + i);
	s->established_s = 1767225600;	/* 2026-01-01T00:00:00Z */
	s->idle_ms = 250;
	s->rx_packets = 40;
	s->rx_bytes = 6000;
	s->tx_packets = 38;
	s->tx_bytes = 5700;
	s->channels = role == TOKEN_ROLE_AGENT ? 2 : 1;
}

void control_fake_init(struct control_fake *f)
{
	memset(f, 0, sizeof(*f));
	f->n_workers = FAKE_WORKERS;
	for (unsigned w = 0; w < FAKE_WORKERS; w++)
		fill_stats(&f->stats[w], w);
	fill_session(&f->sessions[0], FAKE_SESSION_GW, 0, TOKEN_ROLE_GATEWAY, "crm",
		     "192.0.2.10:51820");
	fill_session(&f->sessions[1], FAKE_SESSION_AGENT, 1, TOKEN_ROLE_AGENT, "*",
		     "[2001:db8::1]:40000");
	fill_session(&f->sessions[2], FAKE_SESSION_GW2, 0, TOKEN_ROLE_GATEWAY, "wiki",
		     "192.0.2.11:51820");
	f->n_sessions = FAKE_SESSIONS;
	for (unsigned i = 0; i < FAKE_CHANNELS; i++) {
		struct control_channel *c = &f->channels[i];

		memset(c, 0, sizeof(*c));
		c->agent_session = FAKE_SESSION_AGENT;
		c->gateway_session = i ? FAKE_SESSION_GW2 : FAKE_SESSION_GW;
		c->agent_channel = 1 + i;
		c->gateway_channel = 100 + i;
		snprintf(c->tunnel, sizeof(c->tunnel), "%s", i ? "wiki" : "crm");
		snprintf(c->route, sizeof(c->route), "%s", i ? "" : "api");
		c->opened_s = 1767225660;
		c->bytes_to_gateway = 1234 * (i + 1);
		c->bytes_to_agent = 98765 * (i + 1);
	}
	f->n_channels = FAKE_CHANNELS;
	keys_from_text(FAKE_TRUSTED_KEY, strlen(FAKE_TRUSTED_KEY), f->trusted[0]);
	f->n_trusted = 1;
	f->ready = true;
	f->level = LOG_LEVEL_INFO;
}

static int fake_stats(void *ctx, struct relay_stats *per_worker, unsigned cap, unsigned *n)
{
	struct control_fake *f = ctx;

	f->stats_calls++;
	if (f->fail)
		return f->fail;
	*n = f->n_workers < cap ? f->n_workers : cap;
	memcpy(per_worker, f->stats, *n * sizeof(*per_worker));
	return 0;
}

static int fake_status(void *ctx, struct control_status *st)
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	st->version = "9.8.7";
	st->uptime_s = 3725;
	st->workers = f->n_workers;
	st->sessions = f->n_sessions;
	st->channels = f->n_channels;
	st->ready = f->ready;
	st->draining = f->draining;
	st->drained = false;
	st->log_level = log_level_name(f->level);
	return 0;
}

static int fake_sessions_list(void *ctx, struct control_session *out, size_t cap, size_t *n,
			      size_t *total)
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	*n = f->n_sessions < cap ? f->n_sessions : cap;
	memcpy(out, f->sessions, *n * sizeof(*out));
	*total = f->n_sessions;
	return 0;
}

static int fake_channels_list(void *ctx, struct control_channel *out, size_t cap, size_t *n,
			      size_t *total)
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	*n = f->n_channels < cap ? f->n_channels : cap;
	memcpy(out, f->channels, *n * sizeof(*out));
	*total = f->n_channels;
	return 0;
}

static int fake_session_kick(void *ctx, uint64_t id)
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	for (size_t i = 0; i < f->n_sessions; i++) {
		if (f->sessions[i].id != id)
			continue;
		memmove(&f->sessions[i], &f->sessions[i + 1],
			(f->n_sessions - i - 1) * sizeof(f->sessions[0]));
		f->n_sessions--;
		if (f->n_kicked < FAKE_MAX_RECORD)
			f->kicked[f->n_kicked++] = id;
		return 0;
	}
	return -ENOENT;
}

static int fake_token_revoke(void *ctx, const uint8_t id[TOKEN_ID_LEN])
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	if (f->n_revoked < FAKE_MAX_RECORD)
		memcpy(f->revoked[f->n_revoked++], id, TOKEN_ID_LEN);
	return 0;
}

static int find_key(const struct control_fake *f, const uint8_t pub[TOKEN_KEY_LEN])
{
	for (unsigned i = 0; i < f->n_trusted; i++)
		if (!memcmp(f->trusted[i], pub, TOKEN_KEY_LEN))
			return (int)i;
	return -1;
}

static int fake_key_trust(void *ctx, const uint8_t pub[TOKEN_KEY_LEN])
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	if (find_key(f, pub) >= 0)
		return -EEXIST;
	if (f->n_trusted == TOKEN_MAX_SIGNERS)
		return -ENOSPC;
	memcpy(f->trusted[f->n_trusted++], pub, TOKEN_KEY_LEN);
	return 0;
}

static int fake_key_untrust(void *ctx, const uint8_t pub[TOKEN_KEY_LEN])
{
	struct control_fake *f = ctx;
	int i;

	if (f->fail)
		return f->fail;
	i = find_key(f, pub);
	if (i < 0)
		return -ENOENT;
	memmove(f->trusted[i], f->trusted[i + 1], (f->n_trusted - (unsigned)i - 1) * TOKEN_KEY_LEN);
	f->n_trusted--;
	return 0;
}

static int fake_drain(void *ctx, uint32_t timeout_ms)
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	f->drains++;
	f->drain_ms = timeout_ms;
	f->draining = true;
	f->ready = false;
	return 0;
}

static bool fake_ready(void *ctx)
{
	struct control_fake *f = ctx;

	return f->ready;
}

static int fake_reload(void *ctx, char *msg, size_t msglen)
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	f->reloads++;
	if (f->reload_msg)
		snprintf(msg, msglen, "%s", f->reload_msg);
	return f->reload_ret;
}

static int fake_log_level(void *ctx, enum log_level level)
{
	struct control_fake *f = ctx;

	if (f->fail)
		return f->fail;
	f->level = level;
	f->level_sets++;
	return 0;
}

void control_fake_ops(struct control_fake *f, struct control_ops *ops)
{
	*ops = (struct control_ops){
		.ctx = f,
		.stats = fake_stats,
		.status = fake_status,
		.sessions_list = fake_sessions_list,
		.channels_list = fake_channels_list,
		.session_kick = fake_session_kick,
		.token_revoke = fake_token_revoke,
		.key_trust = fake_key_trust,
		.key_untrust = fake_key_untrust,
		.drain = fake_drain,
		.ready = fake_ready,
		.reload = fake_reload,
		.log_level = fake_log_level,
	};
}
