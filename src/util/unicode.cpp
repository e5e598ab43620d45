#include "util/unicode.h"

#include <algorithm>
#include <cstdint>

namespace lntune::unicode {
namespace {

struct CatRange { char32_t start; unsigned char cat; };
struct CccEntry { char32_t cp; unsigned char ccc; };
struct MapEntry { char32_t cp; uint32_t offset; uint32_t len; };

#include "util/unicode_tables.inc"

unsigned char category(char32_t c) {
  if (c >= 0x110000) return kCn;
  auto it = std::upper_bound(std::begin(kCatRanges), std::end(kCatRanges), c,
                             [](char32_t v, const CatRange& r) { return v < r.start; });
  return std::prev(it)->cat;
}

const MapEntry* find_map(const MapEntry* begin, const MapEntry* end, char32_t c) {
  auto it = std::lower_bound(begin, end, c, [](const MapEntry& e, char32_t v) { return e.cp < v; });
  return (it != end && it->cp == c) ? it : nullptr;
}

unsigned char combining_class(char32_t c) {
  auto it = std::lower_bound(std::begin(kCcc), std::end(kCcc), c,
                             [](const CccEntry& e, char32_t v) { return e.cp < v; });
  return (it != std::end(kCcc) && it->cp == c) ? it->ccc : 0;
}

// Hangul syllables decompose algorithmically (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr int kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = 11172;

}  // namespace

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0, n = s.size();
  while (i < n) {
    auto b0 = static_cast<unsigned char>(s[i]);
    int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
    char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (b & 0x3F);
    }
    // Reject overlong forms, surrogates and out-of-range values.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF))
      ok = false;
    if (ok) { out.push_back(cp); i += len; }
    else { out.push_back(0xFFFD); i += 1; }
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

bool is_letter(char32_t c) { auto k = category(c); return k >= kLu && k <= kLo; }
bool is_number(char32_t c) { auto k = category(c); return k >= kNd && k <= kNo; }
bool is_punctuation(char32_t c) { auto k = category(c); return k >= kPc && k <= kPo; }
bool is_mark_nonspacing(char32_t c) { return category(c) == kMn; }
bool is_other(char32_t c) { auto k = category(c); return k == kCn || k >= kCc; }

bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::u32string nfd(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c >= kSBase && c < kSBase + kSCount) {
      int si = static_cast<int>(c - kSBase);
      out.push_back(kLBase + si / kNCount);
      out.push_back(kVBase + (si % kNCount) / kTCount);
      if (si % kTCount) out.push_back(kTBase + si % kTCount);
    } else if (const MapEntry* e = find_map(std::begin(kDecomp), std::end(kDecomp), c)) {
      out.append(kPool + e->offset, e->len);
    } else {
      out.push_back(c);
    }
  }
  // Canonical ordering: stable sort each run of non-starters by combining class.
  size_t i = 0;
  while (i < out.size()) {
    if (combining_class(out[i]) == 0) { ++i; continue; }
    size_t j = i;
    while (j < out.size() && combining_class(out[j]) != 0) ++j;
    std::stable_sort(out.begin() + i, out.begin() + j,
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  return out;
}

std::u32string to_lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (const MapEntry* e = find_map(std::begin(kLower), std::end(kLower), c)) {
      out.append(kPool + e->offset, e->len);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

const char* version() { return kUnicodeVersion; }

}  // namespace lntune::unicode
