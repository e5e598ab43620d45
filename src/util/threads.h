// Thread set-up. Debian's LibTorch starts with one intra-op thread, and its GEMMs run on
// OpenBLAS, which keeps its own pthread pool: the two pools must not fight over the cores.
#pragma once

#include <string>

namespace lntune {

// How the BLAS under LibTorch runs its GEMMs, asked of OpenBLAS itself when it is the BLAS.
enum class BlasThreading { Unknown, Sequential, Pthreads, OpenMP };
BlasThreading blas_threading();
int blas_threads();  // OpenBLAS's thread count, 0 when the BLAS is not OpenBLAS

// The intra-op threads for `cores` cores when the user chose none. Where OpenBLAS runs its own
// pthread pool of more than one thread (`blas_pool`), 1: the pool already spreads the GEMMs (most
// of the work) over the cores, and OpenMP workers spinning between ops take those cores from it
// (bert-mini training step 1.8x slower with 2 OpenMP threads than with 1 on a 2-core machine,
// docs/benchmarks.md). Otherwise every core: a one-thread pool runs each GEMM on the calling thread.
int default_intra_op_threads(int cores, BlasThreading blas, int blas_pool);

// The cores this process may use: LNTUNE_CORES (set by launchers that start several processes
// on one machine, with OPENBLAS_NUM_THREADS to match), else OMP_NUM_THREADS, else every core.
// OMP_NUM_THREADS counts cores, not OpenMP threads: OpenBLAS sizes its pool by it too (unless
// OPENBLAS_NUM_THREADS is set), so taken as the intra-op count it made two pools of that size
// spin against each other (pretraining 3x slower with OMP_NUM_THREADS=2 on 2 cores under
// LibTorch 1.13, 6.5x under 2.6; docs/benchmarks.md).
int process_cores();

// Sets LibTorch's intra-op threads to LNTUNE_THREADS, else default_intra_op_threads(
// process_cores()) — or process_cores() when `uses_blas` is false (work without GEMMs, e.g. the
// norm kernel benchmark, has no BLAS pool to leave the cores to). Returns the number set.
int configure_threads(bool uses_blas = true);

// One line for logs and `lntune info`: "1 intra-op + OpenBLAS pthreads x2".
std::string threads_summary();

}  // namespace lntune
