/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_list.c - list values: a YAML sequence replaces the key's list whole,
 * entry by entry, checking each (ports, strings, addresses, server URLs)
 * and, for dpdk.ports, the mapping of device, ipv4, ipv6 and shared each
 * entry is.
 */
#include "cfg_load.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cfg_addr.h"
#include "cfg_keys.h"
#include "cfg_num.h"

/* The members of a dpdk.ports entry. */
enum { P_DEVICE, P_IPV4, P_IPV6, P_SHARED, P_COUNT };
static const char *const port_names[P_COUNT] = {"device", "ipv4", "ipv6", "shared"};

/* A shared port's device: DPDK's AF_XDP PMD, whose vdev names begin so. */
#define AF_XDP_DRIVER "net_af_xdp"

/* Returns item i of list k as a string of *len bytes: a non-null scalar
 * without NUL bytes; NULL after reporting why not. */
static const char *item_str(struct cfg_ld *ld, const struct cfg_key *k, unsigned i,
			    const yaml_node_t *n, size_t *len)
{
	if (n->type != YAML_SCALAR_NODE || cfg_yaml_is_null(n)) {
		cfg_fail(ld, cfg_yaml_line(n), "%s.%s[%u]: expected a scalar, got %s",
			 cfg_sect_names[k->sect], k->name, i, cfg_yaml_kind(n));
		return NULL;
	}
	*len = n->data.scalar.length;
	if (memchr(n->data.scalar.value, '\0', *len)) {
		cfg_fail(ld, cfg_yaml_line(n), "%s.%s[%u]: contains a NUL byte",
			 cfg_sect_names[k->sect], k->name, i);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* Parses a port's ipv4 or ipv6 member (m is P_IPV4 or P_IPV6) into p. */
static int set_port_addr(struct cfg_ld *ld, unsigned i, int m, const yaml_node_t *v,
			 struct cfg_port *p)
{
	struct cfg_cidr *cidr = m == P_IPV4 ? &p->ipv4 : &p->ipv6;
	const char *s = (const char *)v->data.scalar.value, *why;
	int fam = m == P_IPV4 ? 4 : 6;
	struct cfg_shown b;

	if (cfg_yaml_is_null(v))
		return 0;
	if (v->type != YAML_SCALAR_NODE)
		return cfg_fail(ld, cfg_yaml_line(v),
				"dpdk.ports[%u].%s: expected ADDR/LEN, got %s", i, port_names[m],
				cfg_yaml_kind(v));
	if (cfg_addr_parse_cidr(s, v->data.scalar.length, false, cidr, &why) ||
	    (cidr->prefix == 0 && (why = "prefix length must not be 0")) ||
	    (cidr->family != fam &&
	     (why = fam == 4 ? "not an IPv4 address" : "not an IPv6 address")))
		return cfg_fail(ld, cfg_yaml_line(v), "dpdk.ports[%u].%s: bad address '%s': %s", i,
				port_names[m], cfg_show(&b, s, v->data.scalar.length), why);
	if (m == P_IPV4)
		p->has_ipv4 = true;
	else
		p->has_ipv6 = true;
	return 0;
}

static int set_port_device(struct cfg_ld *ld, unsigned i, const yaml_node_t *v, struct cfg_port *p)
{
	const char *s = (const char *)v->data.scalar.value;
	size_t len = v->data.scalar.length, j;

	if (v->type != YAML_SCALAR_NODE || cfg_yaml_is_null(v))
		return cfg_fail(ld, cfg_yaml_line(v),
				"dpdk.ports[%u].device: expected a device name, got %s", i,
				cfg_yaml_kind(v));
	if (len == 0 || len >= sizeof(p->device))
		return cfg_fail(ld, cfg_yaml_line(v),
				"dpdk.ports[%u].device: must be 1..%zu bytes long", i,
				sizeof(p->device) - 1);
	for (j = 0; j < len; j++)
		if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f)
			return cfg_fail(ld, cfg_yaml_line(v),
					"dpdk.ports[%u].device: contains a control character", i);
	memcpy(p->device, s, len);
	p->device[len] = '\0';
	return 0;
}

static int set_port_shared(struct cfg_ld *ld, unsigned i, const yaml_node_t *v, struct cfg_port *p)
{
	struct cfg_shown b;

	if (v->type != YAML_SCALAR_NODE || cfg_yaml_is_null(v))
		return cfg_fail(ld, cfg_yaml_line(v),
				"dpdk.ports[%u].shared: expected true or false, got %s", i,
				cfg_yaml_kind(v));
	if (!cfg_bool_parse((const char *)v->data.scalar.value, v->data.scalar.length, &p->shared))
		return cfg_fail(
		    ld, cfg_yaml_line(v), "dpdk.ports[%u].shared: expected true or false, got '%s'",
		    i, cfg_show(&b, (const char *)v->data.scalar.value, v->data.scalar.length));
	return 0;
}

static int set_port_member(struct cfg_ld *ld, unsigned i, int m, const yaml_node_t *v,
			   struct cfg_port *p)
{
	switch (m) {
	case P_DEVICE:
		return set_port_device(ld, i, v, p);
	case P_SHARED:
		return set_port_shared(ld, i, v, p);
	default:
		return set_port_addr(ld, i, m, v, p);
	}
}

/* Finds devarg key (with its '=') in a device's arguments, after the name;
 * returns its value and *len, or NULL. */
static const char *devarg(const char *device, const char *key, size_t *len)
{
	size_t klen = strlen(key);

	for (const char *a = strchr(device, ','); a != NULL; a = strchr(a + 1, ',')) {
		if (strncmp(a + 1, key, klen) == 0) {
			*len = strcspn(a + 1 + klen, ",");
			return a + 1 + klen;
		}
	}
	return NULL;
}

/* A shared port: a net_af_xdp device naming its interface, without the
 * devargs dptrack sets itself, on an interface no other port has. */
static int check_shared(struct cfg_ld *ld, unsigned i, unsigned line, struct cfg_port *p)
{
	const char *name;
	struct cfg_shown b;
	size_t len;

	if (strncmp(p->device, AF_XDP_DRIVER, strlen(AF_XDP_DRIVER)) != 0)
		return cfg_fail(ld, line,
				"dpdk.ports[%u]: shared needs a net_af_xdp device "
				"(net_af_xdp0,iface=IFACE), not '%s': the kernel keeps the "
				"interface and AF_XDP hands dptrack its tracker UDP",
				i, cfg_show(&b, p->device, strlen(p->device)));
	name = devarg(p->device, "iface=", &len);
	if (name == NULL || len == 0 || len >= sizeof(p->iface) || memchr(name, '/', len))
		return cfg_fail(ld, line,
				"dpdk.ports[%u]: a shared port names its interface: "
				"%s,iface=IFACE (1..%zu characters)",
				i, AF_XDP_DRIVER "0", sizeof(p->iface) - 1);
	if (devarg(p->device, "queue_count=", &len) || devarg(p->device, "xdp_prog=", &len))
		return cfg_fail(ld, line,
				"dpdk.ports[%u]: leave queue_count and xdp_prog out of a shared "
				"port's device: dptrack sets them (a queue per worker lcore, its "
				"XDP program)",
				i);
	memcpy(p->iface, name, len);
	p->iface[len] = '\0';
	for (unsigned j = 0; j < i; j++)
		if (ld->c->dpdk.ports[j].shared && !strcmp(ld->c->dpdk.ports[j].iface, p->iface))
			return cfg_fail(ld, line, "dpdk.ports[%u]: interface %s is also port %u", i,
					p->iface, j);
	return 0;
}

/* Parses entry i of dpdk.ports: a mapping of device, ipv4, ipv6. */
static int set_port(struct cfg_ld *ld, unsigned i, const yaml_node_t *n)
{
	unsigned first[P_COUNT] = {0}, line, j;
	struct cfg_port p = {0};
	const yaml_node_pair_t *pr;
	const char *sug;
	struct cfg_shown b;

	if (n->type != YAML_MAPPING_NODE)
		return cfg_fail(ld, cfg_yaml_line(n),
				"dpdk.ports[%u]: expected a mapping of device, ipv4, "
				"ipv6, shared, got %s",
				i, cfg_yaml_kind(n));
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *kn = yaml_document_get_node(ld->doc, pr->key);
		const yaml_node_t *vn = yaml_document_get_node(ld->doc, pr->value);
		const char *s;
		size_t len;
		int m = -1;

		line = cfg_yaml_line(kn);
		if (kn->type != YAML_SCALAR_NODE)
			return cfg_fail(ld, line, "dpdk.ports[%u]: keys must be scalars, got %s", i,
					cfg_yaml_kind(kn));
		s = (const char *)kn->data.scalar.value;
		len = kn->data.scalar.length;
		for (j = 0; j < P_COUNT; j++)
			if (len == strlen(port_names[j]) && !memcmp(s, port_names[j], len))
				m = (int)j;
		if (m < 0) {
			sug = cfg_nearest(port_names, P_COUNT, s, len);
			return cfg_fail(ld, line, "unknown key 'dpdk.ports[%u].%s'%s%s%s", i,
					cfg_show(&b, s, len), sug ? " (did you mean '" : "",
					sug ? sug : "",
					sug ? "'?)" : " (known: device, ipv4, ipv6, shared)");
		}
		if (first[m])
			return cfg_fail(ld, line,
					"duplicate key 'dpdk.ports[%u].%s' (first at line %u)", i,
					port_names[m], first[m]);
		first[m] = line;
		if (set_port_member(ld, i, m, vn, &p))
			return -1;
	}
	if (!first[P_DEVICE])
		return cfg_fail(ld, cfg_yaml_line(n), "dpdk.ports[%u]: needs a device", i);
	if (p.shared && check_shared(ld, i, first[P_SHARED], &p))
		return -1;
	if (!p.has_ipv4 && !p.has_ipv6 && !p.shared)
		return cfg_fail(ld, cfg_yaml_line(n),
				"dpdk.ports[%u]: needs ipv4, ipv6 or both (only a shared port "
				"reads them from its interface)",
				i);
	for (j = 0; j < i; j++)
		if (!strcmp(ld->c->dpdk.ports[j].device, p.device))
			return cfg_fail(ld, cfg_yaml_line(n),
					"dpdk.ports[%u]: device '%s' is also port %u", i,
					cfg_show(&b, p.device, strlen(p.device)), j);
	ld->c->dpdk.ports[i] = p;
	return 0;
}

/* Sets entry i of a K_URLS list k to s (len bytes): a server URL
 * (cfg_addr_check_url) not listed before, strdup'ed. */
static int set_url(struct cfg_ld *ld, const struct cfg_key *k, unsigned i, unsigned line,
		   const char *s, size_t len)
{
	char **urls = field(ld->c, k->off);
	struct cfg_shown b;
	const char *why;
	unsigned j;

	if (cfg_addr_check_url(s, len, &why))
		return cfg_fail(ld, line, "%s.%s[%u]: bad server URL '%s': %s",
				cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len), why);
	for (j = 0; j < i; j++)
		if (strlen(urls[j]) == len && !strncasecmp(urls[j], s, len))
			return cfg_fail(ld, line, "%s.%s[%u]: '%s' is also entry %u",
					cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len),
					j);
	urls[i] = strndup(s, len);
	if (!urls[i])
		return cfg_fail(ld, line, "out of memory");
	return 0;
}

/* Sets entry i of a K_TOKENS list k to s (len bytes): a token of
 * 1..CFG_CLUSTER_NAME_LEN characters not listed before, strdup'ed. */
static int set_token_item(struct cfg_ld *ld, const struct cfg_key *k, unsigned i, unsigned line,
			  const char *s, size_t len)
{
	char **toks = field(ld->c, k->off);
	struct cfg_shown b;

	if (len == 0 || len > CFG_CLUSTER_NAME_LEN)
		return cfg_fail(ld, line, "%s.%s[%u]: '%s' is %zu characters long, allowed 1..%u",
				cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len), len,
				CFG_CLUSTER_NAME_LEN);
	for (size_t c = 0; c < len; c++)
		if (!cfg_is_token_char(s[c]))
			return cfg_fail(ld, line,
					"%s.%s[%u]: '%s' has a character other than A-Z, a-z, "
					"0-9, '_' and '-' at position %zu",
					cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len),
					c + 1);
	for (unsigned j = 0; j < i; j++)
		if (strlen(toks[j]) == len && !strncmp(toks[j], s, len))
			return cfg_fail(ld, line, "%s.%s[%u]: '%s' is also entry %u",
					cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len),
					j);
	toks[i] = strndup(s, len);
	if (!toks[i])
		return cfg_fail(ld, line, "out of memory");
	return 0;
}

/* Parses item i of list k from node n into the cfg. The count is the
 * caller's; entries before i are already set. */
static int set_item(struct cfg_ld *ld, const struct cfg_key *k, unsigned i, const yaml_node_t *n)
{
	const char *s = NULL, *why;
	char fix[INET6_ADDRSTRLEN + 8];
	struct cfg_shown b;
	size_t len = 0;
	uint32_t v;
	unsigned j;

	if (k->kind == K_DEVS)
		return set_port(ld, i, n);
	s = item_str(ld, k, i, n, &len);
	if (!s)
		return -1;
	switch (k->kind) {
	case K_UDP_PORTS: {
		uint16_t *ports = field(ld->c, k->off);

		if (cfg_num_parse_u32(s, len, &v) || v < 1 || v > 65535)
			return cfg_fail(ld, cfg_yaml_line(n),
					"%s.%s[%u]: '%s' is not a port in 1..65535",
					cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len));
		for (j = 0; j < i; j++)
			if (ports[j] == v)
				return cfg_fail(ld, cfg_yaml_line(n),
						"%s.%s[%u]: port %u is listed twice",
						cfg_sect_names[k->sect], k->name, i, v);
		ports[i] = (uint16_t)v;
		return 0;
	}
	case K_STRS: {
		char **strs = field(ld->c, k->off);

		if (len == 0)
			return cfg_fail(ld, cfg_yaml_line(n), "%s.%s[%u]: empty string",
					cfg_sect_names[k->sect], k->name, i);
		strs[i] = strndup(s, len);
		if (!strs[i])
			return cfg_fail(ld, cfg_yaml_line(n), "out of memory");
		return 0;
	}
	case K_URLS:
		return set_url(ld, k, i, cfg_yaml_line(n), s, len);
	case K_TOKENS:
		return set_token_item(ld, k, i, cfg_yaml_line(n), s, len);
	case K_LISTEN:
		if (cfg_addr_parse_listen(s, len, (struct cfg_listen *)field(ld->c, k->off) + i,
					  &why))
			return cfg_fail(
			    ld, cfg_yaml_line(n), "%s.%s[%u]: bad listen address '%s': %s",
			    cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len), why);
		return 0;
	default: {
		struct cfg_cidr *cidr = (struct cfg_cidr *)field(ld->c, k->off) + i;

		if (cfg_addr_parse_cidr(s, len, true, cidr, &why))
			return cfg_fail(ld, cfg_yaml_line(n), "%s.%s[%u]: bad CIDR '%s': %s",
					cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len),
					why);
		if (!cfg_addr_host_bits_zero(cidr, fix, sizeof(fix)))
			return cfg_fail(
			    ld, cfg_yaml_line(n),
			    "%s.%s[%u]: bad CIDR '%s': host bits set (did you mean %s?)",
			    cfg_sect_names[k->sect], k->name, i, cfg_show(&b, s, len), fix);
		return 0;
	}
	}
}

/* Empties list k; lists that own strings free them. */
static void list_clear(struct cfg *c, const struct cfg_key *k)
{
	unsigned *n = field(c, k->noff), i;

	if (cfg_kind_owns_strs(k->kind)) {
		char **strs = field(c, k->off);

		for (i = 0; i < *n; i++) {
			free(strs[i]);
			strs[i] = NULL;
		}
	}
	*n = 0;
}

int cfg_list_set(struct cfg_ld *ld, const struct cfg_key *k, const yaml_node_t *n)
{
	unsigned *count = field(ld->c, k->noff), len = 0, i;
	const yaml_node_item_t *items = NULL;

	if (n->type == YAML_SEQUENCE_NODE) {
		items = n->data.sequence.items.start;
		len = (unsigned)(n->data.sequence.items.top - items);
	} else if (!cfg_yaml_is_null(n)) {
		return cfg_fail(ld, cfg_yaml_line(n), "%s.%s: expected a sequence, got %s",
				cfg_sect_names[k->sect], k->name, cfg_yaml_kind(n));
	}
	if (len < k->min || len > k->max)
		return cfg_fail(ld, cfg_yaml_line(n), "%s.%s: has %u entries, allowed %u..%u",
				cfg_sect_names[k->sect], k->name, len, k->min, k->max);
	list_clear(ld->c, k);
	for (i = 0; i < len; i++) {
		if (set_item(ld, k, i, yaml_document_get_node(ld->doc, items[i])))
			return -1;
		*count = i + 1;
	}
	return 0;
}
