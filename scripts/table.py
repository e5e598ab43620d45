#!/usr/bin/env python3
"""Runs a grid of methods x tasks x seeds (x a sweep) with `lntune train` and writes the paper's
table: per task the dev metric (mean +- std over seeds), the average across tasks and the
trainable-parameter % of each method.

    python3 scripts/table.py --spec configs/tables/main.json [--set model.path=DIR ...]
                             [--sweep train.lr=1e-3,5e-4] [--tasks rte,mrpc] [--seeds 42] [--jobs N] [--force]
                             [--aggregate-only]

Spec (JSON):
    {"name": "main",
     "tasks": ["rte", "mrpc"],                  # configs/<task>/<method>.json must exist
     "methods": ["full", "ln", {"label": "ln (bias)", "config": "ln", "set": {"method.terms": "bias"}},
                 {"label": "ln (both)", "config": "ln", "cell": "ln"}],  # cell: its folder's name
     "seeds": [42, 43, 44],
     "set": {"train.epochs": 3},                # overrides for every cell
     "sweep": {"train.lr": [1e-3, 5e-4]},       # optional; --sweep replaces it; values may be
                                                # relative: ["x0.5", "x1", "x2"] (see below)
     "method_sweep": {"full": {"train.lr": [2e-5, 5e-5]}},  # optional, per method label
     "configs_dir": "configs",                  # optional, relative to the repository root
     "output_dir": "runs/tables/main",           # table.md, table.json
     "cells_dir": "runs/tables/main",            # optional (default output_dir): the run folders
     "record_dir": "results/tables/main",        # optional (default: cells_dir's runs/ -> results/;
                                                # "" for none): finished cells kept in git
     "report": "metric"}                        # or "time": the paper's efficiency table

Every cell is a run folder CELLS/<task>/<method cell>/<sweep point>/seed<k>. A folder with
results.json is reused (a finished cell) unless --force; a folder with a checkpoint but no results.json (a run
that was interrupted) is resumed with --resume; anything else starts afresh. So an interrupted
grid is continued by running the same command again: only the missing cells run. Specs that
share a cells_dir share cells: the shipped ablation, combination and DyT specs keep theirs in
main's folder, so their "ln", "prefix", "adapter", "mam", "full" cells are main's, run once. A
finished cell is reused only if its run's resolved config.json still says what the spec asks
(the config file as it is now, the sets, the sweep point, the seed); otherwise it is reported
"stale" (an edited config, a method pointed at another's folder) and neither rerun nor
averaged until --force. A cell being run holds CELL.lock (its process id), so two table.py at
once never run the same cell: the second reports it "busy"; a lock whose process has died is
taken over.

Run folders (weights, checkpoints) live on one machine; a grid of many CPU-hours must outlive
it. So each finished cell's small files (results.json, the resolved config.json, metrics.jsonl,
and model.json: the sha256 of the model folder's config and weights it started from) are copied
to the record folder, which is committed; on a fresh clone or another machine a recorded cell
missing from cells_dir is copied back and is a finished cell like any other. A finished cell
whose model.json differs from what model.path holds now (pretrained again, not bit-identical)
is stale; without the model at hand the record is taken as it is (--aggregate-only on a clone).

--tasks keeps only the named tasks of the spec (runs them and writes a table of them alone): e.g.
the main table without SST-2, whose 67 k training sentences cost an hour per cell on 2 cores.
--seeds likewise keeps only the named seeds: `--seeds 42` first gives a whole one-seed table in a
third of the time, and the same command without it later adds the other seeds to the same folders.

--jobs N runs N cells at a time, each given cores/N cores (LNTUNE_CORES and OPENBLAS_NUM_THREADS,
unless the caller set them or chose threads with LNTUNE_THREADS / OMP_NUM_THREADS). The cells of
these tables are small models whose ops are too short to keep every core busy: on this project's
2-core machine two bert-mini cells side by side finish 1.3x the steps per second of one alone
(docs/benchmarks.md). Not for "time" tables, whose cells must run alone.

A sweep value "x<f>" is f times the cell's own value of that key (its config's, after the spec's
and the method's "set"): one `--sweep train.lr=x0.5,x1,x2` is a per-method learning-rate sweep
around each method's shipped rate (full 1e-4, ln 1e-3, prefix 5e-3, ...). "x1" is the unchanged
config and is not named in the folder, so a point of x1 alone is the "default" cell of the same
spec without the sweep: sweeping after a grid reuses its finished cells.

For each task x method the sweep point with the best mean dev score is reported (the sweep is
named in the table, as the papers do; a point all seeds finished goes before one with fewer).
Where a method tried several points, a further table lists every one (mean +- std, the value a
relative point ran at), which shows whether the best was the sweep's edge (table.json: each
row's "points"). A cell whose results.json is unreadable or lacks the metric is reported as
broken and left out of every mean; a task x method with fewer finished seeds than asked says so.
With "report": "time" the table is instead each method's training time per epoch (evaluation
excluded) and peak memory, mean over seeds, and their ratio to the method labelled "full". A
task whose runs report several metrics (E2E's BLEU, NIST, ROUGE-L, CIDEr) gets a second table of
them all at each method's reported point. Writes OUT/table.md and OUT/table.json. Exit code: 0
when every cell finished and aggregated, 1 otherwise.
"""
import argparse
import concurrent.futures
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_value(v):
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


def fail(msg):
    print(f"table: error: {msg}", file=sys.stderr)
    sys.exit(1)


def keep_only(spec, key, arg, path):
    """--tasks / --seeds: keep only the named entries of the spec's list, in the spec's order."""
    if not arg:
        return
    wanted = [parse_value(t) for t in arg.split(",") if t]
    unknown = [str(t) for t in wanted if t not in spec[key]]
    if unknown or not wanted:
        fail(f"--{key} {arg}: {', '.join(unknown) or 'none given'} not in {path}'s {key} ({', '.join(map(str, spec[key]))})")
    spec[key] = [t for t in spec[key] if t in wanted]


def load_spec(path, sets, sweep_args, tasks=None, seeds=None):
    try:
        spec = json.load(open(path))
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{path}: {e}")
    known = {"name", "tasks", "methods", "seeds", "set", "sweep", "method_sweep", "configs_dir", "output_dir", "cells_dir",
             "record_dir", "report"}
    for k in spec:
        if k not in known:
            fail(f"{path}: {k}: unknown key (known: {', '.join(sorted(known))})")
    for k in ("tasks", "methods", "seeds"):
        if not isinstance(spec.get(k), list) or not spec[k]:
            fail(f"{path}: {k}: must be a non-empty list")
    keep_only(spec, "tasks", tasks, path)
    keep_only(spec, "seeds", seeds, path)
    spec.setdefault("set", {})
    spec.setdefault("report", "metric")
    if spec["report"] not in ("metric", "time"):
        fail(f"{path}: report: '{spec['report']}' is not one of metric, time")
    spec.setdefault("sweep", {})
    spec.setdefault("method_sweep", {})
    spec.setdefault("configs_dir", "configs")
    spec.setdefault("output_dir", f"runs/tables/{spec.get('name', 'table')}")
    spec.setdefault("cells_dir", spec["output_dir"])
    spec.setdefault("record_dir", default_record_dir(spec["cells_dir"]))
    for s in sets:
        if "=" not in s:
            fail(f"--set {s}: expected key=value")
        k, v = s.split("=", 1)
        spec["set"][k] = parse_value(v)
    if sweep_args:
        spec["sweep"] = {}
        for s in sweep_args:
            if "=" not in s:
                fail(f"--sweep {s}: expected key=v1,v2,...")
            k, v = s.split("=", 1)
            spec["sweep"][k] = [parse_value(x) for x in v.split(",")]
    sweeps = [("--sweep " if sweep_args else f"{path}: sweep.", spec["sweep"])]
    sweeps += [(f"{path}: method_sweep.{m}.", sw) for m, sw in spec["method_sweep"].items()]
    for where, sweep in sweeps:
        for k, vals in sweep.items():
            if not isinstance(vals, list) or not vals:
                fail(f"{where}{k}: must be a non-empty list")
            for v in vals:
                if isinstance(v, str) and v.startswith("x") and relative_factor(v) is None:
                    fail(f"{where}{k}: '{v}' is not a factor x<positive number> (e.g. x0.5)")
    methods = []
    for m in spec["methods"]:
        if isinstance(m, str):
            m = {"label": m, "config": m}
        if not isinstance(m, dict) or "config" not in m:
            fail(f"{path}: methods: each entry is a name or {{label, config, set}}")
        m.setdefault("label", m["config"])
        m.setdefault("set", {})
        m.setdefault("cell", m["label"])
        methods.append(m)
    spec["methods"] = methods
    return spec


def relative_factor(v):
    """f for a sweep value "x<f>" (f > 0), None for anything else."""
    if not (isinstance(v, str) and v.startswith("x")):
        return None
    try:
        f = float(v[1:])
    except ValueError:
        return None
    return f if f > 0 and math.isfinite(f) else None


def slug(s):
    return re.sub(r"[^A-Za-z0-9._+=-]+", "_", s)


def sweep_points(spec, label):
    sweep = spec["method_sweep"].get(label, spec["sweep"])
    if not sweep:
        return [{}]
    keys = sorted(sweep)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(sweep[k] for k in keys))]


def point_name(point):
    named = [k for k in sorted(point) if relative_factor(point[k]) != 1.0]
    return ",".join(f"{k.split('.')[-1]}={point[k]}" for k in named) or "default"


def resolve_point(point, overrides, config, settings):
    """The sweep point with every "x<f>" turned into f times the cell's own value (`overrides`
    first, then `settings`, the parsed config file `config`); x1 stays out (the config's value is
    used as it is)."""
    out = {}
    for k, v in point.items():
        f = relative_factor(v)
        if f is None:
            out[k] = v
            continue
        if f == 1.0:
            continue
        base = overrides[k] if k in overrides else resolved_value(settings, k)
        if isinstance(base, bool) or not isinstance(base, (int, float)):
            raise ValueError(f"{k}={v}: {config} has no number at {k} to scale")
        out[k] = float(f"{base * f:.6g}")
    return out


def default_record_dir(cells_dir):
    """results/... for cells kept under runs/... (relative to the repository root), else none."""
    rel = os.path.relpath(os.path.join(ROOT, cells_dir) if not os.path.isabs(cells_dir) else cells_dir, ROOT)
    parts = rel.split(os.sep)
    return os.path.join(ROOT, "results", *parts[1:]) if parts[0] == "runs" and len(parts) > 1 else ""


# results.json last: copied in this order, a record (or a restored run) is whole or has no results.
RECORDED = ("config.json", "metrics.jsonl", "model.json", "results.json")
_fingerprints = {}


def model_fingerprint(path):
    """{"path", "sha256"} of the weights a run starts from (a file, or a model folder's config.json
    and weight files), or None when there is nothing there (yet). Cached per file state."""
    if not path:
        return None
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if f == "config.json" or f.endswith((".safetensors", ".bin", ".pt")))
    else:
        files = [path] if os.path.isfile(path) else []
    if not files:
        return None
    key = tuple((f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files)
    if key not in _fingerprints:
        h = hashlib.sha256()
        for f in files:
            h.update(os.path.basename(f).encode() + b"\0")
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        _fingerprints[key] = {"path": path, "sha256": h.hexdigest()}
    return _fingerprints[key]


def model_path(settings, overrides):
    """The model.path a cell's run starts from: its override, else its config file's."""
    path = overrides.get("model.path", resolved_value(settings, "model.path"))
    return path if isinstance(path, str) else ""


def record_path(spec, cell):
    if not spec["record_dir"]:
        return None
    return os.path.join(spec["record_dir"], os.path.relpath(cell["run"], spec["cells_dir"]))


def finished_folder(spec, cell):
    """The folder holding a cell's finished run: its run folder, else its record (read where it
    is, not copied back: `--check` writes nothing); None when neither has results.json."""
    for folder in (cell["run"], record_path(spec, cell)):
        if folder and os.path.exists(os.path.join(folder, "results.json")):
            return folder
    return None


def copy_files(src, dst, names):
    os.makedirs(dst, exist_ok=True)
    for name in names:
        if os.path.exists(os.path.join(src, name)):
            tmp = os.path.join(dst, name + ".tmp")
            shutil.copyfile(os.path.join(src, name), tmp)
            os.replace(tmp, os.path.join(dst, name))


def record(spec, cell):
    """Copies a finished cell's small files (results, resolved config, curve, the fingerprint of
    the model it started from) to the record folder, which is kept in git: run folders (weights,
    checkpoints) live on one machine, and a grid of many CPU-hours must outlive it."""
    dst = record_path(spec, cell)
    if not dst or not os.path.exists(os.path.join(cell["run"], "model.json")):
        return  # no record folder, or a run from before fingerprints: where it came from is unknown
    copy_files(cell["run"], dst, RECORDED)


def restore(spec, cell):
    """Copies a recorded cell into its run folder when the folder has no finished run (a fresh
    clone, another machine): it is then a finished cell like any other, checked for staleness
    (the model's fingerprint included) before it is reused."""
    src = record_path(spec, cell)
    if src and os.path.exists(os.path.join(src, "results.json")) and not os.path.exists(os.path.join(cell["run"], "results.json")):
        copy_files(src, cell["run"], RECORDED)


def cells(spec):
    for task in spec["tasks"]:
        for m in spec["methods"]:
            for point in sweep_points(spec, m["label"]):
                for seed in spec["seeds"]:
                    run = os.path.join(spec["cells_dir"], task, slug(m["cell"]), slug(point_name(point)), f"seed{seed}")
                    yield {"task": task, "method": m, "point": point, "seed": seed, "run": run}


def config_path(spec, cell):
    config = os.path.join(spec["configs_dir"], cell["task"], cell["method"]["config"] + ".json")
    return config if os.path.isabs(config) else os.path.join(ROOT, config)


def cell_settings(spec, cell):
    """(config file, its parsed content, --set overrides) of a cell's `lntune train`; ValueError
    when they cannot be formed (no or unreadable config, a relative sweep value with nothing to
    scale)."""
    config = config_path(spec, cell)
    try:
        settings = json.load(open(config))
    except FileNotFoundError:
        raise ValueError(f"{config} does not exist")
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{config}: {e}")
    overrides = dict(spec["set"])
    overrides.update(cell["method"]["set"])
    overrides.update(resolve_point(cell["point"], overrides, config, settings))
    overrides["train.seed"] = cell["seed"]
    overrides["output_dir"] = cell["run"]
    return config, settings, overrides


MISSING = object()


def resolved_value(node, key):
    """The value at dotted `key` of a run's resolved config.json (whose "method" is a list of one
    object per method: a list of one is looked through), or MISSING."""
    for part in key.split("."):
        if isinstance(node, list) and len(node) == 1:
            node = node[0]
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def leaves(node, prefix=""):
    if not isinstance(node, dict):
        return {prefix: node}
    out = {}
    for k, v in node.items():
        out.update(leaves(v, f"{prefix}.{k}" if prefix else k))
    return out


def same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    return a == b


def stale(spec, cell, folder=None):
    """Why a finished cell's run does not match what the spec now asks of it (its config file as
    it is now, the spec's and method's sets, the sweep point, the seed), or None. Cells are reused
    by folder, across specs sharing a cells_dir too; this keeps an edited config or a wrongly
    shared folder from being reported under settings it never ran with. Keys the run's resolved
    config lays out differently (a list of several methods) are not compared; a folder without
    config.json (not written by `lntune train`) is taken as it is."""
    folder = folder or cell["run"]
    ran_path = os.path.join(folder, "config.json")
    if not os.path.exists(ran_path):
        return None  # not written by `lntune train` (which always writes it): nothing to compare
    try:
        _, settings, overrides = cell_settings(spec, cell)
        ran = json.load(open(ran_path))
    except (OSError, ValueError) as e:
        return f"cannot check its settings ({e})"
    want = leaves(settings)
    want.update(overrides)
    for k, v in sorted(want.items()):
        if k == "output_dir":
            continue
        got = resolved_value(ran, k)
        if got is not MISSING and not same(got, v):
            return f"stale: ran with {k}={json.dumps(got)}, the spec asks {json.dumps(v)} (--force reruns it)"
    # The same model.path may hold other weights now (pretrained again, on another machine).
    # Without the model here there is nothing to compare: the record is taken as it is.
    try:
        started = json.load(open(os.path.join(folder, "model.json")))["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    now = model_fingerprint(model_path(settings, overrides))
    if now and now["sha256"] != started:
        # A pretraining is made again bit for bit only by the same code on the same kind of CPU
        # (docs/results.md): say so, since the usual cause is a model pretrained here afresh.
        return (f"stale: trained from other weights (sha256 {started[:12]}), {now['path']} now holds "
                f"{now['sha256'][:12]} (--force reruns it; a model pretrained again matches only when made by "
                f"the same lntune commit on the same kind of CPU)")
    return None


def take_lock(path):
    """Creates `path` holding this process's pid, atomically; a lock left by a process that no
    longer runs (on this machine) is taken over. Returns None, or the pid that holds it."""
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
            os.close(fd)
            return None
        except FileExistsError:
            try:
                pid, host = open(path).read().split()
                pid = int(pid)
            except (OSError, ValueError):
                return "?"
            if host != socket.gethostname():
                return pid
            try:
                os.kill(pid, 0)
                return pid
            except ProcessLookupError:
                os.remove(path)  # its owner died: take it over
            except PermissionError:
                return pid
    return "?"


def run_cell(lntune, spec, cell, force, env=None):
    run = cell["run"]
    res = os.path.join(run, "results.json")
    lock = run + ".lock"
    if not force:
        restore(spec, cell)
    if os.path.exists(res) and not force:
        if os.path.exists(lock) and take_lock(lock) is None:
            os.remove(lock)  # left by a table.py killed as its cell finished
        why = stale(spec, cell)
        if why:
            return why
        rec = record_path(spec, cell)
        if rec and not os.path.exists(os.path.join(rec, "results.json")):
            record(spec, cell)
        return "cached"
    # Specs sharing a cells_dir (or two table.py at once) may reach the same cell: one runs it.
    os.makedirs(os.path.dirname(run), exist_ok=True)
    holder = take_lock(lock)
    if holder is not None:
        return f"busy: process {holder} is running it (another table.py); rerun later"
    try:
        if os.path.exists(res) and not force:
            return "cached"  # finished by whoever held the lock before us
        if force and os.path.isdir(run):
            subprocess.run(["rm", "-rf", run], check=True)
        try:
            config, settings, overrides = cell_settings(spec, cell)
        except ValueError as e:
            return f"failed: {e}"
        cmd = [lntune, "train", "--config", config]
        for k, v in overrides.items():
            cmd += ["--set", f"{k}={v if isinstance(v, str) else json.dumps(v)}"]
        resumed = os.path.exists(os.path.join(run, "latest"))
        if resumed:
            cmd.append("--resume")
        os.makedirs(run, exist_ok=True)
        fingerprint = model_fingerprint(model_path(settings, overrides))
        if fingerprint and not resumed:
            with open(os.path.join(run, "model.json"), "w") as f:
                json.dump(fingerprint, f)
        with open(os.path.join(run, "train.log"), "a") as log:
            rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env).returncode
        if rc != 0:
            return f"failed (exit {rc}, see {run}/train.log)"
        record(spec, cell)
        return "resumed" if resumed else "ran"
    finally:
        os.remove(lock)


def cell_env(jobs):
    """The environment of each cell: its share of the cores, unless the caller chose threads.
    lntune splits the share between its own threads and OpenBLAS's pool (src/util/threads.h)."""
    env = dict(os.environ)
    if jobs > 1 and not {"LNTUNE_THREADS", "OMP_NUM_THREADS", "LNTUNE_CORES"} & set(env):
        share = str(max(1, (os.cpu_count() or 1) // jobs))
        env["LNTUNE_CORES"] = share
        env.setdefault("OPENBLAS_NUM_THREADS", share)
    return env


def run_grid(lntune, spec, force, jobs):
    todo = list(cells(spec))
    env = cell_env(jobs)

    def timed(cell):
        t0 = time.monotonic()
        status = run_cell(lntune, spec, cell, force, env)
        return status, time.monotonic() - t0

    # Cells are independent run folders, so they may finish in any order; each line names its cell,
    # and once cells have run, the time the rest should take: the mean of those times the cells
    # still to train (not the finished ones a grid reuses), N at a time (an upper bound: the cells
    # running now count whole).
    to_train = {cell["run"] for cell in todo if force or not finished_folder(spec, cell)}
    ran = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        running = {pool.submit(timed, cell): cell for cell in todo}
        for i, done in enumerate(concurrent.futures.as_completed(running), 1):
            cell = running[done]
            status, secs = done.result()
            to_train.discard(cell["run"])
            label = f"{cell['task']} / {cell['method']['label']} / {point_name(cell['point'])} / seed {cell['seed']}"
            line = f"[{i}/{len(todo)}] {label}: {status}"
            if status in ("ran", "resumed"):
                ran.append(secs)
                line += f" ({secs / 60:.1f} min)"
            if ran and to_train:
                left = sum(ran) / len(ran) * len(to_train) / jobs
                line += f"; ~{left / 3600:.1f} h left" if left >= 3600 else f"; ~{left / 60:.0f} min left"
            print(line, file=sys.stderr, flush=True)


def read_cell(spec, cell):
    """(value, results) of a finished cell, or (None, reason)."""
    restore(spec, cell)
    res = os.path.join(cell["run"], "results.json")
    if not os.path.exists(res):
        return None, "missing"
    why = stale(spec, cell)
    if why:
        return None, why
    try:
        r = json.load(open(res))
        metric = r["metric"]
        value = float(r["best"][metric])
        if math.isnan(value):
            raise ValueError("metric is NaN")
        return value, r
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
        return None, f"broken ({type(e).__name__}: {e})"


def point_values(spec, cell):
    """A sweep point's values as its cells run them ("x3" resolved to three times the cell's own
    value, "x1" to the configured one), or the point as written where the config cannot be read."""
    try:
        _, settings, overrides = cell_settings(spec, cell)
    except ValueError:
        return dict(cell["point"])
    out = {}
    for k, v in cell["point"].items():
        got = overrides[k] if k in overrides else resolved_value(settings, k)
        out[k] = v if got is MISSING else got
    return out


def mean_std(xs):
    m = sum(xs) / len(xs)
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, s


def aggregate(spec):
    groups = {}  # (task, label) -> point name -> list of (seed, value, results), in the spec's order
    resolved = {}  # (task, label, point name) -> the point's values as the cell runs them
    problems = []
    for cell in cells(spec):
        value, r = read_cell(spec, cell)
        key = (cell["task"], cell["method"]["label"])
        pts = groups.setdefault(key, {})
        pname = point_name(cell["point"])
        if pname not in pts:
            resolved[key + (pname,)] = point_values(spec, cell)
        lst = pts.setdefault(pname, [])
        if value is None:
            problems.append({"run": cell["run"], "problem": r})
            continue
        lst.append((cell["seed"], value, r))
    table = {"name": spec.get("name", ""), "tasks": spec["tasks"], "seeds": spec["seeds"], "methods": [], "problems": problems}
    for m in spec["methods"]:
        row = {"method": m["label"], "cells": {}, "points": {}, "trainable_percent": None}
        means = []
        for task in spec["tasks"]:
            best = None
            row["points"][task] = []
            for pname, lst in groups.get((task, m["label"]), {}).items():
                if not lst:
                    continue
                mu, sd = mean_std([v for _, v, _ in lst])
                whole = len(lst) == len(spec["seeds"])
                row["points"][task].append({"sweep": pname, "values": resolved[(task, m["label"], pname)],
                                            "mean": mu, "std": sd, "n": len(lst), "complete": whole})
                # A point every seed finished beats one that some have not (one lucky seed is no best
                # rate); then the higher mean.
                if best is None or (whole, mu) > (best["complete"], best["mean"]):
                    # every metric the runs report at their best step (a generation task's four), mean over seeds
                    names = set.intersection(*(set(r.get("best", {})) for _, _, r in lst))
                    every = {k: sum(float(r["best"][k]) for _, _, r in lst) / len(lst) for k in sorted(names)}
                    best = {"mean": mu, "std": sd, "n": len(lst), "sweep": pname, "metric": lst[0][2]["metric"],
                            "values": [v for _, v, _ in lst], "every_metric": every, "complete": whole}
                    row["trainable_percent"] = lst[0][2].get("trainable_percent")
            if best is not None:
                means.append(best["mean"])
            row["cells"][task] = best
        complete = len(means) == len(spec["tasks"])
        row["average"] = sum(means) / len(means) if complete else None
        table["methods"].append(row)
    return table


def aggregate_time(spec):
    """Per task x method: mean seconds per epoch and peak memory over the finished cells."""
    problems, rows, found = [], [], {}  # found: (task, label) -> [(seconds, MB, trainable %)]
    for cell in cells(spec):
        value, r = read_cell(spec, cell)
        # peak_memory_mb: RSS on the CPU, the CUDA allocator's peak on a GPU (older runs: RSS only).
        peak = None if value is None else r.get("peak_memory_mb", r.get("peak_rss_mb"))
        if value is None or r.get("train_seconds_per_epoch") is None or peak is None:
            problems.append({"run": cell["run"], "problem": r if value is None else "no time/memory in results.json"})
            continue
        found.setdefault((cell["task"], cell["method"]["label"]), []).append(
            (float(r["train_seconds_per_epoch"]), float(peak), r.get("trainable_percent")))
    for m in spec["methods"]:
        row = {"method": m["label"], "cells": {}, "trainable_percent": None}
        for task in spec["tasks"]:
            got = found.get((task, m["label"]), [])
            if got:
                row["trainable_percent"] = got[-1][2]
            row["cells"][task] = {"seconds_per_epoch": mean_std([g[0] for g in got])[0],
                                  "peak_mb": mean_std([g[1] for g in got])[0], "n": len(got)} if got else None
        rows.append(row)
    full = next((r for r in rows if r["method"] == "full"), None)
    for row in rows:
        for task, c in row["cells"].items():
            f = full["cells"].get(task) if full else None
            if c and f:
                c["time_vs_full"] = c["seconds_per_epoch"] / f["seconds_per_epoch"]
                c["memory_vs_full"] = c["peak_mb"] / f["peak_mb"]
    return {"name": spec.get("name", ""), "report": "time", "tasks": spec["tasks"], "seeds": spec["seeds"],
            "methods": rows, "problems": problems}


def markdown_time(table):
    tasks = table["tasks"]
    out = [f"# Table: {table['name']}", "",
           f"Training seconds per epoch (evaluation excluded) and peak memory (MB: process RSS on the CPU, CUDA allocator peak on a GPU), mean over seeds "
           f"{table['seeds']}; in brackets the ratio to full fine-tuning.", "",
           "| method | trainable % | " + " | ".join(f"{t} s/epoch | {t} peak MB" for t in tasks) + " |",
           "|---|---|" + "---|---|" * len(tasks)]
    for row in table["methods"]:
        cells = []
        for t in tasks:
            c = row["cells"][t]
            if c is None:
                cells += ["—", "—"]
                continue
            rt = f" ({c['time_vs_full']:.2f}x)" if "time_vs_full" in c else ""
            rm = f" ({c['memory_vs_full']:.2f}x)" if "memory_vs_full" in c else ""
            cells += [f"{c['seconds_per_epoch']:.1f}{rt}", f"{c['peak_mb']:.0f}{rm}"]
        tp = row["trainable_percent"]
        out.append(f"| {row['method']} | {'—' if tp is None else f'{tp:.3f}'} | " + " | ".join(cells) + " |")
    if table["problems"]:
        out += ["", "Cells not in the means:", ""] + [f"- `{p['run']}`: {p['problem']}" for p in table["problems"]]
    return "\n".join(out) + "\n"


def mean_text(c):
    """Mean +- std x 100 of a cell or sweep point; one seed has no spread to show: a bare number,
    not a "± 0.0" that looks measured."""
    return f"{100 * c['mean']:.1f} ± {100 * c['std']:.1f}" if c["n"] > 1 else f"{100 * c['mean']:.1f}"


def markdown(table):
    tasks = table["tasks"]
    out = [f"# Table: {table['name']}", "",
           f"Dev metric x 100, mean +- std over seeds {table['seeds']}; best sweep point per cell in brackets.", "",
           "| method | trainable % | " + " | ".join(tasks) + " | average |",
           "|---|---|" + "---|" * len(tasks) + "---|"]
    for row in table["methods"]:
        cells = []
        for t in tasks:
            c = row["cells"][t]
            if c is None:
                cells.append("—")
                continue
            s = mean_text(c)
            if not c["complete"]:
                s += f" ({c['n']} of {len(table['seeds'])} seeds)"
            if c["sweep"] != "default":
                s += f" [{c['sweep']}]"
            cells.append(s)
        tp = row["trainable_percent"]
        avg = "—" if row["average"] is None else f"{100 * row['average']:.1f}"
        out.append(f"| {row['method']} | {'—' if tp is None else f'{tp:.3f}'} | " + " | ".join(cells) + f" | {avg} |")
    if any(row["cells"][t] for row in table["methods"] for t in tasks):
        metrics = {t: next((row["cells"][t]["metric"] for row in table["methods"] if row["cells"][t]), "?") for t in tasks}
        out += ["", "Metrics: " + ", ".join(f"{t} {m}" for t, m in metrics.items()) + "."]
    out += every_metric_tables(table)
    out += sweep_point_table(table)
    if table["problems"]:
        out += ["", "Cells not in the means:", ""] + [f"- `{p['run']}`: {p['problem']}" for p in table["problems"]]
    return "\n".join(out) + "\n"


def sweep_point_table(table):
    """Every sweep point of every method, where a sweep tried more than one: the main table shows
    only the best, and whether it was the sweep's edge (where a wider sweep might do better still)
    is read here. A relative point ("x3") shows the value its cells ran at."""
    tasks = table["tasks"]
    rows = []
    for row in table["methods"]:
        names = []  # the points in the spec's order, across tasks
        for t in tasks:
            names += [p["sweep"] for p in row["points"].get(t, []) if p["sweep"] not in names]
        if len(names) < 2:
            continue
        for name in names:
            cells = []
            for t in tasks:
                p = next((p for p in row["points"].get(t, []) if p["sweep"] == name), None)
                if p is None:
                    cells.append("—")
                    continue
                s = mean_text(p)
                best = row["cells"][t]
                if best is not None and best["sweep"] == name:
                    s = f"**{s}**"
                notes = [f"{k.split('.')[-1]} {v:g}" if isinstance(v, float) else f"{k.split('.')[-1]} {v}"
                         for k, v in sorted(p["values"].items())]
                if not p["complete"]:
                    notes.append(f"{p['n']} of {len(table['seeds'])} seeds")
                cells.append(f"{s} ({'; '.join(notes)})" if notes else s)
            rows.append(f"| {row['method']} | {name} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return ["", "Every sweep point, mean ± std over seeds (the reported point in bold; the value each ran at in parentheses):", "",
            "| method | point | " + " | ".join(tasks) + " |", "|---|---|" + "---|" * len(tasks)] + rows


# The E2E challenge's order; NIST and CIDEr are reported as they are, the others x 100.
METRIC_ORDER = ["bleu", "nist", "meteor", "rouge_l", "cider"]
UNSCALED = {"nist", "cider"}


def every_metric_tables(table):
    """Per task whose runs report several metrics (E2E: BLEU, NIST, ROUGE-L, CIDEr), each method's
    every metric at the reported sweep point, mean over seeds."""
    out = []
    for t in table["tasks"]:
        cells = [(row["method"], row["cells"][t]) for row in table["methods"] if row["cells"][t]]
        names = sorted({k for _, c in cells for k in c.get("every_metric", {})},
                       key=lambda k: (METRIC_ORDER.index(k) if k in METRIC_ORDER else len(METRIC_ORDER), k))
        if len(names) < 2:
            continue
        scaled = ", ".join(k for k in names if k not in UNSCALED)
        out += ["", f"{t}, every metric at the reported point, mean over seeds ({scaled} x 100):", "",
                "| method | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for method, c in cells:
            vals = c.get("every_metric", {})
            out.append(f"| {method} | " + " | ".join(
                "—" if k not in vals else (f"{vals[k]:.2f}" if k in UNSCALED else f"{100 * vals[k]:.1f}") for k in names) + " |")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--set", action="append", default=[], help="override for every cell: key=value")
    ap.add_argument("--sweep", action="append", default=[], help="key=v1,v2,... (replaces the spec's sweep)")
    ap.add_argument("--force", action="store_true", help="rerun finished cells")
    ap.add_argument("--tasks", help="comma list: only these of the spec's tasks")
    ap.add_argument("--seeds", help="comma list: only these of the spec's seeds")
    ap.add_argument("--jobs", type=int, default=1, help="cells run at a time (each given cores/N cores)")
    ap.add_argument("--aggregate-only", action="store_true", help="only read the run folders and write the table")
    ap.add_argument("--check", action="store_true", help="only check the spec (every cell's config exists) and count finished (run folder or record) / stale / missing cells; writes nothing")
    ap.add_argument("--lntune", default=os.environ.get("LNTUNE", os.path.join(ROOT, "build", "lntune")))
    a = ap.parse_args()
    spec = load_spec(a.spec, a.set, a.sweep, a.tasks, a.seeds)
    if a.check:
        todo = list(cells(spec))
        configs = {config_path(spec, c) for c in todo}
        missing = sorted(c for c in configs if not os.path.exists(c))
        if missing:
            fail(f"{a.spec}: no config for " + ", ".join(missing))
        done = [(c, folder) for c in todo if (folder := finished_folder(spec, c))]
        n_stale = sum(1 for c, folder in done if stale(spec, c, folder))
        print(f"{a.spec}: {len(todo)} cells, {len(configs)} configs, all present; "
              f"{len(done) - n_stale} finished, {n_stale} stale, {len(todo) - len(done)} to run")
        return
    if a.jobs < 1:
        fail(f"--jobs {a.jobs}: must be at least 1")
    if a.jobs > 1 and spec["report"] == "time" and not a.aggregate_only:
        fail(f"--jobs {a.jobs}: {a.spec} is a time table, whose cells must run alone: use --jobs 1")
    if not a.aggregate_only:
        run_grid(a.lntune, spec, a.force, a.jobs)
    table = aggregate_time(spec) if spec["report"] == "time" else aggregate(spec)
    os.makedirs(spec["output_dir"], exist_ok=True)
    md = markdown_time(table) if spec["report"] == "time" else markdown(table)
    for name, text in (("table.md", md), ("table.json", json.dumps(table, indent=2))):
        tmp = os.path.join(spec["output_dir"], name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(spec["output_dir"], name))
    print(md)
    sys.exit(1 if table["problems"] else 0)


if __name__ == "__main__":
    main()
