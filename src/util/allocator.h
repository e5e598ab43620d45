// How glibc's malloc keeps the memory of a training step. By default glibc serves every block
// above its (moving) mmap threshold with fresh pages and gives freed memory at the top of the
// heap back to the kernel, so a step's activations fault their pages in again on every step.
// In this project's VM a page fault is dear: a seeded bert-mini LN-Tuning step on 2 cores took
// 375 ms under the defaults and 310 ms with the heap kept (602 and 250 ms with our dropout,
// which holds less memory across a step; docs/benchmarks.md, "CPU allocator"). lntune
// therefore keeps the heap: no mmap'd blocks, no trimming. The cost is that the peak stays
// resident until the process exits (0-9% more RSS), which a trainer that reaches its peak on
// the first step pays anyway. Torch-free.
#pragma once

#include <string>

namespace lntune {

enum class AllocatorMode {
  retain,  // the heap kept (lntune's default on glibc)
  system,  // glibc's defaults: LNTUNE_MALLOC=system, or not glibc
  user,    // the user configured malloc (GLIBC_TUNABLES glibc.malloc.*, MALLOC_*_, an LD_PRELOADed malloc)
};

// The mode for these environment values (null: unset). `lntune_malloc`: LNTUNE_MALLOC, "retain"
// (the default) or "system"; anything else throws Error naming the variable and the value.
AllocatorMode allocator_mode(const char* lntune_malloc, const char* glibc_tunables, const char* ld_preload,
                             bool malloc_env_set);

// Reads the environment, applies the mode (mallopt) and returns it. Call once, first thing in
// main, before the large allocations.
AllocatorMode configure_allocator();

// What the last configure_allocator() applied (system when it was never called).
AllocatorMode allocator_in_use();

// One line for logs and `lntune info`.
std::string allocator_summary(AllocatorMode mode);

}  // namespace lntune
