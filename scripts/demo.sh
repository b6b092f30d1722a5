#!/usr/bin/env bash
# The demo: generate a shop's event stream, ingest it into a fresh data directory, look at
# it from the CLI, then serve the HTTP API on 127.0.0.1:7700 in the foreground (Ctrl-C stops
# it cleanly: in-flight requests finish, the index is flushed, a snapshot is written).
#
#   scripts/demo.sh [path/to/trove] [demo-dir]      (what `make demo` runs)
#   DEMO_LISTEN=127.0.0.1:7701 scripts/demo.sh ...  (another address)
#
# Everything it writes lives in the demo dir, which is deleted and recreated first: the
# events, the data directory, the API keys file and the request log.
set -eu

TROVE=${1:-build/cli/trove}
DEMO_DIR=${2:-demo-data}
LISTEN=${DEMO_LISTEN:-127.0.0.1:7700}

if [ ! -x "$TROVE" ]; then
  echo "demo: no trove binary at $TROVE (build it first: make build)" >&2
  exit 2
fi
case "$DEMO_DIR" in
  "" | "/" | "." | "..")
    echo "demo: refusing to use '$DEMO_DIR' as the demo dir (it is deleted first)" >&2
    exit 2
    ;;
esac

DATA_DIR="$DEMO_DIR/data"
EVENTS="$DEMO_DIR/demo-events.ndjson"
KEYS="$DEMO_DIR/keys"
REQUEST_LOG="$DEMO_DIR/requests.log"
BASE="http://$LISTEN"

step() { printf '\n== %s\n' "$*"; }
# Reads an integer field out of the one-line JSON that `--json` prints.
json_int() { sed -n "s/.*\"$1\":\([0-9][0-9]*\).*/\1/p"; }
new_key() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"

step "generate: 3000 items, 800 visitors, 40000 behaviour events (seed 42)"
"$TROVE" generate --items 3000 --visitors 800 --events 40000 --seed 42 --out "$EVENTS"

step "ingest $EVENTS into $DATA_DIR"
# Repeated event_ids in the stream are acknowledged once and counted as duplicates.
"$TROVE" ingest --data-dir "$DATA_DIR" "$EVENTS"

step "stats"
"$TROVE" stats --data-dir "$DATA_DIR"

LAST_SEQ=$("$TROVE" stats --data-dir "$DATA_DIR" --json | json_int last_seq)
HALF=$((LAST_SEQ / 2))
step "time travel: the state after the first $HALF of $LAST_SEQ events"
"$TROVE" replay --data-dir "$DATA_DIR" --until-seq "$HALF" | grep -v '^  '  # counts per kind left out

step "search with typos (\"creme brulle\"), with facets"
"$TROVE" search --data-dir "$DATA_DIR" "creme brulle" --facets brand --per-page 5

# A visitor who bought something, and the first item of that order: real ids with history.
ORDER_LINE=$(grep -m1 '"type":"PurchaseComplete"' "$EVENTS")
VISITOR=$(printf '%s' "$ORDER_LINE" | sed -n 's/.*"visitor_id":"\([^"]*\)".*/\1/p')
ITEM=$(printf '%s' "$ORDER_LINE" | sed -n 's/.*"lines":\[{"item_id":"\([^"]*\)".*/\1/p')
if [ -z "$VISITOR" ] || [ -z "$ITEM" ]; then
  echo "demo: no purchase in $EVENTS to take a visitor and an item from" >&2
  exit 1
fi

step "recommendations for $VISITOR (who bought $ITEM), and items similar to $ITEM"
"$TROVE" recommend --data-dir "$DATA_DIR" for-you --visitor "$VISITOR" --count 5
"$TROVE" recommend --data-dir "$DATA_DIR" similar --item "$ITEM" --count 5

# API keys: one per scope, random, in a file only the demo reads (never on a command line).
SEARCH_KEY="search-$(new_key)"
WRITE_KEY="write-$(new_key)"
ADMIN_KEY="admin-$(new_key)"
umask 077
cat >"$KEYS" <<KEYS
# trove serve --keys-file: <id> <scope> <key>
demo-frontend search $SEARCH_KEY
demo-ingest write $WRITE_KEY
demo-ops admin $ADMIN_KEY
KEYS
umask 022

cat <<MSG

== serving $DATA_DIR on $BASE (keys: $KEYS, request log: $REQUEST_LOG)
Once it says "ready", paste into another terminal:

  # search with a typo ("creme brulle"), with brand facets
  curl -s -H 'Authorization: Bearer $SEARCH_KEY' '$BASE/v1/search?q=creme%20brulle&facets=brand&per_page=3'
  # search-as-you-type
  curl -s -H 'Authorization: Bearer $SEARCH_KEY' '$BASE/v1/suggest?q=choc'
  # recommendations for a visitor of the demo data, and the same search personalized for them
  curl -s -H 'Authorization: Bearer $SEARCH_KEY' '$BASE/v1/recommend/for-you?visitor=$VISITOR&count=5'
  curl -s -H 'Authorization: Bearer $SEARCH_KEY' '$BASE/v1/search?q=creme%20brulle&visitor=$VISITOR&explain=true&per_page=3'
  # items similar to one that visitor bought
  curl -s -H 'Authorization: Bearer $SEARCH_KEY' '$BASE/v1/recommend/similar?item=$ITEM&count=5'
  # an event in (answered once it is fsynced), then Prometheus metrics
  curl -s -H 'Authorization: Bearer $WRITE_KEY' -H 'Content-Type: application/json' \\
    -d '{"type":"DetailItemView","user":{"visitor_id":"$VISITOR"},"item_id":"$ITEM"}' '$BASE/v1/events'
  curl -s -H 'Authorization: Bearer $ADMIN_KEY' '$BASE/metrics' | grep -E '^trove_(items|http_requests_total)'
  # the API itself
  curl -s '$BASE/openapi.json' | head -20

Ctrl-C stops the server (in-flight requests finish, then a snapshot is written).
MSG

exec "$TROVE" serve --data-dir "$DATA_DIR" --listen "$LISTEN" --keys-file "$KEYS" \
  --log-file "$REQUEST_LOG"
