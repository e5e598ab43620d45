#include "train/predict.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "config/run_config.h"
#include "data/e2e.h"
#include "train/finished_run.h"
#include "train/generate.h"
#include "train/metrics.h"
#include "train/text_metrics.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

namespace lntune {

namespace {

std::string format_prediction(double p, const TaskInfo& task, const std::vector<std::string>& names) {
  if (task.num_labels == 1) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", p);
    return buf;
  }
  const auto k = static_cast<size_t>(p);
  return k < names.size() ? names[k] : std::to_string(k);
}

int64_t batch_size(const PredictOptions& o, const nlohmann::json& cfg) {
  return o.batch_size > 0 ? o.batch_size : cfg["train"]["eval_batch_size"].get<int64_t>();
}

// The run's config with options.decoding's task keys in place, checked as a config is.
nlohmann::json with_decoding(const nlohmann::json& cfg, const nlohmann::json& decoding) {
  nlohmann::json c = cfg;
  for (const auto& [k, v] : decoding.items()) {
    if (!c["task"].contains(k)) throw Error("predict: \"" + k + "\" is not a decoding setting");
    c["task"][k] = v;
  }
  return resolve_run_config(c, {}, "lntune predict");
}

// A generation run (e2e): its dev prompts, or the MRs of an E2E-layout .csv (testset.csv; with a
// `ref` column, scored), decoded as the run's config (or options.decoding) says; a row per MR in
// file order.
nlohmann::json predict_generation(const PredictOptions& o, FinishedRun& run) {
  const nlohmann::json cfg = with_decoding(run.config, o.decoding);
  RunModel& rm = run.rm;
  TaskData data;
  data.task = rm.task;
  std::string source = "dev";
  if (o.file.empty()) {
    data = std::move(run.data);
  } else {
    source = o.file;
    auto items = read_e2e(o.file);
    data.dev = encode_e2e_prompts(*rm.tok, items, rm.task_cfg["max_length"].get<int64_t>());
    for (auto& it : items) data.references.push_back(std::move(it.refs));
  }
  const bool scored = std::all_of(data.references.begin(), data.references.end(), [](const auto& r) { return !r.empty(); });
  auto decoding = generate_options(cfg, *rm.tok, batch_size(o, cfg));
  decoding.kv_cache = o.kv_cache;
  const auto texts = generate_texts(*rm.model, data.dev, *rm.tok, decoding, run.at);
  std::string tsv = "index\tprediction\n";
  for (size_t i = 0; i < texts.size(); ++i) tsv += std::to_string(i) + "\t" + one_line(texts[i]) + "\n";
  const std::string out = o.out.empty() ? o.run_dir + "/predictions.tsv" : o.out;
  write_file_atomic(out, tsv);
  nlohmann::json metrics;
  if (scored)
    for (const auto& [k, v] : text_metrics(rm.task.metrics, texts, data.references)) metrics[k] = v;
  spdlog::info("{} prompts written ({}), to {}", texts.size(),
               decoding.num_beams > 1 ? "beam search, " + std::to_string(decoding.num_beams) + " beams" : std::string("greedy"), out);
  return {{"run", o.run_dir}, {"file", source},        {"examples", texts.size()},
          {"predictions", out}, {"metrics", metrics}, {"decoding", decoding_json(decoding)}};
}

}  // namespace

nlohmann::json predict(const PredictOptions& o) {
  FinishedRun run = open_finished_run(o.run_dir, o.device, /*with_data=*/o.file.empty());
  const nlohmann::json& cfg = run.config;
  RunModel& rm = run.rm;
  const TaskInfo& task = rm.task;
  const bool regression = task.num_labels == 1, generic = task.generic();

  if (task.generation) return predict_generation(o, run);
  if (!o.decoding.empty()) throw Error("predict: decoding settings (--num-beams, ...) are for generation runs; " + o.run_dir + " is a " + task.name + " run");
  const std::vector<std::string>& names = run.label_names;
  std::vector<Encoded> rows;
  bool labeled = true;
  std::string source = o.file;
  if (o.file.empty()) {
    rows = std::move(run.data.dev);
    source = "dev";
  } else {
    std::vector<Example> ex;
    if (generic) {
      // A run on named labels reads the file's under its names; a run on class indices (no
      // names) settles the file's on their own, and they must be indices below num_labels.
      std::vector<std::string> file_names = names;
      ex = read_generic(o.file, file_names, regression, /*labels_optional=*/true);
      if (!regression && names.empty()) {
        for (const auto& n : file_names)
          if (!is_class_index(n) || std::stoll(n) >= task.num_labels)
            fail(o.file, "label", "'" + n + "' is not a label the run was trained on (class indices 0-" +
                                      std::to_string(task.num_labels - 1) + ")");
        settle_labels(file_names, {&ex});
      } else if (!regression && file_names.size() > names.size()) {
        fail(o.file, "label", "'" + file_names[names.size()] + "' is not a label the run was trained on");
      }
    } else {
      if (!ends_with(o.file, ".tsv")) fail(o.file, "", "a GLUE run predicts on a .tsv file (the task's dev or test layout)");
      ex = read_glue_file(task, o.file, labeled);
    }
    for (const auto& e : ex) labeled = labeled && !std::isnan(e.label);
    rows = encode_examples(*rm.tok, ex, rm.task_cfg["max_length"].get<int64_t>());
    // make_batch turns labels into class indices: no NaN in there (the labels are unused here).
    if (!labeled)
      for (auto& r : rows) r.label = 0;
  }
  const int64_t bs = batch_size(o, cfg);
  const bool probs = o.probabilities && !regression;
  std::vector<std::vector<double>> p;
  std::vector<double> pred = predict_rows(*rm.model, rows, regression, bs, rm.tok->pad_id(), run.at, probs ? &p : nullptr);

  std::string tsv = "index\tprediction";
  for (int k = 0; probs && k < task.num_labels; ++k)
    tsv += "\tp_" + (static_cast<size_t>(k) < names.size() ? names[k] : std::to_string(k));
  tsv += "\n";
  char buf[32];
  for (size_t i = 0; i < pred.size(); ++i) {
    tsv += std::to_string(i) + "\t" + format_prediction(pred[i], task, names);
    for (size_t k = 0; probs && k < p[i].size(); ++k) {
      std::snprintf(buf, sizeof buf, "\t%.6f", p[i][k]);
      tsv += buf;
    }
    tsv += "\n";
  }
  const std::string out = o.out.empty() ? o.run_dir + "/predictions.tsv" : o.out;
  write_file_atomic(out, tsv);
  nlohmann::json metrics;
  if (labeled) {
    std::vector<double> gold(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) gold[i] = rows[i].label;
    for (const auto& [k, v] : compute_metrics(task.metrics, pred, gold)) metrics[k] = v;
  }
  spdlog::info("{} examples predicted, written to {}", pred.size(), out);
  return {{"run", o.run_dir}, {"file", source}, {"examples", pred.size()}, {"predictions", out}, {"metrics", metrics}};
}

}  // namespace lntune
