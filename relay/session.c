/*
 * session.c — sessions and keypairs of one worker (protocol.md §3.5, §4).
 *
 * The keypair rotation follows WireGuard's responder (noise.c,
 * wg_noise_keypair_new / received_with_keypair): a handshake's keypair waits
 * as "next" until the endpoint proves it holds it by sending DATA under it;
 * only then does the relay send under it.
 */
#include "relay/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/aead.h"
#include "relay/core.h"
#include "relay/directory.h"
#include "relay/handle.h"
#include "relay/identity.h"

int sessions_init(struct sessions *t, uint32_t cap)
{
	/* One keypair more than three per session: a handshake reserves before it frees. */
	uint32_t kp_cap = 3 * cap + 1;
	int ret;

	memset(t, 0, sizeof(*t));
	t->s = calloc(cap, sizeof(*t->s));
	t->kp = calloc(kp_cap, sizeof(*t->kp));
	if (!t->s || !t->kp) {
		ret = -ENOMEM;
		goto err_arrays;
	}
	ret = slots_init(&t->free, cap);
	if (ret)
		goto err_arrays;
	ret = slots_init(&t->kp_free, kp_cap);
	if (ret)
		goto err_slots;
	for (uint32_t i = 0; i < cap; i++)
		t->s[i].gen = 1;
	return 0;

err_slots:
	slots_fini(&t->free);
err_arrays:
	free(t->kp);
	free(t->s);
	memset(t, 0, sizeof(*t));
	return ret;
}

static void keypair_free(struct relay_worker *w, uint32_t slot)
{
	struct keypair *kp = &w->sess.kp[slot];

	aead_ctx_destroy(kp->send);
	aead_ctx_destroy(kp->recv);
	memset(kp, 0, sizeof(*kp));
	slots_put(&w->sess.kp_free, slot);
}

void sessions_fini(struct sessions *t)
{
	if (t->kp) {
		for (uint32_t i = 0; i < t->kp_free.cap; i++) {
			aead_ctx_destroy(t->kp[i].send);
			aead_ctx_destroy(t->kp[i].recv);
		}
	}
	if (t->s)
		OPENSSL_cleanse(t->s, (size_t)t->free.cap * sizeof(*t->s));
	slots_fini(&t->kp_free);
	slots_fini(&t->free);
	free(t->kp);
	free(t->s);
	memset(t, 0, sizeof(*t));
}

uint32_t session_slot(const struct relay_worker *w, const struct session *s)
{
	return (uint32_t)(s - w->sess.s);
}

uint64_t session_handle(const struct relay_worker *w, const struct session *s)
{
	return handle_make(w->id, session_slot(w, s), s->gen);
}

struct session *session_get(struct relay_worker *w, uint64_t h)
{
	struct session *s;

	if (handle_worker(h) != w->id || handle_slot(h) >= w->sess.free.cap)
		return NULL;
	s = &w->sess.s[handle_slot(h)];
	return s->live && s->gen == handle_gen(h) ? s : NULL;
}

void session_set_load(struct session *s, uint32_t load)
{
	__atomic_store_n(&s->load, load, __ATOMIC_RELAXED);
}

/* A worker's share of the relay's @max sessions, as worker_create() sized its table. */
static uint32_t share_of(const struct relay_worker *w, uint32_t max)
{
	return (max + w->r->p.n_workers - 1) / w->r->p.n_workers;
}

struct session *session_alloc(struct relay_worker *w)
{
	struct session *s;
	uint32_t slot, gen;

	if (w->sess.live >= share_of(w, __atomic_load_n(&w->r->max_sessions, __ATOMIC_RELAXED)))
		return NULL;
	if (!slots_get(&w->sess.free, &slot))
		return NULL;
	s = &w->sess.s[slot];
	gen = s->gen;
	memset(s, 0, sizeof(*s));
	s->gen = gen;
	s->live = true;
	s->established_ns = w->now;
	__atomic_store_n(&s->last_rx_ns, w->now, __ATOMIC_RELAXED);	/* directory_pick() */
	s->chan_head = CHAN_NIL;
	s->next_channel_id = 1;
	for (int i = 0; i < KP_N; i++)
		s->kp[i] = KP_NONE;
	w->sess.live++;
	w->stats.sessions = w->sess.live;
	return s;
}

static bool is_gateway(const struct session *s)
{
	return s->tok.role == TOKEN_ROLE_GATEWAY;
}

int session_register(struct relay_worker *w, struct session *s)
{
	uint64_t h = session_handle(w, s);
	unsigned i;
	int ret = 0;

	if (!is_gateway(s) || s->registered)
		return 0;
	for (i = 0; i < s->tok.n_tunnels; i++) {
		ret = directory_add(w->r->dir, s->tok.tenant, s->tok.tunnels[i], h, &s->load,
				    &s->last_rx_ns);
		if (ret)
			break;
	}
	if (ret) {
		while (i-- > 0)
			directory_remove(w->r->dir, s->tok.tenant, s->tok.tunnels[i], h);
		return ret;
	}
	s->registered = true;
	return 0;
}

void session_deregister(struct relay_worker *w, struct session *s)
{
	uint64_t h = session_handle(w, s);

	if (!s->registered)
		return;
	for (unsigned i = 0; i < s->tok.n_tunnels; i++)
		directory_remove(w->r->dir, s->tok.tenant, s->tok.tunnels[i], h);
	s->registered = false;
}

void session_destroy(struct relay_worker *w, struct session *s)
{
	channel_close_session(w, s);
	session_deregister(w, s);
	identity_release(w->r->ident, s->static_pub, session_handle(w, s));
	for (int i = 0; i < KP_N; i++)
		if (s->kp[i] != KP_NONE)
			keypair_free(w, s->kp[i]);
	/* A new generation makes every handle to this session stale (handle.h). */
	s->gen = handle_next_gen(s->gen);
	s->live = false;
	OPENSSL_cleanse(&s->tok, sizeof(s->tok));
	slots_put(&w->sess.free, session_slot(w, s));
	w->sess.live--;
	w->stats.sessions = w->sess.live;
}

uint32_t session_reserve_keypair(struct relay_worker *w)
{
	uint32_t slot;

	return slots_get(&w->sess.kp_free, &slot) ? slot : KP_NONE;
}

void session_unreserve_keypair(struct relay_worker *w, uint32_t slot)
{
	slots_put(&w->sess.kp_free, slot);
}

static uint64_t keypair_dead_ns(const struct keypair *kp)
{
	return kp->born_ns + SESSION_REJECT_AFTER_TIME_NS;
}

int session_install_keypair(struct relay_worker *w, struct session *s, uint32_t slot,
			    enum suite_id suite, const struct noise_keys *keys,
			    uint32_t remote_index)
{
	struct keypair *kp = &w->sess.kp[slot];
	int ret;

	memset(kp, 0, sizeof(*kp));
	ret = aead_ctx_create(&kp->send, suite, keys->send, true);
	if (ret)
		goto err;
	ret = aead_ctx_create(&kp->recv, suite, keys->recv, false);
	if (ret)
		goto err_send;
	kp->born_ns = w->now;
	__atomic_store_n(&s->last_rx_ns, w->now, __ATOMIC_RELAXED);	/* directory_pick() */
	kp->remote_index = remote_index;
	kp->session = session_slot(w, s);
	kp->live = true;
	replay_init(&kp->replay);

	/* Responder: the new keypair is next; the old next and previous go (WireGuard). */
	if (s->kp[KP_NEXT] != KP_NONE)
		keypair_free(w, s->kp[KP_NEXT]);
	if (s->kp[KP_PREVIOUS] != KP_NONE)
		keypair_free(w, s->kp[KP_PREVIOUS]);
	s->kp[KP_PREVIOUS] = KP_NONE;
	s->kp[KP_NEXT] = slot;
	s->keys_dead_ns = keypair_dead_ns(kp);
	return 0;

err_send:
	aead_ctx_destroy(kp->send);
err:
	memset(kp, 0, sizeof(*kp));
	slots_put(&w->sess.kp_free, slot);
	return ret;
}

static bool keypair_usable(const struct relay_worker *w, const struct keypair *kp)
{
	return kp->live && w->now < keypair_dead_ns(kp);
}

struct keypair *session_rx_keypair(struct relay_worker *w, uint32_t slot)
{
	struct keypair *kp;

	if (slot >= w->sess.kp_free.cap)
		return NULL;
	kp = &w->sess.kp[slot];
	return keypair_usable(w, kp) ? kp : NULL;
}

void session_keypair_confirmed(struct relay_worker *w, struct session *s, uint32_t slot)
{
	__atomic_store_n(&s->last_rx_ns, w->now, __ATOMIC_RELAXED);	/* directory_pick() */
	if (s->kp[KP_NEXT] != slot)
		return;
	if (s->kp[KP_PREVIOUS] != KP_NONE)
		keypair_free(w, s->kp[KP_PREVIOUS]);
	s->kp[KP_PREVIOUS] = s->kp[KP_CURRENT];
	s->kp[KP_CURRENT] = slot;
	s->kp[KP_NEXT] = KP_NONE;
}

static struct keypair *current(struct relay_worker *w, const struct session *s)
{
	struct keypair *kp;

	if (s->kp[KP_CURRENT] == KP_NONE)
		return NULL;
	kp = &w->sess.kp[s->kp[KP_CURRENT]];
	if (!keypair_usable(w, kp) || kp->tx_counter >= REPLAY_REJECT_AFTER_MESSAGES)
		return NULL;
	return kp;
}

bool session_can_send(struct relay_worker *w, const struct session *s)
{
	return current(w, s) != NULL;
}

struct keypair *session_tx_keypair(struct relay_worker *w, struct session *s, uint64_t *counter)
{
	struct keypair *kp = current(w, s);

	if (kp)
		*counter = kp->tx_counter++;
	return kp;
}

bool session_expire(struct relay_worker *w, struct session *s)
{
	bool any = false;

	for (int i = 0; i < KP_N; i++) {
		if (s->kp[i] == KP_NONE)
			continue;
		if (keypair_usable(w, &w->sess.kp[s->kp[i]])) {
			any = true;
			continue;
		}
		keypair_free(w, s->kp[i]);
		s->kp[i] = KP_NONE;
	}
	/* §4 SESSION_IDLE_TIMEOUT: counted from the moment the newest keypair expired. */
	return !any && w->now >= s->keys_dead_ns + SESSION_IDLE_TIMEOUT_NS;
}
