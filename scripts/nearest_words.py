#!/usr/bin/python3
"""Nearest words (cosine) in a model folder's word-embedding table: what pretraining taught the
embeddings (docs/results.md, the fifth bert-mini attempt).

  /usr/bin/python3 scripts/nearest_words.py MODEL_DIR [WORD ...]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_runs import read_safetensors  # noqa: E402

WORDS = ["great", "terrible", "movie", "boring", "wonderful", "not", "funny", "dull", "masterpiece", "worst"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    folder, words = sys.argv[1], sys.argv[2:] or WORDS
    vocab = [line.rstrip("\n") for line in open(os.path.join(folder, "vocab.txt"), encoding="utf-8")]
    index = {w: i for i, w in enumerate(vocab)}
    t = read_safetensors(os.path.join(folder, "model.safetensors"), lambda k: k.endswith("word_embeddings.weight") or k.endswith("wte.weight"))
    if not t:
        sys.exit(f"{folder}/model.safetensors: no word-embedding table")
    e = next(iter(t.values()))
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    for w in words:
        if w not in index:
            print(f"{w}: not in the vocabulary")
            continue
        sim = e @ e[index[w]]
        top = [vocab[i] for i in np.argsort(-sim)[:9] if i != index[w]][:8]
        print(w, top)


if __name__ == "__main__":
    main()
