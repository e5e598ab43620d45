// remove_tree: a folder with everything under it, a lone file, a missing path; a symbolic link
// inside the folder is removed as a link (what it points to stays), and a failure says why.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "util/file.h"

using namespace lntune;

namespace {
std::string scratch(const std::string& name) {
  std::string d = ::testing::TempDir() + "lntune_remove_tree_" + name + "_" + std::to_string(::getpid());
  remove_tree(d);
  return d;
}
void touch(const std::string& path) { std::ofstream(path) << "x"; }
bool exists(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0;
}
}  // namespace

TEST(RemoveTree, FolderWithNestedFilesAndALink) {
  std::string d = scratch("tree"), outside = scratch("outside");
  ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((d + "/checkpoint-4").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((d + "/checkpoint-4/deeper").c_str(), 0755), 0);
  touch(d + "/latest");
  touch(d + "/checkpoint-4/trainable.safetensors");
  touch(d + "/checkpoint-4/deeper/state.json");
  touch(outside);
  ASSERT_EQ(::symlink(outside.c_str(), (d + "/checkpoint-4/link").c_str()), 0);
  std::string why;
  EXPECT_TRUE(remove_tree(d, &why)) << why;
  EXPECT_FALSE(exists(d));
  EXPECT_TRUE(file_exists(outside)) << "the link's target must survive";
  EXPECT_TRUE(remove_tree(outside, &why)) << why;  // a lone file
  EXPECT_FALSE(exists(outside));
}

TEST(RemoveTree, MissingPathIsFineAndFailuresSayWhy) {
  EXPECT_TRUE(remove_tree(scratch("missing")));
  // procfs refuses every unlink, to root too (tests here and in CI run as root).
  std::string why;
  EXPECT_FALSE(remove_tree("/proc/version", &why));
  EXPECT_EQ(why, "Operation not permitted");
  EXPECT_TRUE(file_exists("/proc/version"));
}
