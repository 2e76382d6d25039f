#!/usr/bin/env bash
# Compares `clearbox sbom` with OWASP cdxgen on the example image's docker-archive, and
# clearbox's SHA-256 of the model weights with `openssl dgst -sha256` on the same file.
#
#  1. SBOM: wall time, peak memory and components by type of each tool, the time ratio, and
#     whether clearbox lists every package cdxgen lists (purls compared without qualifiers).
#     cdxgen reads the saved image by itself when given a path ending in `.tar`, so neither
#     tool needs a Docker engine.
#  2. Hashing: `clearbox sbom dir:ROOT` on a root filesystem holding only the image's
#     `model.safetensors` beside `openssl dgst -sha256` of that file. clearbox's time includes
#     its start, walking the one-file directory, parsing the safetensors header and writing
#     the SBOM; the SHA-256 of the whole file is most of it.
#
# cdxgen is installed from npm at a pinned version into target/bench-cdxgen (kept between
# runs). Peak memory is getrusage's maximum resident set size of the children, which is that
# of the largest single process of the run (cdxgen starts helper processes), not a sum.
#
# Usage: bench/sbom-vs-cdxgen.sh [RUNS]   (default 3; medians are reported)
# Environment: BENCH_WORK=DIR keeps the SBOMs and logs in DIR instead of a temporary directory.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
runs=${1:-3}
hash_runs=$((runs < 9 ? 9 : runs))
cdxgen_version=12.8.4
cdxgen_dir=$repo/target/bench-cdxgen
cdxgen=$cdxgen_dir/node_modules/.bin/cdxgen
archive=target/example-image.docker.tar

die() {
  printf 'error: %s\n' "$1" >&2
  exit 2
}

for tool in npm node jq python3 openssl bc; do
  command -v "$tool" >/dev/null || die "\`$tool\` not found; run scripts/setup.sh"
done
[[ -f $archive ]] || ./scripts/build-example-image.sh >/dev/null
cargo build --release --quiet -p clearbox
clearbox=$repo/target/release/clearbox

installed=$(jq -r .version "$cdxgen_dir/node_modules/@cyclonedx/cdxgen/package.json" 2>/dev/null || true)
if [[ $installed != "$cdxgen_version" ]]; then
  echo "installing @cyclonedx/cdxgen@$cdxgen_version into $cdxgen_dir" >&2
  npm install --prefix "$cdxgen_dir" --no-audit --no-fund --loglevel=error \
    "@cyclonedx/cdxgen@$cdxgen_version" >/dev/null
fi

if [[ -n ${BENCH_WORK:-} ]]; then
  work=$BENCH_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/sbom-vs-cdxgen.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
work=$(cd "$work" && pwd)

median() {
  sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# Runs the command "$@" $2 times with its output discarded, and runs the function $3 untimed
# before each run. Writes one "wall-seconds max-rss-KiB cpu-seconds" line per run to the file
# $1. CPU time (user + system of the command and its children, from getrusage) is reported
# beside wall time because it changes less when other work shares the machine.
measure() {
  local out=$1 count=$2 prepare=$3
  shift 3
  : >"$out"
  for ((i = 0; i < count; i++)); do
    "$prepare"
    python3 -c '
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.6f} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.6f}")
' "$@" >>"$out" 2>>"$work/stderr.log"
  done
}

nothing() { :; }

clearbox_sbom=(
  "$clearbox" -q sbom "docker-archive:$archive" --format cyclonedx-json
  --output "$work/clearbox.cdx.json"
)

# cdxgen unpacks the image under TMPDIR, which is emptied before each run. Validation is off
# and the spec version is clearbox's, so cdxgen does no work that clearbox skips.
fresh_cdxgen_tmp() { rm -rf "$work/cdxgen-tmp" && mkdir "$work/cdxgen-tmp"; }
cdxgen_sbom=(
  env -C "$work" TMPDIR="$work/cdxgen-tmp" "$cdxgen" -t docker --spec-version 1.6 --no-validate
  -o "$work/cdxgen.cdx.json" "$repo/$archive"
)

# The model weights, copied out of the image's layers into a root filesystem of their own.
extract_model() {
  local layer member
  mkdir -p "$work/model-rootfs"
  for layer in $(tar -xOf "$archive" manifest.json | jq -r '.[0].Layers[]'); do
    member=$(tar -xOf "$archive" "$layer" | tar -t | grep -m1 '/model\.safetensors$' || true)
    if [[ -n $member ]]; then
      tar -xOf "$archive" "$layer" | tar -xO "$member" >"$work/model-rootfs/model.safetensors"
      return
    fi
  done
  die "no model.safetensors in $archive"
}

clearbox_hash=(
  "$clearbox" -q sbom "dir:$work/model-rootfs" --format cyclonedx-json
  --output "$work/model.cdx.json"
)
openssl_hash=(openssl dgst -sha256 "$work/model-rootfs/model.safetensors")

echo "image: docker-archive:$archive ($(stat -c %s "$archive") bytes)"
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cdxgen: $cdxgen_version (node $(node --version)); clearbox: $("$clearbox" --version)"
echo "runs: $runs (median)"
echo

measure "$work/clearbox.runs" "$runs" nothing "${clearbox_sbom[@]}"
measure "$work/cdxgen.runs" "$runs" fresh_cdxgen_tmp "${cdxgen_sbom[@]}"
cb_s=$(cut -d' ' -f1 "$work/clearbox.runs" | median)
cb_kib=$(cut -d' ' -f2 "$work/clearbox.runs" | median)
cx_s=$(cut -d' ' -f1 "$work/cdxgen.runs" | median)
cx_kib=$(cut -d' ' -f2 "$work/cdxgen.runs" | median)
printf '%-16s %9.3f s %9.1f MiB peak RSS\n' "clearbox sbom" "$cb_s" "$(echo "$cb_kib / 1024" | bc -l)"
printf '%-16s %9.3f s %9.1f MiB peak RSS\n' "cdxgen" "$cx_s" "$(echo "$cx_kib / 1024" | bc -l)"
printf 'ratio cdxgen / clearbox time: %.1f\n\n' "$(echo "$cx_s / $cb_s" | bc -l)"

python3 - "$work/clearbox.cdx.json" "$work/cdxgen.cdx.json" <<'PY'
import collections, json, re, sys
from urllib.parse import unquote

def components(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f).get("components", [])

def key(purl):
    """type/namespace/name@version of a purl, decoded, without qualifiers or subpath."""
    core = purl.split("#", 1)[0].split("?", 1)[0]
    kind, _, rest = core.removeprefix("pkg:").partition("/")
    path, _, version = rest.rpartition("@") if "@" in rest else (rest, "", "")
    parts = [unquote(p) for p in path.split("/")]
    if kind == "pypi":
        parts[-1] = re.sub(r"[-_.]+", "-", parts[-1]).lower()
    return f"{kind.lower()}/{'/'.join(parts)}@{unquote(version)}"

def qualifiers(purl):
    query = purl.split("#", 1)[0].partition("?")[2]
    return dict((unquote(k), unquote(v)) for k, _, v in
                (item.partition("=") for item in query.split("&") if item))

def packages(items, with_sources):
    """Keys of the components that name a package: a purl with a version, and not a file
    or a certificate. With with_sources, an OS package's `upstream` qualifier adds its source
    package at the version it names, else at the binary's version."""
    keys = set()
    for c in items:
        purl = c.get("purl") or ""
        if not purl or c.get("type") in ("file", "cryptographic-asset") or "@" not in purl:
            continue
        keys.add(key(purl))
        upstream = qualifiers(purl).get("upstream")
        kind = purl.removeprefix("pkg:").split("/", 1)[0]
        if with_sources and upstream and kind in ("deb", "apk"):
            name, _, version = upstream.partition("@")
            base = key(purl)
            namespace = base.split("/")[1] if base.count("/") > 1 else ""
            keys.add(f"{kind}/{namespace}/{name}@{version or base.rpartition('@')[2]}")
    return keys

clearbox = components(sys.argv[1])
cdxgen = components(sys.argv[2])
for name, items in (("clearbox", clearbox), ("cdxgen", cdxgen)):
    by_type = collections.Counter(c.get("type", "?") for c in items)
    listed = ", ".join(f"{t} {n}" for t, n in sorted(by_type.items()))
    print(f"{name} components: {len(items)} ({listed})")

ours = packages(clearbox, with_sources=True)
theirs = packages(cdxgen, with_sources=False)
missing = sorted(theirs - ours)
extra = collections.Counter(k.split("/", 1)[0] for k in packages(clearbox, False) - theirs)
print(f"cdxgen packages compared: {len(theirs)}; found by clearbox: {len(theirs) - len(missing)}")
print(f"clearbox's packages are a superset of cdxgen's: {'yes' if not missing else 'no'}")
for k in missing:
    print(f"  only cdxgen: pkg:{k}")
print("only clearbox, by purl type: " + (", ".join(f"{t} {n}" for t, n in sorted(extra.items())) or "none"))
PY
echo

extract_model
bytes=$(stat -c %s "$work/model-rootfs/model.safetensors")
# The two tools take turns, so a change in the machine's load affects both alike.
: >"$work/hash-clearbox.runs"
: >"$work/hash-openssl.runs"
for ((run = 0; run < hash_runs; run++)); do
  measure "$work/hash-clearbox.run" 1 nothing "${clearbox_hash[@]}"
  measure "$work/hash-openssl.run" 1 nothing "${openssl_hash[@]}"
  cat "$work/hash-clearbox.run" >>"$work/hash-clearbox.runs"
  cat "$work/hash-openssl.run" >>"$work/hash-openssl.runs"
done
hc_s=$(cut -d' ' -f1 "$work/hash-clearbox.runs" | median)
ho_s=$(cut -d' ' -f1 "$work/hash-openssl.runs" | median)
hc_cpu=$(cut -d' ' -f3 "$work/hash-clearbox.runs" | median)
ho_cpu=$(cut -d' ' -f3 "$work/hash-openssl.runs" | median)
ours=$(jq -r '[.components[] | select(.type == "machine-learning-model") | .hashes[]? | select(.alg == "SHA-256") | .content][0]' "$work/model.cdx.json")
theirs=$("${openssl_hash[@]}" | awk '{print $NF}')
[[ $ours == "$theirs" ]] || die "clearbox's SHA-256 \`$ours\` differs from openssl's \`$theirs\`"
echo "model.safetensors: $bytes bytes, SHA-256 $theirs (both tools agree); $hash_runs runs (median)"
printf '%-44s %8.3f s %8.0f MB/s\n' "clearbox sbom dir: (model file only)" "$hc_s" "$(echo "$bytes / $hc_s / 1000000" | bc -l)"
printf '%-44s %8.3f s %8.0f MB/s\n' "openssl dgst -sha256" "$ho_s" "$(echo "$bytes / $ho_s / 1000000" | bc -l)"
printf 'clearbox throughput / openssl throughput: %.2f (wall time), %.2f (CPU time: %.3f s / %.3f s)\n' \
  "$(echo "$ho_s / $hc_s" | bc -l)" "$(echo "$ho_cpu / $hc_cpu" | bc -l)" "$hc_cpu" "$ho_cpu"
