// lntune init: write a seeded (HF-initialised, untrained) model folder: config.json,
// model.safetensors and the tokenizer files. The starting point until `lntune pretrain` exists.
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "io/state_dict.h"
#include "models/model.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune::cli {

namespace {
nlohmann::json arch(const std::string& name, int64_t vocab) {
  if (name == "bert-mini")
    return {{"model_type", "bert"}, {"vocab_size", vocab}, {"hidden_size", 256}, {"num_hidden_layers", 4},
            {"num_attention_heads", 4}, {"intermediate_size", 1024}, {"max_position_embeddings", 512},
            {"architectures", {"BertModel"}}};
  if (name == "bert-tiny")
    return {{"model_type", "bert"}, {"vocab_size", vocab}, {"hidden_size", 128}, {"num_hidden_layers", 2},
            {"num_attention_heads", 2}, {"intermediate_size", 512}, {"max_position_embeddings", 512},
            {"architectures", {"BertModel"}}};
  if (name == "gpt2-mini")
    return {{"model_type", "gpt2"}, {"vocab_size", vocab}, {"n_embd", 256}, {"n_layer", 4}, {"n_head", 4},
            {"n_positions", 256}, {"architectures", {"GPT2LMHeadModel"}}};
  throw Error("unknown --arch '" + name + "' (bert-tiny, bert-mini, gpt2-mini)");
}
}  // namespace

int cmd_init(int argc, char** argv) {
  cxxopts::Options o("lntune init", "Write a seeded (untrained) model folder");
  o.add_options()("arch", "bert-tiny, bert-mini, gpt2-mini", cxxopts::value<std::string>())(
      "tokenizer", "tokenizer folder (its files are copied)", cxxopts::value<std::string>())(
      "out", "output folder", cxxopts::value<std::string>())("seed", "seed", cxxopts::value<uint64_t>()->default_value("0"))(
      "h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  for (const char* k : {"arch", "tokenizer", "out"})
    if (!a.count(k)) throw UsageError{"--arch, --tokenizer and --out are required"};
  std::string tdir = a["tokenizer"].as<std::string>(), out = a["out"].as<std::string>();
  auto tok = Tokenizer::from_dir(tdir);
  auto cfg = ModelConfig::from_json(arch(a["arch"].as<std::string>(), static_cast<int64_t>(tok->vocab_size())), "--arch");
  if ((cfg.is_bert() && tok->kind() != "wordpiece") || (cfg.is_gpt2() && tok->kind() != "bpe"))
    throw Error(tdir + ": a " + tok->kind() + " tokenizer does not fit " + cfg.model_type);
  torch::manual_seed(a["seed"].as<uint64_t>());
  auto model = build_model(cfg, Head::None);
  init_weights(*model);
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (!is_directory(out)) fail(out, "", "cannot create");
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& p : model->named_parameters()) tensors.emplace_back(p.key(), p.value());
  write_safetensors(out + "/model.safetensors", tensors, {{"format", "pt"}, {"lntune", "seeded, untrained"}});
  write_file_atomic(out + "/config.json", cfg.to_json().dump(2));
  for (const auto& f : Tokenizer::file_names())
    if (file_exists(tdir + "/" + f)) write_file_atomic(out + "/" + f, read_file(tdir + "/" + f));
  std::cout << out << ": seeded " << cfg.model_type << " (" << count_parameters(*model) << " parameters)\n";
  return 0;
}

}  // namespace lntune::cli
