// kernels/dropout through src/ops/dropout: the kernel against a plain per-element reference of the
// mask it defines (dropout_hash.h), on every build of the CPU loops and thread count; the mask's
// statistics (keep rate, independence of neighbours, of rows, of seeds and of key blocks); the
// gradient against autograd of x * mask; the default generator as the only source of randomness.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "dropout/dropout_cpu.h"
#include "dropout/dropout_hash.h"
#include "ops/dropout.h"
#include "ops/norm_check.h"
#include "ops/tensor_args.h"

using namespace lntune;

namespace {

// The plain reference: element i of x times 1 / (1 - p) where its bits fall under the threshold,
// times 0 elsewhere, in float32, rounded once to x's dtype by torch.
torch::Tensor dropout_reference(const torch::Tensor& x, double p, uint64_t seed) {
  auto xf = x.to(torch::kFloat).contiguous();
  auto m = torch::empty_like(xf);
  const uint32_t limit = kernels::dropout::threshold(1.0 - p);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  float* mp = m.data_ptr<float>();
  for (int64_t i = 0; i < xf.numel(); ++i) {
    const auto k = kernels::dropout::keys(seed, static_cast<uint64_t>(i) >> 32);
    mp[i] = kernels::dropout::bits(k, static_cast<uint32_t>(i)) < limit ? scale : 0.f;
  }
  return (xf * m).to(x.scalar_type());
}

// Which elements of a long run are kept (the kernel on ones).
std::vector<uint8_t> kept(int64_t n, double p, uint64_t seed) {
  auto y = ops::dropout_apply(torch::ones({n}), p, seed);
  std::vector<uint8_t> k(static_cast<size_t>(n));
  const float* yp = y.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) k[i] = yp[i] != 0.f;
  return k;
}

// |observed - expected| of a proportion over n trials, in standard deviations.
double sigmas(double observed, double expected, double n) {
  return std::fabs(observed - expected) / std::sqrt(expected * (1 - expected) / n);
}

}  // namespace

TEST(DropoutKernel, CpuMatchesThePlainReferenceOnEveryBuildAndThreadCount) {
  torch::manual_seed(3);
  // Sizes with vector tails, one chunk (2^16) and past it, several chunks.
  for (int64_t n : {1, 7, 127, 1000, 65536, 65539, 200003}) {
    for (auto t : {torch::kFloat, torch::kBFloat16}) {
      for (double p : {0.1, 0.5}) {
        auto x = (torch::randn({n}) * 3).to(t);
        const uint64_t seed = 0x1234567890abcdefull + static_cast<uint64_t>(n);
        auto ref = dropout_reference(x, p, seed);
        for (auto isa : kernels::cpu::available_cpu_isas()) {
          test::CpuIsaScope use(isa);
          for (int threads : {1, 2, 3}) {
            auto y = torch::empty_like(x);
            kernels::cpu::dropout_apply(ops::kernel_dtype(x, "test", "x"), x.data_ptr(), y.data_ptr(), n, p, seed, threads);
            ASSERT_TRUE(torch::equal(y, ref)) << kernels::cpu::cpu_isa_name(isa) << " " << threads << " threads, n "
                                              << n << " " << c10::toString(t) << " p " << p;
          }
        }
      }
    }
  }
}

TEST(DropoutKernel, CpuInPlaceAndEmpty) {
  auto x = torch::randn({5000});
  auto ref = dropout_reference(x, 0.3, 9);
  kernels::cpu::dropout_apply(kernels::DType::f32, x.data_ptr(), x.data_ptr(), x.numel(), 0.3, 9, 2);
  EXPECT_TRUE(torch::equal(x, ref));
  kernels::cpu::dropout_apply(kernels::DType::f32, nullptr, nullptr, 0, 0.3, 9, 2);  // nothing to touch
}

TEST(DropoutKernel, CpuKeepsEachElementWithProbabilityOneMinusP) {
  const int64_t n = int64_t{1} << 20;
  for (double p : {0.1, 0.5, 0.9}) {
    for (uint64_t seed : {1ull, 2ull, 0xdeadbeefcafef00dull}) {
      auto k = kept(n, p, seed);
      double s = 0;
      for (auto v : k) s += v;
      EXPECT_LT(sigmas(s / n, 1 - p, n), 5.0) << "p " << p << " seed " << seed << ": kept " << s / n;
    }
  }
}

// A weak mixer shows as dependence between nearby elements: neighbours, the same column of
// consecutive rows (stride 768), or as rows whose kept counts vary more or less than a binomial's.
TEST(DropoutKernel, CpuElementsAreIndependent) {
  const int64_t n = int64_t{1} << 20;
  const double p = 0.5, q = 1 - p;
  auto k = kept(n, p, 77);
  for (int64_t stride : {1, 2, 8, 768, 65536}) {
    double both = 0;
    for (int64_t i = 0; i + stride < n; ++i) both += k[i] & k[i + stride];
    const double m = static_cast<double>(n - stride);
    EXPECT_LT(sigmas(both / m, q * q, m), 5.0) << "elements " << stride << " apart kept together " << both / m;
  }
  const int64_t row = 64, rows = n / row;
  double sum = 0, sum2 = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double c = 0;
    for (int64_t j = 0; j < row; ++j) c += k[r * row + j];
    sum += c;
    sum2 += c * c;
  }
  const double mean = sum / rows, var = sum2 / rows - mean * mean, binomial = row * q * (1 - q);
  // The sample variance of 16384 rows is within ~2% of the true one; 10% flags a dependent mask.
  EXPECT_NEAR(var / binomial, 1.0, 0.1) << "kept per 64-element row: variance " << var << ", binomial " << binomial;
}

TEST(DropoutKernel, SeedsAndKeyBlocksDrawIndependentMasks) {
  const int64_t n = int64_t{1} << 20;
  const double p = 0.3, q = 1 - p, agree = q * q + p * p;
  // Consecutive seeds (the generator's draws are not consecutive, but a mixer must not need that).
  auto a = kept(n, p, 1000), b = kept(n, p, 1001);
  double same = 0;
  for (int64_t i = 0; i < n; ++i) same += a[i] == b[i];
  EXPECT_LT(sigmas(same / n, agree, n), 5.0) << "seeds 1000 and 1001 agree on " << same / n;
  // Element i and element i + 2^32 (the next key block) of the same tensor, from the mask's
  // definition (a tensor that long does not fit here).
  const uint32_t limit = kernels::dropout::threshold(q);
  const auto k0 = kernels::dropout::keys(1000, 0), k1 = kernels::dropout::keys(1000, 1);
  double blocks = 0;
  for (uint32_t i = 0; i < n; ++i)
    blocks += (kernels::dropout::bits(k0, i) < limit) == (kernels::dropout::bits(k1, i) < limit);
  EXPECT_LT(sigmas(blocks / n, agree, n), 5.0) << "key blocks 0 and 1 agree on " << blocks / n;
  // With one keyed round, mix32(lo ^ k0), seed b's mask would be seed a's with the indices
  // permuted (i -> i ^ k0a ^ k0b): the second round's key makes them unrelated.
  const auto ka = kernels::dropout::keys(1000, 0), kb = kernels::dropout::keys(1001, 0);
  const uint32_t shift = ka.k0 ^ kb.k0;
  double permuted = 0;
  for (uint32_t i = 0; i < n; ++i)
    permuted += (kernels::dropout::bits(kb, i) < limit) == (kernels::dropout::bits(ka, i ^ shift) < limit);
  EXPECT_LT(sigmas(permuted / n, agree, n), 5.0) << "seed 1001's mask is seed 1000's permuted: " << permuted / n;
}

TEST(DropoutKernel, ThresholdRoundsKeepTimesTwoToThe32) {
  EXPECT_EQ(kernels::dropout::threshold(0.5), 0x80000000u);
  EXPECT_EQ(kernels::dropout::threshold(0.9), 3865470566u);  // 0.9 * 2^32 = 3865470566.4
  EXPECT_EQ(kernels::dropout::threshold(1.0), 0xffffffffu);
  EXPECT_EQ(kernels::dropout::threshold(0.0), 0u);
}

TEST(DropoutKernel, BadArgumentsNameTheValue) {
  float v = 1;
  EXPECT_THROW(kernels::cpu::dropout_apply(kernels::DType::f16, &v, &v, 1, 0.1, 0, 1), std::invalid_argument);
  EXPECT_THROW(kernels::cpu::dropout_apply(kernels::DType::f32, &v, &v, 1, 1.0, 0, 1), std::invalid_argument);
  EXPECT_THROW(kernels::cpu::dropout_apply(kernels::DType::f32, &v, &v, -1, 0.1, 0, 1), std::invalid_argument);
  try {
    ops::fused_dropout(torch::ones({3}), 1.5);
    FAIL() << "p = 1.5 accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("p must be in [0, 1), got 1.5"), std::string::npos) << e.what();
  }
}

// The gradient is the forward's mask and scale on dy: autograd of x * m, m read off the forward.
TEST(FusedDropout, CpuGradientIsTheForwardMaskScaled) {
  torch::manual_seed(11);
  for (auto t : {torch::kFloat, torch::kBFloat16, torch::kHalf, torch::kDouble}) {
    auto x = torch::randn({4, 33, 50}).to(t).requires_grad_(true);
    auto dy = torch::randn({4, 33, 50}).to(t);
    auto y = ops::fused_dropout(x, 0.25);
    y.backward(dy);
    auto m = (y.detach() != 0).to(t) * (1.0 / 0.75);  // x has no zeros
    auto xr = x.detach().clone().requires_grad_(true);
    (xr * m).backward(dy);
    const auto tag = c10::toString(t);
    EXPECT_EQ(y.scalar_type(), t) << tag;
    test::expect_close(y.detach(), x.detach() * m, test::tolerance(t), std::string(tag) + " y");
    test::expect_close(x.grad(), xr.grad(), test::tolerance(t), std::string(tag) + " dx");
    const double rate = (y.detach() != 0).to(torch::kDouble).mean().item<double>();
    EXPECT_NEAR(rate, 0.75, 0.03) << tag;
  }
}

// A transposed (non-contiguous) gradient is the same gradient.
TEST(FusedDropout, CpuNonContiguousGradient) {
  torch::manual_seed(12);
  auto x = torch::randn({64, 48}).requires_grad_(true);
  auto dy = torch::randn({48, 64}).t();
  torch::manual_seed(1);
  ops::fused_dropout(x, 0.5).backward(dy);
  auto g1 = x.grad().clone();
  x.mutable_grad() = torch::Tensor();
  torch::manual_seed(1);
  ops::fused_dropout(x, 0.5).backward(dy.contiguous());
  EXPECT_TRUE(torch::equal(g1, x.grad()));
}

// Every mask comes from the default CPU generator: seeding repeats it, successive calls differ,
// and a saved generator state (what checkpoints keep, train/run_state.cpp) restores it.
TEST(FusedDropout, CpuDrawsFromTheDefaultGenerator) {
  auto x = torch::randn({1000});
  torch::manual_seed(7);
  auto a = ops::fused_dropout(x, 0.5), b = ops::fused_dropout(x, 0.5);
  EXPECT_FALSE(torch::equal(a, b));
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(ops::fused_dropout(x, 0.5), a));
  auto gen = at::detail::getDefaultCPUGenerator();
  auto state = gen.get_state();
  auto c = ops::fused_dropout(x, 0.5);
  gen.set_state(state);
  EXPECT_TRUE(torch::equal(ops::fused_dropout(x, 0.5), c));
  // p = 0 draws nothing and returns x itself.
  EXPECT_TRUE(ops::fused_dropout(x, 0.0).is_same(x));
  gen.set_state(state);
  EXPECT_TRUE(torch::equal(ops::fused_dropout(x, 0.5), c));
}

TEST(FusedDropout, CudaRunsTorchsFusedDropout) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  torch::manual_seed(2);
  auto x = torch::randn({256, 1024}, torch::kCUDA).requires_grad_(true);
  auto y = ops::fused_dropout(x, 0.2);
  y.backward(torch::ones_like(y));
  auto m = (y.detach() != 0).to(torch::kFloat);
  EXPECT_NEAR(m.mean().item<double>(), 0.8, 0.01);
  EXPECT_TRUE(torch::allclose(x.grad(), m / 0.8));
}
