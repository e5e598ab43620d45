// A task's tokenised train and dev examples, cached on disk so that every later run of the same
// data, tokenizer and max_length skips reading and tokenising (a grid of 100 runs tokenises once).
// The file is read through a memory map; any mismatch or damage is a miss, never an error: the
// caller tokenises again and rewrites it. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/encoded.h"
#include "util/cache_file.h"  // file_identity / folder_identity for the keys

namespace lntune {

// $LNTUNE_CACHE_DIR, else $XDG_CACHE_HOME/lntune, else $HOME/.cache/lntune.
std::string token_cache_dir();

// The cache file for this identity: <dir>/<label>-<64-bit hash of key>.tokens.
std::string token_cache_path(const std::string& dir, const std::string& label, const std::string& key);

// True and fills `out` when `path` holds exactly this key; false on any miss or damage.
bool read_encoded_cache(const std::string& path, const std::string& key, EncodedSplits& out);
// Atomic (temp file + rename): concurrent writers of one key leave one whole file.
void write_encoded_cache(const std::string& path, const std::string& key, const EncodedSplits& splits);

}  // namespace lntune
