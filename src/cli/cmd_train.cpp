// lntune train --config FILE [--set key=value ...] [--resume]
#include <cxxopts.hpp>

#include <iostream>

#include "cli/commands.h"
#include "config/run_config.h"
#include "train/trainer.h"

namespace lntune::cli {

int cmd_train(int argc, char** argv) {
  cxxopts::Options o("lntune train", "Fine-tune a checkpoint on a task with a PEFT method");
  o.add_options()("config", "run config (JSON)", cxxopts::value<std::string>())(
      "set", "override a config key: a.b=value (repeatable)", cxxopts::value<std::vector<std::string>>())(
      "resume", "continue the run in output_dir from its latest checkpoint")(
      "dry-run", "check the config, build the model, apply the method, print the trainable summary")("h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  if (!a.count("config")) throw UsageError{"--config FILE is required"};
  std::vector<std::string> sets;
  if (a.count("set")) sets = a["set"].as<std::vector<std::string>>();
  std::string path = a["config"].as<std::string>();
  auto cfg = load_run_config(path, sets);
  auto outcome = train(cfg, path, a.count("resume") > 0, a.count("dry-run") > 0);
  // Results are printed once: by the single process, or by rank 0 of a data-parallel run.
  if (outcome.exit_code == 0 && !outcome.results.contains("stopped_at") && !outcome.results.contains("rank"))
    std::cout << outcome.results.dump(2) << "\n";
  return outcome.exit_code;
}

}  // namespace lntune::cli
