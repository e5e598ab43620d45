// prompt (Lester et al., 2021): P trainable input vectors prepended to the word embeddings; the
// attention mask is widened and positions shift, as HF PEFT's prompt tuning does. Initialised
// from randomly drawn rows of the word-embedding matrix ("vocab") or N(0, 0.02) ("random").
#include "models/bert.h"
#include "models/gpt2.h"
#include "peft/method.h"
#include "util/error.h"

namespace lntune::peft {

namespace {

class SoftPrompt : public InputPrompt {
 public:
  explicit SoftPrompt(torch::Tensor init) { embedding = register_parameter("embedding", std::move(init)); }
  torch::Tensor embeds(int64_t batch) override { return embedding.unsqueeze(0).expand({batch, -1, -1}); }
  int64_t length() const override { return embedding.size(0); }
  torch::Tensor embedding;
};

class Prompt : public Method {
 public:
  std::string name() const override { return "prompt"; }
  nlohmann::json default_options() const override { return {{"length", 20}, {"init", "vocab"}}; }
  void check(const nlohmann::json& o) const override {
    if (o["length"].get<int64_t>() <= 0) throw OptionError("length", "must be positive, got " + o["length"].dump());
    const std::string init = o["init"].get<std::string>();
    if (init != "vocab" && init != "random") throw OptionError("init", "'" + init + "' (vocab, random)");
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    const int64_t P = o["length"].get<int64_t>();
    const std::string init = o["init"].get<std::string>();
    torch::nn::Embedding wte{nullptr};
    std::shared_ptr<InputPrompt>* slot = nullptr;
    torch::nn::Module* owner = nullptr;
    if (auto* b = dynamic_cast<BertTaskModelImpl*>(&model)) {
      wte = b->bert->embeddings->word_embeddings;
      slot = &b->bert->prompt;
      owner = b->bert.get();
    } else if (auto* g = dynamic_cast<GPT2TaskModelImpl*>(&model)) {
      wte = g->transformer->wte;
      slot = &g->transformer->prompt;
      owner = g->transformer.get();
    } else {
      throw Error("method.prompt: unsupported model");
    }
    torch::Tensor start;
    {
      torch::NoGradGuard ng;
      if (init == "vocab") start = wte->weight.index_select(0, torch::randint(wte->weight.size(0), {P}, torch::kLong)).clone();
      else start = torch::randn({P, wte->weight.size(1)}) * 0.02;
    }
    auto prompt = std::make_shared<SoftPrompt>(start);
    *slot = owner->register_module("prompt", prompt);
    prompt_ = prompt;
  }
  std::optional<PeftExport> peft_export(TaskModelImpl& model, const nlohmann::json& o) override {
    const auto& c = model.config;
    PeftExport ex;
    ex.config = virtual_tokens_config("PROMPT_TUNING", o["length"], c);
    ex.config["prompt_tuning_init"] = "RANDOM";
    ex.tensors.emplace_back("prompt_embeddings", prompt_->embedding.detach().clone());
    return ex;
  }

 private:
  std::shared_ptr<SoftPrompt> prompt_;
};

}  // namespace

std::unique_ptr<Method> make_prompt() { return std::make_unique<Prompt>(); }

}  // namespace lntune::peft
