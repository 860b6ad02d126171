#!/usr/bin/env bash
# Figure 4: `jiaxiao serve` cold start to the first 200 from /healthz (target ≤ 1 s) and
# idle RSS (target ≤ 60 MB), on the demo SQLite database.
#
#   bash bench/startup.sh                      (from the repository root; RUNS=3)
#
# Prerequisites: cargo build --release -p jiaxiao; python3.
# Creates the demo once in a temporary directory (`jiaxiao demo --no-serve`), then per
# run bench/startup_probe.py starts `jiaxiao serve` on it on a free loopback port,
# polls /healthz every 5 ms from the moment the process is spawned, records the time
# to the first 200, waits 5 s with no requests, reads VmRSS (and the peak, VmHWM)
# from /proc/PID/status and stops the server with SIGTERM. "Cold" means a new
# process: the binary and the database file are in the page cache (no cache is
# dropped). The temporary directory is removed. Takes about half a minute.

# Shared knobs (bench/lib.sh): RUNS (default 3); JIAXIAO_BIN (default
# target/release/jiaxiao); QUIET_WAIT=N waits up to N s for a quiet machine (≥ 80% CPU
# idle) before measuring. Logs go to bench/out/ (ignored by git).

source "$(dirname "$0")/lib.sh"
need_bin

LOG="$OUT/startup-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# serve start-up and idle RSS on the demo SQLite database, $RUNS runs, $(date -u +%FT%TZ), $($BIN --version)"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-startup.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
url="sqlite://$TMP/jiaxiao.db?mode=rwc"
JIAXIAO_DATABASE_URL="$url" timeout 120 "$BIN" demo --no-serve >"$TMP/demo.txt" 2>&1 || { cat "$TMP/demo.txt"; exit 1; }
wait_quiet
load_note

ready=(); rss=()
for i in $(seq "$RUNS"); do
    l="$(timeout 60 python3 "$ROOT/bench/startup_probe.py" "$BIN" "$url" --idle 5 --poll-ms 5 --log "$TMP/serve-$i.log")"
    echo "run $i: $l"
    ready+=("$(sed -n 's/.*ready_ms=\([0-9.]*\).*/\1/p' <<<"$l")")
    rss+=("$(sed -n 's/.*rss_mb=\([0-9.]*\).*/\1/p' <<<"$l")")
done
load_note
echo "RESULT startup_sqlite ready_median_ms=$(median "${ready[@]}") ready_runs_ms=${ready[*]} idle_rss_median_mb=$(median "${rss[@]}") idle_rss_runs_mb=${rss[*]}"
echo "log: $LOG"
