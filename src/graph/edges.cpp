#include "graph/edges.h"

#include <unordered_set>

#include "core/error.h"

namespace spir {

EdgeList materialise_edges(const PropagationGraph& g, Relation r) {
  EdgeList e;
  const RelationInfo& info = relation_info(r);
  switch (info.kind) {
    case RelationKind::kOneToOne:
      for (int64_t v = 0; v < g.videos; ++v) e.head.push_back(v), e.tail.push_back(v);
      break;
    case RelationKind::kSharedHead: {
      const auto& of = r == Relation::kIsPlatformOf ? g.platform_of : g.topic_of;
      for (int64_t v = 0; v < g.videos; ++v) e.head.push_back(of[static_cast<size_t>(v)]), e.tail.push_back(v);
      break;
    }
    case RelationKind::kManyToOne:
      for (int64_t v = 0; v < g.videos; ++v)
        for (int64_t c = g.comment_begin[static_cast<size_t>(v)]; c < g.comment_begin[static_cast<size_t>(v) + 1]; ++c)
          e.head.push_back(c), e.tail.push_back(v);
      break;
    case RelationKind::kGroupOrdered: {
      const GroupOrder& go = g.group(r);
      const int64_t n = go.edges();
      e.head.reserve(static_cast<size_t>(n));
      e.tail.reserve(static_cast<size_t>(n));
      for (size_t p = 0; p < go.node.size(); ++p)
        for (int64_t q = go.group_begin[p]; q < go.tie_begin[p]; ++q)
          e.head.push_back(go.node[static_cast<size_t>(q)]), e.tail.push_back(go.node[p]);
      break;
    }
  }
  return e;
}

int64_t edge_list_bytes(const PropagationGraph& g, const std::vector<Relation>& relations) {
  const auto counts = g.edge_counts();
  int64_t bytes = 0;
  for (Relation r : relations) bytes += counts[static_cast<int>(r)] * 2 * static_cast<int64_t>(sizeof(int64_t));
  return bytes;
}

EdgeList sample_in_neighbours(const PropagationGraph& g, Relation r, const std::vector<int64_t>& targets, int fanout, Rng& rng) {
  if (fanout <= 0) throw Error("neighbour sampler: fan-out must be positive");
  EdgeList e;
  const RelationInfo& info = relation_info(r);
  std::unordered_set<int64_t> picked;
  // Draws min(fanout, n) distinct offsets in [0, n) (Floyd's method), calling emit for each.
  auto choose = [&](int64_t n, auto&& emit) {
    if (n <= fanout) {
      for (int64_t i = 0; i < n; ++i) emit(i);
      return;
    }
    picked.clear();
    for (int64_t j = n - fanout; j < n; ++j) {
      const int64_t t = static_cast<int64_t>(rng.below(static_cast<uint64_t>(j + 1)));
      const int64_t pick = picked.insert(t).second ? t : j;
      if (pick == j) picked.insert(j);
      emit(pick);
    }
  };
  for (int64_t v : targets) {
    if (v < 0 || v >= g.videos) throw Error("neighbour sampler: target " + std::to_string(v) + " is not a video node");
    switch (info.kind) {
      case RelationKind::kOneToOne:
        e.head.push_back(v), e.tail.push_back(v);
        break;
      case RelationKind::kSharedHead:
        e.head.push_back((r == Relation::kIsPlatformOf ? g.platform_of : g.topic_of)[static_cast<size_t>(v)]);
        e.tail.push_back(v);
        break;
      case RelationKind::kManyToOne: {
        const int64_t b = g.comment_begin[static_cast<size_t>(v)];
        choose(g.comment_begin[static_cast<size_t>(v) + 1] - b, [&](int64_t i) { e.head.push_back(b + i), e.tail.push_back(v); });
        break;
      }
      case RelationKind::kGroupOrdered: {
        const GroupOrder& go = g.group(r);
        const size_t p = static_cast<size_t>(go.position[static_cast<size_t>(v)]);
        const int64_t b = go.group_begin[p];
        choose(go.tie_begin[p] - b, [&](int64_t i) { e.head.push_back(go.node[static_cast<size_t>(b + i)]), e.tail.push_back(v); });
        break;
      }
    }
  }
  return e;
}

}  // namespace spir
