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
  auto labels = torch::empty({B}, regression ? torch::kFloat : torch::kLong);
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
    if (regression) labels[i] = e.label;
    else labels[i] = static_cast<int64_t>(e.label);
  }
  b.inputs = {ids, mask, types};
  b.labels = labels;
  return b;
}

std::vector<std::vector<size_t>> train_batches(size_t n, int64_t batch_size, uint64_t seed, int64_t epoch,
                                               bool shuffle) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
  }
  std::vector<std::vector<size_t>> out;
  for (size_t i = 0; i < n; i += static_cast<size_t>(batch_size))
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                     order.begin() + static_cast<std::ptrdiff_t>(std::min(n, i + static_cast<size_t>(batch_size))));
  return out;
}

std::vector<std::vector<size_t>> length_grouped_batches(const std::vector<Encoded>& data, int64_t batch_size,
                                                        uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<size_t> order;
  for (auto& b : train_batches(data.size(), batch_size, seed, epoch, shuffle))
    order.insert(order.end(), b.begin(), b.end());
  // Its own stream for the batch order: the row order above stays the one train_batches draws.
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch) + 0x9e3779b97f4a7c15ULL);
  const size_t bs = static_cast<size_t>(batch_size), mega = bs * static_cast<size_t>(kLengthGroupBatches);
  std::vector<std::vector<size_t>> out;
  auto at = [&](size_t i) { return order.begin() + static_cast<std::ptrdiff_t>(i); };
  for (size_t m = 0; m < order.size(); m += mega) {
    const size_t end = std::min(order.size(), m + mega), first_batch = out.size();
    std::stable_sort(at(m), at(end), [&](size_t a, size_t b) { return data[a].ids.size() > data[b].ids.size(); });
    for (size_t i = m; i < end; i += bs) out.emplace_back(at(i), at(std::min(end, i + bs)));
    if (shuffle) std::shuffle(out.begin() + static_cast<std::ptrdiff_t>(first_batch), out.end(), rng);
  }
  return out;
}

std::vector<std::vector<size_t>> eval_batches(const std::vector<Encoded>& data, int64_t batch_size) {
  std::vector<size_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return data[a].ids.size() < data[b].ids.size(); });
  std::vector<std::vector<size_t>> out;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(batch_size))
    out.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                     order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + static_cast<size_t>(batch_size))));
  return out;
}

}  // namespace lntune
