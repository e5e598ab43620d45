#include "train/finished_run.h"

#include <set>

#include "config/run_config.h"
#include "io/state_dict.h"
#include "train/precision.h"
#include "util/error.h"
#include "util/file.h"

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

std::vector<std::string> run_label_names(const FinishedRun& r, bool data_loaded) {
  const TaskInfo& task = r.rm.task;
  if (task.num_labels == 1 || !task.generic()) return task.label_names;
  const std::string results = r.dir + "/results.json";
  if (file_exists(results)) {
    try {
      auto j = nlohmann::json::parse(read_file(results));
      if (j.contains("label_names")) return j["label_names"].get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception& e) {
      fail(results, "label_names", e.what());
    }
  }
  if (data_loaded) return r.data.label_names;
  const auto& t = r.config["task"];
  std::vector<std::string> names;
  auto train = read_generic(t["train_file"].get<std::string>(), names, false);
  auto dev = read_generic(t["dev_file"].get<std::string>(), names, false);
  settle_labels(names, {&train, &dev});
  return names;
}

}  // namespace

FinishedRun open_finished_run(const std::string& dir, const std::string& device, bool with_data) {
  FinishedRun r;
  r.dir = dir;
  r.config_path = dir + "/config.json";
  const std::string weights = dir + "/trainable.safetensors";
  if (!file_exists(r.config_path)) fail(dir, "", "no config.json: not a folder `lntune train` wrote");
  if (!file_exists(weights)) fail(dir, "", "no trainable.safetensors: the run has not evaluated yet");
  try {
    r.config = nlohmann::json::parse(read_file(r.config_path));
  } catch (const nlohmann::json::exception& e) {
    fail(r.config_path, "", std::string("invalid JSON: ") + e.what());
  }
  r.config = resolve_run_config(r.config, {}, r.config_path);
  const auto& tc = r.config["train"];
  torch::manual_seed(tc["seed"].get<uint64_t>());
  r.rm = build_run_model(r.config, r.config_path);
  r.at.device = resolve_device(device, "--device", "");
  r.at.bf16 = tc["bf16"].get<bool>() && r.at.device.is_cuda();
  r.rm.model->to(r.at.device);
  const bool calibrate = needs_dyt_calibration(r.rm), data = with_data || calibrate;
  if (data) r.data = load_task_data(r.rm.task_cfg, r.rm.task, *r.rm.tok, r.rm.tok_dir, r.config_path);
  r.label_names = run_label_names(r, data);
  if (calibrate) calibrate_new_dyt_norms(r.rm, r.data.train, r.at);
  load_trainable(*r.rm.model, weights);
  return r;
}

}  // namespace lntune
