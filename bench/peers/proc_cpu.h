/*
 * proc_cpu.h — the CPU time a set of processes spends, from procfs: the
 * processes of one tunnel (sshd and ssh, two wireguard-go, nginx, a Postern
 * relay, gateway and connector), so a benchmark can charge each path with
 * exactly the CPU its own processes used.
 *
 * A set is fixed once, by proc_cpu_collect(): the given processes and every
 * process descended from them at that moment (sshd's per-connection
 * children, nginx's workers). Reading it later sums utime + stime of each
 * member from /proc/PID/stat (all of a process's threads, those that ended
 * included). A member that has exited is skipped and counted as vanished,
 * since its time can no longer be read; a process started after collection
 * is not in the set. Collect once the path is up and carrying its
 * connections.
 *
 * Resolution: the kernel's clock tick (sysconf(_SC_CLK_TCK), usually 10 ms).
 *
 * Threads: no shared state; a set belongs to its caller.
 */
#ifndef POSTERN_BENCH_PEERS_PROC_CPU_H
#define POSTERN_BENCH_PEERS_PROC_CPU_H

#include <stdint.h>
#include <sys/types.h>

enum {
	PROC_CPU_MAX = 64,	/* processes per set, descendants included */
};

enum {
	PROC_CPU_COMM = 16,	/* TASK_COMM_LEN */
};

struct proc_cpu_set {
	pid_t pid[PROC_CPU_MAX];
	uint64_t start[PROC_CPU_MAX];	/* start time in ticks: tells a reused pid apart */
	char comm[PROC_CPU_MAX][PROC_CPU_COMM];	/* the process's name, for reports */
	unsigned n;
};

/*
 * Fill @set with @roots[0..@n_roots) and all their descendants now living.
 * @return 0; -ESRCH if a root does not exist; -E2BIG if more than
 * PROC_CPU_MAX processes would be in the set; -errno if /proc cannot be read.
 */
int proc_cpu_collect(struct proc_cpu_set *set, const pid_t *roots, unsigned n_roots);

/*
 * Sum the CPU time (user + system) the members of @set have used so far, in
 * seconds, into *@seconds; *@vanished (may be NULL) gets how many members
 * have exited or been replaced. @each (may be NULL; @set->n entries) gets
 * each member's own time, -1 for one that vanished.
 * @return 0, or -errno if /proc cannot be read at all.
 */
int proc_cpu_read(const struct proc_cpu_set *set, double *seconds, unsigned *vanished,
		  double *each);

#endif /* POSTERN_BENCH_PEERS_PROC_CPU_H */
