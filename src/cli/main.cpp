// The lntune command: dispatches sub-commands and turns every exception into one line on stderr
// and a non-zero exit code (1: bad input or runtime failure, 2: bad usage).
#include <cxxopts.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "util/build_info.h"
#include "util/error.h"
#include "util/allocator.h"
#include "util/threads.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* help;
};

const Command kCommands[] = {
    {"info", lntune::cli::cmd_info, "print a checkpoint's architecture, parameter count and norms"},
    {"tokenize", lntune::cli::cmd_tokenize, "print model input ids for each line of stdin"},
    {"train", lntune::cli::cmd_train, "fine-tune a checkpoint on a task with a PEFT method"},
    {"predict", lntune::cli::cmd_predict, "predict with a finished run: its dev set or a file of new examples"},
    {"export", lntune::cli::cmd_export, "write a finished run as a plain model folder (LoRA and IA3 merged)"},
    {"pretrain", lntune::cli::cmd_pretrain, "pretrain BERT (masked LM) or GPT-2 (causal LM) on a text corpus"},
    {"init", lntune::cli::cmd_init, "write a seeded (untrained) model folder"},
    {"forward", lntune::cli::cmd_forward, "write a checkpoint's outputs for one input (parity checks)"},
    {"bench-train", lntune::cli::cmd_bench_train, "training-step speed and memory per PEFT method"},
    {"bench-norm", lntune::cli::cmd_bench_norm, "fused LayerNorm/DyT kernels against torch's ops"},
};

// Errors are one line: keep the first line of multi-line library messages.
std::string one_line(const std::string& s) { return s.substr(0, s.find('\n')); }

void usage(std::ostream& o) {
  o << "usage: lntune <command> [options]\n\ncommands:\n";
  for (const auto& c : kCommands) o << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.help << "\n";
  o << "\n'lntune <command> --help' for a command's options; 'lntune --version' the commit it was built from.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::cout << "lntune " << lntune::build_commit() << "\n";
    return 0;
  }
  // Logs and progress go to stderr; stdout carries results (ids, JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("lntune"));
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  try {
    lntune::configure_allocator();  // before the first large allocation
    lntune::configure_threads();
    for (const auto& c : kCommands)
      if (!std::strcmp(argv[1], c.name)) return c.run(argc - 1, argv + 1);
    std::cerr << "lntune: unknown command '" << argv[1] << "'\n";
    usage(std::cerr);
    return 2;
  } catch (const lntune::cli::UsageError& e) {
    std::cerr << "lntune " << argv[1] << ": " << e.what << " (see --help)\n";
    return 2;
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "lntune " << argv[1] << ": " << e.what() << "\n";
    return 2;
  } catch (const lntune::Error& e) {
    std::cerr << "lntune: error: " << one_line(e.what()) << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "lntune: error: " << one_line(e.what_without_backtrace()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "lntune: error: " << one_line(e.what()) << "\n";
    return 1;
  }
}
