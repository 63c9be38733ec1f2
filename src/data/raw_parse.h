// Parses and validates one raw crawl line (RAW_FORMAT.md) into a Video, or says exactly what is wrong with it.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "data/video.h"

namespace spir {

// Why a line was rejected. reason is one of a fixed set (see raw_parse.cpp: not_json, not_object, missing_field,
// bad_type, bad_value, bad_date, negative_count, empty_time_frames, frame_before_post, bad_comment).
struct RawLineError {
  std::string reason, field, message;
};

// Reusable parser (keeps its buffers between lines). Validates every field spir uses.
class RawLineParser {
 public:
  RawLineParser();
  ~RawLineParser();
  // True and fills out on success; false and fills err otherwise. Frames come out sorted by day, comments by time.
  bool parse(std::string_view line, Video& out, RawLineError& err);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spir
