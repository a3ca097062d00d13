#!/usr/bin/env bash
# Sets up what `make demo` and `make test` need on first use, then runs the given command:
#   scripts/ensure.sh [java] [browser] -- command args…
# Each missing piece that the project cannot install itself is said in one line, before anything
# runs: Java (DynamoDB Local is a Java program) and, for the tests, a browser that starts.
set -euo pipefail
cd "$(dirname "$0")/.."
need_java=0 need_browser=0
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    java) need_java=1 ;;
    browser) need_browser=1 ;;
    *) echo "scripts/ensure.sh: unknown need '$1' (java, browser)" >&2; exit 2 ;;
  esac
  shift
done
[ "${1:-}" = "--" ] && shift

if [ "$need_java" = 1 ]; then
  java_major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1 || true)"
  if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
    echo "java missing: DynamoDB Local (the emulator the demo and the tests start) needs a Java 17+ runtime${java_major:+ (found $java_major)}: apt-get install openjdk-17-jre-headless" >&2
    exit 1
  fi
fi

source scripts/node24.sh
# npm ci when node_modules is missing or does not hold what package-lock.json pins.
if ! why="$(node scripts/deps-fresh.mjs)"; then
  echo "npm ci: ${why}…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

if [ "$need_browser" = 1 ]; then
  node scripts/chromium-path.mjs >/dev/null
fi

exec "$@"
