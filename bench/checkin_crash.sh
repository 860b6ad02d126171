#!/usr/bin/env bash
# Issue 3's crash figure: kill -9 `jiaxiao serve` in the middle of a check-in burst,
# restart it, and check that every check-in the server acknowledged (201 or 200) is in
# the database, and none twice.
#
#   bash bench/checkin_crash.sh                 (from the repository root)
#   RUNS=3 PARENTS=20000 CONC=64 KILL_AFTER=1.5 BACKENDS="sqlite postgres" bash bench/checkin_crash.sh
#
# Prerequisites: as bench/checkin_burst.sh (release build, wrk, curl, python3, and for
# PostgreSQL the 15 server binaries and psql; run as root).
#
# Data as in checkin_burst.sh (demo + a generated roster of PARENTS parents in SCHOOL,
# one API token per parent). Each run: a new session; `jiaxiao serve`; the code loop;
#   pass 1: wrk (bench/checkin_burst.lua with an ACKDIR: every 201/200 is appended and
#           flushed to a file with the parent's id) for at most 6 s; after KILL_AFTER
#           seconds the server gets SIGKILL, so the rest of pass 1 meets a dead port;
#   restart `jiaxiao serve` on the same database;
#   pass 2: every parent checks in again with a new nonce.
# Checks: every parent acknowledged in pass 1 is in the database, and pass 2 answered
# each of them 200 "already checked in" (a lost row would have been created anew: 201);
# the session has exactly PARENTS rows, one per parent. The server, the cluster and the
# temporary directories are removed at the end, also on failure or Ctrl-C.

source "$(dirname "$0")/lib.sh"
need_bin

PARENTS="${PARENTS:-20000}"
CONC="${CONC:-64}"
SCHOOL="${SCHOOL:-6101130007}"
KILL_AFTER="${KILL_AFTER:-1.5}"
BACKENDS="${BACKENDS:-sqlite postgres}"
command -v wrk >/dev/null || { echo "missing wrk — apt-get install -y wrk" >&2; exit 1; }
LUA="$ROOT/bench/checkin_burst.lua"
STAFF_PASS="bench-pass-1"

LOG="$OUT/checkin_crash-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# check-in crash: $PARENTS parents, concurrency $CONC, kill -9 after ${KILL_AFTER} s, $RUNS runs, $(date -u +%FT%TZ), $($BIN --version)"

TMP=""; SERVER=""; CODE_LOOP=""
cleanup() {
    [[ -n "$CODE_LOOP" ]] && kill "$CODE_LOOP" 2>/dev/null || true
    if [[ -n "$SERVER" ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    [[ -n "$TMP" ]] && rm -rf "$TMP"
    pg_stop
}
trap cleanup EXIT

sql() {
    if [[ "$backend" == sqlite ]]; then
        python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$TMP/jiaxiao.db" "$1"
    else
        pg_psql jx_crash -tAc "$1"
    fi
}

start_server() {
    JIAXIAO_LISTEN="127.0.0.1:$port" "$BIN" serve >>"$TMP/serve.log" 2>&1 &
    SERVER=$!
    wait_healthy "127.0.0.1:$port" 30 || { cat "$TMP/serve.log"; exit 1; }
}

declare -A RESULT
for backend in $BACKENDS; do
    echo
    echo "## $backend"
    TMP="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-crash.XXXXXX")"
    if [[ "$backend" == sqlite ]]; then
        url="sqlite://$TMP/jiaxiao.db?mode=rwc"
    else
        pg_start
        pg_psql postgres -c "CREATE DATABASE jx_crash"
        url="$(pg_url jx_crash)"
    fi
    export JIAXIAO_DATABASE_URL="$url"
    timeout 120 "$BIN" demo --no-serve >"$TMP/demo.txt" 2>&1 || { cat "$TMP/demo.txt"; exit 1; }
    python3 - "$TMP/roster.csv" "$PARENTS" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
grades = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
with open(out, "w", encoding="utf-8") as f:
    f.write("学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n")
    for i in range(n):
        f.write(f"2027{i:07d},学生{i},{'男' if i % 2 else '女'},{grades[i % 6]},{(i // 6) % 20 + 1}班,家长{i},父亲,130{i:08d}\n")
PY
    timeout 300 "$BIN" import roster --create-classes --school "$SCHOOL" "$TMP/roster.csv" >"$TMP/import.txt" 2>&1 || { tail "$TMP/import.txt"; exit 1; }
    school_id="$(sql "select id from org_unit where code = '$SCHOOL'")"
    JIAXIAO_NEW_PASSWORD="$STAFF_PASS" "$BIN" user create --username bench --name 压测 --role school_admin --unit "$school_id" >/dev/null
    staff_token="$("$BIN" user token --username bench)"
    "$BIN" user tokens --school "$SCHOOL" --out "$TMP/all_tokens.txt" --name crash
    head -n "$PARENTS" "$TMP/all_tokens.txt" >"$TMP/tokens.txt"
    port="$(free_port)"
    verdicts=()
    for r in $(seq "$RUNS"); do
        wait_quiet
        start_server
        sid="$("$BIN" session create --school "$SCHOOL" --title "断电测试 $r" --minutes 90)"
        code_file="$TMP/code"; rm -f "$code_file"
        ( while :; do
            c="$(curl -s -m 2 -H "Authorization: Bearer $staff_token" "http://127.0.0.1:$port/api/v1/sessions/$sid/checkin-code" | sed -n 's/.*"code":"\([0-9]\{6\}\)".*/\1/p')"
            [[ -n "$c" ]] && { echo "$c" >"$code_file.tmp"; mv "$code_file.tmp" "$code_file"; }
            sleep 2
          done ) &
        CODE_LOOP=$!
        for _ in $(seq 50); do [[ -s "$code_file" ]] && break; sleep 0.1; done
        acks1="$TMP/acks1-$r"; acks2="$TMP/acks2-$r"; mkdir -p "$acks1" "$acks2" "$TMP/done1-$r"
        wrk -t2 -c"$CONC" -d6s --timeout 3s -s "$LUA" "http://127.0.0.1:$port" -- "$TMP/tokens.txt" "$sid" "$code_file" 2 "$TMP/done1-$r" "$acks1" >"$TMP/wrk1.txt" 2>&1 &
        WRK=$!
        sleep "$KILL_AFTER"
        kill -9 "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
        wait "$WRK" || true
        echo "run $r: session $sid; pass 1 killed after ${KILL_AFTER} s: $(grep '^RESULT' "$TMP/wrk1.txt" || tail -n 3 "$TMP/wrk1.txt")"
        start_server
        wrk_until_done "$TMP/wrk2.txt" 120 2 "$TMP/done2-$r" -t2 -c"$CONC" -d300s --timeout 10s -s "$LUA" "http://127.0.0.1:$port" -- "$TMP/tokens.txt" "$sid" "$code_file" 2 "$TMP/done2-$r" "$acks2"
        echo "  pass 2 after the restart: $(grep '^RESULT' "$TMP/wrk2.txt")"
        kill "$CODE_LOOP" 2>/dev/null || true; wait "$CODE_LOOP" 2>/dev/null || true; CODE_LOOP=""
        rows="$(sql "select count(*) from checkin where session_id = $sid")"
        distinct="$(sql "select count(distinct guardian_id) from checkin where session_id = $sid")"
        if [[ "$backend" == sqlite ]]; then
            python3 -c 'import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute("select guardian_id from checkin where session_id = ?", (int(sys.argv[2]),))]' "$TMP/jiaxiao.db" "$sid" >"$TMP/in_db.txt"
        else
            pg_psql jx_crash -tAc "select guardian_id from checkin where session_id = $sid" >"$TMP/in_db.txt"
        fi
        verdict="$(python3 - "$acks1" "$acks2" "$TMP/in_db.txt" "$PARENTS" "$rows" "$distinct" <<'PY'
import glob, sys
acks1, acks2, in_db, n, rows, distinct = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def read(d):
    out = {}
    for f in glob.glob(d + "/acks-*.txt"):
        for line in open(f):
            g, st = line.split()
            out.setdefault(int(g), []).append(int(st))
    return out
first, second = read(acks1), read(acks2)
db = {int(l) for l in open(in_db) if l.strip()}
missing = [g for g in first if g not in db]
recreated = [g for g in first if 201 in second.get(g, [])]
ok = not missing and not recreated and rows == n and distinct == n and len(second) == n
print(f"{'PASS' if ok else 'FAIL'} acknowledged_before_kill={len(first)} missing_after_restart={len(missing)} "
      f"recreated_in_pass2={len(recreated)} rows={rows} distinct={distinct} answered_in_pass2={len(second)}")
PY
)"
        echo "  $verdict"
        verdicts+=("$verdict")
        kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
        [[ "$verdict" == PASS* ]] || exit 1
    done
    unset JIAXIAO_DATABASE_URL
    [[ "$backend" == postgres ]] && pg_stop
    rm -rf "$TMP"; TMP=""
    RESULT[$backend]="runs=${#verdicts[@]} all_pass acknowledged_before_kill=$(printf '%s\n' "${verdicts[@]}" | sed -n 's/.*acknowledged_before_kill=\([0-9]*\).*/\1/p' | paste -sd/)"
done
echo
for backend in $BACKENDS; do echo "RESULT checkin_crash_$backend ${RESULT[$backend]}"; done
echo "log: $LOG"
