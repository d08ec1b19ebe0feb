/*
 * test_hop_client.c — the hop initiator (endpoint/hop_client.h) against a
 * small in-memory responder, on a fake clock.
 *
 *	hop_client ──cfg.send──▶ sent[] ──resp_*()──▶ responder (this file)
 *	     ▲                                            │
 *	     └──────── hop_client_input(now) ◀────────────┘
 *
 * The responder is built from the same modules the relay uses (wire/hop,
 * crypto/noise, cookie, token, aead, replay) and checks what a relay checks:
 * mac1/mac2, Noise, the payload, the token, strictly increasing timestamps.
 * Time is the variable `now` (nanoseconds); randomness is fake_rand(): every
 * 8-byte draw (a jitter) returns `jitter_word`, other draws count upwards.
 *
 * The last tests (suite `udp`) cover endpoint/udp.h, the socket helpers the
 * endpoints feed the client from, on loopback only.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "crypto/aead.h"
#include "crypto/cookie.h"
#include "crypto/keys.h"
#include "crypto/noise.h"
#include "crypto/replay.h"
#include "crypto/token.h"
#include "endpoint/hop_client.h"
#include "endpoint/udp.h"
#include "wire/bytes.h"
#include "wire/frame.h"
#include "wire/hop.h"

#define SEC HOP_CLIENT_NS_PER_S
#define MS HOP_CLIENT_NS_PER_MS
#define T0 (1000 * SEC)			/* the fake monotonic clock starts here */
#define UNIX_NOW UINT64_C(1800000000)	/* the fake wall clock, seconds */

enum {
	MAX_PKTS = 512,
	MAX_GOT = 64,
	MAX_EVENTS = 64,
	MAX_KEYS = 8,
};

/* --- fake world ---------------------------------------------------------- */

struct pkt {
	uint8_t b[HOP_MTU + 64];
	size_t len;
};

static uint64_t now;
static uint64_t jitter_word;
static uint8_t rand_counter;
static uint64_t wall_ns;
static int send_result;

static struct pkt sent[MAX_PKTS];
static size_t nsent, sent_head;

struct got {
	uint8_t type;
	uint32_t channel;
	uint16_t reason;
	uint8_t data[HOP_MTU];
	size_t len;
};
static struct got got[MAX_GOT];
static size_t ngot;

static struct hop_client_event events[MAX_EVENTS];
static size_t nevents;

static struct hop_client *cl;
/* What the event callback does besides recording (set by a test). */
static enum { ON_EVENT_RECORD, ON_CONNECTED_OPEN, ON_GOAWAY_MOVE } event_action;
static uint8_t relay2_pub[32];

static int fake_rand(uint8_t *buf, size_t len)
{
	if (len == 8) {
		bytes_put_le64(buf, jitter_word);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = ++rand_counter;
	return 0;
}

static uint64_t fake_realtime(void *ctx)
{
	(void)ctx;
	/* Moves on its own, so timestamps differ even at one fake instant. */
	wall_ns += 1000;
	return UNIX_NOW * SEC + wall_ns;
}

static int fake_send(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	cr_assert_lt(nsent, MAX_PKTS, "too many packets");
	cr_assert_leq(len, sizeof(sent[0].b));
	memcpy(sent[nsent].b, p, len);
	sent[nsent].len = len;
	nsent++;
	return send_result;
}

static void on_frame(void *ctx, const struct frame *f, uint64_t t)
{
	struct got *g = &got[ngot];
	struct frame_data d;
	struct frame_close cl_;
	struct frame_open o;

	(void)ctx;
	(void)t;
	cr_assert_lt(ngot, MAX_GOT);
	memset(g, 0, sizeof(*g));
	g->type = f->type;
	switch (f->type) {
	case FRAME_CHANNEL_DATA:
		cr_assert_eq(frame_data_decode(f->body, f->len, &d), 0);
		g->channel = d.channel_id;
		memcpy(g->data, d.e2e, d.e2e_len);
		g->len = d.e2e_len;
		break;
	case FRAME_CHANNEL_CLOSE:
		cr_assert_eq(frame_close_decode(f->body, f->len, &cl_), 0);
		g->channel = cl_.channel_id;
		g->reason = cl_.reason;
		break;
	case FRAME_CHANNEL_ACCEPT:
		cr_assert_eq(frame_accept_decode(f->body, f->len, &g->channel), 0);
		break;
	case FRAME_CHANNEL_OPEN:
		cr_assert_eq(frame_open_decode(f->body, f->len, &o), 0);
		g->channel = o.channel_id;
		memcpy(g->data, o.tunnel, o.tunnel_len);
		g->len = o.tunnel_len;
		break;
	default:
		cr_assert_fail("frame type %u must not reach on_frame", f->type);
	}
	ngot++;
}

static void on_event(void *ctx, const struct hop_client_event *ev)
{
	static const uint8_t tag[FRAME_CONN_TAG_LEN];
	struct frame_open o = {
		.channel_id = 77, .conn_tag = tag,
		.tunnel = (const uint8_t *)"crm", .tunnel_len = 3,
	};

	(void)ctx;
	cr_assert_lt(nevents, MAX_EVENTS);
	events[nevents++] = *ev;
	if (event_action == ON_CONNECTED_OPEN && ev->type == HOP_CLIENT_CONNECTED)
		cr_assert_eq(hop_client_open_channel(cl, &o, now), 0);
	if (event_action == ON_GOAWAY_MOVE && ev->type == HOP_CLIENT_GOAWAY)
		cr_assert_eq(hop_client_reconnect(cl, relay2_pub, now), 0);
}

/* Packets the client sent and the test has not looked at yet. */
static size_t pending(void)
{
	return nsent - sent_head;
}

static struct pkt *take(unsigned type)
{
	struct pkt *p;

	cr_assert_gt(pending(), 0, "expected a %s packet, none sent", hop_type_name(type));
	p = &sent[sent_head++];
	cr_assert_eq(p->b[0], type, "expected %s, got %s", hop_type_name(type),
		     hop_type_name(p->b[0]));
	return p;
}

static void expect_silence(void)
{
	cr_assert_eq(pending(), 0, "unexpected %s packet", hop_type_name(sent[sent_head].b[0]));
}

static size_t count_events(enum hop_client_event_type type)
{
	size_t n = 0;

	for (size_t i = 0; i < nevents; i++)
		n += events[i].type == type;
	return n;
}

static const struct hop_client_event *last_event(void)
{
	cr_assert_gt(nevents, 0);
	return &events[nevents - 1];
}

/* --- the responder ------------------------------------------------------- */

struct rkeys {
	struct aead_ctx *seal, *open;
	struct replay replay;
	uint64_t tx_counter;
	uint32_t my_index, client_index;
};

struct responder {
	enum suite_id suite;
	uint8_t priv[32], pub[32];
	struct cookie_checker checker;
	bool under_load;
	uint8_t last_ts[HOP_TIMESTAMP_LEN];
	bool have_ts;
	int inits_seen;
	uint8_t last_flags;
	uint32_t last_sender;
	uint8_t last_init_ephemeral[32];
	enum cookie_mac_state last_mac_state;
	struct rkeys keys[MAX_KEYS];
	int nkeys;
};

static struct responder relay, relay2;
static uint8_t client_priv[32], client_pub[32];
static uint8_t signer_seed[32], signer_pub[32];
static uint8_t token[TOKEN_MAX_LEN];
static size_t token_len;
static struct token_trust *trust;
static const uint8_t src_addr[4] = { 192, 0, 2, 7 };

static void responder_init(struct responder *r, enum suite_id suite, uint8_t seed)
{
	memset(r, 0, sizeof(*r));
	r->suite = suite;
	for (int i = 0; i < 32; i++)
		r->priv[i] = (uint8_t)(seed + i);
	cr_assert_eq(keys_public_x25519(r->priv, r->pub), 0);
	cr_assert_eq(cookie_checker_init(&r->checker, r->pub), 0);
}

static void responder_fini(struct responder *r)
{
	for (int i = 0; i < r->nkeys; i++) {
		aead_ctx_destroy(r->keys[i].seal);
		aead_ctx_destroy(r->keys[i].open);
	}
	cookie_checker_wipe(&r->checker);
	memset(r, 0, sizeof(*r));
}

/*
 * A relay's §3.4 on one INIT. @return the answer's length written to @out
 * (HOP_RESP_LEN or COOKIE_REPLY_LEN), or 0 for silence.
 */
static size_t resp_init(struct responder *r, const uint8_t *pkt, size_t len, uint8_t *out)
{
	static const uint8_t zero_psk[32];
	uint8_t payload[HOP_PAYLOAD_MAX], prologue[10], remote[32];
	struct noise_handshake hs;
	struct noise_keys nk;
	struct hop_payload p;
	struct hop_init m;
	struct rkeys *k;
	size_t plen, mlen;

	if (hop_init_decode(pkt, len, &m) || m.suite != r->suite)
		return 0;
	r->last_mac_state = cookie_check_macs(&r->checker, r->suite, pkt, len, src_addr, 4, 4242,
					      now);
	if (r->last_mac_state == COOKIE_MAC_INVALID)
		return 0;
	if (r->under_load && r->last_mac_state != COOKIE_MAC1_VALID_WITH_COOKIE) {
		cr_assert_eq(cookie_reply_create(&r->checker, r->suite, pkt, len, m.sender,
						 src_addr, 4, 4242, now, out), 0);
		return COOKIE_REPLY_LEN;
	}
	memcpy(prologue, "postern/1", 9);
	prologue[9] = (uint8_t)r->suite;
	cr_assert_eq(noise_handshake_init(&hs, r->suite, NOISE_IKPSK2, false, prologue, 10,
					  r->priv, NULL, zero_psk), 0);
	if (noise_read_message(&hs, pkt + HOP_INIT_OFF_EPHEMERAL, hop_init_noise_len(&m),
			       payload, sizeof(payload), &plen))
		return 0;
	cr_assert_eq(hop_payload_decode(payload, plen, &p), 0);
	memcpy(remote, noise_remote_static(&hs), 32);
	cr_assert_eq(token_verify(p.token, p.token_len, trust, UNIX_NOW, 30, remote, NULL),
		     TOKEN_OK, "the client's token must verify against its static key");
	cr_assert(!r->have_ts || memcmp(p.timestamp, r->last_ts, HOP_TIMESTAMP_LEN) > 0,
		  "TAI64N timestamps must increase");
	memcpy(r->last_ts, p.timestamp, HOP_TIMESTAMP_LEN);
	r->have_ts = true;
	r->inits_seen++;
	r->last_flags = p.flags;
	r->last_sender = m.sender;
	memcpy(r->last_init_ephemeral, m.ephemeral, 32);

	cr_assert_lt(r->nkeys, MAX_KEYS);
	k = &r->keys[r->nkeys];
	cr_assert_eq(noise_write_message(&hs, NULL, 0, out + HOP_RESP_OFF_EPHEMERAL,
					 HOP_RESP_NOISE_LEN, &mlen), 0);
	cr_assert_eq(mlen, HOP_RESP_NOISE_LEN);
	k->my_index = 0x52000000u + (uint32_t)r->nkeys;
	k->client_index = m.sender;
	cr_assert_eq(hop_resp_encode(out, HOP_RESP_LEN, &(struct hop_resp){
		.suite = (uint8_t)r->suite, .sender = k->my_index, .receiver = m.sender }),
		HOP_RESP_LEN);
	cr_assert_eq(cookie_mac1_write(r->suite, remote, out, HOP_RESP_LEN), 0);
	cr_assert_eq(noise_split(&hs, &nk), 0);
	/* Split: the first key is initiator → relay (§3.3); we are the responder. */
	cr_assert_eq(aead_ctx_create(&k->seal, r->suite, nk.send, true), 0);
	cr_assert_eq(aead_ctx_create(&k->open, r->suite, nk.recv, false), 0);
	replay_init(&k->replay);
	r->nkeys++;
	return HOP_RESP_LEN;
}

/* Seal @n frame bytes with keys[@ki] at counter @counter (its next one if UINT64_MAX). */
static size_t resp_seal_at(struct responder *r, int ki, uint64_t counter, const uint8_t *frames,
			   size_t n, uint8_t *out)
{
	struct rkeys *k = &r->keys[ki];

	cr_assert_lt(ki, r->nkeys);
	if (counter == UINT64_MAX)
		counter = k->tx_counter++;
	hop_data_header_write(out, k->client_index, counter);
	cr_assert_eq(aead_seal(k->seal, counter, out, HOP_DATA_HEADER_LEN, frames, n,
			       out + HOP_DATA_HEADER_LEN), 0);
	return HOP_DATA_HEADER_LEN + n + HOP_TAG_LEN;
}

static size_t resp_seal(struct responder *r, int ki, const uint8_t *frames, size_t n,
			uint8_t *out)
{
	return resp_seal_at(r, ki, UINT64_MAX, frames, n, out);
}

/*
 * Open a DATA packet the client sent; @return the keypair index it used
 * (cr_assert on failure) and the plaintext in @pt / *@n.
 */
static int resp_open(struct responder *r, const struct pkt *p, uint8_t *pt, size_t *n)
{
	struct hop_data d;

	cr_assert_eq(hop_data_decode(p->b, p->len, &d), 0);
	for (int i = 0; i < r->nkeys; i++) {
		struct rkeys *k = &r->keys[i];

		if (k->my_index != d.receiver)
			continue;
		cr_assert(replay_check(&k->replay, d.counter), "client reused counter %llu",
			  (unsigned long long)d.counter);
		cr_assert(aead_open(k->open, d.counter, p->b, HOP_DATA_HEADER_LEN, d.ciphertext,
				    d.ciphertext_len, pt), "DATA does not open");
		replay_accept(&k->replay, d.counter);
		*n = d.ciphertext_len - HOP_TAG_LEN;
		return i;
	}
	cr_assert_fail("DATA for unknown relay index %08x", d.receiver);
	return -1;
}

/* Open the next DATA the client sent; @return its first frame's type; keypair in *@ki. */
static uint8_t take_data(struct responder *r, int *ki, uint8_t *pt, size_t *n)
{
	struct frame_iter it;
	struct frame f;
	int k;

	k = resp_open(r, take(HOP_DATA), pt, n);
	if (ki)
		*ki = k;
	cr_assert_geq(frame_validate(pt, *n), 0, "the client sent malformed frames");
	frame_iter_init(&it, pt, *n);
	if (frame_next(&it, &f) <= 0)
		return 0;
	return f.type;
}

/* The next packet is DATA with exactly one KEEPALIVE frame, on keypair @want_ki. */
static void take_keepalive(struct responder *r, int want_ki)
{
	uint8_t pt[HOP_MTU];
	size_t n;
	int ki;

	cr_assert_eq(take_data(r, &ki, pt, &n), FRAME_KEEPALIVE);
	cr_assert_eq(n, FRAME_HEADER_LEN);
	cr_assert_eq(ki, want_ki);
}

/* The client's next INIT, answered by @r; @return the answer's length in @out. */
static size_t answer_init(struct responder *r, uint8_t *out)
{
	struct pkt *p = take(HOP_HANDSHAKE_INIT);

	return resp_init(r, p->b, p->len, out);
}

static void input(uint8_t *b, size_t len)
{
	hop_client_input(cl, b, len, now);
}

static void tick_at(uint64_t t)
{
	now = t;
	hop_client_tick(cl, now);
}

/* --- fixture ------------------------------------------------------------- */

static struct hop_client_config config(enum suite_id suite)
{
	return (struct hop_client_config){
		.suite = suite,
		.static_priv = client_priv,
		.relay_pub = relay.pub,
		.token = token,
		.token_len = token_len,
		.send = fake_send,
		.on_frame = on_frame,
		.on_event = on_event,
		.rand = fake_rand,
		.realtime_ns = fake_realtime,
	};
}

static void new_client(enum suite_id suite)
{
	struct hop_client_config cfg = config(suite);

	hop_client_destroy(cl);
	cl = NULL;
	responder_fini(&relay);
	responder_fini(&relay2);
	responder_init(&relay, suite, 0x20);
	responder_init(&relay2, suite, 0x60);
	memcpy(relay2_pub, relay2.pub, 32);
	cfg.relay_pub = relay.pub;
	cr_assert_eq(hop_client_create(&cl, &cfg), 0);
	nsent = sent_head = ngot = nevents = 0;
	send_result = 0;
	event_action = ON_EVENT_RECORD;
}

static void setup(void)
{
	struct token t = {
		.role = TOKEN_ROLE_GATEWAY,
		.not_before = UNIX_NOW - 3600,
		.expiry = UNIX_NOW + 3600,
		.tenant = "acme",
		.tunnels = { "crm" },
		.n_tunnels = 1,
	};

	for (int i = 0; i < 32; i++) {
		client_priv[i] = (uint8_t)(0x90 + i);
		signer_seed[i] = (uint8_t)(0xc0 + i);
	}
	cr_assert_eq(keys_public_x25519(client_priv, client_pub), 0);
	cr_assert_eq(keys_public_ed25519(signer_seed, signer_pub), 0);
	memcpy(t.endpoint_pub, client_pub, 32);
	cr_assert_eq(token_encode_signed(&t, signer_seed, token, sizeof(token), &token_len), 0);
	cr_assert_eq(token_trust_create(&trust), 0);
	cr_assert_eq(token_trust_add_signer(trust, signer_pub), 0);
	now = T0;
	jitter_word = 0;
	rand_counter = 0;
	wall_ns = 0;
	new_client(SUITE_CHACHAPOLY_BLAKE2S);
}

static void teardown(void)
{
	hop_client_destroy(cl);
	cl = NULL;
	responder_fini(&relay);
	responder_fini(&relay2);
	token_trust_destroy(trust);
	trust = NULL;
}

TestSuite(hop_client, .init = setup, .fini = teardown);

/* Connect now; the relay answers; the client confirms with a KEEPALIVE on the new key. */
static void handshake(void)
{
	uint8_t resp[HOP_RESP_LEN];
	int ki;

	cr_assert_eq(hop_client_connect(cl, now), 0);
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	input(resp, HOP_RESP_LEN);
	cr_assert(hop_client_is_connected(cl));
	ki = relay.nkeys - 1;
	take_keepalive(&relay, ki);
	expect_silence();
}

/* Relay → client: one CHANNEL_DATA of @len bytes of @fill on keypair @ki. */
static size_t relay_data(int ki, uint32_t channel, uint8_t fill, size_t len, uint8_t *out)
{
	uint8_t frames[HOP_MTU], e2e[HOP_MTU];
	int off;

	memset(e2e, fill, len);
	off = frame_data_encode(frames, sizeof(frames), 0, channel, e2e, len);
	cr_assert_gt(off, 0);
	return resp_seal(&relay, ki, frames, (size_t)off, out);
}

/* --- handshake ----------------------------------------------------------- */

Test(hop_client, handshake_completes_and_frames_flow_both_ways_in_both_suites)
{
	static const enum suite_id suites[] = { SUITE_CHACHAPOLY_BLAKE2S, SUITE_AESGCM_SHA256 };

	for (size_t s = 0; s < 2; s++) {
		uint8_t pt[HOP_MTU], pkt[HOP_MTU];
		struct frame_data d;
		struct frame_iter it;
		struct frame f;
		size_t n;
		int ki;

		new_client(suites[s]);
		cr_assert_eq(hop_client_next_deadline(cl), HOP_CLIENT_NEVER);
		cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"x", 1, now), -ENOTCONN);
		expect_silence();

		handshake();
		cr_assert_eq(count_events(HOP_CLIENT_CONNECTED), 1);
		cr_assert_eq(relay.last_flags, HOP_PAYLOAD_NEW_SESSION);
		cr_assert_eq(hop_client_stats(cl)->handshakes, 1);
		cr_assert_eq(hop_client_stats(cl)->inits, 1);

		/* client → relay */
		cr_assert_eq(hop_client_send_data(cl, 9, (const uint8_t *)"hello", 5, now), 0);
		cr_assert_eq(take_data(&relay, &ki, pt, &n), FRAME_CHANNEL_DATA);
		frame_iter_init(&it, pt, n);
		cr_assert_eq(frame_next(&it, &f), 1);
		cr_assert_eq(frame_data_decode(f.body, f.len, &d), 0);
		cr_assert_eq(d.channel_id, 9);
		cr_assert_eq(d.e2e_len, 5);
		cr_assert_arr_eq(d.e2e, "hello", 5);

		/* relay → client */
		input(pkt, relay_data(ki, 9, 0xab, 300, pkt));
		cr_assert_eq(ngot, 1);
		cr_assert_eq(got[0].type, FRAME_CHANNEL_DATA);
		cr_assert_eq(got[0].channel, 9);
		cr_assert_eq(got[0].len, 300);
		cr_assert_eq(got[0].data[0], 0xab);
		cr_assert_eq(got[0].data[299], 0xab);
		cr_assert_eq(hop_client_stats(cl)->rx_data, 1);
		for (unsigned r = 0; r < HOP_CLIENT_DROP_MAX; r++)
			cr_assert_eq(hop_client_stats(cl)->drops[r], 0, "drop %s",
				     hop_client_drop_name(r));
	}
}

Test(hop_client, connect_twice_is_refused)
{
	cr_assert_eq(hop_client_connect(cl, now), 0);
	cr_assert_eq(hop_client_connect(cl, now), -EALREADY);
	take(HOP_HANDSHAKE_INIT);
	expect_silence();
}

Test(hop_client, create_refuses_bad_config)
{
	struct hop_client_config cfg;
	struct hop_client *c = NULL;
	static const struct {
		const char *what;
		int field;
	} cases[] = {
		{ "no static key", 0 }, { "no relay key", 1 }, { "no send callback", 2 },
		{ "no token", 3 }, { "token too short", 4 }, { "token too long", 5 },
		{ "suite 3", 6 }, { "mtu below 1240", 7 }, { "mtu above 1452", 8 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = config(SUITE_CHACHAPOLY_BLAKE2S);
		switch (cases[i].field) {
		case 0: cfg.static_priv = NULL; break;
		case 1: cfg.relay_pub = NULL; break;
		case 2: cfg.send = NULL; break;
		case 3: cfg.token = NULL; break;
		case 4: cfg.token_len = HOP_TOKEN_MIN - 1; break;
		case 5: cfg.token_len = HOP_TOKEN_MAX + 1; break;
		case 6: cfg.suite = 3; break;
		case 7: cfg.mtu = HOP_MTU_MIN - 1; break;
		case 8: cfg.mtu = HOP_MTU + 1; break;
		}
		cr_expect_eq(hop_client_create(&c, &cfg), -EINVAL, "%s", cases[i].what);
	}
	cfg = config(SUITE_CHACHAPOLY_BLAKE2S);
	cfg.mtu = HOP_MTU_MIN;
	cr_assert_eq(hop_client_create(&c, &cfg), 0);
	cr_expect_eq(hop_client_max_frames(c), HOP_MTU_MIN - 32);
	hop_client_destroy(c);
}

/* A RESP altered by an attacker who may recompute mac1 (it knows our public key). */
enum forge { F_MAC1, F_MAC1_OTHER_KEY, F_RECEIVER, F_TAG, F_EPHEMERAL, F_SUITE, F_VERSION,
	     F_SHORT, F_TYPE_INIT };

static const struct forge_case {
	const char *what;
	enum forge how;
	enum hop_client_drop reason;
} forge_cases[] = {
	{ "mac1 flipped", F_MAC1, HOP_CLIENT_DROP_BAD_MAC1 },
	{ "mac1 keyed by another key", F_MAC1_OTHER_KEY, HOP_CLIENT_DROP_BAD_MAC1 },
	{ "receiver index of no INIT", F_RECEIVER, HOP_CLIENT_DROP_UNKNOWN_INDEX },
	{ "encrypted empty payload flipped", F_TAG, HOP_CLIENT_DROP_BAD_HANDSHAKE },
	{ "ephemeral replaced", F_EPHEMERAL, HOP_CLIENT_DROP_BAD_HANDSHAKE },
	{ "suite byte 2", F_SUITE, HOP_CLIENT_DROP_BAD_HEADER },
	{ "version 2", F_VERSION, HOP_CLIENT_DROP_BAD_VERSION },
	{ "one byte short", F_SHORT, HOP_CLIENT_DROP_BAD_HEADER },
	{ "retyped as an INIT", F_TYPE_INIT, HOP_CLIENT_DROP_BAD_HEADER },
};

Test(hop_client, forged_resp_is_dropped_and_the_real_one_still_completes)
{
	for (size_t i = 0; i < sizeof(forge_cases) / sizeof(forge_cases[0]); i++) {
		const struct forge_case *fc = &forge_cases[i];
		uint8_t resp[HOP_RESP_LEN], forged[HOP_RESP_LEN], other[32];
		size_t flen = HOP_RESP_LEN;

		new_client(SUITE_CHACHAPOLY_BLAKE2S);
		cr_assert_eq(hop_client_connect(cl, now), 0);
		cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
		memcpy(forged, resp, HOP_RESP_LEN);
		switch (fc->how) {
		case F_MAC1:
			forged[HOP_RESP_OFF_MAC1] ^= 1;
			break;
		case F_MAC1_OTHER_KEY:
			memset(other, 0x33, 32);
			cr_assert_eq(cookie_mac1_write(relay.suite, other, forged, flen), 0);
			break;
		case F_RECEIVER:
			forged[HOP_RESP_OFF_RECEIVER] ^= 1;
			cr_assert_eq(cookie_mac1_write(relay.suite, client_pub, forged, flen), 0);
			break;
		case F_TAG:
			forged[HOP_RESP_OFF_EMPTY + 3] ^= 0x40;
			cr_assert_eq(cookie_mac1_write(relay.suite, client_pub, forged, flen), 0);
			break;
		case F_EPHEMERAL:
			forged[HOP_RESP_OFF_EPHEMERAL + 5] ^= 0x01;
			cr_assert_eq(cookie_mac1_write(relay.suite, client_pub, forged, flen), 0);
			break;
		case F_SUITE:
			forged[2] = HOP_SUITE_AESGCM;
			cr_assert_eq(cookie_mac1_write(relay.suite, client_pub, forged, flen), 0);
			break;
		case F_VERSION:
			forged[1] = 2;
			break;
		case F_SHORT:
			flen--;
			break;
		case F_TYPE_INIT:
			forged[0] = HOP_HANDSHAKE_INIT;
			break;
		}
		input(forged, flen);
		cr_expect_eq(hop_client_stats(cl)->drops[fc->reason], 1, "%s", fc->what);
		cr_expect_not(hop_client_is_connected(cl), "%s", fc->what);
		cr_expect_eq(count_events(HOP_CLIENT_CONNECTED), 0, "%s", fc->what);
		expect_silence();

		input(resp, HOP_RESP_LEN);
		cr_expect(hop_client_is_connected(cl), "%s: the real RESP completes", fc->what);
		take_keepalive(&relay, 0);
	}
}

Test(hop_client, stale_and_replayed_resp_are_unknown_index)
{
	uint8_t resp1[HOP_RESP_LEN], resp2[HOP_RESP_LEN];

	/* The answer to the first INIT arrives after it was retransmitted. */
	cr_assert_eq(hop_client_connect(cl, now), 0);
	cr_assert_eq(answer_init(&relay, resp1), HOP_RESP_LEN);
	tick_at(T0 + 5 * SEC);
	cr_assert_eq(answer_init(&relay, resp2), HOP_RESP_LEN);
	cr_assert_neq(relay.keys[0].client_index, relay.keys[1].client_index,
		      "each INIT has a new sender index");
	input(resp1, HOP_RESP_LEN);
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_UNKNOWN_INDEX], 1);
	cr_assert_not(hop_client_is_connected(cl));
	input(resp2, HOP_RESP_LEN);
	cr_assert(hop_client_is_connected(cl));
	take_keepalive(&relay, 1);
	/* Replayed after completion: nothing is pending any more. */
	input(resp2, HOP_RESP_LEN);
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_UNKNOWN_INDEX], 2);
	cr_assert_eq(hop_client_stats(cl)->handshakes, 1);
	expect_silence();
}

Test(hop_client, new_session_only_until_the_first_handshake_completes)
{
	uint8_t resp[HOP_RESP_LEN];

	cr_assert_eq(hop_client_connect(cl, now), 0);
	take(HOP_HANDSHAKE_INIT);			/* lost */
	tick_at(T0 + 5 * SEC);				/* retransmit: still a new session */
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	cr_assert_eq(relay.last_flags, HOP_PAYLOAD_NEW_SESSION);
	input(resp, HOP_RESP_LEN);
	take_keepalive(&relay, 0);

	tick_at(now + 120 * SEC);			/* rekey */
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	cr_assert_eq(relay.last_flags, 0);
	take_keepalive(&relay, 0);			/* the one due since 10 s */
	input(resp, HOP_RESP_LEN);
	take_keepalive(&relay, 1);

	cr_assert_eq(hop_client_reconnect(cl, NULL, now), 0);
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	cr_assert_eq(relay.last_flags, 0);
	cr_assert_eq(relay.inits_seen, 3);
}

/* --- timers -------------------------------------------------------------- */

Test(hop_client, retransmit_at_rekey_timeout_plus_jitter)
{
	static const struct {
		uint64_t word;		/* what the 8-byte draw returns */
		uint64_t jitter;	/* the jitter that must result: word mod (333 ms + 1) */
	} cases[] = {
		{ 0, 0 },
		{ 1, 1 },
		{ 123456789, 123456789 },
		{ 333 * MS, 333 * MS },			/* the largest jitter */
		{ 333 * MS + 1, 0 },
		{ UINT64_MAX, UINT64_MAX % (333 * MS + 1) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t due = T0 + 5 * SEC + cases[i].jitter;
		uint8_t first_eph[32];
		struct pkt *p;

		new_client(SUITE_CHACHAPOLY_BLAKE2S);
		now = T0;
		jitter_word = cases[i].word;
		cr_assert_eq(hop_client_connect(cl, now), 0);
		p = take(HOP_HANDSHAKE_INIT);
		memcpy(first_eph, p->b + HOP_INIT_OFF_EPHEMERAL, 32);
		cr_assert_eq(hop_client_next_deadline(cl), due, "case %zu", i);

		tick_at(due - 1);
		expect_silence();
		tick_at(due);
		p = take(HOP_HANDSHAKE_INIT);
		cr_assert_neq(memcmp(first_eph, p->b + HOP_INIT_OFF_EPHEMERAL, 32), 0,
			      "a retransmit has a fresh ephemeral");
		cr_assert_eq(hop_client_stats(cl)->retransmits, 1);
		cr_assert_eq(hop_client_next_deadline(cl), due + 5 * SEC + cases[i].jitter);
	}
}

Test(hop_client, gives_up_at_rekey_attempt_time_then_backs_off)
{
	/* Backoff bases of §8: 1 s doubling, capped at 60 s. */
	static const uint64_t bases[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 };
	uint64_t start = T0;

	cr_assert_eq(hop_client_connect(cl, now), 0);
	take(HOP_HANDSHAKE_INIT);
	/* With no jitter: INITs at 0, 5, ..., 85 s — 18 in all. */
	for (int k = 1; k < 18; k++) {
		tick_at(T0 + (uint64_t)k * 5 * SEC);
		take(HOP_HANDSHAKE_INIT);
	}
	cr_assert_eq(hop_client_next_deadline(cl), T0 + 90 * SEC);
	tick_at(T0 + 90 * SEC - 1);
	expect_silence();
	cr_assert_eq(count_events(HOP_CLIENT_NO_ANSWER), 0);

	/*
	 * Each give-up waits base × 0.8 (jitter draw 0) or base × 1.2 (the
	 * largest draw, 2·base/5), then a new series starts with an INIT.
	 */
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint64_t base = bases[i] * SEC;
		bool high = i % 2;
		uint64_t wait = high ? base + base / 5 : base - base / 5;

		jitter_word = high ? 2 * base / 5 : 0;
		tick_at(start + 90 * SEC);
		expect_silence();
		cr_assert_eq(count_events(HOP_CLIENT_NO_ANSWER), i + 1);
		cr_assert_eq(last_event()->retry_at_ns, now + wait, "give-up %zu", i);
		cr_assert_eq(hop_client_next_deadline(cl), now + wait);
		start = now + wait;
		tick_at(start - 1);
		expect_silence();
		tick_at(start);
		take(HOP_HANDSHAKE_INIT);
		cr_assert_eq(relay.inits_seen, 0);
	}
	cr_assert_eq(hop_client_stats(cl)->give_ups, sizeof(bases) / sizeof(bases[0]));
}

Test(hop_client, a_completed_handshake_resets_the_backoff)
{
	uint8_t resp[HOP_RESP_LEN];

	cr_assert_eq(hop_client_connect(cl, now), 0);
	take(HOP_HANDSHAKE_INIT);
	tick_at(T0 + 90 * SEC);				/* give up: 0.8 s */
	tick_at(now + 800 * MS);
	take(HOP_HANDSHAKE_INIT);
	tick_at(now + 90 * SEC);			/* give up: 1.6 s */
	cr_assert_eq(last_event()->retry_at_ns, now + 1600 * MS);
	tick_at(now + 1600 * MS);
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	input(resp, HOP_RESP_LEN);
	take_keepalive(&relay, 0);

	/* The rekey series gets no answer: the backoff starts at 1 s again. */
	tick_at(now + 120 * SEC);
	while (pending())
		sent_head++;
	tick_at(now + 90 * SEC);
	while (pending() && sent[sent_head].b[0] == HOP_DATA)
		sent_head++;
	cr_assert_eq(last_event()->type, HOP_CLIENT_NO_ANSWER);
	cr_assert_eq(last_event()->retry_at_ns, now + 800 * MS);
}

Test(hop_client, rekey_at_120_s_without_losing_frames)
{
	uint8_t resp[HOP_RESP_LEN], pkt[HOP_MTU], pt[HOP_MTU];
	uint64_t born;
	size_t n;
	int ki;

	handshake();
	born = now;
	/* Busy: a frame every 5 s, so no keepalives get in the way. */
	for (uint64_t t = 5; t < 120; t += 5) {
		tick_at(born + t * SEC);
		cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"a", 1, now), 0);
		cr_assert_eq(take_data(&relay, &ki, pt, &n), FRAME_CHANNEL_DATA);
		cr_assert_eq(ki, 0);
	}
	cr_assert_eq(hop_client_next_deadline(cl), born + 120 * SEC);
	tick_at(born + 120 * SEC - 1);
	expect_silence();
	tick_at(born + 120 * SEC);
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);

	/* While the rekey is in flight, the old keypair carries frames both ways. */
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"b", 1, now), 0);
	cr_assert_eq(take_data(&relay, &ki, pt, &n), FRAME_CHANNEL_DATA);
	cr_assert_eq(ki, 0);
	input(pkt, relay_data(0, 1, 0xb0, 10, pkt));
	cr_assert_eq(ngot, 1);

	now += 20 * MS;
	input(resp, HOP_RESP_LEN);
	take_keepalive(&relay, 1);
	cr_assert_eq(count_events(HOP_CLIENT_CONNECTED), 1, "a rekey is not a new connection");
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"c", 1, now), 0);
	cr_assert_eq(take_data(&relay, &ki, pt, &n), FRAME_CHANNEL_DATA);
	cr_assert_eq(ki, 1, "sends move to the new keypair at once");

	/* The relay may still send on the old one (previous) as well as the new. */
	input(pkt, relay_data(0, 1, 0xd0, 10, pkt));
	input(pkt, relay_data(1, 1, 0xe0, 10, pkt));
	cr_assert_eq(ngot, 3);
	cr_assert_eq(got[1].data[0], 0xd0);
	cr_assert_eq(got[2].data[0], 0xe0);

	/* The previous keypair dies at its own REJECT_AFTER_TIME. */
	tick_at(born + 180 * SEC - 1);
	while (pending())
		take_keepalive(&relay, 1);
	input(pkt, relay_data(0, 1, 0xd1, 10, pkt));
	cr_assert_eq(ngot, 4);
	tick_at(born + 180 * SEC);
	input(pkt, relay_data(0, 1, 0xd2, 10, pkt));
	cr_assert_eq(ngot, 4);
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_UNKNOWN_INDEX], 1);
	cr_assert(hop_client_is_connected(cl));
	cr_assert_eq(count_events(HOP_CLIENT_DISCONNECTED), 0);
}

Test(hop_client, keypair_is_refused_at_180_s)
{
	uint8_t resp[HOP_RESP_LEN], pkt[HOP_MTU], pt[HOP_MTU];
	uint64_t born;
	size_t n;
	int ki;

	handshake();
	born = now;
	tick_at(born + 120 * SEC);			/* rekey INIT, never answered */
	while (pending())
		sent_head++;
	tick_at(born + 180 * SEC - 1);
	while (pending())
		sent_head++;
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"z", 1, now), 0);
	cr_assert_eq(take_data(&relay, &ki, pt, &n), FRAME_CHANNEL_DATA);
	input(pkt, relay_data(0, 1, 0x11, 5, pkt));
	cr_assert_eq(ngot, 1);
	cr_assert(hop_client_next_deadline(cl) <= born + 180 * SEC);

	tick_at(born + 180 * SEC);
	cr_assert_not(hop_client_is_connected(cl));
	cr_assert_eq(count_events(HOP_CLIENT_DISCONNECTED), 1);
	cr_assert_eq(last_event()->down, HOP_CLIENT_DOWN_EXPIRED);
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"z", 1, now), -ENOTCONN);
	input(pkt, relay_data(0, 1, 0x12, 5, pkt));
	cr_assert_eq(ngot, 1);
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_UNKNOWN_INDEX], 1);
	while (pending())
		cr_assert_eq(sent[sent_head++].b[0], HOP_HANDSHAKE_INIT, "no DATA after expiry");

	/* The series goes on; its next INIT gets an answer and the link is back. */
	tick_at(hop_client_next_deadline(cl));
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	input(resp, HOP_RESP_LEN);
	cr_assert(hop_client_is_connected(cl));
	cr_assert_eq(count_events(HOP_CLIENT_CONNECTED), 2);
	take_keepalive(&relay, 1);
}

Test(hop_client, keepalive_after_10_s_idle_and_not_when_busy)
{
	uint8_t pt[HOP_MTU];
	uint64_t t0;
	size_t n;

	handshake();					/* the confirming keepalive at t0 */
	t0 = now;
	cr_assert_eq(hop_client_next_deadline(cl), t0 + 10 * SEC);
	tick_at(t0 + 10 * SEC - 1);
	expect_silence();
	tick_at(t0 + 10 * SEC);
	take_keepalive(&relay, 0);
	cr_assert_eq(hop_client_next_deadline(cl), t0 + 20 * SEC);

	/* Busy: a frame every 4 s, ticks every second: no keepalive at all. */
	t0 = now;
	for (uint64_t s = 1; s <= 60; s++) {
		tick_at(t0 + s * SEC);
		if (s % 4 == 0) {
			cr_assert_eq(hop_client_send_data(cl, 3, (const uint8_t *)"q", 1, now), 0);
			cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_CHANNEL_DATA);
		}
		expect_silence();
	}
	cr_assert_eq(hop_client_stats(cl)->keepalives, 2);
	/* Idle again: the next keepalive is 10 s after the last frame (60 s). */
	tick_at(t0 + 70 * SEC - 1);
	expect_silence();
	tick_at(t0 + 70 * SEC);
	take_keepalive(&relay, 0);
}

Test(hop_client, no_confirming_keepalive_when_the_connected_event_sent_a_frame)
{
	uint8_t resp[HOP_RESP_LEN], pt[HOP_MTU];
	size_t n;

	event_action = ON_CONNECTED_OPEN;
	cr_assert_eq(hop_client_connect(cl, now), 0);
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	input(resp, HOP_RESP_LEN);
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_CHANNEL_OPEN);
	expect_silence();
	cr_assert_eq(hop_client_stats(cl)->keepalives, 0);
}

Test(hop_client, rekey_after_messages_and_reject_after_messages)
{
	uint8_t resp[HOP_RESP_LEN], pt[HOP_MTU];
	struct hop_data d;
	struct pkt *p;
	size_t n;

	handshake();
	hop_client_test_set_send_counter(cl, REPLAY_REKEY_AFTER_MESSAGES - 1);
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"m", 1, now), 0);
	p = take(HOP_DATA);
	cr_assert_eq(hop_data_decode(p->b, p->len, &d), 0);
	cr_assert_eq(d.counter, REPLAY_REKEY_AFTER_MESSAGES - 1);
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN, "2^60 messages start a rekey");
	expect_silence();

	/* The last counter below the reject limit is sent; nothing after it. */
	hop_client_test_set_send_counter(cl, REPLAY_REJECT_AFTER_MESSAGES - 1);
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"m", 1, now), 0);
	take(HOP_DATA);
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"m", 1, now), -ENOTCONN);
	expect_silence();
	tick_at(now + 1);
	cr_assert_eq(count_events(HOP_CLIENT_DISCONNECTED), 1);
	/* The pending rekey still completes. */
	input(resp, HOP_RESP_LEN);
	cr_assert(hop_client_is_connected(cl));
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_KEEPALIVE);
}

/* --- cookies ------------------------------------------------------------- */

Test(hop_client, cookie_reply_then_init_with_mac2_at_the_retransmit_time)
{
	uint8_t ans[HOP_RESP_LEN], bad[COOKIE_REPLY_LEN];

	relay.under_load = true;
	cr_assert_eq(hop_client_connect(cl, now), 0);
	cr_assert_eq(answer_init(&relay, ans), COOKIE_REPLY_LEN);
	cr_assert_eq(relay.last_mac_state, COOKIE_MAC1_VALID_NO_COOKIE);

	memcpy(bad, ans, COOKIE_REPLY_LEN);
	bad[40] ^= 1;
	input(bad, COOKIE_REPLY_LEN);
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_BAD_COOKIE], 1);
	cr_assert_eq(hop_client_stats(cl)->cookies, 0);

	input(ans, COOKIE_REPLY_LEN);
	cr_assert_eq(hop_client_stats(cl)->cookies, 1);
	expect_silence();				/* no INIT before the timeout */
	input(ans, COOKIE_REPLY_LEN);			/* one reply per INIT */
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_BAD_COOKIE], 2);

	tick_at(T0 + 5 * SEC - 1);
	expect_silence();
	tick_at(T0 + 5 * SEC);
	cr_assert_eq(answer_init(&relay, ans), HOP_RESP_LEN);
	cr_assert_eq(relay.last_mac_state, COOKIE_MAC1_VALID_WITH_COOKIE);
	input(ans, HOP_RESP_LEN);
	cr_assert(hop_client_is_connected(cl));

	/* With no handshake in flight a cookie reply has nothing to answer. */
	input(bad, COOKIE_REPLY_LEN);
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_UNKNOWN_INDEX], 1);
}

/* --- DATA receive -------------------------------------------------------- */

Test(hop_client, replayed_and_forged_data_are_dropped_and_counted)
{
	static const struct {
		const char *what;
		int flip;			/* byte to flip, or -1 */
		uint64_t counter;		/* UINT64_MAX: the next one */
		bool replay;			/* send the same packet twice */
		enum hop_client_drop reason;
	} cases[] = {
		{ "replayed", -1, UINT64_MAX, true, HOP_CLIENT_DROP_REPLAYED },
		{ "ciphertext flipped", HOP_DATA_HEADER_LEN + 2, UINT64_MAX, false,
		  HOP_CLIENT_DROP_BAD_TAG },
		{ "tag flipped", -2, UINT64_MAX, false, HOP_CLIENT_DROP_BAD_TAG },
		{ "counter flipped (AD)", HOP_DATA_OFF_COUNTER, UINT64_MAX, false,
		  HOP_CLIENT_DROP_BAD_TAG },
		{ "receiver index flipped", HOP_DATA_OFF_RECEIVER, UINT64_MAX, false,
		  HOP_CLIENT_DROP_UNKNOWN_INDEX },
		{ "counter at REJECT_AFTER_MESSAGES", -1, REPLAY_REJECT_AFTER_MESSAGES, false,
		  HOP_CLIENT_DROP_REPLAYED },
		{ "suite byte set", 2, UINT64_MAX, false, HOP_CLIENT_DROP_BAD_HEADER },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t frames[32], pkt[HOP_MTU], copy[HOP_MTU];
		const struct hop_client_stats *st;
		uint64_t accepted, drops = 0;
		size_t len;
		int off;

		new_client(SUITE_CHACHAPOLY_BLAKE2S);
		handshake();
		off = frame_accept_encode(frames, sizeof(frames), 0, 5);
		len = resp_seal_at(&relay, 0, cases[i].counter, frames, (size_t)off, pkt);
		if (cases[i].flip == -2)
			pkt[len - 1] ^= 0x80;
		else if (cases[i].flip >= 0)
			pkt[cases[i].flip] ^= 0x01;
		memcpy(copy, pkt, len);
		input(pkt, len);
		if (cases[i].replay) {
			cr_assert_eq(ngot, 1);
			input(copy, len);
		}
		st = hop_client_stats(cl);
		cr_expect_eq(st->drops[cases[i].reason], 1, "%s", cases[i].what);
		cr_expect_eq(ngot, cases[i].replay ? 1 : 0, "%s", cases[i].what);
		for (unsigned r = 0; r < HOP_CLIENT_DROP_MAX; r++)
			drops += st->drops[r];
		accepted = st->rx_packets - drops;
		cr_expect_eq(accepted, 1 + (cases[i].replay ? 1 : 0), "%s: RESP (+ first copy)",
			     cases[i].what);
		expect_silence();
	}
}

Test(hop_client, replay_window_accepts_late_packets_once)
{
	uint8_t frames[32], pkt[HOP_MTU];
	int off = frame_accept_encode(frames, sizeof(frames), 0, 5);

	handshake();
	input(pkt, resp_seal_at(&relay, 0, 3000, frames, (size_t)off, pkt));
	input(pkt, resp_seal_at(&relay, 0, 3000 - 2047, frames, (size_t)off, pkt));
	input(pkt, resp_seal_at(&relay, 0, 3000 - 2048, frames, (size_t)off, pkt));
	cr_assert_eq(ngot, 2);
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_REPLAYED], 1);
}

static const struct {
	const char *what;
	uint8_t raw[24];
	size_t len;
} bad_frames[] = {
	{ "unknown type 0x10 after a good frame",
	  { 0x02, 4, 0, 1, 0, 0, 0, 0x10, 0, 0 }, 10 },
	{ "frame runs past the end", { 0x02, 5, 0, 1, 0, 0, 0 }, 7 },
	{ "one stray byte", { 0x05, 0, 0, 0x05 }, 4 },
	{ "PING of 7 bytes", { 0x06, 7, 0, 1, 2, 3, 4, 5, 6, 7 }, 10 },
	{ "CHANNEL_DATA on channel 0", { 0x04, 5, 0, 0, 0, 0, 0, 0xaa }, 8 },
	{ "CHANNEL_CLOSE of 5 bytes", { 0x03, 5, 0, 1, 0, 0, 0, 0 }, 8 },
	{ "GOAWAY of 5 bytes", { 0x08, 5, 0, 0, 0, 1, 0, 0 }, 8 },
};

Test(hop_client, malformed_frame_drops_the_whole_packet)
{
	uint8_t pkt[HOP_MTU];

	handshake();
	for (size_t i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
		input(pkt, resp_seal(&relay, 0, bad_frames[i].raw, bad_frames[i].len, pkt));
		cr_expect_eq(ngot, 0, "%s: no frame of it is delivered", bad_frames[i].what);
		cr_expect_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_BAD_FRAME], i + 1, "%s",
			     bad_frames[i].what);
		cr_expect_eq(count_events(HOP_CLIENT_GOAWAY), 0);
	}
	expect_silence();
}

Test(hop_client, frames_are_delivered_in_order_and_extensions_skipped)
{
	uint8_t frames[128], pkt[HOP_MTU];
	int off = 0;

	handshake();
	off = frame_accept_encode(frames, sizeof(frames), (size_t)off, 7);
	off = frame_padding_encode(frames, sizeof(frames), (size_t)off, 9);
	off = frame_data_encode(frames, sizeof(frames), (size_t)off, 7, (const uint8_t *)"xy", 2);
	off = frame_keepalive_encode(frames, sizeof(frames), (size_t)off);
	off = frame_close_encode(frames, sizeof(frames), (size_t)off, 7,
				 FRAME_CLOSE_UPSTREAM_REFUSED);
	cr_assert_gt(off, 0);
	frames[off] = 0x93;				/* an unknown extension: skipped */
	frames[off + 1] = 1;
	frames[off + 2] = 0;
	frames[off + 3] = 0xee;
	input(pkt, resp_seal(&relay, 0, frames, (size_t)off + 4, pkt));
	cr_assert_eq(ngot, 3);
	cr_assert_eq(got[0].type, FRAME_CHANNEL_ACCEPT);
	cr_assert_eq(got[0].channel, 7);
	cr_assert_eq(got[1].type, FRAME_CHANNEL_DATA);
	cr_assert_arr_eq(got[1].data, "xy", 2);
	cr_assert_eq(got[2].type, FRAME_CHANNEL_CLOSE);
	cr_assert_eq(got[2].reason, FRAME_CLOSE_UPSTREAM_REFUSED);
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_BAD_FRAME], 0);
	expect_silence();

	/* An empty DATA is valid and delivers nothing. */
	input(pkt, resp_seal(&relay, 0, NULL, 0, pkt));
	cr_assert_eq(ngot, 3);
	cr_assert_eq(hop_client_stats(cl)->rx_data, 2);
}

/* --- GOAWAY and reconnect ------------------------------------------------ */

static size_t relay_goaway(uint16_t reason, uint32_t drain_ms, uint8_t *out)
{
	uint8_t frames[16];
	int off = frame_goaway_encode(frames, sizeof(frames), 0, reason, drain_ms);

	cr_assert_gt(off, 0);
	return resp_seal(&relay, relay.nkeys - 1, frames, (size_t)off, out);
}

Test(hop_client, goaway_event_then_reconnect_after_the_drain_time)
{
	uint8_t resp[HOP_RESP_LEN], pkt[HOP_MTU], pt[HOP_MTU];
	const struct hop_client_event *ev;
	uint64_t at;
	size_t n;

	handshake();
	now += SEC;
	input(pkt, relay_goaway(FRAME_GOAWAY_MAINTENANCE, 3000, pkt));
	ev = last_event();
	cr_assert_eq(ev->type, HOP_CLIENT_GOAWAY);
	cr_assert_eq(ev->goaway_reason, FRAME_GOAWAY_MAINTENANCE);
	cr_assert_eq(ev->drain_ms, 3000);
	at = now + 3 * SEC;
	cr_assert_eq(ev->retry_at_ns, at);
	cr_assert_eq(hop_client_next_deadline(cl), at);
	cr_assert_eq(hop_client_stats(cl)->goaways, 1);

	/* During the drain the session still works. */
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"d", 1, now), 0);
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_CHANNEL_DATA);
	tick_at(at - 1);
	expect_silence();

	tick_at(at);
	cr_assert_eq(last_event()->type, HOP_CLIENT_DISCONNECTED);
	cr_assert_eq(last_event()->down, HOP_CLIENT_DOWN_GOAWAY);
	cr_assert_not(hop_client_is_connected(cl));
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"d", 1, now), -ENOTCONN);
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	cr_assert_eq(relay.last_flags, 0, "a reconnect keeps its channels: no NEW_SESSION");
	input(resp, HOP_RESP_LEN);
	cr_assert(hop_client_is_connected(cl));
	cr_assert_eq(count_events(HOP_CLIENT_CONNECTED), 2);
	take_keepalive(&relay, 1);
	/* The old keypair was dropped with the drained session. */
	input(pkt, relay_data(0, 1, 0x44, 4, pkt));
	cr_assert_eq(hop_client_stats(cl)->drops[HOP_CLIENT_DROP_UNKNOWN_INDEX], 1);
}

Test(hop_client, goaway_and_reconnect_to_another_relay_from_the_event)
{
	uint8_t resp[HOP_RESP_LEN], pkt[HOP_MTU];
	struct pkt *p;

	handshake();
	event_action = ON_GOAWAY_MOVE;
	input(pkt, relay_goaway(FRAME_GOAWAY_SHUTDOWN, 5000, pkt));
	cr_assert_eq(last_event()->type, HOP_CLIENT_GOAWAY);
	cr_assert_not(hop_client_is_connected(cl));

	/* The INIT is for relay2: relay1 cannot even check its mac1. */
	p = take(HOP_HANDSHAKE_INIT);
	cr_assert_eq(resp_init(&relay, p->b, p->len, resp), 0);
	cr_assert_eq(relay.last_mac_state, COOKIE_MAC_INVALID);
	cr_assert_eq(resp_init(&relay2, p->b, p->len, resp), HOP_RESP_LEN);
	cr_assert_eq(relay2.last_flags, 0);
	input(resp, HOP_RESP_LEN);
	cr_assert(hop_client_is_connected(cl));
	take_keepalive(&relay2, 0);

	/* The old GOAWAY's timer is gone with the old session. */
	tick_at(now + 5 * SEC);
	expect_silence();
	cr_assert_eq(count_events(HOP_CLIENT_DISCONNECTED), 0);
}

Test(hop_client, reconnect_drops_keys_and_handshakes_at_once)
{
	uint8_t resp[HOP_RESP_LEN];

	handshake();
	cr_assert_eq(hop_client_reconnect(cl, NULL, now), 0);
	cr_assert_not(hop_client_is_connected(cl));
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"r", 1, now), -ENOTCONN);
	cr_assert_eq(answer_init(&relay, resp), HOP_RESP_LEN);
	input(resp, HOP_RESP_LEN);
	cr_assert(hop_client_is_connected(cl));
	cr_assert_eq(count_events(HOP_CLIENT_DISCONNECTED), 0, "the caller knows");
	cr_assert_eq(count_events(HOP_CLIENT_CONNECTED), 2);
}

/* --- sending ------------------------------------------------------------- */

Test(hop_client, zero_copy_data_and_batches)
{
	uint8_t pt[HOP_MTU], *buf;
	struct frame_iter it;
	struct frame_data d;
	struct frame f;
	size_t room, cap, n;
	int off;

	handshake();
	buf = hop_client_data_begin(cl, 42, &room);
	cr_assert_eq(room, HOP_MTU - 32 - FRAME_DATA_OVERHEAD);
	for (size_t i = 0; i < room; i++)
		buf[i] = (uint8_t)i;
	cr_assert_eq(hop_client_data_commit(cl, room, now), 0);
	cr_assert_eq(sent[sent_head].len, HOP_MTU, "a full frame fills the MTU exactly");
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_CHANNEL_DATA);
	frame_iter_init(&it, pt, n);
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(frame_data_decode(f.body, f.len, &d), 0);
	cr_assert_eq(d.channel_id, 42);
	cr_assert_eq(d.e2e_len, room);
	for (size_t i = 0; i < room; i++)
		cr_assert_eq(d.e2e[i], (uint8_t)i);

	hop_client_data_begin(cl, 42, &room);
	cr_assert_eq(hop_client_data_commit(cl, room + 1, now), -EINVAL);
	hop_client_data_begin(cl, 0, &room);
	cr_assert_eq(hop_client_data_commit(cl, 1, now), -EINVAL);
	expect_silence();

	/* Several frames in one packet, built in the client's own buffer. */
	buf = hop_client_tx_buffer(cl, &cap);
	cr_assert_eq(cap, HOP_MTU - 32);
	off = frame_accept_encode(buf, cap, 0, 8);
	off = frame_data_encode(buf, cap, (size_t)off, 8, (const uint8_t *)"abc", 3);
	off = frame_close_encode(buf, cap, (size_t)off, 8, FRAME_CLOSE_NORMAL);
	cr_assert_gt(off, 0);
	cr_assert_eq(hop_client_send(cl, buf, (size_t)off, now), 0);
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_CHANNEL_ACCEPT);
	cr_assert_eq(frame_validate(pt, n), 3);

	cr_assert_eq(hop_client_send(cl, pt, cap + 1, now), -EMSGSIZE);
	cr_assert_eq(hop_client_send(cl, NULL, 0, now), 0, "an empty DATA is valid");
	cr_assert_eq(take_data(&relay, NULL, pt, &n), 0);
	cr_assert_eq(n, 0);
	expect_silence();
}

Test(hop_client, frame_helpers_build_what_the_spec_says)
{
	static const uint8_t tag[FRAME_CONN_TAG_LEN] = { 1, 2, 3 };
	struct frame_open o = {
		.channel_id = 3, .conn_tag = tag, .tunnel = (const uint8_t *)"crm", .tunnel_len = 3,
		.route = (const uint8_t *)"api", .route_len = 3,
	}, back;
	uint8_t pt[HOP_MTU];
	struct frame_iter it;
	struct frame_close c;
	struct frame f;
	uint32_t id;
	size_t n;

	handshake();
	cr_assert_eq(hop_client_open_channel(cl, &o, now), 0);
	cr_assert_eq(hop_client_accept_channel(cl, 4, now), 0);
	cr_assert_eq(hop_client_close_channel(cl, 5, FRAME_CLOSE_TIMEOUT, now), 0);
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_CHANNEL_OPEN);
	frame_iter_init(&it, pt, n);
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(frame_open_decode(f.body, f.len, &back), 0);
	cr_assert_eq(back.channel_id, 3);
	cr_assert_arr_eq(back.conn_tag, tag, FRAME_CONN_TAG_LEN);
	cr_assert_eq(back.route_len, 3);
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_CHANNEL_ACCEPT);
	cr_assert_eq(frame_accept_decode(pt + 3, 4, &id), 0);
	cr_assert_eq(id, 4);
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_CHANNEL_CLOSE);
	cr_assert_eq(frame_close_decode(pt + 3, 6, &c), 0);
	cr_assert_eq(c.reason, FRAME_CLOSE_TIMEOUT);

	o.channel_id = 0;
	cr_assert_eq(hop_client_open_channel(cl, &o, now), -EINVAL);
	cr_assert_eq(hop_client_close_channel(cl, 5, 99, now), -EINVAL);
	cr_assert_eq(hop_client_send_data(cl, 5, pt, 0, now), -EINVAL);
	cr_assert_eq(hop_client_send_data(cl, 5, pt, HOP_MTU, now), -EMSGSIZE);
	expect_silence();
}

Test(hop_client, send_errors_are_returned_and_counted)
{
	handshake();
	send_result = -EAGAIN;
	cr_assert_eq(hop_client_send_data(cl, 1, (const uint8_t *)"e", 1, now), -EAGAIN);
	cr_assert_eq(hop_client_stats(cl)->send_errors, 1);
	/* A failed send still counts as sending: no keepalive storm while it fails. */
	cr_assert_eq(hop_client_next_deadline(cl), now + 10 * SEC);
	send_result = 0;
	take(HOP_DATA);
	expect_silence();
}

/* --- PING / PONG --------------------------------------------------------- */

Test(hop_client, ping_pong_measures_rtt)
{
	uint8_t pt[HOP_MTU], pkt[HOP_MTU], frames[16], opaque[8];
	struct frame_iter it;
	struct frame f;
	size_t n;
	int off;

	handshake();
	cr_assert_eq(hop_client_ping(cl, now), 0);
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_PING);
	memcpy(opaque, pt + FRAME_HEADER_LEN, 8);

	/* A PONG with other bytes is not ours. */
	memset(frames, 0, sizeof(frames));
	off = frame_pong_encode(frames, sizeof(frames), 0, (const uint8_t *)"12345678");
	now += 3 * MS;
	input(pkt, resp_seal(&relay, 0, frames, (size_t)off, pkt));
	cr_assert_eq(hop_client_stats(cl)->pongs, 0);

	off = frame_pong_encode(frames, sizeof(frames), 0, opaque);
	now += 4 * MS;
	input(pkt, resp_seal(&relay, 0, frames, (size_t)off, pkt));
	cr_assert_eq(hop_client_stats(cl)->pongs, 1);
	cr_assert_eq(hop_client_stats(cl)->rtt_last_ns, 7 * MS);
	cr_assert_eq(hop_client_stats(cl)->srtt_ns, 7 * MS);
	/* Its duplicate matches nothing. */
	input(pkt, resp_seal(&relay, 0, frames, (size_t)off, pkt));
	cr_assert_eq(hop_client_stats(cl)->pongs, 1);

	cr_assert_eq(hop_client_ping(cl, now), 0);
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_PING);
	now += 15 * MS;
	off = frame_pong_encode(frames, sizeof(frames), 0, pt + FRAME_HEADER_LEN);
	input(pkt, resp_seal(&relay, 0, frames, (size_t)off, pkt));
	cr_assert_eq(hop_client_stats(cl)->rtt_last_ns, 15 * MS);
	cr_assert_eq(hop_client_stats(cl)->rtt_min_ns, 7 * MS);
	cr_assert_eq(hop_client_stats(cl)->srtt_ns, 7 * MS - 7 * MS / 8 + 15 * MS / 8);

	/* The relay's PING is answered with the same 8 bytes. */
	off = frame_ping_encode(frames, sizeof(frames), 0, (const uint8_t *)"relay-pg");
	input(pkt, resp_seal(&relay, 0, frames, (size_t)off, pkt));
	cr_assert_eq(take_data(&relay, NULL, pt, &n), FRAME_PONG);
	frame_iter_init(&it, pt, n);
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_arr_eq(f.body, "relay-pg", 8);
	cr_assert_eq(ngot, 0, "PING/PONG are the client's own business");
	expect_silence();
}

Test(hop_client, names)
{
	cr_assert_str_eq(hop_client_drop_name(HOP_CLIENT_DROP_BAD_MAC1), "bad_mac1");
	cr_assert_str_eq(hop_client_drop_name(HOP_CLIENT_DROP_BAD_FRAME), "bad_frame");
	cr_assert_str_eq(hop_client_drop_name(HOP_CLIENT_DROP_MAX), "unknown");
	for (unsigned r = 0; r < HOP_CLIENT_DROP_MAX; r++)
		cr_assert_str_neq(hop_client_drop_name(r), "unknown");
	cr_assert_str_eq(hop_client_event_name(HOP_CLIENT_GOAWAY), "goaway");
	cr_assert_str_eq(hop_client_down_name(HOP_CLIENT_DOWN_EXPIRED), "expired");
}

/* --- endpoint/udp.h ------------------------------------------------------ */

Test(udp, parses_numeric_addresses_only)
{
	static const struct {
		const char *text;
		int ret;
		int family;
		uint16_t port;
	} cases[] = {
		{ "127.0.0.1:51820", 0, AF_INET, 51820 },
		{ "10.77.1.1:1", 0, AF_INET, 1 },
		{ "[::1]:65535", 0, AF_INET6, 65535 },
		{ "[2001:db8::7]:443", 0, AF_INET6, 443 },
		{ "127.0.0.1:0", -EINVAL, 0, 0 },
		{ "127.0.0.1:65536", -EINVAL, 0, 0 },
		{ "127.0.0.1:-1", -EINVAL, 0, 0 },
		{ "127.0.0.1:", -EINVAL, 0, 0 },
		{ "127.0.0.1", -EINVAL, 0, 0 },
		{ ":51820", -EINVAL, 0, 0 },
		{ "::1:51820", -EINVAL, 0, 0 },		/* v6 needs brackets */
		{ "[::1]51820", -EINVAL, 0, 0 },
		{ "[::1:51820", -EINVAL, 0, 0 },
		{ "localhost:51820", -EINVAL, 0, 0 },	/* no DNS */
		{ "127.0.0.1:http", -EINVAL, 0, 0 },
		{ "127.0.0.1:80x", -EINVAL, 0, 0 },
		{ "999.0.0.1:80", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		char back[UDP_ADDR_TEXT_MAX + 1];
		socklen_t len;
		int ret = udp_addr_parse(cases[i].text, &ss, &len);

		cr_expect_eq(ret, cases[i].ret, "'%s': %d", cases[i].text, ret);
		if (ret)
			continue;
		cr_expect_eq(ss.ss_family, cases[i].family, "'%s'", cases[i].text);
		cr_expect_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), cases[i].port);
		cr_assert_eq(udp_addr_format((struct sockaddr *)&ss, len, back, sizeof(back)), 0);
		cr_expect_str_eq(back, cases[i].text);
	}
}

/* A bound loopback socket standing in for the relay; its address as text. */
static int relay_socket(char *addr, size_t cap)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	cr_assert_eq(udp_addr_format((struct sockaddr *)&sa, len, addr, cap), 0);
	return fd;
}

Test(udp, connected_socket_sends_receives_and_batches)
{
	char addr[UDP_ADDR_TEXT_MAX + 1];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct udp_batch *b = malloc(sizeof(*b));
	uint8_t buf[64], small[4];
	int peer = relay_socket(addr, sizeof(addr)), fd = -1;
	size_t len;
	ssize_t n;

	cr_assert_not_null(b);
	cr_assert_eq(udp_connect(&fd, addr), 0);
	cr_assert_eq(udp_set_buffers(fd, 1 << 20), 0);
	cr_assert_eq(udp_recv(fd, buf, sizeof(buf), &len), -EAGAIN, "nonblocking");
	cr_assert_eq(udp_recv_batch(fd, b), -EAGAIN);

	cr_assert_eq(udp_send(fd, (const uint8_t *)"init", 4), 0);
	n = recvfrom(peer, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	cr_assert_eq(n, 4);
	cr_assert_arr_eq(buf, "init", 4);

	for (int i = 0; i < 3; i++) {
		buf[0] = (uint8_t)i;
		cr_assert_eq(sendto(peer, buf, 10 + (size_t)i, 0, (struct sockaddr *)&from, flen),
			     10 + i);
	}
	usleep(10000);
	cr_assert_eq(udp_recv_batch(fd, b), 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(b->len[i], 10 + (size_t)i);
		cr_assert_eq(b->buf[i][0], i);
	}

	/* An oversized datagram is refused whole, not cut. */
	cr_assert_eq(sendto(peer, buf, 10, 0, (struct sockaddr *)&from, flen), 10);
	usleep(10000);
	cr_assert_eq(udp_recv(fd, small, sizeof(small), &len), -EMSGSIZE);
	cr_assert_eq(udp_recv(fd, buf, sizeof(buf), &len), -EAGAIN);

	/* Nobody listens any more: the ICMP error surfaces once as -ECONNREFUSED. */
	close(peer);
	cr_assert_eq(udp_send(fd, (const uint8_t *)"x", 1), 0);
	usleep(10000);
	cr_assert_eq(udp_recv_batch(fd, b), -ECONNREFUSED);
	cr_assert_eq(udp_recv(fd, buf, sizeof(buf), &len), -EAGAIN);
	close(fd);
	free(b);
}

Test(udp, connect_refuses_bad_addresses)
{
	int fd = -1;

	cr_assert_eq(udp_connect(&fd, "localhost:1"), -EINVAL);
	cr_assert_eq(udp_connect(&fd, "127.0.0.1"), -EINVAL);
	cr_assert_eq(fd, -1);
}
