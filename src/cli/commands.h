// lntune sub-commands. Each parses its own flags and returns the process exit code; errors
// propagate as exceptions for main() to print as one line.
#pragma once

namespace lntune::cli {

int cmd_info(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_predict(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_init(int argc, char** argv);
int cmd_pretrain(int argc, char** argv);
int cmd_forward(int argc, char** argv);
int cmd_bench_train(int argc, char** argv);
int cmd_bench_norm(int argc, char** argv);

// Thrown for bad command-line usage (exit code 2).
struct UsageError {
  const char* what;
};

}  // namespace lntune::cli
