/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * snap.h - peer-table snapshots: the table and the connection-ID key in a
 * versioned file, so a restarted tracker keeps its swarms and its clients'
 * connection IDs.
 *
 * File (all integers little-endian):
 *   header, 64 bytes: magic "DPTSNAP\0", version (u32, 2; 1 is read too), header length
 *     (u32, 64), creation second (u64), swarms, IPv4 peers, IPv6 peers
 *     (u64 each), length of what follows (u64), reserved (u32, 0), CRC32C of
 *     the 60 bytes before it (u32);
 *   sections, in this order: KEY (1: the 16-byte key), STREAM (4, from
 *     version 2: a cluster's place in its stream: name length (u8, 0..32),
 *     the name ([A-Za-z0-9_-]; empty without a cluster), then the stream
 *     sequence the table holds up to (u64)), SWARMS (2), END (3, empty).
 *     Each: type (u32), reserved (u32, 0), payload length (u64), the
 *     payload, CRC32C of the payload followed by those 16 bytes (u32);
 *   SWARMS payload: per swarm, the info hash (20 bytes), completed (u32),
 *     peers per set (4 x u32, IPv4 leechers, IPv4 seeders, IPv6 leechers,
 *     IPv6 seeders), then the peers as struct ptab_dump lays them out
 *     (compact form and the u32 second of the last announce).
 *
 * Saving copies one swarm at a time under its own lock (ptab_dump_next): the
 * packet path never stops. The file is written to PATH.tmp, fsynced, renamed
 * over PATH and the directory fsynced, so PATH is always a whole snapshot,
 * the old one or the new. Loading checks the whole file (sizes, counts,
 * every CRC) before it places anything, so a bad file loads nothing.
 * No DPDK header here.
 */
#ifndef DPTRACK_CORE_SNAP_H
#define DPTRACK_CORE_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct ptab;

#define SNAP_VERSION 2

/* The longest stream name a snapshot records (cluster.name's bound). */
#define SNAP_STREAM_NAME_MAX 32

/* A cluster's place in its stream: the table saved holds every batch up to
 * seq of the stream `name` ("" = no cluster, or a version 1 file). */
struct snap_stream {
	char name[SNAP_STREAM_NAME_MAX + 1];
	uint64_t seq;
};

struct snap_info {
	uint64_t created;	 /* the second it was taken */
	uint64_t swarms;	 /* swarms in the file */
	uint64_t peers4, peers6; /* peers in the file */
	uint64_t loaded_peers;	 /* placed in the table (load: not expired) */
	uint64_t refused;	 /* swarms or peers a table limit refused (load) */
	uint64_t bytes;		 /* file size */
};

enum snap_result {
	SNAP_OK = 0,
	SNAP_NONE,    /* load: no file at path */
	SNAP_CORRUPT, /* load: truncated, damaged or foreign; nothing loaded */
	SNAP_IO,      /* a system call failed (err names it) */
};

/*
 * Writes the table, key and stream place (NULL = none) to path as
 * described above. progress(arg, false), if progress is not NULL, runs
 * after every swarm (an RCU quiescent report), and progress(arg, true)
 * once the table has been read whole, before the file's last writes, its
 * fsync and the rename (an RCU reader goes offline then: nothing it
 * waits on is the table's). Returns SNAP_OK or SNAP_IO with err set; on
 * failure PATH.tmp is removed and path is untouched.
 */
enum snap_result snap_save(struct ptab *t, const char *path, const uint8_t key[TR_CONNID_KEY_LEN],
			   const struct snap_stream *stream, uint64_t now,
			   void (*progress)(void *arg, bool done), void *arg,
			   struct snap_info *info, char *err, size_t errlen);

/*
 * Loads path into t (normally empty) at second now: peers whose last
 * announce is peer_timeout or more before now are left out. key receives
 * the saved connection-ID key, stream (if not NULL) the stream place (an
 * empty name when the file has none). Returns SNAP_OK, SNAP_NONE, SNAP_CORRUPT
 * (err says what is wrong and where) or SNAP_IO.
 */
enum snap_result snap_load(struct ptab *t, const char *path, uint64_t now,
			   uint8_t key[TR_CONNID_KEY_LEN], struct snap_stream *stream,
			   struct snap_info *info, char *err, size_t errlen);

/*
 * Renames path to PATH.corrupt, or PATH.corrupt.N (N = 1..99) when that is
 * taken: a bad snapshot is kept for a look, never overwritten. aside gets
 * the new name. Returns 0 or -1 with err set.
 */
int snap_set_aside(const char *path, char *aside, size_t asidelen, char *err, size_t errlen);

/* CRC32C (Castagnoli) of n bytes, continuing from crc (0 to start). */
uint32_t snap_crc32c(uint32_t crc, const void *p, size_t n);

#endif
