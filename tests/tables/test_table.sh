#!/usr/bin/env bash
# scripts/table.py: aggregation (mean, sample std, average over tasks, best sweep point) checked
# on fabricated run folders, broken folders reported and left out of the means; and a real grid
# (lntune train on the fixture BERT, a small CSV task) killed mid-way and rerun: only the missing
# cells run, finished ones are reused untouched.
# usage: test_table.sh <lntune binary> <fixtures dir>
# Python with torch (Debian's python3-torch here; LNTUNE_PYTHON elsewhere, e.g. the GPU machine's venv).
py3=${LNTUNE_PYTHON:-/usr/bin/python3}
source "$(dirname "$0")/../cli/lib.sh"
table=$(cd "$(dirname "$0")/../.." && pwd)/scripts/table.py
py=python3

# --- 1. aggregation on fabricated folders -------------------------------------------------
fab() {  # fab <run dir> <metric> <value> <trainable %>
  mkdir -p "$1"
  printf '{"metric": "%s", "best": {"%s": %s}, "trainable_percent": %s}\n' "$2" "$2" "$3" "$4" > "$1/results.json"
}
out=$work/agg
cat > "$work/agg.json" <<JSON
{"name": "fab", "tasks": ["rte", "cola"], "methods": ["ln", "full"], "seeds": [1, 2, 3],
 "sweep": {"train.lr": [0.001, 0.0005]}, "output_dir": "$out"}
JSON
# ln: rte lr=0.001 -> 0.60 0.62 0.64 (mean 0.62, std 0.02); lr=0.0005 -> 0.50 x3; cola lr=0.0005 -> 0.30 0.40 0.50
for s in 1 2 3; do
  fab "$out/rte/ln/lr=0.0005/seed$s" accuracy 0.5 0.041
  fab "$out/cola/ln/lr=0.001/seed$s" mcc 0.1 0.041
done
fab "$out/rte/ln/lr=0.001/seed1" accuracy 0.60 0.041
fab "$out/rte/ln/lr=0.001/seed2" accuracy 0.62 0.041
fab "$out/rte/ln/lr=0.001/seed3" accuracy 0.64 0.041
fab "$out/cola/ln/lr=0.0005/seed1" mcc 0.30 0.041
fab "$out/cola/ln/lr=0.0005/seed2" mcc 0.40 0.041
fab "$out/cola/ln/lr=0.0005/seed3" mcc 0.50 0.041
# full: rte complete at lr=0.001 (0.7 x2 + a broken third), cola nothing -> no average
fab "$out/rte/full/lr=0.001/seed1" accuracy 0.7 100
fab "$out/rte/full/lr=0.001/seed2" accuracy 0.7 100
mkdir -p "$out/rte/full/lr=0.001/seed3" && echo '{"metric": "accuracy", "best": {}}' > "$out/rte/full/lr=0.001/seed3/results.json"
$py "$table" --spec "$work/agg.json" --aggregate-only > "$work/agg.md" 2> "$work/agg.err"
rc=$?
[ $rc = 1 ] && ok || bad "aggregation with broken/missing cells should exit 1, got $rc"
$py - "$out/table.json" <<'PY' && ok || bad "aggregated numbers (see above)"
import json, math, sys
t = json.load(open(sys.argv[1]))
ln, full = t["methods"]
def near(a, b): return abs(a - b) < 1e-9
c = ln["cells"]["rte"]
assert c["sweep"] == "lr=0.001" and near(c["mean"], 0.62) and near(c["std"], 0.02) and c["n"] == 3, c
c = ln["cells"]["cola"]
assert c["sweep"] == "lr=0.0005" and near(c["mean"], 0.4) and near(c["std"], 0.1), c
assert near(ln["average"], 0.51), ln["average"]
assert near(ln["trainable_percent"], 0.041)
c = full["cells"]["rte"]
assert c["n"] == 2 and not c["complete"] and near(c["mean"], 0.7), c
assert full["cells"]["cola"] is None and full["average"] is None
broken = [p for p in t["problems"] if "broken" in p["problem"]]
assert len(broken) == 1 and broken[0]["run"].endswith("rte/full/lr=0.001/seed3"), t["problems"]
assert sum(p["problem"] == "missing" for p in t["problems"]) == 9, t["problems"]  # full: 3 rte lr=0.0005 + 6 cola
PY
grep -q "| ln | 0.041 | 62.0 ± 2.0 \[lr=0.001\] | 40.0 ± 10.0 \[lr=0.0005\] | 51.0 |" "$out/table.md" && ok || bad "table.md row: $(grep '| ln' "$out/table.md")"
grep -q "(2 of 3 seeds)" "$out/table.md" && grep -q "seed3\`: broken" "$out/table.md" && ok || bad "table.md does not report the incomplete/broken cells"
! grep -q "every metric" "$out/table.md" && ok || bad "a one-metric table got an every-metric table"
# Every sweep point, not only the best: ln tried two rates (bold: the reported one); full's one
# finished point is no sweep and gets no row.
grep -q "^| ln | lr=0.001 | \*\*62.0 ± 2.0\*\* (lr 0.001) | 10.0 ± 0.0 (lr 0.001) |$" "$out/table.md" &&
  grep -q "^| ln | lr=0.0005 | 50.0 ± 0.0 (lr 0.0005) | \*\*40.0 ± 10.0\*\* (lr 0.0005) |$" "$out/table.md" &&
  ! grep -q "^| full | lr=" "$out/table.md" && ok || bad "sweep point table: $(grep -A6 'Every sweep' "$out/table.md")"

# The reported point is one every seed finished, ahead of a higher mean from fewer seeds.
pick=$work/pick
echo "{\"name\": \"pick\", \"tasks\": [\"rte\"], \"methods\": [\"ln\"], \"seeds\": [1, 2], \"sweep\": {\"train.lr\": [0.001, 0.0005]}, \"output_dir\": \"$pick\"}" > "$work/pick.json"
fab "$pick/rte/ln/lr=0.001/seed1" accuracy 0.6 0.041
fab "$pick/rte/ln/lr=0.001/seed2" accuracy 0.6 0.041
fab "$pick/rte/ln/lr=0.0005/seed1" accuracy 0.9 0.041
$py "$table" --spec "$work/pick.json" --aggregate-only > /dev/null 2>&1
grep -q "^| ln | 0.041 | 60.0 ± 0.0 \[lr=0.001\] | 60.0 |$" "$pick/table.md" &&
  grep -q "^| ln | lr=0.0005 | 90.0 (lr 0.0005; 1 of 2 seeds) |$" "$pick/table.md" && ok || bad "best point from fewer seeds: $(cat "$pick/table.md")"

# A generation task's runs report four metrics: a second table has them all at the reported
# point, mean over seeds (BLEU and ROUGE-L x 100, NIST and CIDEr as they are).
gen=$work/gen
cat > "$work/gen.json" <<JSON
{"name": "gen", "tasks": ["e2e"], "methods": ["ln", "full"], "seeds": [1, 2], "output_dir": "$gen"}
JSON
fab4() {  # fab4 <run dir> <bleu> <nist> <rouge_l> <cider>
  mkdir -p "$1"
  printf '{"metric": "bleu", "best": {"bleu": %s, "cider": %s, "nist": %s, "rouge_l": %s}, "trainable_percent": 1}\n' "$2" "$5" "$3" "$4" > "$1/results.json"
}
fab4 "$gen/e2e/ln/default/seed1" 0.10 2.0 0.30 0.5
fab4 "$gen/e2e/ln/default/seed2" 0.20 3.0 0.40 1.5
fab4 "$gen/e2e/full/default/seed1" 0.40 5.0 0.50 2.25
fab4 "$gen/e2e/full/default/seed2" 0.40 5.0 0.50 2.25
$py "$table" --spec "$work/gen.json" --aggregate-only > /dev/null 2> "$work/gen.err" && ok || bad "every-metric table: $(cat "$work/gen.err")"
grep -q "^| method | bleu | nist | rouge_l | cider |$" "$gen/table.md" &&
  grep -q "^| ln | 15.0 | 2.50 | 35.0 | 1.00 |$" "$gen/table.md" &&
  grep -q "^| full | 40.0 | 5.00 | 50.0 | 2.25 |$" "$gen/table.md" && ok || bad "every-metric table: $(cat "$gen/table.md")"

# --tasks keeps only the named tasks: the rte half of the same folders, complete for ln.
$py "$table" --spec "$work/agg.json" --aggregate-only --tasks rte > /dev/null 2> "$work/tasks.err"
$py - "$out/table.json" <<'PY' && ok || bad "--tasks rte table (see above)"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["tasks"] == ["rte"], t["tasks"]
ln = t["methods"][0]
assert list(ln["cells"]) == ["rte"] and abs(ln["average"] - 0.62) < 1e-9, ln
assert all("/cola/" not in p["run"] for p in t["problems"]), t["problems"]
PY
$py "$table" --spec "$work/agg.json" --aggregate-only --tasks rte,qnli > /dev/null 2> "$work/tasks.err"
[ $? = 1 ] && grep -q "^table: error: --tasks rte,qnli: qnli not in .*agg.json's tasks (rte, cola)" "$work/tasks.err" && ok || bad "--tasks with an unknown task: $(cat "$work/tasks.err")"

# --seeds keeps only the named seeds: seeds 1 and 2 leave out full's broken third rte seed, so
# full's rte cell is complete (2 of 2) and ln's rte mean is over 0.60 and 0.62 alone.
$py "$table" --spec "$work/agg.json" --aggregate-only --seeds 2,1 > /dev/null 2> "$work/seeds.err"
$py - "$out/table.json" <<'PY' && ok || bad "--seeds 2,1 table (see above)"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["seeds"] == [1, 2], t["seeds"]
ln, full = t["methods"]
assert abs(ln["cells"]["rte"]["mean"] - 0.61) < 1e-9 and ln["cells"]["rte"]["n"] == 2, ln["cells"]["rte"]
assert full["cells"]["rte"]["complete"], full["cells"]["rte"]
assert not any("broken" in p["problem"] or p["run"].endswith("seed3") for p in t["problems"]), t["problems"]
PY
# One seed: the bare mean, no "± 0.0".
$py "$table" --spec "$work/agg.json" --aggregate-only --seeds 1 > /dev/null 2>&1
grep -q "| ln | 0.041 | 60.0 \[lr=0.001\] | 30.0 \[lr=0.0005\] | 45.0 |" "$out/table.md" && ok || bad "one-seed row: $(grep '| ln' "$out/table.md")"
$py "$table" --spec "$work/agg.json" --aggregate-only --seeds 1,7 > /dev/null 2> "$work/seeds.err"
[ $? = 1 ] && grep -q "^table: error: --seeds 1,7: 7 not in .*agg.json's seeds (1, 2, 3)" "$work/seeds.err" && ok || bad "--seeds with an unknown seed: $(cat "$work/seeds.err")"

# --- 1b. the efficiency table ("report": "time") on fabricated folders -------------------------
fabt() {  # fabt <run dir> <seconds per epoch> <peak MB>
  mkdir -p "$1"
  printf '{"metric": "accuracy", "best": {"accuracy": 0.5}, "trainable_percent": 1, "train_seconds_per_epoch": %s, "peak_rss_mb": %s}\n' "$2" "$3" > "$1/results.json"
}
tout=$work/time
cat > "$work/time.json" <<JSON
{"name": "t", "report": "time", "tasks": ["rte"], "methods": ["full", "ln"], "seeds": [1, 2], "output_dir": "$tout"}
JSON
fabt "$tout/rte/full/default/seed1" 10 1000
fabt "$tout/rte/full/default/seed2" 14 1200
# A GPU run records the allocator's peak as peak_memory_mb beside the process RSS: that one counts.
mkdir -p "$tout/rte/ln/default/seed1"
echo '{"metric": "accuracy", "best": {"accuracy": 0.5}, "trainable_percent": 1, "train_seconds_per_epoch": 8, "peak_rss_mb": 3000, "peak_memory_mb": 500}' > "$tout/rte/ln/default/seed1/results.json"
mkdir -p "$tout/rte/ln/default/seed2" && echo '{"metric": "accuracy", "best": {"accuracy": 0.5}}' > "$tout/rte/ln/default/seed2/results.json"
$py "$table" --spec "$work/time.json" --aggregate-only > /dev/null 2> "$work/time.err"
[ $? = 1 ] && ok || bad "time table with a cell lacking timings should exit 1"
$py - "$tout/table.json" <<'PY' && ok || bad "time table numbers (see above)"
import json, sys
t = json.load(open(sys.argv[1]))
full, ln = (r["cells"]["rte"] for r in t["methods"])
assert full["seconds_per_epoch"] == 12 and full["peak_mb"] == 1100 and full["time_vs_full"] == 1, full
assert ln["n"] == 1 and abs(ln["time_vs_full"] - 8 / 12) < 1e-9 and abs(ln["memory_vs_full"] - 500 / 1100) < 1e-9, ln
assert [p["problem"] for p in t["problems"]] == ["no time/memory in results.json"], t["problems"]
PY
grep -q "| ln | 1.000 | 8.0 (0.67x) | 500 (0.45x) |" "$tout/table.md" && ok || bad "time table.md row: $(grep '| ln' "$tout/table.md")"

# --- 2. a real grid, killed mid-way, rerun -------------------------------------------------
gen() {
  awk -v n="$1" -v s="$2" 'BEGIN { srand(s); print "text,label";
    split("the film movie plot is very not an", w, " ");
    for (i = 0; i < n; i++) { t = ""; for (k = 0; k < 5; k++) t = t w[1 + int(rand() * 8)] " ";
      y = rand() < 0.5; print t (y ? "good" : "bad") " " w[1 + int(rand() * 8)] "," y } }'
}
mkdir -p "$work/configs/toy"
gen 64 1 > "$work/train.csv"
gen 32 2 > "$work/dev.csv"
for m in ln bitfit; do
  cat > "$work/configs/toy/$m.json" <<JSON
{"model": {"path": "$fx/bert_seq_cls"},
 "task": {"name": "csv", "train_file": "$work/train.csv", "dev_file": "$work/dev.csv", "num_labels": 2, "max_length": 16},
 "method": {"name": "$m"}, "train": {"epochs": 2, "batch_size": 16, "lr": 0.001}}
JSON
done
grid=$work/grid
cat > "$work/grid.json" <<JSON
{"name": "toy", "tasks": ["toy"], "methods": ["ln", "bitfit"], "seeds": [1, 2, 3], "configs_dir": "$work/configs",
 "output_dir": "$grid"}
JSON
export OMP_NUM_THREADS=1
setsid $py "$table" --spec "$work/grid.json" --lntune "$lntune" > /dev/null 2> "$work/grid1.err" &
pid=$!
for _ in $(seq 600); do
  [ "$(find "$grid" -name results.json 2> /dev/null | wc -l)" -ge 2 ] && break
  sleep 0.1
done
kill -TERM -- -"$pid" 2> /dev/null
wait "$pid" 2> /dev/null
done_before=$(find "$grid" -name results.json | sort)
n_before=$(wc -l <<< "$done_before")
[ "$n_before" -ge 2 ] && [ "$n_before" -lt 6 ] && ok || bad "the kill should leave a partial grid, found $n_before finished cells"
stamps_before=$(for f in $done_before; do stat -c '%n %Y %i' "$f"; done)
sleep 1
# --jobs gives each cell its share of the cores, unless the caller chose threads.
env -u OMP_NUM_THREADS -u LNTUNE_THREADS -u LNTUNE_CORES -u OPENBLAS_NUM_THREADS $py - "$table" <<'PY' && ok || bad "cell_env (see above)"
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("table", sys.argv[1])
t = importlib.util.module_from_spec(spec)
spec.loader.exec_module(t)
share = str(max(1, os.cpu_count() // 2))
e = t.cell_env(2)
assert e["LNTUNE_CORES"] == share and e["OPENBLAS_NUM_THREADS"] == share, e
assert "LNTUNE_CORES" not in t.cell_env(1)
os.environ["OMP_NUM_THREADS"] = "1"
assert "LNTUNE_CORES" not in t.cell_env(2)
PY
# The rerun runs two cells at a time: the same cells, the same table.
$py "$table" --spec "$work/grid.json" --lntune "$lntune" --jobs 2 > "$work/grid.md" 2> "$work/grid2.err" || bad "rerun failed: $(tail -3 "$work/grid2.err")"
[ "$(find "$grid" -name results.json | wc -l)" = 6 ] && ok || bad "the rerun did not finish the grid"
stamps_after=$(for f in $done_before; do stat -c '%n %Y %i' "$f"; done)
[ "$stamps_before" = "$stamps_after" ] && ok || bad "finished cells were rerun"
[ "$(grep -c ': cached' "$work/grid2.err")" = "$n_before" ] && [ "$(grep -cE ': (ran|resumed)' "$work/grid2.err")" = $((6 - n_before)) ] && ok ||
  bad "rerun statuses: $(cat "$work/grid2.err")"
# Cells that ran say how long they took; once one has run, the lines before the last say how
# long the rest should take (with two or more cells to run, one such line is certain).
grep -qE ': (ran|resumed) \([0-9]+\.[0-9] min\)' "$work/grid2.err" && ! tail -1 "$work/grid2.err" | grep -q "left" &&
  { [ "$n_before" -gt 4 ] || grep -E '^\[[1-5]/6\]' "$work/grid2.err" | grep -E ': (ran|resumed) ' | grep -qE '; ~[0-9]+ min left$'; } && ok ||
  bad "grid timings: $(cat "$work/grid2.err")"
grep -qE "^\| ln \| [0-9.]+ \| [0-9.]+ ± [0-9.]+ \| [0-9.]+ \|$" "$work/grid.md" && grep -q "| bitfit |" "$work/grid.md" && ! grep -q "seeds)" "$work/grid.md" && ok || bad "grid table: $(cat "$work/grid.md")"

# A relative sweep: x1 is the finished "default" cell (reused), x2 runs at twice each method's own
# rate (the configs' 0.001 -> 0.002, in the run's resolved config).
$py "$table" --spec "$work/grid.json" --lntune "$lntune" --seeds 1 --sweep train.lr=x1,x2 > /dev/null 2> "$work/rel.err" || bad "relative sweep failed: $(tail -3 "$work/rel.err")"
[ "$(grep -c ': cached' "$work/rel.err")" = 2 ] && [ "$(grep -c 'lr=x2 / seed 1: ran' "$work/rel.err")" = 2 ] && ok || bad "relative sweep statuses: $(cat "$work/rel.err")"
# Its table lists both points with the rate each ran at (x1: the config's), in table.json too.
$py - "$grid/table.json" <<'PY' && grep -qE "^\| ln \| lr=x2 \| [*0-9. ±-]+ \(lr 0.002\) \|$" "$grid/table.md" && ok || bad "relative sweep points: $(grep -A5 'Every sweep' "$grid/table.md")"
import json, sys
ln = json.load(open(sys.argv[1]))["methods"][0]
pts = [(p["sweep"], p["values"], p["n"]) for p in ln["points"]["toy"]]
assert pts == [("default", {"train.lr": 0.001}, 1), ("lr=x2", {"train.lr": 0.002}, 1)], pts
PY
$py - "$grid/toy/ln/lr=x2/seed1/config.json" "$table" "$work/configs/toy/ln.json" <<'PY' && ok || bad "relative sweep values (see above)"
import importlib.util, json, sys
assert json.load(open(sys.argv[1]))["train"]["lr"] == 0.002, json.load(open(sys.argv[1]))["train"]
spec = importlib.util.spec_from_file_location("table", sys.argv[2])
t = importlib.util.module_from_spec(spec)
spec.loader.exec_module(t)
cfg = sys.argv[3], json.load(open(sys.argv[3]))
assert t.resolve_point({"train.lr": "x0.5"}, {}, *cfg) == {"train.lr": 0.0005}
assert t.resolve_point({"train.lr": "x3"}, {"train.lr": 0.01}, *cfg) == {"train.lr": 0.03}  # a spec/method set is the base
assert t.resolve_point({"train.lr": "x1", "train.epochs": 5}, {}, *cfg) == {"train.epochs": 5}
assert t.point_name({"train.lr": "x1"}) == "default" and t.point_name({"train.lr": "x1", "train.epochs": 5}) == "epochs=5"
try:
    t.resolve_point({"train.warmup_steps": "x2"}, {}, *cfg)
    raise AssertionError("a key the config lacks should not scale")
except ValueError as e:
    assert "has no number at train.warmup_steps" in str(e), e
PY
$py "$table" --spec "$work/grid.json" --aggregate-only --sweep train.lr=x1,xfast > /dev/null 2> "$work/rel.err"
[ $? = 1 ] && grep -q "^table: error: --sweep train.lr: 'xfast' is not a factor x<positive number>" "$work/rel.err" && ok || bad "a bad factor: $(cat "$work/rel.err")"

# The time left counts the cells still to train, not the finished ones after them: here each
# method's x2 point (one cell finished above, one to run) comes before its finished default cells.
$py "$table" --spec "$work/grid.json" --lntune "$lntune" --seeds 1,3 --sweep train.lr=x2,x1 > /dev/null 2> "$work/left.err"
grep -q "^\[2/8\] toy / ln / lr=x2 / seed 3: ran (.*); ~[0-9.]* \(min\|h\) left$" "$work/left.err" &&
  grep -q "^\[6/8\] toy / bitfit / lr=x2 / seed 3: ran ([0-9.]* min)$" "$work/left.err" &&
  [ "$(grep -c 'left$' "$work/left.err")" = 4 ] && ok || bad "time left: $(cat "$work/left.err")"

# One process runs a cell: a cell locked by a live process is left to it ("busy"), a lock whose
# process has died is taken over, and no lock is left behind.
host=$($py -c 'import socket; print(socket.gethostname())')
mkdir -p "$grid/toy/ln/lr=x3"
sleep 60 & holder=$!
echo "$holder $host" > "$grid/toy/ln/lr=x3/seed2.lock"
$py "$table" --spec "$work/grid.json" --lntune "$lntune" --seeds 2 --sweep train.lr=x3 > /dev/null 2> "$work/lock.err"
grep -q "toy / ln / lr=x3 / seed 2: busy: process $holder is running it" "$work/lock.err" && grep -q "toy / bitfit / lr=x3 / seed 2: ran" "$work/lock.err" &&
  [ ! -f "$grid/toy/ln/lr=x3/seed2/results.json" ] && ok || bad "a locked cell: $(cat "$work/lock.err")"
kill "$holder"; wait "$holder" 2> /dev/null
$py "$table" --spec "$work/grid.json" --lntune "$lntune" --seeds 2 --sweep train.lr=x3 > /dev/null 2> "$work/lock.err"
grep -q "toy / ln / lr=x3 / seed 2: ran" "$work/lock.err" && [ -z "$(find "$grid" -name '*.lock')" ] && ok || bad "a dead process's lock: $(cat "$work/lock.err"; find "$grid" -name '*.lock')"

# The plots draw from these run folders: LN change per layer, score vs trainable %, curves.
ln_cell=$(dirname "$(find "$grid/toy/ln" -name results.json | head -1)")
"$py3" "$(dirname "$table")/plot_runs.py" ln-deltas "$ln_cell" "$work/d.png" > /dev/null 2> "$work/plot.err" &&
  "$py3" "$(dirname "$table")/plot_runs.py" scatter "$grid/table.json" "$work/s.png" > /dev/null 2>> "$work/plot.err" &&
  "$py3" "$(dirname "$table")/plot_runs.py" curves "$work/c.png" "$ln_cell" > /dev/null 2>> "$work/plot.err" &&
  [ -s "$work/d.png" ] && [ -s "$work/s.png" ] && [ -s "$work/c.png" ] && ok || bad "plots: $(tail -3 "$work/plot.err")"
# Curves name each run by what tells the runs apart and plot the task's own metric (the toy
# task's results.json says accuracy; a CoLA-like run without results.json falls back to mcc).
mkdir -p "$work/noresults" && printf '{"step":1,"loss":0.7}\n{"step":2,"eval":{"accuracy":0.7,"mcc":0.1}}\n' > "$work/noresults/metrics.jsonl"
"$py3" - "$(dirname "$table")" "$ln_cell" "$work/noresults" <<'PY' && ok || bad "plot_runs labels/metric (see above)"
import sys
sys.path.insert(0, sys.argv[1])
import plot_runs as p
assert p.run_labels(["g/cola/full/d/seed42", "g/cola/ln/d/seed42"]) == ["full", "ln"]
assert p.run_labels(["g/cola/ln/d/seed42", "g/cola/ln/d/seed43"]) == ["seed42", "seed43"]
assert p.run_labels(["g/rte/ln/s1", "g/cola/ln/s1"]) == ["rte", "cola"]
assert p.run_labels(["runs/x/seed42"]) == ["x/seed42"]
assert p.run_metric(sys.argv[2], {"accuracy": 0.5, "mcc": 0.1}) == "accuracy", p.run_metric(sys.argv[2], {"accuracy": 0.5, "mcc": 0.1})
assert p.run_metric(sys.argv[3], {"accuracy": 0.7, "mcc": 0.1}) == "mcc"
assert p.run_metric(sys.argv[3], {"pearson": 0.7, "spearman": 0.1}) == "pearson"
# Scatter error bars: the std over seeds of each seed's average over tasks; none when incomplete.
row = {"cells": {"a": {"complete": True, "values": [0.1, 0.2, 0.3]}, "b": {"complete": True, "values": [0.3, 0.2, 0.1]}}}
assert abs(p.seed_spread(row)) < 1e-12  # every seed averages 0.2
row["cells"]["b"]["values"] = [0.1, 0.2, 0.3]
assert abs(p.seed_spread(row) - 0.1) < 1e-12, p.seed_spread(row)
row["cells"]["b"]["complete"] = False
assert p.seed_spread(row) is None
assert p.seed_spread({"cells": {"a": {"complete": True, "values": [0.5]}}}) is None
PY

# Specs share finished cells through cells_dir (a method's "cell" names the folder): "ln (all)"
# reuses the toy grid's ln cells without running anything; "ln (bias)" pointed at the same
# folders is refused as stale (they ran with both terms), not reported under the wrong settings.
cat > "$work/shared.json" <<JSON
{"name": "shared", "tasks": ["toy"], "seeds": [1, 2, 3], "configs_dir": "$work/configs",
 "cells_dir": "$grid", "output_dir": "$work/shared",
 "methods": [{"label": "ln (all)", "config": "ln", "cell": "ln"},
             {"label": "ln (bias)", "config": "ln", "cell": "ln", "set": {"method.terms": "bias"}}]}
JSON
$py "$table" --spec "$work/shared.json" --lntune /bin/false > "$work/shared.md" 2> "$work/shared.err"
rc=$?
[ $rc = 1 ] && [ "$(grep -c 'ln (all) / default / seed [123]: cached' "$work/shared.err")" = 3 ] &&
  [ "$(grep -c 'ln (bias) / default / seed [123]: stale: ran with method.terms="both", the spec asks "bias"' "$work/shared.err")" = 3 ] && ok ||
  bad "shared cells (exit $rc): $(cat "$work/shared.err")"
$py "$table" --spec "$work/shared.json" --check 2>&1 | grep -q "shared.json: 6 cells, 1 configs, all present; 3 finished, 3 stale, 0 to run" && ok ||
  bad "--check counts: $($py "$table" --spec "$work/shared.json" --check 2>&1)"
$py - "$work/shared/table.json" "$grid" <<'PY' && ok || bad "shared-cell table (see above)"
import json, sys
t = json.load(open(sys.argv[1]))
all_, bias = t["methods"]
runs = [f"{sys.argv[2]}/toy/ln/default/seed{k}" for k in (1, 2, 3)]
vals = [json.load(open(r + "/results.json"))["best"]["accuracy"] for r in runs]
assert all_["cells"]["toy"]["n"] == 3 and abs(all_["cells"]["toy"]["mean"] - sum(vals) / 3) < 1e-9, all_
assert bias["cells"]["toy"] is None and sum("stale" in p["problem"] for p in t["problems"]) == 3, t["problems"]
PY

# A config edited after its cells ran makes them stale too (here bitfit's rate), until --force.
sed -i 's/"lr": 0.001/"lr": 0.003/' "$work/configs/toy/bitfit.json"
$py "$table" --spec "$work/grid.json" --aggregate-only > /dev/null 2> /dev/null
$py - "$grid/table.json" <<'PY' && ok || bad "an edited config's cells should be stale (see above)"
import json, sys
t = json.load(open(sys.argv[1]))
stale = [p for p in t["problems"] if "stale: ran with train.lr=0.001, the spec asks 0.003" in p["problem"]]
assert len(stale) == 3 and all("/bitfit/" in p["run"] for p in stale), t["problems"]
assert t["methods"][0]["cells"]["toy"]["n"] == 3, t["methods"][0]  # ln untouched
PY
sed -i 's/"lr": 0.003/"lr": 0.001/' "$work/configs/toy/bitfit.json"

# Finished cells are recorded (small files, with the model's fingerprint) and survive the loss of
# the run folders: a fresh machine reuses them without running anything; once model.path holds
# other weights they are stale.
cp -r "$fx/bert_seq_cls" "$work/model"
cat > "$work/rec.json" <<JSON
{"name": "rec", "tasks": ["toy"], "methods": ["ln"], "seeds": [1, 2], "configs_dir": "$work/configs",
 "set": {"model.path": "$work/model"}, "output_dir": "$work/rec", "record_dir": "$work/record"}
JSON
$py "$table" --spec "$work/rec.json" --lntune "$lntune" > /dev/null 2> "$work/rec.err" || bad "recorded grid failed: $(tail -3 "$work/rec.err")"
$py - "$work/record/toy/ln/default" "$work/rec/toy/ln/default" "$work/model" <<'PY' && ok || bad "records (see above)"
import hashlib, json, os, sys
rec, run, model = sys.argv[1:]
for s in ("seed1", "seed2"):
    names = sorted(os.listdir(os.path.join(rec, s)))
    assert names == ["config.json", "metrics.jsonl", "model.json", "results.json"], names
    for n in names:
        assert open(os.path.join(rec, s, n), "rb").read() == open(os.path.join(run, s, n), "rb").read(), n
    h = hashlib.sha256()
    for f in ("config.json", "model.safetensors"):
        h.update(f.encode() + b"\0" + open(os.path.join(model, f), "rb").read())
    assert json.load(open(os.path.join(rec, s, "model.json")))["sha256"] == h.hexdigest()
PY
cp "$work/rec/table.json" "$work/rec-table-before.json"
rm -rf "$work/rec"
$py "$table" --spec "$work/rec.json" --check 2>&1 | grep -q "2 cells, 1 configs, all present; 2 finished, 0 stale, 0 to run" &&
  [ ! -e "$work/rec" ] && ok || bad "--check on records (counts them, writes nothing): $($py "$table" --spec "$work/rec.json" --check 2>&1; ls "$work/rec" 2>&1)"
$py "$table" --spec "$work/rec.json" --lntune /bin/false > /dev/null 2> "$work/rec.err"
[ $? = 0 ] && [ "$(grep -c 'ln / default / seed [12]: cached' "$work/rec.err")" = 2 ] &&
  cmp -s <($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["methods"])' "$work/rec/table.json") \
         <($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["methods"])' "$work/rec-table-before.json") && ok ||
  bad "restored cells: $(cat "$work/rec.err")"
printf ' ' >> "$work/model/config.json"  # other weights at the same path
$py "$table" --spec "$work/rec.json" --lntune /bin/false > /dev/null 2> "$work/rec.err"
[ $? = 1 ] && [ "$(grep -c 'seed [12]: stale: trained from other weights (sha256 [0-9a-f]\{12\}), .*/model now holds [0-9a-f]\{12\}' "$work/rec.err")" = 2 ] && ok ||
  bad "a changed model: $(cat "$work/rec.err")"
rm -rf "$work/model" "$work/rec"
$py "$table" --spec "$work/rec.json" --aggregate-only > /dev/null 2> "$work/rec.err" && [ -s "$work/rec/table.json" ] && ok ||
  bad "records without the model should aggregate as they are: $(cat "$work/rec.err")"
# Shipped specs record under results/ what they keep under runs/.
$py - "$table" <<'PY' && ok || bad "default record_dir (see above)"
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("table", sys.argv[1])
t = importlib.util.module_from_spec(spec)
spec.loader.exec_module(t)
assert t.default_record_dir("runs/tables/main") == os.path.join(t.ROOT, "results", "tables", "main")
assert t.default_record_dir("/tmp/x") == "" and t.default_record_dir("elsewhere/x") == ""
PY

# --- 3. spec errors -------------------------------------------------------------------------
echo '{"tasks": ["rte"], "methods": ["ln"], "seeds": [1], "epochs": 3}' > "$work/bad.json"
$py "$table" --spec "$work/bad.json" --aggregate-only > /dev/null 2> "$work/bad.err"
[ $? = 1 ] && grep -q "bad.json: epochs: unknown key" "$work/bad.err" && ok || bad "unknown spec key: $(cat "$work/bad.err")"

$py "$table" --spec "$work/time.json" --jobs 2 > /dev/null 2> "$work/jobs.err"
[ $? = 1 ] && grep -q "time.json is a time table, whose cells must run alone" "$work/jobs.err" && ok || bad "--jobs 2 on a time table: $(cat "$work/jobs.err")"

finish
