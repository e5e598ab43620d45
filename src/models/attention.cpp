#include "models/attention.h"

#include <torch/version.h>

#include "util/error.h"

// scaled_dot_product_attention arrived in LibTorch 2.0, its `scale` argument in 2.1 (Debian's 1.13
// has neither: there only "eager" exists).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define LNTUNE_HAS_SDPA 1
#endif

namespace lntune {

bool sdpa_available() {
#ifdef LNTUNE_HAS_SDPA
  return true;
#else
  return false;
#endif
}

std::string resolve_attention(const std::string& attention, const std::string& source) {
  if (attention == "auto") return sdpa_available() ? "sdpa" : "eager";
  if (attention != "eager" && attention != "sdpa")
    fail(source, "model.attention", "'" + attention + "' is not one of auto, eager, sdpa");
  if (attention == "sdpa" && !sdpa_available())
    fail(source, "model.attention", "sdpa needs LibTorch >= 2.1; this build's is " TORCH_VERSION ": use eager or auto");
  return attention;
}

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask,
                     double scale, Dropout& dropout, bool sdpa) {
#ifdef LNTUNE_HAS_SDPA
  if (sdpa) {
    // The fused kernels take the mask in the query's dtype (bf16 under autocast).
    std::optional<torch::Tensor> m;
    if (mask.defined()) m = mask.to(q.scalar_type());
    const double p = dropout->is_training() ? dropout->options.p() : 0.0;
    return at::scaled_dot_product_attention(q, k, v, m, p, /*is_causal=*/false, scale);
  }
#else
  TORCH_CHECK(!sdpa, "model.attention: sdpa needs LibTorch >= 2.1 (this build has ", TORCH_VERSION, ")");
#endif
  // mask + scale * q k^T: one operator (add with alpha) where a multiply and an add were two.
  auto raw = torch::matmul(q, k.transpose(-1, -2));
  auto scores = mask.defined() ? torch::add(mask, raw, scale) : raw * scale;
  return torch::matmul(dropout(torch::softmax(scores, -1)), v);
}

}  // namespace lntune
