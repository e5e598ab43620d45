#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "util/threads.h"

namespace lntune {
namespace {

// With OpenBLAS's own pthread pool the GEMMs already use every core: one intra-op thread, so
// that OpenMP workers do not spin on the cores the pool needs. With a one-thread pool, or
// elsewhere, every core.
TEST(Threads, DefaultLeavesTheCoresToOpenBlasPthreads) {
  EXPECT_EQ(default_intra_op_threads(2, BlasThreading::Pthreads, 2), 1);
  EXPECT_EQ(default_intra_op_threads(16, BlasThreading::Pthreads, 16), 1);
  EXPECT_EQ(default_intra_op_threads(16, BlasThreading::Pthreads, 4), 1);
  EXPECT_EQ(default_intra_op_threads(2, BlasThreading::Pthreads, 1), 2);  // OPENBLAS_NUM_THREADS=1
  EXPECT_EQ(default_intra_op_threads(16, BlasThreading::OpenMP, 16), 16);
  EXPECT_EQ(default_intra_op_threads(16, BlasThreading::Sequential, 1), 16);
  EXPECT_EQ(default_intra_op_threads(16, BlasThreading::Unknown, 0), 16);  // MKL builds
  EXPECT_EQ(default_intra_op_threads(0, BlasThreading::Unknown, 0), 1);
}

TEST(Threads, OverridesAndNoBlasWork) {
  const int before = at::get_num_threads();
  ::unsetenv("OMP_NUM_THREADS");  // ctest sets it to 1
  ::setenv("LNTUNE_THREADS", "3", 1);
  EXPECT_EQ(configure_threads(), 3);
  EXPECT_EQ(at::get_num_threads(), 3);
  ::unsetenv("LNTUNE_THREADS");
  // A launcher's share of the cores (LNTUNE_CORES) takes the place of the core count.
  ::setenv("LNTUNE_CORES", "5", 1);
  EXPECT_EQ(process_cores(), 5);
  EXPECT_EQ(configure_threads(/*uses_blas=*/false), 5);
  EXPECT_EQ(configure_threads(), default_intra_op_threads(5, blas_threading(), blas_threads()));
  // OMP_NUM_THREADS counts cores as well (OpenBLAS sizes its pool by it): split between the two
  // pools like the machine's own cores, not taken as the intra-op count. LNTUNE_CORES comes first.
  ::setenv("OMP_NUM_THREADS", "3", 1);
  EXPECT_EQ(process_cores(), 5);
  ::unsetenv("LNTUNE_CORES");
  EXPECT_EQ(process_cores(), 3);
  EXPECT_EQ(configure_threads(/*uses_blas=*/false), 3);
  EXPECT_EQ(configure_threads(), default_intra_op_threads(3, blas_threading(), blas_threads()));
  if (blas_threading() == BlasThreading::Pthreads && blas_threads() > 1) EXPECT_EQ(at::get_num_threads(), 1);
  ::setenv("LNTUNE_THREADS", "2", 1);  // the intra-op count itself, whatever the cores
  EXPECT_EQ(configure_threads(), 2);
  ::unsetenv("LNTUNE_THREADS");
  ::unsetenv("OMP_NUM_THREADS");
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(process_cores(), cores);
  EXPECT_EQ(configure_threads(/*uses_blas=*/false), cores);
  EXPECT_EQ(configure_threads(), default_intra_op_threads(cores, blas_threading(), blas_threads()));
  // The summary names what was set and, with OpenBLAS's pool, its size.
  const std::string s = threads_summary();
  EXPECT_EQ(s.rfind(std::to_string(at::get_num_threads()) + " intra-op", 0), 0u) << s;
  if (blas_threading() == BlasThreading::Pthreads) {
    EXPECT_GE(blas_threads(), 1);
    EXPECT_NE(s.find("OpenBLAS pthreads x" + std::to_string(blas_threads())), std::string::npos) << s;
  }
  ::setenv("OMP_NUM_THREADS", "1", 1);
  at::set_num_threads(before);
}

}  // namespace
}  // namespace lntune
