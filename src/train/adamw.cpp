#include "train/adamw.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "ops/adamw.h"
#include "util/error.h"

namespace lntune {

namespace {
torch::Tensor slot(const torch::Tensor& flat, int64_t offset, const torch::Tensor& like) {
  return flat.narrow(0, offset, like.numel()).view(like.sizes());
}
}  // namespace

AdamW::AdamW(std::vector<Param> params, AdamWOptions opt) : params_(std::move(params)), opt_(std::move(opt)) {
  if (opt_.impl != "fused" && opt_.impl != "torch")
    throw Error("AdamW: impl '" + opt_.impl + "' is not one of fused, torch");
  impl_ = opt_.impl == "fused" && flatten() ? "fused" : "torch";
  if (opt_.scalars_on_device) {
    if (impl_ != "fused")
      throw Error("AdamW: scalars on the device (CUDA graphs) need the fused implementation, and the trainable tensors "
                  "all fp32 on one device");
    scalars_device_ = torch::zeros({static_cast<int64_t>(groups_.size()), kernels::kAdamWScalarFloats},
                                   flat_value_.options());
  }
  if (impl_ == "torch")
    for (auto& p : params_) {
      p.exp_avg = torch::zeros_like(p.value, torch::MemoryFormat::Preserve);
      p.exp_avg_sq = torch::zeros_like(p.value, torch::MemoryFormat::Preserve);
    }
}

bool AdamW::flatten() {
  if (params_.empty()) return false;
  const auto device = params_[0].value.device();
  std::set<const void*> seen;
  for (const auto& p : params_)
    if (!p.value.defined() || p.value.scalar_type() != torch::kFloat || p.value.device() != device ||
        !seen.insert(p.value.unsafeGetTensorImpl()).second)
      return false;
  // Groups by weight decay, in order of first appearance. Every tensor starts 64-byte aligned, as a
  // tensor of its own would (BLAS and cuBLAS pick slower paths for misaligned operands, and the
  // CUDA AdamW kernel its scalar one); the gaps are zeros that stay zero.
  constexpr int64_t kAlign = 16;  // floats
  auto aligned = [](int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; };
  std::vector<double> decays;
  for (const auto& p : params_)
    if (std::find(decays.begin(), decays.end(), p.weight_decay) == decays.end()) decays.push_back(p.weight_decay);
  offsets_.assign(params_.size(), 0);
  pad_after_.assign(params_.size(), 0);
  int64_t end = 0;
  for (double wd : decays) {
    Group g;
    g.offset = aligned(end);
    g.weight_decay = wd;
    end = g.offset;
    size_t prev = params_.size();
    for (size_t i = 0; i < params_.size(); ++i)
      if (params_[i].weight_decay == wd) {
        if (prev < params_.size()) pad_after_[prev] = aligned(end) - end;
        end = aligned(end);
        offsets_[i] = end;
        end += params_[i].value.numel();
        prev = i;
      }
    g.numel = end - g.offset;
    groups_.push_back(g);
  }
  const auto o = torch::TensorOptions().dtype(torch::kFloat).device(device);
  zeros_ = torch::zeros({kAlign}, o);
  flat_value_ = torch::zeros({end}, o);
  flat_grad_ = torch::zeros({end}, o);
  flat_exp_avg_ = torch::zeros({end}, o);
  flat_exp_avg_sq_ = torch::zeros({end}, o);
  torch::NoGradGuard g;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    auto v = slot(flat_value_, offsets_[i], p.value);
    v.copy_(p.value);
    auto grad = slot(flat_grad_, offsets_[i], p.value);
    if (p.value.grad().defined()) grad.copy_(p.value.grad());
    // set_data changes the parameter's own TensorImpl: the module and everything else holding it
    // now read the buffer's slot.
    p.value.set_data(v);
    p.value.mutable_grad() = grad;
    p.exp_avg = slot(flat_exp_avg_, offsets_[i], p.value);
    p.exp_avg_sq = slot(flat_exp_avg_sq_, offsets_[i], p.value);
  }
  return true;
}

void AdamW::check_bound() {
  const auto* value_base = static_cast<const char*>(flat_value_.data_ptr());
  const auto* grad_base = static_cast<const char*>(flat_grad_.data_ptr());
  torch::NoGradGuard g;
  for (const auto& group : groups_) {
    // The group's parameters whose gradient is not their slot of the buffer: after zero_grad()
    // every one (autograd made each afresh). When all of them are, and defined, one cat writes
    // the whole group (its parameters lie in index order, the alignment gaps between them get
    // zeros); else one copy or fill each.
    std::vector<size_t> loose;
    int64_t loose_numel = 0;
    bool all_defined = true;
    for (size_t i = 0; i < params_.size(); ++i) {
      auto& p = params_[i];
      if (p.weight_decay != group.weight_decay) continue;
      const int64_t byte_offset = offsets_[i] * static_cast<int64_t>(sizeof(float));
      if (p.value.data_ptr() != value_base + byte_offset)
        throw Error("AdamW: trainable tensor " + p.name +
                    " was replaced after the optimizer was built (its storage moved): build the optimizer last");
      const auto& grad = p.value.grad();
      if (grad.defined() && grad.data_ptr() == grad_base + byte_offset) continue;
      loose.push_back(i);
      loose_numel += p.value.numel() + pad_after_[i];
      all_defined = all_defined && grad.defined();
    }
    if (loose.empty()) continue;
    if (all_defined && loose_numel == group.numel) {
      std::vector<torch::Tensor> parts;
      for (size_t i : loose) {
        parts.push_back(params_[i].value.grad().reshape({-1}));
        if (pad_after_[i] > 0) parts.push_back(zeros_.narrow(0, 0, pad_after_[i]));
      }
      auto dst = flat_grad_.narrow(0, group.offset, group.numel);
      torch::cat_out(dst, parts, 0);
    } else {
      for (size_t i : loose) {
        auto dst = slot(flat_grad_, offsets_[i], params_[i].value);
        if (params_[i].value.grad().defined())
          dst.copy_(params_[i].value.grad());
        else
          dst.zero_();  // reached by no backward since zero_grad: a zero gradient
      }
    }
    for (size_t i : loose) params_[i].value.mutable_grad() = slot(flat_grad_, offsets_[i], params_[i].value);
  }
}

void AdamW::zero_grad() {
  if (impl_ == "fused") {
    // Set to none, as PyTorch 2's optimizers do by default: autograd then hands each new gradient
    // over without a kernel (into a defined one it adds: a launch per tensor), and check_bound
    // gathers them with one cat per weight-decay group.
    for (auto& p : params_) p.value.mutable_grad().reset();
    return;
  }
  for (auto& p : params_)
    if (p.value.grad().defined()) p.value.mutable_grad().zero_();
}

std::vector<torch::Tensor> AdamW::gradient_buffers() {
  if (impl_ == "fused") {
    check_bound();
    return {flat_grad_};
  }
  std::vector<torch::Tensor> out;
  for (auto& p : params_)
    if (p.value.grad().defined()) out.push_back(p.value.grad());
  return out;
}

torch::Tensor AdamW::clip_grad_norm(double max_norm) {
  torch::NoGradGuard g;
  auto grads = gradient_buffers();
  if (grads.empty()) return torch::zeros({});
  // The per-tensor norms and their norm, as torch::nn::utils::clip_grad_norm_ computes it.
  std::vector<torch::Tensor> norms;
  for (const auto& gr : grads) norms.push_back(gr.norm(2));
  auto total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
  auto coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
  for (auto& gr : grads) gr.mul_(coef);
  return total;
}

void AdamW::begin_step(double lr) {
  ++step_;
  lr_ = lr;
  begun_ = true;
  if (impl_ != "fused") return;
  scalars_.clear();
  for (const auto& g : groups_)
    scalars_.push_back(kernels::adamw_scalars(lr, g.weight_decay, opt_.beta1, opt_.beta2, opt_.eps, step_));
  if (!scalars_device_.defined()) return;
  // Pinned, so that the copy is asynchronous: the host does not wait for the GPU (the host
  // allocator keeps the block until the copy is done).
  auto host = torch::empty(scalars_device_.sizes(), torch::TensorOptions().dtype(torch::kFloat).pinned_memory(
                                                        scalars_device_.is_cuda()));
  std::memcpy(host.data_ptr<float>(), scalars_.data(), scalars_.size() * sizeof(kernels::AdamWScalars));
  scalars_device_.copy_(host, /*non_blocking=*/true);
}

void AdamW::apply_step() {
  if (!begun_) throw Error("AdamW: apply_step() without begin_step()");
  begun_ = false;
  if (impl_ != "fused") return step_per_tensor();
  check_bound();
  for (size_t i = 0; i < groups_.size(); ++i) {
    const auto& g = groups_[i];
    auto part = [&](const torch::Tensor& flat) { return flat.narrow(0, g.offset, g.numel); };
    if (scalars_device_.defined())
      ops::fused_adamw_(part(flat_value_), part(flat_grad_), part(flat_exp_avg_), part(flat_exp_avg_sq_),
                        scalars_device_[static_cast<int64_t>(i)]);
    else
      ops::fused_adamw_(part(flat_value_), part(flat_grad_), part(flat_exp_avg_), part(flat_exp_avg_sq_), scalars_[i]);
  }
}

void AdamW::step_per_tensor() {
  torch::NoGradGuard g;
  const double lr = lr_;
  double bc1 = 1 - std::pow(opt_.beta1, static_cast<double>(step_));
  double bc2 = 1 - std::pow(opt_.beta2, static_cast<double>(step_));
  for (auto& p : params_) {
    const auto& grad = p.value.grad();
    if (!grad.defined()) continue;
    if (p.weight_decay != 0) p.value.mul_(1 - lr * p.weight_decay);
    p.exp_avg.mul_(opt_.beta1).add_(grad, 1 - opt_.beta1);
    p.exp_avg_sq.mul_(opt_.beta2).addcmul_(grad, grad, 1 - opt_.beta2);
    auto denom = (p.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(opt_.eps);
    p.value.addcdiv_(p.exp_avg, denom, -lr / bc1);
  }
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : params_) {
    out.emplace_back(p.name + ".exp_avg", p.exp_avg);
    out.emplace_back(p.name + ".exp_avg_sq", p.exp_avg_sq);
  }
  return out;
}

void AdamW::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, int64_t step) {
  std::map<std::string, torch::Tensor> m(tensors.begin(), tensors.end());
  torch::NoGradGuard g;
  for (auto& p : params_) {
    for (auto [suffix, dst] : {std::make_pair(".exp_avg", &p.exp_avg), std::make_pair(".exp_avg_sq", &p.exp_avg_sq)}) {
      auto it = m.find(p.name + suffix);
      if (it == m.end()) throw Error("optimizer state has no " + p.name + suffix);
      if (it->second.sizes() != dst->sizes()) throw Error("optimizer state " + p.name + suffix + " has the wrong shape");
      dst->copy_(it->second);
    }
  }
  step_ = step;
}

}  // namespace lntune
