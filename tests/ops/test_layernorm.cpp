// kernels/layernorm through src/ops/layernorm: forward and every gradient against torch's own
// layer_norm (computed in float64 from the same inputs), on the CPU always and on CUDA when present.
#include "ops/layernorm.h"

#include "ops/kernel_version.h"

#include <algorithm>

#include "ops/norm_check.h"

using namespace lntune;
using test::expect_close;
using test::tolerance;
using test::Tolerance;

// The whole file in its own namespace: under the unity build (CMakeLists.txt) it may share a
// translation unit with test_dyt.cpp, whose helpers have the same names.
namespace layernorm_test {

namespace {

struct Grads {
  torch::Tensor y, dx, dgamma, dbeta;
};

// The plain reference: torch::layer_norm in float64, autograd for the gradients.
Grads reference(const torch::Tensor& x, const torch::Tensor& g, const torch::Tensor& b, const torch::Tensor& dy,
                double eps) {
  auto xd = x.detach().to(torch::kDouble).requires_grad_(true);
  auto gd = g.detach().to(torch::kDouble).requires_grad_(true);
  auto bd = b.detach().to(torch::kDouble).requires_grad_(true);
  auto y = torch::layer_norm(xd, {x.size(-1)}, gd, bd, eps);
  y.backward(dy.to(torch::kDouble));
  return {y.detach(), xd.grad(), gd.grad(), bd.grad()};
}

Grads ours(const torch::Tensor& x, const torch::Tensor& g, const torch::Tensor& b, const torch::Tensor& dy,
           double eps) {
  auto xo = x.detach().clone().requires_grad_(true);
  auto go = g.detach().clone().requires_grad_(true);
  auto bo = b.detach().clone().requires_grad_(true);
  auto y = ops::fused_layer_norm(xo, go, bo, eps);
  y.backward(dy);
  return {y.detach(), xo.grad(), go.grad(), bo.grad()};
}

// Random case of `rows` x `cols` in activation dtype xt and parameter dtype pt on `dev`; compares
// ours with the float64 reference rounded to the same dtypes.
void check_case(int64_t rows, int64_t cols, torch::ScalarType xt, torch::ScalarType pt, torch::Device dev,
                double eps = 1e-5, double offset = 0.0, double spread = 1.0, double grad_atol = 0.0) {
  auto fx = torch::TensorOptions().dtype(xt).device(dev), fp = torch::TensorOptions().dtype(pt).device(dev);
  auto x = (torch::randn({rows, cols}) * spread + offset).to(fx);
  auto g = (torch::rand({cols}) + 0.5).to(fp), b = torch::randn({cols}).to(fp);
  auto dy = torch::randn({rows, cols}).to(fx);
  auto r = reference(x, g, b, dy, eps);
  auto o = ours(x, g, b, dy, eps);
  std::string tag = test::case_tag(rows, cols, xt, pt, dev);
  auto tx = tolerance(xt), tp = tolerance(pt);
  Tolerance tg = grad_atol > 0 ? Tolerance{tx.rtol, grad_atol} : tx;
  EXPECT_EQ(o.y.scalar_type(), xt) << tag;
  EXPECT_EQ(o.dgamma.scalar_type(), pt) << tag;
  expect_close(o.y, r.y.to(xt), tx, tag + " y");
  // dx has the scale of rstd * dy: large when the row barely varies.
  expect_close(o.dx, r.dx.to(xt), tg, tag + " dx", std::max(1.0, 1.0 / spread));
  // Sums over rows: the absolute tolerance grows with sqrt(rows) (random-walk rounding).
  double s = std::sqrt(static_cast<double>(rows));
  expect_close(o.dgamma, r.dgamma.to(pt), {tp.rtol, std::max({tp.atol, tx.rtol, grad_atol})}, tag + " dgamma", s);
  expect_close(o.dbeta, r.dbeta.to(pt), {tp.rtol, std::max(tp.atol, tx.rtol)}, tag + " dbeta", s);
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
      auto x = torch::randn({300, cols}).to(o), dy = torch::randn({300, cols}).to(o);
      auto g = (torch::rand({cols}) + 0.5).to(o), b = torch::randn({cols}).to(o);
      auto p = ours(x, g, b, dy, 1e-5), q = ours(x, g.to(torch::kFloat), b.to(torch::kFloat), dy, 1e-5);
      const std::string tag = test::case_tag(300, cols, t, t, dev);
      EXPECT_EQ(p.dgamma.scalar_type(), t) << tag;
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
    auto g = torch::rand({768}).to(dev, pt), b = torch::randn({768}).to(dev, pt);
    auto names = test::aten_ops_in([&] {
      auto [y, mean, rstd] = ops::layernorm_forward(x, g, b, 1e-5);
      auto [dx, dg, db] = ops::layernorm_backward(dy, x, mean, rstd, g, {true, true, true});
      EXPECT_EQ(dg.scalar_type(), pt);
      EXPECT_EQ(db.scalar_type(), pt);
    });
    EXPECT_EQ(test::copies_in(names), "") << test::case_tag(64, 768, xt, pt, dev);
  }
}

}  // namespace

TEST(LayerNormKernel, CpuFloat32EveryHiddenSize) {
  test::for_every_cpu_isa([&] { check_device(torch::kCPU, {{torch::kFloat, torch::kFloat}}); });
}

TEST(LayerNormKernel, CpuBfloat16AndFloat16) {
  test::for_every_cpu_isa([&] {
    check_device(torch::kCPU, {{torch::kBFloat16, torch::kFloat},
                               {torch::kBFloat16, torch::kBFloat16},
                               {torch::kHalf, torch::kFloat},
                               {torch::kFloat, torch::kBFloat16}});
  });
}

TEST(LayerNormKernel, CpuSixteenBitParameterGradientsAreTheFp32OnesRounded) {
  test::for_every_cpu_isa([&] {
    torch::manual_seed(4);
    check_sixteen_bit_param_grads(torch::kCPU);
  });
}

TEST(LayerNormKernel, CpuNoCopiesBesideTheKernels) { check_no_copies(torch::kCPU); }

TEST(LayerNormKernel, CpuZeroHugeAndEpsDominatedInputs) {
  test::for_every_cpu_isa([&] {
    torch::manual_seed(1);
    // Zero rows: variance 0, rstd = 1/sqrt(eps), y = beta.
    auto x = torch::zeros({4, 768});
    auto g = torch::rand({768}) + 0.5, b = torch::randn({768});
    auto [y, mean, rstd] = ops::layernorm_forward(x, g, b, 1e-5);
    EXPECT_TRUE(torch::equal(y, b.expand_as(y)));
    EXPECT_NEAR(rstd[0].item<double>(), 1.0 / std::sqrt(1e-5), 1e-1);
    check_case(4, 768, torch::kFloat, torch::kFloat, torch::kCPU);
    // Large common offset: the output stays at fp32 round-off. The gradients use the saved fp32 mean,
    // itself rounded to ulp(1e4) ~ 1e-3 as torch's is, hence their looser bound.
    check_case(8, 1000, torch::kFloat, torch::kFloat, torch::kCPU, 1e-5, 1e4, 1.0, 2e-3);
    // Variance far below eps: eps dominates and the result still matches.
    check_case(8, 768, torch::kFloat, torch::kFloat, torch::kCPU, 1e-2, 0.0, 1e-3);
    check_case(8, 768, torch::kFloat, torch::kFloat, torch::kCPU, 1e-12, 0.0, 1.0);
  });
}

TEST(LayerNormKernel, CpuLeadingDimensionsNonContiguousAndFrozenParameters) {
  test::for_every_cpu_isa([&] {
    torch::manual_seed(2);
    auto x = torch::randn({3, 768, 5}).transpose(1, 2);  // [3, 5, 768], not contiguous
    auto g = torch::rand({768}) + 0.5, b = torch::randn({768});
    auto xo = x.detach().clone().requires_grad_(true), xr = x.detach().clone().requires_grad_(true);
    auto y = ops::fused_layer_norm(xo, g, b, 1e-12);  // gamma/beta frozen: no grads for them
    auto yr = torch::layer_norm(xr, {768}, g, b, 1e-12);
    expect_close(y, yr, {1e-5, 1e-5}, "3-D y");
    auto dy = torch::randn_like(y);
    y.backward(dy);
    yr.backward(dy);
    expect_close(xo.grad(), xr.grad(), {1e-5, 1e-5}, "3-D dx");
    EXPECT_FALSE(g.grad().defined());
  });
}

TEST(LayerNormKernel, CpuBackwardIsDeterministic) {
  test::for_every_cpu_isa([&] {
    torch::manual_seed(3);
    auto x = torch::randn({1024, 768}), g = torch::rand({768}), dy = torch::randn({1024, 768});
    auto [y, mean, rstd] = ops::layernorm_forward(x, g, torch::zeros({768}), 1e-5);
    auto a = ops::layernorm_backward(dy, x, mean, rstd, g, {true, true, true});
    auto b = ops::layernorm_backward(dy, x, mean, rstd, g, {true, true, true});
    EXPECT_TRUE(torch::equal(std::get<0>(a), std::get<0>(b)));
    EXPECT_TRUE(torch::equal(std::get<1>(a), std::get<1>(b)));
    EXPECT_TRUE(torch::equal(std::get<2>(a), std::get<2>(b)));
  });
}

TEST(LayerNormKernel, BadArgumentsNameTheValue) {
  auto x = torch::randn({2, 8});
  try {
    ops::fused_layer_norm(x, torch::ones({7}), torch::zeros({7}), 1e-5);
    FAIL();
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("last dimension 8 != hidden size 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ops::fused_layer_norm(x.to(torch::kDouble), torch::ones({8}), torch::zeros({8}), 1e-5), c10::Error);
}

constexpr auto kLn = ops::CudaKernel::layernorm;

// Every CUDA kernel version (kernels/layernorm/versions.h), each against the float64 reference;
// version 2 handles the multiples of 16 bytes up to 8192 and hands the rest (1, 7, 127, 12288) to
// version 1, and versions 3 and 4 take those up to 512 packs (4096 in 16-bit types) and hand the
// wider ones to version 2, so every path runs.
TEST(LayerNormKernel, CudaEveryDtypeAndHiddenSize) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  test::for_every_kernel_version(kLn, [&] {
    check_device(torch::kCUDA, test::cuda_dtype_pairs());
    check_case(8, 1000, torch::kFloat, torch::kFloat, torch::kCUDA, 1e-5, 1e4, 1.0, 2e-3);
    check_case(8, 768, torch::kFloat, torch::kFloat, torch::kCUDA, 1e-2, 0.0, 1e-3);
    check_case(5000, 768, torch::kFloat, torch::kFloat, torch::kCUDA);     // many row chunks
    check_case(5000, 4096, torch::kBFloat16, torch::kFloat, torch::kCUDA);  // a block per row, many rounds
  });
}

TEST(LayerNormKernel, CudaSixteenBitParameterGradientsAreTheFp32OnesRounded) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  test::for_every_kernel_version(kLn, [&] { check_sixteen_bit_param_grads(torch::kCUDA); });
}

TEST(LayerNormKernel, CudaNoCopiesBesideTheKernels) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  check_no_copies(torch::kCUDA);
}

TEST(LayerNormKernel, CudaBackwardIsDeterministic) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  test::for_every_kernel_version(kLn, [&] {
    for (int64_t cols : {768, 4096}) {
      auto o = torch::TensorOptions().device(torch::kCUDA);
      auto x = torch::randn({8192, cols}, o), g = torch::rand({cols}, o), dy = torch::randn({8192, cols}, o);
      auto [y, mean, rstd] = ops::layernorm_forward(x, g, torch::zeros({cols}, o), 1e-5);
      auto a = ops::layernorm_backward(dy, x, mean, rstd, g, {true, true, true});
      auto b = ops::layernorm_backward(dy, x, mean, rstd, g, {true, true, true});
      EXPECT_TRUE(torch::equal(std::get<0>(a), std::get<0>(b))) << cols;
      EXPECT_TRUE(torch::equal(std::get<1>(a), std::get<1>(b))) << cols;
      EXPECT_TRUE(torch::equal(std::get<2>(a), std::get<2>(b))) << cols;
    }
  });
}

// Rows that do not start on a 16-byte boundary: version 2 declines them and version 1 runs, with
// the same bits as version 1 asked for directly.
TEST(LayerNormKernel, CudaMisalignedRowsFallBackToVersion1) {
  LNTUNE_SKIP_WITHOUT_CUDA();
  auto o = torch::TensorOptions().device(torch::kCUDA);
  auto flat = torch::randn({64 * 768 + 1}, o), dy = torch::randn({64, 768}, o);
  auto x = flat.narrow(0, 1, 64 * 768).view({64, 768});  // 4 bytes past the allocation's start
  auto g = torch::rand({768}, o), b = torch::randn({768}, o);
  auto run = [&](int v) {
    test::KernelVersion use(kLn, v);
    auto [y, mean, rstd] = ops::layernorm_forward(x, g, b, 1e-5);
    auto [dx, dg, db] = ops::layernorm_backward(dy, x, mean, rstd, g, {true, true, true});
    return std::vector<torch::Tensor>{y, dx, dg, db};
  };
  auto v1 = run(1), v2 = run(2);
  for (size_t i = 0; i < v1.size(); ++i) EXPECT_TRUE(torch::equal(v1[i], v2[i])) << i;
}

TEST(LayerNormKernel, UnknownCudaVersionIsAnError) {
  EXPECT_THROW(ops::set_cuda_kernel_version(kLn, ops::cuda_kernel_versions(kLn) + 1), c10::Error);
  EXPECT_THROW(ops::set_cuda_kernel_version(kLn, -1), c10::Error);
  EXPECT_EQ(ops::cuda_kernel_version(kLn), 0);
  EXPECT_EQ(ops::promoted_cuda_kernel_version(kLn), 2);
}

}  // namespace layernorm_test
