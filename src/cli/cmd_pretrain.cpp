// lntune pretrain --config FILE [--set key=value ...] [--resume] [--dry-run]
#include <cxxopts.hpp>

#include <iostream>

#include "cli/commands.h"
#include "config/pretrain_config.h"
#include "pretrain/pretrainer.h"

namespace lntune::cli {

int cmd_pretrain(int argc, char** argv) {
  cxxopts::Options o("lntune pretrain", "Pretrain BERT (masked LM) or GPT-2 (causal LM) on a text corpus");
  o.add_options()("config", "pretrain config (JSON), e.g. configs/pretrain/bert-mini.json", cxxopts::value<std::string>())(
      "set", "override a config key: a.b=value (repeatable)", cxxopts::value<std::vector<std::string>>())(
      "resume", "continue the run in output_dir from its latest checkpoint")(
      "dry-run", "check the config and build the model; print its summary")("h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  if (!a.count("config")) throw UsageError{"--config FILE is required"};
  std::vector<std::string> sets;
  if (a.count("set")) sets = a["set"].as<std::vector<std::string>>();
  std::string path = a["config"].as<std::string>();
  auto cfg = load_pretrain_config(path, sets);
  auto outcome = pretrain(cfg, path, a.count("resume") > 0, a.count("dry-run") > 0);
  if (outcome.exit_code == 0 && !outcome.results.contains("stopped_at")) std::cout << outcome.results.dump(2) << "\n";
  return outcome.exit_code;
}

}  // namespace lntune::cli
