// The heterogeneous propagation graph (paper 3.6, Tables III–IV) over a dataset's samples, with the
// video→video relations kept implicit as time-sorted groups (DESIGN.md decision 2). No torch here.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/samples.h"
#include "data/video.h"
#include "graph/schema.h"

namespace spir {

// Which time orders video→video relations. ctime (default): a state links only from states observed strictly
// before it, so nothing from its future is used. post (the paper's): from videos posted strictly earlier.
enum class GraphOrder { kCtime, kPost };
const char* graph_order_name(GraphOrder o);
GraphOrder parse_graph_order(const std::string& s);  // "ctime" | "post", else Error

// An implicit relation: video nodes grouped (same author, same topic, same video) and sorted by a key inside each
// group. A node's in-neighbours are the members of its group with a strictly smaller key: sorted positions
// [group_begin[p], tie_begin[p]). Equal keys do not link.
struct GroupOrder {
  std::vector<int64_t> node;         // sorted position → video node
  std::vector<int64_t> group_begin;  // sorted position → first position of its group
  std::vector<int64_t> tie_begin;    // sorted position → first position of its group with the same key
  std::vector<int64_t> position;     // video node → its sorted position (inverse of node)
  int64_t groups = 0;
  int64_t edges() const;             // exact edge count: Σ (tie_begin − group_begin)
};

// Builds a GroupOrder from each node's group id and key (both per video node).
GroupOrder make_group_order(const std::vector<int64_t>& group_of, const std::vector<int64_t>& key_of);

struct GraphOptions {
  GraphOrder order = GraphOrder::kCtime;
};

struct PropagationGraph {
  GraphOrder order = GraphOrder::kCtime;
  int64_t videos = 0;                          // video nodes: video node i is sample i
  std::vector<std::string> platform_names, topic_names;
  std::vector<int64_t> platform_of, topic_of;  // video node → platform / topic node
  std::vector<int64_t> video_of;               // video node → index in VideoSet (the ingested video)
  // Comment nodes, grouped by video node: those of video node v are [comment_begin[v], comment_begin[v+1]).
  // Each raw comment becomes one node, attached to the earliest state of its video that can see it.
  std::vector<int64_t> comment_begin;
  std::vector<int64_t> comment_index;          // comment node → index into its video's comment list
  int64_t comments_after_last_state = 0;       // comments posted after the last state of their video (no node)
  GroupOrder same_author, same_topic, history;

  int64_t comment_nodes() const { return static_cast<int64_t>(comment_index.size()); }
  const GroupOrder& group(Relation r) const;   // for kHasSameAuthorAs, kHasSameTopicAs, kIsHistoryOf
  std::array<int64_t, kNumNodeTypes> node_counts() const;
  std::array<int64_t, kNumRelations> edge_counts() const;
};

// Builds the graph of all samples (labelled or not: unlabelled states are context).
PropagationGraph build_graph(const VideoSet& set, const std::vector<Sample>& samples, const GraphOptions& opt);

// Tables III and IV for this graph, in the paper's layout, and as JSON.
std::string graph_tables_text(const PropagationGraph& g);
nlohmann::json graph_tables_json(const PropagationGraph& g);

}  // namespace spir
