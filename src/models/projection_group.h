// Projections that read the same input (BERT's query, key and value) run as one matrix product.
//
// HF's BERT keeps query, key and value as three nn.Linear, and so do we (their parameter names are
// the checkpoint's keys). Run separately they cost a PEFT step, per layer, three products forward
// and in the backward three input-gradient products, the two additions that sum those gradients
// and a copy each to lay them out for their product; as one product over the rows of all three
// they cost one of each and the gather of the three gradients (GPT-2's c_attn is one product
// already). On a GPU each operator is about a kernel launch and the host's dispatch and autograd
// cost, which is what a short PEFT step is made of (docs/benchmarks.md, "Operators per step").
//
// One product needs the weights in one tensor. When every member's weight is frozen (every PEFT
// method; not full fine-tuning, whose weights train separately as before), the group copies them
// once into one [sum of outs, in] tensor and makes each member's weight a view of its rows: nothing
// is stored twice, the members keep their names, values and shapes (checkpoints, export, merge
// read and write them as before), and an in-place change of a member (a LoRA merge, a load by
// copy_) is a change of the packed tensor. Whatever replaces a member's tensor (a dtype or device
// conversion, frozen_bf16) ends the sharing, and the next forward packs again. Frozen biases are
// packed the same way; trainable ones (BitFit) are concatenated in each forward, under autograd.
// Deltas (LoRA, IA3's output scaling) act on their member's slice of the product; a member whose
// delta changes its input (IA3 scaling a feed-forward input) makes the group run each member on
// its own.
//
// Attention reshapes each output into heads. Done on each member's slice, that view's backward
// copies each gradient (it arrives transposed from the attention's products) before they are
// gathered; done on the whole product ([..., members, heads, head_dim], then unbind), the gather
// (a stack) reads the transposed gradients directly: `forward(x, {heads, head_dim})`.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "models/extensions.h"

namespace lntune {

class ProjectionGroup {
 public:
  // Members in nn.Linear layout with one input size, all with biases or none.
  explicit ProjectionGroup(std::vector<Projection> members);
  // Each member's output for x ([..., out_i]): slices of one product where the weights are frozen,
  // else each member's own forward. With `last` (e.g. {heads, head_dim}), each output's last
  // dimension viewed as `last`.
  std::vector<torch::Tensor> forward(const torch::Tensor& x, c10::IntArrayRef last = {});
  // Whether the members' weights are rows of one tensor now (after a forward; for tests).
  bool packed() const;

 private:
  std::vector<torch::Tensor> weights() const;  // the members' weights, in order
  std::vector<Projection> members_;
  std::vector<int64_t> outs_;
  bool equal_outs_ = true;  // every member has the first's output size (heads can be split whole)
  torch::Tensor weight_, bias_;  // the packed storage, once made
};

}  // namespace lntune
