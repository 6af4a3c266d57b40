/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * guard.h - test buffers that end at a guard page (after picohttpparser's
 * tests): a parser that reads one byte past its length faults at once.
 */
#ifndef DPTRACK_TEST_GUARD_H
#define DPTRACK_TEST_GUARD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard_buf {
	void *map;
	size_t maplen;
	uint8_t *p; /* len bytes, the last one right before an unmapped page */
};

/* Copies len bytes of src so they end at a PROT_NONE page. Aborts on failure. */
static inline uint8_t *guard_copy(struct guard_buf *g, const void *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + page - 1) / page;

	if (data_pages == 0)
		data_pages = 1;
	g->maplen = (data_pages + 1) * page;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		abort();
	if (mprotect((uint8_t *)g->map + data_pages * page, page, PROT_NONE) != 0)
		abort();
	g->p = (uint8_t *)g->map + data_pages * page - len;
	if (len > 0)
		memcpy(g->p, src, len);
	return g->p;
}

static inline void guard_free(struct guard_buf *g)
{
	munmap(g->map, g->maplen);
}

#endif
