// `lntune export`: a finished run as a plain model folder in HF's layout — the run's best
// weights with every LoRA delta and IA3 scaling merged into its projection (HF PEFT's merge_and_unload), the
// trained LayerNorm / bias / full tensors and the task head in place, the tokenizer files beside
// them. The folder is an ordinary checkpoint: `lntune train/predict/info` read it; it is in the
// layout HF transformers reads (io/model_folder.h) for LayerNorm models (a DyT model loads in
// lntune only).
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace lntune {

// Writes `out` atomically (io/model_folder.h). Methods that add modules a plain model has no
// place for (adapters, prefixes, prompts) are an error naming the first such tensor and `run_dir`.
// Returns {"run", "folder", "merged_lora", "merged_ia3" (projections merged), "parameters", "norm"}.
nlohmann::json export_run(const std::string& run_dir, const std::string& out);

}  // namespace lntune
