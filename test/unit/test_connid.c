/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_connid.c - stateless connection IDs: expiry, binding to the address
 * and key, the 32-bit wrap, and forgery.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/connid.h"
#include "guard.h"

#define TTL 120u
#define NOW 1700000000ull

static const char key_hex[] = "000102030405060708090a0b0c0d0e0f";
static const uint8_t v4_ip[4] = {198, 18, 0, 1};
static const uint8_t v6_ip[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static struct connid_key test_key(void)
{
	struct connid_key key;

	assert_int_equal(connid_key_from_hex(&key, key_hex), 0);
	return key;
}

/* splitmix64: a fixed-seed generator, so the forgery runs are repeatable. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void test_connid_accepts_id_at_age_zero_and_at_exactly_ttl(void **state)
{
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);
	uint64_t id = connid_issue(&key, &a, NOW);

	(void)state;
	assert_true(connid_check(&key, &a, id, NOW, TTL));
	assert_true(connid_check(&key, &a, id, NOW + 1, TTL));
	assert_true(connid_check(&key, &a, id, NOW + TTL, TTL));
}

static void test_connid_rejects_id_one_second_after_ttl(void **state)
{
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);
	uint64_t id = connid_issue(&key, &a, NOW);

	(void)state;
	assert_false(connid_check(&key, &a, id, NOW + TTL + 1, TTL));
	assert_false(connid_check(&key, &a, id, NOW + 86400, TTL));
	/* ttl 0: valid only in the second it was issued. */
	assert_true(connid_check(&key, &a, id, NOW, 0));
	assert_false(connid_check(&key, &a, id, NOW + 1, 0));
}

static void test_connid_puts_issue_time_in_high_bits(void **state)
{
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);

	(void)state;
	assert_int_equal(connid_issue(&key, &a, NOW) >> 32, (uint32_t)NOW);
	assert_int_equal(connid_issue(&key, &a, (5ull << 32) + 7) >> 32, 7);
}

/* The ID the format prescribes: time, then the first 4 MAC bytes in order. */
static uint64_t id_of(uint64_t now, const uint8_t *mac)
{
	return (uint64_t)(uint32_t)now << 32 | (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 |
	       (uint32_t)mac[2] << 8 | mac[3];
}

/* Pins the wire format, so IDs stay valid across versions that share a key
 * (a key restored from a snapshot). */
static void test_connid_mac_is_siphash_of_time_family_and_address(void **state)
{
	struct connid_key key = test_key();
	struct tr_addr a4 = tr_addr_v4(v4_ip, 6881);
	struct tr_addr a6 = tr_addr_v6(v6_ip, 6881);
	uint8_t in4[4 + 1 + 4] = {0x65, 0x53, 0xf1, 0x00, 4, 198, 18, 0, 1};
	uint8_t in6[4 + 1 + 16] = {0x65, 0x53, 0xf1, 0x00, 6};
	uint8_t h[crypto_shorthash_BYTES];

	(void)state;
	assert_int_equal((uint32_t)NOW, 0x6553f100);
	crypto_shorthash(h, in4, sizeof(in4), key.k);
	assert_true(connid_issue(&key, &a4, NOW) == id_of(NOW, h));

	memcpy(in6 + 5, v6_ip, 16);
	crypto_shorthash(h, in6, sizeof(in6), key.k);
	assert_true(connid_issue(&key, &a6, NOW) == id_of(NOW, h));
}

static void test_connid_rejects_id_for_another_v4_address(void **state)
{
	static const uint8_t other[4] = {198, 18, 0, 2};
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);
	struct tr_addr b = tr_addr_v4(other, 6881);
	uint64_t id = connid_issue(&key, &a, NOW);

	(void)state;
	assert_true(connid_check(&key, &a, id, NOW, TTL));
	assert_false(connid_check(&key, &b, id, NOW, TTL));
}

static void test_connid_rejects_id_for_another_v6_address(void **state)
{
	uint8_t other[16];
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v6(v6_ip, 6881);
	uint64_t id = connid_issue(&key, &a, NOW);

	(void)state;
	assert_true(connid_check(&key, &a, id, NOW, TTL));
	/* Every single-bit change of the address is a different client. */
	for (int bit = 0; bit < 128; bit++) {
		struct tr_addr b;

		memcpy(other, v6_ip, 16);
		other[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		b = tr_addr_v6(other, 6881);
		assert_false(connid_check(&key, &b, id, NOW, TTL));
	}
}

static void test_connid_rejects_v4_id_for_v6_address_with_same_leading_bytes(void **state)
{
	/* The v4 address's ip[] is 198.18.0.1 then zeros: the same 16 bytes. */
	static const uint8_t same16[16] = {198, 18, 0, 1};
	struct connid_key key = test_key();
	struct tr_addr a4 = tr_addr_v4(v4_ip, 6881);
	struct tr_addr a6 = tr_addr_v6(same16, 6881);
	uint64_t id4 = connid_issue(&key, &a4, NOW);
	uint64_t id6 = connid_issue(&key, &a6, NOW);

	(void)state;
	assert_memory_equal(a4.ip, a6.ip, 16);
	assert_true(id4 != id6);
	assert_false(connid_check(&key, &a6, id4, NOW, TTL));
	assert_false(connid_check(&key, &a4, id6, NOW, TTL));
}

static void test_connid_rejects_id_from_the_future(void **state)
{
	static const uint64_t ahead[] = {1, 2, TTL, 3600, 0x7fffffff, 0x80000000, 0xffffffff};
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);

	(void)state;
	for (size_t i = 0; i < sizeof(ahead) / sizeof(ahead[0]); i++) {
		uint64_t id = connid_issue(&key, &a, NOW + ahead[i]);

		/* A properly MACed ID still fails: a forger cannot stamp ahead. */
		assert_true(connid_check(&key, &a, id, NOW + ahead[i], TTL));
		if (ahead[i] == 0xffffffff)
			continue; /* that is one second in the past modulo 2^32 */
		assert_false(connid_check(&key, &a, id, NOW, TTL));
		/* Not even under the longest ttl there is. */
		assert_false(connid_check(&key, &a, id, NOW, UINT32_MAX));
	}
}

static void test_connid_rejects_id_under_another_key(void **state)
{
	struct connid_key key = test_key();
	struct connid_key other = key;
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);
	uint64_t id = connid_issue(&key, &a, NOW);

	(void)state;
	other.k[15] ^= 1;
	assert_false(connid_check(&other, &a, id, NOW, TTL));
	assert_true(connid_issue(&other, &a, NOW) != id);
}

static void test_connid_accepts_id_across_the_32_bit_seconds_wrap(void **state)
{
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v6(v6_ip, 6881);
	uint64_t before = (1ull << 32) - 10;
	uint64_t id = connid_issue(&key, &a, before);

	(void)state;
	assert_int_equal(id >> 32, 0xfffffff6u);
	assert_true(connid_check(&key, &a, id, before + 10, TTL)); /* now is 0 mod 2^32 */
	assert_true(connid_check(&key, &a, id, before + TTL, TTL));
	assert_false(connid_check(&key, &a, id, before + TTL + 1, TTL));
	/* A 64-bit clock many epochs in: only the low 32 bits count. */
	id = connid_issue(&key, &a, (7ull << 32) - 5);
	assert_true(connid_check(&key, &a, id, (7ull << 32) + 5, TTL));
}

static void test_connid_ignores_the_port(void **state)
{
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);
	struct tr_addr b = tr_addr_v4(v4_ip, 51413);
	uint64_t id = connid_issue(&key, &a, NOW);

	(void)state;
	assert_true(connid_issue(&key, &b, NOW) == id);
	assert_true(connid_check(&key, &b, id, NOW + 10, TTL));
}

static void test_connid_accepts_no_random_64_bit_id_out_of_a_million(void **state)
{
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);
	uint64_t s = 1;
	unsigned accepted = 0;

	(void)state;
	for (int i = 0; i < 1000000; i++)
		accepted += connid_check(&key, &a, next_rand(&s), NOW, TTL);
	assert_int_equal(accepted, 0);
}

static void test_connid_accepts_no_random_mac_with_a_valid_time_out_of_a_million(void **state)
{
	struct connid_key key = test_key();
	struct tr_addr a = tr_addr_v6(v6_ip, 6881);
	uint64_t s = 2;
	unsigned accepted = 0;

	(void)state;
	for (int i = 0; i < 1000000; i++) {
		uint64_t r = next_rand(&s);
		uint64_t ts = (uint32_t)(NOW - r % (TTL + 1));
		uint64_t id = ts << 32 | (uint32_t)(r >> 32);

		accepted += connid_check(&key, &a, id, NOW, TTL);
	}
	assert_int_equal(accepted, 0);
}

static void test_connid_key_random_gives_distinct_working_keys(void **state)
{
	struct connid_key k1, k2;
	struct tr_addr a = tr_addr_v4(v4_ip, 6881);
	uint64_t id;

	(void)state;
	assert_int_equal(connid_key_random(&k1), 0);
	assert_int_equal(connid_key_random(&k2), 0);
	assert_memory_not_equal(k1.k, k2.k, sizeof(k1.k));
	id = connid_issue(&k1, &a, NOW);
	assert_true(connid_check(&k1, &a, id, NOW, TTL));
	assert_false(connid_check(&k2, &a, id, NOW, TTL));
}

static void test_connid_key_from_hex_reads_32_digits_of_either_case(void **state)
{
	static const uint8_t want[16] = {0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
					 0xef, 0xAB, 0xCD, 0xEF, 0xff, 0x10, 0x9a, 0xf0};
	struct connid_key key;
	struct guard_buf g;
	const char *hex = "000123456789abcdefABCDEFff109aF0";

	(void)state;
	/* The string ends at a guard page: nothing past its NUL is read. */
	hex = (const char *)guard_copy(&g, hex, strlen(hex) + 1);
	assert_int_equal(connid_key_from_hex(&key, hex), 0);
	assert_memory_equal(key.k, want, 16);
	guard_free(&g);
}

static void test_connid_key_from_hex_refuses_bad_input_and_keeps_key(void **state)
{
	static const char *const bad[] = {
	    "",
	    "000102030405060708090a0b0c0d0e0",	  /* 31 digits */
	    "000102030405060708090a0b0c0d0e0f0",  /* 33 digits */
	    "000102030405060708090a0b0c0d0e0g",	  /* 'g' */
	    "g00102030405060708090a0b0c0d0e0f",	  /* 'g' first */
	    "0001020304050607 8090a0b0c0d0e0f",	  /* space */
	    "0x0102030405060708090a0b0c0d0e0f",	  /* prefix */
	    "000102030405060708090a0b0c0d0e0f\n", /* trailing newline */
	    "-00102030405060708090a0b0c0d0e0f",	  /* sign */
	};
	struct connid_key key, before;

	(void)state;
	memset(&key, 0x5a, sizeof(key));
	before = key;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct guard_buf g;
		const char *hex = (const char *)guard_copy(&g, bad[i], strlen(bad[i]) + 1);

		print_message("\"%s\"\n", bad[i]);
		assert_int_equal(connid_key_from_hex(&key, hex), -1);
		assert_memory_equal(&key, &before, sizeof(key));
		guard_free(&g);
	}
	assert_int_equal(connid_key_from_hex(&key, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connid_accepts_id_at_age_zero_and_at_exactly_ttl),
	    cmocka_unit_test(test_connid_rejects_id_one_second_after_ttl),
	    cmocka_unit_test(test_connid_puts_issue_time_in_high_bits),
	    cmocka_unit_test(test_connid_mac_is_siphash_of_time_family_and_address),
	    cmocka_unit_test(test_connid_rejects_id_for_another_v4_address),
	    cmocka_unit_test(test_connid_rejects_id_for_another_v6_address),
	    cmocka_unit_test(test_connid_rejects_v4_id_for_v6_address_with_same_leading_bytes),
	    cmocka_unit_test(test_connid_rejects_id_from_the_future),
	    cmocka_unit_test(test_connid_rejects_id_under_another_key),
	    cmocka_unit_test(test_connid_accepts_id_across_the_32_bit_seconds_wrap),
	    cmocka_unit_test(test_connid_ignores_the_port),
	    cmocka_unit_test(test_connid_accepts_no_random_64_bit_id_out_of_a_million),
	    cmocka_unit_test(test_connid_accepts_no_random_mac_with_a_valid_time_out_of_a_million),
	    cmocka_unit_test(test_connid_key_random_gives_distinct_working_keys),
	    cmocka_unit_test(test_connid_key_from_hex_reads_32_digits_of_either_case),
	    cmocka_unit_test(test_connid_key_from_hex_refuses_bad_input_and_keeps_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
