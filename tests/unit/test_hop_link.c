/*
 * test_hop_link.c — an endpoint's relays (endpoint/hop_link.h) on loopback,
 * against small in-memory relays, on a fake clock; and the batched UDP sends
 * under it (endpoint/udp.h, suite udp_txq).
 *
 *	hop_link ──its connected UDP sockets──▶ 127.0.0.1:A  relay 0 (this file)
 *	   ▲    (hop_link_flush with tx_batch) ─▶ 127.0.0.1:B  relay 1
 *	   └── hop_link_readable(now) ◀── the relays' answers, sent from A and B
 *
 * A relay here is a socket and a Noise IKpsk2 responder built from crypto/ and
 * wire/: it answers an INIT with a RESP, opens the DATA it receives and seals
 * the frames a test makes it send. It checks no token (test_hop_client.c
 * does). Time is the variable `now`; the sockets are real, so every wait for
 * a datagram is bounded (poll, RECV_WAIT_MS).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "crypto/aead.h"
#include "crypto/cookie.h"
#include "crypto/keys.h"
#include "crypto/noise.h"
#include "crypto/token.h"
#include "endpoint/hop_link.h"
#include "endpoint/udp.h"
#include "wire/bytes.h"
#include "wire/frame.h"
#include "wire/hop.h"

#define SEC HOP_CLIENT_NS_PER_S
#define MS HOP_CLIENT_NS_PER_MS
#define T0 (1000 * SEC)
#define UNIX_NOW UINT64_C(1800000000)

enum {
	N_RELAYS = 2,
	RECV_WAIT_MS = 2000,	/* a datagram on loopback: at once, or something is wrong */
	MAX_STATES = 32,
	MAX_FRAMES = 256,
	CHANNEL = 9,
};

/* --- the relays ------------------------------------------------------------ */

struct relay {
	int fd;
	char addr[HOP_LINK_ADDR_MAX];
	uint8_t priv[32], pub[32];
	struct sockaddr_storage peer;	/* where the link's socket sends from */
	socklen_t peer_len;
	bool keyed;
	struct aead_ctx *seal, *open;
	uint32_t my_index, client_index;
	uint64_t tx_counter;
	unsigned inits;			/* INITs received */
};

static struct relay relays[N_RELAYS];
static uint8_t client_priv[32];
static uint8_t token[TOKEN_MAX_LEN];
static size_t token_len;

static void relay_open(struct relay *r, uint8_t seed)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int big = 4 << 20;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 32; i++)
		r->priv[i] = (uint8_t)(seed + i);
	cr_assert_eq(keys_public_x25519(r->priv, r->pub), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(r->fd, 0);
	(void)setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	cr_assert_eq(bind(r->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(r->fd, (struct sockaddr *)&sin, &len), 0);
	cr_assert_eq(udp_addr_format((struct sockaddr *)&sin, len, r->addr, sizeof(r->addr)), 0);
}

static void relay_close(struct relay *r)
{
	aead_ctx_destroy(r->seal);
	aead_ctx_destroy(r->open);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Receive one datagram (waiting up to @wait_ms). @return its length, 0 if none came. */
static size_t relay_recv(struct relay *r, uint8_t *buf, size_t cap, int wait_ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, wait_ms) <= 0)
		return 0;
	r->peer_len = sizeof(r->peer);
	n = recvfrom(r->fd, buf, cap, 0, (struct sockaddr *)&r->peer, &r->peer_len);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

static void relay_send(struct relay *r, const uint8_t *buf, size_t len)
{
	cr_assert_eq(sendto(r->fd, buf, len, 0, (struct sockaddr *)&r->peer, r->peer_len),
		     (ssize_t)len);
}

/* §3.4 on one INIT, token unchecked: a RESP into @out. @return its length. */
static size_t relay_answer(struct relay *r, const uint8_t *pkt, size_t len, uint8_t *out)
{
	static const uint8_t zero_psk[32];
	uint8_t payload[HOP_PAYLOAD_MAX], prologue[10], remote[32];
	struct noise_handshake hs;
	struct noise_keys nk;
	struct hop_init m;
	size_t plen, mlen;

	cr_assert_eq(hop_init_decode(pkt, len, &m), 0, "expected an INIT");
	memcpy(prologue, "postern/1", 9);
	prologue[9] = (uint8_t)m.suite;
	cr_assert_eq(noise_handshake_init(&hs, (enum suite_id)m.suite, NOISE_IKPSK2, false,
					  prologue, 10, r->priv, NULL, zero_psk), 0);
	cr_assert_eq(noise_read_message(&hs, pkt + HOP_INIT_OFF_EPHEMERAL,
					hop_init_noise_len(&m), payload, sizeof(payload), &plen),
		     0, "the INIT must be for this relay's key");
	memcpy(remote, noise_remote_static(&hs), 32);
	cr_assert_eq(noise_write_message(&hs, NULL, 0, out + HOP_RESP_OFF_EPHEMERAL,
					 HOP_RESP_NOISE_LEN, &mlen), 0);
	r->my_index = 0x52000000u + r->inits;
	r->client_index = m.sender;
	cr_assert_eq(hop_resp_encode(out, HOP_RESP_LEN, &(struct hop_resp){
		.suite = m.suite, .sender = r->my_index, .receiver = m.sender }), HOP_RESP_LEN);
	cr_assert_eq(cookie_mac1_write((enum suite_id)m.suite, remote, out, HOP_RESP_LEN), 0);
	cr_assert_eq(noise_split(&hs, &nk), 0);
	aead_ctx_destroy(r->seal);
	aead_ctx_destroy(r->open);
	/* The first key is initiator → relay (§3.3); we are the responder. */
	cr_assert_eq(aead_ctx_create(&r->seal, (enum suite_id)m.suite, nk.send, true), 0);
	cr_assert_eq(aead_ctx_create(&r->open, (enum suite_id)m.suite, nk.recv, false), 0);
	r->tx_counter = 0;
	r->keyed = true;
	noise_handshake_wipe(&hs);
	return HOP_RESP_LEN;
}

/* Receive datagrams until an INIT, count it and answer it. */
static void relay_handshake(struct relay *r)
{
	uint8_t pkt[UDP_DATAGRAM_MAX], resp[HOP_RESP_LEN];
	size_t n;

	for (;;) {
		n = relay_recv(r, pkt, sizeof(pkt), RECV_WAIT_MS);
		cr_assert_gt(n, 0, "no INIT reached relay %s", r->addr);
		if (pkt[0] == HOP_HANDSHAKE_INIT)
			break;
	}
	r->inits++;
	relay_send(r, resp, relay_answer(r, pkt, n, resp));
}

/* Count the INITs waiting on @r's socket now (and drop everything else). */
static unsigned relay_count_inits(struct relay *r)
{
	uint8_t pkt[UDP_DATAGRAM_MAX];
	unsigned inits = 0;
	size_t n;

	while ((n = relay_recv(r, pkt, sizeof(pkt), 0)) > 0)
		inits += pkt[0] == HOP_HANDSHAKE_INIT;
	r->inits += inits;
	return inits;
}

/* Seal @n frame bytes and send them as one DATA. */
static void relay_send_frames(struct relay *r, const uint8_t *frames, size_t n)
{
	uint8_t out[HOP_MTU];
	uint64_t counter = r->tx_counter++;

	cr_assert(r->keyed);
	hop_data_header_write(out, r->client_index, counter);
	cr_assert_eq(aead_seal(r->seal, counter, out, HOP_DATA_HEADER_LEN, frames, n,
			       out + HOP_DATA_HEADER_LEN), 0);
	relay_send(r, out, HOP_DATA_HEADER_LEN + n + HOP_TAG_LEN);
}

/*
 * Open the next DATA on @r's socket into @pt. @return the plaintext length;
 * the packet's counter in *@counter.
 */
static size_t relay_open_data(struct relay *r, uint8_t *pt, uint64_t *counter)
{
	uint8_t pkt[UDP_DATAGRAM_MAX];
	struct hop_data d;
	size_t n;

	n = relay_recv(r, pkt, sizeof(pkt), RECV_WAIT_MS);
	cr_assert_gt(n, 0, "no DATA reached relay %s", r->addr);
	cr_assert_eq(hop_data_decode(pkt, n, &d), 0);
	cr_assert_eq(d.receiver, r->my_index);
	cr_assert(aead_open(r->open, d.counter, pkt, HOP_DATA_HEADER_LEN, d.ciphertext,
			    d.ciphertext_len, pt), "DATA does not open");
	*counter = d.counter;
	return d.ciphertext_len - HOP_TAG_LEN;
}

/* --- the link under test --------------------------------------------------- */

struct state_ev {
	unsigned relay;
	enum hop_link_state st;
	enum hop_link_why why;
	uint64_t at;		/* `now` when it was reported */
};

static struct hop_link *link_;
static uint64_t now;
static struct state_ev states[MAX_STATES];
static unsigned n_states;
static struct {
	uint32_t channel;
	uint8_t first;		/* the E2E bytes' first byte */
	size_t len;
} frames_got[MAX_FRAMES];
static unsigned n_frames;

static void on_frame(void *ctx, unsigned relay, const struct frame *f, uint64_t t)
{
	struct frame_data d;

	(void)ctx;
	(void)relay;
	(void)t;
	if (f->type != FRAME_CHANNEL_DATA || n_frames >= MAX_FRAMES)
		return;
	cr_assert_eq(frame_data_decode(f->body, f->len, &d), 0);
	frames_got[n_frames].channel = d.channel_id;
	frames_got[n_frames].first = d.e2e[0];
	frames_got[n_frames].len = d.e2e_len;
	n_frames++;
}

static void on_state(void *ctx, unsigned relay, enum hop_link_state st, enum hop_link_why why,
		     uint32_t drain_ms)
{
	(void)ctx;
	(void)drain_ms;
	cr_assert_lt(n_states, MAX_STATES);
	states[n_states++] = (struct state_ev){ .relay = relay, .st = st, .why = why, .at = now };
}

static bool saw_state(unsigned relay, enum hop_link_state st)
{
	for (unsigned i = 0; i < n_states; i++)
		if (states[i].relay == relay && states[i].st == st)
			return true;
	return false;
}

static unsigned count_states(unsigned relay, enum hop_link_state st)
{
	unsigned n = 0;

	for (unsigned i = 0; i < n_states; i++)
		n += states[i].relay == relay && states[i].st == st;
	return n;
}

/* A link to the first @n relays. */
static void make_link_n(enum hop_link_policy policy, bool tx_batch, unsigned n)
{
	struct hop_link_relay rl[N_RELAYS];
	struct hop_link_config cfg = {
		.policy = policy,
		.relays = rl,
		.n_relays = n,
		.static_priv = client_priv,
		.token = token,
		.token_len = token_len,
		.on_frame = on_frame,
		.on_state = on_state,
		.tx_batch = tx_batch,
	};

	for (unsigned i = 0; i < n; i++) {
		memcpy(rl[i].addr, relays[i].addr, sizeof(rl[i].addr));
		memcpy(rl[i].pub, relays[i].pub, 32);
	}
	cr_assert_eq(hop_link_create(&link_, &cfg), 0);
}

static void make_link(enum hop_link_policy policy, bool tx_batch)
{
	make_link_n(policy, tx_batch, N_RELAYS);
}

/* Start at T0; relay 0 answers; the session is up (its confirming KEEPALIVE read). */
static void start_up(void)
{
	uint8_t pt[HOP_MTU];
	uint64_t counter;

	now = T0;
	cr_assert_eq(hop_link_start(link_, now), 0);
	hop_link_flush(link_);
	relay_handshake(&relays[0]);
	now += 1 * MS;
	hop_link_readable(link_, 0, now);
	hop_link_flush(link_);
	cr_assert(hop_link_is_up(link_, 0), "relay 0's session is not up");
	cr_assert(saw_state(0, HOP_LINK_UP));
	(void)relay_open_data(&relays[0], pt, &counter);	/* the KEEPALIVE */
}

static void setup(void)
{
	struct token t = {
		.role = TOKEN_ROLE_AGENT,
		.not_before = UNIX_NOW - 3600,
		.expiry = UNIX_NOW + 3600,
		.tenant = "acme",
		.tunnels = { "crm" },
		.n_tunnels = 1,
	};
	uint8_t signer[32], client_pub[32];

	for (int i = 0; i < 32; i++) {
		client_priv[i] = (uint8_t)(0x90 + i);
		signer[i] = (uint8_t)(0xc0 + i);
	}
	cr_assert_eq(keys_public_x25519(client_priv, client_pub), 0);
	memcpy(t.endpoint_pub, client_pub, 32);
	cr_assert_eq(token_encode_signed(&t, signer, token, sizeof(token), &token_len), 0);
	relay_open(&relays[0], 0x20);
	relay_open(&relays[1], 0x60);
	link_ = NULL;
	n_states = n_frames = 0;
}

static void teardown(void)
{
	hop_link_destroy(link_);
	link_ = NULL;
	for (unsigned i = 0; i < N_RELAYS; i++)
		relay_close(&relays[i]);
}

TestSuite(hop_link, .init = setup, .fini = teardown, .timeout = 60);

/* --- moving to the next relay happens now --------------------------------- */

/*
 * A GOAWAY long after the last packet: the next relay's handshake starts at
 * the GOAWAY's time, so its INIT is retransmitted REKEY_TIMEOUT after that,
 * not at once because the last packet before the GOAWAY was long ago.
 */
Test(hop_link, goaway_moves_to_the_next_relay_at_the_goaway_time)
{
	uint8_t frames[64];
	uint64_t t_goaway, next;
	int off;

	make_link(HOP_LINK_ONE, false);
	start_up();
	t_goaway = now + 100 * SEC;	/* nothing at all in between: no tick, no packet */
	off = frame_goaway_encode(frames, sizeof(frames), 0, FRAME_GOAWAY_SHUTDOWN, 5000);
	cr_assert_gt(off, 0);
	relay_send_frames(&relays[0], frames, (size_t)off);
	now = t_goaway;
	hop_link_readable(link_, 0, now);
	cr_assert(saw_state(0, HOP_LINK_DRAINING));
	cr_assert_eq(hop_link_current(link_), 1, "the connector moves to relay 1 at the GOAWAY");
	relay_handshake(&relays[1]);	/* its first INIT */
	next = hop_client_next_deadline(hop_link_client(link_, 1));
	cr_assert_geq(next, t_goaway + HOP_CLIENT_REKEY_TIMEOUT_NS,
		      "relay 1's INIT is due again %lld ms after the GOAWAY, not 5 s",
		      (long long)((int64_t)(next - t_goaway) / (int64_t)MS));
	cr_assert_leq(next, t_goaway + HOP_CLIENT_REKEY_TIMEOUT_NS +
			    HOP_CLIENT_REKEY_JITTER_MAX_NS);
	/* A second later: no retransmitted INIT yet (the RESP is on its way). */
	now = t_goaway + 1 * SEC;
	hop_link_tick(link_, now);
	cr_assert_eq(relay_count_inits(&relays[1]), 0, "relay 1 got a second INIT at once");
}

/*
 * Relay 0 never answers: after REKEY_ATTEMPT_TIME its series is given up and
 * relay 1's handshake starts then, not at relay 0's own retry time.
 */
Test(hop_link, unanswered_relay_is_left_for_the_next_at_once)
{
	uint64_t next, moved_at = 0;

	make_link(HOP_LINK_ONE, false);
	now = T0;
	cr_assert_eq(hop_link_start(link_, now), 0);
	/* Bounded: REKEY_ATTEMPT_TIME is 18 retransmits of 5 s. */
	for (int i = 0; i < 100 && hop_link_current(link_) == 0; i++) {
		next = hop_link_next_deadline(link_);
		cr_assert_lt(next, T0 + 200 * SEC, "relay 0 was never given up");
		if (next > now)
			now = next;
		hop_link_tick(link_, now);
		moved_at = now;
	}
	cr_assert_eq(hop_link_current(link_), 1);
	cr_assert_geq(moved_at, T0 + HOP_CLIENT_REKEY_ATTEMPT_TIME_NS);
	/* The caller heard why, once, before the move; relay 0 was never up: no DOWN. */
	cr_assert_eq(count_states(0, HOP_LINK_UNANSWERED), 1);
	cr_assert_eq(states[n_states - 1].st, HOP_LINK_UNANSWERED);
	cr_assert_eq(states[n_states - 1].why, HOP_LINK_WHY_SILENT);
	cr_assert_eq(count_states(0, HOP_LINK_DOWN), 0);
	cr_assert_eq(n_states, 1, "%u state reports, want the UNANSWERED only", n_states);
	cr_assert_eq(relay_count_inits(&relays[1]), 1, "relay 1 gets one INIT at the move");
	next = hop_client_next_deadline(hop_link_client(link_, 1));
	cr_assert_geq(next, moved_at + HOP_CLIENT_REKEY_TIMEOUT_NS);
	cr_assert_leq(next, moved_at + HOP_CLIENT_REKEY_TIMEOUT_NS +
			    HOP_CLIENT_REKEY_JITTER_MAX_NS,
		      "relay 1's retransmit is %lld ms after the move: its series began later",
		      (long long)((next - moved_at) / MS));
}

/*
 * A relay that never answers (another key pinned, a suite or token it refuses:
 * §9 drops such INITs unanswered) is reported UNANSWERED once per series, at
 * the series' end, with the INITs that series sent as the relay counted them
 * and the series in a row; when it answers at last, UP as always, the run
 * reset. A lone relay: ONE has nowhere to move, so both policies retry it.
 */
Test(hop_link, unanswered_series_reported_once_each_then_up_as_before)
{
	static const struct {
		enum hop_link_policy policy;
		const char *name;
	} cases[] = {
		{ HOP_LINK_ONE, "one" },
		{ HOP_LINK_ALL, "all" },
	};
	enum { SERIES = 2 };

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct hop_link_relay_stats *st;
		uint64_t series_start = T0, next;
		unsigned seen = 0, inits = 0, ticks = 0;
		uint8_t pt[HOP_MTU];
		uint64_t counter;

		if (c)
			setup();
		make_link_n(cases[c].policy, false, 1);
		st = hop_link_relay_stats(link_, 0);
		now = T0;
		cr_assert_eq(hop_link_start(link_, now), 0);
		/* Bounded: a series is 18 INITs, then a backoff of a second or two. */
		while (seen < SERIES) {
			cr_assert_lt(ticks++, 100, "%s: %u reports after %u ticks", cases[c].name,
				     seen, ticks);
			next = hop_link_next_deadline(link_);
			if (next > now)
				now = next;
			hop_link_tick(link_, now);
			inits += relay_count_inits(&relays[0]);
			if (count_states(0, HOP_LINK_UNANSWERED) == seen)
				continue;
			seen++;
			cr_assert_eq(count_states(0, HOP_LINK_UNANSWERED), seen,
				     "%s: more than one report at one give-up", cases[c].name);
			cr_assert_eq(n_states, seen, "%s: another state reported", cases[c].name);
			cr_assert_eq(states[seen - 1].why, HOP_LINK_WHY_SILENT);
			cr_assert_geq(states[seen - 1].at,
				      series_start + HOP_CLIENT_REKEY_ATTEMPT_TIME_NS,
				      "%s: series %u reported before its end", cases[c].name, seen);
			cr_assert_eq(hop_client_stats(hop_link_client(link_, 0))->give_ups, seen);
			cr_assert_eq(st->unanswered, seen);
			cr_assert_eq(st->unanswered_run, seen);
			cr_assert_eq(st->unanswered_inits, inits,
				     "%s: series %u: %llu INITs reported, the relay got %u",
				     cases[c].name, seen,
				     (unsigned long long)st->unanswered_inits, inits);
			cr_assert_geq(inits, HOP_CLIENT_REKEY_ATTEMPT_TIME_NS /
					     (HOP_CLIENT_REKEY_TIMEOUT_NS +
					      HOP_CLIENT_REKEY_JITTER_MAX_NS));
			inits = 0;
			/* The next series starts after the backoff (§8: 1 s, 2 s, ±20%). */
			next = hop_link_next_deadline(link_);
			cr_assert_gt(next, now, "%s: the next series starts at once",
				     cases[c].name);
			series_start = next;
		}

		/* The third series is answered: UP, as for a relay that answered at once. */
		now = series_start;
		hop_link_tick(link_, now);
		relay_handshake(&relays[0]);
		now += 1 * MS;
		hop_link_readable(link_, 0, now);
		cr_assert(hop_link_is_up(link_, 0), "%s: no session after the answer",
			  cases[c].name);
		cr_assert_eq(n_states, SERIES + 1);
		cr_assert_eq(states[SERIES].st, HOP_LINK_UP);
		cr_assert_eq(states[SERIES].why, HOP_LINK_WHY_NONE);
		cr_assert_eq(st->ups, 1);
		cr_assert_eq(st->unanswered, SERIES, "the count since create stays");
		cr_assert_eq(st->unanswered_run, 0, "%s: UP resets the run", cases[c].name);
		(void)relay_open_data(&relays[0], pt, &counter);	/* the KEEPALIVE */
		cr_assert_eq(counter, 0);
		teardown();
	}
}

/* --- batched sends and receives -------------------------------------------- */

/*
 * tx_batch: DATA waits for hop_link_flush(), then every packet reaches the
 * relay, in order (counters 1, 2, ...), with one system call per
 * UDP_BATCH_MAX packets at most, mixed sizes included.
 */
Test(hop_link, batched_sends_wait_for_the_flush_and_arrive_in_order)
{
	static const struct {
		unsigned packets;
		size_t len;		/* E2E bytes per packet; 0: alternate 1400 and 60 */
		uint64_t syscalls;	/* sendmmsg calls the flush may take at most */
	} cases[] = {
		{ 1, 100, 1 },
		{ 12, 1400, 1 },
		{ 12, 0, 1 },
		{ UDP_BATCH_MAX + 6, 1400, 2 },	/* a full queue leaves before the flush */
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct hop_client *hc;
		uint8_t e2e[1400], pt[HOP_MTU], probe[UDP_DATAGRAM_MAX];
		const struct hop_link_relay_stats *st;
		uint64_t calls0, counter, expect_counter = 1;
		unsigned before_flush = cases[c].packets >= UDP_BATCH_MAX ? UDP_BATCH_MAX : 0;

		if (c)
			setup();	/* a fresh link and relays per case */
		make_link(HOP_LINK_ONE, true);
		start_up();
		hc = hop_link_client(link_, 0);
		st = hop_link_relay_stats(link_, 0);
		calls0 = st->tx_syscalls;
		for (unsigned i = 0; i < cases[c].packets; i++) {
			size_t len = cases[c].len ? cases[c].len : (i % 2 ? 60 : 1400);

			memset(e2e, (int)(i & 0xff), len);
			cr_assert_eq(hop_client_send_data(hc, CHANNEL, e2e, len, now), 0);
		}
		/* Nothing left yet, unless the queue filled up. */
		for (unsigned i = 0; i < before_flush; i++, expect_counter++) {
			cr_assert_gt(relay_open_data(&relays[0], pt, &counter), 0);
			cr_assert_eq(counter, expect_counter);
		}
		cr_assert_eq(relay_recv(&relays[0], probe, sizeof(probe), 50), 0,
			     "case %zu: a packet left before hop_link_flush()", c);
		hop_link_flush(link_);
		for (unsigned i = before_flush; i < cases[c].packets; i++, expect_counter++) {
			struct frame_iter it;
			struct frame_data d;
			struct frame f;
			size_t len = cases[c].len ? cases[c].len : (i % 2 ? 60 : 1400);
			size_t n = relay_open_data(&relays[0], pt, &counter);

			cr_assert_eq(counter, expect_counter, "case %zu: packet %u out of order",
				     c, i);
			frame_iter_init(&it, pt, n);
			cr_assert_eq(frame_next(&it, &f), 1);
			cr_assert_eq(frame_data_decode(f.body, f.len, &d), 0);
			cr_assert_eq(d.e2e_len, len, "case %zu: packet %u has %zu bytes", c, i,
				     d.e2e_len);
			cr_assert_eq(d.e2e[0], (uint8_t)(i & 0xff));
		}
		cr_assert_leq(st->tx_syscalls - calls0, cases[c].syscalls,
			      "case %zu: %llu system calls for %u packets", c,
			      (unsigned long long)(st->tx_syscalls - calls0), cases[c].packets);
		cr_assert_eq(st->tx_errors, 0);
		teardown();
	}
}

/* Without tx_batch a packet leaves as it is made. */
Test(hop_link, unbatched_sends_leave_at_once)
{
	uint8_t e2e[200] = { 7 }, pt[HOP_MTU];
	uint64_t counter;

	make_link(HOP_LINK_ONE, false);
	start_up();
	cr_assert_eq(hop_client_send_data(hop_link_client(link_, 0), CHANNEL, e2e, sizeof(e2e),
					  now), 0);
	cr_assert_gt(relay_open_data(&relays[0], pt, &counter), 0);
	cr_assert_eq(counter, 1);
}

/* A burst from the relay: every frame, in order, with one recvmmsg per 64 datagrams. */
Test(hop_link, received_burst_is_read_in_batches_in_order)
{
	enum { BURST = 100 };
	const struct hop_link_relay_stats *st;
	uint8_t frames[HOP_MTU], e2e[1000];
	uint64_t calls0;
	int off;

	make_link(HOP_LINK_ONE, false);
	start_up();
	st = hop_link_relay_stats(link_, 0);
	for (unsigned i = 0; i < BURST; i++) {
		memset(e2e, (int)i, sizeof(e2e));
		off = frame_data_encode(frames, sizeof(frames), 0, CHANNEL, e2e, sizeof(e2e));
		cr_assert_gt(off, 0);
		relay_send_frames(&relays[0], frames, (size_t)off);
	}
	usleep(20 * 1000);	/* loopback delivers at once; leave it a moment anyway */
	calls0 = st->rx_syscalls;
	now += 1 * MS;
	hop_link_readable(link_, 0, now);
	cr_assert_eq(n_frames, BURST);
	for (unsigned i = 0; i < BURST; i++) {
		cr_assert_eq(frames_got[i].channel, CHANNEL);
		cr_assert_eq(frames_got[i].first, (uint8_t)i, "frame %u out of order", i);
		cr_assert_eq(frames_got[i].len, sizeof(e2e));
	}
	cr_assert_eq(st->rx_syscalls - calls0, 2, "%llu recvmmsg calls for %d datagrams",
		     (unsigned long long)(st->rx_syscalls - calls0), BURST);
	cr_assert_eq(st->rx_errors, 0);
}

/* hop_link_destroy() sends what is still queued (a last CLOSE must not be lost). */
Test(hop_link, destroy_sends_what_is_queued)
{
	uint8_t pt[HOP_MTU];
	struct frame_iter it;
	struct frame f;
	uint64_t counter;
	size_t n;

	make_link(HOP_LINK_ONE, true);
	start_up();
	cr_assert_eq(hop_client_close_channel(hop_link_client(link_, 0), CHANNEL,
					      FRAME_CLOSE_NORMAL, now), 0);
	hop_link_destroy(link_);
	link_ = NULL;
	n = relay_open_data(&relays[0], pt, &counter);
	frame_iter_init(&it, pt, n);
	cr_assert_eq(frame_next(&it, &f), 1);
	cr_assert_eq(f.type, FRAME_CHANNEL_CLOSE);
}

/* --- udp_txq: the datagrams, as queued, whatever the batching ------------- */

static void socket_pair(int *rx, int *tx)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	char addr[UDP_ADDR_TEXT_MAX + 1];
	int big = 4 << 20;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(*rx, 0);
	(void)setsockopt(*rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	cr_assert_eq(bind(*rx, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(*rx, (struct sockaddr *)&sin, &len), 0);
	cr_assert_eq(udp_addr_format((struct sockaddr *)&sin, len, addr, sizeof(addr)), 0);
	cr_assert_eq(udp_connect(tx, addr), 0);
}

Test(udp_txq, datagrams_arrive_as_queued_with_and_without_gso)
{
	/* Sizes in queue order: runs of one size, shorter ends, singles. */
	static const uint16_t sizes[] = { 1452, 1452, 1452, 1452, 300, 1452, 1452, 1452, 60, 60,
					  60, 900, 1452, 1000, 1000, 1200, 1 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	static struct udp_txq q;
	uint8_t buf[UDP_DATAGRAM_MAX], got[UDP_DATAGRAM_MAX];

	for (int gso = 0; gso < 2; gso++) {
		int rx, tx;

		socket_pair(&rx, &tx);
		memset(&q, 0, sizeof(q));
		q.no_gso = !gso;
		for (unsigned i = 0; i < N; i++) {
			memset(buf, (int)(i + 1), sizes[i]);
			cr_assert_eq(udp_txq_add(&q, buf, sizes[i]), 0);
		}
		cr_assert_eq(udp_txq_send(tx, &q), N, "gso=%d: the kernel took fewer", gso);
		cr_assert_eq(q.n, 0);
		cr_assert_eq(q.sends, 1, "gso=%d: %llu system calls", gso,
			     (unsigned long long)q.sends);
		for (unsigned i = 0; i < N; i++) {
			struct pollfd pfd = { .fd = rx, .events = POLLIN };
			ssize_t n;

			cr_assert_gt(poll(&pfd, 1, RECV_WAIT_MS), 0, "gso=%d: datagram %u lost",
				     gso, i);
			n = recv(rx, got, sizeof(got), 0);
			cr_assert_eq(n, sizes[i], "gso=%d: datagram %u has %zd bytes, not %u", gso,
				     i, n, sizes[i]);
			for (ssize_t j = 0; j < n; j++)
				cr_assert_eq(got[j], (uint8_t)(i + 1));
		}
		close(rx);
		close(tx);
	}
}

Test(udp_txq, add_refuses_what_does_not_fit)
{
	static struct udp_txq q;
	uint8_t buf[UDP_DATAGRAM_MAX + 1] = { 0 };

	cr_assert_eq(udp_txq_add(&q, buf, 0), -EMSGSIZE);
	cr_assert_eq(udp_txq_add(&q, buf, UDP_DATAGRAM_MAX + 1), -EMSGSIZE);
	for (unsigned i = 0; i < UDP_BATCH_MAX; i++)
		cr_assert_eq(udp_txq_add(&q, buf, 10), 0);
	cr_assert_eq(udp_txq_add(&q, buf, 10), -ENOSPC);
	cr_assert_eq(q.n, UDP_BATCH_MAX);
}

/*
 * Nobody listens: every send draws an ICMP "port unreachable", which the next
 * send reports instead of sending. Such a stale error must not cost the
 * datagrams queued after it (a GSO run is many datagrams in one send).
 */
Test(udp_txq, a_stale_icmp_error_costs_no_queued_datagram)
{
	static struct udp_txq q;
	uint8_t buf[100] = { 0 };

	for (int gso = 0; gso < 2; gso++) {
		unsigned sent = 0;
		int rx, tx;

		socket_pair(&rx, &tx);
		close(rx);
		memset(&q, 0, sizeof(q));
		q.no_gso = !gso;
		for (int round = 0; round < 3; round++) {
			for (unsigned i = 0; i < 5; i++)
				cr_assert_eq(udp_txq_add(&q, buf, sizeof(buf)), 0);
			sent += udp_txq_send(tx, &q);
			cr_assert_eq(q.n, 0, "the queue is empty after a send");
			usleep(10 * 1000);	/* the ICMP error is back by now */
		}
		cr_assert_eq(sent, 15, "gso=%d: %u of 15 datagrams left", gso, sent);
		cr_assert_eq(udp_send(tx, buf, sizeof(buf)), -ECONNREFUSED,
			     "gso=%d: the last send drew no ICMP error: the test tested nothing",
			     gso);
		close(tx);
	}
}
