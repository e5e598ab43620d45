// Shared by test_layernorm.cpp and test_dyt.cpp: the devices to run on (CUDA cases skip with a
// message where there is none), the CUDA kernel version in use, per-dtype tolerances, a closeness
// check that names the worst element, and the ATen operators a call runs (to find stray copies).
// The plain references stay in each test file, beside the checks.
#pragma once
#include <ATen/record_function.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cpu_isa.h"
#include "ops/kernel_version.h"

namespace lntune::test {

// Hidden sizes the issue names: tails at every width, not only multiples of 8/32.
inline const std::vector<int64_t>& odd_hidden_sizes() {
  static const std::vector<int64_t> k = {1, 7, 127, 768, 1000, 1024, 4096, 8192, 12288};
  return k;
}

struct Tolerance {
  double rtol, atol;
};
// fp32 1e-5 (the bar); bf16/fp16: torch.testing's defaults for those dtypes.
inline Tolerance tolerance(torch::ScalarType t) {
  if (t == torch::kBFloat16) return {1.6e-2, 1e-5};
  if (t == torch::kHalf) return {1e-3, 1e-5};
  return {1e-5, 1e-5};
}

// |actual - expected| <= atol + rtol * |expected| everywhere, with `scale` multiplying atol for
// sums over many rows (whose size grows with the row count).
inline void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, Tolerance tol,
                         const std::string& what, double scale = 1.0) {
  ASSERT_TRUE(actual.defined()) << what << ": undefined";
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  auto a = actual.to(torch::kDouble).cpu(), e = expected.to(torch::kDouble).cpu();
  auto err = (a - e).abs();
  auto bound = tol.atol * scale + tol.rtol * e.abs();
  auto excess = (err - bound).flatten();
  int64_t worst = excess.argmax().item<int64_t>();
  EXPECT_LE(excess[worst].item<double>(), 0.0)
      << what << ": element " << worst << " is " << a.flatten()[worst].item<double>() << ", expected "
      << e.flatten()[worst].item<double>() << " (rtol " << tol.rtol << ", atol " << tol.atol * scale << ")";
}

// "37x768 Float/Float on cpu": names a case in every failure message.
inline std::string case_tag(int64_t rows, int64_t cols, torch::ScalarType xt, torch::ScalarType pt,
                            const torch::Device& dev) {
  return std::to_string(rows) + "x" + std::to_string(cols) + " " + c10::toString(xt) + "/" + c10::toString(pt) +
         " on " + dev.str();
}

using DtypePairs = std::vector<std::pair<torch::ScalarType, torch::ScalarType>>;

// (activation, parameter) dtypes the CUDA kernels take (kernels/cuda_common.cuh, with_storage):
// fp32 activations with fp32 parameters; bf16 and fp16 activations with fp32 or their own.
inline const DtypePairs& cuda_dtype_pairs() {
  static const DtypePairs k = {{torch::kFloat, torch::kFloat},
                               {torch::kBFloat16, torch::kFloat},
                               {torch::kBFloat16, torch::kBFloat16},
                               {torch::kHalf, torch::kFloat},
                               {torch::kHalf, torch::kHalf}};
  return k;
}

// check(rows, cols, activation dtype, parameter dtype) for every pair and every odd hidden size;
// fewer rows at the largest widths keep the float64 references quick.
template <typename Check>
void for_every_hidden_size(const DtypePairs& types, Check&& check) {
  torch::manual_seed(0);
  for (auto [xt, pt] : types)
    for (int64_t cols : odd_hidden_sizes()) check(cols >= 4096 ? 5 : 37, cols, xt, pt);
}

inline bool cuda_present() { return torch::cuda::is_available(); }

// Runs one CUDA kernel version for the scope, then puts back the one before.
class KernelVersion {
 public:
  KernelVersion(ops::CudaKernel op, int v) : op_(op), was_(ops::cuda_kernel_version(op)) { ops::set_cuda_kernel_version(op, v); }
  ~KernelVersion() { ops::set_cuda_kernel_version(op_, was_); }

 private:
  ops::CudaKernel op_;
  int was_;
};

// body() once per CUDA kernel version of `op` (kernels/*/versions.h), each in use for its call and
// named in any failure inside it.
template <typename Body>
void for_every_kernel_version(ops::CudaKernel op, Body&& body) {
  for (int v = 1; v <= ops::cuda_kernel_versions(op); ++v) {
    SCOPED_TRACE("kernel version " + std::to_string(v));
    KernelVersion use(op, v);
    body();
  }
}

// Runs one build of the CPU loops (kernels/cpu_isa.h) for the scope, then puts back the one before.
class CpuIsaScope {
 public:
  explicit CpuIsaScope(kernels::cpu::CpuIsa isa) : was_(kernels::cpu::cpu_isa_in_use()) {
    kernels::cpu::set_cpu_isa(isa);
  }
  ~CpuIsaScope() { kernels::cpu::set_cpu_isa(was_); }

 private:
  kernels::cpu::CpuIsa was_;
};

// body() once per build of the CPU loops this processor runs (baseline, avx2, avx512: each is its
// own compilation of the same source), each in use for its call and named in any failure inside it.
template <typename Body>
void for_every_cpu_isa(Body&& body) {
  for (auto isa : kernels::cpu::available_cpu_isas()) {
    SCOPED_TRACE(std::string("cpu loops ") + kernels::cpu::cpu_isa_name(isa));
    CpuIsaScope use(isa);
    body();
  }
}

// The names of every ATen operator `work` runs, at any depth (a copy inside a binding included).
inline std::set<std::string> aten_ops_in(const std::function<void()>& work) {
  static std::mutex one_at_a_time, guard;
  static std::set<std::string> seen;
  std::lock_guard<std::mutex> lock(one_at_a_time);
  seen.clear();
  struct Remove {
    at::CallbackHandle handle;
    ~Remove() { at::removeCallback(handle); }
  } remove{at::addGlobalCallback(
      at::RecordFunctionCallback([](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
        std::lock_guard<std::mutex> g(guard);
        seen.insert(fn.name());
        return nullptr;
      }))};
  work();
  std::lock_guard<std::mutex> g(guard);
  return seen;
}

// The copies of tensor data among `names` (the casts a binding should not launch), comma-separated.
inline std::string copies_in(const std::set<std::string>& names) {
  std::string out;
  for (const char* c : {"aten::_to_copy", "aten::copy_", "aten::clone"})
    if (names.count(c)) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

// Dtype pairs (activations, parameters) the CUDA bindings hand to the kernels as they are, and
// the CPU ones (the CPU kernels' gradients are fp32, cast for 16-bit parameters).
inline const DtypePairs& uncast_pairs(bool cuda) {
  static const DtypePairs cpu = {{torch::kFloat, torch::kFloat}, {torch::kBFloat16, torch::kFloat}};
  static const DtypePairs gpu = {{torch::kFloat, torch::kFloat},
                                 {torch::kBFloat16, torch::kFloat},
                                 {torch::kBFloat16, torch::kBFloat16},
                                 {torch::kHalf, torch::kFloat},
                                 {torch::kHalf, torch::kHalf}};
  return cuda ? gpu : cpu;
}

#define LNTUNE_SKIP_WITHOUT_CUDA() \
  if (!::lntune::test::cuda_present()) GTEST_SKIP() << "no CUDA device here: the CUDA kernels are compiled, not run"

}  // namespace lntune::test
