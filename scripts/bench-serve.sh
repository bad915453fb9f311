#!/usr/bin/env bash
# The HTTP benchmark: loads POST /api/v1/assess of the release `greenlight serve` with wrk, then
# the same load on a bare axum handler answering a fixed small JSON object
# (crates/server/examples/baseline.rs), in one run, and reports for each: requests/s, p50 and p99
# latency, errors (socket errors and non-2xx answers), and the ratio of the two.
# The declaration posted is one example file (TOML); the server triages it against the built-in
# pack on every request. Both servers log as configured (RUST_LOG, default `info` for greenlight:
# one line per request, to a file).
#
# usage: scripts/bench-serve.sh [DECLARATION]      (default examples/m4-de-aging-consent.toml)
# env:   DURATION=30s   how long each load runs (wrk's -d)
#        CONNECTIONS=64 open connections (wrk's -c); THREADS=2 wrk threads (wrk's -t)
#        RUST_LOG=info  greenlight's log filter
set -euo pipefail
cd "$(dirname "$0")/.."
declaration=${1:-examples/m4-de-aging-consent.toml}
duration=${DURATION:-30s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing wrk"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is missing (Debian: apt-get install wrk)" >&2
    exit 1
  fi
fi

echo "== building (release)"
# One invocation: built apart, the two would unify features differently and rebuild each other.
cargo build --release --locked -q -p greenlight-cli --bin greenlight -p greenlight-server --example baseline

work=$(mktemp -d "${TMPDIR:-/tmp}/greenlight-bench-serve.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# One request: the declaration as the body, in TOML.
cat >"$work/post.lua" <<LUA
local file = assert(io.open("$PWD/$declaration", "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/toml"
LUA

wait_for() {
  for _ in $(seq 100); do
    if curl -fsS -o /dev/null -X POST -H 'content-type: application/toml' \
      --data-binary @"$declaration" "$1/api/v1/assess"; then
      return 0
    fi
    sleep 0.1
  done
  echo "no answer from $1" >&2
  exit 1
}

# Runs wrk against $2 and prints "name req/s p50 p99 errors".
load() {
  local name=$1 url=$2 out="$work/$1.wrk"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/post.lua" "$url/api/v1/assess" >"$out"
  local rps p50 p99 non2xx socket
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '/^ +50%/ {print $2}' "$out")
  p99=$(awk '/^ +99%/ {print $2}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
  socket=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")
  echo "$name ${rps:-0} ${p50:-?} ${p99:-?} $(( ${non2xx:-0} + ${socket:-0} ))"
}

RUST_LOG=${RUST_LOG:-info} target/release/greenlight serve --listen 127.0.0.1:18080 \
  --db "$work/ledger.sqlite3" --audit-key "$work/audit.key" 2>"$work/serve.log" &
pids+=($!)
target/release/examples/baseline 127.0.0.1:18081 2>"$work/baseline.log" &
pids+=($!)
wait_for http://127.0.0.1:18080
wait_for http://127.0.0.1:18081

echo "== wrk -t$threads -c$connections -d$duration, POST $declaration ($(nproc) cores)"
greenlight=$(load greenlight http://127.0.0.1:18080)
baseline=$(load baseline http://127.0.0.1:18081)
printf '%-12s %12s %10s %10s %8s\n' "" "requests/s" "p50" "p99" "errors"
for row in "$greenlight" "$baseline"; do
  # shellcheck disable=SC2086
  printf '%-12s %12s %10s %10s %8s\n' $row
done
awk -v g="$(echo "$greenlight" | cut -d' ' -f2)" -v b="$(echo "$baseline" | cut -d' ' -f2)" \
  'BEGIN { if (b > 0) printf "greenlight / baseline: %.2f of the bare handler'"'"'s requests/s\n", g / b }'
echo "greenlight logged $(wc -l <"$work/serve.log") lines"
