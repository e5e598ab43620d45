// The E2E NLG challenge (table-to-text, Novikova et al. 2017) in its official CSV layout: a meaning
// representation ("name[The Eagle], eatType[coffee shop], ...") and one human reference per row;
// a meaning representation has several rows. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/encoded.h"

namespace lntune {

// One meaning representation with every reference the file gives it (none in testset.csv).
struct E2EItem {
  std::string mr;
  std::vector<std::string> refs;
};

// Reads devset.csv / trainset.csv (header `mr,ref`) or testset.csv (header `MR`; column names
// are matched case-insensitively) into items in order of first appearance, rows of one MR
// gathered. Errors name the file and, for a row, its line.
std::vector<E2EItem> read_e2e(const std::string& path);

// The official training set is not in ../shared: its devset.csv is split by meaning
// representation, the first kE2ETrainFraction of the MRs in order of first appearance for
// training, the rest for evaluation (437 / 110 of devset.csv's 547). The same split as the
// pretraining corpus's (scripts/corpus_sources.py, E2E_TRAIN_FRACTION), which holds out the
// evaluation part's references, so a pretrained model has never seen them.
constexpr double kE2ETrainFraction = 0.8;
struct E2ESplit {
  std::vector<E2EItem> train, eval;
};
E2ESplit split_e2e(std::vector<E2EItem> items, double train_fraction = kE2ETrainFraction);

// The text the model is conditioned on, and the one it learns to continue with: GPT-2 reads
// "<mr> ||" and writes " <ref>" then <|endoftext|> (the separator of Li & Liang's prefix-tuning
// E2E setup).
std::string e2e_prompt(const std::string& mr);
std::string e2e_target(const std::string& ref);

class Tokenizer;

// Training examples: one per (MR, reference), prompt then target then `eos` (target_start at the
// target), cut to max_length tokens (the prompt keeps at least one target token).
std::vector<Encoded> encode_e2e_train(const Tokenizer& tok, const std::vector<E2EItem>& items, int64_t max_length,
                                      int64_t eos);
// Generation inputs: one per MR, its prompt alone (target_start = the prompt's length), cut to
// max_length - 1 tokens so that at least one token can be written.
std::vector<Encoded> encode_e2e_prompts(const Tokenizer& tok, const std::vector<E2EItem>& items, int64_t max_length);

}  // namespace lntune
