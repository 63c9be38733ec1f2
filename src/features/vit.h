// A Vision Transformer (Hugging Face ViTModel layout) in LibTorch: patch embedding, [CLS] token, position
// embeddings, pre-LN encoder layers and a final LayerNorm; plus a loader for checkpoint folders.
#pragma once
#include <torch/torch.h>

#include <string>

namespace spir {

// The fields of a Hugging Face ViT config.json that the forward pass uses.
struct ViTOptions {
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t num_channels = 3;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";
  bool qkv_bias = true;
  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
  // Reads path (a config.json); throws spir::Error naming the file and field on a missing or bad value.
  static ViTOptions from_config_json(const std::string& path);
};

// One pre-LN encoder layer: x + attention(LN(x)), then + MLP(LN(·)). Children named as in Hugging Face
// (layernorm_before, attention.attention.query, attention.output.dense, intermediate.dense, output.dense, ...).
class ViTLayerImpl : public torch::nn::Module {
 public:
  explicit ViTLayerImpl(const ViTOptions& opt);
  torch::Tensor forward(const torch::Tensor& x);  // [B, T, H] → [B, T, H]

 private:
  ViTOptions opt_;
  torch::nn::LayerNorm norm_before_{nullptr}, norm_after_{nullptr};
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, attn_out_{nullptr}, inter_{nullptr}, out_{nullptr};
};
TORCH_MODULE(ViTLayer);

// The whole model; parameter names equal a Hugging Face ViTModel's state dict keys (embeddings.*, encoder.layer.N.*,
// layernorm.*). The pooler, if the checkpoint has one, is not used.
class ViTModelImpl : public torch::nn::Module {
 public:
  explicit ViTModelImpl(const ViTOptions& opt);
  // pixel_values [B, C, image_size, image_size] (normalised) → last_hidden_state [B, 1 + num_patches, H], [CLS] first.
  torch::Tensor forward(const torch::Tensor& pixel_values);
  const ViTOptions& options() const { return opt_; }

 private:
  ViTOptions opt_;
  torch::Tensor cls_token_, position_embeddings_;
  torch::nn::Conv2d projection_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};
};
TORCH_MODULE(ViTModel);

// Loads dir/config.json and dir/model.safetensors (keys with or without a "vit." prefix; weights become fp32) into a
// model in eval mode. Throws spir::Error naming the file.
ViTModel load_vit_model(const std::string& dir);

}  // namespace spir
