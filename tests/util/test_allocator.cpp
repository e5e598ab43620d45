// util/allocator.h: which mode the environment asks for, and what the retained heap does to
// glibc's malloc: a 64 MiB block comes from the heap instead of fresh mmap'd pages, and stays in
// the heap once freed (mallinfo2), where glibc's defaults map it and unmap it.
#include "util/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "util/error.h"

namespace lntune {
namespace {

TEST(Allocator, ModeFollowsTheEnvironment) {
#ifdef __GLIBC__
  EXPECT_EQ(allocator_mode(nullptr, nullptr, nullptr, false), AllocatorMode::retain);
  EXPECT_EQ(allocator_mode("retain", nullptr, nullptr, false), AllocatorMode::retain);
  EXPECT_EQ(allocator_mode("system", nullptr, nullptr, false), AllocatorMode::system);
  // What the user set is left alone.
  EXPECT_EQ(allocator_mode(nullptr, "glibc.malloc.arena_max=2", nullptr, false), AllocatorMode::user);
  EXPECT_EQ(allocator_mode(nullptr, "glibc.rtld.nns=4", nullptr, false), AllocatorMode::retain);
  EXPECT_EQ(allocator_mode(nullptr, nullptr, "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", false), AllocatorMode::user);
  EXPECT_EQ(allocator_mode(nullptr, nullptr, nullptr, true), AllocatorMode::user);
  EXPECT_EQ(allocator_mode("system", "glibc.malloc.arena_max=2", nullptr, false), AllocatorMode::system);
#endif
  try {
    allocator_mode("jemalloc", nullptr, nullptr, false);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "LNTUNE_MALLOC: 'jemalloc' is not one of retain, system");
  }
}

#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
void* volatile g_sink;  // keeps the compiler from eliding malloc/free pairs

struct Block {
  size_t mapped_blocks, heap_bytes, free_heap_bytes;
};
Block block_of(size_t bytes, bool free_it) {
  g_sink = std::malloc(bytes);
  std::memset(g_sink, 1, bytes);  // touch every page
  if (free_it) std::free(g_sink);
  const auto m = mallinfo2();
  return {m.hblks, m.arena, m.fordblks};
}
#endif

TEST(Allocator, RetainedHeapServesAndKeepsLargeBlocks) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  for (const char* v : {"LNTUNE_MALLOC", "GLIBC_TUNABLES", "LD_PRELOAD", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                        "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_"})
    ::unsetenv(v);
  const size_t big = size_t{64} << 20;  // above glibc's largest dynamic mmap threshold (32 MiB)
  const size_t mapped_before = mallinfo2().hblks;
  const Block held = block_of(big, false);
  EXPECT_EQ(held.mapped_blocks, mapped_before + 1) << "glibc's default maps a 64 MiB block";
  std::free(g_sink);
  ASSERT_EQ(configure_allocator(), AllocatorMode::retain);
  const size_t heap_before = mallinfo2().arena;
  const Block kept = block_of(big, false);
  EXPECT_EQ(kept.mapped_blocks, mapped_before) << "a retained heap maps nothing";
  EXPECT_GE(kept.heap_bytes, heap_before + big);
  std::free(g_sink);
  const auto after = mallinfo2();
  EXPECT_EQ(after.arena, kept.heap_bytes) << "the heap was trimmed";
  EXPECT_GE(after.fordblks, big) << "the freed block is not kept for the next step";
#else
  GTEST_SKIP() << "not glibc >= 2.33 (no mallinfo2)";
#endif
}

}  // namespace
}  // namespace lntune
