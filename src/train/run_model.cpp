#include "train/run_model.h"

#include <spdlog/spdlog.h>

#include "config/norm_config.h"
#include "data/e2e.h"
#include "data/token_cache.h"
#include "models/attention.h"
#include "models/dyt_calibration.h"
#include "train/precision.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune {

namespace {
// Examples the calibrated DyT init fits on (models/dyt_calibration.h): a few thousand rows.
constexpr int64_t kDytCalibrationExamples = 64;
}  // namespace

TaskInfo task_info(const nlohmann::json& t, const std::string& source) {
  std::string name = t["name"].get<std::string>();
  if (name == "e2e") {
    TaskInfo task;
    task.name = name;
    task.num_labels = 0;
    task.metrics = {"bleu", "nist", "rouge_l", "cider"};
    task.generation = true;
    return task;
  }
  if (name == "csv" || name == "jsonl") {
    int64_t k = t["num_labels"].get<int64_t>();
    if (k <= 0) fail(source, "task.num_labels", "must be set for csv/jsonl data (1 = regression)");
    for (const char* f : {"train_file", "dev_file"})
      if (t[f].get<std::string>().empty()) fail(source, std::string("task.") + f, "missing (csv/jsonl data needs train_file and dev_file)");
    TaskInfo task;
    task.name = name;
    task.num_labels = static_cast<int>(k);
    task.metrics = k == 1 ? std::vector<std::string>{"pearson", "spearman"} : std::vector<std::string>{"accuracy"};
    if (k == 2) task.metrics.push_back("f1");
    return task;
  }
  try {
    return glue_task(name);
  } catch (const Error& e) {
    fail(source, "task.name", std::string(e.what()) + ", or csv, jsonl, e2e");
  }
}

Head task_head(const TaskInfo& task) { return task.generation ? Head::LanguageModel : Head::SequenceClassification; }

namespace {

// Keeps the first n rows (task.max_train_examples / max_eval_examples; 0 keeps all).
template <typename T>
void cap(std::vector<T>& v, int64_t n) {
  if (n > 0 && static_cast<int64_t>(v.size()) > n) v.resize(static_cast<size_t>(n));
}

// E2E (task.data_dir holds its CSV files): the official trainset.csv and devset.csv when both are
// there; else devset.csv split by meaning representation (data/e2e.h), as ../shared holds it.
// Tokenised here each run (5k short rows: no token cache).
TaskData load_e2e(const nlohmann::json& t, const TaskInfo& task, const Tokenizer& tok, const std::string& source) {
  const std::string dir = t["data_dir"].get<std::string>();
  if (dir.empty()) fail(source, "task.data_dir", "missing (the folder of E2E's devset.csv)");
  const auto eos = tok.token_to_id("<|endoftext|>");
  if (!eos) fail(source, "task.name", "e2e needs a GPT-2 tokenizer (this one has no <|endoftext|>)");
  E2ESplit split;
  if (file_exists(dir + "/trainset.csv")) {
    split.train = read_e2e(dir + "/trainset.csv");
    split.eval = read_e2e(dir + "/devset.csv");
  } else {
    split = split_e2e(read_e2e(dir + "/devset.csv"));
    spdlog::info("e2e: no trainset.csv in {}: devset.csv split by meaning representation, {} to train, {} to evaluate",
                 dir, split.train.size(), split.eval.size());
  }
  cap(split.eval, t["max_eval_examples"].get<int64_t>());
  const int64_t L = t["max_length"].get<int64_t>();
  TaskData d;
  d.task = task;
  d.train = encode_e2e_train(tok, split.train, L, *eos);
  cap(d.train, t["max_train_examples"].get<int64_t>());
  d.dev = encode_e2e_prompts(tok, split.eval, L);
  for (auto& item : split.eval) d.references.push_back(std::move(item.refs));
  return d;
}

}  // namespace

TaskData load_task_data(const nlohmann::json& t, const TaskInfo& task, const Tokenizer& tok, const std::string& tok_dir,
                        const std::string& source) {
  if (task.generation) return load_e2e(t, task, tok, source);
  TaskData d;
  d.task = task;
  const bool generic = task.generic();
  const int64_t L = t["max_length"].get<int64_t>();
  // format 2: csv/jsonl labels settled over both files (settle_labels); 1 read "0"/"1" and names
  // into one numbering.
  nlohmann::json id = {{"format", 2}, {"task", task.name}, {"num_labels", task.num_labels}, {"max_length", L},
                       {"max_train_examples", t["max_train_examples"]}, {"max_eval_examples", t["max_eval_examples"]},
                       {"tokenizer", folder_identity(tok_dir)}, {"tokenizer_kind", tok.kind()}};
  std::string dir = t["data_dir"].get<std::string>();
  if (generic) {
    id["train_file"] = file_identity(t["train_file"].get<std::string>());
    id["dev_file"] = file_identity(t["dev_file"].get<std::string>());
  } else {
    if (dir.empty()) fail(source, "task.data_dir", "missing");
    id["data_dir"] = folder_identity(dir);
  }
  const bool cached = t["token_cache"].get<bool>();
  const std::string key = id.dump(), cache = token_cache_path(token_cache_dir(), task.name, key);
  EncodedSplits splits;
  if (cached && read_encoded_cache(cache, key, splits)) {
    spdlog::info("{}: {} train / {} dev examples from the token cache {}", task.name, splits.train.size(), splits.dev.size(), cache);
    d.train = std::move(splits.train);
    d.dev = std::move(splits.dev);
    d.label_names = generic ? std::move(splits.label_names) : task.label_names;
    return d;
  }
  std::vector<Example> train, dev;
  if (generic) {
    std::vector<std::string> labels;
    train = read_generic(t["train_file"].get<std::string>(), labels, task.num_labels == 1);
    dev = read_generic(t["dev_file"].get<std::string>(), labels, task.num_labels == 1);
    if (task.num_labels > 1) {
      const int64_t need = settle_labels(labels, {&train, &dev});
      if (need > task.num_labels) {
        std::string what = "class index " + std::to_string(need - 1);
        if (!labels.empty()) {
          what = std::to_string(labels.size()) + " labels (";
          for (size_t i = 0; i < labels.size() && i < 10; ++i) what += (i ? ", " : "") + labels[i];
          what += labels.size() > 10 ? ", ...)" : ")";
        }
        fail(source, "task.num_labels", "is " + std::to_string(task.num_labels) + ", but the data has " + what);
      }
      splits.label_names = labels;
    }
  } else {
    train = read_glue(d.task, dir, "train");
    dev = read_glue(d.task, dir, "dev");
  }
  cap(train, t["max_train_examples"].get<int64_t>());
  cap(dev, t["max_eval_examples"].get<int64_t>());
  splits.train = encode_examples(tok, train, L);
  splits.dev = encode_examples(tok, dev, L);
  d.label_names = generic ? splits.label_names : task.label_names;
  if (cached) {
    try {
      write_encoded_cache(cache, key, splits);
    } catch (const Error& e) {
      spdlog::warn("token cache not written (the run goes on): {}", e.what());
    }
  }
  d.train = std::move(splits.train);
  d.dev = std::move(splits.dev);
  return d;
}

LabeledBatch padded_batch(const std::vector<Encoded>& data, const std::vector<size_t>& rows, int64_t pad, bool regression,
                          const Placement& at, int64_t pad_multiple, int64_t max_length) {
  auto b = make_batch(data, rows, pad, regression, pad_multiple, max_length);
  if (at.device.is_cpu()) return b;
  for (auto* t : {&b.inputs.input_ids, &b.inputs.attention_mask, &b.inputs.token_type_ids, &b.inputs.lm_positions, &b.labels})
    if (t->defined()) *t = t->to(at.device, /*non_blocking=*/true);
  return b;
}

RunModel build_run_model(const nlohmann::json& cfg, const std::string& source) {
  RunModel rm;
  Checkpoint ck = open_checkpoint(cfg["model"]["path"].get<std::string>());
  rm.tok_dir = cfg["tokenizer"].get<std::string>();
  if (rm.tok_dir.empty()) rm.tok_dir = ck.tokenizer_dir;
  if (rm.tok_dir.empty()) fail(source, "tokenizer", "missing, and the model folder holds no tokenizer files");
  rm.tok = Tokenizer::from_dir(rm.tok_dir);
  rm.task = task_info(cfg["task"], source);
  if (!rm.task.generation) {  // an LM head has no classes
    ck.config.num_labels = rm.task.num_labels;
    ck.config.label_names = rm.task.label_names;  // not the base checkpoint's (another task's) names
  }
  ck.config.attention = resolve_attention(cfg["model"]["attention"].get<std::string>(), source);
  ck.config.dropout_impl = cfg["model"]["dropout_impl"].get<std::string>();
  if (double p = cfg["model"]["dropout"].get<double>(); p >= 0) {
    // Every dropout of the model (e.g. 0 for loss-parity checks against another trainer).
    ck.config.hidden_dropout = ck.config.attention_dropout = ck.config.embedding_dropout = p;
    ck.config.classifier_dropout = p;
  }
  rm.norm = resolve_norm(norm_options(cfg["model"]["norm"]), ck, source + ": model.norm.type");
  if (rm.task.generation && ck.config.is_bert())
    fail(source, "task.name", rm.task.name + " generates text: it needs a GPT-2 model, and model.path holds a BERT one");
  rm.model = build_model(ck.config, task_head(rm.task), rm.norm);
  LoadOptions lo;
  lo.reinit_mismatched_head = true;
  rm.report = load_weights(*rm.model, ck.state, lo);
  for (const auto& l : rm.report.lines()) spdlog::info("{}", l);
  // Only the head keys the checkpoint lacks start fresh. (init_weights with an empty list means
  // every parameter: a checkpoint that brings its whole head must not be re-initialised.)
  if (!rm.report.new_head.empty()) init_weights(*rm.model, 0.02, rm.report.new_head);
  const int64_t backbone = count_backbone_parameters(*rm.model);  // before methods add modules
  rm.applied = peft::apply_methods(*rm.model, cfg["method"], source);
  rm.summary = peft::summarize(*rm.model, backbone, rm.applied);
  // After the methods: a soft prompt or shifted prefix takes positions before the tokens.
  rm.task_cfg = cfg["task"];
  const int64_t asked = rm.task_cfg["max_length"].get<int64_t>(), room = token_positions(*rm.model);
  if (room < 8)
    fail(source, "method", "leaves " + std::to_string(room) + " of the model's " + std::to_string(ck.config.max_positions) +
                               " positions for tokens (a prompt or shifted prefix takes the rest)");
  if (asked > room) {
    spdlog::warn("{}: task.max_length {} is more than the {} positions the model has for tokens{}: using {}", source, asked, room,
                 room < ck.config.max_positions ? " after the method's prompt or prefix" : "", room);
    rm.task_cfg["max_length"] = room;
  }
  return rm;
}

bool needs_dyt_calibration(const RunModel& rm) {
  return rm.norm.type() == "dyt" && rm.norm.dyt_init() == "calibrated" && !rm.report.dyt_alpha.empty();
}

void calibrate_new_dyt_norms(RunModel& rm, const std::vector<Encoded>& train, const Placement& at) {
  if (!needs_dyt_calibration(rm)) {
    if (rm.norm.type() == "dyt" && rm.norm.dyt_init() == "calibrated")
      spdlog::info("model.norm.dyt_init calibrated: nothing to fit, the checkpoint's DyT norms were loaded");
    return;
  }
  const bool regression = rm.task.num_labels == 1;
  const int64_t n = std::min<int64_t>(kDytCalibrationExamples, static_cast<int64_t>(train.size()));
  auto cal = calibrate_dyt(*rm.model, rm.norm.dyt_alpha_init(), [&] {
    for (int64_t i = 0; i < n; ++i)
      rm.model->forward(padded_batch(train, {static_cast<size_t>(i)}, rm.tok->pad_id(), regression, at).inputs);
  });
  spdlog::info("dyt_init calibrated on {} training examples: {}", n, cal.describe());
}

std::vector<double> predict_rows(TaskModelImpl& model, const std::vector<Encoded>& data, bool regression, int64_t batch_size,
                                 int64_t pad, const Placement& at, std::vector<std::vector<double>>* probabilities) {
  model.eval();
  torch::NoGradGuard g;
  std::vector<double> pred(data.size());
  if (probabilities) probabilities->assign(data.size(), {});
  for (const auto& rows : eval_batches(data, batch_size)) {
    auto b = padded_batch(data, rows, pad, regression, at);
    torch::Tensor logits;
    {
      AutocastGuard ac(at.bf16, at.device);
      logits = model.forward(b.inputs).logits;
    }
    logits = logits.to(torch::kFloat);
    auto p = (regression ? logits.squeeze(-1) : logits.argmax(-1)).to(torch::kCPU, torch::kDouble);
    auto acc = p.accessor<double, 1>();
    for (size_t i = 0; i < rows.size(); ++i) pred[rows[i]] = acc[static_cast<int64_t>(i)];
    if (probabilities && !regression) {
      auto pr = torch::softmax(logits, -1).to(torch::kCPU, torch::kDouble).contiguous();
      const double* d = pr.data_ptr<double>();
      const int64_t k = pr.size(1);
      for (size_t i = 0; i < rows.size(); ++i) (*probabilities)[rows[i]].assign(d + i * k, d + (i + 1) * k);
    }
  }
  return pred;
}

}  // namespace lntune
