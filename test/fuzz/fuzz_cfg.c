/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cfg.c - cfg_load_buf() on any document, then cfg_print() and cfg_fini().
 *
 * The input is a user's dptrack.yaml, overlaid on the embedded default with
 * no environment. A configuration that loads is printed (cfg.h: "as YAML
 * that cfg_load accepts"), and the printout must load again (under the same
 * name, which the printout records) and print the same text: the printer
 * and the loader agree on every value.
 *
 * Invariants: an error is a NUL-terminated message; a loaded configuration
 * round-trips through cfg_print().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints c into a heap string; *len is its length. The caller frees it. */
static char *print_cfg(const struct cfg *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	FUZZ_CHECK(f != NULL);
	cfg_print(c, f);
	FUZZ_CHECK(fclose(f) == 0);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg c, again; /* large (paths): not on the stack */
	char err[512];

	memset(err, 0x5a, sizeof(err));
	if (cfg_load_buf(&c, "fuzz.yaml", (const char *)data, size, NULL, err, sizeof(err)) != 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}

	size_t len, len2;
	char *text = print_cfg(&c, &len);

	if (cfg_load_buf(&again, "fuzz.yaml", text, len, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_cfg: cfg_print output does not load: %s\n%s", err, text);
		abort();
	}
	char *text2 = print_cfg(&again, &len2);
	if (len != len2 || memcmp(text, text2, len) != 0) {
		fprintf(stderr, "fuzz_cfg: printed twice, differs:\n%s---\n%s", text, text2);
		abort();
	}
	free(text2);
	free(text);
	cfg_fini(&again);
	cfg_fini(&c);
	return 0;
}
