// The flags `lntune train` and `lntune pretrain` share: --config FILE, --set key=value (repeatable),
// --resume, --dry-run, -h/--help.
#pragma once
#include <string>
#include <vector>

namespace lntune::cli {

struct ConfigCommandArgs {
  std::string config;
  std::vector<std::string> sets;
  bool resume = false;
  bool dry_run = false;
  bool help = false;  // the help was printed: nothing else to do
};

// Throws UsageError when --config is missing (and help was not asked for).
ConfigCommandArgs parse_config_command(int argc, char** argv, const char* program, const char* about,
                                       const char* config_help, const char* dry_run_help);

}  // namespace lntune::cli
