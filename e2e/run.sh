#!/usr/bin/env bash
# The browser tests on both databases: `jiaxiao demo` on fresh data, once on SQLite and
# once on PostgreSQL (a throwaway cluster started here, the way crates/testkit does it:
# initdb as the postgres user when run as root, a free port, the socket in a temporary
# directory, no fsync), then the whole suite against each server in turn. Both demo
# databases are created at the same time; the suites run one after the other. Servers,
# cluster and temporary directories are removed on exit, also on failure or Ctrl-C.
#
#   e2e/run.sh target/release/jiaxiao            (.ci/run does this)
#   e2e/run.sh target/debug/jiaxiao sqlite       (one database only)
#   E2E_ARGS="--test-name-pattern=paper" e2e/run.sh target/debug/jiaxiao
set -euo pipefail
bin=$(realpath "${1:?usage: e2e/run.sh JIAXIAO_BINARY [sqlite|postgres ...]}")
shift
dbs=("$@")
[ ${#dbs[@]} -gt 0 ] || dbs=(sqlite postgres)
cd "$(dirname "$0")"
# A stray setting from the caller's shell must not pick the database for us.
unset JIAXIAO_DATABASE_URL JIAXIAO_LISTEN JIAXIAO_CONFIG JIAXIAO_DATA_DIR
export JIAXIAO_LOG="${JIAXIAO_LOG:-warn}"

npm ci --no-audit --no-fund >/dev/null

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
work=$(mktemp -d "${TMPDIR:-/tmp}/jiaxiao-e2e.XXXXXX")
pgdir=""
servers=()
cleanup() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$pgdir" ]; then
    [ -f "$pgdir/data/postmaster.pid" ] && as_postgres "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$pgdir"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# serve_demo NAME [DATABASE_URL]: `jiaxiao demo` on a free port with its data (on
# PostgreSQL: its uploads) under $work/NAME; the port goes into port_NAME.
serve_demo() {
  local name=$1 url=${2:-} port
  port=$(free_port)
  mkdir -p "$work/$name"
  if [ -n "$url" ]; then
    JIAXIAO_DATABASE_URL="$url" JIAXIAO_DATA_DIR="$work/$name" \
      "$bin" demo --listen "127.0.0.1:$port" >"$work/$name.log" 2>&1 &
  else
    "$bin" demo --data-dir "$work/$name" --listen "127.0.0.1:$port" >"$work/$name.log" 2>&1 &
  fi
  servers+=($!)
  printf -v "port_$name" '%s' "$port"
}

for db in "${dbs[@]}"; do
  case $db in
    sqlite) serve_demo sqlite ;;
    postgres)
      pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
      pgdir=$(mktemp -d "${TMPDIR:-/tmp}/jiaxiao-e2e-pg.XXXXXX")
      if [ "$(id -u)" = 0 ]; then chown postgres: "$pgdir"; fi
      pgport=$(free_port)
      as_postgres "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; exit 1; }
      as_postgres "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -o \
        "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
      "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres jiaxiao_e2e
      serve_demo postgres "postgres://postgres@127.0.0.1:$pgport/jiaxiao_e2e?sslmode=disable"
      ;;
    *) echo "unknown database $db (sqlite or postgres)"; exit 2 ;;
  esac
done

for db in "${dbs[@]}"; do
  port_var="port_$db"
  url="http://127.0.0.1:${!port_var}"
  for _ in $(seq 1 600); do # up to 5 minutes for the demo data: a limit for a hang
    curl -fs "$url/healthz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fs "$url/healthz" >/dev/null 2>&1 || { echo "the $db demo server did not come up:"; cat "$work/$db.log"; exit 1; }
done

for db in "${dbs[@]}"; do
  port_var="port_$db"
  url="http://127.0.0.1:${!port_var}"
  echo "== browser tests on $db ($url)"
  start=$SECONDS
  # shellcheck disable=SC2086 # E2E_ARGS is a list of node --test options
  JIAXIAO_URL="$url" node --test --test-concurrency=1 ${E2E_ARGS:-} tests/ \
    || { echo "== browser tests failed on $db; the server's log ends:"; tail -n 40 "$work/$db.log"; exit 1; }
  echo "== browser tests passed on $db in $((SECONDS - start)) s"
done
