// Extension points through which PEFT methods wrap a model without editing its weights:
// projections (LoRA deltas, mergeable), sub-layer adapters, attention prefixes.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <utility>

namespace lntune {

// A learned addition to a projection: y = base(x) + delta(x). Its parameters are registered on
// the host projection by the method (e.g. "lora_A", "lora_B", as HF PEFT names them).
class ProjectionDelta {
 public:
  virtual ~ProjectionDelta() = default;
  // base_y + delta(x), base_y being the projection's own output for x ([..., out]); the addition
  // is the delta's, so it can fold it into its last product (one operator less per step).
  virtual torch::Tensor add_to(const torch::Tensor& base_y, const torch::Tensor& x) = 0;
  virtual torch::Tensor weight_delta() = 0;  // the same map as a dense [out, in] matrix (for merging)
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
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  bool conv1d() const { return conv1d_; }
  void set_delta(std::shared_ptr<ProjectionDelta> d) { delta_ = std::move(d); }
  bool has_delta() const { return delta_ != nullptr; }
  // Folds the delta into the weight (inference/export) or takes it out again; outputs unchanged.
  void merge();
  void unmerge();
  bool merged() const { return merged_; }
  torch::Tensor weight, bias;

 private:
  void add_delta_to_weight(double sign);
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
