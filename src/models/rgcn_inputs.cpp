#include "models/rgcn_inputs.h"

#include <spdlog/spdlog.h>

#include <sstream>

#include "core/error.h"
#include "core/progress.h"

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
// Zero mean, unit variance per column over the nodes that use the rows (index: node → row; undefined: one node per
// row), constant columns left at zero: log-counts reach 15–20 and would saturate the sigmoid of Eq. 9 at
// initialisation next to unit-scale text and time features. In place, in double a block of rows at a time: the
// paper-scale comment table alone is 2.2 GB in float32 and must not exist twice.
void standardise_columns_(torch::Tensor& x, const torch::Tensor& index = {}) {
  if (x.size(0) < 2) return;
  const int64_t n = x.size(0), block = 1 << 16;
  const torch::Tensor w = (index.defined() ? torch::bincount(index, {}, n) : torch::ones({n})).to(torch::kFloat64).unsqueeze(1);
  torch::Tensor sum = torch::zeros({1, x.size(1)}, torch::kFloat64), sq = torch::zeros_like(sum);
  for (int64_t b = 0; b < n; b += block)
    sum += (w.slice(0, b, b + block) * x.slice(0, b, b + block).to(torch::kFloat64)).sum(0, true);
  const torch::Tensor mean = sum / w.sum();
  for (int64_t b = 0; b < n; b += block)
    sq += (w.slice(0, b, b + block) * (x.slice(0, b, b + block).to(torch::kFloat64) - mean).pow(2)).sum(0, true);
  const torch::Tensor sd = (sq / w.sum()).sqrt().clamp_min(1e-6);
  for (int64_t b = 0; b < n; b += block) {
    torch::Tensor part = x.slice(0, b, b + block);
    part.copy_((part.to(torch::kFloat64) - mean) / sd);
  }
}

// x, read from table t, as a contiguous tensor this code owns and may change in place: x itself when t computed
// it (time encodings, or rows gathered through t's index), else a copy (the loaded tables are memory-mapped files).
torch::Tensor owned(const NodeFeatureTable& t, const torch::Tensor& x, bool gathered) {
  return t.hours.defined() || gathered ? x.contiguous() : x.clone(torch::MemoryFormat::Contiguous);
}
}  // namespace

GraphModelInputs make_graph_model_inputs(const PropagationGraph& g, const NodeFeatures& f, const Ablation& ablation) {
  PhaseTimer timer("model inputs");
  GraphModelInputs in;
  in.videos = g.videos;
  in.graph = to_tensors(g);
  const NodeFeatureTable& video = f[NodeType::kVideo];
  in.video = owned(video, video.matrix(), video.index.defined());
  if (ablation.no_video_features) in.video = torch::zeros_like(in.video);
  timer.lap("graph tensors and video rows");
  for (int i = 0; i < kNumRelations; ++i) {
    const Relation r = relation_at(i);
    if (ablation.drops(r)) continue;
    const RelationInfo& info = relation_info(r);
    if (info.head == NodeType::kVideo) {
      in.video_relations.push_back(r);
      continue;
    }
    const NodeFeatureTable& t = f[info.head];
    RelationInput a{r, owned(t, t.expand_rows(0, t.row_count()), false), {}};
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
    standardise_columns_(a.rows, info.kind == RelationKind::kOneToOne ? a.index : torch::Tensor());
    if (spdlog::should_log(spdlog::level::debug))  // (the max reads the whole table: only when it is logged)
      spdlog::debug("model input {}: {} rows x {}, max |x| {:.2f}", relation_info(r).name, a.rows.size(0),
                    a.rows.size(1), a.rows.abs().max().item<double>());
    in.attributes.push_back(std::move(a));
    timer.lap(relation_info(r).name);
  }
  standardise_columns_(in.video);
  timer.lap("video");
  return in;
}

}  // namespace spir
