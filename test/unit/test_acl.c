/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_acl.c - the access list: its file format (a table of documents and
 * the error each gives, line included), lookups against a brute-force
 * answer, the modes, and loading from a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/acl.h"
#include "core/limits.h"

#define H1 "0123456789abcdef0123456789abcdef01234567"
#define H2 "fedcba9876543210fedcba9876543210fedcba98"

static void hex_to(uint8_t *h, const char *hex)
{
	for (unsigned i = 0; i < TR_HASH_LEN; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		h[i] = (uint8_t)v;
	}
}

static struct acl *parse(const char *doc, enum acl_mode mode, char *err, size_t errlen)
{
	return acl_parse("l.txt", doc, strlen(doc), mode, ACL_MAX_ENTRIES, err, errlen);
}

static void test_acl_comments_blanks_case_and_spaces_are_accepted(void **state)
{
	(void)state;
	static const char doc[] =
	    "# allowed torrents\n"
	    "\n"
	    "   \t\n" H1 "\n"
	    "  "
	    "FEDCBA9876543210FEDCBA9876543210FEDCBA98"
	    "\t # upper case\r\n"
	    "\t# indented comment\n" H1; /* a duplicate, and no final newline */
	uint8_t h1[TR_HASH_LEN], h2[TR_HASH_LEN], h3[TR_HASH_LEN] = {0};
	char err[256];
	struct acl *a = parse(doc, ACL_ALLOW, err, sizeof(err));

	if (a == NULL)
		fail_msg("%s", err);
	hex_to(h1, H1);
	hex_to(h2, H2);
	assert_int_equal(acl_count(a), 2);
	assert_int_equal(acl_mode_of(a), ACL_ALLOW);
	assert_true(acl_contains(a, h1));
	assert_true(acl_contains(a, h2));
	assert_false(acl_contains(a, h3));
	acl_free(a);
}

static void test_acl_bad_lines_are_refused_naming_file_line_and_reason(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *err;
	} t[] = {
	    {"nope\n", "l.txt:1: expected 40 hex digits, found a non-hex character at column 1"},
	    {H1 "\n0123\n", "l.txt:2: expected 40 hex digits, got 4"},
	    {"# c\n\n0123456789abcdef0123456789abcdef0123456\n",
	     "l.txt:3: expected 40 hex digits, got 39"},
	    {H1 "0\n", "l.txt:1: expected 40 hex digits, got more"},
	    {"0123456789abcdef0123456789abcdefg1234567\n",
	     "l.txt:1: expected 40 hex digits, found a non-hex character at column 33"},
	    {H1 " x\n", "l.txt:1: unexpected character at column 42"},
	    {H1 " " H2 "\n", "l.txt:1: unexpected character at column 42"},
	    {H1 ";\n", "l.txt:1: unexpected character at column 41"},
	    {"0x" H1 "\n",
	     "l.txt:1: expected 40 hex digits, found a non-hex character at column 2"},
	    {"\n\n\n" H1 " \xc2\xa0\n", "l.txt:4: unexpected character at column 42"},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct acl *a = parse(t[i].doc, ACL_DENY, err, sizeof(err));

		if (a != NULL)
			fail_msg("accepted: %s", t[i].doc);
		if (strncmp(err, t[i].err, strlen(t[i].err)) != 0)
			fail_msg("'%s': got '%s', want '%s'", t[i].doc, err, t[i].err);
	}
}

static void test_acl_a_nul_byte_is_a_bad_character(void **state)
{
	(void)state;
	static const char doc[] = H1 "\n"
				     "01234\0"
				     "6789abcdef0123456789abcdef01234567\n";
	char err[256];

	assert_null(acl_parse("l.txt", doc, sizeof(doc) - 1, ACL_DENY, 10, err, sizeof(err)));
	assert_string_equal(
	    err, "l.txt:2: expected 40 hex digits, found a non-hex character at column 6");
}

static void test_acl_a_line_longer_than_the_limit_is_refused(void **state)
{
	(void)state;
	size_t n = ACL_LINE_MAX + 1;
	char *doc = malloc(n + 64), err[256];

	assert_non_null(doc);
	snprintf(doc, 64, "%s\n", H1);
	memset(doc + 41, '#', n);
	doc[41 + n] = '\0';
	assert_null(parse(doc, ACL_DENY, err, sizeof(err)));
	assert_string_equal(err, "l.txt:2: line longer than 1024 bytes");
	doc[41 + n - 1] = '\0'; /* exactly the limit: a comment */
	struct acl *a = parse(doc, ACL_DENY, err, sizeof(err));
	assert_non_null(a);
	assert_int_equal(acl_count(a), 1);
	acl_free(a);
	free(doc);
}

static void test_acl_more_hashes_than_the_limit_are_refused_duplicates_counted(void **state)
{
	(void)state;
	static const char doc[] = H1 "\n" H1 "\n" H2 "\n";
	char err[256];

	assert_null(acl_parse("l.txt", doc, strlen(doc), ACL_DENY, 2, err, sizeof(err)));
	assert_string_equal(err, "l.txt:3: more than 2 hashes (the limit)");
	struct acl *a = acl_parse("l.txt", doc, strlen(doc), ACL_DENY, 3, err, sizeof(err));
	assert_non_null(a);
	assert_int_equal(acl_count(a), 2);
	acl_free(a);
}

static void test_acl_empty_list_allows_nothing_and_denies_nothing(void **state)
{
	(void)state;
	uint8_t h[TR_HASH_LEN];
	char err[256];
	struct acl *allow = parse("# nothing yet\n", ACL_ALLOW, err, sizeof(err));
	struct acl *deny = parse("", ACL_DENY, err, sizeof(err));

	hex_to(h, H1);
	assert_non_null(allow);
	assert_non_null(deny);
	assert_int_equal(acl_count(allow), 0);
	assert_true(acl_refuses(allow, h));
	assert_false(acl_refuses(deny, h));
	acl_free(allow);
	acl_free(deny);
}

static void test_acl_modes_refuse_the_right_hashes(void **state)
{
	(void)state;
	uint8_t h1[TR_HASH_LEN], h2[TR_HASH_LEN];
	char err[256];
	struct acl *allow = parse(H1 "\n", ACL_ALLOW, err, sizeof(err));
	struct acl *deny = parse(H1 "\n", ACL_DENY, err, sizeof(err));
	struct acl *off = parse(H1 "\n", ACL_OFF, err, sizeof(err));

	hex_to(h1, H1);
	hex_to(h2, H2);
	assert_false(acl_refuses(allow, h1));
	assert_true(acl_refuses(allow, h2));
	assert_true(acl_refuses(deny, h1));
	assert_false(acl_refuses(deny, h2));
	assert_false(acl_refuses(off, h1));
	assert_false(acl_refuses(NULL, h1));
	assert_string_equal(acl_mode_name(ACL_ALLOW), "allow");
	assert_string_equal(acl_mode_name(ACL_DENY), "deny");
	assert_string_equal(acl_mode_name(ACL_OFF), "off");
	assert_string_equal(acl_mode_name((enum acl_mode)7), "unknown");
	acl_free(allow);
	acl_free(deny);
	acl_free(off);
}

/* A deterministic generator, so failures repeat. */
static uint64_t next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 16;
}

/* Lists of every size class (index of 0 to 16 bits), with hashes sharing
 * prefixes, against a linear search: members found, near misses not. */
static void test_acl_lookup_agrees_with_a_linear_search(void **state)
{
	(void)state;
	static const size_t sizes[] = {1, 2, 3, 7, 100, 1000, 70000, 140000};
	uint64_t seed = 42;

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];
		char *doc = malloc(n * 41 + 1), err[256];
		uint8_t *h = malloc(n * TR_HASH_LEN);

		assert_non_null(doc);
		assert_non_null(h);
		for (size_t i = 0; i < n; i++) {
			for (unsigned j = 0; j < TR_HASH_LEN; j++)
				h[i * TR_HASH_LEN + j] = (uint8_t)next(&seed);
			if (i % 3 == 1) /* shares a long prefix with the one before */
				memcpy(h + i * TR_HASH_LEN, h + (i - 1) * TR_HASH_LEN, 19);
			for (unsigned j = 0; j < TR_HASH_LEN; j++)
				snprintf(doc + i * 41 + 2 * j, 3, "%02X", h[i * TR_HASH_LEN + j]);
			doc[i * 41 + 40] = '\n';
		}
		struct acl *a = acl_parse("l.txt", doc, n * 41, ACL_ALLOW, n, err, sizeof(err));
		if (a == NULL)
			fail_msg("%s", err);
		for (size_t i = 0; i < n; i++)
			assert_true(acl_contains(a, h + i * TR_HASH_LEN));
		for (size_t i = 0; i < 2000; i++) {
			uint8_t q[TR_HASH_LEN];
			bool want = false;

			memcpy(q, h + (i % n) * TR_HASH_LEN, TR_HASH_LEN);
			q[i % TR_HASH_LEN] ^= (uint8_t)(1u << (i % 8));
			for (size_t k = 0; k < n && !want; k++)
				want = memcmp(h + k * TR_HASH_LEN, q, TR_HASH_LEN) == 0;
			assert_int_equal(acl_contains(a, q), want);
		}
		acl_free(a);
		free(doc);
		free(h);
	}
}

static void test_acl_load_reads_a_file_and_reports_its_path(void **state)
{
	(void)state;
	char path[] = "/tmp/test_acl_XXXXXX", err[512], want[600];
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	/* More than one 64 KiB read window, so lines straddle windows. */
	for (unsigned i = 0; i < 4000; i++)
		fprintf(f, "%08x%032x # torrent %u\n", i, 0u, i);
	long good = ftell(f);
	fputs("bad line\n", f);
	fclose(f);

	assert_null(acl_load(path, ACL_DENY, ACL_MAX_ENTRIES, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:4001: expected 40 hex digits", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got '%s'", err);

	assert_int_equal(truncate(path, (off_t)good), 0);
	struct acl *a = acl_load(path, ACL_DENY, ACL_MAX_ENTRIES, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	assert_int_equal(acl_count(a), 4000);
	acl_free(a);
	unlink(path);

	assert_null(acl_load(path, ACL_DENY, ACL_MAX_ENTRIES, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	assert_string_equal(err, want);
	assert_null(acl_load("/", ACL_DENY, ACL_MAX_ENTRIES, err, sizeof(err)));
	assert_string_equal(err, "/: cannot read: Is a directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_acl_comments_blanks_case_and_spaces_are_accepted),
	    cmocka_unit_test(test_acl_bad_lines_are_refused_naming_file_line_and_reason),
	    cmocka_unit_test(test_acl_a_nul_byte_is_a_bad_character),
	    cmocka_unit_test(test_acl_a_line_longer_than_the_limit_is_refused),
	    cmocka_unit_test(test_acl_more_hashes_than_the_limit_are_refused_duplicates_counted),
	    cmocka_unit_test(test_acl_empty_list_allows_nothing_and_denies_nothing),
	    cmocka_unit_test(test_acl_modes_refuse_the_right_hashes),
	    cmocka_unit_test(test_acl_lookup_agrees_with_a_linear_search),
	    cmocka_unit_test(test_acl_load_reads_a_file_and_reports_its_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
