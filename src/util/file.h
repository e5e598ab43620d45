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

// Removes `path` and, for a folder, everything under it (symbolic links themselves, never what
// they point to); a missing path is fine. False with `why` set on failure. Not
// std::filesystem::remove_all: built against PyTorch's CUDA LibTorch on the GPU machine (GCC 13),
// that call jumped to a null address whenever it had a non-empty folder to remove (seen
// 2026-11-24: every run that replaced its previous checkpoint crashed), so removal goes through
// glibc's nftw.
bool remove_tree(const std::string& path, std::string* why = nullptr);

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
