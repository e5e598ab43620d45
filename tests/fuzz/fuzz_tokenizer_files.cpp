// Any bytes as tokenizer files (vocab.txt, vocab.json, merges.txt, tokenizer.json), then the
// resulting tokenizer on text taken from the same input: Error or ids inside the vocabulary.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tokenizers/tokenizer.h"
#include "util/error.h"

namespace {

void check(const lntune::Tokenizer& t, const std::string& text) {
  auto e = t.encode(text, std::string_view(text).substr(0, text.size() / 2), lntune::EncodeOptions{});
  if (e.ids.size() != e.type_ids.size() || e.ids.size() != e.attention_mask.size()) std::abort();
  lntune::EncodeOptions o;
  o.max_length = 8;
  o.pad_to_max_length = true;
  if (t.encode(text, std::nullopt, o).ids.size() != 8) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  // A 0xFF byte separates file text from the text to tokenise (never valid UTF-8 itself).
  auto cut = in.find('\xFF');
  std::string file = in.substr(0, cut), text = cut == std::string::npos ? "Hello, world!" : in.substr(cut + 1);
  try {
    switch (data[0] % 4) {
      case 0: {
        auto vocab = lntune::WordPieceTokenizer::parse_vocab_txt(file);
        check(lntune::WordPieceTokenizer(vocab, lntune::WordPieceOptions{}, "vocab.txt"), text);
        break;
      }
      case 1: lntune::ByteLevelBpeTokenizer::parse_vocab_json(file, "vocab.json"); break;
      case 2: lntune::ByteLevelBpeTokenizer::parse_merges_txt(file, "merges.txt"); break;
      case 3: check(*lntune::Tokenizer::from_tokenizer_json_text(file, "tokenizer.json"), text); break;
    }
  } catch (const lntune::Error&) {
  }
  return 0;
}
