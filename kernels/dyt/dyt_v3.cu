// DyT CUDA backward, version 3 (see dyt/versions.h; version 3's forward is version 2's, which
// reaches 78-96% of copy bandwidth at the benchmark's larger shapes). What the second H100 lease
// measured of version 2 (docs/benchmarks.md, 2026-11-24, device time): fwd+bwd 2.84x the eager
// composite at 4096 x 768 bf16 (the target is 3x), the backward 29 us of the 35, and 51-87% of
// copy bandwidth fwd+bwd. Version 2's backward gives each block one warp-rounded row width of
// threads (96 at hidden 768 bf16: three warps) and 32 rows per block walked one at a time: 128
// blocks of three warps at 4096 rows, each thread waiting on one row's loads after another.
// Here a block is `lanes` row lanes of that width (up to 512 threads: five lanes at 768 bf16),
// lane l taking rows l, l + lanes, ... of the block's chunk, two rows' loads issued before either
// is used; blocks per partial_blocks (about 1024 threads per multiprocessor). The lanes' dgamma and
// dbeta sums are added in lane order in shared memory, and each block writes one partial row:
// [dgamma cols | dbeta cols | dalpha], all reduced by one reduce_partials launch (version 2: two).
// Rows of up to 256 packs of 16 bytes (hidden 2048 in 16-bit types, 1024 in fp32); wider rows,
// rows not whole packs and misaligned pointers run version 2. Deterministic: every sum is in a
// fixed order that depends only on the shape and the device's multiprocessor count.
#include <cstdint>
#include <type_traits>

#include "cuda_common.cuh"
#include "dyt/dyt_pack.cuh"
#include "dyt/dyt_v3.cuh"
#include "layernorm/row_share.cuh"

namespace lntune::kernels::cuda::v3 {
namespace {

constexpr int kThreads = 512;
constexpr int kMaxWidth = 256;  // threads across a row: one pack each

// Block b takes rows [b * per, (b + 1) * per); partial row b: [dgamma cols | dbeta cols | dalpha].
template <typename T, typename P>
__global__ void __launch_bounds__(kThreads)
    backward_kernel(const T* __restrict__ dy, const T* __restrict__ x, const P* __restrict__ alpha,
                    const P* __restrict__ gamma, T* __restrict__ dx, float* __restrict__ partial, int64_t rows,
                    int64_t cols, int64_t per, int width, bool column_sums) {
  constexpr int V = 16 / sizeof(T);
  const int lanes = blockDim.x / width, lane = threadIdx.x / width;
  const int64_t pack = threadIdx.x % width;
  const bool held = pack * V < cols;
  const float a = to_f32(alpha[0]);
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * per;
  const int64_t end = begin + per < rows ? begin + per : rows;
  float sa = 0.f, sg[1][V] = {}, sb[1][V] = {};  // [1]: one pack of the row (write_slot_sums)
  if (held) {
    float g[V];
    load_pack<P, V>(gamma + pack * V, g);
    const int64_t col = pack * V;
    for (int64_t r = begin + lane; r < end; r += 2 * lanes) {
      const int64_t r2 = r + lanes;
      const bool two = r2 < end;
      float x1[V], d1[V], x2[V] = {}, d2[V] = {}, o[V];
      load_pack<T, V>(x + r * cols + col, x1);
      load_pack<T, V>(dy + r * cols + col, d1);
      if (two) {
        load_pack<T, V>(x + r2 * cols + col, x2);
        load_pack<T, V>(dy + r2 * cols + col, d2);
      }
      dyt_backward_pack<V>(x1, d1, g, a, o, sa, sg[0], sb[0]);
      if (dx) store_pack<T, V>(dx + r * cols + col, o);
      if (two) {
        dyt_backward_pack<V>(x2, d2, g, a, o, sa, sg[0], sb[0]);
        if (dx) store_pack<T, V>(dx + r2 * cols + col, o);
      }
    }
  }
  float* p = partial + static_cast<int64_t>(blockIdx.x) * (2 * cols + 1);
  // The lanes are write_slot_sums' slots, a lane's thread holding pack `pack` of the row.
  if (column_sums) write_slot_sums<1, V>(sg, sb, static_cast<int>(pack), width, cols / V, cols, p, p + cols);
  sa = block_sum(sa);  // every thread of the block takes part, in or out of range
  if (threadIdx.x == 0) p[2 * cols] = sa;
}

}  // namespace

bool dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma, void* dx,
                  void* dalpha, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols,
                  cudaStream_t stream) {
  auto run = [&](auto* tx, auto* tp, int64_t packs) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    if (packs > kMaxWidth) return false;
    const int width = static_cast<int>((packs + 31) / 32 * 32), lanes = kThreads / width;
    const int threads = width * lanes;
    auto* kernel = backward_kernel<T, P>;
    // Each block at least two rows per lane (one iteration of both rows).
    int64_t blocks = fitting_blocks(kernel, threads, partial_blocks(rows, 2 * lanes, threads));
    const int64_t per = (rows + blocks - 1) / blocks;
    blocks = (rows + per - 1) / per;
    auto* partial = static_cast<float*>(workspace);
    launch(kernel, static_cast<unsigned>(blocks), threads, stream)(
        static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const P*>(alpha), static_cast<const P*>(gamma),
        static_cast<T*>(dx), partial, rows, cols, per, width, dgamma || dbeta);
    if (dgamma || dbeta || dalpha)
      launch(reduce_partials<P>, reduce_partials_blocks(2 * cols + 1), dim3(kPartialColumns, kPartialLanes), stream)(
          partial, static_cast<int>(blocks), 2 * cols + 1, cols, static_cast<P*>(dgamma), static_cast<P*>(dbeta),
          static_cast<P*>(dalpha));
    return true;
  };
  return with_packs(xt, pt, cols, run, dy, x, dx, gamma);
}

}  // namespace lntune::kernels::cuda::v3
