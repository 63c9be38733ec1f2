#include "llm/lora.h"

#include <cmath>

#include "core/error.h"

namespace spir {

LoraAdaptersImpl::LoraAdaptersImpl(Qwen2ForCausalLM model, const LoraOptions& opt) : opt_(opt) {
  if (opt.rank <= 0) throw Error("LoRA: rank " + std::to_string(opt.rank) + " must be positive");
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  const auto& layers = model->model->layers;
  for (size_t i = 0; i < layers->size(); ++i) {
    auto attn = (*layers)[i]->as<Qwen2DecoderLayer>()->self_attn;
    for (const std::string& name : opt.targets) {
      torch::nn::Linear lin{nullptr};
      if (name == "q_proj") lin = attn->q_proj;
      else if (name == "k_proj") lin = attn->k_proj;
      else if (name == "v_proj") lin = attn->v_proj;
      else if (name == "o_proj") lin = attn->o_proj;
      else throw Error("LoRA: unknown target '" + name + "' (q_proj, k_proj, v_proj, o_proj)");
      Target t;
      t.linear = lin;
      t.base = lin->named_parameters(/*recurse=*/false)["weight"];
      const int64_t out = t.base.size(0), in = t.base.size(1);
      const auto fopt = torch::TensorOptions().dtype(t.base.scalar_type()).device(t.base.device());
      // A: Kaiming-uniform with a = sqrt(5) (bound 1/sqrt(in)), B: zeros, as the LoRA reference initialises them.
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      const std::string key = std::to_string(i) + "_" + name;
      t.a = register_parameter(key + "_A", torch::empty({opt.rank, in}, fopt).uniform_(-bound, bound));
      t.b = register_parameter(key + "_B", torch::zeros({out, opt.rank}, fopt));
      targets_.push_back(t);
    }
  }
  refresh();
}

void LoraAdaptersImpl::refresh() {
  const double scale = opt_.alpha / static_cast<double>(opt_.rank);
  for (Target& t : targets_) t.linear->weight = t.base + scale * torch::matmul(t.b, t.a);
}

void LoraAdaptersImpl::detach_from_model() {
  for (Target& t : targets_) t.linear->weight = t.base;
}

}  // namespace spir
