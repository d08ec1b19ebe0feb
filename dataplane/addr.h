/*
 * addr.h — listen and peer addresses as text, and their kernel socket form.
 *
 * Text form, the same everywhere (config files, flags, logs):
 *   IPv4  "192.0.2.1:51820"      IPv6  "[2001:db8::1]:51820"   (brackets required)
 * Port 0 is refused for a listen address: a relay must be reachable where the
 * endpoints were told it is.
 *
 * The relay core knows addresses only as struct pkt_addr (relay/pkt.h). The
 * socket conversions are here, behind forward declarations, so that code
 * outside dataplane/ can parse addresses without including socket headers.
 *
 * Threads: no state; any thread.
 */
#ifndef POSTERN_DATAPLANE_ADDR_H
#define POSTERN_DATAPLANE_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "relay/pkt.h"

struct sockaddr;
struct sockaddr_storage;

enum {
	/* "[" + 45 (longest IPv6 text) + "]:" + 5 + NUL, rounded up */
	DP_ADDR_TEXT_MAX = 56,
};

/*
 * Parse "IPV4:PORT" or "[IPV6]:PORT" (the whole string; no names, no
 * whitespace, no zone ids) into @out. Port 1..65535.
 * @return 0, or -EINVAL with a short phrase in @why (a static string) saying
 * what is wrong; @out is untouched on error.
 */
int dp_addr_parse(const char *text, struct pkt_addr *out, const char **why);

/* Write @a in the text form above, NUL-terminated, to @out (DP_ADDR_TEXT_MAX bytes). */
void dp_addr_format(const struct pkt_addr *a, char out[DP_ADDR_TEXT_MAX]);

/*
 * Fill @ss from @a (sockaddr_in or sockaddr_in6). @return the sockaddr's
 * length, for bind/sendmsg.
 */
unsigned dp_addr_to_sockaddr(const struct pkt_addr *a, struct sockaddr_storage *ss);

/*
 * Fill @a from a sockaddr of @len bytes. @return 0, or -EAFNOSUPPORT for a
 * family other than AF_INET/AF_INET6 or a short length (@a then zeroed).
 */
int dp_addr_from_sockaddr(const struct sockaddr *sa, unsigned len, struct pkt_addr *a);

#endif /* POSTERN_DATAPLANE_ADDR_H */
