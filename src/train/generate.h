// Text generation with a causal LM (GPT-2's LM head): greedy decoding or beam search
// (train/beam_search.h) of prompts, and the scores of what it writes on a generation task's dev set.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/encoded.h"
#include "train/beam_search.h"
#include "train/run_model.h"

namespace lntune {

// HF generate's settings (max_new_tokens, eos, num_beams: 1 greedy, more beam search;
// length_penalty and early_stopping: beam search only; no_repeat_ngram_size: both), and how the
// model runs them.
struct GenerateOptions : BeamSearchOptions {
  int64_t pad = 0;          // fills the padding
  int64_t batch_size = 32;  // rows decoded together: prompts (greedy), prompts x beams (beam search)
  // GPT-2: read each prompt once and then one token a step, keeping keys/values (KVCache); off:
  // every step a forward over the whole sequence (the tests compare the two).
  bool kv_cache = true;
};

// Each prompt's greedy continuation: the most likely next token (no_repeat_ngram_size's tokens
// excepted), appended, until `eos`, the max_new_tokens, or the model's last position (fewer after
// a prefix or soft prompt). Prompts of a batch are right-padded (with causal attention a position
// never sees the padding after it, so a row's tokens are those it would get alone), read once
// into a key/value cache, and then each step reads one token a row (options.kv_cache). Eval
// mode, no gradient.
std::vector<std::vector<int64_t>> greedy_generate(TaskModelImpl& model, const std::vector<Encoded>& prompts,
                                                  const GenerateOptions& options, const Placement& at);

// Each prompt's beam-search continuation (beam_search: HF generate's rules), the same limits as
// greedy_generate; batch_size / num_beams prompts (at least one) searched together, each step one
// forward of their beams. Eval mode, no gradient.
std::vector<Hypothesis> beam_generate(TaskModelImpl& model, const std::vector<Encoded>& prompts, const GenerateOptions& options,
                                      const Placement& at);

// greedy_generate, or beam_generate's tokens where options.num_beams > 1.
std::vector<std::vector<int64_t>> generate(TaskModelImpl& model, const std::vector<Encoded>& prompts,
                                           const GenerateOptions& options, const Placement& at);

// A run config's decoding settings (task.max_new_tokens, num_beams, length_penalty,
// early_stopping, no_repeat_ngram_size; GPT-2's <|endoftext|> ends a text, and the tokenizer must
// have it), `batch_size` rows at a time.
GenerateOptions generate_options(const nlohmann::json& cfg, const Tokenizer& tok, int64_t batch_size);

// The decoding settings as the config writes them (results and predict's output record them).
nlohmann::json decoding_json(const GenerateOptions& options);

// generate's continuations as text (decoded, surrounding white space trimmed).
std::vector<std::string> generate_texts(TaskModelImpl& model, const std::vector<Encoded>& prompts, const Tokenizer& tok,
                                        const GenerateOptions& options, const Placement& at);

// A generation task's evaluation: the dev prompts decoded (generate), scored by the task's metrics
// against d.references. `texts` (optional) receives what was written, per dev row.
std::map<std::string, double> evaluate_generation(TaskModelImpl& model, const TaskData& d, const Tokenizer& tok,
                                                  const GenerateOptions& options, const Placement& at,
                                                  std::vector<std::string>* texts = nullptr);

}  // namespace lntune
