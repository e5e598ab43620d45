#include "pretrain/pretrainer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "config/norm_config.h"
#include "io/checkpoint.h"
#include "io/model_folder.h"
#include "models/attention.h"
#include "models/attention_init.h"
#include "models/dyt_calibration.h"
#include "models/position_init.h"
#include "models/presets.h"
#include "pretrain/corpus.h"
#include "pretrain/embedding_init.h"
#include "pretrain/lm_batch.h"
#include "tokenizers/tokenizer.h"
#include "train/adamw.h"
#include "train/precision.h"
#include "train/run_state.h"
#include "train/schedule.h"
#include "util/build_info.h"
#include "util/cache_file.h"
#include "util/error.h"
#include "util/file.h"
#include "util/rng.h"

namespace lntune {

namespace {

using Clock = std::chrono::steady_clock;

// The salt that separates held-out masking from training masking for the same seed.
constexpr uint64_t kEvalSalt = 0x5EEDE7A1ull;
// Training blocks the calibrated DyT init fits on (models/dyt_calibration.h): 2,048 rows at 128.
constexpr int64_t kDytCalibrationBlocks = 16;

struct Setup {
  std::shared_ptr<TaskModelImpl> model;
  std::unique_ptr<Tokenizer> tok;
  std::string tok_dir;
  bool mlm = true;
  int64_t position_columns = 0;  // embedding columns the local attention init keeps for position
  bool calibrate_dyt = false;     // fresh DyT norms (a new model or a converted checkpoint) to fit
  double dyt_c = 0.5;
};

Setup build(const nlohmann::json& cfg, const std::string& source) {
  Setup s;
  const auto& m = cfg["model"];
  NormOptions norm = norm_options(m["norm"]);
  std::optional<Checkpoint> ck;
  s.tok_dir = cfg["tokenizer"].get<std::string>();
  if (!m["path"].get<std::string>().empty()) {
    ck = open_checkpoint(m["path"].get<std::string>());
    if (s.tok_dir.empty()) s.tok_dir = ck->tokenizer_dir;
  }
  if (s.tok_dir.empty()) fail(source, "tokenizer", "missing, and no model folder with tokenizer files is given");
  s.tok = Tokenizer::from_dir(s.tok_dir);

  ModelConfig mc;
  if (ck) {
    norm = resolve_norm(norm, *ck, source + ": model.norm.type");
    mc = ck->config;
  } else {
    auto j = model_preset(m["preset"].get<std::string>(), static_cast<int64_t>(s.tok->vocab_size()), source + ": model.preset");
    j.update(m["config"]);  // config.json fields over the preset
    mc = ModelConfig::from_json(j, source + ": model");
  }
  std::string obj = cfg["objective"]["type"].get<std::string>();
  if (obj.empty()) obj = mc.is_bert() ? "mlm" : "clm";
  if ((obj == "mlm") != mc.is_bert()) fail(source, "objective.type", obj + " does not fit a " + mc.model_type + " model (bert: mlm, gpt2: clm)");
  s.mlm = obj == "mlm";
  if ((mc.is_bert() && s.tok->kind() != "wordpiece") || (mc.is_gpt2() && s.tok->kind() != "bpe"))
    fail(s.tok_dir, "", "a " + s.tok->kind() + " tokenizer does not fit " + mc.model_type);
  if (mc.vocab_size < static_cast<int64_t>(s.tok->vocab_size()))
    fail(source, "model.config.vocab_size", std::to_string(mc.vocab_size) + " is smaller than the tokenizer's " +
                                                std::to_string(s.tok->vocab_size()));
  if (cfg["train"]["seq_length"].get<int64_t>() > mc.max_positions)
    fail(source, "train.seq_length", "exceeds the model's " + std::to_string(mc.max_positions) + " positions");

  Head head = s.mlm ? Head::MaskedLanguageModel : Head::LanguageModel;
  ModelConfig run_mc = mc;
  run_mc.attention = resolve_attention(m["attention"].get<std::string>(), source);
  run_mc.dropout_impl = m["dropout_impl"].get<std::string>();
  if (double p = cfg["train"]["dropout"].get<double>(); p >= 0) {
    // Short pretraining learns faster without dropout; the saved config.json keeps the model's
    // own probabilities, which fine-tuning then uses.
    run_mc.hidden_dropout = run_mc.attention_dropout = run_mc.embedding_dropout = p;
  }
  s.model = build_model(run_mc, head, norm);
  s.model->config = mc;
  init_weights(*s.model);
  if (m["attention_init"].get<std::string>() == "local") {  // also writes the sinusoidal positions
    auto local = init_local_attention(*s.model, mc);
    s.position_columns = local.reserved_columns;
    spdlog::info("local attention init: {}", local.describe());
  }
  else if (m["position_init"].get<std::string>() == "sinusoidal")
    spdlog::info("{}: sinusoidal initialisation", init_sinusoidal_positions(*s.model));
  bool fresh_dyt = norm.type() == "dyt";
  if (ck) {
    auto report = load_weights(*s.model, ck->state);
    fresh_dyt = fresh_dyt && !report.dyt_alpha.empty();
    for (const auto& l : report.lines()) spdlog::info("{}", l);
    // A head the checkpoint lacks keeps the initialisation above; everything else is loaded.
    spdlog::info("continuing from {}: {} tensors loaded", m["path"].get<std::string>(), report.loaded);
  }
  s.calibrate_dyt = fresh_dyt && norm.dyt_init() == "calibrated";
  s.dyt_c = norm.dyt_alpha_init();
  return s;
}

// Identity of the tokenised corpus: the cache is reused only when all of it matches.
std::string cache_key(const nlohmann::json& cfg, const Tokenizer& tok, const std::string& tok_dir) {
  const auto& c = cfg["corpus"];
  std::string path = c["path"].get<std::string>();
  if (!file_exists(path)) fail(path, "", "cannot open the corpus");
  nlohmann::json k = {{"corpus", file_identity(path)}, {"format", c["format"]},
                      {"heldout_every", c["heldout_every"]}, {"max_documents", c["max_documents"]},
                      {"tokenizer", std::filesystem::absolute(tok_dir).string()}, {"kind", tok.kind()},
                      {"vocab", tok.vocab_size()}};
  return k.dump();
}

CorpusSplit load_corpus(const nlohmann::json& cfg, const Setup& s, int32_t separator, const std::string& out) {
  std::string key = cache_key(cfg, *s.tok, s.tok_dir), cache = out + "/tokens.bin";
  CorpusSplit split;
  if (read_token_cache(cache, key, split)) {
    spdlog::info("corpus: {} train / {} held-out tokens from {}", split.train.ids.size(), split.heldout.ids.size(), cache);
    return split;
  }
  auto t0 = Clock::now();
  const auto& c = cfg["corpus"];
  auto docs = read_documents(c["path"].get<std::string>(), c["format"].get<std::string>());
  int64_t cap = c["max_documents"].get<int64_t>();
  if (cap > 0 && static_cast<int64_t>(docs.size()) > cap) docs.resize(static_cast<size_t>(cap));
  split = tokenize_corpus(*s.tok, docs, separator, c["heldout_every"].get<int64_t>(), std::max(1, at::get_num_threads()));
  write_token_cache(cache, key, split);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  spdlog::info("corpus: {} documents -> {} train tokens ({} docs), {} held-out tokens ({} docs), tokenised in {:.1f} s",
               docs.size(), split.train.ids.size(), split.train.documents, split.heldout.ids.size(),
               split.heldout.documents, secs);
  return split;
}

LmBatch to_device(LmBatch b, const torch::Device& d) {
  if (d.is_cpu()) return b;
  b.inputs.input_ids = b.inputs.input_ids.to(d);
  b.inputs.lm_positions = b.inputs.lm_positions.to(d);
  b.targets = b.targets.to(d);
  return b;
}

// Held-out loss, plus MLM accuracy on the masked tokens or CLM perplexity. Masking of held-out
// blocks is fixed by (seed, block), so evaluations are comparable across steps and runs.
nlohmann::json evaluate(TaskModelImpl& model, const LmBatchMaker& maker, const TokenStream& held,
                        const std::vector<int64_t>& starts, int64_t bs, uint64_t seed, bool mlm, bool bf16,
                        const torch::Device& dev) {
  model.eval();
  torch::NoGradGuard g;
  double loss_sum = 0;
  int64_t n = 0, correct = 0;
  for (size_t i = 0; i < starts.size(); i += static_cast<size_t>(bs)) {
    std::vector<int64_t> rows(starts.begin() + static_cast<long>(i), starts.begin() + static_cast<long>(std::min(starts.size(), i + static_cast<size_t>(bs))));
    std::vector<uint64_t> seeds(rows.size());
    for (size_t k = 0; k < rows.size(); ++k) seeds[k] = kEvalSalt + i + k;
    auto b = to_device(maker.make(held, rows, seeds, seed), dev);
    if (b.targets.numel() == 0) continue;
    torch::Tensor logits;
    {
      AutocastGuard ac(bf16, dev);
      logits = model.forward(b.inputs).logits;
    }
    logits = logits.to(torch::kFloat);
    loss_sum += torch::cross_entropy_loss(logits, b.targets, {}, at::Reduction::Sum).item<double>();
    correct += (logits.argmax(-1) == b.targets).sum().item<int64_t>();
    n += b.targets.numel();
  }
  model.train();
  nlohmann::json r;
  double loss = n ? loss_sum / static_cast<double>(n) : 0.0;
  r["loss"] = loss;
  r["tokens"] = n;
  if (mlm) r["accuracy"] = n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
  else r["perplexity"] = std::exp(loss);
  return r;
}

// Order of the training blocks in `epoch`: a seeded Fisher-Yates shuffle.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  Rng rng(seed, static_cast<uint64_t>(epoch) + 1);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[static_cast<size_t>(i)], p[rng.below(static_cast<uint64_t>(i + 1))]);
  return p;
}

}  // namespace

PretrainOutcome pretrain(const nlohmann::json& cfg, const std::string& source, bool resume, bool dry_run) {
  const auto& tc = cfg["train"];
  const std::string out = cfg["output_dir"].get<std::string>();
  const uint64_t seed = tc["seed"].get<uint64_t>();
  torch::manual_seed(seed);
  Setup s = build(cfg, source);
  const bool mlm = s.mlm;
  const int64_t bs = tc["batch_size"].get<int64_t>(), accum = tc["grad_accum"].get<int64_t>();
  const int64_t T = tc["seq_length"].get<int64_t>(), total = tc["max_steps"].get<int64_t>();
  const int64_t params = count_parameters(*s.model);
  s.model->config.architectures = {hf_architecture(s.model->config, s.model->head)};
  nlohmann::json summary = {{"objective", mlm ? "mlm" : "clm"}, {"model_type", s.model->config.model_type},
                            {"parameters", params}, {"config", s.model->config.to_json()},
                            {"tokens_per_step", bs * accum * T}, {"steps", total},
                            {"tokens_planned", bs * accum * T * total}};
  spdlog::info("pretrain {}: {} ({} parameters), {} steps x {} tokens; lntune {}", mlm ? "mlm" : "clm",
               s.model->config.model_type, params, total, bs * accum * T, build_commit());
  if (dry_run) return {0, summary};

  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (!is_directory(out)) fail(out, "", "cannot create the output directory");
  if (!resume && file_exists(out + "/latest"))
    fail(out, "", "holds a run already: use --resume to continue it, or another output_dir");
  const torch::Device dev = resolve_device(tc["device"].get<std::string>(), source, "train.device");
  const bool bf16 = tc["bf16"].get<bool>() && dev.is_cuda();

  const int32_t sep = static_cast<int32_t>(mlm ? required_id(*s.tok, "[SEP]", s.tok_dir) : required_id(*s.tok, "<|endoftext|>", s.tok_dir));
  CorpusSplit corpus = load_corpus(cfg, s, sep, out);
  // Needs the corpus, so it comes after build(); a resumed run loads its weights instead.
  if (cfg["model"]["embedding_init"].get<std::string>() == "ppmi" && !resume)
    spdlog::info("ppmi embedding init: {}",
                 init_ppmi_embeddings(*s.model, s.model->config, corpus.train.ids, sep, s.position_columns, 0.02, {}, seed)
                     .describe());
  const auto& oc = cfg["objective"];
  MaskingOptions mo;
  mo.prob = oc["mask_prob"].get<double>();
  mo.mask_ratio = oc["mask_ratio"].get<double>();
  mo.random_ratio = oc["random_ratio"].get<double>();
  mo.whole_word = oc["whole_word"].get<bool>();
  LmBatchMaker maker(mlm, T, *s.tok, s.tok_dir, mo);
  auto train_starts = block_starts(corpus.train, maker.content());
  auto held_starts = block_starts(corpus.heldout, maker.content());
  if (train_starts.empty()) fail(cfg["corpus"]["path"].get<std::string>(), "", "too small for one training block of " + std::to_string(T) + " tokens");
  int64_t eval_blocks = tc["eval_blocks"].get<int64_t>();
  if (eval_blocks > 0 && static_cast<int64_t>(held_starts.size()) > eval_blocks) held_starts.resize(static_cast<size_t>(eval_blocks));
  if (held_starts.empty()) spdlog::warn("no held-out block (corpus.heldout_every {}): no evaluation", cfg["corpus"]["heldout_every"].get<int64_t>());
  const int64_t nblocks = static_cast<int64_t>(train_starts.size());
  spdlog::info("{} training blocks of {} tokens ({:.2f} epochs planned), {} held-out blocks", nblocks, T,
               static_cast<double>(total * bs * accum) / static_cast<double>(nblocks), held_starts.size());

  s.model->to(dev);
  if (s.calibrate_dyt && !resume) {  // a resumed run loads the fitted (and trained) norms
    const int64_t n = std::min<int64_t>(kDytCalibrationBlocks, nblocks);
    auto cal = calibrate_dyt(*s.model, s.dyt_c, [&] {
      for (int64_t i = 0; i < n; ++i)
        s.model->forward(to_device(maker.make(corpus.train, {train_starts[static_cast<size_t>(i)]}, {kEvalSalt + static_cast<uint64_t>(i)}, seed), dev).inputs);
    });
    spdlog::info("dyt_init calibrated on {} training blocks: {}", n, cal.describe());
  }
  s.model->train();
  AdamWOptions ao;
  ao.beta2 = tc["beta2"].get<double>();
  ao.eps = 1e-6;  // BERT's and RoBERTa's pretraining value
  ao.impl = tc["adamw_impl"].get<std::string>();
  AdamW opt(trainable_params(*s.model, tc["weight_decay"].get<double>()), ao);
  write_file_atomic(out + "/config.json", cfg.dump(2));

  int64_t step = 0, loss_n = 0;
  double loss_sum = 0;  // since the last logged step: saved, so a resumed run logs the same curve
  if (resume) {
    auto st = load_run_checkpoint(out, opt);
    step = st.at("step").get<int64_t>();
    loss_sum = st.value("loss_sum", 0.0);
    loss_n = st.value("loss_n", int64_t{0});
    spdlog::info("resumed from step {}", step);
  } else {
    std::remove((out + "/metrics.jsonl").c_str());
  }
  // loss_sum, kept on the device (the same double additions) and read back only where it is
  // logged or saved, so the host does not wait for every step's backward.
  auto loss_acc = torch::full({}, loss_sum, torch::TensorOptions().dtype(torch::kDouble).device(dev));

  const int64_t warmup = static_cast<int64_t>(tc["warmup_ratio"].get<double>() * static_cast<double>(total) + 0.5);
  const bool cosine = tc["schedule"].get<std::string>() == "cosine";
  const double lr = tc["lr"].get<double>(), clip = tc["max_grad_norm"].get<double>();
  const int64_t log_every = tc["log_every"].get<int64_t>(), eval_every = tc["eval_every"].get<int64_t>();
  const int64_t save_every = tc["save_every"].get<int64_t>(), stop_after = tc["stop_after_steps"].get<int64_t>();
  const int64_t eval_bs = tc["eval_batch_size"].get<int64_t>();
  auto run_eval = [&] {
    if (held_starts.empty()) return nlohmann::json();
    auto r = evaluate(*s.model, maker, corpus.heldout, held_starts, eval_bs, seed, mlm, bf16, dev);
    append_jsonl(out + "/metrics.jsonl", {{"step", step}, {"tokens", step * bs * accum * T}, {"eval", r}});
    spdlog::info("eval step {}: {}", step, r.dump());
    return r;
  };
  if (step == 0 && !held_starts.empty()) run_eval();  // the curve starts at the initial model

  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  SigintGuard sigint;
  ProgressLine progress;
  auto t0 = Clock::now();
  int64_t steps_this_run = 0;
  PretrainOutcome result;
  while (step < total) {
    for (int64_t a = 0; a < accum; ++a) {
      // Micro-batch m covers samples m*bs .. m*bs+bs-1 of the endless, per-epoch shuffled stream.
      const int64_t m = step * accum + a;
      std::vector<int64_t> rows;
      std::vector<uint64_t> seeds;
      for (int64_t j = 0; j < bs; ++j) {
        int64_t i = m * bs + j, e = i / nblocks;
        if (e != order_epoch) { order = epoch_order(nblocks, seed, e); order_epoch = e; }
        rows.push_back(train_starts[static_cast<size_t>(order[static_cast<size_t>(i % nblocks)])]);
        seeds.push_back(static_cast<uint64_t>(i));
      }
      auto b = to_device(maker.make(corpus.train, rows, seeds, seed), dev);
      if (b.targets.numel() == 0) continue;
      torch::Tensor loss;
      {
        AutocastGuard ac(bf16, dev);
        auto logits = s.model->forward(b.inputs).logits;
        loss = torch::cross_entropy_loss(logits.to(torch::kFloat), b.targets);
      }
      (loss / static_cast<double>(accum)).backward();
      loss_acc.add_(loss.detach().to(torch::kDouble));
      ++loss_n;
    }
    if (clip > 0) opt.clip_grad_norm(clip);
    double cur = cosine ? cosine_schedule(lr, step, warmup, total) : linear_schedule(lr, step, warmup, total);
    opt.step(cur);
    opt.zero_grad();
    ++step;
    ++steps_this_run;
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const double tok_s = static_cast<double>(steps_this_run * bs * accum * T) / secs;
    if (step % log_every == 0 || step == total) {
      loss_sum = loss_acc.item<double>();
      double l = loss_n ? loss_sum / static_cast<double>(loss_n) : 0.0;
      nlohmann::json j = {{"step", step}, {"tokens", step * bs * accum * T}, {"loss", l}, {"lr", cur}, {"tokens_per_s", tok_s}};
      if (!mlm) j["perplexity"] = std::exp(l);
      append_jsonl(out + "/metrics.jsonl", j);
      char line[240];
      std::snprintf(line, sizeof line, "step %lld/%lld loss %.4f lr %.2e %.0f tok/s %.2fM tokens ETA %s",
                    static_cast<long long>(step), static_cast<long long>(total), l, cur, tok_s,
                    static_cast<double>(step * bs * accum * T) / 1e6,
                    format_duration(secs / static_cast<double>(steps_this_run) * static_cast<double>(total - step)).c_str());
      progress.show(line);
      loss_acc.zero_();
      loss_n = 0;
    }
    if (eval_every > 0 && step % eval_every == 0 && step < total) {
      progress.end();
      run_eval();
    }
    bool stop = sigint.interrupted() || (stop_after > 0 && step == stop_after);
    if (stop || (save_every > 0 && step % save_every == 0 && step < total)) {
      save_run_checkpoint(out, step, opt, {{"step", step}, {"loss_sum", loss_acc.item<double>()}, {"loss_n", loss_n}});
    }
    if (stop) {
      progress.end();
      spdlog::warn("stopped at step {}: checkpoint saved, continue with --resume", step);
      result.exit_code = sigint.interrupted() ? 130 : 0;
      result.results = {{"stopped_at", step}};
      return result;
    }
  }
  progress.end();
  auto final_eval = run_eval();
  save_run_checkpoint(out, step, opt, {{"step", step}, {"loss_sum", loss_acc.item<double>()}, {"loss_n", loss_n}});
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  write_model_folder(out + "/model", *s.model, s.tok_dir,
                     {{"lntune", std::string("pretrained (") + (mlm ? "mlm" : "clm") + ")"}, {"steps", std::to_string(step)}});
  result.results = summary;
  result.results["steps"] = step;
  result.results["tokens_seen"] = step * bs * accum * T;
  result.results["train_seconds_this_run"] = secs;
  result.results["tokens_per_s_this_run"] = static_cast<double>(steps_this_run * bs * accum * T) / secs;
  result.results["heldout"] = final_eval;
  result.results["corpus"] = {{"path", cfg["corpus"]["path"]}, {"train_tokens", corpus.train.ids.size()},
                              {"train_documents", corpus.train.documents}, {"heldout_tokens", corpus.heldout.ids.size()},
                              {"heldout_documents", corpus.heldout.documents}, {"train_blocks", nblocks},
                              {"epochs_seen", static_cast<double>(step * bs * accum) / static_cast<double>(nblocks)}};
  result.results["model_dir"] = out + "/model";
  result.results["device"] = dev.str();
  result.results["lntune_commit"] = build_commit();
  write_file_atomic(out + "/results.json", result.results.dump(2));
  spdlog::info("model written to {}/model", out);
  return result;
}

}  // namespace lntune
