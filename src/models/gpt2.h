// GPT-2 (Radford et al.) with HF's module tree: transformer.wte/wpe/h.N/ln_f, Conv1D weights
// stored [in, out] as HF does, LM head tied to wte.
#pragma once
#include <torch/torch.h>

#include "models/extensions.h"
#include "models/dropout.h"
#include "models/model.h"

namespace lntune {

// Generation's key/value cache (HF's past_key_values): per layer the keys and values of every
// position a row has read ([B, heads, capacity, d]; a soft prompt's positions first, a prefix's
// not: those are added at each step), and how many each row holds. `prefill` fills it from
// right-padded prompts, each `decode` appends one token per row at that row's own position, so
// rows of different lengths step together without recomputing what they have read.
struct KVCache {
  std::vector<torch::Tensor> k, v;
  torch::Tensor lengths;  // [B] int64
  int64_t capacity = 0;
  bool decoding = false;  // set by decode: the layers append and read the cache
  // Keeps rows `rows` (a beam's parents), in that order.
  void select_rows(const torch::Tensor& rows);
};

class GPT2AttentionImpl : public torch::nn::Module {
 public:
  GPT2AttentionImpl(const ModelConfig& c, int64_t layer_idx);
  // With `cache`: prefill stores this layer's keys/values; decode appends and attends over them.
  torch::Tensor forward(const torch::Tensor& h, AttentionMask& mask, KVCache* cache = nullptr);
  Projection c_attn{nullptr}, c_proj{nullptr};  // HF Conv1D layout: weight [in, out]
  Dropout attn_dropout{nullptr}, resid_dropout{nullptr};
  std::shared_ptr<AttentionPrefix> prefix;  // prefix-tuning (registered as "prefix" when set)
  int64_t heads, head_dim;
  bool sdpa;  // model.attention (models/attention.h)
  double scale;
  int64_t layer;
};
TORCH_MODULE(GPT2Attention);

class GPT2MLPImpl : public torch::nn::Module {
 public:
  explicit GPT2MLPImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& h);
  Projection c_fc{nullptr}, c_proj{nullptr};
  Dropout dropout{nullptr};
  std::string act;
};
TORCH_MODULE(GPT2MLP);

class GPT2BlockImpl : public torch::nn::Module {
 public:
  GPT2BlockImpl(const ModelConfig& c, const NormOptions& norm, int64_t layer_idx);
  torch::Tensor forward(const torch::Tensor& h, AttentionMask& mask, KVCache* cache = nullptr);
  Norm ln_1{nullptr}, ln_2{nullptr};
  GPT2Attention attn{nullptr};
  GPT2MLP mlp{nullptr};
  // Adapters on the attention / MLP outputs ("adapter_attn", "adapter_ffn" when set).
  std::shared_ptr<SublayerAdapter> adapter_attn, adapter_ffn;
};
TORCH_MODULE(GPT2Block);

class GPT2ModelImpl : public torch::nn::Module {
 public:
  GPT2ModelImpl(const ModelConfig& c, const NormOptions& norm);
  // With `cache` (capacity set): also fills it (the prefill of generation).
  torch::Tensor forward(const Batch& b, std::vector<torch::Tensor>* hidden, KVCache* cache = nullptr);
  // One new token per row ([B]) after what `cache` holds: the final hidden states [B, 1, H].
  torch::Tensor decode(const torch::Tensor& tokens, KVCache& cache);
  int64_t prompt_length() const { return prompt ? prompt->length() : 0; }
  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  Dropout drop{nullptr};
  std::shared_ptr<InputPrompt> prompt;  // prompt tuning (registered as "prompt" when set)
  int64_t position_offset = 0;          // as BertModelImpl::position_offset
  torch::nn::ModuleList h{nullptr};
  Norm ln_f{nullptr};
};
TORCH_MODULE(GPT2Model);

class GPT2TaskModelImpl : public TaskModelImpl {
 public:
  GPT2TaskModelImpl(const ModelConfig& c, Head head, const NormOptions& norm);
  ModelOutput forward(const Batch& b, bool output_hidden_states = false) override;
  // Language modelling with a key/value cache (generation): `prefill` reads right-padded prompts
  // (b.attention_mask required; logits at b.lm_positions) into a cache of `capacity` positions
  // per row (a soft prompt's included); `decode` reads one token per row and gives the next
  // logits [B, V]. The same numbers as forward over the whole sequence, to round-off.
  torch::Tensor prefill(const Batch& b, KVCache& cache, int64_t capacity);
  torch::Tensor decode(const torch::Tensor& tokens, KVCache& cache);
  std::string backbone_prefix() const override { return "transformer."; }
  bool ignorable_key(const std::string& key) const override;
  GPT2Model transformer{nullptr};
  torch::nn::Linear score{nullptr};       // sequence classification (no bias, as HF)
  Dropout dropout{nullptr};    // token classification
  torch::nn::Linear classifier{nullptr};  // token classification
};

}  // namespace lntune
