// User-facing errors. Library code throws lntune::Error with a one-line message that names
// the file and the field; `main` prints it and exits non-zero. Library code never exits.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>

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

// A value an option cannot take, found by code that knows the option's name but not where it sits
// in the user's file: `key` is relative to the options it was given ("layers", "prefix.length";
// empty: those options as a whole). Whoever knows the file and the path reports it there with
// fail(file, path + "." + key, msg) (peft::resolve_methods / apply_methods do).
class OptionError : public Error {
 public:
  OptionError(std::string key, std::string msg)
      : Error(key.empty() ? msg : key + ": " + msg), key(std::move(key)), msg(std::move(msg)) {}
  // The same error one level down: mam's prefix options report "prefix.length".
  OptionError under(const std::string& parent) const { return {key.empty() ? parent : parent + "." + key, msg}; }
  std::string key, msg;
};

}  // namespace lntune
