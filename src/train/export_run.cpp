#include "train/export_run.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "io/model_folder.h"
#include "train/finished_run.h"
#include "util/error.h"

namespace lntune {

nlohmann::json export_run(const std::string& run_dir, const std::string& out) {
  FinishedRun run = open_finished_run(run_dir, "cpu", /*with_data=*/false);
  TaskModelImpl& model = *run.rm.model;
  const peft::Merged merged = peft::merge_all(model);
  // The same architecture without any method: its parameter names are the checkpoint's keys.
  // Its config names the classes (HF pipelines show them) and says when the head regresses.
  ModelConfig config = model.config;
  config.label_names = run.label_names;
  if (config.num_labels == 1) config.problem_type = "regression";
  auto plain = build_model(config, task_head(run.rm.task), run.rm.norm);
  torch::NoGradGuard g;
  auto dst = plain->named_parameters();
  int64_t copied = 0;
  for (const auto& p : model.named_parameters()) {
    if (auto* d = dst.find(p.key())) {
      d->copy_(p.value());
      ++copied;
    } else if (!merged.keys.count(p.key())) {
      // Point to the run's HF PEFT export only where the method wrote one (prefix, prompt; not adapters).
      const bool has_peft = std::filesystem::exists(std::filesystem::path(run_dir) / "peft" / "adapter_config.json");
      fail(run_dir, p.key(),
           std::string("added by the run's method: a plain model has no place for it (adapters, prefixes and prompts do "
                       "not merge; use `lntune predict` on the run") +
               (has_peft ? ", or its peft/ export for HF PEFT)" : ")"));
    }
  }
  // Every plain parameter came from the run (a model config and its methods never drop one).
  if (copied != static_cast<int64_t>(dst.size())) fail(run_dir, "", "the rebuilt model lacks parameters of the plain one");
  write_model_folder(out, *plain, run.rm.tok_dir, {{"lntune_export_of", run_dir}});
  nlohmann::json report = {{"run", run_dir}, {"folder", out}, {"parameters", count_parameters(*plain)}, {"norm", run.rm.norm.type()}};
  std::string kinds;
  for (const auto& [kind, n] : merged.projections) {
    report["merged_" + kind] = n;  // "merged_lora": projections whose delta is now in their weights
    kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
  }
  spdlog::info("{}: {} tensors written to {} (projections merged: {})", run_dir, copied, out, kinds.empty() ? "none" : kinds);
  return report;
}

}  // namespace lntune
