// E2E NLG reader on the real files in ../shared, its split (the same as the pretraining corpus's,
// scripts/corpus_sources.py, whose counts are written here), the examples it makes, bad files.
#include <gtest/gtest.h>

#include <cstdlib>

#include "data/e2e.h"
#include "test_paths.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {
std::string e2e(const std::string& f) { return test::shared_dir() + "/data/e2e/" + f; }
size_t refs_in(const std::vector<E2EItem>& items) {
  size_t n = 0;
  for (const auto& i : items) n += i.refs.size();
  return n;
}
std::string write_tmp(const std::string& name, const std::string& text) {
  const std::string p = ::testing::TempDir() + "/e2e_" + name;
  write_file_atomic(p, text);
  return p;
}
}  // namespace

TEST(E2E, RealDevsetGathersEveryReferenceOfAnMr) {
  const auto items = read_e2e(e2e("devset.csv"));
  EXPECT_EQ(items.size(), 547u);  // the official dev set: 547 MRs, 4672 references
  EXPECT_EQ(refs_in(items), 4672u);
  EXPECT_EQ(items[0].mr, "name[Alimentum], area[city centre], familyFriendly[no]");
  EXPECT_EQ(items[0].refs[0], "There is a place in the city centre, Alimentum, that is not family-friendly.");
  // The fourth row's reference is unquoted in the file.
  EXPECT_EQ(items[0].refs[3], "Alimentum is not a family-friendly arena and is located in the city centre.");
}

TEST(E2E, RealTestsetHasMrsOnly) {
  const auto items = read_e2e(e2e("testset.csv"));  // header "MR"
  ASSERT_EQ(items.size(), 630u);
  EXPECT_EQ(refs_in(items), 0u);
  EXPECT_EQ(items.back().mr, "name[Zizzi], eatType[pub], near[The Sorrento]");
}

TEST(E2E, SplitIsTheCorpusScriptsSplit) {
  // scripts/corpus_sources.py's e2e_split on the same file: 3594 training references, 1078
  // evaluation ones; its MR order puts these two either side of the cut.
  const auto s = split_e2e(read_e2e(e2e("devset.csv")));
  EXPECT_EQ(s.train.size(), 437u);
  EXPECT_EQ(s.eval.size(), 110u);
  EXPECT_EQ(refs_in(s.train), 3594u);
  EXPECT_EQ(refs_in(s.eval), 1078u);
  EXPECT_EQ(s.train.back().mr, "name[The Punter], customer rating[low], area[city centre], familyFriendly[yes]");
  EXPECT_EQ(s.eval.front().mr, "name[The Punter], customer rating[low], area[riverside], familyFriendly[no]");
  EXPECT_EQ(s.eval.front().refs.size(), 11u);
}

TEST(E2E, ExamplesArePromptTargetEos) {
  const auto tok = Tokenizer::from_dir(test::gpt2_tokenizer_dir());
  const int64_t eos = *tok->token_to_id("<|endoftext|>");
  std::vector<E2EItem> items = {{"name[Zizzi], eatType[pub]", {"Zizzi is a pub.", "There is a pub called Zizzi."}}};
  const auto prompt = tok->tokenize("name[Zizzi], eatType[pub] ||");
  const auto train = encode_e2e_train(*tok, items, 128, eos);
  ASSERT_EQ(train.size(), 2u);
  auto want = prompt;
  for (auto id : tok->tokenize(" Zizzi is a pub.")) want.push_back(id);
  want.push_back(eos);
  EXPECT_EQ(train[0].ids, want);
  EXPECT_EQ(train[0].target_start, static_cast<int64_t>(prompt.size()));
  EXPECT_EQ(train[0].type_ids, std::vector<int64_t>(want.size(), 0));
  EXPECT_EQ(tok->decode({want.begin() + train[0].target_start, want.end()}), " Zizzi is a pub.");  // eos skipped

  // Cut to max_length; the prompt keeps room for one target token.
  const auto cut = encode_e2e_train(*tok, items, 8, eos);
  EXPECT_EQ(cut[0].ids.size(), 8u);
  EXPECT_EQ(cut[0].target_start, std::min<int64_t>(7, static_cast<int64_t>(prompt.size())));

  const auto prompts = encode_e2e_prompts(*tok, items, 128);
  ASSERT_EQ(prompts.size(), 1u);
  EXPECT_EQ(prompts[0].ids, prompt);
  EXPECT_EQ(prompts[0].target_start, static_cast<int64_t>(prompt.size()));
  EXPECT_EQ(encode_e2e_prompts(*tok, items, 4)[0].ids.size(), 3u);
}

TEST(E2E, BadFilesNameTheFileAndLine) {
  auto message = [](const std::string& path) {
    try {
      read_e2e(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto no_mr = write_tmp("no_mr.csv", "text,ref\na,b\n");
  EXPECT_NE(message(no_mr).find(no_mr + ": header: needs a column 'mr'"), std::string::npos) << message(no_mr);
  const auto short_row = write_tmp("short.csv", "mr,ref\n\"name[A]\",A.\nname[B]\n");
  EXPECT_NE(message(short_row).find(short_row + ":3: 1 fields, header has 2"), std::string::npos) << message(short_row);
  const auto empty_ref = write_tmp("empty_ref.csv", "mr,ref\nname[A],\n");
  EXPECT_NE(message(empty_ref).find(empty_ref + ":2: ref: empty"), std::string::npos) << message(empty_ref);
  const auto header_only = write_tmp("header_only.csv", "mr,ref\n");
  EXPECT_NE(message(header_only).find("holds no examples"), std::string::npos) << message(header_only);
  EXPECT_NE(message(e2e("missing.csv")).find("missing.csv"), std::string::npos);
}
