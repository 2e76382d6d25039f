#!/usr/bin/env bash
# Compares `clearbox check k8s` with checkov's Kubernetes framework on the manifests of the test
# corpus ($CLEARBOX_CORPUS, default ../shared/corpus beside the repository):
#
#  - k8s/checkov/tests-kubernetes-checks: checkov's own examples, 311 files;
#  - k8s/pod-security-admission/testdata/{baseline,restricted}/v1.37: the upstream Pod Security
#    admission fixtures of the newest version, 148 files.
#
#  1. Time: each tool reads each directory in one process (clearbox with `--format json`,
#     checkov with `-d DIR -o json`). The median wall time of RUNS runs is divided by the number
#     of files, so the start of each process is spread over its files. A run of each tool on
#     one small manifest shows that fixed cost on its own.
#  2. Verdicts: for every workload resource both tools report (matched by file, kind and name)
#     and every pair of checks in the table below, the two verdicts are compared. A clearbox
#     check fails a resource when any of its results for that resource (one per container,
#     volume or port) fails; a row with several checkov ids fails when any of them fails.
#     Checks whose verdicts differ are listed with counts and the first files.
#
# Check mapping, clearbox id = checkov ids (the items both tools make; titles from checkov's
# check registry, clearbox's from docs/k8s-checks.md):
#   5.1.6                         = CKV_K8S_38 service account token mounted only where needed
#   5.2.2                         = CKV_K8S_16 privileged containers
#   5.2.3                         = CKV_K8S_17 host PID namespace
#   5.2.4                         = CKV_K8S_18 host IPC namespace
#   5.2.5                         = CKV_K8S_19 host network namespace
#   5.2.6                         = CKV_K8S_20 allowPrivilegeEscalation
#   5.2.7                         = CKV_K8S_23 root containers
#   5.2.8                         = CKV_K8S_28 NET_RAW capability
#   5.2.9                         = CKV_K8S_25 added capabilities
#   5.2.10                        = CKV_K8S_37 capabilities assigned (drop ALL)
#   5.2.12                        = CKV_K8S_27 Docker socket volume (clearbox: any hostPath)
#   5.2.13                        = CKV_K8S_26 hostPort
#   5.4.1                         = CKV_K8S_35 secrets as environment variables
#   5.7.2                         = CKV_K8S_31 seccomp profile
#   5.7.3                         = CKV_K8S_29 + CKV_K8S_30 pod and container security context
#   5.7.4                         = CKV_K8S_21 default namespace
#   k8s-read-only-root-filesystem = CKV_K8S_22 read-only root filesystem
#   k8s-resource-requests         = CKV_K8S_10 + CKV_K8S_12 CPU and memory requests
#   k8s-resource-limits           = CKV_K8S_11 + CKV_K8S_13 CPU and memory limits
#   k8s-image-pull-policy         = CKV_K8S_15 image pull policy Always
#   k8s-image-digest              = CKV_K8S_43 image pinned by digest
# Not mapped: checkov's PodSecurityPolicy, RBAC, API server, kubelet, etcd, Tiller, probe, and
# high-UID checks (clearbox has no counterpart), and clearbox's Pod Security Standards controls,
# `k8s-pod-spec-valid`, `k8s-run-as-user-not-root` and `5.2.11` (checkov has none).
#
# checkov is installed from PyPI at a pinned version into its own virtual environment under
# target/bench-checkov (kept between runs). It runs with --skip-download,
# BC_SKIP_MAPPING=TRUE and CKV_SKIP_PACKAGE_UPDATE_CHECK=true, so it contacts neither Prisma
# Cloud nor PyPI while it checks.
#
# Usage: bench/k8s-vs-checkov.sh [RUNS]   (default 3; medians are reported)
# Environment: CLEARBOX_CORPUS=DIR names the corpus; BENCH_WORK=DIR keeps the reports and logs
# in DIR instead of a temporary directory.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
runs=${1:-3}
checkov_version=3.3.30
checkov_dir=$repo/target/bench-checkov
checkov=$checkov_dir/venv/bin/checkov
corpus=${CLEARBOX_CORPUS:-$repo/../shared/corpus}

die() {
  printf 'error: %s\n' "$1" >&2
  exit 2
}

for tool in python3 bc; do
  command -v "$tool" >/dev/null || die "\`$tool\` not found; run scripts/setup.sh"
done
[[ -d $corpus/k8s ]] || die "no corpus at \`$corpus\`; set CLEARBOX_CORPUS to the corpus directory"
corpus=$(cd "$corpus" && pwd)
dirs=(
  "$corpus/k8s/checkov/tests-kubernetes-checks"
  "$corpus/k8s/pod-security-admission/testdata/baseline/v1.37"
  "$corpus/k8s/pod-security-admission/testdata/restricted/v1.37"
)
for dir in "${dirs[@]}"; do
  [[ -d $dir ]] || die "\`$dir\` is missing from the corpus"
done
cargo build --release --quiet -p clearbox
clearbox=$repo/target/release/clearbox

installed=$("$checkov_dir/venv/bin/python" -c \
  'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null || true)
if [[ $installed != "$checkov_version" ]]; then
  echo "installing checkov==$checkov_version into $checkov_dir/venv" >&2
  python3 -m venv "$checkov_dir/venv"
  "$checkov_dir/venv/bin/pip" install --quiet --disable-pip-version-check \
    "checkov==$checkov_version" >/dev/null
fi

if [[ -n ${BENCH_WORK:-} ]]; then
  work=$BENCH_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/k8s-vs-checkov.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
work=$(cd "$work" && pwd)

median() {
  sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# Runs the command "$@" with its stdout in the file $2 and appends one "wall-seconds" line to
# the file $1. Exit codes 0 and 1 are both results (checkov exits 1 when a check failed).
measure() {
  local times=$1 out=$2
  shift 2
  python3 -c '
import subprocess, sys, time
start = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    code = subprocess.run(sys.argv[2:], stdout=out).returncode
if code not in (0, 1):
    sys.exit(f"{sys.argv[2]} exited with {code}")
print(f"{time.perf_counter() - start:.6f}")
' "$out" "$@" >>"$times" 2>>"$work/stderr.log"
}

checkov_env=(env BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true)

count_files() {
  find "$1" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | wc -l
}

echo "corpus: $corpus"
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "checkov: $checkov_version (python $("$checkov_dir/venv/bin/python" -c 'import platform; print(platform.python_version())')); clearbox: $("$clearbox" --version)"
echo "runs: $runs (median)"
echo

# 1. Time, per directory and in total. The tools take turns, so a change in the machine's load
# affects both alike.
total_files=0
cb_total=0
ck_total=0
printf '%-58s %6s %12s %12s %8s\n' "directory" "files" "clearbox" "checkov" "ratio"
for index in "${!dirs[@]}"; do
  dir=${dirs[$index]}
  files=$(count_files "$dir")
  : >"$work/clearbox-$index.runs"
  : >"$work/checkov-$index.runs"
  for ((run = 0; run < runs; run++)); do
    measure "$work/clearbox-$index.runs" "$work/clearbox-$index.json" \
      "$clearbox" -q check k8s "$dir" --format json
    measure "$work/checkov-$index.runs" "$work/checkov-$index.json" \
      "${checkov_env[@]}" "$checkov" -d "$dir" --framework kubernetes -o json --compact \
      --skip-download
  done
  cb=$(median <"$work/clearbox-$index.runs")
  ck=$(median <"$work/checkov-$index.runs")
  printf '%-58s %6d %9.2f ms %9.2f ms %7.1fx\n' "${dir#"$corpus"/}" "$files" \
    "$(echo "$cb * 1000 / $files" | bc -l)" "$(echo "$ck * 1000 / $files" | bc -l)" \
    "$(echo "$ck / $cb" | bc -l)"
  total_files=$((total_files + files))
  cb_total=$(echo "$cb_total + $cb" | bc -l)
  ck_total=$(echo "$ck_total + $ck" | bc -l)
done
printf '%-58s %6d %9.2f ms %9.2f ms %7.1fx\n' "all (time per manifest)" "$total_files" \
  "$(echo "$cb_total * 1000 / $total_files" | bc -l)" \
  "$(echo "$ck_total * 1000 / $total_files" | bc -l)" "$(echo "$ck_total / $cb_total" | bc -l)"

# The fixed cost: one small manifest.
one="${dirs[0]}/example_ShareHost/privilegedPod-PASS.yaml"
[[ -f $one ]] || die "\`$one\` is missing from the corpus"
: >"$work/clearbox-one.runs"
: >"$work/checkov-one.runs"
for ((run = 0; run < runs; run++)); do
  measure "$work/clearbox-one.runs" /dev/null "$clearbox" -q check k8s "$one" --format json
  measure "$work/checkov-one.runs" /dev/null "${checkov_env[@]}" "$checkov" -f "$one" \
    --framework kubernetes -o json --compact --skip-download
done
cb=$(median <"$work/clearbox-one.runs")
ck=$(median <"$work/checkov-one.runs")
printf '%-58s %6d %9.2f ms %9.2f ms %7.1fx\n\n' "one manifest (${one#"${dirs[0]}"/})" 1 \
  "$(echo "$cb * 1000" | bc -l)" "$(echo "$ck * 1000" | bc -l)" "$(echo "$ck / $cb" | bc -l)"

# 2. Verdicts.
args=("$corpus")
for index in "${!dirs[@]}"; do
  args+=("${dirs[$index]}" "$work/clearbox-$index.json" "$work/checkov-$index.json")
done
python3 - "${args[@]}" <<'PY'
import collections, json, os, sys

MAPPING = {
    "5.1.6": ["CKV_K8S_38"],
    "5.2.2": ["CKV_K8S_16"],
    "5.2.3": ["CKV_K8S_17"],
    "5.2.4": ["CKV_K8S_18"],
    "5.2.5": ["CKV_K8S_19"],
    "5.2.6": ["CKV_K8S_20"],
    "5.2.7": ["CKV_K8S_23"],
    "5.2.8": ["CKV_K8S_28"],
    "5.2.9": ["CKV_K8S_25"],
    "5.2.10": ["CKV_K8S_37"],
    "5.2.12": ["CKV_K8S_27"],
    "5.2.13": ["CKV_K8S_26"],
    "5.4.1": ["CKV_K8S_35"],
    "5.7.2": ["CKV_K8S_31"],
    "5.7.3": ["CKV_K8S_29", "CKV_K8S_30"],
    "5.7.4": ["CKV_K8S_21"],
    "k8s-read-only-root-filesystem": ["CKV_K8S_22"],
    "k8s-resource-requests": ["CKV_K8S_10", "CKV_K8S_12"],
    "k8s-resource-limits": ["CKV_K8S_11", "CKV_K8S_13"],
    "k8s-image-pull-policy": ["CKV_K8S_15"],
    "k8s-image-digest": ["CKV_K8S_43"],
}
CHECKOV_IDS = {ckv for ids in MAPPING.values() for ckv in ids}


def clearbox_verdicts(root, path):
    """(file, kind, name) -> check -> "fail" if any result failed, else "pass"."""
    verdicts = collections.defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    for result in report["results"]:
        if result["check"] not in MAPPING:
            continue
        resource = result["resource"]
        key = (os.path.relpath(resource["file"], root), resource["kind"], resource["name"])
        previous = verdicts[key].get(result["check"])
        verdicts[key][result["check"]] = "fail" if "fail" in (previous, result["result"]) else "pass"
    return verdicts


def checkov_verdicts(path):
    """(file, kind, name) -> CKV id -> "fail" or "pass"."""
    verdicts = collections.defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    reports = report if isinstance(report, list) else [report]
    for report in reports:
        results = report.get("results", {})
        for verdict, items in (("pass", results.get("passed_checks", [])),
                               ("fail", results.get("failed_checks", []))):
            for item in items:
                if item["check_id"] not in CHECKOV_IDS:
                    continue
                kind, _, rest = item["resource"].partition(".")
                name = rest.partition(".")[2]
                key = (item["file_path"].lstrip("/"), kind, name)
                previous = verdicts[key].get(item["check_id"])
                verdicts[key][item["check_id"]] = "fail" if "fail" in (previous, verdict) else "pass"
    return verdicts


compared = collections.Counter()
differ = collections.defaultdict(list)
resources = 0
corpus = sys.argv[1]
for root, ours_path, theirs_path in zip(sys.argv[2::3], sys.argv[3::3], sys.argv[4::3]):
    ours = clearbox_verdicts(root, ours_path)
    theirs = checkov_verdicts(theirs_path)
    prefix = os.path.relpath(root, corpus)
    for key in sorted(ours.keys() & theirs.keys()):
        resources += 1
        for check, ckv_ids in MAPPING.items():
            ours_verdict = ours[key].get(check)
            found = [theirs[key][c] for c in ckv_ids if c in theirs[key]]
            if ours_verdict is None or len(found) != len(ckv_ids):
                continue
            theirs_verdict = "fail" if "fail" in found else "pass"
            compared[check] += 1
            if ours_verdict != theirs_verdict:
                file, kind, name = key
                differ[check].append((ours_verdict, (f"{prefix}/{file}", kind, name)))

print(f"resources reported by both tools: {resources}")
print(f"verdicts compared: {sum(compared.values())}; differing: "
      f"{sum(len(v) for v in differ.values())}")
print(f"{'clearbox check':<30} {'checkov':<23} {'compared':>8} {'differ':>6} "
      f"{'cb fail/ck pass':>15} {'cb pass/ck fail':>15}")
for check, ckv_ids in MAPPING.items():
    rows = differ.get(check, [])
    only_ours = sum(1 for verdict, _ in rows if verdict == "fail")
    print(f"{check:<30} {'+'.join(ckv_ids):<23} {compared[check]:>8} {len(rows):>6} "
          f"{only_ours:>15} {len(rows) - only_ours:>15}")
print()
print("differing verdicts, first three resources per check (clearbox's verdict first):")
for check, rows in differ.items():
    print(f"  {check} / {'+'.join(MAPPING[check])}:")
    for verdict, (file, kind, name) in rows[:3]:
        print(f"    clearbox {verdict}, checkov {'pass' if verdict == 'fail' else 'fail'}: "
              f"{file} {kind}/{name}")
PY
