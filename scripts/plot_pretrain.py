#!/usr/bin/python3
"""Draws a pretraining run's curves from its metrics.jsonl (written by `lntune pretrain`).

usage: /usr/bin/python3 scripts/plot_pretrain.py RUN_DIR OUT.png [TITLE]
       /usr/bin/python3 scripts/plot_pretrain.py compare OUT.png RUN_DIR[=LABEL] RUN_DIR[=LABEL] ...

Left: training loss (per logged step) and held-out loss against tokens seen. Right: held-out MLM
accuracy on the masked tokens, or held-out CLM perplexity (log scale). `compare` draws the
held-out curves of several runs over each other (e.g. LayerNorm vs DyT norms). Needs Debian's
python3-matplotlib.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_run(run):
    """(training steps, evaluations) of RUN_DIR/metrics.jsonl."""
    train, evals = [], []
    with open(f"{run}/metrics.jsonl") as f:
        for line in f:
            j = json.loads(line)
            (evals if "eval" in j else train).append(j)
    return train, evals


def second_metric(axis, evals, mlm, **style):
    xs = [e["tokens"] / 1e6 for e in evals]
    if mlm:
        axis.plot(xs, [100 * e["eval"]["accuracy"] for e in evals], "o-", **style)
        axis.set_ylabel("held-out masked-token accuracy (%)")
    else:
        axis.semilogy(xs, [e["eval"]["perplexity"] for e in evals], "o-", **style)
        axis.set_ylabel("held-out perplexity")
    axis.set_xlabel("tokens seen (millions)")
    axis.grid(alpha=0.3)


def compare(out, runs):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for i, arg in enumerate(runs):
        run, _, label = arg.partition("=")
        _, evals = read_run(run)
        if not evals:
            sys.exit(f"{run}/metrics.jsonl: no evaluations")
        mlm = "accuracy" in evals[0]["eval"]
        a.plot([e["tokens"] / 1e6 for e in evals], [e["eval"]["loss"] for e in evals], "o-", ms=3, color=f"C{i}",
               label=label or run)
        second_metric(b, evals, mlm, ms=3, color=f"C{i}")
    a.set_xlabel("tokens seen (millions)")
    a.set_ylabel("held-out cross-entropy (nats)")
    a.grid(alpha=0.3)
    a.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3:])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    run, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else run
    train, evals = read_run(run)
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
        second_metric(b, evals, mlm, color="C2" if mlm else "C3")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
