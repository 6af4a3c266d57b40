/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rng.h - the per-thread generator for peer selection and interval jitter.
 *
 * Written by hand because it is tiny and on the hot path: wyrand (Wang Yi's
 * 64-bit generator) passes BigCrush, costs one multiply, and is seedable, so
 * replay mode gives byte-identical output. Not for secrets: keys come from
 * libsodium's randombytes.
 */
#ifndef DPTRACK_CORE_RNG_H
#define DPTRACK_CORE_RNG_H

#include <stdint.h>

struct tr_rng {
	uint64_t s;
};

static inline void tr_rng_seed(struct tr_rng *r, uint64_t seed)
{
	r->s = seed;
}

/* Returns the next 64 random bits and advances the state. */
static inline uint64_t tr_rng_next(struct tr_rng *r)
{
	r->s += 0xa0761d6478bd642fULL;
	__uint128_t m = (__uint128_t)r->s * (r->s ^ 0xe7037ed1a0b428dbULL);
	return (uint64_t)(m >> 64) ^ (uint64_t)m;
}

/* Returns a value in [0, bound) without division (Lemire's multiply-shift;
 * the bias is below 2^-32 for bounds under 2^32). bound must be > 0. */
static inline uint32_t tr_rng_below(struct tr_rng *r, uint32_t bound)
{
	return (uint32_t)(((tr_rng_next(r) >> 32) * (uint64_t)bound) >> 32);
}

#endif
