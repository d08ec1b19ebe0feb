/*
 * replay.h — anti-replay window for DATA packet counters, RFC 6479 style,
 * and the WireGuard message limits that bound a session's counters.
 *
 * The window accepts each counter at most once, and accepts any counter among
 * the REPLAY_WINDOW (2048) most recent ones, i.e. c with top - 2047 <= c <= top
 * where top is the highest counter accepted so far, plus anything above top.
 * Older counters, and counters >= REPLAY_REJECT_AFTER_MESSAGES, are rejected.
 *
 * Layout (RFC 6479 §2): a ring of REPLAY_WORDS 64-bit blocks; counter c owns
 * bit c % 64 of block (c / 64) % REPLAY_WORDS. When top advances, only the
 * blocks it enters are cleared; no bit of the map is ever shifted. One block
 * more than the window needs (33 x 64 = 2112 bits) keeps all 2048 live
 * counters in the map whatever top's position inside its own block.
 *
 * Use on receive (WireGuard order): replay_check() as a cheap pre-filter before
 * decrypting, then replay_accept() only after the AEAD tag verified, since an
 * unauthenticated counter must never move the window.
 *
 * Threads: a struct replay belongs to one worker (the session owner); nothing
 * here is atomic or locked. No allocation; embed the struct in the session.
 */
#ifndef POSTERN_CRYPTO_REPLAY_H
#define POSTERN_CRYPTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

enum {
	REPLAY_WINDOW = 2048,			/* counters always accepted below top */
	REPLAY_WORD_BITS = 64,
	REPLAY_WORDS = REPLAY_WINDOW / REPLAY_WORD_BITS + 1,
};

/*
 * The WireGuard whitepaper's (§6.1) message limits. 64-bit values, so macros:
 * C11 enum constants are ints.
 *
 * REPLAY_REJECT_AFTER_MESSAGES = 2^64 - 2^13 - 1: no counter at or above it is
 * ever accepted, which keeps the counter far below the nonce 2^64 - 1 that
 * Noise reserves. Senders must not use it either.
 * REPLAY_REKEY_AFTER_MESSAGES = 2^60: a sender past it starts a new handshake
 * (enforced by the session timers, not here).
 */
#define REPLAY_REJECT_AFTER_MESSAGES (UINT64_MAX - (UINT64_C(1) << 13))
#define REPLAY_REKEY_AFTER_MESSAGES (UINT64_C(1) << 60)

struct replay {
	uint64_t top;			/* highest counter accepted; 0 when none yet */
	uint64_t map[REPLAY_WORDS];	/* ring of blocks, see above */
};

/* Reset @r to "nothing received": every counter below the reject limit is fresh. */
void replay_init(struct replay *r);

/*
 * Pure pre-check, no side effect.
 * @return true if replay_accept(@r, @counter) would return true now.
 */
bool replay_check(const struct replay *r, uint64_t counter);

/*
 * Mark @counter received. Call only once the packet's tag has verified.
 * @return true if @counter was fresh (now marked, window advanced if it is a
 * new top); false for a duplicate, a counter older than the window, or one at
 * or above REPLAY_REJECT_AFTER_MESSAGES (then @r is unchanged).
 */
bool replay_accept(struct replay *r, uint64_t counter);

#endif /* POSTERN_CRYPTO_REPLAY_H */
