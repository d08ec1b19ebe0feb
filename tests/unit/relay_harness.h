/*
 * relay_harness.h — the relay core in memory, for Criterion tests.
 *
 * One process = one test (Criterion forks): rh_eal_init() starts EAL with
 * --no-huge and a file prefix unique to the process, rh_eal_fini() stops it
 * and removes its runtime directory, so nothing is left in /var/run/dpdk.
 *
 * A struct rh is a relay with N workers (2 by default) on a fake clock, with a
 * capturing TX function per worker, a control-plane signer, and test
 * endpoints (struct rh_ep): small Noise IKpsk2 initiators built from
 * crypto/ and wire/ that handshake, send DATA with frames, and log every frame
 * the relay sends them. Workers are driven from the test thread in turn
 * (rh_pump: poll worker 0, 1, ... until nothing moves), so handoffs between
 * workers happen without threads.
 *
 * Every packet the relay transmits is checked on the way (addressed to a
 * known endpoint, from that endpoint's listener, decrypting under its keys)
 * and then freed, so the mempool count at the end is exact.
 */
#ifndef POSTERN_TESTS_RELAY_HARNESS_H
#define POSTERN_TESTS_RELAY_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/cookie.h"
#include "crypto/noise.h"
#include "crypto/replay.h"
#include "crypto/token.h"
#include "relay/pkt.h"
#include "relay/relay.h"
#include "relay/worker.h"
#include "wire/frame.h"
#include "wire/hop.h"

#define RH_SEC UINT64_C(1000000000)
#define RH_MS UINT64_C(1000000)
#define RH_UNIX_START UINT64_C(1800000000)	/* Unix seconds at the fake clock's start */

enum {
	RH_MAX_EPS = 16,
	RH_MAX_LOG = 64,
	RH_MAX_TX = 512,
	RH_MAX_BURST = 64,
	RH_E2E_MAX = HOP_DATA_PLAINTEXT_MAX,
};

/* One frame an endpoint received from the relay. */
struct rh_frame {
	uint8_t type;
	uint32_t id;			/* channel frames */
	uint16_t reason;		/* CLOSE, GOAWAY */
	uint32_t drain_ms;		/* GOAWAY */
	uint8_t bytes[RH_E2E_MAX];	/* CHANNEL_DATA e2e bytes; PONG opaque */
	size_t len;
	char tunnel[64], route[64], principal[128];	/* CHANNEL_OPEN */
	uint8_t flags;
	uint8_t conn_tag[FRAME_CONN_TAG_LEN];
};

struct rh_ep {
	char name[16];
	uint8_t priv[32], pub[32];
	struct token tok;		/* what its token says */
	uint8_t token[TOKEN_MAX_LEN];
	size_t token_len;
	enum suite_id suite;
	struct pkt_addr addr;		/* as the relay sees it */
	uint16_t listener;
	unsigned worker;		/* the worker its packets arrive on (RSS) */

	struct cookie_maker maker;
	struct noise_handshake hs;
	bool hs_pending;
	uint32_t ts_count;		/* makes each INIT's timestamp newer */
	uint8_t last_init[HOP_INIT_MAX];
	size_t last_init_len;

	bool established;
	uint32_t sender_index;		/* ours: the relay sends to it */
	uint32_t relay_index;		/* the relay's: we send to it */
	struct aead_ctx *send, *recv;
	uint64_t tx_counter;
	struct replay replay;

	unsigned n_resp, n_cookie, n_data;	/* packets received, by type */
	unsigned n_stale_resp;		/* RESPs to an INIT it no longer waits for */
	unsigned n_bad_resp;		/* RESPs that did not verify */
	bool psk_override;		/* use psk below, not the relay's */
	uint8_t psk[NOISE_PSK_LEN];
	struct rh_frame log[RH_MAX_LOG];
	unsigned n_log;
	bool quiet;			/* count CHANNEL_DATA frames in n_quiet instead of logging */
	unsigned n_quiet;
};

struct rh;

struct rh_worker_ctx {
	struct rh *h;
	unsigned id;
};

struct rh {
	struct relay *r;
	struct relay_params params;
	struct rte_mempool *pool;
	unsigned pool_size;		/* set before the first call to get more than 1023 */
	unsigned pool_in_use_start;
	uint64_t now;
	uint8_t relay_priv[32], relay_pub[32];
	uint8_t signer[32], signer_pub[32];
	struct token_trust *trust;
	struct rh_worker_ctx wctx[RELAY_MAX_WORKERS];
	struct rte_mbuf *tx[RH_MAX_TX];
	unsigned tx_worker[RH_MAX_TX];
	unsigned ntx;
	unsigned tx_refuse;		/* refuse this many of the next packets offered */
	unsigned tx_unmatched;		/* packets sent to no known endpoint */
	struct rh_ep *eps[RH_MAX_EPS];
	unsigned neps;
};

/* Start EAL for this process (once); stop it and remove its runtime dir. */
void rh_eal_init(void);
void rh_eal_fini(void);

/* Fill @p with the harness defaults (2 workers, small tables); tests may change it. */
void rh_params(struct rh *h, struct relay_params *p);

/* Create the relay with @p (NULL: defaults). */
void rh_start(struct rh *h, const struct relay_params *p);

/* Destroy everything; assert the stats invariant and the mempool back at its start. */
void rh_stop(struct rh *h);

/* received = forwarded + handled + dropped, summed over workers. */
void rh_assert_invariant(struct rh *h);

/* Sum of every worker's counters. */
struct relay_stats rh_stats(struct rh *h);

/*
 * A new endpoint of @role in @tenant with @n tunnels, whose packets arrive on
 * @worker from 10.0.0.@host:(40000 + @host). Its token is signed by the
 * harness signer, valid from an hour ago to a day from now.
 */
struct rh_ep *rh_ep_new(struct rh *h, const char *name, enum token_role role, const char *tenant,
			const char *const *tunnels, unsigned n, unsigned worker, uint8_t host);

/* Re-sign @ep's token from @ep->tok with @signer (NULL: the harness signer). */
void rh_ep_resign(struct rh *h, struct rh_ep *ep, const uint8_t *signer);

/* Build a fresh INIT (new ephemeral, newer timestamp) into @ep->last_init. */
void rh_init_build(struct rh *h, struct rh_ep *ep, uint8_t flags);

/* Hand @len bytes to worker @worker as one packet from @ep's address (may be NULL: 192.0.2.99). */
void rh_inject(struct rh *h, unsigned worker, const struct rh_ep *from, const uint8_t *pkt,
	       size_t len);

/* Several INITs in one burst: each @eps[i]->last_init from its address, on @worker. */
void rh_inject_inits(struct rh *h, unsigned worker, struct rh_ep **eps, unsigned n);

/* One burst of @n raw packets from @from (NULL: 192.0.2.99) on @worker. */
void rh_inject_burst(struct rh *h, unsigned worker, const struct rh_ep *from,
		     uint8_t *const *pkts, const size_t *lens, unsigned n);

/*
 * Poll every worker until nothing moves; deliver what they sent to the
 * endpoints; then assert the stats invariant (the rings are empty).
 */
void rh_pump(struct rh *h);

/* Move the fake clock and pump. */
void rh_advance(struct rh *h, uint64_t ns);

/*
 * Full handshake: INIT, RESP, then an empty DATA so the relay confirms the
 * keypair. Asserts success.
 */
void rh_connect(struct rh *h, struct rh_ep *ep, uint8_t flags);

/* Send DATA from @ep with @len plaintext frame bytes (may be 0). */
void rh_send(struct rh *h, struct rh_ep *ep, const uint8_t *frames, size_t len);

/* The DATA packet rh_send would send, into @out (@cap); @return its length. */
size_t rh_seal(struct rh_ep *ep, const uint8_t *frames, size_t len, uint8_t *out, size_t cap);

/* One-frame conveniences. */
void rh_send_open(struct rh *h, struct rh_ep *ep, uint32_t id, const char *tunnel,
		  const char *route);
void rh_send_accept(struct rh *h, struct rh_ep *ep, uint32_t id);
void rh_send_close(struct rh *h, struct rh_ep *ep, uint32_t id, uint16_t reason);
void rh_send_data(struct rh *h, struct rh_ep *ep, uint32_t id, const uint8_t *e2e, size_t n);

/* Pop @ep's oldest logged frame; assert its type. */
struct rh_frame rh_expect(struct rh_ep *ep, uint8_t type);

/* Assert @ep has no logged frame left. */
void rh_expect_nothing(struct rh_ep *ep);

/*
 * Open a channel from @agent (id @id) to @tunnel and have @gw accept it.
 * @return the gateway-side channel id.
 */
uint32_t rh_open_channel(struct rh *h, struct rh_ep *agent, struct rh_ep *gw, uint32_t id,
			 const char *tunnel);

/* Bytes of e2e payload @n long derived from @seed, for every-byte checks. */
void rh_fill(uint8_t *buf, size_t n, unsigned seed);

#endif /* POSTERN_TESTS_RELAY_HARNESS_H */
