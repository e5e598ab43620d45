#include "models/model_config.h"

#include "util/error.h"
#include "util/file.h"

namespace lntune {

namespace {

using nlohmann::json;

template <typename T>
bool read(const json& j, const char* key, T& out, const std::string& src) {
  if (!j.contains(key) || j[key].is_null()) return false;
  const json& v = j[key];
  bool ok;
  if constexpr (std::is_same_v<T, bool>) ok = v.is_boolean();
  else if constexpr (std::is_integral_v<T>) ok = v.is_number_integer();
  else if constexpr (std::is_floating_point_v<T>) ok = v.is_number();
  else ok = v.is_string();
  if (!ok) fail(src, key, "has the wrong type (" + std::string(v.type_name()) + ")");
  out = v.get<T>();
  return true;
}

template <typename T>
void require(const json& j, const char* key, T& out, const std::string& src) {
  if (!read(j, key, out, src)) fail(src, key, "missing");
}

void positive(int64_t v, const char* key, const std::string& src) {
  if (v <= 0) fail(src, key, "must be positive, got " + std::to_string(v));
}

}  // namespace

ModelConfig ModelConfig::from_json(const json& j, const std::string& src) {
  if (!j.is_object()) fail(src, "", "config must be a JSON object");
  ModelConfig c;
  require(j, "model_type", c.model_type, src);
  if (c.is_bert()) {
    require(j, "vocab_size", c.vocab_size, src);
    require(j, "hidden_size", c.hidden_size, src);
    require(j, "num_hidden_layers", c.num_layers, src);
    require(j, "num_attention_heads", c.num_heads, src);
    require(j, "intermediate_size", c.intermediate_size, src);
    require(j, "max_position_embeddings", c.max_positions, src);
    read(j, "type_vocab_size", c.type_vocab_size, src);
    read(j, "layer_norm_eps", c.layer_norm_eps, src);
    read(j, "hidden_act", c.activation, src);
    read(j, "hidden_dropout_prob", c.hidden_dropout, src);
    read(j, "attention_probs_dropout_prob", c.attention_dropout, src);
    c.embedding_dropout = c.hidden_dropout;
    read(j, "classifier_dropout", c.classifier_dropout, src);
    c.pad_token_id = 0;
    read(j, "pad_token_id", c.pad_token_id, src);
    std::string pos = "absolute";
    read(j, "position_embedding_type", pos, src);
    if (pos != "absolute") fail(src, "position_embedding_type", "'" + pos + "' is not supported (only absolute)");
    positive(c.type_vocab_size, "type_vocab_size", src);
  } else if (c.is_gpt2()) {
    c.layer_norm_eps = 1e-5;
    c.activation = "gelu_new";
    require(j, "vocab_size", c.vocab_size, src);
    require(j, "n_embd", c.hidden_size, src);
    require(j, "n_layer", c.num_layers, src);
    require(j, "n_head", c.num_heads, src);
    require(j, "n_positions", c.max_positions, src);
    c.intermediate_size = 4 * c.hidden_size;
    read(j, "n_inner", c.intermediate_size, src);
    read(j, "layer_norm_epsilon", c.layer_norm_eps, src);
    read(j, "activation_function", c.activation, src);
    read(j, "resid_pdrop", c.hidden_dropout, src);
    read(j, "attn_pdrop", c.attention_dropout, src);
    read(j, "embd_pdrop", c.embedding_dropout, src);
    read(j, "classifier_dropout", c.classifier_dropout, src);
    read(j, "pad_token_id", c.pad_token_id, src);
    read(j, "scale_attn_weights", c.scale_attn_weights, src);
    read(j, "scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx, src);
    bool upcast = false;
    if (read(j, "reorder_and_upcast_attn", upcast, src) && upcast)
      fail(src, "reorder_and_upcast_attn", "true is not supported");
  } else {
    fail(src, "model_type", "'" + c.model_type + "' is not supported (bert, gpt2)");
  }
  positive(c.vocab_size, "vocab_size", src);
  positive(c.hidden_size, "hidden_size", src);
  positive(c.num_layers, "num_layers", src);
  positive(c.num_heads, "num_attention_heads", src);
  positive(c.intermediate_size, "intermediate_size", src);
  positive(c.max_positions, "max_position_embeddings", src);
  if (c.hidden_size % c.num_heads != 0)
    fail(src, "num_attention_heads", std::to_string(c.num_heads) + " does not divide hidden size " +
                                         std::to_string(c.hidden_size));
  if (!(c.layer_norm_eps > 0)) fail(src, "layer_norm_eps", "must be positive");
  static const char* kActs[] = {"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish", "tanh"};
  bool known = false;
  for (const char* a : kActs) known |= c.activation == a;
  if (!known) fail(src, c.is_bert() ? "hidden_act" : "activation_function", "unknown activation '" + c.activation + "'");
  for (double p : {c.hidden_dropout, c.attention_dropout, c.embedding_dropout})
    if (p < 0 || p >= 1) fail(src, "dropout", "probabilities must be in [0, 1)");
  if (j.contains("id2label") && j["id2label"].is_object() && !j["id2label"].empty())
    c.num_labels = static_cast<int64_t>(j["id2label"].size());
  read(j, "num_labels", c.num_labels, src);
  positive(c.num_labels, "num_labels", src);
  read(j, "problem_type", c.problem_type, src);
  if (j.contains("id2label") && j["id2label"].is_object()) {
    const json& m = j["id2label"];
    for (int64_t i = 0; i < c.num_labels; ++i) {
      auto it = m.find(std::to_string(i));
      if (it == m.end() || !it->is_string()) {
        c.label_names.clear();
        break;
      }
      c.label_names.push_back(it->get<std::string>());
    }
  }
  if (j.contains("architectures") && j["architectures"].is_array())
    for (const auto& a : j["architectures"])
      if (a.is_string()) c.architectures.push_back(a.get<std::string>());
  return c;
}

ModelConfig ModelConfig::from_string(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(source, "", std::string("invalid JSON: ") + e.what());
  }
  return from_json(j, source);
}

ModelConfig ModelConfig::from_file(const std::string& path) { return from_string(read_file(path), path); }

json ModelConfig::to_json() const {
  json j;
  j["model_type"] = model_type;
  j["vocab_size"] = vocab_size;
  if (is_bert()) {
    j["hidden_size"] = hidden_size;
    j["num_hidden_layers"] = num_layers;
    j["num_attention_heads"] = num_heads;
    j["intermediate_size"] = intermediate_size;
    j["max_position_embeddings"] = max_positions;
    j["type_vocab_size"] = type_vocab_size;
    j["layer_norm_eps"] = layer_norm_eps;
    j["hidden_act"] = activation;
    j["hidden_dropout_prob"] = hidden_dropout;
    j["attention_probs_dropout_prob"] = attention_dropout;
    j["position_embedding_type"] = "absolute";
  } else {
    j["n_embd"] = hidden_size;
    j["n_layer"] = num_layers;
    j["n_head"] = num_heads;
    j["n_inner"] = intermediate_size;
    j["n_positions"] = max_positions;
    j["layer_norm_epsilon"] = layer_norm_eps;
    j["activation_function"] = activation;
    j["resid_pdrop"] = hidden_dropout;
    j["attn_pdrop"] = attention_dropout;
    j["embd_pdrop"] = embedding_dropout;
    j["scale_attn_weights"] = scale_attn_weights;
    j["scale_attn_by_inverse_layer_idx"] = scale_attn_by_inverse_layer_idx;
  }
  if (classifier_dropout >= 0) j["classifier_dropout"] = classifier_dropout;
  if (pad_token_id >= 0) j["pad_token_id"] = pad_token_id;
  j["num_labels"] = num_labels;
  if (static_cast<int64_t>(label_names.size()) == num_labels) {
    json id2label = json::object(), label2id = json::object();
    for (size_t i = 0; i < label_names.size(); ++i) {
      id2label[std::to_string(i)] = label_names[i];
      label2id[label_names[i]] = static_cast<int64_t>(i);
    }
    j["id2label"] = id2label;
    j["label2id"] = label2id;
  }
  if (!problem_type.empty()) j["problem_type"] = problem_type;
  if (!architectures.empty()) j["architectures"] = architectures;
  return j;
}

}  // namespace lntune
