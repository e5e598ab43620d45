#include "models/projection_group.h"

#include <utility>

namespace lntune {

namespace {

// Whether parts are the consecutive row blocks of `packed`, in order.
bool rows_of(const torch::Tensor& packed, const std::vector<torch::Tensor>& parts) {
  if (!packed.defined()) return false;
  const char* next = static_cast<const char*>(packed.data_ptr());
  for (const auto& p : parts) {
    if (p.scalar_type() != packed.scalar_type() || p.device() != packed.device() || !p.is_contiguous() ||
        static_cast<const char*>(p.data_ptr()) != next)
      return false;
    next += p.numel() * p.element_size();
  }
  return next == static_cast<const char*>(packed.data_ptr()) + packed.numel() * packed.element_size();
}

bool frozen(const std::vector<torch::Tensor>& parts) {
  for (const auto& p : parts)
    if (p.requires_grad()) return false;
  return true;
}

bool one_kind(const std::vector<torch::Tensor>& parts) {
  for (const auto& p : parts)
    if (p.scalar_type() != parts[0].scalar_type() || p.device() != parts[0].device()) return false;
  return true;
}

// `packed` kept as the rows of `members` (frozen, of one dtype and device): made again when any of
// them no longer is a view of it, each member then set to its rows. Returns it, or an undefined
// tensor when the members cannot share one (a member trains, or they differ in dtype or device).
torch::Tensor pack(std::vector<torch::Tensor> members, torch::Tensor& packed) {
  if (!frozen(members) || !one_kind(members)) return {};
  if (rows_of(packed, members)) return packed;
  torch::NoGradGuard no_grad;
  packed = torch::cat(members);
  int64_t row = 0;
  for (auto& m : members) {
    const int64_t n = m.size(0);
    m.set_data(packed.narrow(0, row, n));  // the member's own tensor (the module's parameter) now views the rows
    row += n;
  }
  return packed;
}

}  // namespace

ProjectionGroup::ProjectionGroup(std::vector<Projection> members) : members_(std::move(members)) {
  TORCH_CHECK(!members_.empty(), "ProjectionGroup: no members");
  for (const auto& m : members_) {
    TORCH_CHECK(!m->conv1d(), "ProjectionGroup: members must be in nn.Linear layout");
    TORCH_CHECK(m->in_features() == members_[0]->in_features(), "ProjectionGroup: input sizes differ (",
                m->in_features(), " vs ", members_[0]->in_features(), ")");
    TORCH_CHECK(m->bias.defined() == members_[0]->bias.defined(),
                "ProjectionGroup: some members have biases, some not");
    outs_.push_back(m->out_features());
    equal_outs_ = equal_outs_ && m->out_features() == outs_[0];
  }
}

std::vector<torch::Tensor> ProjectionGroup::weights() const {
  std::vector<torch::Tensor> w;
  for (const auto& m : members_) w.push_back(m->weight);
  return w;
}

std::vector<torch::Tensor> ProjectionGroup::forward(const torch::Tensor& x, c10::IntArrayRef last) {
  // [..., out] viewed as [..., last...] (no `last`: as it is).
  auto shaped = [&](const torch::Tensor& t, int64_t members) {
    if (last.empty()) return t;
    auto sizes = t.sizes().vec();
    sizes.pop_back();
    if (members > 0) sizes.push_back(members);
    sizes.insert(sizes.end(), last.begin(), last.end());
    return t.view(sizes);
  };
  std::vector<torch::Tensor> biases, out;
  bool deltas = false, own_inputs = false;
  for (const auto& m : members_) {
    if (m->bias.defined()) biases.push_back(m->bias);
    deltas = deltas || (m->has_delta() && !m->merged());
    own_inputs = own_inputs || !m->reads_input_as_is();
  }
  const torch::Tensor w = own_inputs ? torch::Tensor() : pack(weights(), weight_);
  // Weights that train (full fine-tuning), or a member whose product reads its own input (IA3
  // scaling a feed-forward input): each member on its own.
  if (!w.defined()) {
    for (auto& m : members_) out.push_back(shaped(m->forward(x), 0));
    return out;
  }
  torch::Tensor b;
  if (!biases.empty()) {
    b = pack(biases, bias_);
    if (!b.defined()) b = torch::cat(biases);  // trainable biases (BitFit): their gradients flow through the cat
  }
  const torch::Tensor y = torch::linear(x, w, b);
  if (!last.empty() && !deltas && equal_outs_)  // shaped whole: the backward stacks the members' gradients as they come
    return shaped(y, static_cast<int64_t>(members_.size())).unbind(x.dim() - 1);
  out = y.split_with_sizes(outs_, -1);
  for (size_t i = 0; i < members_.size(); ++i) out[i] = shaped(members_[i]->add_delta(out[i], x), 0);
  return out;
}

bool ProjectionGroup::packed() const { return rows_of(weight_, weights()); }

}  // namespace lntune
