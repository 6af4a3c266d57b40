/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_yaml.c - applies a YAML document over the config: a mapping of
 * sections, each a mapping of the keys in the table (cfg_keys.h). Scalars
 * are set by cfg.c, lists by cfg_list.c. A key named "group.key" in the
 * table is written as a mapping "group:" holding "key:" (one level).
 *
 * Bounds: a pre-pass over libyaml's events refuses nesting deeper than
 * CFG_DEPTH_MAX and more than CFG_EVENTS_MAX events before libyaml builds
 * the document, so a hostile file costs a few MiB at most.
 */
#include "cfg_load.h"

#include <limits.h>
#include <string.h>
#include <yaml.h>

#include "cfg_keys.h"

#define CFG_DEPTH_MAX  8     /* the schema nests 4 deep; the rest is for type errors */
#define CFG_EVENTS_MAX 65536 /* a complete config is a few hundred events */

static bool is_list(const struct cfg_key *k)
{
	return k->kind >= K_UDP_PORTS;
}

bool cfg_yaml_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (n->data.scalar.length == strlen(nulls[i]) &&
		    !memcmp(n->data.scalar.value, nulls[i], n->data.scalar.length))
			return true;
	return false;
}

const char *cfg_yaml_kind(const yaml_node_t *n)
{
	if (cfg_yaml_is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	default:
		return "a scalar";
	}
}

static int fail_unknown_key(struct cfg_ld *ld, unsigned line, enum cfg_sect s, const char *name,
			    size_t len)
{
	const struct cfg_key *sug = cfg_key_nearest(s, name, len);
	struct cfg_shown b;

	if (!sug)
		return cfg_fail(ld, line, "unknown key '%s.%s'", cfg_sect_names[s],
				cfg_show(&b, name, len));
	return cfg_fail(ld, line, "unknown key '%s.%s' (did you mean '%s.%s'?)", cfg_sect_names[s],
			cfg_show(&b, name, len), cfg_sect_names[sug->sect], sug->name);
}

static int apply_value(struct cfg_ld *ld, const struct cfg_key *k, const yaml_node_t *v)
{
	if (is_list(k))
		return cfg_list_set(ld, k, v);
	if (v->type != YAML_SCALAR_NODE)
		return cfg_fail(ld, cfg_yaml_line(v), "%s.%s: expected a scalar, got %s",
				cfg_sect_names[k->sect], k->name, cfg_yaml_kind(v));
	if (memchr(v->data.scalar.value, '\0', v->data.scalar.length))
		return cfg_fail(ld, cfg_yaml_line(v), "%s.%s: contains a NUL byte",
				cfg_sect_names[k->sect], k->name);
	return cfg_scalar_set(ld, k, cfg_yaml_line(v), (const char *)v->data.scalar.value,
			      v->data.scalar.length, cfg_yaml_is_null(v));
}

/* True if section s has keys named "group.<something>". */
static bool is_group(enum cfg_sect s, const char *group, size_t len)
{
	for (size_t i = 0; i < CFG_N_KEYS; i++)
		if (cfg_keys[i].sect == s && strlen(cfg_keys[i].name) > len &&
		    !memcmp(cfg_keys[i].name, group, len) && cfg_keys[i].name[len] == '.')
			return true;
	return false;
}

/* The line of an earlier pair of m whose key is the scalar name, or 0. */
static unsigned earlier_key(const struct cfg_ld *ld, const yaml_node_t *m,
			    const yaml_node_pair_t *upto, const yaml_node_t *kn)
{
	for (const yaml_node_pair_t *p = m->data.mapping.pairs.start; p < upto; p++) {
		const yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);

		if (k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == kn->data.scalar.length &&
		    !memcmp(k->data.scalar.value, kn->data.scalar.value, k->data.scalar.length))
			return cfg_yaml_line(k);
	}
	return 0;
}

/* Applies the keys of section s from mapping m; within a group mapping,
 * prefix is "group." (else ""). */
static int apply_keys(struct cfg_ld *ld, enum cfg_sect s, const yaml_node_t *m, const char *prefix)
{
	unsigned first[CFG_N_KEYS] = {0}, line;
	const yaml_node_pair_t *p;
	char name[CFG_KEY_NAME_MAX];
	size_t plen = strlen(prefix), len;
	int ki;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		const yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);

		line = cfg_yaml_line(kn);
		if (kn->type != YAML_SCALAR_NODE)
			return cfg_fail(ld, line, "%s: keys must be scalars, got %s",
					cfg_sect_names[s], cfg_yaml_kind(kn));
		len = kn->data.scalar.length;
		if (plen + len >= sizeof(name)) /* too long for any key: unknown */
			len = sizeof(name) - 1 - plen;
		memcpy(name, prefix, plen);
		memcpy(name + plen, kn->data.scalar.value, len);
		name[plen + len] = '\0';
		ki = cfg_key_lookup(s, name, plen + len);
		if (ki < 0 && plen == 0 && is_group(s, name, len)) {
			unsigned dup = earlier_key(ld, m, p, kn);
			char sub[CFG_KEY_NAME_MAX + 1];

			if (dup)
				return cfg_fail(ld, line,
						"duplicate key '%s.%s' (first at line %u)",
						cfg_sect_names[s], name, dup);
			if (cfg_yaml_is_null(vn))
				continue;
			if (vn->type != YAML_MAPPING_NODE)
				return cfg_fail(ld, cfg_yaml_line(vn),
						"%s.%s: expected a mapping, got %s",
						cfg_sect_names[s], name, cfg_yaml_kind(vn));
			snprintf(sub, sizeof(sub), "%s.", name);
			if (apply_keys(ld, s, vn, sub))
				return -1;
			continue;
		}
		if (ki < 0)
			return fail_unknown_key(ld, line, s, name, plen + len);
		if (first[ki])
			return cfg_fail(ld, line, "duplicate key '%s.%s' (first at line %u)",
					cfg_sect_names[s], cfg_keys[ki].name, first[ki]);
		first[ki] = line;
		if (apply_value(ld, &cfg_keys[ki], vn))
			return -1;
		ld->org[ki] = ld->at;
		ld->org[ki].line = line;
	}
	return 0;
}

static int apply_section(struct cfg_ld *ld, enum cfg_sect s, const yaml_node_t *m)
{
	return apply_keys(ld, s, m, "");
}

static int apply_root(struct cfg_ld *ld, const yaml_node_t *root)
{
	unsigned first[S_COUNT] = {0}, line, s;
	const yaml_node_pair_t *p;
	const char *name, *sug;
	struct cfg_shown b;
	size_t len;

	if (!root || cfg_yaml_is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return cfg_fail(ld, cfg_yaml_line(root),
				"expected a mapping of sections (log, tracker, udp, "
				"dpdk, http, stats, cluster), got %s",
				cfg_yaml_kind(root));
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		const yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);

		line = cfg_yaml_line(kn);
		if (kn->type != YAML_SCALAR_NODE)
			return cfg_fail(ld, line, "keys must be scalars, got %s",
					cfg_yaml_kind(kn));
		name = (const char *)kn->data.scalar.value;
		len = kn->data.scalar.length;
		for (s = 0; s < S_COUNT; s++)
			if (len == strlen(cfg_sect_names[s]) &&
			    !memcmp(name, cfg_sect_names[s], len))
				break;
		if (s == S_COUNT) {
			sug = cfg_nearest(cfg_sect_names, S_COUNT, name, len);
			return cfg_fail(ld, line, "unknown key '%s'%s%s%s", cfg_show(&b, name, len),
					sug ? " (did you mean '" : "", sug ? sug : "",
					sug ? "'?)" : "");
		}
		if (first[s])
			return cfg_fail(ld, line, "duplicate key '%s' (first at line %u)",
					cfg_sect_names[s], first[s]);
		first[s] = line;
		if (cfg_yaml_is_null(vn))
			continue;
		if (vn->type != YAML_MAPPING_NODE)
			return cfg_fail(ld, cfg_yaml_line(vn), "%s: expected a mapping, got %s",
					cfg_sect_names[s], cfg_yaml_kind(vn));
		if (apply_section(ld, (enum cfg_sect)s, vn))
			return -1;
	}
	return 0;
}

static int fail_syntax(struct cfg_ld *ld, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	unsigned line = 1;
	size_t i;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return cfg_fail(ld, 0, "out of memory parsing YAML");
	case YAML_READER_ERROR:
		for (i = 0; i < p->problem_offset && i < len; i++)
			line += buf[i] == '\n';
		return cfg_fail(ld, line, "YAML syntax error: %s", problem);
	default:
		line = (unsigned)p->problem_mark.line + 1;
		if (p->context)
			return cfg_fail(ld, line, "YAML syntax error: %s (%s at line %u)", problem,
					p->context, (unsigned)p->context_mark.line + 1);
		return cfg_fail(ld, line, "YAML syntax error: %s", problem);
	}
}

/* Refuses what libyaml's document loader would build at any cost: syntax
 * errors, nesting deeper than CFG_DEPTH_MAX, more than CFG_EVENTS_MAX
 * events, and a second document. */
static int yaml_precheck(struct cfg_ld *ld, const char *buf, size_t len)
{
	unsigned depth = 0, events = 0, docs = 0;
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	if (!yaml_parser_initialize(&p))
		return cfg_fail(ld, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = fail_syntax(ld, &p, buf, len);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (++events > CFG_EVENTS_MAX)
			rc = cfg_fail(ld, (unsigned)ev.start_mark.line + 1,
				      "more than %d YAML nodes", CFG_EVENTS_MAX);
		else if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			rc = cfg_fail(ld, (unsigned)ev.start_mark.line + 1,
				      "a config file holds one YAML document; this is a second");
		else if ((ev.type == YAML_MAPPING_START_EVENT ||
			  ev.type == YAML_SEQUENCE_START_EVENT) &&
			 ++depth > CFG_DEPTH_MAX)
			rc = cfg_fail(ld, (unsigned)ev.start_mark.line + 1,
				      "nested deeper than %d levels", CFG_DEPTH_MAX);
		else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

int cfg_yaml_apply(struct cfg_ld *ld, const char *name, const char *buf, size_t len,
		   enum cfg_layer layer)
{
	size_t nlen = strlen(name);
	yaml_document_t doc;
	yaml_parser_t p;
	int rc;

	ld->at = (struct cfg_origin){name, nlen > INT_MAX ? INT_MAX : (int)nlen, 0, layer, true};
	if (yaml_precheck(ld, buf, len))
		return -1;
	if (!yaml_parser_initialize(&p))
		return cfg_fail(ld, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &doc)) {
		rc = fail_syntax(ld, &p, buf, len);
	} else {
		ld->doc = &doc;
		rc = apply_root(ld, yaml_document_get_root_node(&doc));
		ld->doc = NULL;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
	return rc;
}
