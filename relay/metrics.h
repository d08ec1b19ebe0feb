/*
 * metrics.h — the relay's counters in the Prometheus text exposition format,
 * version 0.0.4 (what GET /metrics serves).
 *
 * Every family has one # HELP and one # TYPE line before its samples, and all
 * its samples together. Counters end in _total. Names start with
 *   postern_relay_    the core's per-worker counters, label worker="N"; drops
 *                     also carry reason="bad_mac1" etc., the names of
 *                     relay/stats.h
 *   postern_control_  the control loop itself
 *   postern_port_     the DPDK backend, one series per port, label
 *                     port="<ethdev name>": the device's own counters
 *                     (rte_eth_stats) and the Ethernet/IP layer's
 *                     (dataplane/l2stats.h, every worker's added up); drops
 *                     carry reason="not_ours" etc., the names of l2stats.h
 *   postern_socket_   the socket backend, one series per socket, labels
 *                     worker="N" and listen="0.0.0.0:51820"
 * Every drop reason of every worker or port is present, zero or not, so rate()
 * works from the first scrape. Only the backend in use has families.
 * docs/control.md lists them.
 *
 * The backend's part comes in a struct metrics_backend, which the backend
 * fills itself (dp_ethdev_metrics(), dp_sock_metrics()) on the thread that
 * renders; the relay core's part in copies of struct relay_stats.
 *
 * No I/O. Threads: stateless; any thread.
 */
#ifndef POSTERN_RELAY_METRICS_H
#define POSTERN_RELAY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/addr.h"
#include "dataplane/ethdev.h"
#include "dataplane/l2stats.h"
#include "dataplane/sock.h"
#include "relay/control.h"
#include "relay/stats.h"

/* The content type to serve the output with. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum {
	METRICS_MAX_PORTS = DP_ETHDEV_MAX_PORTS,
	METRICS_MAX_SOCKETS = CONTROL_MAX_WORKERS * DP_SOCK_MAX_LISTEN,
};

/* One DPDK port. */
struct metrics_port {
	char name[DP_PORTCONF_NAME_MAX];	/* the port label: its ethdev name */
	bool have_device;			/* false: the device would not tell */
	struct dp_port_stats device;
	struct dp_l2stats l2;			/* every worker's on this port, added up */
};

/* One kernel UDP socket of the socket backend (a worker's, for one listen address). */
struct metrics_socket {
	unsigned worker;
	char listen[DP_ADDR_TEXT_MAX];		/* "0.0.0.0:51820", "[::]:51820" */
	uint64_t rx_drops;			/* what the kernel dropped (dataplane/sock.h) */
};

/* The backend's counters: ports (DPDK) or sockets, or neither. Large: allocate it. */
struct metrics_backend {
	unsigned n_ports;
	struct metrics_port ports[METRICS_MAX_PORTS];
	/* DPDK: frames a device's TX queue refused (full), freed by worker [i]. */
	unsigned n_port_workers;
	uint64_t tx_unsent[CONTROL_MAX_WORKERS];
	unsigned n_sockets;
	struct metrics_socket sockets[METRICS_MAX_SOCKETS];
};

struct metrics_input {
	const struct relay_stats *per_worker;	/* [0..n_workers) */
	unsigned n_workers;
	bool ready;				/* postern_relay_ready 1 or 0 */
	const struct control_counters *control;	/* NULL: no postern_control_ families */
	const struct metrics_backend *backend;	/* NULL: no postern_port_/_socket_ families */
};

/*
 * A zeroed struct metrics_backend, aligned as its counters need (malloc's
 * alignment is not enough). @return it (the caller free()s it), or NULL.
 */
struct metrics_backend *metrics_backend_alloc(void);

/*
 * Render @in. @return 0 with *@out (malloc'd, NUL-terminated; the caller frees
 * it) and *@len set, or -ENOMEM.
 */
int metrics_render(const struct metrics_input *in, char **out, size_t *len);

#endif /* POSTERN_RELAY_METRICS_H */
