// Streaming line input and output for plain or gzip files (gzip chosen by content on read, by ".gz" on write).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace spir {

// Reads a file line by line with constant memory; plain text and gzip are both accepted.
class LineReader {
 public:
  explicit LineReader(const std::string& path);  // throws Error when the file cannot be opened
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line without its '\n' (and without a trailing '\r'); false at end of file. The view lives until the next call.
  bool next(std::string_view& line);
  int64_t line_number() const { return line_no_; }      // 1-based number of the line last returned
  int64_t bytes_read() const { return compressed_pos(); }  // position in the file on disk, for progress
  int64_t file_size() const { return file_size_; }
  const std::string& path() const { return path_; }

 private:
  int64_t compressed_pos() const;
  bool fill();
  std::string path_;
  void* gz_ = nullptr;
  std::string buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_no_ = 0;
  int64_t file_size_ = 0;
};

// Writes text to path atomically: data goes to "path.tmp" and is renamed over path on commit().
// A writer destroyed without commit() removes its temporary file. Gzip when path ends in ".gz".
class AtomicWriter {
 public:
  explicit AtomicWriter(const std::string& path, int gzip_level = 3);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(std::string_view data);
  void line(std::string_view data) { write(data); write("\n"); }
  void commit();
  const std::string& path() const { return path_; }

 private:
  void flush_buffer();
  std::string path_, tmp_;
  bool gzip_ = false;
  void* gz_ = nullptr;
  std::FILE* file_ = nullptr;
  std::string pending_;
};

// Whole-file helpers.
std::string read_file(const std::string& path);
void write_file_atomic(const std::string& path, std::string_view data);
bool ends_with(std::string_view s, std::string_view suffix);

}  // namespace spir
