#include "llm/netgpt.h"

#include <algorithm>

#include "core/error.h"

namespace spir {

TokenBatch make_token_batch(const std::vector<std::vector<int32_t>>& instructions,
                            const std::vector<std::vector<int32_t>>& responses) {
  if (instructions.empty()) throw Error("token batch: no sequences");
  if (!responses.empty() && responses.size() != instructions.size())
    throw Error("token batch: " + std::to_string(responses.size()) + " responses for " +
                std::to_string(instructions.size()) + " instructions");
  const int64_t b = static_cast<int64_t>(instructions.size());
  int64_t t = 0;
  for (size_t i = 0; i < instructions.size(); ++i) {
    if (instructions[i].empty()) throw Error("token batch: empty instruction " + std::to_string(i));
    t = std::max<int64_t>(t, static_cast<int64_t>(instructions[i].size() + (responses.empty() ? 0 : responses[i].size())));
  }
  TokenBatch batch;
  batch.ids = torch::zeros({b, t}, torch::kLong);
  batch.mask = torch::zeros({b, t}, torch::kLong);
  batch.labels = torch::full({b, t}, -100, torch::kLong);
  batch.last = torch::zeros({b}, torch::kLong);
  auto ids = batch.ids.accessor<int64_t, 2>();
  auto mask = batch.mask.accessor<int64_t, 2>();
  auto labels = batch.labels.accessor<int64_t, 2>();
  auto last = batch.last.accessor<int64_t, 1>();
  for (int64_t r = 0; r < b; ++r) {
    const auto& ins = instructions[static_cast<size_t>(r)];
    int64_t k = 0;
    for (int32_t id : ins) ids[r][k] = id, mask[r][k] = 1, ++k;
    last[r] = k - 1;
    if (!responses.empty())
      for (int32_t id : responses[static_cast<size_t>(r)]) ids[r][k] = id, mask[r][k] = 1, labels[r][k] = id, ++k;
    batch.tokens += k;
  }
  return batch;
}

torch::Tensor response_lm_loss(const torch::Tensor& hidden, const torch::Tensor& lm_head_weight, const torch::Tensor& labels) {
  const torch::Tensor lab = labels.to(hidden.device());
  // Position t predicts token t + 1: shift the labels left by one.
  const torch::Tensor next = lab.slice(1, 1);
  const torch::Tensor sel = next.ne(-100);
  if (sel.sum().item<int64_t>() == 0) throw Error("language loss: no labelled response token in the batch");
  const torch::Tensor h = hidden.slice(1, 0, hidden.size(1) - 1).index({sel});  // [N, H]
  const torch::Tensor logits = torch::linear(h, lm_head_weight).to(torch::kFloat32);
  return torch::nn::functional::cross_entropy(logits, next.index({sel}));
}

NetGptImpl::NetGptImpl(Qwen2ForCausalLM model, int64_t d_graph, const PromptTokens& t) : tokens(t) {
  llm = register_module("llm", model);
  const int64_t h = llm->options().hidden_size;
  const torch::Tensor& emb = llm->model->embed_tokens->weight;
  for (int32_t id : {t.graph_start, t.graph_pad, t.graph_end})
    if (id < 0 || id >= emb.size(0))
      throw Error("NetGPT: graph token id " + std::to_string(id) + " is outside the embedding matrix (" +
                  std::to_string(emb.size(0)) + " rows): resize the vocabulary first");
  projector = register_module("projector", torch::nn::Linear(d_graph, h));
  predictor = register_module("predictor", torch::nn::Linear(h, 1));
  projector->to(emb.device(), emb.scalar_type());
  predictor->to(emb.device(), emb.scalar_type());
  graph_start = register_parameter("graph_start", emb[t.graph_start].detach().clone());
  graph_end = register_parameter("graph_end", emb[t.graph_end].detach().clone());
}

torch::Tensor NetGptImpl::inputs_embeds(const TokenBatch& batch) {
  const torch::Tensor& w = llm->model->embed_tokens->weight;
  const torch::Tensor ids = batch.ids.to(w.device());
  torch::Tensor e = llm->embed(ids);  // [B, T, H]
  auto put = [&](int32_t id, const torch::Tensor& rows) {  // rows [B, H] or [H]
    const torch::Tensor at = ids.eq(id).unsqueeze(-1);
    e = torch::where(at, rows.dim() == 1 ? rows.view({1, 1, -1}) : rows.unsqueeze(1), e);
  };
  put(tokens.graph_start, graph_start);
  put(tokens.graph_end, graph_end);
  if (batch.graph.defined()) {
    // Eq. 10: e_v = W2 f'_v + b2.
    put(tokens.graph_pad, projector(batch.graph.to(w.device(), w.scalar_type())));
  } else if (ids.eq(tokens.graph_pad).any().item<bool>()) {
    throw Error("NetGPT: the batch has <|graph_pad|> tokens but no graph embeddings");
  }
  return e;
}

torch::Tensor NetGptImpl::language_loss(const TokenBatch& batch) {
  const torch::Tensor& w = llm->model->embed_tokens->weight;
  const Qwen2Output out = llm->model->forward(inputs_embeds(batch), batch.mask.to(w.device()));
  return response_lm_loss(out.last_hidden_state, llm->lm_head_weight(), batch.labels);  // Eq. 11
}

torch::Tensor NetGptImpl::predict(const TokenBatch& batch) {
  const torch::Tensor& w = llm->model->embed_tokens->weight;
  const Qwen2Output out = llm->model->forward(inputs_embeds(batch), batch.mask.to(w.device()));
  const torch::Tensor last = batch.last.to(w.device());
  const torch::Tensor f_h = out.last_hidden_state.index({torch::arange(last.size(0), last.options()), last});  // [B, H]
  return 9.0 * torch::sigmoid(predictor(f_h).squeeze(1).to(torch::kFloat32));  // Eq. 13
}

void NetGptImpl::set_stage(NetGptStage stage, int64_t last_layers) {
  for (auto& p : parameters()) p.set_requires_grad(false);
  for (auto& p : projector->parameters()) p.set_requires_grad(true);
  graph_start.set_requires_grad(true);
  graph_end.set_requires_grad(true);
  if (stage == NetGptStage::kPredictor) {
    for (auto& p : predictor->parameters()) p.set_requires_grad(true);
    const int64_t n = static_cast<int64_t>(llm->model->layers->size());
    for (int64_t i = std::max<int64_t>(0, n - last_layers); i < n; ++i)
      for (auto& p : (*llm->model->layers)[static_cast<size_t>(i)]->parameters()) p.set_requires_grad(true);
  }
}

std::vector<std::pair<std::string, torch::Tensor>> NetGptImpl::stored_parameters(int64_t last_layers) {
  const int64_t n = static_cast<int64_t>(llm->model->layers->size());
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters()) {
    const std::string& k = item.key();
    bool keep = k.rfind("llm.", 0) != 0;  // projector, predictor, graph start/end
    for (int64_t i = std::max<int64_t>(0, n - last_layers); !keep && i < n; ++i)
      keep = k.rfind("llm.model.layers." + std::to_string(i) + ".", 0) == 0;
    if (keep) out.emplace_back(k, item.value());
  }
  return out;
}

}  // namespace spir
