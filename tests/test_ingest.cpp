// Ingest: validation reasons, quarantine accounting, duplicate merging, glitch flags, gzip, store round trip.
#include <gtest/gtest.h>

#include "test_util.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/line_io.h"
#include "data/ingest.h"
#include "data/raw_parse.h"
#include "data/video_store.h"

using namespace spir;

namespace {


const char* kGood =
    R"({"video_id":"v1","platform":"Douyin","topic":"冬天","title":"标题","user_id":"u1","duration":7,)"
    R"("post_create_time":"2024-12-01 10:00:00","time_frames":{"2024-12-03":{"view_count":null,"like_count":20,)"
    R"("share_count":1,"collect_count":2,"comment_count":3,"fans_count":100},"2024-12-02":{"like_count":10}},)"
    R"("comments":[{"comment_content":"好","comment_time":"2024-12-02 08:00:00"},{"comment_content":"a","comment_time":"2024-12-01 11:00:00"}]})";

RawLineError parse_error(const std::string& line) {
  RawLineParser p;
  Video v;
  RawLineError err;
  EXPECT_FALSE(p.parse(line, v, err)) << line;
  return err;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

}  // namespace

// A valid line parses with sorted frames and comments, null counts as missing (not 0) and a lowercased platform.
TEST(RawParse, ValidLine) {
  RawLineParser p;
  Video v;
  RawLineError err;
  ASSERT_TRUE(p.parse(kGood, v, err)) << err.message;
  EXPECT_EQ(v.platform, "douyin");
  ASSERT_EQ(v.frames.size(), 2u);
  EXPECT_LT(v.frames[0].day, v.frames[1].day);
  EXPECT_EQ(v.frames[0].counts[kLikes], 10);
  EXPECT_EQ(v.frames[0].counts[kViews], kMissing);  // absent
  EXPECT_EQ(v.frames[1].counts[kViews], kMissing);  // null
  ASSERT_EQ(v.comments.size(), 2u);
  EXPECT_EQ(v.comments[0].text, "a");
  EXPECT_EQ(v.duration, 7);
}

// Each kind of bad field is rejected with its reason and the field's name.
TEST(RawParse, ReasonsAndFields) {
  const std::string g = kGood;
  EXPECT_EQ(parse_error(g.substr(0, 40)).reason, "not_json");
  EXPECT_EQ(parse_error("[1,2]").reason, "not_object");
  auto e = parse_error(replace(g, R"("video_id":"v1",)", ""));
  EXPECT_EQ(e.reason, "missing_field");
  EXPECT_EQ(e.field, "video_id");
  e = parse_error(replace(g, "2024-12-01 10:00:00", "2024-13-45 99:00:00"));
  EXPECT_EQ(e.reason, "bad_date");
  EXPECT_EQ(e.field, "post_create_time");
  e = parse_error(replace(g, R"("like_count":20)", R"("like_count":-5)"));
  EXPECT_EQ(e.reason, "negative_count");
  EXPECT_EQ(e.field, "time_frames.2024-12-03.like_count");
  e = parse_error(replace(g, R"("like_count":20)", R"("like_count":"many")"));
  EXPECT_EQ(e.reason, "bad_type");
  e = parse_error(replace(g, R"("like_count":20)", R"("like_count":2.5)"));
  EXPECT_EQ(e.reason, "bad_value");
  EXPECT_EQ(parse_error(R"({"video_id":"v","platform":"p","topic":"t","user_id":"u","post_create_time":"2024-12-01 10:00:00","time_frames":{}})").reason,
            "empty_time_frames");
  e = parse_error(replace(g, "\"2024-12-02\":{", "\"2024-11-30\":{"));
  EXPECT_EQ(e.reason, "frame_before_post");
  e = parse_error(replace(g, "2024-12-02 08:00:00", "yesterday"));
  EXPECT_EQ(e.reason, "bad_comment");
  EXPECT_EQ(e.field, "comments[0].comment_time");
  e = parse_error(replace(g, R"("duration":7)", R"("duration":-1)"));
  EXPECT_EQ(e.field, "duration");
}

// read = accepted + quarantined; every bad line is in quarantine.jsonl with its line number and reason;
// a consistent duplicate is merged (frames unioned), a conflicting one quarantined.
TEST(Ingest, QuarantineTotalsAndDuplicates) {
  const spir::testing::ScratchDir scratch("ingest");
  const std::string dir = scratch.path();
  const std::string raw = dir + "/raw.jsonl";
  const std::string g = kGood;
  const std::string dup_ok = replace(replace(g, "\"2024-12-02\":{", "\"2024-12-05\":{"), "\"title\":\"标题\"", "\"title\":\"\"");
  const std::string dup_bad = replace(g, "2024-12-01 10:00:00", "2024-12-01 11:00:00");
  const std::string other = replace(g, R"("video_id":"v1")", R"("video_id":"v2")");
  {
    std::ofstream out(raw);
    out << g << "\n" << "not json at all\n" << dup_ok << "\n\n" << dup_bad << "\n" << other << "\n"
        << replace(g, R"("topic":"冬天",)", "") << "\n";
  }
  IngestOptions opt;
  opt.raw_path = raw;
  opt.out_dir = dir + "/ds";
  const IngestSummary s = run_ingest(opt);
  EXPECT_EQ(s.lines_read, 6);  // the blank line is not a record
  EXPECT_EQ(s.lines_accepted, 3);
  EXPECT_EQ(s.lines_quarantined, 3);
  EXPECT_EQ(s.lines_read, s.lines_accepted + s.lines_quarantined);
  EXPECT_EQ(s.duplicates_merged, 1);
  EXPECT_EQ(s.videos, 2);
  EXPECT_EQ(s.quarantined_by_reason.at("not_json"), 1);
  EXPECT_EQ(s.quarantined_by_reason.at("duplicate_conflict"), 1);
  EXPECT_EQ(s.quarantined_by_reason.at("missing_field"), 1);
  // quarantine.jsonl: one line per rejected record, with its line number.
  std::vector<int64_t> lines;
  LineReader q(opt.out_dir + "/quarantine.jsonl");
  std::string_view l;
  while (q.next(l)) lines.push_back(nlohmann::json::parse(l).at("line").get<int64_t>());
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 5, 7}));
  const VideoSet set = load_videos(opt.out_dir + "/videos.bin");
  ASSERT_EQ(set.videos.size(), 2u);
  EXPECT_EQ(set.videos[0].frames.size(), 3u);  // 12-02, 12-03 from line 1 + 12-05 from line 3
  EXPECT_EQ(set.videos[0].title, "标题");       // an empty later field does not overwrite
  EXPECT_EQ(set.videos[0].comments.size(), 2u);  // identical comments are not repeated
}

// A file that is not JSON Lines at all fails fast with a clear message instead of quarantining everything.
TEST(Ingest, NotJsonlFailsFast) {
  const spir::testing::ScratchDir scratch("notjsonl");
  const std::string dir = scratch.path();
  {
    std::ofstream out(dir + "/raw.csv");
    for (int i = 0; i < 100; ++i) out << "a,b,c," << i << "\n";
  }
  IngestOptions opt;
  opt.raw_path = dir + "/raw.csv";
  opt.out_dir = dir + "/ds";
  try {
    run_ingest(opt);
    FAIL() << "a CSV file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not look like JSON Lines"), std::string::npos) << e.what();
  }
}

// Glitches: an all-zero frame in the middle of a series and a sharp drop are flagged; small drops are not.
TEST(Ingest, GlitchFrames) {
  Video v;
  for (auto likes : {10, 50, 0, 60, 58, 20, 70}) {
    Frame f;
    f.day = static_cast<int64_t>(v.frames.size());
    f.counts[kLikes] = likes;
    f.counts[kComments] = likes == 0 ? 0 : 5;
    v.frames.push_back(f);
  }
  EXPECT_EQ(flag_glitch_frames(v, 0.5, 10), 2);
  std::vector<bool> flags;
  for (const Frame& f : v.frames) flags.push_back(f.glitch);
  EXPECT_EQ(flags, (std::vector<bool>{false, false, true, false, false, true, false}));
}

// gzip input reads like plain input; the store and the JSONL export round-trip to the same videos.
TEST(Ingest, GzipAndExportRoundTrip) {
  const spir::testing::ScratchDir scratch("gzip");
  const std::string dir = scratch.path();
  {
    AtomicWriter w(dir + "/raw.jsonl.gz");
    w.line(kGood);
    w.line(replace(kGood, R"("video_id":"v1")", R"("video_id":"v2")"));
    w.commit();
  }
  IngestOptions opt;
  opt.raw_path = dir + "/raw.jsonl.gz";
  opt.out_dir = dir + "/ds";
  run_ingest(opt);
  const VideoSet a = load_videos(opt.out_dir + "/videos.bin");
  ASSERT_EQ(a.videos.size(), 2u);
  export_videos_jsonl(a, dir + "/export.jsonl");
  opt.raw_path = dir + "/export.jsonl";
  opt.out_dir = dir + "/ds2";
  run_ingest(opt);
  const VideoSet b = load_videos(opt.out_dir + "/videos.bin");
  ASSERT_EQ(b.videos.size(), a.videos.size());
  for (size_t i = 0; i < a.videos.size(); ++i) {
    EXPECT_EQ(a.videos[i].video_id, b.videos[i].video_id);
    EXPECT_EQ(a.videos[i].post_time, b.videos[i].post_time);
    EXPECT_EQ(a.videos[i].comments.size(), b.videos[i].comments.size());
    ASSERT_EQ(a.videos[i].frames.size(), b.videos[i].frames.size());
    for (size_t f = 0; f < a.videos[i].frames.size(); ++f) EXPECT_EQ(a.videos[i].frames[f].counts, b.videos[i].frames[f].counts);
  }
}
