#include "models/attention_init.h"

#include <cmath>

#include "models/model.h"
#include "models/position_init.h"
#include "util/error.h"
#include "util/strings.h"

namespace lntune {

std::vector<int64_t> local_attention_offsets(const ModelConfig& c) {
  std::vector<int64_t> all = c.is_bert() ? std::vector<int64_t>{-1, 1, -2, 2} : std::vector<int64_t>{-1, -2, -3, -4};
  all.resize(static_cast<size_t>(std::min<int64_t>(c.num_heads, 4)));
  return all;
}

std::string LocalAttentionInit::describe() const {
  std::string list;
  for (auto o : offsets) list += (list.empty() ? "" : ", ") + std::string(o > 0 ? "+" : "") + std::to_string(o);
  return "layer 0 heads start at offsets " + list + " (scale " + std::to_string(scale).substr(0, 5) + ", columns 0-" +
         std::to_string(reserved_columns - 1) + " reserved for position)";
}

LocalAttentionInit init_local_attention(torch::nn::Module& model, const ModelConfig& c, double sharpness) {
  if (!c.is_bert() && !c.is_gpt2()) throw Error("local attention init supports bert and gpt2, not " + c.model_type);
  const int64_t H = c.hidden_size, A = c.num_heads, dh = H / A;
  if (A <= 0 || H % A != 0 || dh % 2 != 0 || 2 * dh > H)
    throw Error("local attention init needs an even head size at most half the hidden size (hidden " +
                std::to_string(H) + ", heads " + std::to_string(A) + ")");
  torch::NoGradGuard g;
  using torch::indexing::Slice;
  // The pairs used: the fastest ones, w >= 0.3 rad per position (at most dh / 2). Slower pairs
  // barely tell position i from i + 1 (cos w ~ 1) and only add the noise below; within these,
  // the nearest competitor of the target (m = +-1) scores 0.8 of it and nothing within 256
  // positions more than ~0.4 at H = 256 (the frequencies are incommensurate).
  std::vector<double> freq;
  for (int64_t k = 0; k < dh / 2; ++k) {
    double w = sinusoid_frequency(k, H);  // the table init_sinusoidal_positions writes below
    if (w < 0.3) break;
    freq.push_back(w);
  }
  const int64_t K = static_cast<int64_t>(freq.size()), R = 2 * K;
  if (K < 4) throw Error("local attention init needs 4 sinusoid pairs turning at >= 0.3 rad per position; hidden size " +
                            std::to_string(H) + " has " + std::to_string(K));
  double gap = 0;  // sum_k (1 - cos w_k): the logit gap target - neighbour per unit scale
  for (double w : freq) gap += 1.0 - std::cos(w);
  init_sinusoidal_positions(model);
  // Reserve columns [0, R) for position: the words (and BERT's token types) start at 0 there.
  auto words = parameter_ending(model, c.is_bert() ? "embeddings.word_embeddings.weight" : "wte.weight");
  auto pos = parameter_ending(model, c.is_bert() ? "embeddings.position_embeddings.weight" : "wpe.weight");
  words.index_put_({Slice(), Slice(0, R)}, 0.0);
  torch::Tensor types;
  if (c.is_bert()) {
    types = parameter_ending(model, "embeddings.token_type_embeddings.weight");
    types.index_put_({Slice(), Slice(0, R)}, 0.0);
  }

  // Calibrate: the mean square of a reserved coordinate after the layer's input LayerNorm (affine
  // parts are 1 and 0 at init), over words spread across the vocabulary and the first 128 positions.
  const int64_t V = words.size(0), n = std::min<int64_t>(V, 256);
  auto ids = torch::arange(n, torch::kLong) * (V / n);
  auto e = words.index_select(0, ids).unsqueeze(1) + pos.narrow(0, 0, std::min<int64_t>(pos.size(0), 128)).unsqueeze(0);
  if (types.defined()) e = e + types[0];
  auto x = (e - e.mean(-1, true)) / (e.var(-1, false, true) + c.layer_norm_eps).sqrt();
  const double ms = x.index({Slice(), Slice(), Slice(0, R)}).pow(2).mean().item<double>();
  // logit(i, j) = q_i . k_j / sqrt(dh) = s^2 * 2 ms * sum_k cos((j - i - offset) w_k) / sqrt(dh);
  // the target's lead over its neighbours is then s^2 * 2 ms * gap / sqrt(dh) = `sharpness`.
  const double s = std::sqrt(sharpness * std::sqrt(static_cast<double>(dh)) / (2.0 * ms * gap));

  // (Query, key) weights as [out, in] views: BERT's Linear layout, GPT-2's Conv1D [in, 3H] transposed.
  torch::Tensor wq, wk, bq, bk;
  if (c.is_bert()) {
    wq = parameter_ending(model, "encoder.layer.0.attention.self.query.weight");
    wk = parameter_ending(model, "encoder.layer.0.attention.self.key.weight");
    bq = parameter_ending(model, "encoder.layer.0.attention.self.query.bias");
    bk = parameter_ending(model, "encoder.layer.0.attention.self.key.bias");
  } else {
    auto w = parameter_ending(model, "h.0.attn.c_attn.weight"), b = parameter_ending(model, "h.0.attn.c_attn.bias");
    wq = w.index({Slice(), Slice(0, H)}).t();
    wk = w.index({Slice(), Slice(H, 2 * H)}).t();
    bq = b.index({Slice(0, H)});
    bk = b.index({Slice(H, 2 * H)});
  }
  // Every head's key block is the same: s times the reserved coordinates.
  auto kh = torch::zeros({dh, H}, torch::kDouble);
  kh.index_put_({Slice(0, R), Slice(0, R)}, torch::eye(R, torch::kDouble) * s);
  const auto offsets = local_attention_offsets(c);
  for (size_t h = 0; h < offsets.size(); ++h) {
    const int64_t r0 = static_cast<int64_t>(h) * dh;
    auto qh = torch::zeros({dh, H}, torch::kDouble);
    for (int64_t k = 0; k < K; ++k) {
      // (sin iw, cos iw) rotated to (sin (i+d)w, cos (i+d)w).
      const double a = static_cast<double>(offsets[h]) * freq[static_cast<size_t>(k)], cs = std::cos(a), sn = std::sin(a);
      qh[2 * k][2 * k] = s * cs;
      qh[2 * k][2 * k + 1] = s * sn;
      qh[2 * k + 1][2 * k] = -s * sn;
      qh[2 * k + 1][2 * k + 1] = s * cs;
    }
    wq.index({Slice(r0, r0 + dh)}).copy_(qh);
    wk.index({Slice(r0, r0 + dh)}).copy_(kh);
    bq.index({Slice(r0, r0 + dh)}).zero_();
    bk.index({Slice(r0, r0 + dh)}).zero_();
  }
  return {offsets, R, s};
}

}  // namespace lntune
