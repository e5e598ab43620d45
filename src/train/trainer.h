// Fine-tuning loop for sequence classification / regression on a GLUE task or a CSV/JSONL file.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace lntune {

struct TrainOutcome {
  int exit_code = 0;  // 0 finished, 130 interrupted (checkpoint saved)
  nlohmann::json results;
};

// Runs the resolved run config (see config/run_config.h). Writes into output_dir: config.json,
// metrics.jsonl, results.json, trainable.safetensors (best), checkpoint-*/ + latest (resume).
// `resume` continues from output_dir's latest checkpoint with identical losses. `dry_run` stops
// after building the model and applying the method(s): config check + trainable summary.
TrainOutcome train(const nlohmann::json& config, const std::string& source, bool resume, bool dry_run = false);

}  // namespace lntune
