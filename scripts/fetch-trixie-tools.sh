#!/usr/bin/env bash
# Fetches cosign 2.5, skopeo 1.18 and oras 1.2 from Debian 13 (trixie) for the interoperability
# tests, without touching the system's apt sources: apt runs with a private APT_CONFIG whose
# sources list names trixie, and the packages are unpacked with dpkg-deb into tools/trixie.
# skopeo needs trixie's C library, so tools/bin/skopeo runs it through trixie's own dynamic
# loader with --library-path; cosign and oras run directly.
#
# Usage: scripts/fetch-trixie-tools.sh [DIR]   (default: tools in the repository)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tools=${1:-$repo/tools}
apt_dir=$tools/apt
root=$tools/trixie
packages=(cosign skopeo oras libc6 libgpgme11t64 libassuan9 libgpg-error0 libsqlite3-0)

step() { printf '==> %s\n' "$*" >&2; }

# Already fetched: the recorded package versions are the expected ones and the tools run.
# (Debian's cosign prints "devel" as its version, so the package version is what is checked.)
versions=$tools/trixie.versions
if [[ -f $versions ]] && grep -q '^cosign 2\.5\.' "$versions" \
  && grep -q '^skopeo 1\.18\.' "$versions" && grep -q '^oras 1\.2\.' "$versions" \
  && "$tools/bin/skopeo" --version >/dev/null 2>&1 && "$tools/bin/oras" version >/dev/null 2>&1 \
  && "$tools/bin/cosign" version >/dev/null 2>&1; then
  exit 0
fi

# A private apt state that knows only trixie. apt-key finds gpgv through this setting when
# APT_CONFIG replaces the system configuration.
step "reading the trixie package lists"
mkdir -p "$apt_dir"/{lists/partial,archives/partial,etc/sources.list.d,etc/preferences.d} "$apt_dir/dpkg"
: >"$apt_dir/dpkg/status"
cat >"$apt_dir/etc/sources.list" <<SOURCES
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
SOURCES
cat >"$apt_dir/apt.conf" <<CONF
Dir::State "$apt_dir/";
Dir::State::Lists "$apt_dir/lists/";
Dir::State::status "$apt_dir/dpkg/status";
Dir::Cache "$apt_dir/";
Dir::Cache::Archives "$apt_dir/archives/";
Dir::Etc::SourceList "$apt_dir/etc/sources.list";
Dir::Etc::SourceParts "$apt_dir/etc/sources.list.d/";
Dir::Etc::Preferences "$apt_dir/etc/preferences";
Dir::Etc::PreferencesParts "$apt_dir/etc/preferences.d/";
APT::Architecture "amd64";
Apt::Key::gpgvcommand "/usr/bin/gpgv";
CONF
export APT_CONFIG=$apt_dir/apt.conf
apt-get update -qq

step "downloading ${packages[*]}"
downloads=$apt_dir/debs
rm -rf "$downloads" "$root"
mkdir -p "$downloads" "$root" "$tools/bin"
(cd "$downloads" && apt-get download -qq "${packages[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
for p in "${packages[@]}"; do
  compgen -G "$downloads/${p}_*.deb" >/dev/null || { echo "error: failed to download $p from trixie" >&2; exit 2; }
done

step "unpacking into $root"
: >"$versions.new"
for deb in "$downloads"/*.deb; do
  dpkg-deb -x "$deb" "$root"
  dpkg-deb -f "$deb" Package Version | cut -d" " -f2 | paste -sd' ' >>"$versions.new"
done

cat >"$tools/bin/skopeo" <<WRAPPER
#!/bin/sh
# skopeo from Debian trixie, run with trixie's C library.
exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/bin/skopeo" "\$@"
WRAPPER
ln -sf "$root/usr/bin/cosign" "$tools/bin/cosign"
ln -sf "$root/usr/bin/oras" "$tools/bin/oras"
chmod +x "$tools/bin/skopeo"
"$tools/bin/skopeo" --version >&2
# Only the first line; no pipe into head, which could end oras with SIGPIPE under pipefail.
oras_version=$("$tools/bin/oras" version)
printf '%s\n' "${oras_version%%$'\n'*}" >&2
mv "$versions.new" "$versions"
