// Unicode helpers for the tokenizers: UTF-8 decoding/encoding, general categories,
// NFD and full lower-casing. Torch-free (fuzzed and used by tokenizer tools).
#pragma once
#include <string>
#include <string_view>

namespace lntune::unicode {

// Decodes UTF-8; invalid sequences become U+FFFD, one per bad byte (as Rust's lossy decode).
std::u32string decode_utf8(std::string_view s);
std::string encode_utf8(std::u32string_view s);
void append_utf8(std::string& out, char32_t c);

// General category queries (Unicode version: see version()).
bool is_letter(char32_t c);             // L*
bool is_number(char32_t c);             // N*
bool is_punctuation(char32_t c);        // P*
bool is_mark_nonspacing(char32_t c);    // Mn
bool is_other(char32_t c);              // C* (Cc, Cf, Cn, Co, Cs)
bool is_white_space(char32_t c);        // the White_Space property
bool is_cjk(char32_t c);                // BERT's "Chinese character" blocks

std::u32string nfd(std::u32string_view s);
std::u32string to_lower(std::u32string_view s);  // per-character full mapping
const char* version();

}  // namespace lntune::unicode
