#!/usr/bin/python3
"""Runs `bitrepl logits` on every checkpoint directory and prints the max
|engine - expected| (or the engine's error) per family.

    go build -o /tmp/bitrepl ./cmd/bitrepl
    /usr/bin/python3 compare.py /tmp/bitrepl [NAME...]
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(binary, names):
    with open(os.path.join(HERE, "index.json")) as f:
        index = json.load(f)
    for fam in index:
        name = fam["dir"]
        if names and name not in names:
            continue
        with open(os.path.join(HERE, name, "expected.json")) as f:
            want = json.load(f)
        ids = " ".join(map(str, want["ids"]))
        p = subprocess.run([binary, "logits", "-m", os.path.join(HERE, name), "--ids", ids],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            print(f"{name:34s} ERROR {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}")
            continue
        got = json.loads(p.stdout)["logits"]
        if len(got) != len(want["logits"]) or len(got[0]) != len(want["logits"][0]):
            print(f"{name:34s} SHAPE engine {len(got)}x{len(got[0])}, expected "
                  f"{len(want['logits'])}x{len(want['logits'][0])}")
            continue
        d = max(abs(a - b) for ra, rb in zip(got, want["logits"]) for a, b in zip(ra, rb))
        top = sum(max(range(len(ra)), key=ra.__getitem__) == max(range(len(rb)), key=rb.__getitem__)
                  for ra, rb in zip(got, want["logits"]))
        ok = "ok  " if d <= fam["tol"] else "FAIL"
        print(f"{name:34s} {ok} max|d| {d:.3g} (tol {fam['tol']:g}), top-1 {top}/{len(got)}")


if __name__ == "__main__":
    main(sys.argv[1], set(sys.argv[2:]))
