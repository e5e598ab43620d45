// Pretraining text: documents from a corpus file, tokenised once into a flat id stream, a
// held-out slice, and packing into full-length blocks. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizers/tokenizer.h"

namespace lntune {

// "lines": one document per line. "paragraphs": documents separated by blank lines (a
// document's lines are joined with spaces). Empty documents are skipped.
std::vector<std::string> read_documents(const std::string& path, const std::string& format);

// Every document's ids followed by `separator` (BERT [SEP], GPT-2 <|endoftext|>): the stream
// that blocks are cut from, so two documents are never adjacent without a separator between.
struct TokenStream {
  std::vector<int32_t> ids;
  int64_t documents = 0;
};

struct CorpusSplit {
  TokenStream train, heldout;
};

// Tokenises `docs` (no specials) on `threads` threads; every `heldout_every`-th document
// (index % heldout_every == heldout_every - 1; 0 = none) goes to the held-out stream.
CorpusSplit tokenize_corpus(const Tokenizer& tok, const std::vector<std::string>& docs, int32_t separator,
                            int64_t heldout_every, int threads);

// Blocks of `length` tokens cut from the stream: block i is ids[i*length, (i+1)*length). The
// tail shorter than a block is dropped. Returns the start offsets.
std::vector<int64_t> block_starts(const TokenStream& s, int64_t length);

// A block with the model's frame: BERT gets [CLS] ids [SEP] (cls >= 0), GPT-2 the ids as they are.
std::vector<int64_t> frame_block(const TokenStream& s, int64_t start, int64_t length, int64_t cls, int64_t sep);

// Token stream cache: a little header + raw int32 ids; `key` (corpus and tokenizer identity)
// must match for the cache to be used. Written atomically.
void write_token_cache(const std::string& path, const std::string& key, const CorpusSplit& split);
bool read_token_cache(const std::string& path, const std::string& key, CorpusSplit& split);

}  // namespace lntune
