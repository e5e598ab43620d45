#include <algorithm>
#include <functional>
#include <map>
#include <regex>

#include "config/json_schema.h"
#include "models/extensions.h"
#include "peft/method.h"
#include "peft/targets.h"
#include "util/error.h"
#include "util/strings.h"

namespace lntune::peft {

namespace {
const std::map<std::string, std::function<std::unique_ptr<Method>()>>& registry() {
  static const std::map<std::string, std::function<std::unique_ptr<Method>()>> k = {
      {"full", make_full},
      {"ln", make_ln},
      {"bitfit", make_bitfit},
      {"lora", make_lora},
      {"adapter", make_adapter},
      {"prefix", make_prefix},
      {"mam", make_mam},
      {"fisher_ln", make_fisher_ln},
      {"prompt", make_prompt},
      {"dyt", make_dyt},
      {"ia3", make_ia3},
  };
  return k;
}
}  // namespace

std::vector<std::string> method_names() {
  std::vector<std::string> out;
  for (const auto& kv : registry()) out.push_back(kv.first);
  return out;
}

std::unique_ptr<Method> make_method(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : method_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown PEFT method '" + name + "' (known: " + known + ")");
  }
  return it->second();
}

int layer_index(const std::string& name) {
  static const std::regex re(R"((?:^|\.)(?:layer|h)\.(\d+)\.)");
  std::smatch m;
  return std::regex_search(name, m, re) ? std::stoi(m[1]) : -1;
}

std::vector<std::pair<int, int>> parse_layer_ranges(const std::string& text, const std::string& key) {
  std::vector<std::pair<int, int>> out;
  static const std::regex re(R"(\s*(\d+)\s*(?:-\s*(\d+))?\s*)");
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::smatch m;
    // More than 6 digits is no layer of any model (and would overflow stoi).
    if (!std::regex_match(part, m, re) || m[1].length() > 6 || m[2].length() > 6)
      throw OptionError(key, "bad layer range '" + part + "' (use e.g. 0-5,8)");
    int a = std::stoi(m[1]), b = m[2].matched ? std::stoi(m[2]) : a;
    if (b < a) throw OptionError(key, "layer range '" + part + "' runs backwards");
    out.emplace_back(a, b);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<MethodSpec> resolve_methods(const nlohmann::json& spec, const std::string& source) {
  std::vector<MethodSpec> todo;  // options as the user gave them, until merged below
  std::vector<std::string> name_paths;  // where each one's name was given
  auto add = [&](const nlohmann::json& obj, const std::string& path) {
    if (!obj.is_object() || !obj.contains("name") || !obj["name"].is_string())
      fail(source, path, "needs a string 'name' (" + [] {
        std::string s;
        for (const auto& n : method_names()) s += (s.empty() ? "" : ", ") + n;
        return s;
      }() + ")");
    std::string name = obj["name"].get<std::string>();
    if (name.find('+') == std::string::npos) {
      nlohmann::json opts = obj;
      opts.erase("name");
      todo.push_back({name, path, opts});
      name_paths.push_back(path + ".name");
      return;
    }
    std::vector<std::string> parts;
    size_t s = 0;
    while (true) {  // "prefix+ln": each part's options live under its own name
      size_t p = name.find('+', s);
      parts.push_back(name.substr(s, p == std::string::npos ? std::string::npos : p - s));
      // Both copies would read the same options: a typo, not a way to tune more.
      if (std::find(parts.begin(), parts.end() - 1, parts.back()) != parts.end() - 1)
        fail(source, path + ".name", "'" + parts.back() + "' appears twice in '" + name + "'");
      todo.push_back({parts.back(), path + "." + parts.back(),
                      obj.contains(parts.back()) ? obj[parts.back()] : nlohmann::json::object()});
      name_paths.push_back(path + ".name");
      if (p == std::string::npos) break;
      s = p + 1;
    }
    for (auto it = obj.begin(); it != obj.end(); ++it)
      if (it.key() != "name" && std::find(parts.begin(), parts.end(), it.key()) == parts.end())
        fail(source, path + "." + it.key(), "unknown key");
  };
  if (spec.is_array()) {
    for (size_t i = 0; i < spec.size(); ++i) add(spec[i], "method[" + std::to_string(i) + "]");
  } else {
    add(spec, "method");
  }
  if (todo.empty()) fail(source, "method", "no method given");
  for (size_t i = 0; i < todo.size(); ++i) {
    auto& t = todo[i];
    std::unique_ptr<Method> m;
    try {
      m = make_method(t.name);
    } catch (const Error& e) {
      fail(source, name_paths[i], e.what());
    }
    t.options = merge_strict(m->default_options(), t.options, source, t.path);
    try {
      m->check(t.options);
    } catch (const OptionError& e) {
      fail(source, e.under(t.path).key, e.msg);
    }
  }
  return todo;
}

Applied apply_methods(TaskModelImpl& model, const nlohmann::json& spec, const std::string& source) {
  auto todo = resolve_methods(spec, source);
  Applied out;
  out.resolved = nlohmann::json::array();
  for (auto& p : model.parameters()) p.set_requires_grad(false);
  for (auto& t : todo) {
    auto m = make_method(t.name);
    try {
      m->apply(model, t.options);
    } catch (const OptionError& e) {
      fail(source, e.under(t.path).key, e.msg);
    }
    t.options["name"] = t.name;
    out.resolved.push_back(t.options);
    out.methods.push_back(std::move(m));
  }
  const std::string prefix = model.backbone_prefix();
  for (auto& p : model.named_parameters())
    if (!starts_with(p.key(), prefix)) p.value().set_requires_grad(true);  // the task head
  return out;
}

void prepare_methods(TaskModelImpl& model, Applied& applied, const std::function<torch::Tensor(int64_t)>& sample_loss,
                     int64_t n) {
  model.eval();
  for (auto& m : applied.methods) m->prepare(model, sample_loss, n);
  model.zero_grad();
  model.train();
}

std::vector<std::pair<std::string, std::shared_ptr<ProjectionImpl>>> target_projections(TaskModelImpl& model,
                                                                                      const std::vector<std::string>& targets) {
  std::vector<std::pair<std::string, std::shared_ptr<ProjectionImpl>>> out;
  for (const auto& item : model.named_modules()) {
    auto proj = std::dynamic_pointer_cast<ProjectionImpl>(item.value());
    if (!proj || !starts_with(item.key(), model.backbone_prefix()) || !matches_target(item.key(), targets)) continue;
    if (proj->has_delta())
      throw OptionError("targets", item.key() + " is already wrapped by " + proj->delta()->kind() +
                                       " (one method per projection: give the methods different targets)");
    out.emplace_back(item.key(), proj);
  }
  if (out.empty()) throw OptionError("targets", "no projection of this model is named like the targets");
  return out;
}

Merged merge_all(TaskModelImpl& model) {
  Merged out;
  for (const auto& m : model.named_modules()) {
    auto p = std::dynamic_pointer_cast<ProjectionImpl>(m.value());
    if (!p || !p->has_delta()) continue;
    p->merge();
    ++out.projections[p->delta()->kind()];
    // Whatever the method registered on the projection besides its own weight and bias.
    for (const auto& q : p->named_parameters())
      if (q.key() != "weight" && q.key() != "bias") out.keys.insert(m.key() + "." + q.key());
  }
  return out;
}

void unmerge_all(TaskModelImpl& model) {
  for (const auto& m : model.modules())
    if (auto p = std::dynamic_pointer_cast<ProjectionImpl>(m)) p->unmerge();
}

TrainableSummary summarize(TaskModelImpl& model, int64_t backbone_params_before, const Applied& applied) {
  TrainableSummary s;
  s.backbone_params = backbone_params_before;
  const std::string prefix = model.backbone_prefix();
  for (const auto& p : model.named_parameters()) {
    bool head = !starts_with(p.key(), prefix);
    if (head) s.head_params += p.value().numel();
    else if (p.value().requires_grad()) s.trainable_backbone += p.value().numel();
  }
  for (const auto& m : applied.methods) s.masked += m->masked_elements();
  s.trainable_backbone -= s.masked;
  return s;
}

}  // namespace lntune::peft
