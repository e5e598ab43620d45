#!/usr/bin/env python3
"""Reference scores for lntune's text metrics (src/train/text_metrics.cpp), on real E2E text.

    /usr/bin/python3 scripts/make_text_metric_fixture.py [SHARED_DIR] > tests/fixtures/text_metrics.json
    /usr/bin/python3 scripts/make_text_metric_fixture.py --human [SHARED_DIR]

--human prints instead a scale for docs/results.md's E2E tables: each evaluation MR's first
human reference scored against its other references, all four metrics.

Needs Debian's python3-nltk (3.8). BLEU and NIST come from NLTK's corpus_bleu and corpus_nist
(the reference implementations); ROUGE-L and CIDEr from the E2E challenge scripts' definitions
(pycocoevalcap's Rouge: LCS, best precision and best recall over the references, F with beta 1.2;
its Cider: clipped TF-IDF cosines of 1- to 4-grams with a Gaussian length penalty), written out
here since pycocoevalcap is not packaged. The inputs are word lists (the metrics' tokenization is checked
separately, against the `words` lists below): for the first 40 MRs of devset.csv's evaluation
part, one reference plays the hypothesis, altered per corpus, and the others are its references.
"""
import csv
import json
import os
import re
import sys

import math
from collections import Counter

from nltk.translate.bleu_score import corpus_bleu
from nltk.translate.nist_score import corpus_nist

human = "--human" in sys.argv[1:]
args = [a for a in sys.argv[1:] if a != "--human"]
shared = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "..", "shared")
with open(os.path.join(shared, "data", "e2e", "devset.csv"), encoding="utf-8", newline="") as f:
    rows = list(csv.DictReader(f))
order, refs = [], {}
for r in rows:
    if r["mr"] not in refs:
        order.append(r["mr"])
        refs[r["mr"]] = []
    refs[r["mr"]].append(r["ref"])
evaluation = order[int(len(order) * 0.8):][:40]


def words(text):
    # metric_words: ASCII letters lower-cased; runs of letters, digits, apostrophes and non-ASCII
    # characters; every other non-space character alone.
    lowered = "".join(c.lower() if c.isascii() else c for c in text)
    return re.findall(r"[a-z0-9'\u0080-\U0010ffff]+|[^\sa-z0-9'\u0080-\U0010ffff]", lowered)


def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


def rouge_l(hyps, refss, beta=1.2):
    total = 0.0
    for h, rs in zip(hyps, refss):
        p = max((lcs(h, r) / len(h) if h else 0.0) for r in rs)
        r_ = max((lcs(h, r) / len(r) if r else 0.0) for r in rs)
        if p > 0 and r_ > 0:
            total += (1 + beta ** 2) * p * r_ / (r_ + beta ** 2 * p)
    return total / len(hyps)


def grams(w, n_max=4):
    return Counter(tuple(w[i:i + n]) for n in range(1, n_max + 1) for i in range(len(w) - n + 1))


def cider(hyps, refss, n_max=4, sigma=6.0):
    # pycocoevalcap's CiderScorer: document frequency over each hypothesis's set of references,
    # IDF log(#hypotheses) - log(max(1, df)); "length" is the bigram count.
    df = Counter()
    for rs in refss:
        df.update(set(g for r in rs for g in grams(r, n_max)))
    log_docs = math.log(len(hyps))

    def vec(w):
        v = [dict() for _ in range(n_max)]
        norm = [0.0] * n_max
        length = 0
        for g, tf in grams(w, n_max).items():
            x = tf * (log_docs - math.log(max(1.0, df[g])))
            v[len(g) - 1][g] = x
            norm[len(g) - 1] += x * x
            if len(g) == 2:
                length += tf
        return v, [math.sqrt(x) for x in norm], length

    scores = []
    for h, rs in zip(hyps, refss):
        vh, nh, lh = vec(h)
        per_n = [0.0] * n_max
        for r in rs:
            vr, nr, lr = vec(r)
            for n in range(n_max):
                val = sum(min(x, vr[n].get(g, 0.0)) * vr[n].get(g, 0.0) for g, x in vh[n].items())
                if nh[n] != 0 and nr[n] != 0:
                    val /= nh[n] * nr[n]
                per_n[n] += val * math.exp(-((lh - lr) ** 2) / (2 * sigma ** 2))
        scores.append(sum(per_n) / n_max / len(rs) * 10.0)
    return sum(scores) / len(scores)


if human:
    every = order[int(len(order) * 0.8):]
    hyps = [words(refs[m][0]) for m in every]
    others = [[words(x) for x in refs[m][1:]] for m in every]
    print("%d MRs: BLEU %.1f NIST %.2f ROUGE-L %.1f CIDEr %.2f" % (
        len(every), 100 * corpus_bleu(others, hyps), corpus_nist(others, hyps, 5), 100 * rouge_l(hyps, others),
        cider(hyps, others)))
    sys.exit(0)

base_h = [words(refs[m][0]) for m in evaluation]
base_r = [[words(x) for x in refs[m][1:]] for m in evaluation]
corpora = {
    "as_written": base_h,                                    # a human reference against the others
    "halved": [h[: max(1, len(h) // 2)] for h in base_h],    # brevity penalty
    "doubled": [h + h for h in base_h],                      # repeated n-grams clipped
    "reversed": [list(reversed(h)) for h in base_h],         # unigrams only match
}
out = {"source": "../shared/data/e2e/devset.csv, evaluation part, first 40 MRs",
       "words": [{"text": refs[m][0], "words": words(refs[m][0])} for m in evaluation],
       "references": base_r, "corpora": []}
for name, hyps in corpora.items():
    out["corpora"].append({"name": name, "hypotheses": hyps, "bleu": corpus_bleu(base_r, hyps),
                           "nist": corpus_nist(base_r, hyps, 5), "rouge_l": rouge_l(hyps, base_r),
                           "cider": cider(hyps, base_r)})
json.dump(out, sys.stdout, ensure_ascii=False)
print()
