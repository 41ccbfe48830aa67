#!/usr/bin/env bash
# A local Elasticsearch 8 node for tests and development, without Docker: Elastic's own minimal
# distribution for integration tests (org.elasticsearch.distribution.integ-test-zip, from Maven
# Central), bound to 127.0.0.1 only, data in a fresh temp dir, security off.
#
#   scripts/search-node.sh up [PORT]   start (default port 9201), wait for health, print ES_URL=...
#   scripts/search-node.sh down        stop (SIGTERM, then SIGKILL), remove the data dir
#   scripts/search-node.sh status      print ES_URL=... and exit 0 when up, exit 3 when down
#
# Only ES_URL=... goes to stdout, so `eval "$(scripts/search-node.sh up)"` sets it.
# Elasticsearch refuses to run as root: as root, the node runs as the system user
# $SEARCH_NODE_USER (created when missing), which owns the node's data and config.
# Environment:
#   SEARCH_NODE_DIR        state dir (pid, url, log); default var/search-node. A second node
#                          needs its own dir and port (the fault tests run a private one).
#   SEARCH_NODE_JAVA_OPTS  default "-Xms512m -Xmx512m"
#   SEARCH_NODE_TIMEOUT    seconds to wait for health; default 180
#   SEARCH_NODE_HOME       where the distribution is unpacked (once); default var/ of this
#                          checkout, or /var/lib/partmatch-search-node as root
#   SEARCH_NODE_USER       the user the node runs as when started by root; default partmatch-es
#   ES_JAVA_HOME           the JDK (17+); default JAVA_HOME, else the one `java` belongs to
set -euo pipefail

ES_VERSION=8.14.1
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${SEARCH_NODE_DIR:-$ROOT/var/search-node}"
JAVA_OPTS="${SEARCH_NODE_JAVA_OPTS:--Xms512m -Xmx512m}"
START_TIMEOUT="${SEARCH_NODE_TIMEOUT:-180}"
NODE_USER="${SEARCH_NODE_USER:-partmatch-es}"
if [[ $EUID -eq 0 ]]; then
    # The node's user must reach the distribution: not through root's private directories.
    DIST_HOME="${SEARCH_NODE_HOME:-/var/lib/partmatch-search-node}"
else
    DIST_HOME="${SEARCH_NODE_HOME:-$ROOT/var/search-node-dist}"
fi
ES_HOME="$DIST_HOME/elasticsearch-$ES_VERSION"

say() { echo "search-node: $*" >&2; }
die() { say "error: $*"; exit 1; }

java_home() {
    local java
    if [[ -n "${ES_JAVA_HOME:-}" ]]; then
        echo "$ES_JAVA_HOME"
    elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
        echo "$JAVA_HOME"
    elif java="$(command -v java)"; then
        java="$(readlink -f "$java")"
        echo "${java%/bin/java}"
    else
        die "no java found (need Java 17+: set ES_JAVA_HOME or put java on PATH)"
    fi
}

# The distribution is fetched by Maven (cached in ~/.m2) and unpacked once.
install_distribution() {
    local download
    [[ -x "$ES_HOME/bin/elasticsearch" ]] && return 0
    command -v mvn >/dev/null || die "mvn not found: Maven fetches Elasticsearch from Maven Central"
    command -v unzip >/dev/null || die "unzip not found: it unpacks the Elasticsearch zip"
    mkdir -p "$DIST_HOME"
    download="$(mktemp -d "$DIST_HOME/download.XXXXXX")"
    say "fetching Elasticsearch $ES_VERSION ($ES_ARTIFACT) with Maven, once"
    mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$ES_ARTIFACT" \
        -DoutputDirectory="$download" >&2 || { rm -rf "$download"; die "Maven could not fetch $ES_ARTIFACT"; }
    unzip -q "$download/elasticsearch-$ES_VERSION.zip" -d "$download"
    chmod -R a+rX "$download/elasticsearch-$ES_VERSION"
    rm -rf "$ES_HOME"
    mv "$download/elasticsearch-$ES_VERSION" "$ES_HOME"
    rm -rf "$download"
}

ensure_node_user() {
    [[ $EUID -eq 0 ]] || return 0
    id -u "$NODE_USER" >/dev/null 2>&1 && return 0
    command -v useradd >/dev/null || die "useradd not found: cannot create the user $NODE_USER"
    say "creating the system user $NODE_USER (Elasticsearch refuses to run as root)"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$NODE_USER" \
        || die "could not create the user $NODE_USER"
}

# The node's server JVM once it is up; the launcher while it starts.
running_pid() {
    local pid file
    for file in pid launcher_pid; do
        [[ -f "$STATE_DIR/$file" ]] || continue
        pid="$(cat "$STATE_DIR/$file")"
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            echo "$pid"
            return 0
        fi
    done
    return 1
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

node_version() {
    curl -s --max-time 5 "$1/_nodes/_local?filter_path=nodes.*.version" 2>/dev/null \
        | sed -n 's/.*"version":"\([^"]*\)".*/\1/p' || true
}

forget() {
    local data
    data="$(cat "$STATE_DIR/data_dir" 2>/dev/null || true)"
    # Only ever delete a dir this script created.
    if [[ -n "$data" && "$(basename "$data")" == partmatch-search-node.* ]]; then
        rm -rf "$data"
    fi
    rm -f "$STATE_DIR/pid" "$STATE_DIR/url" "$STATE_DIR/port" "$STATE_DIR/data_dir" \
        "$STATE_DIR/cluster_name" "$STATE_DIR/launcher_pid"
}

stop_pid() {
    local pid=$1 _
    kill -TERM "$pid" 2>/dev/null || return 0
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

# The node's own config dir: a copy of the distribution's, so that nothing the node writes
# (keystore, GC logs) lands in the shared distribution.
write_config() {
    local data=$1 port=$2 cluster=$3
    cp -R "$ES_HOME/config" "$data/config"
    mkdir -p "$data/data" "$data/logs"
    # jvm.options writes GC logs to a path relative to the working directory.
    sed -i "s#file=logs/gc.log#file=$data/logs/gc.log#; s#HeapDumpPath=data#HeapDumpPath=$data/data#; s#ErrorFile=logs/#ErrorFile=$data/logs/#" \
        "$data/config/jvm.options"
    # Loopback only; single-node discovery so two local nodes never try to join; no disk
    # watermarks so a full dev disk cannot block writes; no index is ever created by a write.
    cat >"$data/config/elasticsearch.yml" <<YAML
cluster.name: $cluster
node.name: $cluster
network.host: 127.0.0.1
http.port: $port
discovery.type: single-node
xpack.security.enabled: false
path.data: $data/data
path.logs: $data/logs
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: false
YAML
}

cmd_up() {
    local port="${1:-9201}" pid url data cluster jdk deadline started health launcher version
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1025 || port > 65535)); then
        die "bad port '$port': expected 1025..65535"
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

    jdk="$(java_home)"
    [[ -x "$jdk/bin/java" ]] || die "no java in $jdk (set ES_JAVA_HOME to a JDK 17+)"
    install_distribution
    ensure_node_user
    data="$(mktemp -d "${TMPDIR:-/tmp}/partmatch-search-node.XXXXXX")"
    chmod 755 "$data"
    cluster="partmatch-$port-$(basename "$data" | cut -d. -f2 | tr '[:upper:]' '[:lower:]')"
    echo "$data" >"$STATE_DIR/data_dir"
    write_config "$data" "$port" "$cluster"
    url="http://127.0.0.1:$port"

    local -a as_user=()
    if [[ $EUID -eq 0 ]]; then
        chown -R "$NODE_USER" "$data"
        as_user=(runuser -u "$NODE_USER" --)
    fi
    started=$SECONDS
    # setsid: the node outlives the shell that started it and ignores its Ctrl-C; down stops it.
    # The launcher JVM starts the server JVM, whose pid -p writes once the node is up.
    (
        cd "$data"
        exec setsid "${as_user[@]}" env ES_JAVA_HOME="$jdk" ES_PATH_CONF="$data/config" \
            ES_JAVA_OPTS="$JAVA_OPTS" "$ES_HOME/bin/elasticsearch" -p "$data/node.pid" \
            </dev/null >"$STATE_DIR/node.log" 2>&1
    ) &
    launcher=$!
    echo "$launcher" >"$STATE_DIR/launcher_pid"

    deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        if ! kill -0 "$launcher" 2>/dev/null; then
            log_tail
            forget
            die "the node exited during start"
        fi
        health="$(health_status "$url")"
        # Another server could have taken the port meanwhile: check that it is our cluster.
        if [[ -s "$data/node.pid" && ("$health" == "$cluster green" || "$health" == "$cluster yellow") ]]; then
            break
        fi
        if ((SECONDS >= deadline)); then
            log_tail
            if [[ -s "$data/node.pid" ]]; then stop_pid "$(cat "$data/node.pid")"; fi
            stop_pid "$launcher"
            forget
            die "the node was not healthy within ${START_TIMEOUT}s (last health: '${health:-none}')"
        fi
        sleep 0.5
    done
    pid="$(cat "$data/node.pid")"
    echo "$pid" >"$STATE_DIR/pid"
    echo "$url" >"$STATE_DIR/url"
    echo "$port" >"$STATE_DIR/port"
    echo "$cluster" >"$STATE_DIR/cluster_name"
    version="$(node_version "$url")"
    say "Elasticsearch ${version:-?} up in $((SECONDS - started))s (pid $pid, data $data, log $STATE_DIR/node.log)"
    echo "ES_URL=$url"
}

cmd_down() {
    local pid launcher
    launcher="$(cat "$STATE_DIR/launcher_pid" 2>/dev/null || true)"
    if pid="$(running_pid)"; then
        stop_pid "$pid"
        say "stopped (pid $pid)"
    else
        say "not running"
    fi
    # The launcher exits with the server; make sure of it.
    if [[ -n "$launcher" ]] && kill -0 "$launcher" 2>/dev/null; then
        stop_pid "$launcher"
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
