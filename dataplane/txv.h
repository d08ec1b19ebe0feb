/*
 * txv.h — a TX vector: the frames one burst of work wants to send on a port,
 * collected in an array the caller provides and passed to rte_eth_tx_burst()
 * in one go.
 *
 * The dp_l2l3 functions append to it (replies, solicitations, encapsulated hop
 * packets, flushed queues); when it is full they free the frame and count the
 * drop as tx_full. The caller owns m[0..n): it transmits them and frees what
 * the NIC did not take, then resets n to 0.
 *
 * dp_txv_frame_len() sets the final length of a frame this layer writes.
 *
 * Threads: one vector per lcore; no locking.
 */
#ifndef POSTERN_DATAPLANE_TXV_H
#define POSTERN_DATAPLANE_TXV_H

#include <stdbool.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

struct dp_txv {
	struct rte_mbuf **m;	/* caller's array of @cap slots */
	unsigned n, cap;
};

static inline void dp_txv_init(struct dp_txv *v, struct rte_mbuf **slots, unsigned cap)
{
	v->m = slots;
	v->n = 0;
	v->cap = cap;
}

/* Append @m. @return false when full: @m is then still the caller's. */
static inline bool dp_txv_push(struct dp_txv *v, struct rte_mbuf *m)
{
	if (v->n >= v->cap)
		return false;
	v->m[v->n++] = m;
	return true;
}

/*
 * Make single-segment @m exactly @len bytes long, zero-filling up to the
 * Ethernet minimum of 60 bytes (64 with the FCS the NIC adds): not every
 * PMD pads short frames. @return false if the buffer cannot hold that.
 */
static inline bool dp_txv_frame_len(struct rte_mbuf *m, unsigned len)
{
	unsigned target = len < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN ?
			  RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN : len;

	if (m->nb_segs != 1 || (unsigned)m->buf_len - m->data_off < target)
		return false;
	if (target > len)
		memset(rte_pktmbuf_mtod_offset(m, char *, len), 0, target - len);
	m->data_len = (uint16_t)target;
	m->pkt_len = target;
	return true;
}

#endif /* POSTERN_DATAPLANE_TXV_H */
