-- bench/pg_filters.sql: the PostgreSQL side of bench/filters.sh, run by psql on the throw-away
-- server bench/pg_peer.sh started, after the table `items` is loaded:
--
--   psql -v stmts=WORK/pg_stmts.tsv -f bench/pg_filters.sql      loads the statements, makes
--                                                                 bench_pages()
--   SELECT count(*) FROM bench_pages();                           the warm-up pass
--   SELECT * FROM bench_pages();                                  the timed pass: qid, ms, result
--
-- pg_stmts.tsv (filter_bench prepare) holds, per query, the statements of one search page:
-- `page` (the 20 rows, ORDER BY the sort key NULLS LAST, LIMIT 20; their sort keys as JSON),
-- `count` (SELECT count(*) with the same WHERE) and one `facet` statement per facet (a GROUP BY
-- of the folded value, or count(*) FILTER (WHERE lo <= x AND x <= hi) per range, under the
-- WHERE without the conjuncts on that field for a disjunctive facet).
--
-- bench_pages() runs each query's statements one after the other and times them together, as
-- one page, with clock_timestamp() around them, inside the server (no client round trips, as
-- Trove's figures are in-process). Each EXECUTE plans its own text, as a client's query would be
-- planned. The EXCEPTION block (a subtransaction, a few microseconds) keeps one bad statement
-- from stopping the run; its error is returned in the result.
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_stmt, bench_q;
CREATE TABLE bench_stmt (qid int, kind text, n int, sql text);
COPY bench_stmt FROM :'stmts';
CREATE TABLE bench_q AS
  SELECT qid,
         max(sql) FILTER (WHERE kind = 'page') AS page_sql,
         max(sql) FILTER (WHERE kind = 'count') AS count_sql,
         coalesce(array_agg(sql ORDER BY n) FILTER (WHERE kind = 'facet'), '{}') AS facet_sqls
  FROM bench_stmt GROUP BY qid;

CREATE OR REPLACE FUNCTION bench_pages() RETURNS TABLE (qid int, ms float8, result text)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  t0 timestamptz;
  t1 timestamptz;
  page json;
  total bigint;
  f json;
  facets json[];
  s text;
  err text;
BEGIN
  FOR r IN SELECT * FROM bench_q b ORDER BY b.qid LOOP
    page := NULL;
    total := NULL;
    facets := '{}';
    err := NULL;
    t0 := clock_timestamp();
    BEGIN
      EXECUTE r.page_sql INTO page;
      EXECUTE r.count_sql INTO total;
      FOREACH s IN ARRAY r.facet_sqls LOOP
        EXECUTE s INTO f;
        facets := facets || f;
      END LOOP;
    EXCEPTION WHEN OTHERS THEN
      err := SQLERRM;
    END;
    t1 := clock_timestamp();
    qid := r.qid;
    ms := extract(epoch FROM t1 - t0) * 1000;
    result := json_build_object('total', total, 'page', page, 'facets', to_json(facets),
                                'error', err)::text;
    RETURN NEXT;
  END LOOP;
END
$$;
