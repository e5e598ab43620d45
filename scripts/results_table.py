#!/usr/bin/env python3
"""Markdown table (task x method) from lntune run folders: ROOT/<task>/<method>/results.json.

For each run: the dev metric the best weights were chosen by (and the others), trainable
backbone parameters and their % of the backbone, training time and throughput (from
metrics.jsonl). A run folder without results.json is reported as unfinished, never skipped.

    python3 scripts/results_table.py runs/results
"""
import json
import os
import sys


def throughput(run):
    rates = []
    path = os.path.join(run, "metrics.jsonl")
    if os.path.exists(path):
        for line in open(path):
            j = json.loads(line)
            if "examples_per_s" in j:
                rates.append(j["examples_per_s"])
    return rates[-1] if rates else float("nan")


def main(root):
    rows = []
    for task in sorted(os.listdir(root)):
        tdir = os.path.join(root, task)
        if not os.path.isdir(tdir):
            continue
        for method in sorted(os.listdir(tdir)):
            run = os.path.join(tdir, method)
            if not os.path.isdir(run):
                continue  # e.g. a log kept beside the run folders
            res = os.path.join(run, "results.json")
            if not os.path.exists(res):
                rows.append("| %s | %s | unfinished (no results.json) | | | | |" % (task, method))
                continue
            r = json.load(open(res))
            best = r["best"]
            metric = r["metric"]
            others = ", ".join("%s %.4f" % (k, v) for k, v in sorted(best.items()) if k != metric)
            rows.append("| %s | %s | %s %.4f%s | %d | %.3f%% | %.0f | %.1f |" % (
                task, method, metric, best[metric], " (%s)" % others if others else "",
                r["trainable_backbone_params"], r["trainable_percent"], r["train_seconds_this_run"], throughput(run)))
    print("| task | method | dev (best) | trainable backbone params | % of backbone | train s | examples/s |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/results")
