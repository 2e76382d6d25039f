#!/usr/bin/env bash
# Times `clearbox sbom` on the example image beside the physical floor for the same bytes:
# decompressing every layer with zcat and hashing it with `openssl dgst -sha256`.
#
# clearbox does more work on the same bytes than the floor. It hashes each layer twice (stored
# blob and uncompressed diff_id), parses every tar header, hashes the model weights again,
# copies Go binaries aside to read their build information, and writes the SBOM. A ratio near
# 1 means the work is bound by decompression, as it should be.
#
# Usage: bench/sbom.sh [RUNS]   (default 5; the median of RUNS is reported)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
runs=${1:-5}
image=target/example-image

[[ -d $image ]] || ./scripts/build-example-image.sh >/dev/null
cargo build --release --quiet
clearbox=target/release/clearbox

manifest=$(jq -r '.manifests[0].digest' "$image/index.json")
mapfile -t layers < <(jq -r '.layers[].digest' "$image/blobs/sha256/${manifest#sha256:}")
layer_files=()
for digest in "${layers[@]}"; do
  layer_files+=("$image/blobs/sha256/${digest#sha256:}")
done
compressed=$(du -cb "${layer_files[@]}" | tail -1 | cut -f1)

# Prints the median wall time in seconds of running "$@" $runs times.
median_seconds() {
  local times=() start end
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

floor_sequential() {
  for f in "${layer_files[@]}"; do zcat "$f" | openssl dgst -sha256; done
}

floor_parallel() {
  for f in "${layer_files[@]}"; do (zcat "$f" | openssl dgst -sha256) & done
  wait
}

run_clearbox() {
  "$clearbox" -q sbom "oci:$image:latest" --format cyclonedx-json --output /dev/null
}

echo "image: oci:$image:latest (${#layers[@]} layers, $compressed compressed bytes)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "runs: $runs (median)"
seq_s=$(median_seconds floor_sequential)
par_s=$(median_seconds floor_parallel)
cb_s=$(median_seconds run_clearbox)
printf '%-48s %8.3f s\n' "zcat | openssl dgst -sha256, layer by layer" "$seq_s"
printf '%-48s %8.3f s\n' "zcat | openssl dgst -sha256, layers in parallel" "$par_s"
printf '%-48s %8.3f s\n' "clearbox sbom" "$cb_s"
printf 'ratio clearbox / sequential floor: %.2f\n' "$(echo "$cb_s / $seq_s" | bc -l)"
printf 'ratio clearbox / parallel floor:   %.2f\n' "$(echo "$cb_s / $par_s" | bc -l)"
