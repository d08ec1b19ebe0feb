/*
 * allowlist.h — the gateway's `allowed_ips`: the IP networks a route's TCP
 * upstream may be in (docs/gateway.md, "allowed_ips"). It is the gateway's
 * guard against server-side request forgery: whoever holds an agent identity
 * can make the gateway open connections, so the gateway connects only where
 * the operator said it may, whatever a route's host name resolves to.
 *
 * Entries are CIDR networks, IPv4 or IPv6: "10.0.0.0/8", "fd00::/8"; a bare
 * address is a single host ("192.0.2.7" = /32, "2001:db8::7" = /128). An
 * entry must name its network exactly: host bits past the prefix are refused
 * ("10.0.0.1/8"), so a typo cannot silently widen or move a network.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what an AF_INET6 socket shows
 * for an IPv4 peer) are IPv4 addresses on the wire, so they are matched
 * against the IPv4 entries only; an entry written in that form
 * ("::ffff:10.0.0.0/104") is stored as its IPv4 equivalent ("10.0.0.0/8").
 *
 * The default list (allowlist_create_default(), used when `allowed_ips` is
 * not configured) is the private and local ranges:
 *
 *	10.0.0.0/8  172.16.0.0/12  192.168.0.0/16  (RFC 1918)
 *	100.64.0.0/10                               (RFC 6598 shared address space, CGNAT)
 *	127.0.0.0/8  ::1/128                        (loopback)
 *	fc00::/7                                    (RFC 4193 unique local)
 *
 * minus two single addresses inside those ranges that are cloud metadata
 * services: 100.100.100.200 (Alibaba Cloud, inside 100.64.0.0/10) and
 * fd00:ec2::254 (AWS's IPv6 instance metadata, inside fc00::/7); and
 * deliberately not:
 *
 *	169.254.0.0/16, fe80::/10   link-local. Instance metadata services live
 *	                            there (169.254.169.254 on AWS, GCP, Azure,
 *	                            OCI...) and give the machine's cloud
 *	                            credentials to any local HTTP client: the
 *	                            classic SSRF target, and never a place an
 *	                            MCP server has to be reached at;
 *	0.0.0.0/8, ::/128           "this host": a connect() to 0.0.0.0 reaches
 *	                            local listeners under a name nobody thinks of;
 *	224.0.0.0/4, ff00::/8,      multicast and broadcast: not TCP destinations.
 *	255.255.255.255
 *
 * An operator who needs one of them lists it in `allowed_ips` explicitly,
 * which replaces the whole default list (the two metadata exceptions
 * included: an explicit list allows exactly what it says).
 *
 * Threads: a list is built once (create, add) and then only read; any number
 * of threads may call allowlist_check() on it at once.
 */
#ifndef POSTERN_ENDPOINT_ALLOWLIST_H
#define POSTERN_ENDPOINT_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

enum {
	ALLOWLIST_MAX = 1024,		/* entries per list */
	ALLOWLIST_TEXT_MAX = 52,	/* "!" "ffff:...:ffff/128" (canonical), with NUL */
	ALLOWLIST_REASON_MAX = 256,	/* a message buffer that always suffices */
};

struct allowlist;

/*
 * An empty list (it allows nothing) for allowlist_add().
 * @return 0 and *@out, or -ENOMEM.
 */
int allowlist_create(struct allowlist **out);

/* The default list described above. @return 0 and *@out, or -ENOMEM. */
int allowlist_create_default(struct allowlist **out);

/* Free @a. NULL is a no-op. */
void allowlist_destroy(struct allowlist *a);

/*
 * Parse @cidr ("ADDR/PREFIX" or "ADDR", numeric, no zone "%if", no spaces)
 * and add it. An entry already in the list is not added twice.
 * @return 0; -EINVAL with @why set to one line saying what is wrong (not an
 * address, prefix out of range, host bits set — with the network meant);
 * -ENOSPC (ALLOWLIST_MAX entries); -ENOMEM.
 */
int allowlist_add(struct allowlist *a, const char *cidr, char *why, size_t whylen);

/*
 * Is the address of @sa (AF_INET or AF_INET6; the port is ignored) in @a?
 * @return true if some entry contains it. When it returns false and @why is
 * not NULL, @why holds the reason, e.g. "203.0.113.9 is not in allowed_ips";
 * an address of another family is refused too ("address family 1 is not IP").
 */
bool allowlist_check(const struct allowlist *a, const struct sockaddr *sa, char *why,
		     size_t whylen);

/* @return whether @a is the default list (allowlist_create_default(), unchanged). */
bool allowlist_is_default(const struct allowlist *a);

/* @return the number of entries, exceptions included. */
unsigned allowlist_count(const struct allowlist *a);

/*
 * Write entry @i in canonical form ("10.0.0.0/8", "fc00::/7") to @text; an
 * exception of the default list is written with a '!' in front
 * ("!100.100.100.200/32"). Exceptions come first: they are checked first.
 * @return 0, or -ERANGE if @i >= allowlist_count().
 */
int allowlist_format(const struct allowlist *a, unsigned i, char text[ALLOWLIST_TEXT_MAX]);

#endif /* POSTERN_ENDPOINT_ALLOWLIST_H */
