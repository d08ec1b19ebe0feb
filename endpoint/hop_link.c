/*
 * hop_link.c — an endpoint's sessions with its relays (hop_link.h).
 *
 * Each relay has its own hop_client and connected UDP socket. The client
 * does the protocol (handshakes, rekeying, GOAWAY timing, §8 backoff); this
 * file adds what a single client cannot know: that the relay has gone silent,
 * and which relay to use.
 *
 * What the caller hears (on_state), per relay, and on what:
 *	UP            the client's CONNECTED
 *	DOWN (.why)   the client's DISCONNECTED, or dead_ns of silence while up;
 *	              once per session
 *	DRAINING      the client's GOAWAY (ONE: then the next relay)
 *	UNANSWERED    the client's NO_ANSWER, a series given up; why SILENT
 *	              (ONE: then the next relay)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "endpoint/hop_link.h"
#include "endpoint/udp.h"
#include "relay/log.h"

enum {
	DEFAULT_SOCK_BUF = 4 << 20,
	RX_ROUNDS_MAX = 4,	/* recvmmsg calls per hop_link_readable(): 256 datagrams */
};

struct link_relay {
	struct hop_link *l;
	unsigned idx;
	struct hop_link_relay cfg;
	int fd;
	struct udp_txq *txq;	/* cfg.tx_batch: packets waiting for hop_link_flush() */
	struct hop_client *c;
	bool started;		/* hop_client_connect() done */
	bool up;		/* CONNECTED seen, no DISCONNECTED since */
	bool draining;		/* GOAWAY seen on this session */
	bool retire;		/* ONE: left behind; recreate its client idle (in tick) */
	uint64_t last_rx_ns;	/* last authenticated packet */
	uint64_t series_inits0;	/* the client's stats.inits when its series began */
	uint64_t next_ping_ns;
	struct hop_link_relay_stats st;
};

struct hop_link {
	struct hop_link_config cfg;
	uint8_t static_priv[32];
	uint8_t psk[32];
	bool has_psk;
	uint8_t *token;
	unsigned n;
	int current;		/* ONE: the relay in use */
	uint64_t now_ns;	/* the latest time the caller gave (start/readable/tick) */
	struct udp_batch *rx;	/* hop_link_readable()'s datagrams */
	struct link_relay r[HOP_LINK_MAX_RELAYS];
};

static void on_event(void *ctx, const struct hop_client_event *ev);
static void on_frame(void *ctx, const struct frame *f, uint64_t now_ns);

/* Send relay @r's queue; what the kernel refuses is loss, counted like udp_send's. */
static void flush_relay(struct link_relay *r)
{
	unsigned n = r->txq->n, sent;

	if (!n)
		return;
	sent = udp_txq_send(r->fd, r->txq);
	r->st.tx_errors += n - sent;
	r->st.tx_syscalls = r->txq->sends;
}

static int send_pkt(void *ctx, const uint8_t *pkt, size_t len)
{
	struct link_relay *r = ctx;
	int ret;

	if (r->txq) {
		if (r->txq->n == UDP_BATCH_MAX)
			flush_relay(r);
		ret = udp_txq_add(r->txq, pkt, len);
		if (ret < 0)
			r->st.tx_errors++;
		return ret;
	}
	ret = udp_send(r->fd, pkt, len);
	r->st.tx_syscalls++;
	/* A refused or full send is loss to the hop layer (§8 retries); counted. */
	if (ret < 0)
		r->st.tx_errors++;
	return ret;
}

static int make_client(struct hop_link *l, struct link_relay *r)
{
	const struct hop_client_config cc = {
		.suite = l->cfg.suite,
		.static_priv = l->static_priv,
		.relay_pub = r->cfg.pub,
		.psk = l->has_psk ? l->psk : NULL,
		.token = l->token,
		.token_len = l->cfg.token_len,
		.send = send_pkt,
		.on_frame = on_frame,
		.on_event = on_event,
		.ctx = r,
	};

	return hop_client_create(&r->c, &cc);
}

static void tell(struct link_relay *r, enum hop_link_state st, enum hop_link_why why,
		 uint32_t drain_ms)
{
	if (r->l->cfg.on_state)
		r->l->cfg.on_state(r->l->cfg.ctx, r->idx, st, why, drain_ms);
}

static void go_down(struct link_relay *r, enum hop_link_why why)
{
	if (!r->up)
		return;
	r->up = false;
	r->draining = false;
	r->st.downs++;
	tell(r, HOP_LINK_DOWN, why, 0);
}

/* Start (or restart) relay @r's handshake. */
static void join(struct link_relay *r, uint64_t now_ns)
{
	r->retire = false;
	r->last_rx_ns = now_ns;
	r->series_inits0 = hop_client_stats(r->c)->inits;
	if (!r->started) {
		r->started = true;
		hop_client_connect(r->c, now_ns);
	} else {
		hop_client_reconnect(r->c, NULL, now_ns);
	}
}

/* ONE: leave relay @from for the next one (or rejoin @from when it is alone). */
static void move_on(struct hop_link *l, struct link_relay *from, enum hop_link_why why,
		    uint64_t now_ns)
{
	struct link_relay *to = &l->r[(from->idx + 1) % l->n];

	if (to == from) {
		go_down(from, why);
		join(from, now_ns);
		return;
	}
	from->st.moves_away++;
	if (why != HOP_LINK_WHY_GOAWAY)
		go_down(from, why);
	/* A draining relay keeps its session until the drain time ends. */
	from->retire = !from->draining;
	l->current = (int)to->idx;
	join(to, now_ns);
}

/*
 * Relay @r's client gave a series up (§8: no RESP in REKEY_ATTEMPT_TIME). The
 * relay may be dropping our INITs on purpose (§9 answers nothing to a key,
 * suite or token it refuses), so this is the caller's one chance to tell an
 * operator; the count of INITs is what the series sent since it began.
 */
static void unanswered(struct link_relay *r)
{
	uint64_t inits = hop_client_stats(r->c)->inits;

	r->st.unanswered++;
	r->st.unanswered_run++;
	r->st.unanswered_inits = inits - r->series_inits0;
	r->series_inits0 = inits;	/* no INIT in the backoff: the next series starts here */
	tell(r, HOP_LINK_UNANSWERED, HOP_LINK_WHY_SILENT, 0);
}

static void on_event(void *ctx, const struct hop_client_event *ev)
{
	struct link_relay *r = ctx;
	struct hop_link *l = r->l;

	switch (ev->type) {
	case HOP_CLIENT_CONNECTED:
		if (!r->up) {
			r->up = true;
			r->st.ups++;
		}
		r->draining = false;
		r->st.unanswered_run = 0;
		tell(r, HOP_LINK_UP, HOP_LINK_WHY_NONE, 0);
		break;
	case HOP_CLIENT_DISCONNECTED:
		go_down(r, ev->down == HOP_CLIENT_DOWN_GOAWAY ? HOP_LINK_WHY_GOAWAY
							      : HOP_LINK_WHY_EXPIRED);
		/*
		 * ONE: a relay we moved away from would otherwise handshake with
		 * itself again after its GOAWAY; make it idle instead.
		 */
		if (l->cfg.policy == HOP_LINK_ONE && (int)r->idx != l->current)
			r->retire = true;
		break;
	case HOP_CLIENT_GOAWAY:
		r->st.goaways++;
		r->draining = true;
		tell(r, HOP_LINK_DRAINING, HOP_LINK_WHY_GOAWAY, ev->drain_ms);
		/*
		 * The event's caller is the client's input path: the move starts
		 * another client's handshake only, which is allowed here. Its
		 * time is that of the packet that carried the GOAWAY (l->now_ns),
		 * not r->last_rx_ns, which moves only after the packet.
		 */
		if (l->cfg.policy == HOP_LINK_ONE && (int)r->idx == l->current && l->n > 1)
			move_on(l, r, HOP_LINK_WHY_GOAWAY, l->now_ns);
		break;
	case HOP_CLIENT_NO_ANSWER:
		unanswered(r);
		/*
		 * ONE: a relay that does not answer is skipped for the next, now
		 * (retry_at_ns is when this relay's own next series would start).
		 */
		if (l->cfg.policy == HOP_LINK_ONE && (int)r->idx == l->current && l->n > 1)
			move_on(l, r, HOP_LINK_WHY_SILENT, l->now_ns);
		break;
	}
}

static void on_frame(void *ctx, const struct frame *f, uint64_t now_ns)
{
	struct link_relay *r = ctx;

	if (r->l->cfg.on_frame)
		r->l->cfg.on_frame(r->l->cfg.ctx, r->idx, f, now_ns);
}

int hop_link_create(struct hop_link **out, const struct hop_link_config *cfg)
{
	struct hop_link *l;
	unsigned i;
	int ret;

	if (!cfg || !cfg->n_relays || cfg->n_relays > HOP_LINK_MAX_RELAYS || !cfg->relays ||
	    !cfg->static_priv || !cfg->token || !cfg->token_len)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = *cfg;
	l->cfg.relays = NULL;
	if (!l->cfg.ping_ns)
		l->cfg.ping_ns = HOP_LINK_PING_DEFAULT_NS;
	if (!l->cfg.dead_ns)
		l->cfg.dead_ns = HOP_LINK_DEAD_DEFAULT_NS;
	if (l->cfg.dead_ns <= l->cfg.ping_ns) {
		ret = -EINVAL;
		goto err_link;
	}
	memcpy(l->static_priv, cfg->static_priv, sizeof(l->static_priv));
	if (cfg->psk) {
		memcpy(l->psk, cfg->psk, sizeof(l->psk));
		l->has_psk = true;
	}
	l->token = malloc(cfg->token_len);
	if (!l->token) {
		ret = -ENOMEM;
		goto err_link;
	}
	memcpy(l->token, cfg->token, cfg->token_len);
	l->cfg.token = l->token;
	l->rx = malloc(sizeof(*l->rx));
	if (!l->rx) {
		ret = -ENOMEM;
		goto err_token;
	}
	for (i = 0; i < cfg->n_relays; i++)
		l->r[i].fd = -1;
	for (i = 0; i < cfg->n_relays; i++) {
		struct link_relay *r = &l->r[i];

		r->l = l;
		r->idx = i;
		r->cfg = cfg->relays[i];
		r->cfg.addr[sizeof(r->cfg.addr) - 1] = '\0';
		ret = udp_connect(&r->fd, r->cfg.addr);
		if (ret < 0)
			goto err_relays;
		/* Best effort: a small buffer loses bursts, which QUIC recovers. */
		(void)udp_set_buffers(r->fd, cfg->sock_buf ? cfg->sock_buf : DEFAULT_SOCK_BUF);
		if (cfg->tx_batch) {
			r->txq = calloc(1, sizeof(*r->txq));
			if (!r->txq) {
				ret = -ENOMEM;
				goto err_relays;
			}
		}
		ret = make_client(l, r);
		if (ret < 0)
			goto err_relays;
		l->n++;
	}
	*out = l;
	return 0;

err_relays:
	l->n = cfg->n_relays;
	hop_link_destroy(l);
	return ret;
err_token:
	OPENSSL_cleanse(l->token, cfg->token_len);
	free(l->token);
err_link:
	OPENSSL_cleanse(l->static_priv, sizeof(l->static_priv));
	OPENSSL_cleanse(l->psk, sizeof(l->psk));
	free(l);
	return ret;
}

void hop_link_destroy(struct hop_link *l)
{
	unsigned i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		struct link_relay *r = &l->r[i];

		/* A CLOSE or CONNECTION_CLOSE queued last thing still goes out. */
		if (r->txq && r->fd >= 0)
			flush_relay(r);
		hop_client_destroy(r->c);
		free(r->txq);
		if (r->fd >= 0)
			close(r->fd);
	}
	free(l->rx);
	OPENSSL_cleanse(l->static_priv, sizeof(l->static_priv));
	OPENSSL_cleanse(l->psk, sizeof(l->psk));
	if (l->token)
		OPENSSL_cleanse(l->token, l->cfg.token_len);
	free(l->token);
	free(l);
}

int hop_link_start(struct hop_link *l, uint64_t now_ns)
{
	unsigned i;

	l->now_ns = now_ns;
	if (l->cfg.policy == HOP_LINK_ONE) {
		l->current = 0;
		join(&l->r[0], now_ns);
		return 0;
	}
	for (i = 0; i < l->n; i++)
		join(&l->r[i], now_ns);
	return 0;
}

unsigned hop_link_relay_count(const struct hop_link *l)
{
	return l->n;
}

int hop_link_fd(const struct hop_link *l, unsigned relay)
{
	return relay < l->n ? l->r[relay].fd : -1;
}

const char *hop_link_addr(const struct hop_link *l, unsigned relay)
{
	return relay < l->n ? l->r[relay].cfg.addr : "";
}

/* Feed one received datagram to relay @r's client. */
static void input(struct link_relay *r, uint8_t *pkt, size_t len, uint64_t now_ns)
{
	const struct hop_client_stats *cs = hop_client_stats(r->c);
	uint64_t before = cs->rx_data + cs->handshakes, handshakes = cs->handshakes;

	hop_client_input(r->c, pkt, len, now_ns);
	if (cs->rx_data + cs->handshakes != before)
		r->last_rx_ns = now_ns;
	/* A completed handshake (a rekey's too: no event) ends its series. */
	if (cs->handshakes != handshakes)
		r->series_inits0 = cs->inits;
	/* Decrypted in place: the plaintext does not outlive its turn. */
	OPENSSL_cleanse(pkt, len);
}

void hop_link_readable(struct hop_link *l, unsigned relay, uint64_t now_ns)
{
	struct link_relay *r;
	int n;

	if (relay >= l->n)
		return;
	r = &l->r[relay];
	l->now_ns = now_ns;
	/* A bounded batch: one busy relay must not starve the rest of the loop. */
	for (int round = 0; round < RX_ROUNDS_MAX; round++) {
		n = udp_recv_batch(r->fd, l->rx);
		r->st.rx_syscalls++;
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			/* ECONNREFUSED: nobody listens (yet); the handshake retries. */
			r->st.rx_errors++;
			if (n != -ECONNREFUSED)
				break;
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (l->rx->len[i] == 0) {
				r->st.rx_errors++;	/* longer than any hop packet: cut */
				continue;
			}
			input(r, l->rx->buf[i], l->rx->len[i], now_ns);
		}
		/* A short batch emptied the socket: no recvmmsg just to hear EAGAIN. */
		if (n < UDP_BATCH_MAX)
			break;
	}
}

void hop_link_flush(struct hop_link *l)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->r[i].txq)
			flush_relay(&l->r[i]);
}

/* Liveness of an up session: PING while quiet, down when silent too long. */
static void check_alive(struct hop_link *l, struct link_relay *r, uint64_t now_ns)
{
	if (!r->up)
		return;
	if (now_ns - r->last_rx_ns >= l->cfg.dead_ns) {
		r->st.silent_downs++;
		if (l->cfg.policy == HOP_LINK_ONE && (int)r->idx == l->current) {
			move_on(l, r, HOP_LINK_WHY_SILENT, now_ns);
		} else {
			go_down(r, HOP_LINK_WHY_SILENT);
			if (l->cfg.policy == HOP_LINK_ALL)
				join(r, now_ns);
			else
				r->retire = true;
		}
		return;
	}
	if (now_ns - r->last_rx_ns >= l->cfg.ping_ns && now_ns >= r->next_ping_ns) {
		(void)hop_client_ping(r->c, now_ns);
		r->next_ping_ns = now_ns + l->cfg.ping_ns;
	}
}

/* A client left behind by ONE: replace it with a fresh, idle one. */
static void retire(struct hop_link *l, struct link_relay *r)
{
	struct hop_client *old = r->c;

	r->retire = false;
	if (make_client(l, r) < 0) {
		r->c = old;	/* keep the old one; it only retries */
		return;
	}
	hop_client_destroy(old);
	r->series_inits0 = 0;	/* the new client's counters start at 0 */
	r->started = false;
	r->up = false;
	r->draining = false;
}

uint64_t hop_link_tick(struct hop_link *l, uint64_t now_ns)
{
	unsigned i;

	l->now_ns = now_ns;
	for (i = 0; i < l->n; i++) {
		struct link_relay *r = &l->r[i];

		if (r->retire && (int)i != l->current)
			retire(l, r);
		if (r->started)
			hop_client_tick(r->c, now_ns);
		check_alive(l, r, now_ns);
	}
	return hop_link_next_deadline(l);
}

uint64_t hop_link_next_deadline(const struct hop_link *l)
{
	uint64_t next = HOP_CLIENT_NEVER, t;
	unsigned i;

	for (i = 0; i < l->n; i++) {
		const struct link_relay *r = &l->r[i];

		if (r->retire && (int)i != l->current)
			return 0;
		if (!r->started)
			continue;
		t = hop_client_next_deadline(r->c);
		if (t < next)
			next = t;
		if (r->up) {
			t = r->last_rx_ns + l->cfg.ping_ns;
			if (t < r->next_ping_ns)
				t = r->next_ping_ns;
			if (t < next)
				next = t;
			t = r->last_rx_ns + l->cfg.dead_ns;
			if (t < next)
				next = t;
		}
	}
	return next;
}

struct hop_client *hop_link_client(struct hop_link *l, unsigned relay)
{
	return relay < l->n ? l->r[relay].c : NULL;
}

bool hop_link_is_up(const struct hop_link *l, unsigned relay)
{
	return relay < l->n && l->r[relay].up && !l->r[relay].draining &&
	       hop_client_is_connected(l->r[relay].c);
}

int hop_link_current(const struct hop_link *l)
{
	unsigned i;

	if (l->cfg.policy == HOP_LINK_ONE)
		return l->current;
	for (i = 0; i < l->n; i++)
		if (hop_link_is_up(l, i))
			return (int)i;
	return -1;
}

const struct hop_link_relay_stats *hop_link_relay_stats(const struct hop_link *l,
							 unsigned relay)
{
	return relay < l->n ? &l->r[relay].st : NULL;
}

const char *hop_link_state_name(enum hop_link_state st)
{
	switch (st) {
	case HOP_LINK_UP:
		return "up";
	case HOP_LINK_DOWN:
		return "down";
	case HOP_LINK_DRAINING:
		return "draining";
	case HOP_LINK_UNANSWERED:
		return "unanswered";
	}
	return "unknown";
}

void hop_link_log_unanswered(const struct hop_link *l, unsigned relay, const char *hop_suite,
			     const char *credential)
{
	const struct hop_link_relay_stats *st = &l->r[relay].st;

	if (st->unanswered_run > 1) {
		log_debug("event=relay_unanswered relay=%s attempts=%llu series=%llu",
			  hop_link_addr(l, relay), (unsigned long long)st->unanswered_inits,
			  (unsigned long long)st->unanswered_run);
		return;
	}
	log_warn("event=relay_unanswered relay=%s attempts=%llu hop_suite=%s hint=\"no "
		 "handshake answered in %llu s: check that the relay runs and is reachable "
		 "over UDP, that its public_key is the one pinned here, that it accepts "
		 "hop_suite %s and this %s\"",
		 hop_link_addr(l, relay), (unsigned long long)st->unanswered_inits, hop_suite,
		 (unsigned long long)(HOP_CLIENT_REKEY_ATTEMPT_TIME_NS / HOP_CLIENT_NS_PER_S),
		 hop_suite, credential);
}

const char *hop_link_why_name(enum hop_link_why why)
{
	static const char *const names[] = {
		[HOP_LINK_WHY_NONE] = "none",
		[HOP_LINK_WHY_SILENT] = "silent",
		[HOP_LINK_WHY_EXPIRED] = "expired",
		[HOP_LINK_WHY_GOAWAY] = "goaway",
	};

	return (unsigned)why < sizeof(names) / sizeof(names[0]) ? names[why] : "unknown";
}
