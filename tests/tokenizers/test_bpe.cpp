// GPT-2 byte-level BPE against ids produced by HF tokenizers (npm `tokenizers` 0.23.2,
// ByteLevel(add_prefix_space=false) + BPE on the real GPT-2 files).
#include <gtest/gtest.h>

#include "test_paths.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/unicode.h"

using namespace lntune;

namespace {
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& p : ByteLevelBpeTokenizer::split_gpt2(unicode::decode_utf8(s))) out.push_back(unicode::encode_utf8(p));
  return out;
}
}  // namespace

TEST(Bpe, Gpt2SplitRegex) {
  EXPECT_EQ(split("Hello world's  \n  x"), (std::vector<std::string>{"Hello", " world", "'s", "  \n ", " x"}));
  EXPECT_EQ(split("I'll 42x !!? end  "), (std::vector<std::string>{"I", "'ll", " 42", "x", " !!?", " end", "  "}));
  EXPECT_EQ(split("'RE're"), (std::vector<std::string>{"'", "RE", "'re"}));  // contractions are case-sensitive
  EXPECT_EQ(split(""), std::vector<std::string>{});
}

TEST(Bpe, MatchesHfOnKnownSentences) {
  auto t = Tokenizer::from_dir(test::gpt2_tokenizer_dir());
  EXPECT_EQ(t->kind(), "bpe");
  // Oracle: Hello Ġworld 's Ġ Ġ Ċ Ġ ĠðŁĻĤ Ġtests
  EXPECT_EQ(t->encode("Hello world's  \n  \U0001F642 tests").ids,
            (std::vector<int64_t>{15496, 995, 338, 220, 220, 198, 220, 32485, 5254}));
  EXPECT_EQ(t->encode("a<|endoftext|>b").ids, (std::vector<int64_t>{64, 50256, 65}));
  EXPECT_EQ(t->pad_id(), 50256);
}

TEST(Bpe, BadFilesAreOneLineErrorsNamingTheFile) {
  std::string dir = ::testing::TempDir() + "/bpe_bad";
  std::system(("mkdir -p " + dir).c_str());
  write_file_atomic(dir + "/vocab.json", "{\"a\": 0, \"b\": 1}");
  write_file_atomic(dir + "/merges.txt", "#version: 0.2\na b\n");
  try {
    Tokenizer::from_dir(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/vocab.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ByteLevelBpeTokenizer::parse_merges_txt("a b c\n", "m.txt"), Error);
  EXPECT_THROW(ByteLevelBpeTokenizer::parse_vocab_json("[1,2]", "v.json"), Error);
  EXPECT_THROW(ByteLevelBpeTokenizer::parse_vocab_json("{\"a\": \"x\"}", "v.json"), Error);
  std::system(("rm -f " + dir + "/merges.txt").c_str());
  try {
    Tokenizer::from_dir(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("merges.txt"), std::string::npos) << e.what();
  }
}

TEST(Bpe, MergesMustBeInTheVocabulary) {
  std::unordered_map<std::string, int64_t> vocab;
  // All 256 byte symbols, but the merge result "ab" is missing.
  for (int b = 0; b < 256; ++b) {
    std::string sym;
    char32_t cp = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE) ? b : 0;
    if (!cp) continue;
    unicode::append_utf8(sym, cp);
    vocab[sym] = b;
  }
  EXPECT_THROW(ByteLevelBpeTokenizer(vocab, {{"a", "b"}}, false, "v", "m"), Error);
}

TEST(Bpe, DecodeGivesBackTheText) {
  // Byte-level BPE is lossless: every byte has a symbol, so decode(tokenize(t)) == t for any text
  // without added tokens, here every line of the hard cases and of E2E's references.
  const auto tok = Tokenizer::from_dir(test::gpt2_tokenizer_dir());
  // The files' text outlives the loops: split_lines gives views into it.
  const std::string hard = read_file(test::source_dir() + "/tests/tokenizers/hard_cases.txt");
  const std::string devset = read_file(test::shared_dir() + "/data/e2e/devset.csv");
  std::vector<std::string> texts;
  for (auto line : split_lines(hard)) texts.emplace_back(line);
  for (auto line : split_lines(devset)) texts.emplace_back(line);
  ASSERT_GT(texts.size(), 4000u);
  for (const auto& t : texts)
    if (t.find("<|endoftext|>") == std::string::npos) ASSERT_EQ(tok->decode(tok->tokenize(t)), t);
  const int64_t eos = *tok->token_to_id("<|endoftext|>");
  EXPECT_EQ(tok->decode({eos}), "");  // added tokens are skipped
  auto ids = tok->tokenize("a<|endoftext|>b");
  EXPECT_EQ(tok->decode(ids), "ab");
  EXPECT_THROW(tok->decode({static_cast<int64_t>(tok->vocab_size()) + 5}), Error);
}
