/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - the dptrack binary: options, configuration, EAL, the peer table,
 * ports and lcores, and a clean stop.
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
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_memory.h>
#include <sodium.h>

#include "cfg.h"
#include "core/ptab.h"
#include "dp_app.h"
#include "dp_privs.h"
#include "dp_status.h"
#include "kernel-http/kh_server.h"

#define EXIT_START 1 /* the tracker could not start */
#define EXIT_USAGE 2 /* bad options or a bad configuration */

/* Named, so --log-level=dptrack:debug reaches it. */
RTE_LOG_REGISTER(dp_logtype, dptrack, INFO);

extern char **environ;

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
		dp_snap_requested = 1;
	else if (sig == SIGHUP)
		dp_acl_requested = 1; /* the control tick reloads the access list */
	else
		__atomic_store_n(&app.stop, 1, __ATOMIC_RELAXED);
}

/* Runs rte_eal_init on argv[0], dpdk.eal_args, then extra. Returns its value. */
static int eal_start(const char *argv0, const struct cfg *cfg, int n_extra, char **extra)
{
	char *args[CFG_MAX_EAL_ARGS + 64];
	int n = 0;

	if (n_extra > 63) {
		fprintf(stderr, "dptrack: more than 63 EAL arguments after --\n");
		return -1;
	}
	args[n++] = (char *)argv0;
	for (unsigned i = 0; i < cfg->dpdk.n_eal_args; i++)
		args[n++] = cfg->dpdk.eal_args[i];
	for (int i = 0; i < n_extra; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return rte_eal_init(n, args);
}

static uint32_t log_level(enum cfg_log_level l)
{
	static const uint32_t map[] = {
	    [CFG_LOG_ERROR] = RTE_LOG_ERR,
	    [CFG_LOG_WARN] = RTE_LOG_WARNING,
	    [CFG_LOG_INFO] = RTE_LOG_INFO,
	    [CFG_LOG_DEBUG] = RTE_LOG_DEBUG,
	};

	return map[l];
}

/* One worker per EAL lcore; the main lcore is a worker only when alone. */
static void workers_init(struct cfg *cfg)
{
	unsigned lcore;
	uint64_t seed = cfg->dpdk.rng_seed;

	if (seed == 0)
		randombytes_buf(&seed, sizeof(seed));
	app.n_workers = 0;
	RTE_LCORE_FOREACH (lcore) {
		if (rte_lcore_count() > 1 && lcore == rte_get_main_lcore())
			continue;
		struct dp_worker *w = &app.workers[app.n_workers];

		w->app = &app;
		w->lcore_id = lcore;
		w->queue = (uint16_t)app.n_workers;
		w->control = rte_lcore_count() == 1;
		w->ctx.tr = &app.tr;
		w->ctx.stats = &w->tr_stats;
		tr_rng_seed(&w->ctx.rng, seed + lcore);
		app.n_workers++;
	}
}

static struct tr_cidr cidr_of(const struct cfg_cidr *c)
{
	struct tr_cidr t = {.family = c->family, .prefix = c->prefix};

	memcpy(t.addr, c->addr, sizeof(t.addr));
	return t;
}

/* Starts the HTTP threads on http.*, sharing the table and the tracker. */
static int http_start(const struct cfg *cfg, char *err, size_t errlen)
{
	static struct tr_cidr trusted[CFG_MAX_CIDRS], allow[CFG_MAX_CIDRS];
	struct kh_params kp = {
	    .n_listen = RTE_MIN(cfg->http.n_listen, (unsigned)KH_MAX_LISTEN),
	    .threads = cfg->http.threads,
	    .max_connections = cfg->http.max_connections,
	    .idle_timeout = cfg->http.idle_timeout,
	    .max_request_bytes = cfg->http.max_request_bytes,
	    .trusted_proxies = trusted,
	    .n_trusted_proxies = cfg->http.n_trusted_proxies,
	    .stats_allow = allow,
	    .n_stats_allow = cfg->stats.n_allow,
	    .static_dir = cfg->http.static_dir[0] != '\0' ? cfg->http.static_dir : NULL,
	    .tr = &app.tr,
	    .rng_seed = cfg->dpdk.rng_seed != 0 ? cfg->dpdk.rng_seed + 1000u : rte_rdtsc(),
	    .metrics = {dp_metrics_each, &app},
	};

	for (unsigned i = 0; i < kp.n_listen; i++) {
		kp.listen[i].family = cfg->http.listen[i].family;
		memcpy(kp.listen[i].addr, cfg->http.listen[i].addr, 16);
		kp.listen[i].port = cfg->http.listen[i].port;
	}
	for (unsigned i = 0; i < cfg->http.n_trusted_proxies; i++)
		trusted[i] = cidr_of(&cfg->http.trusted_proxies[i]);
	for (unsigned i = 0; i < cfg->stats.n_allow; i++)
		allow[i] = cidr_of(&cfg->stats.allow[i]);
	app.kh = kh_start(&kp, err, errlen);
	if (app.kh == NULL)
		return -1;
	for (unsigned i = 0; i < kp.n_listen; i++) {
		char ip[INET6_ADDRSTRLEN];

		inet_ntop(kp.listen[i].family == 4 ? AF_INET : AF_INET6, kp.listen[i].addr, ip,
			  sizeof(ip));
		printf(kp.listen[i].family == 4 ? "dptrack: HTTP on http://%s:%u/announce\n"
						: "dptrack: HTTP on http://[%s]:%u/announce\n",
		       ip, kp.listen[i].port);
	}
	fflush(stdout);
	return 0;
}

static void print_urls(void)
{
	char ip[64];

	for (unsigned i = 0; i < app.n_ports; i++) {
		const struct dp_iface *ifc = &app.ports[i].ifc;

		for (unsigned k = 0; k < ifc->n_udp_ports; k++) {
			if (ifc->has_ip4) {
				snprintf(ip, sizeof(ip), "%u.%u.%u.%u", ifc->ip4[0], ifc->ip4[1],
					 ifc->ip4[2], ifc->ip4[3]);
				printf("dptrack: announce URL udp://%s:%u/announce\n", ip,
				       ifc->udp_ports[k]);
			}
			if (ifc->has_ip6) {
				inet_ntop(AF_INET6, ifc->ip6, ip, sizeof(ip));
				printf("dptrack: announce URL udp://[%s]:%u/announce\n", ip,
				       ifc->udp_ports[k]);
			}
		}
	}
	fflush(stdout);
}

/* Runs the lcores until a signal or the idle timer stops them. */
static void run(void)
{
	struct dp_worker *main_w = NULL;

	for (unsigned i = 0; i < app.n_workers; i++) {
		struct dp_worker *w = &app.workers[i];

		if (w->lcore_id == rte_get_main_lcore())
			main_w = w;
		else
			rte_eal_remote_launch(dp_lcore_main, w, w->lcore_id);
	}
	if (main_w != NULL) {
		dp_lcore_main(main_w);
	} else {
		while (!__atomic_load_n(&app.stop, __ATOMIC_RELAXED)) {
			dp_control_tick(&app);
			rte_delay_us_sleep(1000);
		}
	}
	rte_eal_mp_wait_lcore();
}

/* Everything after the configuration: EAL to exit status. */
static int serve(const char *argv0, struct cfg *cfg, int n_extra, char **extra)
{
	struct dp_privs privs;
	char err[512];
	int ret = EXIT_START;

	if (dp_privs_resolve(cfg->dpdk.run_as, &privs, err, sizeof(err)) != 0) {
		fprintf(stderr, "dptrack: %s\n", err);
		return EXIT_USAGE;
	}
	if (eal_start(argv0, cfg, n_extra, extra) < 0) {
		fprintf(stderr, "dptrack: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return EXIT_START;
	}
	rte_log_set_level(dp_logtype, log_level(cfg->log.level));
	app.cfg = cfg;
	app.burst = (uint16_t)RTE_MIN(cfg->dpdk.burst, (uint32_t)DP_BURST_MAX);
	app.tsc_hz = rte_get_tsc_hz();
	/* The TSC clock starts on a wall-clock second, so the lcores' now
	 * matches the HTTP threads' (CLOCK_REALTIME) to well under a second. */
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	app.started_tsc = rte_rdtsc();
	app.start_unix = (uint64_t)wall.tv_sec;
	app.start_tsc = app.started_tsc - (uint64_t)wall.tv_nsec * app.tsc_hz / 1000000000u;
	app.idle_tsc = app.tsc_hz / 1000 * cfg->dpdk.exit_after_idle_ms;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGHUP, on_signal);

	workers_init(cfg);
	if (dp_tracker_init(&app, "main", err, sizeof(err)) != 0 ||
	    dp_ports_init(&app, err, sizeof(err)) != 0) {
		fprintf(stderr, "dptrack: %s\n", err);
		goto out;
	}
	if (dp_snap_load(&app) != 0)
		goto out;
	if (dp_stats_telemetry_init(&app) != 0)
		DP_LOG(WARNING, "telemetry command /dptrack/stats not registered\n");
	print_urls();
	if (cfg->http.enabled && http_start(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dptrack: %s\n", err);
		goto out;
	}
	if (dp_privs_drop(&privs, err, sizeof(err)) != 0) {
		fprintf(stderr, "dptrack: %s\n", err);
		goto out;
	}
	if (privs.drop)
		DP_LOG(INFO, "running as %s (uid %u, gid %u), no privileges kept\n", privs.name,
		       (unsigned)privs.uid, (unsigned)privs.gid);
	DP_LOG(INFO, "serving on %u port(s) with %u worker lcore(s)\n", app.n_ports, app.n_workers);

	if (dp_snap_start(&app) != 0)
		goto out;
	run();
	kh_stop(app.kh);	  /* threads gone, counters kept for the exit lines */
	dp_snap_stop(&app, true); /* the last snapshot, of a table at rest */
	printf("dptrack: stopping after %" PRIu64 " s\n",
	       (rte_rdtsc() - app.started_tsc) / app.tsc_hz);
	ret = 0;
out:
	kh_stop(app.kh);	   /* before the table goes: its threads read it */
	dp_snap_stop(&app, false); /* likewise */
	dp_ports_fini(&app);	   /* net_pcap writes its last frames here */
	if (ret == 0)
		dp_stats_print(&app);
	dp_stats_telemetry_fini(); /* before what it reads is freed */
	kh_free(app.kh);
	app.kh = NULL;
	dp_acl_fini(&app); /* every reader has stopped */
	ptab_free(app.ptab);
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
		char *eal[CFG_MAX_EAL_ARGS + 64];
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
	int ret = serve(argv[0], &cfg, argc - optind, argv + optind);
	cfg_fini(&cfg);
	return ret;
}
