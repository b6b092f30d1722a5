#!/usr/bin/env python3
"""bench/search_ab.py: the same queries through two builds of Trove, interleaved.

    bench/search_ab.py BUILD_A BUILD_B DATA_DIR QUERIES [BATCH [PASSES]]

Why: this machine's speed moves by as much as 1.6x between runs minutes apart, more than most
changes to the search path, so two builds measured one after the other say little. Here both
run at once as `search_bench pipe` (bench/search_bench.cpp), each on its own copy of DATA_DIR
(the Store locks its journal), and take turns: a batch of BATCH queries (default 50) to one,
the same batch to the other, the order swapped every batch (ABBA...), for PASSES timed passes
(default 2) after a warm-up pass each. Whatever the machine does then, it does to both.

QUERIES: the queries file of bench/search.sh (kind, then text in the fourth column), e.g. the
search rows of one (`grep ^search`). Prints per build the mean, p50, p90, p99 and total of the
timed passes, the ratios B/A, and the queries whose answers (hit ids in order) differ.
A benchmark: it prints figures and never asserts one. Environment: TROVE_BENCH_DIR (temp dirs).
"""
import os
import shutil
import subprocess
import sys
import tempfile


def percentile(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100.0 * len(s)))]


def start(build, data):
    exe = os.path.join(build, "bench", "search_bench")
    proc = subprocess.Popen([exe, "pipe", data], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        sys.exit(f"search_ab: {exe} did not start (said {line!r})")
    return proc


def run_batch(proc, batch):
    for kind, text in batch:
        proc.stdin.write(f"{kind}\t{text}\n")
    proc.stdin.flush()
    out = []
    for _ in batch:
        ms, hits, answer, status = proc.stdout.readline().rstrip("\n").split("\t")
        out.append((float(ms), (int(hits), answer), status))
    return out


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    build_a, build_b, data, qpath = sys.argv[1:5]
    batch_n = int(sys.argv[5]) if len(sys.argv) > 5 else 50
    passes = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    queries = []
    with open(qpath, encoding="utf-8") as f:
        for row in f:
            cols = row.rstrip("\n").split("\t")
            if len(cols) >= 4 and "\n" not in cols[3]:
                queries.append((cols[0], cols[3]))
    work = tempfile.mkdtemp(prefix="trove_search_ab.",
                            dir=os.environ.get("TROVE_BENCH_DIR") or None)
    try:
        copies = []
        for name in ("a", "b"):
            dst = os.path.join(work, name)
            shutil.copytree(data, dst)
            copies.append(dst)
        procs = [start(build_a, copies[0]), start(build_b, copies[1])]
        for p in procs:
            run_batch(p, queries)  # warm-up: caches, page cache, first-use allocations
        times = [[], []]
        hits = [[None] * len(queries), [None] * len(queries)]
        errors = [0, 0]
        flip = False
        for _ in range(passes):
            for at in range(0, len(queries), batch_n):
                batch = queries[at:at + batch_n]
                order = (1, 0) if flip else (0, 1)
                flip = not flip
                for who in order:
                    for i, (ms, h, status) in enumerate(run_batch(procs[who], batch)):
                        times[who].append(ms)
                        hits[who][at + i] = h
                        errors[who] += status != "ok"
        for p in procs:
            p.stdin.close()
            p.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"## bench/search_ab.py: {len(queries)} queries x {passes} passes, batches of {batch_n}, "
          f"interleaved ABBA\n")
    print(f"- A: {build_a}\n- B: {build_b}\n- data: {data}; queries: {qpath}\n")
    print("| build | mean ms | p50 ms | p90 ms | p99 ms | total s | errors |")
    print("|---|---|---|---|---|---|---|")
    stats = []
    for who, name in ((0, "A"), (1, "B")):
        t = times[who]
        row = (sum(t) / len(t), percentile(t, 50), percentile(t, 90), percentile(t, 99), sum(t) / 1000)
        stats.append(row)
        print(f"| {name} | {row[0]:.3f} | {row[1]:.3f} | {row[2]:.3f} | {row[3]:.3f} | {row[4]:.2f} "
              f"| {errors[who]} |")
    a, b = stats
    print(f"| B / A | {b[0] / a[0]:.3f} | {b[1] / a[1]:.3f} | {b[2] / a[2]:.3f} | {b[3] / a[3]:.3f} "
          f"| {b[4] / a[4]:.3f} | |")
    differ = [i for i in range(len(queries)) if hits[0][i] != hits[1][i]]
    print(f"\nqueries whose answers (the hit ids in order) differ: {len(differ)}")
    for i in differ[:10]:
        print(f"- {queries[i][0]} {queries[i][1]!r}: A {hits[0][i][0]} hits, B {hits[1][i][0]} hits")


if __name__ == "__main__":
    main()
