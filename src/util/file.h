// File helpers: whole-file reads, read-only memory maps and atomic writes.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

namespace lntune {

std::string read_file(const std::string& path);  // throws Error naming the path
bool file_exists(const std::string& path);
bool is_directory(const std::string& path);

// Writes to "<path>.tmp.<pid>" then renames over `path`, so a crash never leaves a torn file.
void write_file_atomic(const std::string& path, const std::string& data);

// Read-only mmap of a whole file; shared so tensors can keep it alive.
class MappedFile {
 public:
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace lntune
