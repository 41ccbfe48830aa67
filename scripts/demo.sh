#!/usr/bin/env bash
# Start the server on the indexed sample catalog, send a few customer texts over gRPC, stop it.
set -euo pipefail
state=${1:?state dir}
address=${2:?HOST:PORT}
log=$(mktemp)
.venv/bin/partmatch serve --state "$state" --address "$address" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 120); do
  grep -q "partmatch serving" "$log" && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.5
done
grep -q "partmatch serving" "$log" || { echo "server did not start:"; cat "$log"; exit 1; }
.venv/bin/partmatch match --server "$address" \
  "rear brake pads for a 2012 golf" \
  "the round thing you steer with" \
  "alternater" \
  "bonnet latch" \
  "86629-jpa-e01 for my civic" \
  "do you sell gift cards"
