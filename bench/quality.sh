#!/usr/bin/env bash
# bench/quality.sh BUILD_DIR: search relevance as a shopper sees it (issue 14, "Measure"): Trove
# beside bare Xapian and PostgreSQL 15, on two real catalogs, with fixed seeds. It builds
# nothing: BUILD_DIR must hold cli/trove (Release).
#
#   1. the trove binary is copied to a temp dir first, so a rebuild cannot change it mid-run;
#      a throw-away PostgreSQL 15 server on a free loopback port (bench/pg_peer.sh start);
#   2. per catalog (goodbooks-10k, then Open Food Facts), bench/quality/quality.py feeds every
#      system the same items: `trove import` then `trove serve` on 127.0.0.1:0 (queried over
#      HTTP: /v1/search, /v1/suggest); a python3-xapian database with spelling data; a
#      PostgreSQL table with tsvector and pg_trgm indexes;
#   3. queries from ~300 sampled items per catalog: the title's first 1-3 words, the same with
#      one typo, with two typos in a long word, and typed letter by letter into suggest;
#   4. one markdown table per catalog: recall@10 and MRR of the sought item per query kind,
#      suggest's characters-typed share, Trove's dead-end completions, a target column.
#
# Environment: TROVE_QUALITY_N (items sampled per catalog, default 300), TROVE_QUALITY_SEED
# (default 20261207), TROVE_QUALITY_OFF_LIMIT (only the first N Open Food Facts products;
# default: all 818,775), TROVE_QUALITY_CATALOGS (default goodbooks,off), TROVE_SKIP_PG=1,
# TROVE_SHARED_DATA (default <source>/../shared/data), TROVE_BENCH_DIR (temp dirs; default
# $TMPDIR or /tmp), TROVE_BENCH_KEEP=1 (keep the temp dir). Missing data: says so, exits 0.
# A benchmark, not a test: it prints figures and never asserts. Progress goes to stderr.
set -euo pipefail

build=${1:?usage: bench/quality.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
data=${TROVE_SHARED_DATA:-$src/../shared/data}
data=$(cd "$data" 2>/dev/null && pwd || echo "$data")
trove=$build/cli/trove
py=/usr/bin/python3  # Debian's Python: python3-xapian and python3-psycopg2 live there

if [ ! -f "$data/goodbooks-10k/books.csv" ] && [ ! -f "$data/openfoodfacts/products.jsonl.zst" ]; then
  echo "quality: no catalog under $data (goodbooks-10k/books.csv, openfoodfacts/products.jsonl.zst); skipped"
  exit 0
fi
[ -x "$trove" ] || { echo "quality: $trove is missing: cmake --build $build --target trove" >&2; exit 2; }
if ! "$py" -c 'import xapian, psycopg2' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "quality: installing python3-xapian python3-psycopg2" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3-xapian python3-psycopg2 >/dev/null
  else
    echo "quality: apt-get install python3-xapian python3-psycopg2 (as root) first" >&2
    exit 2
  fi
fi

work=$(mktemp -d "${TROVE_BENCH_DIR:-${TMPDIR:-/tmp}}/trove-quality.XXXXXX")
chmod 755 "$work"  # the PostgreSQL server runs as user postgres
py_pid=""
cleanup() {
  if [ -n "$py_pid" ]; then kill "$py_pid" 2>/dev/null && wait "$py_pid" 2>/dev/null || true; fi
  if [ "${TROVE_SKIP_PG:-0}" != 1 ]; then bash "$src/bench/pg_peer.sh" stop "$work" || true; fi
  if [ "${TROVE_BENCH_KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$work/bin"
cp "$trove" "$work/bin/trove"
pg_args=()
if [ "${TROVE_SKIP_PG:-0}" != 1 ]; then
  port=$(bash "$src/bench/pg_peer.sh" start "$work" | sed -n 's/^pg_port=//p')
  pg_args=(--pg-port "$port")
fi

cmd="bench/quality.sh $1"
for v in TROVE_QUALITY_N TROVE_QUALITY_SEED TROVE_QUALITY_OFF_LIMIT TROVE_QUALITY_CATALOGS TROVE_SKIP_PG; do
  if [ -n "${!v:-}" ]; then cmd="$v=${!v} $cmd"; fi
done
"$py" "$src/bench/quality/quality.py" --trove "$work/bin/trove" --trove-origin "$trove" \
  --work "$work" --data "$data" --n "${TROVE_QUALITY_N:-300}" \
  --seed "${TROVE_QUALITY_SEED:-20261207}" --off-limit "${TROVE_QUALITY_OFF_LIMIT:-0}" \
  --catalogs "${TROVE_QUALITY_CATALOGS:-goodbooks,off}" --command "$cmd" "${pg_args[@]}" &
py_pid=$!
wait "$py_pid"
py_pid=""
