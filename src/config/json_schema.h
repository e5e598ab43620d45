// Strict JSON configs: a user object is merged over a defaults object; every user key must
// exist in the defaults (unknown keys are errors naming the key path) and keep its type.
#pragma once
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <vector>

namespace lntune {

// Returns defaults with `user` merged in. Throws Error("<source>: <path>: ...").
nlohmann::json merge_strict(const nlohmann::json& defaults, const nlohmann::json& user, const std::string& source,
                            const std::string& path = "");

// Applies "a.b.c=value" (value parsed as JSON when it parses, else taken as a string).
void apply_override(nlohmann::json& config, const std::string& assignment, const std::string& source);

// The string `value` when it is one of `allowed`; else throws
// Error("<source>: <field>: '<value>' is not one of a, b, c").
std::string one_of(const nlohmann::json& value, const std::string& source, const std::string& field,
                   std::initializer_list<const char*> allowed);

// Where two configs differ, one "path: before -> after" per leaf (objects compared key by key,
// anything else as a whole; a key only one side has shows "(none)" on the other).
std::vector<std::string> json_differences(const nlohmann::json& before, const nlohmann::json& after, const std::string& path = "");

}  // namespace lntune
