#include "data/batch.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace lntune {

std::vector<Encoded> encode_examples(const Tokenizer& tok, const std::vector<Example>& examples, int64_t max_length) {
  std::vector<Encoded> out;
  out.reserve(examples.size());
  EncodeOptions o;
  o.max_length = max_length;
  for (const auto& e : examples) {
    auto enc = e.text_pair.empty() ? tok.encode(e.text, std::nullopt, o) : tok.encode(e.text, e.text_pair, o);
    out.push_back({std::move(enc.ids), std::move(enc.type_ids), e.label});
  }
  return out;
}

LabeledBatch make_batch(const std::vector<Encoded>& data, const std::vector<size_t>& rows, int64_t pad_id,
                        bool regression, int64_t pad_multiple, int64_t max_length) {
  int64_t B = static_cast<int64_t>(rows.size()), T = 1;
  for (size_t r : rows) T = std::max<int64_t>(T, static_cast<int64_t>(data[r].ids.size()));
  if (pad_multiple > 1) {
    const int64_t rounded = (T + pad_multiple - 1) / pad_multiple * pad_multiple;
    T = max_length > 0 && T <= max_length ? std::min(rounded, max_length) : rounded;
  }
  auto ids = torch::full({B, T}, pad_id, torch::kLong);
  auto types = torch::zeros({B, T}, torch::kLong);
  auto mask = torch::zeros({B, T}, torch::kLong);
  // Causal-LM rows: the logits at position t - 1 predict token t of the target, so the model
  // computes them only there (Batch::lm_positions) and the labels are those tokens.
  const bool lm = B > 0 && data[rows[0]].target_start > 0;
  auto labels = torch::empty({B}, regression ? torch::kFloat : torch::kLong);
  std::vector<int64_t> lm_positions, lm_labels;
  auto pi = ids.accessor<int64_t, 2>(), pt = types.accessor<int64_t, 2>(), pm = mask.accessor<int64_t, 2>();
  LabeledBatch b;
  for (int64_t i = 0; i < B; ++i) {
    const auto& e = data[rows[static_cast<size_t>(i)]];
    for (size_t t = 0; t < e.ids.size(); ++t) {
      pi[i][static_cast<int64_t>(t)] = e.ids[t];
      pt[i][static_cast<int64_t>(t)] = e.type_ids[t];
      pm[i][static_cast<int64_t>(t)] = 1;
    }
    b.tokens += static_cast<int64_t>(e.ids.size());
    if (lm) {
      for (int64_t t = std::max<int64_t>(e.target_start, 1); t < static_cast<int64_t>(e.ids.size()); ++t) {
        lm_positions.push_back(i * T + t - 1);
        lm_labels.push_back(e.ids[static_cast<size_t>(t)]);
      }
    } else if (regression) {
      labels[i] = e.label;
    } else {
      labels[i] = static_cast<int64_t>(e.label);
    }
  }
  b.inputs = {ids, mask, types};
  b.labels = labels;
  if (lm) {
    const auto n = static_cast<int64_t>(lm_labels.size());
    b.inputs.lm_positions = torch::from_blob(lm_positions.data(), {n}, torch::kLong).clone();
    b.labels = torch::from_blob(lm_labels.data(), {n}, torch::kLong).clone();
  }
  return b;
}

namespace {

// An epoch's row order: 0..n-1, shuffled by (seed, epoch) when asked.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
  }
  return order;
}

// order[begin, end) cut into batches of batch_size (the last may be short), appended to out.
void append_batches(const std::vector<size_t>& order, size_t begin, size_t end, int64_t batch_size,
                    std::vector<std::vector<size_t>>& out) {
  auto at = [&](size_t i) { return order.begin() + static_cast<std::ptrdiff_t>(i); };
  for (size_t i = begin; i < end; i += static_cast<size_t>(batch_size))
    out.emplace_back(at(i), at(std::min(end, i + static_cast<size_t>(batch_size))));
}

}  // namespace

std::vector<std::vector<size_t>> train_batches(size_t n, int64_t batch_size, uint64_t seed, int64_t epoch,
                                               bool shuffle) {
  std::vector<std::vector<size_t>> out;
  append_batches(epoch_order(n, seed, epoch, shuffle), 0, n, batch_size, out);
  return out;
}

std::vector<std::vector<size_t>> length_grouped_batches(const std::vector<Encoded>& data, int64_t batch_size,
                                                        uint64_t seed, int64_t epoch, bool shuffle) {
  auto order = epoch_order(data.size(), seed, epoch, shuffle);
  // Its own stream for the batch order: the row order above stays the one train_batches draws.
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch) + 0x9e3779b97f4a7c15ULL);
  const size_t mega = static_cast<size_t>(batch_size * kLengthGroupBatches);
  std::vector<std::vector<size_t>> out;
  for (size_t m = 0; m < order.size(); m += mega) {
    const size_t end = std::min(order.size(), m + mega), first_batch = out.size();
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(m), order.begin() + static_cast<std::ptrdiff_t>(end),
                     [&](size_t a, size_t b) { return data[a].ids.size() > data[b].ids.size(); });
    append_batches(order, m, end, batch_size, out);
    if (shuffle) std::shuffle(out.begin() + static_cast<std::ptrdiff_t>(first_batch), out.end(), rng);
  }
  return out;
}

std::vector<std::vector<size_t>> eval_batches(const std::vector<Encoded>& data, int64_t batch_size) {
  auto order = epoch_order(data.size(), 0, 0, /*shuffle=*/false);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return data[a].ids.size() < data[b].ids.size(); });
  std::vector<std::vector<size_t>> out;
  append_batches(order, 0, order.size(), batch_size, out);
  return out;
}

}  // namespace lntune
