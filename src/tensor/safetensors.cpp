#include "tensor/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

namespace spir {
namespace {

struct DTypeInfo {
  SafeDType dtype;
  const char* name;
  size_t size;
};

const DTypeInfo kDTypes[] = {
    {SafeDType::F32, "F32", 4}, {SafeDType::F16, "F16", 2}, {SafeDType::BF16, "BF16", 2},
    {SafeDType::F64, "F64", 8}, {SafeDType::I64, "I64", 8}, {SafeDType::I32, "I32", 4},
    {SafeDType::I16, "I16", 2}, {SafeDType::I8, "I8", 1},   {SafeDType::U8, "U8", 1},
    {SafeDType::BOOL, "BOOL", 1},
};

const DTypeInfo& info(SafeDType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d;
  throw Error("safetensors: unknown dtype");
}

// "path: tensor 'name': message" (tensor part left out when name is empty).
Error file_error(const std::string& path, const std::string& name, const std::string& message) {
  std::string out = path + ": ";
  if (!name.empty()) out += "tensor '" + name + "': ";
  return Error(out + message);
}

// numel × element size, or throws when the shape is negative or the product overflows.
size_t byte_size(const std::string& path, const std::string& name, const std::vector<int64_t>& shape, SafeDType dt) {
  size_t n = safe_dtype_size(dt);
  for (int64_t d : shape) {
    if (d < 0) throw file_error(path, name, "negative dimension in shape");
    if (d != 0 && n > std::numeric_limits<size_t>::max() / static_cast<size_t>(d))
      throw file_error(path, name, "shape too large");
    n *= static_cast<size_t>(d);
  }
  return n;
}

}  // namespace

size_t safe_dtype_size(SafeDType dtype) { return info(dtype).size; }
const char* safe_dtype_name(SafeDType dtype) { return info(dtype).name; }

bool parse_safe_dtype(const std::string& name, SafeDType* dtype) {
  for (const auto& d : kDTypes)
    if (name == d.name) {
      *dtype = d.dtype;
      return true;
    }
  return false;
}

int64_t SafeTensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw file_error(path, "", std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw file_error(path, "", std::string("cannot stat: ") + std::strerror(e));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    throw file_error(path, "", "truncated: " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  }
  // Private writable mapping: in-place writes to borrowed tensors copy the page and never reach the file.
  void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  ::close(fd);
  if (m == MAP_FAILED) throw file_error(path, "", std::string("cannot mmap: ") + std::strerror(map_errno));
  f->map_ = m;
  f->map_size_ = size;

  const auto* bytes = static_cast<const unsigned char*>(m);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > size - 8)
    throw file_error(path, "", "truncated: header length " + std::to_string(header_len) + " exceeds the " +
                                   std::to_string(size - 8) + " bytes after the length field");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(reinterpret_cast<const char*>(bytes + 8),
                                   reinterpret_cast<const char*>(bytes + 8 + header_len));
  } catch (const std::exception& e) {
    throw file_error(path, "", std::string("bad JSON header: ") + e.what());
  }
  if (!header.is_object()) throw file_error(path, "", "JSON header is not an object");
  const unsigned char* data = bytes + 8 + header_len;
  const size_t data_size = size - 8 - header_len;

  std::vector<std::pair<size_t, std::string>> order;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw file_error(path, "", "__metadata__ is not an object");
      for (auto m2 = v.begin(); m2 != v.end(); ++m2) {
        if (!m2.value().is_string())
          throw file_error(path, "", "__metadata__ value '" + m2.key() + "' is not a string");
        f->metadata_[m2.key()] = m2.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw file_error(path, name, "entry needs dtype, shape and data_offsets");
    SafeTensorView t;
    t.name = name;
    if (!v["dtype"].is_string() || !parse_safe_dtype(v["dtype"].get<std::string>(), &t.dtype))
      throw file_error(path, name, "unsupported dtype " + v["dtype"].dump());
    const auto& shape = v["shape"];
    if (!shape.is_array()) throw file_error(path, name, "shape is not an array");
    for (const auto& d : shape) {
      if (!d.is_number_integer()) throw file_error(path, name, "shape holds a non-integer");
      t.shape.push_back(d.get<int64_t>());
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw file_error(path, name, "data_offsets must be two non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end) throw file_error(path, name, "data_offsets begin after they end");
    if (end > data_size)
      throw file_error(path, name, "truncated: data ends at byte " + std::to_string(end) + " but the file holds " +
                                       std::to_string(data_size) + " data bytes");
    t.nbytes = byte_size(path, name, t.shape, t.dtype);
    if (end - begin != t.nbytes)
      throw file_error(path, name, "data_offsets span " + std::to_string(end - begin) +
                                       " bytes, shape and dtype need " + std::to_string(t.nbytes));
    t.data = data + begin;
    order.emplace_back(begin, name);
    f->tensors_.emplace(name, std::move(t));
  }
  std::sort(order.begin(), order.end());
  for (auto& o : order) f->names_.push_back(o.second);
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_size_);
}

const SafeTensorView& SafetensorsFile::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw file_error(path_, name, "not in the file");
  return it->second;
}

void write_safetensors(const std::string& path, const std::vector<SafeTensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Data laid out in name order; header padded with spaces to a multiple of 8 so every tensor starts aligned.
  std::vector<const SafeTensorView*> sorted;
  std::set<std::string> seen;
  for (const auto& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__") throw file_error(path, t.name, "invalid tensor name");
    if (!seen.insert(t.name).second) throw file_error(path, t.name, "duplicate tensor name");
    if (byte_size(path, t.name, t.shape, t.dtype) != t.nbytes)
      throw file_error(path, t.name, "nbytes " + std::to_string(t.nbytes) + " does not match shape and dtype");
    if (t.nbytes > 0 && t.data == nullptr) throw file_error(path, t.name, "no data");
    sorted.push_back(&t);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const SafeTensorView* a, const SafeTensorView* b) { return a->name < b->name; });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto* t : sorted) {
    header[t->name] = {{"dtype", safe_dtype_name(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->nbytes}}};
    offset += t->nbytes;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');

  const std::string tmp = path + ".tmp";
  FILE* fp = std::fopen(tmp.c_str(), "wb");
  if (!fp) throw file_error(tmp, "", std::string("cannot create: ") + std::strerror(errno));
  unsigned char len[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
  bool ok = std::fwrite(len, 1, 8, fp) == 8 && std::fwrite(text.data(), 1, text.size(), fp) == text.size();
  for (const auto* t : sorted) {
    if (!ok) break;
    if (t->nbytes > 0) ok = std::fwrite(t->data, 1, t->nbytes, fp) == t->nbytes;
  }
  ok = (std::fflush(fp) == 0) && ok;
  ok = (::fsync(fileno(fp)) == 0) && ok;
  ok = (std::fclose(fp) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw file_error(tmp, "", "write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    throw file_error(path, "", std::string("cannot rename from .tmp: ") + std::strerror(e));
  }
}

}  // namespace spir
