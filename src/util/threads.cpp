#include "util/threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace lntune {
namespace {

// An OpenBLAS query function, or null when OpenBLAS is not loaded (MKL builds, other BLAS).
int call_openblas(const char* name, int fallback) {
  using Fn = int (*)();
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
  return fn ? fn() : fallback;
}

// The positive integer in environment variable `name`, else 0.
int env_positive(const char* name) {
  const char* v = std::getenv(name);
  const int k = v ? std::atoi(v) : 0;
  return k > 0 ? k : 0;
}

}  // namespace

BlasThreading blas_threading() {
  switch (call_openblas("openblas_get_parallel", -1)) {
    case 0: return BlasThreading::Sequential;
    case 1: return BlasThreading::Pthreads;
    case 2: return BlasThreading::OpenMP;
    default: return BlasThreading::Unknown;
  }
}

int blas_threads() { return call_openblas("openblas_get_num_threads", 0); }

int default_intra_op_threads(int cores, BlasThreading blas, int blas_pool) {
  if (cores < 1) cores = 1;
  return blas == BlasThreading::Pthreads && blas_pool > 1 ? 1 : cores;
}

int process_cores() {
  for (const char* var : {"LNTUNE_CORES", "OMP_NUM_THREADS"})
    if (int k = env_positive(var)) return k;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int configure_threads(bool uses_blas) {
  const int cores = process_cores();
  int n = uses_blas ? default_intra_op_threads(cores, blas_threading(), blas_threads()) : cores;
  if (int k = env_positive("LNTUNE_THREADS")) n = k;
  at::set_num_threads(n);
  return n;
}

std::string threads_summary() {
  std::string s = std::to_string(at::get_num_threads()) + " intra-op";
  switch (blas_threading()) {
    case BlasThreading::Pthreads: return s + " + OpenBLAS pthreads x" + std::to_string(blas_threads());
    case BlasThreading::OpenMP: return s + " (OpenBLAS on OpenMP)";
    case BlasThreading::Sequential: return s + " (OpenBLAS sequential)";
    case BlasThreading::Unknown: break;
  }
  return s;
}

}  // namespace lntune
