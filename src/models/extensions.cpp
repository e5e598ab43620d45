#include "models/extensions.h"

namespace lntune {

ProjectionImpl::ProjectionImpl(int64_t in, int64_t out, bool has_bias, bool conv1d) : in_(in), out_(out), conv1d_(conv1d) {
  weight = register_parameter("weight", conv1d ? torch::empty({in, out}).normal_(0, 0.02) : torch::empty({out, in}).normal_(0, 0.02));
  if (has_bias) bias = register_parameter("bias", torch::zeros({out}));
}

torch::Tensor ProjectionImpl::forward(const torch::Tensor& x_in) {
  const torch::Tensor x = reads_input_as_is() ? x_in : delta_->input(x_in);
  torch::Tensor y;
  if (conv1d_) {
    auto sizes = x.sizes().vec();
    sizes.back() = out_;
    y = (bias.defined() ? torch::addmm(bias, x.reshape({-1, in_}), weight) : torch::mm(x.reshape({-1, in_}), weight)).view(sizes);
  } else {
    y = torch::linear(x, weight, bias);
  }
  return add_delta(y, x_in);
}

torch::Tensor ProjectionImpl::add_delta(const torch::Tensor& y, const torch::Tensor& x) {
  return delta_ && !merged_ ? delta_->add_to(y, x) : y;
}

void ProjectionImpl::fold(bool undo) {
  torch::NoGradGuard g;
  delta_->fold(conv1d_ ? weight.t() : weight, bias, undo);
}

void ProjectionImpl::merge() {
  if (!delta_ || merged_) return;
  fold(false);
  merged_ = true;
}

void ProjectionImpl::unmerge() {
  if (!delta_ || !merged_) return;
  fold(true);
  merged_ = false;
}

torch::Tensor widen_mask_for_prompt(const torch::Tensor& mask, int64_t P) {
  if (P == 0) return mask;
  return torch::cat({torch::ones({mask.size(0), P}, mask.options()), mask}, 1);
}

torch::Tensor widen_mask_for_prefix(const torch::Tensor& mask, int64_t P) {
  if (!mask.defined() || P == 0) return mask;
  auto sizes = mask.sizes().vec();
  sizes.back() = P;
  return torch::cat({torch::zeros(sizes, mask.options()), mask}, -1);
}

void add_prefix(const std::shared_ptr<AttentionPrefix>& prefix, torch::Tensor& k, torch::Tensor& v) {
  if (!prefix || prefix->length() == 0) return;
  auto [pk, pv] = prefix->key_values(k.size(0));
  k = torch::cat({pk.to(k.dtype()), k}, 2);
  v = torch::cat({pv.to(v.dtype()), v}, 2);
}

void check_layer_mask(const AttentionMask& mask, const torch::Tensor& k) {
  TORCH_CHECK(!mask.layer.defined() || mask.layer.size(-1) == k.size(2), "attention mask over ", mask.layer.size(-1),
              " key positions, this layer has ", k.size(2), ": every layer's prefix must have the same length");
}

}  // namespace lntune
