// BERT WordPiece: BertNormalizer + BertPreTokenizer + greedy longest-match-first WordPiece.
#include <algorithm>

#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/unicode.h"

namespace lntune {

namespace {

bool is_bert_whitespace(char32_t c) { return c == '\t' || c == '\n' || c == '\r' || unicode::is_white_space(c); }
bool is_bert_control(char32_t c) { return c != '\t' && c != '\n' && c != '\r' && unicode::is_other(c); }
bool is_bert_punct(char32_t c) {
  bool ascii = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return ascii || unicode::is_punctuation(c);
}

}  // namespace

std::unordered_map<std::string, int64_t> WordPieceTokenizer::parse_vocab_txt(const std::string& text) {
  std::unordered_map<std::string, int64_t> vocab;
  int64_t id = 0;
  for (std::string_view sv : split_lines(text)) {
    std::string line(sv);
    // HF trims trailing whitespace only (trim_end); later duplicates win.
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    vocab[line] = id++;
  }
  return vocab;
}

std::unique_ptr<WordPieceTokenizer> WordPieceTokenizer::from_vocab_txt(const std::string& path) {
  return std::make_unique<WordPieceTokenizer>(parse_vocab_txt(read_file(path)), WordPieceOptions{}, path);
}

WordPieceTokenizer::WordPieceTokenizer(std::unordered_map<std::string, int64_t> vocab, WordPieceOptions opt,
                                       const std::string& source)
    : vocab_(std::move(vocab)), opt_(std::move(opt)) {
  if (vocab_.empty()) fail(source, "vocab", "is empty");
  int64_t max_id = 0;
  for (const auto& kv : vocab_) max_id = std::max(max_id, kv.second);
  vocab_size_ = vocab_.size();
  auto need = [&](const std::string& tok) {
    auto it = vocab_.find(tok);
    if (it == vocab_.end()) fail(source, "vocab", "has no '" + tok + "' token: not a BERT WordPiece vocabulary");
    return it->second;
  };
  unk_id_ = need(opt_.unk_token);
  cls_id_ = need("[CLS]");
  sep_id_ = need("[SEP]");
  pad_id_ = vocab_.count("[PAD]") ? vocab_.at("[PAD]") : 0;
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
    if (vocab_.count(s)) added_.push_back({s, vocab_.at(s)});
  id_tokens_ = invert_vocab(vocab_, static_cast<size_t>(max_id) + 1);
}

std::string WordPieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  const std::string& cont = opt_.continuing_subword_prefix;
  std::string out;
  for (int64_t id : ids) {
    if (is_added(id)) continue;
    const std::string& t = token_of(id_tokens_, id);
    if (!out.empty() && t.compare(0, cont.size(), cont) == 0) out += t.substr(cont.size());
    else out += (out.empty() ? "" : " ") + t;
  }
  return out;
}

std::optional<int64_t> WordPieceTokenizer::token_to_id(const std::string& token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> WordPieceTokenizer::pre_tokenize(std::string_view text) const {
  std::u32string s = unicode::decode_utf8(text);
  if (opt_.clean_text) {
    std::u32string t;
    t.reserve(s.size());
    for (char32_t c : s) {
      if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
      t.push_back(is_bert_whitespace(c) ? U' ' : c);
    }
    s.swap(t);
  }
  if (opt_.handle_chinese_chars) {
    std::u32string t;
    t.reserve(s.size());
    for (char32_t c : s) {
      if (unicode::is_cjk(c)) { t.push_back(' '); t.push_back(c); t.push_back(' '); }
      else t.push_back(c);
    }
    s.swap(t);
  }
  if (opt_.strip_accents) {
    std::u32string d = unicode::nfd(s), t;
    t.reserve(d.size());
    for (char32_t c : d)
      if (!unicode::is_mark_nonspacing(c)) t.push_back(c);
    s.swap(t);
  }
  if (opt_.lowercase) s = unicode::to_lower(s);
  // Split on whitespace (removed) and punctuation (isolated).
  std::vector<std::string> words;
  std::u32string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(unicode::encode_utf8(cur));
    cur.clear();
  };
  for (char32_t c : s) {
    if (unicode::is_white_space(c)) { flush(); }
    else if (is_bert_punct(c)) { flush(); cur.push_back(c); flush(); }
    else cur.push_back(c);
  }
  flush();
  return words;
}

void WordPieceTokenizer::wordpiece(const std::u32string& word, std::vector<int64_t>& out) const {
  if (word.size() > opt_.max_input_chars_per_word) { out.push_back(unk_id_); return; }
  std::vector<int64_t> pieces;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = word.size();
    int64_t found = -1;
    while (start < end) {
      std::string sub = unicode::encode_utf8(std::u32string_view(word).substr(start, end - start));
      if (start > 0) sub = opt_.continuing_subword_prefix + sub;
      auto it = vocab_.find(sub);
      if (it != vocab_.end()) { found = it->second; break; }
      --end;
    }
    if (found < 0) { out.push_back(unk_id_); return; }
    pieces.push_back(found);
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

void WordPieceTokenizer::tokenize_segment(std::string_view text, std::vector<int64_t>& out) const {
  for (const auto& w : pre_tokenize(text)) wordpiece(unicode::decode_utf8(w), out);
}

Encoding WordPieceTokenizer::add_specials(const std::vector<int64_t>& a, const std::vector<int64_t>* b) const {
  Encoding e;
  e.ids.push_back(cls_id_);
  e.ids.insert(e.ids.end(), a.begin(), a.end());
  e.ids.push_back(sep_id_);
  e.type_ids.assign(e.ids.size(), 0);
  if (b) {
    e.ids.insert(e.ids.end(), b->begin(), b->end());
    e.ids.push_back(sep_id_);
    e.type_ids.resize(e.ids.size(), 1);
  }
  return e;
}

}  // namespace lntune
