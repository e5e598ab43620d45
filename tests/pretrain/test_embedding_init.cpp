// The "ppmi" embedding init: the sparse product and the randomized SVD against torch's dense
// ops, and on a model: words that share contexts get near vectors, and only what the init
// promises to write changes.
#include <gtest/gtest.h>

#include "models/model.h"
#include "models/presets.h"
#include "pretrain/embedding_init.h"
#include "util/error.h"
#include "util/rng.h"

using namespace lntune;

namespace {

CsrMatrix to_csr(const torch::Tensor& d) {
  CsrMatrix m;
  m.n = d.size(0);
  m.row_ptr.push_back(0);
  auto a = d.accessor<float, 2>();
  for (int64_t r = 0; r < m.n; ++r) {
    for (int64_t c = 0; c < m.n; ++c)
      if (a[r][c] != 0) {
        m.col.push_back(static_cast<int32_t>(c));
        m.val.push_back(a[r][c]);
      }
    m.row_ptr.push_back(m.nnz());
  }
  return m;
}

// A symmetric matrix with 6 dominant directions (eigenvalues +-12 .. +-7, signs mixed as PPMI's
// are) plus small symmetric noise, half of its entries zeroed symmetrically.
torch::Tensor test_matrix(int64_t n) {
  torch::manual_seed(3);
  auto q = std::get<0>(torch::linalg_qr(torch::randn({n, 6})));
  auto lam = torch::tensor({12.f, -11.f, 10.f, 9.f, -8.f, 7.f});
  auto keep = (torch::rand({n, n}) < 0.5).to(torch::kFloat);
  keep = torch::max(keep, keep.t());
  auto noise = torch::randn({n, n}) * 0.01f;
  return (torch::matmul(q * lam, q.t()) + noise + noise.t()) * keep;
}

}  // namespace

TEST(EmbeddingInit, CsrMatmulMatchesDense) {
  auto d = test_matrix(90);
  auto x = torch::randn({90, 7});
  EXPECT_TRUE(torch::allclose(csr_matmul(to_csr(d), x), torch::matmul(d, x), 1e-4, 1e-4));
  EXPECT_THROW(csr_matmul(to_csr(d), torch::randn({89, 7})), c10::Error);
}

TEST(EmbeddingInit, RandomizedSvdMatchesDense) {
  const int64_t n = 200, k = 4;
  auto d = test_matrix(n);
  std::vector<double> sv;
  auto f = symmetric_svd_factor(to_csr(d), k, 4, 16, 1, &sv);
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{n, k}));
  auto ref = torch::linalg_svd(d, false);
  auto u = std::get<0>(ref).narrow(1, 0, k), s = std::get<1>(ref).narrow(0, 0, k);
  for (int64_t i = 0; i < k; ++i) EXPECT_NEAR(sv[static_cast<size_t>(i)], s[i].item<double>(), 1e-3 * s[0].item<double>());
  // F F^T is rotation-free: it must equal U_k S_k U_k^T of the dense SVD.
  auto want = torch::matmul(u * s, u.t());
  EXPECT_LT((torch::matmul(f, f.t()) - want).abs().max().item<double>(), 1e-3 * s[0].item<double>());
  EXPECT_THROW(symmetric_svd_factor(to_csr(d), 0), Error);
}

TEST(EmbeddingInit, WordsSharingContextsGetNearVectors) {
  // Two topics: documents of words 10-19 and documents of words 20-29, [SEP] (id 2) between.
  auto j = model_preset("bert-tiny", 64);
  auto c = ModelConfig::from_json(j, "bert-tiny");
  auto model = build_model(c, Head::MaskedLanguageModel, {});
  init_weights(*model);
  auto words = parameter_ending(*model, "embeddings.word_embeddings.weight");
  auto before = words.detach().clone();
  Rng r(5);
  std::vector<int32_t> ids;
  for (int doc = 0; doc < 400; ++doc) {
    int32_t base = doc % 2 ? 20 : 10;
    for (int t = 0; t < 12; ++t) ids.push_back(base + static_cast<int32_t>(r.below(10)));
    ids.push_back(2);
  }
  const int64_t first = 6;
  auto rep = init_ppmi_embeddings(*model, c, ids, 2, first, 0.02, {}, 0);
  EXPECT_EQ(rep.words, 20);
  auto after = words.detach();
  // Untouched: unseen rows (the specials, 30+) and the reserved columns.
  EXPECT_TRUE(torch::equal(after.narrow(0, 0, 10), before.narrow(0, 0, 10)));
  EXPECT_TRUE(torch::equal(after.narrow(0, 30, 34), before.narrow(0, 30, 34)));
  EXPECT_TRUE(torch::equal(after.narrow(1, 0, first), before.narrow(1, 0, first)));
  // A vocabulary (64) smaller than the free columns fills only the first 64 of them; the rest keep
  // their init (measuring them too made the std check depend on that random init).
  const int64_t written = std::min<int64_t>(c.hidden_size - first, c.vocab_size);
  if (first + written < c.hidden_size)
    EXPECT_TRUE(torch::equal(after.narrow(1, first + written, c.hidden_size - first - written),
                             before.narrow(1, first + written, c.hidden_size - first - written)));
  auto block = after.narrow(0, 10, 20).narrow(1, first, written);
  EXPECT_NEAR(block.std().item<double>(), 0.02, 1e-4);
  auto v = torch::nn::functional::normalize(block, torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto cos = torch::matmul(v, v.t());
  double sum[2] = {0, 0}, n[2] = {0, 0};  // [0] across topics, [1] within
  for (int64_t a = 0; a < 20; ++a)
    for (int64_t b = 0; b < 20; ++b) {
      if (a == b) continue;
      const int same = (a < 10) == (b < 10);
      sum[same] += cos[a][b].item<double>();
      n[same] += 1;
    }
  const double within = sum[1] / n[1], across = sum[0] / n[0];
  EXPECT_GT(within - across, 0.5) << "within " << within << ", across " << across;
  EXPECT_THROW(init_ppmi_embeddings(*model, c, ids, 2, c.hidden_size, 0.02), Error);
  EXPECT_THROW(init_ppmi_embeddings(*model, c, {2, 2, 2}, 2, 0, 0.02), Error);
}
