/*
 * drain.h — graceful shutdown of one worker (relay.h relay_drain()).
 *
 * States, per worker, and what moves them:
 *	running    relay_drain() sets the relay's flag (any thread)
 *	draining   next poll: GOAWAY (reason shutdown, the drain time) to every
 *	           session it owns; new INITs are dropped (shutting_down) and new
 *	           CHANNEL_OPENs refused (SHUTDOWN); open channels keep forwarding
 *	done       drain time passed: every channel end it still holds is freed
 *	           with CHANNEL_CLOSE SHUTDOWN to its own endpoint (protocol.md §7)
 * relay_is_drained(): every worker is draining or done and holds no channel
 * end, or every worker is done.
 *
 * Threads: drain_step on the owning worker.
 */
#ifndef POSTERN_RELAY_DRAIN_H
#define POSTERN_RELAY_DRAIN_H

struct relay_worker;

/* @return how many packets it originated (0 when there was nothing to do). */
unsigned drain_step(struct relay_worker *w);

#endif /* POSTERN_RELAY_DRAIN_H */
