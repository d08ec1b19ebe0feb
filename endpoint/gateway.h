/*
 * gateway.h — postern-gateway's event loop (DESIGN.md §4, docs/gateway.md):
 * hop sessions with every configured relay (hop_link, policy ALL), one QUIC
 * server connection per channel a relay opens (docs/protocol.md §10), one
 * upstream per stream (a TCP connection or a command), a pump between them,
 * one audit line per stream.
 *
 *	gateway_create(&g, cfg, identity, err, errlen);   sockets, signalfd, epoll
 *	status = gateway_run(g);                          until SIGTERM/SIGINT
 *	gateway_destroy(g);
 *
 * Signals (blocked by gateway_create() and read from a signalfd, so they
 * interrupt nothing): SIGTERM or SIGINT starts a graceful shutdown (no new
 * channels or streams; open streams get cfg->shutdown_timeout seconds, then
 * everything is closed); a second one ends the streams at once. SIGHUP
 * reopens the audit log. SIGPIPE is ignored.
 *
 * Logs: one line per event on stderr, "LEVEL: event=NAME key=value ...".
 * Threads: one; the caller's main thread.
 */
#ifndef POSTERN_ENDPOINT_GATEWAY_H
#define POSTERN_ENDPOINT_GATEWAY_H

#include <stddef.h>

#include "endpoint/gw_config.h"
#include "endpoint/quic_tls.h"

enum {
	GATEWAY_ERR_MAX = 512,
};

struct gateway;

/*
 * Set everything up from @cfg (loaded, files loaded; borrowed, must outlive
 * the gateway) and @id (the E2E certificate; borrowed): resolve the relays,
 * open their sockets, the audit log, the signalfd and epoll. Nothing is sent
 * yet. @return 0 and *@out, or -errno with @err set to one line.
 */
int gateway_create(struct gateway **out, const struct gw_config *cfg,
		   const struct quic_identity *id, char *err, size_t errlen);

/*
 * Run until shut down. @return the exit status: 0 after a graceful shutdown,
 * 1 if the loop failed (epoll or signalfd errors).
 */
int gateway_run(struct gateway *g);

/* Close everything (streams, upstreams, connections, sockets). NULL: no-op. */
void gateway_destroy(struct gateway *g);

#endif /* POSTERN_ENDPOINT_GATEWAY_H */
