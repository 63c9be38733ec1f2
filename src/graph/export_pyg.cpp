#include "graph/export_pyg.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/line_io.h"
#include "graph/aggregate.h"
#include "graph/edges.h"

namespace spir {

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

std::vector<Relation> parse_relations(const std::string& list) {
  std::vector<Relation> out;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    bool found = false;
    for (int r = 0; r < kNumRelations; ++r)
      if (name == relation_info(relation_at(r)).name) out.push_back(relation_at(r)), found = true;
    if (!found) throw Error("unknown relation '" + name + "' (Table IV names, e.g. is_history_of)");
  }
  return out;
}

int64_t export_pyg(const PropagationGraph& g, const std::string& path, const ExportOptions& opt) {
  std::vector<Relation> relations = opt.relations;
  if (relations.empty())
    for (int r = 0; r < kNumRelations; ++r) relations.push_back(relation_at(r));
  // Peak: the edge vectors, the tensors and the serialised bytes can coexist: about 3x the int64 edge_index size.
  const int64_t need = 3 * edge_list_bytes(g, relations);
  const int64_t limit = opt.memory_limit_bytes > 0 ? opt.memory_limit_bytes : available_memory_bytes() * 7 / 10;
  const auto counts = g.edge_counts();
  int64_t edges = 0;
  for (Relation r : relations) edges += counts[static_cast<int>(r)];
  if (limit > 0 && need > limit) {
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "export of %lld edges would need about %.1f GB of memory (2 x int64 per edge, written through "
                  "memory), more than the %.1f GB allowed; export fewer relations with --relations (the implicit "
                  "has_same_topic_as alone has %lld edges)",
                  static_cast<long long>(edges), need / 1e9, limit / 1e9,
                  static_cast<long long>(counts[static_cast<int>(Relation::kHasSameTopicAs)]));
    throw Error(buf);
  }
  c10::Dict<std::string, at::Tensor> edge_index;
  for (Relation r : relations) {
    const RelationInfo& info = relation_info(r);
    const std::string key = std::string(node_type_name(info.head)) + "|" + info.name + "|" + node_type_name(info.tail);
    const torch::Tensor t = edge_index_tensor(g, r);
    edge_index.insert(key, t);
    spdlog::info("export: {} {} edges", info.name, t.size(1));
  }
  c10::Dict<std::string, int64_t> num_nodes;
  const auto nodes = g.node_counts();
  for (int t = 0; t < kNumNodeTypes; ++t) num_nodes.insert(node_type_name(node_type_at(t)), nodes[t]);
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("edge_index", edge_index);
  root.insert("num_nodes", num_nodes);
  root.insert("order", std::string(graph_order_name(g.order)));
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(root));
  write_file_atomic(path, std::string_view(bytes.data(), bytes.size()));
  return edges;
}

}  // namespace spir
