"""The three systems of bench/quality.sh, each behind the same two calls:

    search(text) -> SearchAnswer(ids, dropped, total)   the top 10
    suggest(text) -> SuggestAnswer(ids, completions)    the top 5 items (and completions)

Trove is the real binary over real HTTP; Xapian is python3-xapian in this process; PostgreSQL
is a throw-away server from bench/pg_peer.sh, through psycopg2.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field

SEARCH_TOP = 10
SUGGEST_TOP = 5


@dataclass
class SearchAnswer:
    ids: list
    dropped: list = field(default_factory=list)  # Trove's relaxation: words it dropped
    total: int = 0


@dataclass
class SuggestAnswer:
    ids: list
    completions: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Trove


class Trove:
    name = "Trove"

    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.proc = None
        self.port = None
        self.conn = None
        self.import_figures = {}

    def load(self, catalog):
        data = os.path.join(self.work, "trove-" + catalog.key)
        args = [self.binary, "import", "--data-dir", data, "--progress", "off"] + catalog.trove_import
        log = os.path.join(self.work, "trove-import-" + catalog.key + ".log")
        t0 = time.time()
        with open(log, "w") as err:
            if catalog.stdin_cmd:
                feed = subprocess.Popen(catalog.stdin_cmd, stdout=subprocess.PIPE)
                rc = subprocess.call(args + ["-"], stdin=feed.stdout, stdout=err, stderr=err)
                feed.stdout.close()
                feed.wait()
            else:
                rc = subprocess.call(args + [catalog.source], stdout=err, stderr=err)
        wall = time.time() - t0
        text = open(log).read()
        fig = {k: v for k, v in re.findall(r"^(imported|failed|rows|unchanged)\s+(\d+)", text, re.M)}
        self.import_figures = {"wall_s": wall, "exit": rc, **fig}
        self.command = " ".join(args[1:] + ["-" if catalog.stdin_cmd else catalog.source])
        if rc > 1:
            raise RuntimeError(f"trove import failed (exit {rc}):\n{text[-2000:]}")
        self._serve(data, catalog.key)
        return wall

    def _serve(self, data, key):
        log = os.path.join(self.work, "trove-serve-" + key + ".log")
        open(log, "w").close()
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--log-file",
             "off", "--error-log", log, "--rate-limit", "0", "--snapshot-every-events", "0",
             "--snapshot-every-s", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while time.time() - t0 < 600:
            if self.proc.poll() is not None:
                raise RuntimeError("trove serve died:\n" + open(log).read()[-2000:])
            if self.port is None:
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log).read())
                if m:
                    self.port = int(m.group(1))
            if self.port is not None:
                try:
                    status, _ = self._get("/readyz")
                    if status == 200:
                        self.ready_s = time.time() - t0
                        return
                except OSError:
                    self.conn = None
            time.sleep(0.05)
        raise RuntimeError("trove serve was not ready in 600 s")

    def _get(self, path):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _json(self, route, **params):
        status, body = self._get(route + "?" + urllib.parse.urlencode(params))
        if status != 200:
            raise RuntimeError(f"{route} {params}: HTTP {status}: {body[:300]!r}")
        return json.loads(body)

    def search(self, text):
        j = self._json("/v1/search", q=text, per_page=SEARCH_TOP)
        return SearchAnswer([h["id"] for h in j["hits"]],
                            j.get("relaxed", {}).get("dropped_terms", []), j.get("total", 0))

    def suggest(self, text):
        j = self._json("/v1/suggest", q=text, items=SUGGEST_TOP)
        return SuggestAnswer([h["id"] for h in j["items"]], j.get("completions", []))

    def stop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # our own server, by its pid
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.port = None


# ---------------------------------------------------------------------------------------------
# Bare Xapian


class Xapian:
    """A TermGenerator with the language's stemmer and spelling data; QueryParser defaults.

    Document: the title (wdf x2, as Trove weighs the title above the brand), then, after a
    position gap, the extra field (authors); no prefixes, so both are searched and completed.
    Search: QueryParser (default operator OR, STEM_SOME, FLAG_DEFAULT), BM25 top 10. Spelling:
    each word the database does not hold is replaced by Database::get_spelling_suggestion (the
    most frequent spelling-table word within 2 edits: what FLAG_SPELLING_CORRECTION calls) and
    the corrected query is run instead, as an application following Xapian's "did you mean"
    would. Words the database holds are kept: 1.4.22's QueryParser with FLAG_SPELLING_CORRECTION
    also "corrects" them to a more frequent neighbour ("Memory" -> "memoir", "Pooh" -> "poe",
    "Days" -> "day"), against its documentation, which cost a third of the exact queries on
    goodbooks-10k. Suggest: FLAG_DEFAULT | FLAG_PARTIAL with OP_AND
    (earlier words must all match, the last one is a prefix: Xapian's default expansion, the
    100 most frequent words), BM25 top 5.
    """
    name = "Xapian"

    def __init__(self, work):
        import xapian
        self.x = xapian
        self.work = work

    def load(self, catalog):
        x = self.x
        path = os.path.join(self.work, "xapian-" + catalog.key)
        t0 = time.time()
        db = x.WritableDatabase(path, x.DB_CREATE_OR_OVERWRITE)
        tg = x.TermGenerator()
        tg.set_stemmer(x.Stem(catalog.language))
        tg.set_database(db)
        tg.set_flags(x.TermGenerator.FLAG_SPELLING)
        for it in catalog.items:
            doc = x.Document()
            tg.set_document(doc)
            tg.index_text(it.title, 2)
            if it.extra:
                tg.increase_termpos()
                tg.index_text(it.extra)
            doc.set_data(it.id)
            doc.add_boolean_term("Q" + it.id)
            db.replace_document("Q" + it.id, doc)
        db.commit()
        db.close()
        wall = time.time() - t0
        self.db = x.Database(path)
        self.enquire = x.Enquire(self.db)
        self.enquire.set_weighting_scheme(x.BM25Weight())
        self.qp = x.QueryParser()
        self.qp.set_stemmer(x.Stem(catalog.language))
        self.qp.set_stemming_strategy(x.QueryParser.STEM_SOME)
        self.qp.set_database(self.db)
        self.sp = x.QueryParser()
        self.sp.set_stemmer(x.Stem(catalog.language))
        self.sp.set_stemming_strategy(x.QueryParser.STEM_SOME)
        self.sp.set_database(self.db)
        self.sp.set_default_op(x.Query.OP_AND)
        self.corrected = 0
        return wall

    def _top(self, query, n):
        self.enquire.set_query(query)
        return [m.document.get_data().decode() for m in self.enquire.get_mset(0, n)]

    def search(self, text):
        x = self.x
        words = text.split()
        for i, w in enumerate(words):
            if not self.db.term_exists(w.lower()):
                fix = self.db.get_spelling_suggestion(w.lower())
                if fix:
                    words[i] = fix.decode() if isinstance(fix, bytes) else fix
        corrected = " ".join(words)
        if corrected != " ".join(text.split()):
            self.corrected += 1
        try:
            q = self.qp.parse_query(corrected, x.QueryParser.FLAG_DEFAULT)
        except x.QueryParserError:
            return SearchAnswer([])
        return SearchAnswer(self._top(q, SEARCH_TOP))

    def suggest(self, text):
        x = self.x
        try:
            q = self.sp.parse_query(text, x.QueryParser.FLAG_DEFAULT | x.QueryParser.FLAG_PARTIAL)
        except x.QueryParserError:
            return SuggestAnswer([])
        return SuggestAnswer(self._top(q, SUGGEST_TOP))

    def stop(self):
        pass


# ---------------------------------------------------------------------------------------------
# PostgreSQL 15


class Postgres:
    """One table per catalog, filled by COPY; tsvector ranking with pg_trgm for typos.

    Columns: tsv = setweight(to_tsvector(LANG, title), 'A') || setweight(to_tsvector(LANG,
    extra), 'B') (LANG: english or french, stemmed, GIN); tsv_prefix = to_tsvector('simple',
    title || ' ' || extra) (unstemmed, for prefixes, GIN); a trigram GIN index on title.
    Search: the rows where tsv @@ plainto_tsquery(LANG, q) (every word, stemmed) OR q <% title
    (pg_trgm's word similarity of q to some run of the title >= 0.6, the default threshold:
    the typo route), ordered full-text matches first, by ts_rank, then by word_similarity(q,
    title), then shorter titles first; top 10. Suggest: tsv_prefix @@ to_tsquery('simple',
    'w1 & w2 & pre:*') (the last word a prefix unless the text ends in a space), ordered by
    ts_rank, then shorter titles first; top 5.
    """
    name = "PostgreSQL"

    def __init__(self, port):
        import psycopg2
        self.conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        self.conn.autocommit = True
        self.cur = self.conn.cursor()
        self.cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        self.cur.execute("SELECT version()")
        self.version = self.cur.fetchone()[0].split(" on ")[0]

    def load(self, catalog):
        import io
        t = "items_" + catalog.key
        self.table = t
        self.lang = catalog.language
        c = self.cur
        t0 = time.time()
        c.execute(f"DROP TABLE IF EXISTS {t}")
        c.execute(f"""CREATE TABLE {t} (
            id text PRIMARY KEY, title text NOT NULL, extra text NOT NULL,
            tsv tsvector GENERATED ALWAYS AS (
              setweight(to_tsvector('{self.lang}', title), 'A') ||
              setweight(to_tsvector('{self.lang}', extra), 'B')) STORED,
            tsv_prefix tsvector GENERATED ALWAYS AS (
              to_tsvector('simple', title || ' ' || extra)) STORED)""")

        def esc(s):
            return s.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " ")
        buf = io.StringIO()
        for it in catalog.items:
            buf.write(f"{esc(it.id)}\t{esc(it.title)}\t{esc(it.extra)}\n")
        buf.seek(0)
        c.copy_expert(f"COPY {t} (id, title, extra) FROM STDIN", buf)
        c.execute(f"CREATE INDEX {t}_tsv ON {t} USING gin (tsv)")
        c.execute(f"CREATE INDEX {t}_tsv_prefix ON {t} USING gin (tsv_prefix)")
        c.execute(f"CREATE INDEX {t}_trgm ON {t} USING gin (title gin_trgm_ops)")
        c.execute(f"VACUUM ANALYZE {t}")
        return time.time() - t0

    def search(self, text):
        t, lang = self.table, self.lang
        self.cur.execute(
            f"""SELECT id FROM {t}, plainto_tsquery('{lang}', %(q)s) tq
                WHERE tsv @@ tq OR %(q)s <%% title
                ORDER BY (tsv @@ tq) DESC, ts_rank(tsv, tq) DESC,
                         word_similarity(%(q)s, title) DESC, length(title), id
                LIMIT {SEARCH_TOP}""", {"q": text})
        return SearchAnswer([r[0] for r in self.cur.fetchall()])

    def suggest(self, text):
        tokens = re.findall(r"[^\W_]+", text.lower())
        if not tokens:
            return SuggestAnswer([])
        parts = tokens[:]
        if not text[-1].isspace():
            parts[-1] += ":*"
        tq = " & ".join(parts)
        t = self.table
        self.cur.execute(
            f"""SELECT id FROM {t}, to_tsquery('simple', %(tq)s) tq WHERE tsv_prefix @@ tq
                ORDER BY ts_rank(tsv_prefix, tq) DESC, length(title), id LIMIT {SUGGEST_TOP}""",
            {"tq": tq})
        return SuggestAnswer([r[0] for r in self.cur.fetchall()])

    def stop(self):
        pass

    def close(self):
        self.conn.close()
