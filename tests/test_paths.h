// Paths the tests read: the repository's fixtures and the shared real assets (../shared).
#pragma once
#include <string>

namespace lntune::test {

inline std::string source_dir() { return LNTUNE_SOURCE_DIR; }
inline std::string fixtures() { return source_dir() + "/tests/fixtures"; }
inline std::string shared_dir() { return LNTUNE_SHARED_DIR; }
inline std::string bert_vocab_dir() { return shared_dir() + "/tokenizers/bert-base-uncased"; }
inline std::string gpt2_tokenizer_dir() { return shared_dir() + "/tokenizers/gpt2"; }

}  // namespace lntune::test
