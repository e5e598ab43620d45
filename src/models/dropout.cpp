#include "models/dropout.h"

#include "ops/dropout.h"

namespace lntune {

DropoutImpl::DropoutImpl(const DropoutOptions& opt) : options(opt) {
  TORCH_CHECK(opt.p() >= 0 && opt.p() < 1, "dropout: p must be in [0, 1), got ", opt.p());
  TORCH_CHECK(opt.impl() == "fused" || opt.impl() == "torch", "model.dropout_impl: unknown impl '", opt.impl(),
              "' (fused, torch)");
}

torch::Tensor DropoutImpl::forward(const torch::Tensor& x) {
  if (!is_training() || options.p() == 0) return x;
  return options.impl() == "fused" ? ops::fused_dropout(x, options.p()) : torch::dropout(x, options.p(), true);
}

void DropoutImpl::pretty_print(std::ostream& s) const {
  s << "lntune::Dropout(p=" << options.p() << ", impl=" << options.impl() << ")";
}

}  // namespace lntune
