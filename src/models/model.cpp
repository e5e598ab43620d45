#include "models/model.h"

#include <algorithm>
#include <limits>
#include <set>

#include "models/bert.h"
#include "models/gpt2.h"
#include "util/error.h"
#include "util/strings.h"

namespace lntune {

Head head_from_name(const std::string& n) {
  if (n == "none") return Head::None;
  if (n == "seq_cls") return Head::SequenceClassification;
  if (n == "token_cls") return Head::TokenClassification;
  if (n == "lm") return Head::LanguageModel;
  if (n == "mlm") return Head::MaskedLanguageModel;
  throw Error("unknown head '" + n + "' (none, seq_cls, token_cls, lm, mlm)");
}

std::string head_name(Head h) {
  switch (h) {
    case Head::None: return "none";
    case Head::SequenceClassification: return "seq_cls";
    case Head::TokenClassification: return "token_cls";
    case Head::LanguageModel: return "lm";
    case Head::MaskedLanguageModel: return "mlm";
  }
  return "?";
}

Head head_from_architectures(const ModelConfig& c) {
  for (const auto& a : c.architectures) {
    if (a.find("ForSequenceClassification") != std::string::npos) return Head::SequenceClassification;
    if (a.find("ForTokenClassification") != std::string::npos) return Head::TokenClassification;
    if (a == "GPT2LMHeadModel") return Head::LanguageModel;
    if (a == "BertForMaskedLM" || a == "BertForPreTraining") return Head::MaskedLanguageModel;
  }
  return c.is_gpt2() && c.architectures.empty() ? Head::LanguageModel : Head::None;
}

std::shared_ptr<TaskModelImpl> build_model(const ModelConfig& config, Head head, const NormOptions& norm) {
  if (config.is_bert()) return std::make_shared<BertTaskModelImpl>(config, head, norm);
  if (config.is_gpt2()) return std::make_shared<GPT2TaskModelImpl>(config, head, norm);
  throw Error("model_type '" + config.model_type + "' is not supported");
}

torch::Tensor lm_hidden(const torch::Tensor& h, const Batch& b) {
  if (!b.lm_positions.defined()) return h;
  return h.reshape({-1, h.size(-1)}).index_select(0, b.lm_positions);
}

double lowest_value(torch::ScalarType dtype) {
  return dtype == torch::kDouble     ? std::numeric_limits<double>::lowest()
         : dtype == torch::kHalf     ? -65504.0
         : dtype == torch::kBFloat16 ? -3.3895313892515355e38
                                     : static_cast<double>(std::numeric_limits<float>::lowest());
}

torch::Tensor extended_attention_mask(const torch::Tensor& mask, torch::ScalarType dtype) {
  auto m = mask.to(dtype).unsqueeze(1).unsqueeze(2);
  return (1.0 - m) * lowest_value(dtype);
}

void init_weights(torch::nn::Module& model, double std, const std::vector<std::string>& only) {
  torch::NoGradGuard g;
  auto wanted = [&](const std::string& n) { return only.empty() || std::find(only.begin(), only.end(), n) != only.end(); };
  std::set<const void*> norm_params;
  for (const auto& n : find_norms(model)) {
    for (const auto& p : n.module->named_parameters(false)) norm_params.insert(p.value().unsafeGetTensorImpl());
    bool any = false;
    for (const auto& p : n.module->named_parameters(false)) any |= wanted(n.name + "." + p.key());
    if (any) n.module->reset_parameters();
  }
  for (auto& p : model.named_parameters()) {
    if (!wanted(p.key()) || norm_params.count(p.value().unsafeGetTensorImpl())) continue;
    if (ends_with(p.key(), ".bias")) p.value().zero_();
    else p.value().normal_(0, std);
  }
  for (const auto& m : model.modules())
    if (auto* e = dynamic_cast<torch::nn::EmbeddingImpl*>(m.get()))
      if (e->options.padding_idx()) e->weight[*e->options.padding_idx()].zero_();
}

torch::Tensor parameter_ending(torch::nn::Module& m, const std::string& suffix) {
  for (auto& p : m.named_parameters())
    if (ends_with(p.key(), suffix)) return p.value();
  throw Error("the model has no parameter ending in " + suffix);
}

int64_t count_backbone_parameters(TaskModelImpl& m) {
  int64_t n = 0;
  for (const auto& p : m.named_parameters())
    if (starts_with(p.key(), m.backbone_prefix())) n += p.value().numel();
  return n;
}

int64_t token_positions(TaskModelImpl& m) {
  int64_t n = m.config.max_positions;
  if (auto* g = dynamic_cast<GPT2TaskModelImpl*>(&m)) n -= g->transformer->position_offset + g->transformer->prompt_length();
  if (auto* b = dynamic_cast<BertTaskModelImpl*>(&m)) n -= b->bert->position_offset + b->bert->prompt_length();
  return n;
}

int64_t count_parameters(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

std::string norm_role(const std::string& n) {
  if (ends_with(n, "embeddings.LayerNorm")) return "embedding";
  if (ends_with(n, "attention.output.LayerNorm")) return "mha";
  if (ends_with(n, "output.LayerNorm")) return "ffn";
  if (ends_with(n, "ln_1")) return "ln_1";
  if (ends_with(n, "ln_2")) return "ln_2";
  if (ends_with(n, "ln_f")) return "ln_f";
  return "";
}

std::vector<NormInfo> find_norms(torch::nn::Module& model) {
  std::vector<NormInfo> out;
  for (const auto& item : model.named_modules()) {
    if (auto n = std::dynamic_pointer_cast<NormImpl>(item.value())) out.push_back({item.key(), norm_role(item.key()), n});
  }
  return out;
}

}  // namespace lntune
