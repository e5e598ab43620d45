#!/usr/bin/python3
"""CPU dropout, forward + backward: torch's own against a mask drawn as uniforms compared with the
keep probability (docs/benchmarks.md, "Dropout's share of a CPU training step").

torch's CPU dropout draws its mask element by element from a Bernoulli distribution; `rand_like`
draws the uniforms in one pass. One intra-op thread, as lntune trains next to OpenBLAS's pool.
Median of --reps timed calls after two untimed ones.

Usage: /usr/bin/python3 scripts/bench_dropout.py [--shape 16,128,1024] [--p 0.1] [--reps 10]
"""
import argparse
import statistics
import time

import torch


def median_ms(fn, reps):
    for _ in range(2):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="16,128,1024")
    ap.add_argument("--p", type=float, default=0.1)
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(1)
    shape = [int(s) for s in a.shape.split(",")]
    x = torch.randn(shape, requires_grad=True)
    g = torch.randn(shape)
    keep = 1.0 - a.p

    def torch_dropout():
        torch.nn.functional.dropout(x, a.p, training=True).backward(g)

    def uniform_mask():
        (x * torch.rand_like(x, requires_grad=False).lt_(keep).div_(keep)).backward(g)

    def rand_only():
        torch.rand_like(x, requires_grad=False)

    print(f"torch {torch.__version__}, shape {shape}, p {a.p}, 1 thread, median of {a.reps}")
    for name, fn in [("torch dropout fwd+bwd", torch_dropout), ("rand_like mask fwd+bwd", uniform_mask),
                     ("rand_like alone", rand_only)]:
        print(f"{name:24s} {median_ms(fn, a.reps):8.2f} ms")


if __name__ == "__main__":
    main()
