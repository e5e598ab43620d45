// Types shared by the CPU and CUDA norm kernels. No LibTorch and no CUDA header: the bindings in
// src/ops/ translate at::ScalarType to DType, and both kernel families take raw pointers.
#pragma once
#include <cstdint>

namespace lntune::kernels {

// Storage type of a tensor; every kernel computes and accumulates in fp32.
enum class DType : int { f32 = 0, f16 = 1, bf16 = 2 };

inline int dtype_bytes(DType t) { return t == DType::f32 ? 4 : 2; }

inline const char* dtype_name(DType t) { return t == DType::f32 ? "float32" : t == DType::f16 ? "float16" : "bfloat16"; }

}  // namespace lntune::kernels
