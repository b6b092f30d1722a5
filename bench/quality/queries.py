"""What a shopper types, drawn from sampled items with a fixed seed.

For each sampled item (uniformly, without repeats, among the items whose title has a word):
  exact    the title's first k words, k drawn from 1..3 (fewer when the title is shorter),
           joined by single spaces;
  typo1    the same words with one typo (delete, insert, substitute or swap two adjacent
           letters, drawn by the seed, at any position) in one word of >= 4 letters (a word
           of letters only); items whose words have none are skipped and counted;
  typo2    two typos in one word of >= 8 letters (two edits at different positions, Damerau
           distance exactly 2 from the word); items without such a word are skipped, counted;
  suggest  the exact words typed letter by letter (every prefix, spaces included).
"""
import random
from dataclasses import dataclass, field

from catalogs import words

LETTERS = "abcdefghijklmnopqrstuvwxyz"
KINDS = ("exact", "typo1", "typo2")


@dataclass
class Query:
    item: object          # the sought catalog Item
    kind: str             # exact, typo1, typo2
    text: str
    word: str = ""        # the word that got the typo(s), as in the title
    typo_word: str = ""   # as typed
    ops: list = field(default_factory=list)   # e.g. ["swap@3"]


def osa_distance(a, b):
    """Levenshtein distance with adjacent transpositions counted as one edit."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def one_edit(rng, w, avoid=()):
    """One edit of w at a position not in `avoid`; returns (new word, position, op)."""
    for _ in range(100):
        op = rng.choice(("delete", "insert", "substitute", "swap"))
        if op == "insert":
            i = rng.randrange(len(w) + 1)
        elif op == "swap":
            i = rng.randrange(len(w) - 1)
        else:
            i = rng.randrange(len(w))
        if i in avoid:
            continue
        if op == "delete":
            out = w[:i] + w[i + 1:]
        elif op == "insert":
            out = w[:i] + rng.choice(LETTERS) + w[i:]
        elif op == "substitute":
            out = w[:i] + rng.choice([c for c in LETTERS if c != w[i].lower()]) + w[i + 1:]
        else:
            if w[i].lower() == w[i + 1].lower():
                continue
            out = w[:i] + w[i + 1] + w[i] + w[i + 2:]
        if out.lower() != w.lower():
            return out, i, op
    return None


def with_typos(rng, w, n):
    for _ in range(100):
        cur, ops, used = w, [], set()
        for _ in range(n):
            e = one_edit(rng, cur, avoid=used)
            if e is None:
                break
            cur, i, op = e
            ops.append(f"{op}@{i}")
            used.update({i - 1, i, i + 1})
        if len(ops) == n and osa_distance(cur.lower(), w.lower()) == n:
            return cur, ops
    return None


def make(catalog, n, seed):
    """Returns (sampled items, {kind: [Query]}, {kind: skipped count})."""
    rng = random.Random(f"{seed}-{catalog.key}")
    pool = [it for it in catalog.items if words(it.title)]
    sample = rng.sample(pool, min(n, len(pool)))
    out = {k: [] for k in KINDS}
    skipped = {k: 0 for k in KINDS}
    for it in sample:
        ws = words(it.title)
        k = min(rng.randint(1, 3), len(ws))
        ws = ws[:k]
        out["exact"].append(Query(it, "exact", " ".join(ws)))
        for kind, ntypos, min_len in (("typo1", 1, 4), ("typo2", 2, 8)):
            cands = [i for i, w in enumerate(ws) if w.isalpha() and len(w) >= min_len]
            made = None
            if cands:
                i = rng.choice(cands)
                made = with_typos(rng, ws[i], ntypos)
            if made is None:
                skipped[kind] += 1
                continue
            typed, ops = made
            text = " ".join(ws[:i] + [typed] + ws[i + 1:])
            out[kind].append(Query(it, kind, text, word=ws[i], typo_word=typed, ops=ops))
    return sample, out, skipped
