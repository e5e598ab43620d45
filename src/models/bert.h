// BERT (Devlin et al.) with HF's module tree: bert.embeddings / bert.encoder.layer.N / bert.pooler.
#pragma once
#include <torch/torch.h>

#include "models/extensions.h"
#include "models/dropout.h"
#include "models/model.h"
#include "models/projection_group.h"

namespace lntune {

class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  BertEmbeddingsImpl(const ModelConfig& c, const NormOptions& norm);
  // `prompt` ([B, P, H], may be undefined) is prepended to the word embeddings (type 0).
  // Positions run from `position_offset` (see BertModelImpl::position_offset).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        const torch::Tensor& prompt = {}, int64_t position_offset = 0);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  Norm LayerNorm{nullptr};
  Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& h, AttentionMask& mask);
  Projection query{nullptr}, key{nullptr}, value{nullptr};
  ProjectionGroup qkv;  // query, key, value as one product where their weights are frozen
  Dropout dropout{nullptr};
  std::shared_ptr<AttentionPrefix> prefix;  // prefix-tuning (registered as "prefix" when set)
  int64_t heads, head_dim;
  bool sdpa;  // model.attention (models/attention.h)
};
TORCH_MODULE(BertSelfAttention);

// dense -> dropout -> [adapter] -> residual -> LayerNorm (BertSelfOutput and BertOutput share
// this shape; `residual` is the sub-layer's input, which parallel adapters read).
class BertResidualOutputImpl : public torch::nn::Module {
 public:
  BertResidualOutputImpl(int64_t in, const ModelConfig& c, const NormOptions& norm);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& residual);
  Projection dense{nullptr};
  Norm LayerNorm{nullptr};
  Dropout dropout{nullptr};
  std::shared_ptr<SublayerAdapter> adapter;  // registered as "adapter" when set
};
TORCH_MODULE(BertResidualOutput);

class BertAttentionImpl : public torch::nn::Module {
 public:
  BertAttentionImpl(const ModelConfig& c, const NormOptions& norm);
  torch::Tensor forward(const torch::Tensor& h, AttentionMask& mask);
  BertSelfAttention self{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

class BertIntermediateImpl : public torch::nn::Module {
 public:
  explicit BertIntermediateImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& h);
  Projection dense{nullptr};
  std::string act;
};
TORCH_MODULE(BertIntermediate);

class BertLayerImpl : public torch::nn::Module {
 public:
  BertLayerImpl(const ModelConfig& c, const NormOptions& norm);
  torch::Tensor forward(const torch::Tensor& h, AttentionMask& mask);
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

class BertModelImpl : public torch::nn::Module {
 public:
  BertModelImpl(const ModelConfig& c, const NormOptions& norm, bool add_pooler);
  // Returns the last hidden state; fills `hidden` with every layer's output when non-null.
  torch::Tensor forward(const Batch& b, std::vector<torch::Tensor>* hidden);
  torch::Tensor pool(const torch::Tensor& last_hidden);
  int64_t prompt_length() const { return prompt ? prompt->length() : 0; }
  BertEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};  // registered as encoder.layer
  torch::nn::Linear pooler{nullptr};      // registered as pooler.dense
  std::shared_ptr<InputPrompt> prompt;    // prompt tuning (registered as "prompt" when set)
  // The first token's position: 0, or a prefix's length under prefix tuning with shifted
  // positions (HF models count past_key_values — PEFT's prefixes — as earlier positions).
  int64_t position_offset = 0;
};
TORCH_MODULE(BertModel);

// HF's BertLMPredictionHead (registered as cls.predictions): transform (dense, activation,
// LayerNorm), then the decoder, whose weight is the word embeddings (tied), plus its own bias.
class BertMlmHeadImpl : public torch::nn::Module {
 public:
  BertMlmHeadImpl(const ModelConfig& c, const NormOptions& norm);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& decoder_weight);
  torch::nn::Linear dense{nullptr};  // registered as transform.dense
  Norm LayerNorm{nullptr};           // registered as transform.LayerNorm
  torch::Tensor bias;
  std::string act;
};
TORCH_MODULE(BertMlmHead);

class BertTaskModelImpl : public TaskModelImpl {
 public:
  BertTaskModelImpl(const ModelConfig& c, Head head, const NormOptions& norm);
  ModelOutput forward(const Batch& b, bool output_hidden_states = false) override;
  std::string backbone_prefix() const override { return "bert."; }
  bool ignorable_key(const std::string& key) const override;
  bool optional_backbone_key(const std::string& key) const override;
  BertModel bert{nullptr};
  BertMlmHead mlm{nullptr};  // registered as cls.predictions
  Dropout dropout{nullptr};
  torch::nn::Linear classifier{nullptr};
};

}  // namespace lntune
