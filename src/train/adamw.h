// AdamW with decoupled weight decay (Loshchilov & Hutter), the update torch::optim::AdamW makes.
// Our own so that its state (step, exp_avg, exp_avg_sq per tensor) is plain named tensors that
// checkpoints save and restore bit-exactly on any LibTorch version, and so that a PEFT run's
// optimizer costs a handful of kernel launches, not ~12 per trainable tensor (see AdamWOptions).
#pragma once
#include <torch/torch.h>

#include "adamw/adamw_math.h"

#include <string>
#include <vector>

namespace lntune {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  // "fused" (default): at construction the trainable tensors become views of one fp32 buffer and
  // their gradients views of another, so that the update is one kernel (kernels/adamw) per
  // weight-decay group, clipping two whole-buffer ops and the data-parallel all-reduce one call.
  // "torch": per-tensor ATen ops (~9 launches per tensor), the tensors left where they are.
  // fused falls back to torch when the tensors are not all fp32 on one device.
  std::string impl = "fused";
  // For CUDA graphs (train/step_graph.h): the step's scalars (lr, bias corrections) live in a
  // tensor on the parameters' device that begin_step() rewrites and the update kernels read when
  // they run, so that apply_step() launches the same kernels with the same arguments every step.
  // Needs the fused implementation.
  bool scalars_on_device = false;
};

class AdamW {
 public:
  struct Param {
    std::string name;
    torch::Tensor value;
    double weight_decay = 0;
    torch::Tensor exp_avg, exp_avg_sq;
  };
  AdamW(std::vector<Param> params, AdamWOptions opt = {});
  // torch: parameters without a gradient are skipped. fused: a parameter without one is updated
  // with a zero gradient (its moments decay, weight decay applies).
  void step(double lr) {
    begin_step(lr);
    apply_step();
  }
  // step() in two halves, for a captured CUDA graph: begin_step() is the host's share (the step
  // count, lr and bias corrections; with scalars_on_device one host-to-device copy), done before
  // every replay; apply_step() is the device's (gathering gradients, the update), what the graph
  // holds. Each apply_step() needs a begin_step() before it.
  void begin_step(double lr);
  void apply_step();
  // torch: zeroes the gradients in place. fused: sets them to none (the next backward's are
  // gathered into the buffer, see check_bound).
  void zero_grad();
  // Scales the gradients so that their global 2-norm is at most max_norm, as
  // torch::nn::utils::clip_grad_norm_ does, but returns the norm before clipping as a tensor on
  // the gradients' device: no device-to-host copy, so the host does not wait for the backward.
  torch::Tensor clip_grad_norm(double max_norm);
  // What a data-parallel step all-reduces: the flat gradient buffer (fused), else each defined
  // gradient.
  std::vector<torch::Tensor> gradient_buffers();
  // The implementation in use: "fused" or "torch" (after a fallback, "torch").
  const std::string& impl() const { return impl_; }
  int64_t steps() const { return step_; }
  std::vector<Param>& params() { return params_; }
  // State as named tensors ("<name>.exp_avg", "<name>.exp_avg_sq") plus the step count.
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, int64_t step);

 private:
  // The fused layout: parameter i is elements [offset[i], offset[i] + numel) of every buffer,
  // 64-byte aligned; the parameters of one weight decay lie together, in index order, with
  // pad_after[i] zeros after each but the group's last.
  struct Group {
    int64_t offset = 0, numel = 0;
    double weight_decay = 0;
  };
  bool flatten();
  // Before the fused path reads the buffers: gradients that are not their slot of the buffer
  // (made by a backward after zero_grad, or replaced) are gathered into it and become its views
  // again, so that in-place changes to a parameter's .grad (fisher_ln's masks) reach the buffer;
  // a parameter whose storage moved (set_data, Module::to) is an error naming it.
  void check_bound();
  void step_per_tensor();

  std::vector<Param> params_;
  AdamWOptions opt_;
  std::string impl_;
  int64_t step_ = 0;
  double lr_ = 0;
  bool begun_ = false;
  std::vector<kernels::AdamWScalars> scalars_;  // per group, made by begin_step
  torch::Tensor scalars_device_;                // [groups, kAdamWScalarFloats] with scalars_on_device
  torch::Tensor flat_value_, flat_grad_, flat_exp_avg_, flat_exp_avg_sq_;
  std::vector<int64_t> offsets_, pad_after_;
  torch::Tensor zeros_;  // the gaps' share of a gathering cat
  std::vector<Group> groups_;
};

}  // namespace lntune
