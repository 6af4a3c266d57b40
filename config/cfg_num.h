/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_num.h - the config's decimal integers, for key values (cfg.c), list
 * entries (cfg_list.c), prefix lengths and ports (cfg_addr.c). Private to
 * config/; not installed.
 *
 * One parser, so "-0", "007" and "4294967296" read the same in every place
 * a config holds a number. Pure: no allocation, no I/O.
 */
#ifndef DPTRACK_CONFIG_CFG_NUM_H
#define DPTRACK_CONFIG_CFG_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses a decimal integer, s being len bytes (not NUL-terminated; exactly
 * len bytes are read): digits, optionally after one '-'. Returns 0 with the
 * value in *v; 1 if negative or above UINT32_MAX (out of every range), *v
 * then holding its magnitude capped at UINT32_MAX; -1 if it is not an
 * integer (empty, a lone '-', any other byte), *v untouched. "-0" is 0.
 */
static inline int cfg_num_parse_u32(const char *s, size_t len, uint32_t *v)
{
	uint64_t x = 0;
	bool neg = len > 0 && s[0] == '-', big = false;
	size_t i = neg;

	if (i == len)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > UINT32_MAX) {
			big = true;
			x = UINT32_MAX;
		}
	}
	*v = (uint32_t)x;
	return neg && x ? 1 : big;
}

#endif
