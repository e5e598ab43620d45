// The CUDA kernels' own sources (kernels/*.cu), compiled for the CPU and launched by
// kernels/emulation/, against torch's ops in float64: every kernel version, every dtype pair and
// hidden size the GPU tests use (tests/ops/test_layernorm.cpp, test_dyt.cpp run them for real on a
// GPU), the backward's determinism, and the emulator's own checks. Built where LibTorch has no CUDA
// (cmake/cuda.cmake): here and in CI, where no GPU exists, a kernel's indexing, tails, row rounds
// and reductions are checked before a GPU ever runs it.
#define LNTUNE_CUDA_EMULATION 1  // the test kernels below are launched as kernels/ launches them
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <stdexcept>

#include "adamw/adamw.h"
#include "adamw/adamw_cpu.h"
#include "cuda_common.cuh"
#include "dyt/dyt.h"
#include "dyt/dyt_v2.cuh"
#include "dyt/dyt_v3.cuh"
#include "layernorm/layernorm.h"
#include "layernorm/layernorm_v2.cuh"
#include "layernorm/layernorm_v3.cuh"
#include "ops/norm_check.h"

using namespace lntune;
using kernels::DType;
using test::expect_close;
using test::tolerance;
using test::Tolerance;

namespace {

DType kernel_dtype(torch::ScalarType t) {
  return t == torch::kFloat ? DType::f32 : t == torch::kHalf ? DType::f16 : DType::bf16;
}

const test::DtypePairs& kPairs = test::cuda_dtype_pairs();

// A backward's scratch as its *_workspace function sizes it, followed by a guard band whose bytes
// must come back untouched (a launch with more blocks than the workspace counts writes there).
constexpr int64_t kGuard = 4096;
constexpr int kGuardByte = 0xA5;
torch::Tensor workspace(size_t bytes) {
  auto w = torch::empty({static_cast<int64_t>(bytes) + kGuard}, torch::kUInt8);
  w.narrow(0, static_cast<int64_t>(bytes), kGuard).fill_(kGuardByte);
  return w;
}
void expect_guard_intact(const torch::Tensor& w, const std::string& tag) {
  EXPECT_TRUE(w.narrow(0, w.numel() - kGuard, kGuard).eq(kGuardByte).all().item<bool>())
      << tag << ": the backward wrote past its workspace";
}

// ---- LayerNorm ----

struct LnOut {
  torch::Tensor y, mean, rstd, dx, dgamma, dbeta;
};

// The kernels through their raw-pointer API, as src/ops/norm_cuda.cpp calls them.
LnOut layernorm(const torch::Tensor& x, const torch::Tensor& g, const torch::Tensor& b, const torch::Tensor& dy,
                double eps, int version) {
  const int64_t rows = x.size(0), cols = x.size(1);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  LnOut o;
  o.y = torch::empty_like(x), o.dx = torch::empty_like(x);
  o.mean = torch::empty({rows}, f32), o.rstd = torch::empty({rows}, f32);
  o.dgamma = torch::empty({cols}, g.options()), o.dbeta = torch::empty({cols}, g.options());
  EXPECT_EQ(cudaSuccess, kernels::cuda::layernorm_forward(kernel_dtype(x.scalar_type()), kernel_dtype(g.scalar_type()),
                                                          x.data_ptr(), g.data_ptr(), b.data_ptr(), o.y.data_ptr(),
                                                          o.mean.data_ptr<float>(), o.rstd.data_ptr<float>(), rows,
                                                          cols, static_cast<float>(eps), nullptr, version));
  auto ws = workspace(kernels::cuda::layernorm_backward_workspace(rows, cols));
  EXPECT_EQ(cudaSuccess, kernels::cuda::layernorm_backward(
                             kernel_dtype(x.scalar_type()), kernel_dtype(g.scalar_type()), dy.data_ptr(), x.data_ptr(),
                             o.mean.data_ptr<float>(), o.rstd.data_ptr<float>(), g.data_ptr(), o.dx.data_ptr(),
                             o.dgamma.data_ptr(), o.dbeta.data_ptr(), ws.data_ptr(), rows, cols, nullptr, version));
  expect_guard_intact(ws, "layernorm v" + std::to_string(version));
  return o;
}

void check_layernorm(int64_t rows, int64_t cols, torch::ScalarType xt, torch::ScalarType pt, int version) {
  const double eps = 1e-5;
  auto x = torch::randn({rows, cols}).to(xt), dy = torch::randn({rows, cols}).to(xt);
  auto g = (torch::rand({cols}) + 0.5).to(pt), b = torch::randn({cols}).to(pt);
  // The plain reference: torch's layer_norm in float64, autograd for the gradients.
  auto xd = x.to(torch::kDouble).requires_grad_(true), gd = g.to(torch::kDouble).requires_grad_(true);
  auto bd = b.to(torch::kDouble).requires_grad_(true);
  auto ry = torch::layer_norm(xd, {cols}, gd, bd, eps);
  ry.backward(dy.to(torch::kDouble));
  auto xv = x.to(torch::kDouble);
  auto rmean = xv.mean(1), rrstd = (xv.var(1, /*unbiased=*/false) + eps).rsqrt();

  auto o = layernorm(x, g, b, dy, eps, version);
  const std::string tag = test::case_tag(rows, cols, xt, pt, torch::kCPU) + " v" + std::to_string(version);
  const auto tx = tolerance(xt), tp = tolerance(pt);
  expect_close(o.y, ry.detach().to(xt), tx, tag + " y");
  expect_close(o.mean, rmean.to(torch::kFloat), {1e-5, 1e-5}, tag + " mean");
  expect_close(o.rstd, rrstd.to(torch::kFloat), {1e-4, 1e-5}, tag + " rstd");
  expect_close(o.dx, xd.grad().to(xt), tx, tag + " dx");
  // Written in the parameters' dtype, as the binding hands them to autograd.
  const double s = std::sqrt(static_cast<double>(rows));
  expect_close(o.dgamma, gd.grad().to(pt), {tp.rtol, std::max(tp.atol, tx.rtol)}, tag + " dgamma", s);
  expect_close(o.dbeta, bd.grad().to(pt), {tp.rtol, std::max(tp.atol, tx.rtol)}, tag + " dbeta", s);
}

// ---- DyT ----

struct DytOut {
  torch::Tensor y, dx, dalpha, dgamma, dbeta;
};

DytOut dyt(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& g, const torch::Tensor& b,
           const torch::Tensor& dy, int version) {
  const int64_t rows = x.size(0), cols = x.size(1);
  DytOut o{torch::empty_like(x), torch::empty_like(x), torch::empty({1}, g.options()),
           torch::empty({cols}, g.options()), torch::empty({cols}, g.options())};
  const DType xt = kernel_dtype(x.scalar_type()), pt = kernel_dtype(g.scalar_type());
  EXPECT_EQ(cudaSuccess, kernels::cuda::dyt_forward(xt, pt, x.data_ptr(), a.data_ptr(), g.data_ptr(), b.data_ptr(),
                                                    o.y.data_ptr(), rows, cols, nullptr, version));
  auto ws = workspace(kernels::cuda::dyt_backward_workspace(rows, cols));
  EXPECT_EQ(cudaSuccess, kernels::cuda::dyt_backward(xt, pt, dy.data_ptr(), x.data_ptr(), a.data_ptr(), g.data_ptr(),
                                                     o.dx.data_ptr(), o.dalpha.data_ptr(), o.dgamma.data_ptr(),
                                                     o.dbeta.data_ptr(), ws.data_ptr(), rows, cols, nullptr, version));
  expect_guard_intact(ws, "dyt v" + std::to_string(version));
  return o;
}

void check_dyt(int64_t rows, int64_t cols, torch::ScalarType xt, torch::ScalarType pt, int version) {
  auto x = (torch::randn({rows, cols}) * 2.0).to(xt), dy = torch::randn({rows, cols}).to(xt);
  auto a = torch::full({1}, 0.5).to(pt), g = (torch::rand({cols}) + 0.5).to(pt), b = torch::randn({cols}).to(pt);
  // The plain reference: the composite expression in float64, autograd for the gradients.
  auto xd = x.to(torch::kDouble).requires_grad_(true), ad = a.to(torch::kDouble).requires_grad_(true);
  auto gd = g.to(torch::kDouble).requires_grad_(true), bd = b.to(torch::kDouble).requires_grad_(true);
  auto ry = gd * torch::tanh(ad * xd) + bd;
  ry.backward(dy.to(torch::kDouble));

  auto o = dyt(x, a, g, b, dy, version);
  const std::string tag = test::case_tag(rows, cols, xt, pt, torch::kCPU) + " v" + std::to_string(version);
  const auto tx = tolerance(xt), tp = tolerance(pt);
  expect_close(o.y, ry.detach().to(xt), tx, tag + " y");
  expect_close(o.dx, xd.grad().to(xt), tx, tag + " dx");
  const Tolerance sum{tp.rtol, std::max(tp.atol, tx.rtol)};
  const double s = std::sqrt(static_cast<double>(rows));
  expect_close(o.dgamma, gd.grad().to(pt), sum, tag + " dgamma", s);
  expect_close(o.dbeta, bd.grad().to(pt), sum, tag + " dbeta", s);
  expect_close(o.dalpha, ad.grad().to(pt), sum, tag + " dalpha", std::sqrt(static_cast<double>(rows * cols)));
}

// Every version, dtype pair and hidden size of the GPU tests; 37 rows (5 at the widest) with the
// emulated GPU's two multiprocessors make the backward's blocks walk several row rounds.
void every_case(int versions,
                const std::function<void(int64_t, int64_t, torch::ScalarType, torch::ScalarType, int)>& check) {
  for (int v = 1; v <= versions; ++v)
    test::for_every_hidden_size(kPairs, [&](int64_t rows, int64_t cols, torch::ScalarType xt, torch::ScalarType pt) {
      check(rows, cols, xt, pt, v);
    });
}

}  // namespace

TEST(CudaEmulation, LayerNormEveryVersionDtypeAndHiddenSize) {
  every_case(kernels::kLayerNormVersions, check_layernorm);
}

TEST(CudaEmulation, DytEveryVersionDtypeAndHiddenSize) { every_case(kernels::kDytVersions, check_dyt); }

// Many rows on a larger emulated GPU: the backward's parameter sums come in dozens of partial rows
// (a GPU's usual case), so every lane of the partial-sum reductions has work.
TEST(CudaEmulation, ManyPartialSums) {
  kernels::emulation::set_multiprocessors(16);
  for (auto [xt, pt] : test::DtypePairs{{torch::kFloat, torch::kFloat}, {torch::kBFloat16, torch::kFloat}}) {
    for (int v = 1; v <= kernels::kLayerNormVersions; ++v) check_layernorm(1200, 768, xt, pt, v);
    for (int v = 1; v <= kernels::kDytVersions; ++v) check_dyt(1200, 768, xt, pt, v);
  }
  kernels::emulation::set_multiprocessors(2);
}

// Version 2 takes the rows that are whole 16-byte packs up to its widest layout and declines the
// rest (the caller then runs version 1): the cases above cover both only if this holds.
TEST(CudaEmulation, Version2TakesTheShapesItIsFor) {
  auto x = torch::randn({4, 768}), g = torch::ones({768}), y = torch::empty_like(x);
  auto stats = torch::empty({4});
  using kernels::cuda::v2::forward;
  EXPECT_TRUE(forward(DType::f32, DType::f32, x.data_ptr(), g.data_ptr(), g.data_ptr(), y.data_ptr(),
                      stats.data_ptr<float>(), stats.data_ptr<float>(), 4, 768, 1e-5f, nullptr));
  auto x7 = torch::randn({4, 7}), g7 = torch::ones({7}), y7 = torch::empty_like(x7);
  EXPECT_FALSE(forward(DType::f32, DType::f32, x7.data_ptr(), g7.data_ptr(), g7.data_ptr(), y7.data_ptr(),
                       stats.data_ptr<float>(), stats.data_ptr<float>(), 4, 7, 1e-5f, nullptr));
  auto a = torch::full({1}, 0.5), yd = torch::empty_like(x);
  EXPECT_TRUE(kernels::cuda::v2::dyt_forward(DType::f32, DType::f32, x.data_ptr(), a.data_ptr(), g.data_ptr(),
                                             g.data_ptr(), yd.data_ptr(), 4, 768, nullptr));
}

// Versions 3 and 4 take whole 16-byte packs up to their widest layouts (LayerNorm 512 packs, the
// DyT backward 256) and decline the rest, which version 2 then runs: the cases above cover both.
TEST(CudaEmulation, Version3TakesTheShapesItIsFor) {
  auto stats = torch::empty({4});
  auto ln = [&](int version, int64_t cols) {
    auto x = torch::randn({4, cols}), g = torch::ones({cols}), y = torch::empty_like(x);
    return kernels::cuda::v3::forward(version, DType::f32, DType::f32, x.data_ptr(), g.data_ptr(), g.data_ptr(),
                                      y.data_ptr(), stats.data_ptr<float>(), stats.data_ptr<float>(), 4, cols, 1e-5f,
                                      nullptr);
  };
  for (int v : {3, 4}) {
    EXPECT_TRUE(ln(v, 768)) << v;
    EXPECT_TRUE(ln(v, 2048)) << v;   // 512 packs of fp32: two per thread
    EXPECT_FALSE(ln(v, 7)) << v;     // not whole packs
    EXPECT_FALSE(ln(v, 2052)) << v;  // 513 packs
  }
  auto dyt_bwd = [&](int64_t cols) {
    auto x = torch::randn({4, cols}), g = torch::ones({cols}), a = torch::full({1}, 0.5), dx = torch::empty_like(x);
    auto d = torch::empty({cols}), da = torch::empty({1});
    auto ws = workspace(kernels::cuda::dyt_backward_workspace(4, cols));
    return kernels::cuda::v3::dyt_backward(DType::f32, DType::f32, x.data_ptr(), x.data_ptr(), a.data_ptr(),
                                           g.data_ptr(), dx.data_ptr(), da.data_ptr(), d.data_ptr(), d.data_ptr(),
                                           ws.data_ptr(), 4, cols, nullptr);
  };
  EXPECT_TRUE(dyt_bwd(1024));   // 256 packs of fp32
  EXPECT_FALSE(dyt_bwd(1028));  // 257
  EXPECT_FALSE(dyt_bwd(7));
}

// More blocks fit on the emulated device than rows need: every block still walks whole rounds.
TEST(CudaEmulation, Version3WithMoreRoomThanRows) {
  kernels::emulation::set_resident_blocks(8);
  for (int v = 3; v <= kernels::kLayerNormVersions; ++v) check_layernorm(3, 768, torch::kFloat, torch::kFloat, v);
  check_dyt(3, 768, torch::kBFloat16, torch::kFloat, 3);
  kernels::emulation::set_resident_blocks(2);
}

// A device with room for many blocks: the backwards launch as many as their partial-row rules allow,
// and the guard after each workspace shows those rules stay within what the workspace counts.
TEST(CudaEmulation, WorkspaceCoversTheMostBlocks) {
  kernels::emulation::set_multiprocessors(4);
  kernels::emulation::set_resident_blocks(32);
  for (int64_t cols : {256, 768, 1280}) {
    for (int v = 1; v <= kernels::kLayerNormVersions; ++v)
      check_layernorm(300, cols, torch::kBFloat16, torch::kFloat, v);
    for (int v = 1; v <= kernels::kDytVersions; ++v) check_dyt(300, cols, torch::kFloat, torch::kFloat, v);
  }
  kernels::emulation::set_resident_blocks(2);
  kernels::emulation::set_multiprocessors(2);
}

TEST(CudaEmulation, BackwardIsDeterministicAcrossRuns) {
  torch::manual_seed(1);
  for (int v = 1; v <= kernels::kLayerNormVersions; ++v) {
    auto x = torch::randn({300, 768}), g = torch::rand({768}), b = torch::randn({768}), dy = torch::randn({300, 768});
    auto p = layernorm(x, g, b, dy, 1e-5, v), q = layernorm(x, g, b, dy, 1e-5, v);
    EXPECT_TRUE(torch::equal(p.dx, q.dx) && torch::equal(p.dgamma, q.dgamma) && torch::equal(p.dbeta, q.dbeta)) << v;
  }
  for (int v = 1; v <= kernels::kDytVersions; ++v) {
    auto x = torch::randn({300, 768}), a = torch::full({1}, 0.5), g = torch::rand({768}), b = torch::randn({768});
    auto dy = torch::randn({300, 768});
    auto p = dyt(x, a, g, b, dy, v), q = dyt(x, a, g, b, dy, v);
    EXPECT_TRUE(torch::equal(p.dalpha, q.dalpha) && torch::equal(p.dgamma, q.dgamma)) << v;
  }
}

// 16-bit parameters get their gradients from the kernels in their own type, and those are the fp32
// sums rounded once: with the same parameter values stored as fp32, the kernels' fp32 gradients
// cast to 16 bits give the same bits (the cast the binding no longer launches).
TEST(CudaEmulation, SixteenBitParameterGradientsAreTheFp32SumsRounded) {
  torch::manual_seed(3);
  kernels::emulation::set_multiprocessors(8);
  for (auto t : {torch::kBFloat16, torch::kHalf}) {
    for (int64_t cols : {7, 768}) {  // version 1 everywhere, then each version's own path
      auto x = torch::randn({160, cols}).to(t), dy = torch::randn({160, cols}).to(t);
      auto g = (torch::rand({cols}) + 0.5).to(t), b = torch::randn({cols}).to(t), a = torch::full({1}, 0.5).to(t);
      auto g32 = g.to(torch::kFloat), b32 = b.to(torch::kFloat), a32 = a.to(torch::kFloat);
      const std::string tag = std::string(c10::toString(t)) + " cols " + std::to_string(cols) + " v";
      for (int v = 1; v <= kernels::kLayerNormVersions; ++v) {
        auto p = layernorm(x, g, b, dy, 1e-5, v), q = layernorm(x, g32, b32, dy, 1e-5, v);
        EXPECT_EQ(p.dgamma.scalar_type(), t);
        EXPECT_TRUE(torch::equal(p.dgamma, q.dgamma.to(t))) << "layernorm " << tag << v;
        EXPECT_TRUE(torch::equal(p.dbeta, q.dbeta.to(t))) << "layernorm " << tag << v;
      }
      for (int v = 1; v <= kernels::kDytVersions; ++v) {
        auto p = dyt(x, a, g, b, dy, v), q = dyt(x, a32, g32, b32, dy, v);
        EXPECT_TRUE(torch::equal(p.dgamma, q.dgamma.to(t))) << "dyt " << tag << v;
        EXPECT_TRUE(torch::equal(p.dbeta, q.dbeta.to(t))) << "dyt " << tag << v;
        EXPECT_TRUE(torch::equal(p.dalpha, q.dalpha.to(t))) << "dyt " << tag << v;
      }
    }
  }
  kernels::emulation::set_multiprocessors(2);
}

// No rows: the parameter gradients are zeros, written over exactly their `cols` 16-bit elements.
TEST(CudaEmulation, NoRowsGiveZeroGradientsInTheParameterType) {
  const int64_t cols = 768;
  for (auto t : {torch::kFloat, torch::kBFloat16}) {
    const auto o = torch::TensorOptions().dtype(t);
    auto x = torch::empty({0, cols}, o), g = torch::ones({cols}, o), a = torch::full({1}, 0.5, o);
    auto grads = torch::full({3, cols + 8}, 7.0, o);  // each gradient followed by 8 elements that must stay 7
    auto d = [&](int i) { return grads[i].data_ptr(); };
    const DType dt = kernel_dtype(t);
    for (int v = 1; v <= kernels::kLayerNormVersions; ++v) {
      EXPECT_EQ(cudaSuccess,
                kernels::cuda::layernorm_backward(dt, dt, x.data_ptr(), x.data_ptr(), nullptr, nullptr, g.data_ptr(),
                                                  x.data_ptr(), d(0), d(1), nullptr, 0, cols, nullptr, v));
    }
    for (int v = 1; v <= kernels::kDytVersions; ++v) {
      grads.narrow(1, 0, cols).fill_(7.0);
      EXPECT_EQ(cudaSuccess, kernels::cuda::dyt_backward(dt, dt, x.data_ptr(), x.data_ptr(), a.data_ptr(), g.data_ptr(),
                                                         x.data_ptr(), d(2), d(0), d(1), nullptr, 0, cols, nullptr, v));
      EXPECT_EQ(grads[2][0].item<double>(), 0.0) << v;
    }
    EXPECT_TRUE(grads.narrow(0, 0, 2).narrow(1, 0, cols).eq(0).all().item<bool>()) << t;
    EXPECT_TRUE(grads.narrow(0, 0, 2).narrow(1, cols, 8).eq(7).all().item<bool>()) << t;
    EXPECT_TRUE(grads[2].narrow(0, 1, cols + 7).eq(7).all().item<bool>()) << t;
  }
}

// The CUDA AdamW kernel (both places its scalars can live) gives the CPU kernel's bits.
TEST(CudaEmulation, AdamWKernelEqualsCpuKernel) {
  torch::manual_seed(2);
  const int64_t n = 1003;  // a vectorised body and a scalar tail
  auto s = kernels::adamw_scalars(1e-3, 0.01, 0.9, 0.999, 1e-8, 7);
  auto p0 = torch::randn({n}), g = torch::randn({n}), m0 = torch::randn({n}) * 0.1, v0 = torch::rand({n}) * 0.01;
  auto cpu = std::vector<torch::Tensor>{p0.clone(), m0.clone(), v0.clone()};
  kernels::cpu::adamw_step(cpu[0].data_ptr<float>(), g.data_ptr<float>(), cpu[1].data_ptr<float>(),
                           cpu[2].data_ptr<float>(), n, s, 1);
  for (bool in_memory : {false, true}) {
    auto p = p0.clone(), m = m0.clone(), v = v0.clone();
    const auto err = in_memory ? kernels::cuda::adamw_step(p.data_ptr<float>(), g.data_ptr<float>(),
                                                           m.data_ptr<float>(), v.data_ptr<float>(), n, &s, nullptr)
                               : kernels::cuda::adamw_step(p.data_ptr<float>(), g.data_ptr<float>(),
                                                           m.data_ptr<float>(), v.data_ptr<float>(), n, s, nullptr);
    ASSERT_EQ(err, cudaSuccess);
    EXPECT_TRUE(torch::equal(p, cpu[0]) && torch::equal(m, cpu[1]) && torch::equal(v, cpu[2])) << in_memory;
  }
}

// ---- the emulator itself ----

namespace {

__global__ void block_sum_kernel(const float* in, float* out) {
  const float s = kernels::cuda::block_sum(in[blockIdx.x * blockDim.x + threadIdx.x]);
  if (threadIdx.x == 0) out[blockIdx.x] = s;
}

__global__ void early_return_then_barrier(int* seen) {
  if (threadIdx.x % 2 == 1) return;  // the returned threads no longer count at the barrier
  __syncthreads();
  ++*seen;
}

// Thread 0 waits for its block while the rest of its warp waits for it in a shuffle: a hang on a GPU.
__global__ void divergent_barrier(int*) {
  if (threadIdx.x == 0)
    __syncthreads();
  else
    __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

// Thread 5 of block 1 throws after the first barrier: the launch stops and rethrows it.
__global__ void throws_in_one_thread(int* passed) {
  __syncthreads();
  if (blockIdx.x == 1 && threadIdx.x == 5) throw std::invalid_argument("thread 5 of block 1");
  __syncthreads();
  ++*passed;
}

}  // namespace

TEST(CudaEmulation, AThreadsExceptionEndsTheLaunch) {
  int passed = 0;
  try {
    kernels::cuda::launch(throws_in_one_thread, 3, 64, nullptr)(&passed);
    ADD_FAILURE() << "the launch returned";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "thread 5 of block 1");
  }
  EXPECT_GE(passed, 64);  // block 0 ran to its end
  EXPECT_LT(passed, 3 * 64);  // block 2 never started
  int seen = 0;  // and the emulator runs the next launch as usual
  kernels::cuda::launch(early_return_then_barrier, 2, 64, nullptr)(&seen);
  EXPECT_EQ(seen, 64);
}

TEST(CudaEmulation, BlocksWarpsAndBarriers) {
  auto in = torch::arange(4 * 96, torch::kFloat), out = torch::zeros({4});
  kernels::cuda::launch(block_sum_kernel, 4, 96, nullptr)(in.data_ptr<float>(), out.data_ptr<float>());
  EXPECT_TRUE(torch::equal(out, in.view({4, 96}).sum(1))) << out;
  int seen = 0;
  kernels::cuda::launch(early_return_then_barrier, 2, 64, nullptr)(&seen);
  EXPECT_EQ(seen, 64);
}

TEST(CudaEmulation, ABarrierNotEveryThreadReachesIsAnError) {
  EXPECT_THROW(kernels::cuda::launch(divergent_barrier, 1, 64, nullptr)(nullptr), std::runtime_error);
}

TEST(CudaEmulation, ALaunchCudaRejectsSetsTheError) {
  int seen = 0;
  kernels::cuda::launch(early_return_then_barrier, 1, 2048, nullptr)(&seen);  // > 1024 threads
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(seen, 0);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // read once, as CUDA's
}
