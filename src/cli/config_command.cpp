#include "cli/config_command.h"

#include <cxxopts.hpp>

#include <iostream>

#include "cli/commands.h"

namespace lntune::cli {

ConfigCommandArgs parse_config_command(int argc, char** argv, const char* program, const char* about,
                                       const char* config_help, const char* dry_run_help) {
  cxxopts::Options o(program, about);
  o.add_options()("config", config_help, cxxopts::value<std::string>())(
      "set", "override a config key: a.b=value (repeatable)", cxxopts::value<std::vector<std::string>>())(
      "resume", "continue the run in output_dir from its latest checkpoint")("dry-run", dry_run_help)(
      "h,help", "show help");
  auto a = o.parse(argc, argv);
  ConfigCommandArgs args;
  if (a.count("help")) {
    std::cout << o.help() << "\n";
    args.help = true;
    return args;
  }
  if (!a.count("config")) throw UsageError{"--config FILE is required"};
  args.config = a["config"].as<std::string>();
  if (a.count("set")) args.sets = a["set"].as<std::vector<std::string>>();
  args.resume = a.count("resume") > 0;
  args.dry_run = a.count("dry-run") > 0;
  return args;
}

}  // namespace lntune::cli
