// `lntune pretrain`: masked-LM (BERT) or causal-LM (GPT-2) pretraining on a text corpus, packed
// into full-length blocks, with checkpoints/resume as in fine-tuning and an HF-layout model
// folder as the result.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace lntune {

struct PretrainOutcome {
  int exit_code = 0;  // 0 finished (or stopped as asked), 130 interrupted (checkpoint saved)
  nlohmann::json results;
};

// Runs a resolved pretrain config (config/pretrain_config.h). Writes into output_dir:
// config.json (resolved), tokens.bin (the tokenised corpus, reused on resume), metrics.jsonl
// (step, loss, lr, tokens, tokens/s; held-out loss and MLM accuracy or CLM perplexity),
// checkpoint-*/ + latest, results.json, and model/ (config.json, model.safetensors, tokenizer
// files). `dry_run` stops after building the model: config check and a summary.
PretrainOutcome pretrain(const nlohmann::json& config, const std::string& source, bool resume, bool dry_run = false);

}  // namespace lntune
