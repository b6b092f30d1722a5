#!/usr/bin/env bash
# usage: bench/filters.sh BUILD_DIR     (after: cmake --build BUILD_DIR --target trove filter_bench)
#
# Filtered, faceted, sorted search pages (issue 16's benchmark), Trove beside PostgreSQL 15 on the
# same queries in the same run, with equal counts checked. It builds nothing: BUILD_DIR must hold
# cli/trove and bench/filter_bench (Release).
#
# Datasets (../shared/data; one that is missing is reported missing and skipped, exit 0):
#   books  goodbooks-10k/books.csv: an AttributeSettingsUpsert (year, rating, ratings_count
#          numbers; language a string) through `trove ingest`, then `trove import --format csv`
#          mapping original_publication_year -> attributes.year:number, language_code ->
#          attributes.language, average_rating -> attributes.rating:number, ratings_count ->
#          attributes.ratings_count:number, authors -> brand.
#   off    openfoodfacts/products.jsonl.zst: `filter_bench off-events` writes an
#          AttributeSettingsUpsert (gs1, ingredients: numbers) and one ItemUpsert a product with
#          two derived attributes, gs1 (the GS1 prefix: the first 3 digits of a 13-digit code) and
#          ingredients (comma-separated pieces of the ingredients text), then `trove ingest
#          --language french`.
# For each: `filter_bench prepare` writes the PostgreSQL rows from Trove's State (the same rows,
# the same typed values), the table, its indexes, and the queries (fixed seed): a page of 20 with
# a filter (a numeric range, an OR or IN list, sometimes NOT), one or two facets (values or
# ranges, sometimes disjunctive), a sort on a numeric attribute, q=* or a title word.
# `filter_bench run` times them through CatalogIndex::search in-process (warm-up pass, timed
# pass); PostgreSQL (bench/pg_peer.sh start, bench/pg_filters.sql) times the equivalent SQL
# (page, count, one GROUP BY per facet) inside the server, the same two passes; `filter_bench
# report` prints the tables and how many queries both engines counted alike.
#
# Environment: TROVE_SHARED_DATA (default <source>/../shared/data), TROVE_BENCH_DIR (temp dirs;
# default $TMPDIR or /tmp), TROVE_FILTERS_SEED (default 20261208), TROVE_FILTERS_N (queries a
# dataset, default 300), TROVE_FILTERS_DATASETS (default "books off"), TROVE_FILTERS_OFF_HEAD
# (only the first N Open Food Facts rows; default all), TROVE_SKIP_PG=1 (no PostgreSQL),
# TROVE_BENCH_KEEP=1 (keep the temp dir). Never asserts a time.
set -euo pipefail

build=${1:?usage: bench/filters.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
data=${TROVE_SHARED_DATA:-$src/../shared/data}
trove=$build/cli/trove
fb=$build/bench/filter_bench
seed=${TROVE_FILTERS_SEED:-20261208}
n=${TROVE_FILTERS_N:-300}
datasets=${TROVE_FILTERS_DATASETS:-books off}
off_head=${TROVE_FILTERS_OFF_HEAD:-}
skip_pg=${TROVE_SKIP_PG:-0}
PGBIN=/usr/lib/postgresql/15/bin

for b in "$trove" "$fb"; do
  if [ ! -x "$b" ]; then
    echo "filters: $b is missing: cmake --build $build --target trove filter_bench" >&2
    exit 2
  fi
done

work=$(mktemp -d "${TROVE_BENCH_DIR:-${TMPDIR:-/tmp}}/trove-filters.XXXXXX")
chmod 755 "$work"  # the PostgreSQL server (user postgres) reads the rows and statements here
built="trove built $(date -u -r "$trove" +'%H:%M UTC'), filter_bench $(date -u -r "$fb" +'%H:%M UTC')"
# Copies, so that a rebuild in BUILD_DIR cannot change the binaries mid-run.
cp "$trove" "$fb" "$work/"
trove=$work/trove
fb=$work/filter_bench
pg_started=0
cleanup() {
  if [ "$pg_started" = 1 ]; then bash "$src/bench/pg_peer.sh" stop "$work" || true; fi
  if [ "${TROVE_BENCH_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# Long steps run as `bg CMD ...` (in the background, waited for), so that a signal stops them and
# the server at once: bash runs a trap only after the foreground command has finished.
child=
bg() {
  local rc=0
  "$@" &
  child=$!
  wait "$child" || rc=$?
  child=
  return "$rc"
}
trap 'if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; fi; exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v r="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", r / s; else print "-" }'; }
say() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
psql_() {
  PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$work/pg/port")" -U postgres \
    -d postgres "$@"
}

echo "## bench/filters.sh $(date -u +'%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "- build: $(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$build/CMakeCache.txt") ($build); $built"
if git -C "$src" rev-parse --short HEAD >/dev/null 2>&1; then
  dirty=$(git -C "$src" status --porcelain -- data index fuzzy cli | awk '{ print $2 }' | cut -d/ -f1 | sort -u | tr '\n' ' ')
  echo "- source: commit $(git -C "$src" rev-parse --short HEAD)${dirty:+ + uncommitted changes in: $dirty}"
fi
echo "- queries: $n a dataset, seed $seed; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$skip_pg" = 1 ]; then echo "- PostgreSQL: skipped (TROVE_SKIP_PG=1)"; fi
# One server for every dataset, started when the first one is there.
pg_start() {
  if [ "$skip_pg" = 1 ] || [ "$pg_started" = 1 ]; then return; fi
  say "PostgreSQL: start ..."
  local info
  info=$(bash "$src/bench/pg_peer.sh" start "$work")
  pg_started=1
  echo "- PostgreSQL: $(echo "$info" | tr '\n' ' ')(bench/pg_peer.sh settings; the runs with jit = off)"
}

imports=$work/imports.md
: >"$imports"
reports=$work/reports.md
: >"$reports"

# measure DATASET TITLE TARGET_MS TROVE_IMPORT_S TROVE_ITEMS: after the caller's Trove import,
# the rows and queries, Trove's timing, PostgreSQL's load and timing, the report.
measure() {
  local ds=$1 title=$2 target=$3 trove_s=$4 trove_rows=$5
  local d=$work/$ds
  say "$ds: rows and queries from the State ..."
  bg "$fb" prepare "$ds" "$d/data" "$d" "$seed" "$n" >"$d/prepare.txt"
  say "$ds: Trove queries ..."
  echo "${ds}_load_before_trove_queries=$(cut -d' ' -f1 /proc/loadavg)" >"$d/load.txt"
  bg "$fb" run "$d/data" "$d/queries.tsv" "$d/trove.jsonl" >"$d/run.txt"
  local pg_out= pg_cell="skipped"
  if [ "$skip_pg" != 1 ]; then
    pg_start
    say "$ds: PostgreSQL: table, COPY, indexes ..."
    chmod 644 "$d/rows.copy" "$d/pg_stmts.tsv"
    psql_ -f "$d/schema.sql"
    local t0 t1 t2
    t0=$(now)
    bg psql_ -v rows="$d/rows.copy" -f "$d/copy.sql"
    t1=$(now)
    bg psql_ -f "$d/indexes.sql"
    t2=$(now)
    psql_ -c "VACUUM ANALYZE items"
    local pg_rows
    pg_rows=$(psql_ -At -c "SELECT count(*) FROM items")
    pg_cell="$pg_rows rows: COPY $(elapsed "$t0" "$t1") s + indexes $(elapsed "$t1" "$t2") s ($(rate "$pg_rows" "$(awk -v a="$t0" -v b="$t2" 'BEGIN { print b - a }')") rows/s)"
    say "$ds: PostgreSQL queries ..."
    echo "${ds}_load_before_pg_queries=$(cut -d' ' -f1 /proc/loadavg)" >>"$d/load.txt"
    psql_ -v stmts="$d/pg_stmts.tsv" -f "$src/bench/pg_filters.sql"
    bg psql_ -At -c "SET jit = off" -c "SELECT count(*) FROM bench_pages()" >/dev/null
    bg psql_ -At -F $'\t' -c "SET jit = off" -c "SELECT * FROM bench_pages()" >"$d/pg.tsv"
    pg_out=$d/pg.tsv
  fi
  echo "| $title | $trove_rows items: $trove_s s ($(rate "$trove_rows" "$trove_s") items/s) | $pg_cell |" >>"$imports"
  {
    "$fb" report "$title" "$target" "$d/queries.tsv" "$d/trove.jsonl" $pg_out
    echo
    echo "Figures: $(cat "$d"/*.txt | tr '\n' ' ')"
  } >>"$reports"
}

for ds in $datasets; do
  d=$work/$ds
  mkdir -p "$d"
  chmod 755 "$d"
  case $ds in
  books)
    file=$data/goodbooks-10k/books.csv
    if [ ! -f "$file" ]; then
      echo "- goodbooks: $file is missing; nothing measured"
      continue
    fi
    say "books: trove ingest (attribute types) + trove import ..."
    echo '{"type":"AttributeSettingsUpsert","attributes":[{"name":"year","type":"number"},{"name":"language","type":"string"},{"name":"rating","type":"number"},{"name":"ratings_count","type":"number"}]}' >"$d/settings.ndjson"
    t0=$(now)
    "$trove" ingest --data-dir "$d/data" "$d/settings.ndjson" 2>"$d/ingest.log"
    rc=0
    bg "$trove" import --data-dir "$d/data" --format csv --truncate --progress off \
      --map attributes.year:number=original_publication_year \
      --map attributes.language=language_code \
      --map attributes.rating:number=average_rating \
      --map attributes.ratings_count:number=ratings_count \
      --map brand=authors "$file" 2>"$d/import.log" || rc=$?
    t1=$(now)
    if [ "$rc" -gt 1 ]; then
      echo "filters: trove import failed (exit $rc):" >&2
      tail -20 "$d/import.log" >&2
      exit 1
    fi
    imported=$(awk '$1 == "imported" { print $2 }' "$d/import.log")
    echo "books_import_failed=$(awk '$1 == "failed" { print $2 }' "$d/import.log")" >"$d/import.txt"
    measure books "goodbooks-10k (books.csv)" 0 "$(elapsed "$t0" "$t1")" "$imported"
    ;;
  off)
    file=$data/openfoodfacts/products.jsonl.zst
    if [ ! -f "$file" ]; then
      echo "- Open Food Facts: $file is missing; nothing measured"
      continue
    fi
    if ! command -v zstd >/dev/null; then
      echo "- Open Food Facts: zstd is missing (apt-get install zstd); nothing measured"
      continue
    fi
    say "off: events with derived attributes${off_head:+ (first $off_head rows)} ..."
    if [ -n "$off_head" ]; then
      { zstd -dc "$file" 2>/dev/null || true; } | head -n "$off_head" | "$fb" off-events "$d/events.ndjson" >"$d/events.txt"
      label="Open Food Facts (first $off_head rows)"
    else
      zstd -dc "$file" | "$fb" off-events "$d/events.ndjson" >"$d/events.txt"
      label="Open Food Facts (products.jsonl.zst)"
    fi
    say "off: trove ingest ..."
    t0=$(now)
    rc=0
    bg "$trove" ingest --data-dir "$d/data" --language french "$d/events.ndjson" 2>"$d/ingest.log" || rc=$?
    t1=$(now)
    if [ "$rc" -gt 1 ]; then
      echo "filters: trove ingest failed (exit $rc):" >&2
      tail -20 "$d/ingest.log" >&2
      exit 1
    fi
    accepted=$(awk '$1 == "accepted" { print $2 }' "$d/ingest.log")
    echo "off_ingest_rejected=$(awk '$1 == "rejected" { print $2 }' "$d/ingest.log")" >"$d/import.txt"
    rm -f "$d/events.ndjson"
    measure off "$label" 5 "$(elapsed "$t0" "$t1")" "$((accepted - 1))"
    ;;
  *)
    echo "filters: unknown dataset $ds (books, off)" >&2
    exit 2
    ;;
  esac
done

echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -s "$imports" ]; then exit 0; fi
echo
echo "### Import"
echo
echo "| dataset | Trove (\`trove ingest\` / \`trove import\`: journal + state + index) | PostgreSQL 15 (COPY + btree and GIN indexes; VACUUM ANALYZE not counted) |"
echo "|---|---|---|"
cat "$imports"
cat "$reports"
