/*
 * eal.c — EAL start-up for either backend: its command line, then EAL itself;
 * the packet pool; teardown.
 */
#define _GNU_SOURCE	/* fopencookie, sched_getaffinity, CPU_* */

#include "dataplane/eal.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/portconf.h"
#include "relay/pkt.h"

enum {
	LOG_LINE_MAX = 512,
};

static char file_prefix[DP_EAL_PREFIX_MAX];
static char runtime_dir[256];
static bool initialised;

/* EAL's log stream, re-cut into lines for the caller's logger. */
static dp_eal_log_fn log_sink;
static FILE *log_stream;
static char log_pending[LOG_LINE_MAX];
static size_t log_pending_len;

static void log_emit_pending(void)
{
	int level = rte_log_cur_msg_loglevel();

	log_pending[log_pending_len] = '\0';
	if (log_pending_len)
		log_sink(level > 0 ? (unsigned)level : RTE_LOG_INFO, log_pending);
	log_pending_len = 0;
}

/*
 * rte_vlog() prints one message and flushes, under the FILE's lock, so this
 * sees whole messages one at a time even when several lcores log at once.
 */
static ssize_t log_write(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			log_emit_pending();
			continue;
		}
		if (log_pending_len < sizeof(log_pending) - 1)
			log_pending[log_pending_len++] = buf[i];
	}
	return (ssize_t)len;
}

static int log_close(void *cookie)
{
	(void)cookie;
	log_emit_pending();
	return 0;
}

static int log_redirect(dp_eal_log_fn sink)
{
	static const cookie_io_functions_t io = { .write = log_write, .close = log_close };

	log_sink = sink;
	log_stream = fopencookie(NULL, "w", io);
	if (!log_stream)
		return -errno;
	setvbuf(log_stream, NULL, _IOFBF, LOG_LINE_MAX);
	return rte_openlog_stream(log_stream);
}

/* ---- the command line -------------------------------------------------- */

static_assert((int)DP_EAL_DEVICES_MAX == 2 * (int)DP_PORTCONF_MAX_PORTS, "two per port");
static_assert((int)DP_EAL_DEVICE_TEXT_MAX == (int)DP_PORTCONF_DEVICE_MAX, "as configured");

static const struct dp_eal_options defaults = {
	.program = "postern-relay",
	.file_prefix = "postern",
	.args_name = "eal.args",
};

static const struct dp_eal_options *options(const struct dp_eal_params *p)
{
	return p->opts ? p->opts : &defaults;
}

const char *dp_eal_args_name(const struct dp_eal_params *p)
{
	return options(p)->args_name ? options(p)->args_name : defaults.args_name;
}

/* Append ",A" or ",A-B" (no comma for the first run) to @s; @return its new length. */
static size_t put_run(char *s, size_t cap, size_t n, unsigned a, unsigned b, bool first)
{
	int w;

	if (n >= cap)
		return cap;
	if (a == b)
		w = snprintf(s + n, cap - n, "%s%u", first ? "" : ",", a);
	else
		w = snprintf(s + n, cap - n, "%s%u-%u", first ? "" : ",", a, b);
	return w < 0 || (size_t)w >= cap - n ? cap : n + (size_t)w;
}

/*
 * "--lcores=0@(CPUS),1@C1,2@C2,...". With more CPUs than workers, each worker
 * has a CPU of its own, the last ones, and the main lcore the CPUs before
 * them: EAL runs its control threads on the CPUs no lcore uses, else on the
 * main lcore's, so the interrupt thread (link events, a virtual device's
 * control socket) never preempts a worker (isolcpus, docs/deploy-dpdk.md).
 * With as many workers as CPUs or more, the main lcore may
 * run on any of them (it sleeps in sigtimedwait and writes stats) and the
 * workers take them round robin.
 */
static int lcores_arg(unsigned n_workers, const uint16_t *cpus, unsigned n_cpus, char *s,
		      size_t cap)
{
	bool spare = n_cpus > n_workers;
	unsigned n_main = spare ? n_cpus - n_workers : n_cpus;
	const uint16_t *wcpu = spare ? cpus + n_main : cpus;
	unsigned n_wcpu = spare ? n_workers : n_cpus;
	size_t n = (size_t)snprintf(s, cap, "--lcores=0@(");
	bool first = true;
	unsigned start;

	for (unsigned i = 0; i < n_main; i = start + 1, first = false) {
		start = i;
		while (start + 1 < n_main && cpus[start + 1] == cpus[start] + 1)
			start++;
		n = put_run(s, cap, n, cpus[i], cpus[start], first);
	}
	for (unsigned w = 0; w < n_workers && n < cap; w++) {
		int ret = snprintf(s + n, cap - n, "%s%u@%u", w ? "," : "),", w + 1,
				   wcpu[w % n_wcpu]);

		n = ret < 0 || (size_t)ret >= cap - n ? cap : n + (size_t)ret;
	}
	return n >= cap ? -E2BIG : 0;
}

/* Does @v name device @name: "NAME" or "NAME,ARGS"? */
static bool names(const char *v, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(v, name, n) && (v[n] == '\0' || v[n] == ',');
}

/* The value of a device argument at @extra[*i] ("--vdev=X", "-a X", "-aX", ...), or NULL. */
static const char *device_arg(const char *const *extra, unsigned n, unsigned *i, bool *pci)
{
	const char *a = extra[*i];

	*pci = strncmp(a, "--vdev", 6) != 0;
	if (!strncmp(a, "--vdev=", 7))
		return a + 7;
	if (!strncmp(a, "--allow=", 8))
		return a + 8;
	if (!strcmp(a, "--vdev") || !strcmp(a, "-a") || !strcmp(a, "--allow"))
		return *i + 1 < n ? extra[++*i] : NULL;
	if (!strncmp(a, "-a", 2) && a[2])
		return a + 2;
	return NULL;
}

/* Is device @name created by the extra args already? (NULL: is any PCI device?) */
static bool given(const struct dp_eal_params *p, const char *name)
{
	bool pci;

	for (unsigned i = 0; i < p->n_extra; i++) {
		const char *v = device_arg(p->extra_args, p->n_extra, &i, &pci);

		if (v && (name ? names(v, name) : pci))
			return true;
	}
	return false;
}

/* A PCI device to probe needs the bus scan that --no-pci turns off. */
static bool needs_pci(const struct dp_eal_params *p)
{
	for (unsigned i = 0; i < p->n_devices; i++)
		if (dp_portconf_is_pci(p->devices[i]))
			return true;
	return given(p, NULL);
}

/* "-a DEV" or "--vdev=DEV" for each device the extra args do not create; @return argc. */
static int device_args(const struct dp_eal_params *p, struct dp_eal_argv *out, int argc)
{
	char name[DP_PORTCONF_NAME_MAX];

	for (unsigned i = 0; i < p->n_devices; i++) {
		const char *dev = p->devices[i];

		dp_portconf_name(dev, name, sizeof(name));
		if (given(p, name))
			continue;
		if (dp_portconf_is_pci(dev)) {
			out->argv[argc++] = (char *)"-a";
			out->argv[argc++] = (char *)dev;
		} else {
			snprintf(out->vdev[i], sizeof(out->vdev[i]), "--vdev=%s", dev);
			out->argv[argc++] = out->vdev[i];
		}
	}
	return argc;
}

static bool host_has(const struct dp_eal_host *h, unsigned cpu)
{
	for (unsigned i = 0; i < h->n_cpus; i++)
		if (h->cpus[i] == cpu)
			return true;
	return false;
}

static int check(const struct dp_eal_params *p, const struct dp_eal_host *h, char *err,
		 size_t errlen)
{
	const struct dp_eal_options *o = options(p);

	if (p->n_workers < 1 || p->n_workers >= RTE_MAX_LCORE) {
		snprintf(err, errlen, "workers must be 1..%d for this DPDK build",
			 RTE_MAX_LCORE - 1);
		return -EINVAL;
	}
	if (p->memory_mb < DP_EAL_MEMORY_MB_MIN) {
		snprintf(err, errlen, "EAL memory must be at least %d MB", DP_EAL_MEMORY_MB_MIN);
		return -EINVAL;
	}
	if (p->n_devices > DP_EAL_DEVICES_MAX) {
		snprintf(err, errlen, "too many devices (at most %d)", DP_EAL_DEVICES_MAX);
		return -E2BIG;
	}
	if (p->n_extra > DP_EAL_EXTRA_MAX) {
		snprintf(err, errlen, "too many extra EAL arguments (at most %d)",
			 DP_EAL_EXTRA_MAX);
		return -E2BIG;
	}
	if (o->file_prefix && (!o->file_prefix[0] || strlen(o->file_prefix) > DP_EAL_STEM_MAX ||
			       strpbrk(o->file_prefix, "/ \t\n"))) {
		snprintf(err, errlen, "a file prefix stem is 1 to %d characters, no '/' or blanks",
			 DP_EAL_STEM_MAX);
		return -EINVAL;
	}
	if (o->no_lcores)
		return 0;
	if (!h->n_cpus) {
		snprintf(err, errlen, "cannot build the lcore map: %s", strerror(ENODEV));
		return -ENODEV;
	}
	for (unsigned i = 0; i < o->n_cpus; i++) {
		if (!host_has(h, o->cpus[i])) {
			snprintf(err, errlen, "CPU %u is not one this process may run on",
				 o->cpus[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int dp_eal_args_build(struct dp_eal_argv *out, const struct dp_eal_params *p,
		      const struct dp_eal_host *h, char *err, size_t errlen)
{
	const struct dp_eal_options *o = options(p);
	int argc = 0, ret;

	ret = check(p, h, err, errlen);
	if (ret)
		return ret;
	if (!o->no_lcores) {
		ret = o->n_cpus ? lcores_arg(p->n_workers, o->cpus, o->n_cpus, out->lcores,
					     sizeof(out->lcores)) :
				  lcores_arg(p->n_workers, h->cpus, h->n_cpus, out->lcores,
					     sizeof(out->lcores));
		if (ret) {
			snprintf(err, errlen, "cannot build the lcore map: %s", strerror(-ret));
			return ret;
		}
	}
	snprintf(out->file_prefix, sizeof(out->file_prefix), "%s-%ld",
		 o->file_prefix ? o->file_prefix : defaults.file_prefix, h->pid);
	snprintf(out->prefix_arg, sizeof(out->prefix_arg), "--file-prefix=%s", out->file_prefix);
	snprintf(out->mem, sizeof(out->mem), "%u", p->memory_mb);
	snprintf(out->log_arg, sizeof(out->log_arg), "--log-level=%u", p->log_level);

	out->argv[argc++] = (char *)(o->program ? o->program : defaults.program);
	if (!p->hugepages)
		out->argv[argc++] = (char *)"--no-huge";
	out->argv[argc++] = (char *)"-m";
	out->argv[argc++] = out->mem;
	if (!needs_pci(p))
		out->argv[argc++] = (char *)"--no-pci";
	out->argv[argc++] = (char *)"--no-telemetry";
	out->argv[argc++] = (char *)"--no-shconf";
	out->argv[argc++] = out->prefix_arg;
	if (!o->no_lcores)
		out->argv[argc++] = out->lcores;
	out->argv[argc++] = out->log_arg;
	argc = device_args(p, out, argc);
	for (unsigned i = 0; i < p->n_extra; i++)
		out->argv[argc++] = (char *)p->extra_args[i];
	out->argv[argc] = NULL;
	out->argc = argc;
	return 0;
}

/* ---- EAL ------------------------------------------------------------------ */

/* The CPUs this process may run on, ascending. @return how many, or -errno. */
static int allowed_cpus(uint16_t *cpus)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = (uint16_t)c;
	return n;
}

static int stdout_to_null(void)
{
	int saved, null;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	if (null >= 0)
		close(null);
	return saved;
}

static void stdout_restore(int saved)
{
	if (saved < 0)
		return;
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

int dp_eal_init(const struct dp_eal_params *p, char *err, size_t errlen)
{
	/* rte_eal_init() may keep pointers into its arguments: they live as long as we do. */
	static struct dp_eal_argv args;
	static uint16_t cpus[CPU_SETSIZE];
	struct dp_eal_host host = { .pid = (long)getpid(), .cpus = cpus };
	int ret, quiet;

	if (initialised) {
		snprintf(err, errlen, "EAL is already initialised");
		return -EALREADY;
	}
	ret = allowed_cpus(cpus);
	if (ret < 0) {
		snprintf(err, errlen, "cannot build the lcore map: %s", strerror(-ret));
		return ret;
	}
	host.n_cpus = (unsigned)ret;
	ret = dp_eal_args_build(&args, p, &host, err, errlen);
	if (ret)
		return ret;
	snprintf(file_prefix, sizeof(file_prefix), "%s", args.file_prefix);

	if (p->log) {
		ret = log_redirect(p->log);
		if (ret) {
			snprintf(err, errlen, "cannot redirect EAL's log: %s", strerror(-ret));
			return ret;
		}
	}
	/*
	 * rte_eal_init() permutes argv (ours is a scratch copy) and, on a bad
	 * argument, prints its whole usage to stdout: the caller's one-line
	 * error says what matters, so stdout is parked on /dev/null meanwhile.
	 */
	quiet = stdout_to_null();
	ret = rte_eal_init(args.argc, args.argv);
	stdout_restore(quiet);
	/* The runtime directory exists even when init fails half way. */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	/*
	 * An --file-prefix in the extra args wins over ours (EAL takes the last
	 * one): name the prefix actually in effect, the runtime directory's last
	 * component, so the log says it and the cleanup finds the directory.
	 */
	if (strrchr(runtime_dir, '/') && strrchr(runtime_dir, '/')[1])
		snprintf(file_prefix, sizeof(file_prefix), "%s", strrchr(runtime_dir, '/') + 1);
	if (ret < 0) {
		ret = rte_errno ? -rte_errno : -EINVAL;
		if (p->n_devices)
			snprintf(err, errlen, "EAL initialisation failed: %s (check the ports' "
				 "devices and %s; EAL's messages above say which)",
				 rte_strerror(-ret), dp_eal_args_name(p));
		else if (p->n_extra)
			snprintf(err, errlen, "EAL initialisation failed: %s (check %s)",
				 rte_strerror(-ret), dp_eal_args_name(p));
		else
			snprintf(err, errlen, "EAL initialisation failed: %s", rte_strerror(-ret));
		return ret;
	}
	initialised = true;
	return 0;
}

const char *dp_eal_file_prefix(void)
{
	return file_prefix;
}

/* EAL leaves its runtime directory behind; --no-shconf keeps it empty, but be sure. */
static void remove_runtime_dir(void)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	if (!runtime_dir[0] || !strstr(runtime_dir, file_prefix))
		return;
	d = opendir(runtime_dir);
	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", runtime_dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(runtime_dir);
}

void dp_eal_cleanup(void)
{
	if (initialised) {
		rte_eal_cleanup();
		initialised = false;
	}
	remove_runtime_dir();
	runtime_dir[0] = '\0';
	if (log_stream) {
		rte_openlog_stream(NULL);
		fclose(log_stream);
		log_stream = NULL;
	}
}

unsigned dp_eal_pool_size(unsigned n_workers, unsigned per_worker)
{
	/* A cache may hold up to 1.5 times its size before it flushes. */
	unsigned long need = (unsigned long)n_workers * per_worker +
			     (n_workers + 1ul) * DP_EAL_POOL_CACHE * 3 / 2;
	unsigned long n = 1;

	need += need / 4;
	while (n - 1 < need)
		n <<= 1;
	return (unsigned)(n - 1);
}

int dp_eal_pool_create(struct rte_mempool **out, unsigned n, char *err, size_t errlen)
{
	return dp_eal_pool_create_sized(out, n, DP_EAL_MBUF_DATA, err, errlen);
}

int dp_eal_pool_create_sized(struct rte_mempool **out, unsigned n, unsigned data, char *err,
			     size_t errlen)
{
	struct rte_mempool *mp;

	if (data < DP_EAL_MBUF_DATA || data > UINT16_MAX - RTE_PKTMBUF_HEADROOM) {
		snprintf(err, errlen, "mbuf data room of %u bytes: must be %d to %d", data,
			 DP_EAL_MBUF_DATA, UINT16_MAX - RTE_PKTMBUF_HEADROOM);
		return -EINVAL;
	}
	mp = rte_pktmbuf_pool_create("postern_pkts", n, DP_EAL_POOL_CACHE, PKT_PRIV_SIZE,
				     (uint16_t)(RTE_PKTMBUF_HEADROOM + data), SOCKET_ID_ANY);
	if (!mp) {
		int ret = rte_errno ? -rte_errno : -ENOMEM;

		snprintf(err, errlen, "cannot create a pool of %u mbufs: %s "
			 "(raise eal.memory_mb)", n, rte_strerror(-ret));
		return ret;
	}
	*out = mp;
	return 0;
}

unsigned dp_eal_pool_free(struct rte_mempool *mp)
{
	unsigned missing;

	if (!mp)
		return 0;
	missing = mp->size - rte_mempool_avail_count(mp);
	rte_mempool_free(mp);
	return missing;
}
