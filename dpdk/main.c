/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - the dptrack binary: options and configuration, then the app
 * library (dp_app.h) does the rest: EAL, the peer table, ports, lcores, the
 * HTTP threads and a clean stop.
 *
 *   dptrack [-c FILE] [--check-config] [--version] [-h|--help] [-- EAL_ARGS...]
 *   dptrack --status [--file-prefix P] [--interval S] [-c FILE]
 *
 * EAL arguments are dpdk.eal_args followed by those after `--`. With one
 * lcore, the main lcore runs the packet loop and does control work between
 * bursts; with more, every worker lcore runs the loop on its own queues and
 * the main lcore does control work only. SIGINT and SIGTERM stop it: lcores
 * finish their burst, ports stop, the counters are printed, exit 0. With
 * dpdk.run_as, root is dropped once the ports and HTTP sockets are set up.
 * --status starts no EAL: it asks the instance under P (else the config's
 * --file-prefix) for its counters (dp_status.c).
 *
 * Exit status: 0 done; 1 the tracker could not start (EAL, memory, ports);
 * 2 a usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "cfg.h"
#include "dp_app.h"
#include "dp_privs.h"
#include "dp_status.h"

#define EXIT_START 1 /* the tracker could not start */
#define EXIT_USAGE 2 /* bad options or a bad configuration */

extern char **environ;

/* The process's one app: the signal handlers reach it here. */
static struct dp_app app;

static void usage(FILE *f)
{
	fputs("usage: dptrack [-c FILE] [--check-config] [--version] [-h|--help] "
	      "[-- EAL_ARGS...]\n"
	      "       dptrack --status [--file-prefix P] [--interval S] [-c FILE]\n"
	      "\n"
	      "  -c, --config FILE  load FILE over the built-in default; without it the\n"
	      "                     first of ./dptrack.yaml, ~/.config/dptrack/dptrack.yaml,\n"
	      "                     /etc/dptrack/dptrack.yaml is used, if any\n"
	      "      --check-config print the effective configuration and exit\n"
	      "      --version      print the version and exit\n"
	      "  -h, --help         print this help and exit\n"
	      "      --status       print the counters of the running dptrack whose EAL\n"
	      "                     --file-prefix is P (default: the config's, else rte)\n"
	      "                     as a table, with rates over S seconds (default 1;\n"
	      "                     0: totals only), and exit; starts no EAL\n"
	      "  -- EAL_ARGS...     DPDK EAL arguments, after dpdk.eal_args\n"
	      "\n"
	      "Scalar keys can be overridden as DPTRACK_<SECTION>_<KEY>, e.g.\n"
	      "DPTRACK_HTTP_THREADS=4. Exit status: 0 ok, 1 could not start, 2 usage or\n"
	      "configuration error.\n",
	      f);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		app.snap.requested = 1;
	else if (sig == SIGHUP)
		app.reload.requested = 1; /* the control tick reloads the configuration */
	else
		__atomic_store_n(&app.stop, 1, __ATOMIC_RELAXED);
}

/* Everything after the configuration: EAL to exit status. */
static int serve(const char *argv0, const char *cfg_path, struct cfg *cfg, int n_extra,
		 char **extra)
{
	struct dp_privs privs;
	char err[512];
	int ret = EXIT_START;

	if (dp_privs_resolve(cfg->dpdk.run_as, &privs, err, sizeof(err)) != 0) {
		fprintf(stderr, "dptrack: %s\n", err);
		return EXIT_USAGE;
	}
	if (dp_eal_init(argv0, cfg, n_extra, extra) < 0) {
		fprintf(stderr, "dptrack: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return EXIT_START;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGHUP, on_signal);

	app.reload.path = cfg_path;
	app.reload.envp = environ;
	if (dp_app_init(&app, cfg, "main", true, err, sizeof(err)) != 0)
		goto fail;
	dp_app_print_urls(&app, stdout);
	if (dp_privs_share_status(&privs, rte_eal_get_runtime_dir(), err, sizeof(err)) != 0 ||
	    dp_privs_drop(&privs, err, sizeof(err)) != 0)
		goto fail;
	if (privs.drop)
		DP_LOG(INFO, "running as %s (uid %u, gid %u), no privileges kept\n", privs.name,
		       (unsigned)privs.uid, (unsigned)privs.gid);
	DP_LOG(INFO, "serving on %u port(s) with %u worker lcore(s)\n", app.n_ports, app.n_workers);
	if (dp_app_start(&app, err, sizeof(err)) != 0)
		goto fail;
	dp_app_run(&app);
	dp_app_stop(&app);
	printf("dptrack: stopping after %" PRIu64 " s\n",
	       (rte_rdtsc() - app.started_tsc) / app.tsc_hz);
	dp_app_fini(&app, stdout);
	rte_eal_cleanup();
	return 0;
fail:
	fprintf(stderr, "dptrack: %s\n", err);
	dp_app_fini(&app, NULL);
	rte_eal_cleanup();
	return ret;
}

/* --status: interval is the --interval argument, NULL for the default. */
static int status_main(const char *prefix, const char *interval)
{
	double s = 1.0;
	char *end;

	if (interval != NULL) {
		errno = 0;
		s = strtod(interval, &end);
		if (errno != 0 || end == interval || *end != '\0') {
			fprintf(stderr, "dptrack: --interval '%s': seconds expected\n", interval);
			return EXIT_USAGE;
		}
	}
	return dp_status_main(prefix, s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {"status", no_argument, NULL, 'S'},
	    {"file-prefix", required_argument, NULL, 'P'},
	    {"interval", required_argument, NULL, 'I'},
	    {NULL, 0, NULL, 0},
	};
	char err[CFG_PATH_MAX + 512];
	const char *path = NULL, *prefix = NULL, *interval = NULL;
	bool check = false, status = false;
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
		case 'S':
			status = true;
			break;
		case 'P':
			prefix = optarg;
			break;
		case 'I':
			interval = optarg;
			break;
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

	if (!status && (prefix != NULL || interval != NULL)) {
		fprintf(stderr, "dptrack: --file-prefix and --interval go with --status\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (status && prefix != NULL)
		return status_main(prefix, interval);

	if (cfg_load(&cfg, path, environ, err, sizeof(err)) < 0) {
		fprintf(stderr, "dptrack: %s\n", err);
		return EXIT_USAGE;
	}
	if (status) {
		/* EAL would see dpdk.eal_args, then the arguments after --. */
		char *eal[CFG_MAX_EAL_ARGS + DP_MAX_EXTRA_EAL_ARGS];
		unsigned n = 0;

		for (unsigned i = 0; i < cfg.dpdk.n_eal_args; i++)
			eal[n++] = cfg.dpdk.eal_args[i];
		for (int i = optind; i < argc && n < RTE_DIM(eal); i++)
			eal[n++] = argv[i];
		int ret = status_main(dp_status_prefix_of(eal, n), interval);
		cfg_fini(&cfg);
		return ret;
	}
	/* The access list is part of the configuration: a bad one is exit 2. */
	if (dp_acl_load(&app, &cfg, check ? stderr : stdout, err, sizeof(err)) != 0) {
		fprintf(stderr, "dptrack: %s\n", err);
		cfg_fini(&cfg);
		return EXIT_USAGE;
	}
	if (check) {
		cfg_print(&cfg, stdout);
		fprintf(stderr, "config OK: %s\n", cfg.source);
		cfg_fini(&cfg);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	fprintf(stderr, "dptrack: configuration loaded from %s\n", cfg.source);
	int ret = serve(argv[0], path, &cfg, argc - optind, argv + optind);
	cfg_fini(&cfg);
	return ret;
}
