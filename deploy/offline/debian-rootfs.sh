#!/usr/bin/env bash
# A minimal Debian root file system as a tarball, the one input of deploy/offline/debian.Dockerfile
# (FROM scratch + ADD, as Debian's official images are made). debootstrap fetches only Debian packages,
# from the mirror host the machine's own apt sources use. Usage: debian-rootfs.sh OUT.tar [SUITE]
set -euo pipefail
out=${1:?usage: debian-rootfs.sh OUT.tar [SUITE]}
suite=${2:-bookworm}
[[ -s "$out" ]] && exit 0
command -v debootstrap >/dev/null || { echo "debian-rootfs: debootstrap missing (apt-get install debootstrap)" >&2; exit 1; }

mirror=${OVNI_DEBIAN_MIRROR:-}
if [[ -z "$mirror" ]]; then
  mirror=$(grep -rhoE '(URIs:|deb)\s+https?://[^ ]+/debian/?(\s|$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include=ca-certificates "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
# The image's apt sources: the same mirror, with the security and updates suites.
cat >"$work/root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SOURCES
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
mkdir -p "$(dirname "$out")"
tar --numeric-owner -C "$work/root" -cf "$out.partial" .
mv "$out.partial" "$out"
