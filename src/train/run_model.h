// What `lntune train` and `lntune predict` share: the model a run config describes (checkpoint,
// norms, head, PEFT methods applied), its task data, and batched inference over it. Built the
// same way in both, so a finished run's saved tensors land on the same parameters.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "data/batch.h"
#include "data/encoded.h"
#include "data/glue.h"
#include "io/checkpoint.h"
#include "peft/method.h"
#include "tokenizers/tokenizer.h"

namespace lntune {

// The task a run config names: a GLUE task, or csv/jsonl with task.num_labels. Errors name the key.
TaskInfo task_info(const nlohmann::json& task, const std::string& source);

struct TaskData {
  TaskInfo task;
  std::vector<Encoded> train, dev;
  // The class names in index order: GLUE's, or a csv/jsonl task's string labels numbered as the
  // files give them (train, then dev, in order of first appearance; kept in the token cache);
  // empty for regression and numeric labels.
  std::vector<std::string> label_names;
  // Generation tasks: each dev row (a prompt) with the references its output is scored against.
  std::vector<std::vector<std::string>> references;
};

// The model head a task trains: GPT-2's tied LM head for generation, a classifier otherwise.
Head task_head(const TaskInfo& task);

// Reads and tokenises the task's train and dev files, or takes both from the token cache when
// the files, the tokenizer folder and every setting that shapes the result are unchanged.
TaskData load_task_data(const nlohmann::json& task_cfg, const TaskInfo& task, const Tokenizer& tok,
                        const std::string& tok_dir, const std::string& source);

// Where the model runs and whether its matmuls run in bf16 (CUDA autocast).
struct Placement {
  torch::Device device = torch::kCPU;
  bool bf16 = false;
};

// make_batch, moved to the run's device.
LabeledBatch padded_batch(const std::vector<Encoded>& data, const std::vector<size_t>& rows, int64_t pad, bool regression,
                          const Placement& at, int64_t pad_multiple = 1, int64_t max_length = 0);

// The model of a run config, on the CPU, methods applied (frozen/trainable as in training).
struct RunModel {
  std::shared_ptr<TaskModelImpl> model;
  peft::Applied applied;
  peft::TrainableSummary summary;
  NormOptions norm;
  LoadReport report;  // how the base checkpoint loaded
  std::unique_ptr<Tokenizer> tok;
  std::string tok_dir;
  TaskInfo task;
  // The config's "task" settings as the run uses them: task.max_length cut to the positions the
  // model has for a row's tokens (token_positions), with a warning, as HF's run_glue cuts
  // max_seq_length to the tokenizer's model_max_length. Read the task settings from here.
  nlohmann::json task_cfg;
};
RunModel build_run_model(const nlohmann::json& cfg, const std::string& source);

// Whether the model has fresh DyT norms to fit: model.norm.dyt_init "calibrated" over a
// LayerNorm checkpoint (a DyT checkpoint brings its own).
bool needs_dyt_calibration(const RunModel& rm);
// When needs_dyt_calibration: fits the fresh DyT norms on the first training examples in file
// order, one per forward (no padding rows in the statistics) — the same on every rank, on
// --resume and in `lntune predict`. No-op otherwise.
void calibrate_new_dyt_norms(RunModel& rm, const std::vector<Encoded>& train, const Placement& at);

// Per row of `data`: the predicted class index, or the score for regression (eval mode, no
// gradient, length-sorted batches; the model is left in eval mode). With `probabilities`, also
// each row's softmax over the classes (classification only).
std::vector<double> predict_rows(TaskModelImpl& model, const std::vector<Encoded>& data, bool regression, int64_t batch_size,
                                 int64_t pad, const Placement& at,
                                 std::vector<std::vector<double>>* probabilities = nullptr);

}  // namespace lntune
