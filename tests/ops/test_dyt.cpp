// kernels/dyt through src/ops/dyt: forward and the gradients of x, alpha (a full reduction), gamma
// and beta against the composite expression gamma * tanh(alpha * x) + beta in float64, on the CPU
// always and on CUDA when present.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "dyt/dyt_cpu.h"
#include "ops/dyt.h"
#include "ops/norm_check.h"

using namespace lntune;
using test::expect_close;
using test::Tolerance;
using test::tolerance;

// The whole file in its own namespace: under the unity build (CMakeLists.txt) it may share a
// translation unit with test_layernorm.cpp, whose helpers have the same names.
namespace dyt_test {

namespace {

struct Grads {
  torch::Tensor y, dx, dalpha, dgamma, dbeta;
};

// The plain reference: the composite expression in float64, autograd for the gradients.
Grads reference(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& g, const torch::Tensor& b,
                const torch::Tensor& dy) {
  auto xd = x.detach().to(torch::kDouble).requires_grad_(true);
  auto ad = a.detach().to(torch::kDouble).requires_grad_(true);
  auto gd = g.detach().to(torch::kDouble).requires_grad_(true);
  auto bd = b.detach().to(torch::kDouble).requires_grad_(true);
  auto y = gd * torch::tanh(ad * xd) + bd;
  y.backward(dy.to(torch::kDouble));
  return {y.detach(), xd.grad(), ad.grad(), gd.grad(), bd.grad()};
}

Grads ours(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& g, const torch::Tensor& b,
           const torch::Tensor& dy) {
  auto xo = x.detach().clone().requires_grad_(true);
  auto ao = a.detach().clone().requires_grad_(true);
  auto go = g.detach().clone().requires_grad_(true);
  auto bo = b.detach().clone().requires_grad_(true);
  auto y = ops::fused_dyt(xo, ao, go, bo);
  y.backward(dy);
  return {y.detach(), xo.grad(), ao.grad(), go.grad(), bo.grad()};
}

void check_case(int64_t rows, int64_t cols, torch::ScalarType xt, torch::ScalarType pt, torch::Device dev,
                double scale = 2.0, double alpha = 0.5) {
  auto fx = torch::TensorOptions().dtype(xt).device(dev), fp = torch::TensorOptions().dtype(pt).device(dev);
  auto x = (torch::randn({rows, cols}) * scale).to(fx);
  auto a = torch::full({1}, alpha).to(fp);
  auto g = (torch::rand({cols}) + 0.5).to(fp), b = torch::randn({cols}).to(fp);
  auto dy = torch::randn({rows, cols}).to(fx);
  auto r = reference(x, a, g, b, dy);
  auto o = ours(x, a, g, b, dy);
  std::string tag = test::case_tag(rows, cols, xt, pt, dev);
  auto tx = tolerance(xt), tp = tolerance(pt);
  EXPECT_EQ(o.y.scalar_type(), xt) << tag;
  EXPECT_EQ(o.dalpha.scalar_type(), pt) << tag;
  EXPECT_EQ(o.dalpha.sizes(), a.sizes()) << tag;
  expect_close(o.y, r.y.to(xt), tx, tag + " y");
  expect_close(o.dx, r.dx.to(xt), tx, tag + " dx");
  // Sums over rows (and, for alpha, over every element): absolute error grows like sqrt(count).
  Tolerance sum{tp.rtol, std::max(tp.atol, tx.rtol)};
  expect_close(o.dgamma, r.dgamma.to(pt), sum, tag + " dgamma", std::sqrt(static_cast<double>(rows)));
  expect_close(o.dbeta, r.dbeta.to(pt), sum, tag + " dbeta", std::sqrt(static_cast<double>(rows)));
  expect_close(o.dalpha, r.dalpha.to(pt), sum, tag + " dalpha", std::sqrt(static_cast<double>(rows * cols)));
}

void check_device(torch::Device dev, const test::DtypePairs& types) {
  test::for_every_hidden_size(types, [&](int64_t rows, int64_t cols, torch::ScalarType xt, torch::ScalarType pt) {
    check_case(rows, cols, xt, pt, dev);
  });
}

// 16-bit parameters get the gradients the same values stored as fp32 get, rounded once to 16 bits
// (the CUDA kernels write them in the parameters' type; no double rounding, no other order).
void check_sixteen_bit_param_grads(torch::Device dev) {
  for (auto t : {torch::kBFloat16, torch::kHalf}) {
    for (int64_t cols : {7, 768}) {
      auto o = torch::TensorOptions().dtype(t).device(dev);
      auto x = (torch::randn({300, cols}) * 2.0).to(o), dy = torch::randn({300, cols}).to(o);
      auto a = torch::full({1}, 0.5).to(o), g = (torch::rand({cols}) + 0.5).to(o), b = torch::randn({cols}).to(o);
      auto f32 = [](const torch::Tensor& p) { return p.to(torch::kFloat); };
      auto p = ours(x, a, g, b, dy), q = ours(x, f32(a), f32(g), f32(b), dy);
      const std::string tag = test::case_tag(300, cols, t, t, dev);
      EXPECT_EQ(p.dalpha.scalar_type(), t) << tag;
      EXPECT_TRUE(torch::equal(p.dalpha, q.dalpha.to(t))) << tag;
      EXPECT_TRUE(torch::equal(p.dgamma, q.dgamma.to(t))) << tag;
      EXPECT_TRUE(torch::equal(p.dbeta, q.dbeta.to(t))) << tag;
    }
  }
}

// Forward and backward launch the kernels and nothing else where the dtypes are ones the kernels
// take: no cast of an input, none of a gradient (they come out in the parameters' dtype).
void check_no_copies(torch::Device dev) {
  for (auto [xt, pt] : test::uncast_pairs(dev.is_cuda())) {
    auto x = torch::randn({64, 768}).to(dev, xt), dy = torch::randn({64, 768}).to(dev, xt);
    auto a = torch::full({1}, 0.5).to(dev, pt), g = torch::rand({768}).to(dev, pt), b = torch::randn({768}).to(dev, pt);
    auto names = test::aten_ops_in([&] {
      auto y = ops::dyt_forward(x, a, g, b);
      auto [dx, da, dg, db] = ops::dyt_backward(dy, x, a, g, {true, true, true, true});
      EXPECT_EQ(da.scalar_type(), pt);
      EXPECT_EQ(dg.scalar_type(), pt);
    });
    EXPECT_EQ(test::copies_in(names), "") << test::case_tag(64, 768, xt, pt, dev);
  }
}

}  // namespace

TEST(DytKernel, CpuFloat32EveryHiddenSize) {
  test::for_every_cpu_isa([&] { check_device(torch::kCPU, {{torch::kFloat, torch::kFloat}}); });
}

TEST(DytKernel, CpuBfloat16AndFloat16) {
  test::for_every_cpu_isa([&] {
    check_device(
        torch::kCPU,
        {{torch::kBFloat16, torch::kFloat}, {torch::kBFloat16, torch::kBFloat16}, {torch::kHalf, torch::kFloat}});
  });
}

TEST(DytKernel, CpuSixteenBitParameterGradientsAreTheFp32OnesRounded) {
  test::for_every_cpu_isa([&] {
    torch::manual_seed(4);
    check_sixteen_bit_param_grads(torch::kCPU);
  });
}

TEST(DytKernel, CpuNoCopiesBesideTheKernels) { check_no_copies(torch::kCPU); }

TEST(DytKernel, CpuZeroHugeAndSaturatedInputs) {
  test::for_every_cpu_isa([&] {
    torch::manual_seed(1);
    // Zero input: y = beta exactly; tanh'(0) = 1 so dx = alpha * gamma * dy.
    auto x = torch::zeros({3, 768}), a = torch::full({1}, 0.7), g = torch::rand({768}) + 0.5, b = torch::randn({768});
    EXPECT_TRUE(torch::equal(ops::dyt_forward(x, a, g, b), b.expand_as(x)));
    check_case(3, 768, torch::kFloat, torch::kFloat, torch::kCPU, 0.0);
    // Saturated tanh (|alpha x| up to ~1e4): y = +-gamma + beta, gradients vanish, nothing is NaN.
    check_case(16, 1000, torch::kFloat, torch::kFloat, torch::kCPU, 1e4);
    // Small |alpha x|, where tanh(y) ~ y and its relative error shows.
    check_case(16, 1024, torch::kFloat, torch::kFloat, torch::kCPU, 0.3, 1.0);
    auto inf =
        ops::dyt_forward(torch::tensor({{INFINITY, -INFINITY}}), torch::ones({1}), torch::ones({2}), torch::zeros({2}));
    EXPECT_TRUE(torch::equal(inf, torch::tensor({{1.f, -1.f}})));
    auto nan = ops::dyt_forward(torch::tensor({{NAN, 0.f}}), torch::ones({1}), torch::ones({2}), torch::zeros({2}));
    EXPECT_TRUE(std::isnan(nan[0][0].item<float>()));
  });
}

TEST(DytKernel, CpuFrozenParametersAndDeterminism) {
  test::for_every_cpu_isa([&] {
    torch::manual_seed(2);
    auto x = torch::randn({512, 768}, torch::requires_grad()), a = torch::full({1}, 0.5, torch::requires_grad());
    auto g = torch::rand({768}), b = torch::zeros({768});  // frozen: only dx and dalpha wanted
    auto y = ops::fused_dyt(x, a, g, b);
    y.sum().backward();
    EXPECT_TRUE(x.grad().defined());
    EXPECT_TRUE(a.grad().defined());
    EXPECT_FALSE(g.grad().defined());
    auto dy = torch::randn({512, 768});
    auto r1 = ops::dyt_backward(dy, x.detach(), a.detach(), g, {true, true, true, true});
    auto r2 = ops::dyt_backward(dy, x.detach(), a.detach(), g, {true, true, true, true});
    EXPECT_TRUE(torch::equal(std::get<1>(r1), std::get<1>(r2)));
    EXPECT_TRUE(torch::equal(std::get<2>(r1), std::get<2>(r2)));
  });
}

// The CPU loops' tanh (kernels/cpu_math.h, a rational function) against tanh in float64, on every
// 97th fp32 value from 0 to 10 and their negatives, plus the special ones, through the raw kernel
// (alpha = gamma = 1, beta = 0: y = tanh(x) + 0) in each build: relative error within
// 4.5e-7 (its worst, measured over every fp32 input, is 4.3e-7 near |x| = 7), never past +-1 (so
// that 1 - tanh^2 stays >= 0), odd to the bit, +-1 at saturation, NaN kept; and every build gives
// the same bits (no FMA, elementwise).
TEST(DytKernel, CpuTanhOnEveryInstructionSet) {
  std::vector<float> x;
  for (uint32_t u = 0; u <= 0x41200000u; u += 97) {  // 0x41200000: 10.0f
    float v;
    std::memcpy(&v, &u, 4);
    x.push_back(v);
    x.push_back(-v);
  }
  const size_t sweep = x.size();  // (v, -v) pairs; the special values follow
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {0.f, -0.f, 1e-40f, 9.5f, 9.5001f, 1e30f, inf, -inf, std::nanf("")}) x.push_back(v);
  ASSERT_EQ(x.size() - sweep, 9u);  // read back below by position
  // Rows of 1024 (the vectorised loop, not its scalar tail, does the work), zero-padded.
  const int64_t cols = 1024, rows = static_cast<int64_t>((x.size() + cols - 1) / cols);
  x.resize(static_cast<size_t>(rows * cols), 0.f);
  const float one = 1.f;
  const std::vector<float> gamma(cols, 1.f), beta(cols, 0.f);
  std::vector<double> ref(sweep / 2);
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = std::tanh(static_cast<double>(x[2 * i]));
  std::vector<float> first;
  for (auto isa : kernels::cpu::available_cpu_isas()) {
    test::CpuIsaScope use(isa);
    const std::string name = kernels::cpu::cpu_isa_name(isa);
    std::vector<float> y(x.size());
    kernels::cpu::dyt_forward(kernels::DType::f32, kernels::DType::f32, x.data(), &one, gamma.data(), beta.data(),
                              y.data(), rows, cols, 2);
    double worst = 0;
    float worst_at = 0;
    for (size_t i = 0; i < sweep; i += 2) {
      const double r = ref[i / 2];
      const double rel = r == 0 ? std::fabs(y[i]) : std::fabs(y[i] - r) / std::fabs(r);
      if (rel > worst) worst = rel, worst_at = x[i];
      ASSERT_EQ(y[i + 1], -y[i]) << name << ": tanh(-x) != -tanh(x) at x = " << x[i];
      ASSERT_LE(std::fabs(y[i]), 1.f) << name << " at x = " << x[i];
    }
    EXPECT_LE(worst, 4.5e-7) << name << ": worst relative error at x = " << worst_at;
    const float* sp = y.data() + sweep;  // the special values, in the order pushed
    EXPECT_EQ(sp[0], 0.f) << name;
    EXPECT_EQ(sp[1], 0.f) << name;  // -0 + beta: +0, as the composite gives
    EXPECT_EQ(sp[2], 1e-40f) << name << ": tanh(x) = x for a subnormal";
    EXPECT_EQ(sp[3], 1.f) << name;
    EXPECT_EQ(sp[4], 1.f) << name;
    EXPECT_EQ(sp[5], 1.f) << name;
    EXPECT_EQ(sp[6], 1.f) << name;
    EXPECT_EQ(sp[7], -1.f) << name;
    EXPECT_TRUE(std::isnan(sp[8])) << name;
    if (first.empty()) {
      first = y;
    } else {
      EXPECT_EQ(std::memcmp(first.data(), y.data(), 4 * y.size()), 0) << name << " rounds unlike the baseline";
    }
  }
}

// Every build of the CPU loops gives the same y and dx bits (elementwise, no FMA contraction),
// fp32 and bf16; the sums over rows (dalpha, dgamma, dbeta) may differ in order, so only closely.
TEST(DytKernel, CpuEveryInstructionSetGivesTheSameElementwiseBits) {
  torch::manual_seed(5);
  for (auto t : {torch::kFloat, torch::kBFloat16}) {
    auto x = (torch::randn({37, 1000}) * 3).to(t), dy = torch::randn({37, 1000}).to(t);
    auto a = torch::full({1}, 0.6), g = torch::rand({1000}) + 0.5, b = torch::randn({1000});
    std::optional<Grads> base;
    for (auto isa : kernels::cpu::available_cpu_isas()) {
      test::CpuIsaScope use(isa);
      auto o = ours(x, a, g, b, dy);
      const std::string tag = std::string(kernels::cpu::cpu_isa_name(isa)) + " " + c10::toString(t);
      if (!base) {
        base = o;
        continue;
      }
      EXPECT_TRUE(torch::equal(o.y, base->y)) << tag;
      EXPECT_TRUE(torch::equal(o.dx, base->dx)) << tag;
      expect_close(o.dalpha, base->dalpha, {1e-5, 1e-4}, tag + " dalpha");
      expect_close(o.dgamma, base->dgamma, {1e-5, 1e-5}, tag + " dgamma");
      expect_close(o.dbeta, base->dbeta, {1e-5, 1e-5}, tag + " dbeta");
    }
  }
}

TEST(DytKernel, BadArgumentsNameTheValue) {
  try {
    ops::fused_dyt(torch::randn({2, 8}), torch::ones({2}), torch::ones({8}), torch::zeros({8}));
    FAIL();
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("alpha must have 1 elements, got 2"), std::string::npos) << e.what();
  }
}

constexpr auto kDyt = ops::CudaKernel::dyt;

// Every CUDA kernel version (kernels/dyt/versions.h): version 2 takes the multiples of 16 bytes
// and hands the rest (1, 7, 127 ...) to version 1; version 3's backward takes those up to 256
// packs and hands the wider ones to version 2, so every path runs.
TEST(DytKernel, CudaEveryDtypeAndHiddenSize) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  test::for_every_kernel_version(kDyt, [&] {
    check_device(torch::kCUDA, test::cuda_dtype_pairs());
    check_case(16, 1000, torch::kFloat, torch::kFloat, torch::kCUDA, 1e4);
    check_case(5000, 768, torch::kFloat, torch::kFloat, torch::kCUDA);  // many row chunks
  });
}

TEST(DytKernel, CudaSixteenBitParameterGradientsAreTheFp32OnesRounded) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  test::for_every_kernel_version(kDyt, [&] { check_sixteen_bit_param_grads(torch::kCUDA); });
}

TEST(DytKernel, CudaNoCopiesBesideTheKernels) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  check_no_copies(torch::kCUDA);
}

TEST(DytKernel, CudaBackwardIsDeterministic) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  test::for_every_kernel_version(kDyt, [&] {
    auto o = torch::TensorOptions().device(torch::kCUDA);
    auto x = torch::randn({8192, 768}, o), a = torch::full({1}, 0.5, o), g = torch::rand({768}, o);
    auto dy = torch::randn({8192, 768}, o);
    auto r1 = ops::dyt_backward(dy, x, a, g, {true, true, true, true});
    auto r2 = ops::dyt_backward(dy, x, a, g, {true, true, true, true});
    for (auto [t1, t2] : {std::pair{std::get<0>(r1), std::get<0>(r2)}, std::pair{std::get<1>(r1), std::get<1>(r2)},
                          std::pair{std::get<2>(r1), std::get<2>(r2)}, std::pair{std::get<3>(r1), std::get<3>(r2)}})
      EXPECT_TRUE(torch::equal(t1, t2));
  });
}

// Rows that do not start on a 16-byte boundary: version 2 declines them; version 1's bits.
TEST(DytKernel, CudaMisalignedRowsFallBackToVersion1) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  auto o = torch::TensorOptions().device(torch::kCUDA);
  auto flat = torch::randn({64 * 768 + 1}, o), dy = torch::randn({64, 768}, o);
  auto x = flat.narrow(0, 1, 64 * 768).view({64, 768});
  auto a = torch::full({1}, 0.5, o), g = torch::rand({768}, o), b = torch::randn({768}, o);
  auto run = [&](int v) {
    test::KernelVersion use(kDyt, v);
    auto y = ops::dyt_forward(x, a, g, b);
    auto [dx, da, dg, db] = ops::dyt_backward(dy, x, a, g, {true, true, true, true});
    return std::vector<torch::Tensor>{y, dx, da, dg, db};
  };
  auto v1 = run(1), v2 = run(2);
  for (size_t i = 0; i < v1.size(); ++i) EXPECT_TRUE(torch::equal(v1[i], v2[i])) << i;
}

TEST(DytKernel, UnknownCudaVersionIsAnError) {
  EXPECT_THROW(ops::set_cuda_kernel_version(kDyt, ops::cuda_kernel_versions(kDyt) + 1), c10::Error);
  EXPECT_EQ(ops::cuda_kernel_version(kDyt), 0);
  EXPECT_EQ(ops::promoted_cuda_kernel_version(kDyt), 2);
}

}  // namespace dyt_test
