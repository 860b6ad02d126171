#!/usr/bin/env bash
# Figure 2: importing a 100,000-row XLSX roster into one school, on SQLite and on
# PostgreSQL (targets: ≤ 10 s each, peak memory ≤ 300 MB).
#
#   bash bench/roster_import.sh                (from the repository root)
#   RUNS=3 BACKENDS="sqlite postgres" SCHOOL=6101130007 ROWS=100000 bash bench/roster_import.sh
#
# Prerequisites: cargo build --release -p jiaxiao; /usr/bin/time (apt-get install -y
# time); python3 with venv; PostgreSQL 15 server binaries in /usr/lib/postgresql/15/bin
# and psql; run as root (the cluster runs as the `postgres` user).
# The roster is bench/out/roster_<ROWS>.xlsx, made once by bench/gen_roster.py in the
# venv bench/.venv (created here, openpyxl from PyPI, if missing).
#
# SCHOOL is a school code; the script looks up its id and passes the id to
# `--school` (before commit 1278410 the CLI read an all-digit code as an id, so a code
# did not work; an id works before and after).
# Each run: a fresh demo database (SQLite: a temporary directory; PostgreSQL: a new
# database in a throwaway cluster started here on a free loopback port, default
# settings, fsync on), then
#     jiaxiao import roster --create-classes --school <id of $SCHOOL> roster.xlsx
# under /usr/bin/time -v: wall time of the whole command (reading and checking the
# workbook, then writing in one transaction) and the peak RSS of the jiaxiao process
# (the PostgreSQL server's own memory is not in that figure). The program's own
# "written in X s" (the transaction alone) is quoted beside it. The cluster and all
# temporary directories are removed at the end, also on failure or Ctrl-C.
# Takes a few minutes with 3 runs on each database (17 s per PostgreSQL run before
# commit 1278410, about 7 s after).

# Shared knobs (bench/lib.sh): RUNS (default 3); JIAXIAO_BIN (default
# target/release/jiaxiao); QUIET_WAIT=N waits up to N s for a quiet machine (≥ 80% CPU
# idle) before measuring. Logs go to bench/out/ (ignored by git).

source "$(dirname "$0")/lib.sh"
need_bin

SCHOOL="${SCHOOL:-6101130007}"
ROWS="${ROWS:-100000}"
BACKENDS="${BACKENDS:-sqlite postgres}"
ROSTER="$OUT/roster_${ROWS}.xlsx"

if [[ ! -s "$ROSTER" ]]; then
    if [[ ! -x "$ROOT/bench/.venv/bin/python" ]]; then
        python3 -m venv "$ROOT/bench/.venv"
        "$ROOT/bench/.venv/bin/pip" install -q openpyxl
    fi
    "$ROOT/bench/.venv/bin/python" "$ROOT/bench/gen_roster.py" "$ROSTER.tmp" "$ROWS"
    mv "$ROSTER.tmp" "$ROSTER"
fi

LOG="$OUT/roster_import-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# roster import of $ROSTER ($(du -h "$ROSTER" | cut -f1)), school code $SCHOOL, $RUNS runs, $(date -u +%FT%TZ), $($BIN --version)"

TMP=""
cleanup() {
    [[ -n "$TMP" ]] && rm -rf "$TMP"
    pg_stop
}
trap cleanup EXIT

# import_once URL SCHOOL_ID → prints "wall rss_mb written_s"; checks the report.
import_once() {
    local url="$1" school_id="$2"
    JIAXIAO_DATABASE_URL="$url" timeout 600 /usr/bin/time -v -o "$TMP/time.txt" \
        "$BIN" import roster --create-classes --school "$school_id" "$ROSTER" >"$TMP/stdout.txt" 2>"$TMP/stderr.txt" ||
        { tail -n 20 "$TMP/stderr.txt" "$TMP/stdout.txt" >&2; return 1; }
    python3 - "$TMP/stdout.txt" "$ROWS" >&2 <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
summary = [l for l in text.splitlines() if l.endswith("duplicates")]
rep = json.loads(text[text.index("\n{") + 1:])
print("   ", summary[0] if summary else "?", "|", json.dumps(rep, separators=(",", ":")))
want = int(sys.argv[2])
if rep["pupils_created"] != want or rep["placements_changed"] != want or rep["links_created"] != want:
    sys.exit(f"unexpected report: wanted {want} pupils, placements and links")
PY
    local written
    written="$(sed -n 's/^written in \([0-9.]*\) s$/\1/p' "$TMP/stderr.txt")"
    echo "$(time_wall_s "$TMP/time.txt") $(time_rss_mb "$TMP/time.txt") ${written:-?}"
}

declare -A RESULT
for backend in $BACKENDS; do
    echo
    echo "## $backend"
    [[ "$backend" == postgres ]] && pg_start
    load_note
    walls=(); rss=(); inner=()
    for i in $(seq "$RUNS"); do
        TMP="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-roster.XXXXXX")"
        if [[ "$backend" == sqlite ]]; then
            url="sqlite://$TMP/jiaxiao.db?mode=rwc"
        else
            pg_psql postgres -c "CREATE DATABASE jx_roster_$i"
            url="$(pg_url "jx_roster_$i")"
        fi
        JIAXIAO_DATABASE_URL="$url" timeout 120 "$BIN" demo --no-serve >"$TMP/demo.txt" 2>&1 ||
            { cat "$TMP/demo.txt"; exit 1; }
        # The school's id from its code (works whether or not the CLI resolves codes).
        if [[ "$backend" == sqlite ]]; then
            school_id="$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select id from org_unit where code = ?", (sys.argv[2],)).fetchone()[0])' "$TMP/jiaxiao.db" "$SCHOOL")"
        else
            school_id="$(pg_psql "jx_roster_$i" -tAc "select id from org_unit where code = '$SCHOOL'")"
        fi
        wait_quiet
        res="$(import_once "$url" "$school_id")"
        read -r w m t <<<"$res"
        echo "run $i: wall ${w} s (transaction ${t} s), peak RSS ${m} MB   [school id $school_id; $(sed -n 's/^demo data created in/demo created in/p' "$TMP/demo.txt")]"
        walls+=("$w"); rss+=("$m"); inner+=("$t")
        [[ "$backend" == postgres ]] && pg_psql postgres -c "DROP DATABASE jx_roster_$i"
        rm -rf "$TMP"; TMP=""
    done
    load_note
    [[ "$backend" == postgres ]] && pg_stop
    RESULT[$backend]="wall_median_s=$(median "${walls[@]}") runs_s=${walls[*]} rss_median_mb=$(median "${rss[@]}") rss_runs_mb=${rss[*]} transaction_median_s=$(median "${inner[@]}")"
done
echo
for backend in $BACKENDS; do echo "RESULT roster_import_$backend ${RESULT[$backend]}"; done
echo "log: $LOG"
