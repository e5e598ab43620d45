// The on-disk cache of tokenised examples: a round trip is exact, and a different key, a
// truncated or foreign file, or a missing one is a miss (never an error, never wrong data).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "data/token_cache.h"
#include "util/file.h"

using namespace lntune;

namespace {
EncodedSplits sample() {
  EncodedSplits s;
  s.train = {{{101, 2023, 2003, 102}, {0, 0, 0, 0}, 1.0f}, {{101, 7592, 102, 2088, 102}, {0, 0, 0, 1, 1}, 0.0f}};
  s.dev = {{{101, 30521, 102}, {0, 0, 0}, 3.25f}};
  s.label_names = {"positive", "négatif", ""};  // any bytes, an empty name too
  return s;
}
bool same(const std::vector<Encoded>& a, const std::vector<Encoded>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].ids != b[i].ids || a[i].type_ids != b[i].type_ids || a[i].label != b[i].label) return false;
  return true;
}
std::string temp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("lntune_token_cache_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}
}  // namespace

TEST(TokenCache, RoundTripAndMisses) {
  const std::string dir = temp_dir(), key = R"({"task":"rte","max_length":128})";
  const std::string path = token_cache_path(dir + "/sub", "rte", key);
  EXPECT_EQ(path.rfind(dir + "/sub/rte-", 0), 0u) << path;
  EncodedSplits got;
  EXPECT_FALSE(read_encoded_cache(path, key, got));  // not written yet
  write_encoded_cache(path, key, sample());          // creates the folder
  ASSERT_TRUE(read_encoded_cache(path, key, got));
  EXPECT_TRUE(same(got.train, sample().train));
  EXPECT_TRUE(same(got.dev, sample().dev));
  EXPECT_EQ(got.label_names, sample().label_names);
  // The same file under another key (a changed data file or max_length) is a miss.
  EncodedSplits untouched;
  EXPECT_FALSE(read_encoded_cache(path, R"({"task":"rte","max_length":64})", untouched));
  EXPECT_NE(token_cache_path(dir, "rte", key), token_cache_path(dir, "rte", R"({"task":"rte","max_length":64})"));
  // Truncated at every length, or with a byte appended: a miss, and `out` is left alone.
  std::string bytes = read_file(path);
  for (size_t n = 0; n < bytes.size(); n += 7) {
    write_file_atomic(path, bytes.substr(0, n));
    EXPECT_FALSE(read_encoded_cache(path, key, untouched)) << n;
  }
  write_file_atomic(path, bytes + "x");
  EXPECT_FALSE(read_encoded_cache(path, key, untouched));
  EXPECT_TRUE(untouched.train.empty() && untouched.dev.empty());
  remove_tree(dir);
}

TEST(TokenCache, FileIdentityFollowsContent) {
  const std::string dir = temp_dir(), f = dir + "/train.tsv";
  write_file_atomic(f, "a\tb\n");
  auto before = file_identity(f);
  EXPECT_EQ(before["bytes"], 4);
  EXPECT_EQ(folder_identity(dir)["train.tsv"], before);
  write_file_atomic(f, "a\tbc\n");
  EXPECT_NE(file_identity(f), before);
  EXPECT_THROW(file_identity(dir + "/nope.tsv"), std::exception);
  remove_tree(dir);
}
