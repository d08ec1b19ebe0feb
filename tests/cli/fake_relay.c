/*
 * fake_relay.c — the relay's real control plane (relay/control.h) in front of
 * a fake relay (tests/unit/control_fake.h), for testing posternctl and the
 * HTTP endpoints from outside the process.
 *
 * Usage: fake_relay SOCKET_PATH [HTTP_ADDR]
 *   Serves SOCKET_PATH and HTTP_ADDR (default 127.0.0.1:0), prints
 *   "ready http_port=N" on stdout once both listen, logs on stderr (level
 *   from $FAKE_RELAY_LOG_LEVEL, default info), and runs until SIGINT or
 *   SIGTERM (SIGHUP reloads the fake). Exit 0 after a clean stop, 1 if the
 *   control plane could not start, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/control.h"
#include "relay/log.h"
#include "tests/unit/control_fake.h"

static struct control_fake fake;
static int (*fake_log_level)(void *ctx, enum log_level level);

/* The fake records the level; this process's log follows it, as a relay's does. */
static int set_log_level(void *ctx, enum log_level level)
{
	int ret = fake_log_level(ctx, level);

	if (!ret)
		log_set_level(level);
	return ret;
}

int main(int argc, char **argv)
{
	const char *level_name = getenv("FAKE_RELAY_LOG_LEVEL");
	struct control_params p;
	struct control_ops ops;
	struct control *c;
	enum log_level level;
	char err[256];
	int sfd, ret;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SOCKET_PATH [HTTP_ADDR]\n", argv[0]);
		return 2;
	}
	if (level_name && !log_level_parse(level_name, &level))
		log_set_level(level);
	control_fake_init(&fake);
	fake.reload_msg = "fake: nothing to reload";
	control_fake_ops(&fake, &ops);
	fake_log_level = ops.log_level;
	ops.log_level = set_log_level;
	ret = control_signalfd(&sfd);
	if (ret) {
		fprintf(stderr, "fake_relay: signalfd: %s\n", strerror(-ret));
		return 1;
	}
	control_params_default(&p);
	p.socket_path = argv[1];
	p.http_addr = argc > 2 ? argv[2] : "127.0.0.1:0";
	p.signal_fd = sfd;
	if (control_create(&c, &p, &ops, err, sizeof(err))) {
		fprintf(stderr, "fake_relay: %s\n", err);
		close(sfd);
		return 1;
	}
	printf("ready http_port=%u\n", (unsigned)control_http_port(c));
	fflush(stdout);
	ret = control_run(c);
	control_destroy(c);
	close(sfd);
	return ret ? 1 : 0;
}
