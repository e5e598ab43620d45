// Tokenizers: BERT WordPiece and GPT-2 byte-level BPE, at id parity with HF `tokenizers`.
// Torch-free, so the readers can be fuzzed and the `tokenize` tool stays light.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lntune {

struct Encoding {
  std::vector<int64_t> ids;
  std::vector<int64_t> type_ids;
  std::vector<int64_t> attention_mask;
};

struct EncodeOptions {
  int64_t max_length = 0;         // 0: no truncation; else longest-first, specials included
  bool pad_to_max_length = false;  // pad to max_length with the pad id (mask 0)
  bool add_special_tokens = true;
};

// An added token matched verbatim in raw text before normalisation (HF "added_tokens").
struct AddedToken {
  std::string content;
  int64_t id = 0;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Model ids for a text, special tokens in the text matched, no specials added.
  std::vector<int64_t> tokenize(std::string_view text) const;
  // Single or pair encoding with specials, truncation and padding.
  Encoding encode(std::string_view a, std::optional<std::string_view> b = std::nullopt,
                  const EncodeOptions& opt = {}) const;

  // Text of model ids, added (special) tokens skipped: what generation prints and is scored on.
  // Byte-level BPE gives back the exact bytes its tokens stand for (so decode(tokenize(t)) == t
  // for any text without added tokens); WordPiece joins words with spaces, "##" pieces to the
  // word before (its lower-casing and accent stripping cannot be undone).
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;

  virtual std::string kind() const = 0;  // "wordpiece" or "bpe"
  virtual size_t vocab_size() const = 0;
  virtual std::optional<int64_t> token_to_id(const std::string& token) const = 0;
  // Token string of every id (vocab_size() entries; ids the vocabulary skips are empty).
  virtual std::vector<std::string> vocab_by_id() const = 0;
  int64_t pad_id() const { return pad_id_; }
  const std::vector<AddedToken>& added_tokens() const { return added_; }

  // Reads DIR/tokenizer.json, or DIR/vocab.txt, or DIR/vocab.json + DIR/merges.txt.
  static std::unique_ptr<Tokenizer> from_dir(const std::string& dir);
  // Whether from_dir would find tokenizer files in `dir`, and every file name it may read.
  static bool present_in(const std::string& dir);
  static const std::vector<std::string>& file_names();
  static std::unique_ptr<Tokenizer> from_tokenizer_json(const std::string& path);
  // Parses tokenizer.json text; `source` names it in errors.
  static std::unique_ptr<Tokenizer> from_tokenizer_json_text(const std::string& text, const std::string& source);

 protected:
  // Tokenizes one segment that holds no added token.
  virtual void tokenize_segment(std::string_view text, std::vector<int64_t>& out) const = 0;
  // Adds the model's specials around one or two sequences (type ids included).
  virtual Encoding add_specials(const std::vector<int64_t>& a, const std::vector<int64_t>* b) const = 0;
  virtual size_t num_specials(bool pair) const = 0;

  // Whether `id` is an added (special) token, which decode skips.
  bool is_added(int64_t id) const;
  // Checks that `id` names a token of `table` (decode); an out-of-range id is an error naming it.
  static const std::string& token_of(const std::vector<std::string>& table, int64_t id);

  std::vector<AddedToken> added_;
  int64_t pad_id_ = 0;
};

// token -> id map from a JSON object (vocab.json, tokenizer.json's model.vocab); errors name
// `source` and `field`.
std::unordered_map<std::string, int64_t> vocab_from_json_text(const std::string& text, const std::string& source);

// The inverse of a token -> id map, as a table of `size` entries.
std::vector<std::string> invert_vocab(const std::unordered_map<std::string, int64_t>& vocab, size_t size);

// Longest-first truncation of a pair to `budget` tokens in total (HF semantics).
void truncate_longest_first(std::vector<int64_t>& a, std::vector<int64_t>* b, size_t budget);

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};

class WordPieceTokenizer : public Tokenizer {
 public:
  // `source` names the file the vocab came from, for error messages.
  WordPieceTokenizer(std::unordered_map<std::string, int64_t> vocab, WordPieceOptions opt,
                     const std::string& source);
  static std::unique_ptr<WordPieceTokenizer> from_vocab_txt(const std::string& path);
  // Parses vocab.txt text: one token per line, id = line number (as HF does).
  static std::unordered_map<std::string, int64_t> parse_vocab_txt(const std::string& text);

  std::string decode(const std::vector<int64_t>& ids) const override;
  std::string kind() const override { return "wordpiece"; }
  size_t vocab_size() const override { return vocab_size_; }
  std::optional<int64_t> token_to_id(const std::string& token) const override;
  std::vector<std::string> vocab_by_id() const override { return invert_vocab(vocab_, vocab_size_); }
  // BERT normalisation + pre-tokenisation, exposed for tests.
  std::vector<std::string> pre_tokenize(std::string_view text) const;

 protected:
  void tokenize_segment(std::string_view text, std::vector<int64_t>& out) const override;
  Encoding add_specials(const std::vector<int64_t>& a, const std::vector<int64_t>* b) const override;
  size_t num_specials(bool pair) const override { return pair ? 3 : 2; }

 private:
  void wordpiece(const std::u32string& word, std::vector<int64_t>& out) const;
  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<std::string> id_tokens_;  // decode
  WordPieceOptions opt_;
  size_t vocab_size_ = 0;
  int64_t unk_id_ = 0, cls_id_ = 0, sep_id_ = 0;
};

class ByteLevelBpeTokenizer : public Tokenizer {
 public:
  ByteLevelBpeTokenizer(std::unordered_map<std::string, int64_t> vocab,
                        const std::vector<std::pair<std::string, std::string>>& merges,
                        bool add_prefix_space, const std::string& vocab_source,
                        const std::string& merges_source);
  static std::unique_ptr<ByteLevelBpeTokenizer> from_files(const std::string& vocab_json,
                                                           const std::string& merges_txt);
  static std::unordered_map<std::string, int64_t> parse_vocab_json(const std::string& text,
                                                                   const std::string& source);
  static std::vector<std::pair<std::string, std::string>> parse_merges_txt(const std::string& text,
                                                                           const std::string& source);

  std::string decode(const std::vector<int64_t>& ids) const override;
  std::string kind() const override { return "bpe"; }
  size_t vocab_size() const override { return vocab_size_; }
  std::optional<int64_t> token_to_id(const std::string& token) const override;
  std::vector<std::string> vocab_by_id() const override { return invert_vocab(vocab_, vocab_size_); }
  // GPT-2's pre-tokenisation regex, hand-compiled; exposed for tests.
  static std::vector<std::u32string> split_gpt2(const std::u32string& text);

 protected:
  void tokenize_segment(std::string_view text, std::vector<int64_t>& out) const override;
  Encoding add_specials(const std::vector<int64_t>& a, const std::vector<int64_t>* b) const override;
  size_t num_specials(bool) const override { return 0; }

 private:
  void bpe(const std::string& bytes, std::vector<int64_t>& out) const;
  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<uint64_t, std::pair<int32_t, int64_t>> merges_;  // (a,b) -> (rank, merged id)
  int64_t byte_ids_[256] = {};
  bool add_prefix_space_ = false;
  size_t vocab_size_ = 0;
  std::vector<std::string> id_bytes_;  // the bytes each id stands for (decode)
};

}  // namespace lntune
