// Reading and writing the safetensors format (8-byte little-endian header length, JSON header, raw
// little-endian data) without torch: plain views over a memory-mapped file, and an atomic writer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace spir {

// Element types of the format, named as in the header ("F32", "BF16", "BOOL", ...).
enum class SafeDType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };

// Bytes per element of a dtype.
size_t safe_dtype_size(SafeDType dtype);
// The header name of a dtype ("F32").
const char* safe_dtype_name(SafeDType dtype);
// Parses a header dtype name; false when unknown.
bool parse_safe_dtype(const std::string& name, SafeDType* dtype);

// One tensor: its name, dtype, shape and bytes (row-major, little-endian). For a file, data points into the mapping.
struct SafeTensorView {
  std::string name;
  SafeDType dtype = SafeDType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
  int64_t numel() const;  // product of shape (1 for a scalar)
};

// A safetensors file mapped read-only into memory (pages are copy-on-write, never written back). Views stay valid
// while the object lives: hold the shared_ptr for as long as any view or borrowed tensor is used.
class SafetensorsFile {
 public:
  // Maps and validates path; throws spir::Error naming the file (and tensor) on a missing, truncated or bad file.
  static std::shared_ptr<const SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  // Tensor names in the order their data lies in the file.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  // The named tensor; throws spir::Error naming the file and tensor when absent.
  const SafeTensorView& get(const std::string& name) const;
  // The header's "__metadata__" string map (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::vector<std::string> names_;
  std::map<std::string, SafeTensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (names unique; data of numel × dtype size bytes each) and metadata to path atomically: the bytes go
// to path + ".tmp", which is then renamed over path. Throws spir::Error naming the file or tensor on failure.
void write_safetensors(const std::string& path, const std::vector<SafeTensorView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace spir
