#!/usr/bin/env bash
# Issue 16's figures: a province on PostgreSQL and a city on SQLite (bench/scale_gen.py),
# the office overview pages, a school's home, and the server's memory during them and
# during the province roll-up XLSX and a big school's ledger XLSX (the year's check-ins).
#
#   bash bench/scale.sh                        (from the repository root; both scales)
#   SCALES=province bash bench/scale.sh        (only one: province or city)
#   KEEP=1 bash bench/scale.sh                 keep the generated data afterwards …
#   REUSE=1 bash bench/scale.sh                … and measure it again without regenerating
#   FACTOR=0.1 bash bench/scale.sh             a tenth of the schools (and everything under)
#
# Prerequisites: cargo build --release -p jiaxiao; python3; curl; PostgreSQL 15 server
# binaries in /usr/lib/postgresql/15/bin and psql; run as root (the cluster runs as the
# `postgres` user). Disk: about 9 GB for the province while it exists (see BENCHMARKS.md).
#
# Per scale:
#   province  PostgreSQL cluster with its data dir in $PG_ROOT (default
#             /var/tmp/jx-scale-pg), database jx_scale
#   city      SQLite file $SQLITE_ROOT/jiaxiao.db (default /var/tmp/jx-scale-city)
# 1. Unless REUSE=1 finds data from an earlier KEEP=1 run: `jiaxiao migrate` on an empty
#    database (the product's own schema), then bench/scale_gen.py (timed; disk measured),
#    then staff accounts made with `jiaxiao user create` — province_admin `sprov` at the
#    province, city_admin `scity` at the first city, county_admin `scounty` at its first
#    county, school_admin `sschool` at the biggest ordinary school, school_admin `smega`
#    at the extra-big school (1,100,000 check-ins) — password $PASSWORD.
# 2. `jiaxiao serve` on a free loopback port; each account logs in through the login
#    form (cookie), then RUNS rounds of bench/latency.py, each account on its own page:
#       GET /healthz               baseline
#       GET /ps/units/{province}   province overview      (sprov)
#       GET /ps/units/{city}       city overview          (scity)
#       GET /ps/units/{county}     county overview        (scounty)
#       GET /ps/schools/{school}   the big school's home  (sschool)
#       GET /ps/schools/{mega}     the extra-big school's home (smega)
#       GET /ps/schools/{school}/trainees, …/{mega}/trainees   their trainees lists (one page)
#       GET /people?kind=pupils, …&sort=name&page=2&after=150000 (keyset), …?kind=guardians
#                                  the people lists of the province (city) office
#    In round 1 a page is first timed once (timeout PROBE_MAX s); a page slower than a second is
#    measured with fewer requests (N shrinks to fit about SLOW_BUDGET s per round, at
#    least 3; no warm-ups beyond the probe), so the "before" code finishes at all.
# 3. Peak resident memory (VmHWM, reset through /proc/PID/clear_refs): per page in
#    round 1; then, each on a freshly started server, during GET /ps/units/{province}/rollup.xlsx; during
#    GET /ps/schools/{school}/ledger.xlsx and …/{mega}/ledger.xlsx (the ledger's check-in
#    sheet is the school's year of check-ins: past a sheet's 1,048,576 rows for the
#    extra-big school before the streamed export; since then GET …/{mega}/checkins.xlsx, the
#    year's check-ins in a workbook of their own). Each download is timed (timeout XLSX_MAX s) and its size recorded.
#    Then the PDF dossier of the big school and of the extra-big one, each queued from its
#    ledger page on a fresh server and waited for (timeout DOSSIER_MAX s): time, server peak,
#    the job's end state and the PDF's size.
# The server and cluster stop at the end, also on failure; each scale's data is deleted
# once it is measured, unless KEEP=1. Logs go to bench/out/ (ignored by git), RESULT lines at the end.

source "$(dirname "$0")/lib.sh"
need_bin

SCALES="${SCALES:-province city}"
FACTOR="${FACTOR:-1}"
N="${N:-100}"
PROBE_MAX="${PROBE_MAX:-600}"
SLOW_BUDGET="${SLOW_BUDGET:-60}"
XLSX_MAX="${XLSX_MAX:-1200}"
DOSSIER_MAX="${DOSSIER_MAX:-900}"
PASSWORD="${PASSWORD:-scale-bench-2026}"
PG_ROOT="${PG_ROOT:-/var/tmp/jx-scale-pg}"
SQLITE_ROOT="${SQLITE_ROOT:-/var/tmp/jx-scale-city}"

LOG="$OUT/scale-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# scale figures (issue 16): SCALES=$SCALES FACTOR=$FACTOR RUNS=$RUNS N=$N, $(date -u +%FT%TZ), $($BIN --version), $(git -C "$ROOT" rev-parse --short HEAD)"

SERVER=""; PG_UP=""; TMP="$(mktemp -d "${TMPDIR:-/tmp}/jxbench-scale.XXXXXX")"
scale_pg_start() {
    PG_PORT="$(free_port)"
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_ROOT/data" \
        -o "-p $PG_PORT -k $PG_ROOT -c listen_addresses=127.0.0.1 -c max_wal_size=2GB -c checkpoint_timeout=30min -c shared_buffers=1GB" \
        -l "$PG_ROOT/log" -w start >/dev/null
    PG_UP=1
    echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_ROOT)"
}
scale_pg_stop() {
    if [[ -n "$PG_UP" ]]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG_ROOT/data" -m fast -w stop >/dev/null 2>&1 || true
        PG_UP=""
    fi
}
cleanup() {
    if [[ -n "$SERVER" ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    scale_pg_stop
    if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$PG_ROOT" "$SQLITE_ROOT"; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# login USER → prints the session cookie "jx_session=…"
login() {
    local jar="$TMP/jar-$1" csrf
    # The login form's CSRF token comes with its cookie (login CSRF, decision 0010).
    csrf="$(curl -fsS -c "$jar" "http://$ADDR/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)"
    curl -fsS -b "$jar" -c "$jar" -o /dev/null -d "who=$1" -d "password=$PASSWORD" -d "csrf=$csrf" "http://$ADDR/login"
    awk '$6 == "jx_session" {print "jx_session=" $7}' "$jar"
}

hwm_reset() { echo 5 >"/proc/$SERVER/clear_refs"; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVER/status"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER/status"; }

# download COOKIE PATH → "http_status seconds bytes peak_MB" (status 000: timed out)
download() {
    hwm_reset
    local out
    out="$(curl -sS -m "$XLSX_MAX" -H "Cookie: $1" -o "$TMP/dl" -w '%{http_code} %{time_total} %{size_download}' "http://$ADDR$2")" || true
    echo "${out:-000 $XLSX_MAX 0} $(hwm_mb)"
    rm -f "$TMP/dl"
}

# dossier COOKIE SCHOOL → "end_state seconds pdf_bytes peak_MB": queues the school's PDF
# dossier as its ledger page does and polls the job in the database until it ends.
dossier() {
    local csrf start state="timeout" bytes=0 end
    csrf="$(curl -sS -H "Cookie: $1" "http://$ADDR/ps/schools/$2/ledger" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)"
    hwm_reset
    start="$(date +%s.%N)"
    curl -sS -H "Cookie: $1" -o /dev/null -d "csrf=$csrf" "http://$ADDR/ps/schools/$2/dossier"
    end=$(( $(date +%s) + DOSSIER_MAX ))
    while (( $(date +%s) < end )); do
        read -r state bytes <<<"$(job_state "$2")"
        [[ "$state" == done || "$state" == failed ]] && break
        sleep 1
    done
    echo "$state $(python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.1f}")' "$start") ${bytes:-0} $(hwm_mb)"
}
# job_state SCHOOL → "status pdf_bytes" of the school's latest dossier job
job_state() {
    local sql="SELECT status || ' ' || COALESCE(result_json, '{}') FROM import_job WHERE unit_id = $1 AND file_name = 'dossier.pdf' ORDER BY id DESC LIMIT 1"
    local row
    if [[ "$backend" == postgres ]]; then row="$(PSQL_TIMEOUT=30 pg_psql jx_scale -tAc "$sql")"
    else row="$(python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "none {}")' "$SQLITE_ROOT/jiaxiao.db" "$sql")"; fi
    python3 -c 'import json,sys; st,_,js=sys.argv[1].partition(" "); print(st, json.loads(js or "{}").get("bytes", 0))' "$row"
}

declare -A RESULT
for scale in $SCALES; do
    echo
    echo "## $scale"
    if [[ "$scale" == province ]]; then backend=postgres; root="$PG_ROOT"; else backend=sqlite; root="$SQLITE_ROOT"; fi
    if [[ "${REUSE:-0}" == 1 && -f "$root/ids.env" ]]; then
        echo "reusing the data in $root"
        [[ "$backend" == postgres ]] && scale_pg_start
    else
        rm -rf "$root"; mkdir -p "$root"
        echo "disk before: $(df -h --output=avail "$(dirname "$root")" | tail -1 | tr -d ' ') free"
        if [[ "$backend" == postgres ]]; then
            chown postgres: "$root"
            runuser -u postgres -- "$PGBIN/initdb" -D "$root/data" -U postgres -A trust >"$root/initdb.log" 2>&1
            scale_pg_start
            PSQL_TIMEOUT=60 pg_psql postgres -c "CREATE DATABASE jx_scale"
        fi
    fi
    if [[ "$backend" == postgres ]]; then
        url="$(pg_url jx_scale)"
        target=(--pg "host=127.0.0.1 port=$PG_PORT user=postgres dbname=jx_scale")
    else
        url="sqlite://$root/jiaxiao.db?mode=rwc"
        target=(--sqlite "$root/jiaxiao.db")
    fi
    if [[ ! -f "$root/ids.env" ]]; then
        JIAXIAO_DATABASE_URL="$url" "$BIN" migrate >"$TMP/migrate.txt" 2>&1 || { cat "$TMP/migrate.txt"; exit 1; }
        /usr/bin/time -v -o "$TMP/gen.time" python3 "$ROOT/bench/scale_gen.py" --backend "$backend" --scale "$scale" \
            --factor "$FACTOR" "${target[@]}" >"$root/ids.env"
        gen_s="$(time_wall_s "$TMP/gen.time")"
        echo "generator: ${gen_s} s wall, peak RSS $(time_rss_mb "$TMP/gen.time") MB (python)"
        # shellcheck disable=SC1091
        source "$root/ids.env"
        for acc in "sprov province_admin $PROVINCE" "scity city_admin $CITY" "scounty county_admin $COUNTY" "sschool school_admin $BIG_SCHOOL" "smega school_admin $MEGA_SCHOOL"; do
            set -- $acc
            JIAXIAO_DATABASE_URL="$url" JIAXIAO_NEW_PASSWORD="$PASSWORD" "$BIN" user create --username "$1" --name "$1" --role "$2" --unit "$3" >/dev/null
        done
        if [[ "$backend" == postgres ]]; then
            db_mb="$(pg_psql jx_scale -tAc "select pg_database_size('jx_scale') / 1048576")"
            sync; disk_mb="$(du -sm "$root" | cut -f1)"
        else
            db_mb="$(du -m "$root/jiaxiao.db" | cut -f1)"; disk_mb="$(du -sm "$root" | cut -f1)"
        fi
        echo "GEN_S=$gen_s" >>"$root/ids.env"; echo "DB_MB=$db_mb" >>"$root/ids.env"; echo "DISK_MB=$disk_mb" >>"$root/ids.env"
        echo "database: $db_mb MB; data directory: $disk_mb MB; disk after: $(df -h --output=avail "$(dirname "$root")" | tail -1 | tr -d ' ') free"
    fi
    # shellcheck disable=SC1091
    source "$root/ids.env"
    echo "ids: province $PROVINCE, city $CITY, county $COUNTY, big school $BIG_SCHOOL, extra-big school $MEGA_SCHOOL ($MEGA_CHECKINS check-ins); moved: ${MOVED:-}"

    port="$(free_port)"; ADDR="127.0.0.1:$port"
    serve_fresh() { # (re)start the server: a download's peak then starts from a fresh process
        if [[ -n "$SERVER" ]]; then kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; fi
        JIAXIAO_DATABASE_URL="$url" JIAXIAO_DATA_DIR="$root/files" JIAXIAO_LISTEN="$ADDR" "$BIN" serve >>"$TMP/serve.log" 2>&1 &
        SERVER=$!
        wait_healthy "$ADDR" 120 || { cat "$TMP/serve.log"; exit 1; }
    }
    serve_fresh
    echo "server RSS at start: $(rss_mb) MB"
    c_prov="$(login sprov)"; c_city="$(login scity)"; c_county="$(login scounty)"; c_school="$(login sschool)"; c_mega="$(login smega)"
    [[ -n "$c_prov" && -n "$c_school" ]] || { echo "login failed"; exit 1; }
    pages=("healthz|/healthz|" "province|/ps/units/$PROVINCE|$c_prov" "city|/ps/units/$CITY|$c_city"
           "county|/ps/units/$COUNTY|$c_county" "school|/ps/schools/$BIG_SCHOOL|$c_school"
           "mega|/ps/schools/$MEGA_SCHOOL|$c_mega" "trainees|/ps/schools/$BIG_SCHOOL/trainees|$c_school"
           "mega_trainees|/ps/schools/$MEGA_SCHOOL/trainees|$c_mega")
    [[ "$scale" == city ]] && pages=("${pages[@]:0:1}" "${pages[@]:2}")
    # The people lists of the top office: the first page, a page deep in name order reached
    # by keyset (as its "next" link continues), and the guardians' first page.
    c_top="$c_prov"; [[ "$scale" == city ]] && c_top="$c_city"
    pages+=("pupils|/people?kind=pupils|$c_top" "pupils_deep|/people?kind=pupils&sort=name&page=2&after=150000|$c_top"
            "guardians|/people?kind=guardians|$c_top")
    wait_quiet
    load_note
    declare -A P95=() NREQ=() PROBE=() PEAK=() BEFORE=()
    probe() {
        local name="$1" path="$2" cookie="$3" t secs
        t="$(curl -sS -m "$PROBE_MAX" ${cookie:+-H "Cookie: $cookie"} -o /dev/null -w '%{http_code} %{time_total}' "http://$ADDR$path")" || t="timeout $PROBE_MAX"
        PROBE[$name]="$t"
        echo "probe $name $path: HTTP/seconds $t"
        secs="${t#* }"
        [[ "${t%% *}" == 200 ]] || { echo "  $name failed; not measured"; NREQ[$name]=0; return 0; }
        NREQ[$name]="$(python3 -c 'import sys; s=float(sys.argv[1]); n=int(sys.argv[2]); b=float(sys.argv[3]); print(n if s < 1 else max(3, min(n, int(b / s))))' "$secs" "$N" "$SLOW_BUDGET")"
    }
    # Memory per page is taken in round 1 only, slowest pages last: the allocator keeps
    # what a page took, so later pages' peaks start from the resident size it left
    # (BEFORE says how much that was).
    for r in $(seq "$RUNS"); do
        [[ "$r" -gt 1 ]] && wait_quiet
        echo "round $r:"
        for pg in "${pages[@]}"; do
            IFS='|' read -r name path cookie <<<"$pg"
            if [[ "$r" == 1 ]]; then BEFORE[$name]="$(rss_mb)"; hwm_reset; probe "$name" "$path" "$cookie"; fi
            n="${NREQ[$name]}"; [[ "$n" -gt 0 ]] || continue
            warm=20; [[ "$n" -lt "$N" ]] && warm=0
            l="$(python3 "$ROOT/bench/latency.py" "$ADDR" "$path" ${cookie:+--cookie "$cookie"} -n "$n" --warmup "$warm" \
                --timeout "$PROBE_MAX" --label "  $(printf '%-9s' "$name")")"; echo "$l"
            P95[$name]="${P95[$name]:-} $(sed -n 's/.* p95=\([0-9.]*\) .*/\1/p' <<<"$l")"
            [[ "$r" == 1 ]] && PEAK[$name]="$(hwm_mb)"
        done
    done
    pages_hwm=0; for k in "${!PEAK[@]}"; do (( PEAK[$k] > pages_hwm )) && pages_hwm="${PEAK[$k]}"; done
    echo "server memory during the page rounds: peak $pages_hwm MB, resident after $(rss_mb) MB; round 1's peak per page (resident before it), MB:$(for k in "${!PEAK[@]}"; do printf ' %s=%s(%s)' "$k" "${PEAK[$k]}" "${BEFORE[$k]}"; done)"
    load_note
    unit_for_rollup="$PROVINCE"; c_rollup="$c_prov"; [[ "$scale" == city ]] && { unit_for_rollup="$CITY"; c_rollup="$c_city"; }
    # Each download on a freshly started server (sessions live in the database: the
    # cookies stay valid), so its peak is its own, not what the pages left resident.
    serve_fresh
    read -r ro_h ro_s ro_b ro_mb <<<"$(download "$c_rollup" "/ps/units/$unit_for_rollup/rollup.xlsx")"
    echo "rollup.xlsx of unit $unit_for_rollup: HTTP $ro_h, $ro_s s, $ro_b bytes, server peak $ro_mb MB"
    serve_fresh
    read -r le_h le_s le_b le_mb <<<"$(download "$c_school" "/ps/schools/$BIG_SCHOOL/ledger.xlsx")"
    echo "ledger.xlsx of school $BIG_SCHOOL: HTTP $le_h, $le_s s, $le_b bytes, server peak $le_mb MB"
    serve_fresh
    read -r me_h me_s me_b me_mb <<<"$(download "$c_mega" "/ps/schools/$MEGA_SCHOOL/ledger.xlsx")"
    echo "ledger.xlsx of the extra-big school $MEGA_SCHOOL ($MEGA_CHECKINS check-ins): HTTP $me_h, $me_s s, $me_b bytes, server peak $me_mb MB"
    # The year's check-ins have their own workbook since the streamed export (the ledger
    # keeps its summary sheets): past one sheet's 1,048,576 rows at the extra-big school.
    serve_fresh
    read -r ci_h ci_s ci_b ci_mb <<<"$(download "$c_mega" "/ps/schools/$MEGA_SCHOOL/checkins.xlsx")"
    echo "checkins.xlsx of the extra-big school $MEGA_SCHOOL: HTTP $ci_h, $ci_s s, $ci_b bytes, server peak $ci_mb MB"
    echo "server RSS after the downloads: $(rss_mb) MB"
    serve_fresh
    read -r do_st do_s do_b do_mb <<<"$(dossier "$c_school" "$BIG_SCHOOL")"
    echo "dossier.pdf of school $BIG_SCHOOL: job $do_st, $do_s s, $do_b bytes, server peak $do_mb MB"
    serve_fresh
    read -r dm_st dm_s dm_b dm_mb <<<"$(dossier "$c_mega" "$MEGA_SCHOOL")"
    echo "dossier.pdf of the extra-big school $MEGA_SCHOOL: job $dm_st, $dm_s s, $dm_b bytes, server peak $dm_mb MB"
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
    [[ "$backend" == postgres ]] && scale_pg_stop
    # Disk is tight: the province goes before the city is built.
    [[ "${KEEP:-0}" == 1 ]] || rm -rf "$root"
    res="gen_s=${GEN_S:-?} db_mb=${DB_MB:-?} disk_mb=${DISK_MB:-?}"
    for pg in "${pages[@]}"; do
        IFS='|' read -r name _ _ <<<"$pg"
        # shellcheck disable=SC2086
        if [[ -n "${P95[$name]:-}" ]]; then res+=" ${name}_p95_median_ms=$(median ${P95[$name]}) ${name}_p95_runs=$(tr ' ' ',' <<<"${P95[$name]# }") ${name}_n=${NREQ[$name]} ${name}_peak_mb=${PEAK[$name]:-} ${name}_rss_before_mb=${BEFORE[$name]:-}"
        else res+=" ${name}=${PROBE[$name]// /_}"; fi
    done
    res+=" pages_peak_mb=$pages_hwm rollup_xlsx_http=$ro_h rollup_xlsx_s=$ro_s rollup_xlsx_bytes=$ro_b rollup_peak_mb=$ro_mb ledger_xlsx_http=$le_h ledger_xlsx_s=$le_s ledger_xlsx_bytes=$le_b ledger_peak_mb=$le_mb mega_ledger_xlsx_http=$me_h mega_ledger_xlsx_s=$me_s mega_ledger_xlsx_bytes=$me_b mega_ledger_peak_mb=$me_mb mega_checkins_xlsx_http=$ci_h mega_checkins_xlsx_s=$ci_s mega_checkins_xlsx_bytes=$ci_b mega_checkins_peak_mb=$ci_mb dossier_job=$do_st dossier_s=$do_s dossier_bytes=$do_b dossier_peak_mb=$do_mb mega_dossier_job=$dm_st mega_dossier_s=$dm_s mega_dossier_bytes=$dm_b mega_dossier_peak_mb=$dm_mb"
    RESULT[$scale]="$res"
    unset P95 NREQ PROBE PEAK BEFORE
done
echo
for scale in $SCALES; do echo "RESULT scale_$scale ${RESULT[$scale]}"; done
echo "log: $LOG"
