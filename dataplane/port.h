/*
 * port.h — one DPDK Ethernet port brought up for run-to-completion workers:
 * found by name (or as the only port EAL made), one RX/TX queue pair per
 * worker, RSS over IP addresses and UDP ports where the device offers it,
 * the RX and TX checksum offloads it has, a MAC address, started, its link
 * watched; and the bursts on one queue pair, so that code outside dataplane/
 * drives a port without an ethdev header.
 *
 * The relay's ethdev backend (ethdev.h) opens each configured port with it,
 * relaybench's DPDK transport its one port. Bring-up follows ethdev's
 * required order (rte_ethdev.h, "Device configuration"): dev_info →
 * configure → RX/TX queue setup → start; what the device cannot do is asked
 * of it only if dev_info says it can: RSS hash types, checksum offloads,
 * queue counts, MTU.
 *
 *	struct dp_port port;
 *
 *	dp_port_open(&port, &(struct dp_port_params){ .queues = n, .pool = mp,
 *		     .queue_users = "workers" }, err, sizeof(err));
 *	dp_port_wait_link(&port, 3000);
 *	... worker i: dp_port_rx(&port, i, m, 32) ... dp_port_tx(&port, i, m, k) ...
 *	dp_port_close(&port);
 *
 * Mbufs: RX queues take mbufs from @pool, which needs a whole frame (MTU +
 * 14) of data room after the headroom. dp_port_close() drains the RX queues
 * and closes the port, which releases what the device held.
 *
 * Threads: dp_port_open(), _wait_link(), _link_up(), _drain() and _close()
 * on one thread (the main one), with no worker in a burst; dp_port_rx() and
 * dp_port_tx() on queue i from its one worker; dp_port_stats() from one
 * thread at a time (some PMDs keep totals of their own there).
 */
#ifndef POSTERN_DATAPLANE_PORT_H
#define POSTERN_DATAPLANE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

struct rte_mbuf;
struct rte_mempool;

enum {
	DP_PORT_NAME_MAX = 64,		/* RTE_ETH_NAME_MAX_LEN, with the NUL */
	DP_PORT_RX_DESC = 512,		/* asked for by default; the device may adjust */
	DP_PORT_TX_DESC = 512,
};

struct dp_port_params {
	const char *name;		/* ethdev name; NULL: the one port there is */
	unsigned queues;		/* RX = TX queue pairs, one per worker: 1.. */
	const char *queue_users;	/* who uses them, for messages: "workers" */
	uint16_t rx_desc, tx_desc;	/* per queue; 0: DP_PORT_RX_DESC, DP_PORT_TX_DESC */
	uint16_t mtu;			/* IP MTU; 0: DP_IFACE_MTU_DEFAULT */
	struct rte_mempool *pool;	/* RX mbufs; borrowed */
};

/* A port as it was set up. */
struct dp_port_info {
	char name[DP_PORT_NAME_MAX];
	char driver[32];		/* e.g. "net_af_packet" */
	uint16_t port_id;
	int socket;			/* NUMA socket of the device (or of this lcore) */
	struct rte_ether_addr mac;	/* the device's, or a random local one it was given */
	unsigned queues;
	uint16_t rx_desc, tx_desc;	/* as the device adjusted them */
	uint64_t rss_hf;		/* RSS hash types programmed; 0: none */
	uint64_t rx_offloads, tx_offloads;	/* RTE_ETH_{RX,TX}_OFFLOAD_* enabled */
	uint16_t mtu;
	bool link_up;			/* at the last dp_port_link_up() / _wait_link() */
	uint32_t link_speed;		/* Mb/s; 0 unknown */
};

struct dp_port {
	struct dp_port_info info;
	bool configured, started;
};

/* A device's own counters (rte_eth_stats). */
struct dp_port_stats {
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed;		/* dropped by the device: RX queue full */
	uint64_t ierrors, oerrors;
	uint64_t rx_nombuf;		/* RX mbuf allocation failures */
};

/*
 * Every Ethernet port EAL has, by name ("a, b"; "none"), into @out.
 * @return how many there are.
 */
unsigned dp_port_names(char *out, size_t len);

/*
 * Find the port and bring it up (see the top): on return it is started and
 * receiving. Does not wait for the link.
 * @return 0; -ENODEV (no port of that name, or with no name none or several
 * ports), -EINVAL (the device cannot do what is asked: queues, MTU, frame
 * size for the pool's mbufs), or the device's -errno; @err then says which
 * port and why in one line, and whatever was done is undone (*@p closed).
 */
int dp_port_open(struct dp_port *p, const struct dp_port_params *pp, char *err, size_t errlen);

/* Read the link now (p->info.link_up, link_speed). @return whether it is up. */
bool dp_port_link_up(struct dp_port *p);

/* Wait up to @wait_ms for the link. @return 0 once it is up, -ETIMEDOUT. */
int dp_port_wait_link(struct dp_port *p, unsigned wait_ms);

/* Free what every RX queue holds now. @return how many frames that was. */
unsigned dp_port_drain(const struct dp_port *p);

/* The device's counters. @return 0, -ENODEV (not open), or the device's -errno. */
int dp_port_stats(const struct dp_port *p, struct dp_port_stats *out);

/*
 * Drain the RX queues, stop the port and close it (which frees the queues
 * and the mbufs the device keeps). Idempotent; a port never opened is a no-op.
 */
void dp_port_close(struct dp_port *p);

/* Up to @n frames from RX queue @queue into m[]. @return how many; the caller owns them. */
uint16_t dp_port_rx(const struct dp_port *p, uint16_t queue, struct rte_mbuf **m, uint16_t n);

/*
 * Hand m[0..n) to TX queue @queue. @return how many the device took (it owns
 * those); the caller still owns m[return..n).
 */
uint16_t dp_port_tx(const struct dp_port *p, uint16_t queue, struct rte_mbuf **m, uint16_t n);

#endif /* POSTERN_DATAPLANE_PORT_H */
