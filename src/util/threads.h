// Thread set-up: Debian's LibTorch starts with one intra-op thread.
#pragma once

namespace lntune {

// Sets LibTorch's intra-op threads to LNTUNE_THREADS, else OMP_NUM_THREADS, else the core count.
// Returns the number set.
int configure_threads();

}  // namespace lntune
