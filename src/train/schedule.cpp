#include "train/schedule.h"

#include <algorithm>
#include <cmath>

namespace lntune {

double linear_schedule(double lr, int64_t k, int64_t warmup, int64_t total) {
  if (k < warmup) return lr * static_cast<double>(k) / static_cast<double>(std::max<int64_t>(1, warmup));
  return lr * std::max(0.0, static_cast<double>(total - k) / static_cast<double>(std::max<int64_t>(1, total - warmup)));
}

double cosine_schedule(double lr, int64_t k, int64_t warmup, int64_t total) {
  if (k < warmup) return lr * static_cast<double>(k) / static_cast<double>(std::max<int64_t>(1, warmup));
  double progress = static_cast<double>(k - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return lr * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, progress))));
}

}  // namespace lntune
