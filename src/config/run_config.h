// The run config: one JSON file picks model, method(s), task/data, norm kernel and training
// settings. Unknown keys and wrong types are errors naming the key; `--set a.b=v` overrides.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lntune {

// Every key with its default (the documentation of the format, too).
nlohmann::json run_config_defaults();

// Reads `path`, applies overrides, validates. "method" is validated by the PEFT registry.
nlohmann::json load_run_config(const std::string& path, const std::vector<std::string>& overrides);
nlohmann::json resolve_run_config(nlohmann::json user, const std::vector<std::string>& overrides,
                                  const std::string& source);

// task's decoding settings (max_new_tokens, num_beams, length_penalty, no_repeat_ngram_size;
// early_stopping is checked as it is read): a one-line error naming the key.
void check_decoding(const nlohmann::json& task, const std::string& source);

// Whether a run replays its steps as CUDA graphs: `train.cuda_graphs` true (the trainer errors
// where that cannot be), false, or "auto": on for a one-process CUDA run with grad_accum 1 and
// the fused AdamW in a build that can capture (measured on the H100: a BERT-base step 2.7-3.8x
// faster).
bool cuda_graphs_wanted(const nlohmann::json& train, bool cuda, bool data_parallel, bool graphs_built);

}  // namespace lntune
