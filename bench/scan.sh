#!/usr/bin/env bash
# Times the vulnerability engine on the corpus's OSV data:
#  1. `clearbox db import` of every OSV source in the corpus plus the Alpine secdb, beside a
#     plain Python loop that reads and parses the same files (json.load / yaml.safe_load);
#  2. matching a 1,000-package CycloneDX SBOM (600 PyPI, 300 Go, 100 npm packages named in
#     those records, at versions drawn from them) after the database is open, with the
#     `match_timing` example, beside a Python loop that reads the records of those packages.
#
# Usage: bench/scan.sh [RUNS]   (default 5; medians are reported)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
runs=${1:-5}
corpus=${CLEARBOX_CORPUS:-$repo/../shared/corpus}
python=${CLEARBOX_VENV:-$repo/.venv}/bin/python
osv=$corpus/osv
[[ -d $osv ]] || { echo "no corpus at $corpus; set CLEARBOX_CORPUS" >&2; exit 2; }
sources=(
  "$osv/pypa-advisory-database/vulns" "$osv/go-vulndb/data/osv" "$osv/almalinux-osv"
  "$osv/fixtures-harvested" "$osv/osv-schema/redhat-osv" "$osv/alpine-secdb"
)

cargo build --release --quiet -p clearbox
cargo build --release --quiet -p clearbox-vuln --example match_timing
clearbox=target/release/clearbox
# BENCH_WORK keeps the database and SBOM in that directory for later runs.
if [[ -n ${BENCH_WORK:-} ]]; then
  work=$BENCH_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

# Prints the median wall time in seconds of running "$@" $runs times.
median_seconds() {
  local times=() start end
  for ((i = 0; i < runs; i++)); do
    "${before_each:-true}"
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

fresh_db() { rm -f "$work"/advisories.db*; }
import() { "$clearbox" db import "${sources[@]}" --db "$work/advisories.db"; }
read_loop() {
  "$python" - "${sources[@]}" <<'PY'
import json, os, sys, yaml
count = 0
for root in sys.argv[1:]:
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            if name.endswith(".json"):
                json.load(open(path)); count += 1
            elif name.endswith((".yaml", ".yml")):
                yaml.load(open(path), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)); count += 1
PY
}

before_each=fresh_db
import_time=$(median_seconds import)
before_each=true
loop_time=$(median_seconds read_loop)
fresh_db
import >/dev/null 2>&1
files=$(find "${sources[@]}" -type f \( -name '*.json' -o -name '*.yaml' \) | wc -l)
advisories=$("$clearbox" db status --db "$work/advisories.db" --json | jq .advisories)

# A 1,000-package SBOM from package names and versions in the records.
"$python" - "$osv" > "$work/sbom.cdx.json" <<'PY'
import glob, json, random, sys, urllib.parse
random.seed(1)
osv = sys.argv[1]
def packages(pattern, ecosystem, purl_type, count):
    seen = {}
    for path in sorted(glob.glob(pattern, recursive=True)):
        record = json.load(open(path))
        for affected in record.get("affected") or []:
            package = affected.get("package") or {}
            if package.get("ecosystem") != ecosystem or package["name"] in seen:
                continue
            versions = affected.get("versions") or [
                e[k] for r in affected.get("ranges") or [] for e in r["events"] for k in e if e[k] != "0"]
            if versions:
                seen[package["name"]] = random.choice(versions)
    names = sorted(seen)[:count]
    return [(purl_type, name, seen[name]) for name in names]
chosen = packages(osv + "/go-vulndb/data/osv/*.json", "Go", "golang", 300) + \
    packages(osv + "/fixtures-harvested/npm/*.json", "npm", "npm", 100)
# PyPA records are YAML: read names and versions from the directory layout and files.
import yaml
pypi = {}
for path in sorted(glob.glob(osv + "/pypa-advisory-database/vulns/*/*.yaml")):
    name = path.split("/")[-2]
    if name in pypi: continue
    record = yaml.safe_load(open(path))
    versions = [v for a in record.get("affected") or [] for v in a.get("versions") or []]
    if versions: pypi[name] = random.choice(versions)
chosen += [("pypi", n, pypi[n]) for n in sorted(pypi)[:1000 - len(chosen)]]
components = []
for i, (purl_type, name, version) in enumerate(chosen):
    if purl_type == "golang":
        purl = "pkg:golang/" + "/".join(urllib.parse.quote(p, safe="") for p in name.split("/")) + "@v" + version.lstrip("v")
    elif purl_type == "npm" and name.startswith("@"):
        purl = "pkg:npm/%40" + name[1:] + "@" + version
    else:
        purl = "pkg:%s/%s@%s" % (purl_type, name, version)
    components.append({"type": "library", "bom-ref": "c%d" % i, "name": name, "version": version, "purl": purl})
json.dump({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}, sys.stdout)
PY
read -r packages findings match_ms match_min_ms match_cpu_ms < <(target/release/examples/match_timing "$work/advisories.db" "$work/sbom.cdx.json" "$runs")

# The plain loop for matching: read and parse every record file that names one of the SBOM's
# packages, which is what any matcher must at least do.
lookup_loop() {
  "$python" - "$work/advisories.db" "$work/sbom.cdx.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
names = [c["name"].lower() if c["purl"].startswith("pkg:pypi/") else c["name"]
         for c in json.load(open(sys.argv[2]))["components"]]
for name in names:
    for (raw,) in db.execute("SELECT a.raw FROM affected f JOIN advisory a ON a.id = f.advisory_id WHERE f.ecosystem IN ('PyPI', 'Go', 'npm') AND f.name = ?", (name,)):
        json.loads(raw)
PY
}
lookup_s=$(median_seconds lookup_loop)

echo "files: $files, advisories stored: $advisories"
echo "import: clearbox ${import_time}s, Python read loop ${loop_time}s, ratio $(echo "$import_time / $loop_time" | bc -l | cut -c1-4)"
echo "match: $packages packages, $findings findings, clearbox median ${match_ms} ms (min ${match_min_ms} ms, median CPU time ${match_cpu_ms} ms), Python lookup loop $(echo "$lookup_s * 1000" | bc -l | cut -c1-6) ms (includes interpreter start), ratio $(echo "$match_ms / ($lookup_s * 1000)" | bc -l | cut -c1-4)"
