// Model hyper-parameters read from an HF config.json (BERT and GPT-2 spellings). Torch-free.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lntune {

struct ModelConfig {
  std::string model_type;  // "bert" | "gpt2"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_positions = 0;
  int64_t type_vocab_size = 2;    // BERT only
  double layer_norm_eps = 1e-12;
  std::string activation = "gelu";
  double hidden_dropout = 0.1;     // BERT hidden_dropout_prob; GPT-2 resid_pdrop
  double attention_dropout = 0.1;  // BERT attention_probs_dropout_prob; GPT-2 attn_pdrop
  double embedding_dropout = 0.1;  // GPT-2 embd_pdrop; BERT uses hidden_dropout
  double classifier_dropout = -1;  // <0: use hidden_dropout (HF's null)
  int64_t pad_token_id = -1;       // -1: none
  int64_t num_labels = 2;
  // Class names in id order (HF's id2label), when config.json has one for every label; written
  // back as id2label / label2id only then, so HF pipelines name the classes.
  std::vector<std::string> label_names;
  std::string problem_type;        // "", "regression", "single_label_classification", ...
  bool scale_attn_weights = true;  // GPT-2
  bool scale_attn_by_inverse_layer_idx = false;
  std::vector<std::string> architectures;
  // Not in config.json: how attention is computed in this run (`model.attention`, models/attention.h).
  std::string attention = "eager";
  // Not in config.json either: which dropout kernel runs (`model.dropout_impl`, models/dropout.h).
  std::string dropout_impl = "fused";

  // Throws Error("<source>: <field>: ...") on missing/mistyped/inconsistent fields.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& source);
  static ModelConfig from_file(const std::string& path);
  static ModelConfig from_string(const std::string& text, const std::string& source);
  nlohmann::json to_json() const;  // HF spelling for this model_type
  bool is_bert() const { return model_type == "bert"; }
  bool is_gpt2() const { return model_type == "gpt2"; }
};

}  // namespace lntune
