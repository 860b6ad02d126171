#!/usr/bin/env bash
# Issue 9, item 6: the server's memory while three school admins' 50 MB roster files are
# previewed at once (the probe saw 73 MB → 1.07 GB, and the memory stayed).
#
#   JIAXIAO_BIN=/path/to/jiaxiao bash bench/upload_memory.sh      (from the repository root)
#   SIZE_MB=50 PARALLEL=3 ROUNDS=2 JIAXIAO_BIN=… bash bench/upload_memory.sh
#
# Prerequisites: a built binary (JIAXIAO_BIN, default target/release/jiaxiao), curl and
# python3. Each run: `jiaxiao demo` on a fresh SQLite data directory on a free loopback
# port, login as the demo's `school`, then PARALLEL uploads of the same generated CSV
# (bench/gen_wide_csv.py: 100,000 rows, a long notes column, SIZE_MB MB) to
# /import/preview at once, while VmRSS of the server is sampled every 0.1 s from /proc.
# ROUNDS times (a second round: the same admins uploading again). Printed: RSS before
# the uploads, the peak while they ran, and RSS 5 s after each round's last answer
# (what the previews keep: a server that keeps them grows with every round). The server and its directory are removed at the end.

source "$(dirname "$0")/lib.sh"
[[ -x "$BIN" ]] || { echo "missing $BIN" >&2; exit 1; }
SIZE_MB="${SIZE_MB:-50}"
PARALLEL="${PARALLEL:-3}"
ROUNDS="${ROUNDS:-2}"
CSV="$OUT/wide_${SIZE_MB}mb.csv"
[[ -s "$CSV" ]] || python3 "$ROOT/bench/gen_wide_csv.py" "$CSV" "$SIZE_MB"

DIR="$(mktemp -d)"
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
SERVER=""
cleanup() {
    [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT

"$BIN" demo --data-dir "$DIR/data" --listen "127.0.0.1:$PORT" >"$DIR/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.5
done
rss_mb() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status"; }

JAR="$DIR/jar"
# The login form's CSRF token comes with its cookie (login CSRF, decision 0010).
LCSRF="$(curl -fsS -c "$JAR" "$BASE/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)"
curl -fsS -b "$JAR" -c "$JAR" -o /dev/null -d who=school -d password=jiaxiao-demo -d "csrf=$LCSRF" "$BASE/login"
FORM="$(curl -fsS -b "$JAR" "$BASE/import")"
CSRF="$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$FORM" | head -1)"
SCHOOL="$(sed -n 's/.*<option value="\([0-9]*\)".*/\1/p' <<<"$FORM" | head -1)"

sleep 2
BEFORE="$(rss_mb)"
( peak=0; while kill -0 "$SERVER" 2>/dev/null; do
      r="$(rss_mb)"; (( r > peak )) && peak=$r && echo "$peak" >"$DIR/peak"
      sleep 0.1
  done ) &
SAMPLER=$!
AFTER=()
for round in $(seq 1 "$ROUNDS"); do
    pids=()
    for i in $(seq 1 "$PARALLEL"); do
        curl -sS -b "$JAR" -o "$DIR/answer$i.html" -w "round $round upload $i: %{http_code} in %{time_total} s\n" \
            -F "csrf=$CSRF" -F "school_id=$SCHOOL" -F "file=@$CSV;filename=roster$i.csv" \
            "$BASE/import/preview" &
        pids+=($!)
    done
    wait "${pids[@]}"
    sleep 5
    AFTER+=("$(rss_mb)")
done
kill "$SAMPLER" 2>/dev/null || true
PEAK="$(cat "$DIR/peak")"
for i in $(seq 1 "$PARALLEL"); do
    grep -o '可导入行数: [0-9]*\|class="alert"[^<]*<' "$DIR/answer$i.html" | head -1 | sed "s/^/answer $i: /"
done
echo "binary: $BIN"
echo "file: $CSV ($(du -m "$CSV" | cut -f1) MB), $PARALLEL previews at once"
echo "RSS before: ${BEFORE} MB; peak during: ${PEAK} MB; 5 s after each round: ${AFTER[*]} MB"
