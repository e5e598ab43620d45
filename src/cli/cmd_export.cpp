// lntune export --run DIR --out FOLDER
#include <cxxopts.hpp>

#include <iostream>

#include "cli/commands.h"
#include "train/export_run.h"

namespace lntune::cli {

int cmd_export(int argc, char** argv) {
  cxxopts::Options o("lntune export", "Write a finished run as a plain HF-layout model folder (LoRA and IA3 merged)");
  o.add_options()("run", "run folder written by lntune train", cxxopts::value<std::string>())(
      "out", "model folder to write", cxxopts::value<std::string>())("h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  if (!a.count("run") || !a.count("out")) throw UsageError{"--run DIR and --out FOLDER are required"};
  std::cout << export_run(a["run"].as<std::string>(), a["out"].as<std::string>()).dump(2) << "\n";
  return 0;
}

}  // namespace lntune::cli
