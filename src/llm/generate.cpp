#include "llm/generate.h"

#include "core/error.h"

namespace spir {

std::vector<std::vector<int32_t>> greedy_generate(Qwen2ForCausalLM& llm, const std::vector<std::vector<int32_t>>& prompts,
                                                  const std::vector<int32_t>& draft, int32_t eos, int64_t max_new) {
  torch::NoGradGuard no_grad;
  const int64_t n = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int32_t>> gen(prompts.size());
  if (n == 0 || max_new <= 0) return gen;
  const auto dev = llm->model->embed_tokens->weight.device();
  const torch::Tensor head = llm->lm_head_weight();
  int64_t longest = 0;
  for (const auto& p : prompts) {
    if (p.empty()) throw Error("greedy_generate: a prompt is empty");
    longest = std::max<int64_t>(longest, static_cast<int64_t>(p.size()));
  }
  const int64_t nd = static_cast<int64_t>(draft.size()), width = longest + nd;

  // Pass 1: [padding | prompt | draft] per row, so that every row's first new token is predicted at column longest-1.
  torch::Tensor ids = torch::zeros({n, width}, torch::kLong), mask = torch::zeros({n, width}, torch::kLong);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<int64_t, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const auto& p = prompts[static_cast<size_t>(r)];
    const int64_t off = longest - static_cast<int64_t>(p.size());
    for (size_t j = 0; j < p.size(); ++j) ids_a[r][off + static_cast<int64_t>(j)] = p[j], mask_a[r][off + static_cast<int64_t>(j)] = 1;
    for (int64_t j = 0; j < nd; ++j) ids_a[r][longest + j] = draft[static_cast<size_t>(j)], mask_a[r][longest + j] = 1;
  }
  Qwen2KVCache cache;
  auto position_of = [](const torch::Tensor& m) { return (m.cumsum(1) - 1).clamp_min(0); };
  const torch::Tensor h = llm->model->forward(llm->embed(ids.to(dev)), mask.to(dev), position_of(mask).to(dev), false, &cache)
                              .last_hidden_state.slice(1, longest - 1, width);  // [n, nd + 1, H]
  const torch::Tensor pick = torch::linear(h, head).argmax(-1).cpu();             // [n, nd + 1]
  auto pick_a = pick.accessor<int64_t, 2>();
  std::vector<char> done(prompts.size(), 0);
  for (int64_t r = 0; r < n; ++r) {
    auto& g = gen[static_cast<size_t>(r)];
    int64_t kept = 0;  // draft tokens this row keeps in the cache
    for (int64_t j = 0; j <= nd; ++j) {
      const int32_t tok = static_cast<int32_t>(pick_a[r][j]);
      g.push_back(tok);
      if (j < nd && tok == draft[static_cast<size_t>(j)]) ++kept;
      if (tok == eos || static_cast<int64_t>(g.size()) >= max_new) {
        done[static_cast<size_t>(r)] = 1;
        break;
      }
      if (j < nd && tok != draft[static_cast<size_t>(j)]) break;  // the model left the draft
    }
    for (int64_t j = kept; j < nd; ++j) mask_a[r][longest + j] = 0;
  }

  // Later steps: each row's last new token (not yet in the cache), one column per step.
  while (true) {
    bool any = false;
    torch::Tensor step_ids = torch::zeros({n, 1}, torch::kLong), step_pos = torch::zeros({n, 1}, torch::kLong);
    auto step_ids_a = step_ids.accessor<int64_t, 2>();
    auto step_pos_a = step_pos.accessor<int64_t, 2>();
    for (int64_t r = 0; r < n; ++r) {
      const auto& g = gen[static_cast<size_t>(r)];
      any = any || !done[static_cast<size_t>(r)];
      step_ids_a[r][0] = g.back();
      step_pos_a[r][0] = static_cast<int64_t>(prompts[static_cast<size_t>(r)].size() + g.size()) - 1;
    }
    if (!any) break;
    mask = torch::cat({mask, torch::ones({n, 1}, torch::kLong)}, 1);
    const torch::Tensor hs = llm->model->forward(llm->embed(step_ids.to(dev)), mask.to(dev), step_pos.to(dev), false, &cache)
                                 .last_hidden_state.select(1, 0);
    const torch::Tensor next = torch::linear(hs, head).argmax(-1).cpu().contiguous();
    const int64_t* next_p = next.data_ptr<int64_t>();
    for (int64_t r = 0; r < n; ++r) {
      if (done[static_cast<size_t>(r)]) continue;
      auto& g = gen[static_cast<size_t>(r)];
      g.push_back(static_cast<int32_t>(next_p[r]));
      if (g.back() == eos || static_cast<int64_t>(g.size()) >= max_new) done[static_cast<size_t>(r)] = 1;
    }
  }
  return gen;
}

}  // namespace spir
