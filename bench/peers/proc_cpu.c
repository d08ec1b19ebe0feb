/*
 * proc_cpu.c — CPU time of a process tree from procfs (proc_cpu.h).
 *
 * /proc/PID/stat (proc(5)): "pid (comm) state ppid ..."; comm may hold
 * spaces and parentheses, so fields are counted from the last ')'. After it,
 * field 4 is ppid, 14 utime, 15 stime, 22 starttime (1-based, as proc(5)
 * numbers them).
 */
#define _GNU_SOURCE

#include "bench/peers/proc_cpu.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct stat_fields {
	pid_t ppid;
	uint64_t utime, stime, start;
};

static int read_stat(pid_t pid, struct stat_fields *f)
{
	char path[64], buf[1024], *p, *save = NULL;
	unsigned field;
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* The token after ')' is field 3 (state). */
	field = 3;
	memset(f, 0, sizeof(*f));
	for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		unsigned long long v = strtoull(tok, NULL, 10);

		if (field == 4)
			f->ppid = (pid_t)v;
		else if (field == 14)
			f->utime = v;
		else if (field == 15)
			f->stime = v;
		else if (field == 22) {
			f->start = v;
			return 0;
		}
		field++;
	}
	return -EIO;
}

static bool in_set(const struct proc_cpu_set *set, pid_t pid)
{
	for (unsigned i = 0; i < set->n; i++)
		if (set->pid[i] == pid)
			return true;
	return false;
}

static void read_comm(pid_t pid, char out[PROC_CPU_COMM])
{
	char path[64];
	size_t n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fp = fopen(path, "re");
	if (fp) {
		n = fread(out, 1, PROC_CPU_COMM - 1, fp);
		fclose(fp);
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static int add(struct proc_cpu_set *set, pid_t pid, uint64_t start)
{
	if (in_set(set, pid))
		return 0;
	if (set->n == PROC_CPU_MAX)
		return -E2BIG;
	set->pid[set->n] = pid;
	set->start[set->n] = start;
	read_comm(pid, set->comm[set->n]);
	set->n++;
	return 0;
}

/*
 * One pass over /proc adds every process whose parent is in the set. Passes
 * repeat until one adds nothing, so grandchildren listed before their
 * parent are found too.
 */
static int add_children(struct proc_cpu_set *set, bool *added)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int rc = 0;

	if (!d)
		return -errno;
	*added = false;
	while ((de = readdir(d))) {
		struct stat_fields f;
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (in_set(set, pid) || read_stat(pid, &f) || !in_set(set, f.ppid))
			continue;
		rc = add(set, pid, f.start);
		if (rc)
			break;
		*added = true;
	}
	closedir(d);
	return rc;
}

int proc_cpu_collect(struct proc_cpu_set *set, const pid_t *roots, unsigned n_roots)
{
	bool added = true;
	int rc;

	set->n = 0;
	for (unsigned i = 0; i < n_roots; i++) {
		struct stat_fields f;

		rc = read_stat(roots[i], &f);
		if (rc)
			return rc == -ENOENT ? -ESRCH : rc;
		rc = add(set, roots[i], f.start);
		if (rc)
			return rc;
	}
	while (added) {
		rc = add_children(set, &added);
		if (rc)
			return rc;
	}
	return 0;
}

int proc_cpu_read(const struct proc_cpu_set *set, double *seconds, unsigned *vanished,
		  double *each)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ticks = 0;
	unsigned gone = 0;

	if (hz <= 0)
		return -EINVAL;
	for (unsigned i = 0; i < set->n; i++) {
		struct stat_fields f;

		if (read_stat(set->pid[i], &f) || f.start != set->start[i]) {
			gone++;
			if (each)
				each[i] = -1;
			continue;
		}
		ticks += f.utime + f.stime;
		if (each)
			each[i] = (double)(f.utime + f.stime) / (double)hz;
	}
	*seconds = (double)ticks / (double)hz;
	if (vanished)
		*vanished = gone;
	return 0;
}
