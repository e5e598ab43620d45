#include "pretrain/embedding_init.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>

#include "models/model.h"
#include "util/error.h"

namespace lntune {

torch::Tensor csr_matmul(const CsrMatrix& m, const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(0) == m.n && x.scalar_type() == torch::kFloat,
              "csr_matmul: expected a float [", m.n, ", k] matrix, got ", x.sizes());
  auto xc = x.contiguous();
  auto y = torch::zeros_like(xc);
  const int64_t k = xc.size(1);
  const float* xp = xc.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  at::parallel_for(0, m.n, 512, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      float* yr = yp + r * k;
      for (int64_t q = m.row_ptr[static_cast<size_t>(r)]; q < m.row_ptr[static_cast<size_t>(r) + 1]; ++q) {
        const float v = m.val[static_cast<size_t>(q)];
        const float* xr = xp + static_cast<int64_t>(m.col[static_cast<size_t>(q)]) * k;
        for (int64_t j = 0; j < k; ++j) yr[j] += v * xr[j];
      }
    }
  });
  return y;
}

torch::Tensor symmetric_svd_factor(const CsrMatrix& m, int64_t dims, int iters, int64_t oversample, uint64_t seed,
                                   std::vector<double>* singular) {
  const int64_t l = std::min<int64_t>(m.n, dims + oversample);
  if (dims < 1 || dims > m.n) throw Error("SVD rank " + std::to_string(dims) + " outside [1, " + std::to_string(m.n) + "]");
  torch::NoGradGuard g;
  auto gen = at::detail::createCPUGenerator(seed);
  auto q = torch::randn({m.n, l}, gen, torch::kFloat);
  // Power iterations on a symmetric M: each pass sharpens the spectrum (the range of M^(i+1) Omega).
  for (int i = 0; i <= iters; ++i) q = std::get<0>(torch::linalg_qr(csr_matmul(m, q)));
  // B = Q^T M = (M Q)^T for symmetric M; M ~ Q B = (Q Ub) S Vt.
  auto b = csr_matmul(m, q).t();
  auto svd = torch::linalg_svd(b, /*full_matrices=*/false);
  auto u = torch::matmul(q, std::get<0>(svd)).narrow(1, 0, dims);
  auto s = std::get<1>(svd).narrow(0, 0, dims);
  if (singular) {
    singular->clear();
    for (int64_t i = 0; i < dims; ++i) singular->push_back(s[i].item<double>());
  }
  return u * s.sqrt().unsqueeze(0);
}

std::string EmbeddingInitReport::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%lld word vectors from a %lld-nonzero PPMI matrix (columns %lld+, top singular value %.1f) in %.1f s",
                static_cast<long long>(words), static_cast<long long>(nonzeros), static_cast<long long>(first_column),
                top_singular, seconds);
  return buf;
}

EmbeddingInitReport init_ppmi_embeddings(torch::nn::Module& model, const ModelConfig& c, const std::vector<int32_t>& ids,
                                         int32_t separator, int64_t first_column, double std, PpmiOptions o, uint64_t seed) {
  if (!c.is_bert() && !c.is_gpt2()) throw Error("ppmi embedding init supports bert and gpt2, not " + c.model_type);
  auto t0 = std::chrono::steady_clock::now();
  auto words = parameter_ending(model, c.is_bert() ? "embeddings.word_embeddings.weight" : "wte.weight");
  const int64_t V = words.size(0), H = words.size(1), dims = H - first_column;
  if (first_column < 0 || dims < 1)
    throw Error("ppmi embedding init: first column " + std::to_string(first_column) + " leaves no column of " + std::to_string(H));
  auto counts = cooccurrence_counts(ids, V, separator, o.window);
  std::vector<int64_t> seen;  // every stored count is positive: a non-empty row is a seen token
  for (int64_t r = 0; r < V; ++r)
    if (counts.row_ptr[static_cast<size_t>(r) + 1] > counts.row_ptr[static_cast<size_t>(r)]) seen.push_back(r);
  auto m = ppmi(counts, o.context_smoothing);
  counts = CsrMatrix();  // the counts can be large; only the PPMI matrix is needed from here
  if (seen.size() < 2) throw Error("ppmi embedding init: the stream has fewer than two distinct co-occurring tokens");
  std::vector<double> sv;
  // A vocabulary smaller than the free columns (toy models only) fills the first V of them.
  auto e = symmetric_svd_factor(m, std::min<int64_t>(dims, V), 4, 64, seed, &sv);
  auto rows = torch::tensor(seen, torch::kLong);
  auto v = e.index_select(0, rows);
  // Centre, then match HF's N(0, std) per element so the embedding LayerNorm and the other
  // embeddings see the scale they were designed for.
  v = v - v.mean(0, true);
  v = v * (std / v.std().item<double>());
  {
    torch::NoGradGuard g;
    auto block = words.index_select(0, rows);
    block.narrow(1, first_column, v.size(1)).copy_(v);
    words.index_copy_(0, rows, block);
  }
  EmbeddingInitReport r;
  r.words = static_cast<int64_t>(seen.size());
  r.nonzeros = m.nnz();
  r.first_column = first_column;
  r.top_singular = sv.empty() ? 0 : sv[0];
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace lntune
