// lntune bench-norm: our fused LayerNorm and DyT kernels against torch's eager ops in the same run
// (torch::layer_norm; the composite gamma * tanh(alpha * x) + beta), forward and forward+backward,
// and on the CPU our dropout (p 0.1, BERT's) against torch::dropout (`--ops dropout`),
// for the shapes in fp32 and bf16: time, effective GB/s (bytes that must move / time) and
// % of this device's copy bandwidth, measured here too, and of a copy of the same shape (what
// moving those bytes once can reach). Ours can be timed at several CUDA kernel versions
// (--kernel-version) or builds of the CPU loops (--cpu-isa), side by side. Not a test: it prints
// the numbers.
#include <cxxopts.hpp>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cpu_isa.h"
#include "ops/dropout.h"
#include "ops/dyt.h"
#include "ops/kernel_version.h"
#include "ops/layernorm.h"
#include "train/precision.h"
#include "train/step_graph.h"
#include "util/error.h"
#include "util/threads.h"

namespace lntune::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Median wall time of `reps` calls of f after `warmup` untimed ones, in milliseconds.
template <typename F>
double time_ms(const torch::Device& d, int reps, int warmup, F&& f) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    synchronize(d);
    auto t0 = Clock::now();
    f();
    synchronize(d);
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// GB/s of dst.copy_(src) over a buffer well past the caches: the device's practical ceiling.
double copy_bandwidth(const torch::Device& d, int reps) {
  const int64_t n = d.is_cuda() ? (int64_t{1} << 28) : (int64_t{1} << 25);  // 1 GiB / 128 MiB of fp32
  auto src = torch::ones({n}, torch::TensorOptions().device(d)), dst = torch::empty_like(src);
  double ms = time_ms(d, reps, 1, [&] { dst.copy_(src); });
  return 2.0 * n * 4 / (ms * 1e6);
}

struct Shape {
  int64_t rows, cols;
};

std::vector<Shape> parse_shapes(const std::string& s) {
  std::vector<Shape> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto x = item.find('x');
    if (x == std::string::npos) throw UsageError{"--shapes: expected ROWSxHIDDEN,..."};
    out.push_back({std::stoll(item.substr(0, x)), std::stoll(item.substr(x + 1))});
    if (out.back().rows <= 0 || out.back().cols <= 0) throw UsageError{"--shapes: sizes must be positive"};
  }
  return out;
}

torch::ScalarType parse_dtype(const std::string& s) {
  if (s == "float32" || s == "fp32") return torch::kFloat;
  if (s == "bfloat16" || s == "bf16") return torch::kBFloat16;
  if (s == "float16" || s == "fp16") return torch::kHalf;
  throw Error("--dtypes: unknown dtype '" + s + "' (float32, bfloat16, float16)");
}

struct Row {
  std::string op, pass, dtype;
  Shape shape;
  std::string variant;  // the CUDA kernel version timed, or the CPU loops' instruction set
  double ours_ms, torch_ms, bytes;
  // GB/s of y.copy_(x) at this shape and dtype, timed the same way in the same run: what moving
  // this many bytes can reach here (a short kernel's launch and ramp included), beside the
  // device-wide copy bandwidth of a 1 GiB buffer.
  double shape_copy_gbs;
};

// How a call is timed. sync: one call between two device synchronisations (its latency, host
// dispatch and autograd included: what an eager training step pays per norm). graph (CUDA): the
// call captured once as a CUDA graph and replayed kReplays times back to back, the time divided
// by kReplays (the device's time for its kernels: what a step replayed as a CUDA graph pays, and
// the measure of a kernel's bandwidth).
enum class Timing { sync, graph };
constexpr int kReplays = 20;

// What of ours to time, one row each: CUDA kernel versions (0: the promoted one) on a GPU, builds
// of the CPU loops on the CPU.
struct Variants {
  std::vector<int> cuda_versions;
  std::vector<kernels::cpu::CpuIsa> cpu_isas;
};

// Forward (no autograd) or forward+backward through autograd, for one op: ours at each variant
// (one row each), then torch's once, all in the same run.
std::vector<Row> bench(const std::string& op, bool backward, Shape s, torch::ScalarType dt, const torch::Device& d,
                       int reps, const Variants& variants, Timing timing) {
  torch::manual_seed(0);
  auto o = torch::TensorOptions().dtype(dt).device(d);
  auto x = torch::randn({s.rows, s.cols}, o), dy = torch::randn({s.rows, s.cols}, o);
  auto g = torch::ones({s.cols}, o), b = torch::zeros({s.cols}, o), a = torch::full({1}, 0.5, o);
  for (auto* t : {&x, &g, &b, &a}) t->set_requires_grad(backward);
  constexpr double kDropoutP = 0.1;
  auto ours = [&] {
    if (op == "dropout") return ops::fused_dropout(x, kDropoutP);
    return op == "layernorm" ? ops::fused_layer_norm(x, g, b, 1e-5) : ops::fused_dyt(x, a, g, b);
  };
  auto eager = [&] {
    if (op == "dropout") return torch::dropout(x, kDropoutP, /*train=*/true);
    return op == "layernorm" ? torch::layer_norm(x, {s.cols}, g, b, 1e-5) : torch::tanh(a * x) * g + b;
  };
  auto run = [&](auto&& f) {
    return [&, f] {
      if (!backward) {
        torch::NoGradGuard ng;
        f();
        return;
      }
      for (auto* t : {&x, &g, &b, &a}) t->mutable_grad() = torch::Tensor();
      f().backward(dy);
    };
  };
  auto time = [&](auto&& f) {
    if (timing == Timing::sync) return time_ms(d, reps, 2, f);
    auto replay = replayable(f, d);  // the kernel version is read while capturing
    return time_ms(d, reps, 2, [&] {
             for (int i = 0; i < kReplays; ++i) replay();
           }) / kReplays;
  };
  // Bytes that must move: forward reads x and writes y; backward reads x and dy and writes dx
  // (dropout's backward reads dy and writes dx: its mask is drawn again, or read by torch's).
  const double elem = static_cast<double>(x.element_size()) * s.rows * s.cols;
  const double bwd_bytes = op == "dropout" ? 4 * elem : 5 * elem;
  const auto kernel = op == "layernorm" ? ops::CudaKernel::layernorm : ops::CudaKernel::dyt;
  std::vector<Row> out;
  auto time_ours = [&](std::string variant) {
    out.push_back({op, backward ? "fwd+bwd" : "fwd", c10::toString(dt), s, std::move(variant), time(run(ours)), 0,
                   backward ? bwd_bytes : 2 * elem, 0});
  };
  if (d.is_cuda()) {
    for (int v : variants.cuda_versions) {
      if (v > ops::cuda_kernel_versions(kernel)) continue;  // a version only the other op has
      ops::set_cuda_kernel_version(kernel, v);
      time_ours(std::to_string(v == 0 ? ops::promoted_cuda_kernel_version(kernel) : v));
    }
  } else {
    const auto was = kernels::cpu::cpu_isa_in_use();
    for (auto isa : variants.cpu_isas) {
      kernels::cpu::set_cpu_isa(isa);
      time_ours(kernels::cpu::cpu_isa_name(isa));
    }
    kernels::cpu::set_cpu_isa(was);
  }
  const double torch_ms = time(run(eager));
  auto y = torch::empty_like(x);
  const double copy_ms = time([&] {
    torch::NoGradGuard ng;
    y.copy_(x);
  });
  for (auto& r : out) {
    r.torch_ms = torch_ms;
    r.shape_copy_gbs = 2 * elem / (copy_ms * 1e6);
  }
  return out;
}

// --kernel-version: "0" (the promoted ones), one version, or a list timed side by side. The ops
// have different numbers of versions (kernels/*/versions.h): each is timed at those it has, and a
// version no op has is an error.
std::vector<int> parse_versions(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  const int most =
      std::max(ops::cuda_kernel_versions(ops::CudaKernel::layernorm), ops::cuda_kernel_versions(ops::CudaKernel::dyt));
  for (std::string t; std::getline(ss, t, ',');) {
    int v = -1;
    try {
      v = std::stoi(t);
    } catch (const std::exception&) {
    }
    if (v < 0 || v > most)
      throw UsageError{"--kernel-version: not a version of any op (0: the promoted ones; kernels/*/versions.h)"};
    out.push_back(v);
  }
  if (out.empty()) throw UsageError{"--kernel-version: give a version, or a list of them"};
  return out;
}

// --cpu-isa: builds of the CPU loops (kernels/cpu_isa.h), each one this processor runs; empty: the
// one in use.
std::vector<kernels::cpu::CpuIsa> parse_cpu_isas(const std::string& s) {
  if (s.empty()) return {kernels::cpu::cpu_isa_in_use()};
  std::vector<kernels::cpu::CpuIsa> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');) {
    try {
      out.push_back(kernels::cpu::parse_cpu_isa(t, "--cpu-isa"));
    } catch (const std::invalid_argument& e) {
      throw UsageError{e.what()};
    }
    try {
      kernels::cpu::check_cpu_isa_runs_here(out.back(), "--cpu-isa " + t);
    } catch (const std::invalid_argument& e) {
      throw Error(e.what());  // a fact of this machine, not a usage mistake
    }
  }
  return out;
}

}  // namespace

int cmd_bench_norm(int argc, char** argv) {
  cxxopts::Options o("lntune bench-norm", "Fused LayerNorm/DyT (and CPU dropout) kernels against torch's eager ops, same run");
  o.add_options()("device", "cpu or cuda (default: cuda when present)", cxxopts::value<std::string>())(
      "shapes", "ROWSxHIDDEN list",
      cxxopts::value<std::string>()->default_value("4096x768,16384x768,16384x1024,8192x4096,4096x8192"))(
      "dtypes", "float32, bfloat16, float16", cxxopts::value<std::string>()->default_value("float32,bfloat16"))(
      "ops", "layernorm, dyt, dropout (CPU)", cxxopts::value<std::string>()->default_value("layernorm,dyt"))(
      "reps", "timed repetitions (median reported)", cxxopts::value<int>()->default_value("7"))(
      "kernel-version",
      "CUDA kernel versions of both ops to time, side by side in the same run, e.g. 1,2 (0: the promoted ones; "
      "kernels/*/versions.h)",
      cxxopts::value<std::string>()->default_value("0"))(
      "cpu-isa",
      "CPU: builds of the fused loops to time side by side, e.g. avx2,avx512 (baseline, avx2, avx512; default: the "
      "one in use, the widest this processor runs unless LNTUNE_CPU_ISA caps it)",
      cxxopts::value<std::string>()->default_value(""))(
      "timing",
      "CUDA: graph (each call replayed from a CUDA graph, back to back: the device's time) or sync (one call "
      "between synchronisations: its latency, host work included)",
      cxxopts::value<std::string>()->default_value("graph"))("json", "print JSON lines instead of the table")(
      "h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  configure_threads(/*uses_blas=*/false);  // norms have no GEMM: OpenMP gets every core
  std::string dev = a.count("device") ? a["device"].as<std::string>() : (torch::cuda::is_available() ? "cuda" : "cpu");
  if (dev != "cpu" && dev != "cuda") throw UsageError{"--device: cpu or cuda"};
  if (dev == "cuda" && !torch::cuda::is_available()) throw Error("--device cuda: no CUDA device here");
  torch::Device d(dev == "cuda" ? torch::kCUDA : torch::kCPU);
  int reps = a["reps"].as<int>();
  if (reps < 1) throw UsageError{"--reps must be positive"};
  Variants variants{parse_versions(a["kernel-version"].as<std::string>()), {}};
  if (d.is_cpu()) {
    variants.cpu_isas = parse_cpu_isas(a["cpu-isa"].as<std::string>());
  } else if (!a["cpu-isa"].as<std::string>().empty()) {
    throw UsageError{"--cpu-isa: the CPU loops' builds are timed with --device cpu"};
  }
  const std::string timing_name = a["timing"].as<std::string>();
  if (timing_name != "graph" && timing_name != "sync") throw UsageError{"--timing: graph or sync"};
  // The CPU has no launches to hide: its calls are timed one by one.
  const Timing timing = d.is_cuda() && timing_name == "graph" ? Timing::graph : Timing::sync;
  auto shapes = parse_shapes(a["shapes"].as<std::string>());
  std::vector<torch::ScalarType> dtypes;
  std::vector<std::string> ops_list;
  {
    std::stringstream ss(a["dtypes"].as<std::string>());
    for (std::string t; std::getline(ss, t, ',');) dtypes.push_back(parse_dtype(t));
    std::stringstream so(a["ops"].as<std::string>());
    for (std::string t; std::getline(so, t, ',');) {
      if (t != "layernorm" && t != "dyt" && t != "dropout")
        throw Error("--ops: unknown op '" + t + "' (layernorm, dyt, dropout)");
      if (t == "dropout" && d.is_cuda())
        throw UsageError{"--ops dropout: the fused dropout kernel is the CPU's (on CUDA it is torch's own): --device cpu"};
      ops_list.push_back(t);
    }
  }
  const double copy_gbs = copy_bandwidth(d, reps);
  std::vector<Row> rows;
  for (const auto& op : ops_list)
    for (auto dt : dtypes)
      for (auto s : shapes)
        for (bool bwd : {false, true})
          for (auto& r : bench(op, bwd, s, dt, d, reps, variants, timing)) rows.push_back(r);
  if (a.count("json")) {
    for (const auto& r : rows)
      std::cout << nlohmann::json{{"op", r.op},
                                  {"pass", r.pass},
                                  {"dtype", r.dtype},
                                  {"rows", r.shape.rows},
                                  {"hidden", r.shape.cols},
                                  {"ours_ms", r.ours_ms},
                                  {"torch_ms", r.torch_ms},
                                  {"speedup", r.torch_ms / r.ours_ms},
                                  {"ours_gbs", r.bytes / (r.ours_ms * 1e6)},
                                  {"copy_gbs", copy_gbs},
                                  {"shape_copy_gbs", r.shape_copy_gbs},
                                  {"device", dev},
                                  {"cuda_kernel_version", d.is_cuda() ? std::stoi(r.variant) : 0},
                                  {"cpu_isa", d.is_cpu() ? r.variant : ""},
                                  {"timing", timing == Timing::graph ? "graph" : "sync"}}
                       .dump()
                << "\n";
    return 0;
  }
  const std::string where = d.is_cpu() ? ", build of the CPU loops per row (v)" : ", CUDA kernel version per row (v)";
  const char* how = d.is_cpu()                 ? ""
                    : timing == Timing::graph ? "; each call replayed from a CUDA graph, 20 back to back (device time)"
                                              : "; each call between two synchronisations (latency, host work included)";
  std::printf("device %s, %d threads%s; copy bandwidth %.1f GB/s (measured now); median of %d%s\n\n", dev.c_str(),
              at::get_num_threads(), where.c_str(), copy_gbs, reps, how);
  std::printf(
      "| op | rows x hidden | dtype | pass | v | ours ms | torch ms | speedup | ours GB/s | %% of copy BW | %% of "
      "same-size copy |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows) {
    double gbs = r.bytes / (r.ours_ms * 1e6);
    std::printf("| %s | %lld x %lld | %s | %s | %s | %.3f | %.3f | %.2fx | %.1f | %.0f%% | %.0f%% |\n", r.op.c_str(),
                static_cast<long long>(r.shape.rows), static_cast<long long>(r.shape.cols), r.dtype.c_str(),
                r.pass.c_str(), r.variant.c_str(), r.ours_ms, r.torch_ms, r.torch_ms / r.ours_ms, gbs,
                100.0 * gbs / copy_gbs, 100.0 * gbs / r.shape_copy_gbs);
  }
  return 0;
}

}  // namespace lntune::cli
