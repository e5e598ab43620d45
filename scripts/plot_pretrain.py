#!/usr/bin/python3
"""Draws a pretraining run's curves from its metrics.jsonl (written by `lntune pretrain`).

usage: /usr/bin/python3 scripts/plot_pretrain.py RUN_DIR OUT.png [TITLE]

Left: training loss (per logged step) and held-out loss against tokens seen. Right: held-out MLM
accuracy on the masked tokens, or held-out CLM perplexity (log scale). Needs Debian's
python3-matplotlib.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    run, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else run
    train, evals = [], []
    with open(f"{run}/metrics.jsonl") as f:
        for line in f:
            j = json.loads(line)
            (evals if "eval" in j else train).append(j)
    if not train:
        sys.exit(f"{run}/metrics.jsonl: no training steps")
    mlm = any("accuracy" in e["eval"] for e in evals)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot([t["tokens"] / 1e6 for t in train], [t["loss"] for t in train], lw=0.8, label="train loss")
    if evals:
        a.plot([e["tokens"] / 1e6 for e in evals], [e["eval"]["loss"] for e in evals], "o-", label="held-out loss")
    a.set_xlabel("tokens seen (millions)")
    a.set_ylabel("cross-entropy (nats)")
    a.grid(alpha=0.3)
    a.legend()
    if evals:
        xs = [e["tokens"] / 1e6 for e in evals]
        if mlm:
            b.plot(xs, [100 * e["eval"]["accuracy"] for e in evals], "o-", color="C2")
            b.set_ylabel("held-out masked-token accuracy (%)")
        else:
            b.semilogy(xs, [e["eval"]["perplexity"] for e in evals], "o-", color="C3")
            b.set_ylabel("held-out perplexity")
        b.set_xlabel("tokens seen (millions)")
        b.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
