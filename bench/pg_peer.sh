#!/usr/bin/env bash
# bench/pg_peer.sh: the PostgreSQL 15 peer of bench/search.sh, a throw-away server on loopback.
#
#   pg_peer.sh start   DIR             initdb in DIR/pg, start on a free 127.0.0.1 port
#   pg_peer.sh load    DIR ROWS        COPY the rows (code, name, ingredients; COPY text format),
#                                      then the two GIN indexes; prints key=value figures
#   pg_peer.sh queries DIR QUERIES OUT runs bench/search.sh's queries inside the server, a
#                                      warm-up pass then a timed one; OUT: id \t ms \t hits
#   pg_peer.sh stop    DIR             stops the server and deletes DIR/pg
#
# The table: tsv_name = to_tsvector('simple', name) for suggest (the title only, as Trove's
# suggest), tsv = name (weight A) || ingredients (weight B) for search, both 'simple' (no
# stemming: prefix matching with :* over stems would be wrong), both STORED generated columns
# filled during COPY, each with a GIN index built after it.
#
# Timing: each query is timed in a plpgsql function with clock_timestamp() around an EXECUTE
# (planned per query with its own text, as a client's query would be), so client round trips
# are excluded, as they are for Trove's in-process figures. The EXCEPTION block that keeps one
# bad query from stopping the run costs a subtransaction, a few microseconds.
#
# Installs postgresql-15 with apt-get when missing (as root). initdb refuses root, so the server
# runs as the `postgres` user (runuser) when this script runs as root.
set -euo pipefail

cmd=${1:?usage: pg_peer.sh start|load|queries|stop DIR ...}
dir=${2:?DIR}
pg=$dir/pg
PGBIN=/usr/lib/postgresql/15/bin

as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
sql() {
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$pg/port")" -U postgres \
    -d postgres "$@"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

case $cmd in
start)
  if [ ! -x "$PGBIN/initdb" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "pg_peer: PostgreSQL 15 is not installed and this is not root" >&2
      exit 1
    fi
    echo "pg_peer: installing postgresql-15" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      postgresql-15 postgresql-contrib >/dev/null
  fi
  mkdir -p "$pg"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg"; fi
  as_server "$PGBIN/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$pg/initdb.log"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$port" >"$pg/port"
  # Bulk-load settings a user would pick on this 23 GiB machine; fsync and WAL stay on.
  as_server "$PGBIN/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -o "-c port=$port \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg -c shared_buffers=1GB \
    -c maintenance_work_mem=1GB -c work_mem=64MB -c max_wal_size=8GB \
    -c checkpoint_timeout=30min" start >/dev/null
  echo "pg_port=$port"
  echo "pg_version=$(sql -At -c 'SHOW server_version' | cut -d' ' -f1)"
  ;;
load)
  rows=${3:?ROWS}
  sql -c "CREATE TABLE products (
      code text, name text, ingredients text,
      tsv_name tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(name, ''))) STORED,
      tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(ingredients, '')), 'B')) STORED)"
  t0=$(now)
  sql -c "COPY products (code, name, ingredients) FROM '$rows'"
  t1=$(now)
  sql -c "CREATE INDEX products_tsv ON products USING gin (tsv)"
  sql -c "CREATE INDEX products_tsv_name ON products USING gin (tsv_name)"
  t2=$(now)
  sql -c "VACUUM ANALYZE products"
  t3=$(now)
  echo "pg_copy_s=$(elapsed "$t0" "$t1")"
  echo "pg_index_s=$(elapsed "$t1" "$t2")"
  echo "pg_analyze_s=$(elapsed "$t2" "$t3")"
  sql -At -F= -c "SELECT 'pg_rows', count(*) FROM products
    UNION ALL SELECT 'pg_gin_bytes',
      pg_relation_size('products_tsv') + pg_relation_size('products_tsv_name')
    UNION ALL SELECT 'pg_total_bytes', pg_total_relation_size('products')"
  ;;
queries)
  queries=${3:?QUERIES}
  out=${4:?OUT}
  awk -F'\t' '{ print NR "\t" $1 "\t" $5 }' "$queries" >"$pg/queries.copy"
  sql <<EOF
SET client_min_messages = warning;
CREATE TABLE bench_q (id int PRIMARY KEY, kind text, q text);
\copy bench_q FROM '$pg/queries.copy'
CREATE FUNCTION bench_run() RETURNS TABLE (qid int, ms float8, hits int)
LANGUAGE plpgsql AS \$\$
DECLARE
  r record;
  t0 timestamptz;
  n int;
BEGIN
  FOR r IN SELECT b.id, b.kind, b.q FROM bench_q b ORDER BY b.id LOOP
    t0 := clock_timestamp();
    BEGIN
      IF r.kind = 'search' THEN
        EXECUTE 'SELECT count(*) FROM (SELECT code, name FROM products
                   WHERE tsv @@ plainto_tsquery(''simple'', \$1)
                   ORDER BY ts_rank(tsv, plainto_tsquery(''simple'', \$1)) DESC LIMIT 10) s'
          INTO n USING r.q;
      ELSE
        EXECUTE 'SELECT count(*) FROM (SELECT code, name FROM products
                   WHERE tsv_name @@ to_tsquery(''simple'', \$1)
                   ORDER BY ts_rank(tsv_name, to_tsquery(''simple'', \$1)) DESC LIMIT 5) s'
          INTO n USING r.q;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      n := -1;
    END;
    qid := r.id;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    hits := n;
    RETURN NEXT;
  END LOOP;
END
\$\$;
SELECT count(*) FROM bench_run() \g /dev/null
\copy (SELECT * FROM bench_run()) TO '$out'
EOF
  echo "pg_query_errors=$(awk -F'\t' '$3 < 0' "$out" | wc -l)"
  ;;
stop)
  if [ -f "$pg/port" ] && [ -d "$pg/data" ]; then
    as_server "$PGBIN/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$pg"
  ;;
*)
  echo "usage: pg_peer.sh start|load|queries|stop DIR ..." >&2
  exit 2
  ;;
esac
