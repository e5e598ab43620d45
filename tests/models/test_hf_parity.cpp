// Parity with HF transformers itself: fixtures made by scripts/make_hf_fixtures.py where
// `transformers` is installed (the GPU machine; the committed ones: transformers 5.17.0, torch
// 2.11.0, 2026-11-24). Each model is checked in every format it was exported to: the HF folder
// (safetensors), pytorch_model.bin and the TorchScript archive (GPT-2's traced with inputs passed
// by name, on the second H100 lease: the first trace failed under transformers 5).
#include <gtest/gtest.h>

#include "models/reference.h"
#include "test_paths.h"
#include "util/file.h"

using namespace lntune;

namespace {
void check(const std::string& name) {
  std::string base = test::fixtures() + "/hf/" + name;
  ASSERT_TRUE(file_exists(base + "_ref.safetensors")) << base << "_ref.safetensors: the committed HF fixtures are missing";
  ASSERT_TRUE(is_directory(base)) << base;
  ASSERT_TRUE(is_directory(base + "_bin")) << base << "_bin";
  ASSERT_TRUE(file_exists(base + ".pt")) << base << ".pt";
  for (const std::string& path : {base, base + "_bin", base + ".pt"}) {
    SCOPED_TRACE(path);
    test::expect_matches_reference(path, base + "_ref.safetensors", 1e-5);
  }
}
}  // namespace

TEST(HfParity, BertForSequenceClassification) { check("bert_seq_cls"); }
TEST(HfParity, Gpt2LMHeadModel) { check("gpt2_lm"); }
