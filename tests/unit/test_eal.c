/*
 * test_eal.c — the EAL command line dp_eal_init() builds (dataplane/eal.h,
 * dp_eal_args_build()): postern-relay's line exactly as it has always been,
 * another program's options (name, file prefix, CPUs, its own core list),
 * devices, and the parameters refused with a reason. Pure: no EAL is started.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/eal.h"

enum { LINE_MAX_TEXT = 8192 };

static const uint16_t CPUS_0_1[] = { 0, 1 };
static const uint16_t CPUS_GAP[] = { 0, 1, 2, 3, 6 };

/* The line as one string, arguments separated by single blanks. */
static const char *line(const struct dp_eal_argv *a)
{
	static char out[LINE_MAX_TEXT];
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < a->argc; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? " " : "", a->argv[i]);
	cr_assert_null(a->argv[a->argc], "argv ends with NULL");
	return out;
}

static const char *build(const struct dp_eal_params *p, const uint16_t *cpus, unsigned n_cpus)
{
	static struct dp_eal_argv a;
	struct dp_eal_host h = { .pid = 4242, .cpus = cpus, .n_cpus = n_cpus };
	char err[256] = "";

	cr_assert_eq(dp_eal_args_build(&a, p, &h, err, sizeof(err)), 0, "%s", err);
	return line(&a);
}

/*
 * postern-relay passes no options. Spare CPUs go to the main lcore (and so
 * to EAL's control threads), one CPU to each worker; without spares the
 * workers go round robin and the main lcore anywhere.
 */
Test(eal, relay_line_is_unchanged)
{
	static const char *const devices[] = {
		"net_af_packet0,iface=v-rt,qpairs=2", "0000:3b:00.0,rxq=2",
	};
	static const char *const extra[] = { "--file-prefix=rbd-relay-1", "--log-level=pmd,8" };
	static const struct {
		const char *name;
		struct dp_eal_params p;
		const uint16_t *cpus;
		unsigned n_cpus;
		const char *want;
	} cases[] = {
		{ "socket backend, one worker",
		  { .n_workers = 1, .memory_mb = 128, .log_level = 4 }, CPUS_0_1, 2,
		  "postern-relay --no-huge -m 128 --no-pci --no-telemetry --no-shconf "
		  "--file-prefix=postern-4242 --lcores=0@(0),1@1 --log-level=4" },
		{ "workers round robin over a gap", { .n_workers = 6, .memory_mb = 256,
		  .log_level = 7, .hugepages = true }, CPUS_GAP, 5,
		  "postern-relay -m 256 --no-pci --no-telemetry --no-shconf "
		  "--file-prefix=postern-4242 --lcores=0@(0-3,6),1@0,2@1,3@2,4@3,5@6,6@0 "
		  "--log-level=7" },
		{ "spare CPUs for the main lcore", { .n_workers = 3, .memory_mb = 128,
		  .log_level = 4 }, CPUS_GAP, 5,
		  "postern-relay --no-huge -m 128 --no-pci --no-telemetry --no-shconf "
		  "--file-prefix=postern-4242 --lcores=0@(0-1),1@2,2@3,3@6 --log-level=4" },
		{ "devices and eal.args", { .n_workers = 2, .memory_mb = 128, .log_level = 4,
		  .devices = devices, .n_devices = 2, .extra_args = extra, .n_extra = 2 },
		  CPUS_0_1, 2,
		  "postern-relay --no-huge -m 128 --no-telemetry --no-shconf "
		  "--file-prefix=postern-4242 --lcores=0@(0-1),1@0,2@1 --log-level=4 "
		  "--vdev=net_af_packet0,iface=v-rt,qpairs=2 -a 0000:3b:00.0,rxq=2 "
		  "--file-prefix=rbd-relay-1 --log-level=pmd,8" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(build(&cases[i].p, cases[i].cpus, cases[i].n_cpus), cases[i].want,
				 "%s", cases[i].name);
}

/* Another program names itself, its file prefix, the CPUs, or gives its own core list. */
Test(eal, options_name_the_program_prefix_and_cpus)
{
	static const uint16_t list[] = { 3, 1 }, run[] = { 2, 3 };
	static const char *const own_list[] = { "--vdev=net_memif0", "-l", "0-1" };
	static const struct {
		const char *name;
		struct dp_eal_options o;
		const char *const *extra;
		unsigned n_extra;
		const char *want;
	} cases[] = {
		{ "everything", { .program = "relaybench", .file_prefix = "relaybench",
		  .args_name = "--eal", .cpus = run, .n_cpus = 2 }, NULL, 0,
		  "relaybench --no-huge -m 128 --no-pci --no-telemetry --no-shconf "
		  "--file-prefix=relaybench-4242 --lcores=0@(2),1@3 --log-level=4" },
		{ "CPUs in the caller's order", { .cpus = list, .n_cpus = 2 }, NULL, 0,
		  "postern-relay --no-huge -m 128 --no-pci --no-telemetry --no-shconf "
		  "--file-prefix=postern-4242 --lcores=0@(3),1@1 --log-level=4" },
		{ "its own core list", { .program = "x", .no_lcores = true }, own_list, 3,
		  "x --no-huge -m 128 --no-pci --no-telemetry --no-shconf "
		  "--file-prefix=postern-4242 --log-level=4 --vdev=net_memif0 -l 0-1" },
		{ "all zero: the relay's", { 0 }, NULL, 0,
		  "postern-relay --no-huge -m 128 --no-pci --no-telemetry --no-shconf "
		  "--file-prefix=postern-4242 --lcores=0@(0-3),1@6 --log-level=4" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_eal_params p = {
			.n_workers = 1, .memory_mb = 128, .log_level = 4,
			.extra_args = cases[i].extra, .n_extra = cases[i].n_extra,
			.opts = &cases[i].o,
		};

		cr_expect_str_eq(build(&p, CPUS_GAP, 5), cases[i].want, "%s", cases[i].name);
	}
}

/* A device the extra args already create is not added twice; a PCI one needs the bus. */
Test(eal, devices_given_in_the_extra_args_are_not_repeated)
{
	static const char *const devices[] = { "net_memif0,role=server", "0000:3b:00.0" };
	static const char *const extra[] = { "--vdev=net_memif0,role=client", "-a0000:3b:00.0" };
	struct dp_eal_params p = {
		.n_workers = 1, .memory_mb = 64, .log_level = 4, .devices = devices,
		.n_devices = 2, .extra_args = extra, .n_extra = 2,
	};

	cr_expect_str_eq(build(&p, CPUS_0_1, 2),
			 "postern-relay --no-huge -m 64 --no-telemetry --no-shconf "
			 "--file-prefix=postern-4242 --lcores=0@(0),1@1 --log-level=4 "
			 "--vdev=net_memif0,role=client -a0000:3b:00.0");
	p.n_devices = 1;
	p.n_extra = 0;
	cr_expect_str_eq(build(&p, CPUS_0_1, 2),
			 "postern-relay --no-huge -m 64 --no-pci --no-telemetry --no-shconf "
			 "--file-prefix=postern-4242 --lcores=0@(0),1@1 --log-level=4 "
			 "--vdev=net_memif0,role=server");
}

Test(eal, bad_parameters_are_refused_with_a_reason)
{
	static const uint16_t far_cpu[] = { 0, 7 };
	static const char *const devices[9] = { "net_null0" };
	static const char *const extra[DP_EAL_EXTRA_MAX + 1] = { "-v" };
	static const struct {
		const char *name;
		struct dp_eal_params p;
		struct dp_eal_options o;
		unsigned n_host_cpus;
		int want;
		const char *says;
	} cases[] = {
		{ "no worker", { .n_workers = 0, .memory_mb = 128 }, { 0 }, 2, -EINVAL,
		  "workers must be 1.." },
		{ "too little memory", { .n_workers = 1, .memory_mb = 63 }, { 0 }, 2, -EINVAL,
		  "at least 64 MB" },
		{ "too many devices", { .n_workers = 1, .memory_mb = 128, .devices = devices,
		  .n_devices = 9 }, { 0 }, 2, -E2BIG, "too many devices (at most 8)" },
		{ "too many extra args", { .n_workers = 1, .memory_mb = 128, .extra_args = extra,
		  .n_extra = DP_EAL_EXTRA_MAX + 1 }, { 0 }, 2, -E2BIG,
		  "too many extra EAL arguments" },
		{ "a CPU the process may not use", { .n_workers = 1, .memory_mb = 128 },
		  { .cpus = far_cpu, .n_cpus = 2 }, 2, -EINVAL,
		  "CPU 7 is not one this process may run on" },
		{ "no CPU at all", { .n_workers = 1, .memory_mb = 128 }, { 0 }, 0, -ENODEV,
		  "cannot build the lcore map" },
		{ "a prefix with a slash", { .n_workers = 1, .memory_mb = 128 },
		  { .file_prefix = "a/b" }, 2, -EINVAL, "file prefix stem" },
		{ "an empty prefix", { .n_workers = 1, .memory_mb = 128 }, { .file_prefix = "" },
		  2, -EINVAL, "file prefix stem" },
		{ "a prefix too long", { .n_workers = 1, .memory_mb = 128 },
		  { .file_prefix = "0123456789012345678901234567890123456789x" }, 2, -EINVAL,
		  "file prefix stem" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct dp_eal_argv a;
		struct dp_eal_params p = cases[i].p;
		struct dp_eal_host h = { .pid = 1, .cpus = CPUS_0_1,
					 .n_cpus = cases[i].n_host_cpus };
		char err[256] = "";

		p.opts = &cases[i].o;
		cr_expect_eq(dp_eal_args_build(&a, &p, &h, err, sizeof(err)), cases[i].want,
			     "%s: %s", cases[i].name, err);
		cr_expect(strstr(err, cases[i].says), "%s: '%s' not in '%s'", cases[i].name,
			  cases[i].says, err);
	}
}

/* How messages name the extra args: "eal.args" for the relay, or the caller's words. */
Test(eal, messages_name_the_extra_args_as_the_user_gave_them)
{
	struct dp_eal_options o = { .args_name = "--eal" }, none = { 0 };
	struct dp_eal_params p = { .n_workers = 1 };

	cr_expect_str_eq(dp_eal_args_name(&p), "eal.args");
	p.opts = &none;
	cr_expect_str_eq(dp_eal_args_name(&p), "eal.args");
	p.opts = &o;
	cr_expect_str_eq(dp_eal_args_name(&p), "--eal");
}
