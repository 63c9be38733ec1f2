#include "test_util.h"

#include "data/annotate.h"
#include "data/ingest.h"
#include "data/synth.h"
#include "features/node_features.h"

namespace spir::testing {

std::string make_tiny_dataset(const ScratchDir& scratch, uint64_t seed, int64_t text_dim) {
  SynthOptions s;
  s.scale = "tiny";
  s.seed = seed;
  s.out = scratch.path("raw.jsonl");
  write_synthetic_crawl(s);
  IngestOptions io;
  io.raw_path = s.out;
  io.out_dir = scratch.path("ds");
  run_ingest(io);
  run_annotate(io.out_dir, AnnotateOptions{});
  if (text_dim > 0) {
    FeatureOptions fo;
    fo.text.spec = "hash";
    fo.text.dim = text_dim;
    run_features(io.out_dir, fo);
  }
  return io.out_dir;
}

}  // namespace spir::testing
