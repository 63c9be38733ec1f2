// Test helpers: scratch folders unique to the test process, removed when the object goes away.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace spir::testing {

struct ScratchDir {
  std::filesystem::path dir;
  // Creates an empty <temp>/spir_test_<name>_<pid>.
  explicit ScratchDir(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / ("spir_test_" + name + "_" + std::to_string(::getpid()))) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  // The folder itself, or a file inside it.
  std::string path(const std::string& file = "") const { return file.empty() ? dir.string() : (dir / file).string(); }
};

// A dataset folder made in scratch from `synth --scale tiny --seed seed`: ingested, annotated with the defaults and,
// with text_dim > 0, node features with the hash text encoder of that width. Returns scratch.path("ds").
std::string make_tiny_dataset(const ScratchDir& scratch, uint64_t seed, int64_t text_dim = 16);

}  // namespace spir::testing
