#!/usr/bin/env bash
# A local Spark Connect server from PyPI's pyspark, for `svcmetrics compute --engine sc://...`
# and bench/spark_connect.py (not for production: a bureau points svcmetrics at its cluster).
#
# Needs: a Java runtime, 17 or later (Debian: `apt-get install openjdk-17-jre-headless`),
# and Python 3.10+ with pip. The server lives in a venv of its own (pyspark is a full Spark,
# about 450 MB with its jars); svcmetrics' side needs only the thin client:
#   pip install 'svcmetrics[spark]'      # pyspark-client, the same minor version as the server
#
#   bench/spark_server.sh install        # make the server's venv: pip install pyspark==4.2.0
#   bench/spark_server.sh start          # listens on localhost:15002 (waits until it answers)
#   bench/spark_server.sh status
#   bench/spark_server.sh stop
#
# Settings (environment): SPARK_VENV (the server's venv, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/svcmetrics-spark/venv), SPARK_CONNECT_PORT (15002),
# SPARK_VERSION (4.2.0), SPARK_DRIVER_MEMORY (4g), SPARK_CORES (local cores, default all),
# SPARK_SHUFFLE_PARTITIONS (8: one machine; Spark's 200 suit a cluster, and made each of
# svcmetrics' queries on the 136-row example take 25 s instead of 4 s here).
# The server's log and pid file are in $SPARK_VENV/run/.
set -euo pipefail

VERSION="${SPARK_VERSION:-4.2.0}"
VENV="${SPARK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/svcmetrics-spark/venv}"
PORT="${SPARK_CONNECT_PORT:-15002}"
MEMORY="${SPARK_DRIVER_MEMORY:-4g}"
CORES="${SPARK_CORES:-*}"
PARTITIONS="${SPARK_SHUFFLE_PARTITIONS:-8}"
RUN="$VENV/run"
PIDFILE="$RUN/connect-$PORT.pid"
LOG="$RUN/connect-$PORT.log"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

install() {
    command -v java >/dev/null || { echo "no java on PATH: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "pyspark==$VERSION"
    echo "Spark $VERSION installed in $VENV"
}

start() {
    if running; then
        echo "already running (pid $(cat "$PIDFILE")): sc://localhost:$PORT"
        return
    fi
    [[ -x "$VENV/bin/spark-submit" ]] || { echo "no Spark in $VENV: run '$0 install' first" >&2; exit 1; }
    command -v java >/dev/null || { echo "no java on PATH: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
    if answers; then
        echo "port $PORT is taken by another process" >&2
        exit 1
    fi
    mkdir -p "$RUN"
    # pip's pyspark is a whole Spark: its package folder is SPARK_HOME
    SPARK_HOME="$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
    export SPARK_HOME
    # No UI; the session time zone UTC so dates never shift; local[*] uses every core.
    nohup "$VENV/bin/spark-submit" \
        --class org.apache.spark.sql.connect.service.SparkConnectServer \
        --name svcmetrics-spark-connect \
        --master "local[$CORES]" \
        --driver-memory "$MEMORY" \
        --conf "spark.connect.grpc.binding.port=$PORT" \
        --conf spark.connect.grpc.binding.address=127.0.0.1 \
        --conf spark.ui.enabled=false \
        --conf spark.ui.showConsoleProgress=false \
        --conf spark.sql.session.timeZone=UTC \
        --conf "spark.sql.shuffle.partitions=$PARTITIONS" \
        >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 180); do
        if answers; then
            echo "Spark Connect $VERSION listening: sc://localhost:$PORT (pid $(cat "$PIDFILE"), log $LOG)"
            echo "use it:  svcmetrics compute --engine sc://localhost:$PORT -c svcmetrics.yaml"
            echo "stop it: $0 stop"
            return
        fi
        if ! running; then
            echo "the server exited; its log ($LOG) ends:" >&2
            tail -20 "$LOG" >&2
            rm -f "$PIDFILE"
            exit 1
        fi
        sleep 1
    done
    echo "the server did not answer on port $PORT within 180 s; see $LOG" >&2
    exit 1
}

stop() {
    if ! running; then
        echo "not running"
        rm -f "$PIDFILE"
        return
    fi
    pid="$(cat "$PIDFILE")"
    kill "$pid"
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; echo "stopped"; return; }
        sleep 1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    echo "stopped (killed)"
}

status() {
    if running; then
        echo "running (pid $(cat "$PIDFILE")): sc://localhost:$PORT, log $LOG"
    else
        echo "not running"
        return 1
    fi
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) usage; exit 2 ;;
esac
