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
  const bool calibrate = needs_dyt_calibration(r.rm);
  if (with_data || calibrate) r.data = load_task_data(r.config["task"], r.rm.task, *r.rm.tok, r.rm.tok_dir, r.config_path);
  if (calibrate) calibrate_new_dyt_norms(r.rm, r.data.train, r.at);
  load_trainable(*r.rm.model, weights);
  return r;
}

}  // namespace lntune
