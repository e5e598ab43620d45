// Tokenised examples: what the readers' text becomes before batching. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lntune {

struct Encoded {
  std::vector<int64_t> ids, type_ids;  // specials included, no padding
  float label = 0;
  // Causal-LM examples (text generation): ids[target_start..] are the tokens the model learns to
  // write after the prompt ids[..target_start); make_batch then gives next-token labels. 0: a
  // classification / regression example (`label`).
  int64_t target_start = 0;
};

struct EncodedSplits {
  std::vector<Encoded> train, dev;
  // A csv/jsonl classification task's labels in index order (the order they first appear in
  // train then dev); empty for GLUE tasks (their names are fixed) and regression.
  std::vector<std::string> label_names;
};

}  // namespace lntune
