// `lntune predict`: a finished run's best weights (RUN/trainable.safetensors) on its dev set, or
// on a file of new examples (a GLUE dev/test .tsv for GLUE runs; .csv/.jsonl for csv/jsonl runs,
// labels optional; an E2E-layout .csv such as testset.csv for e2e runs, whose MRs are written
// greedily). The model is rebuilt from RUN/config.json exactly as training built it.
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
};

// Writes `out` (atomically): a header "index<TAB>prediction", then one row per example in file
// order — the label name for GLUE classification and for named csv/jsonl labels, else the class
// index, or the score for regression (GLUE's submission layout); with `probabilities`, one more
// column per class ("p_<name>", 6 decimals). Returns {"run", "file",
// "examples", "predictions", "metrics"} with the task's metrics when every example has a label
// (null otherwise). A generation run writes the text per MR (line breaks and tabs made spaces),
// scored (bleu, nist, rouge_l, cider) when every MR has references.
nlohmann::json predict(const PredictOptions& options);

}  // namespace lntune
