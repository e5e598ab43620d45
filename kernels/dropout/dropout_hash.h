// Which elements dropout keeps: a pure function of (seed, element index), counter-based like
// Philox (torch's CUDA dropout) but two rounds of a 32-bit mixer, which plain loops vectorise on
// every instruction set. Why counter-based: the backward regenerates the mask from the seed instead
// of saving it (no mask tensor kept alive between forward and backward), every thread and every
// build of the loops draws the same mask, and drawing costs a few integer operations per element
// where torch's CPU dropout draws a Bernoulli from mt19937 element by element.
// No LibTorch: included by the CPU loops and by the tests' plain reference.
#pragma once
#include <cstdint>

namespace lntune::kernels::dropout {

// Chris Wellons' "lowbias32" integer hash (a bijection of uint32 with low avalanche bias).
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x21f0aaadu;
  x ^= x >> 15;
  x *= 0x735a2d97u;
  x ^= x >> 15;
  return x;
}

// splitmix64's output function: spreads a 64-bit seed over both 32-bit keys.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The keys of the elements whose index has the upper half `block` (index >> 32): one pair per
// 2^32 elements, so every index of a tensor of any size gets its own draw.
struct Keys {
  uint32_t k0, k1;
};
inline Keys keys(uint64_t seed, uint64_t block) {
  const uint64_t z = mix64(seed + 0x9e3779b97f4a7c15ull * (block + 1));
  return {static_cast<uint32_t>(z), static_cast<uint32_t>(z >> 32)};
}

// 32 uniform bits for the element whose index has the lower half `lo`; for fixed keys a bijection
// of `lo`, so no two elements of a block share their bits.
inline uint32_t bits(Keys k, uint32_t lo) { return mix32(mix32(lo ^ k.k0) + k.k1); }

// An element is kept when bits < threshold(keep): keep * 2^32 rounded, at most 2^32 - 1 (a keep
// probability within 2^-32 of 1 drops one element in 2^32; the binding treats p = 0 as no dropout).
inline uint32_t threshold(double keep) {
  const double t = keep * 4294967296.0 + 0.5;
  return t >= 4294967295.0 ? 0xffffffffu : static_cast<uint32_t>(t);
}

}  // namespace lntune::kernels::dropout
