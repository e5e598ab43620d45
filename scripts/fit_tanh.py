#!/usr/bin/python3
"""Fits the rational tanh of kernels/cpu_math.h (tanh_f) and prints its coefficients.

tanh(x) ~ x * P(x^2) / Q(x^2) on [0, 9.5] (tanh is odd; past 9.5 fp32 tanh is 1), P of degree 4
and Q of degree 4 in x^2 with Q(0) = 1, fitted for least *relative* error by Lawson's iteration
(weighted linear least squares whose weights converge to the minimax solution) against mpmath's
tanh. Prints the error of the fit in float64; the error of the fp32 evaluation (Horner, no FMA)
is measured over every fp32 input by the test DytKernel.CpuTanhOnEveryInstructionSet.

Usage: /usr/bin/python3 scripts/fit_tanh.py   (numpy and mpmath, both Debian packages)
"""
import mpmath as mp
import numpy as np

CLAMP = 9.5  # tanh(9.5) = 1 - 1.1e-8 rounds to 1.0f
P_DEGREE, Q_DEGREE = 4, 4


def fit(iterations=60):
    mp.mp.dps = 40
    # A uniform grid plus Chebyshev-like points, which crowd at both ends of the interval.
    xs = np.unique(np.concatenate([np.linspace(0, CLAMP, 6000)[1:],
                                   (CLAMP / 2) * (1 - np.cos(np.linspace(0, np.pi, 4000)))[1:]]))
    t = np.array([float(mp.tanh(mp.mpf(float(v)))) for v in xs])
    s = xs * xs
    # x P(s) - t (Q(s) - 1) = t, linear in the unknown coefficients.
    a = np.concatenate([np.stack([xs * s**k for k in range(P_DEGREE + 1)], 1),
                        np.stack([-t * s**k for k in range(1, Q_DEGREE + 1)], 1)], 1)
    w = np.ones_like(xs)
    best = None
    for _ in range(iterations):
        rw = w / np.abs(t)
        coef, *_ = np.linalg.lstsq(a * rw[:, None], t * rw, rcond=None)
        p, q = coef[:P_DEGREE + 1], np.concatenate([[1.0], coef[P_DEGREE + 1:]])
        err = np.abs(xs * np.polyval(p[::-1], s) / np.polyval(q[::-1], s) - t) / np.abs(t)
        if best is None or err.max() < best[0]:
            best = (err.max(), p, q)
        w = w * err
        w /= w.sum()
    return best


def main():
    err, p, q = fit()
    print(f"// relative error of the fit (float64 evaluation): {err:.2e}")
    # The shortest decimal that reads back as the same fp32 value.
    lit = lambda v: np.format_float_scientific(np.float32(v), unique=True, trim="-") + "f"
    for name, c in (("p", p), ("q", q)):
        print(f"  float {name} = {lit(c[-1])};")
        for v in c[-2::-1]:
            print(f"  {name} = {name} * s + {lit(v)};")

if __name__ == "__main__":
    main()
