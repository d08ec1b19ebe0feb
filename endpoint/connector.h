/*
 * connector.h — postern-connect's event loop (DESIGN.md §1 E2E layer and
 * failover, §4; docs/connector.md "Running"): one hop link to the relays
 * (policy HOP_LINK_ONE), one E2E QUIC client connection to the tunnel's
 * gateway carried by one hop channel at a time, and the local side: a TCP
 * listener per `listen` entry, or the connector's own stdin/stdout (--stdio),
 * each local connection pumped through one QUIC stream.
 *
 * The channel (protocol.md §7, §10.5) is opened once the session with the
 * current relay is up: CHANNEL_OPEN with the connection's tag, the tunnel and
 * an empty route (the stream headers name the routes). Its ACCEPT starts the
 * QUIC handshake; when the carrier goes (the relay is silent, drains or
 * closes the channel), the channel is opened again on the relay in use with
 * RESUME and the same tag, and QUIC retransmits what was lost meanwhile.
 *
 * Ownership: the configuration and the identity are borrowed and must
 * outlive the connector. Threads: one; the loop blocks SIGTERM and SIGINT
 * (read through a signalfd) and ignores SIGPIPE for the whole process.
 * Errors: 0 or -errno, with a sentence in @err.
 */
#ifndef POSTERN_ENDPOINT_CONNECTOR_H
#define POSTERN_ENDPOINT_CONNECTOR_H

#include <stddef.h>

#include "endpoint/conn_config.h"
#include "endpoint/quic_tls.h"

/* Seconds the open streams get to finish after SIGTERM/SIGINT. */
#define CONNECTOR_SHUTDOWN_GRACE_S 5

struct connector;

/*
 * Resolve the relays, bind every listener (or take stdin/stdout for
 * cfg->stdio), open the relay sockets and the signalfd. Nothing is sent yet.
 * @cfg must have its files loaded (conn_config_load_files()).
 * @return 0 and *@out, or -errno with @err set: -EADDRINUSE and other bind
 * errors naming the listen entry, -EHOSTUNREACH for a relay name that does not
 * resolve, -ENOMEM, -EIO.
 */
int connector_create(struct connector **out, const struct conn_config *cfg,
		     const struct quic_identity *id, char *err, size_t errlen);

/*
 * Run until a signal's shutdown has finished, the --stdio stream has ended,
 * or a configuration error shows at run time (the gateway's certificate is
 * not the pinned one, the tunnel is not granted, this connector's
 * certificate is refused).
 * @return the process exit status: 0 (clean shutdown, the stdio stream ended
 * with FIN), 1 (a fatal error, logged; the stdio stream was reset or failed).
 */
int connector_run(struct connector *cn);

/* Close every socket and stream and free. NULL: no-op. */
void connector_destroy(struct connector *cn);

#endif /* POSTERN_ENDPOINT_CONNECTOR_H */
