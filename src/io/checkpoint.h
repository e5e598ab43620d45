// Opening a checkpoint (model folder, safetensors, pytorch_model.bin or TorchScript archive) and
// mapping its tensors strictly onto a model, with a one-line-per-key report.
#pragma once
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "io/state_dict.h"
#include "models/model.h"

namespace lntune {

struct Checkpoint {
  ModelConfig config;
  std::string config_source;  // file (or "archive:config.json") the config came from
  StateDict state;
  std::string tokenizer_dir;  // the folder when it holds tokenizer files, else empty
  // The first DyT alpha among the weights (a model pretrained with DyT norms), else empty. HF
  // config.json has no field for the norm type: the tensors are the record.
  std::string dyt_alpha_key;
  std::string norm_type() const { return dyt_alpha_key.empty() ? "layernorm" : "dyt"; }
};

// `path` is a folder (config.json + model.safetensors | model.safetensors.index.json |
// pytorch_model.bin | model.pt) or a weights file (config.json beside it unless embedded).
Checkpoint open_checkpoint(const std::string& path);

// The norm to build for `ck`: "auto" becomes the checkpoint's own; "dyt" over a LayerNorm
// checkpoint converts it (gamma/beta copied, alpha initialised). "layernorm" over a DyT
// checkpoint is an Error naming `where` (the config file and field): a DyT model has no
// LayerNorm statistics to go back to, and loading it as one would drop its alphas silently.
NormOptions resolve_norm(NormOptions requested, const Checkpoint& ck, const std::string& where);

struct LoadReport {
  std::string source;
  int64_t loaded = 0;
  std::vector<std::string> missing;      // backbone keys the checkpoint lacks
  std::vector<std::string> new_head;     // head keys initialised fresh (fine-tuning a base model)
  std::vector<std::string> unexpected;   // checkpoint keys the model does not have
  std::vector<std::string> mismatched;   // "key: checkpoint [..] vs model [..]"
  std::vector<std::string> ignored;      // buffers with no weights (causal masks, position ids, tied head)
  std::vector<std::string> dyt_alpha;    // DyT alphas a LayerNorm checkpoint lacks: left at dyt_alpha_init
  std::vector<std::string> lines() const;  // one line per key, the file named
};

struct LoadOptions {
  bool allow_new_head = true;     // head keys may be missing (fresh head for fine-tuning)
  bool allow_unexpected = true;   // e.g. a pre-training head in a base checkpoint
  bool reinit_mismatched_head = false;  // a head of another size (other task): start it fresh
  std::string attention = "eager";      // for load_model: how the model computes attention (models/attention.h)
  std::string dropout_impl = "fused";   // for load_model: which dropout kernel runs (models/dropout.h)
};

// Copies tensors into the model (cast to each parameter's dtype). Throws Error naming the file on
// shape mismatches, missing backbone keys, or what `opt` forbids; the report says the rest.
LoadReport load_weights(TaskModelImpl& model, const StateDict& state, const LoadOptions& opt = {});

struct LoadedModel {
  std::shared_ptr<TaskModelImpl> model;
  Checkpoint checkpoint;
  LoadReport report;
};

// open_checkpoint + resolve_norm + build_model + load_weights. `head` defaults to the config's
// architectures; the default norm is the checkpoint's own.
LoadedModel load_model(const std::string& path, std::optional<Head> head = std::nullopt,
                       const NormOptions& norm = NormOptions(), const LoadOptions& opt = {});

}  // namespace lntune
