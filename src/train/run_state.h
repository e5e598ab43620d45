// What `train` and `pretrain` share to make runs resumable and observable: checkpoint-N/
// folders (trainable tensors, optimizer state, CPU and GPU RNG states, counters) switched atomically
// through `latest`, metrics.jsonl lines, and the one-line progress display.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "train/adamw.h"

namespace lntune {

// Writes out/checkpoint-<step>/ (temp folder + rename), then points out/latest at it and removes
// the previous one. `state` holds the loop's counters; the optimizer step is added to it.
// The optimizer's parameters: every tensor that requires a gradient, by name, with weight decay
// except on biases and norm parameters (as BERT's and HF's recipes do).
std::vector<AdamW::Param> trainable_params(torch::nn::Module& model, double weight_decay);

void save_run_checkpoint(const std::string& out, int64_t step, AdamW& opt, const nlohmann::json& state);
// Restores the optimizer's tensors and state and the RNGs (CPU, and GPUs present) from
// out/latest; returns `state`.
// Errors name the file (no checkpoint, a tensor the checkpoint lacks).
nlohmann::json load_run_checkpoint(const std::string& out, AdamW& opt);

void append_jsonl(const std::string& path, const nlohmann::json& j);
std::string format_duration(double seconds);  // hh:mm:ss

// Peak resident memory of this process so far, MB (getrusage).
double peak_rss_mb();

// Catches Ctrl-C while alive so a loop can save a checkpoint before exiting (exit code 130).
class SigintGuard {
 public:
  SigintGuard();
  ~SigintGuard();
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;
  bool interrupted() const;

 private:
  void (*previous_)(int);
};

// One status line: redrawn in place on a terminal, logged every call otherwise.
class ProgressLine {
 public:
  ProgressLine();
  void show(const std::string& line);
  void end();  // finishes a redrawn line (newline on a terminal)

 private:
  bool tty_;
  bool open_ = false;
};

}  // namespace lntune
