#!/usr/bin/env bash
# Installs everything the build, the example image and the tests need on Debian 12:
# Debian packages, a Python virtual environment with the SBOM and report validators, and
# the SARIF 2.1.0 JSON schema. Safe to run again; finished steps are skipped.
#
# Environment:
#   CLEARBOX_VENV   where the validator virtual environment goes (default: .venv)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${CLEARBOX_VENV:-$repo/.venv}
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "error: run this as root, or install sudo" >&2; exit 2; }
  sudo="sudo"
fi

step() { printf '==> %s\n' "$*" >&2; }

# Debian packages: pip and jq for the example image, skopeo for the tests that read images with
# it, umoci for bench/build.sh (the peer of clearbox build), wrk for bench/webhook.sh (the load
# generator), Python for the validators, a registry, htpasswd and openssl for the registry
# tests, SoftHSM for the PKCS#11 tests, dpkg
# (always present) and python3-rpm as the version-ordering oracles, and a C compiler for the
# crates that build C code (aws-lc-sys, libsqlite3-sys, zstd-sys), and Chromium, which the
# report tests run headless to render report.html. PostgreSQL 15 is for the audit store tests,
# which start their own server; setup tells Debian not to create and start a default cluster.
# npm fetches the SARIF schema; Debian's npm is installed only when no npm is on the PATH.
apt_packages=(
  umoci wrk skopeo jq bc ca-certificates curl
  python3 python3-venv python3-pip
  docker-registry apache2-utils openssl softhsm2 python3-rpm
  gcc libc6-dev
  chromium
  postgresql-15
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  if [[ " ${missing[*]} " == *" postgresql-15 "* && ! -e /etc/postgresql-common/createcluster.conf ]]; then
    $sudo mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  step "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Validators: pyspdxtools (SPDX 2.3), cyclonedx-python-lib (CycloneDX 1.6 strict JSON schema),
# jsonschema (SARIF 2.1.0), packaging (PEP 440 oracle) and OpenSSF's model_signing (which
# checks clearbox's model signature files; it imports pyOpenSSL without declaring it). Pinned so
# that a validator upgrade cannot change what the tests accept.
requirements=(
  "spdx-tools==0.8.5"
  "cyclonedx-python-lib[json-validation]==11.12.0"
  "jsonschema==4.26.0"
  "packaging==26.4"
  "pyyaml==6.0.4"
  "model-signing==1.1.1"
  "pyopenssl==26.4.0"
)
stamp="$venv/.clearbox-requirements"
if [[ ! -f $stamp || $(cat "$stamp") != "${requirements[*]}" ]]; then
  step "creating validator environment in $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${requirements[@]}"
  printf '%s' "${requirements[*]}" >"$stamp"
fi

# The SARIF 2.1.0 schema ships inside Microsoft's SARIF multitool package on npm.
schema="$venv/share/clearbox/sarif-2.1.0.json"
schema_sha256=1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c
if [[ ! -f $schema ]] || ! echo "$schema_sha256  $schema" | sha256sum -c --status; then
  step "fetching the SARIF 2.1.0 schema"
  command -v npm >/dev/null || { echo "error: npm is needed to fetch the SARIF schema" >&2; exit 2; }
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent @microsoft/sarif-multitool-linux@5.7.0 >/dev/null)
  tar -xzf "$scratch"/microsoft-sarif-multitool-linux-5.7.0.tgz -C "$scratch" package/sarif-2.1.0.json
  mkdir -p "$(dirname "$schema")"
  mv "$scratch/package/sarif-2.1.0.json" "$schema"
  echo "$schema_sha256  $schema" | sha256sum -c --status || {
    echo "error: $schema does not have the expected SHA-256 $schema_sha256" >&2
    exit 2
  }
fi

# cosign 2.5, skopeo 1.18 and oras 1.2 for the interoperability tests, from Debian trixie.
"$repo/scripts/fetch-trixie-tools.sh"

step "setup complete"
