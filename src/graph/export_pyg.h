// Export of the graph as materialised edge lists in a PyG-style dict, readable by Python's torch.load.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/propagation_graph.h"

namespace spir {

struct ExportOptions {
  std::vector<Relation> relations;  // empty: all 17
  int64_t memory_limit_bytes = 0;   // 0: 70% of the memory available now
};

// Writes {"edge_index": {"head|relation|tail": int64 [2, E]}, "num_nodes": {type: n}, "order": "ctime"|"post"}
// with torch::pickle_save (Python: torch.load(path)). Refuses, with an Error stating the memory it would need,
// when the edge lists would not fit under the limit. Returns the number of edges written.
int64_t export_pyg(const PropagationGraph& g, const std::string& path, const ExportOptions& opt);

// Bytes of memory available (MemAvailable from /proc/meminfo; 0 when unknown).
int64_t available_memory_bytes();

// Parses comma-separated relation names ("is_history_of,has_same_author_as"); Error names an unknown one.
std::vector<Relation> parse_relations(const std::string& list);

}  // namespace spir
