#include "ops/kernel_version.h"

#include <c10/util/Exception.h>

#include <atomic>

#include "dyt/versions.h"
#include "layernorm/versions.h"

namespace lntune::ops {

namespace {
std::atomic<int> chosen[2] = {0, 0};
int index(CudaKernel op) { return op == CudaKernel::layernorm ? 0 : 1; }
const char* name(CudaKernel op) { return op == CudaKernel::layernorm ? "layernorm" : "dyt"; }
}  // namespace

int cuda_kernel_versions(CudaKernel op) {
  return op == CudaKernel::layernorm ? kernels::kLayerNormVersions : kernels::kDytVersions;
}

int promoted_cuda_kernel_version(CudaKernel op) {
  return op == CudaKernel::layernorm ? kernels::kLayerNormPromoted : kernels::kDytPromoted;
}

void set_cuda_kernel_version(CudaKernel op, int version) {
  TORCH_CHECK(version >= 0 && version <= cuda_kernel_versions(op), name(op), " CUDA kernel version ", version,
              ": not one of 0 (the promoted one) .. ", cuda_kernel_versions(op));
  chosen[index(op)] = version;
}

int cuda_kernel_version(CudaKernel op) { return chosen[index(op)]; }

}  // namespace lntune::ops
