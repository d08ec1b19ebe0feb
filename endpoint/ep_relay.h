/*
 * ep_relay.h — a configured relay (ep_config.h) as hop_link dials it: the
 * gateway's and the connector's one way from "host:port" to a numeric address.
 */
#ifndef POSTERN_ENDPOINT_EP_RELAY_H
#define POSTERN_ENDPOINT_EP_RELAY_H

#include <stddef.h>

#include "endpoint/ep_config.h"
#include "endpoint/hop_link.h"

/*
 * Resolve @r's host and port now (a name through getaddrinfo(), once: see
 * docs/connector.md and docs/gateway.md) into @out, with its pinned key.
 * @return 0; -EHOSTUNREACH if it does not resolve, or the error of a numeric
 * form too long for hop_link, with "WHERE: relay 'ADDRESS': why" in @err.
 */
int ep_relay_resolve(const struct ep_config_relay *r, struct hop_link_relay *out, char *err,
		     size_t errlen);

#endif
