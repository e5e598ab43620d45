#include <gtest/gtest.h>

#include "models/model_config.h"
#include "util/error.h"

using namespace lntune;

namespace {
const char* kBert = R"({"model_type":"bert","vocab_size":100,"hidden_size":32,"num_hidden_layers":2,
  "num_attention_heads":4,"intermediate_size":64,"max_position_embeddings":64,"id2label":{"0":"n","1":"p","2":"x"}})";
std::string config_error_of(const std::string& text) {
  try {
    ModelConfig::from_string(text, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
std::string with(const std::string& key, const std::string& value) {
  auto j = nlohmann::json::parse(kBert);
  j[key] = nlohmann::json::parse(value);
  return j.dump();
}
}  // namespace

TEST(ModelConfig, ReadsBertAndGpt2Spellings) {
  auto c = ModelConfig::from_string(kBert, "config.json");
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.num_labels, 3);  // from id2label
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.activation, "gelu");
  auto g = ModelConfig::from_string(
      R"({"model_type":"gpt2","vocab_size":50257,"n_embd":64,"n_layer":2,"n_head":4,"n_positions":128,"n_inner":null})",
      "config.json");
  EXPECT_EQ(g.intermediate_size, 256);  // n_inner null -> 4 * n_embd
  EXPECT_EQ(g.activation, "gelu_new");
  EXPECT_DOUBLE_EQ(g.layer_norm_eps, 1e-5);
  // to_json round-trips through from_json.
  auto r = ModelConfig::from_json(g.to_json(), "round-trip");
  EXPECT_EQ(r.hidden_size, 64);
  EXPECT_EQ(r.num_heads, 4);
  EXPECT_TRUE(r.label_names.empty());
  EXPECT_FALSE(g.to_json().contains("id2label"));  // no names: none written (HF fills LABEL_i)
}

TEST(ModelConfig, LabelNamesRoundTrip) {
  auto c = ModelConfig::from_string(kBert, "config.json");
  EXPECT_EQ(c.label_names, (std::vector<std::string>{"n", "p", "x"}));
  auto j = c.to_json();
  EXPECT_EQ(j["id2label"], nlohmann::json::parse(R"({"0":"n","1":"p","2":"x"})"));
  EXPECT_EQ(j["label2id"], nlohmann::json::parse(R"({"n":0,"p":1,"x":2})"));
  EXPECT_EQ(ModelConfig::from_json(j, "round-trip").label_names, c.label_names);
  // Names for another number of labels (a head resized for a new task) are not written.
  c.num_labels = 2;
  EXPECT_FALSE(c.to_json().contains("id2label"));
  // An id2label with a gap names nothing.
  EXPECT_TRUE(ModelConfig::from_string(with("id2label", R"({"0":"a","2":"c","3":"d"})"), "c.json").label_names.empty());
}

TEST(ModelConfig, ErrorsNameTheFileAndField) {
  EXPECT_EQ(config_error_of(with("hidden_size", "\"32\"")).rfind("config.json: hidden_size: has the wrong type", 0), 0u);
  EXPECT_NE(config_error_of(with("num_attention_heads", "5")).find("num_attention_heads: 5 does not divide"), std::string::npos);
  EXPECT_NE(config_error_of(with("hidden_act", "\"swiglu\"")).find("hidden_act"), std::string::npos);
  EXPECT_NE(config_error_of(with("model_type", "\"t5\"")).find("model_type"), std::string::npos);
  EXPECT_NE(config_error_of(with("position_embedding_type", "\"relative_key\"")).find("position_embedding_type"), std::string::npos);
  EXPECT_NE(config_error_of(with("hidden_dropout_prob", "1.5")).find("dropout"), std::string::npos);
  EXPECT_NE(config_error_of("{}").find("model_type: missing"), std::string::npos);
  EXPECT_NE(config_error_of("{oops").find("invalid JSON"), std::string::npos);
  EXPECT_EQ(config_error_of(kBert), "");
}
