#include "pretrain/corpus.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/cache_file.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune {

std::vector<std::string> read_documents(const std::string& path, const std::string& format) {
  if (format != "lines" && format != "paragraphs")
    throw Error(path + ": format '" + format + "' is not one of lines, paragraphs");
  std::ifstream f(path);
  if (!f) fail(path, "", "cannot open the corpus");
  std::vector<std::string> docs;
  std::string line, cur;
  auto blank = [](const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; };
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (format == "lines") {
      if (!blank(line)) docs.push_back(line);
    } else if (blank(line)) {
      if (!cur.empty()) docs.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += cur.empty() ? line : " " + line;
    }
  }
  if (!cur.empty()) docs.push_back(std::move(cur));
  if (docs.empty()) fail(path, "", "the corpus holds no document");
  return docs;
}

CorpusSplit tokenize_corpus(const Tokenizer& tok, const std::vector<std::string>& docs, int32_t separator,
                            int64_t heldout_every, int threads) {
  const size_t n = docs.size();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  std::vector<std::vector<std::vector<int64_t>>> parts(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      size_t lo = n * static_cast<size_t>(t) / static_cast<size_t>(threads);
      size_t hi = n * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
      auto& out = parts[static_cast<size_t>(t)];
      out.reserve(hi - lo);
      for (size_t i = lo; i < hi; ++i) out.push_back(tok.tokenize(docs[i]));
    });
  for (auto& th : pool) th.join();
  CorpusSplit s;
  int64_t i = 0;
  for (const auto& part : parts)
    for (const auto& ids : part) {
      bool held = heldout_every > 0 && i % heldout_every == heldout_every - 1;
      ++i;
      if (ids.empty()) continue;
      TokenStream& dst = held ? s.heldout : s.train;
      for (int64_t id : ids) dst.ids.push_back(static_cast<int32_t>(id));
      dst.ids.push_back(separator);
      ++dst.documents;
    }
  return s;
}

std::vector<int64_t> block_starts(const TokenStream& s, int64_t length) {
  if (length <= 0) throw Error("block length must be positive");
  std::vector<int64_t> out;
  for (int64_t b = 0; (b + 1) * length <= static_cast<int64_t>(s.ids.size()); ++b) out.push_back(b * length);
  return out;
}

std::vector<int64_t> frame_block(const TokenStream& s, int64_t start, int64_t length, int64_t cls, int64_t sep) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(length + 2));
  if (cls >= 0) out.push_back(cls);
  for (int64_t i = start; i < start + length; ++i) out.push_back(s.ids[static_cast<size_t>(i)]);
  if (cls >= 0) out.push_back(sep);
  return out;
}

namespace {
constexpr char kMagic[8] = {'L', 'N', 'T', 'O', 'K', '0', '0', '1'};
}  // namespace

void write_token_cache(const std::string& path, const std::string& key, const CorpusSplit& split) {
  std::string b = cache_header(kMagic, key);
  for (const TokenStream* s : {&split.train, &split.heldout}) {
    put_u64(b, static_cast<uint64_t>(s->documents));
    put_u64(b, s->ids.size());
    b.append(reinterpret_cast<const char*>(s->ids.data()), s->ids.size() * sizeof(int32_t));
  }
  write_file_atomic(path, b);
}

bool read_token_cache(const std::string& path, const std::string& key, CorpusSplit& split) {
  if (!file_exists(path)) return false;
  std::shared_ptr<MappedFile> m;
  ByteReader r;
  if (!open_cache(path, kMagic, key, m, r)) return false;
  CorpusSplit out;
  for (TokenStream* s : {&out.train, &out.heldout}) {
    uint64_t docs = 0, n = 0;
    if (!r.take(&docs, 8) || !r.take(&n, 8) || n > r.left / sizeof(int32_t)) return false;
    s->documents = static_cast<int64_t>(docs);
    s->ids.resize(n);
    if (!r.take(s->ids.data(), n * sizeof(int32_t))) return false;
  }
  if (r.left != 0) return false;
  split = std::move(out);
  return true;
}

}  // namespace lntune
