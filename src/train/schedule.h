// Learning-rate schedules. Torch-free.
#pragma once
#include <cstdint>

namespace lntune {

// Linear warm-up then linear decay to 0 (HF's get_linear_schedule_with_warmup), for update k.
double linear_schedule(double lr, int64_t k, int64_t warmup, int64_t total);
// Linear warm-up then half-cosine decay to 0 (HF's get_cosine_schedule_with_warmup).
double cosine_schedule(double lr, int64_t k, int64_t warmup, int64_t total);

}  // namespace lntune
