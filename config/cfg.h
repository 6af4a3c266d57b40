/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg.h - dptrack's configuration: the YAML loader, env overrides, checks.
 *
 * config/dptrack.yaml is the documented default and is embedded in the
 * binary; cfg_load() parses it first and then overlays the user's file, so a
 * user file needs only the keys it changes. Then DPTRACK_<SECTION>_<KEY>
 * environment variables override scalar keys. Every error is reported as
 * "FILE:LINE: message" (or "DPTRACK_X_Y: message") into the caller's buffer.
 * Only config/ includes yaml.h.
 */
#ifndef DPTRACK_CONFIG_CFG_H
#define DPTRACK_CONFIG_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_UDP_PORTS 16
#define CFG_MAX_PORTS	  8
#define CFG_MAX_LISTEN	  8
#define CFG_MAX_CIDRS	  64
#define CFG_MAX_EAL_ARGS  64
#define CFG_DEVICE_MAX	  64
#define CFG_IFNAME_MAX	  16 /* IFNAMSIZ: an interface name and its NUL */
#define CFG_PATH_MAX	  4096

/* cluster: its servers (URLs, each at most 266 bytes: the longer scheme,
 * a 253-byte host name and a 5-digit port), and the lengths in characters
 * of its name and this instance's, without the NUL. */
#define CFG_MAX_CLUSTER_SERVERS	 16
#define CFG_CLUSTER_NAME_LEN	 32
#define CFG_CLUSTER_INSTANCE_LEN 64
/* Other sites whose streams this site's stream sources. */
#define CFG_MAX_CLUSTER_SOURCES	 15

enum cfg_log_level {
	CFG_LOG_ERROR,
	CFG_LOG_WARN,
	CFG_LOG_INFO,
	CFG_LOG_DEBUG,
};

/* tracker.access_list.mode; core/acl.h's enum acl_mode has the same order. */
enum cfg_acl_mode {
	CFG_ACL_OFF,
	CFG_ACL_ALLOW,
	CFG_ACL_DENY,
};

/* An address with a prefix length: "198.18.0.2/24", "fd00::/8". */
struct cfg_cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint8_t prefix;
};

/* A listen address: "0.0.0.0:6969", "[::]:6969". */
struct cfg_listen {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

struct cfg_port {
	char device[CFG_DEVICE_MAX]; /* net_tap0, net_af_packet0, 0000:01:00.0, ... */
	bool has_ipv4, has_ipv6;
	struct cfg_cidr ipv4, ipv6;
	/* The kernel keeps the interface and its addresses; dptrack takes its
	 * tracker UDP through AF_XDP. device is then net_af_xdpN,iface=IFACE,
	 * iface its interface, and ipv4/ipv6 may be left to the interface. */
	bool shared;
	char iface[CFG_IFNAME_MAX]; /* "" unless shared */
};

struct cfg {
	char source[CFG_PATH_MAX]; /* the file loaded, or "(built-in)" */

	struct {
		enum cfg_log_level level;
	} log;

	struct {
		uint32_t announce_interval, announce_jitter, min_interval, peer_timeout;
		uint32_t swarm_retention;
		char snapshot_path[CFG_PATH_MAX]; /* "" = no snapshots */
		uint32_t snapshot_interval;	  /* seconds; 0 = on signals only */
		enum cfg_acl_mode access_list_mode;
		char access_list_path[CFG_PATH_MAX]; /* "" = none (mode off) */
		uint32_t numwant_default, numwant_max;
		uint32_t max_swarms, max_peers_per_swarm;
		uint32_t memory_mb;
	} tracker;

	struct {
		uint16_t ports[CFG_MAX_UDP_PORTS];
		unsigned n_ports;
		uint32_t connection_id_ttl;
		bool has_secret;    /* connection_id_secret given (else random per process) */
		uint8_t secret[16]; /* from 32 hex digits */
	} udp;

	struct {
		char *eal_args[CFG_MAX_EAL_ARGS]; /* owned (strdup); cfg_fini frees */
		unsigned n_eal_args;
		struct cfg_port ports[CFG_MAX_PORTS];
		unsigned n_ports;
		uint32_t rx_desc, tx_desc, mbufs, burst;
		uint32_t idle_sleep_us; /* sleep between empty polls once idle; 0 = never */
		uint32_t exit_after_idle_ms;
		bool replay;		   /* clock from capture timestamps, fixed key and seed */
		uint32_t rng_seed;	   /* 0 = from the OS */
		char run_as[CFG_PATH_MAX]; /* user to drop root to after setup; "" = stay */
	} dpdk;

	struct {
		bool enabled;
		struct cfg_listen listen[CFG_MAX_LISTEN];
		unsigned n_listen;
		uint32_t threads, max_connections, idle_timeout, max_request_bytes;
		struct cfg_cidr trusted_proxies[CFG_MAX_CIDRS];
		unsigned n_trusted_proxies;
		bool trust_ip_params;	       /* honour ip/ipv4/ipv6 query parameters */
		char static_dir[CFG_PATH_MAX]; /* "" = built-in pages */
	} http;

	struct {
		struct cfg_cidr allow[CFG_MAX_CIDRS];
		unsigned n_allow;
	} stats;

	/* Swarms shared with other instances through NATS JetStream; paths and
	 * the instance are "" when not set. */
	struct {
		bool enabled;
		char *servers[CFG_MAX_CLUSTER_SERVERS]; /* URLs, owned (strdup); cfg_fini frees */
		unsigned n_servers;
		char name[CFG_CLUSTER_NAME_LEN + 1];	     /* names stream, subjects, bucket */
		char instance[CFG_CLUSTER_INSTANCE_LEN + 1]; /* "" = the host name */
		char site[CFG_CLUSTER_NAME_LEN + 1];	     /* this site: a subject token */
		char *sources[CFG_MAX_CLUSTER_SOURCES];	     /* other sites; owned, like servers */
		unsigned n_sources;
		uint32_t flush_ms, batch_records; /* a batch goes after flush_ms or when full */
		uint32_t ring_records;		  /* per packet/HTTP thread; a power of two */
		uint32_t replicas, max_age;	  /* of a stream dptrack creates; max_age in s */
		uint32_t buffer_mb;		  /* NATS client buffer while disconnected */
		uint32_t connect_timeout_ms, key_wait_ms;
		char credentials[CFG_PATH_MAX]; /* NATS .creds file */
		char tls_ca[CFG_PATH_MAX];
		char tls_cert[CFG_PATH_MAX], tls_key[CFG_PATH_MAX]; /* both or neither */
	} cluster;
};

/* The embedded config/dptrack.yaml, NUL-terminated, and its length. */
extern const char cfg_default_yaml[];
extern const size_t cfg_default_yaml_len;

/*
 * Loads the configuration into c (which the caller owns; release with
 * cfg_fini). Starts from the embedded default, overlays the file found by the
 * search order, then applies environment overrides from envp (NULL-terminated
 * "NAME=value" strings, e.g. environ; NULL = none).
 *
 * Search order: `path` if not NULL (it must exist), else ./dptrack.yaml,
 * $HOME/.config/dptrack/dptrack.yaml, /etc/dptrack/dptrack.yaml, else the
 * built-in default alone. c->source names what was loaded.
 *
 * Returns 0, or -1 with "FILE:LINE: message" in err (errlen bytes): unknown
 * key, wrong type, value out of range, unreadable file, bad YAML, bad env
 * value. On -1, c holds nothing that needs cfg_fini.
 */
int cfg_load(struct cfg *c, const char *path, char *const *envp, char *err, size_t errlen);

/* Like cfg_load for an in-memory document named `name` (for errors) and no
 * search; envp as above. */
int cfg_load_buf(struct cfg *c, const char *name, const char *buf, size_t len, char *const *envp,
		 char *err, size_t errlen);

/* Frees what cfg_load allocated; c may be reused after. */
void cfg_fini(struct cfg *c);

/*
 * Calls fn(arg, key, was, now) for every key whose value differs between a
 * and b, in the order of config/dptrack.yaml: key as "section.key" (grouped
 * keys "section.group.key"), the values as --check-config writes them, on
 * one line. Returns the number of keys that differ, or -1 when out of
 * memory (fn may have been called for some).
 */
int cfg_diff(const struct cfg *a, const struct cfg *b,
	     void (*fn)(void *arg, const char *key, const char *was, const char *now), void *arg);

/* Writes the effective configuration to f as YAML that cfg_load accepts. */
void cfg_print(const struct cfg *c, FILE *f);

/* Returns "error", "warn", "info" or "debug". */
const char *cfg_log_level_name(enum cfg_log_level l);

/* Returns "off", "allow" or "deny". */
const char *cfg_acl_mode_name(enum cfg_acl_mode m);

#endif
