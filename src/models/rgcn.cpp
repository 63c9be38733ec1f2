#include "models/rgcn.h"

#include <functional>
#include <map>

#include "core/error.h"
#include "core/progress.h"
#include "models/gather_sum.h"
#include "models/relu_dropout.h"
#include "models/rgcn_video_layer.h"

namespace spir {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

torch::nn::Linear linear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}


// Activation checkpointing: runs fn without keeping its intermediates, and in the backward pass runs it again (with
// the same random state, so dropout draws the same masks) to back-propagate through it.
using ChunkFn = std::function<torch::Tensor(const std::vector<torch::Tensor>&)>;
struct ChunkFnHolder : torch::CustomClassHolder {
  ChunkFn fn;
  explicit ChunkFnHolder(ChunkFn f) : fn(std::move(f)) {}
};

struct Checkpoint : torch::autograd::Function<Checkpoint> {
  static torch::Tensor forward(AutogradContext* ctx, at::TensorList inputs, c10::intrusive_ptr<ChunkFnHolder> fn) {
    ctx->saved_data["rng"] = at::detail::getDefaultCPUGenerator().get_state();
    ctx->saved_data["fn"] = c10::IValue::make_capsule(fn);
    ctx->save_for_backward(inputs.vec());
    return fn->fn(inputs.vec());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto fn = c10::static_intrusive_pointer_cast<ChunkFnHolder>(ctx->saved_data["fn"].toCapsule());
    std::vector<torch::Tensor> inputs;
    for (const torch::Tensor& x : ctx->get_saved_variables()) {
      torch::Tensor d = x.detach();
      if (x.requires_grad()) d.requires_grad_(true);
      inputs.push_back(d);
    }
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    const torch::Tensor now = gen.get_state();
    gen.set_state(ctx->saved_data["rng"].toTensor());
    torch::Tensor out;
    {
      torch::AutoGradMode enable(true);
      out = fn->fn(inputs);
    }
    gen.set_state(now);
    torch::autograd::backward({out}, {grads[0]});  // parameters accumulate their gradients here
    variable_list result;
    for (const torch::Tensor& d : inputs) result.push_back(d.requires_grad() ? d.grad() : torch::Tensor());
    result.push_back(torch::Tensor());
    return result;
  }
};

// Initial values with the variance of a Linear's default initialisation (U(±1/√d)): V_b ~ U(±1/√d), a_rb ~
// N(0, 1/B), so that W_r = Σ_b a_rb V_b has Var = B · (1/B) · Var(V_b).
torch::Tensor init_bases(int64_t b, int64_t h, int64_t d) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(d));
  return torch::empty({b, h, d}).uniform_(-bound, bound);
}
torch::Tensor init_coef(int64_t b) { return torch::randn({b}) / std::sqrt(static_cast<double>(b)); }

}  // namespace

// What every layer-2 chunk reads besides its inputs.
struct RgcnImpl::Layer2Plan {
  int64_t videos = 0;
  double p = 0;                              // dropout in effect
  std::vector<RelationInput> attributes;
  std::vector<int> transformed;              // per attribute: position of its transformed head rows among the
                                             // chunk's inputs, or -1 (its rows are gathered and transformed per chunk)
  torch::Tensor comment_count;               // float [V]
};

RgcnImpl::RgcnImpl(const GraphModelInputs& in, const RgcnOptions& opt) : opt_(opt) {
  if (opt.hidden < 1) throw Error("rgcn: hidden must be at least 1");
  if (opt.bases < 0) throw Error("rgcn: bases must be 0 (full weights) or positive");
  if (opt.dropout < 0 || opt.dropout >= 1) throw Error("rgcn: dropout must be in [0, 1)");
  if (opt.target_chunk < 0) throw Error("rgcn: target_chunk must be 0 (no chunks) or positive");
  const int64_t h = opt.hidden, dv = in.video.size(1), nb = opt.bases;
  self1_ = register_module("self1", linear(dv, h, true));  // W_0 of layer 1 (self-connection)
  self2_ = register_module("self2", linear(h, h, true));
  predictor_ = register_module("predictor", linear(h, 1, true));  // W_1, b_1 of Eq. 9
  std::vector<std::pair<Relation, int64_t>> rels;  // every relation with its head width, attributes first
  for (const RelationInput& a : in.attributes) {
    const int64_t d = a.rows.size(1);
    head1_.push_back(register_module("head1_" + std::string(relation_info(a.relation).name), linear(d, h, true)));
    rels.push_back({a.relation, d});
  }
  for (Relation r : in.video_relations) rels.push_back({r, dv});
  std::map<int64_t, int> width_count;
  for (const auto& [r, d] : rels) ++width_count[d];
  // Layer 1: one basis group per head width shared by several relations.
  std::map<int64_t, int> group_of_width;
  for (const auto& [r, d] : rels) {
    const std::string name = relation_info(r).name;
    RelationWeight w{r, {}, -1, {}};
    if (nb > 0 && width_count[d] > 1) {
      auto it = group_of_width.find(d);
      if (it == group_of_width.end()) {
        bases1_.push_back(register_parameter("bases1_w" + std::to_string(d), init_bases(nb, h, d)));
        it = group_of_width.emplace(d, static_cast<int>(bases1_.size()) - 1).first;
      }
      w.group = it->second;
      w.coef = register_parameter("coef1_" + name, init_coef(nb));
    } else {
      w.full = register_module("rel1_" + name, linear(d, h, false))->weight;
    }
    w1_.push_back(w);
  }
  // Layer 2: every relation reads d_g-wide rows, so one basis group for all of them.
  if (nb > 0 && rels.size() > 1) bases2_.push_back(register_parameter("bases2", init_bases(nb, h, h)));
  for (const auto& [r, d] : rels) {
    const std::string name = relation_info(r).name;
    RelationWeight w{r, {}, -1, {}};
    if (!bases2_.empty()) {
      w.group = 0;
      w.coef = register_parameter("coef2_" + name, init_coef(nb));
    } else {
      w.full = register_module("rel2_" + name, linear(h, h, false))->weight;
    }
    w2_.push_back(w);
  }
}

const RgcnImpl::RelationWeight& RgcnImpl::weight_of(int layer, Relation r) const {
  for (const RelationWeight& w : layer == 1 ? w1_ : w2_)
    if (w.relation == r) return w;
  throw Error(std::string("rgcn: relation ") + relation_info(r).name + " is not in the model");
}

torch::Tensor RgcnImpl::weight(int layer, const RelationWeight& w) const {
  if (w.full.defined()) return w.full;
  const torch::Tensor& bases = (layer == 1 ? bases1_ : bases2_)[static_cast<size_t>(w.group)];
  return torch::tensordot(w.coef, bases, {0}, {0});  // W_r = Σ_b a_rb V_b
}

torch::Tensor RgcnImpl::relation_weight(int layer, Relation r) const { return weight(layer, weight_of(layer, r)); }

torch::Tensor RgcnImpl::add_relation_terms(int layer, torch::Tensor out,
                                           const std::vector<std::pair<Relation, torch::Tensor>>& agg) const {
  std::map<int, std::vector<std::pair<const RelationWeight*, torch::Tensor>>> by_group;
  for (const auto& [r, m] : agg) {
    const RelationWeight& w = weight_of(layer, r);
    if (w.group >= 0) by_group[w.group].push_back({&w, m});
    else out.addmm_(m, w.full.t());
  }
  for (const auto& [gi, members] : by_group) {
    if (static_cast<int64_t>(members.size()) <= opt_.bases) {  // no fewer products through the bases
      for (const auto& [w, m] : members) out.addmm_(m, weight(layer, *w).t());
      continue;
    }
    // Σ_r W_r m_r = Σ_b V_b (Σ_r a_rb m_r)
    const torch::Tensor& bases = (layer == 1 ? bases1_ : bases2_)[static_cast<size_t>(gi)];
    for (int64_t b = 0; b < opt_.bases; ++b) {
      torch::Tensor c;
      for (const auto& [w, m] : members) {
        torch::Tensor t = m * w->coef[b];
        c = c.defined() ? c + t : t;
      }
      out.addmm_(c, bases[b].t());
    }
  }
  return out;
}

torch::Tensor RgcnImpl::layer2_chunk(const Layer2Plan& plan, const torch::Tensor& tk, const std::vector<torch::Tensor>& inputs) {
  const int64_t k = tk.size(0);
  std::vector<torch::Tensor> gathered, gathered_at;  // transformed head rows, and where each target reads them
  std::vector<std::pair<Relation, torch::Tensor>> agg;
  for (size_t i = 0; i < plan.attributes.size(); ++i) {
    const RelationInput& a = plan.attributes[i];
    const RelationKind kind = relation_info(a.relation).kind;
    if (kind == RelationKind::kManyToOne) {  // comments of the chunk's targets: their own layer-1 outputs, averaged
      torch::Tensor mark = torch::full({plan.videos}, -1, torch::kInt64);
      mark.index_put_({tk}, torch::arange(k, torch::kInt64));
      const torch::Tensor pos = mark.index_select(0, a.index);
      const torch::Tensor sel = pos.ge(0).nonzero().squeeze(1);
      const bool every = sel.size(0) == a.rows.size(0);
      const torch::Tensor x = every ? a.rows : a.rows.index_select(0, sel);
      const torch::Tensor hc = relu_dropout(head1_[i](x), plan.p);
      agg.push_back({a.relation, segment_mean(every ? pos : pos.index_select(0, sel), plan.comment_count.index_select(0, tk), hc, k)});
      continue;
    }
    const torch::Tensor idx = a.index.defined() ? a.index.index_select(0, tk) : tk;
    if (plan.transformed[i] >= 0) {  // W_r relu(W_head x) computed once per distinct head row: gather it
      gathered.push_back(inputs[static_cast<size_t>(plan.transformed[i])]);
      gathered_at.push_back(idx);
    } else {                         // more distinct head rows than targets: gather, then transform
      agg.push_back({a.relation, relu_dropout(head1_[i](a.rows.index_select(0, idx)), plan.p)});
    }
  }
  torch::Tensor z = gathered.empty() ? torch::zeros({k, opt_.hidden}) : gather_sum(gathered, gathered_at, k);
  return add_relation_terms(2, z, agg);
}

RgcnOutput RgcnImpl::forward(const GraphModelInputs& in, const torch::Tensor& targets) {
  const double p = is_training() ? opt_.dropout : 0.0;
  const torch::Tensor h1 = relu_dropout(layer1(in), p);  // z1 is freed here: relu_dropout keeps only its output
  return layer2(in, h1, targets, p);
}

RgcnTrainEvalOutput RgcnImpl::forward_train_eval(const GraphModelInputs& in, const torch::Tensor& targets,
                                                 const torch::Tensor& eval_targets) {
  const double p = is_training() ? opt_.dropout : 0.0;
  torch::Tensor z1 = layer1(in);
  RgcnTrainEvalOutput out;
  {  // evaluation: relu without dropout (what eval() gives), no autograd graph; draws no random numbers, so the
     // training pass below gets the dropout masks it would get alone. relu is applied to z1 in place, outside
     // autograd, to save a [V, d_g] copy: relu_dropout gives relu(relu(z)) = relu(z) the same output, and its
     // gradient is zero wherever z <= 0, so passing it to z unchanged is exact. (No op saved z1 for its backward.)
    torch::NoGradGuard no_grad;
    z1.relu_();
    out.eval_level = layer2(in, z1, eval_targets, 0.0).level;
  }
  const torch::Tensor h1 = relu_dropout(z1, p);
  z1 = torch::Tensor();
  out.train = layer2(in, h1, targets, p);
  return out;
}

torch::Tensor RgcnImpl::layer1(const GraphModelInputs& in) {
  PhaseTimer timer("rgcn layer 1");
  // Layer 1 (Eq. 8) over every video node: each relation's mean input, transformed, plus the self-connection. W_r is
  // linear, so mean(W y) = W mean(y): transform first where there are fewer distinct head rows than video nodes.
  // The self-connection and every transform-first relation are summed in one pass (models/gather_sum.h); scalar
  // relations (Eq. 6: 2 columns) are gathered first and transformed together in one product with the
  // self-connection, which is cheaper than writing a [V, d_g] table per relation.
  std::vector<torch::Tensor> tables{self1_(in.video)}, table_at{torch::Tensor()};
  std::vector<std::pair<Relation, torch::Tensor>> agg1;
  std::vector<torch::Tensor> comments_first;
  std::vector<torch::Tensor> narrow_x, narrow_w;
  for (size_t i = 0; i < in.attributes.size(); ++i) {
    const RelationInput& a = in.attributes[i];
    if (a.rows.size(1) <= 4 && relation_info(a.relation).kind != RelationKind::kManyToOne) {
      narrow_x.push_back(in.attribute_mean(a, a.rows));  // the node's own row
      narrow_w.push_back(weight(1, w1_[i]));
    } else if (a.rows.size(0) >= in.videos) {
      agg1.push_back({a.relation, in.attribute_mean(a, a.rows)});
    } else if (relation_info(a.relation).kind == RelationKind::kManyToOne) {  // fewer comments than video nodes
      comments_first.push_back(in.attribute_mean(a, a.rows.matmul(weight(1, w1_[i]).t())));
    } else {
      tables.push_back(a.rows.matmul(weight(1, w1_[i]).t()));
      table_at.push_back(a.index);
    }
  }
  if (!narrow_x.empty()) tables[0].addmm_(torch::cat(narrow_x, 1), torch::cat(narrow_w, 1).t());
  narrow_x.clear();
  torch::Tensor z1 = gather_sum(tables, table_at, in.videos);
  tables.clear();
  for (const torch::Tensor& m : comments_first) z1.add_(m);
  comments_first.clear();
  timer.lap("layer 1 attribute relations");
  for (Relation r : in.video_relations) agg1.push_back({r, group_prefix_mean(in.graph.group(r), in.video)});
  timer.lap("layer 1 video means");
  z1 = add_relation_terms(1, z1, agg1);
  timer.lap("layer 1 transforms");
  return z1;
}

RgcnOutput RgcnImpl::layer2(const GraphModelInputs& in, const torch::Tensor& h1, const torch::Tensor& targets, double p) {
  const bool all = !targets.defined();
  const int64_t n = all ? in.videos : targets.size(0);
  PhaseTimer timer("rgcn layer 2");

  // Layer 2 at the targets only. The self-connection and the video→video terms read h1 through one op that keeps
  // no per-relation means (models/rgcn_video_layer.h); the attribute terms run in target chunks, optionally
  // checkpointed. What the chunks share: W_r relu(W_head x) of attribute relations with fewer distinct head rows
  // than targets.
  const torch::Tensor tgt = all ? torch::arange(in.videos, torch::kInt64) : targets;
  std::vector<const GroupOrderTensors*> groups;
  std::vector<torch::Tensor> video_weights;
  for (Relation r : in.video_relations) {
    groups.push_back(&in.graph.group(r));
    video_weights.push_back(relation_weight(2, r));
  }
  torch::Tensor z2 = video_relation_terms(h1, tgt, groups, self2_->weight, self2_->bias, video_weights);
  timer.lap("layer 2 self + video relations");
  Layer2Plan plan;
  plan.videos = in.videos;
  plan.p = p;
  plan.attributes = in.attributes;
  plan.comment_count = in.graph.comment_count;
  std::vector<torch::Tensor> heads;
  for (size_t i = 0; i < in.attributes.size(); ++i) {
    const RelationInput& a = in.attributes[i];
    const RelationKind kind = relation_info(a.relation).kind;
    const bool transform_first = kind == RelationKind::kSharedHead || (kind == RelationKind::kOneToOne && a.rows.size(0) < n);
    plan.transformed.push_back(transform_first ? static_cast<int>(heads.size()) : -1);
    if (transform_first) heads.push_back(relu_dropout(head1_[i](a.rows), p).matmul(weight(2, w2_[i]).t()));
  }
  const bool checkpoint = opt_.target_chunk > 0 && torch::GradMode::is_enabled();
  const int64_t chunk = opt_.target_chunk > 0 ? opt_.target_chunk : std::max<int64_t>(n, 1);
  for (int64_t lo = 0; lo < n && !in.attributes.empty(); lo += chunk) {
    const int64_t k = std::min(chunk, n - lo);
    const torch::Tensor tk = tgt.narrow(0, lo, k);
    torch::Tensor zk;
    if (!checkpoint) {
      zk = layer2_chunk(plan, tk, heads);
    } else {
      auto fn = c10::make_intrusive<ChunkFnHolder>(
          [this, plan, tk](const std::vector<torch::Tensor>& x) { return layer2_chunk(plan, tk, x); });
      zk = Checkpoint::apply(at::TensorList(heads), fn);
    }
    z2.narrow(0, lo, k).add_(zk);
  }
  heads.clear();
  timer.lap("layer 2 attribute relations");
  // Eq. 9: ŷ = 9·sigmoid(W1 f + b1)
  return {9.0 * torch::sigmoid(predictor_(z2)).squeeze(1), z2};
}

}  // namespace spir
