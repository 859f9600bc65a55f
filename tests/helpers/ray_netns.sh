#!/usr/bin/env bash
# Run a command next to a private Ray cluster, inside the network namespace this script is started in (tests start
# it with `unshare --net`): only loopback exists there, so Ray can bind nothing else. By default one node of 2 CPUs;
# with DJ_HPO_RAY_WORKERS=N a head of 1 CPU and N worker nodes of 1 CPU each (separate raylets and object stores on
# this machine: a multi-node cluster). Each node's object store: DJ_HPO_RAY_STORE bytes (default 400 MB).
set -u
ip link set lo up
# a private Ray temp dir: concurrent test runs on one machine must not find each other's cluster
RAY_TMPDIR="$(mktemp -d /tmp/rayt.XXXXXX)"
export RAY_TMPDIR
RAY="$(dirname "$1")/ray"
WORKERS="${DJ_HPO_RAY_WORKERS:-0}"
if [ "$WORKERS" -gt 0 ]; then HEAD_CPUS=1; else HEAD_CPUS=2; fi
STORE=(--object-store-memory="${DJ_HPO_RAY_STORE:-400000000}")
"$RAY" start --head --node-ip-address=127.0.0.1 --port=6390 --include-dashboard=false --num-cpus="$HEAD_CPUS" \
  "${STORE[@]}" --disable-usage-stats >/dev/null 2>&1 || {
  echo "ray start failed" >&2
  exit 97
}
for _ in $(seq 1 "$WORKERS"); do
  # each node's dashboard agent on a free port (the default one is taken by the head's)
  "$RAY" start --address=127.0.0.1:6390 --node-ip-address=127.0.0.1 --num-cpus=1 --dashboard-agent-listen-port=0 \
    "${STORE[@]}" --disable-usage-stats >/dev/null 2>&1 || {
    echo "ray start of a worker node failed" >&2
    "$RAY" stop --force >/dev/null 2>&1
    exit 97
  }
done
"$@"
code=$?
"$RAY" stop --force >/dev/null 2>&1
rm -rf "$RAY_TMPDIR"
exit $code
