#!/usr/bin/env bash
# Runs the ledger's tests on SQLite and PostgreSQL. Starts (installing when
# missing) a local PostgreSQL through scripts/postgres.sh unless
# GREENLIGHT_TEST_POSTGRES_URL is already set.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${GREENLIGHT_TEST_POSTGRES_URL:-}" ]; then
    eval "$(scripts/postgres.sh)"
fi
export GREENLIGHT_TEST_POSTGRES_URL

cargo nextest run -j 2 \
    -p greenlight-store -p greenlight-store-sqlite -p greenlight-store-postgres \
    -p greenlight-store-tests --no-fail-fast "$@"
