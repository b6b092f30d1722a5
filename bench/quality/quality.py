#!/usr/bin/python3
"""bench/quality/quality.py: search relevance as a shopper sees it, Trove beside bare Xapian and
PostgreSQL 15, on real catalogs. Run through bench/quality.sh, which starts the PostgreSQL
server and copies the trove binary; see the top of that script and docs/BENCHMARKS.md.

Per catalog: every system is fed the same items (catalogs.py), the same queries are drawn with a
fixed seed (queries.py), each system answers them (systems.py), and one markdown table puts the
systems side by side. A benchmark, not a test: it prints figures and never asserts.

Metrics, per query kind (exact, one typo, two typos):
  recall@10   the share of queries whose sought item is among the first 10 hits;
  MRR         the mean of 1/rank of the sought item (0 when not in the first 10).
The "sought item" is the sampled item or any item with the same name (case, accents and
punctuation folded): a shopper who types "Comté" and gets another product named "Comté" has
what they asked for (Open Food Facts has 635 of them). The strict figure, the exact id only,
is printed beside it.
Suggest, the exact words typed letter by letter (suggest's top 5 items after each letter):
  typed       the share of the query's characters typed before the item is first shown (the
              letter that shows it included), mean over queries, 100 % for a query never shown;
  shown       the share of queries where the item is shown at some letter;
  dead ends   (Trove only) the share of the completions offered at every letter that, searched
              as the query, answer with relaxation (dropped words) or no hit at all.
"""
import argparse
import collections
import datetime
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import catalogs  # noqa: E402
import queries  # noqa: E402
import systems  # noqa: E402

KIND_NAMES = {"exact": "exact", "typo1": "1 typo", "typo2": "2 typos"}


def say(msg):
    print(f"[{datetime.datetime.utcnow():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def mean(v):
    return sum(v) / len(v) if v else None


class Judge:
    """Which ids count as the sought item: the id itself, or any item of the same folded name."""

    def __init__(self, catalog):
        self.title = {it.id: it.title for it in catalog.items}
        self.by_name = collections.defaultdict(set)
        self.folded = {}
        for it in catalog.items:
            f = catalogs.fold(it.title)
            self.folded[it.id] = f
            self.by_name[f].add(it.id)

    def ranks(self, item, ids):
        """(rank by name, rank by id), 1-based, None when absent."""
        same = self.by_name[self.folded[item.id]]
        by_name = next((i + 1 for i, x in enumerate(ids) if x in same), None)
        by_id = next((i + 1 for i, x in enumerate(ids) if x == item.id), None)
        return by_name, by_id

    def ambiguous(self, qs, top):
        """The ids of the items whose query has all its words in more than `top` distinct
        names (words folded, whole words): no ranking can be sure to put the sought one first."""
        vocab = {w for q in qs for w in catalogs.fold(q.text).split()}
        names_with = collections.defaultdict(set)
        for f in self.by_name:
            for w in set(f.split()) & vocab:
                names_with[w].add(f)
        out = set()
        for q in qs:
            ws = catalogs.fold(q.text).split()
            if not ws:
                continue
            sets = sorted((names_with[w] for w in ws), key=len)
            common = set(sets[0])
            for s in sets[1:]:
                common &= s
            if len(common) > top:
                out.add(q.item.id)
        return out


def run_search(system, judge, qs):
    out = []
    errors = 0
    for q in qs:
        try:
            ans = system.search(q.text)
        except Exception as e:  # one bad answer must not stop the run; counted and printed
            errors += 1
            if errors <= 3:
                say(f"{system.name} search {q.text!r}: {e}")
            ans = systems.SearchAnswer([])
        out.append((q, ans, *judge.ranks(q.item, ans.ids)))
    return out, errors


def run_suggest(system, judge, qs, keep_completions):
    """Per query: (query, first letter count showing it by name, by id, {prefix: answer})."""
    out = []
    errors = 0
    for q in qs:
        first_name = first_id = None
        answers = {}
        for k in range(1, len(q.text) + 1):
            prefix = q.text[:k]
            try:
                ans = system.suggest(prefix)
            except Exception as e:
                errors += 1
                if errors <= 3:
                    say(f"{system.name} suggest {prefix!r}: {e}")
                ans = systems.SuggestAnswer([])
            if keep_completions:
                answers[prefix] = ans
            rn, ri = judge.ranks(q.item, ans.ids)
            if rn is not None and first_name is None:
                first_name = k
            if ri is not None and first_id is None:
                first_id = k
            # Only Trove's completions are judged at every letter; the peers can stop here.
            if first_id is not None and not keep_completions:
                break
        out.append((q, first_name, first_id, answers))
    return out, errors


def search_figures(results):
    n = len(results)
    if not n:
        return None
    rec = lambda r: sum(1 for x in results if x[r] is not None and x[r] <= 10) / n  # noqa: E731
    mrr = lambda r: sum(1 / x[r] for x in results if x[r] is not None) / n  # noqa: E731
    return {"recall": rec(2), "recall_id": rec(3), "mrr": mrr(2), "mrr_id": mrr(3), "n": n}


def suggest_figures(results):
    n = len(results)
    if not n:
        return None
    def typed(i):
        return sum((x[i] if x[i] is not None else len(x[0].text)) / len(x[0].text)
                   for x in results) / n
    def shown(i):
        return sum(1 for x in results if x[i] is not None) / n
    return {"typed": typed(1), "typed_id": typed(2), "shown": shown(1), "shown_id": shown(2), "n": n}


def dead_ends(trove, sugg):
    """Every completion offered at every letter, searched as typed: relaxed or empty?"""
    cache = {}
    total = dead = relaxed = 0
    examples = []
    for q, _, _, answers in sugg:
        for prefix, ans in answers.items():
            for c in ans.completions:
                if c not in cache:
                    try:
                        cache[c] = trove.search(c)
                    except Exception as e:
                        say(f"Trove search {c!r}: {e}")
                        cache[c] = systems.SearchAnswer([])
                r = cache[c]
                total += 1
                if r.dropped or not r.ids:
                    dead += 1
                    relaxed += bool(r.dropped)
                    if len(examples) < 400:
                        examples.append((prefix, c, r.dropped, r.total))
    return (dead / total if total else None), total, dead, len(cache), examples, relaxed


def verdict(row, trove, peers, higher_better, threshold=None):
    """The target column for one of Trove's rows."""
    parts = []
    ok = True
    if threshold is not None:
        op, limit, shown = threshold
        met = trove is not None and (trove >= limit if op == ">=" else
                                     trove < limit if op == "<" else trove <= limit)
        ok &= met
        parts.append(f"{shown}: {'met' if met else 'missed'}")
    if peers is not None:
        known = {k: v for k, v in peers.items() if v is not None}
        if trove is None or not known:
            parts.append("ahead of both: n/a")
        else:
            behind = [k for k, v in known.items() if (v > trove if higher_better else v < trove)]
            tied = [k for k, v in known.items() if v == trove]
            if behind:
                ok = False
                parts.append("ahead of both: missed (behind " + ", ".join(behind) + ")")
            elif tied:
                parts.append("ahead of both: met (tied with " + ", ".join(tied) + ")")
            else:
                parts.append("ahead of both: met")
    return ("**met**" if ok else "**MISSED**") + ": " + "; ".join(parts)


def evaluate(catalog, syss, args):
    judge = Judge(catalog)
    sample, qs, skipped = queries.make(catalog, args.n, args.seed)
    say(f"{catalog.key}: {len(catalog.items)} items; {len(sample)} sampled; queries "
        + ", ".join(f"{k} {len(v)}" for k, v in qs.items()))
    res = {}
    times = {}
    for s in syss:
        t0 = time.time()
        r = {}
        errs = 0
        for kind in queries.KINDS:
            before = getattr(s, "corrected", 0)
            r[kind], e = run_search(s, judge, qs[kind])
            errs += e
            if hasattr(s, "corrected"):
                r.setdefault("corrected", {})[kind] = s.corrected - before
        r["suggest"], e = run_suggest(s, judge, qs["exact"], keep_completions=s.name == "Trove")
        errs += e
        r["errors"] = errs
        times[s.name] = time.time() - t0
        say(f"{catalog.key}: {s.name} answered in {times[s.name]:.1f} s ({errs} errors)")
        res[s.name] = r
    trove = next((s for s in syss if s.name == "Trove"), None)
    dead = None
    if trove is not None:
        t0 = time.time()
        dead = dead_ends(trove, res["Trove"]["suggest"])
        times["Trove dead ends"] = time.time() - t0
        say(f"{catalog.key}: Trove completions searched in {times['Trove dead ends']:.1f} s")
    return judge, sample, qs, skipped, res, dead, times


def report(catalog, syss, loads, ev, args):
    judge, sample, qs, skipped, res, dead, times = ev
    names = [s.name for s in syss]
    p = print
    p(f"### {catalog.name}: {len(catalog.items)} items")
    p()
    p(f"- source: `{catalog.source}`" + (f"; **{catalog.note}**" if catalog.note else ""))
    p(f"- sampled items: {len(sample)} (seed `{args.seed}-{catalog.key}`); queries: "
      + ", ".join(f"{KIND_NAMES[k]} {len(qs[k])}" for k in queries.KINDS)
      + f" (skipped for want of a word of >= 4 letters: {skipped['typo1']}; of >= 8 letters: "
      f"{skipped['typo2']}); suggest: {sum(len(q.text) for q in qs['exact'])} prefixes of the "
      f"{len(qs['exact'])} exact queries")
    dup = sum(1 for ids in judge.by_name.values() if len(ids) > 1)
    p(f"- names shared by several items: {dup} names, {sum(len(v) for v in judge.by_name.values() if len(v) > 1)} items")
    amb = judge.ambiguous(qs["exact"], 10)
    p(f"- exact queries whose words all occur in more than 10 distinct names: {len(amb)} of "
      f"{len(qs['exact'])} (there, only the ranking's tie-breaks can put the sought one in the "
      f"top 10; the second table leaves them out)")
    for s in syss:
        extra = ""
        if s.name == "Trove":
            f = s.import_figures
            extra = (f"; `trove import`: {f.get('imported', '?')} imported, {f.get('failed', '?')} "
                     f"failed, exit {f['exit']}; `trove serve` ready in {s.ready_s:.1f} s")
        p(f"- {s.name}: fed in {loads[s.name]:.1f} s{extra}; queries answered in "
          f"{times[s.name]:.1f} s, {res[s.name]['errors']} errors")
    if "corrected" in res.get("Xapian", {}):
        c = res["Xapian"]["corrected"]
        p("- Xapian's spelling correction rewrote " + ", ".join(
            f"{c[k]} of the {len(qs[k])} {KIND_NAMES[k]} queries" for k in queries.KINDS))
    p()
    figs = {n: {k: search_figures(res[n][k]) for k in queries.KINDS} for n in names}
    sfigs = {n: suggest_figures(res[n]["suggest"]) for n in names}
    p("| measure (sought item by same name / by exact id) | " + " | ".join(names) + " | target (Trove) |")
    p("|---|" + "---|" * len(names) + "---|")
    targets = {"exact": {"recall": (">=", 0.99, ">= 99%")},
               "typo1": {"recall": (">=", 0.97, ">= 97%"), "mrr": (">=", 0.85, ">= 0.85")}}

    def peers_of(getter):
        return {n: getter(n) for n in names if n != "Trove"}
    for kind in queries.KINDS:
        for m in ("recall", "mrr"):
            cells = []
            for n in names:
                f = figs[n][kind]
                if f is None:
                    cells.append("n/a")
                elif m == "recall":
                    cells.append(f"{pct(f['recall'])} / {pct(f['recall_id'])}")
                else:
                    cells.append(f"{f['mrr']:.3f} / {f['mrr_id']:.3f}")
            tv = figs["Trove"][kind][m] if "Trove" in figs and figs["Trove"][kind] else None
            target = ""
            if "Trove" in names:
                target = verdict(m, tv, peers_of(lambda n: figs[n][kind][m] if figs[n][kind] else None),
                                 True, targets.get(kind, {}).get(m))
            label = f"{KIND_NAMES[kind]} ({len(qs[kind])}): " + ("recall@10" if m == "recall" else "MRR")
            p(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    cells = [f"{pct(sfigs[n]['typed'])} / {pct(sfigs[n]['typed_id'])}" if sfigs[n] else "n/a" for n in names]
    tv = sfigs["Trove"]["typed"] if "Trove" in sfigs and sfigs["Trove"] else None
    target = verdict("typed", tv, peers_of(lambda n: sfigs[n]["typed"] if sfigs[n] else None), False,
                     ("<", 0.40, "< 40%")) if "Trove" in names else ""
    p(f"| suggest ({len(qs['exact'])}): characters typed before the top 5 show it (mean) | "
      + " | ".join(cells) + f" | {target} |")
    cells = [f"{pct(sfigs[n]['shown'])} / {pct(sfigs[n]['shown_id'])}" if sfigs[n] else "n/a" for n in names]
    tv = sfigs["Trove"]["shown"] if "Trove" in sfigs and sfigs["Trove"] else None
    target = verdict("shown", tv, peers_of(lambda n: sfigs[n]["shown"] if sfigs[n] else None),
                     True) if "Trove" in names else ""
    p(f"| suggest: queries whose item is shown at all | " + " | ".join(cells) + f" | {target} |")
    if dead is not None:
        share, total, ndead, distinct, _, relaxed = dead
        cells = [f"{pct(share)} ({ndead} of {total}: {relaxed} relaxed, {ndead - relaxed} no hit; "
                 f"{distinct} distinct completions searched)" if n == "Trove" else "(no completions)"
                 for n in names]
        p(f"| suggest: dead-end completions (relaxed or no hit when searched) | " + " | ".join(cells)
          + f" | {verdict('dead', share, None, False, ('<=', 0.0, '0%'))} |")
    p()
    clear_subset(res, names, qs, amb)
    if "Trove" in names and len(names) > 1:
        paired(res, names)
    typo_breakdown(res, names, qs)
    if "Trove" in names:
        trove_misses(judge, res, dead, names)


def clear_subset(res, names, qs, amb):
    """The same search figures on the items whose words are in at most 10 distinct names."""
    keep = {n: {k: [x for x in res[n][k] if x[0].item.id not in amb] for k in queries.KINDS}
            for n in names}
    print(f"The same, without the {len(amb)} ambiguous items (their words in more than 10 names): "
          "recall@10 and MRR by name")
    print()
    print("| query kind | queries | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for k in queries.KINDS:
        figs = {n: search_figures(keep[n][k]) for n in names}
        count = len(keep[names[0]][k])
        cells = [f"{pct(figs[n]['recall'])}, {figs[n]['mrr']:.3f}" if figs[n] else "n/a" for n in names]
        print(f"| {KIND_NAMES[k]} | {count} | " + " | ".join(cells) + " |")
    print()


def paired(res, names):
    """The same queries on both sides: how many each found that the other did not. With 300
    queries a share moves by 0.33 points a query, and a few points apart is within chance."""
    peers = [n for n in names if n != "Trove"]
    print("Queries found in the top 10 (by name) by one side only, Trove against each peer "
          "(the same queries: the difference that decides the rows above):")
    print()
    print("| query kind | " + " | ".join(f"Trove only / {n} only" for n in peers) + " |")
    print("|---|" + "---|" * len(peers))
    for k in queries.KINDS:
        hit = {n: [x[2] is not None and x[2] <= 10 for x in res[n][k]] for n in names}
        cells = []
        for n in peers:
            ours = sum(1 for a, b in zip(hit["Trove"], hit[n]) if a and not b)
            theirs = sum(1 for a, b in zip(hit["Trove"], hit[n]) if b and not a)
            cells.append(f"{ours} / {theirs}")
        print(f"| {KIND_NAMES[k]} | " + " | ".join(cells) + " |")
    print()


def typo_breakdown(res, names, qs):
    """One-typo recall@10 (by name) by the typed word's length and whether the first letter
    was hit: Trove's typo budget depends on both (docs/SEARCH.md, "Typo tolerance")."""
    def bucket(q):
        n = len(q.word)
        length = "4 letters" if n == 4 else "5-8 letters" if n <= 8 else "9+ letters"
        first = any(op.endswith("@0") for op in q.ops)
        return length + (", 1st letter" if first else "")
    order = [f"{b}{f}" for b in ("4 letters", "5-8 letters", "9+ letters") for f in ("", ", 1st letter")]
    print("One typo, recall@10 by name, by the typed word's length and whether the edit hit its first letter:")
    print()
    print("| word with the typo | queries | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for b in order:
        rows = {n: [x for x in res[n]["typo1"] if bucket(x[0]) == b] for n in names}
        count = len(rows[names[0]])
        if not count:
            continue
        cells = [pct(sum(1 for x in rows[n] if x[2] is not None and x[2] <= 10) / count) for n in names]
        print(f"| {b} | {count} | " + " | ".join(cells) + " |")
    print()


def trove_misses(judge, res, dead, names, limit=12):
    t = judge.title
    print("<details><summary>Trove's misses (sought item not in the top 10 / never in suggest's top 5)</summary>")
    print()
    for kind in queries.KINDS:
        rows = [x for x in res["Trove"][kind] if x[2] is None or x[2] > 10]
        peer_rank = {}
        for n in names:
            if n != "Trove":
                peer_rank[n] = {id(x[0]): x[2] for x in res[n][kind]}
        print(f"{KIND_NAMES[kind]}: {len(rows)} misses" + (f" (first {limit})" if len(rows) > limit else ""))
        print()
        for q, ans, rn, _ in rows[:limit]:
            peers = ", ".join(f"{n} {'#' + str(peer_rank[n][id(q)]) if peer_rank[n].get(id(q)) else 'miss'}"
                              for n in peer_rank)
            top = "; ".join(t.get(i, i)[:60] for i in ans.ids[:3]) or "(no hit)"
            drop = f" dropped {ans.dropped}" if ans.dropped else ""
            print(f"- `{q.text}` for \"{t[q.item.id][:80]}\"{drop}, rank {rn or '-'}: top 3: {top} [{peers}]")
        print()
    rows = [x for x in res["Trove"]["suggest"] if x[1] is None]
    print(f"suggest, never shown: {len(rows)}" + (f" (first {limit})" if len(rows) > limit else ""))
    print()
    for q, _, _, answers in rows[:limit]:
        last = answers.get(q.text)
        top = "; ".join(t.get(i, i)[:50] for i in (last.ids if last else [])[:5]) or "(no item)"
        print(f"- `{q.text}` for \"{t[q.item.id][:80]}\": at the last letter: {top}")
    print()
    if dead is not None:
        _, total, ndead, _, ex, _ = dead
        seen = set()
        uniq = [e for e in ex if not (e[1] in seen or seen.add(e[1]))]
        print(f"dead-end completions: {ndead} of {total}; distinct ones (first {limit}):")
        print()
        for prefix, c, dropped, total_hits in uniq[:limit]:
            why = f"relaxed, dropped {dropped}" if dropped else "no hit"
            print(f"- typed `{prefix}` -> completion `{c}`: {why} ({total_hits} hits)")
        print()
    print("</details>")
    print()


def source_of(binary):
    """The git commit (and dirty state) of the tree a binary was built from, when known."""
    d = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(binary))))
    try:
        head = subprocess.run(["git", "-C", d, "rev-parse", "--short", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", d, "status", "--porcelain", "--", "data", "index",
                                "fuzzy", "recommend", "http", "cli"],
                               capture_output=True, text=True).stdout.split("\n")
        dirty = sorted({ln[3:].split("/")[0] for ln in dirty if ln.strip()})
        return f"{d} at commit {head}" + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trove", help="the trove binary (a copy), or none to skip Trove")
    ap.add_argument("--trove-origin", help="where the copy came from (for the report)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--pg-port", type=int)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", default="20261207")
    ap.add_argument("--off-limit", type=int, default=0)
    ap.add_argument("--catalogs", default="goodbooks,off")
    ap.add_argument("--no-xapian", action="store_true")
    ap.add_argument("--command", default="")
    args = ap.parse_args()
    # bench/quality.sh stops us with SIGTERM: unwind, so the finally blocks stop trove serve.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    p = print
    started = time.time()
    p(f"## bench/quality.sh {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC")
    p()
    if args.command:
        p(f"- command: `{args.command}`")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        p(f"- benchmark: {repo} at commit {head}")
    except FileNotFoundError:
        pass
    if args.trove:
        origin = args.trove_origin or args.trove
        built = datetime.datetime.utcfromtimestamp(os.path.getmtime(origin))
        p(f"- trove: `{origin}` (built {built:%Y-%m-%d %H:%M} UTC), source {source_of(origin)}")
    import xapian
    p(f"- peers: Xapian {xapian.version_string()} (python3-xapian)"
      + (", PostgreSQL via bench/pg_peer.sh" if args.pg_port else ", PostgreSQL skipped"))
    p("- Trove: `trove import` (the command is printed per catalog), then `trove serve --listen "
      "127.0.0.1:0 --rate-limit 0 --snapshot-every-events 0 --snapshot-every-s 0`, queried over "
      "HTTP with keep-alive: `GET /v1/search?q=Q&per_page=10`, `GET /v1/suggest?q=P&items=5` "
      "(5 completions, the default)")
    p("- Xapian: title (wdf x2) + authors, no prefixes, the catalog's stemmer, spelling data; "
      "search: QueryParser defaults (OR, STEM_SOME), each word absent from the database replaced "
      "by `get_spelling_suggestion` (the corrected query re-run), BM25 top 10; suggest: "
      "FLAG_PARTIAL, AND, BM25 top 5 (bench/quality/systems.py says why)")
    if args.pg_port:
        p("- PostgreSQL: `tsv @@ plainto_tsquery(LANG, q) OR q <% title` (pg_trgm word similarity "
          ">= 0.6), ordered full-text matches first, `ts_rank`, `word_similarity`, shorter title; "
          "suggest: `to_tsquery('simple', 'w1 & w2 & pre:*')` by `ts_rank`, shorter title, top 5")
    with open("/proc/cpuinfo") as f:
        cpu = next((ln.split(": ", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    p(f"- machine: {cpu}, {os.cpu_count()} cores; load average at start: "
      f"{' '.join(open('/proc/loadavg').read().split()[0:3])}")
    p(f"- seed: `{args.seed}` (each catalog's sample: random.Random(\"SEED-CATALOG\")); "
      f"sampled items per catalog: {args.n} (TROVE_QUALITY_N)")
    p()

    pg = None
    if args.pg_port:
        pg = systems.Postgres(args.pg_port)
        p(f"PostgreSQL: {pg.version}")
        p()
    for key in args.catalogs.split(","):
        if key == "goodbooks":
            path = os.path.join(args.data, "goodbooks-10k", "books.csv")
            if not os.path.exists(path):
                p(f"goodbooks-10k: {path} is not here; skipped")
                p()
                continue
            say("reading goodbooks-10k ...")
            cat = catalogs.goodbooks(path)
        elif key == "off":
            path = os.path.join(args.data, "openfoodfacts", "products.jsonl.zst")
            if not os.path.exists(path):
                p(f"Open Food Facts: {path} is not here; skipped")
                p()
                continue
            say("reading Open Food Facts ...")
            cat = catalogs.openfoodfacts(path, args.off_limit)
        else:
            raise SystemExit(f"unknown catalog {key}")
        syss = []
        if args.trove:
            syss.append(systems.Trove(args.trove, args.work))
        if not args.no_xapian:
            syss.append(systems.Xapian(args.work))
        if pg is not None:
            syss.append(pg)
        loads = {}
        try:
            for s in syss:
                say(f"{cat.key}: feeding {s.name} ...")
                loads[s.name] = s.load(cat)
                say(f"{cat.key}: {s.name} fed in {loads[s.name]:.1f} s")
            if args.trove:
                trove = syss[0]
                p(f"`trove {trove.command}`")
                p()
            ev = evaluate(cat, syss, args)
            report(cat, syss, loads, ev, args)
        finally:
            for s in syss:
                s.stop()
        sys.stdout.flush()
    if pg is not None:
        pg.close()
    p(f"- load average at end: {' '.join(open('/proc/loadavg').read().split()[0:3])}; "
      f"the whole run took {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
