#!/usr/bin/env bash
# Regenerates the SQLite planner statistics `crates/web/tests/plans.rs` plans with
# (crates/web/tests/data/sqlite_stat1_city.tsv): a city from bench/scale_gen.py (300
# schools, 10 million check-ins; about 80 s and 1.2 GB, deleted afterwards), a full
# ANALYZE, its sqlite_stat1 rows. Run it after adding an index or a big table.
#   JIAXIAO_BIN=target/release/jiaxiao bash bench/plan_stats.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${JIAXIAO_BIN:-${CARGO_TARGET_DIR:-target}/release/jiaxiao}"
dir="$(mktemp -d "${TMPDIR:-/var/tmp}/jx-plan.XXXXXX")"
trap 'rm -rf "$dir"' EXIT
JIAXIAO_DATABASE_URL="sqlite://$dir/city.db?mode=rwc" JIAXIAO_DATA_DIR="$dir" "$bin" migrate >/dev/null
python3 bench/scale_gen.py --backend sqlite --scale city --sqlite "$dir/city.db" --mega-checkins 0 >/dev/null
sqlite3 "$dir/city.db" "PRAGMA analysis_limit=0; ANALYZE;"
sqlite3 -separator $'\t' "$dir/city.db" \
  "SELECT tbl, COALESCE(idx, ''), stat FROM sqlite_stat1 ORDER BY tbl, idx" \
  >crates/web/tests/data/sqlite_stat1_city.tsv
wc -l crates/web/tests/data/sqlite_stat1_city.tsv
