/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_benc.c - the bencode writer: integers at their limits, binary strings,
 * nesting, and the sticky overflow that never writes past the buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/benc.h"
#include "guard.h"

static const uint8_t zeros[4096];

/* Returns a cap-byte output buffer whose last byte is right before a guard page. */
static uint8_t *guard_out(struct guard_buf *g, size_t cap)
{
	assert_true(cap <= sizeof(zeros));
	return guard_copy(g, zeros, cap);
}

/* Asserts that b holds exactly the expected bytes and finishes with their length. */
static void expect_bytes(const struct benc *b, const char *want, size_t want_len)
{
	assert_false(b->overflow);
	assert_int_equal(benc_finish(b), want_len);
	assert_memory_equal(b->buf, want, want_len);
}

#define EXPECT(b, lit) expect_bytes((b), (lit), sizeof(lit) - 1)

static void test_benc_writes_integers_at_their_limits(void **state)
{
	static const struct {
		int64_t v;
		const char *want;
	} cases[] = {
	    {0, "i0e"},
	    {1, "i1e"},
	    {-1, "i-1e"},
	    {42, "i42e"},
	    {-42, "i-42e"},
	    {1800, "i1800e"},
	    {4294967295LL, "i4294967295e"},
	    {INT64_MAX, "i9223372036854775807e"},
	    {INT64_MIN, "i-9223372036854775808e"},
	};
	uint8_t buf[64];
	struct benc b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		benc_init(&b, buf, sizeof(buf));
		benc_int(&b, cases[i].v);
		expect_bytes(&b, cases[i].want, strlen(cases[i].want));
	}
}

static void test_benc_writes_strings_with_any_bytes(void **state)
{
	static const uint8_t bin[] = {0x00, 0xff, ':', 'e', 0x0a, 0x80};
	uint8_t buf[64];
	struct benc b;

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	benc_str(&b, bin, sizeof(bin));
	EXPECT(&b, "6:\x00\xff:e\x0a\x80");

	benc_init(&b, buf, sizeof(buf));
	benc_cstr(&b, "spam");
	EXPECT(&b, "4:spam");
}

static void test_benc_writes_empty_string_from_null_pointer(void **state)
{
	uint8_t buf[8];
	struct benc b;

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	benc_str(&b, NULL, 0);
	benc_cstr(&b, "");
	EXPECT(&b, "0:0:");
}

static void test_benc_writes_string_of_ten_bytes_with_two_digit_length(void **state)
{
	uint8_t buf[16];
	struct benc b;

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	benc_cstr(&b, "downloaded");
	EXPECT(&b, "10:downloaded");
}

static void test_benc_writes_bep3_nested_examples(void **state)
{
	uint8_t buf[64];
	struct benc b;

	(void)state;
	/* BEP 3: d3:cow3:moo4:spam4:eggse and l4:spam4:eggse and nesting. */
	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_cstr(&b, "cow");
	benc_cstr(&b, "moo");
	benc_cstr(&b, "spam");
	benc_cstr(&b, "eggs");
	benc_end(&b);
	EXPECT(&b, "d3:cow3:moo4:spam4:eggse");

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_cstr(&b, "spam");
	benc_list(&b);
	benc_cstr(&b, "a");
	benc_int(&b, -3);
	benc_dict(&b);
	benc_end(&b);
	benc_list(&b);
	benc_end(&b);
	benc_end(&b);
	benc_end(&b);
	EXPECT(&b, "d4:spaml1:ai-3edeleee");
}

/* Writes the same small document, DOC, every time. */
static void write_doc(struct benc *b)
{
	benc_dict(b);
	benc_cstr(b, "k");
	benc_int(b, -12345);
	benc_cstr(b, "list");
	benc_list(b);
	benc_end(b);
	benc_end(b);
}

#define DOC "d1:ki-12345e4:listlee"

static void test_benc_document_fits_exactly_at_its_length(void **state)
{
	struct guard_buf g;
	struct benc b;

	(void)state;
	benc_init(&b, guard_out(&g, sizeof(DOC) - 1), sizeof(DOC) - 1);
	write_doc(&b);
	EXPECT(&b, DOC);
	guard_free(&g);
}

static void test_benc_never_writes_past_any_cap_below_the_document(void **state)
{
	struct guard_buf g;
	struct benc b;
	size_t cap;

	(void)state;
	for (cap = 0; cap < sizeof(DOC) - 1; cap++) {
		benc_init(&b, guard_out(&g, cap), cap);
		write_doc(&b);
		assert_true(b.overflow);
		assert_int_equal(benc_finish(&b), 0);
		assert_true(b.len <= cap);
		/* What was written is a prefix of the document. */
		assert_memory_equal(b.buf, DOC, b.len);
		guard_free(&g);
	}
}

static void test_benc_overflow_is_sticky_even_when_later_items_fit(void **state)
{
	uint8_t buf[8];
	struct benc b;

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	benc_cstr(&b, "abcd");	  /* 6 bytes */
	benc_cstr(&b, "toolong"); /* 9 more: does not fit */
	assert_true(b.overflow);
	assert_int_equal(b.len, 6);
	benc_end(&b); /* would fit, but overflow is sticky */
	benc_int(&b, 1);
	assert_int_equal(b.len, 6);
	assert_int_equal(benc_finish(&b), 0);
}

static void test_benc_does_not_write_a_partial_item(void **state)
{
	uint8_t buf[8];
	struct benc b;

	(void)state;
	memset(buf, '#', sizeof(buf));
	benc_init(&b, buf, sizeof(buf));
	benc_int(&b, 1);	 /* "i1e", 3 bytes */
	benc_int(&b, INT64_MIN); /* 22 bytes: refused whole */
	assert_true(b.overflow);
	assert_memory_equal(buf, "i1e#####", 8);
}

static void test_benc_refuses_string_whose_length_would_wrap(void **state)
{
	uint8_t buf[32];
	struct benc b;

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	/* The bytes are never read: the length alone cannot fit. */
	benc_str(&b, buf, SIZE_MAX);
	assert_true(b.overflow);
	assert_int_equal(b.len, 0);
	assert_int_equal(benc_finish(&b), 0);
}

static void test_benc_with_null_buffer_overflows_on_first_byte(void **state)
{
	struct benc b;

	(void)state;
	benc_init(&b, NULL, 100);
	assert_int_equal(benc_finish(&b), 0);
	assert_false(b.overflow);
	benc_dict(&b);
	assert_true(b.overflow);
	assert_int_equal(benc_finish(&b), 0);
}

static void test_benc_empty_document_finishes_with_zero(void **state)
{
	uint8_t buf[4];
	struct benc b;

	(void)state;
	benc_init(&b, buf, sizeof(buf));
	assert_false(b.overflow);
	assert_int_equal(benc_finish(&b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_benc_writes_integers_at_their_limits),
	    cmocka_unit_test(test_benc_writes_strings_with_any_bytes),
	    cmocka_unit_test(test_benc_writes_empty_string_from_null_pointer),
	    cmocka_unit_test(test_benc_writes_string_of_ten_bytes_with_two_digit_length),
	    cmocka_unit_test(test_benc_writes_bep3_nested_examples),
	    cmocka_unit_test(test_benc_document_fits_exactly_at_its_length),
	    cmocka_unit_test(test_benc_never_writes_past_any_cap_below_the_document),
	    cmocka_unit_test(test_benc_overflow_is_sticky_even_when_later_items_fit),
	    cmocka_unit_test(test_benc_does_not_write_a_partial_item),
	    cmocka_unit_test(test_benc_refuses_string_whose_length_would_wrap),
	    cmocka_unit_test(test_benc_with_null_buffer_overflows_on_first_byte),
	    cmocka_unit_test(test_benc_empty_document_finishes_with_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
