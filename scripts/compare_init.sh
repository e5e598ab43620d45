#!/usr/bin/env bash
# Does pretraining transfer? The same full fine-tune on SST-2 from a pretrained model folder and
# from a seeded, untrained model of the same shape and vocabulary, at each learning rate; prints
# the dev accuracy of each as a markdown table (issue 3's criterion).
# usage: scripts/compare_init.sh PRETRAINED_DIR [TAG] [LRS...]
#   env: RANDOM_DIR (default runs/models/bert-mini-seeded, made by `lntune init` when missing),
#        EXAMPLES (SST-2 training sentences, default 4000), EPOCHS (default 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lntune=${LNTUNE_BUILD_DIR:-$root/build}/lntune
pretrained=${1:?usage: compare_init.sh PRETRAINED_DIR [TAG] [LRS...]}
tag=${2:-pretrained}
shift $(( $# >= 2 ? 2 : 1 ))
lrs=("$@")
[ ${#lrs[@]} -gt 0 ] || lrs=(5e-4 1e-4)
random=${RANDOM_DIR:-runs/models/bert-mini-seeded}
examples=${EXAMPLES:-4000} epochs=${EPOCHS:-2}
if [ ! -f "$random/config.json" ]; then
  arch=$(/usr/bin/python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print('bert-mini' if c['hidden_size']==256 else 'bert-tiny' if c['hidden_size']==128 else 'bert-small')" "$pretrained/config.json")
  "$lntune" init --arch "$arch" --tokenizer ../shared/tokenizers/bert-base-uncased --out "$random" > /dev/null
fi
suffix=""  # runs of the default recipe keep their short names
[ "$examples" = 4000 ] && [ "$epochs" = 2 ] || suffix=-n$examples-e$epochs
acc() { grep -o '"accuracy": [0-9.]*' "$1/results.json" | head -1 | grep -o '[0-9.]*$'; }
declare -A got
for init in "$tag" random; do
  model=$pretrained
  [ "$init" = random ] && model=$random
  for lr in "${lrs[@]}"; do
    out=runs/compare/sst2-full-$init-lr$lr$suffix
    if [ ! -f "$out/results.json" ]; then
      rm -rf "$out"
      "$lntune" train --config configs/sst2/full.json --set model.path="$model" --set train.epochs="$epochs" \
        --set train.lr="$lr" --set task.max_train_examples="$examples" --set output_dir="$out" > /dev/null 2> "$out.log"
    fi
    got[$init,$lr]=$(acc "$out")
  done
done
printf '| init |'; for lr in "${lrs[@]}"; do printf ' lr %s |' "$lr"; done; echo
printf '|---|'; for _ in "${lrs[@]}"; do printf -- '---|'; done; echo
for init in "$tag" random; do
  printf '| %s |' "$init"
  for lr in "${lrs[@]}"; do printf ' %.1f%% |' "$(awk -v a="${got[$init,$lr]}" 'BEGIN { print 100 * a }')"; done
  echo
done
