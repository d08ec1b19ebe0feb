/*
 * config.c — postern-relay's configuration as a whole (config.h): defaults,
 * teardown, and the order of loading: the file, then the flags over it, then
 * the checks that involve several settings.
 */
#include "relay/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dataplane/addr.h"
#include "dataplane/eal.h"
#include "relay/config_args.h"
#include "relay/config_file.h"
#include "relay/config_settings.h"
#include "wire/hop.h"

/* ---- defaults and teardown ---------------------------------------------- */

void relay_config_init(struct relay_config *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *why;

	memset(c, 0, sizeof(*c));
	dp_addr_parse("0.0.0.0:51820", &c->listen[c->n_listen++], &why);
	dp_addr_parse("[::]:51820", &c->listen[c->n_listen++], &why);
	snprintf(c->listen_at[0], sizeof(c->listen_at[0]), "default");
	snprintf(c->listen_at[1], sizeof(c->listen_at[1]), "default");
	c->workers = cpus < 1 ? 1 : cpus > RELAY_MAX_WORKERS ? RELAY_MAX_WORKERS : (unsigned)cpus;
	c->io = DP_SOCK_IO_URING;
	c->backend = RELAY_BACKEND_SOCKET;
	c->idle = DP_ETHDEV_IDLE_SLEEP;
	snprintf(c->backend_at, sizeof(c->backend_at), "default");
	c->suites = HOP_SUITES_ALL;
	c->token_skew = TOKEN_DEFAULT_SKEW;
	relay_params_default(&c->params);
	c->max_sessions = c->params.max_sessions;
	c->max_channels = c->params.max_channels;
	c->max_channel_ends = c->params.max_channel_ends;
	c->handshake_budget = c->params.handshake_budget;
	c->handshake_rate = c->params.handshake_rate;
	c->eal_memory_mb = DP_EAL_MEMORY_MB_DEFAULT;
	c->drain_ms = RELAY_CONFIG_DEFAULT_DRAIN_MS;
	c->log_level = LOG_LEVEL_INFO;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", CONTROL_DEFAULT_SOCKET);
	c->control_gid = -1;
	dp_addr_parse(CONTROL_DEFAULT_HTTP, &c->metrics_addr, &why);
	dp_addr_format(&c->metrics_addr, c->metrics_listen);
	snprintf(c->metrics_listen_at, sizeof(c->metrics_listen_at), "default");
}

void relay_config_free(struct relay_config *c)
{
	free(c->private_key);
	free(c->revoked_file);
	free(c->psk_file);
	free(c->stats_file);
	free(c->revoked);
	/* The lists' own memory (trusted keys, EAL arguments). */
	for (unsigned i = 0; i < relay_settings_n; i++)
		if (relay_settings[i].clear)
			relay_settings[i].clear(c);
	token_trust_destroy(c->trust);
	OPENSSL_cleanse(&c->params, sizeof(c->params));
	memset(c, 0, sizeof(*c));
}

/* ---- loading ------------------------------------------------------------- */

static bool is_loopback(const struct pkt_addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (a->family == PKT_AF_INET)
		return a->addr[0] == 127;
	return !memcmp(a->addr, v6_loopback, sizeof(v6_loopback));
}

/* Backend "dpdk": a port, and every listen address on one (dataplane/portconf.h). */
static int check_dpdk(const struct relay_config *c, char *err, size_t errlen)
{
	char text[DP_ADDR_TEXT_MAX];
	unsigned bad = 0;
	int ret;

	if (!c->n_ports) {
		snprintf(err, errlen, "%s: backend 'dpdk': no port; set dpdk.ports, or give "
			 "--dpdk-port", c->backend_at);
		return -EINVAL;
	}
	ret = dp_portconf_check_listen(c->ports, c->n_ports, c->listen, c->n_listen, &bad);
	switch (ret) {
	case 0:
		return 0;
	case -EADDRNOTAVAIL:
		dp_addr_format(&c->listen[bad], text);
		snprintf(err, errlen, "%s: listen '%s': not an address of any dpdk port "
			 "(a port's addresses, or 0.0.0.0:PORT / [::]:PORT for all of them)",
			 c->listen_at[bad], text);
		break;
	case -E2BIG:
		snprintf(err, errlen, "%s: dpdk.ports[%u]: more than %d listeners (each listen "
			 "address times the port's addresses it covers)", c->ports_at[bad], bad,
			 DP_IFACE_LISTENERS_MAX);
		break;
	default:
		snprintf(err, errlen, "%s: listen: no listen address falls on a dpdk port (a "
			 "wildcard needs a port address of its family)",
			 c->n_listen ? c->listen_at[0] : c->backend_at);
		break;
	}
	return -EINVAL;
}

int relay_config_load(struct relay_config *c, const struct relay_config_args *a,
		      char *err, size_t errlen)
{
	int ret;

	c->file = a->file;
	if (a->file) {
		ret = relay_config_file_load(c, a->file, err, errlen);
		if (ret)
			return ret;
	}
	ret = relay_config_args_apply(c, a, err, errlen);
	if (ret)
		return ret;
	/* docs/control.md: /metrics reveals traffic volumes and sessions. */
	if (c->metrics_listen[0] && !c->metrics_allow_public && !is_loopback(&c->metrics_addr)) {
		snprintf(err, errlen, "%s: metrics_listen '%s': not a loopback address; set "
			 "metrics_allow_public = true to serve /metrics there",
			 c->metrics_listen_at, c->metrics_listen);
		return -EINVAL;
	}
	return c->backend == RELAY_BACKEND_DPDK ? check_dpdk(c, err, errlen) : 0;
}
