#!/usr/bin/env bash
# Builds the sandbox image offline (no registry needed): mmdebstrap makes a Debian rootfs tar,
# the kernel bridge is added, and `podman import` turns it into an image.
# Idempotent: when the image exists and carries the hash of its inputs, nothing is done.
# Production builds the same image from deploy/sandbox/Containerfile.
#
#   scripts/sandbox-image.sh            build if needed
#   FORCE=1 scripts/sandbox-image.sh    rebuild even if up to date
#
# The last line is `export Conclave__Sandbox__Image=...` (scripts/deps.sh keeps it for .data/env.sh).
# Environment: Conclave__Sandbox__Image (default localhost/conclave-sandbox:1),
#              CONCLAVE_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
t0=${EPOCHREALTIME/[.,]/}
step() {
  local now=${EPOCHREALTIME/[.,]/}
  printf '[sandbox-image %5d.%01ds] %s\n' $(((now - t0) / 1000000)) $(((now - t0) / 100000 % 10)) "$*"
}

# Podman's configuration (runtime, cgroup manager) comes from scripts/podman.sh when present;
# an image name given by the caller wins over the one recorded there.
requested_image=${Conclave__Sandbox__Image:-}
data="${CONCLAVE_DATA:-$repo/.data}"
if [[ -f "$data/env.sh" ]]; then
  # shellcheck disable=SC1091
  source "$data/env.sh"
elif [[ -x "$repo/scripts/podman.sh" ]]; then
  eval "$("$repo/scripts/podman.sh" env)"
fi

image=${requested_image:-${Conclave__Sandbox__Image:-localhost/conclave-sandbox:1}}
mirror=${CONCLAVE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${CONCLAVE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=bookworm
packages=python3,python3-ipykernel,python3-jupyter-client,python3-numpy,python3-pandas,python3-matplotlib,fonts-dejavu-core
bridge="$repo/deploy/sandbox/kernel_bridge.py"
# Bump when the recipe below changes in a way the inputs do not show.
recipe=5

need() {
  command -v "$1" >/dev/null 2>&1 && return
  step "installing $2"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y -q "$2" >/dev/null 2>&1 || {
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=600 install -y -q "$2" >/dev/null
  }
}
need podman podman
need mmdebstrap mmdebstrap

# One build at a time (CI steps and engineers may call this concurrently); the waiter then
# finds the image up to date.
mkdir -p "$data/cache"
exec 9>"$data/cache/sandbox-image.lock"
if ! flock -n 9; then
  step "another sandbox-image.sh is running; waiting for it"
  flock 9
fi

inputs_hash=$(
  { echo "recipe=$recipe suite=$suite packages=$packages"; sha256sum < "$bridge"; } | sha256sum | cut -c1-16
)
rootfs_hash=$(echo "recipe=$recipe suite=$suite packages=$packages" | sha256sum | cut -c1-16)

if [[ "${FORCE:-0}" != 1 ]] && podman image exists "$image"; then
  current=$(podman image inspect --format '{{ index .Labels "conclave.inputs" }}' "$image" 2>/dev/null || true)
  if [[ "$current" == "$inputs_hash" ]]; then
    step "$image is up to date (inputs $inputs_hash); nothing to do"
    echo "export Conclave__Sandbox__Image=$image"
    exit 0
  fi
  step "$image has inputs '${current:-none}', want $inputs_hash: rebuilding"
else
  step "building $image (inputs $inputs_hash)"
fi

cache="$data/cache"
rootfs="$cache/sandbox-rootfs-$rootfs_hash.tar"

# The rootfs only depends on the package list, so a bridge change reuses it.
if [[ -s "$rootfs" ]]; then
  step "reusing cached rootfs $(basename "$rootfs") ($(du -h "$rootfs" | cut -f1))"
else
  step "mmdebstrap $suite with $packages"
  rm -rf "$cache"/sandbox-rootfs-*
  partial="$cache/sandbox-rootfs-$rootfs_hash.partial.tar"  # mmdebstrap picks the format from ".tar"
  # Trimmed: docs, man pages, locales, and the compiler toolchain that python3-matplotlib drags in
  # (fonttools -> scipy -> pythran -> g++): not needed to run code, and better absent in a sandbox.
  mmdebstrap --quiet --variant=apt --include="$packages" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/share/unicode/*' \
    --dpkgopt='path-exclude=/usr/include/*' \
    --dpkgopt='path-exclude=/usr/lib/gcc/*' \
    --dpkgopt='path-exclude=/usr/libexec/gcc/*' \
    --dpkgopt='path-exclude=/usr/bin/*lto-dump*' \
    --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/lib[alth]san.so*' \
    --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/libhwasan.so*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
    --customize-hook='mkdir -p "$1"/workspace "$1"/opt/conclave && chmod 1777 "$1"/workspace' \
    "$suite" "$partial" \
    "deb $mirror $suite main" \
    "deb $mirror $suite-updates main" \
    "deb $security_mirror $suite-security main"
  mv "$partial" "$rootfs"
  step "rootfs ready ($(du -h "$rootfs" | cut -f1))"
fi

# Append the bridge to a copy of the cached rootfs (tar -r needs a plain tar).
work=$(mktemp -d "$cache/sandbox-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tree/opt/conclave"
install -m 0755 "$bridge" "$work/tree/opt/conclave/kernel_bridge.py"
cp "$rootfs" "$work/image.tar"
tar --append -f "$work/image.tar" -C "$work/tree" --owner=0 --group=0 --numeric-owner ./opt/conclave/kernel_bridge.py
step "added kernel_bridge.py"

previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
podman import --quiet \
  --change 'USER 65534:65534' \
  --change 'WORKDIR /workspace' \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV HOME=/tmp' \
  --change 'ENV MPLBACKEND=Agg' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/usr/bin/python3", "-u", "/opt/conclave/kernel_bridge.py"]' \
  --change "LABEL conclave.inputs=$inputs_hash" \
  --change 'LABEL org.opencontainers.image.title=conclave-sandbox' \
  "$work/image.tar" "$image" >/dev/null
step "imported $image ($(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
if [[ -n "$previous" && "$previous" != "$(podman image inspect --format '{{.Id}}' "$image")" ]]; then
  podman rmi "$previous" >/dev/null 2>&1 && step "removed the previous image ${previous:0:12}" || true
fi

# Smoke test: the bridge must come up in a locked-down container and answer.
answer=$(printf '%s\n' '{"id":"smoke","code":"1+1","timeout_s":30}' |
  timeout 120 podman run --rm -i --network=none --read-only --cap-drop=ALL \
    --security-opt=no-new-privileges --tmpfs /tmp:size=64m --tmpfs /workspace:size=16m "$image" \
    2>"$work/smoke.err" | grep '"id":"smoke"' || true)
if [[ "$answer" != *'"result":"2"'* ]]; then
  step "smoke test FAILED: ${answer:-no answer}"
  cat "$work/smoke.err" >&2
  exit 1
fi
step "smoke test passed (1+1 -> 2); done"
echo "export Conclave__Sandbox__Image=$image"
