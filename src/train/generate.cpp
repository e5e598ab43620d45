#include "train/generate.h"

#include <algorithm>

#include "models/gpt2.h"
#include "train/precision.h"
#include "train/text_metrics.h"
#include "util/error.h"

namespace lntune {

namespace {
// The positions a row's tokens can take: a prefix (its key/values shift the positions) or a soft
// prompt comes before them.
int64_t token_positions(TaskModelImpl& model) {
  int64_t n = model.config.max_positions;
  if (auto* g = dynamic_cast<GPT2TaskModelImpl*>(&model)) n -= g->transformer->position_offset + g->transformer->prompt_length();
  return n;
}
}  // namespace

std::vector<std::vector<int64_t>> greedy_generate(TaskModelImpl& model, const std::vector<Encoded>& prompts,
                                                  const GenerateOptions& o, const Placement& at) {
  model.eval();
  torch::NoGradGuard g;
  const int64_t n_positions = token_positions(model);
  std::vector<std::vector<int64_t>> out(prompts.size());
  for (const auto& rows : eval_batches(prompts, o.batch_size)) {
    const auto B = static_cast<int64_t>(rows.size());
    std::vector<std::vector<int64_t>> seq(rows.size());
    std::vector<bool> done(rows.size(), false);
    for (size_t i = 0; i < rows.size(); ++i) seq[i] = prompts[rows[i]].ids;
    for (int64_t step = 0; step < o.max_new_tokens; ++step) {
      int64_t T = 0;
      for (size_t i = 0; i < rows.size(); ++i)
        if (!done[i]) T = std::max<int64_t>(T, static_cast<int64_t>(seq[i].size()));
      if (T == 0 || T > n_positions) break;  // every row finished, or no position left to read
      auto ids = torch::full({B, T}, o.pad, torch::kLong), mask = torch::zeros({B, T}, torch::kLong);
      std::vector<int64_t> last(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        // A finished row still takes its place in the batch (its first T tokens, unread).
        const auto len = std::min<int64_t>(T, static_cast<int64_t>(seq[i].size()));
        const auto i64 = static_cast<int64_t>(i);
        ids[i64].narrow(0, 0, len).copy_(torch::from_blob(seq[i].data(), {len}, torch::kLong));
        mask[i64].narrow(0, 0, len).fill_(1);
        last[i] = i64 * T + len - 1;
      }
      Batch b{ids.to(at.device), mask.to(at.device), {}, torch::from_blob(last.data(), {B}, torch::kLong).to(at.device)};
      torch::Tensor logits;
      {
        AutocastGuard ac(at.bf16, at.device);
        logits = model.forward(b).logits;  // [B, V]: each row's next-token logits
      }
      auto next = logits.argmax(-1).to(torch::kCPU);
      auto nx = next.accessor<int64_t, 1>();
      for (size_t i = 0; i < rows.size(); ++i) {
        if (done[i]) continue;
        const int64_t tok = nx[static_cast<int64_t>(i)];
        if (tok == o.eos) {
          done[i] = true;
          continue;
        }
        seq[i].push_back(tok);
        out[rows[i]].push_back(tok);
        if (static_cast<int64_t>(seq[i].size()) >= n_positions) done[i] = true;
      }
      if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    }
  }
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
  return o;
}

std::vector<std::string> generate_texts(TaskModelImpl& model, const std::vector<Encoded>& prompts, const Tokenizer& tok,
                                        const GenerateOptions& options, const Placement& at) {
  std::vector<std::string> texts;
  for (const auto& ids : greedy_generate(model, prompts, options, at)) {
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
