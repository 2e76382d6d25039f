#!/usr/bin/env bash
# Times signing and verifying the example image in a registry on loopback: clearbox beside
# cosign 2.5 in the same run, each on its own copy of the image, with the same key.
#
# Both tools run without a transparency log (cosign: --tlog-upload=false and
# --insecure-ignore-tlog), so the comparison is of the work each does: fetch the manifest,
# sign or verify, read and write the signature manifest.
#
# Usage: bench/sign.sh [RUNS]   (default 5; medians are reported)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
runs=${1:-5}
cosign=$repo/tools/bin/cosign
skopeo=$repo/tools/bin/skopeo

[[ -x $cosign && -x $skopeo ]] || { echo "error: run scripts/setup.sh first (tools/bin/cosign, tools/bin/skopeo)" >&2; exit 2; }
[[ -d target/example-image ]] || ./scripts/build-example-image.sh >/dev/null
cargo build --release --quiet
clearbox=$repo/target/release/clearbox

scratch=$(mktemp -d)
registry_pid=
cleanup() {
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

# A registry on a free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$scratch/registry.yml" <<CONFIG
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $scratch/storage}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
CONFIG
docker-registry serve "$scratch/registry.yml" >"$scratch/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
host=127.0.0.1:$port

for name in clearbox cosign; do
  "$skopeo" copy --quiet --dest-tls-verify=false oci:target/example-image:latest "docker://$host/bench/$name:v1"
done
export CLEARBOX_PASSWORD=bench COSIGN_PASSWORD=bench
"$clearbox" -q key generate --output-prefix "$scratch/key" 2>/dev/null

median() {
  sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# Prints the median wall time in seconds of running "$@" $runs times.
time_runs() {
  local start end
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
  done | median
}

clearbox_sign() { "$clearbox" -q sign "docker://$host/bench/clearbox:v1" --key "$scratch/key.key" --insecure-registry "$host"; }
clearbox_verify() { "$clearbox" -q verify "docker://$host/bench/clearbox:v1" --key "$scratch/key.pub" --insecure-registry "$host"; }
cosign_sign() { "$cosign" sign --key "$scratch/key.key" --tlog-upload=false --allow-insecure-registry --yes "$host/bench/cosign:v1"; }
cosign_verify() { "$cosign" verify --key "$scratch/key.pub" --insecure-ignore-tlog --allow-insecure-registry "$host/bench/cosign:v1"; }

# Each tool signs once before timing, so both verify the same number of signatures.
clearbox_sign >/dev/null 2>&1
cosign_sign >/dev/null 2>&1

echo "registry: docker-registry $(docker-registry --version 2>&1 | awk '{print $3}') on $host"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "runs: $runs (median)"
cs=$(time_runs clearbox_sign)
cv=$(time_runs clearbox_verify)
gs=$(time_runs cosign_sign)
gv=$(time_runs cosign_verify)
printf '%-16s %8.3f s   %-16s %8.3f s   ratio %.2f\n' "clearbox sign" "$cs" "cosign sign" "$gs" "$(echo "$cs / $gs" | bc -l)"
printf '%-16s %8.3f s   %-16s %8.3f s   ratio %.2f\n' "clearbox verify" "$cv" "cosign verify" "$gv" "$(echo "$cv / $gv" | bc -l)"
