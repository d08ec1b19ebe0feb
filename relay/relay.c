/*
 * relay.c — creating and destroying the relay core, and its read-only views.
 *
 * relay_create builds, in order: the QSBR variable (one reader thread id per
 * worker, all online), the static-key table and the tunnel directory (both
 * lock-free rte_hash tables reclaimed through it), then each worker.
 * relay_destroy takes every worker offline first, so freeing the tables never
 * waits for a grace period that no running worker would complete.
 *
 * The trust store is published the same way as the directory's lists: a new
 * immutable struct trust_snap replaces the old with an atomic swap, and the old
 * one waits in r->retired for an rte_rcu_qsbr token (relay_worker_poll() is
 * every worker's quiescent point). The main thread is the only writer, so
 * it never waits: it frees what is due whenever it publishes or reclaims.
 */
#include "relay/relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "crypto/suite.h"
#include "relay/core.h"
#include "relay/directory.h"
#include "relay/handle.h"
#include "relay/handoff.h"
#include "relay/identity.h"
#include "wire/hop.h"

void relay_params_default(struct relay_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n_workers = 1;
	p->suites = HOP_SUITES_ALL;
	p->token_skew_s = TOKEN_DEFAULT_SKEW;
	p->max_sessions = 16384;
	p->max_channels = 1024;			/* protocol.md §4 MAX_CHANNELS */
	p->max_channel_ends = 16384;
	p->handshake_budget = 4;		/* ~1 ms of X25519 per burst at most */
	p->handshake_rate = 20;			/* protocol.md §5.2 */
}

static bool params_valid(const struct relay_params *p)
{
	uint32_t share;

	if (p->n_workers == 0 || p->n_workers > RELAY_MAX_WORKERS || !p->trust || !p->pool)
		return false;
	if (p->suites == 0 || (p->suites & ~(unsigned)HOP_SUITES_ALL))
		return false;
	if (p->max_sessions < p->n_workers || p->max_channels == 0 || p->max_channel_ends == 0 ||
	    p->max_channel_ends > HANDLE_SLOT_MAX || p->handshake_rate == 0)
		return false;
	/* Three keypairs (and one spare) per session must fit a receiver index's 24-bit slot. */
	share = (p->max_sessions + p->n_workers - 1) / p->n_workers;
	if ((uint64_t)share * 3 + 1 > HANDLE_SLOT_MAX)
		return false;
	/* Every packet the core sees or builds fits one segment, a message handle in front. */
	if (rte_pktmbuf_priv_size(p->pool) < sizeof(struct pkt_meta) ||
	    rte_pktmbuf_data_room_size(p->pool) < RTE_PKTMBUF_HEADROOM + HANDOFF_MSG_LEN + HOP_MTU)
		return false;
	return true;
}

static int qsbr_create(struct relay *r)
{
	size_t sz = rte_rcu_qsbr_get_memsize(r->p.n_workers);

	r->qsbr = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	if (!r->qsbr)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(r->qsbr, r->p.n_workers))
		return -EINVAL;
	for (unsigned i = 0; i < r->p.n_workers; i++) {
		rte_rcu_qsbr_thread_register(r->qsbr, i);
		rte_rcu_qsbr_thread_online(r->qsbr, i);
	}
	return 0;
}

int relay_create(struct relay **out, const struct relay_params *p)
{
	static unsigned instances;
	char name[32];
	struct relay *r;
	int ret;

	if (!p || !params_valid(p))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = *p;
	r->max_sessions = p->max_sessions;
	r->max_channels = p->max_channels;
	r->handshake_budget = p->handshake_budget;
	r->handshake_rate = p->handshake_rate;
	r->token_skew_s = p->token_skew_s;
	r->instance = __atomic_fetch_add(&instances, 1, __ATOMIC_RELAXED);
	if (suite_dh_public(r->p.static_priv, r->static_pub)) {
		ret = -EIO;
		goto err;
	}
	ret = qsbr_create(r);
	if (ret)
		goto err;
	r->trust = calloc(1, sizeof(*r->trust));
	if (!r->trust) {
		ret = -ENOMEM;
		goto err;
	}
	r->trust->trust = p->trust;
	snprintf(name, sizeof(name), "pst%u.id", r->instance);
	ret = identity_create(&r->ident, name, p->max_sessions, r->qsbr);
	if (ret)
		goto err;
	snprintf(name, sizeof(name), "pst%u.dir", r->instance);
	ret = directory_create(&r->dir, name, p->max_sessions < 1024 ? 1024 : p->max_sessions,
			       r->qsbr);
	if (ret)
		goto err;
	for (unsigned i = 0; i < p->n_workers; i++) {
		ret = worker_create(r, i, &r->w[i]);
		if (ret)
			goto err;
	}
	*out = r;
	return 0;
err:
	relay_destroy(r);
	return ret;
}

static void snap_free(struct trust_snap *s)
{
	if (!s)
		return;
	token_trust_destroy(s->owned);
	free(s);
}

void relay_destroy(struct relay *r)
{
	if (!r)
		return;
	/* Nothing runs now: no grace period may be waited for (see the top of this file). */
	for (unsigned i = 0; r->qsbr && i < r->p.n_workers; i++)
		rte_rcu_qsbr_thread_offline(r->qsbr, i);
	for (unsigned i = 0; i < r->p.n_workers; i++)
		worker_destroy(r->w[i]);
	directory_destroy(r->dir);
	identity_destroy(r->ident);
	for (unsigned i = 0; i < r->n_retired; i++)
		snap_free(r->retired[i].snap);
	snap_free(r->trust);
	rte_free(r->qsbr);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

unsigned relay_worker_count(const struct relay *r)
{
	return r->p.n_workers;
}

struct relay_worker *relay_get_worker(struct relay *r, unsigned id)
{
	return id < r->p.n_workers ? r->w[id] : NULL;
}

void relay_set_clock(struct relay *r, uint64_t now_ns, uint64_t unix_ns)
{
	__atomic_store_n(&r->unix_offset_ns, (int64_t)(unix_ns - now_ns), __ATOMIC_RELAXED);
}

void relay_stats_total(const struct relay *r, struct relay_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < r->p.n_workers; i++) {
		const struct relay_stats *s = &r->w[i]->stats;

		sum->rx_packets += s->rx_packets;
		sum->rx_bytes += s->rx_bytes;
		sum->tx_packets += s->tx_packets;
		sum->tx_bytes += s->tx_bytes;
		sum->forwarded += s->forwarded;
		sum->handled += s->handled;
		sum->originated += s->originated;
		for (unsigned k = 0; k < RELAY_DROP_MAX; k++) {
			sum->dropped[k] += s->dropped[k];
			sum->lost[k] += s->lost[k];
		}
		sum->handoff_out += s->handoff_out;
		sum->handoff_in += s->handoff_in;
		sum->handshakes += s->handshakes;
		sum->cookies_sent += s->cookies_sent;
		sum->sessions_kicked += s->sessions_kicked;
		sum->sessions += s->sessions;
		sum->channels += s->channels;
		sum->busy_cycles += s->busy_cycles;
		sum->idle_cycles += s->idle_cycles;
		sum->busy_packets += s->busy_packets;
	}
}

unsigned relay_trust_reclaim(struct relay *r)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < r->n_retired; i++) {
		/* Tokens grow with each retirement: stop at the first not yet due. */
		if (kept || rte_rcu_qsbr_check(r->qsbr, r->retired[i].token, false) != 1)
			r->retired[kept++] = r->retired[i];
		else
			snap_free(r->retired[i].snap);
	}
	r->n_retired = kept;
	return kept;
}

uint64_t relay_trust_generation(const struct relay *r)
{
	return __atomic_load_n(&r->trust, __ATOMIC_ACQUIRE)->gen;
}

/* A copy of the current snapshot for the caller to change. @return 0, -EBUSY, -ENOMEM. */
static int snap_begin(struct relay *r, struct trust_snap **out)
{
	const struct trust_snap *cur = r->trust;	/* only this thread writes it */
	struct trust_snap *next;
	int ret;

	if (relay_trust_reclaim(r) == TRUST_RETIRED_MAX)
		return -EBUSY;
	next = malloc(sizeof(*next));
	if (!next)
		return -ENOMEM;
	*next = *cur;
	ret = token_trust_dup(&next->owned, cur->trust);
	if (ret) {
		free(next);
		return ret;
	}
	next->trust = next->owned;
	next->gen = cur->gen + 1;
	*out = next;
	return 0;
}

static void snap_publish(struct relay *r, struct trust_snap *next)
{
	struct trust_snap *old = r->trust;

	__atomic_store_n(&r->trust, next, __ATOMIC_RELEASE);
	/* After the swap: a worker quiescent past this token no longer holds @old. */
	r->retired[r->n_retired].snap = old;
	r->retired[r->n_retired].token = rte_rcu_qsbr_start(r->qsbr);
	r->n_retired++;
	relay_trust_reclaim(r);
}

static void gone_remove(struct trust_snap *s, const uint8_t sid[TOKEN_SIGNER_ID_LEN])
{
	for (unsigned i = 0; i < s->n_gone; i++) {
		if (memcmp(s->gone[i], sid, TOKEN_SIGNER_ID_LEN))
			continue;
		memmove(s->gone[i], s->gone[i + 1], (s->n_gone - i - 1) * TOKEN_SIGNER_ID_LEN);
		s->n_gone--;
		return;
	}
}

static void gone_add(struct trust_snap *s, const uint8_t sid[TOKEN_SIGNER_ID_LEN])
{
	/*
	 * Full: forget the oldest. Its sessions were ended by every worker that
	 * polled since, which is all of them unless one missed 64 changes.
	 */
	if (s->n_gone == TRUST_GONE_MAX) {
		memmove(s->gone[0], s->gone[1], (TRUST_GONE_MAX - 1) * TOKEN_SIGNER_ID_LEN);
		s->n_gone--;
	}
	memcpy(s->gone[s->n_gone++], sid, TOKEN_SIGNER_ID_LEN);
}

enum trust_op { TRUST_REVOKE, TRUST_ADD_SIGNER, TRUST_REMOVE_SIGNER };

/* Copy the current store, apply one change to the copy, publish it; on error nothing is. */
static int trust_change(struct relay *r, enum trust_op op, const uint8_t *arg)
{
	uint8_t sid[TOKEN_SIGNER_ID_LEN];
	struct trust_snap *next;
	int ret;

	if (op != TRUST_REVOKE && token_signer_id(arg, sid))
		return -EIO;
	ret = snap_begin(r, &next);
	if (ret)
		return ret;
	switch (op) {
	case TRUST_REVOKE:
		ret = token_trust_revoke(next->owned, arg);
		break;
	case TRUST_ADD_SIGNER:
		ret = token_trust_add_signer(next->owned, arg);
		if (!ret)
			gone_remove(next, sid);
		break;
	case TRUST_REMOVE_SIGNER:
		ret = token_trust_remove_signer(next->owned, arg);
		if (!ret)
			gone_add(next, sid);
		break;
	}
	if (ret) {
		snap_free(next);
		return ret;
	}
	snap_publish(r, next);
	return 0;
}

int relay_trust_revoke(struct relay *r, const uint8_t id[TOKEN_ID_LEN])
{
	if (token_trust_is_revoked(r->trust->trust, id))
		return 0;
	return trust_change(r, TRUST_REVOKE, id);
}

int relay_trust_add_signer(struct relay *r, const uint8_t pub[TOKEN_KEY_LEN])
{
	return trust_change(r, TRUST_ADD_SIGNER, pub);
}

int relay_trust_remove_signer(struct relay *r, const uint8_t pub[TOKEN_KEY_LEN])
{
	return trust_change(r, TRUST_REMOVE_SIGNER, pub);
}

/* The batch's signer changes on @next; *@n counts those made. @return 0 or -errno. */
static int batch_signers(struct trust_snap *next, const struct relay_trust_batch *b, unsigned *n)
{
	uint8_t sid[TOKEN_SIGNER_ID_LEN];
	int ret;

	for (unsigned i = 0; i < b->n_remove; i++) {
		if (token_signer_id(b->remove[i], sid))
			return -EIO;
		ret = token_trust_remove_signer(next->owned, b->remove[i]);
		if (ret == -ENOENT)
			continue;
		if (ret)
			return ret;
		gone_add(next, sid);
		(*n)++;
	}
	for (unsigned i = 0; i < b->n_add; i++) {
		if (token_signer_id(b->add[i], sid))
			return -EIO;
		ret = token_trust_add_signer(next->owned, b->add[i]);
		if (ret == -EEXIST)
			continue;
		if (ret)
			return ret;
		gone_remove(next, sid);
		(*n)++;
	}
	return 0;
}

int relay_trust_apply(struct relay *r, const struct relay_trust_batch *b, bool *changed)
{
	struct trust_snap *next;
	unsigned n = 0;
	int ret;

	*changed = false;
	ret = snap_begin(r, &next);
	if (ret)
		return ret;
	ret = batch_signers(next, b, &n);
	for (size_t i = 0; !ret && i < b->n_revoke; i++) {
		if (token_trust_is_revoked(next->trust, b->revoke[i]))
			continue;
		ret = token_trust_revoke(next->owned, b->revoke[i]);
		n++;
	}
	if (ret || !n) {
		snap_free(next);
		return ret;
	}
	snap_publish(r, next);
	*changed = true;
	return 0;
}

int relay_set_limits(struct relay *r, uint32_t max_sessions, uint32_t max_channels)
{
	if (max_sessions > r->p.max_sessions || max_sessions < r->p.n_workers)
		return -ERANGE;
	if (!max_channels)
		return -EINVAL;
	__atomic_store_n(&r->max_sessions, max_sessions, __ATOMIC_RELAXED);
	__atomic_store_n(&r->max_channels, max_channels, __ATOMIC_RELAXED);
	return 0;
}

int relay_set_admission(struct relay *r, uint32_t handshake_budget, uint32_t handshake_rate,
			uint64_t token_skew_s)
{
	if (!handshake_rate)
		return -EINVAL;
	__atomic_store_n(&r->handshake_budget, handshake_budget, __ATOMIC_RELAXED);
	__atomic_store_n(&r->handshake_rate, handshake_rate, __ATOMIC_RELAXED);
	__atomic_store_n(&r->token_skew_s, token_skew_s, __ATOMIC_RELAXED);
	return 0;
}

bool relay_psk_equal(const struct relay *r, const uint8_t psk[32])
{
	return CRYPTO_memcmp(r->p.psk, psk, sizeof(r->p.psk)) == 0;
}

uint64_t relay_sessions_kicked(const struct relay *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < r->p.n_workers; i++)
		n += __atomic_load_n(&r->w[i]->kicked, __ATOMIC_RELAXED);
	return n;
}
