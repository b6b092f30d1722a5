#!/usr/bin/env bash
# bench/search.sh BUILD_DIR: the catalog search benchmark (issue 3), all in one run on the Open
# Food Facts products (../shared/data/openfoodfacts/products.jsonl.zst, 818,775 products).
# It builds nothing: BUILD_DIR must hold cli/trove and bench/search_bench (Release).
#
#   1. import, end to end: `trove import --format jsonl` into a fresh data dir (journal + state
#      + Xapian index), wall time and peak RSS (/usr/bin/time -v); beside it bare Xapian, one
#      thread, a plain TermGenerator (search_bench xapian-import); then index bytes per product.
#   2. queries from real product names (fixed seed): 1-3 whole words for search, every prefix
#      of a name's first 1-3 words for suggest; run in-process against the imported data dir
#      (Store + CatalogIndex) and the bare-Xapian database, warm-up pass then timed pass.
#   3. the peer: PostgreSQL 15 on 127.0.0.1 (bench/pg_peer.sh): COPY + GIN indexes, then the
#      same queries timed inside the server.
#   4. the tables (search_bench report).
#
# Environment: TROVE_SHARED_DATA (default <source>/../shared/data), TROVE_SEARCH_FILE (another
# JSONL[.zst] with code/name/ingredients, e.g. a head of the file for a quick check),
# TROVE_BENCH_DIR (temp dirs; default $TMPDIR or /tmp), TROVE_SEARCH_SEED (default 20261126),
# TROVE_SEARCH_N (search queries, default 2000), TROVE_SUGGEST_MIN (suggest prefixes, at least;
# default 3000), TROVE_SKIP_PG=1 (no PostgreSQL), TROVE_BENCH_KEEP=1 (keep the temp dir).
# Missing data: says so and exits 0. Never asserts a time.
set -euo pipefail

build=${1:?usage: bench/search.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
data=${TROVE_SHARED_DATA:-$src/../shared/data}
file=${TROVE_SEARCH_FILE:-$data/openfoodfacts/products.jsonl.zst}
trove=$build/cli/trove
sb=$build/bench/search_bench

if [ ! -f "$file" ]; then
  echo "search: $file is not here; nothing to measure"
  exit 0
fi
for b in "$trove" "$sb"; do
  if [ ! -x "$b" ]; then
    echo "search: $b is missing: cmake --build $build --target trove search_bench" >&2
    exit 2
  fi
done
if [ ! -x /usr/bin/time ]; then
  echo "search: /usr/bin/time is missing (apt-get install time)" >&2
  exit 2
fi

work=$(mktemp -d "${TROVE_BENCH_DIR:-${TMPDIR:-/tmp}}/trove-search.XXXXXX")
chmod 755 "$work"  # the PostgreSQL server (user postgres) reads the rows from here
cleanup() {
  if [ "${TROVE_SKIP_PG:-0}" != 1 ]; then bash "$src/bench/pg_peer.sh" stop "$work" || true; fi
  if [ "${TROVE_BENCH_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fig=$work/figures.txt
: >"$fig"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rss_kb() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
say() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

echo "## bench/search.sh $(date -u +'%Y-%m-%d %H:%M UTC')"
echo
echo "- input: $file ($(du -h "$file" | cut -f1))"
echo "- machine: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r); temp dir $work ($(df -T "$work" | awk 'NR == 2 { print $2 }'))"
echo "- build: $(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$build/CMakeCache.txt") ($build)"
if git -C "$src" rev-parse --short HEAD >/dev/null 2>&1; then
  dirty=$(git -C "$src" status --porcelain -- data index fuzzy cli | awk '{ print $2 }' | cut -d/ -f1 | sort -u | tr '\n' ' ')
  echo "- source: commit $(git -C "$src" rev-parse --short HEAD)${dirty:+ + uncommitted changes in: $dirty}"
fi
echo "- binaries: trove built $(date -u -r "$trove" +'%H:%M UTC'), search_bench $(date -u -r "$sb" +'%H:%M UTC')"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. import ----
# Best of TROVE_SEARCH_RUNS (default 1) for each import, each into a fresh directory; the
# figures (RSS, sizes) are those of the best run. The last Trove data dir and Xapian database
# stay for the queries.
runs=${TROVE_SEARCH_RUNS:-1}
cpu_s() { awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f", u + s }' "$1"; }
best=; walls=
for run in $(seq "$runs"); do
  say "trove import ($run of $runs) ..."
  rm -rf "$work/trove"
  sync
  t0=$(now)
  set +e
  /usr/bin/time -v -o "$work/trove.time" "$trove" import --data-dir "$work/trove" --format jsonl \
    --progress off "$file" 2>"$work/trove_import.log"
  rc=$?
  set -e
  t1=$(now)
  if [ $rc -gt 1 ]; then
    echo "search: trove import failed (exit $rc):" >&2
    tail -20 "$work/trove_import.log" >&2
    exit 1
  fi
  wall=$(elapsed "$t0" "$t1")
  walls="$walls${walls:+,}$wall"
  if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
    best=$wall
    {
      echo "trove_import_s=$wall"
      echo "trove_products=$(awk '$1 == "imported" { print $2 }' "$work/trove_import.log")"
      echo "trove_failed=$(awk '$1 == "failed" { print $2 }' "$work/trove_import.log")"
      echo "trove_import_inner_s=$(awk '$1 == "seconds" { print $2 }' "$work/trove_import.log")"
      echo "trove_cpu_s=$(cpu_s "$work/trove.time")"
      echo "trove_rss_kb=$(rss_kb "$work/trove.time")"
      echo "trove_index_bytes=$(du -sb "$work/trove/index" | cut -f1)"
      echo "trove_data_bytes=$(du -sb "$work/trove" | cut -f1)"
      echo "trove_exit=$rc"
    } >"$work/trove.best"
  fi
done
cat "$work/trove.best" >>"$fig"
echo "trove_import_runs_s=$walls" >>"$fig"

best=; walls=
for run in $(seq "$runs"); do
  say "bare Xapian import ($run of $runs) ..."
  rm -rf "$work/xapian"
  sync
  t0=$(now)
  /usr/bin/time -v -o "$work/xapian.time" "$sb" xapian-import "$file" "$work/xapian" \
    >"$work/xapian.out"
  t1=$(now)
  wall=$(elapsed "$t0" "$t1")
  walls="$walls${walls:+,}$wall"
  if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
    best=$wall
    {
      cat "$work/xapian.out"
      echo "xapian_import_s=$wall"
      echo "xapian_cpu_s=$(cpu_s "$work/xapian.time")"
      echo "xapian_rss_kb=$(rss_kb "$work/xapian.time")"
      echo "xapian_db_bytes=$(du -sb "$work/xapian" | cut -f1)"
    } >"$work/xapian.best"
  fi
done
cat "$work/xapian.best" >>"$fig"
echo "xapian_import_runs_s=$walls" >>"$fig"
echo "load_after_import=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$fig"

# ---- 2. queries, in-process ----
say "queries ..."
"$sb" make-queries "$file" "$work/queries.tsv" "$work/rows.copy" "${TROVE_SEARCH_SEED:-20261126}" \
  "${TROVE_SEARCH_N:-2000}" "${TROVE_SUGGEST_MIN:-3000}" >>"$fig"
chmod 644 "$work/rows.copy"
say "Trove and bare-Xapian latency ..."
"$sb" latency "$work/trove" "$work/xapian" "$work/queries.tsv" "$work/latency.tsv" >>"$fig"

# ---- 3. the peer ----
pg_lat=
if [ "${TROVE_SKIP_PG:-0}" != 1 ]; then
  say "PostgreSQL: start, COPY + GIN ..."
  bash "$src/bench/pg_peer.sh" start "$work" >>"$fig"
  bash "$src/bench/pg_peer.sh" load "$work" "$work/rows.copy" >>"$fig"
  say "PostgreSQL: queries ..."
  bash "$src/bench/pg_peer.sh" queries "$work" "$work/queries.tsv" "$work/pg_latency.tsv" >>"$fig"
  pg_lat=$work/pg_latency.tsv
  bash "$src/bench/pg_peer.sh" stop "$work"
fi
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$fig"

# ---- 4. tables ----
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- trove import (last run): $(awk '$1 == "rows" || $1 == "imported" || $1 == "failed" { printf "%s %s; ", $1, $2 }' "$work/trove_import.log")exit $rc"
echo "- figures:" $(grep -v '^load_end' "$fig" | tr '\n' ' ')
"$sb" report "$fig" "$work/queries.tsv" "$work/latency.tsv" $pg_lat
