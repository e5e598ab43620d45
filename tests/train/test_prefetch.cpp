// The training loop's one-ahead batch maker: same items as making them in place, made on
// another thread, never past the end, and correct when asked out of order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "train/prefetch.h"

using namespace lntune;

TEST(Prefetch, ItemsInOrderMadeAheadOnAnotherThread) {
  std::mutex mu;
  std::set<std::thread::id> makers;
  std::atomic<int64_t> calls{0}, highest{-1};
  auto make = [&](int64_t i) {
    std::lock_guard<std::mutex> lock(mu);
    makers.insert(std::this_thread::get_id());
    ++calls;
    if (i > highest) highest = i;
    return i * i + 1;
  };
  {
    Prefetcher<int64_t> p(make, 3, 10);
    for (int64_t i = 3; i < 10; ++i) EXPECT_EQ(p.take(i), i * i + 1);
  }
  EXPECT_EQ(calls.load(), 7);     // each item made once
  EXPECT_EQ(highest.load(), 9);   // nothing at or past `end`
  EXPECT_FALSE(makers.count(std::this_thread::get_id()));  // all made off the caller's thread
}

TEST(Prefetch, OutOfOrderAskIsMadeInPlace) {
  std::atomic<int64_t> calls{0};
  {
    Prefetcher<int64_t> p([&](int64_t i) { ++calls; return 10 * i; }, 0, 100);
    EXPECT_EQ(p.take(0), 0);
    EXPECT_EQ(p.take(5), 50);  // 1 was prepared, 5 is asked: made here, the prepared one dropped
    EXPECT_EQ(p.take(6), 60);
  }  // the destructor waits for 7, under way
  EXPECT_EQ(calls.load(), 5);  // 0, 1 (dropped), 5, 6, 7
}

TEST(Prefetch, EmptyRangeMakesNothing) {
  std::atomic<int64_t> calls{0};
  { Prefetcher<int64_t> p([&](int64_t i) { ++calls; return i; }, 4, 4); }
  EXPECT_EQ(calls.load(), 0);
}

TEST(Prefetch, WaitReturnsWhenTheNextItemIsMade) {
  // What the trainer does before a CUDA graph capture: the background thread must be idle.
  std::atomic<bool> made{false};
  Prefetcher<int64_t> p(
      [&](int64_t i) {
        if (i == 1) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          made = true;
        }
        return i;
      },
      0, 3);
  EXPECT_EQ(p.take(0), 0);  // starts item 1
  p.wait();
  EXPECT_TRUE(made.load());
  EXPECT_EQ(p.take(1), 1);  // still handed over by take
}
