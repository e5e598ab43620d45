#include "cpu_isa.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace lntune::kernels::cpu {

namespace {

constexpr const char* kEnv = "LNTUNE_CPU_ISA";
constexpr CpuIsa kEveryIsa[] = {CpuIsa::baseline, CpuIsa::avx2, CpuIsa::avx512};  // narrowest first
constexpr int kUnset = -1;
std::atomic<int> g_isa{kUnset};  // a CpuIsa once chosen

CpuIsa detect() {
#ifdef LNTUNE_KERNELS_X86
  // __builtin_cpu_supports also asks the OS (XGETBV) whether it saves the wide registers.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    return CpuIsa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuIsa::avx2;
#endif
  return CpuIsa::baseline;
}

}  // namespace

void check_cpu_isa_runs_here(CpuIsa isa, const std::string& what) {
  if (isa > widest_cpu_isa())
    throw std::invalid_argument(what + ": this processor (or build) runs the CPU loops at most as " +
                                cpu_isa_name(widest_cpu_isa()));
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::avx512:
      return "avx512";
    case CpuIsa::avx2:
      return "avx2";
    case CpuIsa::baseline:
      break;
  }
  return "baseline";
}

CpuIsa parse_cpu_isa(const std::string& name, const std::string& what) {
  for (CpuIsa isa : kEveryIsa)
    if (name == cpu_isa_name(isa)) return isa;
  throw std::invalid_argument(what + ": unknown instruction set '" + name + "' (baseline, avx2, avx512)");
}

CpuIsa widest_cpu_isa() {
  static const CpuIsa widest = detect();
  return widest;
}

std::vector<CpuIsa> available_cpu_isas() {
  std::vector<CpuIsa> out;
  for (CpuIsa isa : kEveryIsa)
    if (isa <= widest_cpu_isa()) out.push_back(isa);
  return out;
}

CpuIsa cpu_isa_in_use() {
  int v = g_isa.load(std::memory_order_relaxed);
  if (v != kUnset) return static_cast<CpuIsa>(v);
  CpuIsa isa = widest_cpu_isa();
  if (const char* e = std::getenv(kEnv); e && *e) {
    const std::string what = std::string(kEnv) + "=" + e;
    isa = parse_cpu_isa(e, what);
    check_cpu_isa_runs_here(isa, what);
  }
  int expected = kUnset;
  g_isa.compare_exchange_strong(expected, static_cast<int>(isa));  // set_cpu_isa may have come first
  return static_cast<CpuIsa>(g_isa.load());
}

const char* cpu_isa() { return cpu_isa_name(cpu_isa_in_use()); }

void set_cpu_isa(CpuIsa isa) {
  check_cpu_isa_runs_here(isa, std::string("cpu instruction set ") + cpu_isa_name(isa));
  g_isa.store(static_cast<int>(isa));
}

void check_cpu_args(const char* op, DType xt, DType pt, int64_t rows, int64_t cols) {
  if (xt == DType::f16 || pt == DType::f16)
    throw std::invalid_argument(std::string("cpu ") + op + ": float16 storage is not supported (the binding upcasts it)");
  if (rows < 0 || cols <= 0)
    throw std::invalid_argument(std::string("cpu ") + op + ": bad shape " + std::to_string(rows) + " x " + std::to_string(cols));
}

void zero_column_sums(int64_t cols, float* dgamma, float* dbeta) {
  for (int64_t c = 0; c < cols; ++c) {
    if (dgamma) dgamma[c] = 0.f;
    if (dbeta) dbeta[c] = 0.f;
  }
}

}  // namespace lntune::kernels::cpu
