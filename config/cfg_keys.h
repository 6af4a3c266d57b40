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
	/* Lists hold [min, max] entries; a list given replaces the previous one. */
	K_UDP_PORTS, /* integers 1..65535, no repeats */
	K_STRS,	     /* non-empty strings, strdup'ed */
	K_DEVS,	     /* dpdk port mappings */
	K_LISTEN,    /* ADDR:PORT, [ADDR6]:PORT */
	K_CIDRS,     /* ADDR[/LEN], host bits zero */
};

enum cfg_sect { S_LOG, S_TRACKER, S_UDP, S_DPDK, S_HTTP, S_STATS, S_COUNT };

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

/* Entries in cfg_keys[]; cfg.c refuses to compile if the table has another
 * count. A constant, so the loader can size per-key arrays by it. */
#define CFG_N_KEYS 39

/* Every key, in the order of config/dptrack.yaml, which cfg_print follows;
 * CFG_N_KEYS entries. */
extern const struct cfg_key cfg_keys[];

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
