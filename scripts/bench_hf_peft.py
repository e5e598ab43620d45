#!/usr/bin/env python3
"""lntune vs HF transformers + PEFT, one training step, same model shape, batch and sequence length
(for the GPU machine; random init is fine for speed). Prints tokens/s and peak memory side by side.

    python3 scripts/bench_hf_peft.py --lntune build/lntune [--batch 32 --seq 128 --steps 20] [--no-bf16]

HF side: BertForSequenceClassification(BertConfig()) (BERT-base, 2 labels), eager and
torch.compile, bf16 autocast, AdamW over the trainable tensors only. Methods: `ln` (every
LayerNorm's weight and bias + the classifier: what lntune's ln trains; PEFT's LNTuningConfig is a
different method, arXiv 2312.11420, so requires_grad is set directly), `lora` (PEFT LoraConfig r=8,
alpha 16 on query/value, SEQ_CLS), `bitfit` (every bias + the classifier; PEFT has no BitFit).
lntune side: `lntune bench-train --device cuda --bf16 --json` with the same methods, batch and
length. Peak memory: torch.cuda.max_memory_allocated (HF) and the caching allocator's peak (lntune).
"""
import argparse
import json
import subprocess
import time

import torch


def hf_model(method):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(num_labels=2))
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(task_type="SEQ_CLS", r=8, lora_alpha=16, lora_dropout=0.0,
                                                 target_modules=["query", "value"]))
    else:
        for name, p in model.named_parameters():
            keep = name.startswith("classifier.") or (
                ("LayerNorm." in name) if method == "ln" else name.endswith(".bias"))
            p.requires_grad_(keep)
    return model.cuda()


def bench_hf(method, compiled, batch, seq, steps, warmup, bf16):
    model = hf_model(method)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    fwd = torch.compile(model) if compiled else model
    torch.manual_seed(0)
    ids = torch.randint(1000, 20000, (batch, seq), device="cuda")
    mask = torch.ones(batch, seq, dtype=torch.long, device="cuda")
    labels = torch.randint(0, 2, (batch,), device="cuda")

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(fwd(input_ids=ids, attention_mask=mask).logits.float(), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**20
    del model, fwd, opt
    torch.cuda.empty_cache()
    return {"tokens_per_s": steps * batch * seq / secs, "peak_mb": peak}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lntune", default="build/lntune")
    ap.add_argument("--methods", default="ln,lora,bitfit")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--no-bf16", action="store_true")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--norm-impl", default="fused", help="lntune's norm kernels: fused or torch")
    ap.add_argument("--attention", default="eager", help="lntune's attention: eager or sdpa (HF's default is sdpa)")
    ap.add_argument("--cuda-graphs", action="store_true", help="lntune replays each step as a CUDA graph")
    a = ap.parse_args()
    bf16 = not a.no_bf16
    cmd = [a.lntune, "bench-train", "--device", "cuda", "--json", "--preset", "bert-base", "--methods", a.methods,
           "--batch", str(a.batch), "--seq", str(a.seq), "--steps", str(a.steps), "--warmup", str(a.warmup),
           "--norm-impl", a.norm_impl, "--attention", a.attention] + (["--bf16"] if bf16 else []) + \
        (["--cuda-graphs"] if a.cuda_graphs else [])
    ours = {r["method"]: r for r in map(json.loads, subprocess.run(cmd, check=True, capture_output=True,
                                                                     text=True).stdout.splitlines())}
    print(f"{torch.cuda.get_device_name()}, torch {torch.cuda.get_device_capability()} / {torch.__version__}; "
          f"BERT-base, batch {a.batch} x {a.seq}, {a.steps} timed steps, bf16 {bf16}, lntune norms {a.norm_impl}, "
          f"lntune attention {a.attention}{', CUDA graphs' if a.cuda_graphs else ''}, "
          f"HF attention: transformers' default\n")
    print("| method | lntune tokens/s | HF eager tokens/s | HF compile tokens/s | lntune / HF eager | "
          "lntune peak MB | HF eager peak MB | HF compile peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    for m in a.methods.split(","):
        eager = bench_hf(m, False, a.batch, a.seq, a.steps, a.warmup, bf16)
        comp = None if a.no_compile else bench_hf(m, True, a.batch, a.seq, a.steps, a.warmup, bf16)
        o = ours[m]
        ctok = "—" if comp is None else "%.0f" % comp["tokens_per_s"]
        cmem = "—" if comp is None else "%.0f" % comp["peak_mb"]
        print("| %s | %.0f | %.0f | %s | %.2fx | %.0f | %.0f | %s |" % (
            m, o["tokens_per_s"], eager["tokens_per_s"], ctok, o["tokens_per_s"] / eager["tokens_per_s"],
            o["peak_mb"], eager["peak_mb"], cmem), flush=True)

if __name__ == "__main__":
    main()
