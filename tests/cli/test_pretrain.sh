#!/usr/bin/env bash
# End-to-end `lntune pretrain` on real English text (RTE and SST-2 training sentences from
# ../shared) with small BERT and GPT-2 models: both learn (held-out MLM loss / CLM perplexity
# fall), a stopped and resumed run logs the same loss curve as an uninterrupted one, the result
# is an HF-layout folder that `lntune info` and `lntune train` load, and bad input is a one-line
# error. usage: test_pretrain.sh <lntune binary> <fixtures dir> <shared dir>
# Python with torch (Debian's python3-torch here; LNTUNE_PYTHON elsewhere, e.g. the GPU machine's venv).
py3=${LNTUNE_PYTHON:-/usr/bin/python3}
source "$(dirname "$0")/lib.sh"
shared=$3
export OMP_NUM_THREADS=2

# A real corpus: 3,000 documents of GLUE training sentences (one per line).
{ cut -f2 "$shared/data/glue/RTE/train.tsv" | tail -n +2; cut -f1 "$shared/data/glue/SST-2/train.tsv" | tail -n +2 | head -1000; } > "$work/en.txt"
bert_tok=$shared/tokenizers/bert-base-uncased gpt2_tok=$shared/tokenizers/gpt2
cat > "$work/bert.json" <<JSON
{"model": {"preset": "bert-tiny", "config": {"hidden_size": 64, "intermediate_size": 128}},
 "tokenizer": "$bert_tok", "corpus": {"path": "$work/en.txt", "heldout_every": 20},
 "train": {"seq_length": 32, "batch_size": 16, "lr": 0.003, "max_steps": 60, "eval_every": 30, "eval_blocks": 32,
           "log_every": 2, "save_every": 0, "seed": 3},
 "output_dir": "$work/bert"}
JSON
cat > "$work/gpt2.json" <<JSON
{"model": {"preset": "gpt2-mini", "config": {"n_embd": 64, "n_layer": 2, "n_head": 2, "n_positions": 64}},
 "tokenizer": "$gpt2_tok", "corpus": {"path": "$work/en.txt", "heldout_every": 20},
 "train": {"seq_length": 32, "batch_size": 8, "lr": 0.003, "max_steps": 40, "eval_every": 20, "eval_blocks": 16,
           "log_every": 2, "save_every": 0, "seed": 3, "dropout": 0.0},
 "output_dir": "$work/gpt2"}
JSON
eval_field() {  # eval_field <metrics.jsonl> <first|last> <field>
  grep '"eval"' "$1" | { [ "$2" = first ] && head -1 || tail -1; } | grep -o "\"$3\":[0-9.e+-]*" | cut -d: -f2
}

# 1. MLM learns: held-out loss falls by more than 1 nat, accuracy rises above 5%.
"$lntune" pretrain --config "$work/bert.json" > "$work/bert.out" 2> "$work/bert.err" || bad "bert pretrain failed: $(tail -2 "$work/bert.err")"
l0=$(eval_field "$work/bert/metrics.jsonl" first loss) l1=$(eval_field "$work/bert/metrics.jsonl" last loss)
acc=$(eval_field "$work/bert/metrics.jsonl" last accuracy)
awk -v a="$l0" -v b="$l1" -v c="$acc" 'BEGIN { exit !(b < a - 1 && c > 0.05) }' && ok ||
  bad "MLM did not learn: held-out loss $l0 -> $l1, accuracy $acc"
grep -q '"objective": "mlm"' "$work/bert.out" && grep -q '"accuracy"' "$work/bert/results.json" && ok || bad "bert results.json"
grep -qF "\"lntune_commit\": \"$("$lntune" --version | cut -d' ' -f2)\"" "$work/bert/results.json" && ok || bad "pretrain results.json lacks lntune_commit"

# 1b. model.attention_init local (with sinusoidal positions) reaches the model: the init is
#     logged with its offsets and the run learns (the attention pattern itself: AttentionInit.*).
"$lntune" pretrain --config "$work/bert.json" --set output_dir="$work/local" --set train.max_steps=30 \
  --set model.position_init='"sinusoidal"' --set model.attention_init='"local"' > /dev/null 2> "$work/local.err" ||
  bad "local-init pretrain failed: $(tail -1 "$work/local.err")"
grep -q "local attention init: layer 0 heads start at offsets -1, +1 " "$work/local.err" && ok || bad "local init not logged: $(head -3 "$work/local.err")"
ll0=$(eval_field "$work/local/metrics.jsonl" first loss) ll1=$(eval_field "$work/local/metrics.jsonl" last loss)
awk -v a="$ll0" -v b="$ll1" 'BEGIN { exit !(b < a - 1) }' && ok || bad "local-init MLM did not learn: $ll0 -> $ll1"

# 1c. model.embedding_init ppmi reaches the model (the vectors themselves: EmbeddingInit.*): the
#     init is logged over the corpus's words and the run learns.
"$lntune" pretrain --config "$work/bert.json" --set output_dir="$work/ppmi" --set train.max_steps=30 \
  --set model.embedding_init='"ppmi"' > /dev/null 2> "$work/ppmi.err" || bad "ppmi-init pretrain failed: $(tail -1 "$work/ppmi.err")"
grep -Eq "ppmi embedding init: [0-9]{4,} word vectors" "$work/ppmi.err" && ok || bad "ppmi init not logged: $(grep -i ppmi "$work/ppmi.err")"
pl0=$(eval_field "$work/ppmi/metrics.jsonl" first loss) pl1=$(eval_field "$work/ppmi/metrics.jsonl" last loss)
awk -v a="$pl0" -v b="$pl1" 'BEGIN { exit !(b < a - 1) }' && ok || bad "ppmi-init MLM did not learn: $pl0 -> $pl1"

# 1d. model.norm dyt with dyt_init calibrated: the norms are fitted on training blocks (logged)
#     and the run learns; the folder is a DyT model: info says so, fine-tuning takes DyT without
#     being told (the dyt method needs DyT norms), and asking for LayerNorm is one error line.
"$lntune" pretrain --config "$work/bert.json" --set output_dir="$work/dyt" --set train.max_steps=30 \
  --set model.norm.type='"dyt"' --set model.norm.dyt_init='"calibrated"' > /dev/null 2> "$work/dyt.err" ||
  bad "dyt pretrain failed: $(tail -1 "$work/dyt.err")"
grep -Eq "dyt_init calibrated on 16 training blocks: 6 DyT norms fitted to LayerNorm on 512 rows" "$work/dyt.err" && ok ||
  bad "dyt calibration not logged: $(grep -i dyt "$work/dyt.err")"
dl0=$(eval_field "$work/dyt/metrics.jsonl" first loss) dl1=$(eval_field "$work/dyt/metrics.jsonl" last loss)
awk -v a="$dl0" -v b="$dl1" 'BEGIN { exit !(b < a - 1) }' && ok || bad "dyt MLM did not learn: $dl0 -> $dl1"
"$lntune" info --model "$work/dyt/model" --json 2> /dev/null | grep -q '"type": "dyt"' && ok || bad "info does not see the DyT norms"
cat > "$work/dytft.json" <<JSON
{"model": {"path": "$work/dyt/model"}, "task": {"name": "rte", "data_dir": "$shared/data/glue/RTE"}, "method": {"name": "dyt"}}
JSON
"$lntune" train --config "$work/dytft.json" --dry-run > "$work/dytft.out" 2> "$work/dytft.err" &&
  grep -q '"trainable_backbone_params": 645' "$work/dytft.out" && ok || bad "fine-tuning the DyT folder: $(tail -1 "$work/dytft.err")"
"$lntune" train --config "$work/dytft.json" --dry-run --set model.norm.type='"layernorm"' > /dev/null 2> "$work/err"
[ $? = 1 ] && [ "$(grep -c '^lntune: error: ' "$work/err")" = 1 ] &&
  grep -q "dytft.json: model.norm.type: \"layernorm\", but .*model.safetensors holds DyT norms" "$work/err" && ok ||
  bad "layernorm over a DyT folder: $(cat "$work/err")"

# 2. The model folder is HF's layout and loads back: info sees the MLM head with no stray key;
#    fine-tuning it builds a classifier (the pooler, absent from MLM checkpoints, starts fresh).
m=$work/bert/model
for f in config.json model.safetensors vocab.txt tokenizer_config.json; do [ -f "$m/$f" ] || bad "model folder lacks $f"; done
grep -q '"BertForMaskedLM"' "$m/config.json" && ok || bad "config.json architectures"
head -c 4096 "$m/model.safetensors" | grep -q '"format":"pt"' && ok || bad "model.safetensors lacks format=pt metadata"
"$lntune" info --model "$m" --json > "$work/info.json" 2> "$work/info.err" || bad "info on the pretrained folder failed: $(cat "$work/info.err")"
grep -q '"head": "mlm"' "$work/info.json" && grep -q '"unexpected": 0' "$work/info.json" && ok || bad "info: $(cat "$work/info.json")"
cat > "$work/ft.json" <<JSON
{"model": {"path": "$m"}, "task": {"name": "rte", "data_dir": "$shared/data/glue/RTE"}, "method": {"name": "ln"}}
JSON
"$lntune" train --config "$work/ft.json" --dry-run > "$work/ft.out" 2> "$work/ft.err" && grep -q '"trainable_backbone_params"' "$work/ft.out" && ok ||
  bad "fine-tuning the pretrained folder: $(tail -1 "$work/ft.err")"

# 2b. `forward` writes the folder's outputs for one text: the ids `tokenize` gives, MLM logits.
"$lntune" forward --model "$m" --text "The cat sat on the [MASK]." --out "$work/fw.safetensors" > /dev/null 2>&1 || bad "forward failed"
want=$(echo "The cat sat on the [MASK]." | "$lntune" tokenize --tokenizer "$m" 2> /dev/null)
got=$("$py3" - "$work/fw.safetensors" <<'PY'
import json, struct, sys
f = open(sys.argv[1], "rb"); h = json.loads(f.read(struct.unpack("<Q", f.read(8))[0])); data = f.read()
ids = h["input_ids"]; a, b = ids["data_offsets"]
print(" ".join(str(x) for x in struct.unpack(f"<{(b - a) // 8}q", data[a:b])), h["logits"]["shape"], h["__metadata__"]["head"])
PY
)
n=$(wc -w <<< "$want")
[ "$got" = "$want [1, $n, 30522] mlm" ] && ok || bad "forward wrote '$got', expected ids '$want' and logits [1, $n, 30522]"

# 3. Stop + resume logs the same curve as the uninterrupted run (dropout RNG, data order and
#    masking restored), and the final weights agree.
"$lntune" pretrain --config "$work/bert.json" --set output_dir="$work/b2" --set train.stop_after_steps=25 > /dev/null 2>&1
[ -f "$work/b2/latest" ] && ok || bad "no checkpoint after stop_after_steps"
"$lntune" pretrain --config "$work/bert.json" --set output_dir="$work/b2" --resume > /dev/null 2> "$work/b2.err" || bad "resume failed: $(tail -1 "$work/b2.err")"
strip() { grep -v '"eval"' "$1" | sed 's/,"tokens_per_s":[^}]*//'; }
[ "$(strip "$work/bert/metrics.jsonl" | wc -l)" = 30 ] && cmp -s <(strip "$work/bert/metrics.jsonl") <(strip "$work/b2/metrics.jsonl") && ok ||
  bad "resumed loss curve differs: $(diff <(strip "$work/bert/metrics.jsonl") <(strip "$work/b2/metrics.jsonl") | head -4)"
cmp -s "$work/bert/model/model.safetensors" "$work/b2/model/model.safetensors" && ok || bad "resumed final weights differ"

# 3b. Continued pretraining (model.path: domain-adaptive pretraining) starts from the folder's
#     weights: its step-0 held-out loss is the source run's last one (same blocks, same masking).
cat > "$work/cont.json" <<JSON
{"model": {"path": "$work/bert/model"}, "corpus": {"path": "$work/en.txt", "heldout_every": 20},
 "train": {"seq_length": 32, "batch_size": 16, "lr": 0.003, "max_steps": 2, "eval_every": 30, "eval_blocks": 32,
           "log_every": 2, "save_every": 0, "seed": 3},
 "output_dir": "$work/cont"}
JSON
"$lntune" pretrain --config "$work/cont.json" > /dev/null 2> "$work/cont.err" || bad "continued pretraining failed: $(tail -1 "$work/cont.err")"
c0=$(eval_field "$work/cont/metrics.jsonl" first loss)
awk -v a="$c0" -v b="$l1" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-6 && d > -1e-6) }' && ok ||
  bad "continued pretraining does not start from the folder: step-0 loss $c0, source's last $l1"

# 4. CLM learns: held-out perplexity falls by at least 3x; the folder is a GPT2LMHeadModel.
"$lntune" pretrain --config "$work/gpt2.json" > "$work/gpt2.out" 2> "$work/gpt2.err" || bad "gpt2 pretrain failed: $(tail -2 "$work/gpt2.err")"
p0=$(eval_field "$work/gpt2/metrics.jsonl" first perplexity) p1=$(eval_field "$work/gpt2/metrics.jsonl" last perplexity)
awk -v a="$p0" -v b="$p1" 'BEGIN { exit !(b * 3 < a) }' && ok || bad "CLM did not learn: perplexity $p0 -> $p1"
grep -q '"GPT2LMHeadModel"' "$work/gpt2/model/config.json" && [ -f "$work/gpt2/model/merges.txt" ] && ok || bad "gpt2 model folder"
# train.dropout 0 holds only while pretraining: the folder keeps the preset's 0.1 for fine-tuning.
grep -q '"resid_pdrop": 0.1' "$work/gpt2/model/config.json" && grep -q '"attn_pdrop": 0.1' "$work/gpt2/model/config.json" && ok ||
  bad "gpt2 config.json dropout: $(grep pdrop "$work/gpt2/model/config.json")"
"$lntune" info --model "$work/gpt2/model" --json 2> /dev/null | grep -q '"head": "lm"' && ok || bad "info on the gpt2 folder"

# 5. Bad input: one error line naming the file or key, exit 1; an existing run is not overwritten.
expect_error() {  # expect_error <pattern> <args...>
  local pat=$1; shift
  "$lntune" pretrain "$@" > /dev/null 2> "$work/err"
  local rc=$?
  [ $rc = 1 ] && [ "$(grep -c '^lntune: error: ' "$work/err")" = 1 ] && tail -1 "$work/err" | grep -q -- "$pat" && ok ||
    bad "expected '$pat' (exit 1, one error line), got $rc: $(cat "$work/err")"
}
expect_error "nope.txt" --config "$work/bert.json" --set corpus.path="$work/nope.txt" --set output_dir="$work/e1"
expect_error "objective.type" --config "$work/bert.json" --set objective.type=clm --set output_dir="$work/e2"
expect_error "train.seq_length" --config "$work/gpt2.json" --set train.seq_length=128 --set output_dir="$work/e3"
expect_error "does not fit" --config "$work/bert.json" --set tokenizer="$gpt2_tok" --set output_dir="$work/e4"
expect_error "holds a run already" --config "$work/bert.json"
expect_error "train.lr" --config "$work/bert.json" --set train.lr=-1

finish
