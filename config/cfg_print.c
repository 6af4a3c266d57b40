/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_print.c - writes the effective configuration as YAML that cfg_load
 * accepts, key by key from the table in cfg_keys.h, in the order of
 * config/dptrack.yaml. Strings are written double-quoted, escaped so that
 * they load back byte for byte (put_quoted).
 */
#include "cfg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_keys.h"

/* Writes s (valid UTF-8: libyaml loaded it) as a YAML double-quoted scalar.
 * Escaped besides \\ and \": C0 controls and DEL; the C1 controls
 * U+0080..U+009F, among them NEL, and U+2028/U+2029, which YAML reads as
 * line breaks (folded to a space on reload: found by fuzz_cfg); and U+FEFF,
 * a byte order mark it may drop. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		const unsigned char *u = (const unsigned char *)s;

		if (u[0] == '"' || u[0] == '\\') {
			fprintf(f, "\\%c", u[0]);
		} else if (u[0] < 0x20 || u[0] == 0x7f) {
			fprintf(f, "\\x%02x", u[0]);
		} else if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
			fprintf(f, "\\x%02x", u[1]); /* U+0080..U+009F */
			s++;
		} else if (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) {
			fputs(u[2] == 0xa8 ? "\\L" : "\\P", f);
			s += 2;
		} else if (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
			fputs("\\uFEFF", f);
			s += 2;
		} else {
			fputc(u[0], f);
		}
	}
	fputc('"', f);
}

static void put_cidr(FILE *f, const struct cfg_cidr *c)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	fprintf(f, "\"%s/%u\"", a, c->prefix);
}

static void put_listen(FILE *f, const struct cfg_listen *l)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(l->family == 4 ? AF_INET : AF_INET6, l->addr, a, sizeof(a));
	fprintf(f, l->family == 4 ? "\"%s:%u\"" : "\"[%s]:%u\"", a, l->port);
}

static void put_ports(FILE *f, const struct cfg *c)
{
	const struct cfg_port *p;
	unsigned i;

	if (c->dpdk.n_ports == 0)
		fputs(" []", f);
	fputc('\n', f);
	for (i = 0; i < c->dpdk.n_ports; i++) {
		p = &c->dpdk.ports[i];
		fputs("    - device: ", f);
		put_quoted(f, p->device);
		fputc('\n', f);
		if (p->shared)
			fputs("      shared: true\n", f);
		if (p->has_ipv4) {
			fputs("      ipv4: ", f);
			put_cidr(f, &p->ipv4);
			fputc('\n', f);
		}
		if (p->has_ipv6) {
			fputs("      ipv6: ", f);
			put_cidr(f, &p->ipv6);
			fputc('\n', f);
		}
	}
}

/* Writes list k in flow style: [a, b]. */
static void put_list(FILE *f, const struct cfg *c, const struct cfg_key *k)
{
	unsigned n = *(const unsigned *)cfield(c, k->noff), i;
	const void *arr = cfield(c, k->off);

	fputs(" [", f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		if (k->kind == K_UDP_PORTS)
			fprintf(f, "%u", ((const uint16_t *)arr)[i]);
		else if (cfg_kind_owns_strs(k->kind))
			put_quoted(f, ((char *const *)arr)[i] ? ((char *const *)arr)[i] : "");
		else if (k->kind == K_LISTEN)
			put_listen(f, (const struct cfg_listen *)arr + i);
		else
			put_cidr(f, (const struct cfg_cidr *)arr + i);
	}
	fputs("]\n", f);
}

/* Prints key k's value after its name: a space and the value, or a new
 * line and the entries of dpdk.ports. */
static void put_value(FILE *f, const struct cfg *c, const struct cfg_key *k)
{
	unsigned i;

	switch (k->kind) {
	case K_U32:
	case K_POW2:
		fprintf(f, " %u\n", *(const uint32_t *)cfield(c, k->off));
		break;
	case K_BOOL:
		fprintf(f, " %s\n", *(const bool *)cfield(c, k->off) ? "true" : "false");
		break;
	case K_ENUM:
		fprintf(f, " %s\n", k->names[*(const unsigned *)cfield(c, k->off)]);
		break;
	case K_SECRET:
		fputs(" \"", f);
		for (i = 0; c->udp.has_secret && i < sizeof(c->udp.secret); i++)
			fprintf(f, "%02x", c->udp.secret[i]);
		fputs("\"\n", f);
		break;
	case K_PATH:
	case K_TOKEN:
		fputc(' ', f);
		put_quoted(f, (const char *)cfield(c, k->off));
		fputc('\n', f);
		break;
	case K_DEVS:
		put_ports(f, c);
		break;
	default:
		put_list(f, c, k);
		break;
	}
}

/* Prints key k; a "group.key" name as "key" inside "group:", whose line
 * goes first when the key before (prev, or NULL) was not in that group. */
static void put_key(FILE *f, const struct cfg *c, const struct cfg_key *k,
		    const struct cfg_key *prev)
{
	const char *dot = strchr(k->name, '.');

	if (dot == NULL) {
		fprintf(f, "  %s:", k->name);
	} else {
		size_t g = (size_t)(dot - k->name);

		if (prev == NULL || strncmp(prev->name, k->name, g + 1) != 0)
			fprintf(f, "  %.*s:\n", (int)g, k->name);
		fprintf(f, "    %s:", dot + 1);
	}
	put_value(f, c, k);
}

/* k's value as put_value writes it, on one line (the entries of a list of
 * ports joined by "; "), in a heap string the caller frees; NULL when out
 * of memory. */
static char *value_of(const struct cfg *c, const struct cfg_key *k)
{
	char *buf = NULL, *r, *w;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	put_value(f, c, k);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	for (r = w = buf; *r != '\0'; r++) { /* folds the lines and their indent */
		if (*r == '\n') {
			while (r[1] == ' ')
				r++;
			if (w != buf && r[1] != '\0')
				*w++ = ';';
			if (r[1] != '\0' && r[1] != '-')
				*w++ = ' ';
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	while (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
	return buf;
}

int cfg_diff(const struct cfg *a, const struct cfg *b,
	     void (*fn)(void *arg, const char *key, const char *was, const char *now), void *arg)
{
	int n = 0;

	for (size_t i = 0; i < CFG_N_KEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char name[CFG_KEY_NAME_MAX + 16];
		char *va = value_of(a, k), *vb = value_of(b, k);

		if (va == NULL || vb == NULL) {
			free(va);
			free(vb);
			return -1;
		}
		if (strcmp(va, vb) != 0) {
			snprintf(name, sizeof(name), "%s.%s", cfg_sect_names[k->sect], k->name);
			fn(arg, name, va, vb);
			n++;
		}
		free(va);
		free(vb);
	}
	return n;
}

void cfg_print(const struct cfg *c, FILE *f)
{
	size_t i, n = strnlen(c->source, sizeof(c->source));
	unsigned s;

	fputs("# dptrack configuration in effect, loaded from ", f);
	for (i = 0; i < n; i++) /* a comment ends at a line break: keep it on one line */
		fputc((unsigned char)c->source[i] < 0x20 ? '?' : c->source[i], f);
	fputc('\n', f);
	for (s = 0; s < S_COUNT; s++) {
		const struct cfg_key *prev = NULL;

		fprintf(f, "\n%s:\n", cfg_sect_names[s]);
		for (i = 0; i < CFG_N_KEYS; i++)
			if (cfg_keys[i].sect == s) {
				put_key(f, c, &cfg_keys[i], prev);
				prev = &cfg_keys[i];
			}
	}
}
