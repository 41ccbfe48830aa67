#!/usr/bin/env bash
# The test command: start a real Elasticsearch 8 node, run the whole suite against it, stop it.
# With CI=true nothing that the suite needs may be missing: tests never skip for lack of it.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

if [[ -z "${ES_URL:-}" ]]; then
  if command -v java >/dev/null && command -v mvn >/dev/null; then
    trap 'bash scripts/search-node.sh down' EXIT
    eval "$(bash scripts/search-node.sh up)"
    export ES_URL
  elif [[ "${CI:-}" == "true" ]]; then
    echo "CI needs Java 17 and Maven to run the Elasticsearch node" >&2
    exit 1
  else
    echo "no Java/Maven: Elasticsearch tests will be skipped" >&2
  fi
fi

.venv/bin/python -m pytest "$@"
