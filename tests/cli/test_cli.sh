#!/usr/bin/env bash
# End-to-end checks of the lntune command: `info` on every checkpoint format, and bad inputs
# (missing file, truncated safetensors, lying header, wrong vocab, config mismatch, bad JSON,
# garbage archives), each of which must exit non-zero with exactly one line on stderr that
# names the offending file.
# usage: test_cli.sh <lntune binary> <fixtures dir>
# Python with torch (Debian's python3-torch here; LNTUNE_PYTHON elsewhere, e.g. the GPU machine's venv).
py3=${LNTUNE_PYTHON:-/usr/bin/python3}
source "$(dirname "$0")/lib.sh"

# expect_error <name> <exit code> <substring of the one stderr line> -- <lntune args...>
expect_error() {
  local name=$1 code=$2 want=$3
  shift 4
  "$lntune" "$@" > "$work/out" 2> "$work/err" < /dev/null
  local rc=$?
  local lines
  lines=$(wc -l < "$work/err")
  if [ "$rc" != "$code" ]; then bad "$name: exit $rc, expected $code ($(cat "$work/err"))"; return; fi
  if [ "$lines" != 1 ]; then bad "$name: $lines stderr lines: $(cat "$work/err")"; return; fi
  if ! grep -qF -- "$want" "$work/err"; then bad "$name: '$(cat "$work/err")' lacks '$want'"; return; fi
  ok
}

# --version names the commit the binary was built from (cmake/build_info.cmake regenerates it at
# every build): HEAD of this checkout, with "-dirty" when tracked files were edited, or "unknown"
# outside a git checkout. info prints the same and its --json carries it.
src_root=$(cd "$(dirname "$0")/../.." && pwd)
version=$("$lntune" --version)
if head=$(git -C "$src_root" rev-parse HEAD 2> /dev/null); then
  [[ "$version" =~ ^lntune\ $head(-dirty)?$ ]] && ok || bad "--version: '$version', HEAD is $head"
else
  [ "$version" = "lntune unknown" ] && ok || bad "--version outside a git checkout: '$version'"
fi
commit=${version#lntune }
"$lntune" info --model "$fx/bert_seq_cls" | grep -qx "lntune       $commit" && ok || bad "info does not print the build commit"
"$lntune" info --model "$fx/bert_seq_cls" --json | grep -qF "\"lntune_commit\": \"$commit\"" && ok || bad "info --json lntune_commit"

# info on every format of both models
for m in bert_seq_cls bert_seq_cls_bin bert_seq_cls.pt gpt2_lm gpt2_lm_bin gpt2_lm.pt; do
  if "$lntune" info --model "$fx/$m" > "$work/info" 2>&1 && grep -q "^norms        5 x layernorm" "$work/info" &&
     grep -q "^parameters" "$work/info"; then ok; else bad "info $m: $(cat "$work/info")"; fi
done
"$lntune" info --model "$fx/bert_seq_cls" --json | grep -q '"total": 24515' && ok || bad "info --json parameter count"
# Debian's LibTorch starts with one intra-op thread; lntune must use every core (or the override):
# as intra-op threads, or, where OpenBLAS runs its own pthread pool, through that pool with one
# intra-op thread (two pools on the same cores slow a step down 1.8x, docs/benchmarks.md).
line=$(env -u OMP_NUM_THREADS -u LNTUNE_THREADS -u OPENBLAS_NUM_THREADS "$lntune" info --model "$fx/bert_seq_cls" | grep '^threads')
threads=$(sed -n 's/^threads *\([0-9]*\).*/\1/p' <<< "$line")
case "$line" in
  *"OpenBLAS pthreads"*) [ "$threads" = 1 ] && grep -q "OpenBLAS pthreads x$(nproc)\$" <<< "$line" && ok || bad "threads with OpenBLAS's pool: '$line'" ;;
  *) [ "$threads" = "$(nproc)" ] && ok || bad "threads: got '$line', expected $(nproc) intra-op" ;;
esac
threads=$(LNTUNE_THREADS=3 "$lntune" info --model "$fx/bert_seq_cls" | sed -n 's/^threads *\([0-9]*\).*/\1/p')
[ "$threads" = 3 ] && ok || bad "LNTUNE_THREADS=3: got '$threads'"
# OMP_NUM_THREADS counts the cores, which OpenBLAS also sizes its pool by: with that pool, one
# intra-op thread (as two pools of 2 on 2 cores, pretraining ran 3-6.5x slower); with a one-thread
# pool (OPENBLAS_NUM_THREADS=1), OpenMP gets them all.
omp() { env -u LNTUNE_THREADS -u LNTUNE_CORES "$@" "$lntune" info --model "$fx/bert_seq_cls" | sed -n 's/^threads *//p'; }
case "$line" in
  *"OpenBLAS pthreads"*)
    [ "$(omp -u OPENBLAS_NUM_THREADS OMP_NUM_THREADS=2)" = "1 intra-op + OpenBLAS pthreads x2" ] &&
      [ "$(omp OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1)" = "2 intra-op + OpenBLAS pthreads x1" ] && ok ||
      bad "OMP_NUM_THREADS=2: '$(omp -u OPENBLAS_NUM_THREADS OMP_NUM_THREADS=2)' / with OPENBLAS_NUM_THREADS=1: '$(omp OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1)'" ;;
  *) [[ "$(omp OMP_NUM_THREADS=2)" == "2 intra-op"* ]] && ok || bad "OMP_NUM_THREADS=2: '$(omp OMP_NUM_THREADS=2)'" ;;
esac
# The allocator: glibc's heap kept by default (a step's pages fault in once, docs/benchmarks.md),
# glibc's defaults with LNTUNE_MALLOC=system, the user's own malloc settings left alone, and a bad
# value a one-line error.
alloc() { env -u GLIBC_TUNABLES -u LD_PRELOAD "$@" "$lntune" info --model "$fx/bert_seq_cls" | sed -n 's/^allocator *//p'; }
[ "$(alloc)" = "glibc malloc, heap kept (no mmap, no trim; LNTUNE_MALLOC=system for the defaults)" ] &&
  [ "$(alloc LNTUNE_MALLOC=system)" = "system malloc defaults" ] &&
  [ "$(alloc GLIBC_TUNABLES=glibc.malloc.arena_max=2)" = "malloc as the environment configures it" ] && ok ||
  bad "allocator: '$(alloc)' / '$(alloc LNTUNE_MALLOC=system)' / '$(alloc GLIBC_TUNABLES=glibc.malloc.arena_max=2)'"
LNTUNE_MALLOC=tcmalloc expect_error bad-malloc 1 "LNTUNE_MALLOC: 'tcmalloc' is not one of retain, system" -- info --model "$fx/bert_seq_cls"

# usage errors: exit 2
"$lntune" > /dev/null 2> "$work/usage"; [ $? = 2 ] && grep -q "^usage: lntune <command>" "$work/usage" && ok || bad "no command should print usage and exit 2"
"$lntune" nope > /dev/null 2>&1; [ $? = 2 ] && ok || bad "unknown command should exit 2"
expect_error tokenize-no-dir 2 "--tokenizer DIR is required" -- tokenize
# Option values that were silently ignored (no limit, no padding, the run's batch size).
expect_error tokenize-negative-length 2 "--max-length must be >= 0 (0: no limit)" -- tokenize --tokenizer "$fx/bert_seq_cls" --max-length -5
expect_error tokenize-pad-no-length 2 "--pad pads to --max-length: give one" -- tokenize --tokenizer "$fx/bert_seq_cls" --pad
expect_error predict-negative-batch 2 "--batch must be >= 0 (0: the run's train.eval_batch_size)" -- predict --run "$work" --batch -3

# missing file
expect_error missing-file 1 "$work/none.safetensors: checkpoint not found" -- info --model "$work/none.safetensors"
expect_error missing-dir 1 "$work/nodir" -- info --model "$work/nodir"

# truncated safetensors
mkdir "$work/trunc" && cp "$fx/bert_seq_cls/config.json" "$work/trunc/"
head -c 50000 "$fx/bert_seq_cls/model.safetensors" > "$work/trunc/model.safetensors"
expect_error truncated 1 "$work/trunc/model.safetensors: " -- info --model "$work/trunc"

# header length lying past the end of the file
mkdir "$work/lie" && cp "$fx/bert_seq_cls/config.json" "$work/lie/"
cp "$fx/bert_seq_cls/model.safetensors" "$work/lie/model.safetensors"
printf '\xff\xff\xff\x00' | dd of="$work/lie/model.safetensors" bs=1 seek=0 conv=notrunc status=none
expect_error lying-header 1 "$work/lie/model.safetensors: header: length" -- info --model "$work/lie"

# config mismatch (weights for hidden 32, config says 64)
mkdir "$work/mismatch" && cp "$fx/bert_seq_cls/model.safetensors" "$work/mismatch/"
sed 's/"hidden_size": 32/"hidden_size": 64/' "$fx/bert_seq_cls/config.json" > "$work/mismatch/config.json"
expect_error config-mismatch 1 "$work/mismatch/model.safetensors: shape mismatch" -- info --model "$work/mismatch"

# broken config.json
mkdir "$work/badcfg" && cp "$fx/bert_seq_cls/model.safetensors" "$work/badcfg/"
echo '{"model_type": "bert",' > "$work/badcfg/config.json"
expect_error bad-config-json 1 "$work/badcfg/config.json: invalid JSON" -- info --model "$work/badcfg"
sed 's/"num_attention_heads": 4/"num_attention_heads": "4"/' "$fx/bert_seq_cls/config.json" > "$work/badcfg/config.json"
expect_error bad-config-type 1 "$work/badcfg/config.json: num_attention_heads: has the wrong type" -- info --model "$work/badcfg"

# garbage archives
echo "not a checkpoint" > "$work/garbage.pt"
expect_error garbage-pt 1 "$work/garbage.pt: " -- info --model "$work/garbage.pt"
mkdir "$work/badbin" && cp "$fx/bert_seq_cls/config.json" "$work/badbin/"
head -c 3000 "$fx/bert_seq_cls_bin/pytorch_model.bin" > "$work/badbin/pytorch_model.bin"
expect_error truncated-bin 1 "$work/badbin/pytorch_model.bin: " -- info --model "$work/badbin"

# wrong vocabularies
mkdir "$work/vocab1" && printf 'hello\nworld\n' > "$work/vocab1/vocab.txt"
expect_error wrong-vocab-txt 1 "$work/vocab1/vocab.txt: vocab: has no '[UNK]' token" -- tokenize --tokenizer "$work/vocab1"
mkdir "$work/vocab2" && echo '["a"]' > "$work/vocab2/vocab.json" && printf '#version: 0.2\n' > "$work/vocab2/merges.txt"
expect_error wrong-vocab-json 1 "$work/vocab2/vocab.json: must be a JSON object" -- tokenize --tokenizer "$work/vocab2"
mkdir "$work/vocab3" && echo '{"model": {"type": "Unigram"}}' > "$work/vocab3/tokenizer.json"
expect_error unsupported-tokenizer-json 1 "$work/vocab3/tokenizer.json: model.type" -- tokenize --tokenizer "$work/vocab3"

# bench-train (a benchmark, not a timed test): one row per method, each run in its own process;
# what LN-Tuning all-reduces is its trainable LN + head elements, a tiny fraction of full's;
# fisher_ln's step is LN-Tuning's plus its gradient masks (one multiply per LN tensor), as in
# lntune train, and it counts a tenth of the LN elements.
"$lntune" bench-train --preset bert-tiny --batch 2 --seq 8 --steps 1 --warmup 0 --methods full,ln,bitfit,fisher_ln --json --device cpu \
  > "$work/bench.json" 2> "$work/bench.err" || bad "bench-train failed: $(tail -1 "$work/bench.err")"
"$py3" - "$work/bench.json" <<'PY' && ok || bad "bench-train output: $(cat "$work/bench.json")"
import json, sys
rows = {r["method"]: r for r in map(json.loads, open(sys.argv[1]))}
assert set(rows) == {"full", "ln", "bitfit", "fisher_ln"}, rows
assert rows["full"]["step_time_vs_full"] == 1.0
# bert-tiny, 2 labels: 5 LayerNorms x 2 x 128 + classifier 258 = 1538 elements.
assert rows["ln"]["allreduce_elements"] == 5 * 2 * 128 + 258, rows["ln"]
assert rows["full"]["allreduce_elements"] > 4_000_000 and all(r["peak_mb"] > 0 and r["device"] == "cpu" for r in rows.values())
assert rows["fisher_ln"]["update_ops"] == rows["ln"]["update_ops"] + 10, (rows["ln"], rows["fisher_ln"])
assert abs(rows["fisher_ln"]["trainable_percent"] * 10 - rows["ln"]["trainable_percent"]) < 1e-12, rows["fisher_ln"]
PY
expect_error bench-bad-method 1 "unknown PEFT method" -- bench-train --method nope --preset bert-tiny --batch 1 --seq 4 --steps 1
# The same table with our fused norms swapped in (the end-to-end kernel comparison).
"$lntune" bench-train --preset bert-tiny --batch 2 --seq 8 --steps 1 --warmup 0 --methods ln --norm-impl fused \
  > "$work/bench_fused.txt" 2> "$work/bench_fused.err" && grep -q "impl fused" "$work/bench_fused.txt" && ok \
  || bad "bench-train --norm-impl fused: $(tail -1 "$work/bench_fused.err")"
# Repeated rounds (odd ones in reverse order): each row is its median round, every round listed.
"$lntune" bench-train --preset bert-tiny --batch 2 --seq 8 --steps 1 --warmup 0 --methods ln,bitfit --device cpu \
  --repeats 3 --json > "$work/bench_rep.json" 2> "$work/bench_rep.err" || bad "bench-train --repeats: $(tail -1 "$work/bench_rep.err")"
"$py3" - "$work/bench_rep.json" "$work/bench_rep.err" <<'PY' && ok || bad "bench-train --repeats output: $(cat "$work/bench_rep.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["method"] for r in rows] == ["ln", "bitfit"], rows
for r in rows:
    runs = sorted(r["step_ms_runs"])
    assert len(runs) == 3 and r["step_ms"] == runs[1], r
    assert r["step_ms_min"] == runs[0] and r["step_ms_max"] == runs[2], r
log = open(sys.argv[2]).read()
# Round 2 runs bitfit before ln.
assert log.index("bitfit (round 2/3)") < log.index("ln (round 2/3)"), log
PY
expect_error bench-bad-preset 1 "--preset: 'bert-huge' is not one of bert-tiny, bert-mini" -- bench-train --preset bert-huge --batch 1 --seq 4 --steps 1
expect_error init-bad-arch 1 "--arch: 'bert-huge' is not one of bert-tiny, bert-mini" -- init --arch bert-huge --tokenizer "$fx/bert_seq_cls" --out "$work/huge"
expect_error bench-negative-warmup 2 "--warmup must be >= 0" -- bench-train --preset bert-tiny --warmup -1
expect_error bench-bad-methods 1 "--methods: method.name: unknown PEFT method 'nope'" -- bench-train --preset bert-tiny --methods full,nope
expect_error bench-no-methods 2 "--methods names no method" -- bench-train --preset bert-tiny --methods ,
expect_error bench-bad-repeats 2 "--repeats must be positive" -- bench-train --preset bert-tiny --repeats 0
expect_error bench-graphs-cpu 2 "--cuda-graphs needs a CUDA device" -- bench-train --preset bert-tiny --device cpu --cuda-graphs
expect_error bench-graphs-adamw 2 "--cuda-graphs needs --adamw-impl fused" -- bench-train --preset bert-tiny --cuda-graphs --adamw-impl torch
# Each implementation flag is fused or torch, checked before any method's process starts.
for flag in adamw-impl dropout-impl norm-impl; do
  expect_error "bench-bad-$flag" 2 "--$flag: fused or torch" -- bench-train --preset bert-tiny --$flag apex
done

# bench-norm: one row per op x dtype x shape x pass, ours and torch's timed in the same run.
"$lntune" bench-norm --device cpu --shapes 64x7,32x768 --reps 1 --json > "$work/norm.json" 2> "$work/norm.err" \
  || bad "bench-norm failed: $(tail -1 "$work/norm.err")"
"$py3" - "$work/norm.json" <<'PY' && ok || bad "bench-norm output: $(cat "$work/norm.json")"
import json, sys
rows = list(map(json.loads, open(sys.argv[1])))
assert len(rows) == 2 * 2 * 2 * 2, len(rows)  # ops x dtypes x shapes x passes
assert {(r["op"], r["pass"]) for r in rows} == {(o, p) for o in ("layernorm", "dyt") for p in ("fwd", "fwd+bwd")}
assert all(r["ours_ms"] > 0 and r["torch_ms"] > 0 and r["copy_gbs"] > 0 and r["shape_copy_gbs"] > 0 for r in rows), rows
PY
# --ops dropout (CPU): our dropout kernel against torch::dropout, both passes, each dtype.
"$lntune" bench-norm --device cpu --ops dropout --shapes 32x768 --reps 1 --json > "$work/drop.json" 2> "$work/drop.err" \
  || bad "bench-norm --ops dropout failed: $(tail -1 "$work/drop.err")"
"$py3" - "$work/drop.json" <<'PY' && ok || bad "bench-norm --ops dropout output: $(cat "$work/drop.json")"
import json, sys
rows = list(map(json.loads, open(sys.argv[1])))
assert [(r["op"], r["dtype"], r["pass"]) for r in rows] == [("dropout", d, p) for d in ("Float", "BFloat16") for p in ("fwd", "fwd+bwd")], rows
assert all(r["ours_ms"] > 0 and r["torch_ms"] > 0 for r in rows), rows
PY
expect_error bench-norm-bad-op 1 "--ops: unknown op 'rmsnorm' (layernorm, dyt, dropout)" -- bench-norm --device cpu --ops rmsnorm --shapes 4x4 --reps 1
expect_error bench-norm-bad-dtype 1 "unknown dtype 'fp8'" -- bench-norm --dtypes fp8 --shapes 4x4 --reps 1
expect_error bench-norm-bad-version 2 "--kernel-version: not a version of any op" -- bench-norm --kernel-version 1,9 --shapes 4x4 --reps 1
# Builds of the CPU loops, side by side: one row per build asked for, each named (info names the
# widest this processor runs, the default).
widest=$("$lntune" info --model "$fx/bert_seq_cls" --json | "$py3" -c 'import json,sys; print(json.load(sys.stdin)["cpu_isa"])')
"$lntune" bench-norm --device cpu --shapes 8x768 --dtypes float32 --ops dyt --reps 1 --cpu-isa "baseline,$widest" \
  --json > "$work/isa.json" 2> "$work/isa.err" || bad "bench-norm --cpu-isa failed: $(tail -1 "$work/isa.err")"
"$py3" - "$work/isa.json" "$widest" <<'PY' && ok || bad "bench-norm --cpu-isa output ($widest): $(cat "$work/isa.json")"
import json, sys
rows = list(map(json.loads, open(sys.argv[1])))
assert sys.argv[2] in ("baseline", "avx2", "avx512"), sys.argv[2]
assert [r["cpu_isa"] for r in rows] == ["baseline", sys.argv[2]] * 2, rows  # fwd, then fwd+bwd
PY
expect_error bench-norm-bad-isa 2 "--cpu-isa: unknown instruction set 'avx9' (baseline, avx2, avx512)" -- bench-norm --device cpu --cpu-isa avx9 --shapes 4x4 --reps 1
LNTUNE_CPU_ISA=avx3 expect_error bench-norm-bad-isa-env 1 "LNTUNE_CPU_ISA=avx3: unknown instruction set 'avx3'" -- bench-norm --device cpu --shapes 4x4 --reps 1

finish
