// Every shipped config configs/<task>/<method>.json is valid: it parses, and a dry run on the test
// fixtures' models builds the model and applies the method its file is named after, for the task
// its folder is named after. One process for all of them: as one `lntune train --dry-run` each,
// LibTorch's start-up (~0.7 s a process) made this the slowest check of the suite.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "config/run_config.h"
#include "test_paths.h"
#include "train/trainer.h"

using namespace lntune;

namespace {

std::vector<std::filesystem::path> task_method_configs() {
  std::vector<std::filesystem::path> paths;
  for (const auto& folder : std::filesystem::directory_iterator(test::source_dir() + "/configs")) {
    const std::string name = folder.path().filename().string();
    if (!folder.is_directory() || name == "pretrain" || name == "tables") continue;  // checked elsewhere
    for (const auto& file : std::filesystem::directory_iterator(folder.path()))
      if (file.path().extension() == ".json") paths.push_back(file.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The applied methods' names joined as the config names a combination: "prefix+ln".
std::string applied_methods(const nlohmann::json& results) {
  std::string names;
  for (const auto& m : results.at("method")) names += (names.empty() ? "" : "+") + m.at("name").get<std::string>();
  return names;
}

}  // namespace

TEST(ShippedConfigs, EveryTaskAndMethodConfigDryRuns) {
  const auto paths = task_method_configs();
  // 9 GLUE tasks and e2e, 13 methods each.
  ASSERT_GE(paths.size(), 10u * 13u) << "configs/<task>/<method>.json: scripts/make_configs.py writes them";
  for (const auto& path : paths) {
    const std::string task = path.parent_path().filename().string(), method = path.stem().string();
    const bool e2e = task == "e2e";
    const std::vector<std::string> sets = {
        "model.path=" + test::fixtures() + (e2e ? "/gpt2_lm" : "/bert_seq_cls"),
        "tokenizer=" + (e2e ? test::gpt2_tokenizer_dir() : std::string())};
    try {
      const auto outcome = train(load_run_config(path.string(), sets), path.string(), /*resume=*/false, /*dry_run=*/true);
      EXPECT_EQ(outcome.exit_code, 0) << path;
      EXPECT_EQ(outcome.results.at("task"), task) << path;
      EXPECT_EQ(applied_methods(outcome.results), method) << path;
      EXPECT_GT(outcome.results.at("trainable_backbone_params").get<double>(), 0) << path;
    } catch (const std::exception& e) {
      ADD_FAILURE() << path << ": " << e.what();
    }
  }
}
