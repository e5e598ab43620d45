// How many operators a piece of code dispatches that do work: the outermost ATen operators (a
// composite such as linear counts once), less views, allocations and no-op conversions, plus
// lntune's own kernels (src/ops/*, each recorded as one operator). On a GPU each is about one
// kernel launch, and a short PEFT step's time is largely the host's per-operator cost (dispatch,
// autograd, launch), so this count, taken on any machine (CI's CPU included), says what a change
// saves before a GPU measures it. LNTUNE_TRACE_OPS=1 prints each counted operator on stderr.
#pragma once
#include <cstdint>
#include <functional>
#include <set>
#include <string>

namespace lntune {

// Runs `work` with the counter on (a process-wide ATen callback; operators on every thread count)
// and returns the count. Not reentrant; the callback costs time while on, so count outside timing.
int64_t count_ops(const std::function<void()>& work);

// The operators `work` runs, at any depth (e.g. the nonzero inside a boolean-mask index), that
// make the host wait for the device: a value read back (item, is_nonzero, equal) or a result
// whose size depends on the data (nonzero, masked_select, unique, bincount). None may run inside
// a CUDA graph capture (train/step_graph.h), and each costs a GPU step a full stall; the names
// are the same on the CPU, so CI checks every method's training step for them.
std::set<std::string> device_syncing_ops(const std::function<void()>& work);

}  // namespace lntune
