#include "data/e2e.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "data/glue.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune {

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

std::vector<E2EItem> read_e2e(const std::string& path) {
  auto rows = parse_csv(read_file(path), path);
  if (rows.empty()) fail(path, "", "empty file");
  const auto& h = rows[0];
  auto col = [&](const char* name) {
    for (size_t i = 0; i < h.size(); ++i)
      if (lower(h[i]) == name) return static_cast<int>(i);
    return -1;
  };
  const int cm = col("mr"), cr = col("ref");
  if (cm < 0) fail(path, "header", "needs a column 'mr' (E2E's devset.csv / testset.csv layout)");
  std::vector<E2EItem> items;
  std::unordered_map<std::string, size_t> index;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = path + ":" + std::to_string(r + 1);
    if (row.size() != h.size()) throw Error(where + ": " + std::to_string(row.size()) + " fields, header has " + std::to_string(h.size()));
    const std::string& mr = row[static_cast<size_t>(cm)];
    if (mr.empty()) throw Error(where + ": mr: empty");
    auto [it, fresh] = index.emplace(mr, items.size());
    if (fresh) items.push_back({mr, {}});
    if (cr >= 0) {
      const std::string& ref = row[static_cast<size_t>(cr)];
      if (ref.empty()) throw Error(where + ": ref: empty");
      items[it->second].refs.push_back(ref);
    }
  }
  if (items.empty()) fail(path, "", "holds no examples");
  return items;
}

E2ESplit split_e2e(std::vector<E2EItem> items, double train_fraction) {
  // int(n * fraction), as scripts/corpus_sources.py computes it.
  const auto n_train = static_cast<size_t>(static_cast<double>(items.size()) * train_fraction);
  E2ESplit s;
  s.eval.assign(std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(n_train)),
                std::make_move_iterator(items.end()));
  items.resize(n_train);
  s.train = std::move(items);
  return s;
}

std::string e2e_prompt(const std::string& mr) { return mr + " ||"; }
std::string e2e_target(const std::string& ref) { return " " + ref; }

namespace {
Encoded lm_example(std::vector<int64_t> ids, int64_t target_start) {
  Encoded e;
  e.type_ids.assign(ids.size(), 0);
  e.ids = std::move(ids);
  e.target_start = target_start;
  return e;
}
}  // namespace

std::vector<Encoded> encode_e2e_train(const Tokenizer& tok, const std::vector<E2EItem>& items, int64_t max_length,
                                      int64_t eos) {
  std::vector<Encoded> out;
  const auto L = static_cast<size_t>(max_length);
  for (const auto& it : items) {
    const auto prompt = tok.tokenize(e2e_prompt(it.mr));
    const size_t start = std::min(prompt.size(), L - 1);
    for (const auto& ref : it.refs) {
      std::vector<int64_t> ids(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(start));
      const auto target = tok.tokenize(e2e_target(ref));
      ids.insert(ids.end(), target.begin(), target.end());
      ids.push_back(eos);
      if (ids.size() > L) ids.resize(L);
      out.push_back(lm_example(std::move(ids), static_cast<int64_t>(start)));
    }
  }
  return out;
}

std::vector<Encoded> encode_e2e_prompts(const Tokenizer& tok, const std::vector<E2EItem>& items, int64_t max_length) {
  std::vector<Encoded> out;
  for (const auto& it : items) {
    auto ids = tok.tokenize(e2e_prompt(it.mr));
    if (ids.size() > static_cast<size_t>(max_length - 1)) ids.resize(static_cast<size_t>(max_length - 1));
    const auto n = static_cast<int64_t>(ids.size());
    out.push_back(lm_example(std::move(ids), n));
  }
  return out;
}

}  // namespace lntune
