/*
 * postern-relay — the relay: options and config, EAL, the packet pool, the
 * core, the backend (sockets or DPDK ports); then wait for a signal, drain,
 * and tear down.
 *
 * main() only wires modules together, as a list of phases:
 *   1. options and configuration (relay/config.h); secrets loaded
 *   2. signals blocked, so EAL's threads never take SIGINT/SIGTERM
 *   3. EAL and the mbuf pool (dataplane/eal.h)
 *   4. the relay core (relay/relay.h) and the backend the config names:
 *      kernel sockets (dataplane/sock.h) or DPDK ports (dataplane/ethdev.h)
 *   5. the control plane (relay/control.h) runs on this thread until the end:
 *      posternctl on the control socket, /metrics /ready /live over loopback
 *      HTTP, and a tick that writes the stats file every second. The first
 *      SIGINT/SIGTERM (or `posternctl drain`) starts a drain (relay_drain),
 *      which ends when relay_is_drained() or after its drain time; a second
 *      signal ends it at once. SIGHUP (or `posternctl reload`) re-reads the
 *      configuration and applies what can change live (relay/reload.h)
 *   6. stop the workers, write the stats a last time, free everything, check
 *      that every mbuf came back, EAL cleanup
 *
 * Log lines are "LEVEL: event=NAME key=value ..." on stderr (relay/log.h).
 * Exit status: 0 after a clean shutdown or --help/--version/--check-config;
 * 1 for a bad configuration or a start-up failure; 2 for a usage error.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <rte_log.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "dataplane/addr.h"
#include "dataplane/eal.h"
#include "dataplane/ethdev.h"
#include "dataplane/sock.h"
#include "relay/config.h"
#include "relay/control.h"
#include "relay/inspect.h"
#include "relay/log.h"
#include "relay/metrics.h"
#include "relay/relay.h"
#include "relay/reload.h"
#include "relay/stats.h"
#include "relay/stats_file.h"

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

enum {
	EXIT_USAGE = 2,
	STATS_PERIOD_MS = 1000,
	TICK_MS = 20,			/* how soon the end of a drain is noticed */
	ERR_MAX = RELAY_CONFIG_ERR_MAX,
	/* What the core may hold per worker besides the backend: inbox ring, TX queue, staging. */
	CORE_MBUFS_PER_WORKER = 4096 + 2 * 64 + 64,
};

struct relay_run {
	struct relay_config cfg;
	struct rte_mempool *pool;
	struct relay *relay;
	const struct relay_config_args *args;	/* the command line, read again by reloads */
	struct reload *reload;
	struct dp_sock *backend;	/* backend "socket" */
	struct dp_ethdev *ethdev;	/* backend "dpdk" */
	uint64_t start_ns;
	uint64_t next_stats_ns;
	bool draining;
	uint64_t drain_start_ns, drain_end_ns;
	uint32_t drain_ms;		/* of the drain under way */
	char stats_err[ERR_MAX];	/* last stats-file error, logged once */
	struct dp_sock_io_stats io_seen[RELAY_MAX_WORKERS];
	struct dp_ethdev_worker_stats eth_seen[RELAY_MAX_WORKERS];
	struct dp_port_stats port_seen[DP_ETHDEV_MAX_PORTS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Token validity needs wall-clock time; the core reads no clock (relay_set_clock). */
static void tell_clock(struct relay *r)
{
	uint64_t mono = now_ns(), wall = unix_ns();

	relay_set_clock(r, mono, wall);
}

static int fail_usage(const char *msg)
{
	fprintf(stderr, "postern-relay: %s\nTry 'postern-relay --help'.\n", msg);
	return EXIT_USAGE;
}

static int fail_config(const char *msg)
{
	fprintf(stderr, "postern-relay: %s\n", msg);
	return EXIT_FAILURE;
}

/* DPDK's own lines, re-levelled: EAL's INFO chatter only at debug. */
static void eal_log(unsigned rte_level, const char *line)
{
	enum log_level level = rte_level <= RTE_LOG_ERR ? LOG_LEVEL_ERROR :
			       rte_level == RTE_LOG_WARNING ? LOG_LEVEL_WARN :
			       rte_level == RTE_LOG_NOTICE ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
	char clean[512];
	size_t n = 0;

	/* Quotes would break the key=value form. */
	for (const char *p = line; *p && n < sizeof(clean) - 1; p++)
		clean[n++] = *p == '"' ? '\'' : *p;
	clean[n] = '\0';
	log_msg(level, "event=dpdk msg=\"%s\"", clean);
}

static unsigned eal_level(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR: return RTE_LOG_ERR;
	case LOG_LEVEL_WARN: return RTE_LOG_WARNING;
	case LOG_LEVEL_INFO: return RTE_LOG_NOTICE;
	default: return RTE_LOG_INFO;
	}
}

static void listen_text(const struct relay_config *c, char *out, size_t len)
{
	char a[DP_ADDR_TEXT_MAX];
	size_t n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < c->n_listen && n < len; i++) {
		dp_addr_format(&c->listen[i], a);
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? "," : "", a);
	}
}

/* ---- phases ------------------------------------------------------------- */

static int start_eal(struct relay_run *run)
{
	const bool dpdk = run->cfg.backend == RELAY_BACKEND_DPDK;
	const char *devices[DP_PORTCONF_MAX_PORTS];
	struct dp_eal_params ep = {
		.n_workers = run->cfg.workers,
		.memory_mb = run->cfg.eal_memory_mb,
		.extra_args = (const char *const *)run->cfg.eal_args,
		.n_extra = run->cfg.n_eal_args,
		.log_level = eal_level(run->cfg.log_level),
		.log = eal_log,
		.devices = devices,
		.n_devices = dpdk ? run->cfg.n_ports : 0,
		.hugepages = run->cfg.eal_hugepages,
	};
	uint64_t t0 = now_ns();
	char err[ERR_MAX];
	unsigned n, data;
	int ret;

	for (unsigned i = 0; i < ep.n_devices; i++)
		devices[i] = run->cfg.ports[i].device;
	ret = dp_eal_init(&ep, err, sizeof(err));
	if (ret) {
		log_error("event=fatal stage=eal msg=\"%s\"", err);
		return ret;
	}
	/* DPDK ports receive whole frames into the mbufs: MTU-sized data rooms. */
	n = dp_eal_pool_size(run->cfg.workers, CORE_MBUFS_PER_WORKER +
			     (dpdk ? dp_ethdev_mbufs_per_worker(run->cfg.n_ports) :
				     dp_sock_mbufs_per_worker(run->cfg.io)));
	data = dpdk ? dp_ethdev_mbuf_data(run->cfg.ports, run->cfg.n_ports) : DP_EAL_MBUF_DATA;
	ret = dp_eal_pool_create_sized(&run->pool, n, data, err, sizeof(err));
	if (ret) {
		log_error("event=fatal stage=pool msg=\"%s\"", err);
		return ret;
	}
	log_info("event=eal_ready file_prefix=%s memory_mb=%u lcores=%u mbufs=%u ms=%llu",
		 dp_eal_file_prefix(), run->cfg.eal_memory_mb, run->cfg.workers + 1, n,
		 (unsigned long long)((now_ns() - t0) / 1000000));
	return 0;
}

/* What each port turned out to be: the device decides RSS, offloads and its link. */
static void log_ports(const struct relay_run *run)
{
	struct dp_ethdev_port_info pi;

	for (unsigned p = 0; p < dp_ethdev_port_count(run->ethdev); p++) {
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		if (dp_ethdev_port_info(run->ethdev, p, &pi))
			continue;
		rte_ether_format_addr(mac, sizeof(mac), &pi.mac);
		log_info("event=port port=%s driver=%s mac=%s queues=%u rx_desc=%u tx_desc=%u "
			 "rss=0x%llx rx_offloads=0x%llx tx_offloads=0x%llx mtu=%u listeners=%u "
			 "link=%s speed_mbps=%u", pi.name, pi.driver, mac, pi.queues, pi.rx_desc,
			 pi.tx_desc, (unsigned long long)pi.rss_hf,
			 (unsigned long long)pi.rx_offloads, (unsigned long long)pi.tx_offloads,
			 pi.mtu, pi.n_listeners, pi.link_up ? "up" : "down", pi.link_speed);
		if (!pi.link_up)
			log_warn("event=link_down port=%s msg=\"the link is down; the relay "
				 "receives nothing on this port until it comes up\"", pi.name);
		if (pi.queues > 1 && !pi.rss_hf)
			log_info("event=no_rss port=%s driver=%s msg=\"the device has no RSS to "
				 "program; it spreads flows over the queues by itself or not at "
				 "all\"", pi.name, pi.driver);
	}
}

static int start_ethdev(struct relay_run *run)
{
	struct dp_ethdev_params ep = {
		.ports = run->cfg.ports,
		.n_ports = run->cfg.n_ports,
		.listen = run->cfg.listen,
		.n_listen = run->cfg.n_listen,
		.idle = run->cfg.idle,
		.pool = run->pool,
		.relay = run->relay,
	};
	char err[ERR_MAX];
	int ret;

	ret = dp_ethdev_create(&run->ethdev, &ep, err, sizeof(err));
	if (ret) {
		log_error("event=fatal stage=ports msg=\"%s\"", err);
		return ret;
	}
	log_ports(run);
	ret = dp_ethdev_start(run->ethdev, err, sizeof(err));
	if (ret) {
		log_error("event=fatal stage=workers msg=\"%s\"", err);
		return ret;
	}
	return 0;
}

static int start_relay(struct relay_run *run)
{
	struct dp_sock_params sp = {
		.listen = run->cfg.listen,
		.n_listen = run->cfg.n_listen,
		.io = run->cfg.io,
		.pool = run->pool,
	};
	char err[ERR_MAX];
	int ret;

	run->cfg.params.pool = run->pool;
	ret = relay_create(&run->relay, &run->cfg.params);
	/* The core keeps its own copy; ours goes now, not at exit. */
	OPENSSL_cleanse(run->cfg.params.static_priv, sizeof(run->cfg.params.static_priv));
	OPENSSL_cleanse(run->cfg.params.psk, sizeof(run->cfg.params.psk));
	if (ret) {
		log_error("event=fatal stage=relay msg=\"cannot create the relay core: %s\"",
			  strerror(-ret));
		return ret;
	}
	tell_clock(run->relay);
	if (run->cfg.backend == RELAY_BACKEND_DPDK)
		return start_ethdev(run);
	sp.relay = run->relay;
	ret = dp_sock_create(&run->backend, &sp, err, sizeof(err));
	if (ret) {
		log_error("event=fatal stage=listen msg=\"%s\"", err);
		return ret;
	}
	ret = dp_sock_start(run->backend, err, sizeof(err));
	if (ret) {
		log_error("event=fatal stage=workers msg=\"%s\"", err);
		return ret;
	}
	return 0;
}

static void write_stats(struct relay_run *run)
{
	char err[ERR_MAX];

	if (!run->cfg.stats_file || !run->relay)
		return;
	if (stats_file_write(run->cfg.stats_file, run->relay, run->backend,
			     now_ns() - run->start_ns, err, sizeof(err))) {
		if (strcmp(err, run->stats_err))
			log_warn("event=stats_file_error msg=\"%s\"", err);
		snprintf(run->stats_err, sizeof(run->stats_err), "%s", err);
	} else {
		run->stats_err[0] = '\0';
	}
}

static const char *errno_name(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "?";
}

/* The DPDK ports' losses, counted by the devices and the workers; once a second at most. */
static void log_port_errors(struct relay_run *run)
{
	for (unsigned w = 0; w < run->cfg.workers; w++) {
		struct dp_ethdev_worker_stats now, *seen = &run->eth_seen[w];

		dp_ethdev_worker_stats(run->ethdev, w, &now);
		if (now.tx_unsent > seen->tx_unsent)
			log_warn("event=tx_unsent worker=%u count=%llu msg=\"TX queue full\"", w,
				 (unsigned long long)(now.tx_unsent - seen->tx_unsent));
		if (now.l2_copy_failed > seen->l2_copy_failed)
			log_warn("event=l2_copy_failed worker=%u count=%llu", w,
				 (unsigned long long)(now.l2_copy_failed - seen->l2_copy_failed));
		*seen = now;
	}
	for (unsigned p = 0; p < dp_ethdev_port_count(run->ethdev) && p < DP_ETHDEV_MAX_PORTS;
	     p++) {
		struct dp_port_stats now, *seen = &run->port_seen[p];
		struct dp_ethdev_port_info pi;

		if (dp_ethdev_port_stats(run->ethdev, p, &now) ||
		    dp_ethdev_port_info(run->ethdev, p, &pi))
			continue;
		if (now.imissed > seen->imissed)
			log_warn("event=rx_missed port=%s count=%llu msg=\"RX queue full\"",
				 pi.name, (unsigned long long)(now.imissed - seen->imissed));
		if (now.rx_nombuf > seen->rx_nombuf)
			log_warn("event=pool_empty port=%s count=%llu", pi.name,
				 (unsigned long long)(now.rx_nombuf - seen->rx_nombuf));
		*seen = now;
	}
}

/* Socket errors are counted on the fast path; say so here, once a second at most. */
static void log_io_errors(struct relay_run *run)
{
	if (run->ethdev)
		log_port_errors(run);
	if (!run->backend)
		return;
	for (unsigned w = 0; w < run->cfg.workers; w++) {
		struct dp_sock_io_stats now, *seen = &run->io_seen[w];

		dp_sock_io_stats(run->backend, w, &now);
		if (now.rx_errors > seen->rx_errors)
			log_warn("event=rx_errors worker=%u count=%llu errno=%s", w,
				 (unsigned long long)(now.rx_errors - seen->rx_errors),
				 errno_name(now.rx_errno));
		if (now.tx_errors > seen->tx_errors)
			log_warn("event=tx_errors worker=%u count=%llu errno=%s", w,
				 (unsigned long long)(now.tx_errors - seen->tx_errors),
				 errno_name(now.tx_errno));
		if (now.rx_nombuf > seen->rx_nombuf)
			log_warn("event=pool_empty worker=%u count=%llu", w,
				 (unsigned long long)(now.rx_nombuf - seen->rx_nombuf));
		*seen = now;
	}
}

/* ---- phase 5: the control plane's hooks and operations ---------------- */

/* Sleeping workers look at the core now (drain, trust changes), whichever the backend. */
static void wake_workers(struct relay_run *run)
{
	if (run->backend)
		dp_sock_wake_all(run->backend);
	if (run->ethdev)
		dp_ethdev_wake_all(run->ethdev);
}

/* GOAWAY to every session, then wait for the channels to go (relay_drain). */
static void start_drain(struct relay_run *run, uint32_t drain_ms)
{
	relay_drain(run->relay, drain_ms);
	wake_workers(run);
	run->draining = true;
	run->drain_ms = drain_ms;
	run->drain_start_ns = now_ns();
	run->drain_end_ns = run->drain_start_ns + drain_ms * 1000000ull;
}

/* Every TICK_MS on the control loop: stats once a second; the end of a drain. */
static void on_tick(void *ctx, struct control *c)
{
	struct relay_run *run = ctx;
	uint64_t now = now_ns();

	if (now >= run->next_stats_ns) {
		tell_clock(run->relay);
		relay_trust_reclaim(run->relay);
		write_stats(run);
		log_io_errors(run);
		run->next_stats_ns = now + STATS_PERIOD_MS * 1000000ull;
	}
	if (!run->draining)
		return;
	if (relay_is_drained(run->relay)) {
		log_info("event=drained ms=%llu",
			 (unsigned long long)((now - run->drain_start_ns) / 1000000));
		control_stop(c);
	} else if (now >= run->drain_end_ns) {
		log_warn("event=drain_timeout drain_ms=%u", run->drain_ms);
		control_stop(c);
	}
}

/*
 * Reload the configuration (relay/reload.h) and log one line saying what was
 * applied and what needs a restart. @msg gets the same for the asker.
 */
static int do_reload(struct relay_run *run, const char *source, char *msg, size_t len)
{
	struct reload_report rep;
	char err[ERR_MAX];
	int ret;

	ret = reload_run(run->reload, run->relay, &rep, err, sizeof(err));
	if (ret) {
		/* Quotes would break the key=value line; config errors quote with '. */
		for (char *p = err; *p; p++)
			if (*p == '"')
				*p = '\'';
		log_error("event=reload source=%s result=failed msg=\"%s\"", source, err);
		snprintf(msg, len, "%s", err);
		return ret;
	}
	/* Sessions a trust change condemns end at each worker's next poll: now. */
	if (rep.trust_changed)
		wake_workers(run);
	log_info("event=reload source=%s result=ok applied=%s restart_needed=%s", source,
		 rep.applied[0] ? rep.applied : "-", rep.restart[0] ? rep.restart : "-");
	reload_summary(&rep, msg, len);
	return 0;
}

/* SIGHUP reloads; the first SIGINT/SIGTERM drains, the second stops at once. */
static void on_signal(void *ctx, struct control *c, int signo)
{
	struct relay_run *run = ctx;
	char msg[256];

	if (signo == SIGHUP) {
		do_reload(run, "SIGHUP", msg, sizeof(msg));
		return;
	}
	if (run->draining) {
		log_warn("event=signal signal=SIG%s action=stop_now", sigabbrev_np(signo));
		control_stop(c);
		return;
	}
	log_info("event=signal signal=SIG%s action=drain drain_ms=%u", sigabbrev_np(signo),
		 run->cfg.drain_ms);
	start_drain(run, run->cfg.drain_ms);
}

/* Copies of counters the workers keep writing: a scrape may be a packet behind. */
static int op_stats(void *ctx, struct relay_stats *per_worker, unsigned cap, unsigned *n)
{
	struct relay_run *run = ctx;
	unsigned w, count = relay_worker_count(run->relay);

	for (w = 0; w < count && w < cap; w++)
		per_worker[w] = *relay_worker_stats(relay_get_worker(run->relay, w));
	*n = w;
	return 0;
}

/* /metrics: the DPDK ports' or the sockets' counters, read by the backend itself. */
static int op_backend_stats(void *ctx, struct metrics_backend *out)
{
	struct relay_run *run = ctx;

	if (run->ethdev)
		dp_ethdev_metrics(run->ethdev, out);
	if (run->backend)
		dp_sock_metrics(run->backend, out);
	return 0;
}

static int op_status(void *ctx, struct control_status *st)
{
	struct relay_run *run = ctx;
	struct relay_stats t;

	relay_stats_total(run->relay, &t);
	*st = (struct control_status){
		.version = POSTERN_VERSION,
		.uptime_s = (now_ns() - run->start_ns) / 1000000000u,
		.workers = relay_worker_count(run->relay),
		.sessions = t.sessions,
		.channels = t.channels,
		.ready = !run->draining,
		.draining = run->draining,
		.drained = run->draining && relay_is_drained(run->relay),
		.log_level = log_level_name(log_get_level()),
	};
	return 0;
}

/* A second drain request changes nothing: the first one's deadline stands. */
static int op_drain(void *ctx, uint32_t timeout_ms)
{
	struct relay_run *run = ctx;

	if (!run->draining)
		start_drain(run, timeout_ms);
	return 0;
}

static bool op_ready(void *ctx)
{
	const struct relay_run *run = ctx;

	return !run->draining;
}

static int op_log_level(void *ctx, enum log_level level)
{
	(void)ctx;
	log_set_level(level);
	return 0;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/*
 * protocol.md §6.3. The workers see the change on their next poll (well under
 * a second) and end the sessions it condemns; wake sleeping ones so they do.
 */
static int op_token_revoke(void *ctx, const uint8_t id[TOKEN_ID_LEN])
{
	struct relay_run *run = ctx;
	char text[2 * TOKEN_ID_LEN + 1];
	int ret;

	ret = relay_trust_revoke(run->relay, id);
	if (ret)
		return ret;
	wake_workers(run);
	hex(id, TOKEN_ID_LEN, text);
	log_info("event=token_revoked id=%s generation=%llu", text,
		 (unsigned long long)relay_trust_generation(run->relay));
	return 0;
}

/* Trust or untrust (@trust false) the control-plane key @pub, and say which. */
static int change_key(struct relay_run *run, const uint8_t pub[TOKEN_KEY_LEN], bool trust)
{
	char key[KEYS_TEXT_LEN + 1], sid_text[2 * TOKEN_SIGNER_ID_LEN + 1];
	uint8_t sid[TOKEN_SIGNER_ID_LEN];
	int ret;

	ret = trust ? relay_trust_add_signer(run->relay, pub) :
		      relay_trust_remove_signer(run->relay, pub);
	if (ret)
		return ret;
	wake_workers(run);
	keys_to_text(pub, key);
	if (token_signer_id(pub, sid))
		memset(sid, 0, sizeof(sid));
	hex(sid, sizeof(sid), sid_text);
	log_info("event=%s key=%s signer_id=%s generation=%llu",
		 trust ? "key_trusted" : "key_untrusted", key, sid_text,
		 (unsigned long long)relay_trust_generation(run->relay));
	return 0;
}

static int op_key_trust(void *ctx, const uint8_t pub[TOKEN_KEY_LEN])
{
	return change_key(ctx, pub, true);
}

static int op_key_untrust(void *ctx, const uint8_t pub[TOKEN_KEY_LEN])
{
	return change_key(ctx, pub, false);
}

/*
 * sessions.list, channels.list, sessions.kick: each worker answers for its own
 * sessions on its next poll (relay/inspect.h); a worker that does not within
 * INSPECT_TIMEOUT_MS makes the request fail rather than show half the relay.
 */
static int inspect_failed(const char *cmd, int ret)
{
	if (ret == -ETIMEDOUT)
		log_warn("event=inspect_timeout cmd=%s timeout_ms=%d msg=\"a worker did not "
			 "answer\"", cmd, INSPECT_TIMEOUT_MS);
	return ret;
}

static int op_sessions_list(void *ctx, struct control_session *out, size_t cap, size_t *n,
			    size_t *total)
{
	struct relay_run *run = ctx;

	return inspect_failed("sessions.list", inspect_sessions(run->relay, out, cap, n, total,
								 INSPECT_TIMEOUT_MS));
}

static int op_channels_list(void *ctx, struct control_channel *out, size_t cap, size_t *n,
			    size_t *total)
{
	struct relay_run *run = ctx;

	return inspect_failed("channels.list", inspect_channels(run->relay, out, cap, n, total,
								 INSPECT_TIMEOUT_MS));
}

/* As any session death: its channels are closed with PEER_GONE toward the other side. */
static int op_session_kick(void *ctx, uint64_t id)
{
	struct relay_run *run = ctx;
	int ret;

	ret = inspect_failed("sessions.kick", inspect_kick(run->relay, id, INSPECT_TIMEOUT_MS));
	if (ret)
		return ret;
	log_info("event=session_kicked id=%016llx kicked_total=%llu", (unsigned long long)id,
		 (unsigned long long)relay_sessions_kicked(run->relay));
	return 0;
}

static int op_reload(void *ctx, char *msg, size_t msglen)
{
	return do_reload(ctx, "control", msg, msglen);
}

/* The socket's directory (/run/postern) may not exist yet on a fresh boot. */
static void make_socket_dir(const char *path)
{
	char dir[RELAY_CONFIG_SOCKET_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0)
		log_info("event=mkdir path=%s mode=0755", dir);
	/* Any other failure shows up as control_create's own error, naming the path. */
}

/* Phase 5: serve the control plane until a drain ends or a second signal. */
static int run_control(struct relay_run *run, const sigset_t *sigs)
{
	const struct control_ops ops = {
		.ctx = run,
		.stats = op_stats,
		.backend_stats = op_backend_stats,
		.status = op_status,
		.sessions_list = op_sessions_list,
		.channels_list = op_channels_list,
		.session_kick = op_session_kick,
		.reload = op_reload,
		.token_revoke = op_token_revoke,
		.key_trust = op_key_trust,
		.key_untrust = op_key_untrust,
		.drain = op_drain,
		.ready = op_ready,
		.log_level = op_log_level,
	};
	struct control_params cp;
	struct control *ctl;
	char err[ERR_MAX];
	int ret;

	/* The ids revoked_file names now: a reload must tell which ones it drops. */
	ret = reload_create(&run->reload, run->args, &run->cfg, err, sizeof(err));
	if (ret) {
		log_error("event=fatal stage=reload msg=\"%s\"", err);
		return ret;
	}
	control_params_default(&cp);
	cp.signal_fd = signalfd(-1, sigs, SFD_CLOEXEC);
	if (cp.signal_fd < 0) {
		ret = -errno;
		log_error("event=fatal stage=control msg=\"signalfd: %s\"", strerror(-ret));
		goto out;
	}
	make_socket_dir(run->cfg.control_socket);
	cp.socket_path = run->cfg.control_socket;
	if (run->cfg.control_gid >= 0) {
		cp.socket_gid = run->cfg.control_gid;
		cp.socket_mode = 0660;
	}
	cp.http_addr = run->cfg.metrics_listen[0] ? run->cfg.metrics_listen : NULL;
	cp.http_allow_public = run->cfg.metrics_allow_public;
	cp.tick_ms = TICK_MS;
	cp.tick = on_tick;
	cp.tick_ctx = run;
	cp.on_signal = on_signal;
	cp.signal_ctx = run;
	run->next_stats_ns = now_ns();
	ret = control_create(&ctl, &cp, &ops, err, sizeof(err));
	if (ret) {
		log_error("event=fatal stage=control msg=\"%s\"", err);
		close(cp.signal_fd);
		goto out;
	}
	ret = control_run(ctl);
	if (ret)
		log_error("event=control_failed msg=\"%s\"", strerror(-ret));
	control_destroy(ctl);
	close(cp.signal_fd);
out:
	reload_destroy(run->reload);
	run->reload = NULL;
	return ret;
}

/* Each DPDK port's layer 2 counters, all workers together (dataplane/l2stats.h). */
static void log_port_totals(const struct relay_run *run)
{
	struct dp_ethdev_port_info pi;
	struct dp_l2stats l2;

	for (unsigned p = 0; p < dp_ethdev_port_count(run->ethdev); p++) {
		if (dp_ethdev_port_info(run->ethdev, p, &pi))
			continue;
		dp_ethdev_l2stats_total(run->ethdev, p, &l2);
		log_info("event=port_stopped port=%s rx_frames=%llu rx_hop=%llu rx_handled=%llu "
			 "rx_dropped=%llu tx_packets=%llu tx_frames=%llu tx_dropped=%llu "
			 "arp_replies_out=%llu nd_adverts_out=%llu echo_replies=%llu", pi.name,
			 (unsigned long long)l2.rx_frames, (unsigned long long)l2.rx_hop,
			 (unsigned long long)l2.rx_handled,
			 (unsigned long long)dp_l2stats_rx_dropped(&l2),
			 (unsigned long long)l2.tx_packets, (unsigned long long)l2.tx_frames,
			 (unsigned long long)dp_l2stats_tx_dropped(&l2),
			 (unsigned long long)l2.arp_replies_out,
			 (unsigned long long)l2.nd_adverts_out,
			 (unsigned long long)(l2.icmp4_echo_replies + l2.icmp6_echo_replies));
	}
}

/* Phase 6: everything in reverse; @return the exit status. */
static int teardown(struct relay_run *run, int status)
{
	struct relay_stats t;
	unsigned missing;

	if (run->backend)
		dp_sock_stop(run->backend);
	if (run->ethdev) {
		dp_ethdev_stop(run->ethdev);
		log_port_totals(run);
	}
	if (run->relay) {
		relay_discard_pending(run->relay);
		write_stats(run);
		relay_stats_total(run->relay, &t);
		log_info("event=stopped rx_packets=%llu forwarded=%llu handled=%llu dropped=%llu "
			 "tx_packets=%llu handshakes=%llu",
			 (unsigned long long)t.rx_packets, (unsigned long long)t.forwarded,
			 (unsigned long long)t.handled,
			 (unsigned long long)relay_stats_dropped(&t),
			 (unsigned long long)t.tx_packets, (unsigned long long)t.handshakes);
	}
	dp_sock_destroy(run->backend);
	/* Drains the devices' queues and closes them: their mbufs go back to the pool. */
	dp_ethdev_destroy(run->ethdev);
	relay_destroy(run->relay);
	missing = dp_eal_pool_free(run->pool);
	if (missing)
		log_error("event=mbuf_leak missing=%u msg=\"mbufs not returned to the pool\"",
			  missing);
	dp_eal_cleanup();
	relay_config_free(&run->cfg);
	log_info("event=exit status=%d", status);
	return status;
}

int main(int argc, char **argv)
{
	static struct relay_run run;
	struct relay_config_args args;
	char err[ERR_MAX], listen[DP_SOCK_MAX_LISTEN * DP_ADDR_TEXT_MAX], pub[KEYS_TEXT_LEN + 1];
	sigset_t sigs;
	int ret;

	/* 1. options and configuration */
	relay_config_init(&run.cfg);
	if (relay_config_parse_args(&args, argc, argv, err, sizeof(err))) {
		relay_config_free(&run.cfg);
		return fail_usage(err);
	}
	if (args.action == RELAY_CONFIG_HELP || args.action == RELAY_CONFIG_VERSION) {
		fputs(args.action == RELAY_CONFIG_HELP ? relay_config_usage() :
		      "postern-relay " POSTERN_VERSION "\n", stdout);
		relay_config_free(&run.cfg);
		return fflush(stdout) ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	if (relay_config_load(&run.cfg, &args, err, sizeof(err)) ||
	    relay_config_load_secrets(&run.cfg, err, sizeof(err))) {
		relay_config_free(&run.cfg);
		return fail_config(err);
	}
	if (args.action == RELAY_CONFIG_CHECK) {
		ret = relay_config_print(&run.cfg, stdout) ? EXIT_FAILURE : EXIT_SUCCESS;
		relay_config_free(&run.cfg);
		return ret;
	}
	run.args = &args;
	log_set_level(run.cfg.log_level);
	listen_text(&run.cfg, listen, sizeof(listen));
	keys_to_text(run.cfg.public_key, pub);
	log_info("event=start version=%s config=%s workers=%u backend=%s %s=%s listen=%s "
		 "public_key=%s", POSTERN_VERSION, run.cfg.file ? run.cfg.file : "-",
		 run.cfg.workers, run.cfg.backend == RELAY_BACKEND_DPDK ? "dpdk" : "socket",
		 run.cfg.backend == RELAY_BACKEND_DPDK ? "idle" : "io",
		 run.cfg.backend == RELAY_BACKEND_DPDK ? dp_ethdev_idle_name(run.cfg.idle) :
		 dp_sock_io_name(run.cfg.io), listen, pub);
	run.start_ns = now_ns();

	/* 2. signals: blocked here, inherited by every thread EAL creates */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* 3, 4 */
	if (start_eal(&run) || start_relay(&run))
		return teardown(&run, EXIT_FAILURE);
	log_info("event=running io=\"%s\" workers=%u",
		 run.backend ? dp_sock_io_detail(run.backend) : "dpdk ethdev", run.cfg.workers);

	/* 5, 6 */
	ret = run_control(&run, &sigs);
	return teardown(&run, ret ? EXIT_FAILURE : EXIT_SUCCESS);
}
