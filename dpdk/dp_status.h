/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_status.h - `dptrack --status`: a client of a running dptrack's DPDK
 * telemetry socket that prints its /dptrack/stats counters as a table.
 *
 * It never initialises EAL: it connects to
 * /var/run/dpdk/<prefix>/dpdk_telemetry.v2 (SOCK_SEQPACKET), reads the
 * greeting, sends "/dptrack/stats" twice, an interval apart, and prints totals
 * and rates. The parser and the printer are pure (buffers in, text out), so
 * the unit tests drive them without a socket. Includes libc headers only.
 */
#ifndef DPTRACK_DPDK_DP_STATUS_H
#define DPTRACK_DPDK_DP_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DP_STATUS_KEYS_MAX  1024 /* counters in one reply: 83 with one lcore */
#define DP_STATUS_KEY_MAX   64	 /* a counter name, with its NUL */
#define DP_STATUS_MAX_PORTS 8	 /* dpdk.ports entries, at most (CFG_MAX_PORTS) */

struct dp_status_kv {
	char key[DP_STATUS_KEY_MAX];
	uint64_t value;
};

/* One /dptrack/stats reply: its counters in reply order. */
struct dp_status_sample {
	struct dp_status_kv kv[DP_STATUS_KEYS_MAX];
	size_t n;
};

/*
 * Parses a telemetry reply to cmd: exactly {"CMD":{"NAME":UINT,...}} with
 * optional JSON whitespace, names of 1..63 bytes of [A-Za-z0-9_./-] (no
 * escapes), values unsigned decimal integers below 2^64, no duplicate name.
 * That flat object is all DPDK telemetry makes of dptrack's dictionary, so
 * this is a purpose-built parser for it, not a JSON parser. Reads only
 * buf[0..len). Returns 0 with s filled, or -1 with the reason and its byte
 * offset in err (errlen bytes): any other shape, including {"CMD":null}
 * (the command failed), is an error, never a partial result.
 */
int dp_status_parse(const char *buf, size_t len, const char *cmd, struct dp_status_sample *s,
		    char *err, size_t errlen);

/* Finds name in s. Returns 1 with *v set, or 0 if absent. */
int dp_status_get(const struct dp_status_sample *s, const char *name, uint64_t *v);

/*
 * The EAL file prefix among EAL arguments ("--file-prefix X" or
 * "--file-prefix=X"; the last one wins, as in EAL), or "rte", EAL's default.
 * Returns a pointer into args or a static string.
 */
const char *dp_status_prefix_of(char *const *args, unsigned n);

/*
 * Prints the table of b (and rates of b over a, taken dt seconds earlier,
 * when a is not NULL and dt > 0) to f. head is the first line (prefix, pid).
 * Returns 0, or -1 if b lacks uptime_seconds (not a dptrack reply).
 */
int dp_status_print(FILE *f, const char *head, const struct dp_status_sample *a,
		    const struct dp_status_sample *b, double dt);

/*
 * `dptrack --status`: queries the instance under prefix, interval seconds
 * between the two samples (0: one sample, no rates), and prints the table to
 * stdout. Returns the exit status: 0, or 1 with the reason on stderr (no
 * instance under that prefix, no permission, a malformed reply).
 */
int dp_status_main(const char *prefix, double interval);

#endif
