#!/usr/bin/env bash
# Tokenizer parity with HF `tokenizers` (npm, the official binding) on real GLUE text from
# ../shared (every dev sentence of the five tasks + the first SST-2 train sentences: >5,000
# lines) plus tests/tokenizers/hard_cases.txt. Fails on the first differing line.
#
# usage: run_parity.sh <lntune binary> <shared dir> <mode>
#   mode: bert | gpt2 | bert-pairs | gpt2-pairs | bert-json | gpt2-json
set -euo pipefail
lntune=$1 shared=$2 mode=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/tokenizers" ] || { echo "oracle not installed: run scripts/setup.sh (npm ci in tests/oracle)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
glue=$shared/data/glue
kind=${mode%%-*}
case $kind in
  bert) tokdir=$shared/tokenizers/bert-base-uncased ;;
  gpt2) tokdir=$shared/tokenizers/gpt2 ;;
esac

# Corpus: every dev sentence of the five tasks, the first 2,000 SST-2 train sentences, hard cases.
{
  tail -n +2 "$glue/SST-2/dev.tsv" | cut -f1
  cut -f4 "$glue/CoLA/dev.tsv"
  tail -n +2 "$glue/MRPC/dev.tsv" | cut -f4,5 | tr '\t' '\n'
  tail -n +2 "$glue/STS-B/dev.tsv" | cut -f8,9 | tr '\t' '\n'
  tail -n +2 "$glue/RTE/dev.tsv" | cut -f2,3 | tr '\t' '\n'
  sed -n "2,2001p" "$glue/SST-2/train.tsv" | cut -f1
  cat "$here/../tokenizers/hard_cases.txt"
  # One 20,000-letter "word" (deterministic): BPE must stay fast and exact on it.
  awk 'BEGIN { s = ""; x = 7; for (i = 0; i < 20000; i++) { x = (x * 1103515245 + 12345) % 2147483648; s = s sprintf("%c", 97 + int(x / 65536) % 26) } print s }'
} > "$work/single.txt"
# Pairs: MRPC, STS-B and RTE dev pairs, truncated longest-first.
{
  tail -n +2 "$glue/MRPC/dev.tsv" | cut -f4,5
  tail -n +2 "$glue/STS-B/dev.tsv" | cut -f8,9
  tail -n +2 "$glue/RTE/dev.tsv" | cut -f2,3
  paste "$here/../tokenizers/hard_cases.txt" <(tac "$here/../tokenizers/hard_cases.txt")
} > "$work/pairs.txt"

args=() input=$work/single.txt
case $mode in
  *-pairs) args=(--pairs --max-length 48 --type-ids) input=$work/pairs.txt ;;
esac
lines=$(wc -l < "$input")
node "$here/oracle.js" "$kind" "$tokdir" "$input" "${args[@]}" > "$work/expected.txt"
if [[ $mode == *-json ]]; then
  # The same tokenizer saved by HF as tokenizer.json must load and give the same ids.
  mkdir "$work/json"
  node "$here/oracle.js" "$kind" "$tokdir" "" --save-json "$work/json/tokenizer.json"
  tokdir=$work/json
fi
"$lntune" tokenize --tokenizer "$tokdir" "${args[@]}" < "$input" > "$work/got.txt"
if ! cmp -s "$work/expected.txt" "$work/got.txt"; then
  n=$( (cmp "$work/expected.txt" "$work/got.txt" || true) | sed -n "s/.* line \([0-9]*\).*/\1/p")
  echo "MISMATCH ($mode) at line ${n:-?} of $lines:"
  echo "  text:     $(sed -n "${n:-1}p" "$input")"
  echo "  expected: $(sed -n "${n:-1}p" "$work/expected.txt")"
  echo "  lntune:   $(sed -n "${n:-1}p" "$work/got.txt")"
  exit 1
fi
echo "tokenizer parity ($mode): $lines lines identical to HF tokenizers"
