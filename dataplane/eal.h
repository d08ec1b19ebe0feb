/*
 * eal.h — DPDK's Environment Abstraction Layer for the relay, and the mbuf
 * pool every worker draws from.
 *
 * The socket backend uses EAL for lcores (pinned worker threads), memory
 * (rte_mempool, rte_ring, rte_hash) and nothing else: no hugepages, no PCI,
 * no telemetry socket, no multi-process files. The ethdev backend adds its
 * ports: virtual devices (--vdev) and PCI devices (-a, and only then is the
 * PCI bus scanned), and may ask for hugepages. dp_eal_init() builds the EAL
 * command line:
 *
 *   PROGRAM [--no-huge] -m MB [--no-pci] --no-telemetry --no-shconf
 *   --file-prefix STEM-<pid>                        unique per process
 *   --lcores 0@(CPUS),1@C0,2@C1,...                 main lcore floats over the
 *                                                   CPUs (those the process may
 *                                                   use, or the caller's list);
 *                                                   worker i is pinned to CPU i
 *                                                   (round robin if there are
 *                                                   more workers than CPUs)
 *   --vdev=SPEC | -a PCI[,ARGS]                     one per device, unless the
 *                                                   extra args already create it
 *   --log-level N  [extra args from the config]     extra args last, so they win
 *
 * PROGRAM, STEM, the CPUs, whether --lcores is added at all and how error
 * messages name the extra args come from struct dp_eal_options; without
 * one, postern-relay's: "postern-relay", "postern", every CPU the process may
 * use, --lcores, "eal.args". dp_eal_args_build() builds the line.
 *
 * Signals: the threads EAL creates inherit the caller's signal mask. Block
 * SIGINT/SIGTERM (pthread_sigmask) before dp_eal_init() so only the main
 * thread sees them.
 *
 * Threads: dp_eal_init(), dp_eal_cleanup() and the pool functions on the main
 * thread only; init once per process (EAL cannot be initialised twice).
 */
#ifndef POSTERN_DATAPLANE_EAL_H
#define POSTERN_DATAPLANE_EAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_mempool;

enum {
	DP_EAL_MEMORY_MB_MIN = 64,	/* below this a small pool no longer fits */
	DP_EAL_MEMORY_MB_DEFAULT = 128,
	/*
	 * Data room after the headroom: a HOP_MTU packet plus one byte, so that
	 * a datagram the kernel truncated is longer than any valid packet and the
	 * core drops it as bad_header (docs/protocol.md §2.5), rounded to 64.
	 */
	DP_EAL_MBUF_DATA = 1472,
	DP_EAL_POOL_CACHE = 256,	/* per-lcore mempool cache */
};

/* Receives each line EAL prints, with its RTE_LOG_* level; no newline. */
typedef void (*dp_eal_log_fn)(unsigned rte_level, const char *line);

/* Who is starting EAL, and how (see the top). Every field may be left zero. */
struct dp_eal_options {
	const char *program;		/* argv[0]; NULL: "postern-relay" */
	const char *file_prefix;	/* STEM of "--file-prefix=STEM-<pid>"; NULL: "postern" */
	const char *args_name;		/* the extra args as the user gave them, for
					 * messages; NULL: "eal.args" */
	const uint16_t *cpus;		/* the lcores' CPUs, each one the process may use; */
	unsigned n_cpus;		/* 0: every CPU the process may use */
	bool no_lcores;			/* add no --lcores: the extra args give -l or --lcores */
};

struct dp_eal_params {
	unsigned n_workers;		/* worker lcores, 1..RTE_MAX_LCORE - 1 */
	unsigned memory_mb;		/* -m; DP_EAL_MEMORY_MB_MIN or more */
	const char *const *extra_args;	/* appended after ours; may be NULL */
	unsigned n_extra;
	unsigned log_level;		/* RTE_LOG_ERR .. RTE_LOG_DEBUG for EAL's own lines */
	dp_eal_log_fn log;		/* NULL: DPDK's default (stderr) */
	/*
	 * Ethernet devices to create (dataplane/portconf.h text form): a PCI
	 * address becomes "-a DEV" (and drops --no-pci), anything else
	 * "--vdev=DEV". A device whose name an extra arg already gives
	 * ("--vdev=NAME,...", "-a NAME") is not added again. May be NULL.
	 */
	const char *const *devices;
	unsigned n_devices;
	bool hugepages;			/* false: --no-huge */
	const struct dp_eal_options *opts;	/* NULL: postern-relay's */
};

/*
 * Initialise EAL with one main lcore (this thread) and @p->n_workers worker
 * lcores, ids 1..n_workers (with opts->no_lcores, the lcores the extra args
 * give instead).
 * @return 0; -EINVAL (bad params, a CPU the process may not use), -E2BIG
 * (too many args), -EALREADY, or another -errno from EAL (rte_errno); @err
 * then says why in one line.
 */
int dp_eal_init(const struct dp_eal_params *p, char *err, size_t errlen);

/* The --file-prefix in use ("" before init). */
const char *dp_eal_file_prefix(void);

/*
 * rte_eal_cleanup() and removal of EAL's runtime directory
 * (/var/run/dpdk/<prefix> for root). Every worker lcore must have returned and
 * every pool been freed. Safe to call when init failed or never ran.
 */
void dp_eal_cleanup(void);

/*
 * How many mbufs a pool needs: @per_worker for each of @n_workers, plus what
 * every lcore's cache can hold, plus a quarter as margin, rounded up to
 * 2^k - 1 (the size rte_mempool stores best).
 */
unsigned dp_eal_pool_size(unsigned n_workers, unsigned per_worker);

/*
 * Create the packet pool: @n mbufs, each with PKT_PRIV_SIZE private bytes
 * (struct pkt_meta) and RTE_PKTMBUF_HEADROOM + DP_EAL_MBUF_DATA bytes of data
 * room, on any NUMA socket.
 * @return 0; -ENOMEM or another -errno from rte_mempool (@err says which).
 */
int dp_eal_pool_create(struct rte_mempool **out, unsigned n, char *err, size_t errlen);

/*
 * The same with @data bytes of data room after the headroom (at least
 * DP_EAL_MBUF_DATA; the ethdev backend needs a whole frame, MTU + 14).
 * @return 0; -EINVAL for a data room DPDK cannot hold; as above.
 */
int dp_eal_pool_create_sized(struct rte_mempool **out, unsigned n, unsigned data, char *err,
			     size_t errlen);

/*
 * Free the pool. @return how many mbufs were not back in it (0 when every
 * mbuf was returned; anything else is a leak the caller should report).
 * NULL is a no-op returning 0.
 */
unsigned dp_eal_pool_free(struct rte_mempool *mp);

/*
 * The command line dp_eal_init() hands to rte_eal_init(), built without
 * touching EAL or the process: the pid and the CPUs the process may use are
 * given, so that the line is a pure function of its inputs. The strings it
 * points to are its own (struct dp_eal_argv) or the caller's (@p's extra args
 * and devices, the options' program name): all must outlive rte_eal_init(),
 * which permutes argv[]. Any thread.
 */
enum {
	DP_EAL_DEVICES_MAX = 8,		/* 2 * DP_PORTCONF_MAX_PORTS */
	DP_EAL_DEVICE_TEXT_MAX = 256,	/* DP_PORTCONF_DEVICE_MAX */
	DP_EAL_OWN_ARGS = 16,		/* our own arguments, argv[0] included */
	DP_EAL_ARGV_MAX = 64 + 2 * DP_EAL_DEVICES_MAX,
	DP_EAL_EXTRA_MAX = DP_EAL_ARGV_MAX - DP_EAL_OWN_ARGS - 2 * DP_EAL_DEVICES_MAX,
	DP_EAL_LCORES_TEXT_MAX = 4096,
	DP_EAL_PREFIX_MAX = 64,		/* the file prefix, with its NUL */
	DP_EAL_STEM_MAX = 40,		/* a file prefix stem, without the NUL */
};

/* The process the line is for. */
struct dp_eal_host {
	long pid;
	const uint16_t *cpus;		/* the CPUs it may use (sched_getaffinity), ascending */
	unsigned n_cpus;
};

/* A command line and the text it owns. */
struct dp_eal_argv {
	int argc;
	char *argv[DP_EAL_ARGV_MAX + 1];	/* NULL after the last */
	char file_prefix[DP_EAL_PREFIX_MAX];	/* the one our --file-prefix names */
	char lcores[DP_EAL_LCORES_TEXT_MAX];
	char mem[16], prefix_arg[DP_EAL_PREFIX_MAX + 16], log_arg[32];
	char vdev[DP_EAL_DEVICES_MAX][DP_EAL_DEVICE_TEXT_MAX + 8];
};

/*
 * Build the line for @p on @h into *@out.
 * @return 0; -EINVAL (workers, memory or options out of range, a CPU of
 * opts->cpus that @h may not use), -E2BIG (too many devices or extra args,
 * an lcore map too long), -ENODEV (@h may use no CPU); @err then says why in
 * one line.
 */
int dp_eal_args_build(struct dp_eal_argv *out, const struct dp_eal_params *p,
		      const struct dp_eal_host *h, char *err, size_t errlen);

/* The name messages give the extra args: opts->args_name, or "eal.args". */
const char *dp_eal_args_name(const struct dp_eal_params *p);

#endif /* POSTERN_DATAPLANE_EAL_H */
