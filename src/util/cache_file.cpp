#include "util/cache_file.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "util/error.h"

namespace lntune {

void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

std::string cache_header(const char (&magic)[8], const std::string& key) {
  std::string b(magic, 8);
  put_u64(b, key.size());
  return b + key;
}

bool ByteReader::take(void* dst, size_t n) {
  if (n > left) return false;
  std::memcpy(dst, p, n);
  p += n;
  left -= n;
  return true;
}

bool open_cache(const std::string& path, const char (&magic)[8], const std::string& key, std::shared_ptr<MappedFile>& file,
                ByteReader& payload) {
  file = MappedFile::open(path);
  ByteReader r{file->data(), file->size()};
  char m[8];
  uint64_t klen = 0;
  if (!r.take(m, 8) || std::memcmp(m, magic, 8) != 0 || !r.take(&klen, 8) || klen != key.size()) return false;
  std::string k(klen, '\0');
  if (!r.take(k.data(), klen) || k != key) return false;
  payload = r;
  return true;
}

nlohmann::json file_identity(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) fail(path, "", "cannot open");
  return {{"path", std::filesystem::absolute(path).lexically_normal().string()},
          {"bytes", static_cast<int64_t>(st.st_size)},
          {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec}};
}

nlohmann::json folder_identity(const std::string& dir) {
  namespace fs = std::filesystem;
  nlohmann::json out = nlohmann::json::object();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file()) out[entry.path().filename().string()] = file_identity(entry.path().string());
  if (ec) fail(dir, "", "cannot list the folder: " + ec.message());
  return out;
}

}  // namespace lntune
