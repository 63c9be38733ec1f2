// UTF-8 decoding and encoding shared by every text path (tokenizers, encoders, title matching, statistics).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace spir {

// UTF-8 → code points; each byte of an invalid, overlong or truncated sequence becomes U+FFFD.
std::u32string decode_utf8(std::string_view s);
// Appends the UTF-8 encoding of one code point.
void append_utf8(char32_t cp, std::string& out);
// Code points [begin, end) back to UTF-8.
std::string encode_utf8(const std::u32string& s, size_t begin = 0, size_t end = std::u32string::npos);
// Number of code points (counts lead bytes; fast, no validation).
int64_t count_code_points(std::string_view s);

}  // namespace spir
