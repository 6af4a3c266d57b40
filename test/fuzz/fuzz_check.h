/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_check.h - the harnesses' invariant check: unlike assert(), never
 * compiled out, and it aborts, which libFuzzer reports as a crash with the
 * input saved.
 */
#ifndef DPTRACK_TEST_FUZZ_CHECK_H
#define DPTRACK_TEST_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
