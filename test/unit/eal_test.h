/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eal_test.h - start a private EAL for a unit test: no hugepages, no PCI,
 * no shared config files (--no-huge rules out --in-memory, which EAL ties to
 * hugepage handling), and a file prefix unique to this process, so tests run
 * side by side with each other and with a live tracker.
 */
#ifndef DPTRACK_TEST_EAL_H
#define DPTRACK_TEST_EAL_H

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

/* Starts EAL with `mem_mb` MB of ordinary memory and the lcores of
 * `lcores` (an EAL --lcores=... or -l... argument). Returns rte_eal_init()'s
 * value. */
static inline int eal_test_init_lcores(const char *name, unsigned mem_mb, const char *lcores)
{
	char prefix[64], mem[16];

	snprintf(prefix, sizeof(prefix), "--file-prefix=dpt-%s-%d", name, (int)getpid());
	snprintf(mem, sizeof(mem), "%u", mem_mb);
	char *argv[] = {(char *)"test",
			(char *)"--no-huge",
			(char *)"-m",
			mem,
			(char *)"--no-pci",
			(char *)"--no-shconf",
			prefix,
			(char *)"--log-level=lib.eal:error",
			(char *)"--no-telemetry",
			(char *)lcores,
			NULL};
	return rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
}

/* One lcore, lcore 0: what most tests need. */
static inline int eal_test_init(const char *name, unsigned mem_mb)
{
	return eal_test_init_lcores(name, mem_mb, "-l0");
}

/* Stops EAL and removes the run directory it made for this prefix (empty
 * with --no-shconf --no-telemetry), so test runs leave nothing behind. */
static inline void eal_test_fini(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
}

#endif
