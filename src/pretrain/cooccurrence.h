// Word-word statistics of a token stream for initialising embeddings before pretraining:
// windowed co-occurrence counts and their positive pointwise mutual information (PPMI), the
// classic distributional word vectors (Levy, Goldberg & Dagan 2015) that a truncated SVD turns
// into dense embeddings (pretrain/embedding_init.h). Torch-free.
#pragma once
#include <cstdint>
#include <vector>

namespace lntune {

// A square sparse matrix in CSR form; the columns of each row ascend.
struct CsrMatrix {
  int64_t n = 0;
  std::vector<int64_t> row_ptr;  // n + 1 offsets into col / val
  std::vector<int32_t> col;
  std::vector<float> val;
  int64_t nnz() const { return static_cast<int64_t>(col.size()); }
  float at(int64_t r, int32_t c) const;  // 0 where absent (binary search; for tests and checks)
};

struct PpmiOptions {
  int window = 4;                   // pairs up to this many tokens apart
  double context_smoothing = 0.75;  // context counts raised to this power (Levy et al.'s cds)
};

// Symmetric co-occurrence counts of `ids` (values in [0, vocab)): every pair of tokens at
// distance d <= window adds 1/d to X[a][b] and to X[b][a]. A pair is never counted across a
// `separator` token (documents are separated by it in the pretraining stream), and the
// separator itself is not counted.
CsrMatrix cooccurrence_counts(const std::vector<int32_t>& ids, int64_t vocab, int32_t separator, int window);

// PPMI of a symmetric co-occurrence matrix (as cooccurrence_counts makes; its column sums are
// its row sums): max(0, log(X_ab * total / (rowsum_a * ctx_b))), where ctx_b is colsum_b^cds
// rescaled to sum to `total`. Zeros are dropped, so the result is sparser.
CsrMatrix ppmi(const CsrMatrix& counts, double context_smoothing);

}  // namespace lntune
