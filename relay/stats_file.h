/*
 * stats_file.h — the relay's counters as a JSON file, for tests and scripts
 * until the control plane serves /metrics.
 *
 * The file is replaced atomically (a temporary file beside it, then rename),
 * so a reader sees the previous complete file or the new one, never a part:
 *
 *   { "version": "0.1.0", "time": 1764220000, "uptime_s": 12.5, "tsc_hz": 2450000000,
 *     "io": "uring (multishot recvmsg, defer_taskrun)",
 *     "total":   { COUNTERS },
 *     "workers": [ { "worker": 0, COUNTERS, "io": { BACKEND COUNTERS } }, ... ] }
 *
 * COUNTERS: rx_packets rx_bytes tx_packets tx_bytes forwarded handled dropped
 * drops{reason: n, every reason} originated lost lost_by_reason{...}
 * handoff_out handoff_in handshakes cookies_sent sessions channels
 * busy_cycles idle_cycles busy_packets cycles_per_packet.
 * Invariant (stats.h): rx_packets = forwarded + handled + dropped, in total.
 *
 * Threads: the main thread; it reads counters the workers are writing (a
 * little stale, never torn).
 */
#ifndef POSTERN_RELAY_STATS_FILE_H
#define POSTERN_RELAY_STATS_FILE_H

#include <stddef.h>
#include <stdint.h>

struct relay;
struct dp_sock;

/*
 * Write the counters of @r (and of the backend @dp, which may be NULL) to
 * @path. @uptime_ns is the time since start.
 * @return 0, or -errno with @err naming the file.
 */
int stats_file_write(const char *path, struct relay *r, const struct dp_sock *dp,
		     uint64_t uptime_ns, char *err, size_t errlen);

#endif /* POSTERN_RELAY_STATS_FILE_H */
