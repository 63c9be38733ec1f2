// A BERT encoder (Hugging Face BertModel layout) in LibTorch: embeddings, post-LN transformer layers, and a loader
// for checkpoint folders (config.json + model.safetensors).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace spir {

// The fields of a Hugging Face BERT config.json that the forward pass uses.
struct BertOptions {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";  // "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" (tanh), "relu"
  // Reads path (a config.json); throws spir::Error naming the file and field on a missing or bad value.
  static BertOptions from_config_json(const std::string& path);
};

// Applies a Hugging Face activation by name (throws spir::Error for an unknown one).
torch::Tensor hf_activation(const torch::Tensor& x, const std::string& name);

// One post-LN encoder layer: self-attention + residual + LayerNorm, then GELU MLP + residual + LayerNorm.
// Children are named as in Hugging Face (attention.self.query, attention.output.dense, intermediate.dense, ...).
class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertOptions& opt);
  // x: [B, T, H]; additive_mask: [B, 1, 1, T] (0 for tokens, a large negative number for padding).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask);

 private:
  BertOptions opt_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, attn_out_{nullptr}, inter_{nullptr}, out_{nullptr};
  torch::nn::LayerNorm attn_norm_{nullptr}, out_norm_{nullptr};
};
TORCH_MODULE(BertLayer);

// The whole encoder: word + position + token-type embeddings with LayerNorm, then num_hidden_layers layers.
// Parameter names equal a Hugging Face BertModel's state dict keys (embeddings.*, encoder.layer.N.*).
class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(const BertOptions& opt);
  // input_ids [B, T] int64; attention_mask [B, T] (1 = token, 0 = padding; undefined = all ones); token_type_ids
  // [B, T] (undefined = zeros). Returns last_hidden_state [B, T, hidden_size].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                        const torch::Tensor& token_type_ids = {});
  // The embeddings output followed by every layer's output (num_hidden_layers + 1 tensors).
  std::vector<torch::Tensor> hidden_states(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                                           const torch::Tensor& token_type_ids = {});
  const BertOptions& options() const { return opt_; }

 private:
  BertOptions opt_;
  torch::nn::Embedding word_{nullptr}, position_{nullptr}, token_type_{nullptr};
  torch::nn::LayerNorm emb_norm_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
};
TORCH_MODULE(BertModel);

// Loads dir/config.json and dir/model.safetensors (keys with or without a "bert." prefix; fp32/fp16/bf16 weights
// become fp32) into a model in eval mode. Sharded or .bin checkpoints are not read. Throws spir::Error naming the file.
BertModel load_bert_model(const std::string& dir);

// Mean of hidden [B, T, H] over the positions where mask [B, T] is 1 (rows with no token give zeros).
torch::Tensor masked_mean_pool(const torch::Tensor& hidden, const torch::Tensor& mask);

}  // namespace spir
