/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hex.h - one hex digit's value. Written by hand: it is one branchy
 * line, used by the connection-id key parser and the percent-decoder.
 */
#ifndef DPTRACK_CORE_HEX_H
#define DPTRACK_CORE_HEX_H

/* Returns 0..15 for '0'-'9', 'a'-'f', 'A'-'F', else -1. */
static inline int tr_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
