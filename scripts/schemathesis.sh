#!/usr/bin/env bash
# schemathesis against the OpenAPI document `greenlight serve` serves, once per role.
#
# Builds the binary and, once per backend, starts `greenlight serve` on a free loopback port with
# a fresh ledger (SQLite in a temporary directory; a new PostgreSQL database, dropped afterwards),
# creates an account of each role, a production with them as members and a token of each role,
# then runs schemathesis (`st run`) against /api/v1/openapi.json with each token in turn. Any
# finding (a 5xx, a status code, content type, header or body the document does not describe)
# fails the script. The server is stopped on exit. Run from anywhere: scripts/schemathesis.sh
#
# BACKENDS (default: "sqlite postgres" when GREENLIGHT_TEST_POSTGRES_URL names a PostgreSQL
# server whose role may create databases, as scripts/postgres.sh makes; else "sqlite", saying so;
# under CI a missing PostgreSQL fails the run instead).
#
# schemathesis comes from PyPI, pinned below, into a virtualenv under target/.
# The backends run side by side, each with its own server and ledger; each prints its output when
# it ends. Every role runs on every backend. The coverage phase (schemathesis's systematic
# boundary and negative values for every parameter, the bulk of the cases) runs for every role on
# SQLite, and on PostgreSQL for the roles in PG_COVERAGE_ROLES (default "coordinator admin": one
# production role, one global); the other roles there run the examples and fuzzing phases.
#
# MAX_EXAMPLES (default 8) bounds the cases per operation and role; SCHEMATHESIS_SEED fixes the
# random seed (default: a fixed one, so a run is repeatable); GREENLIGHT_BIN runs a binary
# already built instead of building one; SCHEMATHESIS_ROLES (e.g. "vendor admin") runs only
# those roles.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
MAX_EXAMPLES="${MAX_EXAMPLES:-8}"
SEED="${SCHEMATHESIS_SEED:-20261201}"
# The checks that hold the document to the server: no 5xx, and every status code, content type,
# header and body is the one the document gives. (schemathesis's positive_data_acceptance would
# also demand that every schema-valid request be accepted, which ids and cursors the document
# types as strings cannot promise.)
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
ROLES=(coordinator vendor reviewer legal post_supervisor talent_relations compliance auditor admin)
read -ra PG_COVERAGE_ROLES <<<"${PG_COVERAGE_ROLES:-coordinator admin}"
if [ -n "${SCHEMATHESIS_ROLES:-}" ]; then
  read -ra ROLES <<<"$SCHEMATHESIS_ROLES"
fi

python="$(command -v python3.11 || command -v python3)"
venv="$PWD/target/schemathesis-venv"
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  echo "== installing schemathesis $ST_VERSION into $venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

if [ -n "${GREENLIGHT_BIN:-}" ]; then
  bin="$GREENLIGHT_BIN"
else
  echo "== building greenlight"
  cargo build --locked -p greenlight-cli --quiet
  bin="$PWD/target/debug/greenlight"
fi

if [ -n "${BACKENDS:-}" ]; then
  read -ra backends <<<"$BACKENDS"
elif [ -n "${GREENLIGHT_TEST_POSTGRES_URL:-}" ]; then
  backends=(sqlite postgres)
elif [ -n "${CI:-}" ]; then
  echo "schemathesis: GREENLIGHT_TEST_POSTGRES_URL is not set; under CI the PostgreSQL run may not be skipped" >&2
  echo "(run scripts/postgres.sh first, as scripts/test does)" >&2
  exit 1
else
  echo "== schemathesis: GREENLIGHT_TEST_POSTGRES_URL is not set; the PostgreSQL run SKIPS (SQLite only)"
  backends=(sqlite)
fi

work="$(mktemp -d)"
server_pid=""
pg_admin_url=""
pg_database=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
drop_database() {
  if [ -n "$pg_database" ]; then
    psql "$pg_admin_url" -qAt -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$pg_database\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  pg_database=""
}
cleanup() {
  stop_server
  drop_database
  rm -rf "$work"
}
trap cleanup EXIT

# json_field FIELD: the field of the one JSON object on standard input.
json_field() {
  "$python" -c 'import json, sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"
}

export SCHEMATHESIS_HOOKS="$PWD/scripts/schemathesis_hooks.py"
export GREENLIGHT_USER="schemathesis-setup"
failed=()

# run_backend BACKEND: a fresh ledger on BACKEND, a server on it, schemathesis once per role.
run_backend() {
  local backend="$1" dir="$work/$1"
  mkdir -p "$dir"
  export GREENLIGHT_AUDIT_KEY="$dir/audit.key"
  case "$backend" in
    sqlite) export GREENLIGHT_DB="$dir/ledger.sqlite3" ;;
    postgres)
      pg_admin_url="$GREENLIGHT_TEST_POSTGRES_URL"
      pg_database="greenlight_schemathesis_$$"
      psql "$pg_admin_url" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$pg_database\"" >/dev/null
      # The same server and credentials, the new database: replace the URL's path.
      export GREENLIGHT_DB="${pg_admin_url%/*}/$pg_database"
      ;;
    *)
      echo "schemathesis: unknown backend '$backend' (sqlite or postgres)" >&2
      exit 2
      ;;
  esac

  echo "== [$backend] accounts, a production and a token of each role"
  local members=() role
  for role in "${ROLES[@]}"; do
    case "$role" in
      admin) "$bin" user create "st-$role@studio.example" --admin --format json >/dev/null ;;
      auditor) "$bin" user create "st-$role@studio.example" --auditor --format json >/dev/null ;;
      *)
        "$bin" user create "st-$role@studio.example" --format json >/dev/null
        members+=(--member "st-$role@studio.example=$role")
        ;;
    esac
  done
  local production
  production="$("$bin" production create "Schemathesis (feature)" --kind scripted \
    --contact st-contact@studio.example "${members[@]}" --format json | json_field id)"

  declare -A tokens
  local scope
  for role in "${ROLES[@]}"; do
    scope=()
    case "$role" in admin | auditor) ;; *) scope=(--production "$production") ;; esac
    tokens[$role]="$("$bin" token create --user "st-$role@studio.example" --name schemathesis \
      --role "$role" "${scope[@]}" --expires 1 --format json | json_field secret)"
  done

  echo "== [$backend] starting greenlight serve"
  "$bin" serve --listen 127.0.0.1:0 2>"$dir/serve.log" &
  server_pid=$!
  local base=""
  for _ in $(seq 1 100); do
    base="$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$dir/serve.log" | head -n 1)"
    [ -n "$base" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      cat "$dir/serve.log" >&2
      echo "greenlight serve exited before listening" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [ -z "$base" ]; then
    cat "$dir/serve.log" >&2
    echo "greenlight serve did not say where it listens" >&2
    exit 1
  fi
  echo "   $base"

  local started=$SECONDS phases
  for role in "${ROLES[@]}"; do
    phases=examples,coverage,fuzzing
    if [ "$backend" = postgres ] && [[ " ${PG_COVERAGE_ROLES[*]} " != *" $role "* ]]; then
      phases=examples,fuzzing
    fi
    echo "== [$backend] schemathesis as $role ($phases)"
    # From the temporary directory, so that schemathesis's own cache stays out of the tree.
    if ! (cd "$dir" && "$venv/bin/st" run "$base/api/v1/openapi.json" \
      --checks "$CHECKS" \
      --header "Authorization: Bearer ${tokens[$role]}" \
      --max-examples "$MAX_EXAMPLES" \
      --seed "$SEED" \
      --workers 2 \
      --phases "$phases" \
      --generation-database none \
      --request-timeout 20 \
      --no-color); then
      failed+=("$backend/$role")
    fi
  done
  echo "== [$backend] schemathesis: ${#ROLES[@]} roles in $((SECONDS - started)) s"
  stop_server
  drop_database
  if [ "${#failed[@]}" -gt 0 ]; then
    echo "(server log on $backend: last lines)"
    tail -n 20 "$dir/serve.log"
    echo "schemathesis found problems as: ${failed[*]}"
    return 1
  fi
}

# Each backend in a subshell of its own (its server, database and clean-up), side by side.
declare -A runs
for backend in "${backends[@]}"; do
  (
    trap 'stop_server; drop_database' EXIT
    run_backend "$backend"
  ) >"$work/$backend.log" 2>&1 &
  runs[$backend]=$!
done
bad=()
for backend in "${backends[@]}"; do
  if ! wait "${runs[$backend]}"; then
    bad+=("$backend")
  fi
  cat "$work/$backend.log"
done

if [ "${#bad[@]}" -gt 0 ]; then
  echo "schemathesis failed on: ${bad[*]}" >&2
  exit 1
fi
echo "== schemathesis: passed on ${backends[*]}"
