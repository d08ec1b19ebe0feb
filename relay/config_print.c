/*
 * config_print.c — postern-relay's effective configuration in its file's own
 * syntax, for --check-config and for reloads to compare (relay_config_print(),
 * config.h). What it prints reads back as the same configuration.
 */
#include <errno.h>
#include <stdio.h>

#include "relay/cfgfile.h"
#include "relay/config.h"
#include "relay/config_settings.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

/* A path that may be unset: a comment then, so the output still reads back. */
static void put_opt_path(FILE *out, const char *name, const char *path)
{
	if (!path) {
		fprintf(out, "# %s: not set\n", name);
		return;
	}
	cfgfile_put_setting(out, name, path);
}

static void print_port(const struct dp_portconf *pc, FILE *out)
{
	char text[DP_PORTCONF_TEXT_MAX];
	bool first = true;

	fputs("    { device = ", out);
	cfgfile_put_string(out, pc->device);
	fputs("; addresses = [", out);
	for (unsigned i = 0; i < pc->n_addrs; i++) {
		dp_portconf_format_ifaddr(&pc->addrs[i], text);
		fprintf(out, "%s \"%s\"", i ? "," : "", text);
	}
	fputs(" ]; gateway = [", out);
	for (unsigned f = 0; f < 2; f++) {
		const uint8_t *gw = f ? pc->gateway6 : pc->gateway4;
		unsigned len = f ? 16 : 4;
		bool none = true;

		for (unsigned k = 0; k < len; k++)
			none &= gw[k] == 0;
		if (none)
			continue;
		dp_portconf_format_ip(f ? PKT_AF_INET6 : PKT_AF_INET, gw, text);
		fprintf(out, "%s \"%s\"", first ? "" : ",", text);
		first = false;
	}
	fprintf(out, " ]; mtu = %u; }", pc->mtu ? pc->mtu : DP_IFACE_MTU_DEFAULT);
}

static void print_dpdk(const struct relay_config *c, FILE *out)
{
	fprintf(out, "dpdk = {\n  idle = \"%s\";\n  ports = (", dp_ethdev_idle_name(c->idle));
	for (unsigned i = 0; i < c->n_ports; i++) {
		fputs(i ? ",\n" : "\n", out);
		print_port(&c->ports[i], out);
	}
	fputs(c->n_ports ? "\n  );\n};\n" : " );\n};\n", out);
}

int relay_config_print(const struct relay_config *c, FILE *out)
{
	char text[DP_ADDR_TEXT_MAX], key[KEYS_TEXT_LEN + 1];
	bool first = true;

	fprintf(out, "# postern-relay %s: effective configuration (%s%s)\n", POSTERN_VERSION,
		c->file ? c->file : "no file", c->file ? " and flags" : ", flags only");
	fputs("listen = [", out);
	for (unsigned i = 0; i < c->n_listen; i++) {
		dp_addr_format(&c->listen[i], text);
		fprintf(out, "%s \"%s\"", i ? "," : "", text);
	}
	fputs(" ];\n", out);
	fprintf(out, "workers = %u;\n", c->workers);
	fprintf(out, "backend = \"%s\";\n",
		c->backend == RELAY_BACKEND_DPDK ? "dpdk" : "socket");
	fprintf(out, "io = \"%s\";\n", dp_sock_io_name(c->io));
	put_opt_path(out, "private_key", c->private_key);
	if (c->trust) {
		keys_to_text(c->public_key, key);
		fprintf(out, "# the relay's public key (endpoints pin it): %s\n", key);
	}
	fputs("trusted_keys = [", out);
	for (unsigned i = 0; i < c->n_trusted; i++) {
		keys_to_text(c->trusted[i], key);
		fprintf(out, "%s \"%s\"", i ? "," : "", key);
	}
	fputs(" ];\n", out);
	fputs("revoked = [", out);
	for (unsigned i = 0; i < c->n_revoked; i++) {
		fprintf(out, "%s \"", i ? "," : "");
		for (unsigned b = 0; b < TOKEN_ID_LEN; b++)
			fprintf(out, "%02x", c->revoked[i][b]);
		fputc('"', out);
	}
	fputs(" ];\n", out);
	put_opt_path(out, "revoked_file", c->revoked_file);
	if (c->revoked_file && c->trust)
		fprintf(out, "# %u ids read from revoked_file\n", c->n_revoked_file);
	put_opt_path(out, "psk_file", c->psk_file);
	fputs("suites = [", out);
	for (unsigned i = 0; i < RELAY_SETTING_SUITES; i++) {
		if (c->suites & relay_setting_suites[i].mask) {
			fprintf(out, "%s \"%s\"", first ? "" : ",", relay_setting_suites[i].name);
			first = false;
		}
	}
	fputs(" ];\n", out);
	fprintf(out, "token_skew = %llu;\n", (unsigned long long)c->token_skew);
	fprintf(out, "limits = {\n  max_sessions = %u;\n  max_channels = %u;\n"
		"  max_channel_ends = %u;\n  handshake_budget = %u;\n  handshake_rate = %u;\n};\n",
		c->max_sessions, c->max_channels, c->max_channel_ends, c->handshake_budget,
		c->handshake_rate);
	fprintf(out, "eal = {\n  memory_mb = %u;\n  args = [", c->eal_memory_mb);
	for (unsigned i = 0; i < c->n_eal_args; i++) {
		fputs(i ? ", " : " ", out);
		cfgfile_put_string(out, c->eal_args[i]);
	}
	fprintf(out, " ];\n  hugepages = %s;\n};\n", c->eal_hugepages ? "true" : "false");
	print_dpdk(c, out);
	fprintf(out, "drain_ms = %u;\n", c->drain_ms);
	put_opt_path(out, "stats_file", c->stats_file);
	fprintf(out, "log_level = \"%s\";\n", log_level_name(c->log_level));
	cfgfile_put_setting(out, "control_socket", c->control_socket);
	put_opt_path(out, "control_group", c->control_group[0] ? c->control_group : NULL);
	fprintf(out, "metrics_listen = \"%s\";\n",
		c->metrics_listen[0] ? c->metrics_listen : "off");
	fprintf(out, "metrics_allow_public = %s;\n", c->metrics_allow_public ? "true" : "false");
	return fflush(out) || ferror(out) ? -EIO : 0;
}
