// The propagation graph engine: exact edge counts, implicit prefix means equal to explicit edge lists (values and
// gradients, both orders, with ties), comment attachment, the neighbour sampler and the PyG export.
#include <gtest/gtest.h>

#include "test_util.h"

#include <filesystem>
#include <set>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/line_io.h"
#include "core/rng.h"
#include "graph/aggregate.h"
#include "graph/edges.h"
#include "graph/export_pyg.h"
#include "graph/propagation_graph.h"
#include "models/rgcn_video_layer.h"

using namespace spir;

namespace {

// A random small dataset with many ties: few days, few authors, few topics; 1–3 states per video.
struct Toy {
  VideoSet set;
  std::vector<Sample> samples;
};

Toy make_toy(uint64_t seed, int videos = 40) {
  Rng rng(seed);
  Toy t;
  const int64_t day0 = *parse_date("2024-12-01");
  for (int i = 0; i < videos; ++i) {
    Video v;
    v.platform = rng.bernoulli(0.5) ? "douyin" : "kuaishou";
    v.video_id = "v" + std::to_string(i);
    v.user_id = "u" + std::to_string(rng.below(4));
    v.topic = "t" + std::to_string(rng.below(3));
    v.post_time = (day0 + static_cast<int64_t>(rng.below(4))) * kSecondsPerDay + 3600 * static_cast<int64_t>(rng.below(2));
    const int states = 1 + static_cast<int>(rng.below(3));
    int64_t day = v.post_day() + static_cast<int64_t>(rng.below(2));
    for (int s = 0; s < states; ++s) {
      Sample smp;
      smp.id = static_cast<int64_t>(t.samples.size());
      smp.video = i;
      smp.ctime_day = day;
      t.samples.push_back(smp);
      day += 1 + static_cast<int64_t>(rng.below(2));
    }
    for (int c = 0, n = static_cast<int>(rng.below(5)); c < n; ++c) {
      Comment cm;
      cm.time = v.post_time + static_cast<int64_t>(rng.below(6 * kSecondsPerDay));
      v.comments.push_back(cm);
    }
    std::sort(v.comments.begin(), v.comments.end(), [](const Comment& a, const Comment& b) { return a.time < b.time; });
    t.set.videos.push_back(v);
  }
  return t;
}

// The brute-force definition of the implicit relations, straight from Table IV and DESIGN.md: u → v when u and v
// share the group and u's time is strictly earlier.
std::set<std::pair<int64_t, int64_t>> brute_force_edges(const Toy& t, Relation r, GraphOrder order) {
  std::set<std::pair<int64_t, int64_t>> e;
  const auto& s = t.samples;
  for (size_t u = 0; u < s.size(); ++u)
    for (size_t v = 0; v < s.size(); ++v) {
      const Video& a = t.set.videos[static_cast<size_t>(s[u].video)];
      const Video& b = t.set.videos[static_cast<size_t>(s[v].video)];
      bool same = false;
      int64_t ku = 0, kv = 0;
      if (r == Relation::kIsHistoryOf) {
        same = s[u].video == s[v].video;
        ku = s[u].ctime_day, kv = s[v].ctime_day;
      } else {
        same = r == Relation::kHasSameTopicAs ? a.topic == b.topic : (a.platform == b.platform && a.user_id == b.user_id);
        ku = order == GraphOrder::kCtime ? s[u].ctime_day * kSecondsPerDay : a.post_time;
        kv = order == GraphOrder::kCtime ? s[v].ctime_day * kSecondsPerDay : b.post_time;
      }
      if (same && ku < kv) e.insert({static_cast<int64_t>(u), static_cast<int64_t>(v)});
    }
  return e;
}

const Relation kImplicit[] = {Relation::kHasSameAuthorAs, Relation::kHasSameTopicAs, Relation::kIsHistoryOf};
const GraphOrder kOrders[] = {GraphOrder::kCtime, GraphOrder::kPost};

}  // namespace

// Edge counts of the implicit relations, computed from group sizes, equal brute-force pair counts (ties do not link).
TEST(Graph, ImplicitEdgeCountsEqualBruteForce) {
  for (uint64_t seed : {1, 2, 3})
    for (GraphOrder order : kOrders) {
      const Toy t = make_toy(seed);
      const PropagationGraph g = build_graph(t.set, t.samples, {order});
      const auto counts = g.edge_counts();
      for (Relation r : kImplicit) {
        const auto bf = brute_force_edges(t, r, order);
        EXPECT_EQ(counts[static_cast<int>(r)], static_cast<int64_t>(bf.size())) << relation_info(r).name;
        const EdgeList e = materialise_edges(g, r);
        std::set<std::pair<int64_t, int64_t>> got;
        for (int64_t i = 0; i < e.size(); ++i) got.insert({e.head[static_cast<size_t>(i)], e.tail[static_cast<size_t>(i)]});
        EXPECT_EQ(got, bf) << relation_info(r).name;
      }
      EXPECT_EQ(counts[static_cast<int>(Relation::kIsTitleOf)], g.videos);
    }
}

// Table IV's example shape: three states of one video on days 1, 3, 3 give history edges 1→3 twice (the two
// day-3 states tie and do not link): 2 edges.
TEST(Graph, HistoryTiesDoNotLink) {
  Toy t;
  Video v;
  v.video_id = "a";
  v.post_time = 0;
  t.set.videos.push_back(v);
  for (int64_t d : {1, 3, 3}) {
    Sample s;
    s.video = 0;
    s.ctime_day = d;
    t.samples.push_back(s);
  }
  const PropagationGraph g = build_graph(t.set, t.samples, {});
  EXPECT_EQ(g.history.edges(), 2);
}

// The implicit prefix mean equals index_add_ over the brute-force edge list, in values and in gradients.
TEST(Graph, PrefixMeanEqualsMaterialisedMeanValuesAndGradients) {
  for (uint64_t seed : {4, 5})
    for (GraphOrder order : kOrders) {
      const Toy t = make_toy(seed, 60);
      const PropagationGraph g = build_graph(t.set, t.samples, {order});
      const GraphTensors gt = to_tensors(g);
      torch::manual_seed(static_cast<int64_t>(seed));
      for (Relation r : kImplicit) {
        const auto bf = brute_force_edges(t, r, order);
        torch::Tensor edge_index = torch::empty({2, static_cast<int64_t>(bf.size())}, torch::kInt64);
        int64_t i = 0;
        for (auto [u, v] : bf) edge_index[0][i] = u, edge_index[1][i] = v, ++i;
        torch::Tensor x1 = torch::randn({g.videos, 5}, torch::kFloat64).requires_grad_(true);
        torch::Tensor x2 = x1.detach().clone().requires_grad_(true);
        torch::Tensor w = torch::randn({g.videos, 5}, torch::kFloat64);  // a random loss weight
        torch::Tensor implicit = group_prefix_mean(gt.group(r), x1);
        torch::Tensor explicit_ = mean_over_edges(edge_index, x2, g.videos);
        EXPECT_TRUE(torch::allclose(implicit, explicit_, 1e-10, 1e-12)) << relation_info(r).name;
        (implicit * w).sum().backward();
        (explicit_ * w).sum().backward();
        EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 1e-10, 1e-12)) << relation_info(r).name;
        // in-degree matches the edge list
        torch::Tensor deg = torch::zeros({g.videos}, torch::kFloat32).index_add(0, edge_index[1], torch::ones({edge_index.size(1)}));
        EXPECT_TRUE(torch::equal(gt.group(r).in_degree, deg));
      }
    }
}

// The prefix mean at chosen rows equals the full prefix mean's rows, and the adjoint added into a tensor equals
// the full op's backward of a gradient that is zero off the chosen rows.
TEST(Graph, PrefixMeanRowsAndAdjointEqualTheFullOp) {
  const Toy t = make_toy(6, 60);
  const PropagationGraph g = build_graph(t.set, t.samples, {});
  const GraphTensors gt = to_tensors(g);
  torch::manual_seed(6);
  const torch::Tensor pick = torch::randperm(g.videos, torch::kInt64).slice(0, 0, g.videos / 2);
  torch::Tensor row_of = torch::full({g.videos}, -1, torch::kInt64);
  row_of.index_put_({pick}, torch::arange(pick.size(0), torch::kInt64));
  for (Relation r : kImplicit) {
    const torch::Tensor x = torch::randn({g.videos, 4}, torch::kFloat64).requires_grad_(true);
    const torch::Tensor full = group_prefix_mean(gt.group(r), x);
    EXPECT_TRUE(torch::allclose(group_prefix_mean_rows(gt.group(r), x.detach(), row_of, pick.size(0)),
                                full.detach().index_select(0, pick), 1e-12, 1e-14)) << relation_info(r).name;
    const torch::Tensor y = torch::randn({pick.size(0), 4}, torch::kFloat64);
    full.index_select(0, pick).mul(y).sum().backward();
    const torch::Tensor base = torch::randn({g.videos, 4}, torch::kFloat64);
    torch::Tensor out = base.clone();
    group_prefix_mean_adjoint_add(gt.group(r), y, row_of, out);
    EXPECT_TRUE(torch::allclose(out - base, x.grad(), 1e-10, 1e-12)) << relation_info(r).name;
  }
}

// Layer 2's video op (self-connection + video→video means at the targets, means recomputed in backward) equals
// the same terms written with autograd over full prefix means: values and gradients of h1 and every weight.
TEST(Graph, VideoRelationTermsEqualAutogradReference) {
  const Toy t = make_toy(7, 60);
  const PropagationGraph g = build_graph(t.set, t.samples, {});
  const GraphTensors gt = to_tensors(g);
  torch::manual_seed(7);
  const int64_t d = 6, dout = 5;
  const torch::Tensor targets = torch::randperm(g.videos, torch::kInt64).slice(0, 0, g.videos * 2 / 3);
  auto leaf = [](const torch::Tensor& x) { return x.clone().requires_grad_(true); };
  const torch::Tensor h1_0 = torch::randn({g.videos, d}), ws_0 = torch::randn({dout, d}), bs_0 = torch::randn({dout});
  std::vector<torch::Tensor> w_0;
  for (size_t i = 0; i < std::size(kImplicit); ++i) w_0.push_back(torch::randn({dout, d}));
  const torch::Tensor loss_w = torch::randn({targets.size(0), dout});
  std::vector<const GroupOrderTensors*> groups;
  for (Relation r : kImplicit) groups.push_back(&gt.group(r));

  torch::Tensor h1a = leaf(h1_0), wsa = leaf(ws_0), bsa = leaf(bs_0);
  std::vector<torch::Tensor> wa;
  for (const auto& w : w_0) wa.push_back(leaf(w));
  const torch::Tensor ours = video_relation_terms(h1a, targets, groups, wsa, bsa, wa, /*chunk=*/7);
  (ours * loss_w).sum().backward();

  torch::Tensor h1b = leaf(h1_0), wsb = leaf(ws_0), bsb = leaf(bs_0);
  std::vector<torch::Tensor> wb;
  for (const auto& w : w_0) wb.push_back(leaf(w));
  torch::Tensor ref = torch::addmm(bsb, h1b.index_select(0, targets), wsb.t());
  for (size_t i = 0; i < groups.size(); ++i)
    ref = ref + group_prefix_mean(*groups[i], h1b).index_select(0, targets).matmul(wb[i].t());
  (ref * loss_w).sum().backward();

  EXPECT_TRUE(torch::allclose(ours, ref, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(h1a.grad(), h1b.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(wsa.grad(), wsb.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(bsa.grad(), bsb.grad(), 1e-4, 1e-5));
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(torch::allclose(wa[i].grad(), wb[i].grad(), 1e-4, 1e-5)) << i;
  EXPECT_GT(h1a.grad().abs().sum().item<double>(), 0);
}

// float32 input is summed in double: one group of 100,000 large-offset rows keeps the mean of the last row exact
// to float precision (a float32 cumsum would lose about 3 digits here).
TEST(Graph, PrefixMeanAccumulatesInDouble) {
  const int64_t n = 100000;
  GroupOrder go;
  std::vector<int64_t> group(static_cast<size_t>(n), 0), key(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) key[static_cast<size_t>(i)] = i;
  go = make_group_order(group, key);
  torch::Tensor x = torch::full({n, 1}, 1000.0f) + torch::arange(n, torch::kFloat32).remainder(2).unsqueeze(1);
  torch::Tensor out = group_prefix_mean(to_tensors(go), x);
  // mean over the first n-1 rows: 1000 + (number of odd indices below n-1)/(n-1)
  const double expected = 1000.0 + static_cast<double>((n - 1) / 2) / static_cast<double>(n - 1);
  EXPECT_NEAR(out[n - 1][0].item<double>(), expected, 1e-4);
}

// Comments attach to the earliest state whose crawl date covers them; later ones are counted, not attached;
// the comment mean averages exactly the attached comments.
TEST(Graph, CommentsAttachToEarliestVisibleState) {
  Toy t;
  Video v;
  v.post_time = *parse_datetime("2024-12-01 10:00:00");
  for (const char* ts : {"2024-12-01 11:00:00", "2024-12-02 09:00:00", "2024-12-03 23:00:00", "2024-12-09 00:00:00"}) {
    Comment c;
    c.time = *parse_datetime(ts);
    v.comments.push_back(c);
  }
  t.set.videos.push_back(v);
  for (const char* d : {"2024-12-03", "2024-12-01"}) {  // out of order on purpose
    Sample s;
    s.video = 0;
    s.ctime_day = *parse_date(d);
    t.samples.push_back(s);
  }
  const PropagationGraph g = build_graph(t.set, t.samples, {});
  EXPECT_EQ(g.comment_nodes(), 3);
  EXPECT_EQ(g.comments_after_last_state, 1);
  EXPECT_EQ(g.comment_begin[1] - g.comment_begin[0], 2);  // state of 12-03: comments 2 and 3
  EXPECT_EQ(g.comment_begin[2] - g.comment_begin[1], 1);  // state of 12-01: comment 1
  const GraphTensors gt = to_tensors(g);
  torch::Tensor cx = torch::tensor({1.0f, 2.0f, 4.0f}).unsqueeze(1);  // comment nodes in node order
  torch::Tensor m = segment_mean(gt.comment_owner, gt.comment_count, cx, g.videos);
  EXPECT_FLOAT_EQ(m[0][0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(m[1][0].item<float>(), 4.0f);
}

// The sampler draws at most fan-out distinct true in-neighbours, all of them when there are fewer, and is
// deterministic for a seed.
TEST(Graph, NeighbourSampler) {
  const Toy t = make_toy(9, 80);
  const PropagationGraph g = build_graph(t.set, t.samples, {});
  const auto bf = brute_force_edges(t, Relation::kHasSameTopicAs, GraphOrder::kCtime);
  std::vector<int64_t> targets(static_cast<size_t>(g.videos));
  std::iota(targets.begin(), targets.end(), 0);
  Rng a(1), b(1);
  const EdgeList e1 = sample_in_neighbours(g, Relation::kHasSameTopicAs, targets, 3, a);
  const EdgeList e2 = sample_in_neighbours(g, Relation::kHasSameTopicAs, targets, 3, b);
  EXPECT_EQ(e1.head, e2.head);
  std::map<int64_t, std::set<int64_t>> per_target;
  for (int64_t i = 0; i < e1.size(); ++i) {
    const auto edge = std::make_pair(e1.head[static_cast<size_t>(i)], e1.tail[static_cast<size_t>(i)]);
    EXPECT_TRUE(bf.count(edge)) << "sampled a non-edge";
    EXPECT_TRUE(per_target[edge.second].insert(edge.first).second) << "duplicate neighbour";
  }
  for (int64_t v : targets) {
    int64_t deg = 0;
    for (auto& [u, w] : bf) deg += w == v;
    EXPECT_EQ(static_cast<int64_t>(per_target[v].size()), std::min<int64_t>(deg, 3));
  }
}

// The PyG export round-trips through torch's pickle format, and refuses with the memory it would need.
TEST(Graph, ExportRoundTripAndRefusal) {
  const Toy t = make_toy(11);
  const PropagationGraph g = build_graph(t.set, t.samples, {});
  const spir::testing::ScratchDir scratch("graph");
  const std::string path = scratch.path("g.pt");
  ExportOptions opt;
  const int64_t edges = export_pyg(g, path, opt);
  const std::string bytes = read_file(path);
  const c10::IValue root = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  const auto dict = root.toGenericDict();
  const auto edge_index = dict.at("edge_index").toGenericDict();
  EXPECT_EQ(static_cast<int64_t>(edge_index.size()), kNumRelations);
  const torch::Tensor topic = edge_index.at("video|has_same_topic_as|video").toTensor();
  const EdgeList e = materialise_edges(g, Relation::kHasSameTopicAs);
  ASSERT_EQ(topic.size(1), e.size());
  for (int64_t i = 0; i < e.size(); ++i) EXPECT_EQ(topic[1][i].item<int64_t>(), e.tail[static_cast<size_t>(i)]);
  int64_t total = 0;
  for (int64_t c : g.edge_counts()) total += c;
  EXPECT_EQ(edges, total);
  opt.memory_limit_bytes = 1000;
  try {
    export_pyg(g, path, opt);
    FAIL() << "export did not refuse";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("would need"), std::string::npos) << err.what();
  }
}
