// GPT-2 byte-level BPE: the GPT-2 split regex (hand-compiled), the byte->unicode alphabet and
// rank-ordered merges (leftmost lowest-rank pair first, as HF's merge heap does).
#include <functional>
#include <limits>
#include <queue>

#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/unicode.h"

namespace lntune {

namespace {

// GPT-2's reversible byte -> printable code point table.
const std::array<char32_t, 256>& byte_alphabet() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

uint64_t pair_key(int64_t a, int64_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b); }

}  // namespace

std::vector<std::u32string> ByteLevelBpeTokenizer::split_gpt2(const std::u32string& s) {
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  using unicode::is_letter;
  using unicode::is_number;
  auto ws = [](char32_t c) { return unicode::is_white_space(c); };
  auto other = [&](char32_t c) { return !ws(c) && !is_letter(c) && !is_number(c); };
  std::vector<std::u32string> out;
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    size_t len = 0;
    if (s[i] == '\'' && i + 1 < n) {
      char32_t c1 = s[i + 1];
      char32_t c2 = i + 2 < n ? s[i + 2] : 0;
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') len = 2;
      else if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) len = 3;
    }
    if (len == 0) {
      size_t j = i + (s[i] == ' ' ? 1 : 0);
      for (auto cls : {+[](char32_t c) { return is_letter(c); }, +[](char32_t c) { return is_number(c); }}) {
        size_t k = j;
        while (k < n && cls(s[k])) ++k;
        if (k > j) { len = k - i; break; }
      }
      if (len == 0) {
        size_t k = j;
        while (k < n && other(s[k])) ++k;
        if (k > j) len = k - i;
      }
    }
    if (len == 0) {
      size_t k = i;
      while (k < n && ws(s[k])) ++k;
      // \s+(?!\S): leave the last space for the next word unless the run ends the text.
      len = k - i;
      if (k < n && len >= 2) len -= 1;
    }
    out.emplace_back(s.substr(i, len));
    i += len;
  }
  return out;
}

std::unordered_map<std::string, int64_t> ByteLevelBpeTokenizer::parse_vocab_json(const std::string& text,
                                                                                const std::string& source) {
  return vocab_from_json_text(text, source);
}

std::vector<std::pair<std::string, std::string>> ByteLevelBpeTokenizer::parse_merges_txt(
    const std::string& text, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> merges;
  size_t line_no = 0;
  for (std::string_view sv : split_lines(text)) {
    std::string line(sv);
    ++line_no;
    if (starts_with(line, "#version")) continue;
    size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 == line.size() || line.find(' ', sp + 1) != std::string::npos)
      fail(source, "line " + std::to_string(line_no), "a merge must be two symbols separated by one space");
    merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  return merges;
}

std::unique_ptr<ByteLevelBpeTokenizer> ByteLevelBpeTokenizer::from_files(const std::string& vocab_json,
                                                                         const std::string& merges_txt) {
  return std::make_unique<ByteLevelBpeTokenizer>(parse_vocab_json(read_file(vocab_json), vocab_json),
                                                 parse_merges_txt(read_file(merges_txt), merges_txt), false,
                                                 vocab_json, merges_txt);
}

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(std::unordered_map<std::string, int64_t> vocab,
                                             const std::vector<std::pair<std::string, std::string>>& merges,
                                             bool add_prefix_space, const std::string& vocab_source,
                                             const std::string& merges_source)
    : vocab_(std::move(vocab)), add_prefix_space_(add_prefix_space) {
  if (vocab_.empty()) fail(vocab_source, "", "vocabulary is empty");
  vocab_size_ = vocab_.size();
  const auto& alpha = byte_alphabet();
  for (int b = 0; b < 256; ++b) {
    std::string sym;
    unicode::append_utf8(sym, alpha[b]);
    auto it = vocab_.find(sym);
    if (it == vocab_.end())
      fail(vocab_source, "", "has no byte-level symbol for byte " + std::to_string(b) +
                                 ": not a GPT-2 byte-level BPE vocabulary");
    byte_ids_[b] = it->second;
  }
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    auto ia = vocab_.find(a), ib = vocab_.find(b), im = vocab_.find(a + b);
    if (ia == vocab_.end() || ib == vocab_.end() || im == vocab_.end())
      fail(merges_source, "merge " + std::to_string(r + 1) + " '" + a + " " + b + "'",
           "symbol not in the vocabulary " + vocab_source);
    merges_.emplace(pair_key(ia->second, ib->second), std::make_pair(static_cast<int32_t>(r), im->second));
  }
  // decode's table: each id's symbols mapped back through the byte alphabet.
  std::unordered_map<char32_t, char> byte_of;
  for (int b = 0; b < 256; ++b) byte_of[alpha[b]] = static_cast<char>(b);
  int64_t max_id = 0;
  for (const auto& kv : vocab_) max_id = std::max(max_id, kv.second);
  id_bytes_.assign(static_cast<size_t>(max_id) + 1, {});
  for (const auto& [sym, id] : vocab_) {
    if (id < 0) continue;
    std::string bytes;
    for (char32_t c : unicode::decode_utf8(sym)) {
      auto it = byte_of.find(c);
      if (it == byte_of.end()) {  // not a byte-level symbol (an added token's text): kept as it is
        bytes = sym;
        break;
      }
      bytes += it->second;
    }
    id_bytes_[static_cast<size_t>(id)] = std::move(bytes);
  }
  auto eos = vocab_.find("<|endoftext|>");
  if (eos != vocab_.end()) {
    added_.push_back({"<|endoftext|>", eos->second});
    pad_id_ = eos->second;
  }
}

std::optional<int64_t> ByteLevelBpeTokenizer::token_to_id(const std::string& token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void ByteLevelBpeTokenizer::bpe(const std::string& bytes, std::vector<int64_t>& out) const {
  // Symbols in a linked list; candidate merges in a min-heap by (rank, position). Popping the
  // lowest rank, leftmost first, and skipping stale entries is HF's algorithm: O(n log n), so a
  // long unbroken "word" (a base64 blob, say) cannot stall tokenisation.
  struct Sym { int64_t id; int prev, next; };
  struct Cand {
    int32_t rank;
    int pos;
    int64_t merged;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  const int n = static_cast<int>(bytes.size());
  std::vector<Sym> sym(n);
  for (int i = 0; i < n; ++i) sym[i] = {byte_ids_[static_cast<unsigned char>(bytes[i])], i - 1, i + 1 < n ? i + 1 : -1};
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto offer = [&](int pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    auto it = merges_.find(pair_key(sym[pos].id, sym[sym[pos].next].id));
    if (it != merges_.end()) heap.push({it->second.first, pos, it->second.second});
  };
  for (int i = 0; i + 1 < n; ++i) offer(i);
  std::vector<bool> dead(n, false);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    if (dead[c.pos] || sym[c.pos].next < 0) continue;
    int right = sym[c.pos].next;
    auto it = merges_.find(pair_key(sym[c.pos].id, sym[right].id));
    if (it == merges_.end() || it->second.first != c.rank) continue;  // stale: a neighbour changed
    sym[c.pos].id = c.merged;
    sym[c.pos].next = sym[right].next;
    if (sym[right].next >= 0) sym[sym[right].next].prev = c.pos;
    dead[right] = true;
    offer(sym[c.pos].prev);
    offer(c.pos);
  }
  for (int i = n > 0 ? 0 : -1; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

std::string ByteLevelBpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids)
    if (!is_added(id)) out += token_of(id_bytes_, id);
  return out;
}

void ByteLevelBpeTokenizer::tokenize_segment(std::string_view text, std::vector<int64_t>& out) const {
  std::u32string s = unicode::decode_utf8(text);
  if (add_prefix_space_ && (s.empty() || s[0] != ' ')) s.insert(s.begin(), U' ');
  for (const auto& piece : split_gpt2(s)) bpe(unicode::encode_utf8(piece), out);
}

Encoding ByteLevelBpeTokenizer::add_specials(const std::vector<int64_t>& a, const std::vector<int64_t>* b) const {
  Encoding e;
  e.ids = a;
  e.type_ids.assign(a.size(), 0);
  if (b) {
    e.ids.insert(e.ids.end(), b->begin(), b->end());
    e.type_ids.resize(e.ids.size(), 1);
  }
  return e;
}

}  // namespace lntune
