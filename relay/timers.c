/*
 * timers.c — expiry sweeps (see timers.h for the list of timers).
 */
#include "relay/timers.h"

#include "relay/channel.h"
#include "relay/core.h"
#include "relay/ratelimit.h"
#include "relay/session.h"

static unsigned sweep_sessions(struct relay_worker *w)
{
	uint32_t cap = w->sess.free.cap;
	unsigned fired = 0;

	for (unsigned i = 0; i < TIMERS_SLICE && i < cap; i++) {
		struct session *s = &w->sess.s[w->sweep_sess];

		w->sweep_sess = w->sweep_sess + 1 == cap ? 0 : w->sweep_sess + 1;
		if (s->live && session_expire(w, s)) {
			session_destroy(w, s);
			fired++;
		}
	}
	return fired;
}

unsigned timers_run(struct relay_worker *w)
{
	unsigned fired;

	if (w->now < w->next_sweep_ns)
		return 0;
	w->next_sweep_ns = w->now + TIMERS_PERIOD_NS;
	fired = sweep_sessions(w);
	fired += channel_sweep(w, TIMERS_SLICE);
	ratelimit_expire(w->rl, w->now, TIMERS_SLICE);
	return fired;
}
