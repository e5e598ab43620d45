// build_run_model's task.max_length: cut to the positions the model has for a row's tokens (the
// fixtures have 64; a soft prompt or a shifted prefix takes some before the tokens), so rows
// longer than that are truncated and run, where they used to stop a run at its first long batch
// ("sequence length ... exceeds max_position_embeddings"). A method that leaves almost no room is
// an error naming the config.
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/run_config.h"
#include "test_paths.h"
#include "train/run_model.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {

// A csv task whose every row is 120 words long: more tokens than any fixture has positions.
std::string data_dir() {
  static const std::string d = [] {
    std::string dir = ::testing::TempDir() + "/run_model_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
    std::string long_text;
    for (int i = 0; i < 120; ++i) long_text += i % 2 ? " good" : " film";
    std::string rows = "text,label\n";
    for (int i = 0; i < 4; ++i) rows += long_text + "," + std::to_string(i % 2) + "\n";
    write_file_atomic(dir + "/train.csv", rows);
    write_file_atomic(dir + "/dev.csv", rows);
    return dir;
  }();
  return d;
}

nlohmann::json config(const std::string& model, const nlohmann::json& method, int64_t max_length) {
  const std::string d = data_dir();
  nlohmann::json user = {
      {"model", {{"path", test::fixtures() + "/" + model}}},
      {"task", {{"name", "csv"}, {"train_file", d + "/train.csv"}, {"dev_file", d + "/dev.csv"}, {"num_labels", 2},
                {"max_length", max_length}, {"token_cache", false}}},
      {"method", method},
      // gpt2_lm has no tokenizer files; build_run_model only loads one (no row reaches GPT-2 here).
      {"tokenizer", test::fixtures() + "/bert_seq_cls"},
      {"output_dir", d + "/out"}};
  return resolve_run_config(user, {}, "test.json");
}

int64_t max_length_used(const std::string& model, const nlohmann::json& method, int64_t max_length) {
  return build_run_model(config(model, method, max_length), "test.json").task_cfg["max_length"].get<int64_t>();
}

}  // namespace

TEST(RunModel, MaxLengthIsCutToThePositionsLeftForTokens) {
  for (const std::string model : {"bert_seq_cls", "gpt2_lm"}) {
    SCOPED_TRACE(model);
    const nlohmann::json ln = {{"name", "ln"}};
    EXPECT_EQ(max_length_used(model, ln, 32), 32);  // room enough: as asked
    EXPECT_EQ(max_length_used(model, ln, 64), 64);
    EXPECT_EQ(max_length_used(model, ln, 128), 64);  // the fixtures' 64 positions
    EXPECT_EQ(max_length_used(model, {{"name", "prompt"}, {"length", 20}}, 128), 44);
    EXPECT_EQ(max_length_used(model, {{"name", "prompt"}, {"length", 20}}, 40), 40);
    EXPECT_EQ(max_length_used(model, {{"name", "prefix"}, {"length", 10}, {"positions", "shifted"}}, 128), 54);
    // From position 0, the tokens keep every position: the prefix is only keys and values.
    EXPECT_EQ(max_length_used(model, {{"name", "prefix"}, {"length", 10}}, 128), 64);
  }
}

TEST(RunModel, LongRowsAreTruncatedToTheRoomAndRun) {
  const auto cfg = config("bert_seq_cls", {{"name", "prompt"}, {"length", 20}}, 128);
  RunModel rm = build_run_model(cfg, "test.json");
  TaskData d = load_task_data(rm.task_cfg, rm.task, *rm.tok, rm.tok_dir, "test.json");
  ASSERT_EQ(d.train.size(), 4u);
  for (const auto& e : d.train) EXPECT_EQ(e.ids.size(), 44u);  // 120 words cut to 44 tokens
  torch::NoGradGuard g;
  auto b = padded_batch(d.train, {0, 1, 2, 3}, rm.tok->pad_id(), false, Placement());
  EXPECT_EQ(rm.model->forward(b.inputs).logits.sizes(), (std::vector<int64_t>{4, 2}));
}

TEST(RunModel, AMethodThatLeavesNoRoomIsAnError) {
  try {
    build_run_model(config("bert_seq_cls", {{"name", "prompt"}, {"length", 60}}, 128), "test.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "test.json: method: leaves 4 of the model's 64 positions for tokens (a prompt or shifted prefix takes the rest)");
  }
}
