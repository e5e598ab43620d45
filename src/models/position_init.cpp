#include "models/position_init.h"

#include <cmath>

#include "util/error.h"
#include "util/strings.h"

namespace lntune {

std::string init_sinusoidal_positions(torch::nn::Module& model, double std) {
  torch::NoGradGuard g;
  for (auto& p : model.named_parameters()) {
    if (!ends_with(p.key(), "embeddings.position_embeddings.weight") && !ends_with(p.key(), ".wpe.weight")) continue;
    auto w = p.value();
    const int64_t P = w.size(0), H = w.size(1);
    using torch::indexing::Slice;
    auto pos = torch::arange(P, torch::kDouble).unsqueeze(1);
    // Frequencies 10000^(-2i/H) for the pair (sin, cos) in columns (2i, 2i+1).
    auto freq = torch::exp(torch::arange(0, H, 2, torch::kDouble) * (-std::log(10000.0) / static_cast<double>(H)));
    auto angle = pos * freq.unsqueeze(0);
    auto table = torch::zeros({P, H}, torch::kDouble);
    table.index_put_({Slice(), Slice(0, H, 2)}, angle.sin());
    table.index_put_({Slice(), Slice(1, H, 2)}, angle.cos().index({Slice(), Slice(0, H / 2)}));
    // sin^2 + cos^2 = 1 per pair: entries have mean square 1/2, so this scale gives std `std`.
    w.copy_(table * (std * std::sqrt(2.0)));
    return p.key();
  }
  throw Error("the model has no absolute position embedding table");
}

}  // namespace lntune
