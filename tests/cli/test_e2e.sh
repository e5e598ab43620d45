#!/usr/bin/env bash
# The e2e task end to end on a seeded GPT-2 (gpt2-mini, GPT-2's real tokenizer): full fine-tuning
# learns a fixed reference and writes it (BLEU 1); `predict` scores the dev MRs as training did
# and writes testset.csv's; `export` gives an LM folder; the real ../shared split; bad configs.
# usage: test_e2e.sh <lntune binary> <fixtures dir> <shared dir>
source "$(dirname "$0")/lib.sh"
shared=$3
export OMP_NUM_THREADS=1

"$lntune" init --arch gpt2-mini --tokenizer "$shared/tokenizers/gpt2" --out "$work/gpt2" --seed 3 > /dev/null 2>&1 || bad "init failed"
# The official layout (trainset.csv + devset.csv): every MR's reference is one sentence.
mkdir -p "$work/e2e"
for f in trainset devset; do
  echo "mr,ref" > "$work/e2e/$f.csv"
  for n in Alimentum Aromi Bibimbap "Blue Spice" Clowns Cocum; do
    echo "\"name[$n], eatType[pub]\",It is a pub." >> "$work/e2e/$f.csv"
  done
done
printf 'MR\n"name[Zizzi], eatType[pub]"\n"name[Wildwood], eatType[pub]"\n"name[Loch Fyne], eatType[pub]"\n' > "$work/e2e/testset.csv"
cat > "$work/run.json" <<JSON
{"model": {"path": "$work/gpt2"},
 "task": {"name": "e2e", "data_dir": "$work/e2e", "max_length": 32, "max_new_tokens": 10},
 "method": {"name": "full"},
 "train": {"epochs": 30, "batch_size": 6, "lr": 0.001, "warmup_ratio": 0, "eval_every": 0, "seed": 5},
 "output_dir": "$work/full"}
JSON

# 1. full fine-tuning learns to write the reference: BLEU 1 on the dev MRs.
"$lntune" train --config "$work/run.json" > /dev/null 2> "$work/full.err" || bad "full run failed: $(tail -3 "$work/full.err")"
bleu=$(grep -o '"bleu": [0-9.e-]*' "$work/full/results.json" | grep -o '[0-9.e-]*$')
awk -v b="$bleu" 'BEGIN { exit !(b >= 0.999) }' && ok || bad "full fine-tuning dev BLEU $bleu < 1"
[ "$(sort -u "$work/full/dev_generations.txt")" = "It is a pub." ] && [ "$(wc -l < "$work/full/dev_generations.txt")" = 6 ] && ok ||
  bad "dev_generations.txt: $(head -3 "$work/full/dev_generations.txt")"
grep -q '"metric": "bleu"' "$work/full/results.json" && grep -q '"head_params": 0' "$work/full/results.json" && ok || bad "results.json"
# All four metrics. Every MR here has the same one reference, so each n-gram is in every
# document: CIDEr's IDF, and CIDEr, are 0; NIST's information is not.
nist=$(grep -o '"nist": [0-9.e-]*' "$work/full/results.json" | head -1 | grep -o '[0-9.e-]*$')
grep -q '"rouge_l": 1.0' "$work/full/results.json" && grep -q '"cider": 0.0' "$work/full/results.json" &&
  awk -v n="$nist" 'BEGIN { exit !(n > 1) }' && ok || bad "results.json metrics: $(grep -A5 '"best"' "$work/full/results.json")"

# 2. predict: the dev MRs again, the same score; testset.csv's MRs written, unscored.
"$lntune" predict --run "$work/full" > "$work/pred.json" 2> /dev/null || bad "predict on dev failed"
pbleu=$(grep -o '"bleu": [0-9.e-]*' "$work/pred.json" | grep -o '[0-9.e-]*$')
[ -n "$pbleu" ] && [ "$pbleu" = "$bleu" ] && ok || bad "predict's dev BLEU '$pbleu' is not training's $bleu"
pnist=$(grep -o '"nist": [0-9.e-]*' "$work/pred.json" | grep -o '[0-9.e-]*$')
[ -n "$pnist" ] && [ "$pnist" = "$nist" ] && ok || bad "predict's dev NIST '$pnist' is not training's $nist"
"$lntune" predict --run "$work/full" --file "$work/e2e/testset.csv" --out "$work/test.tsv" > "$work/pred_test.json" 2> /dev/null || bad "predict on testset.csv failed"
[ "$(head -1 "$work/test.tsv")" = "$(printf 'index\tprediction')" ] && [ "$(wc -l < "$work/test.tsv")" = 4 ] &&
  grep -q '"metrics": null' "$work/pred_test.json" && ok || bad "testset predictions: $(cat "$work/test.tsv")"
# 2b. predict with beam search: a line per MR, the settings in the output (this model's
# distributions are nearly flat, so beams may well prefer other text than greedy's: what beam
# search finds is tested against exhaustive search and HF's generate in tests/train/); with one
# beam, greedy's text; bad decoding flags are one-line errors; a classification run has none.
"$lntune" predict --run "$work/full" --num-beams 3 --length-penalty 0.9 --no-repeat-ngram-size 4 --early-stopping never \
  --out "$work/beam.tsv" > "$work/beam.json" 2> "$work/beam.err" || bad "predict --num-beams failed: $(tail -2 "$work/beam.err")"
grep -q '"num_beams": 3' "$work/beam.json" && grep -q '"early_stopping": "never"' "$work/beam.json" &&
  grep -q '"no_repeat_ngram_size": 4' "$work/beam.json" && grep -q "beam search, 3 beams" "$work/beam.err" && ok ||
  bad "predict's decoding record: $(cat "$work/beam.json")"
[ "$(tail -n +2 "$work/beam.tsv" | cut -f2 | grep -c .)" = 6 ] && ok || bad "beam-search predictions: $(cat "$work/beam.tsv")"
"$lntune" predict --run "$work/full" --num-beams 1 --out "$work/one.tsv" > /dev/null 2>&1 &&
  cmp -s "$work/one.tsv" "$work/full/predictions.tsv" && ok || bad "--num-beams 1 is not greedy's text"
"$lntune" predict --run "$work/full" --num-beams 3 --length-penalty 0.9 --no-repeat-ngram-size 4 --early-stopping never \
  --no-kv-cache --out "$work/beam_whole.tsv" > /dev/null 2>&1 && cmp -s "$work/beam.tsv" "$work/beam_whole.tsv" && ok ||
  bad "beam search without the KV cache wrote other text"
perr() {  # expects: <substring> <args...>
  local want=$1; shift
  if "$lntune" predict "$@" > /dev/null 2> "$work/perr"; then
    bad "predict accepted: $*"
  else
    grep -qF -- "$want" "$work/perr" && [ "$(wc -l < "$work/perr")" = 1 ] && ok || bad "predict $*: $(cat "$work/perr")"
  fi
}
perr "lntune predict: task.num_beams: must be at least 1" --run "$work/full" --num-beams 0
perr 'lntune predict: task.early_stopping: must be true, false or "never", got "soon"' --run "$work/full" --early-stopping soon
perr "lntune predict: task.no_repeat_ngram_size: must be 0 (off) or positive" --run "$work/full" --no-repeat-ngram-size -2

# 3. export: a GPT2LMHeadModel folder that lntune loads.
"$lntune" export --run "$work/full" --out "$work/exported" > /dev/null 2>&1 && grep -q GPT2LMHeadModel "$work/exported/config.json" &&
  "$lntune" info --model "$work/exported" > /dev/null 2>&1 && ok || bad "export of an e2e run"

# 4. LN-Tuning on the real data: devset.csv split by MR (437 / 110), 3594 training examples.
"$lntune" train --config "$work/run.json" --set method.name=ln --set task.data_dir="$shared/data/e2e" \
  --set task.max_eval_examples=3 --set train.max_steps=2 --set output_dir="$work/ln" > /dev/null 2> "$work/ln.err" || bad "ln run failed: $(tail -2 "$work/ln.err")"
grep -q "devset.csv split by meaning representation, 437 to train, 110 to evaluate" "$work/ln.err" && ok || bad "no split line"
grep -q '"train_examples": 3594' "$work/ln/results.json" && grep -q '"dev_examples": 3' "$work/ln/results.json" && ok || bad "ln results.json"
grep -q '"trainable_backbone_params": 4608' "$work/ln/results.json" && ok || bad "ln trainable count (9 LayerNorms x 2 x 256)"

# 4b. a soft prompt, and a prefix with shifted positions, take positions before the tokens: a
# seeded model (which never writes <|endoftext|>) decoding up to 300 new tokens must stop at
# n_positions (256) less those, not fail past the position table.
for m in prefix prompt; do
  "$lntune" train --config "$work/run.json" --set method.name=$m $([ $m = prefix ] && echo "--set method.positions=shifted") \
    --set task.max_new_tokens=300 --set task.max_eval_examples=2 \
    --set train.max_steps=1 --set output_dir="$work/$m" > /dev/null 2> "$work/$m.err" &&
    [ "$(wc -l < "$work/$m/dev_generations.txt")" = 2 ] && ok || bad "$m run with long generation: $(tail -2 "$work/$m.err")"
done

# 5. bad configs: one line naming the key, exit 1.
err() {  # expects: <substring> <args...>
  local want=$1; shift
  if "$lntune" train --config "$work/run.json" --set output_dir="$work/bad" "$@" > /dev/null 2> "$work/err"; then
    bad "accepted: $*"
  else
    grep -qF -- "$want" "$work/err" && [ "$(grep -c 'error' "$work/err")" = 1 ] && ok || bad "$*: $(cat "$work/err")"
  fi
}
err "task.name: e2e generates text: it needs a GPT-2 model" --set model.path="$fx/bert_seq_cls"
err "train.cuda_graphs: a generation task (e2e) runs eagerly" --set train.cuda_graphs=true
err "task.data_dir: missing" --set task.data_dir=
err "$work/none/devset.csv" --set task.data_dir="$work/none"
err "task.max_new_tokens: must be positive" --set task.max_new_tokens=0
err "task.num_beams: must be at least 1" --set task.num_beams=0
err "task.name: unknown GLUE task 'e2' (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli), or csv, jsonl, e2e" --set task.name=e2
finish
