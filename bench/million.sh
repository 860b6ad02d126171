#!/usr/bin/env bash
# Figure 3: the first page of "pupils under this county" with 1,000,000 pupils in the
# county's tree, on SQLite and on PostgreSQL (target: p95 ≤ 20 ms on both).
#
#   bash bench/million.sh                      (from the repository root)
#   RUNS=3 N=300 TOTAL=1000000 BACKENDS="sqlite postgres" bash bench/million.sh
#   BACKENDS=sqlite_analyzed bash bench/million.sh   (variant: SQLite after a full
#                                                     ANALYZE by the script)
#
# Prerequisites: cargo build --release -p jiaxiao; python3; PostgreSQL 15 server
# binaries in /usr/lib/postgresql/15/bin and psql; run as root (the cluster runs as the
# `postgres` user).
#
# Per database: `jiaxiao demo --no-serve`, then grow the county to TOTAL pupils by SQL
# (bench/million_fill.py on SQLite, bench/million_pg.sql on PostgreSQL — same pupils,
# each with a class membership for the current school year; PostgreSQL gets the
# VACUUM ANALYZE autovacuum would do; the script runs no ANALYZE on SQLite — whatever
# statistics it has come from the product itself, which since commit 1278410 runs
# `PRAGMA optimize` when it opens the database). Then `jiaxiao serve` on a free loopback port, a bearer token for the demo
# account `county` (county_admin at 雁塔区) from `jiaxiao user token`, and RUNS rounds
# of bench/latency.py (N sequential requests on one keep-alive connection after 20
# warm-ups) against, in this order:
#     GET /healthz                                  baseline: client + HTTP + a DB ping
#     GET /api/v1/pupils?under=<county id>&limit=50 the figure
#     GET /api/v1/pupils?limit=50                   the county admin's whole scope
# The server, the cluster and the temporary directories are removed at the end, also
# on failure or Ctrl-C. Takes about 5–10 minutes.

# Shared knobs (bench/lib.sh): RUNS (default 3); JIAXIAO_BIN (default
# target/release/jiaxiao); QUIET_WAIT=N waits up to N s for a quiet machine (≥ 80% CPU
# idle) before measuring. Logs go to bench/out/ (ignored by git).

source "$(dirname "$0")/lib.sh"
need_bin

TOTAL="${TOTAL:-1000000}"
N="${N:-300}"
BACKENDS="${BACKENDS:-sqlite postgres}"

LOG="$OUT/million-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# first page of pupils with $TOTAL pupils under the county, $RUNS rounds of N=$N, $(date -u +%FT%TZ), $($BIN --version)"

TMP=""; SERVER=""
cleanup() {
    if [[ -n "$SERVER" ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    [[ -n "$TMP" ]] && rm -rf "$TMP"
    pg_stop
}
trap cleanup EXIT

TODAY="$(TZ=Asia/Shanghai date +%F)"
declare -A RESULT
for backend in $BACKENDS; do
    echo
    echo "## $backend"
    TMP="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-million.XXXXXX")"
    t0=$SECONDS
    if [[ "$backend" == sqlite* ]]; then
        url="sqlite://$TMP/jiaxiao.db?mode=rwc"
        JIAXIAO_DATABASE_URL="$url" timeout 120 "$BIN" demo --no-serve >"$TMP/demo.txt" 2>&1 || { cat "$TMP/demo.txt"; exit 1; }
        timeout 900 python3 "$ROOT/bench/million_fill.py" "$TMP/jiaxiao.db" "$TOTAL"
        if [[ "$backend" == sqlite_analyzed ]]; then
            # Variant, not the product's behaviour: give SQLite's planner statistics.
            python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("ANALYZE"); c.commit()' "$TMP/jiaxiao.db"
            echo "ran ANALYZE"
        fi
        county="$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select id from org_unit where name=? and kind=?", ("雁塔区","county")).fetchone()[0])' "$TMP/jiaxiao.db")"
        echo "database file: $(du -m "$TMP/jiaxiao.db" | cut -f1) MB"
    else
        pg_start
        pg_psql postgres -c "CREATE DATABASE jx_million"
        url="$(pg_url jx_million)"
        JIAXIAO_DATABASE_URL="$url" timeout 120 "$BIN" demo --no-serve >"$TMP/demo.txt" 2>&1 || { cat "$TMP/demo.txt"; exit 1; }
        pg_psql jx_million -v total="$TOTAL" -v today="$TODAY" -f "$ROOT/bench/million_pg.sql"
        county="$(pg_psql jx_million -tAc "select id from org_unit where name='雁塔区' and kind='county'")"
        echo "database size: $(pg_psql jx_million -tAc "select pg_size_pretty(pg_database_size('jx_million'))")"
    fi
    echo "data ready in $((SECONDS - t0)) s; county unit id $county"

    token="$(JIAXIAO_DATABASE_URL="$url" "$BIN" user token --username county)"
    port="$(free_port)"
    JIAXIAO_DATABASE_URL="$url" JIAXIAO_LISTEN="127.0.0.1:$port" "$BIN" serve >"$TMP/serve.log" 2>&1 &
    SERVER=$!
    wait_healthy "127.0.0.1:$port" 30 || { cat "$TMP/serve.log"; exit 1; }
    wait_quiet
    load_note
    p_h=(); p_u=(); p_s=()
    for r in $(seq "$RUNS"); do
        [[ "$r" -gt 1 ]] && wait_quiet
        echo "round $r:"
        l="$(python3 "$ROOT/bench/latency.py" "127.0.0.1:$port" /healthz -n "$N" --label "  healthz           ")"; echo "$l"
        p_h+=("$(sed -n 's/.* p95=\([0-9.]*\) .*/\1/p' <<<"$l")")
        l="$(python3 "$ROOT/bench/latency.py" "127.0.0.1:$port" "/api/v1/pupils?under=$county&limit=50" --token "$token" -n "$N" --expect-items 50 --label "  pupils under=county")"; echo "$l"
        p_u+=("$(sed -n 's/.* p95=\([0-9.]*\) .*/\1/p' <<<"$l")")
        l="$(python3 "$ROOT/bench/latency.py" "127.0.0.1:$port" "/api/v1/pupils?limit=50" --token "$token" -n "$N" --expect-items 50 --label "  pupils (scope)    ")"; echo "$l"
        p_s+=("$(sed -n 's/.* p95=\([0-9.]*\) .*/\1/p' <<<"$l")")
    done
    echo "server RSS after the rounds: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$SERVER/status")"
    load_note
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
    [[ "$backend" == postgres ]] && pg_stop
    rm -rf "$TMP"; TMP=""
    RESULT[$backend]="under_p95_median_ms=$(median "${p_u[@]}") under_p95_runs=${p_u[*]} scope_p95_median_ms=$(median "${p_s[@]}") scope_p95_runs=${p_s[*]} healthz_p95_median_ms=$(median "${p_h[@]}") healthz_p95_runs=${p_h[*]}"
done
echo
for backend in $BACKENDS; do echo "RESULT million_$backend ${RESULT[$backend]}"; done
echo "log: $LOG"
