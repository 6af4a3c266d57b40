/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_env.c - environment overrides: DPTRACK_<SECTION>_<KEY>=value sets a
 * scalar key by the rules a YAML scalar follows. A variable that names a
 * section but no key in it is an error, with the variable the user most
 * likely meant; one that names no section is not ours and is left alone.
 */
#include "cfg_load.h"

#include <ctype.h>
#include <string.h>

#include "cfg_keys.h"

/* Whether s (len bytes) is name upper-cased. */
static bool is_upper_of(const char *s, size_t len, const char *name)
{
	size_t i;

	if (len != strlen(name))
		return false;
	for (i = 0; i < len; i++)
		if (s[i] != (name[i] == '.' ? '_' : toupper((unsigned char)name[i])))
			return false;
	return true;
}

/* Copies src into dst (cap bytes) through fn (toupper or tolower); with
 * toupper, a group's '.' becomes the '_' of the variable's name. */
static const char *recase(char *dst, size_t cap, const char *src, size_t len, int (*fn)(int))
{
	size_t i;

	for (i = 0; i < len && i + 1 < cap; i++)
		dst[i] = fn == toupper && src[i] == '.' ? '_' : (char)fn((unsigned char)src[i]);
	dst[i] = '\0';
	return dst;
}

static int fail_unknown_env(struct cfg_ld *ld, enum cfg_sect s, const char *rest, size_t rlen)
{
	const struct cfg_key *sug = cfg_key_nearest(s, rest, rlen);
	char typed[CFG_SHOW_MAX + 4], sect_up[16], key_up[64];
	struct cfg_shown b;

	cfg_show(&b, rest, rlen);
	recase(typed, sizeof(typed), b.s, strlen(b.s), tolower);
	if (!sug)
		return cfg_fail(ld, 0, "no config key '%s.%s'", cfg_sect_names[s], typed);
	return cfg_fail(ld, 0, "no config key '%s.%s' (did you mean DPTRACK_%s_%s?)",
			cfg_sect_names[s], typed,
			recase(sect_up, sizeof(sect_up), cfg_sect_names[sug->sect],
			       strlen(cfg_sect_names[sug->sect]), toupper),
			recase(key_up, sizeof(key_up), sug->name, strlen(sug->name), toupper));
}

/* Applies DPTRACK_<SECTION>_<KEY>=val (name is nlen bytes); a name that
 * names no section is not ours and is ignored. */
static int apply_env_var(struct cfg_ld *ld, const char *name, size_t nlen, const char *val)
{
	const char *rest = NULL;
	size_t rlen = 0, sl;
	unsigned s;
	int ki;

	for (s = 0; s < S_COUNT; s++) {
		sl = strlen(cfg_sect_names[s]);
		if (nlen > 8 + sl && is_upper_of(name + 8, sl, cfg_sect_names[s]) &&
		    name[8 + sl] == '_') {
			rest = name + 9 + sl;
			rlen = nlen - 9 - sl;
			break;
		}
	}
	if (!rest)
		return 0;
	ld->at = (struct cfg_origin){name, nlen > 1024 ? 1024 : (int)nlen, 0, L_ENV, true};
	for (ki = 0; ki < (int)CFG_N_KEYS; ki++)
		if (cfg_keys[ki].sect == s && is_upper_of(rest, rlen, cfg_keys[ki].name))
			break;
	if (ki == (int)CFG_N_KEYS)
		return fail_unknown_env(ld, (enum cfg_sect)s, rest, rlen);
	if (cfg_scalar_set(ld, &cfg_keys[ki], 0, val, strlen(val), false))
		return -1;
	ld->org[ki] = ld->at;
	return 0;
}

int cfg_env_apply(struct cfg_ld *ld, char *const *envp)
{
	const char *eq;

	for (; *envp; envp++) {
		if (strncmp(*envp, "DPTRACK_", 8) != 0)
			continue;
		eq = strchr(*envp, '=');
		if (eq && apply_env_var(ld, *envp, (size_t)(eq - *envp), eq + 1))
			return -1;
	}
	return 0;
}
