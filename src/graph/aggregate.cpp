#include "graph/aggregate.h"

#include <ATen/Parallel.h>

#include "core/error.h"
#include "graph/edges.h"

namespace spir {

namespace {

torch::Tensor as_tensor(const std::vector<int64_t>& v) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kInt64).clone();
}

// Sorted positions where a group starts, plus the end.
std::vector<int64_t> group_starts(const torch::Tensor& group_begin) {
  const int64_t n = group_begin.size(0);
  const int64_t* gb = group_begin.data_ptr<int64_t>();
  std::vector<int64_t> starts;
  for (int64_t p = 0; p < n; ++p)
    if (gb[p] == p) starts.push_back(p);
  starts.push_back(n);
  return starts;
}

// Forward: a running double sum per group; each tie block reads the sum of the blocks before it. Node v's mean goes
// to out row v, or to out row row_of[v] when row_of is given (skipped where row_of[v] < 0).
template <typename T>
void prefix_mean_forward(const GroupOrderTensors& g, const torch::Tensor& x, torch::Tensor& out,
                         const int64_t* row_of = nullptr) {
  const int64_t d = x.size(1);
  const int64_t* node = g.node.data_ptr<int64_t>();
  const int64_t* tie = g.tie_begin.data_ptr<int64_t>();
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  const std::vector<int64_t> starts = group_starts(g.group_begin);
  at::parallel_for(0, static_cast<int64_t>(starts.size()) - 1, 1, [&](int64_t lo, int64_t hi) {
    std::vector<double> acc(static_cast<size_t>(d));
    for (int64_t gi = lo; gi < hi; ++gi) {
      const int64_t g0 = starts[static_cast<size_t>(gi)], g1 = starts[static_cast<size_t>(gi) + 1];
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t b0 = g0; b0 < g1;) {
        int64_t b1 = b0 + 1;
        while (b1 < g1 && tie[b1] == b0) ++b1;
        const int64_t count = b0 - g0;
        if (count > 0) {
          const double inv = 1.0 / static_cast<double>(count);
          for (int64_t q = b0; q < b1; ++q) {
            const int64_t row = row_of ? row_of[node[q]] : node[q];
            if (row < 0) continue;
            T* o = op + row * d;
            for (int64_t k = 0; k < d; ++k) o[k] = static_cast<T>(acc[static_cast<size_t>(k)] * inv);
          }
        }
        for (int64_t q = b0; q < b1; ++q) {
          const T* xr = xp + node[q] * d;
          for (int64_t k = 0; k < d; ++k) acc[static_cast<size_t>(k)] += xr[k];
        }
        b0 = b1;
      }
    }
  });
}

// Backward (the adjoint): x[u] feeds every later block's members v with weight 1/|N(v)|, so sweep each group from
// its end. Node v's gradient row is grad_out row v, or row row_of[v] when row_of is given (zero where < 0); Add:
// add into grad_x instead of overwriting it.
template <typename T, bool Add = false>
void prefix_mean_backward(const GroupOrderTensors& g, const torch::Tensor& grad_out, torch::Tensor& grad_x,
                          const int64_t* row_of = nullptr) {
  const int64_t d = grad_out.size(1);
  const int64_t* node = g.node.data_ptr<int64_t>();
  const int64_t* tie = g.tie_begin.data_ptr<int64_t>();
  const T* gp = grad_out.data_ptr<T>();
  T* xp = grad_x.data_ptr<T>();
  const std::vector<int64_t> starts = group_starts(g.group_begin);
  at::parallel_for(0, static_cast<int64_t>(starts.size()) - 1, 1, [&](int64_t lo, int64_t hi) {
    std::vector<double> acc(static_cast<size_t>(d));
    for (int64_t gi = lo; gi < hi; ++gi) {
      const int64_t g0 = starts[static_cast<size_t>(gi)], g1 = starts[static_cast<size_t>(gi) + 1];
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t b1 = g1; b1 > g0;) {
        const int64_t b0 = tie[b1 - 1];
        for (int64_t q = b0; q < b1; ++q) {
          T* o = xp + node[q] * d;
          for (int64_t k = 0; k < d; ++k) {
            if constexpr (Add) o[k] += static_cast<T>(acc[static_cast<size_t>(k)]);
            else o[k] = static_cast<T>(acc[static_cast<size_t>(k)]);
          }
        }
        const int64_t count = b0 - g0;
        if (count > 0) {
          const double inv = 1.0 / static_cast<double>(count);
          for (int64_t q = b0; q < b1; ++q) {
            const int64_t row = row_of ? row_of[node[q]] : node[q];
            if (row < 0) continue;
            const T* gr = gp + row * d;
            for (int64_t k = 0; k < d; ++k) acc[static_cast<size_t>(k)] += gr[k] * inv;
          }
        }
        b1 = b0;
      }
    }
  });
}

// Checks of the arguments shared by the public entry points.
void check_rows(const GroupOrderTensors& g, const torch::Tensor& x, const char* what) {
  if (!x.device().is_cpu()) throw Error(std::string(what) + ": x must be on the CPU (got " + x.device().str() + ")");
  if (x.dim() != 2 || x.size(0) != g.node.size(0))
    throw Error(std::string(what) + ": x must be [" + std::to_string(g.node.size(0)) + ", d], got " +
                std::to_string(x.dim()) + "-d");
}

void check_row_of(const GroupOrderTensors& g, const torch::Tensor& row_of, const char* what) {
  if (row_of.scalar_type() != torch::kInt64 || row_of.dim() != 1 || row_of.size(0) != g.node.size(0) || !row_of.is_contiguous())
    throw Error(std::string(what) + ": row_of must be a contiguous int64 [" + std::to_string(g.node.size(0)) + "]");
}

struct GroupPrefixMean : torch::autograd::Function<GroupPrefixMean> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor node,
                               torch::Tensor group_begin, torch::Tensor tie_begin) {
    ctx->save_for_backward({node, group_begin, tie_begin});
    const GroupOrderTensors g{node, group_begin, tie_begin, {}};
    torch::Tensor xc = x.contiguous();
    torch::Tensor out = torch::zeros_like(xc);
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "group_prefix_mean", [&] { prefix_mean_forward<scalar_t>(g, xc, out); });
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const GroupOrderTensors g{saved[0], saved[1], saved[2], {}};
    torch::Tensor go = grads[0].contiguous();
    torch::Tensor gx = torch::zeros_like(go);
    AT_DISPATCH_FLOATING_TYPES(go.scalar_type(), "group_prefix_mean_backward", [&] { prefix_mean_backward<scalar_t>(g, go, gx); });
    return {gx, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

GroupOrderTensors to_tensors(const GroupOrder& g) {
  GroupOrderTensors t;
  t.node = as_tensor(g.node);
  t.group_begin = as_tensor(g.group_begin);
  t.tie_begin = as_tensor(g.tie_begin);
  t.in_degree = torch::zeros({static_cast<int64_t>(g.node.size())}, torch::kFloat32);
  t.in_degree.index_put_({t.node}, (t.tie_begin - t.group_begin).to(torch::kFloat32));
  return t;
}

torch::Tensor group_prefix_mean(const GroupOrderTensors& g, const torch::Tensor& x) {
  check_rows(g, x, "group_prefix_mean");
  return GroupPrefixMean::apply(x, g.node, g.group_begin, g.tie_begin);
}

torch::Tensor group_prefix_mean_rows(const GroupOrderTensors& g, const torch::Tensor& x, const torch::Tensor& row_of,
                                     int64_t rows) {
  check_rows(g, x, "group_prefix_mean_rows");
  check_row_of(g, row_of, "group_prefix_mean_rows");
  const torch::Tensor xc = x.contiguous();
  torch::Tensor out = torch::zeros({rows, x.size(1)}, xc.options());
  AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "group_prefix_mean_rows",
                             [&] { prefix_mean_forward<scalar_t>(g, xc, out, row_of.data_ptr<int64_t>()); });
  return out;
}

void group_prefix_mean_adjoint_add(const GroupOrderTensors& g, const torch::Tensor& y, const torch::Tensor& row_of,
                                   torch::Tensor& out) {
  check_rows(g, out, "group_prefix_mean_adjoint_add");
  check_row_of(g, row_of, "group_prefix_mean_adjoint_add");
  if (!out.is_contiguous() || y.scalar_type() != out.scalar_type() || y.dim() != 2 || y.size(1) != out.size(1))
    throw Error("group_prefix_mean_adjoint_add: y and out must have the same dtype and width, out contiguous");
  const torch::Tensor yc = y.contiguous();
  AT_DISPATCH_FLOATING_TYPES(yc.scalar_type(), "group_prefix_mean_adjoint_add",
                             [&] { prefix_mean_backward<scalar_t, true>(g, yc, out, row_of.data_ptr<int64_t>()); });
}

void index_add_rows_(torch::Tensor& out, const torch::Tensor& index, const torch::Tensor& src) {
  if (out.dim() != 2 || src.dim() != 2 || out.size(1) != src.size(1) || !out.is_contiguous() ||
      out.scalar_type() != src.scalar_type() || index.scalar_type() != torch::kInt64 || index.dim() != 1 ||
      index.size(0) != src.size(0))
    throw Error("index_add_rows_: out [N, d] contiguous, index int64 [M] and src [M, d] of out's dtype are needed");
  const torch::Tensor sc = src.contiguous(), ic = index.contiguous();
  const int64_t m = sc.size(0), d = sc.size(1), n = out.size(0);
  const int64_t* ip = ic.data_ptr<int64_t>();
  for (int64_t i = 0; i < m; ++i)
    if (ip[i] < 0 || ip[i] >= n) throw Error("index_add_rows_: index " + std::to_string(ip[i]) + " outside [0, " + std::to_string(n) + ")");
  AT_DISPATCH_FLOATING_TYPES(sc.scalar_type(), "index_add_rows_", [&] {
    const scalar_t* sp = sc.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    // Threads split the columns, so no two write the same element; narrow rows run on one thread.
    at::parallel_for(0, d, d >= 64 ? 32 : d, [&](int64_t c0, int64_t c1) {
      for (int64_t i = 0; i < m; ++i) {
        const scalar_t* s_row = sp + i * d;
        scalar_t* o_row = op + ip[i] * d;
        for (int64_t c = c0; c < c1; ++c) o_row[c] += s_row[c];
      }
    });
  });
}

namespace {
// Differentiable segment mean: sums with index_add_rows_, backward gathers the gradient rows by owner.
struct SegmentMean : torch::autograd::Function<SegmentMean> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& owner,
                               const torch::Tensor& inv_count, int64_t videos) {
    torch::Tensor sum = torch::zeros({videos, x.size(1)}, x.options());
    index_add_rows_(sum, owner, x);
    ctx->save_for_backward({owner, inv_count});
    return sum.mul_(inv_count.unsqueeze(1));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor gx = (grads[0] * saved[1].unsqueeze(1)).index_select(0, saved[0]);
    return {gx, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};
}  // namespace

torch::Tensor segment_mean(const torch::Tensor& owner, const torch::Tensor& counts, const torch::Tensor& x, int64_t videos) {
  const torch::Tensor inv_count = 1.0 / counts.clamp_min(1).to(x.dtype());
  return SegmentMean::apply(x, owner, inv_count, videos);
}

const GroupOrderTensors& GraphTensors::group(Relation r) const {
  switch (r) {
    case Relation::kHasSameAuthorAs: return same_author;
    case Relation::kHasSameTopicAs: return same_topic;
    case Relation::kIsHistoryOf: return history;
    default: throw Error(std::string("relation ") + relation_info(r).name + " is not group-ordered");
  }
}

GraphTensors to_tensors(const PropagationGraph& g) {
  GraphTensors t;
  t.videos = g.videos;
  t.platform_of = as_tensor(g.platform_of);
  t.topic_of = as_tensor(g.topic_of);
  std::vector<int64_t> owner(static_cast<size_t>(g.comment_nodes()));
  for (int64_t v = 0; v < g.videos; ++v)
    for (int64_t c = g.comment_begin[static_cast<size_t>(v)]; c < g.comment_begin[static_cast<size_t>(v) + 1]; ++c)
      owner[static_cast<size_t>(c)] = v;
  t.comment_owner = as_tensor(owner);
  t.comment_count = torch::zeros({g.videos}, torch::kFloat32)
                        .index_add(0, t.comment_owner, torch::ones({g.comment_nodes()}, torch::kFloat32));
  t.same_author = to_tensors(g.same_author);
  t.same_topic = to_tensors(g.same_topic);
  t.history = to_tensors(g.history);
  return t;
}

torch::Tensor mean_over_edges(const torch::Tensor& edge_index, const torch::Tensor& x_head, int64_t num_tails) {
  const torch::Tensor heads = edge_index[0], tails = edge_index[1];
  torch::Tensor sum = torch::zeros({num_tails, x_head.size(1)}, x_head.options()).index_add(0, tails, x_head.index_select(0, heads));
  torch::Tensor deg = torch::zeros({num_tails}, x_head.options()).index_add(0, tails, torch::ones({heads.size(0)}, x_head.options()));
  return sum / deg.clamp_min(1).unsqueeze(1);
}

torch::Tensor edge_index_tensor(const PropagationGraph& g, Relation r) {
  const EdgeList e = materialise_edges(g, r);
  torch::Tensor t = torch::empty({2, e.size()}, torch::kInt64);
  std::copy(e.head.begin(), e.head.end(), t[0].data_ptr<int64_t>());
  std::copy(e.tail.begin(), e.tail.end(), t[1].data_ptr<int64_t>());
  return t;
}

}  // namespace spir
