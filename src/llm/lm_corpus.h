// The pretraining corpus of the default language model: the text of the dataset's videos as JSON documents laid out
// like the NetGPT prompt's x_v (paper 4.3, Eq. 12), train split for training, val split held out; test never read.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace spir {

struct LmCorpusOptions {
  int max_comments = 50;     // comments per document, chosen at random (seeded) when more are visible
  bool chat_frame = true;    // wrap each JSON in the instruction text of Eq. 12 (without graph tokens or response)
  uint64_t seed = 7;         // comment choice
};

struct LmCorpus {
  std::vector<std::string> train;    // one document per train-split video
  std::vector<std::string> heldout;  // one document per val-split video
  int64_t train_videos = 0, heldout_videos = 0, test_videos_skipped = 0;
  int64_t train_bytes = 0, heldout_bytes = 0;
};

// One document: the video's latest sample (crawl date, counts, the comments visible then) as JSON with the prompt's
// field names (platform, topic, title, description, author, post_time, crawl_date, duration, the counts, fans,
// comment_list of {time, content}); "<|" in the data becomes "< |" so data never forms a special token.
std::string lm_document(const Dataset& d, const Sample& latest, const LmCorpusOptions& opt);

// Documents of every video with samples, by the split of its samples (a video's samples share one split).
LmCorpus build_lm_corpus(const Dataset& d, const LmCorpusOptions& opt);

}  // namespace spir
