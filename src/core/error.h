// Errors that name where bad input came from: file, line and field.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace spir {

// A user-facing error: bad input, bad usage, an unreadable file. The CLI prints what() and exits 1.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An error located in an input file. line and field are optional (0 / empty when unknown).
struct InputError : Error {
  std::string file;
  int64_t line = 0;
  std::string field;
  std::string reason;  // short machine-readable reason, e.g. "bad_date"
  InputError(std::string file, int64_t line, std::string field, std::string reason, const std::string& message);
};

// Formats "file:line: field 'f': message" (parts that are unknown are left out).
std::string format_location(const std::string& file, int64_t line, const std::string& field, const std::string& message);

}  // namespace spir
