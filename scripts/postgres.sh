#!/usr/bin/env bash
# Makes a local PostgreSQL ready for the ledger's contract tests and prints
# the variable to export:
#
#   eval "$(scripts/postgres.sh)"      # sets GREENLIGHT_TEST_POSTGRES_URL
#
# Installs Debian's `postgresql` package when it is missing, starts a cluster
# listening on 127.0.0.1 only, and creates a role `greenlight` (allowed to
# create databases: each test run makes its own and drops it) and a database
# of the same name. Safe to run again. Needs root (or sudo) for the install.
set -euo pipefail

ROLE=greenlight
PASSWORD=greenlight
PORT=${GREENLIGHT_PG_PORT:-5432}

log() { echo "postgres.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing Debian's postgresql package"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
CLUSTER=main

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
    log "creating cluster $VERSION/$CLUSTER"
    as_root pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" >&2
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $3}')

# Loopback only: never listen on another address (Debian's postgresql.conf
# reads conf.d/; the last setting wins).
CONF_DIR=/etc/postgresql/$VERSION/$CLUSTER/conf.d
as_root mkdir -p "$CONF_DIR"
echo "listen_addresses = '127.0.0.1'" | as_root tee "$CONF_DIR/zz-greenlight.conf" >/dev/null

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; then
    log "starting cluster $VERSION/$CLUSTER on 127.0.0.1:$PORT"
    as_root pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

psql_admin() {
    as_root runuser -u postgres -- psql -p "$PORT" -v ON_ERROR_STOP=1 -qAt "$@"
}

for _ in $(seq 1 30); do
    psql_admin -c 'SELECT 1' >/dev/null 2>&1 && break
    sleep 1
done

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
    log "creating role $ROLE"
    psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$ROLE'")" != 1 ]; then
    log "creating database $ROLE"
    psql_admin -c "CREATE DATABASE $ROLE OWNER $ROLE" >&2
fi

URL="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$ROLE"
PGPASSWORD=$PASSWORD psql "$URL" -qAt -c 'SELECT 1' >/dev/null
log "ready: $URL"
echo "export GREENLIGHT_TEST_POSTGRES_URL=$URL"
