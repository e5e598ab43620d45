// lntune forward --model DIR --text TEXT [--text-pair TEXT] [--head H] --out FILE.safetensors
// Runs one input through a checkpoint (eval mode) and writes input_ids, logits and the last
// hidden state: what HF transformers is compared with (scripts/check_hf_folder.py).
#include <cxxopts.hpp>

#include <iostream>

#include "cli/commands.h"
#include "io/checkpoint.h"
#include "io/state_dict.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"

namespace lntune::cli {

int cmd_forward(int argc, char** argv) {
  cxxopts::Options o("lntune forward", "Write a checkpoint's outputs for one input (for parity checks)");
  o.add_options()("model", "model folder or weights file", cxxopts::value<std::string>())(
      "text", "input text", cxxopts::value<std::string>())("text-pair", "second segment", cxxopts::value<std::string>())(
      "tokenizer", "tokenizer folder (default: the model folder)", cxxopts::value<std::string>())(
      "head", "none, seq_cls, token_cls, lm, mlm (default: from config)", cxxopts::value<std::string>())(
      "out", "output .safetensors", cxxopts::value<std::string>())("h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  for (const char* k : {"model", "text", "out"})
    if (!a.count(k)) throw UsageError{"--model, --text and --out are required"};
  std::optional<Head> head;
  if (a.count("head")) head = head_from_name(a["head"].as<std::string>());
  auto lm = load_model(a["model"].as<std::string>(), head);
  std::string tdir = a.count("tokenizer") ? a["tokenizer"].as<std::string>() : lm.checkpoint.tokenizer_dir;
  if (tdir.empty()) throw Error(a["model"].as<std::string>() + ": no tokenizer files beside the model: pass --tokenizer");
  auto tok = Tokenizer::from_dir(tdir);
  std::optional<std::string> pair;
  if (a.count("text-pair")) pair = a["text-pair"].as<std::string>();
  auto enc = pair ? tok->encode(a["text"].as<std::string>(), std::string_view(*pair)) : tok->encode(a["text"].as<std::string>());
  Batch b;
  b.input_ids = torch::tensor(enc.ids, torch::kLong).unsqueeze(0);
  if (lm.model->config.is_bert()) b.token_type_ids = torch::tensor(enc.type_ids, torch::kLong).unsqueeze(0);
  lm.model->eval();
  torch::NoGradGuard g;
  auto out = lm.model->forward(b);
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {{"input_ids", b.input_ids},
                                                                {"last_hidden_state", out.last_hidden_state}};
  if (out.logits.defined()) tensors.emplace_back("logits", out.logits);
  std::map<std::string, std::string> meta = {{"head", head_name(lm.model->head)}, {"text", a["text"].as<std::string>()}};
  if (pair) meta["text_pair"] = *pair;
  write_safetensors(a["out"].as<std::string>(), tensors, meta);
  std::cout << a["out"].as<std::string>() << ": " << enc.ids.size() << " tokens, head " << head_name(lm.model->head) << "\n";
  return 0;
}

}  // namespace lntune::cli
