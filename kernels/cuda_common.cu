#include "cuda_common.cuh"

#include <map>
#include <mutex>
#include <tuple>

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

namespace {
// The device's answer, or 0 where it cannot give one.
int query_resident_blocks(const void* kernel, int threads) {
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, 0) != cudaSuccess) {
    cudaGetLastError();  // not sticky: clear it so the launch that follows reports its own
    return 0;
  }
  return n;
}
}  // namespace

int resident_blocks(const void* kernel, int threads) {
  int n = 0;
#ifdef LNTUNE_CUDA_EMULATION
  n = query_resident_blocks(kernel, threads);  // the emulated device's answer changes between tests
#else
  // A device's answer for a kernel and block size never changes, and eager steps launch the norms
  // dozens of times each: ask once per (device, kernel, block size), as RAJA and CCCL do.
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();
    return 1;
  }
  static std::mutex mu;
  static std::map<std::tuple<int, const void*, int>, int> known;
  const auto key = std::make_tuple(device, kernel, threads);
  std::lock_guard<std::mutex> lock(mu);
  auto it = known.find(key);
  if (it != known.end()) return it->second;
  n = query_resident_blocks(kernel, threads);
  if (n > 0) known.emplace(key, n);  // a failed query is asked again
#endif
  return n < 1 ? 1 : n;
}

}  // namespace lntune::kernels::cuda
