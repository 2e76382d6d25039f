#!/usr/bin/env bash
# Times `clearbox rescan` over 10,000 stored SBOMs against every advisory of the corpus.
#
# The SBOMs: clearbox itself writes CycloneDX SBOMs of real package sets from the corpus:
#  - alpine:3.11 (docker-archive, 14 apk packages), stored by `clearbox scan --audit-store`, the
#    path by which the product keeps SBOMs;
#  - root filesystems holding the Alpine 3.21 installed database of apk-tools (39 packages) and
#    the Ubuntu 18.04 dpkg status file of trivy's tests (90 packages), each with an os-release;
#  - a pool of PyPI packages: `*.dist-info/METADATA` for every project in the PyPA advisory
#    database, at one version its records list as affected and up to two that fix one.
# Each stored image is one of the three OS package sets, each package kept with probability
# 0.95, plus 20 to 80 PyPI components from the pool, as clearbox wrote them. Each document
# gets its own serial number, name and digest (the SHA-256 of the document). The documents go
# into the store's `image_sbom` table with sqlite3, because no command stores an SBOM file:
# `scan` and `evidence` keep the SBOM of an image they read, and `scan SBOM` keeps none.
#
# Timed: a full rescan (every finding is new and written to the store), a second full rescan
# (no finding is new), and then two `--shard I/2` processes side by side (no finding is new).
#
# Usage: bench/rescan.sh [IMAGES]   (default 10000)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
images=${1:-10000}
corpus=${CLEARBOX_CORPUS:-$repo/../shared/corpus}
osv=$corpus/osv
pkgdb=$corpus/pkgdb
[[ -d $osv && -d $pkgdb ]] || { echo "error: no corpus at $corpus; set CLEARBOX_CORPUS" >&2; exit 2; }
sources=(
  "$osv/pypa-advisory-database/vulns" "$osv/go-vulndb/data/osv" "$osv/almalinux-osv"
  "$osv/fixtures-harvested" "$osv/osv-schema/redhat-osv" "$osv/alpine-secdb"
)

cargo build --release --quiet -p clearbox
clearbox=$repo/target/release/clearbox
# BENCH_WORK keeps the database, the store and the findings in that directory.
if [[ -n ${BENCH_WORK:-} ]]; then
  work=$BENCH_WORK
  rm -rf "$work"
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
export XDG_STATE_HOME=$work/state XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config
unset CLEARBOX_AUDIT_STORE CLEARBOX_DB RUST_LOG
db=$work/advisories.db
store=$work/store.db

# The advisory database.
"$clearbox" -q db import "${sources[@]}" --db "$db" >/dev/null 2>&1
advisories=$("$clearbox" db status --db "$db" --json | jq .advisories)

# The first stored SBOM, through the product's own path.
gunzip -c "$corpus/images/trivy/pkg/fanal/test/testdata/alpine-311.tar.gz" >"$work/alpine-311.tar"
"$clearbox" -q scan "docker-archive:$work/alpine-311.tar" --db "$db" --audit-store "sqlite://$store" >/dev/null

# Root filesystems of the other package sets, and of the PyPI pool.
python3 - "$corpus" "$work/roots" <<'PY'
import glob, os, random, sys, yaml
corpus, roots = sys.argv[1:]
random.seed(1)
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
alpine = open(corpus + "/pkgdb/apk-tools/query-installed.data").read()
write(roots + "/alpine-3.21/lib/apk/db/installed", alpine)
write(roots + "/alpine-3.21/etc/os-release",
      'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.3\nPRETTY_NAME="Alpine Linux v3.21"\n')
# txtar: the file's text runs from its "-- NAME --" line to the next such line.
txtar = open(corpus + "/pkgdb/trivy/pkg/fanal/analyzer/pkg/dpkg/testdata/valid.txtar").read()
status = txtar.split("-- var/lib/dpkg/status --\n", 1)[1].split("\n-- ", 1)[0] + "\n"
write(roots + "/ubuntu-18.04/var/lib/dpkg/status", status)
write(roots + "/ubuntu-18.04/etc/os-release",
      'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\nPRETTY_NAME="Ubuntu 18.04.4 LTS"\n')
site = roots + "/pypi/usr/lib/python3.11/site-packages"
for directory in sorted(glob.glob(corpus + "/osv/pypa-advisory-database/vulns/*")):
    affected_versions, fixed_versions = set(), set()
    name = None
    for path in sorted(glob.glob(directory + "/*.yaml")):
        record = yaml.load(open(path), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for affected in record.get("affected") or []:
            name = name or (affected.get("package") or {}).get("name")
            affected_versions.update(affected.get("versions") or [])
            fixed_versions.update(event["fixed"] for r in affected.get("ranges") or []
                                  for event in r.get("events") or [] if "fixed" in event)
    if not name or not affected_versions:
        continue
    # One version an advisory lists as affected, and up to two that fix one.
    chosen = {random.choice(sorted(affected_versions))}
    chosen.update(random.sample(sorted(fixed_versions), min(2, len(fixed_versions))))
    for version in sorted(chosen):
        write("%s/%s-%s.dist-info/METADATA" % (site, name.replace("-", "_"), version),
              "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
PY
for root in alpine-3.21 ubuntu-18.04 pypi; do
  "$clearbox" -q sbom "dir:$work/roots/$root" --format cyclonedx-json --output "$work/$root.cdx.json"
done

# The stored images, written into the store beside the one `scan` stored.
python3 - "$store" "$images" "$work" <<'PY'
import copy, hashlib, json, random, sqlite3, sys, uuid
store, images, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
random.seed(2)
db = sqlite3.connect(store)
(stored,) = db.execute("SELECT sbom FROM image_sbom").fetchone()
bases = [json.loads(stored)] + [json.load(open("%s/%s.cdx.json" % (work, name)))
                                for name in ("alpine-3.21", "ubuntu-18.04")]
pool = {}
for component in json.load(open(work + "/pypi.cdx.json"))["components"]:
    pool.setdefault(component["name"], []).append(component)
names = sorted(pool)
stored_at = db.execute("SELECT stored_at FROM image_sbom").fetchone()[0]
rows = []
for i in range(1, images):
    document = copy.deepcopy(bases[i % len(bases)])
    os_components = [c for c in document["components"]
            if c["type"] != "library" or random.random() < 0.95]
    python = [random.choice(pool[name]) for name in random.sample(names, random.randint(20, 80))]
    document["components"] = os_components + python
    document["serialNumber"] = "urn:uuid:%s" % uuid.UUID(int=random.getrandbits(128))
    document["metadata"]["component"]["name"] = "bench/app-%d" % i
    document["metadata"]["component"]["bom-ref"] = "image-bench-app-%d" % i
    document["dependencies"] = [{"ref": "image-bench-app-%d" % i,
                                 "dependsOn": [c["bom-ref"] for c in document["components"]
                                               if c["type"] == "library"]}]
    text = json.dumps(document, separators=(",", ":"))
    digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    rows.append((digest, "registry.example/bench/app-%d:v1" % i, stored_at, text))
with db:
    db.executemany("INSERT INTO image_sbom (digest, reference, stored_at, sbom) VALUES (?, ?, ?, ?)", rows)
db.close()
PY
[[ ! -e $store-wal ]] || { echo "error: $store-wal was left behind" >&2; exit 2; }
read -r sboms packages bytes < <(sqlite3 -separator ' ' "$store" "SELECT count(*), sum((SELECT count(*) FROM json_each(sbom, '\$.components') WHERE json_extract(value, '\$.type') = 'library')), sum(length(sbom)) FROM image_sbom")

# Runs `clearbox rescan` with the arguments "$@" and prints its wall time in seconds, its peak
# resident memory in KiB, the number of findings it printed and the number of images it read.
rescan() {
  local output
  output=$(mktemp "$work/findings.XXXXXX")
  /usr/bin/time -f '%e %M' -o "$output.time" \
    "$clearbox" rescan --db "$db" --audit-store "sqlite://$store" "$@" >"$output" 2>"$output.log"
  echo "$(cat "$output.time") $(wc -l <"$output") $(grep -o 'rescanned [0-9]*' "$output.log" | cut -d' ' -f2)"
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
read -r first_s first_kib first_findings first_images < <(rescan)
read -r again_s again_kib again_findings again_images < <(rescan)
start=$(date +%s.%N)
rescan --shard 0/2 >"$work/shard0" &
shard0=$!
rescan --shard 1/2 >"$work/shard1"
wait "$shard0"
end=$(date +%s.%N)
shards_s=$(echo "$end - $start" | bc -l)
read -r _ shard0_kib shard0_findings shard0_images <"$work/shard0"
read -r _ shard1_kib shard1_findings shard1_images <"$work/shard1"

# Prints one result line: what, seconds, findings, peak RSS in KiB.
report() {
  printf '%-36s %7.2f s  %6.0f SBOMs/s  %8.0f packages/s  %8d findings  peak RSS %5d MiB\n' \
    "$1" "$2" "$(echo "$sboms / $2" | bc -l)" "$(echo "$packages / $2" | bc -l)" "$3" "$(($4 / 1024))"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before the rescans: $load"
echo "store: $sboms SBOMs, $packages packages, $((bytes / 1048576)) MiB of JSON; database: $advisories advisories"
report "full rescan, every finding new" "$first_s" "$first_findings" "$first_kib"
report "full rescan again, nothing new" "$again_s" "$again_findings" "$again_kib"
report "--shard 0/2 and 1/2 side by side" "$shards_s" "$((shard0_findings + shard1_findings))" \
  "$((shard0_kib > shard1_kib ? shard0_kib : shard1_kib))"
echo "shards: $shard0_images and $shard1_images images"
if [[ $first_images != "$sboms" || $again_images != "$sboms" || $((shard0_images + shard1_images)) != "$sboms" ]]; then
  echo "error: the rescans read $first_images, $again_images and $shard0_images + $shard1_images images; the store has $sboms" >&2
  exit 2
fi
if [[ $again_findings != 0 || $shard0_findings != 0 || $shard1_findings != 0 ]]; then
  echo "error: rescans after the first reported new findings" >&2
  exit 2
fi
