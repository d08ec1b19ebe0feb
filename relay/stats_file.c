/*
 * stats_file.c — counters to JSON, replaced atomically (stats_file.h).
 */
#include "relay/stats_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_cycles.h>

#include "dataplane/sock.h"
#include "relay/relay.h"
#include "relay/stats.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

static void put_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

static json_t *by_reason(const uint64_t *counts)
{
	json_t *o = json_object();

	for (unsigned i = 0; i < RELAY_DROP_MAX; i++)
		put_u64(o, relay_drop_name((enum relay_drop)i), counts[i]);
	return o;
}

static json_t *counters(const struct relay_stats *s)
{
	json_t *o = json_object();

	put_u64(o, "rx_packets", s->rx_packets);
	put_u64(o, "rx_bytes", s->rx_bytes);
	put_u64(o, "tx_packets", s->tx_packets);
	put_u64(o, "tx_bytes", s->tx_bytes);
	put_u64(o, "forwarded", s->forwarded);
	put_u64(o, "handled", s->handled);
	put_u64(o, "dropped", relay_stats_dropped(s));
	json_object_set_new(o, "drops", by_reason(s->dropped));
	put_u64(o, "originated", s->originated);
	put_u64(o, "lost", relay_stats_lost(s));
	json_object_set_new(o, "lost_by_reason", by_reason(s->lost));
	put_u64(o, "handoff_out", s->handoff_out);
	put_u64(o, "handoff_in", s->handoff_in);
	put_u64(o, "handshakes", s->handshakes);
	put_u64(o, "cookies_sent", s->cookies_sent);
	put_u64(o, "sessions", s->sessions);
	put_u64(o, "channels", s->channels);
	put_u64(o, "busy_cycles", s->busy_cycles);
	put_u64(o, "idle_cycles", s->idle_cycles);
	put_u64(o, "busy_packets", s->busy_packets);
	json_object_set_new(o, "cycles_per_packet",
			    json_real(s->busy_packets ?
				      (double)s->busy_cycles / (double)s->busy_packets : 0.0));
	return o;
}

static json_t *io_counters(const struct dp_sock_io_stats *io)
{
	json_t *o = json_object();

	put_u64(o, "rx_calls", io->rx_calls);
	put_u64(o, "rx_errors", io->rx_errors);
	put_u64(o, "rx_nombuf", io->rx_nombuf);
	put_u64(o, "tx_errors", io->tx_errors);
	put_u64(o, "tx_again", io->tx_again);
	put_u64(o, "sleeps", io->sleeps);
	put_u64(o, "wakeups", io->wakeups);
	return o;
}

static json_t *build(struct relay *r, const struct dp_sock *dp, uint64_t uptime_ns)
{
	json_t *root = json_object(), *workers = json_array();
	struct relay_stats total;

	json_object_set_new(root, "version", json_string(POSTERN_VERSION));
	put_u64(root, "time", (uint64_t)time(NULL));
	json_object_set_new(root, "uptime_s", json_real((double)uptime_ns / 1e9));
	put_u64(root, "tsc_hz", rte_get_tsc_hz());
	if (dp)
		json_object_set_new(root, "io", json_string(dp_sock_io_detail(dp)));
	relay_stats_total(r, &total);
	json_object_set_new(root, "total", counters(&total));
	for (unsigned i = 0; i < relay_worker_count(r); i++) {
		json_t *w = counters(relay_worker_stats(relay_get_worker(r, i)));
		struct dp_sock_io_stats io;

		put_u64(w, "worker", i);
		if (dp) {
			dp_sock_io_stats(dp, i, &io);
			json_object_set_new(w, "io", io_counters(&io));
		}
		json_array_append_new(workers, w);
	}
	json_object_set_new(root, "workers", workers);
	return root;
}

int stats_file_write(const char *path, struct relay *r, const struct dp_sock *dp,
		     uint64_t uptime_ns, char *err, size_t errlen)
{
	char tmp[4096];
	json_t *root;
	int fd, ret = 0;
	FILE *fp;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		snprintf(err, errlen, "stats file name too long");
		return -ENAMETOOLONG;
	}
	root = build(r, dp, uptime_ns);
	if (!root) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(-ret));
		goto out;
	}
	fp = fdopen(fd, "w");
	if (!fp) {
		ret = -errno;
		close(fd);
		goto err_tmp;
	}
	if (json_dumpf(root, fp, JSON_INDENT(1)) || fputc('\n', fp) == EOF)
		ret = -EIO;
	if (fclose(fp) && !ret)
		ret = -errno;
	if (ret)
		goto err_tmp;
	if (rename(tmp, path)) {
		ret = -errno;
		goto err_tmp;
	}
	goto out;

err_tmp:
	snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-ret));
	unlink(tmp);
out:
	json_decref(root);
	return ret;
}
