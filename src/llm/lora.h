// LoRA adapters (Hu et al., the LLM baselines of paper 5.1) on the attention projections of a Qwen2 model:
// W = W0 + (alpha / r)·B·A with A [r, in] (Kaiming-uniform) and B [out, r] (zeros), so an untrained adapter leaves
// the model unchanged. The base weights stay the registered (frozen) parameters; refresh() sets each wrapped
// Linear's forward weight to the merged W, so the Qwen2 code runs unchanged and gradients reach only A and B.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "llm/qwen2.h"

namespace spir {

struct LoraOptions {
  int64_t rank = 8;
  double alpha = 16;
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj"};  // attention projections
};

class LoraAdaptersImpl : public torch::nn::Module {
 public:
  // Adds adapters to every target projection of every decoder layer of model; freezes every base parameter.
  LoraAdaptersImpl(Qwen2ForCausalLM model, const LoraOptions& opt);
  // Recomputes the merged forward weights from the current A and B; call before every forward pass that should
  // see them (after each optimizer step, and once per forward when training: the merge is part of the graph).
  void refresh();
  // Puts the base weights back as the forward weights (the model without adapters).
  void detach_from_model();
  const LoraOptions& options() const { return opt_; }
  int64_t adapted_layers() const { return static_cast<int64_t>(targets_.size()); }

 private:
  struct Target {
    torch::nn::Linear linear{nullptr};
    torch::Tensor base;      // W0 (the registered parameter)
    torch::Tensor a, b;      // registered here as "<layer>_<name>_A" / "_B"
  };
  LoraOptions opt_;
  std::vector<Target> targets_;
};
TORCH_MODULE(LoraAdapters);

}  // namespace spir
