#include "util/allocator.h"

#include <climits>
#include <cstdlib>
#include <cstring>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "util/error.h"

namespace lntune {

namespace {
AllocatorMode g_in_use = AllocatorMode::system;
}  // namespace

AllocatorMode allocator_mode(const char* lntune_malloc, const char* glibc_tunables, const char* ld_preload,
                             bool malloc_env_set) {
  const std::string choice = lntune_malloc ? lntune_malloc : "";
  if (!choice.empty() && choice != "retain" && choice != "system")
    throw Error("LNTUNE_MALLOC: '" + choice + "' is not one of retain, system");
#ifndef __GLIBC__
  return AllocatorMode::system;
#endif
  if (choice == "system") return AllocatorMode::system;
  // Settings the user made win over ours: mallopt would override them.
  if (malloc_env_set || (glibc_tunables && std::strstr(glibc_tunables, "glibc.malloc.")) ||
      (ld_preload && std::strstr(ld_preload, "malloc")))
    return AllocatorMode::user;
  return AllocatorMode::retain;
}

AllocatorMode configure_allocator() {
  bool env_set = false;
  for (const char* v : {"MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_"})
    env_set = env_set || std::getenv(v) != nullptr;
  const AllocatorMode mode =
      allocator_mode(std::getenv("LNTUNE_MALLOC"), std::getenv("GLIBC_TUNABLES"), std::getenv("LD_PRELOAD"), env_set);
#ifdef __GLIBC__
  if (mode == AllocatorMode::retain) {
    // Every block from the heap (none mmap'd), and the heap's top never handed back.
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
  }
#endif
  g_in_use = mode;
  return mode;
}

AllocatorMode allocator_in_use() { return g_in_use; }

std::string allocator_summary(AllocatorMode mode) {
  switch (mode) {
    case AllocatorMode::retain: return "glibc malloc, heap kept (no mmap, no trim; LNTUNE_MALLOC=system for the defaults)";
    case AllocatorMode::system: return "system malloc defaults";
    case AllocatorMode::user: return "malloc as the environment configures it";
  }
  return "";
}

}  // namespace lntune
