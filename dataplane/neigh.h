/*
 * neigh.h — the neighbour cache of one port: IPv4 and IPv6 next hops to MAC
 * addresses (ARP, RFC 826; neighbour discovery, RFC 4861), with a short queue
 * per neighbour for packets sent while the address is being resolved.
 *
 * The cache does not build ARP or ND packets: when it wants one it calls the
 * solicit function given to dp_neigh_create().
 *
 * States and triggers (time is now_ns, passed in; the cache never reads a clock):
 *
 *   (none) --output--> INCOMPLETE: packet queued, broadcast/multicast solicit
 *   (none) --resolve--> INCOMPLETE: nothing queued, broadcast/multicast solicit
 *   INCOMPLETE --resolve--> re-solicit if DP_NEIGH_SOLICIT_NS has passed
 *   INCOMPLETE --output--> queue (drop oldest beyond DP_NEIGH_QUEUE_LEN),
 *                          re-solicit if DP_NEIGH_SOLICIT_NS has passed
 *   INCOMPLETE --learn (a MAC)--> REACHABLE (confirmed) or STALE; queue flushed
 *   INCOMPLETE --tick--> packets queued longer than DP_NEIGH_QUEUE_NS dropped
 *                        (neigh_unresolved); re-solicit while packets wait;
 *                        entry freed once empty and DP_NEIGH_QUEUE_NS old
 *   REACHABLE  --DP_NEIGH_REACHABLE_NS without confirmation--> STALE (lazily)
 *   STALE      --output--> sent with the known MAC, and a unicast probe to
 *                          that MAC if DP_NEIGH_SOLICIT_NS has passed;
 *                          after DP_NEIGH_PROBES unanswered probes the entry
 *                          goes INCOMPLETE (broadcast again)
 *   any        --learn with CONFIRM--> REACHABLE, probes reset
 *
 * Refresh policy: an entry is trusted for 30 s after its last confirmation (an
 * ARP packet from the neighbour for us, a solicited NA). After that it keeps
 * being used — no packet waits — while up to three unicast probes, one a
 * second and only while traffic flows, ask the neighbour to confirm. Peers
 * that ARP for us on their own (Linux refreshes its entry about every 30 s)
 * keep their entry REACHABLE with no probes at all.
 *
 * The table is fixed size, set-associative (DP_NEIGH_WAYS entries per bucket,
 * hash of the address); a full bucket recycles its least recently used entry,
 * dropping anything queued there (neigh_evicted). An entry learned from another
 * host's packet never recycles one that our own traffic used in the last
 * DP_NEIGH_REACHABLE_NS, so ARP noise on the LAN cannot push out the gateway.
 *
 * Threads: a dp_neigh is owned by one lcore, the one that owns its dp_l2l3;
 * every call comes from that lcore. Several workers sharing a port each have
 * their own dp_l2l3 and so their own cache (see l2l3.h).
 */
#ifndef POSTERN_DATAPLANE_NEIGH_H
#define POSTERN_DATAPLANE_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/l2stats.h"
#include "dataplane/txv.h"

#define DP_NEIGH_REACHABLE_NS	(30ull * 1000000000ull)
/* At most one solicitation per neighbour per second. */
#define DP_NEIGH_SOLICIT_NS	(1ull * 1000000000ull)
#define DP_NEIGH_QUEUE_NS	(3ull * 1000000000ull)

enum {
	DP_NEIGH_QUEUE_LEN = 4,		/* packets held per unresolved neighbour */
	DP_NEIGH_PROBES = 3,		/* unicast probes before falling back to broadcast */
	DP_NEIGH_WAYS = 8,
	DP_NEIGH_ENTRIES_DEFAULT = 256,
	DP_NEIGH_ENTRIES_MAX = 65536,
};

enum dp_neigh_state {
	DP_NEIGH_FREE = 0,
	DP_NEIGH_INCOMPLETE,
	DP_NEIGH_REACHABLE,
	DP_NEIGH_STALE,
};

/* How a learned address came in (dp_neigh_learn() flags). */
enum {
	DP_NEIGH_CREATE = 1u << 0,	/* add an entry if there is none (we were the target) */
	DP_NEIGH_CONFIRM = 1u << 1,	/* proof the neighbour is there: REACHABLE */
	DP_NEIGH_OVERRIDE = 1u << 2,	/* a different MAC replaces the known one */
};

struct dp_neigh;

/*
 * Send a solicitation for @addr (16 bytes; IPv4 in addr[0..3]): broadcast ARP
 * or multicast NS when @unicast is NULL, else a probe to that MAC. Append it to
 * @tx (or count why not). Called from dp_neigh_output() and dp_neigh_tick().
 */
typedef void (*dp_neigh_solicit_fn)(void *ctx, uint8_t family, const uint8_t addr[16],
				    const struct rte_ether_addr *unicast, struct dp_txv *tx);

/* What tests and introspection may see of one entry. */
struct dp_neigh_info {
	enum dp_neigh_state state;
	struct rte_ether_addr mac;	/* zero while INCOMPLETE */
	unsigned queued;
	unsigned probes;
};

/*
 * Create a cache of about @n_entries (0: DP_NEIGH_ENTRIES_DEFAULT; rounded up
 * to a power of two, at least DP_NEIGH_WAYS) on NUMA @socket_id. Queue and
 * resolution drops are counted in @st (tx_dropped[], neigh_* counters), which
 * must outlive the cache.
 * @return 0, -EINVAL (@n_entries above DP_NEIGH_ENTRIES_MAX), -ENOMEM.
 */
int dp_neigh_create(struct dp_neigh **out, unsigned n_entries, int socket_id,
		    dp_neigh_solicit_fn solicit, void *ctx, struct dp_l2stats *st);

/* Free the cache and every packet still queued in it. NULL is a no-op. */
void dp_neigh_destroy(struct dp_neigh *nc);

/*
 * Send @m, a complete Ethernet frame whose destination MAC is still to be
 * filled, to next hop @nh (16 bytes). Consumes @m: it is appended to @tx with
 * the neighbour's MAC (tx_frames), queued until the address resolves
 * (tx_queued), or dropped and counted.
 */
void dp_neigh_output(struct dp_neigh *nc, uint8_t family, const uint8_t nh[16],
		     struct rte_mbuf *m, uint64_t now_ns, struct dp_txv *tx);

/*
 * Record that @addr is at @mac (NULL: the message carried no link-layer
 * address; only a confirmation of a known entry then), per @flags. A first
 * MAC for an INCOMPLETE entry flushes its queue onto @tx.
 */
void dp_neigh_learn(struct dp_neigh *nc, uint8_t family, const uint8_t addr[16],
		    const struct rte_ether_addr *mac, unsigned flags, uint64_t now_ns,
		    struct dp_txv *tx);

/*
 * Housekeeping: expire queued packets, re-solicit unresolved neighbours that
 * have packets waiting, free dead entries. Call it from the worker loop at
 * least every DP_NEIGH_SOLICIT_NS / 2; it scans the whole table.
 */
void dp_neigh_tick(struct dp_neigh *nc, uint64_t now_ns, struct dp_txv *tx);

/*
 * Ask for @addr's MAC without a packet to send: an unknown address gets an
 * INCOMPLETE entry and a broadcast/multicast solicitation (appended to @tx
 * by the solicit function); an INCOMPLETE one is solicited again once
 * DP_NEIGH_SOLICIT_NS has passed since the last. The entry counts as in use
 * by our own traffic (it is not recycled for another host's ARP noise, and
 * dp_neigh_tick() frees it only DP_NEIGH_QUEUE_NS after the last call).
 * @return true when the MAC is known (REACHABLE or STALE; nothing sent).
 */
bool dp_neigh_resolve(struct dp_neigh *nc, uint8_t family, const uint8_t addr[16],
		      uint64_t now_ns, struct dp_txv *tx);

/* @return true and fill @out if there is an entry for @addr (16 bytes). */
bool dp_neigh_lookup(const struct dp_neigh *nc, uint8_t family, const uint8_t addr[16],
		     struct dp_neigh_info *out);

#endif /* POSTERN_DATAPLANE_NEIGH_H */
