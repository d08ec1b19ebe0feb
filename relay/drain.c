/*
 * drain.c — GOAWAY, then SHUTDOWN (see drain.h).
 */
#include "relay/drain.h"

#include "relay/channel.h"
#include "relay/core.h"
#include "relay/handoff.h"
#include "relay/send.h"
#include "wire/frame.h"

unsigned drain_step(struct relay_worker *w)
{
	uint32_t ms;
	unsigned n = 0;

	if (!w->drain_started) {
		if (!__atomic_load_n(&w->r->draining, __ATOMIC_ACQUIRE))
			return 0;
		ms = __atomic_load_n(&w->r->drain_ms, __ATOMIC_RELAXED);
		w->drain_end_ns = w->now + (uint64_t)ms * 1000000u;
		for (uint32_t i = 0; i < w->sess.free.cap; i++) {
			struct session *s = &w->sess.s[i];

			if (!s->live)
				continue;
			send_goaway(w, s, FRAME_GOAWAY_SHUTDOWN, ms);
			s->goaway_sent = true;
			n++;
		}
		__atomic_store_n(&w->drain_started, true, __ATOMIC_RELEASE);
		return n ? n : 1;
	}
	if (!w->drain_done && w->now >= w->drain_end_ns) {
		n = w->chans.ends;
		channel_shutdown_all(w);
		__atomic_store_n(&w->drain_done, true, __ATOMIC_RELEASE);
		return n ? n : 1;
	}
	return 0;
}

void relay_drain(struct relay *r, uint32_t drain_ms)
{
	__atomic_store_n(&r->drain_ms, drain_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&r->draining, true, __ATOMIC_RELEASE);
}

bool relay_is_drained(const struct relay *r)
{
	bool all_done = true;
	uint32_t ends = 0;

	for (unsigned i = 0; i < r->p.n_workers; i++) {
		const struct relay_worker *w = r->w[i];

		if (!__atomic_load_n(&w->drain_started, __ATOMIC_ACQUIRE))
			return false;
		all_done &= __atomic_load_n(&w->drain_done, __ATOMIC_ACQUIRE);
		ends += __atomic_load_n(&w->chans.ends, __ATOMIC_RELAXED);
	}
	return ends == 0 || all_done;
}

void relay_discard_pending(struct relay *r)
{
	for (unsigned i = 0; i < r->p.n_workers; i++)
		handoff_discard(r->w[i]);
}
