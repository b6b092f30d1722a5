#!/usr/bin/env bash
# bench/restart.sh BUILD_DIR: time until `trove serve` is ready after kill -9 (issue 13, item 7),
# with automatic snapshots (a snapshot and the recommendation models beside it, then a journal
# tail) beside the baseline measured in the same run on the same journal: no snapshot at all,
# the whole journal replayed and the models folded from it. A benchmark, not a test: it prints
# figures and never asserts a time.
#
#   1. the events: the UCI Online Retail transactions (../shared/data/uci-online-retail, 565,252
#      events with event ids, catalog first; bench/http_retail_ndjson) followed by the behaviour
#      again without event ids (so it is journaled and applied again) until TROVE_RESTART_EVENTS
#      (default 1,200,000); without the retail data, `trove generate` (2,000 items, 500
#      visitors, seed 7) of that many events;
#   2. `trove serve --snapshot-every-events N --snapshot-every-s S` (N, TROVE_RESTART_EVERY,
#      default 100,000: `trove serve`'s default; S, TROVE_RESTART_SNAPSHOT_S, default 10, so that
#      a snapshot follows the end of the first part deterministically): the events but the last
#      TROVE_RESTART_TAIL (default N / 2, the mean tail under steady ingestion; N for the
#      longest tail a crash can leave, plus the events of a snapshot being built) POSTed to
#      /v1/events/bulk in bodies of 200,000; then one event at a time (python, keep-alive) until
#      the next automatic snapshot and its models file are written, and as long again after it:
#      single-event latency while a snapshot is built beside without one (what ingestion waits
#      for a snapshot); then the tail in bulk;
#   3. kill -9; `trove serve` again; the time from exec to the first `/readyz` 200, with the
#      start-up log's figures (store open: snapshot, records replayed, s; models; index);
#   4. kill -9 again (nothing new), the snapshots directory moved aside, `trove serve
#      --snapshot-every-events 0 --snapshot-every-s 0`: the baseline, every record replayed and
#      the models folded from the whole journal.
#
# Environment: TROVE_SHARED_DATA (default <source>/../shared/data), TROVE_RESTART_EVENTS,
# TROVE_RESTART_EVERY, TROVE_RESTART_TAIL, TROVE_RESTART_SNAPSHOT_S, TROVE_RESTART_REPEAT, TROVE_BENCH_DIR (temp dirs; default $TMPDIR or
# /tmp), TROVE_BENCH_KEEP=1 (keep the temp dir).
set -euo pipefail

build=${1:?usage: bench/restart.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
data=${TROVE_SHARED_DATA:-$src/../shared/data}
transactions=$data/uci-online-retail/transactions.csv
trove=$build/cli/trove
converter=$build/bench/http_retail_ndjson
total=${TROVE_RESTART_EVENTS:-1200000}
every=${TROVE_RESTART_EVERY:-100000}
tail_events=${TROVE_RESTART_TAIL:-$((every / 2))}
snap_s=${TROVE_RESTART_SNAPSHOT_S:-10}
repeat=${TROVE_RESTART_REPEAT:-5}
chunk=200000

for tool in curl python3; do
  if ! command -v $tool >/dev/null; then echo "restart: $tool is not installed; nothing measured"; exit 0; fi
done
[ -x "$trove" ] || { echo "restart: $trove is missing: cmake --build $build --target trove" >&2; exit 2; }

work=$(mktemp -d "${TROVE_BENCH_DIR:-${TMPDIR:-/tmp}}/trove_restart_bench.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
  if [ "${TROVE_BENCH_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "## bench/restart.sh $(date -u +'%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, Linux $(uname -r)"
echo "- build: $(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$build/CMakeCache.txt") ($build), trove built $(date -u -r "$trove" +'%H:%M UTC')"
if git -C "$src" rev-parse --short HEAD >/dev/null 2>&1; then
  dirty=$(git -C "$src" status --porcelain -- data index fuzzy recommend http cli | awk '{ print $2 }' | cut -d/ -f1 | sort -u | tr '\n' ' ')
  echo "- source: commit $(git -C "$src" rev-parse --short HEAD)${dirty:+ + uncommitted changes in: $dirty}"
fi
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. events ----
events=$work/events.ndjson
if [ -f "$transactions" ] && [ -x "$converter" ]; then
  say "converting the retail transactions ..."
  "$converter" "$transactions" "$work/retail.ndjson" > "$work/convert.txt"
  grep -v '"type":"ItemUpsert"' "$work/retail.ndjson" | sed 's/"event_id":"[^"]*",//' > "$work/again.ndjson"
  cp "$work/retail.ndjson" "$events"
  while [ "$(wc -l < "$events")" -lt "$total" ]; do cat "$work/again.ndjson" >> "$events"; done
  head -n "$total" "$events" > "$events.cut" && mv "$events.cut" "$events"
  echo "- events: $total: the UCI Online Retail stream ($(cat "$work/convert.txt")), then its behaviour again without event ids"
else
  say "no retail data (or $converter): trove generate ..."
  behaviour=$((total - 2000))
  "$trove" generate --items 2000 --visitors 500 --events "$behaviour" --seed 7 --behaviour-only \
    --out "$events" 2>/dev/null
  echo "- events: $(wc -l < "$events") from trove generate --items 2000 --visitors 500 --events $behaviour --seed 7 --behaviour-only (no retail data here)"
fi
n_events=$(wc -l < "$events")
head_events=$((n_events - tail_events))
split -l "$chunk" -d -a 3 <(head -n "$head_events" "$events") "$work/head."
tail -n "$tail_events" "$events" > "$work/tail.ndjson"

# ---- server helpers ----
port=""
ready_s=""
ready_cpu=""
start_server() {  # start_server LOG ARGS...: sets server_pid, port and ready_s (exec to ready)
  local log=$1; shift
  : > "$log"
  local t0; t0=$(now)
  "$trove" serve --data-dir "$work/data" --listen 127.0.0.1:0 --log-file off --error-log "$log" \
    --rate-limit 0 "$@" > /dev/null &
  server_pid=$!
  port=""
  for _ in $(seq 1 60000); do
    [ -z "$port" ] && port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -1 || true)
    if [ -n "$port" ] && curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; then break; fi
    kill -0 "$server_pid" 2>/dev/null || { echo "restart: the server died" >&2; cat "$log" >&2; exit 2; }
    sleep 0.01
  done
  ready_s=$(secs "$t0" "$(now)")
  # CPU time the server used until then (user + system): the figure the machine's load moves
  # least (ready_s is wall time and waits for the CPU when others use it).
  ready_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$server_pid/stat")
}
kill9() {
  [ -n "$server_pid" ] || return 0
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
bulk() {  # bulk FILE: prints accepted count
  curl -sS -H 'Content-Type: application/x-ndjson' --data-binary @"$1" \
    "http://127.0.0.1:$port/v1/events/bulk" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted"])'
}
# The start-up log's figures: store open (snapshot, replayed, s), models (s), index ready.
startup_figures() {  # startup_figures LOG
  sed -n 's/.*store open: seq \([0-9]*\) (snapshot \([0-9]*\), \([0-9]*\) journal records replayed, \([0-9.]*\) s).*/seq \1, snapshot \2, \3 replayed, store open \4 s/p' "$1" | head -1
  sed -n 's/.*recommendation models built: .*(\([0-9.]*\) s).*/models \1 s/p' "$1" | head -1
}

# ---- 2. ingestion with automatic snapshots ----
log1=$work/first.log
say "trove serve (automatic snapshots: every $every events or ${snap_s} s) ..."
start_server "$log1" --snapshot-every-events "$every" --snapshot-every-s "$snap_s"
say "bulk: $head_events events in bodies of $chunk ..."
t0=$(now)
accepted=0
for f in "$work"/head.*; do accepted=$((accepted + $(bulk "$f"))); done
t1=$(now)
echo "- bulk ingestion with automatic snapshots on: $accepted events in $(secs "$t0" "$t1") s ($(awk -v n="$accepted" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') events/s)"

# One event at a time until an automatic snapshot at or past the end of the first part and its
# models file are written, and as long again after: single-event latency with and without a
# snapshot being built.
say "single events until the automatic snapshot of the first part ..."
python3 - "$port" "$log1" "$accepted" > "$work/latency.txt" <<'PY'
import http.client, json, re, sys, time
port, log, first_part = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
def post(i):
    body = json.dumps({"type": "DetailItemView", "user": {"visitor_id": f"bench-{i % 50}"}, "item_id": "85123A"})
    t = time.perf_counter()
    c.request("POST", "/v1/events", body, {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
    return (time.perf_counter() - t) * 1000
def covered():
    seqs = [int(m) for m in re.findall(r"automatic snapshot at seq (\d+): models /", open(log).read())]
    return bool(seqs) and max(seqs) >= first_part
during, after, i = [], [], 0
t0 = time.time()
while not covered() and time.time() - t0 < 1200:
    during.append(post(i)); i += 1; time.sleep(0.005)
took = time.time() - t0
t1 = time.time()
while time.time() - t1 < 5:  # less than the time trigger: no snapshot in this row
    after.append(post(i)); i += 1; time.sleep(0.005)
def row(name, v):
    v = sorted(v)
    if not v: return f"{name}: none"
    q = lambda p: v[min(len(v) - 1, int(p * len(v)))]
    return f"{name}: {len(v)} events, p50 {q(0.5):.2f} ms, p99 {q(0.99):.2f} ms, max {v[-1]:.2f} ms"
print(row("while the snapshot was built", during))
print(row("after it (no snapshot)", after))
print(i)
PY
singles=$(tail -1 "$work/latency.txt")
snap_seq=$(sed -n 's/.*automatic snapshot at seq \([0-9]*\): models \/.*/\1/p' "$log1" | sort -n | tail -1)
echo "- the automatic snapshot of the first part: $(grep "automatic snapshot ([a-z]*) at seq $snap_seq:" "$log1" | sed 's/.*automatic snapshot //; s/: [^ ]*snapshots\//: /')"
echo "  $(grep "automatic snapshot at seq $snap_seq: models" "$log1" | sed 's/.*automatic snapshot at seq [0-9]*: //; s/ [^ ]*snapshots\// /')"
echo "- single events (POST /v1/events, one at a time, 5 ms apart):"
head -2 "$work/latency.txt" | sed 's/^/  - /'
say "the tail: $tail_events events ..."
tail_acc=$(bulk "$work/tail.ndjson")
last_seq=$(curl -sf "http://127.0.0.1:$port/readyz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
echo "- then $tail_acc events in bulk: journal at seq $last_seq"
grep -c 'automatic snapshot ([a-z]*) at seq' "$log1" | sed 's/^/- automatic snapshots written in all: /'
ls -l "$work/data/snapshots" | awk 'NR > 1 { printf "  - %s %s bytes\n", $9, $5 }'
du -sh "$work/data/journal" | awk '{ print "- journal: " $1 }'

# ---- 3. kill -9, restart (repeated: the time moves with how fast the machine hands out fresh
# memory, so one restart is one sample; the median and the worst of R are printed) ----
median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : sprintf("%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
worst() { tr ' ' '\n' | sort -n | tail -1; }
restarts() {  # restarts LOG ARGS...: R times kill -9 + start; sets readies, cpus, seq_served, figs
  local log=$1; shift
  readies=""; cpus=""
  for i in $(seq 1 "$repeat"); do
    kill9
    start_server "$log.$i" "$@"
    readies="$readies $ready_s"; cpus="$cpus $ready_cpu"
  done
  seq_served=$(curl -sf "http://127.0.0.1:$port/readyz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
  figs=$(startup_figures "$log.1" | paste -sd';' | sed 's/;/; /g')
}
say "kill -9, restart, $repeat times ..."
restarts "$work/restart.log" --snapshot-every-events "$every" --snapshot-every-s "$snap_s"
ready_ours=$(echo $readies | median); worst_ours=$(echo $readies | worst); all_ours=$readies
cpu_ours=$(echo $cpus | median)
seq_ours=$seq_served; figs_ours=$figs

# ---- 4. baseline: no snapshot ----
say "kill -9, snapshots moved aside, restart with automatic snapshots off, $repeat times ..."
kill9
mv "$work/data/snapshots" "$work/snapshots.aside"
restarts "$work/baseline.log" --snapshot-every-events 0 --snapshot-every-s 0
ready_base=$(echo $readies | median); worst_base=$(echo $readies | worst); all_base=$readies
cpu_base=$(echo $cpus | median)
seq_base=$seq_served; figs_base=$figs
kill9
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| start-up after kill -9 at seq $last_seq, $repeat times | ready, median (exec to /readyz 200) | worst | CPU until ready, median | each ready (s) | seq served | start-up log (first) |"
echo "|---|---|---|---|---|---|---|"
echo "| automatic snapshot + models file, the journal after them | $ready_ours s | $worst_ours s | $cpu_ours s |$all_ours | $seq_ours | $figs_ours |"
echo "| baseline: no snapshot (automatic snapshots off), whole journal | $ready_base s | $worst_base s | $cpu_base s |$all_base | $seq_base | $figs_base |"
echo
echo "ratio of the medians: $(awk -v a="$ready_base" -v b="$ready_ours" 'BEGIN { printf "%.1fx", a / b }') faster (CPU: $(awk -v a="$cpu_base" -v b="$cpu_ours" 'BEGIN { printf "%.1fx", a / b }')); acknowledged events served after each restart: $([ "$seq_ours" = "$last_seq" ] && [ "$seq_base" = "$last_seq" ] && echo all || echo 'NOT ALL')"
