// A task model: a BERT or GPT-2 backbone with one head, named exactly as HF checkpoints.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/model_config.h"
#include "models/norm.h"

namespace lntune {

enum class Head {
  None,                    // backbone only (BertModel / GPT2Model weights)
  SequenceClassification,  // num_labels == 1 is regression
  TokenClassification,
  LanguageModel,           // GPT-2 tied LM head (causal LM)
  MaskedLanguageModel,     // BERT MLM head (cls.predictions, decoder tied to the word embeddings)
};
Head head_from_name(const std::string& name);  // "none", "seq_cls", "token_cls", "lm", "mlm"
std::string head_name(Head h);
// The head HF's `architectures` entry implies (e.g. GPT2LMHeadModel -> LanguageModel).
Head head_from_architectures(const ModelConfig& c);

struct Batch {
  torch::Tensor input_ids;       // [B, T] int64
  torch::Tensor attention_mask;  // [B, T], 1 = token (optional)
  torch::Tensor token_type_ids;  // [B, T] (optional; BERT only)
  // Optional [N] int64 indices into the flattened (B*T) positions: LM heads then compute logits
  // only there ([N, V]), e.g. at the masked positions of MLM (the vocabulary projection is most
  // of a small model's cost). Undefined: logits at every position ([B, T, V]).
  torch::Tensor lm_positions;
};

struct ModelOutput {
  torch::Tensor logits;                      // head output (undefined for Head::None)
  torch::Tensor last_hidden_state;           // [B, T, H]
  std::vector<torch::Tensor> hidden_states;  // embeddings + every layer, when requested
};

class TaskModelImpl : public torch::nn::Module {
 public:
  TaskModelImpl(ModelConfig config, Head head) : config(std::move(config)), head(head) {}
  virtual ModelOutput forward(const Batch& batch, bool output_hidden_states = false) = 0;
  // The prefix every backbone key carries ("bert." / "transformer.").
  virtual std::string backbone_prefix() const = 0;
  // Keys of checkpoints that carry no weights of ours (causal-mask buffers, position ids, tied heads).
  virtual bool ignorable_key(const std::string& key) const = 0;
  // Backbone keys a checkpoint may lack, initialised fresh as heads are (BERT's pooler: MLM
  // checkpoints such as BertForMaskedLM have none).
  virtual bool optional_backbone_key(const std::string&) const { return false; }

  ModelConfig config;
  Head head;
};

// Builds the model for config + head; every norm goes through make_norm(norm).
std::shared_ptr<TaskModelImpl> build_model(const ModelConfig& config, Head head,
                                           const NormOptions& norm = NormOptions());

// finfo(dtype).min: the most negative finite value of a floating dtype (masked attention scores;
// float's lowest overflows bf16 and fp16, whose scores bf16 autocast produces).
double lowest_value(torch::ScalarType dtype);

// (B, T) mask of 1/0 -> additive (B, 1, 1, T) mask with finfo.min where masked (as HF).
torch::Tensor extended_attention_mask(const torch::Tensor& mask, torch::ScalarType dtype);

// The hidden states an LM head reads: all of `h` ([B, T, H]), or the rows b.lm_positions names
// ([N, H]) when it is defined.
torch::Tensor lm_hidden(const torch::Tensor& h, const Batch& b);

int64_t count_parameters(torch::nn::Module& m);
// The first parameter whose name ends in `suffix` (e.g. "embeddings.word_embeddings.weight");
// throws when there is none.
torch::Tensor parameter_ending(torch::nn::Module& m, const std::string& suffix);
// Parameters under the backbone prefix ("bert." / "transformer."): the model without its head.
int64_t count_backbone_parameters(TaskModelImpl& m);
// The positions a row's own tokens can take: max_positions less what a method puts before them
// (a soft prompt, or a prefix whose key/values shift the positions: positions "shifted").
int64_t token_positions(TaskModelImpl& m);

// HF's initialisation: Linear / Conv1D / Embedding weights ~ N(0, std), biases 0, padding rows
// 0, norms weight 1 / bias 0 (DyT alpha at its init). Only parameters whose name passes `only`
// (all when empty) are touched.
void init_weights(torch::nn::Module& model, double std = 0.02, const std::vector<std::string>& only = {});

// Role of a norm from its module name, as the LN-Tuning ablations name them:
// "embedding" (BERT embeddings.LayerNorm), "mha" (after attention), "ffn" (after the FFN),
// "ln_1", "ln_2", "ln_f" (GPT-2). Empty when the name is not a norm this library builds.
std::string norm_role(const std::string& module_name);

struct NormInfo {
  std::string name;  // module name, e.g. "bert.encoder.layer.0.attention.output.LayerNorm"
  std::string role;
  std::shared_ptr<NormImpl> module;
};
std::vector<NormInfo> find_norms(torch::nn::Module& model);

}  // namespace lntune
