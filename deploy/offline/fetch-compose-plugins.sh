#!/usr/bin/env bash
# Compose v2 and buildx as Docker CLI plugins, from Debian's own packages (docker-compose, docker-buildx of
# trixie: static Go binaries that also run on bookworm). apt runs with a private sources list, state and cache
# under CACHE_DIR, so the machine's apt configuration is never touched; the mirror host is the one the machine's
# own sources use. Usage: fetch-compose-plugins.sh CACHE_DIR  -> plugins in CACHE_DIR/docker-config/cli-plugins
# (point DOCKER_CONFIG at CACHE_DIR/docker-config).
set -euo pipefail
cache_dir=${1:?usage: fetch-compose-plugins.sh CACHE_DIR}
suite=${OVNI_PLUGINS_SUITE:-trixie}
plugins="$cache_dir/docker-config/cli-plugins"
if [[ -x "$plugins/docker-compose" && -x "$plugins/docker-buildx" ]]; then
  exit 0
fi

mirror=${OVNI_DEBIAN_MIRROR:-}
if [[ -z "$mirror" ]]; then
  mirror=$(grep -rhoE '(URIs:|deb)\s+https?://[^ ]+/debian/?(\s|$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

apt_dir="$cache_dir/apt-$suite"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/etc/preferences.d" "$apt_dir/debs" "$plugins"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$apt_dir/etc/sources.list"
touch "$apt_dir/status"
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/etc/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::Etc::preferencesparts=$apt_dir/etc/preferences.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=$apt_dir/status"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Cache::archives=$apt_dir/archives"
  -o "APT::Architecture=$(dpkg --print-architecture)"
  -o "APT::Sandbox::User=root"
)
mkdir -p "$apt_dir/cache"
apt-get "${apt_opts[@]}" update -qq
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download docker-compose docker-buildx)

extract="$apt_dir/extract"
rm -rf "$extract" && mkdir -p "$extract"
for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$extract"; done
for name in docker-compose docker-buildx; do
  found=$(find "$extract" -type f -name "$name" -perm -u+x | grep cli-plugins | head -n1 || true)
  [[ -n "$found" ]] || found=$(find "$extract" -type f -name "$name" -perm -u+x | head -n1)
  [[ -n "$found" ]] || { echo "fetch-compose-plugins: $name not found in the $suite packages" >&2; exit 1; }
  install -m 0755 "$found" "$plugins/$name"
done
DOCKER_CONFIG="$cache_dir/docker-config" docker compose version
DOCKER_CONFIG="$cache_dir/docker-config" docker buildx version
