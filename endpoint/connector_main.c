/*
 * connector_main.c — postern-connect: options, configuration, identity, then
 * the loop of connector.h (docs/connector.md). Exit status: 0 clean, 1 an
 * invalid configuration or a failure (also at run time, see connector_run()),
 * 2 a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "endpoint/conn_config.h"
#include "endpoint/connector.h"
#include "endpoint/quic_tls.h"
#include "relay/log.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

extern char **environ;

static int run(struct conn_config *cfg)
{
	char err[CONN_CONFIG_ERR_MAX];
	struct quic_identity *id;
	struct connector *cn;
	int ret;

	ret = quic_identity_load(&id, cfg->certificate, cfg->certificate_key);
	if (ret < 0) {
		fprintf(stderr, "postern-connect: %s: certificate %s, certificate_key %s: %s\n",
			cfg->certificate_at, cfg->certificate, cfg->certificate_key,
			strerror(-ret));
		return 1;
	}
	ret = connector_create(&cn, cfg, id, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "postern-connect: %s\n", err);
		quic_identity_destroy(id);
		return 1;
	}
	ret = connector_run(cn);
	connector_destroy(cn);
	quic_identity_destroy(id);
	return ret;
}

int main(int argc, char **argv)
{
	char err[CONN_CONFIG_ERR_MAX];
	struct conn_config_args args;
	struct conn_config cfg;
	int status = 1;

	conn_config_init(&cfg);
	if (conn_config_parse_args(&args, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern-connect: %s\n(postern-connect --help lists the options)\n",
			err);
		return 2;
	}
	switch (args.action) {
	case CONN_CONFIG_HELP:
		fputs(conn_config_usage(), stdout);
		return 0;
	case CONN_CONFIG_VERSION:
		printf("postern-connect %s\n", POSTERN_VERSION);
		return 0;
	default:
		break;
	}
	if (conn_config_load(&cfg, &args, environ, err, sizeof(err)) < 0 ||
	    conn_config_load_files(&cfg, (uint64_t)time(NULL), err, sizeof(err)) < 0) {
		fprintf(stderr, "postern-connect: %s\n", err);
		goto out;
	}
	if (args.action == CONN_CONFIG_CHECK) {
		status = conn_config_print(&cfg, stdout) < 0 ? 1 : 0;
		goto out;
	}
	log_set_level(cfg.log_level);
	status = run(&cfg);
out:
	conn_config_free(&cfg);
	return status;
}
