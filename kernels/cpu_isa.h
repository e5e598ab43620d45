// Which build of the CPU kernel loops runs here: each kernels/*/*_cpu_impl.cpp is compiled for the
// baseline x86-64 (or the host ISA elsewhere) and, on x86-64, again with AVX2+FMA; the entry
// points ask this at run time.
#pragma once
#include <cstdint>

#include "common.h"

namespace lntune::kernels::cpu {

bool cpu_has_avx2();    // the AVX2 build exists and this processor runs it
const char* cpu_isa();  // "avx2" or "baseline"

// Throws std::invalid_argument naming `op` for float16 storage (the binding upcasts it) or a bad shape.
void check_cpu_args(const char* op, DType xt, DType pt, int64_t rows, int64_t cols);

// The backward of zero rows: every wanted column sum (dgamma, dbeta; either may be null) is 0.
void zero_column_sums(int64_t cols, float* dgamma, float* dbeta);

}  // namespace lntune::kernels::cpu
