#include "core/line_io.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace spir {

namespace {
constexpr size_t kChunk = 1 << 20;
std::string errno_text() { return std::strerror(errno); }
}  // namespace

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

LineReader::LineReader(const std::string& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(path + ": no such file");
  file_size_ = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) throw Error(path + ": cannot open: " + errno_text());
  gzbuffer(gz, 1 << 18);
  gz_ = gz;
  buf_.resize(kChunk);
}

LineReader::~LineReader() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

int64_t LineReader::compressed_pos() const { return gz_ ? gzoffset(static_cast<gzFile>(gz_)) : 0; }

bool LineReader::fill() {
  if (eof_) return false;
  // Keep the unconsumed tail at the front, grow when one line fills the whole buffer.
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  const int n = gzread(static_cast<gzFile>(gz_), buf_.data() + end_, static_cast<unsigned>(buf_.size() - end_));
  if (n < 0) {
    int code = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &code);
    throw Error(path_ + ": read failed near line " + std::to_string(line_no_ + 1) + ": " + (msg ? msg : "zlib error") +
                " (truncated or corrupt gzip?)");
  }
  if (n == 0) eof_ = true;
  end_ += static_cast<size_t>(n);
  return n > 0;
}

bool LineReader::next(std::string_view& line) {
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl) {
      size_t len = static_cast<const char*>(nl) - start;
      line = std::string_view(start, len);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      begin_ += len + 1;
      ++line_no_;
      return true;
    }
    if (!fill()) {
      if (begin_ == end_) return false;
      line = std::string_view(buf_.data() + begin_, end_ - begin_);  // last line without '\n'
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      begin_ = end_;
      ++line_no_;
      return true;
    }
  }
}

AtomicWriter::AtomicWriter(const std::string& path, int gzip_level) : path_(path), tmp_(path + ".tmp") {
  gzip_ = ends_with(path, ".gz");
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  if (gzip_) {
    const std::string mode = "wb" + std::to_string(gzip_level);
    gzFile gz = gzopen(tmp_.c_str(), mode.c_str());
    if (!gz) throw Error(tmp_ + ": cannot create: " + errno_text());
    gzbuffer(gz, 1 << 18);
    gz_ = gz;
  } else {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (!file_) throw Error(tmp_ + ": cannot create: " + errno_text());
  }
  pending_.reserve(kChunk);
}

AtomicWriter::~AtomicWriter() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
  if (file_) std::fclose(file_);
  if (gz_ || file_) std::remove(tmp_.c_str());
}

void AtomicWriter::flush_buffer() {
  if (pending_.empty()) return;
  bool ok;
  if (gzip_) ok = gzwrite(static_cast<gzFile>(gz_), pending_.data(), static_cast<unsigned>(pending_.size())) ==
                  static_cast<int>(pending_.size());
  else ok = std::fwrite(pending_.data(), 1, pending_.size(), file_) == pending_.size();
  if (!ok) throw Error(tmp_ + ": write failed (disk full?)");
  pending_.clear();
}

void AtomicWriter::write(std::string_view data) {
  pending_.append(data);
  if (pending_.size() >= kChunk) flush_buffer();
}

void AtomicWriter::commit() {
  flush_buffer();
  int rc = 0;
  if (gzip_) {
    rc = gzclose(static_cast<gzFile>(gz_)) == Z_OK ? 0 : -1;
    gz_ = nullptr;
  } else {
    rc = std::fclose(file_);
    file_ = nullptr;
  }
  if (rc != 0) throw Error(tmp_ + ": close failed");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) throw Error(path_ + ": rename failed: " + errno_text());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file_atomic(const std::string& path, std::string_view data) {
  AtomicWriter w(path);
  w.write(data);
  w.commit();
}

}  // namespace spir
