// A finished `lntune train` run folder opened for use: the model rebuilt from its config.json
// exactly as training built it (checkpoint, norms, head, methods), with its best weights
// (trainable.safetensors) put on it by name. What `lntune predict` and `lntune export` start from.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "train/run_model.h"

namespace lntune {

struct FinishedRun {
  std::string dir, config_path;
  nlohmann::json config;  // the run's resolved config
  RunModel rm;
  Placement at;
  TaskData data;  // the run's train/dev examples, when asked for (or needed: calibrated DyT)
  // The class names in index order, as training numbered them (TaskData::label_names): from the
  // run's results.json; for a run older than that record, from its data (read only if not
  // loaded already).
  std::vector<std::string> label_names;
};

// Errors name the folder or file: no config.json, no trainable.safetensors (the run never
// evaluated), a saved tensor the rebuilt model lacks or cannot hold, a trainable tensor missing.
// A calibrated DyT conversion is fitted again on the same training examples (its frozen norms
// are not saved).
FinishedRun open_finished_run(const std::string& dir, const std::string& device, bool with_data);

}  // namespace lntune
