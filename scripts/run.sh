#!/usr/bin/env bash
# The README's run command: the most real end-to-end job lntune has today.
#   1. `lntune info` on the seeded BERT and GPT-2 checkpoints in every format (TorchScript,
#      safetensors folder, pytorch_model.bin). These are small *seeded* models, not pretrained
#      ones: no pretrained weights can be had on this machine (see docs/).
#   2. The real SST-2 dev set tokenised with the real BERT-uncased and GPT-2 tokenizers, with
#      length statistics. Ids are written under runs/tokenize/.
# Replaced by a real fine-tune once `lntune train` exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
lntune=${LNTUNE_BUILD_DIR:-$root/build}/lntune
shared=${LNTUNE_SHARED_DIR:-$root/../shared}
fx=$root/tests/fixtures
for m in bert_seq_cls.pt bert_seq_cls bert_seq_cls_bin gpt2_lm.pt gpt2_lm gpt2_lm_bin; do
  echo "== lntune info --model tests/fixtures/$m   (seeded, not pretrained)"
  "$lntune" info --model "$fx/$m"
  echo
done
out=$root/runs/tokenize
mkdir -p "$out"
tail -n +2 "$shared/data/glue/SST-2/dev.tsv" | cut -f1 > "$out/sst2_dev.txt"
echo "== SST-2 dev ($(wc -l < "$out/sst2_dev.txt") sentences) through the real tokenizers"
"$lntune" tokenize --tokenizer "$shared/tokenizers/bert-base-uncased" --stats < "$out/sst2_dev.txt" > "$out/sst2_dev.bert.ids"
"$lntune" tokenize --tokenizer "$shared/tokenizers/gpt2" --stats < "$out/sst2_dev.txt" > "$out/sst2_dev.gpt2.ids"
echo "ids written to runs/tokenize/"
