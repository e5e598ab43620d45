#include "train/predict.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "config/run_config.h"
#include "io/state_dict.h"
#include "train/metrics.h"
#include "train/precision.h"
#include "train/run_model.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

namespace lntune {

namespace {

// Copies the run's saved tensors onto the model's parameters by name. Every trainable parameter
// must be there and every saved tensor must fit one: anything else means the folder's config and
// weights do not belong together.
void load_trainable(TaskModelImpl& model, const std::string& path) {
  torch::NoGradGuard g;
  auto params = model.named_parameters();
  std::set<std::string> seen;
  for (auto& [name, t] : read_safetensors(path).tensors) {
    auto* p = params.find(name);
    if (p == nullptr) fail(path, name, "no such parameter in the model the run's config.json builds");
    if (!p->sizes().equals(t.sizes()))
      fail(path, name, "shape " + c10::str(t.sizes()) + " does not fit the model's " + c10::str(p->sizes()));
    p->copy_(t);
    seen.insert(name);
  }
  for (const auto& p : params)
    if (p.value().requires_grad() && !seen.count(p.key())) fail(path, p.key(), "missing: the method trains it");
}

std::string format_prediction(double p, const TaskInfo& task, const std::vector<std::string>& names) {
  if (task.num_labels == 1) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", p);
    return buf;
  }
  const auto k = static_cast<size_t>(p);
  return k < names.size() ? names[k] : std::to_string(k);
}

}  // namespace

nlohmann::json predict(const PredictOptions& o) {
  const std::string config_path = o.run_dir + "/config.json", weights = o.run_dir + "/trainable.safetensors";
  if (!file_exists(config_path)) fail(o.run_dir, "", "no config.json: not a folder `lntune train` wrote");
  if (!file_exists(weights)) fail(o.run_dir, "", "no trainable.safetensors: the run has not evaluated yet");
  nlohmann::json cfg;
  try {
    cfg = nlohmann::json::parse(read_file(config_path));
  } catch (const nlohmann::json::exception& e) {
    fail(config_path, "", std::string("invalid JSON: ") + e.what());
  }
  cfg = resolve_run_config(cfg, {}, config_path);
  const auto& tc = cfg["train"];
  torch::manual_seed(tc["seed"].get<uint64_t>());
  RunModel rm = build_run_model(cfg, config_path);
  const TaskInfo& task = rm.task;
  const bool regression = task.num_labels == 1, generic = task.name == "csv" || task.name == "jsonl";

  Placement at;
  at.device = resolve_device(o.device, "--device", "");
  at.bf16 = tc["bf16"].get<bool>() && at.device.is_cuda();
  rm.model->to(at.device);

  // The run's own data: the dev set to predict on, and the examples a calibrated DyT conversion
  // was fitted on (frozen norms the saved tensors do not hold).
  const bool calibrate = rm.norm.type() == "dyt" && rm.norm.dyt_init() == "calibrated" && !rm.report.dyt_alpha.empty();
  TaskData run_data;
  if (o.file.empty() || calibrate) run_data = load_task_data(cfg["task"], task, *rm.tok, rm.tok_dir, config_path);
  if (calibrate) calibrate_new_dyt_norms(rm, run_data.train, at);
  load_trainable(*rm.model, weights);

  // Label names: GLUE's, or a csv/jsonl run's, numbered as training numbered them (train file,
  // then dev file, in order of first appearance).
  std::vector<std::string> names = task.label_names;
  if (generic && !regression) {
    names.clear();
    read_generic(cfg["task"]["train_file"].get<std::string>(), names, false);
    read_generic(cfg["task"]["dev_file"].get<std::string>(), names, false);
  }
  std::vector<Encoded> rows;
  bool labeled = true;
  std::string source = o.file;
  if (o.file.empty()) {
    rows = std::move(run_data.dev);
    source = "dev";
  } else {
    std::vector<Example> ex;
    if (generic) {
      std::vector<std::string> file_names = names;
      ex = read_generic(o.file, file_names, regression, /*labels_optional=*/true);
      if (!regression && file_names.size() > names.size())
        fail(o.file, "label", "'" + file_names[names.size()] + "' is not a label the run was trained on");
    } else {
      if (!ends_with(o.file, ".tsv")) fail(o.file, "", "a GLUE run predicts on a .tsv file (the task's dev or test layout)");
      ex = read_glue_file(task, o.file, labeled);
    }
    for (const auto& e : ex) labeled = labeled && !std::isnan(e.label);
    rows = encode_examples(*rm.tok, ex, cfg["task"]["max_length"].get<int64_t>());
    // make_batch turns labels into class indices: no NaN in there (the labels are unused here).
    if (!labeled)
      for (auto& r : rows) r.label = 0;
  }
  const int64_t bs = o.batch_size > 0 ? o.batch_size : tc["eval_batch_size"].get<int64_t>();
  std::vector<double> pred = predict_rows(*rm.model, rows, regression, bs, rm.tok->pad_id(), at);

  std::string tsv = "index\tprediction\n";
  for (size_t i = 0; i < pred.size(); ++i) tsv += std::to_string(i) + "\t" + format_prediction(pred[i], task, names) + "\n";
  const std::string out = o.out.empty() ? o.run_dir + "/predictions.tsv" : o.out;
  write_file_atomic(out, tsv);
  nlohmann::json metrics;
  if (labeled) {
    std::vector<double> gold(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) gold[i] = rows[i].label;
    for (const auto& [k, v] : compute_metrics(task.metrics, pred, gold)) metrics[k] = v;
  }
  spdlog::info("{} examples predicted, written to {}", pred.size(), out);
  return {{"run", o.run_dir}, {"file", source}, {"examples", pred.size()}, {"predictions", out}, {"metrics", metrics}};
}

}  // namespace lntune
