/*
 * hop_client.c — the initiator of docs/protocol.md §2–§8, without I/O.
 *
 * Handshake states (c->hs_state):
 *
 *	IDLE ──connect / rekey due / keys expired / GOAWAY drained──▶ SENT
 *	SENT ──RESP verifies──▶ IDLE (new current keypair)
 *	SENT ──REKEY_TIMEOUT + jitter──▶ SENT (a fresh INIT)
 *	SENT ──REKEY_ATTEMPT_TIME since the series began──▶ BACKOFF
 *	BACKOFF ──1 s · 2^k (≤ 60 s) ± 20%──▶ SENT (a new series)
 *	any ──hop_client_reconnect()──▶ SENT (keypairs dropped)
 *
 * Keypairs (independent of the above): current sends and receives, previous
 * only receives; each dies REJECT_AFTER_TIME after its handshake. The client
 * is "connected" while current lives.
 *
 * Timers, all checked in hop_client_tick() and summed up by
 * hop_client_next_deadline(): retransmit, give-up, backoff end, rekey
 * (current born + REKEY_AFTER_TIME), expiry (each keypair born +
 * REJECT_AFTER_TIME), keepalive (last DATA sent + KEEPALIVE_TIMEOUT), GOAWAY
 * reconnect (GOAWAY received + drain time).
 *
 * Callbacks may re-enter (send, reconnect). c->gen counts forgotten sessions,
 * so code that called out can tell whether the session it was working on is
 * still the current one.
 */
#include "endpoint/hop_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/aead.h"
#include "crypto/cookie.h"
#include "crypto/noise.h"
#include "crypto/replay.h"
#include "wire/bytes.h"
#include "wire/hop.h"

/* §3.2: the prologue is "postern/1" followed by the suite byte. */
static const char prologue_text[] = "postern/1";
enum { PROLOGUE_TEXT_LEN = sizeof(prologue_text) - 1, PROLOGUE_LEN = PROLOGUE_TEXT_LEN + 1 };

enum { INDEX_DRAWS = 16 };	/* collisions with 3 live indices: practically never twice */

enum hs_state {
	HS_IDLE,		/* no handshake in flight */
	HS_SENT,		/* an INIT of the current series awaits its RESP */
	HS_BACKOFF,		/* the last series got no answer; waiting to start another */
};

struct keypair {
	struct aead_ctx *seal;		/* initiator → relay */
	struct aead_ctx *open;		/* relay → initiator */
	struct replay replay;
	uint64_t send_counter;		/* next counter to send */
	uint64_t born_ns;
	uint32_t local_index;		/* ours, the INIT's sender index: DATA to us has it */
	uint32_t remote_index;		/* the relay's, from the RESP: DATA we send has it */
	bool live;
};

struct hop_client {
	/* Configuration. */
	enum suite_id suite;
	uint8_t static_priv[SUITE_DH_LEN];
	uint8_t static_pub[SUITE_DH_LEN];
	uint8_t relay_pub[SUITE_DH_LEN];
	uint8_t psk[NOISE_PSK_LEN];
	uint8_t token[HOP_TOKEN_MAX];
	size_t token_len;
	size_t mtu;
	hop_client_send_fn send;
	hop_client_frame_fn on_frame;
	hop_client_event_fn on_event;
	void *ctx;
	hop_client_rand_fn rand;
	bool rand_is_hook;		/* a test's rand also supplies ephemerals */
	hop_client_clock_fn realtime_ns;

	/* Handshake. */
	struct cookie_maker cookie;
	struct noise_handshake hs;
	enum hs_state hs_state;
	uint32_t hs_index;		/* sender index of the INIT in flight */
	uint64_t series_start_ns;
	uint64_t retransmit_at_ns;
	uint64_t backoff_until_ns;
	unsigned backoff_exp;		/* series given up in a row */
	uint64_t last_timestamp_ns;	/* TAI64N of the last INIT, Unix ns */
	bool started;			/* hop_client_connect() was called */
	bool new_session;		/* no handshake has completed yet */
	bool goaway_armed;
	uint64_t goaway_at_ns;
	unsigned gen;

	/* Transport. */
	struct keypair current, previous;
	bool connected;
	uint64_t last_sent_ns;		/* last DATA sealed (keepalive timer) */
	uint32_t tx_channel;		/* hop_client_data_begin() → _commit() */
	bool ping_outstanding;
	uint64_t ping_sent_ns;
	uint8_t ping_opaque[FRAME_PING_LEN];

	struct hop_client_stats stats;
	uint8_t tx[HOP_MTU];		/* DATA being built: header, frames, tag */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * How long ago @then was. A caller may hand us a @now a little older than one
 * it gave before (one clock read per loop turn): that counts as no time at all.
 */
static uint64_t age(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* Deadlines far in the future must not wrap around. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int default_rand(uint8_t *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

static uint64_t default_realtime_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * HOP_CLIENT_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* A uniform value in 0..@max (inclusive); 0 if randomness fails. */
static uint64_t rand_upto(struct hop_client *c, uint64_t max)
{
	uint8_t b[8];

	if (c->rand(b, sizeof(b)) < 0)
		return 0;
	if (max == UINT64_MAX)
		return bytes_get_le64(b);
	return bytes_get_le64(b) % (max + 1);
}

static void emit(struct hop_client *c, const struct hop_client_event *ev)
{
	if (c->on_event)
		c->on_event(c->ctx, ev);
}

static int xmit(struct hop_client *c, const uint8_t *pkt, size_t len)
{
	int ret;

	c->stats.tx_packets++;
	c->stats.tx_bytes += len;
	ret = c->send(c->ctx, pkt, len);
	if (ret < 0) {
		c->stats.send_errors++;
		return ret;
	}
	return 0;
}

static void drop(struct hop_client *c, enum hop_client_drop reason)
{
	c->stats.drops[reason]++;
}

/* --- keypairs ------------------------------------------------------------ */

static void keypair_clear(struct keypair *kp)
{
	aead_ctx_destroy(kp->seal);
	aead_ctx_destroy(kp->open);
	memset(kp, 0, sizeof(*kp));
}

/* §4: a keypair REJECT_AFTER_TIME old is neither used nor accepted. */
static bool keypair_alive(const struct keypair *kp, uint64_t now)
{
	return kp->live && age(now, kp->born_ns) < HOP_CLIENT_REJECT_AFTER_TIME_NS;
}

static bool keypair_can_send(const struct keypair *kp, uint64_t now)
{
	return keypair_alive(kp, now) && kp->send_counter < REPLAY_REJECT_AFTER_MESSAGES;
}

static int keypair_create(struct keypair *kp, enum suite_id suite, const struct noise_keys *keys,
			  uint32_t local, uint32_t remote, uint64_t now)
{
	int ret;

	memset(kp, 0, sizeof(*kp));
	ret = aead_ctx_create(&kp->seal, suite, keys->send, true);
	if (ret)
		goto err;
	ret = aead_ctx_create(&kp->open, suite, keys->recv, false);
	if (ret)
		goto err_seal;
	replay_init(&kp->replay);
	kp->born_ns = now;
	kp->local_index = local;
	kp->remote_index = remote;
	kp->live = true;
	return 0;

err_seal:
	aead_ctx_destroy(kp->seal);
err:
	memset(kp, 0, sizeof(*kp));
	return ret;
}

static struct keypair *keypair_by_index(struct hop_client *c, uint32_t index, uint64_t now)
{
	if (keypair_alive(&c->current, now) && c->current.local_index == index)
		return &c->current;
	if (keypair_alive(&c->previous, now) && c->previous.local_index == index)
		return &c->previous;
	return NULL;
}

/* --- handshake ----------------------------------------------------------- */

static bool index_in_use(const struct hop_client *c, uint32_t index)
{
	return index == 0 ||
	       (c->current.live && c->current.local_index == index) ||
	       (c->previous.live && c->previous.local_index == index) ||
	       (c->hs_state == HS_SENT && c->hs_index == index);
}

/* A sender index unlike every live one, the one in flight included. */
static int new_index(struct hop_client *c, uint32_t *out)
{
	uint8_t b[4];

	for (int i = 0; i < INDEX_DRAWS; i++) {
		int ret = c->rand(b, sizeof(b));
		uint32_t index = bytes_get_le32(b);

		if (ret < 0)
			return ret;
		if (!index_in_use(c, index)) {
			*out = index;
			return 0;
		}
	}
	return -EIO;
}

/* §2.1 TAI64N, strictly increasing for the life of the client (§3.4 step 5). */
static void next_timestamp(struct hop_client *c, uint8_t out[HOP_TIMESTAMP_LEN])
{
	uint64_t t = c->realtime_ns(c->ctx);

	if (t <= c->last_timestamp_ns)
		t = c->last_timestamp_ns + 1;
	c->last_timestamp_ns = t;
	hop_tai64n_write(out, t / HOP_CLIENT_NS_PER_S, (uint32_t)(t % HOP_CLIENT_NS_PER_S));
}

/*
 * Build and send one INIT (§2.1, §3.2): a fresh index, ephemeral and
 * timestamp, mac1/mac2 last (§5.1). The next retransmit is scheduled first,
 * so an INIT that fails to build is simply tried again later, never in a loop.
 */
static int send_init(struct hop_client *c, uint64_t now)
{
	uint8_t pkt[HOP_INIT_MAX];
	uint8_t payload[HOP_PAYLOAD_MAX];
	uint8_t timestamp[HOP_TIMESTAMP_LEN];
	uint8_t prologue[PROLOGUE_LEN];
	uint8_t e_priv[SUITE_DH_LEN];
	struct hop_payload p;
	struct hop_init m;
	size_t msg_len;
	bool built = false;
	int len, ret;

	c->retransmit_at_ns = now + HOP_CLIENT_REKEY_TIMEOUT_NS +
			      rand_upto(c, HOP_CLIENT_REKEY_JITTER_MAX_NS);
	c->stats.inits++;
	noise_handshake_wipe(&c->hs);
	c->hs_state = HS_SENT;

	ret = new_index(c, &c->hs_index);
	if (ret)
		goto out;
	next_timestamp(c, timestamp);
	p = (struct hop_payload){
		.timestamp = timestamp,
		.flags = c->new_session ? HOP_PAYLOAD_NEW_SESSION : 0,
		.token = c->token,
		.token_len = c->token_len,
	};
	len = hop_payload_encode(payload, sizeof(payload), &p);
	if (len < 0) {
		ret = len;
		goto out;
	}

	memcpy(prologue, prologue_text, PROLOGUE_TEXT_LEN);
	prologue[PROLOGUE_TEXT_LEN] = (uint8_t)c->suite;
	ret = noise_handshake_init(&c->hs, c->suite, NOISE_IKPSK2, true, prologue,
				   sizeof(prologue), c->static_priv, c->relay_pub, c->psk);
	if (ret)
		goto out;
	if (c->rand_is_hook) {
		ret = c->rand(e_priv, sizeof(e_priv));
		if (!ret)
			ret = noise_handshake_set_ephemeral(&c->hs, e_priv);
		if (ret)
			goto out;
	}
	/* -> e, es, s, ss: written straight into the packet at its offset. */
	ret = noise_write_message(&c->hs, payload, (size_t)len, pkt + HOP_INIT_OFF_EPHEMERAL,
				  sizeof(pkt) - HOP_INIT_OFF_EPHEMERAL - HOP_MACS_LEN, &msg_len);
	if (ret)
		goto out;
	m = (struct hop_init){
		.suite = (uint8_t)c->suite,
		.sender = c->hs_index,
		.enc_payload_len = (size_t)len + HOP_TAG_LEN,
	};
	len = hop_init_encode(pkt, sizeof(pkt), &m);
	if (len < 0) {
		ret = len;
		goto out;
	}
	ret = cookie_add_macs(&c->cookie, c->suite, pkt, (size_t)len, now);
	if (ret)
		goto out;
	/* A send error leaves the handshake pending: the INIT may have left anyway. */
	built = true;
	ret = xmit(c, pkt, (size_t)len);
out:
	if (ret && !built)
		noise_handshake_wipe(&c->hs);
	OPENSSL_cleanse(e_priv, sizeof(e_priv));
	OPENSSL_cleanse(payload, sizeof(payload));
	return ret;
}

static void series_start(struct hop_client *c, uint64_t now)
{
	c->series_start_ns = now;
	send_init(c, now);
}

/* §8: 1 s doubling to 60 s, then ±20% so that endpoints spread out. */
static uint64_t backoff_delay(struct hop_client *c)
{
	uint64_t base = HOP_CLIENT_BACKOFF_MIN_NS;

	for (unsigned i = 0; i < c->backoff_exp && base < HOP_CLIENT_BACKOFF_MAX_NS; i++)
		base *= 2;
	base = min_u64(base, HOP_CLIENT_BACKOFF_MAX_NS);
	if (c->backoff_exp < 32)
		c->backoff_exp++;
	return base - base / 5 + rand_upto(c, 2 * base / 5);
}

static void series_give_up(struct hop_client *c, uint64_t now)
{
	struct hop_client_event ev = { .type = HOP_CLIENT_NO_ANSWER };

	noise_handshake_wipe(&c->hs);
	c->hs_state = HS_BACKOFF;
	c->backoff_until_ns = now + backoff_delay(c);
	c->stats.give_ups++;
	ev.retry_at_ns = c->backoff_until_ns;
	emit(c, &ev);
}

/* Drop keypairs, handshake and GOAWAY timer: the start of a reconnect. */
static bool forget_session(struct hop_client *c)
{
	bool was_connected = c->connected;

	c->gen++;
	keypair_clear(&c->current);
	keypair_clear(&c->previous);
	noise_handshake_wipe(&c->hs);
	c->hs_state = HS_IDLE;
	c->backoff_exp = 0;
	c->goaway_armed = false;
	c->connected = false;
	c->ping_outstanding = false;
	return was_connected;
}

/* --- sending DATA -------------------------------------------------------- */

static uint8_t *tx_plaintext(struct hop_client *c)
{
	return c->tx + HOP_DATA_HEADER_LEN;
}

/*
 * Seal the @len frame bytes already at tx_plaintext() under the current
 * keypair (§2.4: AD = the 16-byte header) and send them. REKEY_AFTER_MESSAGES
 * starts a handshake here, where the counter moves.
 */
static int seal_and_send(struct hop_client *c, size_t len, uint64_t now)
{
	struct keypair *kp = &c->current;
	uint64_t counter;
	int ret;

	if (!keypair_can_send(kp, now))
		return -ENOTCONN;
	if (len > hop_client_max_frames(c))
		return -EMSGSIZE;
	counter = kp->send_counter++;
	c->last_sent_ns = now;
	hop_data_header_write(c->tx, kp->remote_index, counter);
	ret = aead_seal(kp->seal, counter, c->tx, HOP_DATA_HEADER_LEN, tx_plaintext(c), len,
			tx_plaintext(c));
	if (ret)
		return ret;
	c->stats.tx_data++;
	ret = xmit(c, c->tx, HOP_DATA_HEADER_LEN + len + HOP_TAG_LEN);
	if (kp->send_counter >= REPLAY_REKEY_AFTER_MESSAGES && c->hs_state == HS_IDLE)
		series_start(c, now);
	return ret;
}

static int send_keepalive(struct hop_client *c, uint64_t now)
{
	int off = frame_keepalive_encode(tx_plaintext(c), hop_client_max_frames(c), 0);

	if (off < 0)
		return off;
	c->stats.keepalives++;
	return seal_and_send(c, (size_t)off, now);
}

/* --- receiving ----------------------------------------------------------- */

/*
 * §3.4 from the initiator's side: mac1 and the receiver index are checked
 * before any Diffie-Hellman, and Noise reads a copy of the handshake, so a
 * forged RESP costs a MAC at most and cannot kill the real handshake
 * (crypto/noise.h).
 */
static void input_resp(struct hop_client *c, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct hop_client_event ev = { .type = HOP_CLIENT_CONNECTED };
	struct noise_handshake hs;
	struct noise_keys keys;
	struct keypair kp;
	struct hop_resp r;
	size_t plen;
	bool was_connected;
	uint64_t tx_before;
	unsigned gen;

	if (hop_resp_decode(pkt, len, &r)) {
		drop(c, HOP_CLIENT_DROP_BAD_HEADER);
		return;
	}
	if (!cookie_mac1_verify(c->suite, c->static_pub, pkt, len)) {
		drop(c, HOP_CLIENT_DROP_BAD_MAC1);
		return;
	}
	if (c->hs_state != HS_SENT || r.receiver != c->hs_index) {
		drop(c, HOP_CLIENT_DROP_UNKNOWN_INDEX);
		return;
	}

	/* <- e, ee, se, psk */
	hs = c->hs;
	if (noise_read_message(&hs, pkt + HOP_RESP_OFF_EPHEMERAL, HOP_RESP_NOISE_LEN,
			       NULL, 0, &plen) || plen != 0 || noise_split(&hs, &keys)) {
		noise_handshake_wipe(&hs);
		drop(c, HOP_CLIENT_DROP_BAD_HANDSHAKE);
		return;
	}
	if (keypair_create(&kp, c->suite, &keys, c->hs_index, r.sender, now)) {
		/* Out of memory: the retransmit timer will try a fresh handshake. */
		OPENSSL_cleanse(&keys, sizeof(keys));
		noise_handshake_wipe(&c->hs);
		return;
	}
	OPENSSL_cleanse(&keys, sizeof(keys));
	noise_handshake_wipe(&c->hs);

	/* An initiator's new keypair is confirmed at once: it becomes current. */
	keypair_clear(&c->previous);
	c->previous = c->current;
	c->current = kp;
	c->hs_state = HS_IDLE;
	c->backoff_exp = 0;
	c->new_session = false;
	c->stats.handshakes++;
	c->last_sent_ns = now;
	was_connected = c->connected;
	c->connected = true;

	tx_before = c->stats.tx_data;
	gen = c->gen;
	if (!was_connected)
		emit(c, &ev);
	if (gen == c->gen && c->stats.tx_data == tx_before)
		send_keepalive(c, now);
}

static void input_cookie(struct hop_client *c, const uint8_t *pkt, size_t len, uint64_t now)
{
	if (c->hs_state != HS_SENT) {
		drop(c, HOP_CLIENT_DROP_UNKNOWN_INDEX);
		return;
	}
	/* §5.3: stored for the next INIT, which goes out at the usual time (§8). */
	if (cookie_consume_reply(&c->cookie, pkt, len, now)) {
		drop(c, HOP_CLIENT_DROP_BAD_COOKIE);
		return;
	}
	c->stats.cookies++;
}

static void input_pong(struct hop_client *c, const struct frame *f, uint64_t now)
{
	uint64_t rtt;

	if (!c->ping_outstanding || memcmp(f->body, c->ping_opaque, FRAME_PING_LEN) != 0)
		return;
	c->ping_outstanding = false;
	rtt = age(now, c->ping_sent_ns);
	c->stats.pongs++;
	c->stats.rtt_last_ns = rtt;
	if (c->stats.rtt_min_ns == 0 || rtt < c->stats.rtt_min_ns)
		c->stats.rtt_min_ns = rtt;
	/* RFC 6298 §2: SRTT = 7/8 SRTT + 1/8 R, first sample taken as is. */
	if (c->stats.srtt_ns == 0)
		c->stats.srtt_ns = rtt;
	else
		c->stats.srtt_ns = c->stats.srtt_ns - c->stats.srtt_ns / 8 + rtt / 8;
}

static void input_goaway(struct hop_client *c, const struct frame *f, uint64_t now)
{
	struct hop_client_event ev = { .type = HOP_CLIENT_GOAWAY };
	struct frame_goaway g;

	frame_goaway_decode(f->body, f->len, &g);	/* validated with the packet */
	c->stats.goaways++;
	if (!c->goaway_armed) {
		c->goaway_armed = true;
		c->goaway_at_ns = add_sat(now, (uint64_t)g.drain_ms * HOP_CLIENT_NS_PER_MS);
	}
	ev.goaway_reason = g.reason;
	ev.drain_ms = g.drain_ms;
	ev.retry_at_ns = c->goaway_at_ns;
	emit(c, &ev);
}

static void input_frames(struct hop_client *c, const uint8_t *pt, size_t len, uint64_t now)
{
	struct frame_iter it;
	struct frame f;
	unsigned gen = c->gen;
	int off;

	frame_iter_init(&it, pt, len);
	while (gen == c->gen && frame_next(&it, &f) > 0) {
		switch (f.type) {
		case FRAME_KEEPALIVE:
			break;
		case FRAME_PING:
			/* The PONG echoes the 8 bytes (§7); it cannot outgrow any MTU. */
			off = frame_pong_encode(tx_plaintext(c), hop_client_max_frames(c), 0,
						f.body);
			if (off >= 0)
				seal_and_send(c, (size_t)off, now);
			break;
		case FRAME_PONG:
			input_pong(c, &f, now);
			break;
		case FRAME_GOAWAY:
			input_goaway(c, &f, now);
			break;
		default:
			if (c->on_frame)
				c->on_frame(c->ctx, &f, now);
			break;
		}
	}
}

/* §4.1, in its order: index, replay pre-check, tag, mark, frames. */
static void input_data(struct hop_client *c, uint8_t *pkt, size_t len, uint64_t now)
{
	uint8_t *ct = pkt + HOP_DATA_HEADER_LEN;
	struct keypair *kp;
	struct hop_data d;
	size_t n;

	if (hop_data_decode(pkt, len, &d)) {
		drop(c, HOP_CLIENT_DROP_BAD_HEADER);
		return;
	}
	kp = keypair_by_index(c, d.receiver, now);
	if (!kp) {
		drop(c, HOP_CLIENT_DROP_UNKNOWN_INDEX);
		return;
	}
	if (!replay_check(&kp->replay, d.counter)) {
		drop(c, HOP_CLIENT_DROP_REPLAYED);
		return;
	}
	n = d.ciphertext_len - HOP_TAG_LEN;
	if (!aead_open(kp->open, d.counter, pkt, HOP_DATA_HEADER_LEN, ct, d.ciphertext_len, ct)) {
		drop(c, HOP_CLIENT_DROP_BAD_TAG);
		return;
	}
	replay_accept(&kp->replay, d.counter);
	c->stats.rx_data++;
	/* §7: nothing of a packet with one malformed frame is acted upon. */
	if (frame_validate(ct, n) < 0) {
		drop(c, HOP_CLIENT_DROP_BAD_FRAME);
		return;
	}
	input_frames(c, ct, n, now);
}

void hop_client_input(struct hop_client *c, uint8_t *pkt, size_t len, uint64_t now_ns)
{
	int type;

	c->stats.rx_packets++;
	c->stats.rx_bytes += len;
	type = hop_classify(pkt, len, 1u << c->suite);
	if (type < 0) {
		drop(c, type == -EPROTO ? HOP_CLIENT_DROP_BAD_VERSION : HOP_CLIENT_DROP_BAD_HEADER);
		return;
	}
	switch (type) {
	case HOP_HANDSHAKE_RESP:
		input_resp(c, pkt, len, now_ns);
		break;
	case HOP_COOKIE_REPLY:
		input_cookie(c, pkt, len, now_ns);
		break;
	case HOP_DATA:
		input_data(c, pkt, len, now_ns);
		break;
	default:
		/* An INIT: only relays answer those. */
		drop(c, HOP_CLIENT_DROP_BAD_HEADER);
		break;
	}
}

/* --- timers -------------------------------------------------------------- */

static void expire_keypairs(struct hop_client *c, uint64_t now)
{
	struct hop_client_event ev = {
		.type = HOP_CLIENT_DISCONNECTED,
		.down = HOP_CLIENT_DOWN_EXPIRED,
	};

	if (c->previous.live && !keypair_alive(&c->previous, now))
		keypair_clear(&c->previous);
	if (c->current.live && !keypair_can_send(&c->current, now))
		keypair_clear(&c->current);
	if (c->connected && !c->current.live) {
		c->connected = false;
		emit(c, &ev);
	}
}

static void goaway_timer(struct hop_client *c, uint64_t now)
{
	struct hop_client_event ev = {
		.type = HOP_CLIENT_DISCONNECTED,
		.down = HOP_CLIENT_DOWN_GOAWAY,
	};
	unsigned gen;

	if (!c->goaway_armed || now < c->goaway_at_ns)
		return;
	/* §7: the relay closed everything at the end of its drain time. */
	if (forget_session(c)) {
		gen = c->gen;
		emit(c, &ev);
		if (gen != c->gen)
			return;		/* the caller reconnected elsewhere */
	}
	series_start(c, now);
}

static bool rekey_due(const struct hop_client *c, uint64_t now)
{
	if (!c->current.live)
		return true;	/* §8: every keypair has expired */
	return age(now, c->current.born_ns) >= HOP_CLIENT_REKEY_AFTER_TIME_NS ||
	       c->current.send_counter >= REPLAY_REKEY_AFTER_MESSAGES;
}

static void handshake_timers(struct hop_client *c, uint64_t now)
{
	switch (c->hs_state) {
	case HS_SENT:
		if (now >= c->series_start_ns + HOP_CLIENT_REKEY_ATTEMPT_TIME_NS) {
			series_give_up(c, now);
		} else if (now >= c->retransmit_at_ns) {
			c->stats.retransmits++;
			send_init(c, now);
		}
		break;
	case HS_BACKOFF:
		if (now >= c->backoff_until_ns)
			series_start(c, now);
		break;
	case HS_IDLE:
		if (rekey_due(c, now))
			series_start(c, now);
		break;
	}
}

static void keepalive_timer(struct hop_client *c, uint64_t now)
{
	if (c->connected && keypair_can_send(&c->current, now) &&
	    age(now, c->last_sent_ns) >= HOP_CLIENT_KEEPALIVE_TIMEOUT_NS)
		send_keepalive(c, now);
}

uint64_t hop_client_tick(struct hop_client *c, uint64_t now_ns)
{
	if (!c->started)
		return HOP_CLIENT_NEVER;
	expire_keypairs(c, now_ns);
	goaway_timer(c, now_ns);
	handshake_timers(c, now_ns);
	keepalive_timer(c, now_ns);
	return hop_client_next_deadline(c);
}

uint64_t hop_client_next_deadline(const struct hop_client *c)
{
	const struct keypair *cur = &c->current;
	uint64_t d = HOP_CLIENT_NEVER;

	if (!c->started)
		return HOP_CLIENT_NEVER;
	switch (c->hs_state) {
	case HS_SENT:
		d = min_u64(c->retransmit_at_ns,
			    c->series_start_ns + HOP_CLIENT_REKEY_ATTEMPT_TIME_NS);
		break;
	case HS_BACKOFF:
		d = c->backoff_until_ns;
		break;
	case HS_IDLE:
		if (!cur->live || cur->send_counter >= REPLAY_REKEY_AFTER_MESSAGES)
			d = 0;
		else
			d = cur->born_ns + HOP_CLIENT_REKEY_AFTER_TIME_NS;
		break;
	}
	if (c->goaway_armed)
		d = min_u64(d, c->goaway_at_ns);
	if (cur->live) {
		d = min_u64(d, cur->born_ns + HOP_CLIENT_REJECT_AFTER_TIME_NS);
		if (c->connected)
			d = min_u64(d, c->last_sent_ns + HOP_CLIENT_KEEPALIVE_TIMEOUT_NS);
	}
	if (c->previous.live)
		d = min_u64(d, c->previous.born_ns + HOP_CLIENT_REJECT_AFTER_TIME_NS);
	return d;
}

/* --- public API ---------------------------------------------------------- */

int hop_client_create(struct hop_client **out, const struct hop_client_config *cfg)
{
	enum suite_id suite = cfg->suite ? cfg->suite : SUITE_CHACHAPOLY_BLAKE2S;
	struct hop_client *c;
	int ret;

	if (!cfg->static_priv || !cfg->relay_pub || !cfg->send || !cfg->token ||
	    cfg->token_len < HOP_TOKEN_MIN || cfg->token_len > HOP_TOKEN_MAX ||
	    !suite_is_valid(suite) ||
	    (cfg->mtu && (cfg->mtu < HOP_MTU_MIN || cfg->mtu > HOP_MTU)))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->suite = suite;
	memcpy(c->static_priv, cfg->static_priv, SUITE_DH_LEN);
	memcpy(c->relay_pub, cfg->relay_pub, SUITE_DH_LEN);
	if (cfg->psk)
		memcpy(c->psk, cfg->psk, NOISE_PSK_LEN);
	memcpy(c->token, cfg->token, cfg->token_len);
	c->token_len = cfg->token_len;
	c->mtu = cfg->mtu ? cfg->mtu : HOP_MTU;
	c->send = cfg->send;
	c->on_frame = cfg->on_frame;
	c->on_event = cfg->on_event;
	c->ctx = cfg->ctx;
	c->rand = cfg->rand ? cfg->rand : default_rand;
	c->rand_is_hook = cfg->rand != NULL;
	c->realtime_ns = cfg->realtime_ns ? cfg->realtime_ns : default_realtime_ns;
	c->new_session = true;

	ret = suite_dh_public(c->static_priv, c->static_pub);
	if (ret)
		goto err_client;
	ret = cookie_maker_init(&c->cookie, c->relay_pub);
	if (ret)
		goto err_client;
	*out = c;
	return 0;

err_client:
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
	return ret;
}

void hop_client_destroy(struct hop_client *c)
{
	if (!c)
		return;
	keypair_clear(&c->current);
	keypair_clear(&c->previous);
	noise_handshake_wipe(&c->hs);
	cookie_maker_wipe(&c->cookie);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

int hop_client_connect(struct hop_client *c, uint64_t now_ns)
{
	if (c->started)
		return -EALREADY;
	c->started = true;
	series_start(c, now_ns);
	return 0;
}

int hop_client_reconnect(struct hop_client *c, const uint8_t *relay_pub, uint64_t now_ns)
{
	if (relay_pub && memcmp(relay_pub, c->relay_pub, SUITE_DH_LEN) != 0) {
		struct cookie_maker fresh;

		/* Another relay: its mac1 key differs and our cookie means nothing there. */
		if (cookie_maker_init(&fresh, relay_pub))
			return -EIO;
		cookie_maker_wipe(&c->cookie);
		c->cookie = fresh;
		memcpy(c->relay_pub, relay_pub, SUITE_DH_LEN);
		OPENSSL_cleanse(&fresh, sizeof(fresh));
	}
	forget_session(c);
	c->started = true;
	series_start(c, now_ns);
	return 0;
}

bool hop_client_is_connected(const struct hop_client *c)
{
	return c->connected;
}

size_t hop_client_max_frames(const struct hop_client *c)
{
	return c->mtu - HOP_DATA_MIN;
}

uint8_t *hop_client_tx_buffer(struct hop_client *c, size_t *cap)
{
	*cap = hop_client_max_frames(c);
	return tx_plaintext(c);
}

int hop_client_send(struct hop_client *c, const uint8_t *frames, size_t len, uint64_t now_ns)
{
	if (len > hop_client_max_frames(c))
		return -EMSGSIZE;
	if (!keypair_can_send(&c->current, now_ns))
		return -ENOTCONN;
	if (len && frames != tx_plaintext(c))
		memmove(tx_plaintext(c), frames, len);
	return seal_and_send(c, len, now_ns);
}

uint8_t *hop_client_data_begin(struct hop_client *c, uint32_t channel_id, size_t *room)
{
	c->tx_channel = channel_id;
	*room = hop_client_max_frames(c) - FRAME_DATA_OVERHEAD;
	return tx_plaintext(c) + FRAME_DATA_OVERHEAD;
}

int hop_client_data_commit(struct hop_client *c, size_t e2e_len, uint64_t now_ns)
{
	int off = frame_data_encode(tx_plaintext(c), hop_client_max_frames(c), 0, c->tx_channel,
				    NULL, e2e_len);

	if (off < 0)
		return off == -EMSGSIZE ? -EINVAL : off;
	return seal_and_send(c, (size_t)off, now_ns);
}

/* Encoders report "no room" as -EMSGSIZE: for one frame that means too big for the MTU. */
static int send_encoded(struct hop_client *c, int off, uint64_t now_ns)
{
	if (off < 0)
		return off;
	return seal_and_send(c, (size_t)off, now_ns);
}

int hop_client_open_channel(struct hop_client *c, const struct frame_open *o, uint64_t now_ns)
{
	return send_encoded(c, frame_open_encode(tx_plaintext(c), hop_client_max_frames(c), 0, o),
			    now_ns);
}

int hop_client_accept_channel(struct hop_client *c, uint32_t channel_id, uint64_t now_ns)
{
	return send_encoded(c, frame_accept_encode(tx_plaintext(c), hop_client_max_frames(c), 0,
						   channel_id), now_ns);
}

int hop_client_close_channel(struct hop_client *c, uint32_t channel_id, uint16_t reason,
			     uint64_t now_ns)
{
	return send_encoded(c, frame_close_encode(tx_plaintext(c), hop_client_max_frames(c), 0,
						  channel_id, reason), now_ns);
}

int hop_client_send_data(struct hop_client *c, uint32_t channel_id, const uint8_t *e2e,
			 size_t len, uint64_t now_ns)
{
	if (!e2e)
		return -EINVAL;
	return send_encoded(c, frame_data_encode(tx_plaintext(c), hop_client_max_frames(c), 0,
						 channel_id, e2e, len), now_ns);
}

int hop_client_ping(struct hop_client *c, uint64_t now_ns)
{
	uint8_t opaque[FRAME_PING_LEN];
	int ret;

	/* The send time is a unique enough tag: only the latest PING is matched. */
	bytes_put_le64(opaque, now_ns);
	ret = send_encoded(c, frame_ping_encode(tx_plaintext(c), hop_client_max_frames(c), 0,
						opaque), now_ns);
	if (ret == -ENOTCONN || ret == -EIO)
		return ret;
	memcpy(c->ping_opaque, opaque, FRAME_PING_LEN);
	c->ping_sent_ns = now_ns;
	c->ping_outstanding = true;
	c->stats.pings++;
	return ret;
}

const struct hop_client_stats *hop_client_stats(const struct hop_client *c)
{
	return &c->stats;
}

void hop_client_test_set_send_counter(struct hop_client *c, uint64_t counter)
{
	if (c->current.live)
		c->current.send_counter = counter;
}

const char *hop_client_drop_name(unsigned reason)
{
	static const char *const names[HOP_CLIENT_DROP_MAX] = {
		[HOP_CLIENT_DROP_BAD_HEADER] = "bad_header",
		[HOP_CLIENT_DROP_BAD_VERSION] = "bad_version",
		[HOP_CLIENT_DROP_BAD_MAC1] = "bad_mac1",
		[HOP_CLIENT_DROP_UNKNOWN_INDEX] = "unknown_index",
		[HOP_CLIENT_DROP_BAD_HANDSHAKE] = "bad_handshake",
		[HOP_CLIENT_DROP_BAD_COOKIE] = "bad_cookie",
		[HOP_CLIENT_DROP_REPLAYED] = "replayed",
		[HOP_CLIENT_DROP_BAD_TAG] = "bad_tag",
		[HOP_CLIENT_DROP_BAD_FRAME] = "bad_frame",
	};

	return reason < HOP_CLIENT_DROP_MAX ? names[reason] : "unknown";
}

const char *hop_client_event_name(unsigned type)
{
	switch (type) {
	case HOP_CLIENT_CONNECTED:
		return "connected";
	case HOP_CLIENT_DISCONNECTED:
		return "disconnected";
	case HOP_CLIENT_NO_ANSWER:
		return "no_answer";
	case HOP_CLIENT_GOAWAY:
		return "goaway";
	}
	return "unknown";
}

const char *hop_client_down_name(unsigned reason)
{
	switch (reason) {
	case HOP_CLIENT_DOWN_EXPIRED:
		return "expired";
	case HOP_CLIENT_DOWN_GOAWAY:
		return "goaway";
	}
	return "unknown";
}
