#include "config/json_schema.h"

#include "util/error.h"

namespace lntune {

namespace {
// Integers are acceptable where a float is expected. A key whose default is null (nullable:
// null means "unset") takes anything; null is no value for any other key.
bool same_kind(const nlohmann::json& d, const nlohmann::json& u) {
  if (d.is_null()) return true;
  if (u.is_null()) return false;
  if (d.is_number() && u.is_number()) return d.is_number_float() || !u.is_number_float();
  return d.type() == u.type();
}
}  // namespace

nlohmann::json merge_strict(const nlohmann::json& defaults, const nlohmann::json& user, const std::string& source,
                            const std::string& path) {
  if (!user.is_object()) fail(source, path.empty() ? "(top level)" : path, "must be a JSON object");
  nlohmann::json out = defaults;
  for (auto it = user.begin(); it != user.end(); ++it) {
    std::string key = path.empty() ? it.key() : path + "." + it.key();
    if (!defaults.contains(it.key())) fail(source, key, "unknown key");
    const auto& d = defaults[it.key()];
    if (d.is_object() && !d.empty()) {
      out[it.key()] = merge_strict(d, it.value(), source, key);
    } else if (d.is_number_integer() && it.value().is_number_float()) {
      fail(source, key, "must be an integer, got " + it.value().dump());
    } else if (!same_kind(d, it.value())) {
      fail(source, key, std::string("has the wrong type: expected ") + d.type_name() + ", got " + it.value().type_name());
    } else {
      out[it.key()] = it.value();
    }
  }
  return out;
}

void apply_override(nlohmann::json& config, const std::string& assignment, const std::string& source) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) fail(source, assignment, "--set needs key.path=value");
  std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    value = text;  // a bare string such as model.path=/some/dir
  }
  nlohmann::json* node = &config;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) fail(source, path, "empty key in --set path");
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    if (!node->contains(key) || !(*node)[key].is_object()) (*node)[key] = nlohmann::json::object();
    node = &(*node)[key];
    start = dot + 1;
  }
}

std::string one_of(const nlohmann::json& value, const std::string& source, const std::string& field,
                   std::initializer_list<const char*> allowed) {
  std::string v = value.get<std::string>(), list;
  for (const char* a : allowed) {
    if (v == a) return v;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  fail(source, field, "'" + v + "' is not one of " + list);
}

std::vector<std::string> json_differences(const nlohmann::json& before, const nlohmann::json& after, const std::string& path) {
  std::vector<std::string> out;
  if (before.is_object() && after.is_object()) {
    std::vector<std::string> keys;
    for (auto it = before.begin(); it != before.end(); ++it) keys.push_back(it.key());
    for (auto it = after.begin(); it != after.end(); ++it)
      if (!before.contains(it.key())) keys.push_back(it.key());
    for (const auto& k : keys) {
      static const nlohmann::json none = "(none)";
      auto d = json_differences(before.contains(k) ? before[k] : none, after.contains(k) ? after[k] : none,
                                path.empty() ? k : path + "." + k);
      out.insert(out.end(), d.begin(), d.end());
    }
  } else if (before != after) {
    out.push_back(path + ": " + before.dump() + " -> " + after.dump());
  }
  return out;
}

}  // namespace lntune
