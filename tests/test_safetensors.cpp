// The safetensors reader/writer and its torch bridge.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/error.h"
#include "tensor/safetensors.h"
#include "tensor/safetensors_torch.h"

namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("spir_test_st_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Expects fn to throw spir::Error whose message holds every one of parts.
template <typename F>
void expect_error(F fn, std::vector<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected spir::Error";
  } catch (const spir::Error& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

}  // namespace

// Every dtype (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL) round-trips bit-exactly with its shape.
TEST(Safetensors, RoundTripsEveryDtype) {
  const std::string path = temp_path("all.safetensors");
  torch::manual_seed(3);
  std::map<std::string, torch::Tensor> in = {
      {"f32", torch::randn({3, 4})},
      {"f16", torch::randn({5}).to(torch::kFloat16)},
      {"bf16", torch::randn({2, 3}).to(torch::kBFloat16)},
      {"f64", torch::randn({2, 2, 2}, torch::kFloat64)},
      {"i64", torch::randint(-1000000, 1000000, {7}, torch::kInt64)},
      {"i32", torch::randint(-100000, 100000, {3, 1}, torch::kInt32)},
      {"i16", torch::randint(-30000, 30000, {4}, torch::kInt16)},
      {"i8", torch::randint(-128, 127, {9}, torch::kInt8)},
      {"u8", torch::randint(0, 255, {2, 5}, torch::kUInt8)},
      {"bool", torch::randint(0, 2, {6}, torch::kInt64).to(torch::kBool)},
      {"scalar", torch::tensor(2.5f).reshape({})},
      {"empty", torch::zeros({0, 3})},
      {"strided", torch::arange(12, torch::kFloat32).reshape({3, 4}).t()},
  };
  spir::save_safetensors(path, in);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  auto out = spir::load_safetensors(path);
  ASSERT_EQ(out.size(), in.size());
  for (const auto& [name, t] : in) {
    ASSERT_TRUE(out.count(name)) << name;
    EXPECT_EQ(out[name].scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(out[name].sizes(), t.sizes()) << name;
    EXPECT_TRUE(torch::equal(out[name], t)) << name;
  }
  out.clear();
  fs::remove(path);
}

// The header follows the format: little-endian length, JSON with dtype/shape/data_offsets, padded to 8 bytes,
// and the __metadata__ string map survives a round trip.
TEST(Safetensors, HeaderLayoutAndMetadata) {
  const std::string path = temp_path("meta.safetensors");
  const float a[3] = {1, 2, 3};
  const int8_t b[2] = {-1, 7};
  spir::write_safetensors(path,
                          {{"b", spir::SafeDType::I8, {2}, b, 2}, {"a", spir::SafeDType::F32, {3}, a, 12}},
                          {{"format", "pt"}, {"note", "x"}});
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 14);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["a"]["dtype"], "F32");
  EXPECT_EQ(header["a"]["data_offsets"], nlohmann::json::array({0, 12}));
  EXPECT_EQ(header["b"]["shape"], nlohmann::json::array({2}));
  auto f = spir::SafetensorsFile::open(path);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  EXPECT_EQ(f->metadata().at("note"), "x");
  EXPECT_EQ(f->names(), (std::vector<std::string>{"a", "b"}));
  const auto& v = f->get("b");
  EXPECT_EQ(v.dtype, spir::SafeDType::I8);
  EXPECT_EQ(static_cast<const int8_t*>(v.data)[1], 7);
  expect_error([&] { f->get("nope"); }, {path, "nope"});
  fs::remove(path);
}

// A truncated file (cut in the header or in the data) fails with an error naming the file (and the tensor).
TEST(Safetensors, TruncatedFileNamesTheFile) {
  const std::string path = temp_path("trunc.safetensors");
  spir::save_safetensors(path, {{"weight", torch::ones({16, 16})}});
  const std::string bytes = read_bytes(path);
  write_bytes(path, bytes.substr(0, 5));
  expect_error([&] { spir::SafetensorsFile::open(path); }, {path, "truncated"});
  write_bytes(path, bytes.substr(0, 20));
  expect_error([&] { spir::SafetensorsFile::open(path); }, {path, "truncated"});
  write_bytes(path, bytes.substr(0, bytes.size() - 4));
  expect_error([&] { spir::SafetensorsFile::open(path); }, {path, "weight", "truncated"});
  expect_error([&] { spir::SafetensorsFile::open(path + ".absent"); }, {path + ".absent"});
  fs::remove(path);
}

// A header whose offsets disagree with shape × dtype, or an unknown dtype, is rejected naming the tensor.
TEST(Safetensors, InconsistentHeaderIsRejected) {
  const std::string path = temp_path("bad.safetensors");
  auto write_header = [&](const std::string& json, size_t data) {
    std::string h = json;
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
    write_bytes(path, bytes + h + std::string(data, '\0'));
  };
  write_header(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 16);
  expect_error([&] { spir::SafetensorsFile::open(path); }, {path, "'w'", "16"});
  write_header(R"({"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", 8);
  expect_error([&] { spir::SafetensorsFile::open(path); }, {path, "'w'", "dtype"});
  write_header("{not json", 0);
  expect_error([&] { spir::SafetensorsFile::open(path); }, {path, "JSON"});
  fs::remove(path);
}

// An F32 tensor loads without a copy (its storage lies inside the mapping) and stays valid after every other
// handle to the file is gone; in-place writes do not reach the file.
TEST(Safetensors, ZeroCopyFloat32Load) {
  const std::string path = temp_path("zc.safetensors");
  const torch::Tensor w = torch::arange(64, torch::kFloat32).reshape({8, 8});
  spir::save_safetensors(path, {{"w", w}, {"h", w.to(torch::kFloat16)}});
  torch::Tensor t, c;
  {
    auto f = spir::SafetensorsFile::open(path);
    t = spir::safetensors_tensor(f, "w");
    EXPECT_EQ(t.data_ptr(), f->get("w").data);
    c = spir::safetensors_tensor(f, "h", /*to_float32=*/true);
    EXPECT_EQ(c.scalar_type(), torch::kFloat32);
    EXPECT_NE(c.data_ptr(), f->get("h").data);
  }
  EXPECT_TRUE(torch::equal(t, w));
  EXPECT_TRUE(torch::equal(c, w));
  t.mul_(2);
  EXPECT_TRUE(torch::equal(spir::load_safetensors(path)["w"], w));
  t = torch::Tensor();
  fs::remove(path);
}

// Saving over an existing file replaces it whole (write to .tmp, then rename).
TEST(Safetensors, SaveReplacesAtomically) {
  const std::string path = temp_path("atomic.safetensors");
  spir::save_safetensors(path, {{"a", torch::ones({100})}});
  spir::save_safetensors(path, {{"b", torch::zeros({2})}});
  auto m = spir::load_safetensors(path);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.count("b"));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  m.clear();
  fs::remove(path);
}
