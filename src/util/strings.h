// Small string helpers shared across the library.
#pragma once
#include <string_view>

namespace lntune {

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool ends_with(std::string_view s, std::string_view t) {
  return s.size() >= t.size() && s.substr(s.size() - t.size()) == t;
}

}  // namespace lntune
