// lntune predict --run DIR [--file F] [--out F.tsv] [--device D] [--batch N] [--probs]
//                [--num-beams N --length-penalty X --early-stopping V --no-repeat-ngram-size N --max-new-tokens N]
//                [--no-kv-cache]
#include <cxxopts.hpp>

#include <iostream>

#include "cli/commands.h"
#include "train/predict.h"

namespace lntune::cli {

int cmd_predict(int argc, char** argv) {
  cxxopts::Options o("lntune predict", "Predict with a finished run's best weights: its dev set, or a file of new examples");
  o.add_options()("run", "run folder written by lntune train", cxxopts::value<std::string>())(
      "file", "examples: a GLUE .tsv (dev or test layout) for GLUE runs, .csv/.jsonl for csv/jsonl runs "
              "(labels optional), an E2E-layout .csv (testset.csv) for e2e runs; default: the run's dev set",
      cxxopts::value<std::string>())(
      "out", "predictions TSV (index, prediction)", cxxopts::value<std::string>()->default_value("RUN/predictions.tsv"))(
      "device", "auto, cpu or cuda", cxxopts::value<std::string>()->default_value("auto"))(
      "batch", "batch size (0: the run's train.eval_batch_size)", cxxopts::value<int64_t>()->default_value("0"))(
      "probs", "classification: add each class's probability (columns p_<label>)")(
      "num-beams", "generation: beam search with N beams (1: greedy); default: the run's task.num_beams", cxxopts::value<int64_t>())(
      "length-penalty", "generation: beam search's length penalty (HF's); default: the run's", cxxopts::value<double>())(
      "early-stopping", "generation: beam search's early stopping, false, true or never (HF's); default: the run's",
      cxxopts::value<std::string>())(
      "no-repeat-ngram-size", "generation: never repeat an n-gram of this size (0: off); default: the run's", cxxopts::value<int64_t>())(
      "max-new-tokens", "generation: tokens written at most; default: the run's", cxxopts::value<int64_t>())(
      "no-kv-cache", "generation: read every sequence whole at each step instead of keeping keys/values (slower; for comparison)")(
      "h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  if (!a.count("run")) throw UsageError{"--run DIR is required"};
  PredictOptions p;
  p.run_dir = a["run"].as<std::string>();
  p.file = a.count("file") ? a["file"].as<std::string>() : "";
  p.out = a.count("out") ? a["out"].as<std::string>() : "";
  p.device = a["device"].as<std::string>();
  p.batch_size = a["batch"].as<int64_t>();
  if (p.batch_size < 0) throw UsageError{"--batch must be >= 0 (0: the run's train.eval_batch_size)"};
  p.probabilities = a.count("probs") > 0;
  if (a.count("num-beams")) p.decoding["num_beams"] = a["num-beams"].as<int64_t>();
  if (a.count("length-penalty")) p.decoding["length_penalty"] = a["length-penalty"].as<double>();
  if (a.count("early-stopping")) {
    const auto e = a["early-stopping"].as<std::string>();
    p.decoding["early_stopping"] = e == "true" ? nlohmann::json(true) : e == "false" ? nlohmann::json(false) : nlohmann::json(e);
  }
  if (a.count("no-repeat-ngram-size")) p.decoding["no_repeat_ngram_size"] = a["no-repeat-ngram-size"].as<int64_t>();
  if (a.count("max-new-tokens")) p.decoding["max_new_tokens"] = a["max-new-tokens"].as<int64_t>();
  p.kv_cache = a.count("no-kv-cache") == 0;
  std::cout << predict(p).dump(2) << "\n";
  return 0;
}

}  // namespace lntune::cli
