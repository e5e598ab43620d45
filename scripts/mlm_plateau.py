#!/usr/bin/env python3
"""Diagnostics for the MLM context-free plateau (docs/results.md, "Second attempt").

    python3 scripts/mlm_plateau.py unigram RUN_DIR [--blocks 128 --seq 128]
        Unigram cross-entropy (nats) of the first held-out blocks of RUN_DIR/tokens.bin under the
        training tokens' unigram frequencies: the loss of a model that ignores context.
    python3 scripts/mlm_plateau.py synthetic OUT.txt [--docs 20000]
        A corpus of cyclic sequences of 16 words, where every masked word is fixed by its
        neighbours: a model that uses context goes well past 1/16 + copying (~16%).
"""
import argparse
import random
import struct

import numpy as np

WORDS = ("apple river stone cloud green seven tiger piano window honey silver morning garden yellow "
         "orange basket").split()


def read_tokens(path):
    b = open(path, "rb").read()
    o = 8 + 8 + struct.unpack("<Q", b[8:16])[0]  # magic, key length, key
    out = []
    for _ in range(2):  # train, then held-out
        _, n = struct.unpack("<QQ", b[o:o + 16])
        o += 16
        out.append(np.frombuffer(b[o:o + 4 * n], dtype=np.int32))
        o += 4 * n
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("unigram")
    u.add_argument("run_dir")
    u.add_argument("--blocks", type=int, default=128)
    u.add_argument("--seq", type=int, default=128)
    s = sub.add_parser("synthetic")
    s.add_argument("out")
    s.add_argument("--docs", type=int, default=20000)
    a = ap.parse_args()
    if a.cmd == "unigram":
        train, held = read_tokens(a.run_dir + "/tokens.bin")
        p = np.bincount(train).astype(float) + 1e-3
        p /= p.sum()
        first = held[:a.blocks * (a.seq - 2)]  # blocks are [CLS] ... [SEP]
        first = first[first < len(p)]
        print("unigram cross-entropy: all held-out %.3f nats, first %d blocks %.3f nats" % (
            -np.log(p[held[held < len(p)]]).mean(), a.blocks, -np.log(p[first]).mean()))
    else:
        rng = random.Random(0)
        with open(a.out, "w") as f:
            for _ in range(a.docs):
                start, n = rng.randrange(len(WORDS)), rng.randint(8, 30)
                f.write(" ".join(WORDS[(start + k) % len(WORDS)] for k in range(n)) + "\n")


if __name__ == "__main__":
    main()
