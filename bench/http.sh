#!/usr/bin/env bash
# bench/http.sh BUILD_DIR: the HTTP API under wrk on loopback (issue 6), a benchmark, not a
# test: it prints figures and never asserts a time.
#
#   1. a generated shop (trove generate: items + behaviour events) bulk-loaded through
#      POST /v1/events/bulk;
#   2. GET /v1/search (real title words, one in three with a typo) and GET /v1/suggest
#      (prefixes of title words), each alone, with wrk;
#   3. the same searches while another client bulk-ingests fresh events as fast as it can:
#      search latency with and without concurrent ingestion, and the ingestion rate;
#   4. bulk ingestion alone (events/s through HTTP, fsync per group commit).
#
# The server runs on core 0 and wrk on core 1 when taskset is there (TROVE_NO_TASKSET=1: not).
# Environment: TROVE_BENCH_ITEMS (default 5000), TROVE_BENCH_EVENTS (behaviour events loaded
# first, default 50000), TROVE_BENCH_INGEST (events per ingest body, default 100000),
# TROVE_BENCH_SECONDS (per wrk run, default 10), TROVE_BENCH_CONNS (default 16),
# TROVE_BENCH_DIR (temp dirs; default $TMPDIR or /tmp), TROVE_BENCH_KEEP=1 (keep the temp dir).
set -euo pipefail

build=${1:?usage: bench/http.sh BUILD_DIR}
build=$(cd "$build" && pwd)
trove=$build/cli/trove
items=${TROVE_BENCH_ITEMS:-5000}
events=${TROVE_BENCH_EVENTS:-50000}
ingest=${TROVE_BENCH_INGEST:-100000}
secs=${TROVE_BENCH_SECONDS:-10}
conns=${TROVE_BENCH_CONNS:-16}
for tool in wrk curl python3; do
  if ! command -v $tool >/dev/null; then echo "http: $tool is not installed; nothing measured"; exit 0; fi
done
[ -x "$trove" ] || { echo "http: $trove is missing: cmake --build $build --target trove" >&2; exit 2; }

work=$(mktemp -d "${TROVE_BENCH_DIR:-${TMPDIR:-/tmp}}/trove_http_bench.XXXXXX")
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ "${TROVE_BENCH_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
on_core() {  # on_core N cmd...
  local core=$1; shift
  if [ "${TROVE_NO_TASKSET:-0}" != 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    taskset -c "$core" "$@"
  else
    "$@"
  fi
}

echo "http: generating $items items, $events behaviour events; then $ingest events per ingest body"
"$trove" generate --items "$items" --visitors 2000 --events "$events" --seed 7 --out "$work/shop.ndjson" >/dev/null 2>&1
"$trove" generate --items "$items" --visitors 20000 --events "$ingest" --seed 8 --no-event-ids \
  --out "$work/more.ndjson" >/dev/null 2>&1
# Only behaviour events for the ingest body (the catalog is loaded already); no event_id, so
# each pass is journaled again rather than acknowledged as duplicates.
grep -v '"type":"ItemUpsert"' "$work/more.ndjson" > "$work/ingest.ndjson" || true
n_ingest=$(wc -l < "$work/ingest.ndjson")

on_core 0 "$trove" serve --data-dir "$work/data" --listen 127.0.0.1:0 --log-file off \
  --error-log "$work/errors.log" --rate-limit 0 &
server_pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/errors.log" 2>/dev/null | head -1 || true)
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
[ -n "$port" ] || { echo "http: the server did not start" >&2; cat "$work/errors.log" >&2; exit 2; }
base=http://127.0.0.1:$port

bulk() {  # bulk FILE: prints events/s
  local t0 t1 lines
  lines=$(wc -l < "$1")
  t0=$(date +%s.%N)
  curl -sf -H 'Content-Type: application/x-ndjson' --data-binary @"$1" "$base/v1/events/bulk" > "$work/bulk.out"
  t1=$(date +%s.%N)
  python3 -c "import json,sys; r=json.load(open('$work/bulk.out')); print(f\"{r['accepted']} accepted, {r['rejected']} rejected, {$lines/($t1-$t0):,.0f} events/s ({$t1-$t0:.2f} s)\")"
}
echo "load: $(bulk "$work/shop.ndjson")"
sleep 1  # the index flush timer

# Queries from the catalog's own titles: search words (a third with a typo), suggest prefixes.
python3 - "$work" <<'EOF'
import json, random, sys, urllib.parse
work = sys.argv[1]
random.seed(20261127)
words = []
for line in open(f"{work}/shop.ndjson"):
    e = json.loads(line)
    if e.get("type") == "ItemUpsert":
        words += [w for w in e["title"].split() if len(w) >= 3]
def typo(w):
    if len(w) < 5: return w
    i = random.randrange(1, len(w) - 1)
    return w[:i] + w[i + 1] + w[i] + w[i + 2:]
search, suggest = [], []
for _ in range(2000):
    k = random.choice([1, 1, 2])
    q = " ".join(random.choice(words) for _ in range(k))
    if random.random() < 1 / 3: q = typo(q)
    search.append("/v1/search?q=" + urllib.parse.quote(q))
    w = random.choice(words)
    suggest.append("/v1/suggest?q=" + urllib.parse.quote(w[: random.randint(1, len(w))]))
for name, paths in (("search", search), ("suggest", suggest)):
    with open(f"{work}/{name}.lua", "w") as f:
        f.write("local paths = {\n" + ",\n".join(json.dumps(p) for p in paths) + "\n}\n")
        f.write("""local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("%10.0f req/s   p50 %7.2f ms   p99 %7.2f ms   non-2xx %d   socket errors %d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
""")
EOF

run_wrk() {  # run_wrk NAME
  on_core 1 wrk -t1 -c"$conns" -d"${secs}s" -s "$work/$1.lua" "$base" | tail -1
}
echo
echo "wrk, $conns connections, ${secs} s each (server on core 0, wrk on core 1):"
printf '%-34s %s\n' "suggest" "$(run_wrk suggest)"
printf '%-34s %s\n' "search (quiet)" "$(run_wrk search)"

# Search while a client bulk-ingests fresh events in a loop.
(
  while [ ! -f "$work/stop" ]; do
    bulk "$work/ingest.ndjson" >> "$work/ingest_rates.txt"
  done
) &
ingester=$!
sleep 0.5
printf '%-34s %s\n' "search (during bulk ingestion)" "$(run_wrk search)"
touch "$work/stop"
wait "$ingester"
echo "  ingestion meanwhile: $(tail -n +1 "$work/ingest_rates.txt" | sed 's/^/    /' | head -5 | tr '\n' ';')"
echo
echo "bulk ingestion alone ($n_ingest events per body): $(bulk "$work/ingest.ndjson")"
curl -sf "$base/metrics" | grep -E '^trove_journal_(commit_seconds|batch_events)_(sum|count)' | sed 's/^/  /'
