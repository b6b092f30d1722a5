#!/usr/bin/env bash
# The issue-2 demo: generate a shop's event stream, ingest it into a fresh data directory,
# look at what the store holds, snapshot it, and travel back in time.
#
#   scripts/demo.sh [path/to/trove] [demo-dir]      (what `make demo` runs)
#
# Everything it writes lives in the demo dir, which is deleted and recreated first.
set -eu

TROVE=${1:-build/cli/trove}
DEMO_DIR=${2:-demo-data}

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

step() { printf '\n== %s\n' "$*"; }
# Reads an integer field out of the one-line JSON that `--json` prints.
json_int() { sed -n "s/.*\"$1\":\([0-9][0-9]*\).*/\1/p"; }

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"

step "generate: 3000 items, 800 visitors, 40000 behaviour events (seed 42)"
"$TROVE" generate --items 3000 --visitors 800 --events 40000 --seed 42 --out "$EVENTS"

step "ingest $EVENTS into $DATA_DIR"
# Repeated event_ids in the stream are acknowledged once and counted as duplicates.
"$TROVE" ingest --data-dir "$DATA_DIR" "$EVENTS"

step "stats"
"$TROVE" stats --data-dir "$DATA_DIR"

step "snapshot"
"$TROVE" snapshot --data-dir "$DATA_DIR"

LAST_SEQ=$("$TROVE" stats --data-dir "$DATA_DIR" --json | json_int last_seq)
HALF=$((LAST_SEQ / 2))
step "time travel: the state after the first $HALF of $LAST_SEQ events"
"$TROVE" replay --data-dir "$DATA_DIR" --until-seq "$HALF"

step "full replay from the journal alone (no snapshot) reaches the live digest"
"$TROVE" replay --data-dir "$DATA_DIR" --no-snapshots | grep -E '^(digest|last seq|replayed|seconds)'

step "search with typos (\"creme brulle\"), with facets"
"$TROVE" search --data-dir "$DATA_DIR" "creme brulle" --facets brand,price --per-page 5

step "search-as-you-type: \"choc\""
"$TROVE" suggest --data-dir "$DATA_DIR" "choc"

cat <<MSG

The demo data is in $DEMO_DIR (events: $EVENTS, data directory: $DATA_DIR).
Try: $TROVE replay --data-dir $DATA_DIR --until 2023-11-15T12:00:00Z
     $TROVE schema --type PurchaseComplete
     $TROVE search --data-dir $DATA_DIR '"wireless charger" -cable' --sort price_asc --explain
     $TROVE fuzzy --data-dir $DATA_DIR chocolat --max-distance 2
Later issues make \`make demo\` serve the HTTP API (search, recommendations, web console)
on top of this data directory.
MSG
