/*
 * identity.h — the relay-wide table static public key → session handle.
 *
 * A session lives on the worker that answered its first handshake. Its later
 * INITs may land on another worker (NAT rebinding moves the 5-tuple); that
 * worker learns the static key only by running the Noise read, looks it up
 * here, and hands the INIT to the owner, which runs it again itself (rare,
 * so repeating the DH is fine). An entry exists exactly while its session is
 * live.
 *
 * Concurrency: an rte_hash in lock-free reader mode (RW_CONCURRENCY_LF,
 * MULTI_WRITER_ADD) with its key slots reclaimed through the relay's QSBR
 * variable (rte_hash_rcu_qsbr_add, defer-queue mode), so lookups never lock.
 * Writes happen once per new session and once per session death; claim and
 * release are read-modify-write, so writers also take a spinlock — the only
 * lock in the relay core, never taken for a DATA packet.
 *
 * Threads: lookups from any registered worker between its quiescent states;
 * claim/release from any worker; create/destroy on the main thread.
 */
#ifndef POSTERN_RELAY_IDENTITY_H
#define POSTERN_RELAY_IDENTITY_H

#include <stdint.h>

struct identity;
struct rte_rcu_qsbr;

/* @name unique in the process. @return 0, -ENOMEM, -EINVAL. */
int identity_create(struct identity **out, const char *name, uint32_t capacity,
		    struct rte_rcu_qsbr *qsbr);
void identity_destroy(struct identity *id);

/* @return the handle of @pub's live session, or HANDLE_NONE. */
uint64_t identity_lookup(const struct identity *id, const uint8_t pub[32]);

/*
 * Make @handle the session of @pub, unless one is already registered.
 * @return 0; -EEXIST with *@owner set (another worker won a race); -ENOSPC.
 */
int identity_claim(struct identity *id, const uint8_t pub[32], uint64_t handle, uint64_t *owner);

/* Remove @pub if it still names @handle. */
void identity_release(struct identity *id, const uint8_t pub[32], uint64_t handle);

#endif /* POSTERN_RELAY_IDENTITY_H */
