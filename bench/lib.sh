# Shared helpers for the bench/*.sh scripts. Sourced, not run.
# Everything is loopback-only; temporary directories live under ${TMPDIR:-/tmp}.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${JIAXIAO_BIN:-$ROOT/target/release/jiaxiao}"
OUT="$ROOT/bench/out"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
RUNS="${RUNS:-3}"
mkdir -p "$OUT"

# Keep the product's own logs quiet and away from the measurements.
export JIAXIAO_LOG="${JIAXIAO_LOG:-warn}"
# A stray setting from the caller's shell must not pick the database for us.
unset JIAXIAO_DATABASE_URL JIAXIAO_LISTEN JIAXIAO_CONFIG JIAXIAO_DATA_DIR

need_bin() {
    if [[ ! -x "$BIN" ]]; then
        echo "missing $BIN — build it first: cargo build --release -p jiaxiao" >&2
        exit 1
    fi
    [[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time — apt-get install -y time" >&2; exit 1; }
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# median of the arguments (numbers)
median() {
    python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.6g}")' "$@"
}

# What else the machine is doing, for the notes.
# (top's second frame: CPU use over the last second; processes above 2% of a core.)
load_note() {
    echo "--- load at $(date -u +%FT%TZ): $(uptime | sed 's/^ *//')"
    top -b -c -n 2 -d 1 -w 200 | awk '/^top -/ {f++} f == 2' |
        awk '/^%Cpu/ {print "    " $0} /^ *PID/ {p = 1; next} p && $9 + 0 > 2.0 {
            c = ""; for (i = 12; i <= NF; i++) c = c " " $i
            printf "    pid %s %s%% CPU:%s\n", $1, $9, substr(c, 1, 110) }' | head -8
}

# With QUIET_WAIT=N (seconds), wait up to N s for a quiet machine (CPU ≥ 80% idle over
# 2 s) before measuring; says whether it got one. Default: do not wait.
wait_quiet() {
    local limit="${QUIET_WAIT:-0}" start=$SECONDS idle
    [[ "$limit" -gt 0 ]] || return 0
    while :; do
        idle="$(top -b -n 2 -d 2 | awk '/^%Cpu/ {for (i = 1; i <= NF; i++) if ($i ~ /^id,?$/) v = $(i - 1)} END {printf "%d", v}')"
        if [[ "$idle" -ge 80 ]]; then echo "--- quiet: ${idle}% idle after $((SECONDS - start)) s of waiting"; return 0; fi
        if (( SECONDS - start >= limit )); then echo "--- not quiet after ${limit} s (${idle}% idle); measuring anyway"; return 0; fi
        sleep 5
    done
}

# Fields of /usr/bin/time -v output: wall seconds and peak RSS in MB.
time_wall_s() {
    awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"
}
time_rss_mb() {
    awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$1"
}

# Wait (up to $2 seconds, default 20) until http://$1/healthz answers 200.
wait_healthy() {
    local addr="$1" limit="${2:-20}"
    python3 - "$addr" "$limit" <<'PY'
import http.client, sys, time
host, port = sys.argv[1].rsplit(":", 1)
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=2)
        c.request("GET", "/healthz")
        if c.getresponse().status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit("server did not become healthy")
PY
}

# ---- a throwaway PostgreSQL cluster (default durability: fsync on) -------------------
PG_DIR=""
PG_PORT=""
pg_start() {
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-pg.XXXXXX")"
    chown postgres: "$PG_DIR"
    PG_PORT="$(free_port)"
    runuser -u postgres -- "$PGBIN/initdb" -D "$PG_DIR/data" -U postgres -A trust >"$PG_DIR/initdb.log" 2>&1
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DIR/data" \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" -l "$PG_DIR/log" -w start >/dev/null
    echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}
pg_stop() {
    if [[ -n "$PG_DIR" && -d "$PG_DIR/data" ]]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    [[ -n "$PG_DIR" ]] && rm -rf "$PG_DIR"
    PG_DIR=""
    return 0
}
pg_psql() { # pg_psql DB [psql args…]   (killed after PSQL_TIMEOUT seconds, default 900)
    local db="$1"; shift
    timeout "${PSQL_TIMEOUT:-900}" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" "$@"
}
pg_url() { echo "postgres://postgres@127.0.0.1:$PG_PORT/$1?sslmode=disable"; }

# wrk_until_done OUTFILE MAXSECS NTHREADS DONEDIR WRK-ARGS… — runs wrk in the background
# and ends it with SIGINT as soon as each of its NTHREADS Lua threads has written
# DONEDIR/done-<n> (wrk otherwise always runs for its whole -d); MAXSECS bounds a run
# that never finishes. For bench/checkin_burst.lua.
wrk_until_done() {
    local out="$1" max="$2" n="$3" dir="$4" pid start i all
    shift 4
    rm -rf "$dir"; mkdir -p "$dir"
    wrk "$@" >"$out" 2>&1 &
    pid=$!
    start=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        all=1
        for ((i = 0; i < n; i++)); do [[ -e "$dir/done-$i" ]] || all=0; done
        if [[ "$all" == 1 ]] || (( SECONDS - start >= max )); then kill -INT "$pid" 2>/dev/null || true; break; fi
        sleep 0.05
    done
    wait "$pid" 2>/dev/null || true
}
