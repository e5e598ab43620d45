// Tokenised examples: what the readers' text becomes before batching. Torch-free.
#pragma once
#include <cstdint>
#include <vector>

namespace lntune {

struct Encoded {
  std::vector<int64_t> ids, type_ids;  // specials included, no padding
  float label = 0;
};

struct EncodedSplits {
  std::vector<Encoded> train, dev;
};

}  // namespace lntune
