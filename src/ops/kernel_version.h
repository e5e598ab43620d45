// Which CUDA kernel version each fused op runs (kernels/<op>/versions.h), process-wide: 0 runs the
// promoted one. For `lntune bench-norm --kernel-version` and the tests that check every version;
// training always runs the promoted ones.
#pragma once

namespace lntune::ops {

enum class CudaKernel { layernorm, dyt };

// An unknown version is an error (c10::Error naming the op and the range).
void set_cuda_kernel_version(CudaKernel op, int version);
int cuda_kernel_version(CudaKernel op);        // as set: 0 = the promoted one
int cuda_kernel_versions(CudaKernel op);       // how many there are (1 .. n)
int promoted_cuda_kernel_version(CudaKernel op);

}  // namespace lntune::ops
