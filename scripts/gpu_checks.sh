#!/usr/bin/env bash
# Every check that needs the GPU machine, in stages, each logging to one file under OUT (the
# device tool's $OUT, else out/gpu/): few files, since the device tool returns at most 8.
#
#   scripts/gpu_checks.sh STAGE...        stages, in the order a session should run them:
#     build     configure + build against PyTorch's LibTorch (CUDA kernels + binding, NCCL when
#               cmake/nccl.cmake finds it) into build-gpu/            (~3-5 min on 16 cores)
#     tests     the GPU tests (CUDA kernels vs torch, determinism, NCCL, bf16)
#     suite     the whole ctest suite built against PyTorch's LibTorch (what CI runs on Debian's)
#     fixtures  HF parity fixtures (scripts/make_hf_fixtures.py) into tests/fixtures/hf, the parity
#               tests on them, and hf_fixtures.tar.gz to commit
#     kernels   bench-norm on CUDA and scripts/bench_norm.py (torch.compile, F.layer_norm peers)
#     train     bench-train on CUDA, bf16: as lntune train runs (fused norms and AdamW), and with
#               AdamW per tensor (--adamw-impl torch)                         (~6 min, a call alone)
#     hf        scripts/bench_hf_peft.py, eager and SDPA attention
#     graphs    CUDA graphs (train.cuda_graphs): an RTE LN-Tuning run with and without (same losses)
#     alternate bench-train's variants (fused vs torch norms, with and without CUDA graphs, SDPA vs
#               eager attention) alternated round by round, medians per variant          (~3 min)
#     train2    bench-train with SDPA attention, and with torch's norms       (~6 min, a call alone)
#     train3    bench-train with frozen weights kept fp32                     (~3 min)
#     parity    scripts/hf_peft_parity.py: 50-step loss curves vs HF (+ PEFT) for full, ln, bitfit, ia3, lora, prefix
#     generate  HF transformers' greedy generate on the HF GPT-2 fixture and its beam search on a
#               small peaked GPT-2 (scripts/make_hf_generate_fixture.py) into tests/fixtures/hf, the
#               tests on them, and generate_fixtures.tar.gz to commit
#     export    short LoRA, LN, prefix and prompt runs on RTE, loaded back by HF PEFT (scripts/check_peft_export.py);
#               scripts/check_hf_folder.py on the pretrained bert-mini when it was carried
#
# What must travel (the device tool's carry, 64 MiB with the tree, ~18 MB of it tracked): .deps
# (scripts/stage_deps.sh, 8 MB), shared (a git-ignored copy of ../shared's data/glue and tokenizers:
# `mkdir -p shared && cp -r ../shared/data/glue ../shared/tokenizers shared/`, 9 MB; `suite` needs
# all of GLUE, the other stages RTE alone), and for parity/export on the pretrained model
# runs/pretrain/bert-mini/model (45 MB: with RTE alone only). Build outputs stay on the machine
# between calls only while it is warm (30 s after a call): chain the calls.
# Each stage runs under a time limit; the script goes on after a failed stage and exits non-zero.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-$root/out/gpu}
mkdir -p "$out"
build=$root/build-gpu
lntune=$build/lntune
shared=$root/shared
[ -d "$shared/data/glue" ] || shared=$root/../shared
export PYTHONUNBUFFERED=1
py=python3

stage_build() {
  local prefix gen=()
  prefix=$($py -c 'import torch; print(torch.utils.cmake_prefix_path)') || return 1
  command -v ninja > /dev/null && gen=(-G Ninja)
  [ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $py -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DLNTUNE_DEPS_DIR="$root/.deps" -DLNTUNE_SHARED_DIR="$shared" -DCMAKE_CUDA_ARCHITECTURES=90 || return 1
  # Why cmake/nccl.cmake's check failed, when it did: the compiler's and linker's own words.
  if grep -q '^LNTUNE_NCCL_COMPILES:INTERNAL=$' "$build/CMakeCache.txt" 2> /dev/null ||
     grep -q '^LNTUNE_NCCL_COMPILES:INTERNAL=FALSE' "$build/CMakeCache.txt" 2> /dev/null; then
    grep -n -i -B2 -A8 'error' "$build/CMakeFiles/CMakeConfigureLog.yaml" | head -60
  fi
  cmake --build "$build" -j "$(nproc)" --target lntune lntune_tests lntune_core_tests
}

stage_tests() {
  # The CUDA-only cases first: they have never run before a GPU was lent.
  grep -i nccl "$build/CMakeCache.txt" | grep -i "found\|LNTUNE" | head -5
  "$build/tests/lntune_tests" --gtest_filter='*Cuda*:Distributed.*:Precision.*:AdamW.*:Attention.*:StepGraph.*'
}

stage_suite() {
  # The rest, less what needs this machine's npm (HF tokenizers oracle) or clang (fuzzers). The
  # shell tests' Python-with-torch is the venv's there (its /usr/bin/python3 has no numpy).
  export LNTUNE_PYTHON=$(command -v $py)
  ctest --test-dir "$build" -j 8 --output-on-failure --timeout 600 -E 'tokenizer_parity|fuzz_smoke' 
}

stage_fixtures() {
  $py scripts/make_hf_fixtures.py tests/fixtures/hf || return 1
  "$build/tests/lntune_tests" --gtest_filter='HfParity*' || return 1
  tar -czf "$out/hf_fixtures.tar.gz" -C tests/fixtures hf
}

stage_kernels() {
  # The promoted version 2 and its challengers side by side in one run (kernels/*/versions.h;
  # version 1, beaten by 2 in every row on 2026-11-24, no longer timed), as device time
  # (graph replays) and as one call's latency, then PyTorch's peers (F.layer_norm, torch.compile,
  # latency) against the promoted one.
  "$lntune" bench-norm --device cuda --kernel-version 2,3,4 --reps 15 --timing graph || return 1
  "$lntune" bench-norm --device cuda --kernel-version 2,3,4 --reps 15 --timing sync || return 1
  $py scripts/bench_norm.py --lntune "$lntune" --device cuda
}

bench_train_variants() {
  # Three rounds, odd ones in reverse order, median reported (single runs varied by ~20% on
  # 2026-11-24); the methods of the HF PEFT target and full fine-tuning for the ratios.
  local args=(bench-train --preset bert-base --device cuda --bf16 --methods full,ln,bitfit,lora
              --batch 32 --seq 128 --steps 20 --warmup 3 --repeats 3)
  for v in "$@"; do
    echo "== bench-train $v"
    "$lntune" "${args[@]}" $v || return 1
  done
}

stage_train() {
  # What lntune train does (fused norms, fused AdamW, frozen projections in bf16), with its steps
  # run eagerly (train.cuda_graphs false; `alternate` times the replayed ones); the same with the
  # per-tensor AdamW.
  bench_train_variants "--norm-impl fused" "--norm-impl fused --adamw-impl torch"
}

stage_hf() {
  $py scripts/bench_hf_peft.py --lntune "$lntune" --attention sdpa &&
    $py scripts/bench_hf_peft.py --lntune "$lntune"
}

# The model a training stage starts from: the pretrained bert-mini where it was carried, else the
# seeded fixture (64 positions). Sets the caller's `base`, and `len` (task.max_length) to $1 or
# $2 accordingly.
pick_base() {
  base=runs/pretrain/bert-mini/model len=$1
  [ -f "$base/config.json" ] || { base=tests/fixtures/bert_seq_cls; len=$2; }
}

stage_graphs() {
  # The same LN-Tuning run on RTE eager and replayed as CUDA graphs (dropout off, file order): the
  # loss curves must agree to bf16 round-off (the graphed run pads batches to a multiple of 16).
  local base len rc=0
  pick_base 128 48
  for g in false true; do
    rm -rf "runs/gpu-graphs-$g"
    "$lntune" train --config configs/rte/ln.json --set model.path="$base" --set task.data_dir="$shared/data/glue/RTE" \
      --set task.max_length=$len --set train.max_steps=80 --set train.log_every=1 --set model.dropout=0 \
      --set train.shuffle=false --set train.cuda_graphs=$g --set output_dir="runs/gpu-graphs-$g" 2>&1 | tail -3 || rc=1
  done
  $py - runs/gpu-graphs-false runs/gpu-graphs-true <<'PY' || rc=1
import json, sys
def run(d):
    rows = [json.loads(l) for l in open(d + "/metrics.jsonl")]
    return [r["loss"] for r in rows if "loss" in r], [r["tokens_per_s"] for r in rows if "loss" in r], json.load(open(d + "/results.json"))
(le, te, re), (lg, tg, rg) = run(sys.argv[1]), run(sys.argv[2])
worst = max(abs(a - b) / max(abs(a), 1e-6) for a, b in zip(le, lg))
print(f"steps {len(le)} / {len(lg)}; largest relative loss difference {worst:.2e}; tokens/s eager {te[-1]:.0f}, "
      f"graphs {tg[-1]:.0f} ({tg[-1] / te[-1]:.2f}x); graphs captured {rg.get('cuda_graphs')}; best eager {re['best']} graphs {rg['best']}")
assert len(le) == len(lg) == 80 and worst < 2e-2, "graphed losses do not follow the eager ones"
PY
  return $rc
}

stage_alternate() {
  # bench-train's variants alternated round by round, the second round in reverse order (run one
  # after another, the first on an idle GPU read ~20% faster on 2026-11-24): our norms vs torch's
  # with each step replayed as a CUDA graph (lntune train's default on a GPU) and eager, SDPA vs
  # eager attention. One JSON line per row in alternate.jsonl, then each variant's median step
  # time and peak memory per method.
  local variants=("--norm-impl fused --attention sdpa --cuda-graphs" "--norm-impl torch --attention sdpa --cuda-graphs"
                  "--norm-impl fused --attention sdpa" "--norm-impl torch --attention sdpa" "--norm-impl fused --attention eager")
  local order=(0 1 2 3 4 4 3 2 1 0) i
  for i in "${order[@]}"; do
    echo "== bench-train variant '${variants[$i]}'"
    "$lntune" bench-train --preset bert-base --device cuda --bf16 --methods full,ln,bitfit,lora --batch 32 --seq 128 \
      --steps 20 --warmup 3 --json ${variants[$i]} | sed "s/^{/{\"variant\":\"${variants[$i]}\",/" | tee -a "$out/alternate.jsonl" ||
      return 1
  done
  $py - "$out/alternate.jsonl" <<'PY'
import collections, json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = collections.defaultdict(list)
for r in rows:
    by[(r["variant"] or "default", r["method"])].append(r)
print("| variant | method | step ms (median of rounds) | rounds | peak MB | ops/step |")
print("|---|---|---|---|---|---|")
for (v, m), rs in sorted(by.items()):
    print(f"| {v} | {m} | {statistics.median(r['step_ms'] for r in rs):.1f} | "
          f"{' / '.join('%.1f' % r['step_ms'] for r in rs)} | {max(r['peak_mb'] for r in rs):.0f} | {rs[0]['ops_per_step']} |")
PY
}

stage_train2() {
  # The written-out attention (model.attention eager; auto, the default, is sdpa there); torch's
  # norms.
  bench_train_variants "--norm-impl fused --attention eager" "--norm-impl torch"
}

stage_train3() {
  # Frozen weights kept fp32 and cast at every use (as HF PEFT under autocast).
  bench_train_variants "--norm-impl fused --frozen-fp32"
}

stage_parity() {
  local base len rc=0
  pick_base 0 48  # 0: the config's length; the fixture: room for a 10-token prefix
  echo "base model: $base"
  for m in full ln bitfit ia3 lora prefix; do
    $py scripts/hf_peft_parity.py "$base" $m --steps 50 --max-length $len --glue "$shared/data/glue" --lntune "$lntune" \
      --out "$root/runs/parity" | tee -a "$out/parity.jsonl" || rc=1
  done
  return $rc
}

stage_generate() {
  # Greedy (gpt2_generate.json) and beam search (gpt2_beam_lm/ and gpt2_beam_generate.json): one
  # archive to commit, unpacked under tests/fixtures/hf.
  $py scripts/make_hf_generate_fixture.py tests/fixtures/hf > tests/fixtures/hf/gpt2_generate.json || return 1
  tar -czf "$out/generate_fixtures.tar.gz" -C tests/fixtures/hf gpt2_generate.json gpt2_beam_lm gpt2_beam_generate.json
  "$build/tests/lntune_tests" --gtest_filter='Generate.*HfTransformersGenerate'
}

stage_export() {
  local base len rc=0
  pick_base 128 40  # the fixture: room for a 20-token prompt
  for m in lora ia3 ln prefix prompt; do
    rm -rf "runs/gpu-export-$m"
    # prefix with the positions HF PEFT computes with (a from_zero export only warns).
    "$lntune" train --config configs/rte/$m.json --set model.path="$base" --set task.data_dir="$shared/data/glue/RTE" \
      --set task.max_length=$len --set train.epochs=1 --set train.bf16=false --set output_dir="runs/gpu-export-$m" \
      $([ $m = prefix ] && echo "--set method.positions=shifted") > /dev/null || { rc=1; continue; }
    $py scripts/check_peft_export.py "runs/gpu-export-$m" "$shared/data/glue" || rc=1
  done
  if [ -f runs/pretrain/bert-mini/model/config.json ]; then
    "$lntune" forward --model runs/pretrain/bert-mini/model --text "The capital of France is [MASK]." \
      --out runs/pretrain/bert-mini/forward.safetensors > /dev/null &&
      $py scripts/check_hf_folder.py runs/pretrain/bert-mini/model runs/pretrain/bert-mini/forward.safetensors || rc=1
  fi
  return $rc
}

limit() {  # seconds each stage may take
  case $1 in build) echo 420 ;; suite) echo 540 ;; train | train2 | train3 | alternate) echo 570 ;; *) echo 300 ;; esac
}

[ $# -gt 0 ] || { sed -n 2,30p "$0"; exit 2; }
for s in "$@"; do
  declare -F "stage_$s" > /dev/null || { echo "gpu_checks: unknown stage '$s' (see: scripts/gpu_checks.sh)" >&2; exit 2; }
done
status=0
for s in "$@"; do
  log=$out/$s.log
  start=$(date +%s)
  # A stage runs in a subshell under its time limit, its output in its log and on the terminal.
  timeout "$(limit "$s")" bash -c "set -o pipefail; $(declare -f); $(declare -p root out build lntune shared py 2> /dev/null); stage_$s" \
    > >(tee "$log") 2>&1
  rc=$?
  echo "stage $s: exit $rc after $(($(date +%s) - start)) s" | tee -a "$out/summary.txt"
  [ $rc = 0 ] || status=1
done
exit $status
