#include "train/op_count.h"

#include <ATen/record_function.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace lntune {

namespace {

std::atomic<int64_t> g_count{0};
bool g_trace = false;  // LNTUNE_TRACE_OPS=1: each counted operator's name on stderr
// Per thread: for each open operator, whether it was counted; and how many counted ones are open.
thread_local std::vector<char> t_open;
thread_local int t_counted_open = 0;

bool counts(std::string_view name) {
  // Ops that only make a view, an allocation, or return their input: no kernel of their own
  // (a copy they make, as contiguous() of a transposed tensor does, counts by itself).
  static const std::unordered_set<std::string_view> no_work = {
      "aten::view", "aten::_unsafe_view", "aten::reshape", "aten::_reshape_alias", "aten::as_strided", "aten::t",
      "aten::transpose", "aten::permute", "aten::expand", "aten::expand_as", "aten::unsqueeze", "aten::squeeze",
      "aten::select", "aten::slice", "aten::narrow", "aten::split", "aten::split_with_sizes", "aten::chunk",
      "aten::unbind", "aten::view_as",
      "aten::flatten", "aten::empty", "aten::empty_strided", "aten::empty_like", "aten::detach", "aten::alias",
      "aten::resize_", "aten::set_", "aten::lift_fresh", "aten::contiguous", "aten::to", "aten::type_as",
      "aten::result_type", "aten::numpy_T", "aten::matrix_H", "aten::diagonal", "aten::unflatten",
      "aten::resolve_conj", "aten::resolve_neg", "aten::_has_compatible_shallow_copy_type"};
  const bool ours = name.substr(0, 8) == "lntune::", aten = name.substr(0, 6) == "aten::";
  return (ours || aten) && no_work.count(name) == 0;
}

// The outermost working operator on each thread counts once, whatever it calls: a composite
// (linear, cross_entropy) as one, the way the model code and autograd see them; a view-only
// operator is transparent, so the copy inside a contiguous() counts. Autograd's per-node records
// are not aten ops: the operators a backward node runs count one by one.
std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  const bool counted = t_counted_open == 0 && counts(fn.name());
  t_open.push_back(counted ? 1 : 0);
  if (counted) {
    ++t_counted_open;
    g_count.fetch_add(1, std::memory_order_relaxed);
    if (g_trace) std::fprintf(stderr, "count_ops: %s\n", fn.name());
  }
  return nullptr;
}

void on_end(const at::RecordFunction&, at::ObserverContext*) {
  if (t_open.empty()) return;  // opened before counting began
  if (t_open.back()) --t_counted_open;
  t_open.pop_back();
}

std::mutex g_sync_mutex;
std::set<std::string> g_syncing;  // what device_syncing_ops found (guarded by g_sync_mutex)

bool syncs(std::string_view name) {
  static const std::unordered_set<std::string_view> names = {
      "aten::_local_scalar_dense", "aten::item", "aten::is_nonzero", "aten::equal", "aten::nonzero",
      "aten::nonzero_numpy", "aten::argwhere", "aten::masked_select", "aten::_unique", "aten::_unique2",
      "aten::unique_dim", "aten::unique_consecutive", "aten::unique_dim_consecutive", "aten::bincount"};
  return names.count(name) > 0;
}

std::unique_ptr<at::ObserverContext> on_sync_start(const at::RecordFunction& fn) {
  if (syncs(fn.name())) {
    std::lock_guard<std::mutex> lock(g_sync_mutex);
    g_syncing.insert(fn.name());
  }
  return nullptr;
}

// Runs `work` with `callback` seeing every thread's ATen operators, and removes it however `work` ends.
void observed(const at::RecordFunctionCallback& callback, const std::function<void()>& work) {
  struct Remove {
    at::CallbackHandle handle;
    ~Remove() { at::removeCallback(handle); }
  } remove{at::addGlobalCallback(callback)};
  work();
}

}  // namespace

std::set<std::string> device_syncing_ops(const std::function<void()>& work) {
  static std::mutex one_at_a_time;
  std::lock_guard<std::mutex> lock(one_at_a_time);
  {
    std::lock_guard<std::mutex> l(g_sync_mutex);
    g_syncing.clear();
  }
  observed(at::RecordFunctionCallback(on_sync_start), work);
  std::lock_guard<std::mutex> l(g_sync_mutex);
  return g_syncing;
}

int64_t count_ops(const std::function<void()>& work) {
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  g_count = 0;
  t_open.clear();
  t_counted_open = 0;
  const char* trace = std::getenv("LNTUNE_TRACE_OPS");
  g_trace = trace && *trace && std::string_view(trace) != "0";
  observed(at::RecordFunctionCallback(on_start, on_end), work);
  return g_count.load();
}

}  // namespace lntune
