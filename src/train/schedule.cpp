#include "train/schedule.h"

#include <algorithm>

namespace lntune {

double linear_schedule(double lr, int64_t k, int64_t warmup, int64_t total) {
  if (k < warmup) return lr * static_cast<double>(k) / static_cast<double>(std::max<int64_t>(1, warmup));
  return lr * std::max(0.0, static_cast<double>(total - k) / static_cast<double>(std::max<int64_t>(1, total - warmup)));
}

}  // namespace lntune
