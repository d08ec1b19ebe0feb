/*
 * ep_relay.c — see ep_relay.h.
 */
#include "endpoint/ep_relay.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "endpoint/udp.h"

int ep_relay_resolve(const struct ep_config_relay *r, struct hop_link_relay *out, char *err,
		     size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	int ret;

	ret = getaddrinfo(r->host, r->port, &hints, &ai);
	if (ret != 0) {
		snprintf(err, errlen, "%s: relay '%s': cannot resolve: %s", r->where, r->address,
			 gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	ret = udp_addr_format(ai->ai_addr, ai->ai_addrlen, out->addr, sizeof(out->addr));
	freeaddrinfo(ai);
	if (ret < 0) {
		snprintf(err, errlen, "%s: relay '%s': address too long", r->where, r->address);
		return ret;
	}
	memcpy(out->pub, r->public_key, sizeof(out->pub));
	return 0;
}
