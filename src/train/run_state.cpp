#include "train/run_state.h"

#include <sys/resource.h>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <torch/cuda.h>

#include "io/state_dict.h"
#include "models/model.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

namespace lntune {

std::vector<AdamW::Param> trainable_params(torch::nn::Module& model, double weight_decay) {
  std::set<std::string> norm_params;
  for (const auto& n : find_norms(model))
    for (const auto& p : n.module->named_parameters(false)) norm_params.insert(n.name + "." + p.key());
  std::vector<AdamW::Param> params;
  for (auto& p : model.named_parameters()) {
    if (!p.value().requires_grad()) continue;
    bool decay = !ends_with(p.key(), ".bias") && norm_params.count(p.key()) == 0;
    params.push_back({p.key(), p.value(), decay ? weight_decay : 0.0, {}, {}});
  }
  return params;
}

namespace {
// The generators that dropout draws from: the CPU one, and each GPU's ("cuda:0", ...) when there
// are GPUs, so that a resumed run on a GPU repeats its dropout masks too.
std::vector<std::pair<std::string, torch::Tensor>> rng_states() {
  std::vector<std::pair<std::string, torch::Tensor>> s = {{"cpu", at::detail::getDefaultCPUGenerator().get_state()}};
  const int64_t gpus = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  for (int64_t i = 0; i < gpus; ++i) {
    torch::Device d(torch::kCUDA, static_cast<c10::DeviceIndex>(i));
    s.emplace_back(d.str(), at::globalContext().defaultGenerator(d).get_state());
  }
  return s;
}

void set_rng_states(const std::vector<std::pair<std::string, torch::Tensor>>& saved, const std::string& file) {
  const int64_t gpus = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  for (const auto& [name, state] : saved) {
    torch::Device d = torch::kCPU;
    try {
      d = torch::Device(name);
    } catch (const std::exception&) {
      fail(file, name, "is not a device name");
    }
    if (d.is_cuda() && d.index() >= gpus) continue;  // saved on a GPU this machine lacks: fresh masks
    at::Generator gen = d.is_cpu() ? at::detail::getDefaultCPUGenerator() : at::globalContext().defaultGenerator(d);
    gen.set_state(state.clone());
  }
}
}  // namespace

void save_run_checkpoint(const std::string& out, int64_t step, AdamW& opt, const nlohmann::json& state) {
  namespace fs = std::filesystem;
  std::string name = "checkpoint-" + std::to_string(step);
  std::string tmp = out + "/" + name + ".tmp", dir = out + "/" + name;
  std::string why;
  if (!remove_tree(tmp, &why)) fail(tmp, "", "cannot remove a stale partial checkpoint: " + why);
  fs::create_directories(tmp);
  std::vector<std::pair<std::string, torch::Tensor>> trainable;
  for (const auto& p : opt.params()) trainable.emplace_back(p.name, p.value);
  write_safetensors(tmp + "/trainable.safetensors", trainable);
  write_safetensors(tmp + "/optimizer.safetensors", opt.state());
  write_safetensors(tmp + "/rng.safetensors", rng_states());
  nlohmann::json s = state;
  s["optimizer_step"] = opt.steps();
  write_file_atomic(tmp + "/state.json", s.dump(2));
  if (!remove_tree(dir, &why)) fail(dir, "", "cannot replace the checkpoint: " + why);
  if (std::rename(tmp.c_str(), dir.c_str()) != 0) fail(dir, "", "cannot move the checkpoint into place");
  std::string prev;
  if (file_exists(out + "/latest")) prev = read_file(out + "/latest");
  write_file_atomic(out + "/latest", name);  // the switch to the new checkpoint is this rename
  if (!prev.empty() && prev != name && prev.find('/') == std::string::npos) remove_tree(out + "/" + prev);
}

nlohmann::json load_run_checkpoint(const std::string& out, AdamW& opt) {
  if (!file_exists(out + "/latest")) fail(out + "/latest", "", "no checkpoint to resume from");
  std::string dir = out + "/" + read_file(out + "/latest");
  nlohmann::json s;
  try {
    s = nlohmann::json::parse(read_file(dir + "/state.json"));
  } catch (const nlohmann::json::exception& e) {
    fail(dir + "/state.json", "", std::string("invalid JSON: ") + e.what());
  }
  if (!s.contains("optimizer_step") || !s["optimizer_step"].is_number_integer())
    fail(dir + "/state.json", "optimizer_step", "missing");
  std::map<std::string, torch::Tensor> saved;
  for (auto& [k, v] : read_safetensors(dir + "/trainable.safetensors").tensors) saved[k] = v;
  torch::NoGradGuard g;
  for (auto& p : opt.params()) {
    auto it = saved.find(p.name);
    if (it == saved.end()) fail(dir + "/trainable.safetensors", p.name, "missing: the checkpoint is from another method");
    p.value.copy_(it->second);
  }
  opt.load_state(read_safetensors(dir + "/optimizer.safetensors").tensors, s["optimizer_step"].get<int64_t>());
  set_rng_states(read_safetensors(dir + "/rng.safetensors").tensors, dir + "/rng.safetensors");
  return s;
}

void append_jsonl(const std::string& path, const nlohmann::json& j) {
  std::ofstream f(path, std::ios::app);
  f << j.dump() << "\n";
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

std::string format_duration(double s) {
  char b[32];
  int t = static_cast<int>(s);
  std::snprintf(b, sizeof b, "%02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  return b;
}

namespace {
std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted = true; }
}  // namespace

SigintGuard::SigintGuard() {
  g_interrupted = false;
  previous_ = std::signal(SIGINT, on_sigint);
}

SigintGuard::~SigintGuard() { std::signal(SIGINT, previous_); }

bool SigintGuard::interrupted() const { return g_interrupted; }

ProgressLine::ProgressLine() : tty_(isatty(2) != 0) {}

void ProgressLine::show(const std::string& line) {
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    open_ = true;
  } else {
    spdlog::info("{}", line);
  }
}

void ProgressLine::end() {
  if (tty_ && open_) std::fprintf(stderr, "\n");
  open_ = false;
}

}  // namespace lntune
