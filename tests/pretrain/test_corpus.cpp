// Pretraining corpus: document reading, tokenised stream, held-out split, packing into blocks
// (never across documents without a separator), and the token cache.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "data/glue.h"
#include "pretrain/corpus.h"
#include "test_paths.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {
std::string temp_file(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / ("lntune_corpus_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string p = (dir / name).string();
  std::ofstream(p) << text;
  return p;
}

// Real documents: RTE training premises.
std::vector<std::string> rte_docs(size_t n) {
  auto ex = read_glue(glue_task("rte"), test::shared_dir() + "/data/glue/RTE", "train");
  std::vector<std::string> docs;
  for (size_t i = 0; i < n && i < ex.size(); ++i) docs.push_back(ex[i].text);
  return docs;
}
}  // namespace

TEST(Corpus, ReadsLinesAndParagraphs) {
  auto p = temp_file("c.txt", "first doc\n\n  \nsecond doc\r\nthird\nline\n");
  EXPECT_EQ(read_documents(p, "lines"), (std::vector<std::string>{"first doc", "second doc", "third", "line"}));
  EXPECT_EQ(read_documents(p, "paragraphs"), (std::vector<std::string>{"first doc", "second doc third line"}));
  EXPECT_THROW(read_documents(p, "csv"), Error);
  EXPECT_THROW(read_documents(temp_file("empty.txt", "\n\n"), "lines"), Error);
  EXPECT_THROW(read_documents("/nonexistent/corpus.txt", "lines"), Error);
}

TEST(Corpus, StreamIsEveryDocumentThenItsSeparator) {
  auto tok = Tokenizer::from_dir(test::bert_vocab_dir());
  auto docs = rte_docs(40);
  auto split = tokenize_corpus(*tok, docs, 102, 0, 3);
  std::vector<int32_t> expect;
  for (const auto& d : docs) {
    for (int64_t id : tok->tokenize(d)) expect.push_back(static_cast<int32_t>(id));
    expect.push_back(102);
  }
  EXPECT_EQ(split.train.ids, expect);  // three threads, document order kept
  EXPECT_EQ(split.train.documents, 40);
  EXPECT_TRUE(split.heldout.ids.empty());
}

TEST(Corpus, HeldOutIsEveryKthDocument) {
  auto tok = Tokenizer::from_dir(test::bert_vocab_dir());
  auto docs = rte_docs(50);
  auto split = tokenize_corpus(*tok, docs, 102, 10, 2);
  EXPECT_EQ(split.train.documents, 45);
  EXPECT_EQ(split.heldout.documents, 5);
  std::vector<int32_t> held;
  for (size_t i = 9; i < docs.size(); i += 10) {
    for (int64_t id : tok->tokenize(docs[i])) held.push_back(static_cast<int32_t>(id));
    held.push_back(102);
  }
  EXPECT_EQ(split.heldout.ids, held);
}

TEST(Corpus, PackingNeverCrossesADocumentWithoutASeparator) {
  auto tok = Tokenizer::from_dir(test::gpt2_tokenizer_dir());
  auto docs = rte_docs(200);
  const int32_t eot = 50256;
  auto split = tokenize_corpus(*tok, docs, eot, 0, 2);
  // The document of every stream position, from the documents' own token counts.
  std::vector<int> doc_of;
  for (size_t d = 0; d < docs.size(); ++d) {
    size_t n = tok->tokenize(docs[d]).size() + 1;  // + its separator
    doc_of.insert(doc_of.end(), n, static_cast<int>(d));
  }
  ASSERT_EQ(doc_of.size(), split.train.ids.size());
  for (int64_t len : {7, 64, 256}) {
    auto starts = block_starts(split.train, len);
    ASSERT_EQ(static_cast<int64_t>(starts.size()), static_cast<int64_t>(split.train.ids.size()) / len);
    int64_t crossings = 0;
    for (int64_t s : starts) {
      auto block = frame_block(split.train, s, len, -1, -1);
      ASSERT_EQ(static_cast<int64_t>(block.size()), len);
      for (int64_t t = 1; t < len; ++t) {
        size_t here = static_cast<size_t>(s + t);
        if (doc_of[here] != doc_of[here - 1]) {
          ++crossings;
          EXPECT_EQ(block[static_cast<size_t>(t - 1)], eot) << "documents " << doc_of[here - 1] << " and "
                                                              << doc_of[here] << " meet without a separator";
        }
      }
    }
    EXPECT_GT(crossings, 0) << "blocks of " << len << " should span documents";
  }
}

TEST(Corpus, BertBlocksAreFramedWithClsAndSep) {
  TokenStream s;
  s.ids = {5, 6, 7, 8, 9, 10, 11};
  auto starts = block_starts(s, 3);
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 3}));  // the tail (11) is dropped
  EXPECT_EQ(frame_block(s, 3, 3, 101, 102), (std::vector<int64_t>{101, 8, 9, 10, 102}));
}

TEST(Corpus, TokenCacheRoundTripsAndChecksItsKey) {
  CorpusSplit a;
  a.train.ids = {1, 2, 3, 102};
  a.train.documents = 1;
  a.heldout.ids = {4, 102};
  a.heldout.documents = 1;
  auto p = temp_file("tokens.bin", "");
  write_token_cache(p, "key-1", a);
  CorpusSplit b;
  ASSERT_TRUE(read_token_cache(p, "key-1", b));
  EXPECT_EQ(b.train.ids, a.train.ids);
  EXPECT_EQ(b.heldout.ids, a.heldout.ids);
  EXPECT_EQ(b.heldout.documents, 1);
  EXPECT_FALSE(read_token_cache(p, "key-2", b));  // another corpus or tokenizer: re-tokenise
  std::string bytes = read_file(p);
  write_file_atomic(p, bytes.substr(0, bytes.size() - 3));
  EXPECT_FALSE(read_token_cache(p, "key-1", b));  // truncated: not used
}
