/*
 * relay_harness.c — see relay_harness.h.
 */
#define _GNU_SOURCE
#include "relay_harness.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "crypto/aead.h"
#include "crypto/keys.h"

static char runtime_dir[PATH_MAX];
static bool eal_up;

void rh_eal_init(void)
{
	char prefix[64], lcores[32];
	cpu_set_t set;
	int cpu = 0;

	if (eal_up)
		return;
	/* One lcore, on a CPU this process may use: no idle EAL threads. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;
	snprintf(lcores, sizeof(lcores), "%d", cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=postern-rh-%d", (int)getpid());
	char *argv[] = {
		"relay-test", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		"--no-telemetry", "--log-level=error", "-l", lcores, prefix, NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	cr_assert_geq(rte_eal_init(argc, argv), 0, "rte_eal_init failed");
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	eal_up = true;
}

void rh_eal_fini(void)
{
	if (!eal_up)
		return;
	rte_eal_cleanup();
	eal_up = false;
	/* --no-shconf leaves the directory empty; nothing may stay in /var/run/dpdk. */
	if (runtime_dir[0] && rmdir(runtime_dir) != 0 && errno != ENOENT)
		cr_log_warn("cannot remove %s", runtime_dir);
}

void rh_fill(uint8_t *buf, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

/* ---- relay and TX capture ------------------------------------------------ */

static void prepare(struct rh *h);

static uint16_t capture(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct rh_worker_ctx *c = ctx;
	struct rh *h = c->h;
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (h->tx_refuse) {
			/* The core owns pkts[k..n): refuse the rest of this call. */
			h->tx_refuse--;
			break;
		}
		cr_assert_lt(h->ntx, RH_MAX_TX, "TX capture full");
		h->tx[h->ntx] = pkts[i];
		h->tx_worker[h->ntx] = c->id;
		h->ntx++;
		k++;
	}
	return k;
}

void rh_params(struct rh *h, struct relay_params *p)
{
	prepare(h);
	relay_params_default(p);
	p->n_workers = 2;
	memcpy(p->static_priv, h->relay_priv, 32);
	p->trust = h->trust;
	p->pool = h->pool;
	p->max_sessions = 64;
	p->max_channels = 16;
	p->max_channel_ends = 256;
	p->handshake_budget = 8;
}

static void prepare(struct rh *h)
{
	char name[32];

	if (h->pool)
		return;
	rh_eal_init();
	h->now = 1000 * RH_SEC;
	cr_assert_eq(keys_generate(h->relay_priv), 0);
	cr_assert_eq(keys_public_x25519(h->relay_priv, h->relay_pub), 0);
	cr_assert_eq(keys_generate(h->signer), 0);
	cr_assert_eq(keys_public_ed25519(h->signer, h->signer_pub), 0);
	cr_assert_eq(token_trust_create(&h->trust), 0);
	cr_assert_eq(token_trust_add_signer(h->trust, h->signer_pub), 0);
	snprintf(name, sizeof(name), "rh_pool_%d", (int)getpid());
	h->pool = rte_pktmbuf_pool_create(name, h->pool_size ? h->pool_size : 1023, 0,
					  PKT_PRIV_SIZE,
					  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cr_assert_not_null(h->pool, "mempool");
	h->pool_in_use_start = rte_mempool_in_use_count(h->pool);
}

void rh_start(struct rh *h, const struct relay_params *p)
{
	struct relay_params def;

	prepare(h);
	if (!p) {
		rh_params(h, &def);
		p = &def;
	}
	h->params = *p;
	cr_assert_eq(relay_create(&h->r, p), 0, "relay_create");
	relay_set_clock(h->r, h->now, RH_UNIX_START * RH_SEC);
	for (unsigned i = 0; i < p->n_workers; i++) {
		h->wctx[i] = (struct rh_worker_ctx){ .h = h, .id = i };
		relay_worker_attach(relay_get_worker(h->r, i), capture, &h->wctx[i]);
	}
}

struct relay_stats rh_stats(struct rh *h)
{
	struct relay_stats s;

	relay_stats_total(h->r, &s);
	return s;
}

void rh_assert_invariant(struct rh *h)
{
	struct relay_stats s = rh_stats(h);
	uint64_t dropped = relay_stats_dropped(&s);

	cr_assert_eq(s.rx_packets, s.forwarded + s.handled + dropped,
		     "invariant: received %lu != forwarded %lu + handled %lu + dropped %lu",
		     (unsigned long)s.rx_packets, (unsigned long)s.forwarded,
		     (unsigned long)s.handled, (unsigned long)dropped);
	cr_assert_eq(s.handoff_out, s.handoff_in, "a ring is not empty");
}

static void ep_free(struct rh_ep *ep)
{
	aead_ctx_destroy(ep->send);
	aead_ctx_destroy(ep->recv);
	noise_handshake_wipe(&ep->hs);
	cookie_maker_wipe(&ep->maker);
	OPENSSL_cleanse(ep, sizeof(*ep));
	free(ep);
}

void rh_stop(struct rh *h)
{
	if (h->r) {
		rh_pump(h);
		rh_assert_invariant(h);
		relay_destroy(h->r);
		h->r = NULL;
	}
	for (unsigned i = 0; i < h->ntx; i++)
		rte_pktmbuf_free(h->tx[i]);
	h->ntx = 0;
	for (unsigned i = 0; i < h->neps; i++)
		ep_free(h->eps[i]);
	h->neps = 0;
	if (h->pool) {
		cr_assert_eq(rte_mempool_in_use_count(h->pool), h->pool_in_use_start,
			     "mbufs leaked: %u in use", rte_mempool_in_use_count(h->pool));
		rte_mempool_free(h->pool);
		h->pool = NULL;
	}
	token_trust_destroy(h->trust);
	h->trust = NULL;
}

/* ---- endpoints ------------------------------------------------------------- */

void rh_ep_resign(struct rh *h, struct rh_ep *ep, const uint8_t *signer)
{
	cr_assert_eq(token_encode_signed(&ep->tok, signer ? signer : h->signer, ep->token,
					 sizeof(ep->token), &ep->token_len), 0, "token sign");
}

struct rh_ep *rh_ep_new(struct rh *h, const char *name, enum token_role role, const char *tenant,
			const char *const *tunnels, unsigned n, unsigned worker, uint8_t host)
{
	struct rh_ep *ep = calloc(1, sizeof(*ep));

	prepare(h);
	cr_assert_not_null(ep);
	cr_assert_lt(h->neps, RH_MAX_EPS);
	h->eps[h->neps++] = ep;
	snprintf(ep->name, sizeof(ep->name), "%s", name);
	cr_assert_eq(keys_generate(ep->priv), 0);
	cr_assert_eq(keys_public_x25519(ep->priv, ep->pub), 0);
	ep->suite = SUITE_CHACHAPOLY_BLAKE2S;
	ep->worker = worker;
	ep->addr.family = PKT_AF_INET;
	ep->addr.addr[0] = 10;
	ep->addr.addr[3] = host;
	ep->addr.port = (uint16_t)(40000 + host);
	ep->listener = (uint16_t)(host % 3);

	ep->tok.role = role;
	cr_assert_eq(token_generate_id(ep->tok.id), 0);
	ep->tok.not_before = RH_UNIX_START - 3600;
	ep->tok.expiry = RH_UNIX_START + 86400;
	memcpy(ep->tok.endpoint_pub, ep->pub, 32);
	snprintf(ep->tok.tenant, sizeof(ep->tok.tenant), "%s", tenant);
	for (unsigned i = 0; i < n; i++)
		snprintf(ep->tok.tunnels[i], sizeof(ep->tok.tunnels[i]), "%s", tunnels[i]);
	ep->tok.n_tunnels = n;
	rh_ep_resign(h, ep, NULL);
	cr_assert_eq(cookie_maker_init(&ep->maker, h->relay_pub), 0);
	return ep;
}

void rh_init_build(struct rh *h, struct rh_ep *ep, uint8_t flags)
{
	uint8_t payload[HOP_PAYLOAD_MAX], prologue[10];
	struct hop_payload pl = {
		.flags = flags & HOP_PAYLOAD_NEW_SESSION,
		.token = ep->token,
		.token_len = ep->token_len,
	};
	struct hop_init m = { .suite = (uint8_t)ep->suite };
	uint64_t unix_ns = RH_UNIX_START * RH_SEC + (h->now - 1000 * RH_SEC);
	size_t n;
	int plen, len;

	plen = hop_payload_encode(payload, sizeof(payload), &pl);
	cr_assert_gt(plen, 0);
	/* TAI64N of the fake wall clock; the counter keeps two INITs of one second apart. */
	hop_tai64n_write(payload, unix_ns / RH_SEC, ++ep->ts_count);
	/* Any flag bits the test asks for, even those an encoder refuses. */
	payload[HOP_PAYLOAD_OFF_FLAGS] = flags;
	cr_assert_eq(RAND_bytes((uint8_t *)&ep->sender_index, sizeof(ep->sender_index)), 1);
	m.sender = ep->sender_index;
	m.enc_payload_len = (size_t)plen + HOP_TAG_LEN;
	len = hop_init_encode(ep->last_init, sizeof(ep->last_init), &m);
	cr_assert_gt(len, 0);
	memcpy(prologue, "postern/1", 9);
	prologue[9] = (uint8_t)ep->suite;
	cr_assert_eq(noise_handshake_init(&ep->hs, ep->suite, NOISE_IKPSK2, true, prologue, 10,
					  ep->priv, h->relay_pub,
					  ep->psk_override ? ep->psk : h->params.psk), 0);
	cr_assert_eq(noise_write_message(&ep->hs, payload, (size_t)plen,
					 ep->last_init + HOP_INIT_OFF_EPHEMERAL,
					 (size_t)len - HOP_INIT_OFF_EPHEMERAL - HOP_MACS_LEN, &n),
		     0);
	cr_assert_eq(n, (size_t)len - HOP_INIT_OFF_EPHEMERAL - HOP_MACS_LEN);
	cr_assert_eq(cookie_add_macs(&ep->maker, ep->suite, ep->last_init, (size_t)len, h->now), 0);
	ep->last_init_len = (size_t)len;
	ep->hs_pending = true;
}

static struct rte_mbuf *packet(struct rh *h, const struct rh_ep *from, const uint8_t *pkt,
			       size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h->pool);
	struct pkt_meta *meta;

	cr_assert_not_null(m, "harness: pool empty");
	cr_assert_not_null(rte_pktmbuf_append(m, (uint16_t)len));
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), pkt, len);
	meta = pkt_meta(m);
	memset(meta, 0xa5, sizeof(*meta));	/* the core must not trust leftovers */
	memset(&meta->peer, 0, sizeof(meta->peer));
	if (from) {
		meta->peer = from->addr;
		meta->listener = from->listener;
	} else {
		meta->peer.family = PKT_AF_INET;
		meta->peer.addr[0] = 192;
		meta->peer.addr[2] = 2;
		meta->peer.addr[3] = 99;
		meta->peer.port = 9999;
		meta->listener = 0;
	}
	return m;
}

void rh_inject(struct rh *h, unsigned worker, const struct rh_ep *from, const uint8_t *pkt,
	       size_t len)
{
	struct rte_mbuf *m = packet(h, from, pkt, len);

	relay_worker_rx(relay_get_worker(h->r, worker), &m, 1, h->now);
}

void rh_inject_inits(struct rh *h, unsigned worker, struct rh_ep **eps, unsigned n)
{
	struct rte_mbuf *m[RH_MAX_EPS];

	cr_assert_leq(n, RH_MAX_EPS);
	for (unsigned i = 0; i < n; i++)
		m[i] = packet(h, eps[i], eps[i]->last_init, eps[i]->last_init_len);
	relay_worker_rx(relay_get_worker(h->r, worker), m, (uint16_t)n, h->now);
}

void rh_inject_burst(struct rh *h, unsigned worker, const struct rh_ep *from,
		     uint8_t *const *pkts, const size_t *lens, unsigned n)
{
	struct rte_mbuf *m[RH_MAX_BURST];

	cr_assert_leq(n, RH_MAX_BURST);
	for (unsigned i = 0; i < n; i++)
		m[i] = packet(h, from, pkts[i], lens[i]);
	relay_worker_rx(relay_get_worker(h->r, worker), m, (uint16_t)n, h->now);
}

/* ---- what the relay sends -------------------------------------------------- */

static void log_frame(struct rh_ep *ep, const struct frame *f)
{
	struct rh_frame *l;

	cr_assert_lt(ep->n_log, RH_MAX_LOG, "%s: frame log full", ep->name);
	l = &ep->log[ep->n_log++];
	memset(l, 0, sizeof(*l));
	l->type = f->type;
	switch (f->type) {
	case FRAME_CHANNEL_OPEN: {
		struct frame_open o;

		cr_assert_eq(frame_open_decode(f->body, f->len, &o), 0);
		l->id = o.channel_id;
		l->flags = o.flags;
		memcpy(l->conn_tag, o.conn_tag, sizeof(l->conn_tag));
		memcpy(l->tunnel, o.tunnel, o.tunnel_len);
		memcpy(l->route, o.route, o.route_len);
		memcpy(l->principal, o.principal, o.principal_len);
		break;
	}
	case FRAME_CHANNEL_ACCEPT:
		cr_assert_eq(frame_accept_decode(f->body, f->len, &l->id), 0);
		break;
	case FRAME_CHANNEL_CLOSE: {
		struct frame_close c;

		cr_assert_eq(frame_close_decode(f->body, f->len, &c), 0);
		l->id = c.channel_id;
		l->reason = c.reason;
		break;
	}
	case FRAME_CHANNEL_DATA: {
		struct frame_data d;

		cr_assert_eq(frame_data_decode(f->body, f->len, &d), 0);
		l->id = d.channel_id;
		cr_assert_leq(d.e2e_len, sizeof(l->bytes));
		memcpy(l->bytes, d.e2e, d.e2e_len);
		l->len = d.e2e_len;
		break;
	}
	case FRAME_PONG:
		memcpy(l->bytes, f->body, FRAME_PING_LEN);
		l->len = FRAME_PING_LEN;
		break;
	case FRAME_GOAWAY: {
		struct frame_goaway g;

		cr_assert_eq(frame_goaway_decode(f->body, f->len, &g), 0);
		l->reason = g.reason;
		l->drain_ms = g.drain_ms;
		break;
	}
	default:
		break;
	}
}

static void on_resp(struct rh *h, struct rh_ep *ep, const uint8_t *p, size_t len)
{
	struct noise_keys keys;
	struct hop_resp r;
	size_t plen;

	cr_assert_eq(hop_resp_decode(p, len, &r), 0);
	if (!ep->hs_pending || r.receiver != ep->sender_index) {
		/* An answer to an INIT it has since replaced: an initiator ignores it. */
		ep->n_stale_resp++;
		return;
	}
	cr_assert(cookie_mac1_verify(ep->suite, ep->pub, p, len), "%s: RESP mac1", ep->name);
	if (noise_read_message(&ep->hs, r.ephemeral, HOP_RESP_NOISE_LEN, NULL, 0, &plen)) {
		ep->n_bad_resp++;
		ep->hs_pending = false;
		return;
	}
	cr_assert_eq(noise_split(&ep->hs, &keys), 0);
	aead_ctx_destroy(ep->send);
	aead_ctx_destroy(ep->recv);
	cr_assert_eq(aead_ctx_create(&ep->send, ep->suite, keys.send, true), 0);
	cr_assert_eq(aead_ctx_create(&ep->recv, ep->suite, keys.recv, false), 0);
	OPENSSL_cleanse(&keys, sizeof(keys));
	ep->relay_index = r.sender;
	ep->tx_counter = 0;
	replay_init(&ep->replay);
	ep->established = true;
	ep->hs_pending = false;
	ep->n_resp++;
	(void)h;
}

static void on_data(struct rh_ep *ep, uint8_t *p, size_t len)
{
	struct frame_iter it;
	struct hop_data d;
	struct frame f;
	int ret;

	cr_assert(ep->established, "%s: DATA before a handshake", ep->name);
	cr_assert_eq(hop_data_decode(p, len, &d), 0);
	cr_assert_eq(d.receiver, ep->sender_index, "%s: DATA for another index", ep->name);
	cr_assert(replay_check(&ep->replay, d.counter), "%s: relay reused counter %lu", ep->name,
		  (unsigned long)d.counter);
	cr_assert(aead_open(ep->recv, d.counter, p, HOP_DATA_HEADER_LEN, d.ciphertext,
			    d.ciphertext_len, p + HOP_DATA_HEADER_LEN),
		  "%s: DATA does not decrypt", ep->name);
	cr_assert(replay_accept(&ep->replay, d.counter));
	ep->n_data++;
	cr_assert_geq(frame_validate(p + HOP_DATA_HEADER_LEN, d.ciphertext_len - HOP_TAG_LEN), 0,
		      "%s: relay sent malformed frames", ep->name);
	frame_iter_init(&it, p + HOP_DATA_HEADER_LEN, d.ciphertext_len - HOP_TAG_LEN);
	while ((ret = frame_next(&it, &f)) > 0) {
		if (ep->quiet && f.type == FRAME_CHANNEL_DATA)
			ep->n_quiet++;
		else
			log_frame(ep, &f);
	}
	cr_assert_eq(ret, 0);
}

static void deliver(struct rh *h, struct rte_mbuf *m)
{
	struct pkt_meta *meta = pkt_meta(m);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = m->data_len;
	struct rh_ep *ep = NULL;

	cr_assert_eq(m->nb_segs, 1);
	cr_assert_eq(m->pkt_len, m->data_len);
	cr_assert_leq(len, HOP_MTU, "relay sent %zu bytes", len);
	for (unsigned i = 0; i < h->neps; i++)
		if (pkt_addr_equal(&h->eps[i]->addr, &meta->peer))
			ep = h->eps[i];
	if (!ep) {
		h->tx_unmatched++;
		return;
	}
	cr_assert_eq(meta->listener, ep->listener, "%s: sent from the wrong listener", ep->name);
	switch (hop_classify(p, len, HOP_SUITES_ALL)) {
	case HOP_HANDSHAKE_RESP:
		on_resp(h, ep, p, len);
		break;
	case HOP_COOKIE_REPLY:
		cr_assert_eq(cookie_consume_reply(&ep->maker, p, len, h->now), 0,
			     "%s: COOKIE_REPLY does not verify", ep->name);
		ep->n_cookie++;
		break;
	case HOP_DATA:
		on_data(ep, p, len);
		break;
	default:
		cr_assert_fail("%s: relay sent an unexpected packet", ep->name);
	}
}

void rh_pump(struct rh *h)
{
	for (int round = 0; round < 1000; round++) {
		unsigned work = 0;

		for (unsigned i = 0; i < h->params.n_workers; i++)
			work += relay_worker_poll(relay_get_worker(h->r, i), h->now);
		for (unsigned i = 0; i < h->ntx; i++) {
			deliver(h, h->tx[i]);
			rte_pktmbuf_free(h->tx[i]);
		}
		work += h->ntx;
		h->ntx = 0;
		if (!work) {
			/* The rings are empty now: the invariant must hold after every step. */
			rh_assert_invariant(h);
			return;
		}
	}
	cr_assert_fail("rh_pump: the relay never went quiet");
}

void rh_advance(struct rh *h, uint64_t ns)
{
	h->now += ns;
	rh_pump(h);
}

/* ---- DATA from endpoints --------------------------------------------------- */

size_t rh_seal(struct rh_ep *ep, const uint8_t *frames, size_t len, uint8_t *out, size_t cap)
{
	uint64_t c = ep->tx_counter++;

	cr_assert(ep->established, "%s: not connected", ep->name);
	cr_assert_leq(HOP_DATA_MIN + len, cap);
	hop_data_header_write(out, ep->relay_index, c);
	if (len)
		memcpy(out + HOP_DATA_HEADER_LEN, frames, len);
	cr_assert_eq(aead_seal(ep->send, c, out, HOP_DATA_HEADER_LEN, out + HOP_DATA_HEADER_LEN,
			       len, out + HOP_DATA_HEADER_LEN), 0);
	return HOP_DATA_MIN + len;
}

void rh_send(struct rh *h, struct rh_ep *ep, const uint8_t *frames, size_t len)
{
	uint8_t pkt[HOP_MTU];
	size_t n = rh_seal(ep, frames, len, pkt, sizeof(pkt));

	rh_inject(h, ep->worker, ep, pkt, n);
}

void rh_connect(struct rh *h, struct rh_ep *ep, uint8_t flags)
{
	unsigned before = ep->n_resp;

	rh_init_build(h, ep, flags);
	rh_inject(h, ep->worker, ep, ep->last_init, ep->last_init_len);
	rh_pump(h);
	cr_assert_eq(ep->n_resp, before + 1, "%s: no RESP", ep->name);
	/* Confirms the keypair: the relay sends only under a key the endpoint has used. */
	rh_send(h, ep, NULL, 0);
	rh_pump(h);
}

void rh_send_open(struct rh *h, struct rh_ep *ep, uint32_t id, const char *tunnel,
		  const char *route)
{
	uint8_t buf[FRAME_HEADER_LEN + FRAME_OPEN_MAX];
	struct frame_open o = {
		.channel_id = id,
		.tunnel = (const uint8_t *)tunnel,
		.tunnel_len = (uint8_t)strlen(tunnel),
		.route = (const uint8_t *)route,
		.route_len = (uint8_t)strlen(route),
		.principal = (const uint8_t *)"",
	};
	uint8_t tag[FRAME_CONN_TAG_LEN];
	int off;

	rh_fill(tag, sizeof(tag), id);
	o.conn_tag = tag;
	off = frame_open_encode(buf, sizeof(buf), 0, &o);
	cr_assert_gt(off, 0);
	rh_send(h, ep, buf, (size_t)off);
}

void rh_send_accept(struct rh *h, struct rh_ep *ep, uint32_t id)
{
	uint8_t buf[16];
	int off = frame_accept_encode(buf, sizeof(buf), 0, id);

	cr_assert_gt(off, 0);
	rh_send(h, ep, buf, (size_t)off);
}

void rh_send_close(struct rh *h, struct rh_ep *ep, uint32_t id, uint16_t reason)
{
	uint8_t buf[16];
	int off = frame_close_encode(buf, sizeof(buf), 0, id, reason);

	cr_assert_gt(off, 0);
	rh_send(h, ep, buf, (size_t)off);
}

void rh_send_data(struct rh *h, struct rh_ep *ep, uint32_t id, const uint8_t *e2e, size_t n)
{
	uint8_t buf[HOP_DATA_PLAINTEXT_MAX];
	int off = frame_data_encode(buf, sizeof(buf), 0, id, e2e, n);

	cr_assert_gt(off, 0);
	rh_send(h, ep, buf, (size_t)off);
}

struct rh_frame rh_expect(struct rh_ep *ep, uint8_t type)
{
	struct rh_frame f;

	cr_assert_gt(ep->n_log, 0, "%s: expected %s, got nothing", ep->name,
		     frame_type_name(type));
	f = ep->log[0];
	memmove(ep->log, ep->log + 1, (ep->n_log - 1) * sizeof(ep->log[0]));
	ep->n_log--;
	cr_assert_eq(f.type, type, "%s: expected %s, got %s (reason %s)", ep->name,
		     frame_type_name(type), frame_type_name(f.type),
		     f.type == FRAME_CHANNEL_CLOSE ? frame_close_reason_name(f.reason) : "-");
	return f;
}

void rh_expect_nothing(struct rh_ep *ep)
{
	cr_assert_eq(ep->n_log, 0, "%s: unexpected %s", ep->name,
		     ep->n_log ? frame_type_name(ep->log[0].type) : "");
}

uint32_t rh_open_channel(struct rh *h, struct rh_ep *agent, struct rh_ep *gw, uint32_t id,
			 const char *tunnel)
{
	struct rh_frame open, acc;

	rh_send_open(h, agent, id, tunnel, "");
	rh_pump(h);
	open = rh_expect(gw, FRAME_CHANNEL_OPEN);
	cr_assert_str_eq(open.tunnel, tunnel);
	rh_send_accept(h, gw, open.id);
	rh_pump(h);
	acc = rh_expect(agent, FRAME_CHANNEL_ACCEPT);
	cr_assert_eq(acc.id, id);
	return open.id;
}
