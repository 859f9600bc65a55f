#!/usr/bin/env bash
# Run a command next to a private single-node Ray cluster, inside the network namespace this script is started
# in (tests start it with `unshare --net`): only loopback exists there, so Ray can bind nothing else.
set -u
ip link set lo up
# a private Ray temp dir: concurrent test runs on one machine must not find each other's cluster
RAY_TMPDIR="$(mktemp -d /tmp/rayt.XXXXXX)"
export RAY_TMPDIR
RAY="$(dirname "$1")/ray"
"$RAY" start --head --port=6390 --include-dashboard=false --num-cpus=2 --disable-usage-stats >/dev/null 2>&1 || {
  echo "ray start failed" >&2
  exit 97
}
"$@"
code=$?
"$RAY" stop --force >/dev/null 2>&1
rm -rf "$RAY_TMPDIR"
exit $code
