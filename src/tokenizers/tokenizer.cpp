#include "tokenizers/tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "util/error.h"
#include "util/file.h"

namespace lntune {

std::vector<int64_t> Tokenizer::tokenize(std::string_view text) const {
  std::vector<int64_t> out;
  // Split on added tokens (leftmost, longest), as HF's AddedVocabulary does for special tokens.
  size_t seg = 0, i = 0;
  while (i < text.size()) {
    const AddedToken* best = nullptr;
    for (const auto& t : added_)
      if (!t.content.empty() && text.compare(i, t.content.size(), t.content) == 0 &&
          (!best || t.content.size() > best->content.size()))
        best = &t;
    if (!best) { ++i; continue; }
    if (i > seg) tokenize_segment(text.substr(seg, i - seg), out);
    out.push_back(best->id);
    i += best->content.size();
    seg = i;
  }
  if (seg < text.size()) tokenize_segment(text.substr(seg), out);
  return out;
}

std::vector<std::string> invert_vocab(const std::unordered_map<std::string, int64_t>& vocab, size_t size) {
  std::vector<std::string> out(size);
  for (const auto& [tok, id] : vocab)
    if (id >= 0 && static_cast<size_t>(id) < size) out[static_cast<size_t>(id)] = tok;
  return out;
}

bool Tokenizer::is_added(int64_t id) const {
  for (const auto& a : added_)
    if (a.id == id) return true;
  return false;
}

const std::string& Tokenizer::token_of(const std::vector<std::string>& table, int64_t id) {
  if (id < 0 || static_cast<size_t>(id) >= table.size() || table[static_cast<size_t>(id)].empty())
    throw Error("decode: id " + std::to_string(id) + " is not in the vocabulary");
  return table[static_cast<size_t>(id)];
}

void truncate_longest_first(std::vector<int64_t>& a, std::vector<int64_t>* b, size_t budget) {
  if (!b) {
    if (a.size() > budget) a.resize(budget);
    return;
  }
  if (a.size() + b->size() <= budget) return;
  // The shorter keeps min(len, budget/2); the longer gets the rest. On a tie HF counts the
  // second sequence as the longer one, so it keeps the odd token.
  bool swap = a.size() <= b->size();
  std::vector<int64_t>& longer = swap ? *b : a;
  std::vector<int64_t>& shorter = swap ? a : *b;
  size_t keep_short = std::min(shorter.size(), budget / 2);
  size_t keep_long = std::min(longer.size(), budget - keep_short);
  shorter.resize(keep_short);
  longer.resize(keep_long);
}

Encoding Tokenizer::encode(std::string_view a, std::optional<std::string_view> b,
                           const EncodeOptions& opt) const {
  std::vector<int64_t> ia = tokenize(a);
  std::vector<int64_t> ib;
  if (b) ib = tokenize(*b);
  if (opt.max_length > 0) {
    size_t specials = opt.add_special_tokens ? num_specials(b.has_value()) : 0;
    if (static_cast<size_t>(opt.max_length) < specials)
      throw Error("max_length " + std::to_string(opt.max_length) + " is smaller than the " +
                  std::to_string(specials) + " special tokens it must hold");
    truncate_longest_first(ia, b ? &ib : nullptr, static_cast<size_t>(opt.max_length) - specials);
  }
  Encoding e;
  if (opt.add_special_tokens) {
    e = add_specials(ia, b ? &ib : nullptr);
  } else {
    e.ids = ia;
    e.type_ids.assign(ia.size(), 0);
    e.ids.insert(e.ids.end(), ib.begin(), ib.end());
    e.type_ids.resize(e.ids.size(), 1);
  }
  e.attention_mask.assign(e.ids.size(), 1);
  if (opt.pad_to_max_length && opt.max_length > 0) {
    auto n = static_cast<size_t>(opt.max_length);
    e.ids.resize(n, pad_id_);
    e.type_ids.resize(n, 0);
    e.attention_mask.resize(n, 0);
  }
  return e;
}

bool Tokenizer::present_in(const std::string& dir) {
  return file_exists(dir + "/tokenizer.json") || file_exists(dir + "/vocab.txt") ||
         (file_exists(dir + "/vocab.json") && file_exists(dir + "/merges.txt"));
}

const std::vector<std::string>& Tokenizer::file_names() {
  static const std::vector<std::string> k = {"tokenizer.json", "vocab.txt", "vocab.json", "merges.txt"};
  return k;
}

std::unique_ptr<Tokenizer> Tokenizer::from_dir(const std::string& dir) {
  if (!is_directory(dir)) fail(dir, "", "tokenizer directory not found");
  if (file_exists(dir + "/tokenizer.json")) return from_tokenizer_json(dir + "/tokenizer.json");
  if (file_exists(dir + "/vocab.txt")) return WordPieceTokenizer::from_vocab_txt(dir + "/vocab.txt");
  if (file_exists(dir + "/vocab.json")) {
    if (!file_exists(dir + "/merges.txt")) fail(dir + "/merges.txt", "", "missing (needed beside vocab.json)");
    return ByteLevelBpeTokenizer::from_files(dir + "/vocab.json", dir + "/merges.txt");
  }
  fail(dir, "", "no tokenizer.json, vocab.txt or vocab.json + merges.txt");
}

namespace {

using nlohmann::json;

template <typename T>
T get_or(const json& obj, const char* key, T dflt, const std::string& path, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return dflt;
  try {
    return obj[key].get<T>();
  } catch (const json::exception&) {
    fail(path, where + "." + key, "has the wrong type");
  }
}

std::unordered_map<std::string, int64_t> json_vocab(const json& v, const std::string& path,
                                                    const std::string& field) {
  if (!v.is_object()) fail(path, field, "must be a JSON object of token -> id");
  std::unordered_map<std::string, int64_t> vocab;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0)
      fail(path, field + "[\"" + it.key() + "\"]", "id must be a non-negative integer");
    vocab[it.key()] = it.value().get<int64_t>();
  }
  return vocab;
}

}  // namespace

std::unordered_map<std::string, int64_t> vocab_from_json_text(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(source, "", std::string("invalid JSON: ") + e.what());
  }
  return json_vocab(j, source, "");
}

std::unique_ptr<Tokenizer> Tokenizer::from_tokenizer_json(const std::string& path) {
  return from_tokenizer_json_text(read_file(path), path);
}

std::unique_ptr<Tokenizer> Tokenizer::from_tokenizer_json_text(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(path, "", std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    fail(path, "model", "missing or not an object");
  const json& model = j["model"];
  std::string type = get_or<std::string>(model, "type", "", path, "model");
  std::unique_ptr<Tokenizer> tok;
  if (type == "WordPiece" || (type.empty() && model.contains("continuing_subword_prefix"))) {
    WordPieceOptions opt;
    opt.unk_token = get_or<std::string>(model, "unk_token", opt.unk_token, path, "model");
    opt.continuing_subword_prefix =
        get_or<std::string>(model, "continuing_subword_prefix", opt.continuing_subword_prefix, path, "model");
    opt.max_input_chars_per_word =
        get_or<size_t>(model, "max_input_chars_per_word", opt.max_input_chars_per_word, path, "model");
    const json& norm = j.contains("normalizer") ? j["normalizer"] : json();
    if (norm.is_object()) {
      std::string nt = get_or<std::string>(norm, "type", "", path, "normalizer");
      if (nt != "BertNormalizer") fail(path, "normalizer.type", "unsupported normalizer '" + nt + "'");
      opt.clean_text = get_or<bool>(norm, "clean_text", true, path, "normalizer");
      opt.handle_chinese_chars = get_or<bool>(norm, "handle_chinese_chars", true, path, "normalizer");
      opt.lowercase = get_or<bool>(norm, "lowercase", true, path, "normalizer");
      opt.strip_accents = get_or<bool>(norm, "strip_accents", opt.lowercase, path, "normalizer");
    } else {
      opt.clean_text = opt.handle_chinese_chars = opt.lowercase = opt.strip_accents = false;
    }
    if (!model.contains("vocab")) fail(path, "model.vocab", "missing");
    tok = std::make_unique<WordPieceTokenizer>(json_vocab(model["vocab"], path, "model.vocab"), opt, path);
  } else if (type == "BPE") {
    if (!model.contains("vocab")) fail(path, "model.vocab", "missing");
    if (!model.contains("merges") || !model["merges"].is_array()) fail(path, "model.merges", "missing or not an array");
    std::vector<std::pair<std::string, std::string>> merges;
    size_t k = 0;
    for (const auto& m : model["merges"]) {
      std::string field = "model.merges[" + std::to_string(k++) + "]";
      if (m.is_string()) {
        auto s = m.get<std::string>();
        auto sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          fail(path, field, "must be two symbols separated by one space");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        fail(path, field, "must be \"a b\" or [\"a\", \"b\"]");
      }
    }
    bool prefix = false;
    const json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json();
    if (pre.is_object()) {
      std::string pt = get_or<std::string>(pre, "type", "", path, "pre_tokenizer");
      if (pt != "ByteLevel") fail(path, "pre_tokenizer.type", "unsupported pre-tokenizer '" + pt + "' (need ByteLevel)");
      prefix = get_or<bool>(pre, "add_prefix_space", false, path, "pre_tokenizer");
    }
    tok = std::make_unique<ByteLevelBpeTokenizer>(json_vocab(model["vocab"], path, "model.vocab"), merges,
                                                  prefix, path, path);
  } else {
    fail(path, "model.type", "unsupported tokenizer model '" + type + "' (need WordPiece or BPE)");
  }
  // Added tokens replace the defaults each model registers.
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    tok->added_.clear();
    size_t k = 0;
    for (const auto& t : j["added_tokens"]) {
      std::string field = "added_tokens[" + std::to_string(k++) + "]";
      if (!t.is_object() || !t.contains("content") || !t["content"].is_string() || !t.contains("id") ||
          !t["id"].is_number_integer())
        fail(path, field, "needs string 'content' and integer 'id'");
      tok->added_.push_back({t["content"].get<std::string>(), t["id"].get<int64_t>()});
    }
  }
  const json& pad = j.contains("padding") ? j["padding"] : json();
  if (pad.is_object()) tok->pad_id_ = get_or<int64_t>(pad, "pad_id", tok->pad_id_, path, "padding");
  return tok;
}

}  // namespace lntune
