// Text generation with a causal LM (GPT-2's LM head): greedy decoding of prompts, and the scores
// of what it writes on a generation task's dev set.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/encoded.h"
#include "train/run_model.h"

namespace lntune {

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  int64_t eos = -1;         // stops a row (not returned)
  int64_t pad = 0;          // fills the padding
  int64_t batch_size = 32;  // prompts decoded together
};

// Each prompt's greedy continuation: the most likely next token, appended, until `eos`, the
// max_new_tokens, or the model's last position (fewer after a prefix or soft prompt). Prompts of a batch are right-padded and every
// step runs their whole prefix (no key/value cache): with causal attention a position never sees
// the padding after it, so a row's tokens are those it would get alone. Eval mode, no gradient.
std::vector<std::vector<int64_t>> greedy_generate(TaskModelImpl& model, const std::vector<Encoded>& prompts,
                                                  const GenerateOptions& options, const Placement& at);

// A run config's decoding settings (task.max_new_tokens; GPT-2's <|endoftext|> ends a text, and
// the tokenizer must have it), `batch_size` prompts at a time.
GenerateOptions generate_options(const nlohmann::json& cfg, const Tokenizer& tok, int64_t batch_size);

// greedy_generate's continuations as text (decoded, surrounding white space trimmed).
std::vector<std::string> generate_texts(TaskModelImpl& model, const std::vector<Encoded>& prompts, const Tokenizer& tok,
                                        const GenerateOptions& options, const Placement& at);

// A generation task's evaluation: the dev prompts decoded greedily, scored by the task's metrics
// against d.references. `texts` (optional) receives what was written, per dev row.
std::map<std::string, double> evaluate_generation(TaskModelImpl& model, const TaskData& d, const Tokenizer& tok,
                                                  const GenerateOptions& options, const Placement& at,
                                                  std::vector<std::string>* texts = nullptr);

}  // namespace lntune
