#include "models/position_init.h"

#include <cmath>
#include <vector>

#include "util/error.h"
#include "util/strings.h"

namespace lntune {

double sinusoid_frequency(int64_t pair, int64_t hidden) {
  return std::pow(10000.0, -2.0 * static_cast<double>(pair) / static_cast<double>(hidden));
}

std::string init_sinusoidal_positions(torch::nn::Module& model, double std) {
  torch::NoGradGuard g;
  for (auto& p : model.named_parameters()) {
    if (!ends_with(p.key(), "embeddings.position_embeddings.weight") && !ends_with(p.key(), ".wpe.weight")) continue;
    auto w = p.value();
    const int64_t P = w.size(0), H = w.size(1);
    using torch::indexing::Slice;
    auto pos = torch::arange(P, torch::kDouble).unsqueeze(1);
    // The pair (sin, cos) in columns (2i, 2i+1) turns at sinusoid_frequency(i, H).
    std::vector<double> pairs;
    for (int64_t i = 0; i < (H + 1) / 2; ++i) pairs.push_back(sinusoid_frequency(i, H));
    auto freq = torch::tensor(pairs, torch::kDouble);
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
