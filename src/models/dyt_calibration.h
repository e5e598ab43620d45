// Calibrated DyT init: fits each fresh DyT norm to the LayerNorm it replaces, on real batches.
//
// Why: DyT (arXiv 2503.10622) starts every norm at alpha = 0.5, gamma = 1, beta = 0, which suits
// the pre-norm models of that paper, whose norms read a residual stream of order one. BERT is
// post-norm: every norm sits on the main path, and its input scale is whatever came before —
// 0.03 after BERT's N(0, 0.02) embeddings, where tanh(0.5 x) passes on a signal thirty times
// smaller than LayerNorm's, shrinking again at every layer. Pretraining such a bert-mini stayed
// on the unigram plateau, and converting a pretrained LayerNorm checkpoint cost 7 points of
// STS-B (docs/results.md). Calibration keeps DyT's form and fits its start instead.
//
// How: the model runs `forward_batches` twice with every fresh DyT norm computing LayerNorm with
// its own gamma/beta (so each norm sees the LayerNorm model's activations). Pass 1 records the
// mean s of its input rows' standard deviations and sets alpha = c / s (c = dyt_alpha_init: a
// one-s input sits at tanh argument c, the paper's 0.5 by default). Pass 2 fits, per feature j,
// the least-squares line t_j ~ k_j u_j + d_j between LayerNorm's normalised value
// t = (x - mean_row) / std_row and u = tanh(alpha x); then
//   gamma'_j = gamma_j k_j,  beta'_j = beta_j + gamma_j d_j,
// the DyT nearest the LayerNorm on those rows for that alpha (a first-order match, gamma / c,
// would lose ~13% of the scale to tanh's curvature at every post-norm layer). What DyT cannot
// follow is each row's own mean and std: with H features those vary by ~1/sqrt(H) about the
// average.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "models/model.h"

namespace lntune {

struct DytCalibrationReport {
  int64_t norms = 0;
  int64_t rows = 0;                    // rows each norm saw
  std::vector<double> alphas;          // per norm, in find_norms order
  std::string describe() const;        // one line for the log
};

// Calibrates every norm of `model` (all DyT: a checkpoint is converted whole).
// `forward_batches` runs the model's forward on the caller's batches, the same each time; it is
// called twice, under NoGradGuard with the model in eval mode (restored after). Throws Error when
// a norm saw no rows or is not DyT, leaving every norm as it was.
DytCalibrationReport calibrate_dyt(torch::nn::Module& model, double c, const std::function<void()>& forward_batches);

}  // namespace lntune
