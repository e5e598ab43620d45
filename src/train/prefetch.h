// Prepares item i+1 on a background thread while the caller works on item i: the training loop
// gets its next padded batch (and host-to-device copy) off the critical path.
#pragma once
#include <cstdint>
#include <functional>
#include <future>
#include <utility>

namespace lntune {

template <class T>
class Prefetcher {
 public:
  // make(i) must be safe to call from another thread; items are asked for in order from
  // `first`, and those at or past `end` are never made.
  Prefetcher(std::function<T(int64_t)> make, int64_t first, int64_t end) : make_(std::move(make)), end_(end) {
    launch(first);
  }
  ~Prefetcher() {
    if (pending_.valid()) pending_.wait();  // the worker must not outlive what make_ uses
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Item i: the prepared one when i is the next in order, else made here. Starts item i+1.
  T take(int64_t i) {
    T item = (pending_.valid() && ahead_ == i) ? pending_.get() : (drain(), make_(i));
    launch(i + 1);
    return item;
  }

  // Until the item being prepared is made: the background thread then does nothing until the next
  // take() (a CUDA graph capture must not overlap its host-to-device copies).
  void wait() {
    if (pending_.valid()) pending_.wait();
  }

 private:
  void launch(int64_t i) {
    if (i >= end_) return;
    ahead_ = i;
    pending_ = std::async(std::launch::async, make_, i);
  }
  void drain() {
    if (pending_.valid()) pending_.get();  // an out-of-order ask: discard the prepared item
  }
  std::function<T(int64_t)> make_;
  int64_t end_, ahead_ = -1;
  std::future<T> pending_;
};

}  // namespace lntune
