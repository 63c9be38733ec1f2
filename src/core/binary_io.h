// Little-endian binary records for fast-loading stores: a writer into a string, a bounds-checked reader over one.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace spir {

class BinaryWriter {
 public:
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void u8(uint8_t v) { raw(&v, 1); }
  void str(std::string_view s) { u32(static_cast<uint32_t>(s.size())); raw(s.data(), s.size()); }
  void raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string& buffer() { return buf_; }

 private:
  std::string buf_;
};

class BinaryReader {
 public:
  BinaryReader(std::string_view data, std::string source) : data_(data), source_(std::move(source)) {}
  uint32_t u32() { uint32_t v; raw(&v, sizeof v); return v; }
  int64_t i64() { int64_t v; raw(&v, sizeof v); return v; }
  double f64() { double v; raw(&v, sizeof v); return v; }
  uint8_t u8() { uint8_t v; raw(&v, 1); return v; }
  std::string str() {
    const uint32_t n = u32();
    need(n);
    std::string s(data_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  void raw(void* p, size_t n) { need(n); std::memcpy(p, data_.data() + pos_, n); pos_ += n; }
  bool done() const { return pos_ == data_.size(); }
  size_t pos() const { return pos_; }

 private:
  void need(size_t n) const {
    if (pos_ + n > data_.size()) throw Error(source_ + ": truncated or corrupt at byte " + std::to_string(pos_));
  }
  std::string_view data_;
  size_t pos_ = 0;
  std::string source_;
};

}  // namespace spir
