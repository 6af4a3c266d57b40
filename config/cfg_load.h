/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_load.h - the parts of the loader and the state they share. Private to
 * config/; not installed.
 *
 * cfg_load() (cfg_file.c) finds and reads a file; cfg_load_layers() (cfg.c)
 * applies the embedded default, that document and the environment in turn,
 * then checks across keys. A YAML document is walked by cfg_yaml.c, which
 * hands lists to cfg_list.c; environment variables are applied by cfg_env.c.
 * All of them set values through the key table (cfg_keys.h) and stop at the
 * first error, which cfg_fail() writes into the caller's buffer prefixed
 * with where the value came from.
 */
#ifndef DPTRACK_CONFIG_CFG_LOAD_H
#define DPTRACK_CONFIG_CFG_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "cfg.h"
#include "cfg_keys.h"

#define CFG_SHOW_MAX 40 /* bytes of a user value quoted in a message */

/* The layers of a load, lowest first; a higher one overrides a lower one. */
enum cfg_layer { L_DEFAULT, L_FILE, L_ENV };

/* Where a value came from: a document and line, or a variable (line 0). */
struct cfg_origin {
	const char *name;
	int namelen;
	unsigned line;
	enum cfg_layer layer;
	bool set;
};

/* The state of one cfg_load call. */
struct cfg_ld {
	struct cfg *c;
	char *err;
	size_t errlen;
	struct cfg_origin at;		   /* the document or variable being applied */
	yaml_document_t *doc;		   /* the document being walked */
	struct cfg_origin org[CFG_N_KEYS]; /* where each key was last set */
};

/* A user string made printable and short, for messages. */
struct cfg_shown {
	char s[CFG_SHOW_MAX + 4];
};

/* --- cfg.c: errors, names, values ------------------------------------- */

/* Returns b->s: s (len bytes) made printable, control characters as '?',
 * and cut to CFG_SHOW_MAX bytes with "..." marking a cut; NUL-terminated. */
const char *cfg_show(struct cfg_shown *b, const char *s, size_t len);

/* Writes "NAME:LINE: message" (or "NAME: message" when line is 0), NAME
 * being the document or variable being applied, into ld->err, truncated to
 * ld->errlen bytes (nothing if ld->err is NULL or ld->errlen 0). Returns -1. */
__attribute__((format(printf, 3, 4))) int cfg_fail(struct cfg_ld *ld, unsigned line,
						   const char *fmt, ...);

/* Sets *v from a YAML boolean word (true/yes/on, false/no/off, any case)
 * of len bytes; returns false, leaving *v, for anything else. */
bool cfg_bool_parse(const char *s, size_t len, bool *v);

/* Returns the name in names[n] closest to a (alen bytes, compared
 * case-insensitively), or NULL if none is close enough to be a misspelling. */
const char *cfg_nearest(const char *const *names, size_t n, const char *a, size_t alen);

/* Returns the key a misspelt name in section s most likely meant: the same
 * name in another section, else the closest name in s; NULL if none. */
const struct cfg_key *cfg_key_nearest(enum cfg_sect s, const char *a, size_t alen);

/* Returns the index in cfg_keys[] of key name (len bytes) in section s, or
 * -1 if there is none. */
int cfg_key_lookup(enum cfg_sect s, const char *name, size_t len);

/* Sets scalar key k from s (len bytes, not NUL-terminated; null: YAML's
 * null), by the same rules for a YAML scalar and an environment variable.
 * line is where s is (0: none). Returns 0, or -1 after cfg_fail (a list key
 * is refused). */
/* Whether ch may be part of a token (K_TOKEN, K_TOKENS): A-Z a-z 0-9 _ -,
 * in any locale. */
bool cfg_is_token_char(char ch);

int cfg_scalar_set(struct cfg_ld *ld, const struct cfg_key *k, unsigned line, const char *s,
		   size_t len, bool null);

/* The default, then buf (len bytes) as document `name` (if name; buf NULL
 * reads as empty), then envp (if not NULL), then the checks across keys.
 * Returns 0, or -1 with the error in err (errlen bytes) and c emptied. */
int cfg_load_layers(struct cfg *c, const char *name, const char *buf, size_t len, char *const *envp,
		    char *err, size_t errlen);

/* --- cfg_yaml.c: a YAML document -------------------------------------- */

/* Applies the YAML document buf (len bytes) named `name` over ld->c as
 * layer `layer`, recording where each key was set in ld->org. Returns 0, or
 * -1 after cfg_fail; ld->c may then be partly changed. */
int cfg_yaml_apply(struct cfg_ld *ld, const char *name, const char *buf, size_t len,
		   enum cfg_layer layer);

/* Whether n is YAML's null: a plain scalar "", "~", "null", "Null", "NULL". */
bool cfg_yaml_is_null(const yaml_node_t *n);

/* "nothing", "a mapping", "a sequence" or "a scalar", for messages. */
const char *cfg_yaml_kind(const yaml_node_t *n);

/* The 1-based line n starts on. */
static inline unsigned cfg_yaml_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

/* --- cfg_list.c: list values ------------------------------------------ */

/* Replaces list k with the sequence n of ld->doc (YAML null: the empty
 * list), checking its length against k's range and each entry. Strings are
 * strdup'ed into ld->c, which owns them (cfg_fini frees). Returns 0, or -1
 * after cfg_fail with the list partly set. */
int cfg_list_set(struct cfg_ld *ld, const struct cfg_key *k, const yaml_node_t *n);

/* --- cfg_env.c: environment overrides --------------------------------- */

/* Applies every DPTRACK_<SECTION>_<KEY>=value in envp (NULL-terminated) in
 * order, skipping names that name no section. Returns 0, or -1 after
 * cfg_fail at the first bad one. */
int cfg_env_apply(struct cfg_ld *ld, char *const *envp);

#endif
