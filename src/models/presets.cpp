#include "models/presets.h"

#include "util/error.h"

namespace lntune {

const std::vector<std::string>& model_preset_names() {
  static const std::vector<std::string> k = {"bert-tiny", "bert-mini", "bert-small", "bert-base",
                                             "gpt2-mini", "gpt2-small", "gpt2-base"};
  return k;
}

nlohmann::json model_preset(const std::string& name, int64_t vocab, const std::string& where) {
  auto bert = [&](int64_t h, int64_t l, int64_t a) {
    return nlohmann::json{{"model_type", "bert"}, {"vocab_size", vocab}, {"hidden_size", h}, {"num_hidden_layers", l},
                          {"num_attention_heads", a}, {"intermediate_size", 4 * h}, {"max_position_embeddings", 512},
                          {"architectures", {"BertModel"}}};
  };
  auto gpt2 = [&](int64_t h, int64_t l, int64_t a, int64_t ctx) {
    return nlohmann::json{{"model_type", "gpt2"}, {"vocab_size", vocab}, {"n_embd", h}, {"n_layer", l}, {"n_head", a},
                          {"n_positions", ctx}, {"architectures", {"GPT2LMHeadModel"}}};
  };
  // Sizes of Turc et al.'s compact BERTs (tiny L2/H128, mini L4/H256, small L4/H512).
  if (name == "bert-tiny") return bert(128, 2, 2);
  if (name == "bert-mini") return bert(256, 4, 4);
  if (name == "bert-small") return bert(512, 4, 8);
  if (name == "bert-base") return bert(768, 12, 12);  // BERT-base's shape (benchmarks; not trainable here)
  if (name == "gpt2-mini") return gpt2(256, 4, 4, 256);
  if (name == "gpt2-small") return gpt2(512, 6, 8, 512);
  if (name == "gpt2-base") return gpt2(768, 12, 12, 1024);
  std::string names;
  for (const auto& n : model_preset_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error(where + ": '" + name + "' is not one of " + names);
}

}  // namespace lntune
