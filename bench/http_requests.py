#!/usr/bin/env python3
"""bench/http_requests.py: request lists for bench/http.sh, from real data (fixed seed).

    http_requests.py PRODUCTS_JSONL[.zst] RETAIL_NDJSON OUT_DIR [SEED] [LIMIT]

Writes one request path per line (wrk's bench/http_cycle.lua cycles through them):

  suggest.txt           as-you-type sessions: a product name picked with a bias toward popular
                        names (70 %: a Zipf law over the 5,000 most frequent names of the
                        catalog, 30 %: any product), its first 1-3 words typed one keystroke at
                        a time (every prefix of every word is a request), lower-cased; one
                        session in 8 carries a typo (a letter swapped, dropped or replaced) from
                        the keystroke where it was made on. Repeats, as real traffic has.
  suggest_distinct.txt  the distinct suggest requests of suggest.txt, shuffled (no repeats: the
                        uncached row)
  search.txt            1-3 whole words of a product name (same popularity bias), one query in
                        5 with a typo in one word of 5+ letters
  search_distinct.txt   the distinct search requests, shuffled
  similar.txt           /v1/recommend/similar for retail items, weighted by how often they sell
  for_you.txt           /v1/recommend/for-you for retail customers, weighted by their activity
  trending.txt          /v1/recommend/trending (a few variants: count, in_stock)
and prints a summary on stdout.
"""
import collections
import io
import json
import random
import subprocess
import sys
import urllib.parse


def read_lines(path):
    if path.endswith(".zst"):
        p = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
        yield from io.TextIOWrapper(p.stdout, encoding="utf-8")
        p.wait()
    else:
        with open(path, encoding="utf-8") as f:
            yield from f


def words_of(name):
    return [w for w in name.split() if any(c.isalnum() for c in w)]


def typo(rng, word):
    """One edit (swap, drop, replace) at a position past the first letter."""
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + rng.choice("aeiourstnl") + word[i + 1:]


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def zipf_pick(rng, items, cum):
    x = rng.random() * cum[-1]
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return items[lo]


def main():
    products, retail, out = sys.argv[1], sys.argv[2], sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 20261127
    limit = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else 0
    rng = random.Random(seed)
    # As many requests as a 10 s run at the target rate sends, so that repeats come from the
    # mix itself, not from wrk cycling through a short list.
    n_suggest, n_search = 200000, 100000

    names = []
    for n, line in enumerate(read_lines(products)):
        if limit and n >= limit:
            break
        name = json.loads(line).get("name") or ""
        if words_of(name):
            names.append(name.strip())
    freq = collections.Counter(n.lower() for n in names)
    top = [n for n, _ in freq.most_common(5000)]
    cum, total = [], 0.0
    for rank in range(len(top)):
        total += 1.0 / (rank + 1)
        cum.append(total)

    def pick_name():
        if top and rng.random() < 0.7:
            return zipf_pick(rng, top, cum)
        return names[rng.randrange(len(names))].lower()

    # suggest: keystroke sessions
    suggest = []
    sessions = typo_sessions = 0
    while len(suggest) < n_suggest:
        ws = words_of(pick_name())
        k = min(len(ws), rng.choices([1, 2, 3], weights=[50, 35, 15])[0])
        ws = ws[:k]
        if rng.random() < 1 / 8:
            j = rng.randrange(k)
            ws[j] = typo(rng, ws[j])
            typo_sessions += 1
        sessions += 1
        typed = ""
        for j, w in enumerate(ws):
            for c in range(1, len(w) + 1):
                suggest.append(q("/v1/suggest", q=typed + w[:c]))
            typed += w + " "
    # search: whole words
    search = []
    typos = 0
    for _ in range(n_search):
        ws = words_of(pick_name())
        k = min(len(ws), rng.choices([1, 2, 3], weights=[45, 35, 20])[0])
        ws = ws[:k]
        if rng.random() < 1 / 5:
            long = [i for i, w in enumerate(ws) if len(w) >= 5]
            if long:
                i = rng.choice(long)
                ws[i] = typo(rng, ws[i])
                typos += 1
        search.append(q("/v1/search", q=" ".join(ws)))

    # recommendations: retail items and customers, by activity
    item_sales = collections.Counter()
    visitors = collections.Counter()
    for line in read_lines(retail):
        e = json.loads(line)
        if e["type"] == "AddToCart":
            item_sales[e["item_id"]] += 1
            v = e["user"]["visitor_id"]
            if not v.startswith("guest-"):
                visitors[v] += 1
    items = list(item_sales)
    people = list(visitors)
    similar = [q("/v1/recommend/similar", item=it)
               for it in rng.choices(items, weights=[item_sales[i] for i in items], k=20000)]
    for_you = [q("/v1/recommend/for-you", visitor=v)
               for v in rng.choices(people, weights=[visitors[p] for p in people], k=20000)]
    trending = ["/v1/recommend/trending", q("/v1/recommend/trending", count=20),
                q("/v1/recommend/trending", count=5), q("/v1/recommend/trending", in_stock="false")]

    def distinct(paths):
        d = list(dict.fromkeys(paths))
        rng.shuffle(d)
        return d

    files = {"suggest": suggest, "suggest_distinct": distinct(suggest), "search": search,
             "search_distinct": distinct(search), "similar": similar, "for_you": for_you,
             "trending": trending}
    for name, paths in files.items():
        with open(f"{out}/{name}.txt", "w", encoding="utf-8") as f:
            f.write("\n".join(paths) + "\n")
    print(f"names={len(names)} distinct_names={len(freq)} suggest={len(suggest)} "
          f"(sessions {sessions}, {typo_sessions} with a typo, distinct {len(files['suggest_distinct'])}) "
          f"search={len(search)} (typos {typos}, distinct {len(files['search_distinct'])}) "
          f"retail_items={len(items)} customers={len(people)}")


if __name__ == "__main__":
    main()
