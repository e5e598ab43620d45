// Beam search over a causal LM's next-token log-probabilities, as HF transformers' `generate`
// runs it (num_beams > 1, do_sample=False): length penalty, early stopping (False, True or
// "never") and no_repeat_ngram_size, with the same candidate rules, so that the same model gives
// the same text. Torch-free: the model is a callback (src/train/generate.cpp runs it on a
// TaskModel); the tests run it on small tables of log-probabilities.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lntune {

// HF's GenerationConfig.early_stopping: false (default) stops a prompt once its best running
// beam, at its current length, cannot beat the worst of its num_beams finished ones; true stops
// as soon as num_beams are finished; "never" (with length_penalty > 0) bounds the running beams
// by the longest length they could reach, so it stops only when that bound is beaten.
enum class EarlyStopping { heuristic, on, never };

// "false" / "true" / "never" as the config writes it; throws on anything else.
EarlyStopping parse_early_stopping(const std::string& s);

// The decoding settings HF's generate takes (train/generate.h's GenerateOptions extends them).
struct BeamSearchOptions {
  int64_t num_beams = 1;  // generate: 1 is greedy decoding; beam_search takes 1 as one beam
  double length_penalty = 1.0;  // a finished beam's score: sum of log-probs / (new tokens ^ this)
  EarlyStopping early_stopping = EarlyStopping::heuristic;
  int64_t no_repeat_ngram_size = 0;  // 0: off
  int64_t max_new_tokens = 64;
  int64_t eos = -1;  // ends a beam (not returned; it counts in the length penalty's length)
};

// The next-token log-probabilities of each sequence (prompt + tokens written so far), row-major
// [seqs.size(), vocab], fp32: a log_softmax of the model's last-position logits.
using NextLogProbs = std::function<std::vector<float>(const std::vector<std::vector<int64_t>>& seqs)>;

struct Hypothesis {
  std::vector<int64_t> tokens;  // written after the prompt, eos dropped
  float score = 0;              // HF's sequences_scores: length-penalised sum of log-probs
};

// Each prompt's best finished beam. A prompt may take at most `max_length` tokens in all (the
// model's positions), so it writes at most min(max_new_tokens, max_length - prompt length);
// reaching that length finishes a beam as max_new_tokens does in HF. Every step makes one call of
// `next` with num_beams sequences per prompt still searching. Scores are fp32, as HF's are.
std::vector<Hypothesis> beam_search(const NextLogProbs& next, int64_t vocab, const std::vector<std::vector<int64_t>>& prompts,
                                    const BeamSearchOptions& options, int64_t max_length);

// The tokens that would complete an n-gram `seq` already holds (HF's NoRepeatNGramLogitsProcessor,
// which looks at the whole sequence, prompt included): the token after every earlier occurrence of
// seq's last n - 1 tokens. Empty when n <= 0 or seq is shorter than n - 1.
std::vector<int64_t> repeated_ngram_tokens(const std::vector<int64_t>& seq, int64_t n);

}  // namespace lntune
