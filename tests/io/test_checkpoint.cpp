// Checkpoint mapping: aliases, the load report, and one clear error per kind of bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "io/checkpoint.h"
#include "models/reference.h"
#include "test_paths.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {

std::string temp_model_dir(const std::string& name, const std::string& config_from) {
  std::string dir = ::testing::TempDir() + "/ckpt_" + name;
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  write_file_atomic(dir + "/config.json", read_file(config_from));
  return dir;
}

using Tensors = std::vector<std::pair<std::string, torch::Tensor>>;

Tensors fixture_tensors(const std::string& name) { return read_safetensors(test::fixtures() + "/" + name + "/model.safetensors").tensors; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Checkpoint, LegacyGammaBetaAndMissingPrefixAreAliases) {
  std::string dir = temp_model_dir("alias", test::fixtures() + "/bert_seq_cls/config.json");
  Tensors renamed;
  for (auto& [k, v] : fixture_tensors("bert_seq_cls")) {
    std::string n = k;
    if (n.rfind("bert.", 0) == 0) n = n.substr(5);  // a BertModel-style key
    if (n.size() > 16 && n.compare(n.size() - 16, 16, "LayerNorm.weight") == 0) n = n.substr(0, n.size() - 6) + "gamma";
    if (n.size() > 14 && n.compare(n.size() - 14, 14, "LayerNorm.bias") == 0) n = n.substr(0, n.size() - 4) + "beta";
    renamed.emplace_back(n, v);
  }
  write_safetensors(dir + "/model.safetensors", renamed);
  test::expect_matches_reference(dir, test::fixtures() + "/bert_seq_cls_ref.safetensors", 1e-5);
}

TEST(Checkpoint, Gpt2BaseModelKeysWithoutTransformerPrefix) {
  std::string dir = temp_model_dir("gpt2base", test::fixtures() + "/gpt2_lm/config.json");
  Tensors base;
  for (auto& [k, v] : fixture_tensors("gpt2_lm")) base.emplace_back(k.substr(std::string("transformer.").size()), v);
  base.emplace_back("h.0.attn.bias", torch::ones({1, 1, 64, 64}));  // old causal buffer
  write_safetensors(dir + "/model.safetensors", base);
  auto lm = load_model(dir);
  EXPECT_EQ(lm.report.loaded, 28);
  EXPECT_EQ(lm.report.ignored, (std::vector<std::string>{"h.0.attn.bias"}));
  test::expect_matches_reference(dir, test::fixtures() + "/gpt2_lm_ref.safetensors", 1e-5);
}

TEST(Checkpoint, ReportListsUnexpectedAndNewHeadKeys) {
  std::string dir = temp_model_dir("report", test::fixtures() + "/bert_seq_cls/config.json");
  Tensors t;
  for (auto& [k, v] : fixture_tensors("bert_seq_cls"))
    if (k.rfind("classifier.", 0) != 0) t.emplace_back(k, v);
  t.emplace_back("cls.predictions.bias", torch::zeros({128}));  // a pre-training head
  write_safetensors(dir + "/model.safetensors", t);
  auto lm = load_model(dir);
  EXPECT_EQ(lm.report.unexpected, (std::vector<std::string>{"cls.predictions.bias"}));
  EXPECT_EQ(lm.report.new_head, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  auto lines = lm.report.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], dir + "/model.safetensors: unexpected key cls.predictions.bias");
  LoadOptions strict;
  strict.allow_unexpected = false;
  EXPECT_NE(error_of([&] { load_model(dir, std::nullopt, NormOptions(), strict); }).find("unexpected keys: cls.predictions.bias"),
            std::string::npos);
  strict = LoadOptions();
  strict.allow_new_head = false;
  EXPECT_NE(error_of([&] { load_model(dir, std::nullopt, NormOptions(), strict); }).find("no weights for the head"),
            std::string::npos);
}

TEST(Checkpoint, MissingBackboneKeyIsAnError) {
  std::string dir = temp_model_dir("missing", test::fixtures() + "/bert_seq_cls/config.json");
  Tensors t;
  for (auto& [k, v] : fixture_tensors("bert_seq_cls"))
    if (k != "bert.encoder.layer.1.output.dense.bias") t.emplace_back(k, v);
  write_safetensors(dir + "/model.safetensors", t);
  std::string e = error_of([&] { load_model(dir); });
  EXPECT_EQ(e, dir + "/model.safetensors: missing 1 weights: bert.encoder.layer.1.output.dense.bias");
}

TEST(Checkpoint, ConfigMismatchIsAShapeError) {
  std::string dir = temp_model_dir("mismatch", test::fixtures() + "/bert_seq_cls/config.json");
  auto cfg = nlohmann::json::parse(read_file(dir + "/config.json"));
  cfg["intermediate_size"] = 48;
  write_file_atomic(dir + "/config.json", cfg.dump());
  write_safetensors(dir + "/model.safetensors", fixture_tensors("bert_seq_cls"));
  std::string e = error_of([&] { load_model(dir); });
  // Six tensors depend on intermediate_size (2 layers x dense.weight, dense.bias, output.dense.weight).
  EXPECT_EQ(e, dir + "/model.safetensors: shape mismatch with the model config: bert.encoder.layer.0.intermediate.dense.bias: "
                     "checkpoint [64] vs model [48] and 5 more");
}

TEST(Checkpoint, BadFilesGiveOneLineErrorsNamingTheFile) {
  std::string dir = temp_model_dir("bad", test::fixtures() + "/bert_seq_cls/config.json");
  std::string good = read_file(test::fixtures() + "/bert_seq_cls/model.safetensors");
  // Truncated safetensors.
  write_file_atomic(dir + "/model.safetensors", good.substr(0, good.size() / 2));
  std::string e = error_of([&] { load_model(dir); });
  EXPECT_EQ(e.rfind(dir + "/model.safetensors: ", 0), 0u) << e;
  EXPECT_NE(e.find("outside"), std::string::npos) << e;
  // Header length lying past the end.
  std::string lying = good;
  lying[5] = '\x7f';
  write_file_atomic(dir + "/model.safetensors", lying);
  EXPECT_NE(error_of([&] { load_model(dir); }).find("runs past the end"), std::string::npos);
  // Garbage pytorch_model.bin (legacy or foreign format).
  std::remove((dir + "/model.safetensors").c_str());
  write_file_atomic(dir + "/pytorch_model.bin", "\x80\x02garbage");
  EXPECT_NE(error_of([&] { load_model(dir); }).find("pytorch_model.bin: "), std::string::npos);
  // Missing config.json.
  std::string nocfg = ::testing::TempDir() + "/ckpt_nocfg";
  std::system(("rm -rf " + nocfg + " && mkdir -p " + nocfg).c_str());
  write_file_atomic(nocfg + "/model.safetensors", good);
  EXPECT_EQ(error_of([&] { load_model(nocfg); }).rfind(nocfg + "/config.json: missing", 0), 0u);
  // Nothing there at all.
  EXPECT_NE(error_of([&] { load_model(nocfg + "/nope.safetensors"); }).find("not found"), std::string::npos);
  // No message spans lines.
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(Checkpoint, WriteSafetensorsRoundTripsAndIsAtomic) {
  std::string dir = ::testing::TempDir() + "/ckpt_write";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  Tensors t{{"a", torch::randn({3, 5})}, {"b", torch::randn({7}).to(torch::kBFloat16)}, {"c", torch::arange(4)}};
  write_safetensors(dir + "/x.safetensors", t);
  auto back = read_safetensors(dir + "/x.safetensors").tensors;
  ASSERT_EQ(back.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back[i].first, t[i].first);
    EXPECT_TRUE(torch::equal(back[i].second, t[i].second)) << t[i].first;
  }
  EXPECT_EQ(std::system(("ls " + dir + " | grep -q tmp").c_str()) == 0, false);
}
