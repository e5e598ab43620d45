#!/usr/bin/env python3
"""Checks that HF PEFT loads an adapter lntune exported and scores the same on the dev set.

Run on the GPU machine (it has transformers + peft) with a finished `lntune train` run folder
whose method has a PEFT format (lora, ia3, ln, prefix, prompt) and the base model folder it started
from (HF layout: lntune pretrain/init output):

  python3 scripts/check_peft_export.py RUN_DIR [GLUE_DIR]

Loads AutoModelForSequenceClassification from the base folder (num_labels from the run),
PeftModel.from_pretrained(RUN_DIR/peft), evaluates the run's task on its dev file in fp32 and
compares with results.json's best dev accuracy / Pearson (equal up to one flipped example). One JSON line;
exit 1 on a mismatch.
"""
import csv
import json
import os
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForSequenceClassification, AutoTokenizer

TASKS = {  # lntune task -> (folder, text columns, label column, label names or None for regression)
    "rte": ("RTE", ["sentence1", "sentence2"], "label", ["entailment", "not_entailment"]),
    "sst2": ("SST-2", ["sentence"], "label", ["0", "1"]),
    "mrpc": ("MRPC", ["#1 String", "#2 String"], "Quality", ["0", "1"]),
    "stsb": ("STS-B", ["sentence1", "sentence2"], "score", None),
}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    run = sys.argv[1]
    cfg = json.load(open(os.path.join(run, "config.json")))
    res = json.load(open(os.path.join(run, "results.json")))
    task = cfg["task"]["name"]
    if task not in TASKS:
        sys.exit(f"{task}: not handled by this check")
    folder, cols, label_col, names = TASKS[task]
    glue = sys.argv[2] if len(sys.argv) > 2 else cfg["task"]["data_dir"]
    with open(os.path.join(glue, "dev.tsv") if os.path.isdir(glue) and folder in glue else os.path.join(glue, folder, "dev.tsv"),
              encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    base = cfg["model"]["path"]
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1 if names is None else len(names))
    model = PeftModel.from_pretrained(model, os.path.join(run, "peft")).eval()
    tok = AutoTokenizer.from_pretrained(base)
    correct, preds, gold = 0, [], []
    with torch.no_grad():
        for r in rows:
            enc = tok(*[r[c] for c in cols], truncation=True, max_length=cfg["task"]["max_length"], return_tensors="pt")
            logits = model(**enc).logits[0]
            if names is None:
                preds.append(logits[0].item())
                gold.append(float(r[label_col]))
            else:
                correct += int(logits.argmax().item() == names.index(r[label_col]))
    metric = "pearson" if names is None else "accuracy"
    ours = res["best"][metric]
    if names is None:
        import numpy as np
        theirs = float(np.corrcoef(preds, gold)[0, 1])
        ok = abs(theirs - ours) < 1e-3
    else:
        theirs = correct / len(rows)
        ok = abs(theirs - ours) <= 1.0 / len(rows) + 1e-9
    print(json.dumps({"run": run, "task": task, "metric": metric, "lntune": ours, "hf_peft": theirs, "ok": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
