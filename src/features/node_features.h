// Node features of the propagation graph (paper Eq. 3–7): computed once per dataset by `spir features`, stored per
// node type as safetensors in DS/features/ with a manifest, and loaded memory-mapped by the models.
#pragma once
#include <array>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "features/text_encoder.h"
#include "features/video_encoder.h"
#include "graph/propagation_graph.h"

namespace spir {

struct FeatureOptions {
  TextEncoderOptions text;   // default fasttext, 128-d, cached in DS/features/cache
  VideoEncoderOptions video; // default stats
  std::string video_root;    // folder video_path is relative to (default: the raw crawl file's folder)
  // What Eq. 5 encodes. "relative" (default): the post time's hour within its week, the state's age (end of its
  // crawl date − post time) and each comment's age — values a later test period shares with the training period.
  // "absolute" (the paper's): post time, crawl date and comment time as timestamps, which a model trained on one
  // period must extrapolate for the next (docs/GRAPH.md).
  std::string time_mode = "relative";
};

struct FeatureSummary {
  nlohmann::json manifest;   // what manifest.json holds
  std::string to_text() const;
};

// Computes and writes DS/features/<type>.safetensors + manifest.json for the dataset in ds_dir.
FeatureSummary run_features(const std::string& ds_dir, const FeatureOptions& opt);

// One node type's features. Rows may be shared by several nodes (index: node → row; undefined = identity), and
// time-valued types keep their hours (Eq. 5 is applied when rows are expanded):
//   time, ctime: row = Eq. 5 encoding of hours; comment: row = text ‖ Eq. 5 encoding of hours (Eq. 7).
struct NodeFeatureTable {
  NodeType type = NodeType::kVideo;
  torch::Tensor rows;   // [R, d_stored] float32, or undefined for pure time types
  torch::Tensor hours;  // [R] float64, or undefined
  torch::Tensor index;  // [nodes] int64, or undefined
  int64_t nodes() const;
  int64_t row_count() const;
  int64_t dim() const;  // width after expansion
  // Expanded rows [begin, end) (not per node): stored part ‖ time encoding.
  torch::Tensor expand_rows(int64_t begin, int64_t end) const;
  // The full per-node matrix [nodes, dim()] (memory nodes × dim: fine for small graphs and for tests).
  torch::Tensor matrix() const;
};

struct NodeFeatures {
  std::array<NodeFeatureTable, kNumNodeTypes> tables;
  nlohmann::json manifest;
  const NodeFeatureTable& operator[](NodeType t) const { return tables[static_cast<int>(t)]; }
};

// Loads DS/features/ (memory-mapped); throws Error telling to run `spir features` when absent, or when the stored
// node counts do not match graph g (features of another annotation).
NodeFeatures load_features(const std::string& ds_dir, const PropagationGraph& g);

}  // namespace spir
