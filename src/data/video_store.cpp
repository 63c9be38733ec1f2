#include "data/video_store.h"

#include <nlohmann/json.hpp>

#include "core/binary_io.h"
#include "core/civil_time.h"
#include "core/line_io.h"
#include "core/progress.h"

namespace spir {

namespace {
constexpr char kMagic[8] = {'S', 'P', 'I', 'R', 'V', 'I', 'D', '1'};
}

std::string ds_path(const std::string& dir, const char* file) { return dir + "/" + file; }

void save_videos(const std::string& path, const VideoSet& set) {
  BinaryWriter w;
  w.raw(kMagic, sizeof kMagic);
  w.str(set.source);
  w.i64(static_cast<int64_t>(set.videos.size()));
  for (const Video& v : set.videos) {
    for (const std::string* s : {&v.platform, &v.video_id, &v.topic, &v.title, &v.desc, &v.content, &v.user_id,
                                 &v.nickname, &v.url, &v.video_path, &v.cross_platform, &v.cross_video_id})
      w.str(*s);
    w.f64(v.duration);
    w.i64(v.post_time);
    w.i64(v.source_line);
    w.u32(static_cast<uint32_t>(v.frames.size()));
    for (const Frame& f : v.frames) {
      w.i64(f.day);
      for (int64_t c : f.counts) w.i64(c);
      w.u8(f.glitch);
    }
    w.u32(static_cast<uint32_t>(v.comments.size()));
    for (const Comment& c : v.comments) {
      w.i64(c.time);
      w.str(c.text);
      w.str(c.user_id);
      w.str(c.nickname);
      w.str(c.ip_address);
    }
  }
  write_file_atomic(path, w.buffer());
}

VideoSet load_videos(const std::string& path) {
  const std::string data = read_file(path);
  BinaryReader r(data, path);
  char magic[8];
  r.raw(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof magic) != 0)
    throw Error(path + ": not a spir video store (run 'spir ingest' to create it)");
  VideoSet set;
  set.source = r.str();
  const int64_t n = r.i64();
  if (n < 0 || n > int64_t(1) << 40) throw Error(path + ": corrupt video count");
  set.videos.resize(static_cast<size_t>(n));
  for (Video& v : set.videos) {
    for (std::string* s : {&v.platform, &v.video_id, &v.topic, &v.title, &v.desc, &v.content, &v.user_id,
                           &v.nickname, &v.url, &v.video_path, &v.cross_platform, &v.cross_video_id})
      *s = r.str();
    v.duration = r.f64();
    v.post_time = r.i64();
    v.source_line = r.i64();
    v.frames.resize(r.u32());
    for (Frame& f : v.frames) {
      f.day = r.i64();
      for (int64_t& c : f.counts) c = r.i64();
      f.glitch = r.u8() != 0;
    }
    v.comments.resize(r.u32());
    for (Comment& c : v.comments) {
      c.time = r.i64();
      c.text = r.str();
      c.user_id = r.str();
      c.nickname = r.str();
      c.ip_address = r.str();
    }
  }
  if (!r.done()) throw Error(path + ": trailing bytes after the last video (corrupt store)");
  return set;
}

void export_videos_jsonl(const VideoSet& set, const std::string& path) {
  AtomicWriter out(path);
  Progress progress("export", static_cast<int64_t>(set.videos.size()), "videos");
  int64_t done = 0;
  for (const Video& v : set.videos) {
    nlohmann::json j;
    j["video_id"] = v.video_id;
    j["platform"] = v.platform;
    j["topic"] = v.topic;
    j["title"] = v.title;
    j["desc"] = v.desc;
    j["content"] = v.content;
    j["user_id"] = v.user_id;
    j["nickname"] = v.nickname;
    if (!std::isnan(v.duration)) j["duration"] = v.duration;
    j["post_create_time"] = format_datetime(v.post_time);
    if (!v.url.empty()) j["url"] = v.url;
    if (!v.video_path.empty()) j["video_path"] = v.video_path;
    nlohmann::json frames = nlohmann::json::object();
    for (const Frame& f : v.frames) {
      nlohmann::json c = nlohmann::json::object();
      for (int i = 0; i < kNumIndicators; ++i)
        c[indicator_raw_field(i)] = f.counts[i] == kMissing ? nlohmann::json(nullptr) : nlohmann::json(f.counts[i]);
      if (f.glitch) c["glitch"] = true;
      frames[format_date(f.day)] = std::move(c);
    }
    j["time_frames"] = std::move(frames);
    nlohmann::json comments = nlohmann::json::array();
    for (const Comment& c : v.comments)
      comments.push_back({{"comment_content", c.text},
                          {"comment_time", format_datetime(c.time)},
                          {"comment_user_id", c.user_id},
                          {"comment_nickname", c.nickname},
                          {"ip_address", c.ip_address}});
    j["comments"] = std::move(comments);
    if (!v.cross_platform.empty()) j["cross_post_of"] = {{"platform", v.cross_platform}, {"video_id", v.cross_video_id}};
    out.line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    progress.update(++done);
  }
  out.commit();
  progress.finish(done);
}

}  // namespace spir
