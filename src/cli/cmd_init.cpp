// lntune init: write a seeded (HF-initialised, untrained) model folder: config.json,
// model.safetensors and the tokenizer files. The random-init baseline pretrained models are
// compared with, and the model of tests.
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"
#include "io/model_folder.h"
#include "models/model.h"
#include "models/presets.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune::cli {

int cmd_init(int argc, char** argv) {
  cxxopts::Options o("lntune init", "Write a seeded (untrained) model folder");
  o.add_options()("arch", "a model preset: bert-tiny, bert-mini, bert-small, gpt2-mini, gpt2-small", cxxopts::value<std::string>())(
      "tokenizer", "tokenizer folder (its files are copied)", cxxopts::value<std::string>())(
      "out", "output folder", cxxopts::value<std::string>())("seed", "seed", cxxopts::value<uint64_t>()->default_value("0"))(
      "h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  for (const char* k : {"arch", "tokenizer", "out"})
    if (!a.count(k)) throw UsageError{"--arch, --tokenizer and --out are required"};
  std::string tdir = a["tokenizer"].as<std::string>(), out = a["out"].as<std::string>();
  auto tok = Tokenizer::from_dir(tdir);
  auto cfg = ModelConfig::from_json(model_preset(a["arch"].as<std::string>(), static_cast<int64_t>(tok->vocab_size()), "--arch"), "--arch");
  if ((cfg.is_bert() && tok->kind() != "wordpiece") || (cfg.is_gpt2() && tok->kind() != "bpe"))
    throw Error(tdir + ": a " + tok->kind() + " tokenizer does not fit " + cfg.model_type);
  torch::manual_seed(a["seed"].as<uint64_t>());
  auto model = build_model(cfg, head_from_architectures(cfg));  // BERT: base model; GPT-2: tied LM
  init_weights(*model);
  write_model_folder(out, *model, tdir, {{"lntune", "seeded, untrained"}});
  std::cout << out << ": seeded " << cfg.model_type << " (" << count_parameters(*model) << " parameters)\n";
  return 0;
}

}  // namespace lntune::cli
