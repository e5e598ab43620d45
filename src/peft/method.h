// PEFT methods. A method marks existing parameters trainable or adds (wrapping) modules; the
// trainer only sees parameters with requires_grad. Methods are created by name from the
// registry (src/peft/registry.cpp); adding one never touches the trainer.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "models/model.h"

namespace lntune {
class ProjectionImpl;  // models/extensions.h
}  // namespace lntune

namespace lntune::peft {

// A method's weights in HF PEFT's format: adapter_config.json fields (peft_type and the
// method's own; export_peft_adapter() adds the common ones) and the tensors of
// adapter_model.safetensors, named as PEFT saves them ("base_model.model.<module>.lora_A.weight",
// "prompt_embeddings", ...).
struct PeftExport {
  nlohmann::json config;
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
};

// The adapter_config.json fields of PEFT's prompt-learning methods (prefix and prompt tuning):
// peft_type, the number of virtual tokens and the model's shape; each method adds its own.
nlohmann::json virtual_tokens_config(const std::string& peft_type, const nlohmann::json& length, const ModelConfig& c);

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string name() const = 0;
  // Every option with its default; user options are validated strictly against it.
  virtual nlohmann::json default_options() const { return nlohmann::json::object(); }
  // What can be checked without a model (ranges, names), on the options merged over the
  // defaults; throws OptionError naming the option. Config mistakes then stop a run before
  // anything loads.
  virtual void check(const nlohmann::json& options) const { (void)options; }
  // Called with the whole model frozen, on options check() passed; throws OptionError for what
  // only the model can tell (a layer it lacks, targets that match nothing).
  virtual void apply(TaskModelImpl& model, const nlohmann::json& options) = 0;
  // Called once after apply(), before training, with the loss of training sample i (0 <= i < n)
  // under the current model: data-dependent methods (Fisher selection) estimate what they need.
  virtual void prepare(TaskModelImpl&, const std::function<torch::Tensor(int64_t)>& sample_loss, int64_t n) {
    (void)sample_loss;
    (void)n;
  }
  // Called after each backward pass, before clipping and the optimizer step (gradient masks).
  virtual void after_backward(TaskModelImpl&) {}
  // Elements of the tensors this method made trainable that its gradient masks keep fixed
  // (fisher_ln: every LN element outside the selected top_percent). They never change, so the
  // trainable counts leave them out, as the papers count a selected subset.
  virtual int64_t masked_elements() const { return 0; }
  // The trained weights in HF PEFT's format, for methods PEFT has (LoRA, IA3, LN-Tuning, prefix,
  // prompt); nullopt for the others.
  virtual std::optional<PeftExport> peft_export(TaskModelImpl&, const nlohmann::json& options) {
    (void)options;
    return std::nullopt;
  }
};

std::unique_ptr<Method> make_method(const std::string& name);  // throws Error listing the known names
std::vector<std::string> method_names();

// Factories, one per file in src/peft/.
std::unique_ptr<Method> make_full();
std::unique_ptr<Method> make_ln();
std::unique_ptr<Method> make_bitfit();
std::unique_ptr<Method> make_lora();
std::unique_ptr<Method> make_adapter();
std::unique_ptr<Method> make_prefix();
std::unique_ptr<Method> make_mam();
std::unique_ptr<Method> make_fisher_ln();
std::unique_ptr<Method> make_prompt();
std::unique_ptr<Method> make_dyt();
std::unique_ptr<Method> make_ia3();

// What merge_all folded: projections per delta kind ("lora": 4), and the keys of the parameters
// that now live in the base weights (a delta's own: "...query.lora_A.weight", "...ia3_l"), which
// a plain model of the same architecture has no place for.
struct Merged {
  std::map<std::string, int64_t> projections;
  std::set<std::string> keys;
};

// Folds every projection's delta (LoRA, IA3) into its base weights (export / inference), or takes them out again.
Merged merge_all(TaskModelImpl& model);
void unmerge_all(TaskModelImpl& model);

struct Applied {
  std::vector<std::unique_ptr<Method>> methods;
  nlohmann::json resolved;  // [{"name": ..., options...}, ...] as applied
};

// One method of a config's "method" section.
struct MethodSpec {
  std::string name;
  std::string path;  // where its options sit in the config: "method", "method.ln" (in "prefix+ln"), "method[1]"
  nlohmann::json options;  // merged over the method's defaults
};

// `spec` is {"name": "ln", ...options} or a list of such objects; "a+b" names apply a then b
// with the options found under spec["a"] / spec["b"]. Runs each method's check(); errors name
// `source` and the key's path. Needs no model: configs are checked before anything is loaded.
std::vector<MethodSpec> resolve_methods(const nlohmann::json& spec, const std::string& source);

// resolve_methods, then: freezes the model, applies each method, and makes the task head
// trainable (as the papers do).
Applied apply_methods(TaskModelImpl& model, const nlohmann::json& spec, const std::string& source);

// Before the optimizer exists: every applied method's prepare() on the loss of sample i, in eval
// mode (no dropout); then the gradients it left are cleared and the model is in train mode.
void prepare_methods(TaskModelImpl& model, Applied& applied, const std::function<torch::Tensor(int64_t)>& sample_loss,
                     int64_t n);

struct TrainableSummary {
  int64_t backbone_params = 0;   // the backbone as loaded (added PEFT modules excluded)
  int64_t trainable_backbone = 0;  // trained, head excluded (added modules included, masked elements not)
  int64_t masked = 0;             // elements of trainable tensors the methods' gradient masks keep fixed
  int64_t head_params = 0;
  double percent() const { return backbone_params ? 100.0 * trainable_backbone / backbone_params : 0; }
};
TrainableSummary summarize(TaskModelImpl& model, int64_t backbone_params_before, const Applied& applied);

// Writes `dir`/adapter_config.json + adapter_model.safetensors (HF PEFT's layout) for a single
// applied method that has a PEFT format, with the task head (and BERT's pooler, which MLM
// checkpoints lack) as modules_to_save. Returns false, writing nothing, for methods or
// combinations PEFT cannot express (the reason in `why`).
bool export_peft_adapter(TaskModelImpl& model, Applied& applied, const std::string& base_model,
                         const std::string& dir, std::string& why);

// The backbone projections a wrapping method (lora, ia3) puts its delta on: those named like
// `targets` (matches_target), in module order. One that another method wraps already, or no
// match at all, is an OptionError on "targets".
std::vector<std::pair<std::string, std::shared_ptr<ProjectionImpl>>> target_projections(TaskModelImpl& model,
                                                                                      const std::vector<std::string>& targets);

// Layer index of a module/parameter name ("...layer.3..." / "...h.3..."), or -1.
int layer_index(const std::string& name);
// Parses "0-5,8,10-11" into a membership test; empty text means every layer. Bad text is an
// OptionError on `key`.
std::vector<std::pair<int, int>> parse_layer_ranges(const std::string& text, const std::string& key);

}  // namespace lntune::peft
