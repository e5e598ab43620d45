#include "adamw/adamw.h"

#include "cuda_common.cuh"

namespace lntune::kernels::cuda {

namespace {

// Where a launch finds the step's scalars: in its arguments, or in device memory that the host
// rewrites between steps, so that a CUDA graph replaying the launch sees each step's lr and bias
// corrections (arguments are frozen into the graph at capture).
struct ScalarsByValue {
  AdamWScalars s;
  __device__ AdamWScalars get() const { return s; }
};
struct ScalarsInMemory {
  const AdamWScalars* s;
  __device__ AdamWScalars get() const { return *s; }  // one broadcast load per thread
};

// Grid-stride over elements; four per thread per iteration when the buffers are 16-byte aligned
// (they are: the caching allocator's blocks, offset 0), else one.
template <class Scalars>
__global__ void adamw_vec4_kernel(float4* __restrict__ p, const float4* __restrict__ g, float4* __restrict__ m,
                                  float4* __restrict__ v, int64_t n4, Scalars scalars) {
  const AdamWScalars s = scalars.get();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n4;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float4 pp = p[i], gg = g[i], mm = m[i], vv = v[i];
    adamw_element(pp.x, gg.x, mm.x, vv.x, s);
    adamw_element(pp.y, gg.y, mm.y, vv.y, s);
    adamw_element(pp.z, gg.z, mm.z, vv.z, s);
    adamw_element(pp.w, gg.w, mm.w, vv.w, s);
    p[i] = pp;
    m[i] = mm;
    v[i] = vv;
  }
}

template <class Scalars>
__global__ void adamw_scalar_kernel(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m,
                                    float* __restrict__ v, int64_t n, Scalars scalars) {
  const AdamWScalars s = scalars.get();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    adamw_element(p[i], g[i], m[i], v[i], s);
}

int grid_for(int64_t work, int threads) {
  int device = 0, sms = 132;
  if (cudaGetDevice(&device) == cudaSuccess) cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  const int64_t want = (work + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(sms) * 8;  // enough resident warps to hide latency
  return static_cast<int>(want < cap ? (want > 0 ? want : 1) : cap);
}

template <class Scalars>
cudaError_t step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n, Scalars s,
                   cudaStream_t stream) {
  if (n < 0 || (n > 0 && (!param || !grad || !exp_avg || !exp_avg_sq))) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  constexpr int kThreads = 256;
  int64_t head = 0;
  if (aligned16(param, grad, exp_avg, exp_avg_sq)) {
    const int64_t n4 = n / 4;
    if (n4 > 0)
      launch(adamw_vec4_kernel<Scalars>, grid_for(n4, kThreads), kThreads, stream)(
          reinterpret_cast<float4*>(param), reinterpret_cast<const float4*>(grad), reinterpret_cast<float4*>(exp_avg),
          reinterpret_cast<float4*>(exp_avg_sq), n4, s);
    head = n4 * 4;
  }
  if (head < n)
    launch(adamw_scalar_kernel<Scalars>, grid_for(n - head, kThreads), kThreads, stream)(
        param + head, grad + head, exp_avg + head, exp_avg_sq + head, n - head, s);
  return cudaGetLastError();
}

}  // namespace

cudaError_t adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                       const AdamWScalars& s, cudaStream_t stream) {
  return step(param, grad, exp_avg, exp_avg_sq, n, ScalarsByValue{s}, stream);
}

cudaError_t adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                       const AdamWScalars* s_device, cudaStream_t stream) {
  if (!s_device) return cudaErrorInvalidValue;
  return step(param, grad, exp_avg, exp_avg_sq, n, ScalarsInMemory{s_device}, stream);
}

}  // namespace lntune::kernels::cuda
