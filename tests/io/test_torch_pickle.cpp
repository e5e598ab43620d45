// The unpickler on the data.pkl of a real torch.save (Debian's PyTorch 1.13, HF-style OrderedDict
// with _metadata) written by scripts/make_seeded_fixtures.py, and on hostile bytes.
#include <gtest/gtest.h>

#include "io/torch_pickle.h"
#include "test_paths.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {
std::vector<PickledTensor> parse_pickle(const std::string& s) {
  return parse_state_dict_pickle(reinterpret_cast<const unsigned char*>(s.data()), s.size(), "x.bin");
}
}  // namespace

TEST(TorchPickle, ReadsHfStyleStateDict) {
  auto entries = parse_pickle(read_file(test::fixtures() + "/bert_seq_cls_data.pkl"));
  // 41 model tensors + the legacy position_ids buffer the script adds.
  ASSERT_EQ(entries.size(), 42u);
  const PickledTensor* word = nullptr;
  for (const auto& e : entries)
    if (e.name == "bert.embeddings.word_embeddings.weight") word = &e;
  ASSERT_NE(word, nullptr);
  EXPECT_EQ(word->shape, (std::vector<int64_t>{128, 32}));
  EXPECT_EQ(word->stride, (std::vector<int64_t>{32, 1}));
  EXPECT_EQ(word->storage_type, "FloatStorage");
  EXPECT_EQ(word->storage_numel, 128 * 32);
  EXPECT_EQ(entries.back().name, "bert.embeddings.position_ids");
  EXPECT_EQ(entries.back().storage_type, "LongStorage");
}

TEST(TorchPickle, RejectsTruncatedAndForeignPickles) {
  std::string pkl = read_file(test::fixtures() + "/bert_seq_cls_data.pkl");
  for (size_t cut : {size_t{0}, size_t{1}, pkl.size() / 2, pkl.size() - 1}) EXPECT_THROW(parse_pickle(pkl.substr(0, cut)), Error);
  // os.system via GLOBAL + REDUCE must be refused, not executed.
  const char raw[] = "\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00id" "\x85R.";
  std::string evil(raw, sizeof(raw) - 1);  // holds NUL bytes
  try {
    parse_pickle(evil);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported pickle global 'os.system'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_pickle("\x80\x02K\x01."), Error);  // top level not a dict
}
