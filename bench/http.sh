#!/usr/bin/env bash
# bench/http.sh BUILD_DIR: the HTTP API (`trove serve`) under wrk on loopback (issue 6), on real
# data. A benchmark, not a test: it prints figures and never asserts a time.
#
#   1. the catalog: the Open Food Facts products (../shared/data/openfoodfacts/products.jsonl.zst,
#      818,775) imported with `trove import` (as bench/search.sh does);
#   2. the behaviour: the UCI Online Retail transactions (565,252 events, the mapping of
#      bench/retail_events.h, written as NDJSON by bench/http_retail_ndjson) POSTed to
#      /v1/events/bulk in one body: events/s through HTTP, fsync per group commit;
#   3. request lists from the same data (bench/http_requests.py, fixed seed): suggest as typed
#      keystroke by keystroke (first 1-3 words of product names, biased toward popular names,
#      one session in 8 with a typo), search (1-3 words of names, one in 5 with a typo),
#      similar items for retail items, for-you for retail customers, trending;
#   4. wrk, 1 thread, TROVE_BENCH_CONNS connections, TROVE_BENCH_SECONDS per row, cycling
#      through each list (bench/http_cycle.lua). "cached" rows send the mix as it comes (the
#      server's answer cache serves repeats); "uncached" rows send each distinct request with
#      `Cache-Control: no-cache`, which bypasses the answer cache; the suggest mix also runs
#      while a behaviour event arrives every 0.1 s (cached answers then live 2 s at most),
#      and uncached search with 2 connections, the baseline of the last row below;
#   5. search (uncached) while a client bulk-ingests the retail behaviour again (event ids
#      stripped, so every pass is journaled and applied), with TROVE_BENCH_CONNS and with 2
#      connections, and the ingestion rate meanwhile.
#
# The server runs on core 0 and wrk and curl on core 1 (taskset; TROVE_NO_TASKSET=1: not).
# Environment: TROVE_SHARED_DATA (default <source>/../shared/data), TROVE_BENCH_OFF_LIMIT
# (import only the first N products, for a quick run; the recorded run is the full catalog),
# TROVE_BENCH_SECONDS (per wrk row, default 10), TROVE_BENCH_CONNS (default 16),
# TROVE_BENCH_REQUEST_LOG (on: the JSON request log to a file in the temp dir, as a production
# server writes it, default; off: none), TROVE_BENCH_DIR (temp dirs; default $TMPDIR or /tmp),
# TROVE_BENCH_KEEP=1 (keep the temp dir), TROVE_BENCH_SERVER_ARGS (more `trove serve` flags). Missing data or tools: says so and exits 0.
set -euo pipefail

build=${1:?usage: bench/http.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
data=${TROVE_SHARED_DATA:-$src/../shared/data}
products=$data/openfoodfacts/products.jsonl.zst
transactions=$data/uci-online-retail/transactions.csv
trove=$build/cli/trove
converter=$build/bench/http_retail_ndjson
secs=${TROVE_BENCH_SECONDS:-10}
conns=${TROVE_BENCH_CONNS:-16}
limit=${TROVE_BENCH_OFF_LIMIT:-}

for f in "$products" "$transactions"; do
  if [ ! -f "$f" ]; then echo "http: $f is not here; nothing measured (the benchmark needs the shared data)"; exit 0; fi
done
for tool in wrk curl python3 zstd; do
  if ! command -v $tool >/dev/null; then echo "http: $tool is not installed (make deps); nothing measured"; exit 0; fi
done
for b in "$trove" "$converter"; do
  [ -x "$b" ] || { echo "http: $b is missing: cmake --build $build --target trove http_retail_ndjson" >&2; exit 2; }
done

work=$(mktemp -d "${TROVE_BENCH_DIR:-${TMPDIR:-/tmp}}/trove_http_bench.XXXXXX")
server_pid=""
ingester=""
eventer=""
cleanup() {
  [ -n "$ingester" ] && kill "$ingester" 2>/dev/null || true
  [ -n "$eventer" ] && kill "$eventer" 2>/dev/null || true
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
  if [ "${TROVE_BENCH_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pin=()  # taskset -c N before a command, when there are 2 cores and taskset
pinned() { [ "${TROVE_NO_TASKSET:-0}" != 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; }
on_core() {  # on_core N cmd... (in the foreground)
  local core=$1; shift
  if pinned; then taskset -c "$core" "$@"; else "$@"; fi
}
say() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
# What moves a row between runs on a shared VM, read before and after each wrk row (the same
# commit gave 16,463 and 38,374 cached suggests a second on two days): the time the host took
# from the server's core (steal, from /proc/stat's line of core 0, or of all cores unpinned), the
# clock the kernel reports, and the server's own CPU time per request (utime + stime of the
# process), which stays put when only the host's share moved.
cpu_line() { if pinned; then echo cpu0; else echo cpu; fi; }
cpu_sample() {  # prints "steal_ticks total_ticks server_ticks"
  local line steal total server
  line=$(grep "^$(cpu_line) " /proc/stat)
  steal=$(awk '{ print $9 }' <<<"$line")
  total=$(awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i; print t }' <<<"$line")
  server=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat" 2>/dev/null || echo 0)
  echo "$steal $total $server"
}
cpu_mhz() { awk -F': ' '/^cpu MHz/ { s += $2; n++ } END { if (n) printf "%.0f", s / n; else print "?" }' /proc/cpuinfo; }
ticks=$(getconf CLK_TCK)
now() { date +%s.%N; }

echo "## bench/http.sh $(date -u +'%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores at $(cpu_mhz) MHz (as /proc/cpuinfo says), Linux $(uname -r)"
echo "- build: $(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$build/CMakeCache.txt") ($build), trove built $(date -u -r "$trove" +'%H:%M UTC')"
if git -C "$src" rev-parse --short HEAD >/dev/null 2>&1; then
  dirty=$(git -C "$src" status --porcelain -- data index fuzzy recommend http cli | awk '{ print $2 }' | cut -d/ -f1 | sort -u | tr '\n' ' ')
  echo "- source: commit $(git -C "$src" rev-parse --short HEAD)${dirty:+ + uncommitted changes in: $dirty}"
fi
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- wrk: 1 thread, $conns connections, ${secs} s a row; server on core 0, wrk and curl on core 1"

# ---- 1. catalog ----
catalog=$products
if [ -n "$limit" ]; then
  catalog=$work/products.jsonl
  zstd -dc "$products" | head -n "$limit" > "$catalog" || true
fi
say "trove import $(basename "$catalog")${limit:+ (first $limit products)} ..."
t0=$(now)
set +e
"$trove" import --data-dir "$work/data" --format jsonl --progress off "$catalog" 2>"$work/import.log"
rc=$?
set -e
t1=$(now)
if [ $rc -gt 1 ]; then echo "http: trove import failed (exit $rc)" >&2; tail -20 "$work/import.log" >&2; exit 1; fi
echo "- catalog: $(awk '$1 == "imported" { print $2 }' "$work/import.log") products imported in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s (trove import)"

# ---- 2. behaviour stream, request lists ----
say "converting the retail transactions ..."
"$converter" "$transactions" "$work/retail.ndjson" > "$work/convert.txt"
echo "- behaviour: $(cat "$work/convert.txt")"
# The second stream: behaviour only, no event ids (each pass is journaled and applied again).
grep -v '"type":"ItemUpsert"' "$work/retail.ndjson" | sed 's/"event_id":"[^"]*",//' > "$work/again.ndjson"
say "request lists ..."
python3 "$src/bench/http_requests.py" "$catalog" "$work/retail.ndjson" "$work" 20261127 "$limit" \
  > "$work/requests.txt"
echo "- requests: $(cat "$work/requests.txt")"

# ---- 3. server ----
log_args=(--log-file off)
[ "${TROVE_BENCH_REQUEST_LOG:-on}" = on ] && log_args=(--log-file "$work/requests.log")
echo "- server: trove serve ${log_args[*]/$work\//} --rate-limit 0 (request log ${TROVE_BENCH_REQUEST_LOG:-on})"
say "starting the server ..."
t0=$(now)
# Started directly (not through a shell function) so that $! is the server and the cleanup's
# SIGTERM reaches it.
pinned && pin=(taskset -c 0)
"${pin[@]}" "$trove" serve --data-dir "$work/data" --listen 127.0.0.1:0 "${log_args[@]}" \
  --error-log "$work/errors.log" --rate-limit 0 ${TROVE_BENCH_SERVER_ARGS:-} &
server_pid=$!
port=""
for _ in $(seq 1 3000); do
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/errors.log" 2>/dev/null | head -1 || true)
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ] || ! curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then
  echo "http: the server did not start" >&2; cat "$work/errors.log" >&2; exit 2
fi
base=http://127.0.0.1:$port
echo "- server ready in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"

bulk() {  # bulk FILE: one POST; prints "accepted rejected seconds events/s"
  local t0 t1
  t0=$(now)
  on_core 1 curl -sS -H 'Content-Type: application/x-ndjson' --data-binary @"$1" \
    "$base/v1/events/bulk" > "$work/bulk.out"
  t1=$(now)
  python3 -c "import json; r=json.load(open('$work/bulk.out')); s=$t1-$t0; print(r['accepted'], r['rejected'], f'{s:.2f}', f\"{r['accepted']/s:.0f}\")"
}
# The index commits catalog changes on the server's flush timer (250 ms); behaviour events
# need no commit, so indexed_seq stays at the last catalog event: give the timer a second.
wait_indexed() { sleep 1.5; }

say "bulk ingestion of the retail stream ..."
read -r b_acc b_rej b_s b_rate < <(bulk "$work/retail.ndjson")
wait_indexed
echo "- bulk: $b_acc events accepted, $b_rej rejected in $b_s s: $b_rate events/s"

# ---- 4. wrk rows ----
declare -a rows
run_wrk() {  # run_wrk LABEL TARGET LIST [HEADER [CONNECTIONS]]
  local label=$1 target=$2 list=$3 header=${4:-} c=${5:-$conns}
  say "wrk: $label ..."
  local out before after
  before=$(cpu_sample)
  out=$(on_core 1 wrk -t1 -c"$c" -d"${secs}s" --latency -s "$src/bench/http_cycle.lua" "$base" \
    -- "$work/$list.txt" ${header:+"$header"} | grep '^RESULT' || true)
  after=$(cpu_sample)
  # steal %, server CPU us per request, MHz
  local host
  host=$(awk -v b="$before" -v a="$after" -v r="${out##*requests }" -v t="$ticks" -v m="$(cpu_mhz)" 'BEGIN {
    split(b, x, " "); split(a, y, " ");
    total = y[2] - x[2]; steal = total > 0 ? 100 * (y[1] - x[1]) / total : 0;
    us = r > 0 ? (y[3] - x[3]) / t * 1e6 / r : 0;
    printf "%.1f|%.0f|%s", steal, us, m }')
  rows+=("$label|$target|${out#RESULT }|$host")
  echo "  $label: ${out#RESULT } (steal %, server CPU us/request, MHz: ${host//|/, })" >&2
}
nc='Cache-Control: no-cache'
run_wrk "suggest, cached (keystroke mix, repeats as typed)" ">= 20,000 req/s, p99 <= 10 ms" suggest
# The same while behaviour events keep arriving (a product view, POST /v1/events, every 0.1 s),
# as on a live shop: a cached answer is then used for at most --answer-cache-ms (2 s), where in
# the row above (no event applied) it stays exact, so it is used until the index changes.
(
  while [ ! -f "$work/stop_events" ]; do
    on_core 1 curl -s -o /dev/null -H 'Content-Type: application/json' \
      --data '{"type":"DetailItemView","user":{"visitor_id":"bench-live"},"item_id":"85123A"}' \
      "$base/v1/events" || true
    sleep 0.1
  done
) &
eventer=$!
run_wrk "suggest, cached, while events arrive (10 a second)" ">= 20,000 req/s, p99 <= 10 ms" suggest
touch "$work/stop_events"
wait "$eventer" || true
eventer=""
run_wrk "suggest, uncached (each distinct request, no-cache)" "" suggest_distinct "$nc"
run_wrk "search, cached (1-3 words, 1 in 5 with a typo)" "" search
run_wrk "search, uncached (distinct, no-cache)" "" search_distinct "$nc"
# The baseline of the 2-connection row during bulk ingestion below: the same without it.
run_wrk "search, uncached, 2 connections (no ingestion: baseline)" "" search_distinct "$nc" 2
run_wrk "recommend/similar (retail items)" "" similar
run_wrk "recommend/for-you (retail customers)" "" for_you
run_wrk "recommend/trending" "" trending
# The HTTP layer alone (route, log line, send): what every answer above pays at least.
echo "/healthz" > "$work/healthz.txt"
run_wrk "GET /healthz (the HTTP layer alone)" "" healthz

# ---- 5. search while bulk ingestion runs ----
say "search during bulk ingestion ..."
: > "$work/again_rates.txt"
(
  while [ ! -f "$work/stop" ]; do bulk "$work/again.ndjson" >> "$work/again_rates.txt"; done
) &
ingester=$!
sleep 1
run_wrk "search, uncached, during bulk ingestion" "p99 < 20 ms" search_distinct "$nc"
# The same with 2 connections: latency beside a writer, not the queue of 16 saturating clients
# on the one core the server shares with the ingestion.
run_wrk "search, uncached, during bulk ingestion, 2 connections" "p99 < 20 ms" search_distinct "$nc" 2
touch "$work/stop"
wait "$ingester" || true
ingester=""
during=$(awk '{ n += $1; s += $3 } END { if (s > 0) printf "%.0f events/s over %d passes of %d events", n / s, NR, n / NR }' "$work/again_rates.txt")

# ---- report ----
echo "- bulk ingestion during the search row: $during"
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Steal: the share of the server's core (core 0; all cores unpinned) the host took during the"
echo "row. Server CPU: the server process's CPU time (all its threads) per request answered."
echo
echo "| row | req/s | p50 | p99 | non-2xx | socket errors | steal | server CPU / request | MHz | target |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
  IFS='|' read -r label target res steal cpu_us mhz <<<"$r"
  read -r rps _ _ p50 _ _ p99 _ _ non2xx _ sockerr _ _ <<<"$res"
  echo "| $label | $rps | $p50 ms | $p99 ms | $non2xx | $sockerr | $steal % | $cpu_us us | $mhz | $target |"
done
echo "| POST /v1/events/bulk, retail stream (one body of $b_acc events) | $b_rate events/s | | | | | | | | >= 200,000 events/s |"
echo
curl -sf "$base/metrics" | grep -E '^trove_journal_(commit_seconds|batch_events)_(sum|count)' | sed 's/^/    /' || true
