// A Qwen2 decoder-only language model (Hugging Face Qwen2ForCausalLM layout) in LibTorch: RMSNorm, rotary
// grouped-query attention with a causal + padding mask, SwiGLU MLP, tied or untied LM head; loading and saving
// Hugging Face checkpoint folders (config.json + model.safetensors or a sharded model.safetensors.index.json).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spir {

// The fields of a Hugging Face Qwen2 config.json that the model uses.
struct Qwen2Options {
  int64_t vocab_size = 151936;
  int64_t hidden_size = 896;
  int64_t intermediate_size = 4864;
  int64_t num_hidden_layers = 24;
  int64_t num_attention_heads = 14;
  int64_t num_key_value_heads = 2;
  double rms_norm_eps = 1e-6;
  double rope_theta = 1000000.0;
  int64_t max_position_embeddings = 32768;
  bool tie_word_embeddings = true;
  std::string torch_dtype = "float32";  // the dtype the checkpoint was saved in ("bfloat16", "float16", "float32")
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // Reads path (a config.json); throws spir::Error naming the file and field on a missing, bad or unsupported value.
  static Qwen2Options from_config_json(const std::string& path);
  // The config.json a Hugging Face loader accepts for these options.
  nlohmann::json to_config_json() const;
};

// Root-mean-square norm with a learned scale ("weight"), computed in float32 as Hugging Face does.
class Qwen2RMSNormImpl : public torch::nn::Module {
 public:
  Qwen2RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(Qwen2RMSNorm);

// Applies rotary embeddings (rotate-half convention) to x [B, heads, T, head_dim] with cos/sin [B, 1, T, head_dim].
torch::Tensor qwen2_apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);
// cos and sin [B, 1, T, head_dim] for position_ids [B, T], in float32 on position_ids' device.
std::pair<torch::Tensor, torch::Tensor> qwen2_rotary_cos_sin(const torch::Tensor& position_ids, int64_t head_dim,
                                                             double theta);

// The keys and values one decoder layer has seen so far (after rotary), for incremental decoding.
struct Qwen2LayerCache {
  torch::Tensor key, value;  // [B, kv_heads, T_past, head_dim]; undefined before the first pass
};

// A key/value cache for the whole decoder: a forward pass with it attends to every earlier token of the cache and
// appends its own keys and values, so greedy decoding costs one new token per step instead of the whole sequence.
struct Qwen2KVCache {
  std::vector<Qwen2LayerCache> layers;  // one per decoder layer, filled by the first pass
  int64_t length() const { return layers.empty() || !layers[0].key.defined() ? 0 : layers[0].key.size(2); }
};

// Self-attention: q/k/v projections with bias, o_proj without; k/v heads repeated for grouped-query attention.
class Qwen2AttentionImpl : public torch::nn::Module {
 public:
  explicit Qwen2AttentionImpl(const Qwen2Options& opt);
  // x [B, T, H]; cos/sin from qwen2_rotary_cos_sin; allowed [B, 1, T, T_past + T] bool (true = query may attend
  // to key); cache: the layer's earlier keys and values (T_past of them), extended by this pass (null: none).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& allowed, Qwen2LayerCache* cache = nullptr);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  Qwen2Options opt_;
};
TORCH_MODULE(Qwen2Attention);

// SwiGLU feed-forward: down_proj(silu(gate_proj(x)) * up_proj(x)), no biases.
class Qwen2MLPImpl : public torch::nn::Module {
 public:
  explicit Qwen2MLPImpl(const Qwen2Options& opt);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(Qwen2MLP);

// One pre-norm decoder layer: x + attn(input_layernorm(x)), then h + mlp(post_attention_layernorm(h)).
class Qwen2DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit Qwen2DecoderLayerImpl(const Qwen2Options& opt);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& allowed, Qwen2LayerCache* cache = nullptr);
  Qwen2Attention self_attn{nullptr};
  Qwen2MLP mlp{nullptr};
  Qwen2RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(Qwen2DecoderLayer);

// What a forward pass returns. hidden_states / layer_outputs are filled only when asked for.
struct Qwen2Output {
  torch::Tensor logits;             // [B, T, V]
  torch::Tensor last_hidden_state;  // [B, T, H], after the final norm
  // Hugging Face convention: [0] = embeddings, [i] = output of layer i-1 for i < L, [L] = final-normed output.
  std::vector<torch::Tensor> hidden_states;
  std::vector<torch::Tensor> layer_outputs;  // output of each decoder layer before any final norm (L tensors)
};

// The backbone (Hugging Face Qwen2Model): embed_tokens, layers.N, norm.
class Qwen2ModelImpl : public torch::nn::Module {
 public:
  explicit Qwen2ModelImpl(const Qwen2Options& opt);
  // Embeddings [B, T, H] → Qwen2Output without logits. See Qwen2ForCausalLMImpl::forward for the masks and the cache.
  Qwen2Output forward(const torch::Tensor& inputs_embeds, const torch::Tensor& attention_mask = {},
                      const torch::Tensor& position_ids = {}, bool output_hidden_states = false,
                      Qwen2KVCache* cache = nullptr);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  Qwen2RMSNorm norm{nullptr};

 private:
  Qwen2Options opt_;
};
TORCH_MODULE(Qwen2Model);

// Qwen2Model ("model.*") plus the LM head ("lm_head.weight", absent when tied to model.embed_tokens.weight).
class Qwen2ForCausalLMImpl : public torch::nn::Module {
 public:
  explicit Qwen2ForCausalLMImpl(const Qwen2Options& opt);
  // input_ids [B, T] int64 (may be undefined when inputs_embeds is given); attention_mask [B, T] 1 = token, 0 = pad
  // (undefined = all tokens; left or right padding); position_ids [B, T] (undefined = 0..T-1; pass cumsum(mask)-1
  // for left padding); inputs_embeds [B, T, H] used instead of embedding input_ids when defined.
  // With a cache holding T_past earlier tokens: the T new tokens attend to those too, attention_mask (when defined)
  // covers all T_past + T tokens, position_ids default to T_past..T_past+T-1, and the cache gains the new tokens.
  Qwen2Output forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                      const torch::Tensor& position_ids = {}, const torch::Tensor& inputs_embeds = {},
                      bool output_hidden_states = false, Qwen2KVCache* cache = nullptr);
  // The embedding rows of ids [B, T] → [B, T, H] (to edit before passing as inputs_embeds).
  torch::Tensor embed(const torch::Tensor& input_ids);
  // The LM head's weight [V, H] (the embedding matrix when tied).
  torch::Tensor lm_head_weight() const;
  // Resizes the vocabulary to n rows: old rows kept, new rows set to the mean old row (embedding and untied head).
  void resize_token_embeddings(int64_t n);
  // Greedy decoding with a key/value cache: appends argmax tokens to ids [B, T] (no padding) until max_new_tokens or
  // every row has produced eos_id (eos_id < 0: never stop). Returns the new tokens [B, n] (rows that stopped repeat
  // eos).
  torch::Tensor generate(const torch::Tensor& ids, int64_t max_new_tokens, int64_t eos_id = -1);
  const Qwen2Options& options() const { return opt_; }

  Qwen2Model model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when tie_word_embeddings

 private:
  Qwen2Options opt_;
};
TORCH_MODULE(Qwen2ForCausalLM);

// Loads dir/config.json and the weights (dir/model.safetensors, or the shards named by
// dir/model.safetensors.index.json) converted to dtype, in eval mode. Throws spir::Error naming file and tensor.
Qwen2ForCausalLM load_qwen2(const std::string& dir, torch::Dtype dtype = torch::kFloat32);

// Writes dir/config.json and dir/model.safetensors in Hugging Face layout (lm_head.weight only when untied), in the
// parameters' dtype; creates dir when missing.
void save_qwen2(const Qwen2ForCausalLM& model, const std::string& dir);

}  // namespace spir
