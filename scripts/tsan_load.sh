#!/usr/bin/env bash
# Mixed load against a `trove serve` built with ThreadSanitizer (`make test-tsan` runs it after
# the TSan build of the suite): bulk ingestion, single events, search, suggest,
# recommendations, forgets, snapshots and search-settings re-indexes at once for SECONDS,
# then SIGTERM. Fails if TSan reported anything, if the server died, or if it did not exit 0.
#
#   scripts/tsan_load.sh build-tsan/cli/trove [SECONDS]
#
# Loopback only; every loop is bounded by the deadline and stops by itself.
set -u

TROVE=${1:?usage: tsan_load.sh path/to/trove [seconds]}
SECONDS_TO_RUN=${2:-60}
WORK=$(mktemp -d)
SUPP="$(cd "$(dirname "$0")" && pwd)/tsan.supp"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

new_key() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
ADMIN=$(new_key)
WRITE=$(new_key)
SEARCH=$(new_key)
printf 'ops admin %s\nshop write %s\nweb search %s\n' "$ADMIN" "$WRITE" "$SEARCH" >"$WORK/keys"

"$TROVE" generate --items 2000 --visitors 300 --events 20000 --seed 11 --out "$WORK/shop.ndjson" >/dev/null
# The first half ingested before serving; the second half arrives over HTTP in bulk bodies.
half=$(($(wc -l <"$WORK/shop.ndjson") / 2))
head -n "$half" "$WORK/shop.ndjson" >"$WORK/first.ndjson"
tail -n +"$((half + 1))" "$WORK/shop.ndjson" | split -l 2000 - "$WORK/bulk."
# `trove ingest` runs under TSan too (its index flush is multi-threaded): its reports count.
TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 suppressions=$SUPP log_path=$WORK/tsan-ingest" \
  "$TROVE" ingest --data-dir "$WORK/data" "$WORK/first.ndjson" >/dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 suppressions=$SUPP log_path=$WORK/tsan" \
  "$TROVE" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --keys-file "$WORK/keys" \
  --log-file off --index-flush-ms 50 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 600); do
  curl -sf "$BASE/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$BASE/readyz" >/dev/null || { echo "tsan_load: the server did not become ready"; cat "$WORK/serve.log"; exit 1; }

DEADLINE=$(($(date +%s) + SECONDS_TO_RUN))
alive() { [ "$(date +%s)" -lt "$DEADLINE" ]; }
get() { curl -s -o /dev/null -m 10 -H "Authorization: Bearer $1" "$BASE$2"; }
post() { curl -s -o /dev/null -m 30 -H "Authorization: Bearer $1" -H "Content-Type: $2" --data-binary "$3" "$BASE$4"; }

( while alive; do for f in "$WORK"/bulk.*; do alive || break
    post "$WRITE" application/x-ndjson "@$f" /v1/events/bulk; done; done ) &
( i=0; while alive; do i=$((i + 1))
    post "$WRITE" application/json "{\"type\":\"DetailItemView\",\"user\":{\"visitor_id\":\"t$((i % 50))\"},\"item_id\":\"item-$((i % 2000))\"}" /v1/events
  done ) &
( while alive; do for q in choc "dark choc" tea "cofee" lamp "matte dutch"; do
    get "$SEARCH" "/v1/search?q=$(printf %s "$q" | sed 's/ /%20/g')&facets=brand"
    get "$SEARCH" "/v1/suggest?q=$(printf %s "$q" | cut -c1-3)"; done; done ) &
( i=0; while alive; do i=$((i + 1))
    get "$SEARCH" "/v1/recommend/for-you?visitor_id=t$((i % 50))"
    get "$SEARCH" "/v1/recommend/similar?item_id=item-$((i % 2000))"
    get "$SEARCH" "/v1/recommend/trending"; done ) &
( i=0; while alive; do i=$((i + 1)); sleep 1
    post "$WRITE" application/json "{\"type\":\"UserForget\",\"visitor_id\":\"t$((i % 50))\"}" /v1/events
  done ) &
( while alive; do sleep 5; post "$ADMIN" application/json '{}' /v1/admin/snapshot; done ) &
# Searchable fields that change every 7 s: a background re-index and shard swap under the
# searches above; searches with results feed the query suggestions suggest reads.
( i=0; while alive; do i=$((i + 1)); sleep 7
    post "$WRITE" application/json "{\"type\":\"SearchSettingsUpsert\",\"searchable_fields\":[{\"field\":\"title\",\"weight\":$((i % 5 + 1))},{\"field\":\"description\",\"weight\":1}]}" /v1/events
    post "$WRITE" application/json "{\"type\":\"SearchQuery\",\"user\":{\"visitor_id\":\"t$((i % 50))\"},\"query\":\"dark chocolate\",\"item_ids\":[\"item-1\"]}" /v1/events
  done ) &
wait $(jobs -p | grep -v "^$SERVER$") 2>/dev/null

kill -0 "$SERVER" 2>/dev/null || { echo "tsan_load: the server died"; cat "$WORK/serve.log"; exit 1; }
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
reports=$(cat "$WORK"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer' || true)
ingest_reports=$(cat "$WORK"/tsan-ingest.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer' || true)
echo "tsan_load: ${SECONDS_TO_RUN} s of mixed load; server exit $rc; ThreadSanitizer reports:" \
  "$reports in trove serve, $ingest_reports in the set-up's trove ingest"
if [ "$reports" != 0 ] || [ "$ingest_reports" != 0 ]; then cat "$WORK"/tsan*.* ; exit 1; fi
[ "$rc" = 0 ] || { cat "$WORK/serve.log"; exit 1; }
