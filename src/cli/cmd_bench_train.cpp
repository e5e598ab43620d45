// lntune bench-train: steps/s, tokens/s and peak memory of one training step per PEFT method on
// a fixed synthetic batch, and each method's step time relative to full fine-tuning. Each
// method runs in its own child process (this binary, --method), so peak RSS is its own.
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "io/checkpoint.h"
#include "models/attention.h"
#include "models/presets.h"
#include "peft/method.h"
#include "train/adamw.h"
#include "train/distributed.h"
#include "train/op_count.h"
#include "train/precision.h"
#include "train/run_state.h"
#include "train/step_graph.h"
#include "util/error.h"
#include "util/threads.h"

namespace lntune::cli {

namespace {

using Clock = std::chrono::steady_clock;

// How one method's steps run.
struct StepSettings {
  int64_t B = 8, T = 128, steps = 5, warmup = 1;
  torch::Device dev = torch::kCPU;
  bool bf16 = false, frozen_bf16 = true, cuda_graphs = false;
  std::string adamw_impl = "fused";
};

// One method: build, apply, warm up, time `steps` full training steps (forward, backward,
// clipping, AdamW). Prints one JSON line.
nlohmann::json bench_one(const std::shared_ptr<TaskModelImpl>& model, const std::string& method, StepSettings st) {
  const int64_t B = st.B, T = st.T, steps = st.steps;
  const auto dev = st.dev;
  bool bf16 = st.bf16, frozen_bf16 = st.frozen_bf16;
  const int64_t backbone = count_backbone_parameters(*model);
  auto applied = peft::apply_methods(*model, nlohmann::json{{"name", method}}, "--method");
  auto summary = peft::summarize(*model, backbone, applied);
  model->to(dev);  // after the method: the layers it adds move too
  bf16 = bf16 && dev.is_cuda();
  frozen_bf16 = bf16 && frozen_bf16 && store_frozen_projections_bf16(*model) > 0;  // as lntune train does
  torch::manual_seed(0);
  Batch b;
  b.input_ids = torch::randint(1000, std::min<int64_t>(model->config.vocab_size, 20000), {B, T}, torch::kLong).to(dev);
  b.attention_mask = torch::ones({B, T}, torch::kLong).to(dev);
  auto labels = torch::randint(0, model->config.num_labels, {B}, torch::kLong).to(dev);
  auto loss_on = [&](const Batch& in, const torch::Tensor& y) {
    AutocastGuard autocast(bf16, dev);  // bf16 matmuls on CUDA; fp32 parameters and optimizer state
    return torch::cross_entropy_loss(model->forward(in).logits.to(torch::kFloat), y);
  };
  // Data-dependent methods (fisher_ln's selection) see the batch's rows one at a time, as lntune
  // train shows them its first training examples.
  peft::prepare_methods(*model, applied, [&](int64_t i) {
    return loss_on(Batch{b.input_ids.narrow(0, i, 1), b.attention_mask.narrow(0, i, 1), {}, {}}, labels.narrow(0, i, 1));
  }, B);
  AdamWOptions ao;
  ao.impl = st.adamw_impl;
  ao.scalars_on_device = st.cuda_graphs;
  AdamW opt(trainable_params(*model, 0.01), ao);
  std::vector<torch::Tensor> ps;
  for (auto& p : opt.params()) ps.push_back(p.value);
  auto apply_update = [&] {  // what follows the backward, as lntune train does it
    for (auto& m : applied.methods) m->after_backward(*model);  // fisher_ln's gradient masks
    opt.clip_grad_norm(1.0);
    opt.apply_step();
    opt.zero_grad();
  };
  auto update = [&] {
    opt.begin_step(1e-4);
    apply_update();
  };
  auto forward_backward_on = [&](const Batch& in, const torch::Tensor& y) { loss_on(in, y).backward(); };
  auto forward_backward = [&] { forward_backward_on(b, labels); };
  // --cuda-graphs: the step captured once, then replayed (train/step_graph.h); the warm-up covers
  // the eager steps and the capture.
  std::unique_ptr<StepGraphs> graphs;
  int64_t warmup = st.warmup;
  if (st.cuda_graphs) {
    StepGraphOptions go;
    graphs = std::make_unique<StepGraphs>(
        [&](const std::vector<torch::Tensor>& in) {
          forward_backward_on(Batch{in[0], in[1], {}, {}}, in[2]);
          apply_update();
        },
        go);
    warmup = std::max(warmup, go.warmup + 1);
  }
  auto step = [&] {
    if (graphs) {
      opt.begin_step(1e-4);
      graphs->run({b.input_ids, b.attention_mask, labels});
      return;
    }
    forward_backward();
    update();
  };
  for (int64_t i = 0; i < warmup; ++i) step();
  synchronize(dev);
  auto t0 = Clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  synchronize(dev);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  // The update's share of a step (clipping, AdamW, zeroing), timed alone after untimed
  // forward/backward passes (it starts from the gradients a backward leaves), over up to 5 rounds.
  double update_secs = 0;
  const int64_t update_rounds = std::min<int64_t>(steps, 5);
  for (int64_t i = 0; i < update_rounds; ++i) {
    forward_backward();
    synchronize(dev);
    t0 = Clock::now();
    update();
    synchronize(dev);
    update_secs += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  // Operators dispatched (≈ kernel launches on a GPU; src/train/op_count.h), counted after the
  // timing since the counter costs time.
  const int64_t step_ops = count_ops(step);
  forward_backward();
  const int64_t update_ops = count_ops(update);
  return {{"method", method}, {"step_ms", 1000.0 * secs / static_cast<double>(steps)},
          {"steps_per_s", static_cast<double>(steps) / secs},
          {"update_ms", 1000.0 * update_secs / static_cast<double>(update_rounds)}, {"adamw_impl", opt.impl()},
          {"ops_per_step", step_ops}, {"update_ops", update_ops}, {"tokens_per_s", static_cast<double>(steps * B * T) / secs},
          {"peak_mb", peak_memory_mb(dev)}, {"device", dev.str()}, {"bf16", bf16}, {"frozen_bf16", frozen_bf16},
          {"cuda_graphs", graphs ? graphs->graphs() : 0},
          {"trainable_percent", summary.percent()},
          {"trainable_tensors", opt.params().size()},
          // What a data-parallel step all-reduces (src/train/distributed.cpp): the trainable elements.
          {"allreduce_elements", DataParallel::bucket_elements(ps)}};
}

// The model the options name, with `attention` (resolve_attention's answer) as its attention.
std::shared_ptr<TaskModelImpl> build(const cxxopts::ParseResult& a, const std::string& attention) {
  auto norm = NormOptions().type(a["norm-type"].as<std::string>()).impl(a["norm-impl"].as<std::string>());
  if (a.count("model")) {
    LoadOptions opt;
    opt.attention = attention;
    opt.dropout_impl = a["dropout-impl"].as<std::string>();
    auto lm = load_model(a["model"].as<std::string>(), Head::SequenceClassification, norm, opt);
    return lm.model;
  }
  auto j = model_preset(a["preset"].as<std::string>(), a["vocab"].as<int64_t>(), "--preset");
  auto cfg = ModelConfig::from_json(j, "--preset");
  cfg.num_labels = 2;
  cfg.attention = attention;
  cfg.dropout_impl = a["dropout-impl"].as<std::string>();
  torch::manual_seed(0);
  auto m = build_model(cfg, Head::SequenceClassification, norm);
  init_weights(*m);
  return m;
}

std::string read_all(FILE* f) {
  std::string s;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) s.append(buf.data(), n);
  return s;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

int cmd_bench_train(int argc, char** argv) {
  cxxopts::Options o("lntune bench-train", "Training-step speed and memory per PEFT method (synthetic batch)");
  o.add_options()("model", "model folder (default: a seeded --preset)", cxxopts::value<std::string>())(
      "preset", "model preset when no --model", cxxopts::value<std::string>()->default_value("bert-base"))(
      "vocab", "vocabulary size of a preset", cxxopts::value<int64_t>()->default_value("30522"))(
      "methods", "methods to compare (full first: the ratios are to it)",
      cxxopts::value<std::string>()->default_value("full,ln,bitfit,lora,adapter,prefix"))(
      "method", "run one method in this process (what the table spawns)", cxxopts::value<std::string>())(
      "batch", "batch size", cxxopts::value<int64_t>()->default_value("8"))(
      "seq", "sequence length", cxxopts::value<int64_t>()->default_value("128"))(
      "steps", "timed steps", cxxopts::value<int64_t>()->default_value("5"))(
      "warmup", "untimed steps first", cxxopts::value<int64_t>()->default_value("1"))(
      "norm-type", "auto (the checkpoint's; LayerNorm for a preset), layernorm or dyt",
      cxxopts::value<std::string>()->default_value("auto"))(
      "norm-impl", "torch or fused (our kernels)", cxxopts::value<std::string>()->default_value("torch"))(
      "attention", "auto (sdpa where LibTorch has it, as lntune train), eager or sdpa (LibTorch's fused attention, >= 2.1)",
      cxxopts::value<std::string>()->default_value("auto"))(
      "dropout-impl", "fused (our kernel; on CUDA torch's fused dropout) or torch (torch::dropout)",
      cxxopts::value<std::string>()->default_value("fused"))(
      "device", "auto, cpu or cuda", cxxopts::value<std::string>()->default_value("auto"))(
      "bf16", "bf16 autocast on CUDA (frozen projections stored in bf16, as lntune train does)")(
      "frozen-fp32", "with --bf16: keep frozen weights in fp32, cast at every use (as HF PEFT under autocast)")(
      "adamw-impl", "fused (flat buffers, one kernel) or torch (per-tensor ops)",
      cxxopts::value<std::string>()->default_value("fused"))(
      "cuda-graphs", "replay each step as a CUDA graph (train.cuda_graphs; CUDA, --adamw-impl fused)")(
      "repeats", "rounds of the whole table (odd ones in reverse method order); each row is the median round",
      cxxopts::value<int>()->default_value("1"))(
      "json", "print JSON lines instead of the table")("h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  const int64_t B = a["batch"].as<int64_t>(), T = a["seq"].as<int64_t>();
  if (B <= 0 || T <= 0 || a["steps"].as<int64_t>() <= 0) throw UsageError{"--batch, --seq and --steps must be positive"};
  if (a["warmup"].as<int64_t>() < 0) throw UsageError{"--warmup must be >= 0"};
  if (!a.count("model")) model_preset(a["preset"].as<std::string>(), 0, "--preset");  // the name, before any child starts
  for (auto [flag, error] : {std::pair{"adamw-impl", "--adamw-impl: fused or torch"},
                             {"dropout-impl", "--dropout-impl: fused or torch"},
                             {"norm-impl", "--norm-impl: fused or torch"}}) {
    const auto& impl = a[flag].as<std::string>();
    if (impl != "fused" && impl != "torch") throw UsageError{error};
  }
  if (a.count("cuda-graphs") && a["adamw-impl"].as<std::string>() != "fused")
    throw UsageError{"--cuda-graphs needs --adamw-impl fused"};
  if (a.count("cuda-graphs") && !resolve_device(a["device"].as<std::string>(), "bench-train", "--device").is_cuda())
    throw UsageError{"--cuda-graphs needs a CUDA device"};
  if (a.count("method")) {
    StepSettings st;
    st.B = B;
    st.T = T;
    st.steps = a["steps"].as<int64_t>();
    st.warmup = a["warmup"].as<int64_t>();
    st.dev = resolve_device(a["device"].as<std::string>(), "bench-train", "--device");
    st.bf16 = a.count("bf16") > 0;
    st.frozen_bf16 = a.count("frozen-fp32") == 0;
    st.adamw_impl = a["adamw-impl"].as<std::string>();
    st.cuda_graphs = a.count("cuda-graphs") > 0;
    const std::string attention = resolve_attention(a["attention"].as<std::string>(), "bench-train --attention");
    auto r = bench_one(build(a, attention), a["method"].as<std::string>(), st);
    r["attention"] = attention;  // auto resolved
    std::cout << r.dump() << "\n";
    return 0;
  }
  // The table: one child process per method.
  std::error_code ec;
  // The children are this very binary (resolved here: inside popen's shell /proc/self is the shell).
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw Error("bench-train: cannot find its own executable: " + ec.message());
  std::string common = a.count("model") ? " --model " + quote(a["model"].as<std::string>())
                                        : " --preset " + quote(a["preset"].as<std::string>());
  common += " --vocab " + std::to_string(a["vocab"].as<int64_t>()) + " --batch " + std::to_string(B) + " --seq " +
            std::to_string(T) + " --steps " + std::to_string(a["steps"].as<int64_t>()) + " --warmup " +
            std::to_string(a["warmup"].as<int64_t>()) + " --norm-type " + quote(a["norm-type"].as<std::string>()) +
            " --norm-impl " + quote(a["norm-impl"].as<std::string>()) + " --device " + quote(a["device"].as<std::string>()) +
            " --attention " + quote(a["attention"].as<std::string>()) +
            " --adamw-impl " + quote(a["adamw-impl"].as<std::string>()) +
            " --dropout-impl " + quote(a["dropout-impl"].as<std::string>()) +
            (a.count("bf16") ? " --bf16" : "") + (a.count("frozen-fp32") ? " --frozen-fp32" : "") +
            (a.count("cuda-graphs") ? " --cuda-graphs" : "");
  std::vector<std::string> names;
  std::string methods = a["methods"].as<std::string>();
  for (size_t p = 0; p <= methods.size();) {
    size_t q = methods.find(',', p);
    if (q == std::string::npos) q = methods.size();
    if (q > p) names.push_back(methods.substr(p, q - p));
    p = q + 1;
  }
  if (names.empty()) throw UsageError{"--methods names no method"};
  // Every name, before the first child runs (a bad one would fail only when its turn came).
  for (const auto& n : names) peft::resolve_methods(nlohmann::json{{"name", n}}, "--methods");
  const int repeats = a["repeats"].as<int>();
  if (repeats < 1) throw UsageError{"--repeats must be positive"};
  // Every round runs every method, odd rounds in reverse order, so that a device warming up (or
  // anything else that drifts) does not always favour the same methods; each method's row is its
  // median-time round, with every round's step time beside it.
  std::map<std::string, std::vector<nlohmann::json>> runs;
  for (int round = 0; round < repeats; ++round) {
    std::vector<std::string> order = names;
    if (round % 2 == 1) std::reverse(order.begin(), order.end());
    for (const auto& m : order) {
      spdlog::info("bench-train: {} (round {}/{})", m, round + 1, repeats);
      std::string cmd = quote(self) + " bench-train --method " + quote(m) + common;
      FILE* f = popen(cmd.c_str(), "r");
      if (!f) throw Error("bench-train: cannot start " + cmd);
      std::string out = read_all(f);
      int rc = pclose(f);
      if (rc != 0) throw Error("bench-train: method '" + m + "' failed (see the message above)");
      runs[m].push_back(nlohmann::json::parse(out.substr(0, out.find('\n'))));
    }
  }
  std::vector<nlohmann::json> rows;
  for (const auto& m : names) {
    auto v = runs[m];
    std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x["step_ms"] < y["step_ms"]; });
    nlohmann::json row = v[v.size() / 2];
    row["step_ms_runs"] = nlohmann::json::array();
    for (const auto& r : runs[m]) row["step_ms_runs"].push_back(r["step_ms"]);
    row["step_ms_min"] = v.front()["step_ms"];
    row["step_ms_max"] = v.back()["step_ms"];
    rows.push_back(row);
  }
  double full_ms = 0;
  for (const auto& r : rows)
    if (r["method"] == "full") full_ms = r["step_ms"].get<double>();
  if (a.count("json")) {
    for (auto r : rows) {
      if (full_ms > 0) r["step_time_vs_full"] = r["step_ms"].get<double>() / full_ms;
      std::cout << r.dump() << "\n";
    }
    return 0;
  }
  std::printf("batch %lld x %lld tokens, %lld timed steps, threads %s, norm %s (impl %s), attention %s; "
              "AdamW %s%s; median of %d round%s\n\n",
              static_cast<long long>(B), static_cast<long long>(T), static_cast<long long>(a["steps"].as<int64_t>()),
              threads_summary().c_str(), a["norm-type"].as<std::string>().c_str(),
              a["norm-impl"].as<std::string>().c_str(), rows.empty() ? "" : rows.front().value("attention", "").c_str(), a["adamw-impl"].as<std::string>().c_str(),
              a.count("cuda-graphs") ? "; each step replayed as a CUDA graph" : "", repeats,
              repeats == 1 ? "" : "s");
  std::printf("| method | trainable %% | trainable tensors | step ms | step ms min-max | update ms | ops/step (update) | steps/s | tokens/s | peak MB (RSS; CUDA: allocator) | step time / full | all-reduce MB/step |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows) {
    std::string ratio = full_ms > 0 ? std::to_string(r["step_ms"].get<double>() / full_ms).substr(0, 5) : "—";
    std::printf("| %s | %.3f | %d | %.1f | %.1f-%.1f | %.2f | %lld (%lld) | %.2f | %.0f | %.0f | %s | %.3f |\n",
                r["method"].get<std::string>().c_str(), r["trainable_percent"].get<double>(),
                r["trainable_tensors"].get<int>(), r["step_ms"].get<double>(), r["step_ms_min"].get<double>(),
                r["step_ms_max"].get<double>(), r["update_ms"].get<double>(),
                static_cast<long long>(r["ops_per_step"].get<int64_t>()), static_cast<long long>(r["update_ops"].get<int64_t>()), r["steps_per_s"].get<double>(), r["tokens_per_s"].get<double>(),
                r["peak_mb"].get<double>(), ratio.c_str(), 4.0 * r["allreduce_elements"].get<double>() / 1e6);
  }
  return 0;
}

}  // namespace lntune::cli
