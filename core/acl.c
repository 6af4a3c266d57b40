/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * acl.c - the access list: parsing a list of hex info hashes, sorting it,
 * and looking hashes up.
 *
 * Build: lines are fed one at a time (from a buffer, or from a file through
 * a fixed 64 KiB window), hashes appended to an array that doubles; then the
 * array is sorted, duplicates dropped and the bucket index built. Lookup:
 * the index gives the bucket of the hash's leading bits, a binary search
 * finishes in it. Info hashes are SHA-1 outputs, so buckets are even.
 */
#include "acl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "limits.h"

#define INDEX_BITS_MAX 16
#define READ_CHUNK     65536
#define HEX_DIGITS     ((size_t)2 * TR_HASH_LEN)

struct acl {
	enum acl_mode mode;
	unsigned bits;		   /* index buckets: 2^bits, by the leading bits */
	size_t n;		   /* distinct hashes */
	uint8_t (*h)[TR_HASH_LEN]; /* sorted */
	uint32_t *index;	   /* bucket b is h[index[b]] .. h[index[b + 1] - 1] */
};

/* A list being built, and where errors go. */
struct build {
	uint8_t (*h)[TR_HASH_LEN];
	size_t n, cap, max;
	const char *name;
	unsigned line; /* of the line being fed, from 1 */
	char *err;
	size_t errlen;
};

/* Writes "NAME:LINE: " (or "NAME: " outside a line) and the message to
 * b->err. Returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(struct build *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err == NULL || b->errlen == 0)
		return -1;
	if (b->line != 0)
		n = snprintf(b->err, b->errlen, "%s:%u: ", b->name, b->line);
	else
		n = snprintf(b->err, b->errlen, "%s: ", b->name);
	if (n >= 0 && (size_t)n < b->errlen) {
		va_start(ap, fmt);
		vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Feeds line b->line (s, len bytes, no newline). Returns 0 or -1 (err set). */
static int feed(struct build *b, const char *s, size_t len)
{
	uint8_t hash[TR_HASH_LEN];
	size_t i = 0, digits = 0;

	if (len > ACL_LINE_MAX)
		return fail(b, "line longer than %u bytes", ACL_LINE_MAX);
	while (i < len && blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return 0;
	for (; i < len && digits < HEX_DIGITS; i++, digits++) {
		int v = tr_hex_digit(s[i]);

		if (v < 0)
			break;
		if (digits % 2 == 0)
			hash[digits / 2] = (uint8_t)(v << 4);
		else
			hash[digits / 2] |= (uint8_t)v;
	}
	if (digits < HEX_DIGITS) {
		if (i < len && !blank(s[i]) && s[i] != '#')
			return fail(b,
				    "expected 40 hex digits, found a non-hex character at "
				    "column %zu",
				    i + 1);
		return fail(b, "expected 40 hex digits, got %zu", digits);
	}
	if (i < len && tr_hex_digit(s[i]) >= 0)
		return fail(b, "expected 40 hex digits, got more");
	while (i < len && blank(s[i]))
		i++;
	if (i < len && s[i] != '#')
		return fail(b,
			    "unexpected character at column %zu: one 40-digit hash per line, "
			    "then an optional # comment",
			    i + 1);
	if (b->n == b->max)
		return fail(b, "more than %zu hashes (the limit)", b->max);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		void *p;

		if (cap > b->max)
			cap = b->max;
		p = realloc(b->h, cap * sizeof(*b->h));
		if (p == NULL)
			return fail(b, "out of memory for %zu hashes", cap);
		b->h = p;
		b->cap = cap;
	}
	memcpy(b->h[b->n++], hash, TR_HASH_LEN);
	return 0;
}

/* Feeds every complete line of buf (len bytes); with last, the bytes after
 * the final newline too. Returns the bytes consumed, or -1 (err set). */
static long feed_lines(struct build *b, const char *buf, size_t len, bool last)
{
	size_t at = 0;

	while (at < len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t l = nl != NULL ? (size_t)(nl - (buf + at)) : len - at;

		if (nl == NULL && !last) {
			if (l > ACL_LINE_MAX) {
				b->line++;
				return fail(b, "line longer than %u bytes", ACL_LINE_MAX);
			}
			break;
		}
		b->line++;
		if (feed(b, buf + at, l) != 0)
			return -1;
		at += l + (nl != NULL);
	}
	return (long)at;
}

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, TR_HASH_LEN);
}

static unsigned prefix(const struct acl *a, const uint8_t *h)
{
	return a->bits == 0 ? 0 : ((unsigned)h[0] << 8 | h[1]) >> (INDEX_BITS_MAX - a->bits);
}

/* Sorts, drops duplicates and indexes what b holds, which moves into the
 * returned list; NULL if out of memory (err set, b->h freed). */
static struct acl *finish(struct build *b, enum acl_mode mode)
{
	struct acl *a = calloc(1, sizeof(*a));
	size_t n = 0;

	b->line = 0;
	if (a == NULL) {
		free(b->h);
		fail(b, "out of memory");
		return NULL;
	}
	if (b->n > 0)
		qsort(b->h, b->n, sizeof(*b->h), cmp_hash);
	for (size_t i = 0; i < b->n; i++)
		if (n == 0 || memcmp(b->h[n - 1], b->h[i], TR_HASH_LEN) != 0)
			memmove(b->h[n++], b->h[i], TR_HASH_LEN);
	a->mode = mode;
	a->n = n;
	a->h = b->h;
	while (a->bits < INDEX_BITS_MAX && (size_t)2 << a->bits <= n)
		a->bits++;
	a->index = malloc((((size_t)1 << a->bits) + 1) * sizeof(*a->index));
	if (a->index == NULL) {
		acl_free(a);
		fail(b, "out of memory");
		return NULL;
	}
	/* index[k] = the first hash whose bucket is >= k. */
	size_t i = 0;
	for (size_t k = 0; k <= (size_t)1 << a->bits; k++) {
		while (i < n && prefix(a, a->h[i]) < k)
			i++;
		a->index[k] = (uint32_t)i;
	}
	return a;
}

struct acl *acl_parse(const char *name, const char *buf, size_t len, enum acl_mode mode,
		      size_t max_entries, char *err, size_t errlen)
{
	struct build b = {.max = max_entries, .name = name, .err = err, .errlen = errlen};

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (feed_lines(&b, buf, len, true) < 0) {
		free(b.h);
		return NULL;
	}
	return finish(&b, mode);
}

struct acl *acl_load(const char *path, enum acl_mode mode, size_t max_entries, char *err,
		     size_t errlen)
{
	struct build b = {.max = max_entries, .name = path, .err = err, .errlen = errlen};
	char *buf = malloc(READ_CHUNK);
	size_t have = 0;
	bool eof = false;
	FILE *f;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (buf == NULL) {
		fail(&b, "out of memory");
		return NULL;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		fail(&b, "cannot open: %s", strerror(errno));
		free(buf);
		return NULL;
	}
	/* READ_CHUNK > ACL_LINE_MAX + 1: a window always holds a whole line,
	 * or proves it too long. Bounded by the file's size. */
	while (!eof) {
		size_t got = fread(buf + have, 1, READ_CHUNK - have, f);
		long used;

		if (got < READ_CHUNK - have) {
			if (ferror(f)) {
				unsigned line = b.line;

				b.line = 0;
				if (line == 0)
					fail(&b, "cannot read: %s", strerror(errno));
				else
					fail(&b, "read error after line %u: %s", line,
					     strerror(errno));
				goto bad;
			}
			eof = true;
		}
		have += got;
		used = feed_lines(&b, buf, have, eof);
		if (used < 0)
			goto bad;
		memmove(buf, buf + used, have - (size_t)used);
		have -= (size_t)used;
	}
	fclose(f);
	free(buf);
	return finish(&b, mode);
bad:
	fclose(f);
	free(buf);
	free(b.h);
	return NULL;
}

void acl_free(struct acl *a)
{
	if (a == NULL)
		return;
	free(a->h);
	free(a->index);
	free(a);
}

bool acl_contains(const struct acl *a, const uint8_t *hash)
{
	unsigned k = prefix(a, hash);
	size_t lo = a->index[k], hi = a->index[k + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(a->h[mid], hash, TR_HASH_LEN);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool acl_refuses(const struct acl *a, const uint8_t *hash)
{
	if (a == NULL || a->mode == ACL_OFF)
		return false;
	return acl_contains(a, hash) == (a->mode == ACL_DENY);
}

size_t acl_count(const struct acl *a)
{
	return a->n;
}

enum acl_mode acl_mode_of(const struct acl *a)
{
	return a->mode;
}

const char *acl_mode_name(enum acl_mode m)
{
	static const char *const names[] = {"off", "allow", "deny"};

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "unknown";
}
