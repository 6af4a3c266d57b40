#!/usr/bin/env bash
# The dptrack binary's configuration handling, as a user meets it:
# a typo'd key is refused with FILE:LINE and exit status 2, env overrides
# apply, --check-config prints a config that loads again (the cluster
# section included).
# Usage: test_config.sh PATH_TO_DPTRACK
set -u
dptrack=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$(realpath "$0")")/tap.sh"

# Runs dptrack in $tmp (so no ./dptrack.yaml is picked up by accident) with
# HOME pointing at an empty directory.
run() {
	(cd "$tmp" && HOME="$tmp/home" "$dptrack" "$@" >"$tmp/out" 2>"$tmp/err")
	echo $? >"$tmp/rc"
}
rc() { cat "$tmp/rc"; }
mkdir -p "$tmp/home"

cat >"$tmp/typo.yaml" <<'YAML'
# a user's config
tracker:
  announce_interval: 1800
  anounce_jitter: 60
YAML
run -c "$tmp/typo.yaml" --check-config
check "typo'd key exits 2" [ "$(rc)" = 2 ]
check "typo'd key names file and line" grep -q "typo.yaml:4:" "$tmp/err"
check "typo'd key names the key" grep -q "anounce_jitter" "$tmp/err"

printf 'http:\n  threads: 0\n' >"$tmp/range.yaml"
run -c "$tmp/range.yaml" --check-config
check "out-of-range value exits 2 with its line" \
	bash -c '[ "$(cat "$0/rc")" = 2 ] && grep -q "range.yaml:2:" "$0/err"' "$tmp"

# dpdk.idle_sleep_us (0..100000) out of range, from a file and from the
# environment: each names where the value came from.
printf '# quiet tracker\ndpdk:\n  burst: 32\n  idle_sleep_us: 100001\n' >"$tmp/sleep.yaml"
run -c "$tmp/sleep.yaml" --check-config
check "idle_sleep_us out of range exits 2" [ "$(rc)" = 2 ]
check "idle_sleep_us out of range names file, line, key and range" \
	grep -q "sleep.yaml:4: dpdk.idle_sleep_us: 100001 is out of range 0..100000" "$tmp/err"
(cd "$tmp" && HOME="$tmp/home" DPTRACK_DPDK_IDLE_SLEEP_US=100001 "$dptrack" --check-config \
	>/dev/null 2>"$tmp/err")
check "idle_sleep_us out of range from the environment exits 2" [ $? = 2 ]
check "idle_sleep_us out of range from the environment names the variable" \
	grep -q "DPTRACK_DPDK_IDLE_SLEEP_US: dpdk.idle_sleep_us: 100001 is out of range" "$tmp/err"
(cd "$tmp" && HOME="$tmp/home" DPTRACK_DPDK_IDLE_SLEEP_US=2000 "$dptrack" --check-config \
	>"$tmp/out" 2>"$tmp/err")
check "idle_sleep_us in range from the environment applies" grep -Eq "idle_sleep_us: *2000" "$tmp/out"

run -c "$tmp/missing.yaml" --check-config
check "missing file exits 2 naming it" \
	bash -c '[ "$(cat "$0/rc")" = 2 ] && grep -q "missing.yaml" "$0/err"' "$tmp"

run --check-config
check "built-in default is valid" [ "$(rc)" = 0 ]
check "built-in default says so" grep -q "built-in" "$tmp/err"
cp "$tmp/out" "$tmp/effective.yaml"
run -c "$tmp/effective.yaml" --check-config
check "printed config loads again" [ "$(rc)" = 0 ]
# The first line names where the config came from; the rest must match.
check "printed config round-trips" \
	cmp -s <(tail -n +2 "$tmp/out") <(tail -n +2 "$tmp/effective.yaml")
check "printed config names its source" grep -q "effective.yaml" "$tmp/out"

check "printed default has the cluster section, off" \
	bash -c 'grep -q "^cluster:" "$0" && grep -q "^  enabled: false" "$0"' "$tmp/effective.yaml"

# The cluster section: a file that enables it prints back the same, the
# environment sets a grouped key, and a check across keys names its line.
cat >"$tmp/cluster.yaml" <<'YAML'
cluster:
  enabled: true
  servers: ["nats://n1.example:4222", "tls://[fd00::1]:4222"]
  name: swarm_A-1
  tls: { ca: /etc/dptrack/ca.pem, cert: /etc/dptrack/c.pem, key: /etc/dptrack/k.pem }
YAML
run -c "$tmp/cluster.yaml" --check-config
check "cluster config is valid" [ "$(rc)" = 0 ]
cp "$tmp/out" "$tmp/cluster-effective.yaml"
run -c "$tmp/cluster-effective.yaml" --check-config
check "printed cluster config round-trips" \
	cmp -s <(tail -n +2 "$tmp/out") <(tail -n +2 "$tmp/cluster-effective.yaml")
check "printed cluster config keeps the servers" \
	grep -q 'servers: \["nats://n1.example:4222", "tls://\[fd00::1\]:4222"\]' "$tmp/out"
(cd "$tmp" && HOME="$tmp/home" DPTRACK_CLUSTER_TLS_CA=/run/ca.pem "$dptrack" \
	-c "$tmp/cluster.yaml" --check-config >"$tmp/out" 2>"$tmp/err")
check "grouped cluster key from the environment applies" grep -q 'ca: "/run/ca.pem"' "$tmp/out"
printf 'cluster:\n  enabled: true\n  max_age: 600\n' >"$tmp/age.yaml"
run -c "$tmp/age.yaml" --check-config
check "cluster.max_age under tracker.peer_timeout exits 2 with its line" \
	bash -c '[ "$(cat "$0/rc")" = 2 ] &&
		grep -q "age.yaml:3: cluster.max_age (600) must be at least tracker.peer_timeout" \
		"$0/err"' "$tmp"

(cd "$tmp" && HOME="$tmp/home" DPTRACK_HTTP_THREADS=4 "$dptrack" --check-config >"$tmp/out" 2>"$tmp/err")
check "env override applies" grep -Eq "threads: *4" "$tmp/out"
(cd "$tmp" && HOME="$tmp/home" DPTRACK_HTTP_THREADS=many "$dptrack" --check-config >/dev/null 2>"$tmp/err")
check "bad env value exits 2" [ $? = 2 ]
check "bad env value names the variable" grep -q "DPTRACK_HTTP_THREADS" "$tmp/err"

cp "$tmp/typo.yaml" "$tmp/dptrack.yaml"
run --check-config
check "./dptrack.yaml is found first" [ "$(rc)" = 2 ]
rm "$tmp/dptrack.yaml"

run --version
check "--version prints the version" grep -q "^dptrack [0-9]" "$tmp/out"
run --no-such-flag
check "unknown flag exits 2" [ "$(rc)" = 2 ]

tap_end
