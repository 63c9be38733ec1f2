#include "graph/propagation_graph.h"

#include <algorithm>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "core/civil_time.h"
#include "core/error.h"

namespace spir {

const char* graph_order_name(GraphOrder o) { return o == GraphOrder::kCtime ? "ctime" : "post"; }

GraphOrder parse_graph_order(const std::string& s) {
  if (s == "ctime") return GraphOrder::kCtime;
  if (s == "post") return GraphOrder::kPost;
  throw Error("unknown graph order '" + s + "' (use ctime or post)");
}

int64_t GroupOrder::edges() const {
  int64_t e = 0;
  for (size_t p = 0; p < node.size(); ++p) e += tie_begin[p] - group_begin[p];
  return e;
}

GroupOrder make_group_order(const std::vector<int64_t>& group_of, const std::vector<int64_t>& key_of) {
  const size_t n = group_of.size();
  GroupOrder g;
  g.node.resize(n);
  std::iota(g.node.begin(), g.node.end(), 0);
  std::sort(g.node.begin(), g.node.end(), [&](int64_t a, int64_t b) {
    if (group_of[a] != group_of[b]) return group_of[a] < group_of[b];
    if (key_of[a] != key_of[b]) return key_of[a] < key_of[b];
    return a < b;
  });
  g.group_begin.resize(n);
  g.tie_begin.resize(n);
  g.position.resize(n);
  for (size_t p = 0; p < n; ++p) {
    const int64_t v = g.node[p];
    g.position[static_cast<size_t>(v)] = static_cast<int64_t>(p);
    const bool new_group = p == 0 || group_of[g.node[p - 1]] != group_of[v];
    const bool new_key = new_group || key_of[g.node[p - 1]] != key_of[v];
    if (new_group) ++g.groups;
    g.group_begin[p] = new_group ? static_cast<int64_t>(p) : g.group_begin[p - 1];
    g.tie_begin[p] = new_key ? static_cast<int64_t>(p) : g.tie_begin[p - 1];
  }
  return g;
}

const GroupOrder& PropagationGraph::group(Relation r) const {
  switch (r) {
    case Relation::kHasSameAuthorAs: return same_author;
    case Relation::kHasSameTopicAs: return same_topic;
    case Relation::kIsHistoryOf: return history;
    default: throw Error(std::string("relation ") + relation_info(r).name + " is not group-ordered");
  }
}

std::array<int64_t, kNumNodeTypes> PropagationGraph::node_counts() const {
  std::array<int64_t, kNumNodeTypes> n;
  n.fill(videos);  // one attribute node per video node for the 1:1 types (Table III)
  n[static_cast<int>(NodeType::kPlatform)] = static_cast<int64_t>(platform_names.size());
  n[static_cast<int>(NodeType::kTopic)] = static_cast<int64_t>(topic_names.size());
  n[static_cast<int>(NodeType::kComment)] = comment_nodes();
  return n;
}

std::array<int64_t, kNumRelations> PropagationGraph::edge_counts() const {
  std::array<int64_t, kNumRelations> e;
  e.fill(videos);  // one edge per video node for 1:1 and shared-head relations
  e[static_cast<int>(Relation::kIsCommentOf)] = comment_nodes();
  for (Relation r : {Relation::kHasSameAuthorAs, Relation::kHasSameTopicAs, Relation::kIsHistoryOf})
    e[static_cast<int>(r)] = group(r).edges();
  return e;
}

namespace {

// Interns strings to dense ids in order of first appearance.
struct Interner {
  std::unordered_map<std::string, int64_t> ids;
  std::vector<std::string> names;
  int64_t operator()(const std::string& s) {
    auto [it, fresh] = ids.try_emplace(s, static_cast<int64_t>(names.size()));
    if (fresh) names.push_back(s);
    return it->second;
  }
};

}  // namespace

PropagationGraph build_graph(const VideoSet& set, const std::vector<Sample>& samples, const GraphOptions& opt) {
  PropagationGraph g;
  g.order = opt.order;
  g.videos = static_cast<int64_t>(samples.size());
  const size_t n = samples.size();
  Interner platforms, topics, authors;
  std::vector<int64_t> author_of(n), video_key(n), history_key(n);
  g.platform_of.resize(n);
  g.topic_of.resize(n);
  g.video_of.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Sample& s = samples[i];
    if (s.video < 0 || static_cast<size_t>(s.video) >= set.videos.size())
      throw Error("sample " + std::to_string(s.id) + " refers to video " + std::to_string(s.video) +
                  ", which the dataset does not have (samples.csv and videos.bin out of step? rerun annotate)");
    const Video& v = set.videos[static_cast<size_t>(s.video)];
    g.video_of[i] = s.video;
    g.platform_of[i] = platforms(v.platform);
    g.topic_of[i] = topics(v.topic);
    author_of[i] = authors(v.platform + '\0' + v.user_id);
    video_key[i] = opt.order == GraphOrder::kCtime ? s.ctime_day * kSecondsPerDay : v.post_time;
    history_key[i] = s.ctime_day;
  }
  g.platform_names = std::move(platforms.names);
  g.topic_names = std::move(topics.names);
  g.same_author = make_group_order(author_of, video_key);
  g.same_topic = make_group_order(g.topic_of, video_key);
  g.history = make_group_order(g.video_of, history_key);

  // Comments: each raw comment attaches to the earliest state of its video whose crawl date covers it.
  // The history order lists each video's states by crawl date, so walk it group by group.
  std::vector<std::vector<int64_t>> per_node(n);
  const GroupOrder& h = g.history;
  for (size_t p = 0; p < n;) {
    size_t end = p + 1;
    while (end < n && h.group_begin[end] == h.group_begin[p]) ++end;
    const Video& v = set.videos[static_cast<size_t>(g.video_of[h.node[p]])];
    size_t c = 0;
    for (size_t q = p; q < end; ++q) {
      const int64_t node = h.node[q];
      const int64_t visible = comments_visible_at(v, samples[static_cast<size_t>(node)].ctime_day);
      for (; static_cast<int64_t>(c) < visible; ++c) per_node[static_cast<size_t>(node)].push_back(static_cast<int64_t>(c));
    }
    g.comments_after_last_state += static_cast<int64_t>(v.comments.size() - c);
    p = end;
  }
  g.comment_begin.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) g.comment_begin[i + 1] = g.comment_begin[i] + static_cast<int64_t>(per_node[i].size());
  g.comment_index.reserve(static_cast<size_t>(g.comment_begin[n]));
  for (auto& list : per_node) g.comment_index.insert(g.comment_index.end(), list.begin(), list.end());
  return g;
}

namespace {
std::string with_commas(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > (v < 0 ? 1 : 0); i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}
}  // namespace

std::string graph_tables_text(const PropagationGraph& g) {
  std::ostringstream s;
  char buf[200];
  const auto nodes = g.node_counts();
  const auto edges = g.edge_counts();
  s << "Table III: nodes (order " << graph_order_name(g.order) << ")\n";
  std::snprintf(buf, sizeof buf, "  %-12s %-10s %15s\n", "node", "format", "number");
  s << buf;
  int64_t total = 0;
  for (int t = 0; t < kNumNodeTypes; ++t) {
    std::snprintf(buf, sizeof buf, "  %-12s %-10s %15s\n", node_type_name(node_type_at(t)), node_type_format(node_type_at(t)),
                  with_commas(nodes[t]).c_str());
    s << buf;
    total += nodes[t];
  }
  std::snprintf(buf, sizeof buf, "  %-12s %-10s %15s\n", "all", "-", with_commas(total).c_str());
  s << buf << "\nTable IV: edges (video→video relations implicit: counted exactly from the sorted groups)\n";
  std::snprintf(buf, sizeof buf, "  %-12s %-20s %-8s %15s\n", "head", "relation", "tail", "number");
  s << buf;
  total = 0;
  for (int r = 0; r < kNumRelations; ++r) {
    const RelationInfo& info = relation_info(relation_at(r));
    std::snprintf(buf, sizeof buf, "  %-12s %-20s %-8s %15s\n", node_type_name(info.head), info.name,
                  node_type_name(info.tail), with_commas(edges[r]).c_str());
    s << buf;
    total += edges[r];
  }
  std::snprintf(buf, sizeof buf, "  %-12s %-20s %-8s %15s\n", "-", "all", "-", with_commas(total).c_str());
  s << buf;
  if (g.comments_after_last_state > 0)
    s << "  (" << with_commas(g.comments_after_last_state)
      << " comments were posted after the last state of their video and have no node)\n";
  return s.str();
}

nlohmann::json graph_tables_json(const PropagationGraph& g) {
  const auto nodes = g.node_counts();
  const auto edges = g.edge_counts();
  nlohmann::json n = nlohmann::json::object(), e = nlohmann::json::object();
  int64_t total_nodes = 0, total_edges = 0;
  for (int t = 0; t < kNumNodeTypes; ++t) n[node_type_name(node_type_at(t))] = nodes[t], total_nodes += nodes[t];
  for (int r = 0; r < kNumRelations; ++r) e[relation_info(relation_at(r)).name] = edges[r], total_edges += edges[r];
  return {{"order", graph_order_name(g.order)}, {"nodes", n}, {"edges", e}, {"total_nodes", total_nodes},
          {"total_edges", total_edges}, {"groups", {{"same_author", g.same_author.groups},
                                                   {"same_topic", g.same_topic.groups},
                                                   {"history", g.history.groups}}},
          {"comments_after_last_state", g.comments_after_last_state}};
}

}  // namespace spir
