#!/usr/bin/env bash
# Data parallel on c10d/Gloo over loopback: 2 processes with half the per-process batch give the
# same losses as 1 process (to float round-off: the all-reduce sums in another order), rank 0
# alone writes the run folder, and a bad environment or backend is a one-line error.
# usage: test_ddp.sh <lntune binary> <fixtures dir>
source "$(dirname "$0")/lib.sh"
launch=$(cd "$(dirname "$0")/../.." && pwd)/scripts/launch_local.sh
gen() {
  awk -v n="$1" -v s="$2" 'BEGIN { srand(s); print "text,label";
    split("the film movie plot is very not an", w, " ");
    for (i = 0; i < n; i++) { t = ""; for (k = 0; k < 5; k++) t = t w[1 + int(rand() * 8)] " ";
      y = rand() < 0.5; print t (y ? "good" : "bad") " " w[1 + int(rand() * 8)] "," y } }'
}
gen 100 1 > "$work/train.csv"   # 100 rows: the last global batch of 8 has 4 (2 per process)
gen 32 2 > "$work/dev.csv"
cat > "$work/run.json" <<JSON
{"model": {"path": "$fx/bert_seq_cls", "dropout": 0.0},
 "task": {"name": "csv", "train_file": "$work/train.csv", "dev_file": "$work/dev.csv", "num_labels": 2, "max_length": 16},
 "method": {"name": "full"}, "train": {"epochs": 2, "batch_size": 8, "lr": 0.001, "log_every": 1, "seed": 3}}
JSON
export OMP_NUM_THREADS=1
"$lntune" train --config "$work/run.json" --set output_dir="$work/one" > /dev/null 2> "$work/one.err" || bad "1 process failed: $(tail -1 "$work/one.err")"
timeout 300 bash "$launch" 2 "$lntune" train --config "$work/run.json" --set train.batch_size=4 --set output_dir="$work/two" \
  > "$work/two.out" 2> "$work/two.err" || bad "2 processes failed: $(grep -i error "$work/two.err" | head -2)"
grep -q "rank 1 of 2" "$work/two.err" && ok || bad "no second rank in the log"
grep -q "all-reduced per step over gloo" "$work/two.err" && ok || bad "a CPU run should say it reduces over gloo"
a=$(grep -o '"loss":[^,]*' "$work/one/metrics.jsonl" | cut -d: -f2) b=$(grep -o '"loss":[^,]*' "$work/two/metrics.jsonl" | cut -d: -f2)
n=$(wc -l <<< "$a")
[ "$n" = 26 ] && [ "$(wc -l <<< "$b")" = 26 ] && ok || bad "expected 26 logged steps in both runs, got $n and $(wc -l <<< "$b")"
paste <(echo "$a") <(echo "$b") | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-5 * ($1 < 0 ? -$1 : $1) + 1e-7) { print "step " NR ": " $1 " vs " $2; bad = 1 } } END { exit bad }' > "$work/diff" &&
  ok || bad "2-process losses differ from 1 process: $(head -3 "$work/diff")"
[ "$(grep -c '"eval"' "$work/two/metrics.jsonl")" = 2 ] && [ -f "$work/two/results.json" ] && [ "$(grep -c '"task"' "$work/two.out")" = 1 ] && ok ||
  bad "rank 0 alone should write the metrics, results and print once"
# NCCL asked for on the CPU: every rank stops with one line naming the key.
timeout 120 bash "$launch" 2 "$lntune" train --config "$work/run.json" --set train.dist_backend=nccl --set output_dir="$work/nccl" \
  > /dev/null 2> "$work/nccl.err"
[ $? = 1 ] && [ "$(grep -c 'run.json: train.dist_backend: nccl needs the run on a GPU' "$work/nccl.err")" = 2 ] && ok ||
  bad "nccl on the CPU: $(grep -i error "$work/nccl.err" | head -2)"
# Bad environment: one error line naming the variable.
WORLD_SIZE=2 RANK=5 "$lntune" train --config "$work/run.json" --set output_dir="$work/bad" > /dev/null 2> "$work/bad.err"
[ $? = 1 ] && grep -q "RANK: 5 is not in" "$work/bad.err" && ok || bad "bad RANK: $(cat "$work/bad.err")"
finish
