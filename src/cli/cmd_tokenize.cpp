// lntune tokenize --tokenizer DIR: one line of ids per stdin line (BERT [CLS] ... [SEP], GPT-2
// no specials), no truncation unless --max-length. --pairs reads "a<TAB>b" lines.
#include <cxxopts.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "tokenizers/tokenizer.h"

namespace lntune::cli {

int cmd_tokenize(int argc, char** argv) {
  cxxopts::Options o("lntune tokenize", "Print model input ids for each line of stdin");
  o.add_options()("tokenizer", "folder with tokenizer.json, vocab.txt, or vocab.json + merges.txt",
                  cxxopts::value<std::string>())(
      "pairs", "lines are 'text<TAB>text_pair'")("max-length", "truncate longest-first to N tokens (specials included)",
                                                cxxopts::value<int64_t>()->default_value("0"))(
      "pad", "pad to --max-length")("type-ids", "also print token type ids after ' | '")(
      "no-special-tokens", "do not add [CLS]/[SEP]")(
      "stats", "print length statistics to stderr at the end")("h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  if (!a.count("tokenizer")) throw UsageError{"--tokenizer DIR is required"};
  auto tok = Tokenizer::from_dir(a["tokenizer"].as<std::string>());
  EncodeOptions eo;
  eo.max_length = a["max-length"].as<int64_t>();
  eo.pad_to_max_length = a.count("pad") > 0;
  if (eo.max_length < 0) throw UsageError{"--max-length must be >= 0 (0: no limit)"};
  if (eo.pad_to_max_length && eo.max_length == 0) throw UsageError{"--pad pads to --max-length: give one"};
  eo.add_special_tokens = a.count("no-special-tokens") == 0;
  bool pairs = a.count("pairs") > 0, types = a.count("type-ids") > 0, stats = a.count("stats") > 0;
  auto unk = tok->token_to_id(tok->kind() == "wordpiece" ? "[UNK]" : "<unk>");
  std::vector<size_t> lengths;
  size_t unks = 0;
  auto t0 = std::chrono::steady_clock::now();
  std::ios::sync_with_stdio(false);
  std::string line, out;
  while (std::getline(std::cin, line)) {
    Encoding e;
    if (pairs) {
      auto tab = line.find('\t');
      if (tab == std::string::npos) e = tok->encode(line, std::string_view(), eo);
      else e = tok->encode(std::string_view(line).substr(0, tab), std::string_view(line).substr(tab + 1), eo);
    } else {
      e = tok->encode(line, std::nullopt, eo);
    }
    out.clear();
    for (size_t i = 0; i < e.ids.size(); ++i) (out += i ? " " : "") += std::to_string(e.ids[i]);
    if (types) {
      out += " |";
      for (auto t : e.type_ids) (out += " ") += std::to_string(t);
    }
    out += '\n';
    std::cout << out;
    if (stats) {
      lengths.push_back(e.ids.size());
      if (unk) unks += static_cast<size_t>(std::count(e.ids.begin(), e.ids.end(), *unk));
    }
  }
  if (stats && !lengths.empty()) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t total = 0;
    for (auto n : lengths) total += n;
    std::vector<size_t> sorted = lengths;
    std::sort(sorted.begin(), sorted.end());
    size_t over = static_cast<size_t>(std::count_if(lengths.begin(), lengths.end(), [](size_t n) { return n > 128; }));
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s (%zu-token vocab): %zu lines, %zu tokens, mean %.1f, median %zu, p95 %zu, max %zu, "
                  "%.2f%% unknown, %zu lines (%.1f%%) over 128 tokens, %.0f lines/s, %.0f tokens/s\n",
                  tok->kind().c_str(), tok->vocab_size(), lengths.size(), total,
                  static_cast<double>(total) / lengths.size(), sorted[sorted.size() / 2], sorted[sorted.size() * 95 / 100],
                  sorted.back(), 100.0 * unks / std::max<size_t>(total, 1), over, 100.0 * over / lengths.size(),
                  lengths.size() / secs, total / secs);
    std::cerr << buf;
  }
  return 0;
}

}  // namespace lntune::cli
