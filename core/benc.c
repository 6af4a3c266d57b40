/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * benc.c - a bencode writer (BEP 3) into a caller's fixed buffer.
 *
 * Every item is checked to fit whole before any byte of it is written, so
 * after an overflow buf[0..len) is still the valid prefix written so far and
 * nothing at or beyond buf[cap] is ever touched.
 */
#include "benc.h"

#include <string.h>

/* Longest decimal form of an int64_t or a size_t: "-9223372036854775808" is
 * 20 characters, SIZE_MAX on 64 bits "18446744073709551615" is 20 too. */
#define BENC_DEC_MAX 20

/* Writes the decimal digits of v right-aligned ending at end; returns the
 * first digit. The caller's buffer holds at least BENC_DEC_MAX bytes. */
static char *benc_dec(char *end, uint64_t v)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

/* Returns true if n more bytes fit; otherwise sets the sticky overflow. */
static bool benc_room(struct benc *b, size_t n)
{
	if (b->overflow)
		return false;
	if (n > b->cap - b->len) {
		b->overflow = true;
		return false;
	}
	return true;
}

static void benc_put(struct benc *b, const void *p, size_t n)
{
	if (n > 0)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void benc_init(struct benc *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->len = 0;
	b->cap = buf != NULL ? cap : 0;
	b->overflow = false;
}

void benc_int(struct benc *b, int64_t v)
{
	char tmp[BENC_DEC_MAX + 3];
	char *end = tmp + sizeof(tmp);
	char *p;
	uint64_t mag;

	/* The magnitude of INT64_MIN does not fit an int64_t; compute it
	 * unsigned (0 - (uint64_t)v is well defined for every v). */
	mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	*--end = 'e';
	p = benc_dec(end, mag);
	if (v < 0)
		*--p = '-';
	*--p = 'i';
	if (benc_room(b, (size_t)(tmp + sizeof(tmp) - p)))
		benc_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void benc_str(struct benc *b, const void *s, size_t len)
{
	char tmp[BENC_DEC_MAX + 1];
	char *end = tmp + sizeof(tmp);
	char *p;
	size_t hdr;

	*--end = ':';
	p = benc_dec(end, len);
	hdr = (size_t)(tmp + sizeof(tmp) - p);
	/* hdr + len wraps only for an absurd len, which cannot fit either. */
	if (len > SIZE_MAX - hdr) {
		b->overflow = true;
		return;
	}
	if (!benc_room(b, hdr + len))
		return;
	benc_put(b, p, hdr);
	benc_put(b, s, len);
}

void benc_cstr(struct benc *b, const char *s)
{
	benc_str(b, s, strlen(s));
}

static void benc_byte(struct benc *b, char c)
{
	if (benc_room(b, 1))
		benc_put(b, &c, 1);
}

void benc_dict(struct benc *b)
{
	benc_byte(b, 'd');
}

void benc_list(struct benc *b)
{
	benc_byte(b, 'l');
}

void benc_end(struct benc *b)
{
	benc_byte(b, 'e');
}

size_t benc_finish(const struct benc *b)
{
	return b->overflow ? 0 : b->len;
}
