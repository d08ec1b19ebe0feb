/*
 * portconf.h — one DPDK port as the configuration describes it: the device
 * that EAL creates or probes, the port's addresses with their on-link
 * prefixes, the gateways, the MTU; and the relay's listen addresses spread
 * over the ports.
 *
 * The configuration (relay/config.c) fills a struct dp_portconf value by
 * value, each checked as it is set, so that errors carry the file and line;
 * the ethdev backend (ethdev.h) turns it into a struct dp_iface once the port
 * exists and its MAC is known.
 *
 * Text forms:
 *   device    "net_af_packet0,iface=eth1,qpairs=2"  a virtual device: EAL --vdev
 *             "0000:3b:00.0"  or "0000:3b:00.0,k=v"  a PCI device: EAL -a
 *             The part before the first comma is the port's ethdev name.
 *   address   "10.0.0.1/24", "2001:db8::1/64"        the prefix is required
 *   gateway   "10.0.0.254", "fe80::1"                at most one per family
 *   flag      "DEVICE;address=A/L[;address=...][;gateway=G][;mtu=N]"
 *             (--dpdk-port; ';' never occurs in a device's arguments)
 *
 * Listeners: each listen address of the relay (relay/config.h) is either a
 * wildcard, 0.0.0.0:P or [::]:P, meaning "every address of that family on
 * every port, UDP port P", or a specific address, which must belong to one
 * port and listens there only.
 *
 * Threads: no state; any thread.
 */
#ifndef POSTERN_DATAPLANE_PORTCONF_H
#define POSTERN_DATAPLANE_PORTCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/iface.h"
#include "relay/pkt.h"

enum {
	DP_PORTCONF_MAX_PORTS = 4,
	DP_PORTCONF_DEVICE_MAX = 256,	/* device text, with its NUL */
	DP_PORTCONF_NAME_MAX = 64,	/* ethdev name (RTE_ETH_NAME_MAX_LEN) */
	/* "ffff:...:ffff/128" and a NUL, rounded up */
	DP_PORTCONF_TEXT_MAX = 56,
};

struct dp_portconf {
	char device[DP_PORTCONF_DEVICE_MAX];	/* "" until set */
	struct dp_ifaddr addrs[DP_IFACE_ADDRS_MAX];
	unsigned n_addrs;
	uint8_t gateway4[4];			/* all zero: none */
	uint8_t gateway6[16];
	uint16_t mtu;				/* 0: DP_IFACE_MTU_DEFAULT */
};

/*
 * Set the device: a vdev name ("net_" then letters, digits, '_') or a PCI
 * address (DDDD:BB:DD.F, hex), then optionally ",ARGS"; no blanks.
 * @return 0, or -EINVAL with a short phrase in @why (a static string).
 */
int dp_portconf_set_device(struct dp_portconf *pc, const char *text, const char **why);

/* Add "ADDR/LEN": unicast, not yet listed, at most DP_IFACE_ADDRS_MAX. 0 or -EINVAL, @why. */
int dp_portconf_add_address(struct dp_portconf *pc, const char *text, const char **why);

/* Set the gateway of the address's family (once per family). 0 or -EINVAL, @why. */
int dp_portconf_set_gateway(struct dp_portconf *pc, const char *text, const char **why);

/* DP_IFACE_MTU_MIN..DP_IFACE_MTU_MAX. 0 or -EINVAL, @why. */
int dp_portconf_set_mtu(struct dp_portconf *pc, long long mtu, const char **why);

/*
 * Parse the flag form into @pc (zeroed first) and check it (dp_portconf_check).
 * @return 0, or -EINVAL with @why.
 */
int dp_portconf_parse(struct dp_portconf *pc, const char *text, const char **why);

/*
 * The whole port: a device, at least one address, each gateway neither ours
 * nor of a family the port has no address of. 0 or -EINVAL, @why.
 */
int dp_portconf_check(const struct dp_portconf *pc, const char **why);

/*
 * @return true if @device names a PCI address ("DDDD:BB:DD.F", the full form,
 * which is also the ethdev name EAL gives the port) rather than a virtual
 * device. Inline, like dp_portconf_name(), so that dataplane/eal.c needs
 * nothing else of this module.
 */
static inline bool dp_portconf_is_pci(const char *device)
{
	static const char shape[] = "xxxx:xx:xx.x";
	size_t n = strcspn(device, ",");

	if (n != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = device[i];
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F');

		if (shape[i] == 'x' ? !hex : c != shape[i])
			return false;
	}
	return true;
}

/* The ethdev name: @device up to its first comma, cut to @len - 1 bytes. */
static inline void dp_portconf_name(const char *device, char *name, size_t len)
{
	size_t n = strcspn(device, ",");

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(name, device, n);
	name[n] = '\0';
}

/* "ADDR/LEN" and "ADDR" (4 or 16 bytes by @family), into DP_PORTCONF_TEXT_MAX bytes. */
void dp_portconf_format_ifaddr(const struct dp_ifaddr *a, char out[DP_PORTCONF_TEXT_MAX]);
void dp_portconf_format_ip(uint8_t family, const uint8_t *addr, char out[DP_PORTCONF_TEXT_MAX]);

/* @return true for 0.0.0.0:P and [::]:P. */
bool dp_portconf_listen_is_wildcard(const struct pkt_addr *l);

/*
 * The listeners of @pc from the relay's @listen addresses, in that order
 * (wildcards expanded over @pc's addresses in their order), without
 * duplicates, into @out (DP_IFACE_LISTENERS_MAX entries).
 * @return the count (0: none on this port), or -E2BIG beyond
 * DP_IFACE_LISTENERS_MAX.
 */
int dp_portconf_listeners(const struct dp_portconf *pc, const struct pkt_addr *listen,
			  unsigned n_listen, struct pkt_addr *out);

/*
 * Check @listen against @ports: every specific address belongs to some port,
 * no port gets more than DP_IFACE_LISTENERS_MAX, at least one listener in all.
 * @return 0; -EADDRNOTAVAIL (*@bad = the listen index on no port), -E2BIG
 * (*@bad = the port index), -ENOENT (no listener on any port).
 */
int dp_portconf_check_listen(const struct dp_portconf *ports, unsigned n_ports,
			     const struct pkt_addr *listen, unsigned n_listen, unsigned *bad);

#endif /* POSTERN_DATAPLANE_PORTCONF_H */
