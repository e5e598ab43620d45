// "ppmi" word-embedding init for pretraining from scratch: the word embeddings start as
// distributional vectors of the pretraining corpus itself -- a truncated SVD of its windowed
// PPMI matrix (pretrain/cooccurrence.h) -- instead of N(0, 0.02). An MLM that starts from random
// embeddings spends its CPU hour learning that "film" is like "movie" and "awful" like
// "dreadful" one rare update at a time (docs/results.md: after 2,600 steps the nearest
// neighbours of most sentiment words were still noise); the SVD gets those neighbourhoods from
// the same text in about a minute, and the MLM then trains everything as usual.
// Only the rows of words seen in the stream change, only columns [first_column, hidden) (the
// local attention init keeps [0, first_column) for position), centred and scaled to the
// model's N(0, std) statistics, so the folder is an ordinary BERT / GPT-2.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/model_config.h"
#include "pretrain/cooccurrence.h"

namespace lntune {

// Y = M X for a CSR matrix M [n, n] and a dense float X [n, k].
torch::Tensor csr_matmul(const CsrMatrix& m, const torch::Tensor& x);

// Rank-`dims` factor U S^1/2 of a symmetric sparse matrix by randomized SVD (Halko, Martinsson &
// Tropp 2011): `oversample` extra directions, `iters` power iterations, seeded Gaussian start.
// Returns [n, dims] float; `singular` (if given) receives the top `dims` singular values.
torch::Tensor symmetric_svd_factor(const CsrMatrix& m, int64_t dims, int iters = 4, int64_t oversample = 64,
                                   uint64_t seed = 0, std::vector<double>* singular = nullptr);

struct EmbeddingInitReport {
  int64_t words = 0;         // rows written (tokens seen in the stream)
  int64_t nonzeros = 0;      // of the PPMI matrix
  int64_t first_column = 0;  // columns [first_column, hidden) written
  double top_singular = 0;
  double seconds = 0;
  std::string describe() const;
};

// Writes the PPMI-SVD vectors of `ids` (the training stream; `separator` between documents)
// into the model's word embeddings (BERT word_embeddings / GPT-2 wte, tied to the LM head).
EmbeddingInitReport init_ppmi_embeddings(torch::nn::Module& model, const ModelConfig& config,
                                         const std::vector<int32_t>& ids, int32_t separator,
                                         int64_t first_column = 0, double std = 0.02, PpmiOptions options = {},
                                         uint64_t seed = 0);

}  // namespace lntune
