#include "io/model_folder.h"

#include <filesystem>

#include "io/state_dict.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune {

std::string hf_architecture(const ModelConfig& c, Head head) {
  std::string base = c.is_bert() ? "Bert" : "GPT2";
  switch (head) {
    case Head::None: return base + "Model";
    case Head::SequenceClassification: return base + "ForSequenceClassification";
    case Head::TokenClassification: return base + "ForTokenClassification";
    case Head::LanguageModel: return "GPT2LMHeadModel";
    case Head::MaskedLanguageModel: return "BertForMaskedLM";
  }
  return base + "Model";
}

void write_model_folder(const std::string& dir, TaskModelImpl& model, const std::string& tokenizer_dir,
                        const std::map<std::string, std::string>& metadata) {
  namespace fs = std::filesystem;
  std::string tmp = dir + ".tmp";
  std::error_code ec;
  // Only a model folder is replaced: never a folder of something else given by mistake.
  if (fs::exists(dir) && !fs::is_empty(dir, ec) && !file_exists(dir + "/config.json"))
    fail(dir, "", "exists and is not a model folder (no config.json): not overwritten");
  remove_tree(tmp);
  fs::create_directories(tmp, ec);
  if (!is_directory(tmp)) fail(tmp, "", "cannot create the model folder");

  ModelConfig c = model.config;
  c.architectures = {hf_architecture(c, model.head)};
  if (c.is_bert() && c.pad_token_id < 0) c.pad_token_id = 0;  // HF BERT's default, [PAD] in its vocab
  auto config = c.to_json();
  if (c.is_gpt2()) config["bos_token_id"] = config["eos_token_id"] = c.vocab_size - 1;  // <|endoftext|>
  write_file_atomic(tmp + "/config.json", config.dump(2));

  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& p : model.named_parameters()) tensors.emplace_back(p.key(), p.value().detach().to(torch::kCPU));
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = "pt";  // HF reads only safetensors files that say so
  write_safetensors(tmp + "/model.safetensors", tensors, meta);

  if (!tokenizer_dir.empty()) {
    for (const auto& f : Tokenizer::file_names())
      if (file_exists(tokenizer_dir + "/" + f)) write_file_atomic(tmp + "/" + f, read_file(tokenizer_dir + "/" + f));
    nlohmann::json tc = c.is_bert()
        ? nlohmann::json{{"tokenizer_class", "BertTokenizer"}, {"do_lower_case", true}, {"model_max_length", c.max_positions}}
        : nlohmann::json{{"tokenizer_class", "GPT2Tokenizer"}, {"model_max_length", c.max_positions},
                         {"bos_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}, {"unk_token", "<|endoftext|>"}};
    write_file_atomic(tmp + "/tokenizer_config.json", tc.dump(2));
  }
  remove_tree(dir);
  fs::rename(tmp, dir, ec);
  if (ec) fail(dir, "", "cannot move the model folder into place: " + ec.message());
}

}  // namespace lntune
