#include "train/generate.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "models/gpt2.h"
#include "train/precision.h"
#include "train/text_metrics.h"
#include "util/error.h"

namespace lntune {

namespace {
// The sequences right-padded to T tokens (a longer one cut to its first T), each row's last
// token its lm_position: the batch whose logits are each row's next-token logits.
Batch right_padded(const std::vector<std::vector<int64_t>>& seqs, int64_t T, int64_t pad, const Placement& at) {
  const auto B = static_cast<int64_t>(seqs.size());
  auto ids = torch::full({B, T}, pad, torch::kLong), mask = torch::zeros({B, T}, torch::kLong);
  std::vector<int64_t> last(seqs.size());
  for (int64_t i = 0; i < B; ++i) {
    const auto& s = seqs[static_cast<size_t>(i)];
    const auto len = std::min<int64_t>(T, static_cast<int64_t>(s.size()));
    ids[i].narrow(0, 0, len).copy_(torch::from_blob(const_cast<int64_t*>(s.data()), {len}, torch::kLong));
    mask[i].narrow(0, 0, len).fill_(1);
    last[static_cast<size_t>(i)] = i * T + len - 1;
  }
  return Batch{ids.to(at.device), mask.to(at.device), {}, torch::tensor(last, torch::kLong).to(at.device)};
}

// Each sequence's next-token logits [N, V], fp32 on the CPU: one forward of the sequences
// right-padded to T tokens.
torch::Tensor last_logits(TaskModelImpl& model, const std::vector<std::vector<int64_t>>& seqs, int64_t T, int64_t pad,
                          const Placement& at) {
  AutocastGuard ac(at.bf16, at.device);
  return model.forward(right_padded(seqs, T, pad, at)).logits.to(torch::kCPU, torch::kFloat).contiguous();
}

// Next-token logits [N, V] (fp32, CPU) of sequences that grow by one token a call, as
// last_logits gives them. With a GPT-2 the first call reads the sequences whole into a key/value
// cache (prefill, right-padded), and a call whose every sequence is one of the previous call's
// plus a token reads only that token (decode), the cache's rows first taken from the sequences
// they extend (a beam's parents; a finished row dropped); any other call reads whole again.
class NextLogits {
 public:
  NextLogits(TaskModelImpl& model, const GenerateOptions& o, const Placement& at)
      : model_(model), gpt2_(o.kv_cache ? dynamic_cast<GPT2TaskModelImpl*>(&model) : nullptr), o_(o), at_(at) {}

  torch::Tensor operator()(const std::vector<std::vector<int64_t>>& seqs) {
    int64_t T = 0;
    for (const auto& s : seqs) T = std::max<int64_t>(T, static_cast<int64_t>(s.size()));
    if (!gpt2_) return last_logits(model_, seqs, T, o_.pad, at_);
    torch::Tensor logits;
    std::vector<int64_t> parents, tokens;
    for (const auto& s : seqs) {
      if (rows_.empty() || s.empty()) break;
      const auto it = rows_.find(std::vector<int64_t>(s.begin(), s.end() - 1));
      if (it == rows_.end()) break;
      parents.push_back(it->second);
      tokens.push_back(s.back());
    }
    if (!seqs.empty() && parents.size() == seqs.size()) {
      bool same_rows = static_cast<int64_t>(parents.size()) == cache_.lengths.size(0);
      for (size_t i = 0; same_rows && i < parents.size(); ++i) same_rows = parents[i] == static_cast<int64_t>(i);
      if (!same_rows) cache_.select_rows(torch::tensor(parents, torch::kLong).to(at_.device));
      AutocastGuard ac(at_.bf16, at_.device);
      logits = gpt2_->decode(torch::tensor(tokens, torch::kLong).to(at_.device), cache_);
    } else {
      logits = prefill(seqs, T);
    }
    rows_.clear();
    for (size_t i = 0; i < seqs.size(); ++i) rows_.emplace(seqs[i], static_cast<int64_t>(i));
    return logits.to(torch::kCPU, torch::kFloat).contiguous();
  }

 private:
  torch::Tensor prefill(const std::vector<std::vector<int64_t>>& seqs, int64_t T) {
    // Room for every token a row may still write: max_new_tokens, or up to the last position.
    const int64_t capacity = gpt2_->transformer->prompt_length() + std::min(T + o_.max_new_tokens, token_positions(model_));
    AutocastGuard ac(at_.bf16, at_.device);
    return gpt2_->prefill(right_padded(seqs, T, o_.pad, at_), cache_, capacity);
  }

  TaskModelImpl& model_;
  GPT2TaskModelImpl* gpt2_;
  const GenerateOptions& o_;
  Placement at_;
  KVCache cache_;
  std::map<std::vector<int64_t>, int64_t> rows_;  // the previous call's sequences: their cache rows
};

}  // namespace

std::vector<std::vector<int64_t>> greedy_generate(TaskModelImpl& model, const std::vector<Encoded>& prompts,
                                                  const GenerateOptions& o, const Placement& at) {
  model.eval();
  torch::NoGradGuard g;
  const int64_t n_positions = token_positions(model);
  std::vector<std::vector<int64_t>> out(prompts.size());
  for (const auto& rows : eval_batches(prompts, o.batch_size)) {
    std::vector<std::vector<int64_t>> seq(rows.size());
    std::vector<bool> done(rows.size(), false);
    for (size_t i = 0; i < rows.size(); ++i) {
      seq[i] = prompts[rows[i]].ids;
      done[i] = static_cast<int64_t>(seq[i].size()) > n_positions;  // no position left to read
    }
    NextLogits next_logits(model, o, at);
    for (int64_t step = 0; step < o.max_new_tokens; ++step) {
      std::vector<size_t> live;  // the rows still writing: the others leave the batch
      std::vector<std::vector<int64_t>> seqs;
      for (size_t i = 0; i < rows.size(); ++i)
        if (!done[i]) live.push_back(i), seqs.push_back(seq[i]);
      if (live.empty()) break;
      auto logits = next_logits(seqs);
      const auto V = logits.size(1);
      for (size_t j = 0; j < live.size(); ++j) {
        auto row = logits[static_cast<int64_t>(j)];
        for (int64_t t : repeated_ngram_tokens(seq[live[j]], o.no_repeat_ngram_size))
          if (t >= 0 && t < V) row[t] = -std::numeric_limits<float>::infinity();
      }
      auto next = logits.argmax(-1);
      auto nx = next.accessor<int64_t, 1>();
      for (size_t j = 0; j < live.size(); ++j) {
        const size_t i = live[j];
        const int64_t tok = nx[static_cast<int64_t>(j)];
        if (tok == o.eos) {
          done[i] = true;
          continue;
        }
        seq[i].push_back(tok);
        out[rows[i]].push_back(tok);
        if (static_cast<int64_t>(seq[i].size()) >= n_positions) done[i] = true;
      }
    }
  }
  return out;
}

std::vector<Hypothesis> beam_generate(TaskModelImpl& model, const std::vector<Encoded>& prompts, const GenerateOptions& o,
                                      const Placement& at) {
  model.eval();
  torch::NoGradGuard g;
  const int64_t vocab = model.config.vocab_size;
  std::optional<NextLogits> next_logits;
  NextLogProbs next = [&](const std::vector<std::vector<int64_t>>& seqs) {
    // HF: log_softmax of the fp32 logits.
    auto lp = torch::log_softmax((*next_logits)(seqs), -1).contiguous();  // beam_search checks its size
    const float* p = lp.data_ptr<float>();
    return std::vector<float>(p, p + lp.numel());
  };
  std::vector<Hypothesis> out(prompts.size());
  const int64_t per_batch = std::max<int64_t>(1, o.batch_size / std::max<int64_t>(1, o.num_beams));
  for (const auto& rows : eval_batches(prompts, per_batch)) {
    std::vector<std::vector<int64_t>> ps;
    for (size_t r : rows) ps.push_back(prompts[r].ids);
    next_logits.emplace(model, o, at);  // a cache per group of prompts
    auto hyps = beam_search(next, vocab, ps, o, token_positions(model));
    for (size_t i = 0; i < rows.size(); ++i) out[rows[i]] = std::move(hyps[i]);
  }
  return out;
}

std::vector<std::vector<int64_t>> generate(TaskModelImpl& model, const std::vector<Encoded>& prompts,
                                           const GenerateOptions& o, const Placement& at) {
  if (o.num_beams <= 1) return greedy_generate(model, prompts, o, at);
  std::vector<std::vector<int64_t>> out;
  for (auto& h : beam_generate(model, prompts, o, at)) out.push_back(std::move(h.tokens));
  return out;
}

GenerateOptions generate_options(const nlohmann::json& cfg, const Tokenizer& tok, int64_t batch_size) {
  GenerateOptions o;
  o.max_new_tokens = cfg["task"]["max_new_tokens"].get<int64_t>();
  const auto eos = tok.token_to_id("<|endoftext|>");
  if (!eos) throw Error("text generation needs a GPT-2 tokenizer (this one has no <|endoftext|>)");
  o.eos = *eos;
  o.pad = tok.pad_id();
  o.batch_size = batch_size;
  const auto& t = cfg["task"];
  o.num_beams = t["num_beams"].get<int64_t>();
  o.length_penalty = t["length_penalty"].get<double>();
  o.early_stopping = parse_early_stopping(t["early_stopping"].is_string() ? t["early_stopping"].get<std::string>()
                                                                          : t["early_stopping"].dump());
  o.no_repeat_ngram_size = t["no_repeat_ngram_size"].get<int64_t>();
  return o;
}

nlohmann::json decoding_json(const GenerateOptions& o) {
  nlohmann::json early = o.early_stopping == EarlyStopping::never ? nlohmann::json("never")
                                                                  : nlohmann::json(o.early_stopping == EarlyStopping::on);
  return {{"max_new_tokens", o.max_new_tokens}, {"num_beams", o.num_beams}, {"length_penalty", o.length_penalty},
          {"early_stopping", early}, {"no_repeat_ngram_size", o.no_repeat_ngram_size}};
}

std::vector<std::string> generate_texts(TaskModelImpl& model, const std::vector<Encoded>& prompts, const Tokenizer& tok,
                                        const GenerateOptions& options, const Placement& at) {
  std::vector<std::string> texts;
  for (const auto& ids : generate(model, prompts, options, at)) {
    std::string t = tok.decode(ids);
    const auto first = t.find_first_not_of(" \t\r\n"), last = t.find_last_not_of(" \t\r\n");
    texts.push_back(first == std::string::npos ? "" : t.substr(first, last - first + 1));
  }
  return texts;
}

std::map<std::string, double> evaluate_generation(TaskModelImpl& model, const TaskData& d, const Tokenizer& tok,
                                                  const GenerateOptions& options, const Placement& at,
                                                  std::vector<std::string>* texts) {
  auto hyps = generate_texts(model, d.dev, tok, options, at);
  model.train();
  auto m = text_metrics(d.task.metrics, hyps, d.references);
  if (texts) *texts = std::move(hyps);
  return m;
}

}  // namespace lntune
