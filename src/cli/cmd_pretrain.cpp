// lntune pretrain --config FILE [--set key=value ...] [--resume] [--dry-run]
#include <iostream>

#include "cli/commands.h"
#include "cli/config_command.h"
#include "config/pretrain_config.h"
#include "pretrain/pretrainer.h"

namespace lntune::cli {

int cmd_pretrain(int argc, char** argv) {
  auto a = parse_config_command(argc, argv, "lntune pretrain",
                                "Pretrain BERT (masked LM) or GPT-2 (causal LM) on a text corpus",
                                "pretrain config (JSON), e.g. configs/pretrain/bert-mini.json",
                                "check the config and build the model; print its summary");
  if (a.help) return 0;
  auto cfg = load_pretrain_config(a.config, a.sets);
  auto outcome = pretrain(cfg, a.config, a.resume, a.dry_run);
  if (outcome.exit_code == 0 && !outcome.results.contains("stopped_at")) std::cout << outcome.results.dump(2) << "\n";
  return outcome.exit_code;
}

}  // namespace lntune::cli
