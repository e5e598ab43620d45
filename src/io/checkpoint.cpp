#include "io/checkpoint.h"

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>
#include <unordered_map>

#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

namespace lntune {

namespace {

std::string dirname(const std::string& p) {
  auto s = p.find_last_of('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}

std::string shape_str(c10::IntArrayRef s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

StateDict read_sharded_safetensors(const std::string& index_path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(index_path));
  } catch (const nlohmann::json::exception& e) {
    fail(index_path, "", std::string("invalid JSON: ") + e.what());
  }
  if (!j.contains("weight_map") || !j["weight_map"].is_object()) fail(index_path, "weight_map", "missing");
  std::set<std::string> shards;
  for (const auto& v : j["weight_map"]) {
    if (!v.is_string()) fail(index_path, "weight_map", "values must be shard file names");
    shards.insert(v.get<std::string>());
  }
  StateDict all;
  all.format = "safetensors";
  all.source = index_path;
  for (const auto& s : shards) {
    auto part = read_safetensors(dirname(index_path) + "/" + s);
    for (auto& t : part.tensors) all.tensors.push_back(std::move(t));
  }
  return all;
}

}  // namespace

Checkpoint open_checkpoint(const std::string& path) {
  Checkpoint ck;
  std::string dir;
  if (is_directory(path)) {
    dir = path;
    const char* candidates[] = {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "model.pt"};
    std::string weights;
    for (const char* c : candidates)
      if (file_exists(dir + "/" + c)) { weights = dir + "/" + c; break; }
    if (weights.empty()) {
      // A run folder holds only the trained tensors: say how to make it a model.
      if (file_exists(dir + "/trainable.safetensors"))
        fail(dir, "", "a run folder of lntune train, not a model folder: `lntune export --run " + dir +
                          " --out DIR` writes it as one");
      fail(dir, "", "no weights: expected model.safetensors, model.safetensors.index.json, pytorch_model.bin or model.pt");
    }
    ck.state = ends_with(weights, ".index.json") ? read_sharded_safetensors(weights) : read_state_dict(weights);
  } else {
    if (!file_exists(path)) fail(path, "", "checkpoint not found");
    dir = dirname(path);
    ck.state = read_state_dict(path);
  }
  if (ck.state.config_json) {
    ck.config_source = ck.state.source + ":config.json";
    ck.config = ModelConfig::from_string(*ck.state.config_json, ck.config_source);
  } else {
    ck.config_source = dir + "/config.json";
    if (!file_exists(ck.config_source))
      fail(ck.config_source, "", "missing: the model config must sit beside the weights (or inside the TorchScript archive)");
    ck.config = ModelConfig::from_file(ck.config_source);
  }
  if (Tokenizer::present_in(dir)) ck.tokenizer_dir = dir;
  // BERT and GPT-2 have no tensor named *.alpha: only our DyT norms add one.
  for (const auto& [key, tensor] : ck.state.tensors)
    if (ends_with(key, ".alpha")) {
      ck.dyt_alpha_key = key;
      break;
    }
  return ck;
}

NormOptions resolve_norm(NormOptions requested, const Checkpoint& ck, const std::string& where) {
  if (requested.type() == "auto") return requested.type(ck.norm_type());
  if (requested.type() == "layernorm" && ck.norm_type() == "dyt")
    throw Error(where + ": \"layernorm\", but " + ck.state.source + " holds DyT norms (" + ck.dyt_alpha_key +
                "): a DyT model cannot be loaded as LayerNorm; use \"dyt\" or \"auto\"");
  return requested;
}

std::vector<std::string> LoadReport::lines() const {
  std::vector<std::string> out;
  for (const auto& k : missing) out.push_back(source + ": missing key " + k);
  for (const auto& k : mismatched) out.push_back(source + ": shape mismatch " + k);
  for (const auto& k : unexpected) out.push_back(source + ": unexpected key " + k);
  for (const auto& k : new_head) out.push_back(source + ": newly initialised head key " + k);
  if (!dyt_alpha.empty())
    out.push_back(source + ": LayerNorm converted to DyT: gamma/beta copied, " + std::to_string(dyt_alpha.size()) +
                  " alpha initialised");
  return out;
}

LoadReport load_weights(TaskModelImpl& model, const StateDict& state, const LoadOptions& opt) {
  LoadReport r;
  r.source = state.source;
  std::unordered_map<std::string, torch::Tensor> targets;
  std::vector<std::string> order;
  for (const auto& p : model.named_parameters(true)) { targets[p.key()] = p.value(); order.push_back(p.key()); }
  for (const auto& b : model.named_buffers(true)) { targets[b.key()] = b.value(); order.push_back(b.key()); }
  const std::string prefix = model.backbone_prefix();
  std::set<std::string> done;
  torch::NoGradGuard no_grad;
  for (const auto& [key, tensor] : state.tensors) {
    std::string k = key;
    // Legacy LayerNorm names (TF-era BERT): gamma/beta.
    if (ends_with(k, ".gamma")) k = k.substr(0, k.size() - 6) + ".weight";
    else if (ends_with(k, ".beta")) k = k.substr(0, k.size() - 5) + ".bias";
    // Base-model checkpoints (BertModel / GPT2Model) carry no "bert." / "transformer." prefix.
    if (!targets.count(k) && targets.count(prefix + k)) k = prefix + k;
    if (!targets.count(k)) {
      if (model.ignorable_key(k) || model.ignorable_key(prefix + k) ||
          ends_with(k, "embeddings.token_type_ids"))  // a non-persistent buffer that traced modules keep
        r.ignored.push_back(key);
      else
        r.unexpected.push_back(key);
      continue;
    }
    if (done.count(k)) fail(state.source, key, "maps onto " + k + " which another key already filled");
    auto& dst = targets[k];
    if (dst.sizes() != tensor.sizes()) {
      if (opt.reinit_mismatched_head && !starts_with(k, prefix)) continue;  // reported as new head below
      r.mismatched.push_back(k + ": checkpoint " + shape_str(tensor.sizes()) + " vs model " + shape_str(dst.sizes()));
      continue;
    }
    dst.copy_(tensor.to(dst.scalar_type()));
    done.insert(k);
    ++r.loaded;
  }
  std::set<std::string> norm_alphas;  // converting a LayerNorm checkpoint to DyT adds only these
  for (const auto& n : find_norms(model))
    if (n.module->alpha.defined()) norm_alphas.insert(n.name + ".alpha");
  for (const auto& k : order) {
    if (done.count(k)) continue;
    if (norm_alphas.count(k)) {
      r.dyt_alpha.push_back(k);
      continue;
    }
    if (k.rfind(prefix, 0) == 0 && !model.optional_backbone_key(k)) r.missing.push_back(k);
    else r.new_head.push_back(k);
  }
  auto first = [](const std::vector<std::string>& v) {
    return v.size() == 1 ? v[0] : v[0] + " and " + std::to_string(v.size() - 1) + " more";
  };
  if (!r.mismatched.empty())
    fail(state.source, "", "shape mismatch with the model config: " + first(r.mismatched));
  if (!r.missing.empty()) fail(state.source, "", "missing " + std::to_string(r.missing.size()) + " weights: " + first(r.missing));
  if (!opt.allow_new_head && !r.new_head.empty())
    fail(state.source, "", "no weights for the head: " + first(r.new_head));
  if (!opt.allow_unexpected && !r.unexpected.empty())
    fail(state.source, "", "unexpected keys: " + first(r.unexpected));
  return r;
}

LoadedModel load_model(const std::string& path, std::optional<Head> head, const NormOptions& norm,
                       const LoadOptions& opt) {
  LoadedModel lm;
  lm.checkpoint = open_checkpoint(path);
  lm.checkpoint.config.attention = opt.attention;
  lm.checkpoint.config.dropout_impl = opt.dropout_impl;
  Head h = head ? *head : head_from_architectures(lm.checkpoint.config);
  lm.model = build_model(lm.checkpoint.config, h, resolve_norm(norm, lm.checkpoint, path + ": norm type"));
  lm.report = load_weights(*lm.model, lm.checkpoint.state, opt);
  return lm;
}

}  // namespace lntune
