#include "data/raw_parse.h"

#include <simdjson.h>

#include <algorithm>

#include "core/civil_time.h"

namespace spir {

namespace dom = simdjson::dom;

struct RawLineParser::Impl {
  dom::parser parser;
};

RawLineParser::RawLineParser() : impl_(std::make_unique<Impl>()) {}
RawLineParser::~RawLineParser() = default;

namespace {

// Thrown inside parse() to unwind to the single catch that fills RawLineError.
struct Reject {
  std::string reason, field, message;
};

[[noreturn]] void reject(std::string reason, std::string field, std::string message) {
  throw Reject{std::move(reason), std::move(field), std::move(message)};
}

const char* type_name(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY: return "array";
    case dom::element_type::OBJECT: return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64: return "integer";
    case dom::element_type::DOUBLE: return "number";
    case dom::element_type::STRING: return "string";
    case dom::element_type::BOOL: return "boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

// The value of an element already known to hold a T.
template <class T>
T value_of(dom::element e) {
  T v{};
  if (e.get(v) != simdjson::SUCCESS) reject("bad_type", "", "unexpected JSON value");
  return v;
}

bool lookup(dom::object obj, std::string_view key, dom::element& out) { return obj.at_key(key).get(out) == simdjson::SUCCESS; }

// A string field; ids may also be written as integers by some crawlers, and are then taken as their decimal text.
std::string get_string(dom::object obj, std::string_view key, bool required, bool allow_integer = false,
                       const std::string& field_prefix = "") {
  dom::element e;
  const std::string field = field_prefix + std::string(key);
  if (!lookup(obj, key, e) || e.is_null()) {
    if (required) reject("missing_field", field, "required field is missing");
    return {};
  }
  if (e.is_string()) {
    const auto sv = value_of<std::string_view>(e);
    if (required && sv.empty()) reject("missing_field", field, "required field is empty");
    return std::string(sv);
  }
  if (allow_integer && (e.is_int64() || e.is_uint64())) return std::string(simdjson::minify(e));
  reject("bad_type", field, std::string("expected a string, got ") + type_name(e.type()));
}

int64_t get_datetime(dom::object obj, std::string_view key, const std::string& field_prefix = "") {
  const std::string s = get_string(obj, key, true, false, field_prefix);
  auto t = parse_datetime(s);
  if (!t) reject("bad_date", field_prefix + std::string(key), "'" + s + "' is not a date-time YYYY-MM-DD HH:MM:SS");
  return *t;
}

// A count: a non-negative integer, or null/absent (kMissing). Integral floats (12.0) are accepted.
int64_t get_count(dom::object obj, std::string_view key, const std::string& field) {
  dom::element e;
  if (!lookup(obj, key, e) || e.is_null()) return kMissing;
  int64_t v = 0;
  if (e.is_int64()) {
    v = value_of<int64_t>(e);
  } else if (e.is_uint64()) {
    reject("bad_value", field, "count too large");
  } else if (e.is_double()) {
    const double d = value_of<double>(e);
    if (d != static_cast<double>(static_cast<int64_t>(d))) reject("bad_value", field, "count is not an integer");
    v = static_cast<int64_t>(d);
  } else {
    reject("bad_type", field, std::string("expected a count (integer or null), got ") + type_name(e.type()));
  }
  if (v < 0) reject("negative_count", field, "count is negative: " + std::to_string(v));
  return v;
}

void parse_frames(dom::object obj, Video& v) {
  dom::element e;
  if (!lookup(obj, "time_frames", e) || e.is_null()) reject("missing_field", "time_frames", "required field is missing");
  dom::object frames;
  if (e.get(frames) != simdjson::SUCCESS)
    reject("bad_type", "time_frames", std::string("expected an object, got ") + type_name(e.type()));
  const int64_t post_day = v.post_day();
  for (auto [key, value] : frames) {
    const std::string field = "time_frames." + std::string(key);
    auto day = parse_date(key);
    if (!day) reject("bad_date", field, "'" + std::string(key) + "' is not a date YYYY-MM-DD");
    if (*day < post_day) reject("frame_before_post", field, "crawled before the video was posted");
    dom::object counts;
    if (value.get(counts) != simdjson::SUCCESS)
      reject("bad_type", field, std::string("expected an object of counts, got ") + type_name(value.type()));
    Frame f;
    f.day = *day;
    for (int i = 0; i < kNumIndicators; ++i) f.counts[i] = get_count(counts, indicator_raw_field(i), field + "." + indicator_raw_field(i));
    v.frames.push_back(f);
  }
  if (v.frames.empty()) reject("empty_time_frames", "time_frames", "no crawl frames");
  std::sort(v.frames.begin(), v.frames.end(), [](const Frame& a, const Frame& b) { return a.day < b.day; });
  for (size_t i = 1; i < v.frames.size(); ++i)
    if (v.frames[i].day == v.frames[i - 1].day)
      reject("bad_value", "time_frames", "date " + format_date(v.frames[i].day) + " appears twice");
}

void parse_comment(dom::element c, const std::string& field, Video& v) {
  dom::object obj;
  if (c.get(obj) != simdjson::SUCCESS)
    reject("bad_comment", field, std::string("expected a comment object, got ") + type_name(c.type()));
  try {
    Comment cm;
    cm.text = get_string(obj, "comment_content", false, false, field + ".");
    cm.time = get_datetime(obj, "comment_time", field + ".");
    cm.user_id = get_string(obj, "comment_user_id", false, true, field + ".");
    cm.nickname = get_string(obj, "comment_nickname", false, false, field + ".");
    cm.ip_address = get_string(obj, "ip_address", false, false, field + ".");
    v.comments.push_back(std::move(cm));
  } catch (Reject& r) {
    r.reason = "bad_comment";
    throw;
  }
}

void parse_comments(dom::object obj, Video& v) {
  dom::element e;
  if (!lookup(obj, "comments", e) || e.is_null()) return;
  if (e.is_array()) {
    size_t i = 0;
    for (dom::element c : dom::array(e)) parse_comment(c, "comments[" + std::to_string(i++) + "]", v);
  } else if (e.is_object()) {
    for (auto [key, c] : dom::object(e)) parse_comment(c, "comments." + std::string(key), v);
  } else {
    reject("bad_type", "comments", std::string("expected an object or array, got ") + type_name(e.type()));
  }
  std::stable_sort(v.comments.begin(), v.comments.end(), [](const Comment& a, const Comment& b) { return a.time < b.time; });
}

void parse_cross_post(dom::object obj, Video& v) {
  dom::element e;
  if (!lookup(obj, "cross_post_of", e) || e.is_null()) return;
  dom::object x;
  if (e.get(x) != simdjson::SUCCESS)
    reject("bad_type", "cross_post_of", std::string("expected an object, got ") + type_name(e.type()));
  v.cross_platform = get_string(x, "platform", true, false, "cross_post_of.");
  v.cross_video_id = get_string(x, "video_id", true, true, "cross_post_of.");
  std::transform(v.cross_platform.begin(), v.cross_platform.end(), v.cross_platform.begin(), ::tolower);
}

}  // namespace

bool RawLineParser::parse(std::string_view line, Video& v, RawLineError& err) {
  v = Video{};
  try {
    dom::element doc;
    if (auto code = impl_->parser.parse(line.data(), line.size(), true).get(doc); code != simdjson::SUCCESS)
      reject("not_json", "", std::string("not valid JSON: ") + simdjson::error_message(code));
    dom::object obj;
    if (doc.get(obj) != simdjson::SUCCESS)
      reject("not_object", "", std::string("expected a JSON object, got ") + type_name(doc.type()));
    v.video_id = get_string(obj, "video_id", true, true);
    v.platform = get_string(obj, "platform", true);
    std::transform(v.platform.begin(), v.platform.end(), v.platform.begin(), ::tolower);
    v.topic = get_string(obj, "topic", true);
    v.user_id = get_string(obj, "user_id", true, true);
    v.post_time = get_datetime(obj, "post_create_time");
    v.title = get_string(obj, "title", false);
    v.desc = get_string(obj, "desc", false);
    v.content = get_string(obj, "content", false);
    v.nickname = get_string(obj, "nickname", false);
    v.url = get_string(obj, "url", false);
    v.video_path = get_string(obj, "video_path", false);
    dom::element d;
    if (lookup(obj, "duration", d) && !d.is_null()) {
      if (!d.is_number()) reject("bad_type", "duration", std::string("expected a number, got ") + type_name(d.type()));
      const double x = d.is_double() ? value_of<double>(d)
                       : d.is_int64() ? static_cast<double>(value_of<int64_t>(d))
                                      : static_cast<double>(value_of<uint64_t>(d));
      if (!(x >= 0)) reject("bad_value", "duration", "duration is negative");
      v.duration = x;
    }
    parse_frames(obj, v);
    parse_comments(obj, v);
    parse_cross_post(obj, v);
    return true;
  } catch (const Reject& r) {
    err = RawLineError{r.reason, r.field, r.message};
    return false;
  }
}

}  // namespace spir
