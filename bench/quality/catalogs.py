"""The two catalogs of bench/quality.sh, read once in Python and fed to every system.

A catalog is a list of Item(id, title, extra): `extra` is a second, weaker text field (the
authors of a book; nothing for a food product). Trove imports the source file itself with
`trove import --map ...` (the real path a user takes); the peers are fed these rows, parsed
from the same file with the same mapping, so all three hold the same catalog.
"""
import csv
import io
import itertools
import json
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from typing import Optional


@dataclass
class Item:
    id: str
    title: str
    extra: str = ""


@dataclass
class Catalog:
    key: str            # "goodbooks" or "off"
    name: str           # for the report
    source: str         # the file
    language: str       # Snowball name, for Trove's index, Xapian's stemmer, PostgreSQL's config
    items: list
    trove_import: list  # `trove import` arguments before FILE (FILE is appended, or "-")
    stdin_cmd: Optional[list] = None  # when set, Trove reads its rows from this command's stdout
    note: str = ""      # said in the report (e.g. "first 200000 products only")
    total_rows: int = 0  # rows in the whole source file (for the report, when cut)


# A word: a run of letters and digits; an apostrophe between two of them and a point or comma
# between digits stay inside (d'olive, 4.5), as bench/search_bench.cpp cuts product names.
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+|(?<=\d)[.,]\d+)*")


def words(text):
    return _WORD.findall(text)


def fold(text):
    """Case and accents folded, punctuation to spaces: what makes two names "the same"."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", text))


def goodbooks(path):
    items = []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("book_id") and row.get("title"):
                items.append(Item(row["book_id"], row["title"], row.get("authors") or ""))
    return Catalog(
        key="goodbooks", name="goodbooks-10k (English book titles, authors)", source=path,
        language="english", items=items,
        # authors as the brand: searchable (weight 3 against the title's 6) and completed by
        # suggest, as a shop shows an author; the image URL is not imported.
        trove_import=["--format", "csv", "--language", "english", "--map", "id=book_id",
                      "--map", "title=title", "--map", "brand=authors", "--map", "image_url="])


def _zstd_lines(path, limit):
    p = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
    try:
        lines = io.TextIOWrapper(p.stdout, encoding="utf-8")
        yield from (itertools.islice(lines, limit) if limit else lines)
    finally:
        p.stdout.close()
        p.kill()
        p.wait()


def count_lines(path):
    p = subprocess.run(f"zstd -dc '{path}' | wc -l", shell=True, check=True,
                       capture_output=True, text=True)
    return int(p.stdout.strip())


def openfoodfacts(path, limit):
    items = {}
    for line in _zstd_lines(path, limit):
        if not line.strip():
            continue
        o = json.loads(line)
        code, name = o.get("code"), o.get("name")
        if code and name:
            items[str(code)] = Item(str(code), name)  # a repeated code: the last row wins, as in Trove
    total = count_lines(path)
    args = ["--format", "jsonl", "--language", "french", "--map", "id=code", "--map", "title=name",
            # The name only: the ingredients would make any system find the words of a name in
            # thousands of ingredient lists; all three index the names alone.
            "--map", "description="]
    cat = Catalog(key="off", name="Open Food Facts (product names, mostly French)", source=path,
                  language="french", items=list(items.values()), trove_import=args,
                  total_rows=total)
    if limit and limit < total:
        cat.stdin_cmd = ["sh", "-c", f"zstd -dc '{path}' | head -n {int(limit)}"]
        cat.note = f"first {limit} of {total} products only (TROVE_QUALITY_OFF_LIMIT={limit})"
    return cat
