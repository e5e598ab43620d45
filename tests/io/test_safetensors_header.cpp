#include <gtest/gtest.h>

#include <cstring>

#include "io/safetensors_header.h"
#include "util/error.h"

using namespace lntune;

namespace {
std::string file_with_header(const std::string& json, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  return out + json + std::string(data_bytes, '\x01');
}
SafetensorsHeader parse(const std::string& f) {
  return parse_safetensors_header(reinterpret_cast<const unsigned char*>(f.data()), f.size(), "t.safetensors");
}
std::string error_of(const std::string& f) {
  try {
    parse(f);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(SafetensorsHeader, RoundTripThroughBuilder) {
  TensorEntry a{"w", DType::F32, {2, 3}, 0, 0}, b{"b", DType::BF16, {4}, 0, 0};
  std::string f = build_safetensors({a, b}, {std::string(24, 'x'), std::string(8, 'y')}, {{"format", "pt"}});
  auto h = parse(f);
  ASSERT_EQ(h.tensors.size(), 2u);
  EXPECT_EQ(h.data_start % 8, 0u);
  EXPECT_EQ(h.metadata.at("format"), "pt");
  const auto& w = h.tensors[0].name == "w" ? h.tensors[0] : h.tensors[1];
  EXPECT_EQ(w.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w.end - w.begin, 24u);
}

TEST(SafetensorsHeader, RejectsEveryKindOfLie) {
  EXPECT_NE(error_of("abc").find("too short"), std::string::npos);
  // Header length past the end of the file (truncated file).
  std::string ok = file_with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8);
  EXPECT_EQ(error_of(ok), "");
  EXPECT_NE(error_of(ok.substr(0, 20)).find("runs past the end"), std::string::npos);
  // Offsets outside the data section.
  EXPECT_NE(error_of(file_with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4)).find("outside"),
            std::string::npos);
  // Span not matching shape x dtype.
  EXPECT_NE(error_of(file_with_header(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 16)).find("does not match"),
            std::string::npos);
  // Overlapping tensors.
  EXPECT_NE(error_of(file_with_header(
                R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 16))
                .find("overlaps"),
            std::string::npos);
  EXPECT_NE(error_of(file_with_header(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8)).find("w.dtype"),
            std::string::npos);
  EXPECT_NE(error_of(file_with_header(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)).find("w.shape"),
            std::string::npos);
  EXPECT_NE(error_of(file_with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)).find("data_offsets"),
            std::string::npos);
  EXPECT_NE(error_of(file_with_header("[1,2]", 0)).find("JSON object"), std::string::npos);
  EXPECT_NE(error_of(file_with_header("{not json", 0)).find("invalid JSON"), std::string::npos);
  // Huge shapes cannot overflow the size check.
  EXPECT_NE(error_of(file_with_header(
                R"({"w":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})", 0)),
            "");
  // Every message names the file.
  EXPECT_EQ(error_of(ok.substr(0, 20)).rfind("t.safetensors: ", 0), 0u);
}
