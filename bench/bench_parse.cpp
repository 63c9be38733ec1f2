// Raw-line parsing throughput: spir's validating simdjson parser vs a straightforward nlohmann::json reference
// that extracts the same fields. Input: synthetic crawls (spir synth --scale small), generated in memory.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "core/civil_time.h"
#include "core/line_io.h"
#include "data/raw_parse.h"
#include "data/synth.h"

using namespace spir;

namespace {

const std::vector<std::string>& lines() {
  static std::vector<std::string> out = [] {
    const auto path = (std::filesystem::temp_directory_path() / "spir_bench_parse.jsonl").string();
    SynthOptions opt;
    opt.scale = "small";
    opt.out = path;
    write_synthetic_crawl(opt);
    std::vector<std::string> v;
    LineReader r(path);
    std::string_view l;
    while (r.next(l)) v.emplace_back(l);
    std::filesystem::remove(path);
    return v;
  }();
  return out;
}

int64_t total_bytes() {
  int64_t n = 0;
  for (const auto& l : lines()) n += static_cast<int64_t>(l.size());
  return n;
}

// The reference: parse into a DOM with nlohmann::json, copy the same fields, parse the same dates.
bool reference_parse(const std::string& line, Video& v) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  v = Video{};
  v.video_id = j.at("video_id").get<std::string>();
  v.platform = j.at("platform").get<std::string>();
  v.topic = j.at("topic").get<std::string>();
  v.user_id = j.at("user_id").get<std::string>();
  v.title = j.value("title", "");
  v.desc = j.value("desc", "");
  v.post_time = parse_datetime(j.at("post_create_time").get<std::string>()).value_or(0);
  for (const auto& [date, counts] : j.at("time_frames").items()) {
    Frame f;
    f.day = parse_date(date).value_or(0);
    for (int i = 0; i < kNumIndicators; ++i) {
      const auto it = counts.find(indicator_raw_field(i));
      f.counts[i] = it == counts.end() || it->is_null() ? kMissing : it->get<int64_t>();
    }
    v.frames.push_back(f);
  }
  if (j.contains("comments"))
    for (const auto& c : j.at("comments")) {
      Comment cm;
      cm.text = c.value("comment_content", "");
      cm.time = parse_datetime(c.value("comment_time", "")).value_or(0);
      v.comments.push_back(std::move(cm));
    }
  return true;
}

void BM_SpirRawLineParser(benchmark::State& state) {
  RawLineParser parser;
  Video v;
  RawLineError err;
  for (auto _ : state)
    for (const auto& l : lines()) benchmark::DoNotOptimize(parser.parse(l, v, err));
  state.SetBytesProcessed(state.iterations() * total_bytes());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines().size()));
}
BENCHMARK(BM_SpirRawLineParser)->Unit(benchmark::kMillisecond);

void BM_ReferenceNlohmannParse(benchmark::State& state) {
  Video v;
  for (auto _ : state)
    for (const auto& l : lines()) benchmark::DoNotOptimize(reference_parse(l, v));
  state.SetBytesProcessed(state.iterations() * total_bytes());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines().size()));
}
BENCHMARK(BM_ReferenceNlohmannParse)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
