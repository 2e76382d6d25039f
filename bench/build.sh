#!/usr/bin/env bash
# Times building a one-layer image from the example image's Debian root filesystem: clearbox
# build beside GNU tar + umoci (a tar sorted by name with clamped mtimes, then umoci's
# add-layer and config), on the same unpacked directory, in the same run. Also times clearbox
# building the same layer from the .deb files directly, which the umoci path cannot do without
# dpkg-deb.
#
# Usage: bench/build.sh [RUNS]   (default 5; medians are reported)
# Needs the .deb files that scripts/build-example-image.sh caches (CLEARBOX_CACHE), dpkg-deb,
# GNU tar, umoci and bc.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
runs=${1:-5}
cache=${CLEARBOX_CACHE:-$HOME/.cache/clearbox/example-image}
source_date_epoch=1735689600

for tool in dpkg-deb tar umoci bc; do
  command -v "$tool" >/dev/null || { echo "error: \`$tool\` not found; run scripts/setup.sh" >&2; exit 2; }
done
shopt -s nullglob
debs=("$cache"/debs/*.deb)
((${#debs[@]})) || { echo "error: no .deb files in $cache/debs; run scripts/build-example-image.sh" >&2; exit 2; }
cargo build --release --quiet -p clearbox
clearbox=$repo/target/release/clearbox

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The root filesystem, unpacked once outside the timings.
mkdir -p "$scratch/rootfs"
for deb in "${debs[@]}"; do dpkg-deb --extract "$deb" "$scratch/rootfs"; done
printf 'base: scratch\nsource_date_epoch: %s\nlayers:\n  - directory: {path: %s}\nhardening: {keep_setuid: true, writable: [/var/tmp, /var/lock]}\n' \
  "$source_date_epoch" "$scratch/rootfs" >"$scratch/dir.yaml"
{
  printf 'base: scratch\nsource_date_epoch: %s\nlayers:\n  - debs:\n' "$source_date_epoch"
  for deb in "${debs[@]}"; do printf '      - %s\n' "$deb"; done
  printf 'hardening: {keep_setuid: true, writable: [/var/tmp, /var/lock]}\n'
} >"$scratch/debs.yaml"

median() {
  sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# Prints the median wall time in seconds of running "$@" $runs times.
time_runs() {
  local start end
  for ((i = 0; i < runs; i++)); do
    rm -rf "$scratch/out"
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
  done | median
}

# The layer tar and image, written reproducibly with GNU tar and umoci.
umoci_build() {
  mkdir -p "$scratch/out"
  LC_ALL=C tar --create --file="$scratch/out/layer.tar" --directory="$scratch/rootfs" \
    --sort=name --format=posix --numeric-owner \
    --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
    --mtime="@$source_date_epoch" --clamp-mtime --no-acls --no-selinux --no-xattrs .
  umoci init --layout "$scratch/out/layout"
  umoci new --image "$scratch/out/layout:latest"
  umoci raw add-layer --image "$scratch/out/layout:latest" "$scratch/out/layer.tar"
  umoci config --image "$scratch/out/layout:latest" --config.user 65532:65532
  umoci gc --layout "$scratch/out/layout"
}
clearbox_dir() { "$clearbox" -q build "$scratch/dir.yaml" --output "oci:$scratch/out/layout"; }
clearbox_debs() { "$clearbox" -q build "$scratch/debs.yaml" --output "oci:$scratch/out/layout"; }

# Each build runs once untimed, so that a failing one stops the script instead of timing an
# error.
for build in umoci_build clearbox_dir clearbox_debs; do
  rm -rf "$scratch/out"
  "$build" >/dev/null 2>"$scratch/stderr" || { cat "$scratch/stderr" >&2; echo "error: $build failed" >&2; exit 2; }
done

echo "input: ${#debs[@]} .deb files, $(du -sh "$scratch/rootfs" | cut -f1) unpacked"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "umoci: $(umoci --version | awk '{print $3}'); runs: $runs (median)"
umoci_time=$(time_runs umoci_build)
dir_time=$(time_runs clearbox_dir)
debs_time=$(time_runs clearbox_debs)
printf 'tar + umoci, from the directory:     %.3f s\n' "$umoci_time"
printf 'clearbox build, from the directory:  %.3f s\n' "$dir_time"
printf 'clearbox build, from the .deb files: %.3f s\n' "$debs_time"
printf 'ratio clearbox / umoci (directory):  %.2f\n' "$(echo "$dir_time / $umoci_time" | bc -l)"
