// WordPiece against ids produced by HF tokenizers (npm `tokenizers` 0.23.2, BertNormalizer +
// BertPreTokenizer + WordPiece on the real bert-base-uncased vocab). The full-corpus oracle
// comparison runs as the tokenizer_parity_* ctest entries.
#include <gtest/gtest.h>

#include "test_paths.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {
std::unique_ptr<Tokenizer> bert() { return Tokenizer::from_dir(test::bert_vocab_dir()); }
std::vector<int64_t> ids(const Tokenizer& t, const std::string& s) { return t.encode(s).ids; }
}  // namespace

TEST(WordPiece, MatchesHfOnKnownSentences) {
  auto t = bert();
  // Oracle: [CLS] hello , world ! [UNK] [UNK] [UNK] una ##ffa ##ble [SEP]
  EXPECT_EQ(ids(*t, "H\u00E9llo, w\u00F6rld! \u4F60\u597D \U0001F642 unaffable"),
            (std::vector<int64_t>{101, 7592, 1010, 2088, 999, 100, 100, 100, 14477, 20961, 3468, 102}));
  EXPECT_EQ(ids(*t, ""), (std::vector<int64_t>{101, 102}));
}

TEST(WordPiece, PreTokenizerSplitsLikeBert) {
  auto wp = WordPieceTokenizer::from_vocab_txt(test::bert_vocab_dir() + "/vocab.txt");
  EXPECT_EQ(wp->pre_tokenize("  Hello,WORLD!!\tcaf\u00E9\u00A0x\x01y"),
            (std::vector<std::string>{"hello", ",", "world", "!", "!", "cafe", "xy"}));
  EXPECT_EQ(wp->pre_tokenize("\u4F60\u597Dab"), (std::vector<std::string>{"\u4F60", "\u597D", "ab"}));
}

TEST(WordPiece, LongWordIsUnknownAndSpecialTokensMatchVerbatim) {
  auto t = bert();
  EXPECT_EQ(ids(*t, std::string(101, 'a')), (std::vector<int64_t>{101, 100, 102}));
  EXPECT_EQ(ids(*t, "a [SEP] b"), (std::vector<int64_t>{101, 1037, 102, 1038, 102}));
}

TEST(WordPiece, PairTruncationLongestFirstAndPadding) {
  auto t = bert();
  EncodeOptions o;
  o.max_length = 10;
  // Oracle (setTruncation(10, LongestFirst)): 7 + 3 words, budget 7 -> 4 + 3.
  auto e = t->encode("one two three four five six seven", std::string_view("eight nine ten"), o);
  EXPECT_EQ(e.ids, (std::vector<int64_t>{101, 2028, 2048, 2093, 2176, 102, 2809, 3157, 2702, 102}));
  EXPECT_EQ(e.type_ids, (std::vector<int64_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1}));
  // The second sequence longer: "short" keeps its 1 token, the pair gets the rest.
  e = t->encode("short", std::string_view("a much longer second sentence here"), o);
  EXPECT_EQ(e.ids, (std::vector<int64_t>{101, 2460, 102, 1037, 2172, 2936, 2117, 6251, 2182, 102}));
  o.max_length = 8;
  o.pad_to_max_length = true;
  e = t->encode("good", std::nullopt, o);
  EXPECT_EQ(e.ids, (std::vector<int64_t>{101, 2204, 102, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 0, 0, 0, 0, 0}));
  o.max_length = 1;
  EXPECT_THROW(t->encode("x", std::string_view("y"), o), Error);  // cannot hold 3 specials
}

TEST(WordPiece, TruncationRule) {
  std::vector<int64_t> a(10, 1), b(12, 2);
  truncate_longest_first(a, &b, 7);  // b is longer: a keeps min(10, 3) = 3, b keeps 4
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(b.size(), 4u);
  std::vector<int64_t> c(5, 1), d(1, 2);
  truncate_longest_first(c, &d, 4);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(d.size(), 1u);
  // Tie (an MRPC dev pair: 23 + 23 tokens, budget 45): HF keeps 22 + 23.
  std::vector<int64_t> e(23, 1), f(23, 2);
  truncate_longest_first(e, &f, 45);
  EXPECT_EQ(e.size(), 22u);
  EXPECT_EQ(f.size(), 23u);
  std::vector<int64_t> single(9, 1);
  truncate_longest_first(single, nullptr, 4);
  EXPECT_EQ(single.size(), 4u);
}

TEST(WordPiece, BadVocabularyIsAOneLineErrorNamingTheFile) {
  std::string dir = ::testing::TempDir() + "/wp_bad";
  std::system(("mkdir -p " + dir).c_str());
  write_file_atomic(dir + "/vocab.txt", "hello\nworld\n");
  try {
    Tokenizer::from_dir(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(dir + "/vocab.txt"), std::string::npos) << m;
    EXPECT_NE(m.find("[UNK]"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
  EXPECT_THROW(Tokenizer::from_dir(dir + "/nope"), Error);
}

TEST(WordPiece, DecodeJoinsPiecesAndSkipsSpecials) {
  const auto tok = Tokenizer::from_dir(test::bert_vocab_dir());
  auto e = tok->encode("The unaffable Zizzi, near riverside.");
  // [CLS] the una ##ffa ##ble ... [SEP]: specials skipped, "##" pieces joined, text lower-cased.
  EXPECT_EQ(tok->decode(e.ids), "the unaffable zizzi , near riverside .");
  EXPECT_THROW(tok->decode({-1}), Error);
}
