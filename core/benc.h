/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * benc.h - a bencode writer (BEP 3) into a caller's fixed buffer.
 *
 * No allocation. Writes stop at the buffer's end and set `overflow`; once
 * set, every later call is a no-op, so a caller writes a whole document and
 * checks once. Dictionary keys must be written in sorted order by the caller
 * (BEP 3 requires it); the writer does not sort. No DPDK header.
 */
#ifndef DPTRACK_CORE_BENC_H
#define DPTRACK_CORE_BENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct benc {
	uint8_t *buf;
	size_t len; /* bytes written so far */
	size_t cap;
	bool overflow;
};

/* Starts writing at buf[0]; the caller owns buf (cap bytes). */
void benc_init(struct benc *b, uint8_t *buf, size_t cap);

/* Appends "i<v>e". */
void benc_int(struct benc *b, int64_t v);

/* Appends "<len>:<bytes>"; s may hold any bytes. */
void benc_str(struct benc *b, const void *s, size_t len);

/* Appends a NUL-terminated string as a bencoded string. */
void benc_cstr(struct benc *b, const char *s);

/* Appends 'd', 'l' or 'e'. */
void benc_dict(struct benc *b);
void benc_list(struct benc *b);
void benc_end(struct benc *b);

/* Returns the length written, or 0 if anything overflowed. */
size_t benc_finish(const struct benc *b);

#endif
