/*
 * port.c — bringing up one DPDK Ethernet port, its link, its bursts (port.h).
 */
#include "dataplane/port.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/iface.h"

enum {
	DRAIN_BURST = 32,
	DRAIN_ROUNDS = 1024,		/* bursts per queue: a queue that keeps filling ends */
	LINK_POLL_MS = 20,
};

/* Hash on addresses and UDP ports: a hop session's 4-tuple stays on one queue. */
#define RSS_WANTED (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP)
#define CKSUM_RX (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
#define CKSUM_TX (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM)

static_assert(DP_PORT_NAME_MAX == RTE_ETH_NAME_MAX_LEN, "port names as ethdev keeps them");

unsigned dp_port_names(char *out, size_t len)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	unsigned count = 0;
	uint16_t pid;
	size_t n = 0;

	if (len)
		out[0] = '\0';
	RTE_ETH_FOREACH_DEV(pid) {
		count++;
		if (rte_eth_dev_get_name_by_port(pid, name) == 0 && n < len)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", name);
	}
	if (!n && len)
		snprintf(out, len, "none");
	return count;
}

static int fail(char *err, size_t errlen, const struct dp_port *p, int ret, const char *what)
{
	snprintf(err, errlen, "port %s (%s): %s: %s", p->info.name,
		 p->info.driver[0] ? p->info.driver : "?", what, rte_strerror(-ret));
	return ret;
}

/* The port named @name, or with no name the only one; fills name, port_id, socket. */
static int find(struct dp_port *p, const char *name, char *err, size_t errlen)
{
	char known[256];
	unsigned n;
	uint16_t pid;

	if (name) {
		snprintf(p->info.name, sizeof(p->info.name), "%s", name);
		if (rte_eth_dev_get_port_by_name(name, &p->info.port_id)) {
			dp_port_names(known, sizeof(known));
			snprintf(err, errlen, "port %s: no such Ethernet device (EAL has: %s)",
				 p->info.name, known);
			return -ENODEV;
		}
	} else {
		n = dp_port_names(known, sizeof(known));
		if (n == 0)
			snprintf(err, errlen, "no Ethernet port");
		else if (n > 1)
			snprintf(err, errlen, "%u Ethernet ports (%s), where one was expected", n,
				 known);
		if (n != 1)
			return -ENODEV;
		RTE_ETH_FOREACH_DEV(pid)
			p->info.port_id = pid;
		rte_eth_dev_get_name_by_port(p->info.port_id, p->info.name);
	}
	p->info.socket = rte_eth_dev_socket_id(p->info.port_id);
	if (p->info.socket < 0)
		p->info.socket = (int)rte_socket_id();
	return 0;
}

/* What the caller needs against what the device can: queues, MTU, frame size. */
static int check_caps(const struct dp_port *p, const struct dp_port_params *pp,
		      const struct rte_eth_dev_info *di, char *err, size_t errlen)
{
	const char *users = pp->queue_users ? pp->queue_users : "workers";
	unsigned mtu = p->info.mtu, q = pp->queues;
	unsigned room = rte_pktmbuf_data_room_size(pp->pool) - RTE_PKTMBUF_HEADROOM;
	char hint[96] = "";

	if (di->max_rx_queues < q || di->max_tx_queues < q) {
		/* af_packet has one queue pair per packet socket, as many as it was told. */
		if (!strcmp(p->info.driver, "net_af_packet"))
			snprintf(hint, sizeof(hint), " (net_af_packet: set qpairs= to the number "
				 "of %s)", users);
		snprintf(err, errlen, "port %s (%s): %u %s need %u RX and TX queues, the device "
			 "has %u RX and %u TX%s", p->info.name, p->info.driver, q, users, q,
			 di->max_rx_queues, di->max_tx_queues, hint);
		return -EINVAL;
	}
	if (mtu < di->min_mtu || (di->max_mtu && mtu > di->max_mtu)) {
		snprintf(err, errlen, "port %s (%s): MTU %u is outside the device's %u..%u",
			 p->info.name, p->info.driver, mtu, di->min_mtu, di->max_mtu);
		return -EINVAL;
	}
	if (di->max_rx_pktlen && di->max_rx_pktlen < mtu + RTE_ETHER_HDR_LEN) {
		snprintf(err, errlen, "port %s (%s): MTU %u needs %u-byte frames, the device "
			 "receives at most %u", p->info.name, p->info.driver, mtu,
			 mtu + RTE_ETHER_HDR_LEN, di->max_rx_pktlen);
		return -EINVAL;
	}
	if (room < mtu + RTE_ETHER_HDR_LEN) {
		snprintf(err, errlen, "port %s: MTU %u needs mbufs with %u bytes of data room, "
			 "the pool has %u", p->info.name, mtu, mtu + RTE_ETHER_HDR_LEN, room);
		return -EINVAL;
	}
	return 0;
}

static int queues(struct dp_port *p, const struct dp_port_params *pp,
		  const struct rte_eth_dev_info *di, char *err, size_t errlen)
{
	uint16_t pid = p->info.port_id;
	uint16_t rxd = pp->rx_desc ? pp->rx_desc : DP_PORT_RX_DESC;
	uint16_t txd = pp->tx_desc ? pp->tx_desc : DP_PORT_TX_DESC;
	struct rte_eth_rxconf rxq;
	struct rte_eth_txconf txq;
	int ret;

	ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rxd, &txd);
	if (ret)
		return fail(err, errlen, p, ret, "descriptor counts");
	p->info.rx_desc = rxd;
	p->info.tx_desc = txd;
	rxq = di->default_rxconf;
	rxq.offloads = p->info.rx_offloads;
	txq = di->default_txconf;
	txq.offloads = p->info.tx_offloads;
	for (unsigned q = 0; q < pp->queues; q++) {
		ret = rte_eth_rx_queue_setup(pid, (uint16_t)q, rxd, (unsigned)p->info.socket, &rxq,
					     pp->pool);
		if (ret)
			return fail(err, errlen, p, ret, "RX queue setup");
		ret = rte_eth_tx_queue_setup(pid, (uint16_t)q, txd, (unsigned)p->info.socket, &txq);
		if (ret)
			return fail(err, errlen, p, ret, "TX queue setup");
	}
	p->info.queues = pp->queues;
	return 0;
}

/* dev_info → configure → queues → MAC → start. */
static int bring_up(struct dp_port *p, const struct dp_port_params *pp, char *err, size_t errlen)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	uint16_t pid;
	int ret;

	ret = find(p, pp->name, err, errlen);
	if (ret)
		return ret;
	pid = p->info.port_id;
	ret = rte_eth_dev_info_get(pid, &di);
	if (ret)
		return fail(err, errlen, p, ret, "device info");
	snprintf(p->info.driver, sizeof(p->info.driver), "%s",
		 di.driver_name ? di.driver_name : "?");
	p->info.mtu = pp->mtu ? pp->mtu : DP_IFACE_MTU_DEFAULT;
	ret = check_caps(p, pp, &di, err, errlen);
	if (ret)
		return ret;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = p->info.mtu;
	p->info.rss_hf = pp->queues > 1 ? RSS_WANTED & di.flow_type_rss_offloads : 0;
	if (p->info.rss_hf) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = p->info.rss_hf;	/* the driver's key */
	}
	p->info.rx_offloads = CKSUM_RX & di.rx_offload_capa;
	p->info.tx_offloads = CKSUM_TX & di.tx_offload_capa;
	conf.rxmode.offloads = p->info.rx_offloads;
	conf.txmode.offloads = p->info.tx_offloads;
	ret = rte_eth_dev_configure(pid, (uint16_t)pp->queues, (uint16_t)pp->queues, &conf);
	if (ret)
		return fail(err, errlen, p, ret, "configure");
	p->configured = true;
	ret = queues(p, pp, &di, err, errlen);
	if (ret)
		return ret;
	ret = rte_eth_macaddr_get(pid, &p->info.mac);
	if (ret)
		return fail(err, errlen, p, ret, "MAC address");
	/*
	 * Some virtual devices (net_ring, net_null) have no address of their own:
	 * a random locally administered one (IEEE 802 U/L bit), told to the device
	 * if it keeps one (it may not filter at all).
	 */
	if (!rte_is_valid_assigned_ether_addr(&p->info.mac)) {
		rte_eth_random_addr(p->info.mac.addr_bytes);
		rte_eth_dev_default_mac_addr_set(pid, &p->info.mac);
	}
	/* Neighbour solicitations go to solicited-node multicast groups (RFC 4861 7.2.2). */
	rte_eth_allmulticast_enable(pid);
	ret = rte_eth_dev_start(pid);
	if (ret)
		return fail(err, errlen, p, ret, !strcmp(p->info.driver, "net_memif") ?
			    "start (net_memif: a client needs its server up on socket=)" :
			    "start");
	p->started = true;
	return 0;
}

int dp_port_open(struct dp_port *p, const struct dp_port_params *pp, char *err, size_t errlen)
{
	int ret;

	memset(p, 0, sizeof(*p));
	if (!pp->pool || pp->queues < 1 || pp->queues > RTE_MAX_QUEUES_PER_PORT) {
		snprintf(err, errlen, "port %s: invalid parameters", pp->name ? pp->name : "?");
		return -EINVAL;
	}
	ret = bring_up(p, pp, err, errlen);
	if (ret)
		dp_port_close(p);
	return ret;
}

bool dp_port_link_up(struct dp_port *p)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	if (p->started && rte_eth_link_get_nowait(p->info.port_id, &link) == 0) {
		p->info.link_up = link.link_status == RTE_ETH_LINK_UP;
		p->info.link_speed = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 :
				     link.link_speed;
	}
	return p->info.link_up;
}

int dp_port_wait_link(struct dp_port *p, unsigned wait_ms)
{
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * wait_ms;

	/* Links come up asynchronously (memif: when the peer connects). */
	while (!dp_port_link_up(p)) {
		if (rte_get_tsc_cycles() >= deadline)
			return -ETIMEDOUT;
		usleep(LINK_POLL_MS * 1000);
	}
	return 0;
}

unsigned dp_port_drain(const struct dp_port *p)
{
	struct rte_mbuf *m[DRAIN_BURST];
	unsigned total = 0;

	if (!p->started)
		return 0;
	for (unsigned q = 0; q < p->info.queues; q++) {
		for (unsigned round = 0; round < DRAIN_ROUNDS; round++) {
			uint16_t n = rte_eth_rx_burst(p->info.port_id, (uint16_t)q, m,
						      DRAIN_BURST);

			if (!n)
				break;
			rte_pktmbuf_free_bulk(m, n);
			total += n;
		}
	}
	return total;
}

int dp_port_stats(const struct dp_port *p, struct dp_port_stats *out)
{
	struct rte_eth_stats st;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!p->configured)
		return -ENODEV;
	ret = rte_eth_stats_get(p->info.port_id, &st);
	if (ret)
		return ret;
	*out = (struct dp_port_stats){
		.ipackets = st.ipackets, .opackets = st.opackets,
		.ibytes = st.ibytes, .obytes = st.obytes,
		.imissed = st.imissed, .ierrors = st.ierrors, .oerrors = st.oerrors,
		.rx_nombuf = st.rx_nombuf,
	};
	return 0;
}

void dp_port_close(struct dp_port *p)
{
	if (p->started) {
		dp_port_drain(p);
		rte_eth_dev_stop(p->info.port_id);
		p->started = false;
	}
	/* Closing releases the queues, and the mbufs a NIC keeps in its RX rings. */
	if (p->configured) {
		rte_eth_dev_close(p->info.port_id);
		p->configured = false;
	}
	p->info.link_up = false;
}

uint16_t dp_port_rx(const struct dp_port *p, uint16_t queue, struct rte_mbuf **m, uint16_t n)
{
	return rte_eth_rx_burst(p->info.port_id, queue, m, n);
}

uint16_t dp_port_tx(const struct dp_port *p, uint16_t queue, struct rte_mbuf **m, uint16_t n)
{
	return rte_eth_tx_burst(p->info.port_id, queue, m, n);
}
