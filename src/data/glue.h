// GLUE tasks from the official TSV layout, and generic CSV / JSONL files (text, text_pair,
// label). Torch-free.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace lntune {

// The label of an example read without one (a GLUE test file, a file to predict on).
constexpr float kNoLabel = std::numeric_limits<float>::quiet_NaN();

struct Example {
  std::string text, text_pair;  // text_pair empty for single-sentence tasks
  float label = 0;              // class index, or the score for regression; kNoLabel: none
};

struct TaskInfo {
  std::string name;                 // "cola", "sst2", ...
  int num_labels = 2;               // 1: regression
  std::vector<std::string> metrics; // the first is the one "best" checkpoints are chosen by
  std::vector<std::string> label_names;
  bool pair = false;
  // A text-generation task (e2e): a causal LM trained on prompt + target (num_labels 0), scored
  // on what it writes for the dev prompts (metrics "bleu", "nist", "rouge_l", "cider").
  bool generation = false;
  // A csv/jsonl task (read_generic; label names come from the data), not a GLUE one.
  bool generic() const { return name == "csv" || name == "jsonl"; }
};

// Known names: cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli (case and '-' insensitive).
TaskInfo glue_task(const std::string& name);
// Reads `split` ("train", "dev"; MNLI dev is dev_matched, mnli-mm dev_mismatched) from `dir`.
std::vector<Example> read_glue(const TaskInfo& task, const std::string& dir, const std::string& split);
// Reads one file of `task` in the train/dev layout, or in the official test.tsv layout (a header
// whose first column is "index" — QQP's "id" — and no label column): `labeled` says which.
std::vector<Example> read_glue_file(const TaskInfo& task, const std::string& path, bool& labeled);

// Generic files: .csv (header with text[, text_pair], label) or .jsonl (objects with those keys).
// With `regression`, labels are numbers. Otherwise each distinct label (a JSON number as its
// text) is a name, numbered in order of first appearance into `labels` (shared by a task's
// files); settle_labels() then decides between names and class indices. With `labels_optional`,
// a file without a label column (keys) reads with kNoLabel.
std::vector<Example> read_generic(const std::string& path, std::vector<std::string>& labels, bool regression,
                                  bool labels_optional = false);

// "0", "12": a label that is a class index (digits only: no sign, no fraction; 9 at most).
bool is_class_index(const std::string& label);

// After read_generic over all of a classification task's files: when every name in `labels` is a
// class index ("0", "2"), the labels are those indices, as HF's run_glue takes an integer label
// column — `labels` is cleared and each example's label becomes its index. Otherwise the labels
// stay names (so a stray "x" among "0"/"1" shows as a third label, not as a silent class 0).
// Returns how many classes the labels need: the largest index + 1, or the number of names.
int64_t settle_labels(std::vector<std::string>& labels, const std::vector<std::vector<Example>*>& files);

// RFC 4180 CSV line splitting (quotes, doubled quotes, embedded separators); exposed for tests.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& source);

}  // namespace lntune
