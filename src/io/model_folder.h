// Writing an HF-layout model folder that lntune, HF transformers (from_pretrained) and
// scripts/export_torchscript.py all read: config.json, model.safetensors, tokenizer files.
#pragma once
#include <map>
#include <string>

#include "models/model.h"

namespace lntune {

// HF's class name for a model type and head (BertForMaskedLM, GPT2LMHeadModel, BertModel, ...).
std::string hf_architecture(const ModelConfig& config, Head head);

// Writes `dir` atomically (a temp folder renamed over it; an existing non-empty folder is
// replaced only when it holds a config.json): config.json with `architectures` for
// the model's head, model.safetensors with every parameter (tied copies left out, as HF saves
// them; metadata format=pt plus `metadata`), and the tokenizer files found in `tokenizer_dir`
// with a tokenizer_config.json.
void write_model_folder(const std::string& dir, TaskModelImpl& model, const std::string& tokenizer_dir,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace lntune
