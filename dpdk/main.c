/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - the dptrack front end: options, configuration, and (in a later
 * change) EAL setup and the packet path.
 *
 *   dptrack [-c FILE] [--check-config] [--version] [-h|--help] [-- EAL_ARGS...]
 *
 * Exit status: 0 done (--check-config, --version, --help); 1 the packet path
 * is not in this build yet; 2 a usage or configuration error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

#define EXIT_USAGE 2 /* bad options or a bad configuration */

extern char **environ;

static void usage(FILE *f)
{
	fputs("usage: dptrack [-c FILE] [--check-config] [--version] [-h|--help] "
	      "[-- EAL_ARGS...]\n"
	      "\n"
	      "  -c, --config FILE  load FILE over the built-in default; without it the\n"
	      "                     first of ./dptrack.yaml, ~/.config/dptrack/dptrack.yaml,\n"
	      "                     /etc/dptrack/dptrack.yaml is used, if any\n"
	      "      --check-config print the effective configuration and exit\n"
	      "      --version      print the version and exit\n"
	      "  -h, --help         print this help and exit\n"
	      "  -- EAL_ARGS...     DPDK EAL arguments, after dpdk.eal_args\n"
	      "\n"
	      "Scalar keys can be overridden as DPTRACK_<SECTION>_<KEY>, e.g.\n"
	      "DPTRACK_HTTP_THREADS=4. Exit status: 0 ok, 1 not runnable, 2 usage or\n"
	      "configuration error.\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char err[CFG_PATH_MAX + 512];
	const char *path = NULL;
	bool check = false;
	struct cfg cfg;
	int opt;

	/* '+': stop at the first non-option, so EAL arguments after "--" stay ours to pass on. */
	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'V':
			printf("dptrack %s\n", DPTRACK_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* getopt_long consumed a "--" if there was one; anything before it is an error. */
	if (optind < argc && (optind == 0 || strcmp(argv[optind - 1], "--") != 0)) {
		fprintf(stderr, "dptrack: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	if (cfg_load(&cfg, path, environ, err, sizeof(err)) < 0) {
		fprintf(stderr, "dptrack: %s\n", err);
		return EXIT_USAGE;
	}
	if (check) {
		cfg_print(&cfg, stdout);
		fprintf(stderr, "config OK: %s\n", cfg.source);
		cfg_fini(&cfg);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	fprintf(
	    stderr,
	    "dptrack: configuration OK, loaded from %s; but this build validates the configuration "
	    "only: the DPDK packet path is not part of it yet. Use --check-config to print "
	    "the effective configuration.\n",
	    cfg.source);
	cfg_fini(&cfg);
	return 1;
}
