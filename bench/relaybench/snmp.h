/*
 * snmp.h — the kernel's UDP counters for the caller's network namespace
 * (/proc/net/snmp "Udp:" and /proc/net/snmp6 "Udp6*", summed), so that a
 * datagram the kernel dropped for lack of socket buffer is reported rather
 * than silently counted as the relay's loss.
 *
 * The counters cover every UDP socket of the namespace: relaybench's, and the
 * relay's too when it runs in the same namespace.
 *
 * Threads: no shared state.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_SNMP_H
#define POSTERN_BENCH_RELAYBENCH_SNMP_H

#include <stddef.h>
#include <stdint.h>

struct snmp_udp {
	uint64_t in_datagrams, out_datagrams;
	uint64_t no_ports;		/* datagrams to a port nobody listens on */
	uint64_t in_errors;		/* receive errors, buffer overflows included */
	uint64_t rcvbuf_errors;		/* dropped: a receive buffer was full */
	uint64_t sndbuf_errors;		/* dropped: a send buffer was full */
};

/*
 * Parse the text of /proc/net/snmp (@v4) and of /proc/net/snmp6 (@v6, may be
 * NULL) into *@out (summed). @return 0, or -EBADMSG if @v4 has no Udp: pair
 * of lines with the counters above.
 */
int snmp_udp_parse(const char *v4, const char *v6, struct snmp_udp *out);

/* Read and parse both files. @return 0, or -errno (no /proc), or -EBADMSG. */
int snmp_udp_read(struct snmp_udp *out);

/* @after - @before, field by field (0 where a counter went backwards). */
void snmp_udp_delta(const struct snmp_udp *before, const struct snmp_udp *after,
		    struct snmp_udp *d);

#endif /* POSTERN_BENCH_RELAYBENCH_SNMP_H */
