#!/usr/bin/python3
"""Plots of fine-tuning runs and tables (Debian's python3-matplotlib and python3-numpy).

  /usr/bin/python3 scripts/plot_runs.py ln-deltas RUN_DIR OUT.png
      The LN-Tuning paper's view: mean |delta gain| and |delta bias| of every LayerNorm after tuning,
      per layer, after-MHA vs after-FFN LayerNorm (GPT-2: ln_1 vs ln_2). The tuned values come
      from RUN_DIR/trainable.safetensors, the starting ones from the run's model.path.
  /usr/bin/python3 scripts/plot_runs.py scatter TABLE_JSON OUT.png
      Average dev score against trainable-parameter % (log scale) per method, from a table.json
      written by scripts/table.py.
  /usr/bin/python3 scripts/plot_runs.py curves OUT.png RUN_DIR [RUN_DIR ...]
      Training loss and dev metric against step, one line per run (metrics.jsonl).
"""
import json
import os
import re
import struct
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64}


def read_safetensors(path, want=None):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for k, v in header.items():
            if k == "__metadata__" or (want and not want(k)):
                continue
            if v["dtype"] not in DTYPES:
                continue
            a, b = v["data_offsets"]
            f.seek(base + a)
            out[k] = np.frombuffer(f.read(b - a), dtype=DTYPES[v["dtype"]]).reshape(v["shape"]).astype(np.float64)
    return out


def base_weights(model_path, want):
    p = model_path
    if os.path.isdir(p):
        p = os.path.join(p, "model.safetensors")
    if not p.endswith(".safetensors"):
        sys.exit(f"{model_path}: ln-deltas reads safetensors model folders only")
    w = read_safetensors(p, want)
    # Base checkpoints may lack the "bert." / "transformer." prefix.
    return {k: v for k, v in w.items()} | {"bert." + k: v for k, v in w.items()} | {"transformer." + k: v for k, v in w.items()}


NORM = re.compile(r"(?:layer|h)\.(\d+)\.(attention\.output\.LayerNorm|output\.LayerNorm|ln_1|ln_2)\.(weight|bias)$")
ROLE = {"attention.output.LayerNorm": "after-MHA LN", "output.LayerNorm": "after-FFN LN", "ln_1": "ln_1", "ln_2": "ln_2"}


def ln_deltas(run, out):
    cfg = json.load(open(os.path.join(run, "config.json")))
    tuned = read_safetensors(os.path.join(run, "trainable.safetensors"), lambda k: NORM.search(k) is not None)
    if not tuned:
        sys.exit(f"{run}/trainable.safetensors: no LayerNorm tensors (not an LN-Tuning run?)")
    base = base_weights(cfg["model"]["path"], lambda k: "LayerNorm" in k or ".ln_" in k)
    series = {}  # (role, term) -> {layer: mean |delta|}
    for k, v in tuned.items():
        m = NORM.search(k)
        layer, role, term = int(m.group(1)), ROLE[m.group(2)], m.group(3)
        if k not in base:
            sys.exit(f"{cfg['model']['path']}: no {k} to compare with")
        series.setdefault((role, term), {})[layer] = float(np.abs(v - base[k]).mean())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, term, label in ((axes[0], "weight", "|Δ gain|"), (axes[1], "bias", "|Δ bias|")):
        for (role, t), d in sorted(series.items()):
            if t != term:
                continue
            layers = sorted(d)
            ax.plot(layers, [d[l] for l in layers], "o-", label=role)
            ax.set_xticks(layers)
        ax.set_xlabel("layer")
        ax.set_ylabel(f"mean {label}")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"LayerNorm change after tuning: {cfg['task']['name']} ({run})")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def seed_spread(row):
    """Sample std over seeds of a method's average over tasks (each seed's own average), when every
    task has every seed; None otherwise or with one seed."""
    cells = list(row["cells"].values())
    if not cells or any(c is None or not c.get("complete") or len(c.get("values", [])) < 2 for c in cells):
        return None
    per_seed = np.mean([c["values"] for c in cells], axis=0)  # tasks x seeds -> each seed's average
    return float(np.std(per_seed, ddof=1))


def scatter(table_json, out):
    t = json.load(open(table_json))
    fig, ax = plt.subplots(figsize=(6, 4.5))
    bars = False
    for row in t["methods"]:
        if row["average"] is None or not row["trainable_percent"]:
            continue
        sd = seed_spread(row)
        x, y = row["trainable_percent"], 100 * row["average"]
        if sd is None:
            ax.scatter(x, y)
        else:
            ax.errorbar(x, y, yerr=100 * sd, fmt="o", capsize=3)
            bars = True
        ax.annotate(row["method"], (x, y), textcoords="offset points", xytext=(4, 4))
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters (% of the backbone)")
    ax.set_ylabel("average dev score")
    ax.grid(alpha=0.3)
    ax.set_title(f"table {t.get('name', '')}: score vs trainable %" + (f" (± std over {len(t['seeds'])} seeds)" if bars else ""))
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def run_labels(runs):
    """What tells the runs apart: their paths less the folders all of them share at the start and
    the end (runs/tables/main/cola/{full,ln}/default/seed42 -> full, ln). One run: its last two."""
    parts = [os.path.normpath(r).split(os.sep) for r in runs]
    if len(parts) == 1:
        return ["/".join(parts[0][-2:])]
    head = 0
    while all(len(p) > head + 1 and p[head] == parts[0][head] for p in parts):
        head += 1
    tail = 0
    while all(len(p) - tail - 1 > head and p[-1 - tail] == parts[0][-1 - tail] for p in parts):
        tail += 1
    return ["/".join(p[head:len(p) - tail]) for p in parts]


# The task's own metric when a run has no results.json yet (still running): GLUE's headline.
METRIC_PREFERENCE = ("mcc", "pearson", "f1", "accuracy")


def run_metric(run, eval_keys):
    try:
        m = json.load(open(os.path.join(run, "results.json"))).get("metric")
        if m in eval_keys:
            return m
    except (OSError, ValueError):
        pass
    return next((m for m in METRIC_PREFERENCE if m in eval_keys), next(iter(eval_keys)))


def curves(out, runs):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for run, name in zip(runs, run_labels(runs)):
        train, evals = [], []
        for line in open(os.path.join(run, "metrics.jsonl")):
            j = json.loads(line)
            (evals if "eval" in j else train).append(j)
        a.plot([j["step"] for j in train], [j["loss"] for j in train], lw=0.8, label=name)
        if evals:
            metric = run_metric(run, evals[0]["eval"])
            b.plot([j["step"] for j in evals], [100 * j["eval"][metric] for j in evals], "o-", label=f"{name} ({metric})")
    a.set_xlabel("step")
    a.set_ylabel("training loss")
    b.set_xlabel("step")
    b.set_ylabel("dev metric x 100")
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "ln-deltas":
        ln_deltas(sys.argv[2], sys.argv[3])
        print(sys.argv[3])
    elif cmd == "scatter":
        scatter(sys.argv[2], sys.argv[3])
        print(sys.argv[3])
    elif cmd == "curves":
        curves(sys.argv[2], sys.argv[3:])
        print(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
