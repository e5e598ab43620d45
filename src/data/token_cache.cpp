#include "data/token_cache.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "util/cache_file.h"
#include "util/error.h"

namespace lntune {

namespace {

// 02: the label names follow the splits (a 01 file is a miss, rewritten once).
constexpr char kMagic[8] = {'L', 'N', 'T', 'E', 'N', 'C', '0', '2'};

// FNV-1a: a stable name for a key (not a security boundary: the full key is checked on read).
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

void put_split(std::string& b, const std::vector<Encoded>& v) {
  put_u64(b, v.size());
  for (const auto& e : v) {
    put_u64(b, e.ids.size());
    b.append(reinterpret_cast<const char*>(&e.label), sizeof(float));
    for (int64_t id : e.ids) {
      auto x = static_cast<int32_t>(id);
      b.append(reinterpret_cast<const char*>(&x), sizeof x);
    }
    for (int64_t t : e.type_ids) b.push_back(static_cast<char>(t));
  }
}

bool take_split(ByteReader& r, std::vector<Encoded>& v) {
  uint64_t n = 0;
  if (!r.take(&n, 8) || n > r.left / 12) return false;  // every example needs >= 12 bytes
  v.resize(n);
  for (auto& e : v) {
    uint64_t len = 0;
    if (!r.take(&len, 8) || !r.take(&e.label, sizeof(float)) || len > r.left / 5) return false;
    e.ids.resize(len);
    e.type_ids.resize(len);
    for (auto& id : e.ids) {
      int32_t x = 0;
      r.take(&x, sizeof x);
      id = x;
    }
    for (auto& t : e.type_ids) {
      unsigned char x = 0;
      r.take(&x, 1);
      t = x;
    }
  }
  return true;
}

void put_names(std::string& b, const std::vector<std::string>& names) {
  put_u64(b, names.size());
  for (const auto& n : names) {
    put_u64(b, n.size());
    b += n;
  }
}

bool take_names(ByteReader& r, std::vector<std::string>& names) {
  uint64_t n = 0;
  if (!r.take(&n, 8) || n > r.left / 8) return false;
  names.resize(n);
  for (auto& s : names) {
    uint64_t len = 0;
    if (!r.take(&len, 8) || len > r.left) return false;
    s.resize(len);
    r.take(s.data(), len);
  }
  return true;
}

}  // namespace

std::string token_cache_dir() {
  if (const char* d = std::getenv("LNTUNE_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/lntune";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/lntune";
  return ".lntune-cache";
}

std::string token_cache_path(const std::string& dir, const std::string& label, const std::string& key) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
  return dir + "/" + label + "-" + hex + ".tokens";
}

bool read_encoded_cache(const std::string& path, const std::string& key, EncodedSplits& out) {
  if (!file_exists(path)) return false;
  std::shared_ptr<MappedFile> m;
  ByteReader r;
  try {
    if (!open_cache(path, kMagic, key, m, r)) return false;
  } catch (const Error&) {
    return false;
  }
  EncodedSplits got;
  if (!take_split(r, got.train) || !take_split(r, got.dev) || !take_names(r, got.label_names) || r.left != 0)
    return false;
  out = std::move(got);
  return true;
}

void write_encoded_cache(const std::string& path, const std::string& key, const EncodedSplits& splits) {
  std::string b = cache_header(kMagic, key);
  put_split(b, splits.train);
  put_split(b, splits.dev);
  put_names(b, splits.label_names);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  write_file_atomic(path, b);
}

}  // namespace lntune
