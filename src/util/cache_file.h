// What lntune's on-disk caches share (the pretraining token stream, output_dir/tokens.bin, and
// the fine-tuning token cache): the file framing — an 8-byte magic, then the key's length and
// bytes, checked on read so that a stale or foreign file is a miss, then the payload — and the
// identity of the input files that goes into a key. Torch-free.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "util/file.h"

namespace lntune {

void put_u64(std::string& out, uint64_t v);
// Magic + key, the start of every cache file.
std::string cache_header(const char (&magic)[8], const std::string& key);

// Reads fixed-size pieces off a mapped buffer; every read is bounds-checked.
struct ByteReader {
  const unsigned char* p = nullptr;
  size_t left = 0;
  bool take(void* dst, size_t n);
};

// Maps `path` and checks its magic and key. True with `payload` positioned after the key (and
// `file` keeping the map alive); false when the magic or key differ or the file is too short.
// Throws as MappedFile::open when the file cannot be read.
bool open_cache(const std::string& path, const char (&magic)[8], const std::string& key, std::shared_ptr<MappedFile>& file,
                ByteReader& payload);

// A file's identity for a cache key: absolute path, size and modification time (ns). Throws
// Error "<path>: cannot open" when it does not exist.
nlohmann::json file_identity(const std::string& path);
// The identity of every regular file directly in `dir`, by name.
nlohmann::json folder_identity(const std::string& dir);

}  // namespace lntune
