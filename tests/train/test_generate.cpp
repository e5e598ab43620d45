// Causal-LM batches (make_batch on Encoded::target_start rows) and greedy decoding, against torch
// on the seeded GPT-2 fixture: the loss over logits computed only at lm_positions equals torch's
// cross entropy over every position with the prompt and padding ignored; batched, right-padded
// decoding equals decoding each prompt alone by a full forward and argmax per step.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "data/batch.h"
#include "io/checkpoint.h"
#include "models/gpt2.h"
#include "models/model.h"
#include "peft/method.h"
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

// The next-token log-probs of one sequence the plain way: the whole sequence forward, alone.
torch::Tensor log_probs_alone(TaskModelImpl& m, const std::vector<int64_t>& seq) {
  torch::NoGradGuard g;
  auto ids = torch::tensor(seq, torch::kLong).unsqueeze(0);
  return torch::log_softmax(m.forward(Batch{ids, {}, {}}).logits[0][-1].to(torch::kFloat), -1);
}

// Greedy decoding of one prompt the plain way: the whole sequence forward, the last position's
// argmax, never a token that would repeat an n-gram (HF's rule: the tokens that followed each
// earlier occurrence of the last n - 1).
std::vector<int64_t> greedy_alone(TaskModelImpl& m, std::vector<int64_t> seq, int64_t max_new, int64_t eos, int64_t no_repeat = 0) {
  torch::NoGradGuard g;
  std::vector<int64_t> out;
  for (int64_t s = 0; s < max_new; ++s) {
    auto ids = torch::tensor(seq, torch::kLong).unsqueeze(0);
    auto logits = m.forward(Batch{ids, {}, {}}).logits[0][-1].clone();
    const auto n = static_cast<size_t>(no_repeat);
    if (n > 0 && seq.size() >= n - 1)
      for (size_t i = 0; i + n <= seq.size(); ++i)
        if (std::equal(seq.begin() + static_cast<std::ptrdiff_t>(i), seq.begin() + static_cast<std::ptrdiff_t>(i + n - 1),
                       seq.end() - static_cast<std::ptrdiff_t>(n - 1)))
          logits[seq[i + n - 1]] = -std::numeric_limits<float>::infinity();
    const int64_t next = logits.argmax().item<int64_t>();
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

TEST(Generate, GreedyNeverRepeatsAnNgram) {
  // The seeded model falls into loops; with no_repeat_ngram_size 2 (batched, right-padded) it
  // writes what decoding each prompt alone with the rule applied by hand writes, and never a
  // bigram that is already there.
  auto m = seeded_gpt2();
  const std::vector<std::vector<int64_t>> prompts = {{3, 4, 5}, {9, 9, 9, 9}, {100, 101}};
  std::vector<Encoded> rows;
  for (const auto& p : prompts) rows.push_back(lm_row(p, static_cast<int64_t>(p.size())));
  GenerateOptions o;
  o.max_new_tokens = 30;
  o.eos = -1;
  o.pad = 127;
  o.no_repeat_ngram_size = 2;
  const auto got = greedy_generate(*m, rows, o, Placement{});
  size_t looped = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(got[i], greedy_alone(*m, prompts[i], 30, -1, 2)) << "prompt " << i;
    std::vector<int64_t> s = prompts[i];
    s.insert(s.end(), got[i].begin(), got[i].end());
    std::set<std::pair<int64_t, int64_t>> seen;
    for (size_t j = 0; j + 1 < s.size(); ++j)  // a bigram that ends in the text is new (the prompt's may repeat)
      EXPECT_TRUE(seen.insert({s[j], s[j + 1]}).second || j + 1 < prompts[i].size()) << "prompt " << i << " at " << j;
    looped += greedy_alone(*m, prompts[i], 30, -1) != got[i];
  }
  EXPECT_GE(looped, 1u);  // the rule changed something
}

namespace {
// The best sequence of at most two new tokens by beam search's score (log-probs summed in order,
// over (length, eos counted) ^ penalty), every continuation computed alone.
Hypothesis best_of_two(TaskModelImpl& m, const std::vector<int64_t>& prompt, int64_t eos, double penalty) {
  Hypothesis best;
  bool any = false;
  auto offer = [&](std::vector<int64_t> tokens, float sum, int64_t length) {
    const float score = sum / static_cast<float>(std::pow(static_cast<double>(length), penalty));
    if (!any || score > best.score) best = {std::move(tokens), score};
    any = true;
  };
  const auto first = log_probs_alone(m, prompt);
  for (int64_t a = 0; a < first.size(0); ++a) {
    const float s1 = 0.0f + first[a].item<float>();
    if (a == eos) {
      offer({}, s1, 1);
      continue;
    }
    auto seq = prompt;
    seq.push_back(a);
    const auto second = log_probs_alone(m, seq);
    for (int64_t b = 0; b < second.size(0); ++b)
      offer(b == eos ? std::vector<int64_t>{a} : std::vector<int64_t>{a, b}, second[b].item<float>() + s1, 2);
  }
  return best;
}
}  // namespace

TEST(Generate, BeamSearchWithABeamPerPrefixIsTheBestOfEverySequence) {
  // 128 beams hold every one-token prefix of the 128-token vocabulary, so two steps of beam
  // search on the model (batched, right-padded) must find the best of all 128 * 128 sequences,
  // each scored from its own forward. The eos: the prompt's second most likely first token, so
  // that ending at once competes.
  auto m = seeded_gpt2();
  const std::vector<std::vector<int64_t>> prompts = {{3, 4, 5, 6}, {50}, {60, 61, 62}};
  std::vector<Encoded> rows;
  for (const auto& p : prompts) rows.push_back(lm_row(p, static_cast<int64_t>(p.size())));
  const int64_t eos = std::get<1>(log_probs_alone(*m, prompts[0]).topk(2))[1].item<int64_t>();
  for (const auto& [penalty, rule] : std::vector<std::pair<double, EarlyStopping>>{{0.0, EarlyStopping::heuristic},
                                                                                   {1.0, EarlyStopping::never}}) {
    GenerateOptions o;
    o.max_new_tokens = 2;
    o.eos = eos;
    o.pad = 127;
    o.num_beams = 128;
    o.length_penalty = penalty;
    o.early_stopping = rule;
    o.batch_size = 256;  // two prompts' beams a forward
    const auto got = beam_generate(*m, rows, o, Placement{});
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto want = best_of_two(*m, prompts[i], eos, penalty);
      EXPECT_EQ(got[i].tokens, want.tokens) << "prompt " << i << " penalty " << penalty;
      EXPECT_NEAR(got[i].score, want.score, 1e-5) << "prompt " << i << " penalty " << penalty;
    }
  }
}

TEST(Generate, BeamSearchRowsAreIndependentOfTheirBatch) {
  // Prompts searched together (one forward of all their beams) or one at a time: the same text.
  auto m = seeded_gpt2();
  std::vector<Encoded> rows;
  for (const auto& p : std::vector<std::vector<int64_t>>{{3, 4, 5, 6, 7, 8}, {50}, {60, 61, 62}, {9, 9, 9, 9}})
    rows.push_back(lm_row(p, static_cast<int64_t>(p.size())));
  GenerateOptions o;
  o.max_new_tokens = 10;
  o.eos = 17;
  o.pad = 127;
  o.num_beams = 4;
  o.length_penalty = 0.9;
  o.no_repeat_ngram_size = 3;
  o.batch_size = 16;
  const auto together = beam_generate(*m, rows, o, Placement{});
  o.batch_size = 4;
  const auto alone = beam_generate(*m, rows, o, Placement{});
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(together[i].tokens, alone[i].tokens) << "prompt " << i;
    EXPECT_NEAR(together[i].score, alone[i].score, 1e-5) << "prompt " << i;
    EXPECT_FALSE(together[i].tokens.empty());
  }
  // generate() takes beam search's text where num_beams > 1, greedy's at 1.
  EXPECT_EQ(generate(*m, rows, o, Placement{})[0], alone[0].tokens);
  o.num_beams = 1;
  EXPECT_EQ(generate(*m, rows, o, Placement{}), greedy_generate(*m, rows, o, Placement{}));
}

TEST(Generate, BeamSearchIsHfTransformersGenerate) {
  // HF's model.generate with num_beams > 1 on a GPT-2 of the fixture's shape with larger weights
  // (so that beams do not tie), each prompt alone, against beam_generate with all prompts in one
  // batch. Made on the GPU machine by scripts/make_hf_generate_fixture.py; rows whose text HF
  // itself changes between fp32 and fp64 (a near-tie in some pruning) are not compared.
  const std::string path = test::fixtures() + "/hf/gpt2_beam_generate.json";
  if (!file_exists(path))
    GTEST_SKIP() << path << " is not made yet: HF transformers runs on the GPU machine (scripts/gpu_checks.sh generate)";
  const auto f = nlohmann::json::parse(read_file(path));
  auto lm = load_model(test::fixtures() + "/hf/" + f["model"].get<std::string>());
  size_t checked = 0;
  for (const auto& r : f["rows"]) {
    if (!r["stable"].get<bool>()) continue;
    auto p = r["prompt"].get<std::vector<int64_t>>();
    GenerateOptions o;
    o.max_new_tokens = r["max_new_tokens"].get<int64_t>();
    o.eos = r["eos_token_id"].get<int64_t>();
    o.num_beams = r["num_beams"].get<int64_t>();
    o.length_penalty = r["length_penalty"].get<double>();
    o.early_stopping = parse_early_stopping(r["early_stopping"].is_string() ? r["early_stopping"].get<std::string>()
                                                                            : r["early_stopping"].dump());
    o.no_repeat_ngram_size = r["no_repeat_ngram_size"].get<int64_t>();
    const auto got = beam_generate(*lm.model, {lm_row(p, static_cast<int64_t>(p.size()))}, o, Placement{});
    EXPECT_EQ(got[0].tokens, r["generated"].get<std::vector<int64_t>>()) << r.dump();
    EXPECT_NEAR(got[0].score, r["score"].get<double>(), 1e-4) << r.dump();
    ++checked;
  }
  EXPECT_GE(checked, f["rows"].size() / 2) << "too many rows HF itself decodes differently in fp32 and fp64";
}

namespace {
// The seeded GPT-2 with a PEFT method applied and every parameter moved a little (so that a
// method's zero-initialised parts, such as LoRA's B, take part).
std::shared_ptr<TaskModelImpl> seeded_gpt2_with(const std::string& spec) {
  auto m = seeded_gpt2();
  if (!spec.empty()) peft::apply_methods(*m, nlohmann::json::parse(spec), "test.json");
  torch::NoGradGuard g;
  torch::manual_seed(11);
  for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.05);
  m->eval();
  return m;
}

const std::vector<std::string> kMethodSpecs = {
    "", R"({"name": "prefix", "length": 5})", R"({"name": "prefix", "length": 3, "positions": "shifted"})",
    R"({"name": "prompt", "length": 4})", R"({"name": "lora", "r": 4})", R"({"name": "adapter"})", R"({"name": "ia3"})"};
}  // namespace

TEST(Generate, KvCacheGivesTheLogitsOfTheWholeSequence) {
  // Prefill right-padded prompts of three lengths, decode four tokens a row, then reorder the
  // rows as a beam step does (one dropped, one twice) and decode again: every step's logits are
  // those of a forward over the row's whole sequence alone, with each kind of method a GPT-2
  // generates with (a prefix, also with shifted positions; a soft prompt; LoRA; adapters; IA3).
  for (const auto& spec : kMethodSpecs) {
    auto m = seeded_gpt2_with(spec);
    auto* g = dynamic_cast<GPT2TaskModelImpl*>(m.get());
    ASSERT_NE(g, nullptr);
    torch::NoGradGuard ng;
    std::vector<std::vector<int64_t>> seqs = {{3, 4, 5, 6, 7}, {50}, {60, 61, 62}};
    auto expect_alone = [&](const torch::Tensor& logits, const std::string& when) {
      ASSERT_EQ(logits.size(0), static_cast<int64_t>(seqs.size()));
      for (size_t i = 0; i < seqs.size(); ++i) {
        auto ids = torch::tensor(seqs[i], torch::kLong).unsqueeze(0);
        auto want = m->forward(Batch{ids, {}, {}}).logits[0][-1];
        EXPECT_TRUE(torch::allclose(logits[static_cast<int64_t>(i)], want, 1e-5, 1e-5))
            << spec << " " << when << " row " << i << ": " << (logits[static_cast<int64_t>(i)] - want).abs().max().item<float>();
      }
    };
    auto ids = torch::full({3, 5}, 127, torch::kLong), mask = torch::zeros({3, 5}, torch::kLong);
    std::vector<int64_t> last;
    for (int64_t i = 0; i < 3; ++i) {
      const auto len = static_cast<int64_t>(seqs[static_cast<size_t>(i)].size());
      ids[i].narrow(0, 0, len).copy_(torch::tensor(seqs[static_cast<size_t>(i)], torch::kLong));
      mask[i].narrow(0, 0, len).fill_(1);
      last.push_back(i * 5 + len - 1);
    }
    KVCache cache;
    expect_alone(g->prefill(Batch{ids, mask, {}, torch::tensor(last, torch::kLong)}, cache, 5 + g->transformer->prompt_length() + 6),
                 "prefill");
    for (int64_t step = 0; step < 4; ++step) {
      std::vector<int64_t> tokens;
      for (size_t i = 0; i < seqs.size(); ++i) tokens.push_back(10 + step * 7 + static_cast<int64_t>(i)), seqs[i].push_back(tokens.back());
      expect_alone(g->decode(torch::tensor(tokens, torch::kLong), cache), "decode " + std::to_string(step));
    }
    cache.select_rows(torch::tensor({2, 0, 0}, torch::kLong));
    seqs = {seqs[2], seqs[0], seqs[0]};
    std::vector<int64_t> tokens = {90, 91, 92};
    for (size_t i = 0; i < seqs.size(); ++i) seqs[i].push_back(tokens[i]);
    expect_alone(g->decode(torch::tensor(tokens, torch::kLong), cache), "after reordering");
  }
}

TEST(Generate, KvCacheWritesWhatFullForwardsWrite) {
  // Greedy decoding and beam search with and without the cache: the same text, each method.
  std::vector<Encoded> rows;
  for (const auto& p : std::vector<std::vector<int64_t>>{{3, 4, 5, 6, 7, 8}, {50}, {60, 61, 62}, {9, 9, 9, 9}})
    rows.push_back(lm_row(p, static_cast<int64_t>(p.size())));
  for (const auto& spec : kMethodSpecs) {
    auto m = seeded_gpt2_with(spec);
    GenerateOptions o;
    o.max_new_tokens = 12;
    o.eos = 17;
    o.pad = 127;
    o.batch_size = 8;
    for (int64_t beams : {1, 3}) {
      o.num_beams = beams;
      o.kv_cache = true;
      const auto cached = generate(*m, rows, o, Placement{});
      o.kv_cache = false;
      const auto whole = generate(*m, rows, o, Placement{});
      EXPECT_EQ(cached, whole) << spec << " beams " << beams;
    }
  }
}
