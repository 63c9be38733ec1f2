#include "models/rgcn_inputs.h"

#include <spdlog/spdlog.h>

#include <functional>
#include <sstream>

#include "core/error.h"

namespace spir {

Ablation Ablation::parse(const std::string& s) {
  Ablation a;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    if (part == "V") a.no_video_features = true;
    else if (part == "VV") a.no_video_edges = true;
    else if (part == "IV") a.no_interaction_edges = true;
    else if (part == "CV") a.no_comment_edges = true;
    else throw Error("unknown ablation '" + part + "' (use V, VV, IV or CV; Table VI)");
  }
  return a;
}

std::string Ablation::name() const {
  std::string s;
  for (auto [on, n] : {std::pair{no_video_features, "V"}, {no_video_edges, "VV"}, {no_interaction_edges, "IV"}, {no_comment_edges, "CV"}})
    if (on) s += (s.empty() ? "" : ",") + std::string(n);
  return s;
}

bool Ablation::drops(Relation r) const {
  switch (r) {
    case Relation::kHasSameAuthorAs:
    case Relation::kHasSameTopicAs:
    case Relation::kIsHistoryOf: return no_video_edges;
    case Relation::kIsCurrentTimeOf:
    case Relation::kIsLikesOf:
    case Relation::kIsCollectsOf:
    case Relation::kIsViewsOf:
    case Relation::kIsSharesOf:
    case Relation::kIsCommentsOf:
    case Relation::kIsFansOf: return no_interaction_edges;
    case Relation::kIsCommentOf: return no_comment_edges;
    default: return false;
  }
}

torch::Tensor GraphModelInputs::attribute_mean(const RelationInput& a, const torch::Tensor& y) const {
  if (relation_info(a.relation).kind == RelationKind::kManyToOne)
    return segment_mean(a.index, graph.comment_count, y, videos);
  return a.index.defined() ? y.index_select(0, a.index) : y;
}

namespace {
// The rows [lo, hi) of a table, made on demand (so that tables computed at load, such as comments' Eq. 5 time
// encodings, never exist twice in full).
using RowBlocks = std::function<torch::Tensor(int64_t lo, int64_t hi)>;

// Zero mean, unit variance per column over the nodes that use the rows (index: node → row; undefined: one node per
// row), constant columns left at zero: log-counts reach 15–20 and would saturate the sigmoid of Eq. 9 at
// initialisation next to unit-scale text and time features. Reads the n rows of width d a block at a time, in
// double, and writes one float32 copy: the paper-scale comment table alone is 2.4 GB in float32.
torch::Tensor standardise_columns(const RowBlocks& block_of, int64_t n, int64_t d, const torch::Tensor& index = {}) {
  const int64_t block = 1 << 16;
  if (n < 2) return block_of(0, n).to(torch::kFloat32).contiguous();
  const torch::Tensor w = (index.defined() ? torch::bincount(index, {}, n) : torch::ones({n})).to(torch::kFloat64).unsqueeze(1);
  torch::Tensor sum = torch::zeros({1, d}, torch::kFloat64), sq = torch::zeros_like(sum);
  for (int64_t b = 0; b < n; b += block)
    sum += (w.slice(0, b, b + block) * block_of(b, std::min(n, b + block)).to(torch::kFloat64)).sum(0, true);
  const torch::Tensor mean = sum / w.sum();
  for (int64_t b = 0; b < n; b += block)
    sq += (w.slice(0, b, b + block) * (block_of(b, std::min(n, b + block)).to(torch::kFloat64) - mean).pow(2)).sum(0, true);
  const torch::Tensor sd = (sq / w.sum()).sqrt().clamp_min(1e-6);
  torch::Tensor out = torch::empty({n, d}, torch::kFloat32);
  for (int64_t b = 0; b < n; b += block) {
    const int64_t e = std::min(n, b + block);
    out.slice(0, b, e).copy_((block_of(b, e).to(torch::kFloat64) - mean) / sd);
  }
  return out;
}

torch::Tensor standardise_columns(const torch::Tensor& x, const torch::Tensor& index = {}) {
  return standardise_columns([&](int64_t lo, int64_t hi) { return x.slice(0, lo, hi); }, x.size(0), x.size(1), index);
}
}  // namespace

GraphModelInputs make_graph_model_inputs(const PropagationGraph& g, const NodeFeatures& f, const Ablation& ablation) {
  GraphModelInputs in;
  in.videos = g.videos;
  in.graph = to_tensors(g);
  in.video = f[NodeType::kVideo].matrix().contiguous();
  if (ablation.no_video_features) in.video = torch::zeros_like(in.video);
  for (int i = 0; i < kNumRelations; ++i) {
    const Relation r = relation_at(i);
    if (ablation.drops(r)) continue;
    const RelationInfo& info = relation_info(r);
    if (info.head == NodeType::kVideo) {
      in.video_relations.push_back(r);
      continue;
    }
    const NodeFeatureTable& t = f[info.head];
    if (t.hours.defined() && info.kind != RelationKind::kOneToOne) {  // computed rows (comments): standardised block-wise
      RelationInput a{r, {}, info.kind == RelationKind::kManyToOne ? in.graph.comment_owner : torch::Tensor()};
      if (info.kind == RelationKind::kSharedHead) a.index = r == Relation::kIsPlatformOf ? in.graph.platform_of : in.graph.topic_of;
      const int64_t n = t.row_count(), d = t.expand_rows(0, std::min<int64_t>(n, 1)).size(1);
      a.rows = standardise_columns([&t](int64_t lo, int64_t hi) { return t.expand_rows(lo, hi); }, n, d);
      in.attributes.push_back(std::move(a));
      continue;
    }
    RelationInput a{r, t.expand_rows(0, t.row_count()).contiguous(), {}};
    switch (info.kind) {
      case RelationKind::kSharedHead:
        a.index = r == Relation::kIsPlatformOf ? in.graph.platform_of : in.graph.topic_of;
        break;
      case RelationKind::kManyToOne:
        a.index = in.graph.comment_owner;
        break;
      default: {
        a.index = t.index;
        if (t.rows.defined() && !t.hours.defined() && t.rows.size(1) <= 4) {  // scalars: keep distinct rows only
          auto [uniq, inverse, counts] = torch::unique_dim(a.rows, 0, /*sorted=*/true, /*return_inverse=*/true);
          a.index = t.index.defined() ? inverse.index_select(0, t.index) : inverse;
          a.rows = uniq.contiguous();
        }
      }
    }
    a.rows = standardise_columns(a.rows, info.kind == RelationKind::kOneToOne ? a.index : torch::Tensor());
    spdlog::debug("model input {}: {} rows x {}, max |x| {:.2f}", relation_info(r).name, a.rows.size(0), a.rows.size(1),
                  a.rows.abs().max().item<double>());
    in.attributes.push_back(std::move(a));
  }
  in.video = standardise_columns(in.video);
  return in;
}

}  // namespace spir
