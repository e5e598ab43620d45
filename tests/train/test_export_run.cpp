// export_run (lntune export) on runs trained here on the seeded fixture: the plain folder it
// writes computes what the run's own model (methods applied, LoRA unmerged) computes on the dev
// rows; LoRA's deltas are really in the merged weights; a method that adds modules is an error
// naming the tensor (and the run's peft/ export where it has one); open_finished_run rejects a folder without weights.
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/run_config.h"
#include "io/checkpoint.h"
#include "test_paths.h"
#include "train/export_run.h"
#include "train/finished_run.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {

// One folder per test process, named after its first test: ctest runs each test of this file as
// a process of its own, in parallel (a single process runs them one after the other).
std::string scratch() {
  static const std::string d = [] {
    std::string dir = ::testing::TempDir() + "/export_run_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
    // The label follows one word, so a few steps change the weights in a way that shows.
    std::string train = "text,label\n", dev = "text,label\n";
    const char* words[] = {"the film", "a movie", "this plot", "an ending"};
    for (int i = 0; i < 48; ++i) train += std::string(words[i % 4]) + (i % 3 ? " good" : " bad") + "," + (i % 3 ? "1" : "0") + "\n";
    for (int i = 0; i < 8; ++i) dev += std::string(words[(i + 1) % 4]) + (i % 2 ? " good" : " bad") + "," + (i % 2 ? "1" : "0") + "\n";
    write_file_atomic(dir + "/train.csv", train);
    write_file_atomic(dir + "/dev.csv", dev);
    return dir;
  }();
  return d;
}

// Trains `method` for one epoch into scratch()/run_<name>; returns the run folder.
std::string trained_run(const std::string& name, const nlohmann::json& method) {
  const std::string d = scratch(), out = d + "/run_" + name;
  nlohmann::json user = {
      {"model", {{"path", test::fixtures() + "/bert_seq_cls"}}},
      {"task", {{"name", "csv"}, {"train_file", d + "/train.csv"}, {"dev_file", d + "/dev.csv"}, {"num_labels", 2}, {"max_length", 16}, {"token_cache", false}}},
      {"method", method},
      {"train", {{"epochs", 1}, {"batch_size", 8}, {"lr", 0.01}, {"log_every", 100}}},
      {"output_dir", out}};
  auto cfg = resolve_run_config(user, {}, "test.json");
  EXPECT_EQ(lntune::train(cfg, "test.json", false).exit_code, 0);
  return out;
}

torch::Tensor dev_logits(TaskModelImpl& model, const FinishedRun& run) {
  model.eval();
  torch::NoGradGuard g;
  std::vector<size_t> rows(run.data.dev.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  return model.forward(make_batch(run.data.dev, rows, run.rm.tok->pad_id(), false).inputs).logits;
}

}  // namespace

TEST(ExportRun, PlainFolderComputesWhatTheRunComputes) {
  for (auto [name, method] : {std::pair<std::string, nlohmann::json>{"lora", {{"name", "lora"}, {"r", 4}}},
                              {"ia3", {{"name", "ia3"}}},
                              {"ln", {{"name", "ln"}}}, {"bitfit", {{"name", "bitfit"}}}}) {
    SCOPED_TRACE(name);
    const std::string run_dir = trained_run(name, method), folder = scratch() + "/model_" + name;
    auto r = export_run(run_dir, folder);
    // A merged_<kind> count per kind of delta the run had, none else.
    EXPECT_EQ(r.value("merged_lora", int64_t{0}), name == "lora" ? 4 : 0);  // query and value in each of 2 layers
    EXPECT_EQ(r.value("merged_ia3", int64_t{0}), name == "ia3" ? 8 : 0);    // key, value and two output.dense in each
    EXPECT_EQ(r.contains("merged_lora") + r.contains("merged_ia3"), name == "lora" || name == "ia3") << r.dump();
    FinishedRun run = open_finished_run(run_dir, "cpu", /*with_data=*/true);
    auto plain = load_model(folder);
    EXPECT_TRUE(plain.report.new_head.empty()) << "the head must come from the run";
    auto want = dev_logits(*run.rm.model, run), got = dev_logits(*plain.model, run);
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << (got - want).abs().max();
    // The trained tensors moved away from the base checkpoint's (LoRA: the merged query weight).
    auto base = load_model(test::fixtures() + "/bert_seq_cls");
    const std::string key = name == "lora" ? "bert.encoder.layer.0.attention.self.query.weight"
                            : name == "ia3" ? "bert.encoder.layer.0.attention.self.value.weight"
                            : name == "ln" ? "bert.encoder.layer.0.output.LayerNorm.weight"
                                           : "bert.encoder.layer.0.output.dense.bias";
    EXPECT_FALSE(torch::equal(parameter_ending(*plain.model, key), parameter_ending(*base.model, key))) << key;
  }
}

TEST(ExportRun, MethodsThatAddModulesAreAnError) {
  // The error points to the run's HF PEFT export only where the method wrote one: prompt tuning
  // does, adapters do not.
  for (const std::string name : {"adapter", "prompt"}) {
    SCOPED_TRACE(name);
    const std::string run_dir = trained_run(name, {{"name", name}});
    try {
      export_run(run_dir, scratch() + "/model_" + name);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(run_dir + ": bert.", 0), 0u) << msg;
      EXPECT_NE(msg.find("added by the run's method"), std::string::npos) << msg;
      EXPECT_EQ(msg.find("peft/ export") != std::string::npos, name == "prompt") << msg;
      EXPECT_EQ(file_exists(run_dir + "/peft/adapter_config.json"), name == "prompt");
    }
    EXPECT_FALSE(file_exists(scratch() + "/model_" + name + "/config.json"));
  }
  const std::string run_dir = scratch() + "/run_adapter";
  std::system(("mkdir -p " + scratch() + "/empty_run && cp " + run_dir + "/config.json " + scratch() + "/empty_run/").c_str());
  EXPECT_THROW(open_finished_run(scratch() + "/empty_run", "cpu", false), Error);
}
