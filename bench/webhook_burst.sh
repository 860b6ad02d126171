#!/usr/bin/env bash
# Issue 14's webhook figure: a burst of EVENTS check-ins is delivered to a local receiver
# within 60 s, none lost across a `serve` restart (kill -9 in the middle of sending).
#
#   bash bench/webhook_burst.sh                       (from the repository root)
#   EVENTS=20000 KILL_AFTER=3 BACKENDS="sqlite postgres" RUNS=3 bash bench/webhook_burst.sh
#
# Prerequisites: cargo build --release -p jiaxiao; python3; curl; for PostgreSQL the 15
# server binaries and psql (run as root). Per backend: demo data, a roster of EVENTS
# parents at SCHOOL (`jiaxiao import roster`), the county admin registers a webhook on the
# county through the API (`webhook_private_ok`, the receiver is on loopback), then per run:
# a new session and one INSERT … SELECT of a check-in for each parent (the burst: the
# check-in table as the writer leaves it, so the figure is the webhook path alone);
# timing starts at that commit; after KILL_AFTER s `serve` gets SIGKILL and is started
# again; the run ends when the receiver (bench/webhook_receiver.py, which checks every
# signature) holds every check-in of the session, or after LIMIT s. Reports the seconds to
# the last one, how many deliveries came twice (at least once: those the dead process had
# sent but not recorded) and how many are missing.

source "$(dirname "$0")/lib.sh"
need_bin

EVENTS="${EVENTS:-20000}"
SCHOOL="${SCHOOL:-6101130007}"
KILL_AFTER="${KILL_AFTER:-3}"
LIMIT="${LIMIT:-180}"
BACKENDS="${BACKENDS:-sqlite postgres}"

LOG="$OUT/webhook_burst-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# webhook burst: $EVENTS check-ins, kill -9 after ${KILL_AFTER} s, $RUNS runs, $(date -u +%FT%TZ), $($BIN --version), $(git -C "$ROOT" rev-parse --short HEAD)"

TMP=""; SERVER=""; RECEIVER=""
cleanup() {
    [[ -n "$RECEIVER" ]] && kill "$RECEIVER" 2>/dev/null || true
    if [[ -n "$SERVER" ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    [[ -n "$TMP" ]] && rm -rf "$TMP"
    pg_stop
}
trap cleanup EXIT

sql() {
    if [[ "$backend" == sqlite ]]; then
        python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchone(); c.commit(); print(r[0] if r else "")' "$TMP/jiaxiao.db" "$1"
    else
        pg_psql jx_hooks -tAc "$1"
    fi
}

start_server() {
    JIAXIAO_WEBHOOK_PRIVATE_OK=true JIAXIAO_LISTEN="127.0.0.1:$port" "$BIN" serve >>"$TMP/serve.log" 2>&1 &
    SERVER=$!
    wait_healthy "127.0.0.1:$port" 30 || { cat "$TMP/serve.log"; exit 1; }
}

declare -A RESULT
for backend in $BACKENDS; do
    echo
    echo "## $backend"
    TMP="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-hooks.XXXXXX")"
    if [[ "$backend" == sqlite ]]; then
        url="sqlite://$TMP/jiaxiao.db?mode=rwc"
    else
        pg_start
        pg_psql postgres -c "CREATE DATABASE jx_hooks"
        url="$(pg_url jx_hooks)"
    fi
    export JIAXIAO_DATABASE_URL="$url"
    timeout 120 "$BIN" demo --no-serve >"$TMP/demo.txt" 2>&1 || { cat "$TMP/demo.txt"; exit 1; }
    python3 - "$TMP/roster.csv" "$EVENTS" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
grades = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
with open(out, "w", encoding="utf-8") as f:
    f.write("学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n")
    for i in range(n):
        f.write(f"2027{i:07d},学生{i},{'男' if i % 2 else '女'},{grades[i % 6]},{(i // 6) % 20 + 1}班,家长{i},父亲,131{i:08d}\n")
PY
    timeout 300 "$BIN" import roster --create-classes --school "$SCHOOL" "$TMP/roster.csv" >"$TMP/import.txt" 2>&1 || { tail "$TMP/import.txt"; exit 1; }
    school_id="$(sql "select id from org_unit where code = '$SCHOOL'")"
    county_id="$(sql "select parent_id from org_unit where id = $school_id")"
    port="$(free_port)"; rport="$(free_port)"
    start_server
    token=$(curl -fs -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
        -d '{"username":"county","password":"jiaxiao-demo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    made="$(curl -fs -X POST "http://127.0.0.1:$port/api/v1/webhooks" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
        -d "{\"unit_id\": $county_id, \"url\": \"http://127.0.0.1:$rport/hook\", \"events\": [\"checkin.recorded\"]}")"
    python3 -c 'import json,sys; print(json.loads(sys.argv[1])["secret"])' "$made" >"$TMP/secret"
    python3 "$ROOT/bench/webhook_receiver.py" "$rport" "$TMP/secret" "$TMP/state.json" &
    RECEIVER=$!
    times=()
    for r in $(seq "$RUNS"); do
        wait_quiet
        [[ -n "$SERVER" ]] || start_server
        sid="$("$BIN" session create --school "$SCHOOL" --title "推送测试 $r" --minutes 90)"
        before="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkins"])' "$TMP/state.json")"
        t0="$(date +%s.%N)"
        sql "INSERT INTO checkin (session_id, guardian_id, status, method, checked_at, created_at) SELECT t.id, g.id, 'present', 'qr', t.starts_at, t.starts_at FROM teaching_session t, guardian g WHERE t.id = $sid AND g.phone LIKE '131%'" >/dev/null
        load_note
        sleep "$KILL_AFTER"
        mid="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkins"])' "$TMP/state.json")"
        kill -9 "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
        start_server
        want=$((before + EVENTS))
        end=""
        while :; do
            now="$(date +%s.%N)"
            got="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkins"])' "$TMP/state.json")"
            if (( got >= want )); then end="$now"; break; fi
            python3 -c "import sys; sys.exit(0 if float('$now') - float('$t0') < $LIMIT else 1)" || break
            sleep 0.5
        done
        state="$(cat "$TMP/state.json")"
        if [[ -n "$end" ]]; then
            secs="$(python3 -c "import json; s=json.load(open('$TMP/state.json')); print(round(s['last'] - $t0, 1))")"
            times+=("$secs")
            echo "run $r: session $sid, $EVENTS check-ins delivered in $secs s (at the kill, ${KILL_AFTER} s in: $((mid - before))); receiver: $state"
        else
            echo "run $r: session $sid, NOT all delivered within $LIMIT s: $((got - before)) of $EVENTS; receiver: $state"
            times+=("x")
        fi
    done
    kill "$RECEIVER" 2>/dev/null || true; RECEIVER=""
    kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""
    RESULT[$backend]="seconds=$(IFS=,; echo "${times[*]}") median=$(median "${times[@]/x/999}") final=$state"
    rm -rf "$TMP"; TMP=""
    [[ "$backend" == postgres ]] && pg_stop
done
echo
for b in $BACKENDS; do echo "RESULT $b ${RESULT[$b]}"; done
echo "log: $LOG"
