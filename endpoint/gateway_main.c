/*
 * gateway_main.c — postern-gateway: options, configuration, identity, then
 * the loop of gateway.h (docs/gateway.md). Exit status: 0 after a clean
 * shutdown or --help/--version/--check-config, 1 an invalid configuration or
 * a failure, 2 a usage error.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "endpoint/gateway.h"
#include "endpoint/gw_config.h"
#include "endpoint/quic_tls.h"
#include "relay/log.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

static int run(const struct gw_config *cfg)
{
	char err[GATEWAY_ERR_MAX];
	struct quic_identity *id;
	struct gateway *g;
	int ret;

	ret = quic_identity_load(&id, cfg->certificate, cfg->certificate_key);
	if (ret < 0) {
		fprintf(stderr, "postern-gateway: %s: certificate %s, certificate_key %s: %s\n",
			cfg->certificate_at, cfg->certificate, cfg->certificate_key,
			strerror(-ret));
		return 1;
	}
	ret = gateway_create(&g, cfg, id, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "postern-gateway: %s\n", err);
		quic_identity_destroy(id);
		return 1;
	}
	ret = gateway_run(g);
	gateway_destroy(g);
	quic_identity_destroy(id);
	return ret;
}

int main(int argc, char **argv)
{
	char err[GW_CONFIG_ERR_MAX];
	struct gw_config_args args;
	struct gw_config cfg;
	int status = 1;

	if (gw_config_init(&cfg) < 0) {
		fprintf(stderr, "postern-gateway: out of memory\n");
		return 1;
	}
	if (gw_config_parse_args(&args, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern-gateway: %s\n(postern-gateway --help lists the options)\n",
			err);
		status = 2;
		goto out;
	}
	switch (args.action) {
	case GW_CONFIG_HELP:
		fputs(gw_config_usage(), stdout);
		status = 0;
		goto out;
	case GW_CONFIG_VERSION:
		printf("postern-gateway %s\n", POSTERN_VERSION);
		status = 0;
		goto out;
	default:
		break;
	}
	if (gw_config_load(&cfg, args.file, err, sizeof(err)) < 0 ||
	    gw_config_load_files(&cfg, (uint64_t)time(NULL), err, sizeof(err)) < 0) {
		fprintf(stderr, "postern-gateway: %s\n", err);
		goto out;
	}
	if (args.action == GW_CONFIG_CHECK) {
		status = gw_config_print(&cfg, stdout) < 0 ? 1 : 0;
		goto out;
	}
	log_set_level(cfg.log_level);
	status = run(&cfg);
out:
	gw_config_free(&cfg);
	return status;
}
