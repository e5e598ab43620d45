// Extension points through which PEFT methods wrap a model without editing its weights:
// projections (LoRA deltas, mergeable), sub-layer adapters, attention prefixes.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>

namespace lntune {

// A learned change to a projection that can be folded into its weights: LoRA's addition,
// y = base(x) + delta(x), or IA3's scalings, y = base(x) * l or y = base(x * l). Its parameters are
// registered on the host projection by the method ("lora_A", "lora_B", "ia3_l": HF PEFT's names).
class ProjectionDelta {
 public:
  virtual ~ProjectionDelta() = default;
  // The method's name ("lora", "ia3"): what `lntune export` reports as merged.
  virtual std::string kind() const = 0;
  // Whether the base product reads input(x) instead of x (IA3 on a feed-forward projection). A
  // ProjectionGroup runs such a member's product on its own.
  virtual bool changes_input() const { return false; }
  virtual torch::Tensor input(const torch::Tensor& x) { return x; }
  // The projection's output from base_y, its base product's output ([..., out]), and x, its input.
  // An addition is the delta's, so it can fold it into its last product (one operator less per step).
  virtual torch::Tensor add_to(const torch::Tensor& base_y, const torch::Tensor& x) = 0;
  // Folds the change into the base weight (as [out, in]: a view of the stored tensor, so in-place
  // changes reach it) and bias (undefined when there is none); `undo` takes it out again.
  virtual void fold(torch::Tensor weight, torch::Tensor bias, bool undo) = 0;
};

// Every linear map of the models. Parameter names and layouts are HF's: "weight" [out, in] for
// nn.Linear, [in, out] for GPT-2's Conv1D, and "bias".
class ProjectionImpl : public torch::nn::Module {
 public:
  ProjectionImpl(int64_t in, int64_t out, bool bias = true, bool conv1d = false);
  torch::Tensor forward(const torch::Tensor& x);
  // y (this projection's own output for x, e.g. a slice of a ProjectionGroup's product) plus the
  // delta for x, if there is one and it is not merged.
  torch::Tensor add_delta(const torch::Tensor& y, const torch::Tensor& x);
  // Whether the base product reads x itself (no unmerged delta changes the input).
  bool reads_input_as_is() const { return !delta_ || merged_ || !delta_->changes_input(); }
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  bool conv1d() const { return conv1d_; }
  void set_delta(std::shared_ptr<ProjectionDelta> d) { delta_ = std::move(d); }
  bool has_delta() const { return delta_ != nullptr; }
  const ProjectionDelta* delta() const { return delta_.get(); }
  // Folds the delta into the weight (inference/export) or takes it out again; outputs unchanged.
  void merge();
  void unmerge();
  bool merged() const { return merged_; }
  torch::Tensor weight, bias;

 private:
  void fold(bool undo);
  int64_t in_, out_;
  bool conv1d_;
  bool merged_ = false;
  std::shared_ptr<ProjectionDelta> delta_;
};
TORCH_MODULE(Projection);

// Transforms a residual sub-layer's output; `in` is the sub-layer's input (parallel adapters).
class SublayerAdapter : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& out, const torch::Tensor& in) = 0;
};

// Keys and values prepended in one attention layer: each [B, heads, P, head_dim].
class AttentionPrefix : public torch::nn::Module {
 public:
  virtual std::pair<torch::Tensor, torch::Tensor> key_values(int64_t batch) = 0;
  virtual int64_t length() const = 0;
};

// Soft prompt: P trainable vectors prepended to the input embeddings ([B, P, H]).
class InputPrompt : public torch::nn::Module {
 public:
  virtual torch::Tensor embeds(int64_t batch) = 0;
  virtual int64_t length() const = 0;
};

// A (B, T) attention mask with P leading ones for a soft prompt's virtual tokens (P may be 0).
torch::Tensor widen_mask_for_prompt(const torch::Tensor& mask, int64_t prompt_length);

// The additive attention mask of one forward pass, shared by its layers. `padding` is the model's
// ([B,1,1,T]; undefined without padding); `layer` is what every layer adds to its scores — the
// padding widened by a prefix's positions, GPT-2's causal part — made by the first layer from
// its own keys and dtype and reused by the others (all layers' prefixes have one length), where
// each layer used to make it again: 2-6 operators per layer, each a launch on a GPU.
struct AttentionMask {
  torch::Tensor padding;
  torch::Tensor layer;
  bool made = false;
};

// The additive mask widened by P zeros (visible) in front of its last dimension (P may be 0).
torch::Tensor widen_mask_for_prefix(const torch::Tensor& mask, int64_t P);

// Prepends a prefix's keys/values (if any) to k and v ([B, heads, T, d]).
void add_prefix(const std::shared_ptr<AttentionPrefix>& prefix, torch::Tensor& k, torch::Tensor& v);

// mask.layer after a layer made or reused it: its key positions must be k's (a layer whose
// prefix length differs from the first layer's is an error, not a wrong mask).
void check_layer_mask(const AttentionMask& mask, const torch::Tensor& k);

}  // namespace lntune
