#!/usr/bin/env bash
# Issue 3's check-in figures: 20,000 distinct parents each checking in once through the
# API at concurrency 64 on loopback, against `jiaxiao serve` on SQLite and on PostgreSQL.
# Targets: on SQLite, throughput ≥ 1/3 of a bare axum server measured by the same tool in
# the same run, p99 ≤ 20 ms, ≤ 1 ms of server CPU per check-in, zero errors, and exactly
# 20,000 rows afterwards; on PostgreSQL, throughput ≥ 0.7 × a pgbench one-row INSERT at
# the same concurrency in the same run. Also times the XLSX export of the 20,000
# check-ins (target ≤ 1.5 s) on SQLite.
#
#   bash bench/checkin_burst.sh                 (from the repository root)
#   RUNS=3 PARENTS=20000 CONC=64 BACKENDS="sqlite postgres" bash bench/checkin_burst.sh
#
# Prerequisites: cargo build --release -p jiaxiao && cargo build --release -p jiaxiao-web
# --example hello;
# wrk (apt-get install -y wrk); curl; python3; PostgreSQL 15 server binaries in
# /usr/lib/postgresql/15/bin, psql and pgbench; run as root (the cluster runs as the
# `postgres` user).
#
# Per backend, once: `jiaxiao demo --no-serve`, then a generated roster of PARENTS pupils
# with one distinct parent each imported into the demo school SCHOOL (`jiaxiao import
# roster`), a staff account, and an API token for every parent of the school (`jiaxiao
# user tokens`, no logins in the burst; the first PARENTS lines are used). Then
# `jiaxiao serve` on a free port and, RUNS times: a new session of that school starting
# now (`jiaxiao session create`: the whole school invited, window open), a loop that
# fetches the current code from GET /api/v1/sessions/{id}/checkin-code every 2 s into a
# file, and
#     wrk -t2 -cCONC -s bench/checkin_burst.lua … against examples/hello   (baseline)
#     wrk -t2 -cCONC -s bench/checkin_burst.lua … against jiaxiao serve    (the figure)
# with the same token list, so both send PARENTS requests of the same shape. Server CPU
# is utime+stime of the jiaxiao process from /proc/<pid>/stat around the run (on
# PostgreSQL the postgres processes' CPU is reported beside it). Afterwards the rows of
# the session are counted in the database. On PostgreSQL each run also measures
#     pgbench -n -c CONC -j 2 -t PARENTS/CONC -f <one-row INSERT>
# into a table of the same database made LIKE checkin INCLUDING ALL (same columns, unique
# constraint and indexes), one row per transaction. The server, the cluster and the temporary
# directories are removed at the end, also on failure or Ctrl-C.

# SERVE_ENV="NAME=value …" is put into the environment of `jiaxiao serve` only (not of the
# baseline), e.g. SERVE_ENV=TOKIO_WORKER_THREADS=1 to compare runtime sizes.
# PERF=FILE records a profile of the server during each burst (perf record, DWARF call
# graphs) into FILE.<backend>.<run>; the figures of such a run are not comparable.
# Shared knobs (bench/lib.sh): RUNS (default 3); JIAXIAO_BIN (default
# target/release/jiaxiao); QUIET_WAIT=N waits up to N s for a quiet machine (≥ 80% CPU
# idle) before each run. Logs go to bench/out/ (ignored by git).

source "$(dirname "$0")/lib.sh"
need_bin

PARENTS="${PARENTS:-20000}"
CONC="${CONC:-64}"
SCHOOL="${SCHOOL:-6101130007}"
BACKENDS="${BACKENDS:-sqlite postgres}"
HELLO="${HELLO_BIN:-$(dirname "$BIN")/examples/hello}"
[[ -x "$HELLO" ]] || { echo "missing $HELLO — cargo build --release -p jiaxiao-web --example hello" >&2; exit 1; }
command -v wrk >/dev/null || { echo "missing wrk — apt-get install -y wrk" >&2; exit 1; }
LUA="$ROOT/bench/checkin_burst.lua"
STAFF_PASS="bench-pass-1"

LOG="$OUT/checkin_burst-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# check-in burst: $PARENTS parents, concurrency $CONC, $RUNS runs, $(date -u +%FT%TZ), $($BIN --version), $(wrk --version 2>&1 | head -1)"

TMP=""; SERVER=""; HELLO_PID=""; CODE_LOOP=""
cleanup() {
    [[ -n "$CODE_LOOP" ]] && kill "$CODE_LOOP" 2>/dev/null || true
    [[ -n "$HELLO_PID" ]] && kill "$HELLO_PID" 2>/dev/null || true
    if [[ -n "$SERVER" ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    [[ -n "$TMP" ]] && rm -rf "$TMP"
    pg_stop
}
trap cleanup EXIT

# cpu_ticks PID → utime+stime in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# utime+stime of this run's cluster: its postmaster and the children alive now (other
# clusters on the machine, such as the test suites', are not counted). 0 on SQLite.
pg_ticks() {
    local t=0 p pm
    [[ -n "$PG_DIR" && -r "$PG_DIR/data/postmaster.pid" ]] || { echo 0; return; }
    pm="$(head -n 1 "$PG_DIR/data/postmaster.pid")"
    for p in "$pm" $(pgrep -P "$pm" || true); do
        [[ -r "/proc/$p/stat" ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
TCK="$(getconf CLK_TCK)"

# gen_roster FILE N: N pupils, each with one distinct parent (mobile 130xxxxxxxx, a
# prefix the demo never uses), grades 一…六年级, 20 classes each.
gen_roster() {
    python3 - "$1" "$2" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
grades = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
with open(out, "w", encoding="utf-8") as f:
    f.write("学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n")
    for i in range(n):
        f.write(f"2027{i:07d},学生{i},{'男' if i % 2 else '女'},{grades[i % 6]},{(i // 6) % 20 + 1}班,家长{i},父亲,130{i:08d}\n")
PY
}

sql() { # sql QUERY → one value
    if [[ "$backend" == sqlite ]]; then
        python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$TMP/jiaxiao.db" "$1"
    else
        pg_psql jx_burst -tAc "$1"
    fi
}

declare -A RESULT
for backend in $BACKENDS; do
    echo
    echo "## $backend"
    TMP="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-checkin.XXXXXX")"
    if [[ "$backend" == sqlite ]]; then
        url="sqlite://$TMP/jiaxiao.db?mode=rwc"
    else
        pg_start
        pg_psql postgres -c "CREATE DATABASE jx_burst"
        url="$(pg_url jx_burst)"
    fi
    export JIAXIAO_DATABASE_URL="$url"
    t0=$SECONDS
    timeout 120 "$BIN" demo --no-serve >"$TMP/demo.txt" 2>&1 || { cat "$TMP/demo.txt"; exit 1; }
    gen_roster "$TMP/roster.csv" "$PARENTS"
    timeout 300 "$BIN" import roster --create-classes --school "$SCHOOL" "$TMP/roster.csv" >"$TMP/import.txt" 2>&1 || { tail "$TMP/import.txt"; exit 1; }
    school_id="$(sql "select id from org_unit where code = '$SCHOOL'")"
    JIAXIAO_NEW_PASSWORD="$STAFF_PASS" "$BIN" user create --username bench --name 压测 --role school_admin --unit "$school_id" >/dev/null
    staff_token="$("$BIN" user token --username bench)"
    "$BIN" user tokens --school "$SCHOOL" --out "$TMP/all_tokens.txt" --name burst
    head -n "$PARENTS" "$TMP/all_tokens.txt" >"$TMP/tokens.txt"
    echo "data ready in $((SECONDS - t0)) s: $(wc -l <"$TMP/all_tokens.txt") parents in school $SCHOOL (id $school_id), $(wc -l <"$TMP/tokens.txt") used"
    if [[ "$backend" == postgres ]]; then
        # The same shape as the check-in table (columns, unique constraint, indexes), so the
        # baseline pays for the same index maintenance as a check-in.
        pg_psql jx_burst -c "CREATE TABLE bench_insert (LIKE checkin INCLUDING ALL)"
        printf '%s\n' '\set g random(1, 1000000000)' \
            "INSERT INTO bench_insert (session_id, guardian_id, status, method, checked_at, device_hash, nonce, created_at) VALUES (1, :g, 'present', 'qr', now(), 'd' || :g, 'nonce-' || :g, now()) ON CONFLICT (session_id, guardian_id) DO NOTHING;" >"$TMP/insert.sql"
        chmod a+rx "$TMP"; chmod a+r "$TMP/insert.sql"
    fi

    port="$(free_port)"; hport="$(free_port)"
    env ${SERVE_ENV:-} JIAXIAO_LISTEN="127.0.0.1:$port" "$BIN" serve >"$TMP/serve.log" 2>&1 &
    SERVER=$!
    "$HELLO" "127.0.0.1:$hport" >"$TMP/hello.log" 2>&1 &
    HELLO_PID=$!
    wait_healthy "127.0.0.1:$port" 30 || { cat "$TMP/serve.log"; exit 1; }
    sleep 0.3
    rps_h=(); rps_j=(); ratio=(); p99=(); cpu=(); pgcpu=(); rps_pg=(); ratio_pg=(); xlsx=()
    for r in $(seq "$RUNS"); do
        wait_quiet
        [[ "$r" == 1 ]] && load_note
        sid="$("$BIN" session create --school "$SCHOOL" --title "压测 $r" --minutes 90)"
        code_file="$TMP/code"
        rm -f "$code_file"
        ( while :; do
            c="$(curl -s -H "Authorization: Bearer $staff_token" "http://127.0.0.1:$port/api/v1/sessions/$sid/checkin-code" | sed -n 's/.*"code":"\([0-9]\{6\}\)".*/\1/p')"
            [[ -n "$c" ]] && { echo "$c" >"$code_file.tmp"; mv "$code_file.tmp" "$code_file"; }
            sleep 2
          done ) &
        CODE_LOOP=$!
        for _ in $(seq 50); do [[ -s "$code_file" ]] && break; sleep 0.1; done
        echo "run $r: session $sid, code $(cat "$code_file")"
        wrk_until_done "$TMP/wrk_hello.txt" 120 2 "$TMP/done" -t2 -c"$CONC" -d300s --timeout 10s -s "$LUA" "http://127.0.0.1:$hport" -- "$TMP/tokens.txt" "$sid" "$code_file" 2 "$TMP/done"
        h="$(grep '^RESULT' "$TMP/wrk_hello.txt")" || { cat "$TMP/wrk_hello.txt"; exit 1; }
        echo "  hello    $h"
        c0="$(cpu_ticks "$SERVER")"; g0="$(pg_ticks)"
        PERF_PID=""
        if [[ -n "${PERF:-}" ]]; then
            perf record -F 2000 --call-graph dwarf,16384 -p "$SERVER" -o "$PERF.$backend.$r" >/dev/null 2>&1 &
            PERF_PID=$!; sleep 0.5
        fi
        wrk_until_done "$TMP/wrk_jiaxiao.txt" 120 2 "$TMP/done" -t2 -c"$CONC" -d300s --timeout 10s -s "$LUA" "http://127.0.0.1:$port" -- "$TMP/tokens.txt" "$sid" "$code_file" 2 "$TMP/done"
        c1="$(cpu_ticks "$SERVER")"; g1="$(pg_ticks)"
        [[ -n "$PERF_PID" ]] && { kill -INT "$PERF_PID"; wait "$PERF_PID" || true; }
        j="$(grep '^RESULT' "$TMP/wrk_jiaxiao.txt")" || { cat "$TMP/wrk_jiaxiao.txt"; exit 1; }
        echo "  jiaxiao  $j"
        kill "$CODE_LOOP" 2>/dev/null || true; wait "$CODE_LOOP" 2>/dev/null || true; CODE_LOOP=""
        rows="$(sql "select count(*) from checkin where session_id = $sid")"
        distinct="$(sql "select count(distinct guardian_id) from checkin where session_id = $sid")"
        val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
        new="$(val new "$j")"; errors="$(val errors "$j")"; serr="$(val socket_errors "$j")"
        ms_per="$(python3 -c "print(f'{($c1 - $c0) * 1000 / $TCK / $PARENTS:.3f}')")"
        pg_ms_per="$(python3 -c "print(f'{($g1 - $g0) * 1000 / $TCK / $PARENTS:.3f}')")"
        echo "  rows in the database: $rows ($distinct distinct parents); new=$new errors=$errors socket_errors=$serr; jiaxiao CPU $ms_per ms per check-in$([[ "$backend" == postgres ]] && echo ", postgres CPU $pg_ms_per ms per check-in")"
        if [[ "$rows" != "$PARENTS" || "$distinct" != "$PARENTS" || "$new" != "$PARENTS" || "$errors" != 0 || "$serr" != 0 ]]; then
            echo "  FAIL: expected $PARENTS new check-ins, $PARENTS rows and no errors"; tail -n 20 "$TMP/serve.log"; exit 1
        fi
        rps_h+=("$(val rps "$h")"); rps_j+=("$(val rps "$j")"); p99+=("$(val p99_ms "$j")"); cpu+=("$ms_per"); pgcpu+=("$pg_ms_per")
        ratio+=("$(python3 -c "print(f'{$(val rps "$j") / $(val rps "$h"):.3f}')")")
        if [[ "$backend" == postgres ]]; then
            per=$(( (PARENTS + CONC - 1) / CONC ))
            pg_psql jx_burst -c "TRUNCATE bench_insert"
            pgb="$(runuser -u postgres -- pgbench -n -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "$CONC" -j 2 -t "$per" -f "$TMP/insert.sql" jx_burst 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')"
            echo "  pgbench one-row INSERT: $pgb tps ($((per * CONC)) transactions, $CONC clients)"
            rps_pg+=("$pgb")
            ratio_pg+=("$(python3 -c "print(f'{$(val rps "$j") / $pgb:.3f}')")")
        else
            # The staff's XLSX export of this session's 20,000 check-ins, through the page.
            jar="$TMP/jar"; rm -f "$jar"
            # The login form's CSRF token comes with its cookie (login CSRF, decision 0010).
            lcsrf="$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)"
            curl -s -b "$jar" -c "$jar" -o /dev/null -d "who=bench&password=$STAFF_PASS&csrf=$lcsrf" "http://127.0.0.1:$port/login"
            xt="$(curl -s -b "$jar" -o "$TMP/export.xlsx" -w '%{time_total}' "http://127.0.0.1:$port/sessions/$sid/checkins.xlsx")"
            echo "  XLSX export of the session's check-ins: ${xt} s, $(du -k "$TMP/export.xlsx" | cut -f1) KB"
            xlsx+=("$xt")
        fi
    done
    load_note
    kill "$HELLO_PID" 2>/dev/null || true; HELLO_PID=""
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
    unset JIAXIAO_DATABASE_URL
    [[ "$backend" == postgres ]] && pg_stop
    rm -rf "$TMP"; TMP=""
    summary="hello_rps_median=$(median "${rps_h[@]}") checkin_rps_median=$(median "${rps_j[@]}") ratio_median=$(median "${ratio[@]}") ratio_runs=${ratio[*]} p99_ms_median=$(median "${p99[@]}") p99_runs=${p99[*]} cpu_ms_per_checkin_median=$(median "${cpu[@]}") cpu_runs=${cpu[*]}"
    if [[ "$backend" == postgres ]]; then
        summary="$summary pgbench_tps_median=$(median "${rps_pg[@]}") ratio_to_pgbench_median=$(median "${ratio_pg[@]}") ratio_to_pgbench_runs=${ratio_pg[*]} postgres_cpu_ms_per_checkin_median=$(median "${pgcpu[@]}")"
    else
        summary="$summary xlsx_export_s_median=$(median "${xlsx[@]}") xlsx_runs=${xlsx[*]}"
    fi
    RESULT[$backend]="$summary"
done
echo
for backend in $BACKENDS; do echo "RESULT checkin_burst_$backend ${RESULT[$backend]}"; done
echo "log: $LOG"
