#include "models/sampled_block.h"

#include <ATen/Parallel.h>

#include <limits>
#include <unordered_map>

#include "core/error.h"
#include "graph/edges.h"

namespace spir {

namespace {

torch::Tensor as_tensor(const std::vector<int64_t>& v) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kInt64).clone();
}

// CSR row pointers of edges emitted target by target (sample_in_neighbours keeps the targets' order; targets are
// distinct, so a change of tail id marks the next target).
std::vector<int64_t> row_pointers(const EdgeList& e, const std::vector<int64_t>& targets) {
  std::vector<int64_t> rowptr(targets.size() + 1, 0);
  size_t j = 0;
  for (size_t t = 0; t < targets.size(); ++t) {
    while (j < e.tail.size() && e.tail[j] == targets[t]) ++j;
    rowptr[t + 1] = static_cast<int64_t>(j);
  }
  if (j != e.tail.size()) throw Error("sample_block: sampled edges are not grouped by target");
  return rowptr;
}

void finish(SampledRelation& s, const std::vector<int64_t>& rowptr) {
  s.rowptr = as_tensor(rowptr);
  s.count = (s.rowptr.slice(0, 1) - s.rowptr.slice(0, 0, -1)).to(torch::kFloat32);
}

// The attribute relation a sampled for targets: distinct head rows and per-edge positions among them.
SampledRelation sample_attribute(const PropagationGraph& g, const RelationInput& a, const std::vector<int64_t>& targets,
                                 int fanout, Rng& rng) {
  const EdgeList e = sample_in_neighbours(g, a.relation, targets, fanout, rng);
  const bool mapped = relation_info(a.relation).kind == RelationKind::kOneToOne && a.index.defined();
  const torch::Tensor index_tensor = mapped ? a.index.to(torch::kInt64).contiguous() : torch::Tensor();
  const int64_t* index = mapped ? index_tensor.data_ptr<int64_t>() : nullptr;
  std::unordered_map<int64_t, int64_t> slot;
  std::vector<int64_t> rows, head(e.head.size());
  for (size_t k = 0; k < e.head.size(); ++k) {
    const int64_t row = mapped ? index[e.head[k]] : e.head[k];
    auto [it, fresh] = slot.emplace(row, static_cast<int64_t>(rows.size()));
    if (fresh) rows.push_back(row);
    head[k] = it->second;
  }
  SampledRelation s{a.relation, as_tensor(rows), as_tensor(head), {}, {}};
  finish(s, row_pointers(e, targets));
  return s;
}

// Forward of gather_sum over targets [lo, hi).
template <typename T>
void gather_forward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& head, const torch::Tensor& rowptr, torch::Tensor& out) {
  const int64_t d = x.size(1), n = rowptr.size(0) - 1;
  const T* xp = x.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  const int64_t* hp = head.data_ptr<int64_t>();
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  T* op = out.data_ptr<T>();
  at::parallel_for(0, n, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      T* o = op + t * d;
      for (int64_t e = rp[t]; e < rp[t + 1]; ++e) {
        const T we = wp[e];
        const T* xr = xp + hp[e] * d;
        for (int64_t k = 0; k < d; ++k) o[k] += we * xr[k];
      }
    }
  });
}

// Backward of gather_sum: grad_x through the transposed edges (counting sort by head), grad_w as row dot products.
template <typename T>
void gather_backward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& head, const torch::Tensor& rowptr,
                     const torch::Tensor& grad, torch::Tensor* gx, torch::Tensor* gw) {
  const int64_t d = x.size(1), n = rowptr.size(0) - 1, sources = x.size(0), edges = head.size(0);
  const T* xp = x.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  const T* gp = grad.data_ptr<T>();
  const int64_t* hp = head.data_ptr<int64_t>();
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  std::vector<int64_t> tail(static_cast<size_t>(edges));
  for (int64_t t = 0; t < n; ++t)
    for (int64_t e = rp[t]; e < rp[t + 1]; ++e) tail[static_cast<size_t>(e)] = t;
  if (gw) {
    T* gwp = gw->data_ptr<T>();
    at::parallel_for(0, edges, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t e = lo; e < hi; ++e) {
        const T* g = gp + tail[static_cast<size_t>(e)] * d;
        const T* xr = xp + hp[e] * d;
        T s = 0;
        for (int64_t k = 0; k < d; ++k) s += g[k] * xr[k];
        gwp[e] = s;
      }
    });
  }
  if (gx) {
    std::vector<int64_t> begin(static_cast<size_t>(sources) + 1, 0), order(static_cast<size_t>(edges));
    for (int64_t e = 0; e < edges; ++e) ++begin[static_cast<size_t>(hp[e]) + 1];
    for (int64_t s = 0; s < sources; ++s) begin[static_cast<size_t>(s) + 1] += begin[static_cast<size_t>(s)];
    std::vector<int64_t> fill(begin.begin(), begin.end() - 1);
    for (int64_t e = 0; e < edges; ++e) order[static_cast<size_t>(fill[static_cast<size_t>(hp[e])]++)] = e;
    T* xg = gx->data_ptr<T>();
    at::parallel_for(0, sources, 64, [&](int64_t lo, int64_t hi) {
      for (int64_t s = lo; s < hi; ++s) {
        T* o = xg + s * d;
        for (int64_t q = begin[static_cast<size_t>(s)]; q < begin[static_cast<size_t>(s) + 1]; ++q) {
          const int64_t e = order[static_cast<size_t>(q)];
          const T we = wp[e];
          const T* g = gp + tail[static_cast<size_t>(e)] * d;
          for (int64_t k = 0; k < d; ++k) o[k] += we * g[k];
        }
      }
    });
  }
}

struct GatherSum : torch::autograd::Function<GatherSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor w, torch::Tensor head,
                               torch::Tensor rowptr) {
    torch::Tensor xc = x.contiguous(), wc = w.to(x.scalar_type()).contiguous();
    ctx->save_for_backward({xc, wc, head, rowptr});
    torch::Tensor out = torch::zeros({rowptr.size(0) - 1, xc.size(1)}, xc.options());
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "gather_sum", [&] { gather_forward<scalar_t>(xc, wc, head, rowptr, out); });
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &head = saved[2], &rowptr = saved[3];
    torch::Tensor g = grads[0].contiguous();
    torch::Tensor gx, gw;
    const bool want_x = ctx->needs_input_grad(0), want_w = ctx->needs_input_grad(1);
    if (want_x) gx = torch::zeros_like(x);
    if (want_w) gw = torch::zeros_like(w);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gather_sum_backward", [&] {
      gather_backward<scalar_t>(x, w, head, rowptr, g, want_x ? &gx : nullptr, want_w ? &gw : nullptr);
    });
    return {gx, gw, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor SampledRelation::tail() const {
  return torch::repeat_interleave(rowptr.slice(0, 1) - rowptr.slice(0, 0, -1));
}

int64_t SampledBlock::edges() const {
  int64_t n = 0;
  for (const SampledLayer& l : layers) {
    for (const SampledRelation& s : l.attributes) n += s.head.size(0);
    for (const SampledRelation& s : l.video_relations) n += s.head.size(0);
  }
  for (const SampledRelation& s : input.attributes) n += s.head.size(0);
  return n;
}

SampledBlock sample_block(const PropagationGraph& g, const GraphModelInputs& in, const std::vector<int64_t>& targets,
                          const BlockOptions& opt, Rng& rng) {
  if (opt.layers < 1) throw Error("sample_block: at least one layer");
  if (g.videos != in.videos) throw Error("sample_block: graph and model inputs disagree on the video count");
  SampledBlock b;
  b.nodes.resize(static_cast<size_t>(opt.layers) + 1);
  b.layers.resize(static_cast<size_t>(opt.layers));
  std::vector<int64_t> position(static_cast<size_t>(g.videos), -1);
  std::vector<int64_t> current = targets;
  for (int64_t v : current) {
    if (v < 0 || v >= g.videos) throw Error("sample_block: target " + std::to_string(v) + " is not a video node");
    if (position[static_cast<size_t>(v)] >= 0) throw Error("sample_block: target " + std::to_string(v) + " appears twice");
    position[static_cast<size_t>(v)] = 0;
  }
  for (int64_t v : current) position[static_cast<size_t>(v)] = -1;
  b.nodes.back() = as_tensor(current);
  for (int l = opt.layers - 1; l >= 0; --l) {
    SampledLayer& layer = b.layers[static_cast<size_t>(l)];
    for (const RelationInput& a : in.attributes) layer.attributes.push_back(sample_attribute(g, a, current, opt.fanout, rng));
    // Sources: the targets themselves first (their own previous-layer rows), then new sampled videos.
    std::vector<int64_t> sources = current;
    for (size_t k = 0; k < sources.size(); ++k) position[static_cast<size_t>(sources[k])] = static_cast<int64_t>(k);
    for (Relation r : in.video_relations) {
      const EdgeList e = sample_in_neighbours(g, r, current, opt.fanout, rng);
      std::vector<int64_t> head(e.head.size());
      for (size_t k = 0; k < e.head.size(); ++k) {
        int64_t& p = position[static_cast<size_t>(e.head[k])];
        if (p < 0) p = static_cast<int64_t>(sources.size()), sources.push_back(e.head[k]);
        head[k] = p;
      }
      SampledRelation s{r, {}, as_tensor(head), {}, {}};
      finish(s, row_pointers(e, current));
      layer.video_relations.push_back(std::move(s));
    }
    for (int64_t v : sources) position[static_cast<size_t>(v)] = -1;
    current = std::move(sources);
    b.nodes[static_cast<size_t>(l)] = as_tensor(current);
  }
  if (opt.input_attributes)
    for (const RelationInput& a : in.attributes) b.input.attributes.push_back(sample_attribute(g, a, current, opt.fanout, rng));
  return b;
}

torch::Tensor gather_sum(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& head, const torch::Tensor& rowptr) {
  if (!x.device().is_cpu() || x.dim() != 2) throw Error("gather_sum: x must be a 2-d CPU tensor");
  if (weight.size(0) != head.size(0)) throw Error("gather_sum: one weight per edge");
  return GatherSum::apply(x, weight, head, rowptr);
}

torch::Tensor sampled_mean(const SampledRelation& s, const torch::Tensor& x) {
  const torch::Tensor inv = (1.0 / s.count.clamp_min(1)).to(x.scalar_type());
  return gather_sum(x, inv.index_select(0, s.tail()), s.head, s.rowptr);
}

torch::Tensor edge_softmax(const torch::Tensor& scores, const torch::Tensor& tail, int64_t targets) {
  const torch::Tensor max = torch::full({targets}, -std::numeric_limits<float>::infinity(), scores.options())
                                .scatter_reduce(0, tail, scores.detach(), "amax", /*include_self=*/true);
  const torch::Tensor ex = torch::exp(scores - max.index_select(0, tail));
  const torch::Tensor denom = torch::zeros({targets}, scores.options()).index_add(0, tail, ex);
  return ex / denom.index_select(0, tail);
}

}  // namespace spir
