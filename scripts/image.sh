#!/usr/bin/env bash
# Builds the Conclave image offline (no registry needed), in two layers:
#   base  a Debian bookworm rootfs made by mmdebstrap from deploy/image/packages.txt, imported
#         into Podman as localhost/conclave-base:<hash of the package list and recipe>;
#   app   `podman build` of deploy/image/Containerfile on that base: a self-contained
#         `dotnet publish` of src/Host, pgvector (as scripts/postgres.sh builds it), the
#         entrypoint and the health check.
# Idempotent and cached by input hash: when localhost/conclave:<version> carries the hash of its
# inputs (sources, package list, pgvector, deploy/image), nothing is done; a source change only
# republishes the app layer. The Dockerfile makes the same image for builders with a registry.
#
#   scripts/image.sh                 build if needed
#   FORCE=1 scripts/image.sh         rebuild the app layer even if up to date (FORCE=2: the base too)
#   CONCLAVE_VERSION=1.2.0 scripts/image.sh
#
# The last line on stdout is `export CONCLAVE_IMAGE=localhost/conclave:<version>`.
# Environment: CONCLAVE_VERSION (default: the tag vX.Y.Z at HEAD without its v, else dev-<commit>),
#              CONCLAVE_IMAGE_NAME (default localhost/conclave), CONCLAVE_DEBIAN_MIRROR.
# shellcheck disable=SC2016  # mmdebstrap's hooks below get their own $1
set -euo pipefail
LOG_TAG=image
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t0=${EPOCHREALTIME/[.,]/}
step() {
  local now=${EPOCHREALTIME/[.,]/}
  printf '[image %5d.%01ds] %s\n' $(((now - t0) / 1000000)) $(((now - t0) / 100000 % 10)) "$*" >&2
}

case "${1:-}" in
  -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

# Podman's configuration (runtime, cgroup manager) as scripts/podman.sh writes it.
if [ -z "${CONTAINERS_CONF:-}" ] && [ -x "$CONCLAVE_ROOT/scripts/podman.sh" ]; then
  eval "$("$CONCLAVE_ROOT/scripts/podman.sh" env)"
fi

IMAGE_DIR="$CONCLAVE_ROOT/deploy/image"
NAME="${CONCLAVE_IMAGE_NAME:-localhost/conclave}"
MIRROR="${CONCLAVE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${CONCLAVE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE=bookworm
PG_MAJOR=15
# Bump when the recipe below changes in a way the inputs do not show.
RECIPE=1
CACHE="$CONCLAVE_DATA/cache/image"
mkdir -p "$CACHE"

version() {
  if [ -n "${CONCLAVE_VERSION:-}" ]; then
    echo "$CONCLAVE_VERSION"
  elif tag="$(git -C "$CONCLAVE_ROOT" describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null)"; then
    echo "${tag#v}"
  elif commit="$(git -C "$CONCLAVE_ROOT" rev-parse --short=12 HEAD 2>/dev/null)"; then
    echo "dev-$commit"
  else
    echo dev
  fi
}
VERSION="$(version)"
IMAGE="$NAME:$VERSION"

command -v podman >/dev/null 2>&1 || apt_install podman runc
command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
command -v dotnet >/dev/null 2>&1 || die "the .NET SDK is not installed (dotnet publish builds the app layer)"

# One build at a time (tests and engineers may call this concurrently); the waiter then finds
# the image up to date.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  step "another scripts/image.sh is running; waiting for it"
  flock 9
fi

# --- inputs -----------------------------------------------------------------------------------
packages="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$IMAGE_DIR/packages.txt" | grep -v '^$' | paste -sd, -)"
base_hash="$(printf 'recipe=%s suite=%s packages=%s\n' "$RECIPE" "$SUITE" "$packages" | sha256sum | cut -c1-16)"
BASE="localhost/conclave-base:$base_hash"

# The app's sources: what git knows (tracked and new, not ignored), or every file but bin/ and obj/.
source_files() {
  local paths=(src Directory.Build.props Directory.Packages.props deploy/sandbox/seccomp.json)
  if git -C "$CONCLAVE_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$CONCLAVE_ROOT" ls-files --cached --others --exclude-standard -- "${paths[@]}" |
      while IFS= read -r f; do [ -f "$CONCLAVE_ROOT/$f" ] && printf '%s\n' "$f"; done
  else
    (cd "$CONCLAVE_ROOT" && find "${paths[@]}" -type f -not -path '*/bin/*' -not -path '*/obj/*')
  fi | LC_ALL=C sort -u
}
mapfile -t sources < <(source_files)
[ "${#sources[@]}" -gt 0 ] || die "no sources found under $CONCLAVE_ROOT/src"

# pgvector as scripts/postgres.sh builds and installs it on this machine (the image's PostgreSQL
# is the same major version from the same suite).
VECTOR_LIB="/usr/lib/postgresql/$PG_MAJOR/lib/vector.so"
VECTOR_EXT="/usr/share/postgresql/$PG_MAJOR/extension"
if ! [ -f "$VECTOR_LIB" ] || ! [ -f "$VECTOR_EXT/vector.control" ]; then
  step "pgvector is not built here yet: scripts/postgres.sh install"
  "$CONCLAVE_ROOT/scripts/postgres.sh" install
fi
vector_files=("$VECTOR_LIB" "$VECTOR_EXT/vector.control" "$VECTOR_EXT"/vector--*.sql)

# The version is not an input: a new commit with the same sources gets the same image, tagged anew.
inputs_hash="$(
  {
    echo "recipe=$RECIPE base=$base_hash"
    (cd "$CONCLAVE_ROOT" && sha256sum -- "${sources[@]}")
    sha256sum -- "${vector_files[@]}"
    (cd "$IMAGE_DIR" && sha256sum -- Containerfile entrypoint.sh healthcheck.sh)
    (cd "$CONCLAVE_ROOT/scripts" && sha256sum -- lib.sh backup.sh restore.sh)
  } | sha256sum | cut -c1-16
)"

if [ "${FORCE:-0}" = 0 ]; then
  current="$(podman image inspect --format '{{ index .Labels "conclave.inputs" }}' "$IMAGE" 2>/dev/null || true)"
  same="$(podman images --filter "label=conclave.inputs=$inputs_hash" --format '{{.ID}}' | sed -n 1p)"  # sed reads all of it: head would leave podman a SIGPIPE (exit 141 under pipefail)
  if [ "$current" = "$inputs_hash" ]; then
    step "$IMAGE is up to date (inputs $inputs_hash, $(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec)); nothing to do"
    echo "export CONCLAVE_IMAGE=$IMAGE"
    exit 0
  elif [ -n "$same" ]; then
    podman tag "$same" "$IMAGE" "$NAME:latest"
    step "image ${same:0:12} has the same inputs ($inputs_hash, built as $(podman image inspect --format '{{ index .Labels "org.opencontainers.image.version" }}' "$same")): tagged $IMAGE"
    echo "export CONCLAVE_IMAGE=$IMAGE"
    exit 0
  fi
  step "$IMAGE: no image has inputs $inputs_hash${current:+ (it has $current)}: building"
else
  step "building $IMAGE (inputs $inputs_hash, FORCE=$FORCE)"
fi

# --- base layer: Debian packages --------------------------------------------------------------
if [ "${FORCE:-0}" != 2 ] && podman image exists "$BASE"; then
  step "base $BASE exists ($(podman image inspect --format '{{.Size}}' "$BASE" | numfmt --to=iec))"
else
  step "mmdebstrap $SUITE with: $packages"
  rootfs="$CACHE/base-$base_hash.tar"
  rm -f "$CACHE"/base-*.tar
  # No documentation, manuals or translations; PostgreSQL's packaging must not create a cluster
  # (the entrypoint makes one under /data); the app runs as conclave (uid 10001) when it need not
  # mount, PostgreSQL as postgres.
  # Downloaded packages are kept in $CACHE/debs (mmdebstrap's documented caching hooks): a rebuild
  # of the base downloads only what changed.
  mkdir -p "$CACHE/debs"
  mmdebstrap --variant=apt --include="$packages" --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in '$CACHE/debs' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$CACHE/debs'" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/include/*' \
    --essential-hook='mkdir -p "$1"/etc/postgresql-common/createcluster.d && echo "create_main_cluster = false" >"$1"/etc/postgresql-common/createcluster.d/conclave.conf' \
    --customize-hook='rm -rf "$1"/var/lib/postgresql/*/main "$1"/etc/postgresql/*/main' \
    --customize-hook='chroot "$1" useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin conclave' \
    --customize-hook='chroot "$1" useradd --system --uid 10002 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin conclave-browser' \
    --customize-hook='mkdir -p "$1"/data "$1"/opt/conclave "$1"/run/postgresql && chroot "$1" chown postgres:postgres /run/postgresql' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
    "$SUITE" "$rootfs" \
    "deb $MIRROR $SUITE main" \
    "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main" >"$CACHE/mmdebstrap.log" 2>&1 ||
    { tail -n 60 "$CACHE/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $CACHE/mmdebstrap.log)"; }
  step "rootfs ready ($(du -h "$rootfs" | cut -f1)); podman import as $BASE"
  podman import --quiet \
    --change "LABEL conclave.base=$base_hash" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$rootfs" "$BASE" >/dev/null
  rm -f "$rootfs"
  for old in $(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/conclave-base:' | grep -v ":$base_hash\$" || true); do
    if podman rmi "$old" >/dev/null 2>&1; then step "removed the previous base $old"; fi
  done
  step "base imported ($(podman image inspect --format '{{.Size}}' "$BASE" | numfmt --to=iec))"
fi

# --- app layer: dotnet publish + pgvector + entrypoint ----------------------------------------
# Published from a copy of the sources: the checkout's obj/ folders (restored without a runtime
# identifier by test builds) are never touched, and the copy keeps its own incremental state.
stage="$CACHE/src"
mkdir -p "$stage"
step "staging ${#sources[@]} source files in $stage"
# -p keeps modification times, so the copy's incremental build recompiles only what changed.
(cd "$CONCLAVE_ROOT" && printf '%s\0' "${sources[@]}" | xargs -0 cp -p --parents -t "$stage/")
# Files that left the checkout leave the copy too (bin/ and obj/ stay).
(cd "$stage" && find src -type f -not -path '*/bin/*' -not -path '*/obj/*' | LC_ALL=C sort) |
  comm -23 - <(printf '%s\n' "${sources[@]}" | grep '^src/' | LC_ALL=C sort) |
  while IFS= read -r gone; do rm -f "$stage/$gone"; done

context="$CACHE/context"
rm -rf "$context"
mkdir -p "$context/pgvector/lib" "$context/pgvector/extension"
step "dotnet publish src/Host (Release, linux-x64, self-contained)"
publish_log="$CACHE/publish.log"
if ! dotnet publish "$stage/src/Host/Conclave.Host.csproj" -c Release -r linux-x64 --self-contained true \
  -p:DebugType=none -p:DebugSymbols=false -nologo -v minimal -nodeReuse:false \
  -o "$context/app" >"$publish_log" 2>&1; then
  tail -n 40 "$publish_log" >&2
  die "dotnet publish failed (log: $publish_log)"
fi
dotnet build-server shutdown >/dev/null 2>&1 || true
step "published ($(du -sh "$context/app" | cut -f1))"

cp "$VECTOR_LIB" "$context/pgvector/lib/"
cp "$VECTOR_EXT/vector.control" "$VECTOR_EXT"/vector--*.sql "$context/pgvector/extension/"
cp "$IMAGE_DIR/Containerfile" "$IMAGE_DIR/entrypoint.sh" "$IMAGE_DIR/healthcheck.sh" "$context/"
mkdir -p "$context/scripts"
cp "$CONCLAVE_ROOT/scripts/lib.sh" "$CONCLAVE_ROOT/scripts/backup.sh" "$CONCLAVE_ROOT/scripts/restore.sh" "$context/scripts/"
echo "$VERSION" >"$context/VERSION"

step "podman build $IMAGE on $BASE"
podman build --quiet --pull=never --format docker \
  --build-arg "BASE=$BASE" \
  --label "conclave.inputs=$inputs_hash" \
  --label "org.opencontainers.image.version=$VERSION" \
  -t "$IMAGE" -t "$NAME:latest" "$context" >/dev/null
rm -rf "$context"
# Earlier development builds (every tag of theirs a dev-* one) are removed; released versions stay.
current_id="$(podman image inspect --format '{{.Id}}' "$IMAGE")"
for old in $(podman images --filter label=conclave.inputs --format '{{.ID}}' | sort -u); do
  [[ "$current_id" == "$old"* ]] && continue
  tags="$(podman image inspect --format '{{range .RepoTags}}{{.}} {{end}}' "$old")"
  if [ -n "$tags" ] && ! tr ' ' '\n' <<<"$tags" | grep -v '^$' | grep -qv ':dev-'; then
    if podman rmi -f "$old" >/dev/null 2>&1; then step "removed an earlier build $old ($tags)"; fi
  fi
done

# Smoke test: the pieces are where the entrypoint looks for them, and Chromium renders a page headless.
smoke="/usr/lib/postgresql/$PG_MAJOR/bin/postgres --version && test -f /usr/lib/postgresql/$PG_MAJOR/lib/vector.so \
  && test -x /opt/conclave/app/Conclave.Host && mkfs.ext4 -V 2>&1 | head -n1 && /usr/bin/chromium --version \
  && cd /tmp && timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
     --disable-component-update --disable-sync --no-first-run --window-size=800,600 --screenshot=/tmp/smoke.png \
     'data:text/html,<h1>Conclave</h1>' >/dev/null 2>&1 && test -s /tmp/smoke.png && echo 'Chromium rendered a page'"
if ! out="$(podman run --rm --network=none --entrypoint /bin/sh "$IMAGE" -c "$smoke" 2>&1)"; then
  printf '%s\n' "$out" >&2
  die "smoke test of $IMAGE failed"
fi
printf '%s\n' "$out" | grep -v 'systemd connection' | sed 's/^/[image]   /' >&2
step "done: $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec))"
echo "export CONCLAVE_IMAGE=$IMAGE"
