#!/usr/bin/env bash
# The README's run command: the most real job lntune has today — LN-Tuning on the real RTE data
# (../shared/data/glue/RTE), 3 epochs, from the best checkpoint available.
#
# Best checkpoint available: until `lntune pretrain` exists, a *seeded, untrained* bert-mini
# (L=4, H=256, real BERT-uncased vocabulary) made by `lntune init`. Its dev accuracy is
# therefore chance level; the run shows the whole pipeline on real data, not a trained model.
# Pass another model folder as $1 (e.g. a pretrained one) to fine-tune that instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
lntune=${LNTUNE_BUILD_DIR:-$root/build}/lntune
model=${1:-runs/models/bert-mini-seeded}
if [ -z "${1:-}" ] && [ ! -f "$model/model.safetensors" ]; then
  "$lntune" init --arch bert-mini --tokenizer ../shared/tokenizers/bert-base-uncased --out "$model"
fi
"$lntune" info --model "$model"
out=runs/main/rte-ln-$(date +%Y%m%d-%H%M%S)
echo "== lntune train --config configs/rte/ln.json (model: $model, output: $out)"
"$lntune" train --config configs/rte/ln.json --set model.path="$model" --set output_dir="$out"
echo "results: $out/results.json, curve: $out/metrics.jsonl"
