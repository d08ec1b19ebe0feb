/*
 * directory.h — the tunnel directory: (tenant, tunnel) → the live gateway
 * sessions that serve it, each with its channel count (DESIGN.md §2).
 *
 * Written when a gateway session comes up or goes away (its owner worker),
 * read on every CHANNEL_OPEN by whichever worker holds the agent. Reads never
 * lock and never write shared memory.
 *
 * Concurrency scheme:
 *   - the index is an rte_hash in lock-free reader mode (RW_CONCURRENCY_LF,
 *     MULTI_WRITER_ADD), key slots reclaimed through the relay's QSBR
 *     variable (rte_hash_rcu_qsbr_add);
 *   - its data is a pointer to an immutable struct dir_entry (the member
 *     list). A writer never edits an entry: under the directory's spinlock it
 *     copies the entry, changes the copy, swaps the pointer in the hash (an
 *     atomic store in LF mode) and retires the old entry with an
 *     rte_rcu_qsbr_start() token;
 *   - retired entries are freed by directory_reclaim() once rte_rcu_qsbr_check()
 *     says every worker has passed a quiescent state since the token: workers
 *     report one in each relay_worker_poll(), between bursts, and hold no
 *     entry pointer across it;
 *   - the channel count of a member is not in the entry (it changes per
 *     channel): the member points at the session's `load` field, which its
 *     owner stores and readers load with relaxed atomics. Session memory never
 *     moves or goes away while the relay lives, so the pointer stays valid
 *     even after the session dies (the handle's generation catches that).
 * Writers pay one malloc and one copy per gateway up/down; readers pay one
 * lookup and a scan of the member list.
 *
 * A tunnel is "known" once some gateway has registered it; its entry stays
 * (with no members) after its last gateway leaves, so an agent can be told
 * NO_GATEWAY rather than NOT_PERMITTED (protocol.md §7). Such empty entries
 * are evicted when the table fills up.
 *
 * Threads: directory_pick() from any registered worker; add/remove/reclaim
 * from any worker; create/destroy on the main thread with no worker running.
 */
#ifndef POSTERN_RELAY_DIRECTORY_H
#define POSTERN_RELAY_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

struct directory;
struct rte_rcu_qsbr;

enum directory_result {
	DIRECTORY_UNKNOWN,	/* no gateway ever registered (tenant, tunnel) here */
	DIRECTORY_EMPTY,	/* known, but no gateway is connected */
	DIRECTORY_FOUND,
};

/* @name unique in the process. @return 0, -ENOMEM, -EINVAL. */
int directory_create(struct directory **out, const char *name, uint32_t capacity,
		     struct rte_rcu_qsbr *qsbr);

/* Free the table and every entry, retired or not. No reader may be running. */
void directory_destroy(struct directory *d);

/*
 * Add gateway session @session (whose channel count is *@load and whose last
 * authenticated packet arrived at *@last_rx, both read with relaxed atomics)
 * to (@tenant, @tunnel), NUL-terminated names. @return 0, -ENOMEM, -ENOSPC.
 */
int directory_add(struct directory *d, const char *tenant, const char *tunnel,
		  uint64_t session, const uint32_t *load, const uint64_t *last_rx);

/* Remove @session from (@tenant, @tunnel); the entry stays, maybe empty. */
void directory_remove(struct directory *d, const char *tenant, const char *tunnel,
		      uint64_t session);

/* A gateway heard from this recently counts as alive (3 keepalive periods). */
#define DIRECTORY_FRESH_NS (30 * UINT64_C(1000000000))

/*
 * Find the member of (@tenant, @tunnel[0..@tunnel_len)) with the fewest
 * channels (the first such in registration order) among those heard from
 * within DIRECTORY_FRESH_NS of @now_ns; among all of them if none is.
 * @return DIRECTORY_FOUND and *@session set, or DIRECTORY_UNKNOWN / _EMPTY.
 */
enum directory_result directory_pick(const struct directory *d, const char *tenant,
				     const uint8_t *tunnel, size_t tunnel_len, uint64_t now_ns,
				     uint64_t *session);

/* Free entries retired before a completed grace period. Cheap when there are none. */
void directory_reclaim(struct directory *d);

#endif /* POSTERN_RELAY_DIRECTORY_H */
