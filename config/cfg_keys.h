/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_keys.h - the key table that the loader (cfg.c and the parts
 * cfg_load.h names) and the printer (cfg_print.c) share. Private to
 * config/; not installed.
 *
 * One table (cfg_keys[], defined in cfg.c) describes every key: its section,
 * name, kind, where it lives in struct cfg and its range. The YAML walk, the
 * environment and cfg_print all go through it, so a key added there is
 * parsed, overridable, printed and reported the same way everywhere.
 */
#ifndef DPTRACK_CONFIG_CFG_KEYS_H
#define DPTRACK_CONFIG_CFG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

enum cfg_kind {
	K_U32,	  /* decimal integer in [min, max] */
	K_POW2,	  /* power of two in [min, max] */
	K_BOOL,	  /* true/false, yes/no, on/off */
	K_ENUM,	  /* one of the key's names[], stored as its index (an enum) */
	K_SECRET, /* 32 hex digits, or "" for a random key */
	K_PATH,	  /* a path under CFG_PATH_MAX bytes, or "" for none */
	K_TOKEN,  /* [min, max] characters of A-Z a-z 0-9 _ -, in a char[max + 1] */
	/* Lists hold [min, max] entries, max being their array's length; a list
	 * given replaces the previous one. */
	K_UDP_PORTS, /* integers 1..65535, no repeats */
	K_STRS,	     /* non-empty strings, strdup'ed */
	K_URLS,	     /* nats://HOST:PORT, tls://HOST:PORT, strdup'ed, no repeats */
	K_TOKENS, /* K_TOKEN values of 1..CFG_CLUSTER_NAME_LEN characters, strdup'ed, no repeats */
	K_DEVS,	  /* dpdk port mappings */
	K_LISTEN, /* ADDR:PORT, [ADDR6]:PORT */
	K_CIDRS,  /* ADDR[/LEN], host bits zero */
};

enum cfg_sect { S_LOG, S_TRACKER, S_UDP, S_DPDK, S_HTTP, S_STATS, S_CLUSTER, S_COUNT };

/* Longest key name, "group.key" included, plus its NUL. */
#define CFG_KEY_NAME_MAX 48

struct cfg_key {
	const char *name;
	size_t off;  /* the value, or a list's array, in struct cfg */
	size_t noff; /* lists: their unsigned count */
	enum cfg_sect sect;
	enum cfg_kind kind;
	uint32_t min, max;
	const char *const *names; /* K_ENUM: the words, NULL-terminated */
};

/* "log", "tracker", ... indexed by enum cfg_sect. */
extern const char *const cfg_sect_names[S_COUNT];

/* Every key by id, in the order of config/dptrack.yaml: cfg_keys[] is
 * indexed by it, so code that names one key (a check across keys) names it
 * by id, and a misspelling does not compile. KEY_<SECTION>_<NAME>, dots as
 * underscores. */
enum cfg_key_id {
	KEY_LOG_LEVEL,
	KEY_TRACKER_ANNOUNCE_INTERVAL,
	KEY_TRACKER_ANNOUNCE_JITTER,
	KEY_TRACKER_MIN_INTERVAL,
	KEY_TRACKER_PEER_TIMEOUT,
	KEY_TRACKER_SWARM_RETENTION,
	KEY_TRACKER_SNAPSHOT_PATH,
	KEY_TRACKER_SNAPSHOT_INTERVAL,
	KEY_TRACKER_ACCESS_LIST_MODE,
	KEY_TRACKER_ACCESS_LIST_PATH,
	KEY_TRACKER_NUMWANT_DEFAULT,
	KEY_TRACKER_NUMWANT_MAX,
	KEY_TRACKER_MAX_SWARMS,
	KEY_TRACKER_MAX_PEERS_PER_SWARM,
	KEY_TRACKER_MEMORY_MB,
	KEY_UDP_PORTS,
	KEY_UDP_CONNECTION_ID_TTL,
	KEY_UDP_CONNECTION_ID_SECRET,
	KEY_DPDK_EAL_ARGS,
	KEY_DPDK_PORTS,
	KEY_DPDK_RX_DESC,
	KEY_DPDK_TX_DESC,
	KEY_DPDK_MBUFS,
	KEY_DPDK_BURST,
	KEY_DPDK_IDLE_SLEEP_US,
	KEY_DPDK_EXIT_AFTER_IDLE_MS,
	KEY_DPDK_REPLAY,
	KEY_DPDK_RNG_SEED,
	KEY_DPDK_RUN_AS,
	KEY_HTTP_ENABLED,
	KEY_HTTP_LISTEN,
	KEY_HTTP_THREADS,
	KEY_HTTP_MAX_CONNECTIONS,
	KEY_HTTP_IDLE_TIMEOUT,
	KEY_HTTP_MAX_REQUEST_BYTES,
	KEY_HTTP_TRUSTED_PROXIES,
	KEY_HTTP_TRUST_IP_PARAMS,
	KEY_HTTP_STATIC_DIR,
	KEY_STATS_ALLOW,
	KEY_CLUSTER_ENABLED,
	KEY_CLUSTER_SERVERS,
	KEY_CLUSTER_NAME,
	KEY_CLUSTER_INSTANCE,
	KEY_CLUSTER_SITE,
	KEY_CLUSTER_SOURCES,
	KEY_CLUSTER_FLUSH_MS,
	KEY_CLUSTER_BATCH_RECORDS,
	KEY_CLUSTER_RING_RECORDS,
	KEY_CLUSTER_REPLICAS,
	KEY_CLUSTER_MAX_AGE,
	KEY_CLUSTER_BUFFER_MB,
	KEY_CLUSTER_CONNECT_TIMEOUT_MS,
	KEY_CLUSTER_KEY_WAIT_MS,
	KEY_CLUSTER_CREDENTIALS,
	KEY_CLUSTER_TLS_CA,
	KEY_CLUSTER_TLS_CERT,
	KEY_CLUSTER_TLS_KEY,
	CFG_N_KEYS, /* entries in cfg_keys[]: the loader sizes per-key arrays by it */
};

/* Every key, in the order of config/dptrack.yaml, which cfg_print follows;
 * CFG_N_KEYS entries. */
extern const struct cfg_key cfg_keys[];

/* Whether a list of kind k holds strings that struct cfg owns: strdup'ed
 * by the loader, freed when the list is replaced and by cfg_fini. */
static inline bool cfg_kind_owns_strs(enum cfg_kind k)
{
	return k == K_STRS || k == K_URLS || k == K_TOKENS;
}

/* The member at byte offset off in c (a key's off or noff). */
static inline void *field(struct cfg *c, size_t off)
{
	return (char *)c + off;
}

static inline const void *cfield(const struct cfg *c, size_t off)
{
	return (const char *)c + off;
}

#endif
