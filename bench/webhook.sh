#!/usr/bin/env bash
# Load on `clearbox webhook serve` over TLS on loopback, with signatures in a real registry:
#  a. cached: AdmissionReviews of Pods naming a few signed digests over and over, so every image
#     is served from the verification cache. Throughput with 16 connections, latency with 2.
#     Run twice: the audit store on the disk, as deployed, and on /dev/shm (tmpfs, where fsync
#     costs nothing), to show what the per-decision audit record costs.
#  b. cold: the webhook restarted with --cache-ttl 0, so every image of every request is
#     verified against the registry again (signature manifest, its layer, the ECDSA check).
# Goals printed beside the results: cached p99 < 5 ms and > 5000 admissions/s on 2 CPUs, cold
# p99 < 100 ms.
#
# The load generator is wrk 4.1 (Debian package `wrk`, which scripts/setup.sh installs for this
# benchmark only) with bench/webhook.lua. It runs on the same machine and takes CPU from the
# webhook, so it runs one thread and its CPU time per request is printed too.
#
# Usage: bench/webhook.sh [SECONDS]   (default 10 per measurement; BENCH_IMAGES=N images, default 16)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
seconds=${1:-10}
images=${BENCH_IMAGES:-16}
cached_images=4

for tool in wrk docker-registry openssl curl jq; do
  command -v "$tool" >/dev/null || { echo "error: \`$tool\` is not installed; run scripts/setup.sh" >&2; exit 2; }
done
cargo build --release --quiet -p clearbox
clearbox=$repo/target/release/clearbox

scratch=$(mktemp -d)
shm_store=
registry_pid=
webhook_pid=
cleanup() {
  [[ -n $webhook_pid ]] && kill "$webhook_pid" 2>/dev/null
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null
  [[ -n $shm_store ]] && rm -rf "$shm_store"
  rm -rf "$scratch"
}
trap cleanup EXIT
export XDG_STATE_HOME=$scratch/state XDG_DATA_HOME=$scratch/data XDG_CONFIG_HOME=$scratch/config
unset CLEARBOX_AUDIT_STORE RUST_LOG

# A registry on a free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$scratch/registry.yml" <<CONFIG
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $scratch/storage}}
http: {addr: 127.0.0.1:$port}
CONFIG
docker-registry serve "$scratch/registry.yml" >"$scratch/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
host=127.0.0.1:$port

# Images: one small layer each, with a file of its own so that every image has its own digest,
# built straight into the registry and signed by digest.
export CLEARBOX_PASSWORD=bench
"$clearbox" -q key generate --output-prefix "$scratch/key" 2>/dev/null
digests=()
for ((i = 0; i < images; i++)); do
  printf 'base: scratch\nsource_date_epoch: 1735689600\nfiles:\n  - {path: /etc/bench-id, content: "%d\\n"}\n' "$i" >"$scratch/spec.yaml"
  digest=$("$clearbox" -q build "$scratch/spec.yaml" --output "docker://$host/bench/app-$i:v1" \
    --insecure-registry "$host" | jq -r .digest)
  "$clearbox" -q --audit-store none sign "docker://$host/bench/app-$i@$digest" \
    --key "$scratch/key.key" --insecure-registry "$host" >/dev/null
  digests+=("$digest")
done

# The policy: images from this registry's `bench/` only, by digest, signed by the key.
"$clearbox" -q policy init --registry "$host/bench" --key "$scratch/key.pub" |
  sed 's/^require_digest: false/require_digest: true/' >"$scratch/policy.yaml"
grep -q '^require_digest: true' "$scratch/policy.yaml"

# The server certificate: self-signed for IP 127.0.0.1, CA:FALSE since rustls rejects a CA
# certificate presented as a server's.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -addext basicConstraints=critical,CA:FALSE \
  -keyout "$scratch/tls.key" -out "$scratch/tls.crt" 2>/dev/null

# One AdmissionReview per line: a Pod with one container naming the image by digest.
reviews() {
  local first=$1 count=$2
  for ((i = first; i < first + count; i++)); do
    jq -cn --arg image "$host/bench/app-$i@${digests[i]}" --arg name "app-$i" '{
      apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
      request: {
        uid: "__UID__",
        kind: {group: "", version: "v1", kind: "Pod"},
        resource: {group: "", version: "v1", resource: "pods"},
        namespace: "bench", operation: "CREATE",
        userInfo: {username: "system:serviceaccount:bench:deployer"},
        object: {apiVersion: "v1", kind: "Pod", metadata: {name: $name, namespace: "bench"},
          spec: {containers: [{name: "app", image: $image}]}}}}'
  done
}
reviews 0 "$cached_images" >"$scratch/cached.jsonl"
reviews 0 "$images" >"$scratch/cold.jsonl"

# Starts the webhook with the audit store $1 and --cache-ttl $2, and waits until it serves.
start_webhook() {
  "$clearbox" webhook serve --policy "$scratch/policy.yaml" \
    --tls-cert "$scratch/tls.crt" --tls-key "$scratch/tls.key" --listen 127.0.0.1:0 \
    --store "sqlite://$1" --cache-ttl "$2" --insecure-registry "$host" \
    </dev/null >/dev/null 2>"$scratch/webhook.log" &
  webhook_pid=$!
  url=
  for _ in $(seq 300); do
    url=$(grep -o 'https://127.0.0.1:[0-9]*' "$scratch/webhook.log" | head -1) && break
    kill -0 "$webhook_pid" 2>/dev/null || { cat "$scratch/webhook.log" >&2; exit 2; }
    sleep 0.1
  done
  [[ -n $url ]] || { echo "error: the webhook did not start:" >&2; cat "$scratch/webhook.log" >&2; exit 2; }
}

stop_webhook() {
  kill "$webhook_pid"
  wait "$webhook_pid" 2>/dev/null || true
  webhook_pid=
}

# Prints the value of one sample of /metrics, such as name{label="x"}; 0 when absent.
metric() {
  curl -fsS --cacert "$scratch/tls.crt" "$url/metrics" |
    awk -v sample="$1" '$1 == sample {print $2; found = 1} END {if (!found) print 0}'
}

# Prints the CPU time, in clock ticks, the webhook process has used (user + system).
webhook_ticks() {
  awk '{print $14 + $15}' "/proc/$webhook_pid/stat"
}

# Runs wrk with $1 connections on the reviews file $2 and sets: requests, rate, p50, p90, p99,
# max (ms), failed (non-2xx responses and socket errors), cpu_ms and wrk_cpu_ms (CPU time of the
# webhook and of wrk per request).
measure() {
  local before after line wrk_user wrk_system TIMEFORMAT='%U %S'
  before=$(webhook_ticks)
  { time wrk -t1 -c"$1" -d"${seconds}s" --timeout 10s -s bench/webhook.lua "$url" -- "$2" \
    >"$scratch/wrk.out"; } 2>"$scratch/wrk.time"
  after=$(webhook_ticks)
  line=$(grep '^RESULT' "$scratch/wrk.out")
  read -r _ requests elapsed p50 p90 p99 max non_2xx socket_errors <<<"$line"
  read -r wrk_user wrk_system < <(tail -1 "$scratch/wrk.time")
  rate=$(echo "$requests / $elapsed" | bc -l)
  failed=$((non_2xx + socket_errors))
  cpu_ms=$(echo "($after - $before) * 1000 / $(getconf CLK_TCK) / $requests" | bc -l)
  wrk_cpu_ms=$(echo "($wrk_user + $wrk_system) * 1000 / $requests" | bc -l)
}

# Prints one result line.
report() {
  printf '%-40s %7d requests %6.0f /s  p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %6.2f ms  CPU/request: webhook %5.3f ms, wrk %5.3f ms  failed %d\n' \
    "$1" "$requests" "$rate" "$p50" "$p90" "$p99" "$max" "$cpu_ms" "$wrk_cpu_ms" "$failed"
}

# Sends each image of $1 once, so that later requests find it in the cache.
warm() {
  while IFS= read -r line; do
    curl -fsS --cacert "$scratch/tls.crt" -H 'Content-Type: application/json' \
      --data-binary "${line/__UID__/warm}" "$url/validate" >/dev/null
  done <"$1"
}

# Checks that every admission of the run was allowed, and prints the cache counters.
check_decisions() {
  local denied hits misses
  denied=$(metric 'clearbox_webhook_decisions_total{result="denied"}')
  hits=$(metric clearbox_webhook_cache_hits_total)
  misses=$(metric clearbox_webhook_cache_misses_total)
  echo "  decisions: $(metric 'clearbox_webhook_decisions_total{result="allowed"}') allowed, $denied denied; cache: $hits hits, $misses misses"
  if [[ $denied != 0 ]]; then
    echo "error: the webhook denied $denied admissions; its log:" >&2
    tail -5 "$scratch/webhook.log" >&2
    exit 2
  fi
}

echo "registry: docker-registry $(docker-registry --version 2>&1 | awk '{print $3}') on $host; $images signed images"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load: wrk $(wrk --version 2>&1 | awk 'NR == 1 {print $2}'), 1 thread, ${seconds} s per line; CPU is user + system time"

# a. Cached, the audit store on the disk.
start_webhook "$scratch/audit.db" 300
warm "$scratch/cached.jsonl"
measure 16 "$scratch/cached.jsonl"
cached_rate=$rate
report "cached, store on disk, 16 connections"
measure 2 "$scratch/cached.jsonl"
cached_p99=$p99
report "cached, store on disk, 2 connections"
check_decisions
stop_webhook

# a. Cached, the audit store on tmpfs.
if [[ -d /dev/shm && -w /dev/shm ]]; then
  shm_store=$(mktemp -d /dev/shm/clearbox-bench.XXXXXX)
  start_webhook "$shm_store/audit.db" 300
  warm "$scratch/cached.jsonl"
  measure 16 "$scratch/cached.jsonl"
  report "cached, store on tmpfs, 16 connections"
  measure 2 "$scratch/cached.jsonl"
  report "cached, store on tmpfs, 2 connections"
  check_decisions
  stop_webhook
fi

# b. Cold: nothing is served from the cache.
start_webhook "$scratch/audit.db" 0
measure 4 "$scratch/cold.jsonl"
cold_p99=$p99
report "cold, store on disk, 4 connections"
check_decisions
stop_webhook

# The audit chain the runs wrote must be intact.
"$clearbox" -q audit verify --audit-store "sqlite://$scratch/audit.db" >/dev/null

verdict() { if (($(echo "$1" | bc -l))); then echo met; else echo missed; fi; }
echo "goal cached p99 < 5 ms (2 connections, store on disk): $(printf %.2f "$cached_p99") ms, $(verdict "$cached_p99 < 5")"
echo "goal cached > 5000 admissions/s (16 connections, store on disk): $(printf %.0f "$cached_rate") /s, $(verdict "$cached_rate > 5000")"
echo "goal cold p99 < 100 ms (4 connections): $(printf %.2f "$cold_p99") ms, $(verdict "$cold_p99 < 100")"
