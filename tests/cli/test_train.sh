#!/usr/bin/env bash
# End-to-end `lntune train` on the seeded fixture BERT and a small separable CSV task:
# it learns; only the chosen parameters are saved; resume after a stop reproduces every loss
# bit-for-bit; Ctrl-C saves a checkpoint (exit 130) that resumes; bad configs are one-line errors.
# usage: test_train.sh <lntune binary> <fixtures dir>
# Python with torch (Debian's python3-torch here; LNTUNE_PYTHON elsewhere, e.g. the GPU machine's venv).
py3=${LNTUNE_PYTHON:-/usr/bin/python3}
source "$(dirname "$0")/lib.sh"

# Data from the fixture vocabulary: label 1 iff the sentence says "good".
gen() {
  awk -v n="$1" -v s="$2" 'BEGIN { srand(s); print "text,label";
    split("the film movie plot is very not an", w, " ");
    for (i = 0; i < n; i++) { t = ""; for (k = 0; k < 5; k++) t = t w[1 + int(rand() * 8)] " ";
      y = rand() < 0.5; print t (y ? "good" : "bad") " " w[1 + int(rand() * 8)] "," y } }'
}
gen 256 1 > "$work/train.csv"
gen 64 2 > "$work/dev.csv"
cat > "$work/run.json" <<JSON
{"model": {"path": "$fx/bert_seq_cls"},
 "task": {"name": "csv", "train_file": "$work/train.csv", "dev_file": "$work/dev.csv", "num_labels": 2, "max_length": 16},
 "method": {"name": "full"},
 "train": {"epochs": 6, "batch_size": 16, "lr": 0.001, "log_every": 1, "seed": 7},
 "output_dir": "$work/full"}
JSON
export OMP_NUM_THREADS=1

# 1. full fine-tuning learns the rule.
"$lntune" train --config "$work/run.json" > "$work/full.out" 2> "$work/full.err" || bad "full run failed: $(tail -3 "$work/full.err")"
acc=$(grep -o '"accuracy": [0-9.]*' "$work/full/results.json" | grep -o '[0-9.]*$')
awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }' && ok || bad "full fine-tuning dev accuracy $acc < 0.9"

# 1b. the first run tokenised and cached the data; the next run of the same data reads the cache
# (section 2); a damaged cache file is rebuilt, not trusted.
ls "$LNTUNE_CACHE_DIR"/csv-*.tokens > /dev/null 2>&1 && ok || bad "no token cache written in $LNTUNE_CACHE_DIR"

# 2. ln: 320 backbone parameters train; the saved weights hold exactly the trainable tensors (10 LN + 2 head).
"$lntune" train --config "$work/run.json" --set method.name=ln --set output_dir="$work/ln" > /dev/null 2> "$work/ln.err" || bad "ln run failed"
grep -q "256 train / 64 dev examples from the token cache" "$work/ln.err" && ok || bad "the ln run did not read the token cache"
grep -q '"trainable_backbone_params": 320' "$work/ln/results.json" && ok || bad "ln trainable count"
# results.json names the code that made it (lntune --version's commit)
grep -qF "\"lntune_commit\": \"$("$lntune" --version | cut -d' ' -f2)\"" "$work/ln/results.json" && ok || bad "results.json lacks lntune_commit"
n=$("$py3" -c "import json,struct,sys; f=open(sys.argv[1],'rb'); h=json.loads(f.read(struct.unpack('<Q',f.read(8))[0])); h.pop('__metadata__',None); print(len(h))" "$work/ln/trainable.safetensors" 2>/dev/null || echo "?")
[ "$n" = 12 ] && ok || bad "ln trainable.safetensors holds $n tensors, expected 12"
# ... and the HF PEFT export: LN_TUNING over the 5 LayerNorms, plus the head and pooler.
grep -q '"peft_type": "LN_TUNING"' "$work/ln/peft/adapter_config.json" 2> /dev/null && grep -q '"peft_export": ".*/ln/peft"' "$work/ln/results.json" && ok ||
  bad "ln run wrote no PEFT export"

# Float32 safetensors -> {name: numpy array}, for the weight checks below.
cat > "$work/st.py" <<'PY'
import json, struct
import numpy as np
def load(path):
    f = open(path, "rb"); n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n)); data = f.read()
    h.pop("__metadata__", None)
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=np.float32) for k, v in h.items()}
PY
export PYTHONPATH="$work"

# 2b. fisher_ln: exactly the top 10% of the 320 LN elements (32) move; the rest keep their values.
"$lntune" train --config "$work/run.json" --set method.name=fisher_ln --set method.samples=32 --set output_dir="$work/fisher" > /dev/null 2>&1 || bad "fisher_ln run failed"
changed=$("$py3" - "$work/fisher/trainable.safetensors" "$fx/bert_seq_cls/model.safetensors" <<'PY'
import sys
from st import load  # $work/st.py: float32 safetensors -> numpy
import numpy as np
tuned, base = load(sys.argv[1]), load(sys.argv[2])
print(sum(int((tuned[k] != base[k]).sum()) for k in tuned if "LayerNorm" in k))
PY
)
[ "$changed" = 32 ] && ok || bad "fisher_ln changed $changed LN elements, expected 32"
# ... and it counts those 32 as its trainable parameters (not the 320 its tensors hold), in
# results.json and in --dry-run, which knows the count before any Fisher estimate.
grep -q '"trainable_backbone_params": 32,' "$work/fisher/results.json" && ok || bad "fisher_ln results.json trainable count"
"$lntune" train --config "$work/run.json" --set method.name=fisher_ln --set method.top_percent=25 --dry-run > "$work/fisher_dry.out" 2>&1
grep -q "80 trainable backbone parameters (.*240 more kept fixed by gradient masks" "$work/fisher_dry.out" &&
  grep -q '"trainable_backbone_params": 80' "$work/fisher_dry.out" && ok || bad "fisher_ln --dry-run count: $(grep -o '[0-9]* trainable backbone.*' "$work/fisher_dry.out")"

# 2c. Training starts from the checkpoint, head included when it fits the task (the fixture's
#     classifier has 3 labels; here the task says 3 too): one step at lr 1e-12 leaves every
#     tensor where the checkpoint put it.
"$lntune" train --config "$work/run.json" --set task.num_labels=3 --set task.token_cache=false --set train.lr=1e-12 --set train.max_steps=1 --set train.weight_decay=0 \
  --set output_dir="$work/start" > /dev/null 2>&1 || bad "1-step run failed"
drift=$("$py3" - "$work/start/trainable.safetensors" "$fx/bert_seq_cls/model.safetensors" <<'PY'
import sys
from st import load  # $work/st.py: float32 safetensors -> numpy
import numpy as np
tuned, base = load(sys.argv[1]), load(sys.argv[2])
common = [k for k in tuned if k in base]
assert "classifier.weight" in common and len(common) > 20, sorted(tuned)[:5]
print(max(float(np.abs(tuned[k] - base[k]).max()) for k in common))
PY
)
awk -v d="$drift" 'BEGIN { exit !(d != "" && d < 1e-6) }' && ok || bad "training did not start from the checkpoint (max drift $drift)"

# 3. stop + resume == uninterrupted, bit for bit (grad accumulation, stop mid-epoch).
common=(--config "$work/run.json" --set method.name=bitfit --set train.batch_size=8 --set train.grad_accum=2 --set train.epochs=2)
"$lntune" train "${common[@]}" --set output_dir="$work/a" > /dev/null 2>&1
"$lntune" train "${common[@]}" --set output_dir="$work/b" --set train.stop_after_steps=11 > /dev/null 2>&1
"$lntune" train "${common[@]}" --set output_dir="$work/b" --resume > /dev/null 2> "$work/b.err"
grep -o '"loss":[^,]*,"lr":[^,]*,"step":[0-9]*' "$work/a/metrics.jsonl" > "$work/la"
grep -o '"loss":[^,]*,"lr":[^,]*,"step":[0-9]*' "$work/b/metrics.jsonl" > "$work/lb"
[ "$(wc -l < "$work/la")" = 32 ] && cmp -s "$work/la" "$work/lb" && ok || bad "resumed losses differ from the uninterrupted run"
# ... with the run's own settings (stop_after_steps aside) no warning; with another lr, a warning naming it.
! grep -q "resumed with settings" "$work/b.err" && ok || bad "an unchanged resume warned: $(grep "resumed with" "$work/b.err")"
"$lntune" train "${common[@]}" --set output_dir="$work/c" --set train.stop_after_steps=3 > /dev/null 2>&1
"$lntune" train "${common[@]}" --set output_dir="$work/c" --set train.lr=0.5 --resume > /dev/null 2> "$work/c.err" &&
  grep -q "c: resumed with settings other than the run's config.json (train.lr: 0.001 -> 0.5)" "$work/c.err" && ok ||
  bad "a resume with another lr did not say so: $(grep -i warn "$work/c.err")"

# 3b. Loss-parity mode: train.shuffle=false and model.dropout take effect (each changes the
#     curve), and the same settings repeat exactly.
par=(--config "$work/run.json" --set method.name=bitfit --set train.epochs=1 --set train.seed=1)
"$lntune" train "${par[@]}" --set model.dropout=0 --set train.shuffle=false --set output_dir="$work/p1" > /dev/null 2>&1
"$lntune" train "${par[@]}" --set model.dropout=0 --set train.shuffle=false --set output_dir="$work/p2" > /dev/null 2>&1
"$lntune" train "${par[@]}" --set model.dropout=0 --set output_dir="$work/p3" > /dev/null 2>&1
"$lntune" train "${par[@]}" --set model.dropout=0.5 --set train.shuffle=false --set output_dir="$work/p4" > /dev/null 2>&1
losses() { grep -o '"loss":[^,]*' "$1/metrics.jsonl"; }
[ -n "$(losses "$work/p1")" ] && [ "$(losses "$work/p1")" = "$(losses "$work/p2")" ] && [ "$(losses "$work/p1")" != "$(losses "$work/p3")" ] &&
  [ "$(losses "$work/p1")" != "$(losses "$work/p4")" ] && ok || bad "train.shuffle / model.dropout have no effect, or runs do not repeat"
# ... and model.dropout_impl: torch's dropout draws other masks than the fused default (p4), and
#     repeats its own.
"$lntune" train "${par[@]}" --set model.dropout=0.5 --set train.shuffle=false --set model.dropout_impl=torch --set output_dir="$work/p4t" > /dev/null 2>&1
"$lntune" train "${par[@]}" --set model.dropout=0.5 --set train.shuffle=false --set model.dropout_impl=torch --set output_dir="$work/p4u" > /dev/null 2>&1
[ -n "$(losses "$work/p4t")" ] && [ "$(losses "$work/p4t")" = "$(losses "$work/p4u")" ] && [ "$(losses "$work/p4t")" != "$(losses "$work/p4")" ] &&
  ok || bad "model.dropout_impl torch has no effect, or does not repeat"
# 3c. The token cache changes nothing: freshly tokenised (cache off) and from a damaged cache file
#     (rebuilt) the run repeats p1's losses exactly.
"$lntune" train "${par[@]}" --set model.dropout=0 --set train.shuffle=false --set task.token_cache=false --set output_dir="$work/p5" > /dev/null 2>&1
cachefile=$(ls "$LNTUNE_CACHE_DIR"/csv-*.tokens | head -1)
size=$(stat -c %s "$cachefile")
head -c 100 "$cachefile" > "$work/trunc" && mv "$work/trunc" "$cachefile"
"$lntune" train "${par[@]}" --set model.dropout=0 --set train.shuffle=false --set output_dir="$work/p6" > /dev/null 2> "$work/p6.err"
[ "$(losses "$work/p1")" = "$(losses "$work/p5")" ] && [ "$(losses "$work/p1")" = "$(losses "$work/p6")" ] &&
  ! grep -q "from the token cache" "$work/p6.err" && [ "$(stat -c %s "$cachefile")" = "$size" ] && ok ||
  bad "token cache: losses differ without it, or a damaged cache file was trusted / not rebuilt"

# 3c'. AdamW per tensor (train.adamw_impl torch) trains as the fused default did in p1, to fp32
#      round-off (the fused kernel rounds as the per-tensor ops, bar ATen's contracted vector FMAs).
"$lntune" train "${par[@]}" --set model.dropout=0 --set train.shuffle=false --set train.adamw_impl=torch --set output_dir="$work/p7" > /dev/null 2> "$work/p7.err"
maxdiff=$(paste <(losses "$work/p1" | cut -d: -f2) <(losses "$work/p7" | cut -d: -f2) |
  awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; n++} END {if (n == 0 || NF != 2) print "none"; else printf "%.3g", m}')
echo "train.adamw_impl torch vs fused: largest loss difference $maxdiff"
grep -q "AdamW torch over" "$work/p7.err" && grep -q "AdamW fused over" "$work/p6.err" && awk -v m="$maxdiff" 'BEGIN {exit !(m != "none" && m + 0 < 1e-5)}' && ok ||
  bad "train.adamw_impl torch vs fused: losses differ by $maxdiff"
# 3d. A LayerNorm checkpoint converted to DyT with model.norm.dyt_init calibrated: the fit is
#     logged over the first 64 training examples and, being the same every time, a stopped and
#     resumed run (lora: every norm frozen at its fitted value) logs the uninterrupted losses.
dyt=(--config "$work/run.json" --set model.norm.type='"dyt"' --set model.norm.dyt_init='"calibrated"'
     --set method.name=lora --set train.max_steps=4 --set model.dropout=0)
"$lntune" train "${dyt[@]}" --set output_dir="$work/dyt" > /dev/null 2> "$work/dyt.err" || bad "calibrated dyt run failed: $(tail -1 "$work/dyt.err")"
grep -Eq "dyt_init calibrated on 64 training examples: 5 DyT norms fitted to LayerNorm on [0-9]+ rows, alpha" "$work/dyt.err" && ok ||
  bad "calibration not logged: $(grep -i dyt "$work/dyt.err")"
"$lntune" train "${dyt[@]}" --set output_dir="$work/dyt2" --set train.stop_after_steps=2 > /dev/null 2>&1
"$lntune" train "${dyt[@]}" --set output_dir="$work/dyt2" --resume > /dev/null 2>&1 || bad "calibrated dyt resume failed"
[ "$(losses "$work/dyt" | wc -l)" = 4 ] && [ "$(losses "$work/dyt")" = "$(losses "$work/dyt2")" ] && ok ||
  bad "calibrated dyt: resumed losses differ: $(losses "$work/dyt" | tr '\n' ' ') vs $(losses "$work/dyt2" | tr '\n' ' ')"

# 4. Ctrl-C saves a checkpoint and exits 130; --resume continues.
"$lntune" train --config "$work/run.json" --set output_dir="$work/int" --set train.max_steps=100000 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$work/int/metrics.jsonl" ] && break; sleep 0.2; done
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] && [ -f "$work/int/latest" ] && ok || bad "SIGINT: exit $rc, latest $(ls "$work/int")"
"$lntune" train --config "$work/run.json" --set output_dir="$work/int" --set train.max_steps=100000 --set train.stop_after_steps=$(( $(cat "$work/int/latest" | tr -dc 0-9) + 2 )) --resume > /dev/null 2>&1 && ok || bad "resume after SIGINT failed"

# 5. bad configs: one line naming the file and key, exit 1.
# expect <exit> <message> <lines>: the error is the last stderr line; <lines> bounds what precedes
# it (1: config errors come before any log output; data errors follow the model's load log).
expect() {
  "$lntune" train --config "$work/run.json" "${@:4}" > /dev/null 2> "$work/err"
  local rc=$?
  [ $rc = "$1" ] && [ "$(wc -l < "$work/err")" -le "$3" ] && tail -1 "$work/err" | grep -q "^lntune: error: " &&
    tail -1 "$work/err" | grep -qF -- "$2" && ok || bad "expected '$2' (exit $1), got exit $rc: $(cat "$work/err")"
}
expect 1 "$work/run.json: train.learning_rate: unknown key" 1 --set train.learning_rate=1 --set output_dir="$work/x1"
expect 1 "$work/run.json: method.name: unknown PEFT method 'lorax'" 1 --set method.name=lorax --set output_dir="$work/x2"
# A method option's value that needs no model to judge stops the run before anything loads
# (one line); one that needs the model names the same key after the load log.
expect 1 "$work/run.json: method.layers: bad layer range 'x' (use e.g. 0-5,8)" 1 --set method.name=ln --set method.layers=x --set output_dir="$work/x7"
expect 1 "$work/run.json: method.layers: layer 9 does not exist" 8 --set method.name=ln --set method.layers=0-9 --set output_dir="$work/x8"
expect 1 "holds a run already: use --resume" 1 --set output_dir="$work/full"
expect 1 "$work/run.json: task.dev_file: missing (csv/jsonl data needs train_file and dev_file)" 1 --set task.dev_file= --set output_dir="$work/x11"
expect 1 "$work/nope.csv: cannot open" 8 --set task.train_file="$work/nope.csv" --set output_dir="$work/x3"
# Labels the classes cannot hold: a class index past num_labels (LibTorch's "Target 7 is out of
# bounds" at the first batch before), and a stray name among indices (silently class 0 before).
printf 'text,label\nthe film good,1\nthe plot bad,7\n' > "$work/seven.csv"
expect 1 "$work/run.json: task.num_labels: is 2, but the data has class index 7" 8 --set task.train_file="$work/seven.csv" --set output_dir="$work/x9"
printf 'text,label\nthe film good,1\nthe plot bad,0\nthe movie,x\n' > "$work/stray.csv"
expect 1 "$work/run.json: task.num_labels: is 2, but the data has 3 labels (1, 0, x)" 8 --set task.train_file="$work/stray.csv" --set output_dir="$work/x10"
# Device: "auto" ran on the CPU here and says so; asking for a GPU that is not there is an error.
if ! command -v nvidia-smi > /dev/null; then
  grep -q '"device": "cpu"' "$work/full/results.json" && grep -q '"bf16": false' "$work/full/results.json" && ok ||
    bad "results.json does not record the CPU device"
  expect 1 "$work/run.json: train.device: cuda was asked for, but LibTorch sees no GPU" 8 --set train.device='"cuda"' --set output_dir="$work/x4"
  # CUDA graphs on a run that resolved to the CPU.
  expect 1 "$work/run.json: train.cuda_graphs: needs a CUDA device (this run is on the CPU)" 8 --set train.cuda_graphs=true --set output_dir="$work/x5"
fi
expect 1 "$work/run.json: train.cuda_graphs: needs train.grad_accum 1" 1 --set train.cuda_graphs=true --set train.grad_accum=2 --set output_dir="$work/x6"

finish
