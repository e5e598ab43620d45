// User-facing errors. Library code throws lntune::Error with a one-line message that names
// the file and the field; `main` prints it and exits non-zero. Library code never exits.
#pragma once
#include <stdexcept>
#include <string>

namespace lntune {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<file>: <field>: <message>" (field omitted when empty).
[[noreturn]] inline void fail(const std::string& file, const std::string& field, const std::string& msg) {
  std::string s = file;
  if (!field.empty()) s += ": " + field;
  throw Error(s + ": " + msg);
}

}  // namespace lntune
