#!/usr/bin/env bash
# lntune predict on finished runs: the dev set gives exactly the metrics training recorded for the
# best weights; the same examples in a file without labels (csv, and GLUE's test.tsv layout) give
# the same predictions, written with the run's label names; `lntune export` writes the run as a
# plain model folder; bad use is one error line.
# usage: test_predict.sh <lntune binary> <fixtures dir> <shared dir>
source "$(dirname "$0")/lib.sh"
shared=$3
export OMP_NUM_THREADS=1
# Sentences whose label follows from one word, so that the tiny model learns to vary its answers.
gen() {
  awk -v n="$1" -v s="$2" -v lab="$3" 'BEGIN { srand(s); print "text" (lab ? ",label" : "");
    split("the film movie plot is very not an", w, " ");
    for (i = 0; i < n; i++) { t = ""; for (k = 0; k < 5; k++) t = t w[1 + int(rand() * 8)] " ";
      y = rand() < 0.5; print t (y ? "good" : "bad") " " w[1 + int(rand() * 8)] (lab ? "," (y ? "pos" : "neg") : "") } }'
}
gen 96 1 1 > "$work/train.csv"
gen 40 2 1 > "$work/dev.csv"
gen 40 2 0 > "$work/dev_nolabel.csv"   # the same sentences (same seed), no label column
cat > "$work/csv.json" <<JSON
{"model": {"path": "$fx/bert_seq_cls"},
 "task": {"name": "csv", "train_file": "$work/train.csv", "dev_file": "$work/dev.csv", "num_labels": 2, "max_length": 16},
 "method": {"name": "lora", "r": 4}, "train": {"epochs": 5, "batch_size": 8, "lr": 0.01, "seed": 5}}
JSON
# 5 epochs: the checks below need a model that learned the rule (both classes predicted). At 3
# epochs about half the seeds still predicted one class, with either dropout impl.
"$lntune" train --config "$work/csv.json" --set output_dir="$work/csv" > /dev/null 2> "$work/csv.err" || bad "csv run failed: $(tail -1 "$work/csv.err")"
"$lntune" predict --run "$work/csv" > "$work/p1.json" 2> "$work/p1.err" || bad "predict failed: $(tail -1 "$work/p1.err")"
# 1. The dev set: the metrics results.json recorded for the best weights, to the last digit.
py=${LNTUNE_PYTHON:-/usr/bin/python3}  # Python with torch (LNTUNE_PYTHON elsewhere)
$py - "$work/csv/results.json" "$work/p1.json" <<'PY' && ok || bad "dev metrics differ from the run's best"
import json, sys
best = json.load(open(sys.argv[1]))["best"]
got = json.load(open(sys.argv[2]))["metrics"]
assert got == {k: v for k, v in best.items() if k in got} and set(got) == {"accuracy", "f1"}, (best, got)
PY
p1=$work/csv/predictions.tsv
[ "$(head -1 "$p1")" = "$(printf 'index\tprediction')" ] && [ "$(tail -n +2 "$p1" | wc -l)" = 40 ] && ok || bad "predictions.tsv: header and 40 rows expected"
[ "$(tail -n +2 "$p1" | cut -f2 | sort -u | tr '\n' ' ')" = "neg pos " ] && ok || bad "expected both label names among the predictions: $(tail -n +2 "$p1" | cut -f2 | sort | uniq -c | tr '\n' ' ')"
# 2. The same sentences without labels: the same predictions, no metrics.
"$lntune" predict --run "$work/csv" --file "$work/dev_nolabel.csv" --out "$work/p2.tsv" > "$work/p2.json" 2> /dev/null &&
  cmp -s "$p1" "$work/p2.tsv" && grep -q '"metrics": null' "$work/p2.json" && ok || bad "unlabelled file: other predictions or metrics"
# 2b. --probs: a probability column per label name, rows summing to 1, the argmax the prediction.
"$lntune" predict --run "$work/csv" --probs --out "$work/p4.tsv" > /dev/null 2>&1 &&
  $py - "$work/p4.tsv" "$p1" <<'PY' && ok || bad "--probs: columns, sums or argmax wrong"
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
plain = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
head = rows[0]
assert head[:2] == ["index", "prediction"] and sorted(head[2:]) == ["p_neg", "p_pos"], head
for r, q in zip(rows[1:], plain[1:]):
    p = [float(x) for x in r[2:]]
    assert abs(sum(p) - 1) < 2e-6, r
    assert head[2 + p.index(max(p))] == "p_" + r[1] and r[:2] == q, (r, q)
assert len(rows) == len(plain) == 41
PY
# 2c. The label names come from the run's results.json: predicting on a file reads no training data.
grep -q '"label_names"' "$work/csv/results.json" && mv "$work/train.csv" "$work/train.csv.away" &&
  "$lntune" predict --run "$work/csv" --file "$work/dev_nolabel.csv" --out "$work/p2c.tsv" > /dev/null 2> "$work/p2c.err" &&
  cmp -s "$p1" "$work/p2c.tsv" && ok || bad "predict without the training file: $(tail -1 "$work/p2c.err")"
[ -f "$work/train.csv.away" ] && mv "$work/train.csv.away" "$work/train.csv"
# 2d. Decoding flags are for generation runs: one line naming the run.
! "$lntune" predict --run "$work/csv" --num-beams 4 > /dev/null 2> "$work/p2d.err" &&
  grep -qF "decoding settings (--num-beams, ...) are for generation runs; $work/csv is a csv run" "$work/p2d.err" &&
  [ "$(grep -c error "$work/p2d.err")" = 1 ] && ok || bad "predict --num-beams on a csv run: $(cat "$work/p2d.err")"
# 3. A label the run never saw is an error naming it.
printf 'text,label\nthe film good,maybe\n' > "$work/new_label.csv"
"$lntune" predict --run "$work/csv" --file "$work/new_label.csv" > /dev/null 2> "$work/nl.err"
[ $? = 1 ] && grep -q "new_label.csv: label: 'maybe' is not a label the run was trained on" "$work/nl.err" && ok || bad "new label: $(cat "$work/nl.err")"
# 3a. A run on class indices (labels 1/0, as many CSVs give them): a file's labels are the same
#     indices (dev metrics as recorded, whatever label comes first), and must be below num_labels.
for f in train dev; do sed 's/,pos$/,1/; s/,neg$/,0/' "$work/$f.csv" > "$work/${f}_idx.csv"; done
"$lntune" train --config "$work/csv.json" --set task.train_file="$work/train_idx.csv" --set task.dev_file="$work/dev_idx.csv" \
  --set train.epochs=1 --set output_dir="$work/idx" > /dev/null 2> "$work/idx.err" || bad "index-label run failed: $(tail -1 "$work/idx.err")"
"$lntune" predict --run "$work/idx" --file "$work/dev_idx.csv" --out "$work/p5.tsv" > "$work/p5.json" 2> /dev/null &&
  $py -c "import json,sys; b=json.load(open(sys.argv[1]))['best']; g=json.load(open(sys.argv[2]))['metrics']; sys.exit(g != {k: b[k] for k in g})" \
    "$work/idx/results.json" "$work/p5.json" && ok || bad "index labels: predict's metrics differ from the run's best"
printf 'text,label\nthe film good,1\nthe plot bad,2\n' > "$work/idx_out.csv"
"$lntune" predict --run "$work/idx" --file "$work/idx_out.csv" > /dev/null 2> "$work/io.err"
[ $? = 1 ] && grep -qF "idx_out.csv: label: '2' is not a label the run was trained on (class indices 0-1)" "$work/io.err" && ok ||
  bad "index 2 on a 2-class run: $(cat "$work/io.err")"

# 3b. LoRA over a calibrated DyT conversion: the frozen norms are not saved, predict fits them again
#     on the same training examples, and the dev metrics still match.
"$lntune" train --config "$work/csv.json" --set model.norm.type=dyt --set model.norm.dyt_init=calibrated \
  --set output_dir="$work/csv_dyt" > /dev/null 2> /dev/null || bad "calibrated DyT run failed"
"$lntune" predict --run "$work/csv_dyt" > "$work/p3.json" 2> "$work/p3.err" && grep -q "dyt_init calibrated on 64 training examples" "$work/p3.err" &&
  $py -c "import json,sys; b=json.load(open(sys.argv[1]))['best']; g=json.load(open(sys.argv[2]))['metrics']; sys.exit(b != g)" \
    "$work/csv_dyt/results.json" "$work/p3.json" && ok || bad "calibrated DyT: predict's metrics differ from the run's best"
# 4. A GLUE run (RTE, real dev file): dev metrics as recorded; the dev sentences in the official
#    test.tsv layout (index, sentence1, sentence2) give the same predictions, as label names.
cat > "$work/rte.json" <<JSON
{"model": {"path": "$fx/bert_seq_cls"},
 "task": {"name": "rte", "data_dir": "$shared/data/glue/RTE", "max_train_examples": 64, "max_length": 48},
 "method": {"name": "ln"}, "train": {"epochs": 1, "batch_size": 16, "lr": 0.01}}
JSON
"$lntune" train --config "$work/rte.json" --set output_dir="$work/rte" > /dev/null 2> "$work/rte.err" || bad "rte run failed: $(tail -1 "$work/rte.err")"
"$lntune" predict --run "$work/rte" --out "$work/rte_dev.tsv" > "$work/r1.json" 2> /dev/null || bad "predict on rte failed"
$py - "$work/rte/results.json" "$work/r1.json" <<'PY' && ok || bad "rte dev accuracy differs from the run's best"
import json, sys
assert json.load(open(sys.argv[2]))["metrics"]["accuracy"] == json.load(open(sys.argv[1]))["best"]["accuracy"]
PY
{ printf 'index\tsentence1\tsentence2\n'; tail -n +2 "$shared/data/glue/RTE/dev.tsv" | cut -f1-3; } > "$work/test.tsv"
"$lntune" predict --run "$work/rte" --file "$work/test.tsv" --out "$work/rte_test.tsv" > "$work/r2.json" 2> /dev/null &&
  cmp -s "$work/rte_dev.tsv" "$work/rte_test.tsv" && grep -q '"metrics": null' "$work/r2.json" && ok ||
  bad "rte test layout: other predictions than on dev"
[ "$(tail -n +2 "$work/rte_test.tsv" | wc -l)" = 277 ] && tail -n +2 "$work/rte_test.tsv" | cut -f2 | grep -qvx -e entailment -e not_entailment; [ $? = 1 ] && ok ||
  bad "rte predictions: 277 rows of entailment / not_entailment expected"

# 5. lntune export: the LoRA run as a plain model folder (4 deltas merged), which `info` reads as
#    as a 2-label sequence classifier whose config names the run's labels; an adapter run is one error line (tests/train/test_export_run.cpp
#    checks the folder's outputs).
"$lntune" export --run "$work/csv" --out "$work/merged" > "$work/e1.json" 2> /dev/null && grep -q '"merged_lora": 4' "$work/e1.json" &&
  "$lntune" info --model "$work/merged" 2> /dev/null | grep -q "seq_cls (2 labels)" &&
  $py -c "import json,sys; c=json.load(open(sys.argv[1])); seen=[]
for f in sys.argv[2:]: seen += [l.rsplit(',', 1)[1].strip() for l in open(f).readlines()[1:]]
names = list(dict.fromkeys(seen)); sys.exit(c['id2label'] != {str(i): n for i, n in enumerate(names)} or len(names) != 2)" \
    "$work/merged/config.json" "$work/train.csv" "$work/dev.csv" && ok || bad "export of the LoRA run: $(cat "$work/e1.json")"
"$lntune" train --config "$work/csv.json" --set method='{"name": "adapter"}' --set output_dir="$work/csv_adapter" > /dev/null 2>&1
"$lntune" export --run "$work/csv_adapter" --out "$work/merged2" > /dev/null 2> "$work/e2.err"
[ $? = 1 ] && [ "$(grep -c 'error' "$work/e2.err")" = 1 ] && grep -q "csv_adapter: bert.*added by the run's method" "$work/e2.err" && [ ! -e "$work/merged2" ] && ok ||
  bad "export of an adapter run: $(cat "$work/e2.err")"

# 6. Bad use: one error line naming the folder or file.
"$lntune" predict --run "$work/nowhere" > /dev/null 2> "$work/b1.err"
[ $? = 1 ] && grep -q "nowhere: no config.json" "$work/b1.err" && ok || bad "missing run: $(cat "$work/b1.err")"
# A run folder where a model folder belongs (info --model, train's model.path): how to make one.
"$lntune" info --model "$work/csv" > /dev/null 2> "$work/b1b.err"
[ $? = 1 ] && [ "$(wc -l < "$work/b1b.err")" = 1 ] &&
  grep -qF "$work/csv: a run folder of lntune train, not a model folder: \`lntune export --run $work/csv --out DIR\` writes it as one" "$work/b1b.err" &&
  ok || bad "info on a run folder: $(cat "$work/b1b.err")"
"$lntune" predict --run "$work/rte" --file "$work/train.csv" > /dev/null 2> "$work/b2.err"
[ $? = 1 ] && grep -q "train.csv: a GLUE run predicts on a .tsv file" "$work/b2.err" && ok || bad "csv for a GLUE run: $(cat "$work/b2.err")"
mkdir -p "$work/half" && cp "$work/rte/config.json" "$work/half/" && cp "$work/csv/trainable.safetensors" "$work/half/"
"$lntune" predict --run "$work/half" > /dev/null 2> "$work/b3.err"
[ $? = 1 ] && [ "$(wc -l < "$work/b3.err")" -ge 1 ] && grep -q "half/trainable.safetensors: .*: no such parameter\|half/trainable.safetensors: .*: missing" "$work/b3.err" && ok ||
  bad "weights of another run: $(tail -1 "$work/b3.err")"
finish
