// The language-model corpus from a dataset: one JSON document per video, split by the samples' split.
#include "llm/lm_corpus.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <nlohmann/json.hpp>

#include "core/civil_time.h"
#include "core/rng.h"
#include "llm/prompt.h"

namespace spir {

std::string lm_document(const Dataset& d, const Sample& s, const LmCorpusOptions& opt) {
  const Video& v = d.set.videos.at(size_t(s.video));
  nlohmann::ordered_json j;
  j["platform"] = defuse(v.platform);
  j["topic"] = defuse(v.topic);
  j["title"] = defuse(v.title);
  j["description"] = defuse(v.desc);
  j["author"] = defuse(v.nickname);
  j["post_time"] = format_datetime(v.post_time);
  j["crawl_date"] = format_date(s.ctime_day);
  j["duration"] = std::isfinite(v.duration) ? nlohmann::ordered_json(v.duration) : nlohmann::ordered_json();
  for (int i = 0; i < kNumIndicators; ++i) j[indicator_name(i)] = count_or_null(s.counts[size_t(i)]);
  const size_t visible = size_t(std::clamp<int64_t>(s.comments_visible, 0, int64_t(v.comments.size())));
  std::vector<size_t> idx(visible);
  std::iota(idx.begin(), idx.end(), size_t{0});
  const size_t cap = size_t(std::max(opt.max_comments, 0));
  if (visible > cap) {  // a partial Fisher-Yates draw seeded by (seed, video), kept in time order
    Rng rng = Rng(opt.seed).split(uint64_t(s.video) + 1);
    for (size_t i = 0; i < cap; ++i) std::swap(idx[i], idx[i + rng.below(visible - i)]);
    idx.resize(cap);
    std::sort(idx.begin(), idx.end());
  }
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (size_t c : idx)
    list.push_back({{"time", format_datetime(v.comments[c].time)}, {"content", defuse(v.comments[c].text)}});
  j["comment_list"] = std::move(list);
  const std::string x = j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
  if (!opt.chat_frame) return x;
  return "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nPlease read the following "
         "json format information about the short-video and predict the final propagation influence level (levels "
         "0~9) of the short-video: " +
         x + "<|im_end|>\n";
}

LmCorpus build_lm_corpus(const Dataset& d, const LmCorpusOptions& opt) {
  std::vector<const Sample*> latest(d.set.videos.size(), nullptr);
  for (const Sample& s : d.samples) {
    if (s.video < 0 || size_t(s.video) >= latest.size()) continue;
    const Sample*& l = latest[size_t(s.video)];
    if (!l || s.ctime_day > l->ctime_day) l = &s;
  }
  LmCorpus c;
  for (const Sample* s : latest) {
    if (!s) continue;
    if (s->split == Split::kTest) {
      ++c.test_videos_skipped;
      continue;
    }
    std::string doc = lm_document(d, *s, opt);
    if (s->split == Split::kTrain) {
      c.train_bytes += int64_t(doc.size());
      c.train.push_back(std::move(doc));
      ++c.train_videos;
    } else {
      c.heldout_bytes += int64_t(doc.size());
      c.heldout.push_back(std::move(doc));
      ++c.heldout_videos;
    }
  }
  return c;
}

}  // namespace spir
