#include "util/threads.h"

#include <torch/torch.h>

#include <cstdlib>
#include <thread>

namespace lntune {

int configure_threads() {
  int n = static_cast<int>(std::thread::hardware_concurrency());
  for (const char* var : {"OMP_NUM_THREADS", "LNTUNE_THREADS"})
    if (const char* v = std::getenv(var)) {
      int k = std::atoi(v);
      if (k > 0) n = k;
    }
  if (n < 1) n = 1;
  at::set_num_threads(n);
  return n;
}

}  // namespace lntune
