#!/usr/bin/env python3
"""The norm-kernel table with PyTorch's own peers beside ours, in one run (for the GPU machine).

Runs `lntune bench-norm --json` (ours vs torch eager, timed by the C++ binary) and, in this
process, the same shapes through PyTorch: F.layer_norm (PyTorch's fused kernel), the eager DyT
composite, and torch.compile of each expression. Prints one markdown table: ms per call and each
peer's time divided by ours (>1: ours is faster). Every time is one call between two device
synchronisations (latency, host work included; bench-norm's default on CUDA is device time).

    python3 scripts/bench_norm.py --lntune build/lntune [--device cuda] [--shapes ...] [--dtypes float32,bfloat16]
"""
import argparse
import json
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F


def timed(fn, device, reps, warmup=3):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        out.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(out)


def dyt(x, a, g, b):
    return torch.tanh(a * x) * g + b


def layernorm(x, g, b):
    return F.layer_norm(x, (x.shape[-1],), g, b, 1e-5)


def peers(op, rows, cols, dtype, device, backward, reps, compile_ok):
    torch.manual_seed(0)
    x = torch.randn(rows, cols, device=device, dtype=dtype, requires_grad=backward)
    dy = torch.randn(rows, cols, device=device, dtype=dtype)
    g = torch.ones(cols, device=device, dtype=dtype, requires_grad=backward)
    b = torch.zeros(cols, device=device, dtype=dtype, requires_grad=backward)
    a = torch.full((1,), 0.5, device=device, dtype=dtype, requires_grad=backward)
    fns = {"eager": (lambda: layernorm(x, g, b)) if op == "layernorm" else (lambda: dyt(x, a, g, b))}
    if compile_ok:
        c = torch.compile(layernorm if op == "layernorm" else dyt)
        fns["compile"] = (lambda: c(x, g, b)) if op == "layernorm" else (lambda: c(x, a, g, b))
    res = {}
    for name, f in fns.items():
        if backward:
            def step(f=f):
                for t in (x, g, b, a):
                    t.grad = None
                f().backward(dy)
        else:
            def step(f=f):
                with torch.no_grad():
                    f()
        res[name] = timed(step, device, reps)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lntune", default="build/lntune")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--shapes", default="4096x768,16384x768,16384x1024,8192x4096,4096x8192")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile (e.g. where no compiler works)")
    ap.add_argument("--kernel-version", type=int, default=0,
                    help="lntune's CUDA kernel version for both ops (0: the promoted ones; kernels/*/versions.h)")
    args = ap.parse_args()
    out = subprocess.run([args.lntune, "bench-norm", "--json", "--device", args.device, "--shapes", args.shapes,
                          "--dtypes", args.dtypes, "--reps", str(args.reps), "--kernel-version", str(args.kernel_version),
                          # as this script times PyTorch's peers: one call between synchronisations
                          "--timing", "sync"],
                         check=True, capture_output=True, text=True)
    rows = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    dtypes = {"Float": torch.float32, "BFloat16": torch.bfloat16, "Half": torch.float16}
    print("device %s (%s), torch %s; copy bandwidth %.0f GB/s; median of %d; lntune CUDA kernel version %d (0: promoted)\n" % (
        args.device, torch.cuda.get_device_name() if args.device == "cuda" else "cpu", torch.__version__,
        rows[0]["copy_gbs"], args.reps, args.kernel_version))
    cols = ["eager"] + ([] if args.no_compile else ["compile"])
    print("| op | rows x hidden | dtype | pass | ours ms | ours GB/s | % copy BW | torch eager (C++) ms | "
          + " | ".join("%s ms | %s / ours" % (c, c) for c in cols) + " |")
    print("|" + "---|" * (8 + 2 * len(cols)))
    for r in rows:
        p = peers(r["op"], r["rows"], r["hidden"], dtypes[r["dtype"]], args.device, r["pass"] == "fwd+bwd",
                  args.reps, not args.no_compile)
        cells = " | ".join("%.3f | %.2fx" % (p[c], p[c] / r["ours_ms"]) for c in cols)
        print("| %s | %d x %d | %s | %s | %.3f | %.0f | %.0f%% | %.3f | %s |" % (
            r["op"], r["rows"], r["hidden"], r["dtype"], r["pass"], r["ours_ms"], r["ours_gbs"],
            100 * r["ours_gbs"] / r["copy_gbs"], r["torch_ms"], cells), flush=True)


if __name__ == "__main__":
    main()
