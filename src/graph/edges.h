// Explicit edges, only where a user asks for them: materialised edge lists (export, references) and a seeded
// neighbour sampler for the baselines that need explicit neighbourhoods (DESIGN.md decisions 2 and 7).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "graph/propagation_graph.h"

namespace spir {

// Edges of one relation as parallel head / tail arrays (head and tail indices in their node types' index spaces).
struct EdgeList {
  std::vector<int64_t> head, tail;
  int64_t size() const { return static_cast<int64_t>(head.size()); }
};

// Every edge of relation r. For the implicit relations this is the full quadratic list: check
// g.edge_counts() first (1.66 billion edges at the paper's scale).
EdgeList materialise_edges(const PropagationGraph& g, Relation r);

// Bytes an int64 edge_index [2, E] of all the given relations would take.
int64_t edge_list_bytes(const PropagationGraph& g, const std::vector<Relation>& relations);

// Up to fanout in-neighbours per target video node under relation r, drawn without replacement (all of them
// when there are at most fanout); order within a target is unspecified. Deterministic for a given rng state.
EdgeList sample_in_neighbours(const PropagationGraph& g, Relation r, const std::vector<int64_t>& targets, int fanout, Rng& rng);

}  // namespace spir
