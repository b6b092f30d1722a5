#!/usr/bin/env python3
"""Writes the hand-made seed inputs of fuzz/corpus/ in each target's framing (see the
comment at the top of each fuzz/<name>_fuzzer.cpp). The seeds made by the code itself (a
real journal segment, snapshot and state encoding) come from trove_fuzz_seed_writer.

    python3 fuzz/make_corpus.py        # from the repository root
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FIXTURES = os.path.join(ROOT, "tests", "data", "fixtures")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def maps(*values):
    out = bytes([len(values)])
    for v in values:
        b = v.encode()
        assert len(b) < 64
        out += bytes([len(b)]) + b
    return out


def groups(path, size, max_line, limit):
    with open(path, "rb") as f:
        lines = [l.rstrip(b"\n") for l in f if len(l) <= max_line]
    return [b"\n".join(lines[i:i + size]) for i in range(0, min(len(lines), limit), size)]


# ---- event: NDJSON from the fixtures ---------------------------------------------------------
for i, g in enumerate(groups(os.path.join(FIXTURES, "valid_events.jsonl"), 4, 1500, 80)):
    write("event", "valid-%02d" % i, g)
for i, g in enumerate(groups(os.path.join(FIXTURES, "invalid_events.jsonl"), 8, 1500, 160)):
    write("event", "invalid-%02d" % i, g)
write("event", "raw-invalid", open(os.path.join(FIXTURES, "invalid_raw.txt"), "rb").read()[:4000])

# ---- search: q, then f/F/s/p/n/t/e/x lines ----------------------------------------------------
searches = {
    "words": "dark chocolate",
    "phrase-exclude": '"dark chocolate" -milk bar',
    "all-filters": "*\nfbrand=Maison Dorée\nfprice=1..10\nfin_stock=true\nFbrand,category,price\ns1",
    "price-ops": "choc\nfprice>=2\nfprice<50\nfprice>1.5\nfprice<=49.99\ns2\np2\nn3",
    "category": "cookies\nfcategory=Food > Sweets\nFcategory\ns3\ne",
    "attributes": "case\nfattributes.weight=0.25\nfattributes.color=red\nfattributes.size=42.0",
    "typos": "chocolat crme brule\nt3,6\ne",
    "no-typos": "sneakers\nx\ns4",
    "synonym-phrase": "running shoes\nFbrand",
    "cjk": "巧克力 チョコ",
    "compound": "t-light AT&T 4.5-inch",
    "elision": "l'huile d’olive",
    "bad-filter": "mug\nfcolour=red\nfprice=abc\nfprice=5..1",
    "bad-paging": "mug\np0\nn101",
    "deep-page": "mug\np1001\nn10",
    "unclosed-quote": '"dark choc',
    "prefix": "maison do",
}
for name, text in searches.items():
    write("search", name, text)

# ---- import_csv: [options][maps][csv] ---------------------------------------------------------
csv = {
    "rfc4180": (0x02, maps(),
                "\xEF\xBB\xBFid,title,description,brand\r\n"
                "a1,\"Mug, large\",\"He said \"\"hi\"\"\",Acme\r\n"
                "a2,Plate,\"two\nlines\",\r\n"
                "\r\n"
                "a3,\"\"\"Quoted\"\" title\",,\"\"\r\n"),
    "bad-rows": (0x01, maps(),
                 "id,title,price\n"
                 "g1,Good one,1.50\n"
                 "g2,\"multi\nline\ntitle\",2\n"
                 "b1,Bad price,abc\n"
                 "b2,Ragged\n"
                 "b3,Bad \xE9 byte,4\n"
                 "b4,,5\n"
                 "b5,\"bad\"quote,6\n"
                 "g4,Last,7.25"),
    "mapped": (0x03, maps("id=sku", "title=name", "price=cost", "in_stock=stock",
                          "categories=cats", "attributes.year:number=year",
                          "attributes.formats:list=formats"),
               "sku,name,cost,stock,cats,labels,year,hardcover,formats,note\n"
               "s1,Book,12.5,yes,Books > Fiction|Sale,new|hot,1999.0,true,paper|ebook,signed\n"
               "s2,Pen,0.99,0,Office,,2001,NO,,\n"
               "s3,Bad,1,maybe,,,,,,\n"
               "s4,Bad,1,1,,,MCMXC,,,\n"),
    "semicolon-truncate": (0x08 | 0x20 | 0x40 | 0x04, maps("attributes.color=colour"),
                           "id;title;tags;colour;url\n"
                           "x1;" + "Long title " * 30 + ";a, b, c;red;https://example.com/x\n"
                           "x2;\"semi;colon\";;blue;\n"),
    "tab-unclosed": (0x10, maps(), "id\ttitle\nt1\t\"never closed\n"),
}
for name, (opt, m, text) in csv.items():
    # bad-rows holds a lone 0xE9 byte (invalid UTF-8) on purpose.
    write("import_csv", name, bytes([opt]) + m + text.encode("latin-1" if name == "bad-rows" else "utf-8"))

# ---- import_jsonl: [options][maps][jsonl] -----------------------------------------------------
jsonl = {
    "nested": (0x03, maps("brand=info.maker.name", "categories=cats", "attributes.weight=meta.weight",
                          "attributes.vegan=meta.vegan", "attributes.origins=meta.origins"),
               '{"id":101,"name":"Tea","info":{"maker":{"name":"Leaf Co"}},"cats":["Drinks > Tea","Organic"],"price":"3.50","in_stock":true,"meta":{"weight":250,"vegan":true,"origins":["CN","IN"]}}\n'
               "\n"
               '{"id":"102","name":"Coffee","info":null,"cats":"Drinks|Hot","price":4,"description":null}\n'
               '{"id":"103","name":"Bad","price":{"amount":1}}\n'
               "not json\n"
               '["an","array"]\n'
               '{"id":"104"}\n'),
    "defaults": (0x01, maps(),
                 '{"id":"a","title":"Crème brûlée","brand":"Ünï","price":1e2,"tags":["x","y"],"in_stock":"yes"}\n'
                 '{"sku":"b","name":"Two","categories":"A > B|C","price":-1}\r\n'
                 '{"id":"c","title":"' + "w" * 300 + '"}'),
    "truncate-dotted": (0x21, maps("title=a.b", "attributes.n:number=n", "attributes.l:list=l"),
                        '{"id":"d","a.b":"dotted key","a":{"b":"nested"},"n":"12","l":"p|q"}\n'
                        '{"id":"e","a":{"b":"' + "é" * 400 + '"},"n":true,"l":[1,2]}\n'),
}
for name, (opt, m, text) in jsonl.items():
    write("import_jsonl", name, bytes([opt]) + m + text.encode())

# ---- journal recipes: [1][damage][records], see journal_fuzzer.cpp ----------------------------
def recipe(damage, records):
    out = bytes([1, len(damage)])
    for kind, where, value in damage:
        out += bytes([kind]) + struct.pack("<H", where) + bytes([value])
    for op, payload in records:
        out += bytes([op, len(payload)]) + payload
    return out

recs = [(1, b'{"type":"ItemRemove","id":"a"}'), (16, b'{"type":"HomePageView"}'), (3, b"")]
write("journal", "recipe-clean", recipe([], recs))
write("journal", "recipe-segments", recipe([], recs + [(0x81, b"second segment"), (2, b"x")]))
write("journal", "recipe-misnamed", recipe([], recs + [(0xC2, b"misnamed segment")]))
write("journal", "recipe-torn", recipe([(1, 70, 0)], recs))
write("journal", "recipe-flip", recipe([(0, 30, 4)], recs))
write("journal", "recipe-zero-tail", recipe([(2, 0, 64)], recs))
write("journal", "recipe-gap", recipe([], recs + [(0x22, b"gap")]))
write("journal", "raw-empty", b"\x00")

# ---- snapshot: hand-made damage around the real seeds (seed_writer makes those) ---------------
write("snapshot", "state-bad-version", b"\x00\x07")
write("snapshot", "file-bad-magic", b"\x01\x00" + b"TROVESNQ" + b"\x00" * 48)
write("snapshot", "file-huge-name", b"\x01\x01" + b"\x09" * 20 + b"TROVESNP")
