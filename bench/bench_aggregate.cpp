// One aggregation pass over all 17 relations (the neighbour means of paper Eq. 9): spir's implicit path (prefix
// sums along time-sorted groups) vs a straightforward reference over materialised edge lists (index_select +
// index_add_). Prints wall time and peak RSS; run each mode in its own process (bench/graph.sh does) so the peak
// memory of one does not hide the other's.
//   usage: bench_aggregate DS_DIR [implicit|materialised|both] [dim]

#include <chrono>
#include <cstdio>
#include <iostream>

#include "core/process.h"
#include "data/dataset.h"
#include "graph/aggregate.h"
#include "graph/edges.h"
#include "graph/export_pyg.h"
#include "tensor/torch_info.h"

using namespace spir;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Random features for every node type (rows = nodes of that type).
std::vector<torch::Tensor> random_features(const PropagationGraph& g, int64_t dim) {
  std::vector<torch::Tensor> x;
  for (int64_t n : g.node_counts()) x.push_back(torch::randn({n, dim}));
  return x;
}

const torch::Tensor& head_features(const std::vector<torch::Tensor>& x, Relation r) {
  return x[static_cast<size_t>(relation_info(r).head)];
}

// The implicit pass: one mean per relation, each [V, dim].
std::vector<torch::Tensor> implicit_pass(const PropagationGraph& g, const GraphTensors& t, const std::vector<torch::Tensor>& x) {
  std::vector<torch::Tensor> out;
  for (int i = 0; i < kNumRelations; ++i) {
    const Relation r = relation_at(i);
    const torch::Tensor& h = head_features(x, r);
    switch (relation_info(r).kind) {
      case RelationKind::kOneToOne: out.push_back(h); break;
      case RelationKind::kSharedHead: out.push_back(h.index_select(0, r == Relation::kIsPlatformOf ? t.platform_of : t.topic_of)); break;
      case RelationKind::kManyToOne: out.push_back(segment_mean(t.comment_owner, t.comment_count, h, g.videos)); break;
      case RelationKind::kGroupOrdered: out.push_back(group_prefix_mean(t.group(r), h)); break;
    }
  }
  return out;
}

std::vector<torch::Tensor> edge_indices(const PropagationGraph& g) {
  std::vector<torch::Tensor> e;
  for (int i = 0; i < kNumRelations; ++i) {
    const EdgeList l = materialise_edges(g, relation_at(i));
    torch::Tensor t = torch::empty({2, l.size()}, torch::kInt64);
    std::copy(l.head.begin(), l.head.end(), t[0].data_ptr<int64_t>());
    std::copy(l.tail.begin(), l.tail.end(), t[1].data_ptr<int64_t>());
    e.push_back(t);
  }
  return e;
}

std::vector<torch::Tensor> materialised_pass(const PropagationGraph& g, const std::vector<torch::Tensor>& edges,
                                             const std::vector<torch::Tensor>& x) {
  std::vector<torch::Tensor> out;
  for (int i = 0; i < kNumRelations; ++i)
    out.push_back(mean_over_edges(edges[static_cast<size_t>(i)], head_features(x, relation_at(i)), g.videos));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_aggregate DS_DIR [implicit|materialised|both] [dim]\n";
    return 2;
  }
  const std::string dir = argv[1], mode = argc > 2 ? argv[2] : "both";
  const int64_t dim = argc > 3 ? std::stoll(argv[3]) : 64;
  configure_torch_threads(0);
  torch::manual_seed(0);
  const Dataset d = load_dataset(dir);
  const PropagationGraph g = build_graph(d.set, d.samples, {});
  const auto counts = g.edge_counts();
  int64_t edges = 0;
  for (int64_t c : counts) edges += c;
  const std::vector<torch::Tensor> x = random_features(g, dim);
  std::printf("dataset %s: %lld video nodes, %lld edges, dim %lld, %d torch threads\n", dir.c_str(),
              static_cast<long long>(g.videos), static_cast<long long>(edges), static_cast<long long>(dim), torch::get_num_threads());
  std::vector<torch::Tensor> a, b;
  if (mode == "implicit" || mode == "both") {
    auto t0 = std::chrono::steady_clock::now();
    const GraphTensors t = to_tensors(g);
    const double prep = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    a = implicit_pass(g, t, x);
    std::printf("implicit:     index build %.2f s, pass %.3f s, peak RSS %.0f MiB\n", prep, seconds_since(t0), peak_rss_mib());
  }
  if (mode == "materialised" || mode == "both") {
    // the reference also needs x.index_select per edge: E x dim floats on top of the edge lists
    const double need_gb = (static_cast<double>(edges) * (16 + 4 * dim)) / 1e9;
    if (need_gb * 1e9 > 0.8 * static_cast<double>(available_memory_bytes())) {
      std::printf("materialised: would need about %.1f GB (edge lists + gathered rows); not run\n", need_gb);
    } else {
      auto t0 = std::chrono::steady_clock::now();
      const std::vector<torch::Tensor> e = edge_indices(g);
      const double prep = seconds_since(t0);
      t0 = std::chrono::steady_clock::now();
      b = materialised_pass(g, e, x);
      std::printf("materialised: edge lists %.2f s, pass %.3f s, peak RSS %.0f MiB\n", prep, seconds_since(t0), peak_rss_mib());
    }
  }
  if (!a.empty() && !b.empty()) {
    double diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, (a[i] - b[i]).abs().max().item<double>());
    std::printf("max |implicit - materialised| = %.3g\n", diff);
  }
  return 0;
}
