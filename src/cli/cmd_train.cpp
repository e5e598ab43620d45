// lntune train --config FILE [--set key=value ...] [--resume] [--dry-run]
#include <iostream>

#include "cli/commands.h"
#include "cli/config_command.h"
#include "config/run_config.h"
#include "train/trainer.h"

namespace lntune::cli {

int cmd_train(int argc, char** argv) {
  auto a = parse_config_command(argc, argv, "lntune train", "Fine-tune a checkpoint on a task with a PEFT method",
                                "run config (JSON)",
                                "check the config, build the model, apply the method, print the trainable summary");
  if (a.help) return 0;
  auto cfg = load_run_config(a.config, a.sets);
  auto outcome = train(cfg, a.config, a.resume, a.dry_run);
  // Results are printed once: by the single process, or by rank 0 of a data-parallel run.
  if (outcome.exit_code == 0 && !outcome.results.contains("stopped_at") && !outcome.results.contains("rank"))
    std::cout << outcome.results.dump(2) << "\n";
  return outcome.exit_code;
}

}  // namespace lntune::cli
