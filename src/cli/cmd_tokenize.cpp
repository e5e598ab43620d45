// lntune tokenize --tokenizer DIR: one line of ids per stdin line (BERT [CLS] ... [SEP], GPT-2
// no specials), no truncation unless --max-length. --pairs reads "a<TAB>b" lines.
#include <cxxopts.hpp>

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
      "no-special-tokens", "do not add [CLS]/[SEP]")("h,help", "show help");
  auto a = o.parse(argc, argv);
  if (a.count("help")) { std::cout << o.help() << "\n"; return 0; }
  if (!a.count("tokenizer")) throw UsageError{"--tokenizer DIR is required"};
  auto tok = Tokenizer::from_dir(a["tokenizer"].as<std::string>());
  EncodeOptions eo;
  eo.max_length = a["max-length"].as<int64_t>();
  eo.pad_to_max_length = a.count("pad") > 0;
  eo.add_special_tokens = a.count("no-special-tokens") == 0;
  bool pairs = a.count("pairs") > 0, types = a.count("type-ids") > 0;
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
  }
  return 0;
}

}  // namespace lntune::cli
