/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cfg.c - the configuration loader: the embedded default, overlays,
 * environment overrides, every kind of error with its FILE:LINE, cfg_print's
 * round trip and the file search order.
 *
 * User documents are loaded from buffers that end at a guard page, so a read
 * past a document's length faults.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "cfg_keys.h"
#include "cfg_load.h"
#include "guard.h"

static char err[8192];

/* Loads yaml (as "t.yaml") over the default with envp; returns cfg_load_buf's result. */
static int load(struct cfg *c, const char *yaml, char *const *envp)
{
	struct guard_buf g;
	size_t len = strlen(yaml);
	int rc;

	rc = cfg_load_buf(c, "t.yaml", (const char *)guard_copy(&g, yaml, len), len, envp, err,
			  sizeof(err));
	guard_free(&g);
	return rc;
}

/* Asserts that yaml is refused with a message containing want, and that the
 * refused cfg holds nothing. */
static void expect_refused(const char *yaml, char *const *envp, const char *want)
{
	struct cfg c;

	if (load(&c, yaml, envp) == 0) {
		cfg_fini(&c);
		fail_msg("accepted:\n%.300s\nexpected an error containing: %s", yaml, want);
	}
	if (!strstr(err, want))
		fail_msg("for:\n%.300s\ngot:      %s\nexpected: %s", yaml, err, want);
	assert_int_equal(c.dpdk.n_eal_args, 0);
	assert_null(c.dpdk.eal_args[0]);
	assert_int_equal(c.cluster.n_servers, 0);
	assert_null(c.cluster.servers[0]);
}

struct refusal {
	const char *yaml;
	const char *want; /* a substring of the message, usually from "t.yaml:LINE:" */
};

static void expect_all_refused(const struct refusal *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		expect_refused(t[i].yaml, NULL, t[i].want);
}

/* Returns a new string: head, n copies of fill, tail. The caller frees. */
static char *repeat(const char *head, const char *fill, size_t n, const char *tail)
{
	size_t hl = strlen(head), fl = strlen(fill), tl = strlen(tail), i;
	char *s = malloc(hl + n * fl + tl + 1), *p;

	assert_non_null(s);
	memcpy(s, head, hl + 1);
	for (p = s + hl, i = 0; i < n; i++, p += fl)
		memcpy(p, fill, fl);
	memcpy(p, tail, tl + 1);
	return s;
}

static void expect_repeat_refused(const char *head, const char *fill, size_t n, const char *tail,
				  const char *want)
{
	char *yaml = repeat(head, fill, n, tail);

	expect_refused(yaml, NULL, want);
	assert_true(strlen(err) < 200);
	free(yaml);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Returns what cfg_print writes, without its first line (which names the
 * source); the caller frees. */
static char *printed(const struct cfg *c)
{
	char *buf = NULL, *body;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	cfg_print(c, f);
	assert_int_equal(fclose(f), 0);
	body = strchr(buf, '\n');
	assert_non_null(body);
	memmove(buf, body + 1, strlen(body + 1) + 1);
	return buf;
}

/* Asserts that a and b hold the same cluster section (its servers are
 * pointers: compared as strings). */
static void assert_cluster_equal(const struct cfg *a, const struct cfg *b)
{
	unsigned i;

	assert_int_equal(a->cluster.enabled, b->cluster.enabled);
	assert_int_equal(a->cluster.n_servers, b->cluster.n_servers);
	for (i = 0; i < a->cluster.n_servers; i++)
		assert_string_equal(a->cluster.servers[i], b->cluster.servers[i]);
	assert_string_equal(a->cluster.name, b->cluster.name);
	assert_string_equal(a->cluster.instance, b->cluster.instance);
	assert_int_equal(a->cluster.flush_ms, b->cluster.flush_ms);
	assert_int_equal(a->cluster.batch_records, b->cluster.batch_records);
	assert_int_equal(a->cluster.ring_records, b->cluster.ring_records);
	assert_int_equal(a->cluster.replicas, b->cluster.replicas);
	assert_int_equal(a->cluster.max_age, b->cluster.max_age);
	assert_int_equal(a->cluster.buffer_mb, b->cluster.buffer_mb);
	assert_int_equal(a->cluster.connect_timeout_ms, b->cluster.connect_timeout_ms);
	assert_int_equal(a->cluster.key_wait_ms, b->cluster.key_wait_ms);
	assert_string_equal(a->cluster.credentials, b->cluster.credentials);
	assert_string_equal(a->cluster.tls_ca, b->cluster.tls_ca);
	assert_string_equal(a->cluster.tls_cert, b->cluster.tls_cert);
	assert_string_equal(a->cluster.tls_key, b->cluster.tls_key);
}

/* Asserts that a and b hold the same configuration (sources aside). */
static void assert_cfg_equal(const struct cfg *a, const struct cfg *b)
{
	unsigned i;
	char *pa, *pb;

	assert_memory_equal(&a->log, &b->log, sizeof(a->log));
	assert_memory_equal(&a->tracker, &b->tracker, sizeof(a->tracker));
	assert_memory_equal(&a->udp, &b->udp, sizeof(a->udp));
	assert_memory_equal(&a->http, &b->http, sizeof(a->http));
	assert_memory_equal(&a->stats, &b->stats, sizeof(a->stats));
	assert_int_equal(a->dpdk.n_eal_args, b->dpdk.n_eal_args);
	for (i = 0; i < a->dpdk.n_eal_args; i++)
		assert_string_equal(a->dpdk.eal_args[i], b->dpdk.eal_args[i]);
	assert_int_equal(a->dpdk.n_ports, b->dpdk.n_ports);
	assert_memory_equal(a->dpdk.ports, b->dpdk.ports, sizeof(a->dpdk.ports));
	assert_int_equal(a->dpdk.rx_desc, b->dpdk.rx_desc);
	assert_int_equal(a->dpdk.tx_desc, b->dpdk.tx_desc);
	assert_int_equal(a->dpdk.mbufs, b->dpdk.mbufs);
	assert_int_equal(a->dpdk.burst, b->dpdk.burst);
	assert_int_equal(a->dpdk.idle_sleep_us, b->dpdk.idle_sleep_us);
	assert_int_equal(a->dpdk.exit_after_idle_ms, b->dpdk.exit_after_idle_ms);
	assert_cluster_equal(a, b);
	pa = printed(a);
	pb = printed(b);
	assert_string_equal(pa, pb);
	free(pa);
	free(pb);
}

static void assert_cidr(const struct cfg_cidr *c, int family, const uint8_t *addr, int prefix)
{
	assert_int_equal(c->family, family);
	assert_memory_equal(c->addr, addr, family == 4 ? 4 : 16);
	assert_int_equal(c->prefix, prefix);
}

static void test_cfg_default_loads_with_the_documented_values(void **state)
{
	static const uint8_t v4[4] = {198, 18, 0, 2}, lo4[4] = {127, 0, 0, 0}, any[16] = {0};
	static const uint8_t v6[16] = {0xfd, 0, 0, 0xd, [15] = 2}, lo6[16] = {[15] = 1};
	static const char *const eal[] = {"--no-pci", "--file-prefix", "dptrack", "-l", "0"};
	struct cfg c;
	unsigned i;

	(void)state;
	assert_int_equal(cfg_load_buf(&c, "unused", NULL, 0, NULL, err, sizeof(err)), 0);
	cfg_fini(&c);
	assert_int_equal(load(&c, "", NULL), 0);
	assert_string_equal(c.source, "t.yaml");
	assert_int_equal(c.log.level, CFG_LOG_INFO);
	assert_int_equal(c.tracker.announce_interval, 1800);
	assert_int_equal(c.tracker.announce_jitter, 300);
	assert_int_equal(c.tracker.min_interval, 900);
	assert_int_equal(c.tracker.peer_timeout, 2700);
	assert_int_equal(c.tracker.numwant_default, 50);
	assert_int_equal(c.tracker.numwant_max, 200);
	assert_int_equal(c.tracker.max_swarms, 4000000);
	assert_int_equal(c.tracker.max_peers_per_swarm, 1000000);
	assert_int_equal(c.tracker.memory_mb, 2048);
	assert_int_equal(c.udp.n_ports, 1);
	assert_int_equal(c.udp.ports[0], 6969);
	assert_int_equal(c.udp.connection_id_ttl, 120);
	assert_false(c.udp.has_secret);
	assert_int_equal(c.dpdk.n_eal_args, N(eal));
	for (i = 0; i < N(eal); i++)
		assert_string_equal(c.dpdk.eal_args[i], eal[i]);
	assert_int_equal(c.dpdk.n_ports, 1);
	assert_string_equal(c.dpdk.ports[0].device, "net_tap0");
	assert_true(c.dpdk.ports[0].has_ipv4);
	assert_true(c.dpdk.ports[0].has_ipv6);
	assert_cidr(&c.dpdk.ports[0].ipv4, 4, v4, 24);
	assert_cidr(&c.dpdk.ports[0].ipv6, 6, v6, 64);
	assert_int_equal(c.dpdk.rx_desc, 1024);
	assert_int_equal(c.dpdk.tx_desc, 1024);
	assert_int_equal(c.dpdk.mbufs, 16383);
	assert_int_equal(c.dpdk.burst, 32);
	assert_int_equal(c.dpdk.idle_sleep_us, 0);
	assert_int_equal(c.dpdk.exit_after_idle_ms, 0);
	assert_true(c.http.enabled);
	assert_int_equal(c.http.n_listen, 2);
	assert_int_equal(c.http.listen[0].family, 4);
	assert_memory_equal(c.http.listen[0].addr, any, 4);
	assert_int_equal(c.http.listen[0].port, 6969);
	assert_int_equal(c.http.listen[1].family, 6);
	assert_memory_equal(c.http.listen[1].addr, any, 16);
	assert_int_equal(c.http.listen[1].port, 6969);
	assert_int_equal(c.http.threads, 1);
	assert_int_equal(c.http.max_connections, 10000);
	assert_int_equal(c.http.idle_timeout, 15);
	assert_int_equal(c.http.max_request_bytes, 8192);
	assert_int_equal(c.http.n_trusted_proxies, 0);
	assert_int_equal(c.stats.n_allow, 2);
	assert_cidr(&c.stats.allow[0], 4, lo4, 8);
	assert_cidr(&c.stats.allow[1], 6, lo6, 128);
	cfg_fini(&c);
	assert_int_equal(c.dpdk.n_eal_args, 0);
	cfg_fini(&c); /* twice is harmless */
}

static void test_cfg_embedded_default_is_the_nul_terminated_yaml_file(void **state)
{
	(void)state;
	assert_true(cfg_default_yaml_len > 1000);
	assert_int_equal(strlen(cfg_default_yaml), cfg_default_yaml_len);
	assert_non_null(strstr(cfg_default_yaml, "announce_interval: 1800"));
}

static void test_cfg_log_level_names_are_the_yaml_words(void **state)
{
	(void)state;
	assert_string_equal(cfg_log_level_name(CFG_LOG_ERROR), "error");
	assert_string_equal(cfg_log_level_name(CFG_LOG_WARN), "warn");
	assert_string_equal(cfg_log_level_name(CFG_LOG_INFO), "info");
	assert_string_equal(cfg_log_level_name(CFG_LOG_DEBUG), "debug");
}

static void test_cfg_typo_key_is_refused_naming_its_line_and_the_closest_key(void **state)
{
	(void)state;
	expect_refused("# my tracker\n"
		       "tracker:\n"
		       "  numwant_max: 100\n"
		       "  anounce_interval: 900\n",
		       NULL,
		       "t.yaml:4: unknown key 'tracker.anounce_interval' (did you mean "
		       "'tracker.announce_interval'?)");
	expect_refused("udp:\n  announce_interval: 900\n", NULL,
		       "t.yaml:2: unknown key 'udp.announce_interval' (did you mean "
		       "'tracker.announce_interval'?)");
	expect_refused("trackr:\n  announce_interval: 900\n", NULL,
		       "t.yaml:1: unknown key 'trackr' (did you mean 'tracker'?)");
	expect_refused("http:\n  threads: 2\n  zzzzzzzz: 1\n", NULL,
		       "t.yaml:3: unknown key 'http.zzzzzzzz'");
	expect_refused("dpdk:\n  ports:\n    - devcie: net_tap0\n", NULL,
		       "t.yaml:3: unknown key 'dpdk.ports[0].devcie' (did you mean 'device'?)");
}

static void test_cfg_grouped_keys_nest_one_level(void **state)
{
	char *env[] = {"DPTRACK_TRACKER_SNAPSHOT_INTERVAL=60", NULL};
	struct cfg c;
	char *text;

	(void)state;
	assert_int_equal(load(&c, "tracker:\n  snapshot:\n    path: /var/lib/x.snap\n", NULL), 0);
	assert_string_equal(c.tracker.snapshot_path, "/var/lib/x.snap");
	assert_int_equal(c.tracker.snapshot_interval, 300); /* the group's other key kept */
	text = printed(&c);
	assert_non_null(
	    strstr(text, "  snapshot:\n    path: \"/var/lib/x.snap\"\n    interval: 300\n"));
	free(text);
	cfg_fini(&c);
	/* Flow style, and the environment over the file. */
	assert_int_equal(load(&c, "tracker: { snapshot: { interval: 5 } }\n", env), 0);
	assert_int_equal(c.tracker.snapshot_interval, 60);
	cfg_fini(&c);

	expect_refused("tracker:\n  snapshot:\n    paht: x\n", NULL,
		       "t.yaml:3: unknown key 'tracker.snapshot.paht' (did you mean "
		       "'tracker.snapshot.path'?)");
	expect_refused("tracker:\n  snapshot: 5\n", NULL,
		       "t.yaml:2: tracker.snapshot: expected a mapping, got a scalar");
	expect_refused("tracker:\n  snapshot: {}\n  snapshot: {}\n", NULL,
		       "t.yaml:3: duplicate key 'tracker.snapshot' (first at line 2)");
	expect_refused("tracker:\n  snapshot:\n    interval: 90000\n", NULL,
		       "t.yaml:3: tracker.snapshot.interval");
	/* Groups nest one level only. */
	expect_refused("tracker:\n  snapshot:\n    path:\n      x: 1\n", NULL,
		       "t.yaml:4: tracker.snapshot.path: expected a scalar");
}

static void test_cfg_access_list_mode_and_path_nest_under_tracker(void **state)
{
	char *env[] = {"DPTRACK_TRACKER_ACCESS_LIST_MODE=allow",
		       "DPTRACK_TRACKER_ACCESS_LIST_PATH=/etc/dptrack/allow.txt", NULL};
	struct cfg c;
	char *text;

	(void)state;
	assert_int_equal(load(&c, "tracker: {}\n", NULL), 0);
	assert_int_equal(c.tracker.access_list_mode, CFG_ACL_OFF); /* the default */
	assert_string_equal(c.tracker.access_list_path, "");
	cfg_fini(&c);
	assert_int_equal(
	    load(&c, "tracker:\n  access_list:\n    mode: deny\n    path: /etc/d.txt\n", NULL), 0);
	assert_int_equal(c.tracker.access_list_mode, CFG_ACL_DENY);
	assert_string_equal(c.tracker.access_list_path, "/etc/d.txt");
	text = printed(&c);
	assert_non_null(strstr(text, "  access_list:\n    mode: deny\n    path: \"/etc/d.txt\"\n"));
	free(text);
	cfg_fini(&c);
	/* The environment over the file, flow style. */
	assert_int_equal(
	    load(&c, "tracker: { access_list: { mode: deny, path: /etc/d.txt } }\n", env), 0);
	assert_int_equal(c.tracker.access_list_mode, CFG_ACL_ALLOW);
	assert_string_equal(c.tracker.access_list_path, "/etc/dptrack/allow.txt");
	assert_string_equal(cfg_acl_mode_name(c.tracker.access_list_mode), "allow");
	cfg_fini(&c);

	expect_refused("tracker:\n  access_list:\n    mode: dny\n    path: x\n", NULL,
		       "t.yaml:3: tracker.access_list.mode: expected off, allow or deny, got "
		       "'dny' (did you mean 'deny'?)");
	expect_refused("tracker:\n  access_list:\n    mode: true\n", NULL,
		       "t.yaml:3: tracker.access_list.mode: expected off, allow or deny, got "
		       "'true'");
	expect_refused("tracker:\n  access_list:\n    mod: deny\n", NULL,
		       "t.yaml:3: unknown key 'tracker.access_list.mod' (did you mean "
		       "'tracker.access_list.mode'?)");
	expect_refused("tracker:\n  acess_list:\n    mode: deny\n", NULL,
		       "t.yaml:2: unknown key 'tracker.acess_list'");
	expect_refused("tracker:\n  access_list: deny\n", NULL,
		       "t.yaml:2: tracker.access_list: expected a mapping, got a scalar");
	expect_refused("tracker:\n  access_list:\n    mode: allow\n", NULL,
		       "t.yaml:3: tracker.access_list.mode is allow but tracker.access_list.path "
		       "is empty");
	char *no_path[] = {"DPTRACK_TRACKER_ACCESS_LIST_MODE=deny", NULL};
	expect_refused("", no_path,
		       "DPTRACK_TRACKER_ACCESS_LIST_MODE: tracker.access_list.mode is deny but");
	char *typo[] = {"DPTRACK_TRACKER_ACCESS_LIST_MDOE=deny", NULL};
	expect_refused(
	    "", typo,
	    "DPTRACK_TRACKER_ACCESS_LIST_MDOE: no config key "
	    "'tracker.access_list_mdoe' (did you mean DPTRACK_TRACKER_ACCESS_LIST_MODE?)");
}

static void test_cfg_wrong_types_are_refused(void **state)
{
	static const struct refusal t[] = {
	    {"hello\n", "t.yaml:1: expected a mapping of sections"},
	    {"- log\n", "t.yaml:1: expected a mapping of sections"},
	    {"tracker: 5\n", "t.yaml:1: tracker: expected a mapping, got a scalar"},
	    {"log: [info]\n", "t.yaml:1: log: expected a mapping, got a sequence"},
	    {"tracker:\n  announce_interval: [1]\n",
	     "t.yaml:2: tracker.announce_interval: expected a scalar, got a sequence"},
	    {"tracker:\n  announce_interval: abc\n",
	     "t.yaml:2: tracker.announce_interval: expected an integer, got 'abc'"},
	    {"tracker:\n  announce_interval:\n",
	     "t.yaml:2: tracker.announce_interval: expected an integer, got nothing"},
	    {"tracker:\n  announce_interval: 1800.5\n", "expected an integer, got '1800.5'"},
	    {"tracker:\n  announce_interval: 0x700\n", "expected an integer, got '0x700'"},
	    {"tracker:\n  announce_interval: \"\"\n", "expected an integer, got ''"},
	    {"http:\n  enabled: maybe\n",
	     "t.yaml:2: http.enabled: expected true or false, got 'maybe'"},
	    {"log:\n  level: verbose\n",
	     "t.yaml:2: log.level: expected error, warn, info or debug, got 'verbose'"},
	    {"udp:\n  ports: 6969\n", "t.yaml:2: udp.ports: expected a sequence, got a scalar"},
	    {"udp:\n  ports: {a: 1}\n", "t.yaml:2: udp.ports: expected a sequence, got a mapping"},
	    {"udp:\n  ports:\n    - abc\n", "t.yaml:3: udp.ports[0]: 'abc' is not a port"},
	    {"dpdk:\n  ports: [net_tap0]\n", "t.yaml:2: dpdk.ports[0]: expected a mapping"},
	    {"dpdk:\n  eal_args: [[a]]\n",
	     "t.yaml:2: dpdk.eal_args[0]: expected a scalar, got a sequence"},
	    {"dpdk:\n  eal_args: [a, ~]\n",
	     "t.yaml:2: dpdk.eal_args[1]: expected a scalar, got nothing"},
	    {"dpdk:\n  eal_args: [\"\"]\n", "t.yaml:2: dpdk.eal_args[0]: empty string"},
	    {"dpdk:\n  eal_args: [\"a\\0b\"]\n", "t.yaml:2: dpdk.eal_args[0]: contains a NUL"},
	    {"? [a]\n: 1\n", "t.yaml:1: keys must be scalars, got a sequence"},
	    {"http:\n  {a: 1}: 2\n", "t.yaml:2: http: keys must be scalars, got a mapping"},
	};

	(void)state;
	expect_all_refused(t, N(t));
}

static void test_cfg_out_of_range_values_are_refused_with_the_range(void **state)
{
	static const struct refusal t[] = {
	    {"tracker:\n  announce_interval: 59\n",
	     "t.yaml:2: tracker.announce_interval: 59 is out of range 60..86400"},
	    {"tracker:\n  announce_interval: 86401\n", "86401 is out of range 60..86400"},
	    {"tracker:\n  announce_interval: -1\n", "-1 is out of range 60..86400"},
	    {"tracker:\n  announce_interval: 99999999999999999999\n",
	     "99999999999999999999 is out of range 60..86400"},
	    {"tracker:\n  announce_jitter: 3601\n",
	     "announce_jitter: 3601 is out of range 0..3600"},
	    {"tracker:\n  numwant_max: 0\n", "numwant_max: 0 is out of range 1..1000"},
	    {"tracker:\n  numwant_max: 1001\n", "numwant_max: 1001 is out of range 1..1000"},
	    {"tracker:\n  max_swarms: 0\n", "max_swarms: 0 is out of range 1..100000000"},
	    {"tracker:\n  max_peers_per_swarm: 100000001\n", "out of range 1..100000000"},
	    {"tracker:\n  memory_mb: 15\n", "memory_mb: 15 is out of range 16..1048576"},
	    {"udp:\n  connection_id_ttl: 119\n",
	     "connection_id_ttl: 119 is out of range 120..86400"},
	    {"dpdk:\n  rx_desc: 1000\n", "t.yaml:2: dpdk.rx_desc: 1000 is not a power of two"},
	    {"dpdk:\n  tx_desc: 32768\n", "dpdk.tx_desc: 32768 is out of range 64..16384"},
	    {"dpdk:\n  mbufs: 1022\n", "dpdk.mbufs: 1022 is out of range 1023..16777215"},
	    {"dpdk:\n  burst: 0\n", "dpdk.burst: 0 is out of range 1..512"},
	    {"dpdk:\n  burst: 513\n", "dpdk.burst: 513 is out of range 1..512"},
	    {"dpdk:\n  idle_sleep_us: 100001\n",
	     "t.yaml:2: dpdk.idle_sleep_us: 100001 is out of range 0..100000"},
	    {"dpdk:\n  idle_sleep_us: -1\n", "dpdk.idle_sleep_us: -1 is out of range 0..100000"},
	    {"dpdk:\n  exit_after_idle_ms: 86400001\n", "out of range 0..86400000"},
	    {"http:\n  threads: 65\n", "t.yaml:2: http.threads: 65 is out of range 1..64"},
	    {"http:\n  max_connections: 0\n", "max_connections: 0 is out of range 1..10000000"},
	    {"http:\n  idle_timeout: 3601\n", "idle_timeout: 3601 is out of range 1..3600"},
	    {"http:\n  max_request_bytes: 511\n", "511 is out of range 512..1048576"},
	    {"udp:\n  ports: [0]\n", "t.yaml:2: udp.ports[0]: '0' is not a port in 1..65535"},
	    {"udp:\n  ports: [80, 65536]\n", "udp.ports[1]: '65536' is not a port in 1..65535"},
	    {"udp:\n  ports: []\n", "t.yaml:2: udp.ports: has 0 entries, allowed 1..16"},
	    {"udp:\n  ports:\n", "t.yaml:2: udp.ports: has 0 entries, allowed 1..16"},
	    {"udp:\n  ports: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\n",
	     "udp.ports: has 17 entries, allowed 1..16"},
	    {"udp:\n  ports: [6969, 80, 6969]\n", "udp.ports[2]: port 6969 is listed twice"},
	    {"dpdk:\n  ports: []\n", "dpdk.ports: has 0 entries, allowed 1..8"},
	    {"http:\n  listen: [\"1.1.1.1:1\", \"1.1.1.1:2\", \"1.1.1.1:3\", \"1.1.1.1:4\", "
	     "\"1.1.1.1:5\", \"1.1.1.1:6\", \"1.1.1.1:7\", \"1.1.1.1:8\", \"1.1.1.1:9\"]\n",
	     "http.listen: has 9 entries, allowed 0..8"},
	};

	(void)state;
	expect_all_refused(t, N(t));
}

static void test_cfg_list_longer_than_its_array_is_refused(void **state)
{
	(void)state;
	expect_repeat_refused("dpdk:\n  eal_args: [", "x, ", CFG_MAX_EAL_ARGS + 1, "]\n",
			      "t.yaml:2: dpdk.eal_args: has 65 entries, allowed 0..64");
}

static void test_cfg_bad_addresses_cidrs_and_listen_addresses_are_refused(void **state)
{
	static const struct refusal t[] = {
	    {"stats:\n  allow: [\"10.0.0.1/8\"]\n",
	     "t.yaml:2: stats.allow[0]: bad CIDR '10.0.0.1/8': host bits set (did you mean "
	     "10.0.0.0/8?)"},
	    {"http:\n  trusted_proxies:\n    - \"fd00::1/64\"\n",
	     "t.yaml:3: http.trusted_proxies[0]: bad CIDR 'fd00::1/64': host bits set (did you "
	     "mean fd00::/64?)"},
	    {"stats:\n  allow: [\"10.0.0.0/33\"]\n", "prefix length must be 0..32"},
	    {"stats:\n  allow: [\"::/129\"]\n", "prefix length must be 0..128"},
	    {"stats:\n  allow: [\"10.0.0.0/\"]\n", "prefix length must be 0..32"},
	    {"stats:\n  allow: [\"10.0.0.0/8x\"]\n", "prefix length must be 0..32"},
	    {"stats:\n  allow: [nonsense]\n",
	     "stats.allow[0]: bad CIDR 'nonsense': not an IPv4 or IPv6 address"},
	    {"stats:\n  allow: [\"10.0.0.256/32\"]\n", "not an IPv4 or IPv6 address"},
	    {"stats:\n  allow: [\"10.0.0.0\\0/8\"]\n", "contains a NUL byte"},
	    {"http:\n  listen: [\"0.0.0.0\"]\n",
	     "t.yaml:2: http.listen[0]: bad listen address '0.0.0.0': expected ADDR:PORT or "
	     "[ADDR6]:PORT"},
	    {"http:\n  listen: [\"::1:80\"]\n", "IPv6 addresses go in brackets: [ADDR6]:PORT"},
	    {"http:\n  listen: [\"[::1]80\"]\n", "expected ADDR:PORT or [ADDR6]:PORT"},
	    {"http:\n  listen: [\"[::1]:0\"]\n", "port must be 1..65535"},
	    {"http:\n  listen: [\"[::1]:65536\"]\n", "port must be 1..65535"},
	    {"http:\n  listen: [\"1.2.3.4:http\"]\n", "port must be 1..65535"},
	    {"http:\n  listen: [\"1.2.3.4:\"]\n", "port must be 1..65535"},
	    {"http:\n  listen: [\"[1.2.3.4]:80\"]\n", "not an IPv6 address inside [ ]"},
	    {"http:\n  listen: [\"localhost:80\"]\n", "not an IPv4 address before the port"},
	    {"dpdk:\n  ports:\n    - device: x\n      ipv4: 1.2.3.4\n",
	     "t.yaml:4: dpdk.ports[0].ipv4: bad address '1.2.3.4': needs a prefix length"},
	    {"dpdk:\n  ports:\n    - device: x\n      ipv4: \"fd00::1/64\"\n",
	     "dpdk.ports[0].ipv4: bad address 'fd00::1/64': not an IPv4 address"},
	    {"dpdk:\n  ports:\n    - device: x\n      ipv6: 10.0.0.1/8\n",
	     "dpdk.ports[0].ipv6: bad address '10.0.0.1/8': not an IPv6 address"},
	    {"dpdk:\n  ports:\n    - device: x\n      ipv4: 10.0.0.1/0\n",
	     "prefix length must not be 0"},
	    {"dpdk:\n  ports:\n    - device: x\n      ipv4: [10.0.0.1/8]\n",
	     "t.yaml:4: dpdk.ports[0].ipv4: expected ADDR/LEN, got a sequence"},
	    {"dpdk:\n  ports:\n    - device: x\n", "t.yaml:3: dpdk.ports[0]: needs ipv4, ipv6"},
	    {"dpdk:\n  ports:\n    - ipv4: 10.0.0.1/8\n",
	     "t.yaml:3: dpdk.ports[0]: needs a device"},
	    {"dpdk:\n  ports:\n    - device: \"\"\n      ipv4: 10.0.0.1/8\n",
	     "dpdk.ports[0].device: must be 1..63 bytes long"},
	    {"dpdk:\n  ports:\n    - device: \"a\\tb\"\n      ipv4: 10.0.0.1/8\n",
	     "dpdk.ports[0].device: contains a control character"},
	    {"dpdk:\n  ports:\n    - device: x\n      ipv4: 10.0.0.1/8\n"
	     "    - device: x\n      ipv4: 10.0.0.2/8\n",
	     "t.yaml:5: dpdk.ports[1]: device 'x' is also port 0"},
	};

	(void)state;
	expect_all_refused(t, N(t));
}

static void test_cfg_duplicate_keys_are_refused_with_both_lines(void **state)
{
	static const struct refusal t[] = {
	    {"tracker:\n  numwant_max: 10\n  numwant_default: 5\n  numwant_max: 20\n",
	     "t.yaml:4: duplicate key 'tracker.numwant_max' (first at line 2)"},
	    {"log:\n  level: info\nlog:\n  level: debug\n",
	     "t.yaml:3: duplicate key 'log' (first at line 1)"},
	    {"dpdk:\n  ports:\n    - device: a\n      ipv4: 1.2.3.4/8\n      device: b\n",
	     "t.yaml:5: duplicate key 'dpdk.ports[0].device' (first at line 3)"},
	};

	(void)state;
	expect_all_refused(t, N(t));
}

static void test_cfg_yaml_syntax_errors_name_the_line(void **state)
{
	static const struct refusal t[] = {
	    {"log:\n  level: info\ntracker:\n  announce_interval: [1800\n",
	     "t.yaml:5: YAML syntax error: did not find expected ',' or ']'"},
	    {"log:\n  level: \"info\n",
	     "t.yaml:3: YAML syntax error: found unexpected end of stream"},
	    {"log:\n\tlevel: info\n", "t.yaml:2: YAML syntax error: found character that cannot "
				      "start any token"},
	    {"log:\n  level: info\n bad\n", "t.yaml:3: YAML syntax error:"},
	    {"log:\n  level: *nowhere\n", "t.yaml:2: YAML syntax error: found undefined alias"},
	    {"log:\n  level: info\n---\nlog:\n  level: debug\n",
	     "t.yaml:3: a config file holds one YAML document; this is a second"},
	    {"# ok\nlog:\n  level: \xff\n", "t.yaml:3: YAML syntax error: invalid leading UTF-8"},
	};

	(void)state;
	expect_all_refused(t, N(t));
}

static void test_cfg_cross_key_checks_name_the_key_the_user_changed(void **state)
{
	static const struct refusal t[] = {
	    /* The default min_interval (900) against the user's interval: the user's line. */
	    {"tracker:\n  announce_interval: 600\n", "t.yaml:2: tracker.min_interval (900) must "
						     "not exceed tracker.announce_interval (600)"},
	    /* Both in the file: the later line. */
	    {"tracker:\n  announce_interval: 1000\n  min_interval: 1200\n",
	     "t.yaml:3: tracker.min_interval (1200)"},
	    {"tracker:\n  min_interval: 1200\n  announce_interval: 1000\n",
	     "t.yaml:3: tracker.min_interval (1200)"},
	    {"tracker:\n  peer_timeout: 2100\n",
	     "t.yaml:2: tracker.peer_timeout (2100) must exceed tracker.announce_interval + "
	     "tracker.announce_jitter (2100)"},
	    {"tracker:\n  announce_jitter: 900\n", "t.yaml:2: tracker.peer_timeout (2700)"},
	    {"tracker:\n  numwant_max: 10\n",
	     "t.yaml:2: tracker.numwant_default (50) must not exceed tracker.numwant_max (10)"},
	    {"http:\n  listen: []\n", "t.yaml:2: http.listen is empty but http.enabled is true"},
	    /* Replay needs a fixed key and seed, or its output changes per run. */
	    {"dpdk:\n  replay: true\n", "t.yaml:2: dpdk.replay needs udp.connection_id_secret"},
	    {"udp:\n  connection_id_secret: 00112233445566778899aabbccddeeff\n"
	     "dpdk:\n  replay: true\n",
	     "t.yaml:4: dpdk.replay needs udp.connection_id_secret and a non-zero dpdk.rng_seed"},
	};
	char *env[] = {"DPTRACK_TRACKER_MIN_INTERVAL=2000", NULL};
	struct cfg c;

	(void)state;
	expect_all_refused(t, N(t));
	expect_refused("tracker:\n  announce_interval: 1800\n", env,
		       "DPTRACK_TRACKER_MIN_INTERVAL: tracker.min_interval (2000) must not exceed");
	assert_int_equal(load(&c,
			      "udp:\n  connection_id_secret: 00112233445566778899aabbccddeeff\n"
			      "dpdk:\n  replay: true\n  rng_seed: 7\n",
			      NULL),
			 0);
	assert_true(c.dpdk.replay);
	assert_int_equal(c.dpdk.rng_seed, 7);
	cfg_fini(&c);
	assert_int_equal(load(&c, "http:\n  enabled: false\n  listen: []\n", NULL), 0);
	assert_false(c.http.enabled);
	assert_int_equal(c.http.n_listen, 0);
	cfg_fini(&c);
}

static void test_cfg_secret_is_32_hex_digits_or_empty_and_never_echoed(void **state)
{
	static const uint8_t want[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	struct cfg c;

	(void)state;
	assert_int_equal(
	    load(&c, "udp:\n  connection_id_secret: 00112233445566778899AABBccddeeff\n", NULL), 0);
	assert_true(c.udp.has_secret);
	assert_memory_equal(c.udp.secret, want, 16);
	cfg_fini(&c);
	assert_int_equal(load(&c, "udp:\n  connection_id_secret:\n", NULL), 0);
	assert_false(c.udp.has_secret);
	cfg_fini(&c);
	expect_refused("udp:\n  connection_id_secret: hunter2\n", NULL,
		       "t.yaml:2: udp.connection_id_secret: expected 32 hex digits or \"\", got 7 "
		       "characters");
	assert_null(strstr(err, "hunter2"));
	expect_refused("udp:\n  connection_id_secret: 0011223344556677889900112233445g\n", NULL,
		       "non-hex character at position 32");
	expect_refused("udp:\n  connection_id_secret: [1]\n", NULL, "expected a scalar");
}

static void test_cfg_environment_overrides_scalar_keys(void **state)
{
	char *env[] = {
	    "PATH=/usr/bin",
	    "DPTRACK_HTTP_THREADS=4",
	    "DPTRACK_LOG_LEVEL=debug",
	    "DPTRACK_UDP_CONNECTION_ID_SECRET=000102030405060708090a0b0c0d0e0f",
	    "DPTRACK_HTTP_ENABLED=off",
	    "DPTRACK_DPDK_RX_DESC=4096",
	    "DPTRACK_DPDK_IDLE_SLEEP_US=2000",
	    "DPTRACK_TRACKER_ANNOUNCE_INTERVAL=2000",
	    "DPTRACK_CONFIG=/somewhere", /* names no section: not a key, ignored */
	    "DPTRACK_=1",
	    "dptrack_http_threads=9", /* lower case: not ours */
	    NULL,
	};
	struct cfg c;
	unsigned i;

	(void)state;
	/* The environment wins over the file. */
	assert_int_equal(load(&c, "http:\n  threads: 2\n  max_connections: 7\n", env), 0);
	assert_int_equal(c.http.threads, 4);
	assert_int_equal(c.http.max_connections, 7);
	assert_int_equal(c.log.level, CFG_LOG_DEBUG);
	assert_true(c.udp.has_secret);
	for (i = 0; i < 16; i++)
		assert_int_equal(c.udp.secret[i], i);
	assert_false(c.http.enabled);
	assert_int_equal(c.dpdk.rx_desc, 4096);
	assert_int_equal(c.dpdk.idle_sleep_us, 2000);
	assert_int_equal(c.tracker.announce_interval, 2000);
	cfg_fini(&c);
}

static void test_cfg_bad_environment_values_are_refused_naming_the_variable(void **state)
{
	static const struct refusal t[] = {
	    {"DPTRACK_HTTP_THREADS=x", "DPTRACK_HTTP_THREADS: http.threads: expected an integer"},
	    {"DPTRACK_HTTP_THREADS=99", "DPTRACK_HTTP_THREADS: http.threads: 99 is out of range "
					"1..64"},
	    {"DPTRACK_HTTP_THREADS=", "DPTRACK_HTTP_THREADS: http.threads: expected an integer, "
				      "got ''"},
	    {"DPTRACK_HTTP_THREADS= 4", "expected an integer, got ' 4'"},
	    {"DPTRACK_LOG_LEVEL=loud", "DPTRACK_LOG_LEVEL: log.level: expected error, warn"},
	    {"DPTRACK_HTTP_ENABLED=2",
	     "DPTRACK_HTTP_ENABLED: http.enabled: expected true or false"},
	    {"DPTRACK_DPDK_RX_DESC=1000",
	     "DPTRACK_DPDK_RX_DESC: dpdk.rx_desc: 1000 is not a power"},
	    {"DPTRACK_UDP_CONNECTION_ID_SECRET=abc", "DPTRACK_UDP_CONNECTION_ID_SECRET: "
						     "udp.connection_id_secret: expected 32"},
	    {"DPTRACK_HTTP_THREAD=4",
	     "DPTRACK_HTTP_THREAD: no config key 'http.thread' (did you mean "
	     "DPTRACK_HTTP_THREADS?)"},
	    {"DPTRACK_UDP_ANNOUNCE_INTERVAL=900",
	     "DPTRACK_UDP_ANNOUNCE_INTERVAL: no config key 'udp.announce_interval' (did you mean "
	     "DPTRACK_TRACKER_ANNOUNCE_INTERVAL?)"},
	    {"DPTRACK_STATS_WHATEVER=1", "DPTRACK_STATS_WHATEVER: no config key 'stats.whatever'"},
	    {"DPTRACK_UDP_PORTS=6969", "DPTRACK_UDP_PORTS: udp.ports is a list; set it in a config "
				       "file"},
	};
	char *env[2] = {NULL, NULL};
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		env[0] = (char *)t[i].yaml;
		expect_refused("", env, t[i].want);
	}
}

static void test_cfg_partial_file_keeps_every_other_default(void **state)
{
	struct cfg def, c;

	(void)state;
	assert_int_equal(load(&def, "", NULL), 0);
	assert_int_equal(load(&c, "# only this\nhttp:\n  threads: 4\ntracker:\nlog: ~\n", NULL), 0);
	assert_int_equal(c.http.threads, 4);
	c.http.threads = def.http.threads;
	assert_cfg_equal(&def, &c);
	cfg_fini(&def);
	cfg_fini(&c);
}

static void test_cfg_user_list_replaces_the_default_list(void **state)
{
	static const uint8_t ten[4] = {10, 0, 0, 0};
	struct cfg c;

	(void)state;
	assert_int_equal(load(&c,
			      "udp:\n  ports: [1, 2]\n"
			      "dpdk:\n  eal_args: [\"--no-huge\"]\n"
			      "  ports:\n    - device: net_pcap0\n      ipv6: \"fd00::1/8\"\n"
			      "stats:\n  allow: []\n"
			      "http:\n  trusted_proxies: [10.0.0.0/8, \"::1\"]\n",
			      NULL),
			 0);
	assert_int_equal(c.udp.n_ports, 2);
	assert_int_equal(c.udp.ports[0], 1);
	assert_int_equal(c.udp.ports[1], 2);
	assert_int_equal(c.dpdk.n_eal_args, 1);
	assert_string_equal(c.dpdk.eal_args[0], "--no-huge");
	assert_null(c.dpdk.eal_args[1]);
	assert_int_equal(c.dpdk.n_ports, 1);
	assert_string_equal(c.dpdk.ports[0].device, "net_pcap0");
	assert_false(c.dpdk.ports[0].has_ipv4);
	assert_true(c.dpdk.ports[0].has_ipv6);
	assert_int_equal(c.stats.n_allow, 0);
	assert_int_equal(c.http.n_trusted_proxies, 2);
	assert_cidr(&c.http.trusted_proxies[0], 4, ten, 8);
	assert_int_equal(c.http.trusted_proxies[1].prefix, 128); /* a bare address: one host */
	assert_int_equal(c.http.n_listen, 2);			 /* untouched */
	cfg_fini(&c);
}

static void test_cfg_shared_port_names_its_interface_and_may_leave_out_addresses(void **state)
{
	static const uint8_t v4[4] = {198, 18, 0, 1};
	struct cfg c;

	(void)state;
	assert_int_equal(load(&c,
			      "dpdk:\n  ports:\n"
			      "    - device: \"net_af_xdp0,iface=eth1,start_queue=2\"\n"
			      "      shared: true\n"
			      "    - device: net_af_xdp1,iface=veth-a.7\n      shared: yes\n"
			      "      ipv4: 198.18.0.1/24\n"
			      "    - device: \"net_af_xdp2,iface=eth1\"\n      shared: false\n"
			      "      ipv6: \"fd00::1/64\"\n",
			      NULL),
			 0);
	assert_int_equal(c.dpdk.n_ports, 3);
	assert_true(c.dpdk.ports[0].shared);
	assert_string_equal(c.dpdk.ports[0].iface, "eth1");
	assert_false(c.dpdk.ports[0].has_ipv4);
	assert_false(c.dpdk.ports[0].has_ipv6);
	assert_true(c.dpdk.ports[1].shared);
	assert_string_equal(c.dpdk.ports[1].iface, "veth-a.7");
	assert_cidr(&c.dpdk.ports[1].ipv4, 4, v4, 24);
	/* Not shared: the whole interface is dptrack's, and no name is kept. */
	assert_false(c.dpdk.ports[2].shared);
	assert_string_equal(c.dpdk.ports[2].iface, "");
	cfg_fini(&c);
}

static void test_cfg_shared_port_errors_say_what_a_shared_port_needs(void **state)
{
	static const struct refusal t[] = {
	    {"dpdk:\n  ports:\n    - device: net_tap0\n      shared: true\n",
	     "t.yaml:4: dpdk.ports[0]: shared needs a net_af_xdp device (net_af_xdp0,iface=IFACE), "
	     "not 'net_tap0'"},
	    {"dpdk:\n  ports:\n    - device: \"0000:01:00.0\"\n      shared: true\n"
	     "      ipv4: 198.18.0.1/24\n",
	     "shared needs a net_af_xdp device"},
	    {"dpdk:\n  ports:\n    - device: net_af_xdp0\n      shared: true\n",
	     "t.yaml:4: dpdk.ports[0]: a shared port names its interface: net_af_xdp0,iface=IFACE "
	     "(1..15 characters)"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=\"\n      shared: true\n",
	     "a shared port names its interface"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=abcdefghijklmnop\"\n"
	     "      shared: true\n",
	     "a shared port names its interface"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=eth0,queue_count=2\"\n"
	     "      shared: true\n",
	     "t.yaml:4: dpdk.ports[0]: leave queue_count and xdp_prog out of a shared port's "
	     "device: dptrack sets them"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,xdp_prog=/x.o,iface=eth0\"\n"
	     "      shared: true\n",
	     "leave queue_count and xdp_prog out"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=eth0\"\n      shared: 1\n",
	     "t.yaml:4: dpdk.ports[0].shared: expected true or false, got '1'"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=eth0\"\n      shared: [x]\n",
	     "t.yaml:4: dpdk.ports[0].shared: expected true or false, got a sequence"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=eth0\"\n      shared: true\n"
	     "    - device: \"net_af_xdp1,iface=eth0\"\n      shared: true\n",
	     "t.yaml:6: dpdk.ports[1]: interface eth0 is also port 0"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=eth0\"\n",
	     "t.yaml:3: dpdk.ports[0]: needs ipv4, ipv6 or both (only a shared port reads them "
	     "from its interface)"},
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=eth0\"\n      sharde: true\n",
	     "t.yaml:4: unknown key 'dpdk.ports[0].sharde' (did you mean 'shared'?)"},
	    /* Detaching the program at exit needs root: the later of the two lines. */
	    {"dpdk:\n  ports:\n    - device: \"net_af_xdp0,iface=eth0\"\n      shared: true\n"
	     "  run_as: nobody\n",
	     "t.yaml:5: dpdk.run_as and the shared port dpdk.ports[0] exclude each other"},
	    {"dpdk:\n  run_as: nobody\n  ports:\n    - device: \"net_af_xdp0,iface=eth0\"\n"
	     "      shared: true\n",
	     "t.yaml:3: dpdk.run_as and the shared port dpdk.ports[0] exclude each other"},
	};

	(void)state;
	expect_all_refused(t, N(t));
}

static void test_cfg_print_output_loads_back_equal(void **state)
{
	static const char *const docs[] = {
	    "",
	    "log:\n  level: warn\n"
	    "udp:\n  ports: [1, 65535]\n  connection_id_secret: ffeeddccbbaa99887766554433221100\n"
	    "dpdk:\n  eal_args: [\"--vdev\", \"net_pcap0,rx_pcap=a b.pcap\", \"q\\\"uote\\\\\", "
	    "\"tab\\there\", \"\\u00e9\"]\n"
	    "  ports:\n    - device: \"0000:01:00.0\"\n      ipv4: 198.18.0.2/15\n"
	    "    - device: net_tap1\n      ipv6: \"fd00::2/8\"\n"
	    "    - device: \"net_af_xdp0,iface=eth1\"\n      shared: on\n"
	    "  idle_sleep_us: 250\n"
	    "  exit_after_idle_ms: 5\n"
	    "http:\n  enabled: no\n  listen: [\"127.0.0.1:80\", \"[fd00::1]:8080\"]\n"
	    "  trusted_proxies: [\"10.0.0.0/8\", \"fd00::/8\", \"::/0\"]\n"
	    "stats:\n  allow: []\n",
	    "cluster:\n  enabled: yes\n"
	    "  servers: [nats://n1.example:4222, \"tls://[fd00::1]:4222\", nats://198.18.0.1:1]\n"
	    "  name: swarm_A-1\n  instance: host-7\n  flush_ms: 1\n  batch_records: 4096\n"
	    "  ring_records: 4194304\n  replicas: 1\n  max_age: 31536000\n  buffer_mb: 1024\n"
	    "  connect_timeout_ms: 100\n  key_wait_ms: 0\n  credentials: /etc/n a.creds\n"
	    "  tls: {ca: \"/etc/ca\\\"s.pem\", cert: c.pem, key: k.pem}\n",
	    /* fuzz_cfg's finding: NEL (\\N) was printed raw and read back as a
	     * line break, folded to a space; so were LS and PS. */
	    "dpdk:\n eal_args: [\"\\NULL\",]\n",
	    "dpdk:\n eal_args: [\"\\L\\P\\uFEFFx\\x80\\x9f\\xa0\\u2027\\u202a\"]\n",
	};
	struct cfg a, b;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < N(docs); i++) {
		assert_int_equal(load(&a, docs[i], NULL), 0);
		text = printed(&a);
		if (load(&b, text, NULL) != 0)
			fail_msg("printed config refused: %s\n%s", err, text);
		assert_cfg_equal(&a, &b);
		free(text);
		cfg_fini(&a);
		cfg_fini(&b);
	}
}

static void test_cfg_long_and_hostile_input_is_refused_without_overflow(void **state)
{
	size_t big = 200000;
	struct cfg c;

	(void)state;
	/* Long keys, a long device and a long number: messages stay short. YAML
	 * limits an implicit key to 1024 characters. */
	expect_repeat_refused("http:\n  ", "k", 1000, ": 1\n", "t.yaml:2: unknown key 'http.kkkk");
	expect_repeat_refused("http:\n  ", "k", big, ": 1\n", "t.yaml:2: YAML syntax error");
	expect_repeat_refused("dpdk:\n  ports:\n    - ipv4: 1.2.3.4/8\n      device: ", "d", big,
			      "\n", "t.yaml:4: dpdk.ports[0].device: must be 1..63 bytes long");
	expect_repeat_refused("http:\n  threads: ", "9", big, "\n",
			      "t.yaml:2: http.threads: 9999999999");
	expect_repeat_refused("stats:\n  allow: [\"", "1", big, "/8\"]\n",
			      "not an IPv4 or IPv6 address");
	/* Deep nesting and floods of nodes stop before libyaml builds them. */
	expect_repeat_refused("tracker: ", "[", 10000, "\n",
			      "t.yaml:1: nested deeper than 8 levels");
	expect_repeat_refused("dpdk:\n  eal_args: [", "a,", 70000, "]\n",
			      "t.yaml:2: more than 65536 YAML nodes");
	/* A small message buffer truncates; no buffer at all is fine too. */
	assert_int_equal(cfg_load_buf(&c, "t.yaml", "x: 1\n", 5, NULL, err, 8), -1);
	assert_string_equal(err, "t.yaml:");
	assert_int_equal(cfg_load_buf(&c, "t.yaml", "x: 1\n", 5, NULL, NULL, 0), -1);
}

static void test_cfg_a_failed_load_frees_what_it_had_allocated(void **state)
{
	struct cfg c;

	(void)state;
	/* eal_args are strdup'ed before the later error; valgrind checks they are freed. */
	expect_refused("dpdk:\n  eal_args: [a, b, c]\nhttp:\n  threads: 0\n", NULL,
		       "t.yaml:4: http.threads: 0 is out of range");
	expect_refused("dpdk:\n  eal_args: [a, b, c, \"\"]\n", NULL, "dpdk.eal_args[3]");
	expect_refused("cluster:\n  servers: [nats://a:1, nats://b:2]\nhttp:\n  threads: 0\n", NULL,
		       "t.yaml:4: http.threads: 0 is out of range");
	expect_refused("cluster:\n  servers: [nats://a:1, nats://b:2, http://c:3]\n", NULL,
		       "cluster.servers[2]");
	/* A list given twice through the default and the file frees the first. */
	assert_int_equal(
	    load(&c, "dpdk:\n  eal_args: [x]\ncluster:\n  servers: [nats://a:1]\n", NULL), 0);
	cfg_fini(&c);
}

static void test_cfg_empty_and_comment_only_files_give_the_defaults(void **state)
{
	static const char *const docs[] = {"",	  "# nothing\n", "---\n",
					   "~\n", "{}\n",	 "log:\nhttp: ~\n"};
	struct cfg def, c;
	size_t i;

	(void)state;
	assert_int_equal(cfg_load_buf(&def, NULL, NULL, 0, NULL, err, sizeof(err)), 0);
	for (i = 0; i < N(docs); i++) {
		if (load(&c, docs[i], NULL) != 0)
			fail_msg("refused '%s': %s", docs[i], err);
		assert_cfg_equal(&def, &c);
		cfg_fini(&c);
	}
	cfg_fini(&def);
}

/* --- The search order, in a scratch directory ------------------------- */

static char scratch[PATH_MAX];

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_cfg_search_order_is_explicit_then_cwd_then_home(void **state)
{
	char cwd[PATH_MAX], home[PATH_MAX + 16], homecfg[PATH_MAX + 64], path[PATH_MAX + 64];
	char homeenv[PATH_MAX + 32];
	char *env[] = {homeenv, NULL};
	bool etc = access("/etc/dptrack/dptrack.yaml", F_OK) == 0;
	struct cfg c;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(scratch, sizeof(scratch), "%s", "/tmp/test_cfg_XXXXXX");
	assert_non_null(mkdtemp(scratch));
	snprintf(home, sizeof(home), "%s/home", scratch);
	snprintf(homeenv, sizeof(homeenv), "HOME=%s", home);
	assert_int_equal(mkdir(home, 0700), 0);
	snprintf(path, sizeof(path), "%s/.config", home);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.config/dptrack", home);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(homecfg, sizeof(homecfg), "%s/.config/dptrack/dptrack.yaml", home);
	snprintf(path, sizeof(path), "%s/work", scratch);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chdir(path), 0);

	/* Nothing anywhere (unless this machine has /etc/dptrack): the built-in default. */
	assert_int_equal(cfg_load(&c, NULL, env, err, sizeof(err)), 0);
	assert_string_equal(c.source, etc ? "/etc/dptrack/dptrack.yaml" : "(built-in)");
	cfg_fini(&c);

	/* The home file. */
	put_file(homecfg, "http:\n  threads: 3\n");
	assert_int_equal(cfg_load(&c, NULL, env, err, sizeof(err)), 0);
	assert_string_equal(c.source, homecfg);
	assert_int_equal(c.http.threads, 3);
	cfg_fini(&c);

	/* ./dptrack.yaml wins over the home file, and the two do not stack. */
	put_file("dptrack.yaml", "http:\n  max_connections: 5\n");
	assert_int_equal(cfg_load(&c, NULL, env, err, sizeof(err)), 0);
	assert_string_equal(c.source, "./dptrack.yaml");
	assert_int_equal(c.http.max_connections, 5);
	assert_int_equal(c.http.threads, 1);
	cfg_fini(&c);

	/* An explicit path wins over both; its errors name it. */
	put_file("mine.yaml", "http:\n  threads: 7\n");
	assert_int_equal(cfg_load(&c, "mine.yaml", env, err, sizeof(err)), 0);
	assert_string_equal(c.source, "mine.yaml");
	assert_int_equal(c.http.threads, 7);
	cfg_fini(&c);
	put_file("bad.yaml", "\nhttp:\n  thread: 7\n");
	assert_int_equal(cfg_load(&c, "bad.yaml", env, err, sizeof(err)), -1);
	assert_string_equal(err, "bad.yaml:3: unknown key 'http.thread' (did you mean "
				 "'http.threads'?)");

	/* An explicit path must exist; a directory is not a file. */
	assert_int_equal(cfg_load(&c, "missing.yaml", env, err, sizeof(err)), -1);
	assert_string_equal(err, "missing.yaml: cannot open: No such file or directory");
	assert_int_equal(cfg_load(&c, ".", env, err, sizeof(err)), -1);
	assert_string_equal(err, ".: cannot read: Is a directory");

	/* A bad ./dptrack.yaml is an error, not a reason to look further. */
	put_file("dptrack.yaml", "http:\n  threads: 0\n");
	assert_int_equal(cfg_load(&c, NULL, env, err, sizeof(err)), -1);
	assert_string_equal(err, "./dptrack.yaml:2: http.threads: 0 is out of range 1..64");

	unlink("dptrack.yaml");
	unlink("mine.yaml");
	unlink("bad.yaml");
	unlink(homecfg);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof(path), "%s/work", scratch);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.config/dptrack", home);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.config", home);
	rmdir(path);
	rmdir(home);
	assert_int_equal(rmdir(scratch), 0);
}

static void test_cfg_oversized_file_is_refused(void **state)
{
	char path[64] = "/tmp/test_cfg_big_XXXXXX";
	size_t n = (1u << 20) + 1;
	char *buf = malloc(n);
	struct cfg c;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(buf);
	memset(buf, '#', n);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cfg_load(&c, path, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": larger than 1048576 bytes"));
	/* Exactly 1 MiB is fine (a comment-only file). */
	assert_int_equal(truncate(path, n - 1), 0);
	assert_int_equal(cfg_load(&c, path, NULL, err, sizeof(err)), 0);
	cfg_fini(&c);
	unlink(path);
	free(buf);
}

/* --- The cluster section ---------------------------------------------- */

/* Returns "cluster:\n  servers: [URL, ...]\n" with n distinct URLs; the
 * caller frees. */
static char *servers_doc(unsigned n)
{
	char *s = malloc(32 + (size_t)n * 32), *p;
	unsigned i;

	if (s == NULL) /* not assert_non_null: gcc's -Wformat-overflow must see it */
		abort();
	p = s + sprintf(s, "cluster:\n  servers: [");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%snats://h%u:4222", i ? ", " : "", i);
	sprintf(p, "]\n");
	return s;
}

static void test_cfg_cluster_is_off_by_default_with_the_documented_values(void **state)
{
	struct cfg c;

	(void)state;
	assert_int_equal(load(&c, "", NULL), 0);
	assert_false(c.cluster.enabled);
	assert_int_equal(c.cluster.n_servers, 1);
	assert_string_equal(c.cluster.servers[0], "nats://127.0.0.1:4222");
	assert_null(c.cluster.servers[1]);
	assert_string_equal(c.cluster.name, "dptrack");
	assert_string_equal(c.cluster.instance, "");
	assert_int_equal(c.cluster.flush_ms, 20);
	assert_int_equal(c.cluster.batch_records, 512);
	assert_int_equal(c.cluster.ring_records, 65536);
	assert_int_equal(c.cluster.replicas, 3);
	assert_int_equal(c.cluster.max_age, 7200);
	assert_int_equal(c.cluster.buffer_mb, 8);
	assert_int_equal(c.cluster.connect_timeout_ms, 2000);
	assert_int_equal(c.cluster.key_wait_ms, 3000);
	assert_string_equal(c.cluster.credentials, "");
	assert_string_equal(c.cluster.tls_ca, "");
	assert_string_equal(c.cluster.tls_cert, "");
	assert_string_equal(c.cluster.tls_key, "");
	cfg_fini(&c);
	assert_int_equal(c.cluster.n_servers, 0);
	assert_null(c.cluster.servers[0]);
}

static void test_cfg_cluster_servers_are_nats_or_tls_urls_to_a_host_and_port(void **state)
{
	static const char *const good[] = {
	    "nats://h:4222",	   "tls://[fd00::1]:4222",
	    "nats://198.18.0.1:1", "tls://nats-1.Example.org:65535",
	    "nats://[::1]:04222",  "nats://9a.b-c.d9:4222",
	};
	char *many = servers_doc(CFG_MAX_CLUSTER_SERVERS), *yaml;
	char doc[128];
	struct cfg c;
	size_t i;

	(void)state;
	for (i = 0; i < N(good); i++) {
		snprintf(doc, sizeof(doc), "cluster:\n  servers: [\"%s\"]\n", good[i]);
		if (load(&c, doc, NULL) != 0)
			fail_msg("refused %s: %s", good[i], err);
		assert_int_equal(c.cluster.n_servers, 1);
		assert_string_equal(c.cluster.servers[0], good[i]);
		cfg_fini(&c);
	}
	assert_int_equal(load(&c, many, NULL), 0);
	assert_int_equal(c.cluster.n_servers, CFG_MAX_CLUSTER_SERVERS);
	assert_string_equal(c.cluster.servers[CFG_MAX_CLUSTER_SERVERS - 1], "nats://h15:4222");
	cfg_fini(&c);
	free(many);
	/* The longest host: 253 bytes, a label of 63 then 95 of ".a", in the
	 * longest URL (266 bytes); one more label is too long. */
	yaml = repeat("cluster:\n  servers: [\"nats://"
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		      ".a", 95, ":65535\"]\n");
	assert_int_equal(load(&c, yaml, NULL), 0);
	assert_int_equal(strlen(c.cluster.servers[0]), 266);
	cfg_fini(&c);
	free(yaml);
	expect_repeat_refused("cluster:\n  servers: [\"tls://"
			      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			      ".a", 96, ":1\"]\n", "HOST must be a DNS name");
	expect_repeat_refused("cluster:\n  servers: [\"nats://", "a", 64, ".b:1\"]\n",
			      "t.yaml:2: cluster.servers[0]: bad server URL 'nats://aaaa");
}

static void test_cfg_cluster_servers_of_any_other_form_are_refused_naming_the_entry(void **state)
{
	static const struct refusal t[] = {
	    {"cluster:\n  servers: [\"http://h:1\"]\n",
	     "t.yaml:2: cluster.servers[0]: bad server URL 'http://h:1': expected nats://HOST:PORT "
	     "or tls://HOST:PORT"},
	    {"cluster:\n  servers:\n    - nats://a:1\n    - nats://h\n",
	     "t.yaml:4: cluster.servers[1]: bad server URL 'nats://h': needs a port: HOST:PORT"},
	    {"cluster:\n  servers: [\"nats://h:0\"]\n",
	     "cluster.servers[0]: bad server URL 'nats://h:0': port must be 1..65535"},
	    {"cluster:\n  servers: [\"nats://h:65536\"]\n",
	     "'nats://h:65536': port must be 1..65535"},
	    {"cluster:\n  servers: [\"nats://h:\"]\n", "'nats://h:': port must be 1..65535"},
	    {"cluster:\n  servers: [\"nats://h:4222x\"]\n", "port must be 1..65535"},
	    {"cluster:\n  servers: [\"nats://h:004222\"]\n", "port must be 1..65535"},
	    {"cluster:\n  servers: [\"nats://h:-1\"]\n", "port must be 1..65535"},
	    {"cluster:\n  servers: [\"nats://[fd00::1:4222\"]\n",
	     "'nats://[fd00::1:4222': '[' without ']' around an IPv6 address"},
	    {"cluster:\n  servers: [\"nats://fd00::1:4222\"]\n",
	     "IPv6 addresses go in brackets: [ADDR6]:PORT"},
	    {"cluster:\n  servers: [\"nats://[198.18.0.1]:1\"]\n",
	     "not an IPv6 address inside [ ]"},
	    {"cluster:\n  servers: [\"nats://[fd00::1]x:1\"]\n", "not an IPv6 address inside [ ]"},
	    {"cluster:\n  servers: [\"nats://[]:1\"]\n", "not an IPv6 address inside [ ]"},
	    {"cluster:\n  servers: [\"nats://h:4222/\"]\n",
	     "'nats://h:4222/': a server URL has no path, query or fragment"},
	    {"cluster:\n  servers: [\"nats://h:4222/js\"]\n", "has no path, query or fragment"},
	    {"cluster:\n  servers: [\"nats://h:4222?x=1\"]\n", "has no path, query or fragment"},
	    {"cluster:\n  servers: [\"nats://h:4222#x\"]\n", "has no path, query or fragment"},
	    {"cluster:\n  servers: [\"nats://u:p@h:4222\"]\n",
	     "'nats://u:p@h:4222': a server URL has no user info (see cluster.credentials)"},
	    {"cluster:\n  servers: [\"tls://token@h:4222\"]\n", "has no user info"},
	    {"cluster:\n  servers: [\"\"]\n",
	     "t.yaml:2: cluster.servers[0]: bad server URL '': expected nats://HOST:PORT"},
	    {"cluster:\n  servers: [\"NATS://h:1\"]\n", "expected nats://HOST:PORT"},
	    {"cluster:\n  servers: [\"nats:/h:1\"]\n", "expected nats://HOST:PORT"},
	    {"cluster:\n  servers: [\"h:4222\"]\n", "expected nats://HOST:PORT"},
	    {"cluster:\n  servers: [\"nats://:4222\"]\n",
	     "'nats://:4222': HOST must be a DNS name, an IPv4 address or [an IPv6 address]"},
	    {"cluster:\n  servers: [\"nats://256.0.0.1:1\"]\n", "not an IPv4 address"},
	    {"cluster:\n  servers: [\"nats://198.18.0:1\"]\n", "not an IPv4 address"},
	    {"cluster:\n  servers: [\"nats://-h:1\"]\n", "HOST must be a DNS name"},
	    {"cluster:\n  servers: [\"nats://h-:1\"]\n", "HOST must be a DNS name"},
	    {"cluster:\n  servers: [\"nats://a-.b:1\"]\n", "HOST must be a DNS name"},
	    {"cluster:\n  servers: [\"nats://a..b:1\"]\n", "HOST must be a DNS name"},
	    {"cluster:\n  servers: [\"nats://h.:1\"]\n", "HOST must be a DNS name"},
	    {"cluster:\n  servers: [\"nats://h_1:1\"]\n", "HOST must be a DNS name"},
	    {"cluster:\n  servers: [\"nats://example.123:1\"]\n", "HOST must be a DNS name"},
	    {"cluster:\n  servers: [\"nats://h :1\"]\n", "HOST must be a DNS name"},
	    {"cluster:\n  servers: [\"nats://h\\tx:1\"]\n", "bad server URL 'nats://h?x:1'"},
	    {"cluster:\n  servers: [\"nats://h\\0x:1\"]\n",
	     "t.yaml:2: cluster.servers[0]: contains a NUL byte"},
	    {"cluster:\n  servers: [nats://a:1, \"NATS://b:1\"]\n", "cluster.servers[1]"},
	    {"cluster:\n  servers: [nats://h:1, nats://H:1]\n",
	     "t.yaml:2: cluster.servers[1]: 'nats://H:1' is also entry 0"},
	    {"cluster:\n  servers: []\n",
	     "t.yaml:2: cluster.servers: has 0 entries, allowed 1..16"},
	    {"cluster:\n  servers:\n", "t.yaml:2: cluster.servers: has 0 entries, allowed 1..16"},
	    {"cluster:\n  servers: nats://h:1\n",
	     "t.yaml:2: cluster.servers: expected a sequence, got a scalar"},
	    {"cluster:\n  servers: [[nats://h:1]]\n",
	     "t.yaml:2: cluster.servers[0]: expected a scalar, got a sequence"},
	    {"cluster:\n  servers: [~]\n", "cluster.servers[0]: expected a scalar, got nothing"},
	};
	char *many = servers_doc(CFG_MAX_CLUSTER_SERVERS + 1);

	(void)state;
	expect_all_refused(t, N(t));
	expect_refused(many, NULL, "t.yaml:2: cluster.servers: has 17 entries, allowed 1..16");
	free(many);
}

static void test_cfg_cluster_name_and_instance_are_tokens_of_bounded_length(void **state)
{
	static const struct refusal t[] = {
	    {"cluster:\n  name: \"\"\n",
	     "t.yaml:2: cluster.name: '' is 0 characters long, allowed 1..32"},
	    {"cluster:\n  name:\n", "t.yaml:2: cluster.name: '' is 0 characters long"},
	    {"cluster:\n  name: a.b\n",
	     "t.yaml:2: cluster.name: 'a.b' has a character other than A-Z, a-z, 0-9, '_' and '-' "
	     "at position 2"},
	    {"cluster:\n  name: a b\n", "'a b' has a character other than"},
	    {"cluster:\n  name: \"a\\tb\"\n", "'a?b' has a character other than"},
	    {"cluster:\n  name: \"\\u00e9\"\n", "at position 1"},
	    {"cluster:\n  name: a*\n", "at position 2"},
	    {"cluster:\n  name: [a]\n",
	     "t.yaml:2: cluster.name: expected a scalar, got a sequence"},
	    {"cluster:\n  instance: host.example\n",
	     "t.yaml:2: cluster.instance: 'host.example' has a character other than A-Z, a-z, "
	     "0-9, '_' and '-' at position 5"},
	    {"cluster:\n  instance: \"a\\0b\"\n",
	     "t.yaml:2: cluster.instance: contains a NUL byte"},
	};
	char name32[CFG_CLUSTER_NAME_LEN + 1], inst64[CFG_CLUSTER_INSTANCE_LEN + 1];
	char doc[256];
	struct cfg c;

	(void)state;
	memset(name32, 'N', CFG_CLUSTER_NAME_LEN);
	name32[CFG_CLUSTER_NAME_LEN] = '\0';
	memset(inst64, '-', CFG_CLUSTER_INSTANCE_LEN);
	inst64[CFG_CLUSTER_INSTANCE_LEN] = '\0';
	snprintf(doc, sizeof(doc), "cluster:\n  name: %s\n  instance: \"%s\"\n", name32, inst64);
	assert_int_equal(load(&c, doc, NULL), 0);
	assert_string_equal(c.cluster.name, name32);
	assert_string_equal(c.cluster.instance, inst64);
	cfg_fini(&c);
	assert_int_equal(load(&c, "cluster:\n  name: a\n  instance: Az09_-\n", NULL), 0);
	assert_string_equal(c.cluster.name, "a");
	assert_string_equal(c.cluster.instance, "Az09_-");
	cfg_fini(&c);
	assert_int_equal(load(&c, "cluster:\n  instance:\n", NULL), 0); /* null: the host name */
	assert_string_equal(c.cluster.instance, "");
	cfg_fini(&c);

	expect_all_refused(t, N(t));
	expect_repeat_refused("cluster:\n  name: ", "n", CFG_CLUSTER_NAME_LEN + 1, "\n",
			      "t.yaml:2: cluster.name: 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn' is 33 "
			      "characters long, allowed 1..32");
	expect_repeat_refused("cluster:\n  instance: ", "i", CFG_CLUSTER_INSTANCE_LEN + 1, "\n",
			      "is 65 characters long, allowed 0..64");
	expect_repeat_refused("cluster:\n  instance: ", "i", 100000, "\n",
			      "is 100000 characters long, allowed 0..64");
}

static void test_cfg_cluster_numbers_are_refused_outside_their_ranges(void **state)
{
	static const struct refusal t[] = {
	    {"cluster:\n  flush_ms: 0\n", "t.yaml:2: cluster.flush_ms: 0 is out of range 1..10000"},
	    {"cluster:\n  flush_ms: 10001\n", "cluster.flush_ms: 10001 is out of range 1..10000"},
	    {"cluster:\n  batch_records: 0\n", "cluster.batch_records: 0 is out of range 1..4096"},
	    {"cluster:\n  batch_records: 4097\n", "batch_records: 4097 is out of range 1..4096"},
	    {"cluster:\n  ring_records: 512\n",
	     "t.yaml:2: cluster.ring_records: 512 is out of range 1024..4194304"},
	    {"cluster:\n  ring_records: 8388608\n", "8388608 is out of range 1024..4194304"},
	    {"cluster:\n  ring_records: 65535\n",
	     "t.yaml:2: cluster.ring_records: 65535 is not a power of two (1024, 2048, ... "
	     "4194304)"},
	    {"cluster:\n  ring_records: 3000\n", "3000 is not a power of two"},
	    {"cluster:\n  replicas: 0\n", "cluster.replicas: 0 is out of range 1..5"},
	    {"cluster:\n  replicas: 6\n", "cluster.replicas: 6 is out of range 1..5"},
	    {"cluster:\n  max_age: 59\n", "cluster.max_age: 59 is out of range 60..31536000"},
	    {"cluster:\n  max_age: 31536001\n", "max_age: 31536001 is out of range 60..31536000"},
	    {"cluster:\n  buffer_mb: 0\n", "cluster.buffer_mb: 0 is out of range 1..1024"},
	    {"cluster:\n  buffer_mb: 1025\n", "cluster.buffer_mb: 1025 is out of range 1..1024"},
	    {"cluster:\n  connect_timeout_ms: 99\n",
	     "cluster.connect_timeout_ms: 99 is out of range 100..60000"},
	    {"cluster:\n  connect_timeout_ms: 60001\n", "60001 is out of range 100..60000"},
	    {"cluster:\n  key_wait_ms: 60001\n",
	     "cluster.key_wait_ms: 60001 is out of range 0..60000"},
	    {"cluster:\n  key_wait_ms: -1\n", "cluster.key_wait_ms: -1 is out of range 0..60000"},
	    {"cluster:\n  flush_ms: 20ms\n", "cluster.flush_ms: expected an integer, got '20ms'"},
	    {"cluster:\n  enabled: sometimes\n",
	     "t.yaml:2: cluster.enabled: expected true or false, got 'sometimes'"},
	};
	struct cfg c;

	(void)state;
	expect_all_refused(t, N(t));
	/* Every bound itself is in range. */
	assert_int_equal(load(&c,
			      "cluster:\n  flush_ms: 10000\n  batch_records: 1\n"
			      "  ring_records: 1024\n  replicas: 5\n  max_age: 60\n"
			      "  buffer_mb: 1\n  connect_timeout_ms: 60000\n  key_wait_ms: 0\n",
			      NULL),
			 0);
	assert_int_equal(c.cluster.flush_ms, 10000);
	assert_int_equal(c.cluster.batch_records, 1);
	assert_int_equal(c.cluster.ring_records, 1024);
	assert_int_equal(c.cluster.replicas, 5);
	assert_int_equal(c.cluster.max_age, 60); /* off: not held against peer_timeout */
	assert_int_equal(c.cluster.buffer_mb, 1);
	assert_int_equal(c.cluster.connect_timeout_ms, 60000);
	assert_int_equal(c.cluster.key_wait_ms, 0);
	cfg_fini(&c);
	assert_int_equal(
	    load(&c,
		 "cluster:\n  flush_ms: 1\n  batch_records: 4096\n"
		 "  ring_records: 4194304\n  replicas: 1\n  max_age: 31536000\n"
		 "  buffer_mb: 1024\n  connect_timeout_ms: 100\n  key_wait_ms: 60000\n",
		 NULL),
	    0);
	assert_int_equal(c.cluster.ring_records, 4194304);
	assert_int_equal(c.cluster.max_age, 31536000);
	assert_int_equal(c.cluster.key_wait_ms, 60000);
	cfg_fini(&c);
}

static void test_cfg_cluster_misspelt_and_repeated_keys_are_refused_naming_the_line(void **state)
{
	static const struct refusal t[] = {
	    {"clustr:\n  enabled: true\n",
	     "t.yaml:1: unknown key 'clustr' (did you mean 'cluster'?)"},
	    {"cluster:\n  enabled: true\n  flush_msec: 5\n",
	     "t.yaml:3: unknown key 'cluster.flush_msec' (did you mean 'cluster.flush_ms'?)"},
	    {"cluster:\n  replica: 3\n",
	     "t.yaml:2: unknown key 'cluster.replica' (did you mean 'cluster.replicas'?)"},
	    {"cluster:\n  tls:\n    ca: x\n    cer: y\n",
	     "t.yaml:4: unknown key 'cluster.tls.cer' (did you mean 'cluster.tls.cert'?)"},
	    {"http:\n  flush_ms: 5\n",
	     "t.yaml:2: unknown key 'http.flush_ms' (did you mean 'cluster.flush_ms'?)"},
	    {"cluster:\n  tls: /etc/ca.pem\n",
	     "t.yaml:2: cluster.tls: expected a mapping, got a scalar"},
	    {"cluster:\n  tls:\n    ca: a\n  tls:\n    ca: b\n",
	     "t.yaml:4: duplicate key 'cluster.tls' (first at line 2)"},
	    {"cluster:\n  name: a\n  name: b\n",
	     "t.yaml:3: duplicate key 'cluster.name' (first at line 2)"},
	    {"cluster:\n  tls:\n    cert: c.pem\n    key: k.pem\n    cert: \"\"\n",
	     "t.yaml:5: duplicate key 'cluster.tls.cert' (first at line 3)"},
	    {"cluster: true\n", "t.yaml:1: cluster: expected a mapping, got a scalar"},
	};

	(void)state;
	expect_all_refused(t, N(t));
}

static void test_cfg_cluster_cross_key_checks_name_the_key_the_user_changed(void **state)
{
	static const struct refusal t[] = {
	    /* max_age against peer_timeout, while enabled: the later of the three. */
	    {"tracker:\n  peer_timeout: 7201\ncluster:\n  enabled: true\n",
	     "t.yaml:4: cluster.max_age (7200) must be at least tracker.peer_timeout (7201): a "
	     "restart without a snapshot replays peer_timeout seconds"},
	    {"cluster:\n  enabled: true\n  max_age: 2699\n",
	     "t.yaml:3: cluster.max_age (2699) must be at least tracker.peer_timeout (2700)"},
	    {"cluster:\n  max_age: 60\n  enabled: true\n", "t.yaml:3: cluster.max_age (60)"},
	    {"cluster:\n  enabled: true\ntracker:\n  peer_timeout: 9000\n",
	     "t.yaml:4: cluster.max_age (7200) must be at least tracker.peer_timeout (9000)"},
	    /* The TLS pair, enabled or not. */
	    {"cluster:\n  tls:\n    cert: /etc/c.pem\n",
	     "t.yaml:3: cluster.tls.cert is set but cluster.tls.key is empty: give both or "
	     "neither"},
	    {"cluster:\n  tls: {key: /etc/k.pem}\n",
	     "t.yaml:2: cluster.tls.key is set but cluster.tls.cert is empty: give both or "
	     "neither"},
	    {"cluster:\n  tls:\n    key: k.pem\n    cert: \"\"\n",
	     "t.yaml:4: cluster.tls.key is set but cluster.tls.cert is empty"},
	    /* A replay must not depend on other instances. */
	    {"udp:\n  connection_id_secret: 00112233445566778899aabbccddeeff\n"
	     "dpdk:\n  replay: true\n  rng_seed: 7\ncluster:\n  enabled: true\n",
	     "t.yaml:7: cluster.enabled and dpdk.replay exclude each other: a replay's output "
	     "must not depend on other instances"},
	    {"cluster:\n  enabled: true\nudp:\n  connection_id_secret: "
	     "00112233445566778899aabbccddeeff\ndpdk:\n  rng_seed: 7\n  replay: true\n",
	     "t.yaml:7: cluster.enabled and dpdk.replay exclude each other"},
	};
	char *peer_env[] = {"DPTRACK_TRACKER_PEER_TIMEOUT=9000", NULL};
	char *on_env[] = {"DPTRACK_CLUSTER_ENABLED=true", NULL};
	char *key_env[] = {"DPTRACK_CLUSTER_TLS_KEY=/etc/k.pem", NULL};
	struct cfg c;

	(void)state;
	expect_all_refused(t, N(t));
	expect_refused("cluster:\n  enabled: true\n", peer_env,
		       "DPTRACK_TRACKER_PEER_TIMEOUT: cluster.max_age (7200) must be at least "
		       "tracker.peer_timeout (9000)");
	expect_refused("cluster:\n  max_age: 60\n", on_env,
		       "DPTRACK_CLUSTER_ENABLED: cluster.max_age (60) must be at least");
	expect_refused("", key_env,
		       "DPTRACK_CLUSTER_TLS_KEY: cluster.tls.key is set but cluster.tls.cert is "
		       "empty");
	/* Off, max_age is not held against peer_timeout, nor replay against the cluster. */
	assert_int_equal(load(&c,
			      "udp:\n  connection_id_secret: 00112233445566778899aabbccddeeff\n"
			      "dpdk:\n  replay: true\n  rng_seed: 7\ncluster:\n  max_age: 60\n",
			      NULL),
			 0);
	cfg_fini(&c);
	/* max_age may equal peer_timeout; a fixed connection-ID key is fine; both TLS files. */
	assert_int_equal(load(&c,
			      "udp:\n  connection_id_secret: 00112233445566778899aabbccddeeff\n"
			      "cluster:\n  enabled: true\n  max_age: 2700\n"
			      "  tls: {cert: /etc/c.pem, key: /etc/k.pem}\n",
			      NULL),
			 0);
	assert_true(c.cluster.enabled);
	assert_true(c.udp.has_secret);
	assert_int_equal(c.cluster.max_age, c.tracker.peer_timeout);
	assert_string_equal(c.cluster.tls_cert, "/etc/c.pem");
	assert_string_equal(c.cluster.tls_key, "/etc/k.pem");
	cfg_fini(&c);
}

static void
test_cfg_cluster_scalar_and_grouped_keys_are_overridden_from_the_environment(void **state)
{
	static const struct refusal bad[] = {
	    {"DPTRACK_CLUSTER_SERVERS=nats://h:1",
	     "DPTRACK_CLUSTER_SERVERS: cluster.servers is a list; set it in a config file"},
	    {"DPTRACK_CLUSTER_NAME=a.b",
	     "DPTRACK_CLUSTER_NAME: cluster.name: 'a.b' has a character other than"},
	    {"DPTRACK_CLUSTER_NAME=", "DPTRACK_CLUSTER_NAME: cluster.name: '' is 0 characters"},
	    {"DPTRACK_CLUSTER_RING_RECORDS=3000",
	     "DPTRACK_CLUSTER_RING_RECORDS: cluster.ring_records: 3000 is not a power of two"},
	    {"DPTRACK_CLUSTER_ENABLED=1",
	     "DPTRACK_CLUSTER_ENABLED: cluster.enabled: expected true or false, got '1'"},
	    {"DPTRACK_CLUSTER_TLS_CAA=x",
	     "DPTRACK_CLUSTER_TLS_CAA: no config key "
	     "'cluster.tls_caa' (did you mean DPTRACK_CLUSTER_TLS_CA?)"},
	    {"DPTRACK_CLUSTER_FLUSHMS=5",
	     "DPTRACK_CLUSTER_FLUSHMS: no config key "
	     "'cluster.flushms' (did you mean DPTRACK_CLUSTER_FLUSH_MS?)"},
	};
	char *env[] = {
	    "DPTRACK_CLUSTER_ENABLED=on",
	    "DPTRACK_CLUSTER_FLUSH_MS=5",
	    "DPTRACK_CLUSTER_NAME=blue",
	    "DPTRACK_CLUSTER_INSTANCE=",
	    "DPTRACK_CLUSTER_TLS_CA=/etc/dptrack/ca.pem",
	    "DPTRACK_CLUSTER_TLS_CERT=/etc/dptrack/c.pem",
	    "DPTRACK_CLUSTER_TLS_KEY=/etc/dptrack/k.pem",
	    NULL,
	};
	char *one[2] = {NULL, NULL};
	struct cfg c;
	char *text;
	size_t i;

	(void)state;
	/* The environment wins over the file; lists stay the file's. */
	assert_int_equal(load(&c,
			      "cluster:\n  flush_ms: 50\n  instance: from-file\n"
			      "  servers: [\"tls://n1.example:4222\"]\n  tls: {ca: /file/ca.pem}\n",
			      env),
			 0);
	assert_true(c.cluster.enabled);
	assert_int_equal(c.cluster.flush_ms, 5);
	assert_string_equal(c.cluster.name, "blue");
	assert_string_equal(c.cluster.instance, "");
	assert_string_equal(c.cluster.tls_ca, "/etc/dptrack/ca.pem");
	assert_string_equal(c.cluster.tls_cert, "/etc/dptrack/c.pem");
	assert_string_equal(c.cluster.tls_key, "/etc/dptrack/k.pem");
	assert_int_equal(c.cluster.n_servers, 1);
	assert_string_equal(c.cluster.servers[0], "tls://n1.example:4222");
	text = printed(&c);
	assert_non_null(strstr(text, "\ncluster:\n  enabled: true\n"
				     "  servers: [\"tls://n1.example:4222\"]\n"
				     "  name: \"blue\"\n  instance: \"\"\n  site: \"main\"\n"
				     "  sources: []\n  flush_ms: 5\n"));
	assert_non_null(strstr(text, "  tls:\n    ca: \"/etc/dptrack/ca.pem\"\n"
				     "    cert: \"/etc/dptrack/c.pem\"\n"
				     "    key: \"/etc/dptrack/k.pem\"\n"));
	free(text);
	cfg_fini(&c);
	for (i = 0; i < N(bad); i++) {
		one[0] = (char *)bad[i].yaml;
		expect_refused("", one, bad[i].want);
	}
}

/* cfg_keys[] is indexed by enum cfg_key_id, which checks across keys use:
 * every id has its row, found again by its section and name, and ids name
 * the rows they say. */
static void test_cfg_every_key_id_names_its_own_row(void **state)
{
	static const struct {
		enum cfg_key_id id;
		enum cfg_sect sect;
		const char *name;
	} some[] = {
	    {KEY_LOG_LEVEL, S_LOG, "level"},
	    {KEY_TRACKER_PEER_TIMEOUT, S_TRACKER, "peer_timeout"},
	    {KEY_TRACKER_ACCESS_LIST_PATH, S_TRACKER, "access_list.path"},
	    {KEY_UDP_CONNECTION_ID_SECRET, S_UDP, "connection_id_secret"},
	    {KEY_DPDK_RNG_SEED, S_DPDK, "rng_seed"},
	    {KEY_HTTP_LISTEN, S_HTTP, "listen"},
	    {KEY_STATS_ALLOW, S_STATS, "allow"},
	    {KEY_CLUSTER_ENABLED, S_CLUSTER, "enabled"},
	    {KEY_CLUSTER_SERVERS, S_CLUSTER, "servers"},
	    {KEY_CLUSTER_RING_RECORDS, S_CLUSTER, "ring_records"},
	    {KEY_CLUSTER_MAX_AGE, S_CLUSTER, "max_age"},
	    {KEY_CLUSTER_TLS_CA, S_CLUSTER, "tls.ca"},
	    {KEY_CLUSTER_TLS_KEY, S_CLUSTER, "tls.key"},
	};

	(void)state;
	for (int i = 0; i < CFG_N_KEYS; i++) {
		assert_non_null(cfg_keys[i].name);
		assert_int_equal(
		    cfg_key_lookup(cfg_keys[i].sect, cfg_keys[i].name, strlen(cfg_keys[i].name)),
		    i);
	}
	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
		assert_int_equal(cfg_keys[some[i].id].sect, some[i].sect);
		assert_string_equal(cfg_keys[some[i].id].name, some[i].name);
	}
	assert_int_equal(KEY_CLUSTER_TLS_KEY, CFG_N_KEYS - 1);
}

struct diff_seen {
	char keys[8][64], was[8][128], now[8][128];
	int n;
};

static void diff_cb(void *arg, const char *key, const char *was, const char *now)
{
	struct diff_seen *d = arg;

	if (d->n < 8) {
		snprintf(d->keys[d->n], sizeof(d->keys[0]), "%s", key);
		snprintf(d->was[d->n], sizeof(d->was[0]), "%s", was);
		snprintf(d->now[d->n], sizeof(d->now[0]), "%s", now);
	}
	d->n++;
}

/* cfg_diff, which a reload logs from: each changed key once, in the
 * file's order, named section.key (groups too), values as --check-config
 * prints them on one line; nothing for equal configurations. */
static void test_cfg_diff_names_each_changed_key_with_both_values(void **state)
{
	struct cfg a, b;
	struct diff_seen d = {0};
	const char *doc = "tracker:\n  numwant_max: 80\n  snapshot: { interval: 7 }\n"
			  "dpdk:\n  ports:\n    - { device: net_tap0, ipv4: 198.18.0.2/24 }\n"
			  "    - { device: net_tap1, ipv6: \"fd00::2/64\" }\n"
			  "stats: { allow: [\"198.18.0.0/15\"] }\n";

	(void)state;
	assert_int_equal(cfg_load_buf(&a, NULL, NULL, 0, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg_load_buf(&b, "x.yaml", doc, strlen(doc), NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg_diff(&a, &a, diff_cb, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(cfg_diff(&a, &b, diff_cb, &d), 4);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.keys[0], "tracker.snapshot.interval");
	assert_string_equal(d.now[0], "7");
	assert_string_equal(d.keys[1], "tracker.numwant_max");
	assert_string_equal(d.was[1], "200");
	assert_string_equal(d.now[1], "80");
	assert_string_equal(d.keys[2], "dpdk.ports");
	assert_null(strchr(d.now[2], '\n'));
	assert_non_null(strstr(d.now[2], "net_tap1"));
	assert_non_null(strstr(d.now[2], "fd00::2/64"));
	assert_string_equal(d.keys[3], "stats.allow");
	assert_string_equal(d.now[3], "[\"198.18.0.0/15\"]");
	cfg_fini(&a);
	cfg_fini(&b);
}

/* cluster.site and cluster.sources: tokens, sources a file-only list
 * without repeats that never names this site. */
static void test_cfg_cluster_sources_are_other_sites(void **state)
{
	struct cfg c;
	static const struct {
		const char *yaml, *msg;
	} bad[] = {
	    {"cluster:\n  sources: [east, \"we.st\"]\n",
	     "x.yaml:2: cluster.sources[1]: 'we.st' has a character other than"},
	    {"cluster:\n  sources: [east, east]\n",
	     "x.yaml:2: cluster.sources[1]: 'east' is also entry 0"},
	    {"cluster:\n  sources: [\"\"]\n", "x.yaml:2: cluster.sources[0]: '' is 0 characters"},
	    {"cluster:\n  site: east\n  sources: [west, east]\n",
	     "x.yaml:3: cluster.sources[1] is this site (cluster.site 'east')"},
	    {"cluster:\n  site: \"\"\n", "x.yaml:2: cluster.site: '' is 0 characters long"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cfg_load_buf(&c, "x.yaml", bad[i].yaml, strlen(bad[i].yaml), NULL,
					      err, sizeof(err)),
				 -1);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("%s: got '%s'", bad[i].msg, err);
	}
	const char *good = "cluster:\n  site: east\n  sources: [west, north-2]\n";
	assert_int_equal(cfg_load_buf(&c, "x.yaml", good, strlen(good), NULL, err, sizeof(err)), 0);
	assert_string_equal(c.cluster.site, "east");
	assert_int_equal(c.cluster.n_sources, 2);
	assert_string_equal(c.cluster.sources[1], "north-2");
	cfg_fini(&c);
	assert_int_equal(cfg_load_buf(&c, NULL, NULL, 0, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.cluster.site, "main");
	assert_int_equal(c.cluster.n_sources, 0);
	cfg_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cfg_default_loads_with_the_documented_values),
	    cmocka_unit_test(test_cfg_every_key_id_names_its_own_row),
	    cmocka_unit_test(test_cfg_cluster_sources_are_other_sites),
	    cmocka_unit_test(test_cfg_diff_names_each_changed_key_with_both_values),
	    cmocka_unit_test(test_cfg_embedded_default_is_the_nul_terminated_yaml_file),
	    cmocka_unit_test(test_cfg_log_level_names_are_the_yaml_words),
	    cmocka_unit_test(test_cfg_typo_key_is_refused_naming_its_line_and_the_closest_key),
	    cmocka_unit_test(test_cfg_wrong_types_are_refused),
	    cmocka_unit_test(test_cfg_out_of_range_values_are_refused_with_the_range),
	    cmocka_unit_test(test_cfg_list_longer_than_its_array_is_refused),
	    cmocka_unit_test(test_cfg_bad_addresses_cidrs_and_listen_addresses_are_refused),
	    cmocka_unit_test(test_cfg_duplicate_keys_are_refused_with_both_lines),
	    cmocka_unit_test(test_cfg_yaml_syntax_errors_name_the_line),
	    cmocka_unit_test(test_cfg_cross_key_checks_name_the_key_the_user_changed),
	    cmocka_unit_test(test_cfg_secret_is_32_hex_digits_or_empty_and_never_echoed),
	    cmocka_unit_test(test_cfg_environment_overrides_scalar_keys),
	    cmocka_unit_test(test_cfg_bad_environment_values_are_refused_naming_the_variable),
	    cmocka_unit_test(test_cfg_partial_file_keeps_every_other_default),
	    cmocka_unit_test(test_cfg_user_list_replaces_the_default_list),
	    cmocka_unit_test(test_cfg_shared_port_names_its_interface_and_may_leave_out_addresses),
	    cmocka_unit_test(test_cfg_shared_port_errors_say_what_a_shared_port_needs),
	    cmocka_unit_test(test_cfg_print_output_loads_back_equal),
	    cmocka_unit_test(test_cfg_grouped_keys_nest_one_level),
	    cmocka_unit_test(test_cfg_access_list_mode_and_path_nest_under_tracker),
	    cmocka_unit_test(test_cfg_long_and_hostile_input_is_refused_without_overflow),
	    cmocka_unit_test(test_cfg_a_failed_load_frees_what_it_had_allocated),
	    cmocka_unit_test(test_cfg_empty_and_comment_only_files_give_the_defaults),
	    cmocka_unit_test(test_cfg_search_order_is_explicit_then_cwd_then_home),
	    cmocka_unit_test(test_cfg_oversized_file_is_refused),
	    cmocka_unit_test(test_cfg_cluster_is_off_by_default_with_the_documented_values),
	    cmocka_unit_test(test_cfg_cluster_servers_are_nats_or_tls_urls_to_a_host_and_port),
	    cmocka_unit_test(
		test_cfg_cluster_servers_of_any_other_form_are_refused_naming_the_entry),
	    cmocka_unit_test(test_cfg_cluster_name_and_instance_are_tokens_of_bounded_length),
	    cmocka_unit_test(test_cfg_cluster_numbers_are_refused_outside_their_ranges),
	    cmocka_unit_test(
		test_cfg_cluster_misspelt_and_repeated_keys_are_refused_naming_the_line),
	    cmocka_unit_test(test_cfg_cluster_cross_key_checks_name_the_key_the_user_changed),
	    cmocka_unit_test(
		test_cfg_cluster_scalar_and_grouped_keys_are_overridden_from_the_environment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
