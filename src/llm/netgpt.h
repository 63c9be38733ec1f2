// NetGPT stages 2 and 3 (paper 4.2-4.4) around a Qwen2 decoder: the graph projector (Eq. 10) whose output replaces
// the <|graph_pad|> embedding, trainable <|graph_start|> / <|graph_end|> embeddings, the language loss on the
// response (Eq. 11) and the regression predictor on the last token (Eq. 13-14).
//
// The graph start/end embeddings are separate parameters (initialised from their rows of the resized embedding
// matrix) that replace those rows in inputs_embeds, so the embedding matrix itself stays frozen and untouched by
// weight decay; the LM head row of a tied model keeps the initial value (it is only used to predict those tokens).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "llm/prompt.h"
#include "llm/qwen2.h"
#include "tensor/torch_info.h"

namespace spir {

// A right-padded mini-batch of token sequences.
struct TokenBatch {
  torch::Tensor ids;       // [B, T] int64, padding = 0
  torch::Tensor mask;      // [B, T] int64, 1 = token
  torch::Tensor labels;    // [B, T] int64 next-token targets aligned with ids (-100 = ignored), for the LM loss
  torch::Tensor last;      // [B] int64 index of each row's last real token of the instruction
  torch::Tensor graph;     // [B, d_g] graph embeddings f'_v (undefined without graph tokens)
  int64_t tokens = 0;      // real tokens in the batch
};

// Builds a batch from instructions (and optional responses appended to them: their tokens are the only labels).
// Every instruction must be non-empty; responses empty or one per instruction.
TokenBatch make_token_batch(const std::vector<std::vector<int32_t>>& instructions,
                            const std::vector<std::vector<int32_t>>& responses = {});

// Mean cross-entropy of logits at the positions whose next token is labelled: position t predicts labels[t + 1].
// Reads the hidden states only at those positions (no [B, T, V] logits).
torch::Tensor response_lm_loss(const torch::Tensor& hidden, const torch::Tensor& lm_head_weight, const torch::Tensor& labels);

// Which parameters train (DESIGN decision 8).
enum class NetGptStage { kLanguage = 2, kPredictor = 3 };

class NetGptImpl : public torch::nn::Module {
 public:
  // llm with its vocabulary already resized to cover the prompt tokens; d_graph = d_g of the RGCN.
  NetGptImpl(Qwen2ForCausalLM llm, int64_t d_graph, const PromptTokens& tokens);
  // Token embeddings of batch.ids with <|graph_pad|> replaced by W2 f'_v + b2 (Eq. 10) and <|graph_start|> /
  // <|graph_end|> by the trainable start/end vectors.
  torch::Tensor inputs_embeds(const TokenBatch& batch);
  // Stage 2 loss (Eq. 11): cross-entropy on the response tokens only.
  torch::Tensor language_loss(const TokenBatch& batch);
  // Stage 3 prediction (Eq. 13): 9·sigmoid(W3 f_h + b3) with f_h the final hidden state of the last real token.
  torch::Tensor predict(const TokenBatch& batch);
  // Freezes / unfreezes for a stage: stage 2 trains the projector and the graph start/end vectors; stage 3 those,
  // the predictor and the last last_layers decoder layers. Everything else is frozen.
  void set_stage(NetGptStage stage, int64_t last_layers);
  // Parameters that train in any stage (what a checkpoint stores), by name.
  std::vector<std::pair<std::string, torch::Tensor>> stored_parameters(int64_t last_layers);

  Qwen2ForCausalLM llm{nullptr};
  torch::nn::Linear projector{nullptr};  // W2, b2 (Eq. 10)
  torch::nn::Linear predictor{nullptr};  // W3, b3 (Eq. 13)
  torch::Tensor graph_start, graph_end;  // [H] trainable embeddings of <|graph_start|>, <|graph_end|>
  PromptTokens tokens;
};
TORCH_MODULE(NetGpt);

}  // namespace spir
