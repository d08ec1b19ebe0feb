/*
 * test_config.c — postern-relay's configuration as an operator meets it: a
 * good file fills every setting, flags override it, and every bad file or
 * flag is refused with a message naming the file, the line and the setting.
 */
#define _GNU_SOURCE	/* stpcpy(), open_memstream() */

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "dataplane/addr.h"
#include "relay/config.h"
#include "wire/hop.h"

#include "cfg_fixture.h"

static char trusted_text[KEYS_TEXT_LEN + 1];	/* control.pub's key, inline */
static uint8_t relay_priv[KEYS_LEN];

/* A signing key pair: the public half as text. */
static void signing_pub(char text[KEYS_TEXT_LEN + 1])
{
	uint8_t seed[KEYS_LEN], pub[KEYS_LEN];

	cr_assert_eq(keys_generate(seed), 0);
	cr_assert_eq(keys_public_ed25519(seed, pub), 0);
	keys_to_text(pub, text);
}

static void setup(void)
{
	uint8_t psk[KEYS_LEN];
	char other[KEYS_TEXT_LEN + 1];

	cfx_setup("config");
	cr_assert_eq(keys_generate(relay_priv), 0);
	cr_assert_eq(keys_generate(psk), 0);
	cfx_save_key("relay.key", relay_priv, 0600);
	cfx_save_key("open.key", relay_priv, 0644);
	cfx_save_key("psk.key", psk, 0600);
	cfx_save_key("open-psk.key", psk, 0640);
	signing_pub(trusted_text);
	signing_pub(other);
	cfx_write("control2.pub", 0644, "%s\n", other);
	cfx_write("revoked.txt", 0644,
		  "# revoked by the control plane\n"
		  "\n"
		  "ffeeddccbbaa99887766554433221100   # leaked laptop\n"
		  "0123456789ABCDEF0123456789abcdef\n");
	cfx_write("bad-revoked.txt", 0644, "ffeeddccbbaa99887766554433221100\nzz\n");
}

static void teardown(void)
{
	cfx_teardown();
}

TestSuite(config, .init = setup, .fini = teardown);

/* The minimum a relay needs: a key and a trusted signer. */
static void write_minimal(const char *name, const char *extra)
{
	cfx_write(name, 0644,
		  "private_key = \"%s\";\n"
		  "trusted_keys = [ \"%s\" ];\n"
		  "%s",
		  cfx_path("relay.key"), trusted_text, extra);
}

/*
 * Run the whole pipeline as main() does: args, file and flags, secrets.
 * @stage says how far it got: 0 args failed, 1 load failed, 2 secrets
 * failed, 3 success.
 */
static int run(struct relay_config *c, char *err, size_t errlen, int argc, const char **argv)
{
	struct relay_config_args a;

	relay_config_init(c);
	if (relay_config_parse_args(&a, argc, (char **)argv, err, errlen))
		return 0;
	if (relay_config_load(c, &a, err, errlen))
		return 1;
	if (relay_config_load_secrets(c, err, errlen))
		return 2;
	return 3;
}

static int run_file(struct relay_config *c, char *err, size_t errlen, const char *file)
{
	const char *argv[] = { "postern-relay", "-c", file, NULL };

	return run(c, err, errlen, 3, argv);
}

Test(config, good_file_sets_every_setting)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "", text[DP_ADDR_TEXT_MAX];
	uint8_t pub[KEYS_LEN], id[TOKEN_ID_LEN] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
		0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	uint8_t id_file[TOKEN_ID_LEN] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

	cfx_write("good.conf", 0644,
		  "# a complete configuration\n"
		  "listen = [ \"127.0.0.1:51820\", \"[::1]:51821\" ];\n"
		  "workers = 2;\n"
		  "backend = \"socket\";\n"
		  "io = \"mmsg\";\n"
		  "private_key = \"%s\";\n"
		  "trusted_keys = [ \"%s\", \"@%s\" ];\n"
		  "revoked = [ \"00112233445566778899aabbccddeeff\" ];\n"
		  "revoked_file = \"%s\";\n"
		  "psk_file = \"%s\";\n"
		  "suites = [ \"chachapoly\" ];\n"
		  "token_skew = 10;\n"
		  "limits = { max_sessions = 5000; max_channels = 16;\n"
		  "           handshake_budget = 4; handshake_rate = 7; };\n"
		  "eal = { memory_mb = 96; args = [ \"--log-level=lib.eal:debug\" ]; };\n"
		  "drain_ms = 500;\n"
		  "stats_file = \"%s\";\n"
		  "log_level = \"debug\";\n",
		  cfx_path("relay.key"), trusted_text, cfx_path("control2.pub"),
		  cfx_path("revoked.txt"), cfx_path("psk.key"), cfx_path("stats.json"));

	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("good.conf")), 3, "%s", err);
	cr_assert_eq(c.n_listen, 2);
	dp_addr_format(&c.listen[0], text);
	cr_assert_str_eq(text, "127.0.0.1:51820");
	dp_addr_format(&c.listen[1], text);
	cr_assert_str_eq(text, "[::1]:51821");
	cr_assert_eq(c.io, DP_SOCK_IO_MMSG);
	cr_assert_eq(c.n_trusted, 2);
	cr_assert_eq(token_trust_n_signers(c.trust), 2);
	cr_assert(token_trust_is_revoked(c.trust, id));
	cr_assert(token_trust_is_revoked(c.trust, id_file), "upper-case hex in the file");
	cr_assert_eq(c.n_revoked_file, 2);
	cr_assert(c.has_psk);
	cr_assert_eq(c.eal_memory_mb, 96);
	cr_assert_eq(c.n_eal_args, 1);
	cr_assert_str_eq(c.eal_args[0], "--log-level=lib.eal:debug");
	cr_assert_eq(c.drain_ms, 500);
	cr_assert_str_eq(c.stats_file, cfx_path("stats.json"));
	cr_assert_eq(c.log_level, LOG_LEVEL_DEBUG);

	/* What the core gets. */
	cr_assert_eq(c.params.n_workers, 2);
	cr_assert_eq(c.params.suites, HOP_SUITES_CHACHAPOLY);
	cr_assert_eq(c.params.token_skew_s, 10);
	cr_assert_eq(c.params.max_sessions, 5000);
	cr_assert_eq(c.params.max_channels, 16);
	cr_assert_eq(c.params.handshake_budget, 4);
	cr_assert_eq(c.params.handshake_rate, 7);
	cr_assert_eq(c.params.trust, c.trust);
	cr_assert_arr_eq(c.params.static_priv, relay_priv, KEYS_LEN);
	cr_assert_eq(keys_public_x25519(relay_priv, pub), 0);
	cr_assert_arr_eq(c.public_key, pub, KEYS_LEN);
	relay_config_free(&c);
}

Test(config, defaults_when_the_file_says_little)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "";
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	write_minimal("min.conf", "");
	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("min.conf")), 3, "%s", err);
	cr_assert_eq(c.n_listen, 2, "0.0.0.0:51820 and [::]:51820");
	cr_assert_eq(c.listen[0].port, RELAY_CONFIG_DEFAULT_PORT);
	cr_assert_eq(c.workers, (unsigned)(cpus > RELAY_MAX_WORKERS ? RELAY_MAX_WORKERS : cpus));
	cr_assert_eq(c.suites, HOP_SUITES_ALL);
	cr_assert_eq(c.token_skew, TOKEN_DEFAULT_SKEW);
	cr_assert_eq(c.drain_ms, RELAY_CONFIG_DEFAULT_DRAIN_MS);
	cr_assert_eq(c.log_level, LOG_LEVEL_INFO);
	cr_assert_not(c.has_psk);
	cr_assert_null(c.stats_file);
	cr_assert_str_eq(c.control_socket, "/run/postern/relay.sock");
	cr_assert_str_eq(c.control_group, "");
	cr_assert_eq(c.control_gid, -1, "no group: the socket stays 0600");
	cr_assert_str_eq(c.metrics_listen, "127.0.0.1:9180");
	cr_assert_not(c.metrics_allow_public);
	relay_config_free(&c);
}

/* The DPDK backend: ports as groups, each member checked, and the listen addresses on them. */
Test(config, dpdk_ports_from_the_file)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "", text[DP_PORTCONF_TEXT_MAX];
	static const uint8_t gw4[4] = { 10, 77, 1, 254 };
	static const uint8_t gw6[16] = { 0xfe, 0x80, [15] = 1 };

	write_minimal("dpdk.conf",
		      "backend = \"dpdk\";\n"
		      "listen = [ \"0.0.0.0:51820\", \"[::]:51820\", \"10.77.2.1:443\" ];\n"
		      "eal = { hugepages = true; };\n"
		      "dpdk = {\n"
		      "  idle = \"poll\";\n"
		      "  ports = (\n"
		      "    { device = \"net_af_packet0,iface=veth0,qpairs=2\";\n"
		      "      addresses = [ \"10.77.1.1/24\", \"fd77:1::1/64\" ];\n"
		      "      gateway = [ \"10.77.1.254\", \"fe80::1\" ];\n"
		      "      mtu = 9000; },\n"
		      "    { device = \"0000:3b:00.0\"; addresses = \"10.77.2.1/32\"; }\n"
		      "  );\n"
		      "};\n");
	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("dpdk.conf")), 3, "%s", err);
	cr_assert_eq(c.backend, RELAY_BACKEND_DPDK);
	cr_assert_eq(c.idle, DP_ETHDEV_IDLE_POLL);
	cr_assert(c.eal_hugepages);
	cr_assert_eq(c.n_ports, 2);
	cr_assert_str_eq(c.ports[0].device, "net_af_packet0,iface=veth0,qpairs=2");
	cr_assert_not(dp_portconf_is_pci(c.ports[0].device));
	cr_assert(dp_portconf_is_pci(c.ports[1].device));
	cr_assert_eq(c.ports[0].n_addrs, 2);
	dp_portconf_format_ifaddr(&c.ports[0].addrs[1], text);
	cr_assert_str_eq(text, "fd77:1::1/64");
	cr_assert_arr_eq(c.ports[0].gateway4, gw4, 4);
	cr_assert_arr_eq(c.ports[0].gateway6, gw6, 16);
	cr_assert_eq(c.ports[0].mtu, 9000);
	cr_assert_eq(c.ports[1].mtu, 0, "default MTU");
	dp_portconf_format_ifaddr(&c.ports[1].addrs[0], text);
	cr_assert_str_eq(text, "10.77.2.1/32");
	relay_config_free(&c);

	/* Defaults: the socket backend, idle workers sleep, no hugepages, no port. */
	write_minimal("min.conf", "");
	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("min.conf")), 3, "%s", err);
	cr_assert_eq(c.backend, RELAY_BACKEND_SOCKET);
	cr_assert_eq(c.idle, DP_ETHDEV_IDLE_SLEEP);
	cr_assert_not(c.eal_hugepages);
	cr_assert_eq(c.n_ports, 0);
	relay_config_free(&c);
}

/* --dpdk-port replaces the file's ports; --backend and --dpdk-idle override too. */
Test(config, dpdk_flags_override_the_file)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "";
	const char *argv[] = {
		"postern-relay", "-c", cfx_path("dpdkf.conf"), "--backend", "dpdk",
		"--dpdk-port", "net_ring0;address=10.77.3.1/24;gateway=10.77.3.254;mtu=1400",
		"--dpdk-port", "net_null0;address=fd77:3::1/64;address=10.77.4.1/24",
		"--dpdk-idle", "sleep", NULL,
	};

	write_minimal("dpdkf.conf", "backend = \"socket\";\ndpdk = { idle = \"poll\"; ports = "
		      "( { device = \"net_tap0\"; addresses = \"10.77.1.1/24\"; } ); };\n");
	cr_assert_eq(run(&c, err, sizeof(err), (int)(sizeof(argv) / sizeof(argv[0]) - 1), argv), 3,
		     "%s", err);
	cr_assert_eq(c.backend, RELAY_BACKEND_DPDK);
	cr_assert_eq(c.idle, DP_ETHDEV_IDLE_SLEEP);
	cr_assert_eq(c.n_ports, 2, "the flags replace the file's list");
	cr_assert_str_eq(c.ports[0].device, "net_ring0");
	cr_assert_eq(c.ports[0].mtu, 1400);
	cr_assert_eq(c.ports[0].gateway4[3], 254);
	cr_assert_eq(c.ports[1].n_addrs, 2);
	relay_config_free(&c);
}

/* The control plane's settings (docs/control.md), each case one file's extra lines. */
static const struct {
	const char *text;
	const char *socket, *group, *metrics;
	long gid;
	bool allow_public;
} control_cases[] = {
	{ "control_socket = \"/tmp/p/relay.sock\";\n", "/tmp/p/relay.sock", "", "127.0.0.1:9180",
	  -1, false },
	{ "control_group = \"root\";\n", "/run/postern/relay.sock", "root", "127.0.0.1:9180", 0,
	  false },
	{ "control_group = \"4242\";\n", "/run/postern/relay.sock", "4242", "127.0.0.1:9180",
	  4242, false },
	{ "metrics_listen = \"off\";\n", "/run/postern/relay.sock", "", "", -1, false },
	{ "metrics_listen = \"[::1]:9181\";\n", "/run/postern/relay.sock", "", "[::1]:9181", -1,
	  false },
	{ "metrics_listen = \"127.8.9.10:80\";\n", "/run/postern/relay.sock", "",
	  "127.8.9.10:80", -1, false },
	{ "metrics_listen = \"0.0.0.0:9180\";\nmetrics_allow_public = true;\n",
	  "/run/postern/relay.sock", "", "0.0.0.0:9180", -1, true },
	{ "metrics_allow_public = true;\nmetrics_listen = \"[2001:db8::1]:9180\";\n",
	  "/run/postern/relay.sock", "", "[2001:db8::1]:9180", -1, true },
	{ "metrics_allow_public = false;\n", "/run/postern/relay.sock", "", "127.0.0.1:9180", -1,
	  false },
};

Test(config, control_plane_settings)
{
	for (unsigned i = 0; i < sizeof(control_cases) / sizeof(control_cases[0]); i++) {
		struct relay_config c;
		char err[RELAY_CONFIG_ERR_MAX] = "";

		write_minimal("ctl.conf", control_cases[i].text);
		cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("ctl.conf")), 3, "case %u: %s",
			     i, err);
		cr_assert_str_eq(c.control_socket, control_cases[i].socket, "case %u", i);
		cr_assert_str_eq(c.control_group, control_cases[i].group, "case %u", i);
		cr_assert_eq(c.control_gid, control_cases[i].gid, "case %u", i);
		cr_assert_str_eq(c.metrics_listen, control_cases[i].metrics, "case %u", i);
		cr_assert_eq(c.metrics_allow_public, control_cases[i].allow_public, "case %u", i);
		relay_config_free(&c);
	}
}

Test(config, control_plane_flags_override_the_file)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "";
	const char *argv[] = {
		"postern-relay", "-c", cfx_path("ctlf.conf"), "--control-socket",
		"/tmp/q.sock", "--control-group", "0", "--metrics-listen", "off",
		"--metrics-allow-public", "false", NULL,
	};

	write_minimal("ctlf.conf", "control_socket = \"/tmp/p.sock\";\n"
		      "metrics_listen = \"0.0.0.0:9\";\nmetrics_allow_public = true;\n");
	cr_assert_eq(run(&c, err, sizeof(err), (int)(sizeof(argv) / sizeof(argv[0]) - 1), argv), 3,
		     "%s", err);
	cr_assert_str_eq(c.control_socket, "/tmp/q.sock");
	cr_assert_eq(c.control_gid, 0);
	cr_assert_str_eq(c.metrics_listen, "", "off: no HTTP listener");
	cr_assert_not(c.metrics_allow_public);
	relay_config_free(&c);
}

/*
 * One bad file per line: its text, the line the message must name, and a
 * fragment of the message. Each file starts with two comment lines, so the
 * case's own first line is line 3. (Every case fails while the file is read,
 * before the relay looks for its keys.)
 */
static const struct {
	const char *text;
	unsigned line;
	const char *msg;
} bad_files[] = {
	{ "workers = 0;\n", 3, "workers: must be an integer from 1 to 64" },
	{ "workers = 65;\n", 3, "workers: must be an integer from 1 to 64" },
	{ "workers = \"2\";\n", 3, "workers: must be an integer, not a string" },
	{ "workers = 2.5;\n", 3, "workers: must be an integer, not a number with a fraction" },
	{ "wokers = 2;\n", 3, "unknown setting 'wokers' (did you mean 'workers'?)" },
	{ "completely_unknown = 1;\n", 3, "unknown setting 'completely_unknown'" },
	{ "\n\nlisten = [ \"1.2.3.4\" ];\n", 5, "listen[0]: '1.2.3.4': expected IPV4:PORT" },
	{ "listen = [ \"127.0.0.1:1\",\n  \"::1:5\" ];\n", 4, "listen[1]: '::1:5': an IPv6 "
	  "address needs brackets" },
	{ "listen = [ \"1.2.3.4:0\" ];\n", 3, "the port must be a number from 1 to 65535" },
	{ "listen = [ \"1.2.3.4:65536\" ];\n", 3, "the port must be a number from 1 to 65535" },
	{ "listen = [ \"300.1.1.1:5\" ];\n", 3, "not an IPv4 address" },
	{ "listen = [ \"[::1:5\" ];\n", 3, "expected [IPV6]:PORT" },
	{ "listen = [ \"1.2.3.4:5\", \"1.2.3.4:5\" ];\n", 3,
	  "listen[1]: '1.2.3.4:5': listed twice" },
	{ "listen = [ 51820 ];\n", 3, "listen[0]: must be a string, not an integer" },
	{ "listen = 51820;\n", 3, "listen: must be a list of strings" },
	{ "backend = \"dpdk\";\n", 3, "backend 'dpdk': no port; set dpdk.ports, or give "
	  "--dpdk-port" },
	{ "backend = \"vpp\";\n", 3, "backend: 'vpp': expected \"socket\" or \"dpdk\"" },
	/* The DPDK backend's ports (dataplane/portconf.h) and settings. */
	{ "dpdk = { idle = \"spin\"; };\n", 3, "dpdk.idle: 'spin': expected \"sleep\" or "
	  "\"poll\"" },
	{ "dpdk = { port = 1; };\n", 3, "unknown setting 'dpdk.port' (did you mean "
	  "'dpdk.ports'?)" },
	{ "dpdk = { ports = ( { device = \"eth0\"; addresses = \"10.77.1.1/24\"; } ); };\n", 3,
	  "dpdk.ports[0].device: 'eth0': expected a virtual device (net_NAME[,ARGS]) or a PCI "
	  "address" },
	{ "dpdk = { ports = ( { device = \"net_null0,a b\"; } ); };\n", 3,
	  "dpdk.ports[0].device: 'net_null0,a b': a device has no blanks" },
	{ "dpdk = {\n  ports = ( { device = \"net_null0\";\n    addresses = [ \"10.77.1.1\" ]; "
	  "} );\n};\n", 5, "dpdk.ports[0].addresses[0]: '10.77.1.1': expected ADDRESS/PREFIX" },
	{ "dpdk = { ports = ( { device = \"net_null0\"; addresses = [ \"224.0.0.1/4\" ]; } ); };\n",
	  3, "'224.0.0.1/4': a port address must be unicast" },
	{ "dpdk = { ports = ( { device = \"net_null0\"; addresses = \"10.77.1.1/33\"; } ); };\n",
	  3, "dpdk.ports[0].addresses: '10.77.1.1/33': an IPv4 prefix length is 0 to 32" },
	{ "dpdk = { ports = ( { device = \"net_null0\"; addresses = \"10.77.1.1/24\";\n"
	  "  gateway = [ \"10.77.1.254\", \"10.77.1.253\" ]; } ); };\n", 4,
	  "dpdk.ports[0].gateway[1]: '10.77.1.253': a second IPv4 gateway" },
	{ "dpdk = { ports = (\n  { device = \"net_null0\"; addresses = \"10.77.1.1/24\";\n"
	  "    gateway = \"fd77::fe\"; } ); };\n", 4,
	  "dpdk.ports[0]: an IPv6 gateway, but no IPv6 address" },
	{ "dpdk = { ports = ( { device = \"net_null0\"; addresses = \"10.77.1.1/24\";\n"
	  "  gateway = \"10.77.1.1\"; } ); };\n", 3,
	  "dpdk.ports[0]: the gateway is one of the port's own addresses" },
	{ "dpdk = { ports = ( { device = \"net_null0\"; addresses = \"10.77.1.1/24\"; "
	  "mtu = 100; } ); };\n", 3, "dpdk.ports[0].mtu: the MTU must be 1280 to 9000" },
	{ "dpdk = { ports = ( { device = \"net_null0\"; addresses = \"10.77.1.1/24\"; "
	  "speed = 10; } ); };\n", 3, "dpdk.ports[0].speed: unknown setting in a port" },
	{ "dpdk = { ports = ( { addresses = \"10.77.1.1/24\"; } ); };\n", 3,
	  "dpdk.ports[0]: no device" },
	{ "dpdk = { ports = ( { device = \"net_null0\"; } ); };\n", 3,
	  "dpdk.ports[0]: no address" },
	{ "dpdk = { ports = [ \"net_null0\" ]; };\n", 3, "dpdk.ports: must be a list of ports" },
	{ "dpdk = { ports = ( \"net_null0\" ); };\n", 3, "dpdk.ports[0]: must be a group" },
	{ "dpdk = { ports = (\n  { device = \"net_null0\"; addresses = \"10.77.1.1/24\"; },\n"
	  "  { device = \"net_null0,size=64\"; addresses = \"10.77.2.1/24\"; } ); };\n", 5,
	  "dpdk.ports[1]: device net_null0 is already port 0" },
	{ "dpdk = { ports = (\n"
	  "{ device = \"net_null0\"; addresses = \"10.77.1.1/24\"; },\n"
	  "{ device = \"net_null1\"; addresses = \"10.77.2.1/24\"; },\n"
	  "{ device = \"net_null2\"; addresses = \"10.77.3.1/24\"; },\n"
	  "{ device = \"0000:3b:00.0\"; addresses = \"10.77.4.1/24\"; },\n"
	  "{ device = \"net_null4\"; addresses = \"10.77.5.1/24\"; } ); };\n", 8,
	  "dpdk.ports[4]: at most 4 ports" },
	{ "backend = \"dpdk\";\nlisten = [ \"0.0.0.0:51820\",\n  \"10.77.9.9:51820\" ];\n"
	  "dpdk = { ports = ( { device = \"net_null0\"; addresses = \"10.77.1.1/24\"; } ); };\n",
	  5, "listen '10.77.9.9:51820': not an address of any dpdk port" },
	{ "backend = \"dpdk\";\nlisten = \"[::]:51820\";\n"
	  "dpdk = { ports = ( { device = \"net_null0\"; addresses = \"10.77.1.1/24\"; } ); };\n",
	  4, "listen: no listen address falls on a dpdk port" },
	{ "eal = { hugepages = 1; };\n", 3, "eal.hugepages: must be true or false, not an "
	  "integer" },
	{ "io = \"epoll\";\n", 3, "io: 'epoll': expected \"mmsg\" or \"uring\"" },
	{ "private_key = \"\";\n", 3, "private_key: must not be empty" },
	{ "trusted_keys = [ ];\ntrusted_keys = [ ];\n", 4, "syntax error" },
	{ "revoked = [ \"abc\" ];\n", 3, "revoked[0]: 'abc': a token id is 32 hex digits" },
	{ "revoked = [ \"00112233445566778899aabbccddeegg\" ];\n", 3,
	  "a token id is 32 hex digits" },
	{ "suites = [ \"aes\" ];\n", 3, "suites[0]: 'aes': expected \"chachapoly\" or \"aesgcm\"" },
	{ "token_skew = 7200;\n", 3, "token_skew: must be an integer from 0 to 3600" },
	{ "limits = { max_sessions = 0; };\n", 3,
	  "limits.max_sessions: must be an integer from 1" },
	{ "limits = {\n  max_channels = 16;\n  max_sesions = 5;\n};\n", 5,
	  "unknown setting 'limits.max_sesions' (did you mean 'limits.max_sessions'?)" },
	{ "limits = 5;\n", 3, "limits: must be a group" },
	{ "limits = { max_channel_ends = 16777216; };\n", 3,
	  "limits.max_channel_ends: must be an integer from 1 to 16777215" },
	{ "lmits = { max_sessions = 5; };\n", 3,
	  "unknown setting 'lmits' (did you mean 'limits'?)" },
	{ "eal = { memory_mb = 10; };\n", 3, "eal.memory_mb: must be an integer from 64" },
	{ "eal = { args = [ \"\" ]; };\n", 3, "eal.args[0]: an empty argument" },
	{ "drain_ms = -1;\n", 3, "drain_ms: must be an integer from 0 to 600000" },
	{ "log_level = \"verbose\";\n", 3, "log_level: 'verbose': expected one of error, warn, "
	  "info, debug" },
	{ "stats_file = 5;\n", 3, "stats_file: must be a string in double quotes, not an integer" },
	{ "workers = ;\n", 3, "syntax error" },
	/* (Not a stray string: libconfig 1.5 leaks its buffer on that error.) */
	{ "\n\nworkers = 2\nio = \"mmsg\";\n}\n", 7, "syntax error" },
	{ "workers = 2;\nworkers = 3;\n", 4, "syntax error" },	/* duplicate setting */
	{ "control_socket = \"relay.sock\";\n", 3,
	  "control_socket: 'relay.sock': must be an absolute path" },
	{ "control_socket = \"/run/postern/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\";\n", 3,
	  "a socket path is at most 107 characters" },
	{ "control_group = \"no-such-group-postern\";\n", 3,
	  "control_group: 'no-such-group-postern': no such group" },
	{ "control_group = 0;\n", 3, "control_group: must be a string in double quotes" },
	{ "metrics_listen = \"localhost:9180\";\n", 3, "metrics_listen: 'localhost:9180': not an "
	  "IPv4 address" },
	{ "metrics_listen = \"127.0.0.1\";\n", 3, "(or \"off\")" },
	{ "\nmetrics_listen = \"0.0.0.0:9180\";\n", 4, "metrics_listen '0.0.0.0:9180': not a "
	  "loopback address; set metrics_allow_public = true" },
	{ "metrics_listen = \"[::]:9180\";\nmetrics_allow_public = false;\n", 3,
	  "not a loopback address" },
	{ "metrics_allow_public = \"yes\";\n", 3,
	  "metrics_allow_public: must be true or false, not a string" },
	{ "metrics_allow_public = 1;\n", 3,
	  "metrics_allow_public: must be true or false, not an integer" },
};

ParameterizedTestParameters(config, bad_file_names_file_line_and_setting)
{
	static unsigned idx[sizeof(bad_files) / sizeof(bad_files[0])];

	for (unsigned i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		idx[i] = i;
	return cr_make_param_array(unsigned, idx, sizeof(idx) / sizeof(idx[0]));
}

ParameterizedTest(unsigned *i, config, bad_file_names_file_line_and_setting)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "", where[256];
	int stage;

	cfx_write("bad.conf", 0644, "# postern-relay\n# a bad case\n%s", bad_files[*i].text);
	stage = run_file(&c, err, sizeof(err), cfx_path("bad.conf"));
	cr_assert_eq(stage, 1, "case %u (%s) got to stage %d: %s", *i, bad_files[*i].text,
		     stage, err);
	snprintf(where, sizeof(where), "%s:%u: ", cfx_path("bad.conf"), bad_files[*i].line);
	cr_assert(strncmp(err, where, strlen(where)) == 0, "case %u: '%s' does not start with '%s'",
		  *i, err, where);
	cr_assert(strstr(err, bad_files[*i].msg), "case %u: '%s' lacks '%s'", *i, err,
		  bad_files[*i].msg);
	cr_assert_null(strchr(err, '\n'), "one line");
	relay_config_free(&c);
}

/* Settings that parse but name files the relay must refuse. */
static const struct {
	const char *name;
	const char *text;	/* the whole file; {D} stands for the test directory */
	const char *msg;
} bad_secrets[] = {
	{ "key readable by others",
	  "private_key = \"{D}/open.key\";\ntrusted_keys = [ \"@{D}/control2.pub\" ];\n",
	  ":1: private_key: {D}/open.key has mode 0644: a private key must not be accessible to "
	  "group or others; run: chmod 600 {D}/open.key" },
	{ "missing key file",
	  "private_key = \"{D}/nope.key\";\ntrusted_keys = [ \"@{D}/control2.pub\" ];\n",
	  ":1: private_key: {D}/nope.key" },
	{ "psk readable by group",
	  "private_key = \"{D}/relay.key\";\ntrusted_keys = [ \"@{D}/control2.pub\" ];\n"
	  "psk_file = \"{D}/open-psk.key\";\n",
	  ":3: psk_file: {D}/open-psk.key has mode 0640" },
	{ "bad id in the revocation file",
	  "private_key = \"{D}/relay.key\";\ntrusted_keys = [ \"@{D}/control2.pub\" ];\n"
	  "revoked_file = \"{D}/bad-revoked.txt\";\n",
	  "{D}/bad-revoked.txt:2: 'zz' is not a token id (32 hex digits)" },
	{ "missing revocation file",
	  "private_key = \"{D}/relay.key\";\ntrusted_keys = [ \"@{D}/control2.pub\" ];\n"
	  "revoked_file = \"{D}/nope.txt\";\n",
	  ":3: revoked_file: cannot read {D}/nope.txt" },
	{ "no private key",
	  "trusted_keys = [ \"@{D}/control2.pub\" ];\n",
	  "no private key: set private_key, or give --private-key" },
	{ "no trusted key",
	  "private_key = \"{D}/relay.key\";\n",
	  "no trusted control-plane key: set trusted_keys, or give --trust" },
	{ "no listen address",
	  "private_key = \"{D}/relay.key\";\ntrusted_keys = [ \"@{D}/control2.pub\" ];\n"
	  "listen = [ ];\n",
	  "no listen address" },
	{ "fewer sessions than workers",
	  "private_key = \"{D}/relay.key\";\ntrusted_keys = [ \"@{D}/control2.pub\" ];\n"
	  "workers = 4;\nlimits = { max_sessions = 3; };\n",
	  "limits.max_sessions (3) must be at least workers (4)" },
	{ "a trusted key that is not one",
	  "private_key = \"{D}/relay.key\";\ntrusted_keys = [ \"@{D}/control2.pub\",\n"
	  "  \"not-a-key\" ];\n",
	  "secret.conf:3: trusted_keys[1]:" },
	{ "a trusted key file that is missing",
	  "private_key = \"{D}/relay.key\";\ntrusted_keys = [ \"@/nonexistent/postern.pub\" ];\n",
	  "secret.conf:2: trusted_keys[0]: /nonexistent/postern.pub" },
	{ "the same key trusted twice",
	  "private_key = \"{D}/relay.key\";\n"
	  "trusted_keys = [ \"@{D}/control2.pub\", \"@{D}/control2.pub\" ];\n",
	  ":2: trusted_keys[1]: the same key is trusted twice" },
};

/* @s with every "{D}" replaced by the test directory; the caller frees it. */
static char *with_dir(const char *s)
{
	char *out = malloc(strlen(s) * 4 + 1), *o = out;

	cr_assert_not_null(out);
	while (*s) {
		if (!strncmp(s, "{D}", 3)) {
			o = stpcpy(o, cfx_dir);
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

Test(config, refuses_unsafe_or_missing_secrets)
{
	for (unsigned i = 0; i < sizeof(bad_secrets) / sizeof(bad_secrets[0]); i++) {
		struct relay_config c;
		char err[RELAY_CONFIG_ERR_MAX] = "", *want, *text;
		int stage;

		text = with_dir(bad_secrets[i].text);
		cfx_write("secret.conf", 0644, "%s", text);
		free(text);
		want = with_dir(bad_secrets[i].msg);
		stage = run_file(&c, err, sizeof(err), cfx_path("secret.conf"));
		cr_assert(stage == 1 || stage == 2, "%s: accepted", bad_secrets[i].name);
		cr_assert(strstr(err, want), "%s: '%s' lacks '%s'", bad_secrets[i].name, err, want);
		cr_assert_eq(c.params.static_priv[0] | c.params.static_priv[31], 0,
			     "%s: key wiped", bad_secrets[i].name);
		free(want);
		relay_config_free(&c);
	}
}

Test(config, missing_file_is_named)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "";

	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("absent.conf")), 1);
	cr_assert(strstr(err, "absent.conf: cannot read the configuration: No such file"), "%s",
		  err);
	relay_config_free(&c);
}

Test(config, flags_override_the_file)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "", text[DP_ADDR_TEXT_MAX];
	const char *argv[] = {
		"postern-relay", "--workers", "3", "-c", cfx_path("over.conf"),
		"--listen", "127.0.0.2:4000", "--io", "uring", "--listen", "[::1]:4001",
		"--max-sessions", "77", "--suite", "aesgcm", "--log-level", "warn",
		"--drain-ms", "0", "--stats-file", "/tmp/x.json", "--eal-arg", "--no-telemetry",
		NULL,
	};

	write_minimal("over.conf",
		      "workers = 2;\nio = \"mmsg\";\n"
		      "listen = [ \"127.0.0.1:1\", \"127.0.0.1:2\" ];\n"
		      "limits = { max_sessions = 5; };\nsuites = [ \"chachapoly\" ];\n"
		      "drain_ms = 100;\neal = { args = [ \"--a\", \"--b\" ]; };\n");
	cr_assert_eq(run(&c, err, sizeof(err), (int)(sizeof(argv) / sizeof(argv[0]) - 1), argv), 3,
		     "%s", err);
	cr_assert_eq(c.workers, 3, "a flag before -c still wins");
	cr_assert_eq(c.io, DP_SOCK_IO_URING);
	cr_assert_eq(c.n_listen, 2, "the flags replace the file's list");
	dp_addr_format(&c.listen[0], text);
	cr_assert_str_eq(text, "127.0.0.2:4000");
	dp_addr_format(&c.listen[1], text);
	cr_assert_str_eq(text, "[::1]:4001");
	cr_assert_eq(c.params.max_sessions, 77);
	cr_assert_eq(c.params.suites, HOP_SUITES_AESGCM);
	cr_assert_eq(c.log_level, LOG_LEVEL_WARN);
	cr_assert_eq(c.drain_ms, 0);
	cr_assert_str_eq(c.stats_file, "/tmp/x.json");
	cr_assert_eq(c.n_eal_args, 1);
	cr_assert_str_eq(c.eal_args[0], "--no-telemetry");
	relay_config_free(&c);
}

Test(config, flags_alone_without_a_file)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "", trust[KEYS_TEXT_LEN + 2];
	const char *argv[] = {
		"postern-relay", "--private-key", cfx_path("relay.key"), "--trust", trust,
		"--trust", trusted_text, "--revoked", "00112233445566778899AABBCCDDEEFF",
		"--workers", "1", NULL,
	};

	snprintf(trust, sizeof(trust), "@%s", cfx_path("control2.pub"));
	cr_assert_eq(run(&c, err, sizeof(err), (int)(sizeof(argv) / sizeof(argv[0]) - 1), argv), 3,
		     "%s", err);
	cr_assert_null(c.file);
	cr_assert_eq(c.n_trusted, 2);
	cr_assert_eq(c.n_revoked, 1);
	cr_assert_eq(c.params.n_workers, 1);
	relay_config_free(&c);
}

/* A key file the file names but a flag replaces is never opened. */
Test(config, replaced_key_files_are_not_read)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "", trust[KEYS_TEXT_LEN + 2];
	const char *argv[] = {
		"postern-relay", "-c", cfx_path("replaced.conf"), "--trust", trust,
		"--private-key", cfx_path("relay.key"), NULL,
	};

	cfx_write("replaced.conf", 0644,
		  "private_key = \"/nonexistent/relay.key\";\n"
		  "trusted_keys = [ \"@/nonexistent/control.pub\" ];\n");
	snprintf(trust, sizeof(trust), "@%s", cfx_path("control2.pub"));
	cr_assert_eq(run(&c, err, sizeof(err), 7, argv), 3, "%s", err);
	cr_assert_eq(c.n_trusted, 1);
	relay_config_free(&c);
}

/* Bad flags: the arguments after argv[0], the stage that refuses, the message. */
static const struct {
	const char *args[4];
	int stage;
	const char *msg;
} bad_flags[] = {
	{ { "--workers", "abc" }, 1, "--workers 'abc': must be an integer from 1 to 64" },
	{ { "--workers", "0" }, 1, "--workers '0': must be an integer from 1 to 64" },
	{ { "--workers", "99999999999999999999" }, 1, "--workers '99999999999999999999'" },
	{ { "--max-channels", "70000" }, 1, "--max-channels '70000': must be an integer from 1 "
	  "to 65535" },
	{ { "--io", "epoll" }, 1, "--io 'epoll': expected \"mmsg\" or \"uring\"" },
	{ { "--listen", "localhost:80" }, 1, "--listen 'localhost:80': not an IPv4 address" },
	{ { "--trust", "AAAA" }, 2, "--trust 'AAAA':" },
	{ { "--revoked", "xyz" }, 1, "--revoked 'xyz': a token id is 32 hex digits" },
	{ { "--private-key", "/nonexistent.key" }, 2, "--private-key: private_key: "
	  "/nonexistent.key" },
	{ { "--wokers", "2" }, 0, "unknown option '--wokers'" },
	{ { "-x" }, 0, "unknown option '-x'" },
	{ { "--workers" }, 0, "option '--workers' needs a value" },
	{ { "stray" }, 0, "unexpected argument 'stray'" },
	{ { "--metrics-allow-public", "yes" }, 1, "--metrics-allow-public 'yes': must be true or "
	  "false" },
	{ { "--metrics-listen", "10.0.0.1:9180" }, 1, "--metrics-listen: metrics_listen "
	  "'10.0.0.1:9180': not a loopback address" },
	{ { "--control-socket", "" }, 1, "--control-socket '': must be an absolute path" },
	{ { "--control-group", "no-such-group-postern" }, 1, "no such group" },
	{ { "--backend", "xdp" }, 1, "--backend 'xdp': expected \"socket\" or \"dpdk\"" },
	{ { "--backend", "dpdk" }, 1, "--backend: backend 'dpdk': no port" },
	{ { "--dpdk-port", "net_null0" }, 1, "--dpdk-port 'net_null0': no address" },
	{ { "--dpdk-port", "net_null0;addr=10.77.1.1/24" }, 1, "unknown key: expected address=" },
	{ { "--dpdk-port", "net_null0;address=10.77.1.1/24;mtu=big" }, 1,
	  "the MTU must be a number from 1280 to 9000" },
	{ { "--dpdk-port", "eth0;address=10.77.1.1/24" }, 1, "expected a virtual device" },
	{ { "--dpdk-idle", "busy" }, 1, "--dpdk-idle 'busy': expected \"sleep\" or \"poll\"" },
	{ { "--eal-hugepages", "1" }, 1, "--eal-hugepages '1': must be true or false" },
};

Test(config, bad_flags_name_the_flag_and_value)
{
	for (unsigned i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		struct relay_config c;
		char err[RELAY_CONFIG_ERR_MAX] = "";
		const char *argv[10] = { "postern-relay", "-c", cfx_path("min.conf") };
		int argc = 3, stage;

		write_minimal("min.conf", "");
		for (unsigned k = 0; k < 4 && bad_flags[i].args[k]; k++)
			argv[argc++] = bad_flags[i].args[k];
		argv[argc] = NULL;
		stage = run(&c, err, sizeof(err), argc, argv);
		cr_assert_eq(stage, bad_flags[i].stage, "case %u (%s): stage %d: %s", i,
			     bad_flags[i].args[0], stage, err);
		cr_assert(strstr(err, bad_flags[i].msg), "case %u: '%s' lacks '%s'", i, err,
			  bad_flags[i].msg);
		relay_config_free(&c);
	}
}

Test(config, actions)
{
	static const struct {
		const char *arg;
		enum relay_config_action action;
	} cases[] = {
		{ "--help", RELAY_CONFIG_HELP },
		{ "-h", RELAY_CONFIG_HELP },
		{ "--version", RELAY_CONFIG_VERSION },
		{ "--check-config", RELAY_CONFIG_CHECK },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct relay_config_args a;
		char err[RELAY_CONFIG_ERR_MAX] = "";
		const char *argv[] = { "postern-relay", cases[i].arg, NULL };

		cr_assert_eq(relay_config_parse_args(&a, 2, (char **)argv, err, sizeof(err)), 0,
			     "%s: %s", cases[i].arg, err);
		cr_assert_eq(a.action, cases[i].action, "%s", cases[i].arg);
	}
	cr_assert(strstr(relay_config_usage(), "--max-sessions N"));
	cr_assert(strstr(relay_config_usage(), "--check-config"));
}

/* What --check-config prints is itself a valid file that means the same. */
Test(config, printed_config_reads_back_the_same)
{
	struct relay_config c, again;
	char err[RELAY_CONFIG_ERR_MAX] = "", *printed;
	size_t len;
	FILE *out;

	write_minimal("src.conf",
		      "listen = [ \"127.0.0.1:5\", \"[::1]:6\" ];\nworkers = 2;\nio = \"mmsg\";\n"
		      "revoked = [ \"00112233445566778899aabbccddeeff\" ];\n"
		      "suites = [ \"aesgcm\" ];\nlimits = { max_channels = 9; };\n"
		      "eal = { memory_mb = 80; args = [ \"--x=\\\"q\\\"\" ]; };\n"
		      "stats_file = \"/tmp/s.json\";\nlog_level = \"error\";\n"
		      "control_socket = \"/tmp/c.sock\";\ncontrol_group = \"root\";\n"
		      "metrics_listen = \"[::]:9\";\nmetrics_allow_public = true;\n");
	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("src.conf")), 3, "%s", err);
	out = open_memstream(&printed, &len);
	cr_assert_eq(relay_config_print(&c, out), 0);
	fclose(out);
	cr_assert_null(strstr(printed, "psk ="), "no secret is printed");
	cfx_write("printed.conf", 0644, "%s", printed);
	cr_assert_eq(run_file(&again, err, sizeof(err), cfx_path("printed.conf")), 3,
		     "%s\n%s", err, printed);
	cr_assert_eq(again.n_listen, c.n_listen);
	cr_assert(pkt_addr_equal(&again.listen[1], &c.listen[1]));
	cr_assert_eq(again.workers, c.workers);
	cr_assert_eq(again.io, c.io);
	cr_assert_eq(again.suites, c.suites);
	cr_assert_eq(again.n_revoked, 1);
	cr_assert_arr_eq(again.revoked[0], c.revoked[0], TOKEN_ID_LEN);
	cr_assert_eq(again.max_channels, 9);
	cr_assert_eq(again.eal_memory_mb, 80);
	cr_assert_str_eq(again.eal_args[0], "--x=\"q\"");
	cr_assert_str_eq(again.stats_file, c.stats_file);
	cr_assert_eq(again.log_level, LOG_LEVEL_ERROR);
	cr_assert_arr_eq(again.trusted[0], c.trusted[0], KEYS_LEN);
	cr_assert_str_eq(again.control_socket, "/tmp/c.sock");
	cr_assert_eq(again.control_gid, 0);
	cr_assert_str_eq(again.metrics_listen, "[::]:9");
	cr_assert(again.metrics_allow_public);
	free(printed);

	/* "off" and the absent group read back too. */
	write_minimal("src2.conf", "metrics_listen = \"off\";\n");
	relay_config_free(&again);
	cr_assert_eq(run_file(&again, err, sizeof(err), cfx_path("src2.conf")), 3, "%s", err);
	out = open_memstream(&printed, &len);
	cr_assert_eq(relay_config_print(&again, out), 0);
	fclose(out);
	cr_assert(strstr(printed, "metrics_listen = \"off\";"), "%s", printed);
	cr_assert(strstr(printed, "# control_group: not set"), "%s", printed);
	free(printed);
	relay_config_free(&c);
	relay_config_free(&again);
}

Test(config, printed_dpdk_config_reads_back_the_same)
{
	struct relay_config c, again;
	char err[RELAY_CONFIG_ERR_MAX] = "", *printed;
	size_t len;
	FILE *out;

	write_minimal("dsrc.conf",
		      "backend = \"dpdk\";\nlisten = \"0.0.0.0:51820\";\n"
		      "eal = { hugepages = true; };\n"
		      "dpdk = { idle = \"poll\"; ports = (\n"
		      "  { device = \"net_af_packet0,iface=v0,qpairs=2\";\n"
		      "    addresses = [ \"10.77.1.1/24\", \"fd77::1/64\" ];\n"
		      "    gateway = [ \"fd77::fe\", \"10.77.1.254\" ]; mtu = 1400; },\n"
		      "  { device = \"net_null0\"; addresses = \"10.77.2.1/24\"; } ); };\n");
	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("dsrc.conf")), 3, "%s", err);
	out = open_memstream(&printed, &len);
	cr_assert_eq(relay_config_print(&c, out), 0);
	fclose(out);
	cfx_write("dprinted.conf", 0644, "%s", printed);
	cr_assert_eq(run_file(&again, err, sizeof(err), cfx_path("dprinted.conf")), 3,
		     "%s\n%s", err, printed);
	cr_assert_eq(again.backend, RELAY_BACKEND_DPDK);
	cr_assert_eq(again.idle, DP_ETHDEV_IDLE_POLL);
	cr_assert(again.eal_hugepages);
	cr_assert_eq(again.n_ports, 2);
	for (unsigned i = 0; i < 2; i++) {
		cr_assert_str_eq(again.ports[i].device, c.ports[i].device);
		cr_assert_eq(again.ports[i].n_addrs, c.ports[i].n_addrs);
		cr_assert_arr_eq(again.ports[i].addrs, c.ports[i].addrs,
				 sizeof(c.ports[i].addrs[0]) * c.ports[i].n_addrs);
		cr_assert_arr_eq(again.ports[i].gateway4, c.ports[i].gateway4, 4);
		cr_assert_arr_eq(again.ports[i].gateway6, c.ports[i].gateway6, 16);
	}
	cr_assert_eq(again.ports[0].mtu, 1400);
	cr_assert_eq(again.ports[1].mtu, 1500, "printed as the default it stands for");
	free(printed);
	relay_config_free(&c);
	relay_config_free(&again);
}

Test(config, include_is_relative_to_the_file)
{
	struct relay_config c;
	char err[RELAY_CONFIG_ERR_MAX] = "";

	cfx_write("limits.inc", 0644, "limits = { max_sessions = 42; };\n");
	write_minimal("inc.conf", "@include \"limits.inc\"\n");
	cr_assert_eq(chdir("/"), 0);
	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("inc.conf")), 3, "%s", err);
	cr_assert_eq(c.max_sessions, 42);
	relay_config_free(&c);

	cfx_write("limits.inc", 0644, "limits = { max_sessions = -4; };\n");
	cr_assert_eq(run_file(&c, err, sizeof(err), cfx_path("inc.conf")), 1);
	cr_assert(strstr(err, "limits.inc:1: limits.max_sessions:"), "the included file is "
		  "named: %s", err);
	relay_config_free(&c);
}
