/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * acl.h - the access list: info hashes a tracker serves only (allow) or
 * never (deny), read from a file of one hex info hash per line.
 *
 * File format: blank lines and lines whose first non-blank character is '#'
 * are skipped; any other line holds 40 hex digits (either case), optionally
 * surrounded by spaces or tabs and followed by a '#' comment. Anything else
 * is an error naming its line. Duplicates are allowed and kept once.
 *
 * A list is immutable once built: the hashes sorted, with an index of up to
 * 2^16 buckets by their leading bits, so a lookup is one index read and a
 * binary search over a bucket of about n / 2^16 entries (under 8 steps at
 * the maximum size), whatever the queried hash. Threads share a list through
 * a pointer swapped whole on reload (struct tracker's acl; dpdk/dp_acl.c).
 * libc only: no DPDK header.
 */
#ifndef DPTRACK_CORE_ACL_H
#define DPTRACK_CORE_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum acl_mode {
	ACL_OFF,   /* no list: every hash served */
	ACL_ALLOW, /* only the listed hashes served */
	ACL_DENY,  /* the listed hashes refused */
};

/* The BEP 15 error text and HTTP failure reason for a refused hash. */
#define ACL_MSG_REFUSED "torrent not allowed on this tracker"

struct acl;

/*
 * Builds a list in mode from the document buf (len bytes, need not end in a
 * NUL or a newline) named name in errors. At most max_entries hash lines
 * (duplicates counted), normally ACL_MAX_ENTRIES (limits.h).
 *
 * Returns a list the caller owns (acl_free), or NULL with
 * "NAME:LINE: reason" in err (errlen bytes): a line that is not a hash, a
 * comment or blank, one longer than ACL_LINE_MAX, one hash too many, or
 * no memory ("NAME: ...").
 */
struct acl *acl_parse(const char *name, const char *buf, size_t len, enum acl_mode mode,
		      size_t max_entries, char *err, size_t errlen);

/* Like acl_parse on the file at path, read a line at a time (the file is
 * never held whole). Also NULL, with "PATH: reason", when the file cannot
 * be opened or read. */
struct acl *acl_load(const char *path, enum acl_mode mode, size_t max_entries, char *err,
		     size_t errlen);

/* Frees a list (NULL is fine). No thread may still read it. */
void acl_free(struct acl *a);

/* Whether hash (20 bytes) is on the list. */
bool acl_contains(const struct acl *a, const uint8_t *hash);

/* Whether hash is refused: not listed in allow mode, listed in deny mode.
 * a NULL (no list) or in ACL_OFF refuses nothing. */
bool acl_refuses(const struct acl *a, const uint8_t *hash);

/* Distinct hashes on the list, and its mode. */
size_t acl_count(const struct acl *a);
enum acl_mode acl_mode_of(const struct acl *a);

/* "off", "allow" or "deny" ("unknown" otherwise). */
const char *acl_mode_name(enum acl_mode m);

#endif
