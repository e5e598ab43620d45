// Dropout CPU loop, compiled once per instruction set (see cmake/kernels.cmake): one pass that draws
// each element's bits (dropout_hash.h), picks 0 or the scale, and multiplies; the integer mixing
// vectorises (32-bit lanes), so drawing costs about as much as the pass's memory traffic.
#include <algorithm>

#include "cpu_math.h"
#include "dropout/dropout_cpu.h"
#include "dropout/dropout_cpu_isa.inc"
#include "dropout/dropout_hash.h"

namespace lntune::kernels::cpu::LNTUNE_ISA {
namespace {

// Elements per task: a power of two dividing 2^32, so a chunk never straddles two key blocks;
// 256 KiB of fp32 per chunk amortises the OpenMP scheduling.
constexpr int64_t kChunk = int64_t{1} << 16;

template <typename T>
void apply(const T* x, T* y, int64_t n, double p, uint64_t seed, int threads) {
  const uint32_t limit = dropout::threshold(1.0 - p);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads < 1 ? 1 : threads, chunks)));
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kChunk, len = std::min(kChunk, n - begin);
    const dropout::Keys k = dropout::keys(seed, static_cast<uint64_t>(begin) >> 32);
    const uint32_t lo0 = static_cast<uint32_t>(begin);
    const T* xc = x + begin;
    T* yc = y + begin;
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) {
      const uint32_t b = dropout::bits(k, lo0 + static_cast<uint32_t>(j));
      const float m = b < limit ? scale : 0.f;
      yc[j] = store<T>(load(xc[j]) * m);
    }
  }
}

}  // namespace

void dropout_apply(DType t, const void* x, void* y, int64_t n, double p, uint64_t seed, int threads) {
  if (t == DType::f32)
    apply(static_cast<const float*>(x), static_cast<float*>(y), n, p, seed, threads);
  else
    apply(static_cast<const Bf16*>(x), static_cast<Bf16*>(y), n, p, seed, threads);
}

}  // namespace lntune::kernels::cpu::LNTUNE_ISA
