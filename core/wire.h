/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire.h - big-endian fields at named offsets, read and written through
 * memcpy so no pointer is ever cast onto a packet. Written by hand: each is
 * one line on every packet's path. The caller has checked that off + size
 * lies within the buffer.
 */
#ifndef DPTRACK_CORE_WIRE_H
#define DPTRACK_CORE_WIRE_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t get_be16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return be16toh(v);
}

static inline uint32_t get_be32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return be32toh(v);
}

static inline uint64_t get_be64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return be64toh(v);
}

static inline void put_be16(uint8_t *p, size_t off, uint16_t v)
{
	v = htobe16(v);
	memcpy(p + off, &v, sizeof(v));
}

static inline void put_be32(uint8_t *p, size_t off, uint32_t v)
{
	v = htobe32(v);
	memcpy(p + off, &v, sizeof(v));
}

static inline void put_be64(uint8_t *p, size_t off, uint64_t v)
{
	v = htobe64(v);
	memcpy(p + off, &v, sizeof(v));
}

#endif
