/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_status.c - `dptrack --status`: the telemetry reply parser against
 * a table of good and malformed replies (each over a copy that ends at a
 * guard page, so a read past the reply faults), every truncation of a good
 * reply, the file-prefix lookup and the table it prints.
 */
#define _GNU_SOURCE /* open_memstream */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "dpdk/dp_status.h"

#define CMD "/dptrack/stats"

static struct dp_status_sample s;

/* Parses text over a guard buffer. Returns dp_status_parse's value. */
static int parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct guard_buf g;
	int rc;

	guard_copy(&g, text, len);
	rc = dp_status_parse((const char *)g.p, len, CMD, &s, err, errlen);
	guard_free(&g);
	return rc;
}

static void test_dp_status_parses_a_flat_reply(void **state)
{
	static const char r[] =
	    " {\"/dptrack/stats\" : {\"rx_packets\":71,\n\"drop_eth_short\": 0 ,"
	    "\"uptime_seconds\":18446744073709551615}}\n";
	char err[256] = "";
	uint64_t v;

	(void)state;
	assert_int_equal(parse(r, strlen(r), err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_true(dp_status_get(&s, "rx_packets", &v));
	assert_int_equal(v, 71);
	assert_true(dp_status_get(&s, "drop_eth_short", &v));
	assert_int_equal(v, 0);
	assert_true(dp_status_get(&s, "uptime_seconds", &v));
	assert_true(v == UINT64_MAX);
	assert_false(dp_status_get(&s, "tx_packets", &v));
}

static void test_dp_status_parses_an_empty_dict(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(parse("{\"/dptrack/stats\":{}}", 21, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
}

/* Each malformed reply is refused with a message containing why. */
static void test_dp_status_refuses_every_malformed_reply(void **state)
{
	static const struct {
		const char *reply, *why;
	} bad[] = {
	    {"", "ends where '{'"},
	    {"   ", "ends where '{'"},
	    {"[]", "'{' expected"},
	    {"{\"/dptrack/stats\":null}", "null reply"},
	    {"{\"/other\":{\"a\":1}}", "answers '/other'"},
	    {"{\"/dptrack/stats\":{\"a\":1}", "ends where '}'"},
	    {"{\"/dptrack/stats\":{\"a\":1}}x", "bytes after"},
	    {"{\"/dptrack/stats\":{\"a\":1}}{}", "bytes after"},
	    {"{\"/dptrack/stats\":{\"a\":-1}}", "unsigned integer expected"},
	    {"{\"/dptrack/stats\":{\"a\":1.5}}", "not an integer"},
	    {"{\"/dptrack/stats\":{\"a\":1e3}}", "not an integer"},
	    {"{\"/dptrack/stats\":{\"a\":01}}", "leading zero"},
	    {"{\"/dptrack/stats\":{\"a\":18446744073709551616}}", "above 2^64"},
	    {"{\"/dptrack/stats\":{\"a\":99999999999999999999999}}", "above 2^64"},
	    {"{\"/dptrack/stats\":{\"a\":\"1\"}}", "unsigned integer expected"},
	    {"{\"/dptrack/stats\":{\"a\":true}}", "unsigned integer expected"},
	    {"{\"/dptrack/stats\":{\"a\":{}}}", "unsigned integer expected"},
	    {"{\"/dptrack/stats\":{\"a\":1,}}", "'\"' expected"},
	    {"{\"/dptrack/stats\":{,}}", "'\"' expected"},
	    {"{\"/dptrack/stats\":{\"a\" 1}}", "':' expected"},
	    {"{\"/dptrack/stats\":{\"a\":1 \"b\":2}}", "'}' expected"},
	    {"{\"/dptrack/stats\":{\"\":1}}", "empty name"},
	    {"{\"/dptrack/stats\":{\"a\\\"b\":1}}", "unexpected byte 0x5c"},
	    {"{\"/dptrack/stats\":{\"a b\":1}}", "unexpected byte 0x20"},
	    {"{\"/dptrack/stats\":{\"a\":1,\"a\":2}}", "'a' twice"},
	    {"{\"/dptrack/stats\":{\"a", "unterminated string"},
	    {"{\"/dptrack/stats\":[1,2]}", "'{' expected"},
	    {"{\"/dptrack/"
	     "stats\":{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}}",
	     "longer than 63"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int rc = parse(bad[i].reply, strlen(bad[i].reply), err, sizeof(err));
		if (rc != -1 || strstr(err, bad[i].why) == NULL)
			fail_msg("reply %zu '%s': rc %d, err '%s', wanted '%s'", i, bad[i].reply,
				 rc, err, bad[i].why);
	}
}

/* A reply cut anywhere, as a short read would leave it, is refused. */
static void test_dp_status_refuses_every_truncation(void **state)
{
	static const char r[] = "{\"/dptrack/stats\":{\"rx_packets\":71,\"uptime_seconds\":3}}";
	char err[256];

	(void)state;
	for (size_t len = 0; len < strlen(r); len++)
		if (parse(r, len, err, sizeof(err)) != -1)
			fail_msg("a reply cut to %zu bytes was accepted", len);
}

/* A reply with a NUL inside is refused, not read as a shorter string. */
static void test_dp_status_refuses_a_nul_byte(void **state)
{
	static const char r[] = "{\"/dptrack/stats\":{\"a\":1}}\0";
	char err[256];

	(void)state;
	assert_int_equal(parse(r, sizeof(r), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bytes after"));
}

static void test_dp_status_refuses_more_counters_than_it_holds(void **state)
{
	size_t cap = 32 + (DP_STATUS_KEYS_MAX + 1) * 24;
	char *r = malloc(cap), err[256];
	size_t n;

	(void)state;
	assert_non_null(r);
	n = (size_t)snprintf(r, cap, "{\"/dptrack/stats\":{");
	for (unsigned i = 0; i <= DP_STATUS_KEYS_MAX; i++)
		n += (size_t)snprintf(r + n, cap - n, "%s\"k%u\":%u", i ? "," : "", i, i);
	n += (size_t)snprintf(r + n, cap - n, "}}");
	assert_int_equal(parse(r, n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
	free(r);
}

static void test_dp_status_finds_the_file_prefix(void **state)
{
	char *none[] = {"--no-pci", "-l", "0"};
	char *two[] = {"--file-prefix", "a", "--no-pci", "--file-prefix=b"};
	char *last[] = {"--file-prefix=b", "--file-prefix", "c"};
	char *dangling[] = {"--file-prefix"};
	char *similar[] = {"--file-prefixes=x"};

	(void)state;
	assert_string_equal(dp_status_prefix_of(none, 3), "rte");
	assert_string_equal(dp_status_prefix_of(two, 4), "b");
	assert_string_equal(dp_status_prefix_of(last, 3), "c");
	assert_string_equal(dp_status_prefix_of(dangling, 1), "rte");
	assert_string_equal(dp_status_prefix_of(similar, 1), "rte");
	assert_string_equal(dp_status_prefix_of(NULL, 0), "rte");
}

/* Two samples 2 s apart: totals from the second, rates over the gap, only
 * drop reasons with a count, memory in MiB. */
static void test_dp_status_prints_totals_and_rates(void **state)
{
	static struct dp_status_sample a, b;
	static const char ra[] =
	    "{\"/dptrack/stats\":{\"uptime_seconds\":90061,\"swarms\":2,\"peers_ipv4\":3,"
	    "\"peers_ipv6\":1,\"udp_connect\":10,\"udp_announce\":100,\"drop_ip4_cksum\":4,"
	    "\"drop_eth_short\":0,\"memory_used_bytes\":1048576,"
	    "\"memory_budget_bytes\":67108864}}";
	static const char rb[] =
	    "{\"/dptrack/stats\":{\"uptime_seconds\":90063,\"swarms\":2,\"peers_ipv4\":3,"
	    "\"peers_ipv6\":1,\"udp_connect\":30,\"udp_announce\":101,\"drop_ip4_cksum\":8,"
	    "\"drop_eth_short\":0,\"memory_used_bytes\":1048576,"
	    "\"memory_budget_bytes\":67108864}}";
	char err[256], *out = NULL;
	size_t outlen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(dp_status_parse(ra, strlen(ra), CMD, &a, err, sizeof(err)), 0);
	assert_int_equal(dp_status_parse(rb, strlen(rb), CMD, &b, err, sizeof(err)), 0);
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	assert_int_equal(dp_status_print(f, "HEAD", &a, &b, 2.0), 0);
	fclose(f);
	assert_non_null(strstr(out, "HEAD\n"));
	assert_non_null(strstr(out, "1 d 01:01:03"));
	assert_non_null(strstr(out, "udp connect                                30         10.0"));
	assert_non_null(strstr(out, "udp announce                              101          0.5"));
	assert_non_null(strstr(out, "ip4_cksum                                   8          2.0"));
	assert_null(strstr(out, "eth_short"));
	assert_non_null(strstr(out, "1.0 MiB of 64.0 MiB (1.6 %)"));
	assert_non_null(strstr(out, "(none)"));
	free(out);

	/* Not a dptrack reply: no uptime, nothing printed. */
	assert_int_equal(dp_status_parse("{\"/dptrack/stats\":{}}", 21, CMD, &b, err, sizeof(err)),
			 0);
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	assert_int_equal(dp_status_print(f, "HEAD", NULL, &b, 0), -1);
	fclose(f);
	free(out);
}

/* What --status prints for one sample, the telemetry reply (malloc'd). */
static char *printed(const char *reply)
{
	static struct dp_status_sample b;
	char err[256], *out = NULL;
	size_t outlen = 0;
	FILE *f;

	assert_int_equal(dp_status_parse(reply, strlen(reply), CMD, &b, err, sizeof(err)), 0);
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	assert_int_equal(dp_status_print(f, "HEAD", NULL, &b, 0), 0);
	fclose(f);
	return out;
}

static void test_dp_status_prints_a_shared_ports_xdp_verdicts(void **state)
{
	static const char rb[] =
	    "{\"/dptrack/stats\":{\"uptime_seconds\":5,\"port1_xdp_redirect\":40,"
	    "\"port1_xdp_pass_off\":0,\"port1_xdp_pass_not_udp\":7,\"port1_xdp_pass_not_ip\":2}}";
	char *out = printed(rb);

	(void)state;
	assert_non_null(strstr(out, "port 1 XDP: redirect, pass"));
	assert_null(strstr(out, "port 0 XDP"));
	assert_non_null(strstr(out, "  redirect                                   40\n"));
	assert_non_null(strstr(out, "  pass_not_udp                                7\n"));
	assert_non_null(strstr(out, "  pass_not_ip                                 2\n"));
	assert_null(strstr(out, "pass_off"));
	free(out);
}

/* The cluster's lag: the last full window's p50 and p99 with the records
 * it held; a window that held none says so instead of reading 0.0 ms. */
static void test_dp_status_prints_the_cluster_lag_or_no_records(void **state)
{
	char *out = printed("{\"/dptrack/stats\":{\"uptime_seconds\":5,\"cluster_connected\":1,"
			    "\"cluster_lag_p50_us\":3530,\"cluster_lag_p99_us\":750000,"
			    "\"cluster_lag_window_records\":100}}");

	(void)state;
	assert_non_null(
	    strstr(out, "lag p50 / p99 (10 s)                  3.5 ms / 750.0 ms (100 records)\n"));
	free(out);

	out = printed("{\"/dptrack/stats\":{\"uptime_seconds\":5,\"cluster_connected\":1,"
		      "\"cluster_lag_p50_us\":0,\"cluster_lag_p99_us\":0,"
		      "\"cluster_lag_window_records\":0}}");
	assert_non_null(strstr(out, "lag p50 / p99 (10 s)               no records\n"));
	assert_null(strstr(out, "0.0 ms"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dp_status_parses_a_flat_reply),
	    cmocka_unit_test(test_dp_status_parses_an_empty_dict),
	    cmocka_unit_test(test_dp_status_refuses_every_malformed_reply),
	    cmocka_unit_test(test_dp_status_refuses_every_truncation),
	    cmocka_unit_test(test_dp_status_refuses_a_nul_byte),
	    cmocka_unit_test(test_dp_status_refuses_more_counters_than_it_holds),
	    cmocka_unit_test(test_dp_status_finds_the_file_prefix),
	    cmocka_unit_test(test_dp_status_prints_totals_and_rates),
	    cmocka_unit_test(test_dp_status_prints_a_shared_ports_xdp_verdicts),
	    cmocka_unit_test(test_dp_status_prints_the_cluster_lag_or_no_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
