// `lntune predict`: a finished run's best weights (RUN/trainable.safetensors) on its dev set, or
// on a file of new examples (a GLUE dev/test .tsv for GLUE runs; .csv/.jsonl for csv/jsonl runs,
// labels optional; an E2E-layout .csv such as testset.csv for e2e runs, whose MRs are written
// as the run's config decodes, or with other decoding settings). The model is rebuilt from RUN/config.json exactly as training built it.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace lntune {

struct PredictOptions {
  std::string run_dir;
  std::string file;            // empty: the run's dev set
  std::string out;             // predictions TSV; empty: RUN/predictions.tsv
  std::string device = "auto";
  int64_t batch_size = 0;      // 0: the run's train.eval_batch_size
  bool probabilities = false;  // classification: a column per class with its softmax probability
  // Generation runs: task keys that replace the run's decoding settings (max_new_tokens,
  // num_beams, length_penalty, early_stopping, no_repeat_ngram_size), e.g. beam search on the test
  // set of a run evaluated greedily while it trained. An error for other runs.
  nlohmann::json decoding = nlohmann::json::object();
  bool kv_cache = true;  // generation: false reads every sequence whole each step (for comparison)
};

// Writes `out` (atomically): a header "index<TAB>prediction", then one row per example in file
// order — the label name for GLUE classification and for named csv/jsonl labels, else the class
// index, or the score for regression (GLUE's submission layout); with `probabilities`, one more
// column per class ("p_<name>", 6 decimals). Returns {"run", "file",
// "examples", "predictions", "metrics"} with the task's metrics when every example has a label
// (null otherwise). A generation run writes the text per MR (line breaks and tabs made spaces),
// scored (bleu, nist, rouge_l, cider) when every MR has references, and adds "decoding": the
// settings it decoded with.
nlohmann::json predict(const PredictOptions& options);

}  // namespace lntune
