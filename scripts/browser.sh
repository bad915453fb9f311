#!/usr/bin/env bash
# Makes a headless Chromium ready for the web app's browser tests and prints
# the variable to export:
#
#   eval "$(scripts/browser.sh)"      # sets GREENLIGHT_TEST_WEBDRIVER and GREENLIGHT_TEST_AXE
#
# Installs Debian's `chromium` and `chromium-driver` packages when they are
# missing, axe-core (a pinned version, from the npm registry) into target/axe, starts chromedriver on a free loopback port (allowing only local
# clients) and waits until it answers. chromedriver keeps running after the
# script ends; its pid is in target/chromedriver.pid and its log in
# target/chromedriver.log. Safe to run again: a chromedriver it started that
# still answers is reused. Needs root (or sudo) for the install.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "browser.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    log "installing Debian's chromium and chromium-driver packages"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver fonts-dejavu-core >&2
fi

mkdir -p target
AXE_VERSION=4.11.1
AXE=target/axe/node_modules/axe-core/axe.min.js
if [ ! -f "$AXE" ] || ! grep -q "axe v$AXE_VERSION" "$AXE"; then
    log "installing axe-core $AXE_VERSION from the npm registry into target/axe"
    npm install --silent --no-audit --no-fund --prefix target/axe "axe-core@$AXE_VERSION" >&2
fi

PID_FILE=target/chromedriver.pid
PORT_FILE=target/chromedriver.port

answers() { curl -fsS "http://127.0.0.1:$1/status" >/dev/null 2>&1; }

if [ -f "$PID_FILE" ] && [ -f "$PORT_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null \
    && answers "$(cat "$PORT_FILE")"; then
    PORT=$(cat "$PORT_FILE")
    log "reusing chromedriver on 127.0.0.1:$PORT"
else
    # A free port: bind port 0 and read what the kernel gave.
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    log "starting chromedriver on 127.0.0.1:$PORT"
    nohup chromedriver --port="$PORT" --allowed-ips=127.0.0.1 >target/chromedriver.log 2>&1 &
    echo $! >"$PID_FILE"
    echo "$PORT" >"$PORT_FILE"
    for _ in $(seq 1 50); do
        answers "$PORT" && break
        sleep 0.2
    done
    answers "$PORT" || { log "chromedriver does not answer; see target/chromedriver.log"; exit 1; }
fi

log "ready: http://127.0.0.1:$PORT"
echo "export GREENLIGHT_TEST_WEBDRIVER=http://127.0.0.1:$PORT"
echo "export GREENLIGHT_TEST_AXE=$PWD/$AXE"
