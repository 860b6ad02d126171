#!/usr/bin/env bash
# Figure 1: demo creation on SQLite (target ≤ 10 s).
#
#   bash bench/demo.sh            (from the repository root; RUNS=3 by default)
#
# Prerequisites: cargo build --release -p jiaxiao; /usr/bin/time (apt-get install -y time);
# python3. Each run creates the demo in a fresh temporary directory with
# `jiaxiao demo --no-serve` and measures the whole command's wall time (opening the
# database, migrations, password hashing, the data) with /usr/bin/time -v. The
# program's own "demo data created in X s" (the data alone) is quoted beside it.
# Temporary directories are removed. Takes well under a minute.

# Shared knobs (bench/lib.sh): RUNS (default 3); JIAXIAO_BIN (default
# target/release/jiaxiao); QUIET_WAIT=N waits up to N s for a quiet machine (≥ 80% CPU
# idle) before measuring. Logs go to bench/out/ (ignored by git).

source "$(dirname "$0")/lib.sh"
need_bin

LOG="$OUT/demo-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# demo creation on SQLite, $RUNS runs, $(date -u +%FT%TZ), $($BIN --version)"
wait_quiet
load_note

TMP=""
cleanup() { [[ -n "$TMP" ]] && rm -rf "$TMP"; return 0; }
trap cleanup EXIT

walls=(); inner=(); rss=()
for i in $(seq "$RUNS"); do
    TMP="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-demo.XXXXXX")"
    timeout 120 /usr/bin/time -v -o "$TMP/time.txt" \
        "$BIN" demo --data-dir "$TMP/data" --no-serve >"$TMP/stdout.txt" 2>"$TMP/stderr.txt" ||
        { cat "$TMP/stderr.txt"; exit 1; }
    w="$(time_wall_s "$TMP/time.txt")"; m="$(time_rss_mb "$TMP/time.txt")"
    d="$(sed -n 's/^demo data created in \([0-9.]*\) s$/\1/p' "$TMP/stdout.txt")"
    [[ -n "$d" ]] || { echo "run $i: demo was not created:"; cat "$TMP/stdout.txt"; exit 1; }
    counts="$(python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); n=lambda q, *a: c.execute(q, a).fetchone()[0]; print(n("select count(*) from pupil"), "pupils,", n("select count(*) from guardian"), "guardians,", n("select count(*) from org_unit where kind = ?", "school"), "schools")' "$TMP/data/jiaxiao.db")"
    echo "run $i: wall ${w} s (data ${d} s), peak RSS ${m} MB; $counts; db $(du -m "$TMP/data/jiaxiao.db" | cut -f1) MB"
    walls+=("$w"); inner+=("$d"); rss+=("$m")
    rm -rf "$TMP"; TMP=""
done
load_note
echo "RESULT demo_sqlite wall_median_s=$(median "${walls[@]}") runs_s=${walls[*]} data_only_median_s=$(median "${inner[@]}") rss_median_mb=$(median "${rss[@]}")"
echo "log: $LOG"
