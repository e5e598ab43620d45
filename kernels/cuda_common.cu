#include "cuda_common.cuh"

namespace lntune::kernels::cuda {

int multiprocessors() {
  int device = 0, n = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
    return 1;
  return n < 1 ? 1 : n;
}

int64_t partial_blocks(int64_t rows, int64_t min_rows, int threads) {
  const int per_sm = kPartialThreadsPerSM / threads;
  const int64_t most = static_cast<int64_t>(per_sm < 1 ? 1 : per_sm) * multiprocessors();
  const int64_t by_rows = (rows + min_rows - 1) / min_rows;
  return by_rows < 1 ? 1 : (by_rows < most ? by_rows : most);
}

int resident_blocks(const void* kernel, int threads) {
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, 0) != cudaSuccess) {
    cudaGetLastError();  // not sticky: clear it so the launch that follows reports its own
    return 1;
  }
  return n < 1 ? 1 : n;
}

}  // namespace lntune::kernels::cuda
