#include "train/trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "config/json_schema.h"
#include "config/run_config.h"
#include "data/batch.h"
#include "peft/method.h"
#include "train/adamw.h"
#include "train/distributed.h"
#include "train/generate.h"
#include "train/metrics.h"
#include "train/precision.h"
#include "train/prefetch.h"
#include "train/run_model.h"
#include "train/run_state.h"
#include "train/schedule.h"
#include "train/step_graph.h"
#include "util/build_info.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

namespace lntune {

namespace {

using Clock = std::chrono::steady_clock;
using Tensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The loss in fp32 whatever precision the logits come in.
torch::Tensor loss_of(const torch::Tensor& logits, const torch::Tensor& labels, bool regression) {
  auto x = logits.to(torch::kFloat);
  if (regression) return torch::mse_loss(x.squeeze(-1), labels);
  return torch::cross_entropy_loss(x, labels);
}

// The task's dev metrics; a generation task also gives what it wrote (`texts`).
std::map<std::string, double> evaluate(TaskModelImpl& model, const TaskData& d, const Tokenizer& tok, const nlohmann::json& cfg,
                                       const Placement& at, std::vector<std::string>& texts) {
  const int64_t bs = cfg["train"]["eval_batch_size"].get<int64_t>(), pad = tok.pad_id();
  if (d.task.generation) return evaluate_generation(model, d, tok, generate_options(cfg, tok, bs), at, &texts);
  const bool reg = d.task.num_labels == 1;
  std::vector<double> pred = predict_rows(model, d.dev, reg, bs, pad, at), gold(d.dev.size());
  for (size_t i = 0; i < d.dev.size(); ++i) gold[i] = d.dev[i].label;
  model.train();
  return compute_metrics(d.task.metrics, pred, gold);
}

// One process's part of a global batch.
struct Share {
  std::vector<size_t> rows;
  double weight = 1;  // rows / (global rows / world)
  LabeledBatch batch;
};

struct ResumeState {
  int64_t step = 0, epoch = 0, batch = 0;
  double best = -1e300;
  int64_t best_step = -1;
  nlohmann::json best_metrics;
  nlohmann::json to_json() const {
    return {{"step", step}, {"epoch", epoch}, {"batch", batch}, {"best", best}, {"best_step", best_step},
            {"best_metrics", best_metrics}};
  }
  static ResumeState from_json(const nlohmann::json& s) {
    ResumeState st;
    st.step = s.at("step").get<int64_t>();
    st.epoch = s.at("epoch").get<int64_t>();
    st.batch = s.at("batch").get<int64_t>();
    st.best = s.at("best").get<double>();
    st.best_step = s.at("best_step").get<int64_t>();
    st.best_metrics = s.at("best_metrics");
    return st;
  }
};

// --resume under settings other than the run's own (its config.json) is allowed — more epochs,
// another eval_every — but the run is then no longer the uninterrupted one it continues (another
// batch_size or seed even reorders the rest of the epoch): say which settings changed.
// stop_after_steps is how a run is interrupted on purpose, so it may change silently.
void warn_changed_settings(const std::string& out, const nlohmann::json& resolved) {
  nlohmann::json before;
  try {
    before = nlohmann::json::parse(read_file(out + "/config.json"));
  } catch (const std::exception&) {
    return;  // no readable config.json: the checkpoint's own checks decide
  }
  std::string changed;
  for (const auto& d : json_differences(before, resolved))
    if (!starts_with(d, "train.stop_after_steps:")) changed += (changed.empty() ? "" : ", ") + d;
  if (!changed.empty())
    spdlog::warn("{}: resumed with settings other than the run's config.json ({}): the losses from here are not those of "
                 "the uninterrupted run",
                 out, changed);
}

// The tensors the optimizer trains, by name: what the best weights hold.
Tensors trainable_tensors(AdamW& opt) {
  Tensors out;
  for (const auto& p : opt.params()) out.emplace_back(p.name, p.value);
  return out;
}

}  // namespace

TrainOutcome train(const nlohmann::json& cfg, const std::string& source, bool resume, bool dry_run) {
  const auto& tc = cfg["train"];
  const std::string out = cfg["output_dir"].get<std::string>();
  peft::resolve_methods(cfg["method"], source);  // config errors before any output or loading
  task_info(cfg["task"], source);
  // The device and the collectives' backend are config errors every rank finds alike: checked
  // before the ranks connect, since a rank that fails after connecting can close the store while
  // another is still joining, which then fails on the lost connection instead of the one line.
  Placement at;
  at.device = resolve_device(tc["device"].get<std::string>(), source, "train.device");
  std::string backend;
  if (!dry_run && DataParallel::world_from_env() > 1)
    backend = DataParallel::resolve_backend(tc["dist_backend"].get<std::string>(), at.device.is_cuda(), DataParallel::nccl_built(),
                                            source, "train.dist_backend", DataParallel::gloo_built());
  // N processes (RANK/WORLD_SIZE...): each takes its share of every batch; rank 0 writes.
  auto dp = dry_run ? nullptr : DataParallel::from_env();
  const bool main_rank = !dp || dp->is_main();
  if (!dry_run && main_rank) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (!is_directory(out)) fail(out, "", "cannot create the output directory");
    if (!resume && file_exists(out + "/latest"))
      fail(out, "", "holds a run already: use --resume to continue it, or another output_dir");
  }
  const uint64_t seed = tc["seed"].get<uint64_t>();
  torch::manual_seed(seed);

  // Model, tokenizer, data.
  RunModel rm = build_run_model(cfg, source);
  auto& model = rm.model;
  auto& applied = rm.applied;
  const auto& summary = rm.summary;
  const auto& tok = rm.tok;
  const TaskInfo& task = rm.task;
  if (at.device.is_cuda() && dp) at.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dp->local_rank()));
  if (dp) dp->start(at.device, backend);
  at.bf16 = tc["bf16"].get<bool>() && at.device.is_cuda();
  // A generation task's batches carry lm_positions of varying length, which one graph per batch
  // shape cannot replay: its steps run eagerly.
  const bool graphed = !task.generation && cuda_graphs_wanted(tc, at.device.is_cuda(), dp != nullptr, StepGraphs::available());
  if (task.generation && tc["cuda_graphs"] == true) fail(source, "train.cuda_graphs", "a generation task (" + task.name + ") runs eagerly");
  if (graphed && !at.device.is_cuda()) fail(source, "train.cuda_graphs", "needs a CUDA device (this run is on the CPU)");
  if (graphed && dp) fail(source, "train.cuda_graphs", "runs in one process (WORLD_SIZE is " + std::to_string(dp->world()) + ")");
  spdlog::info("method {}: {} trainable backbone parameters ({:.4f}% of {}{}), head {}", applied.resolved.dump(),
               summary.trainable_backbone, summary.percent(), summary.backbone_params,
               summary.masked ? "; " + std::to_string(summary.masked) + " more kept fixed by gradient masks" : "",
               summary.head_params);
  if (dry_run) {
    TrainOutcome r;
    r.results = {{"task", task.name}, {"method", applied.resolved}, {"trainable_backbone_params", summary.trainable_backbone},
                 {"backbone_params", summary.backbone_params}, {"trainable_percent", summary.percent()},
                 {"head_params", summary.head_params}};
    return r;
  }
  TaskData data = load_task_data(rm.task_cfg, task, *tok, rm.tok_dir, source);
  const bool regression = data.task.num_labels == 1;
  // Methods add their modules on the CPU; everything moves once, before the optimizer sees it.
  model->to(at.device);
  spdlog::info("device {}{}{}", at.device.str(), at.bf16 ? ", bf16 autocast" : "", graphed ? ", steps replayed as CUDA graphs" : "");
  calibrate_new_dyt_norms(rm, data.train, at);
  if (at.bf16 && tc["frozen_bf16"].get<bool>()) {
    const int64_t n = store_frozen_projections_bf16(*model);
    spdlog::info("frozen projections stored in bf16: {} elements ({:.1f} MB less)", n, 2.0 * static_cast<double>(n) / 1e6);
  }
  // Data-dependent methods (e.g. fisher_ln) see per-sample losses of the training examples.
  peft::prepare_methods(*model, applied, [&](int64_t i) {
    auto b = padded_batch(data.train, {static_cast<size_t>(i)}, tok->pad_id(), regression, at);
    AutocastGuard ac(at.bf16, at.device);
    return loss_of(model->forward(b.inputs).logits, b.labels, regression);
  }, static_cast<int64_t>(data.train.size()));

  AdamWOptions adamw_options;
  adamw_options.impl = tc["adamw_impl"].get<std::string>();
  adamw_options.scalars_on_device = graphed;
  AdamW opt(trainable_params(*model, tc["weight_decay"].get<double>()), adamw_options);
  spdlog::info("AdamW {} over {} trainable tensors{}", opt.impl(), opt.params().size(),
               opt.impl() != adamw_options.impl ? " (not all fp32 on one device: per tensor)" : "");

  nlohmann::json resolved = cfg;
  resolved["method"] = applied.resolved;
  if (main_rank && resume) warn_changed_settings(out, resolved);
  if (main_rank) write_file_atomic(out + "/config.json", resolved.dump(2));

  // batch_size is per process: a step sees world x batch_size examples.
  const int64_t bs = tc["batch_size"].get<int64_t>(), accum = tc["grad_accum"].get<int64_t>();
  const int64_t world = dp ? dp->world() : 1, global_bs = bs * world;
  const int64_t batches_per_epoch = (static_cast<int64_t>(data.train.size()) + global_bs - 1) / global_bs;
  const int64_t updates_per_epoch = (batches_per_epoch + accum - 1) / accum;
  const int64_t epochs = tc["epochs"].get<int64_t>();
  const int64_t total = tc["max_steps"].get<int64_t>() > 0 ? tc["max_steps"].get<int64_t>() : epochs * updates_per_epoch;
  const int64_t warmup = static_cast<int64_t>(tc["warmup_ratio"].get<double>() * static_cast<double>(total) + 0.5);
  const double lr = tc["lr"].get<double>(), clip = tc["max_grad_norm"].get<double>();
  const int64_t log_every = std::max<int64_t>(1, tc["log_every"].get<int64_t>()), eval_every = tc["eval_every"].get<int64_t>();
  const int64_t stop_after = tc["stop_after_steps"].get<int64_t>();
  const int64_t pad = tok->pad_id();
  const std::string metric = data.task.metrics.at(0);
  // Under CUDA graphs, batch lengths round up to a multiple of 16 (one graph per shape): at most
  // max_length / 16 lengths, times two batch sizes (full, and an epoch's last).
  const int64_t max_length = rm.task_cfg["max_length"].get<int64_t>(), pad_multiple = graphed ? 16 : 1;
  spdlog::info("{}: {} train / {} dev examples, {} updates ({} per epoch, warm-up {}), batch {} x {} x {} processes",
               data.task.name, data.train.size(), data.dev.size(), total, updates_per_epoch, warmup, bs, accum, world);
  if (dp)
    spdlog::info("rank {} of {}: {} trainable elements all-reduced per step over {}", dp->rank(), world,
                 DataParallel::bucket_elements([&] {
                   std::vector<torch::Tensor> v;
                   for (auto& p : opt.params()) v.push_back(p.value);
                   return v;
                 }()),
                 dp->backend());

  ResumeState st;
  if (resume) {
    st = ResumeState::from_json(load_run_checkpoint(out, opt));
    spdlog::info("resumed from step {} (epoch {}, batch {})", st.step, st.epoch, st.batch);
  } else if (main_rank) {
    std::remove((out + "/metrics.jsonl").c_str());
  }
  // Each process its own dropout stream (the checkpoint holds rank 0's).
  if (dp && !dp->is_main()) torch::manual_seed(seed + 7919 * static_cast<uint64_t>(dp->rank()) + static_cast<uint64_t>(st.step));

  std::vector<std::string> dev_texts;  // a generation task's outputs at the last evaluation
  auto on_eval = [&](const std::map<std::string, double>& m) {
    if (!main_rank) return;
    nlohmann::json j = {{"step", st.step}, {"epoch", st.epoch}, {"eval", m}};
    append_jsonl(out + "/metrics.jsonl", j);
    spdlog::info("eval step {}: {}", st.step, nlohmann::json(m).dump());
    if (m.at(metric) > st.best) {
      st.best = m.at(metric);
      st.best_step = st.step;
      st.best_metrics = m;
      write_safetensors(out + "/trainable.safetensors", trainable_tensors(opt), {{"step", std::to_string(st.step)}});
      if (!dev_texts.empty()) {  // the best weights' outputs, a line per dev prompt
        std::string lines;
        for (const auto& t : dev_texts) lines += one_line(t) + "\n";
        write_file_atomic(out + "/dev_generations.txt", lines);
      }
    }
  };

  SigintGuard sigint;
  ProgressLine progress;
  model->train();
  auto t0 = Clock::now();
  int64_t tokens = 0, examples = 0, steps_this_run = 0;
  double eval_secs = 0;  // kept out of the per-epoch training time
  auto timed_eval = [&] {
    auto te = Clock::now();
    auto m = evaluate(*model, data, *tok, cfg, at, dev_texts);
    eval_secs += std::chrono::duration<double>(Clock::now() - te).count();
    return m;
  };
  // The losses since the last log line, summed on the device in place (a replayed graph adds into
  // the tensor it was captured with): read back (a host-device sync) only when a line is written,
  // so the host runs ahead of the GPU between log lines.
  auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(at.device));
  int64_t loss_n = 0;
  // Forward and backward of one micro-batch; `share` weights this process's part of the batch.
  auto micro_step = [&](const Batch& inputs, const torch::Tensor& labels, double share) {
    torch::Tensor loss;
    {
      AutocastGuard ac(at.bf16, at.device);
      loss = loss_of(model->forward(inputs).logits, labels, regression);
    }
    auto scaled = dp ? loss * share : loss;
    (accum > 1 ? scaled / static_cast<double>(accum) : scaled).backward();
    loss_sum.add_(loss.detach().to(torch::kDouble), share);
  };
  // The device's share of an update, after the step's last backward (begin_step, the host's, first).
  auto update = [&] {
    if (dp) dp->average_buffers(opt.gradient_buffers());
    for (auto& m : applied.methods) m->after_backward(*model);
    if (clip > 0) opt.clip_grad_norm(clip);
    opt.apply_step();
    opt.zero_grad();
  };
  // train.cuda_graphs: a whole step (grad_accum is 1) replayed per batch shape (train/step_graph.h).
  std::unique_ptr<StepGraphs> graphs;
  if (graphed) {
    StepGraphOptions go;
    go.max_graphs = 2 * ((max_length + pad_multiple - 1) / pad_multiple);
    go.eager_on_failure = !tc["cuda_graphs"].is_boolean();  // "auto": a step that cannot be captured runs eagerly
    graphs = std::make_unique<StepGraphs>(
        [&](const std::vector<torch::Tensor>& in) {
          micro_step(Batch{in[0], in[1], in[2], {}}, in[3], 1.0);
          update();
        },
        go);
  }
  TrainOutcome result;
  bool done = st.step >= total;
  while (!done) {
    const bool shuffle = tc["shuffle"].get<bool>();
    const auto batches = tc["group_by_length"].get<bool>()
                             ? length_grouped_batches(data.train, global_bs, seed, st.epoch, shuffle)
                             : train_batches(data.train.size(), global_bs, seed, st.epoch, shuffle);
    // This process's share of global batch bi, padded and on the device, made one batch ahead
    // on a background thread.
    Prefetcher<Share> prefetch(
        [&](int64_t bi) {
          const auto& global = batches[static_cast<size_t>(bi)];
          Share sh;
          const size_t n = global.size(), lo = n * static_cast<size_t>(dp ? dp->rank() : 0) / static_cast<size_t>(world);
          const size_t hi = n * static_cast<size_t>(dp ? dp->rank() + 1 : 1) / static_cast<size_t>(world);
          sh.rows.assign(global.begin() + static_cast<std::ptrdiff_t>(lo), global.begin() + static_cast<std::ptrdiff_t>(hi));
          // The loss is weighted by the share's size, so the averaged gradient is the global batch's mean.
          sh.weight = static_cast<double>(sh.rows.size()) * static_cast<double>(world) / static_cast<double>(n);
          if (!sh.rows.empty()) sh.batch = padded_batch(data.train, sh.rows, pad, regression, at, pad_multiple, max_length);
          return sh;
        },
        st.batch, batches_per_epoch);
    for (int64_t bi = st.batch; bi < batches_per_epoch && !done; ++bi) {
      Share sh = prefetch.take(bi);
      const auto& rows = sh.rows;
      const double cur = linear_schedule(lr, st.step, warmup, total);
      if (!rows.empty()) {
        auto& b = sh.batch;
        if (graphs) {
          const std::vector<torch::Tensor> in{b.inputs.input_ids, b.inputs.attention_mask, b.inputs.token_type_ids, b.labels};
          if (graphs->will_capture(in)) prefetch.wait();
          opt.begin_step(cur);
          graphs->run(in);  // forward, backward and update
        } else {
          micro_step(b.inputs, b.labels, sh.weight);
        }
        tokens += b.tokens;
        examples += static_cast<int64_t>(rows.size());
      }
      ++loss_n;
      bool boundary = (bi + 1) % accum == 0 || bi + 1 == batches_per_epoch;
      if (!boundary) continue;
      if (!graphs) {
        opt.begin_step(cur);
        update();
      }
      ++st.step;
      ++steps_this_run;
      st.batch = bi + 1;
      double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      const bool log_line = st.step % log_every == 0 || st.step == total;
      double mean_loss = 0;
      if (log_line) {  // every process: under data parallel the mean is a collective
        const double local = loss_sum.item<double>();
        mean_loss = (dp ? dp->average(local) : local) / static_cast<double>(loss_n);
      }
      if (main_rank && log_line) {
        append_jsonl(out + "/metrics.jsonl", {{"step", st.step}, {"epoch", st.epoch}, {"loss", mean_loss}, {"lr", cur},
                                             {"examples_per_s", examples / secs}, {"tokens_per_s", tokens / secs}});
        double eta = secs / steps_this_run * static_cast<double>(total - st.step);
        char line[200];
        std::snprintf(line, sizeof line, "epoch %lld/%lld step %lld/%lld loss %.4f lr %.2e %.2f step/s ETA %s",
                      static_cast<long long>(st.epoch + 1), static_cast<long long>(epochs), static_cast<long long>(st.step),
                      static_cast<long long>(total), mean_loss, cur, steps_this_run / secs, format_duration(eta).c_str());
        progress.show(line);
      }
      if (log_line) {
        loss_sum.zero_();
        loss_n = 0;
      }
      if (main_rank && eval_every > 0 && st.step % eval_every == 0) on_eval(timed_eval());
      done = st.step >= total;
      // Stopping is decided together: a process that stopped alone would leave the others
      // waiting in the next all-reduce.
      bool interrupted = sigint.interrupted();
      if (dp) interrupted = dp->average(interrupted ? 1.0 : 0.0) > 0;
      if (interrupted || (stop_after > 0 && st.step == stop_after)) {
        progress.end();
        if (main_rank) save_run_checkpoint(out, st.step, opt, st.to_json());
        spdlog::warn("stopped at step {}: checkpoint saved, continue with --resume", st.step);
        result.exit_code = interrupted ? 130 : 0;
        result.results = {{"stopped_at", st.step}};
        return result;
      }
    }
    progress.end();
    if (!done || st.batch >= batches_per_epoch) {
      ++st.epoch;
      st.batch = 0;
    }
    if (main_rank && (eval_every == 0 || done)) on_eval(timed_eval());
    if (main_rank) save_run_checkpoint(out, st.step, opt, st.to_json());
    if (st.epoch >= epochs && tc["max_steps"].get<int64_t>() == 0) done = true;  // max_steps may span epochs
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (dp) dp->barrier();  // every process finished its last step
  if (!main_rank) {
    result.results = {{"rank", dp->rank()}, {"steps", st.step}};
    return result;
  }
  // The best weights, in HF PEFT's format when the method has one.
  std::string peft_export;
  if (file_exists(out + "/trainable.safetensors")) {
    torch::NoGradGuard g;
    std::map<std::string, torch::Tensor> best;
    for (auto& [k, v] : read_safetensors(out + "/trainable.safetensors").tensors) best[k] = v;
    for (auto& p : opt.params())
      if (best.count(p.name)) p.value.copy_(best[p.name]);
    std::string why;
    if (peft::export_peft_adapter(*model, applied, cfg["model"]["path"].get<std::string>(), out + "/peft", why)) {
      peft_export = out + "/peft";
      spdlog::info("HF PEFT adapter written to {}", peft_export);
    } else {
      spdlog::info("no HF PEFT export: {}", why);
    }
  }
  result.results = {{"task", data.task.name},
                    {"method", applied.resolved},
                    {"metric", metric},
                    {"best", st.best_metrics},
                    {"best_step", st.best_step},
                    {"steps", st.step},
                    {"trainable_backbone_params", summary.trainable_backbone},
                    {"backbone_params", summary.backbone_params},
                    {"trainable_percent", summary.percent()},
                    {"head_params", summary.head_params},
                    {"lntune_commit", build_commit()},
                    {"train_seconds_this_run", secs},
                    // The paper's efficiency table: training time per epoch (evaluation excluded,
                    // from this run's steps) and the process's peak memory.
                    {"train_seconds_per_epoch", steps_this_run > 0 ? nlohmann::json((secs - eval_secs) / static_cast<double>(steps_this_run) *
                                                                                        static_cast<double>(updates_per_epoch))
                                                                   : nlohmann::json()},
                    {"peak_rss_mb", peak_rss_mb()},
                    {"peak_memory_mb", peak_memory_mb(at.device)},  // RSS on the CPU, allocator peak on a GPU
                    {"device", at.device.str()},
                    {"bf16", at.bf16},
                    {"cuda_graphs", graphs ? nlohmann::json(graphs->graphs()) : nlohmann::json()},  // shapes captured
                    {"train_examples", data.train.size()},
                    // Class names in index order (predict/export read them here, not the data files).
                    {"label_names", data.label_names},
                    {"peft_export", peft_export.empty() ? nlohmann::json() : nlohmann::json(peft_export)},
                    {"dev_examples", data.dev.size()}};
  write_file_atomic(out + "/results.json", result.results.dump(2));
  return result;
}

}  // namespace lntune
