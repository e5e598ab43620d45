// Causal-LM batches (make_batch on Encoded::target_start rows) and greedy decoding, against torch
// on the seeded GPT-2 fixture: the loss over logits computed only at lm_positions equals torch's
// cross entropy over every position with the prompt and padding ignored; batched, right-padded
// decoding equals decoding each prompt alone by a full forward and argmax per step.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "data/batch.h"
#include "io/checkpoint.h"
#include "models/gpt2.h"
#include "models/model.h"
#include "test_paths.h"
#include "train/generate.h"
#include "util/file.h"

using namespace lntune;

namespace {

std::shared_ptr<TaskModelImpl> seeded_gpt2() {
  torch::manual_seed(7);
  auto m = build_model(ModelConfig::from_file(test::fixtures() + "/gpt2_lm/config.json"), Head::LanguageModel);
  init_weights(*m, 0.3);  // larger than HF's 0.02, so that greedy choices are not all one token
  m->eval();
  return m;
}

Encoded lm_row(std::vector<int64_t> ids, int64_t target_start) {
  Encoded e;
  e.type_ids.assign(ids.size(), 0);
  e.ids = std::move(ids);
  e.target_start = target_start;
  return e;
}

// Greedy decoding of one prompt the plain way: the whole sequence forward, the last position's argmax.
std::vector<int64_t> greedy_alone(TaskModelImpl& m, std::vector<int64_t> seq, int64_t max_new, int64_t eos) {
  torch::NoGradGuard g;
  std::vector<int64_t> out;
  for (int64_t s = 0; s < max_new; ++s) {
    auto ids = torch::tensor(seq, torch::kLong).unsqueeze(0);
    const int64_t next = m.forward(Batch{ids, {}, {}}).logits[0][-1].argmax().item<int64_t>();
    if (next == eos) break;
    seq.push_back(next);
    out.push_back(next);
  }
  return out;
}

}  // namespace

TEST(LmBatch, LabelsAreTheTargetTokensAndPositionsTheTokensBefore) {
  const std::vector<Encoded> data = {lm_row({10, 11, 12, 13}, 2), lm_row({20, 21, 22}, 1)};
  auto b = make_batch(data, {0, 1}, /*pad_id=*/0, /*regression=*/false);
  ASSERT_EQ(b.inputs.input_ids.sizes(), (std::vector<int64_t>{2, 4}));
  // Row 0 predicts 12 and 13 from positions 1 and 2; row 1 predicts 21 and 22 from 0 and 1 (T = 4).
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({12, 13, 21, 22}, torch::kLong)));
  EXPECT_TRUE(torch::equal(b.inputs.lm_positions, torch::tensor({1, 2, 4, 5}, torch::kLong)));
  EXPECT_TRUE(torch::equal(b.inputs.attention_mask, torch::tensor({{1, 1, 1, 1}, {1, 1, 1, 0}}, torch::kLong)));
  // Classification rows keep their labels and no positions.
  Encoded cls;
  cls.ids = {1, 2};
  cls.type_ids = {0, 0};
  cls.label = 1;
  auto c = make_batch({cls}, {0}, 0, false);
  EXPECT_FALSE(c.inputs.lm_positions.defined());
  EXPECT_TRUE(torch::equal(c.labels, torch::tensor({1}, torch::kLong)));
}

TEST(LmBatch, LossAtLmPositionsIsTorchsCrossEntropyOverEveryPosition) {
  auto m = seeded_gpt2();
  const std::vector<Encoded> data = {lm_row({5, 6, 7, 8, 9, 10, 11}, 3), lm_row({40, 41, 42, 43}, 2), lm_row({90, 91, 92}, 1)};
  auto b = make_batch(data, {0, 1, 2}, /*pad_id=*/127, false);
  torch::NoGradGuard g;
  auto ours = torch::cross_entropy_loss(m->forward(b.inputs).logits, b.labels);
  // Reference: logits everywhere, the label of position t the token t + 1 where that is a target,
  // -100 (ignored) elsewhere.
  Batch all = b.inputs;
  all.lm_positions = torch::Tensor();
  auto logits = m->forward(all).logits;  // [B, T, V]
  const int64_t T = logits.size(1);
  auto target = torch::full({3, T}, -100, torch::kLong);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t t = data[i].target_start; t < static_cast<int64_t>(data[i].ids.size()); ++t) target[i][t - 1] = data[i].ids[t];
  auto ref = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(2)}), target.reshape({-1}),
                                                  torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  EXPECT_EQ(b.labels.size(0), 4 + 2 + 2);
  EXPECT_NEAR(ours.item<double>(), ref.item<double>(), 1e-6);
}

TEST(Generate, BatchedGreedyEqualsEachPromptAlone) {
  auto m = seeded_gpt2();
  const std::vector<std::vector<int64_t>> prompts = {{3, 4, 5, 6, 7, 8}, {50}, {60, 61, 62}, {9, 9, 9, 9}, {100, 101}};
  // The eos: a token some prompt writes after its first step and another never writes, so that
  // rows stop at different steps and one runs to max_new_tokens.
  std::vector<std::vector<int64_t>> free_runs;
  for (const auto& p : prompts) free_runs.push_back(greedy_alone(*m, p, 12, -1));
  int64_t eos = -1;
  for (const auto& run : free_runs)
    for (int64_t x : run) {
      bool later = false, never = false;
      for (const auto& r : free_runs) {
        const auto at = std::find(r.begin(), r.end(), x);
        later = later || (at != r.end() && at != r.begin());
        never = never || at == r.end();
      }
      if (eos < 0 && later && never) eos = x;
    }
  ASSERT_GE(eos, 0) << "the seeded model writes no usable eos";
  std::vector<Encoded> rows;
  for (const auto& p : prompts) rows.push_back(lm_row(p, static_cast<int64_t>(p.size())));
  GenerateOptions o;
  o.max_new_tokens = 12;
  o.eos = eos;
  o.pad = 127;
  o.batch_size = 3;  // two batches, prompts of different lengths in each
  const auto got = greedy_generate(*m, rows, o, Placement{});
  ASSERT_EQ(got.size(), prompts.size());
  size_t stopped_early = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto want = greedy_alone(*m, prompts[i], o.max_new_tokens, eos);
    EXPECT_EQ(got[i], want) << "prompt " << i;
    stopped_early += want.size() < static_cast<size_t>(o.max_new_tokens);
  }
  EXPECT_GE(stopped_early, 1u);  // the eos path was taken
  EXPECT_LT(stopped_early, prompts.size());
}

TEST(Generate, StopsAtTheLastPosition) {
  auto m = seeded_gpt2();  // n_positions 64
  std::vector<int64_t> p(60, 7);
  GenerateOptions o;
  o.max_new_tokens = 50;
  o.eos = -1;
  const auto got = greedy_generate(*m, {lm_row(p, 60)}, o, Placement{});
  EXPECT_EQ(got[0].size(), 4u);  // 60 + 4 = 64 positions
  EXPECT_EQ(got[0], greedy_alone(*m, p, 4, -1));
}

TEST(Generate, StopsAtTheLastPositionAPrefixLeaves) {
  // Prefix-tuning shifts the tokens' positions by its length (as HF's past key/values do): 10
  // prefix positions leave 54 of 64, so a 50-token prompt gets 4 tokens, not an error.
  auto m = seeded_gpt2();
  std::dynamic_pointer_cast<GPT2TaskModelImpl>(m)->transformer->position_offset = 10;
  std::vector<int64_t> p(50, 7);
  GenerateOptions o;
  o.max_new_tokens = 50;
  o.eos = -1;
  const auto got = greedy_generate(*m, {lm_row(p, 50)}, o, Placement{});
  EXPECT_EQ(got[0].size(), 4u);
  EXPECT_EQ(got[0], greedy_alone(*m, p, 4, -1));
}

TEST(Generate, GreedyIsHfTransformersGenerate) {
  // HF's model.generate (greedy, no eos) on HF's own GPT-2 fixture, each prompt alone; here all
  // five in one right-padded batch. Made on the GPU machine by scripts/make_hf_generate_fixture.py.
  const std::string path = test::fixtures() + "/hf/gpt2_generate.json";
  if (!file_exists(path))
    GTEST_SKIP() << path << " is not made yet: HF transformers runs on the GPU machine (scripts/gpu_checks.sh generate)";
  const auto f = nlohmann::json::parse(read_file(path));
  auto lm = load_model(test::fixtures() + "/hf/gpt2_lm");
  std::vector<Encoded> rows;
  for (const auto& r : f["rows"]) {
    auto p = r["prompt"].get<std::vector<int64_t>>();
    rows.push_back(lm_row(p, static_cast<int64_t>(p.size())));
  }
  GenerateOptions o;
  o.max_new_tokens = f["max_new_tokens"].get<int64_t>();
  o.eos = -1;
  o.batch_size = static_cast<int64_t>(rows.size());
  const auto got = greedy_generate(*lm.model, rows, o, Placement{});
  size_t checked = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    // Our logits are HF's to 1e-5 (HfParity.Gpt2LMHeadModel): a wider winning margin fixes the argmax.
    if (f["rows"][i]["min_logit_gap"].get<double>() < 1e-4) continue;
    EXPECT_EQ(got[i], f["rows"][i]["generated"].get<std::vector<int64_t>>()) << "prompt " << i;
    ++checked;
  }
  EXPECT_GE(checked, 3u) << "too many near-ties in the fixture to compare";
}
