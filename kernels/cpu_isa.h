// Which build of the CPU kernel loops runs here: each kernels/*/*_cpu_impl.cpp is compiled for the
// baseline x86-64 (or the host ISA elsewhere) and, on x86-64, again for AVX2+FMA and for AVX-512;
// the entry points ask cpu_isa_in_use() on every call. The widest build this processor runs is the
// default; LNTUNE_CPU_ISA (read at the first call, like torch's ATEN_CPU_CAPABILITY) or
// set_cpu_isa() caps it, so each build can be tested and timed on one machine.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common.h"

namespace lntune::kernels::cpu {

enum class CpuIsa { baseline, avx2, avx512 };  // ordered: each runs where the wider ones do

const char* cpu_isa_name(CpuIsa isa);  // "baseline", "avx2", "avx512"
// A name as above; anything else throws std::invalid_argument naming `what` and the value.
CpuIsa parse_cpu_isa(const std::string& name, const std::string& what);
CpuIsa widest_cpu_isa();                   // the widest build this binary has and this processor runs
std::vector<CpuIsa> available_cpu_isas();  // baseline .. widest_cpu_isa()
// Throws std::invalid_argument naming `what` when `isa` is wider than widest_cpu_isa().
void check_cpu_isa_runs_here(CpuIsa isa, const std::string& what);
// The build the loops use now. Throws std::invalid_argument on a bad LNTUNE_CPU_ISA (unknown, or
// wider than widest_cpu_isa()).
CpuIsa cpu_isa_in_use();
const char* cpu_isa();  // cpu_isa_name(cpu_isa_in_use())
// Uses `isa` from now on, process-wide; one wider than widest_cpu_isa() is std::invalid_argument.
void set_cpu_isa(CpuIsa isa);

// Throws std::invalid_argument naming `op` for float16 storage (the binding upcasts it) or a bad shape.
void check_cpu_args(const char* op, DType xt, DType pt, int64_t rows, int64_t cols);

// The backward of zero rows: every wanted column sum (dgamma, dbeta; either may be null) is 0.
void zero_column_sums(int64_t cols, float* dgamma, float* dbeta);

}  // namespace lntune::kernels::cpu

// `return NS::call;` with NS the namespace of the build in use (base, avx2 or avx512), in an entry
// point of kernels/*/*_cpu.cpp that has declared each build's functions (its *_cpu_isa.inc).
#ifdef LNTUNE_KERNELS_X86
#define LNTUNE_CPU_DISPATCH(call)                     \
  switch (::lntune::kernels::cpu::cpu_isa_in_use()) { \
    case ::lntune::kernels::cpu::CpuIsa::avx512:      \
      return avx512::call;                            \
    case ::lntune::kernels::cpu::CpuIsa::avx2:        \
      return avx2::call;                              \
    case ::lntune::kernels::cpu::CpuIsa::baseline:    \
      break;                                          \
  }                                                   \
  return base::call
#else
#define LNTUNE_CPU_DISPATCH(call) return base::call
#endif
