/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_tracker.c - the peer table and the tracker parameters from the
 * configuration: what main.c starts with, and what the packet-loop test
 * builds the same way.
 */
#include "dp_app.h"

#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>

#include "core/connid.h"
#include "core/ptab.h"

int dp_tracker_init(struct dp_app *app, const char *name, char *err, size_t errlen)
{
	const struct cfg *cfg = app->cfg;
	struct ptab_params pp = {
	    .name = name,
	    .max_swarms = cfg->tracker.max_swarms,
	    .max_peers_per_swarm = cfg->tracker.max_peers_per_swarm,
	    .memory_bytes = (uint64_t)cfg->tracker.memory_mb << 20,
	    .peer_timeout = cfg->tracker.peer_timeout,
	    .swarm_retention = cfg->tracker.swarm_retention,
	    .socket_id = (int)rte_socket_id(),
	};
	uint8_t slot_key[16];

	if (cfg->dpdk.replay) { /* peer placement, and so selection, must repeat */
		memset(slot_key, 0, sizeof(slot_key));
		memcpy(slot_key, &cfg->dpdk.rng_seed, sizeof(cfg->dpdk.rng_seed));
		pp.slot_key = slot_key;
	}
	app->ptab = ptab_new(&pp, err, errlen);
	if (app->ptab == NULL)
		return -1;
	app->tr.ptab = app->ptab;
	app->tr.p = (struct tr_params){
	    .peer_timeout = cfg->tracker.peer_timeout,
	    .announce_interval = cfg->tracker.announce_interval,
	    .announce_jitter = cfg->tracker.announce_jitter,
	    .min_interval = cfg->tracker.min_interval,
	    .numwant_default = cfg->tracker.numwant_default,
	    .numwant_max = cfg->tracker.numwant_max,
	    .connid_ttl = cfg->udp.connection_id_ttl,
	    .http_trust_ip_params = cfg->http.trust_ip_params,
	};
	if (cfg->udp.has_secret) {
		memcpy(app->tr.keys[0].k, cfg->udp.secret, sizeof(app->tr.keys[0].k));
	} else if (connid_key_random(&app->tr.keys[0]) != 0) {
		snprintf(err, errlen, "connid_key_random: libsodium cannot initialise");
		return -1;
	}
	return 0;
}
