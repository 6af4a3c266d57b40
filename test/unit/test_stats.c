/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_stats.c - summing and naming the per-thread request counters.
 *
 * Every field is set and checked through the struct's own members, so a
 * field stats_add() skipped or mixed up with another shows up here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/stats.h"

/* A value unique to (struct, field, index): a member read from the wrong
 * place, or not added, gives a different sum. */
static uint64_t val(unsigned who, unsigned field, unsigned i, unsigned j)
{
	return (uint64_t)who << 40 | (uint64_t)field << 24 | (uint64_t)i << 12 | j;
}

/* Fills every member of c with distinct values for who. */
static void fill(struct stats_ctr *c, unsigned who)
{
	memset(c, 0, sizeof(*c));
	for (unsigned p = 0; p < STATS_PROTO_N; p++)
		for (unsigned a = 0; a < STATS_ACTION_N; a++)
			c->req[p][a] = val(who, 1, p, a);
	for (unsigned p = 0; p < STATS_PROTO_N; p++)
		for (unsigned e = 0; e < STATS_ERR_N; e++)
			c->err[p][e] = val(who, 2, p, e);
	for (unsigned e = 0; e < UDP_MSG_ERR_N; e++)
		c->udp_bad[e] = val(who, 3, e, 0);
	for (unsigned e = 0; e < HTTP_REQ_ERR_N; e++)
		c->http_bad[e] = val(who, 4, e, 0);
}

/* Checks every member of total is the sum of the given owners' values. */
static void expect_sum(const struct stats_ctr *total, const unsigned *who, unsigned n)
{
	for (unsigned p = 0; p < STATS_PROTO_N; p++)
		for (unsigned a = 0; a < STATS_ACTION_N; a++) {
			uint64_t want = 0;

			for (unsigned k = 0; k < n; k++)
				want += val(who[k], 1, p, a);
			assert_int_equal(total->req[p][a], want);
		}
	for (unsigned p = 0; p < STATS_PROTO_N; p++)
		for (unsigned e = 0; e < STATS_ERR_N; e++) {
			uint64_t want = 0;

			for (unsigned k = 0; k < n; k++)
				want += val(who[k], 2, p, e);
			assert_int_equal(total->err[p][e], want);
		}
	for (unsigned e = 0; e < UDP_MSG_ERR_N; e++) {
		uint64_t want = 0;

		for (unsigned k = 0; k < n; k++)
			want += val(who[k], 3, e, 0);
		assert_int_equal(total->udp_bad[e], want);
	}
	for (unsigned e = 0; e < HTTP_REQ_ERR_N; e++) {
		uint64_t want = 0;

		for (unsigned k = 0; k < n; k++)
			want += val(who[k], 4, e, 0);
		assert_int_equal(total->http_bad[e], want);
	}
}

static void test_stats_add_sums_every_field(void **state)
{
	(void)state;
	struct stats_ctr a, b, total;
	const unsigned both[] = {1, 2};

	memset(&total, 0, sizeof(total));
	fill(&a, 1);
	fill(&b, 2);
	stats_add(&total, &a);
	stats_add(&total, &b);
	expect_sum(&total, both, 2);

	/* The inputs are left alone. */
	const unsigned one[] = {1}, two[] = {2};
	expect_sum(&a, one, 1);
	expect_sum(&b, two, 1);
}

static void test_stats_add_accumulates_into_a_running_total(void **state)
{
	(void)state;
	struct stats_ctr a, total;
	const unsigned thrice[] = {3, 3, 3}, plus[] = {3, 3, 3, 5};

	memset(&total, 0, sizeof(total));
	fill(&a, 3);
	for (int i = 0; i < 3; i++)
		stats_add(&total, &a);
	expect_sum(&total, thrice, 3);

	fill(&a, 5);
	stats_add(&total, &a);
	expect_sum(&total, plus, 4);
}

static void test_stats_add_of_a_zero_struct_changes_nothing(void **state)
{
	(void)state;
	struct stats_ctr zero, total;
	const unsigned one[] = {7};

	memset(&zero, 0, sizeof(zero));
	fill(&total, 7);
	stats_add(&total, &zero);
	expect_sum(&total, one, 1);
}

static void test_stats_inc_counts_one_field_only(void **state)
{
	(void)state;
	struct stats_ctr c, total;

	memset(&c, 0, sizeof(c));
	STATS_INC(c.err[STATS_HTTP][STATS_ERR_FULL_SCRAPE]);
	STATS_INC(c.err[STATS_HTTP][STATS_ERR_FULL_SCRAPE]);
	STATS_ADD(c.udp_bad[UDP_MSG_ERR_EVENT], 5);
	memset(&total, 0, sizeof(total));
	stats_add(&total, &c);
	assert_int_equal(total.err[STATS_HTTP][STATS_ERR_FULL_SCRAPE], 2);
	assert_int_equal(total.udp_bad[UDP_MSG_ERR_EVENT], 5);
	total.err[STATS_HTTP][STATS_ERR_FULL_SCRAPE] = 0;
	total.udp_bad[UDP_MSG_ERR_EVENT] = 0;

	struct stats_ctr zero;
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&total, &zero, sizeof(zero));
}

/* Checks n names are non-NULL, non-empty, not "unknown" and all distinct. */
static void expect_distinct_names(const char *const *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		assert_non_null(names[i]);
		assert_true(names[i][0] != '\0');
		assert_string_not_equal(names[i], "unknown");
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
}

static void test_stats_names_are_distinct_for_every_value(void **state)
{
	(void)state;
	const char *names[STATS_ERR_N];

	for (unsigned p = 0; p < STATS_PROTO_N; p++)
		names[p] = stats_proto_name((enum stats_proto)p);
	expect_distinct_names(names, STATS_PROTO_N);
	assert_string_equal(stats_proto_name(STATS_UDP), "udp");
	assert_string_equal(stats_proto_name(STATS_HTTP), "http");

	for (unsigned a = 0; a < STATS_ACTION_N; a++)
		names[a] = stats_action_name((enum stats_action)a);
	expect_distinct_names(names, STATS_ACTION_N);
	assert_string_equal(stats_action_name(STATS_CONNECT), "connect");
	assert_string_equal(stats_action_name(STATS_ANNOUNCE), "announce");
	assert_string_equal(stats_action_name(STATS_SCRAPE), "scrape");

	for (unsigned e = 0; e < STATS_ERR_N; e++)
		names[e] = stats_err_name((enum stats_err)e);
	expect_distinct_names(names, STATS_ERR_N);
}

static void test_stats_names_out_of_range_are_unknown(void **state)
{
	(void)state;
	const unsigned bad[] = {STATS_ERR_N, STATS_ERR_N + 1, 1000, UINT32_MAX};

	assert_string_equal(stats_proto_name(STATS_PROTO_N), "unknown");
	assert_string_equal(stats_action_name(STATS_ACTION_N), "unknown");
	assert_string_equal(stats_err_name(STATS_ERR_N), "unknown");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_string_equal(stats_proto_name((enum stats_proto)bad[i]), "unknown");
		assert_string_equal(stats_action_name((enum stats_action)bad[i]), "unknown");
		assert_string_equal(stats_err_name((enum stats_err)bad[i]), "unknown");
	}
	/* A negative value too, as a corrupted int would be. */
	assert_string_equal(stats_proto_name((enum stats_proto) - 1), "unknown");
	assert_string_equal(stats_action_name((enum stats_action) - 1), "unknown");
	assert_string_equal(stats_err_name((enum stats_err) - 1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stats_add_sums_every_field),
	    cmocka_unit_test(test_stats_add_accumulates_into_a_running_total),
	    cmocka_unit_test(test_stats_add_of_a_zero_struct_changes_nothing),
	    cmocka_unit_test(test_stats_inc_counts_one_field_only),
	    cmocka_unit_test(test_stats_names_are_distinct_for_every_value),
	    cmocka_unit_test(test_stats_names_out_of_range_are_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
