#!/usr/bin/env bash
# The HTTP ledger benchmark: the release `greenlight serve` on a fresh ledger of each backend
# (SQLite; PostgreSQL when GREENLIGHT_TEST_POSTGRES_URL is set), loaded with wrk, and the same
# loads on the bare axum handler (crates/server/examples/baseline.rs) in the same run:
#
#   assess POST /api/v1/assess of examples/m4-de-aging-consent.toml (no account, nothing stored:
#          the policy's triage alone, on a server whose ledger is the backend's)
#   write  POST /api/v1/declarations?production=ID, a declaration in TOML with a coordinator's API
#          token, CONNECTIONS (64) connections: each 201 comes after its commit, so requests/s are
#          durable writes/s. The ledger's count of the production's declarations is checked
#          against wrk's count of 2xx answers afterwards.
#   list   GET /api/v1/productions/ID/declarations?after=CURSOR (a page of 100 from the middle) of
#          a production of SEED (100,000) declarations, written beforehand through the store
#          (`ledger-seed`, 1,000 to a transaction; the script says how long that took).
#   list8  the same list page with LIST_CONNECTIONS (8) connections: the latency of a lighter load.
#
# For each: requests/s, p50, p99, errors (socket errors and non-2xx answers), and greenlight's
# requests/s as a share of the baseline's. With ROUNDS > 1 the loads alternate (greenlight,
# baseline, greenlight, …) and the medians are reported. Then `audit verify` of each ledger.
#
# usage: scripts/bench-serve-ledger.sh
# env:   DURATION=30      seconds each load runs
#        CONNECTIONS=64   open connections (wrk's -c); THREADS=2 wrk threads (wrk's -t)
#        LIST_CONNECTIONS=8  open connections of the `list8` load
#        LOADS="assess write list list8"
#        SEED=100000      declarations of the listed production
#        ROUNDS=1         alternating runs of each load
#        BACKENDS="sqlite postgres"
#        RUST_LOG=warn    greenlight's log filter (its log goes to a file)
#        PROFILE=release  `debug` tries the script on the debug build (figures meaningless)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-30}
connections=${CONNECTIONS:-64}
list_connections=${LIST_CONNECTIONS:-8}
loads=${LOADS:-assess write list list8}
threads=${THREADS:-2}
seed=${SEED:-100000}
rounds=${ROUNDS:-1}
backends=${BACKENDS:-sqlite postgres}
export RUST_LOG=${RUST_LOG:-warn}
profile=${PROFILE:-release}

for tool in wrk curl jq; do
  if ! command -v "$tool" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "== installing $tool"
      apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null
    else
      echo "$tool is missing (Debian: apt-get install $tool)" >&2
      exit 1
    fi
  fi
done

echo "== building ($profile)"
# One invocation: built apart, they would unify features differently and rebuild each other.
cargo build $([ "$profile" = release ] && echo --release) --locked -q -p greenlight-cli --bin greenlight -p greenlight-server \
  --example baseline -p greenlight-store-tests --bin ledger-seed

work=$(mktemp -d "${TMPDIR:-/tmp}/greenlight-bench-ledger.XXXXXX")
pids=()
databases=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${databases[@]}"; do
    psql "$GREENLIGHT_TEST_POSTGRES_URL" -qAt -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
      >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

bin=target/$profile
gl() { "$bin/greenlight" --db "$db" --audit-key "$work/$backend.key" --as bench "$@"; }

# The body of every write: a small declaration of the production `Bench`.
cat >"$work/declaration.toml" <<'TOML'
title = "a mood board of the harbour at night"
production = "Bench"
production_kind = "scripted"
stage = "pre_production"
purpose = "mood_board"
TOML

# wrk scripts: $1 the script, $2 method, $3 path, $4 token (empty: none), $5 the body's file.
lua() {
  local out=$1 method=$2 path=$3 token=$4 body=${5:-$work/declaration.toml}
  {
    echo "wrk.method = \"$method\""
    echo "wrk.path = \"$path\""
    if [ -n "$token" ]; then echo "wrk.headers[\"Authorization\"] = \"Bearer $token\""; fi
    if [ "$method" = POST ]; then
      echo "local file = assert(io.open(\"$body\", \"rb\"))"
      echo "wrk.body = file:read(\"*a\")"
      echo "file:close()"
      echo "wrk.headers[\"Content-Type\"] = \"application/toml\""
    fi
  } >"$out"
}

wait_for() {
  for _ in $(seq 200); do
    if curl -fs -o /dev/null "$1/healthz"; then return 0; fi
    sleep 0.1
  done
  echo "no answer from $1" >&2
  exit 1
}

# Runs wrk and prints "req/s p50 p99 errors 2xx": $1 the script, $2 the server, $3 connections.
load() {
  local script=$1 url=$2 conns=$3 out
  out=$(mktemp "$work/wrk.XXXXXX")
  wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$script" "$url" >"$out"
  local rps p50 p99 non2xx socket total
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '/^ +50%/ {print $2}' "$out")
  p99=$(awk '/^ +99%/ {print $2}' "$out")
  total=$(awk '/requests in/ {print $1}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
  socket=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")
  echo "${rps:-0} ${p50:-?} ${p99:-?} $(( ${non2xx:-0} + ${socket:-0} )) $(( ${total:-0} - ${non2xx:-0} ))"
}

# A latency as milliseconds (wrk prints us, ms or s).
ms() {
  awk -v t="$1" 'BEGIN {
    if (t ~ /us$/) { sub(/us$/, "", t); printf "%.3f", t / 1000 }
    else if (t ~ /ms$/) { sub(/ms$/, "", t); printf "%.3f", t }
    else if (t ~ /s$/) { sub(/s$/, "", t); printf "%.3f", t * 1000 }
    else print "nan" }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$bin/examples/baseline" 127.0.0.1:18091 2>"$work/baseline.log" &
pids+=($!)
baseline=http://127.0.0.1:18091
for _ in $(seq 100); do curl -fsS -o /dev/null -X POST "$baseline/api/v1/assess" && break; sleep 0.1; done

report=()
for backend in $backends; do
  case $backend in
    sqlite) db=$work/ledger.sqlite3 ;;
    postgres)
      if [ -z "${GREENLIGHT_TEST_POSTGRES_URL:-}" ]; then
        echo "== postgres skipped: GREENLIGHT_TEST_POSTGRES_URL is not set (eval \"\$(scripts/postgres.sh)\")"
        continue
      fi
      name=greenlight_bench_$$
      psql "$GREENLIGHT_TEST_POSTGRES_URL" -qAt -c "CREATE DATABASE \"$name\"" >/dev/null
      databases+=("$name")
      db=$(echo "$GREENLIGHT_TEST_POSTGRES_URL" | sed -E "s|^(postgres(ql)?://[^/]+)/[^?]*|\1/$name|")
      ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  echo "== $backend: accounts, productions, tokens"
  gl user create cam --name "Cam Ortiz" >/dev/null
  member="cam=coordinator=Cam Ortiz"
  contact="Dana Price <dana@studio.example>"
  written=$(gl production create Bench --contact "$contact" --member "$member" --format json | jq -r .id)
  listed=$(gl production create Seeded --contact "$contact" --member "$member" --format json | jq -r .id)
  token=$(gl token create --user cam --name bench --role coordinator --expires 1 --format json | jq -r .secret)
  echo "== $backend: seeding $seed declarations through the store"
  "$bin/ledger-seed" "$db" "$work/$backend.key" "$listed" "$seed"

  port=$([ "$backend" = sqlite ] && echo 18092 || echo 18093)
  server=http://127.0.0.1:$port
  "$bin/greenlight" serve --listen "127.0.0.1:$port" --db "$db" --audit-key "$work/$backend.key" \
    2>"$work/$backend-serve.log" &
  serve_pid=$!
  pids+=("$serve_pid")
  wait_for "$server"

  # The cursor of the middle page: page through the first half, 1,000 at a time.
  after=
  for _ in $(seq $(( seed / 2000 ))); do
    after=$(curl -fsS -H "Authorization: Bearer $token" \
      "$server/api/v1/productions/$listed/declarations?limit=1000${after:+&after=$after}" | jq -r .next)
  done
  list_path="/api/v1/productions/$listed/declarations?limit=100${after:+&after=$after}"
  lua "$work/write.lua" POST "/api/v1/declarations?production=$written" "$token"
  lua "$work/list.lua" GET "$list_path" "$token"
  cp "$work/list.lua" "$work/list8.lua"
  lua "$work/assess.lua" POST /api/v1/assess "" "$PWD/examples/m4-de-aging-consent.toml"
  curl -fsS -o /dev/null -H 'content-type: application/toml' \
    --data-binary @examples/m4-de-aging-consent.toml "$server/api/v1/assess"
  # One request of each by hand, so a wrong setup fails here and not as a load of errors.
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$server$list_path"
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'content-type: application/toml' \
    --data-binary @"$work/declaration.toml" "$server/api/v1/declarations?production=$written"
  acknowledged=1

  echo "== $backend: wrk -t$threads -c$connections (list8: -c$list_connections) -d${duration}s, $rounds round(s), $(nproc) cores"
  for kind in $loads; do
    : >"$work/$backend-$kind-greenlight"
    : >"$work/$backend-$kind-baseline"
  done
  for round in $(seq "$rounds"); do
    for kind in $loads; do
      conns=$([ "$kind" = list8 ] && echo "$list_connections" || echo "$connections")
      row=$(load "$work/$kind.lua" "$server" "$conns")
      echo "$row" >>"$work/$backend-$kind-greenlight"
      echo "   round $round $kind greenlight: $row"
      if [ "$kind" = write ]; then acknowledged=$(( acknowledged + $(echo "$row" | cut -d' ' -f5) )); fi
      row=$(load "$work/$kind.lua" "$baseline" "$conns")
      echo "$row" >>"$work/$backend-$kind-baseline"
      echo "   round $round $kind baseline:   $row"
    done
  done

  # Every acknowledged write is in the ledger.
  stored=0
  after=
  while :; do
    page=$(curl -fsS -H "Authorization: Bearer $token" \
      "$server/api/v1/productions/$written/declarations?limit=1000${after:+&after=$after}")
    stored=$(( stored + $(echo "$page" | jq '.declarations | length') ))
    after=$(echo "$page" | jq -r '.next // empty')
    [ -n "$after" ] || break
  done
  kill "$serve_pid"
  wait "$serve_pid" || true
  verified=$(gl audit verify --format json | jq -c '{ok, entries}')
  echo "== $backend: $acknowledged writes acknowledged, $stored stored; audit verify: $verified"
  if [ "$stored" -lt "$acknowledged" ]; then
    echo "$backend: fewer declarations stored than acknowledged" >&2
    exit 1
  fi

  for kind in $loads; do
    for who in greenlight baseline; do
      f=$work/$backend-$kind-$who
      rps=$(cut -d' ' -f1 "$f" | median)
      p50=$(while read -r _ p _; do ms "$p"; echo; done <"$f" | median)
      p99=$(while read -r _ _ p _; do ms "$p"; echo; done <"$f" | median)
      errors=$(awk '{ s += $4 } END { print s }' "$f")
      report+=("$backend $kind $who $rps $p50 $p99 $errors")
    done
  done
done

echo
echo "== medians of $rounds round(s) of ${duration}s, $connections connections"
printf '%-9s %-6s %-11s %12s %10s %10s %8s\n' backend load server requests/s p50-ms p99-ms errors
for row in "${report[@]}"; do
  # shellcheck disable=SC2086
  printf '%-9s %-6s %-11s %12s %10s %10s %8s\n' $row
done
printf '%s\n' "${report[@]}" | awk '
  $3 == "greenlight" { g[$1 " " $2] = $4 }
  $3 == "baseline" { b[$1 " " $2] = $4 }
  END { for (k in g) if (b[k] > 0) printf "%s: greenlight / baseline = %.3f of the bare handler'"'"'s requests/s\n", k, g[k] / b[k] }' | sort
