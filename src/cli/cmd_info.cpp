// lntune info --model <folder|file>: architecture, parameter count, norms and load report.
#include <cxxopts.hpp>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cpu_isa.h"
#include "io/checkpoint.h"
#include "tokenizers/tokenizer.h"
#include "util/build_info.h"
#include "util/allocator.h"
#include "util/threads.h"

namespace lntune::cli {

namespace {
std::string thousands(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}
}  // namespace

int cmd_info(int argc, char** argv) {
  cxxopts::Options o("lntune info", "Describe a checkpoint");
  o.add_options()("model", "model folder or weights file (.safetensors, .bin, TorchScript .pt)",
                  cxxopts::value<std::string>())("head", "none, seq_cls, token_cls, lm (default: from config)",
                                                 cxxopts::value<std::string>())(
      "json", "print JSON")("h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  if (!a.count("model")) throw UsageError{"--model PATH is required"};
  std::optional<Head> head;
  if (a.count("head")) head = head_from_name(a["head"].as<std::string>());
  auto lm = load_model(a["model"].as<std::string>(), head);
  const auto& c = lm.model->config;
  int64_t total = count_parameters(*lm.model), backbone = count_backbone_parameters(*lm.model);
  auto norms = find_norms(*lm.model);
  std::map<std::string, int> roles;
  for (const auto& n : norms) roles[n.role]++;
  std::string norm_type = norms.empty() ? "none" : norms[0].module->options.type();

  nlohmann::ordered_json j;
  j["path"] = a["model"].as<std::string>();
  j["format"] = lm.checkpoint.state.format;
  j["weights"] = lm.checkpoint.state.source;
  j["config"] = lm.checkpoint.config_source;
  j["model_type"] = c.model_type;
  j["layers"] = c.num_layers;
  j["hidden"] = c.hidden_size;
  j["heads"] = c.num_heads;
  j["intermediate"] = c.intermediate_size;
  j["vocab"] = c.vocab_size;
  j["max_positions"] = c.max_positions;
  j["activation"] = c.activation;
  j["layer_norm_eps"] = c.layer_norm_eps;
  j["head"] = head_name(lm.model->head);
  j["num_labels"] = c.num_labels;
  j["parameters"] = {{"total", total}, {"backbone", backbone}, {"head", total - backbone}};
  j["norms"] = {{"count", norms.size()}, {"type", norm_type}, {"by_role", roles}};
  j["threads"] = at::get_num_threads();
  j["allocator"] = allocator_summary(allocator_in_use());
  j["lntune_commit"] = build_commit();
  j["cpu_isa"] = kernels::cpu::cpu_isa();  // the fused norms' CPU loops (kernels/cpu_isa.h)
  j["load"] = {{"loaded", lm.report.loaded}, {"unexpected", lm.report.unexpected.size()},
               {"new_head", lm.report.new_head.size()}, {"ignored", lm.report.ignored.size()}};
  if (!lm.checkpoint.tokenizer_dir.empty()) {
    auto tok = Tokenizer::from_dir(lm.checkpoint.tokenizer_dir);
    j["tokenizer"] = {{"kind", tok->kind()}, {"vocab", tok->vocab_size()}};
  }
  if (a.count("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "checkpoint   " << j["path"].get<std::string>() << "\n"
            << "format       " << j["format"].get<std::string>() << " (" << j["weights"].get<std::string>() << ")\n"
            << "config       " << j["config"].get<std::string>() << "\n"
            << "architecture " << c.model_type << ": " << c.num_layers << " layers, hidden " << c.hidden_size << ", "
            << c.num_heads << " heads, intermediate " << c.intermediate_size << ", vocab " << c.vocab_size
            << ", max positions " << c.max_positions << ", " << c.activation << ", eps " << c.layer_norm_eps << "\n"
            << "head         " << head_name(lm.model->head)
            << (lm.model->head == Head::SequenceClassification || lm.model->head == Head::TokenClassification
                    ? " (" + std::to_string(c.num_labels) + " labels)"
                    : std::string())
            << "\n"
            << "parameters   " << thousands(total) << " (backbone " << thousands(backbone) << ", head "
            << thousands(total - backbone) << ")\n"
            << "norms        " << norms.size() << " x " << norm_type << ":";
  for (const auto& [role, n] : roles) std::cout << " " << role << "=" << n;
  std::cout << "\n";
  if (j.contains("tokenizer"))
    std::cout << "tokenizer    " << j["tokenizer"]["kind"].get<std::string>() << ", "
              << j["tokenizer"]["vocab"].get<size_t>() << " tokens\n";
  std::cout << "threads      " << threads_summary() << "\n";
  std::cout << "allocator    " << j["allocator"].get<std::string>() << "\n";
  std::cout << "lntune       " << j["lntune_commit"].get<std::string>() << "\n";
  std::cout << "cpu loops    " << j["cpu_isa"].get<std::string>() << " (fused norms; LNTUNE_CPU_ISA caps it)\n";
  std::cout << "load         " << lm.report.loaded << " tensors loaded, " << lm.report.unexpected.size()
            << " unexpected, " << lm.report.new_head.size() << " new head, " << lm.report.ignored.size()
            << " ignored buffers\n";
  for (const auto& l : lm.report.lines()) std::cout << "  " << l << "\n";
  return 0;
}

}  // namespace lntune::cli
