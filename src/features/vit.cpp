#include "features/vit.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_file.h"
#include "features/hf_checkpoint.h"
#include "features/bert.h"
#include "tensor/safetensors_torch.h"

namespace spir {
using hf::group;
using hf::layer_norm;
using hf::read_field;

ViTOptions ViTOptions::from_config_json(const std::string& path) {
  const nlohmann::json j = read_json(path);
  ViTOptions o;
  read_field(j, path, "image_size", &o.image_size, true);
  read_field(j, path, "patch_size", &o.patch_size, true);
  read_field(j, path, "num_channels", &o.num_channels, false);
  read_field(j, path, "hidden_size", &o.hidden_size, true);
  read_field(j, path, "num_hidden_layers", &o.num_hidden_layers, true);
  read_field(j, path, "num_attention_heads", &o.num_attention_heads, true);
  read_field(j, path, "intermediate_size", &o.intermediate_size, true);
  read_field(j, path, "layer_norm_eps", &o.layer_norm_eps, false);
  read_field(j, path, "hidden_act", &o.hidden_act, false);
  read_field(j, path, "qkv_bias", &o.qkv_bias, false);
  if (o.patch_size <= 0 || o.image_size < o.patch_size)
    throw Error(path + ": field 'patch_size': " + std::to_string(o.patch_size) + " does not fit image_size " +
                std::to_string(o.image_size));
  if (o.num_attention_heads <= 0 || o.hidden_size % o.num_attention_heads != 0)
    throw Error(path + ": field 'num_attention_heads': " + std::to_string(o.num_attention_heads) +
                " does not divide hidden_size " + std::to_string(o.hidden_size));
  hf_activation(torch::zeros({1}), o.hidden_act);  // rejects an unknown activation now, naming it
  return o;
}

ViTLayerImpl::ViTLayerImpl(const ViTOptions& opt) : opt_(opt) {
  const int64_t h = opt.hidden_size, m = opt.intermediate_size;
  norm_before_ = register_module("layernorm_before", layer_norm(h, opt.layer_norm_eps));
  auto attention = group(*this, "attention");
  auto self = group(*attention, "attention");
  auto qkv = torch::nn::LinearOptions(h, h).bias(opt.qkv_bias);
  query_ = self->register_module("query", torch::nn::Linear(qkv));
  key_ = self->register_module("key", torch::nn::Linear(qkv));
  value_ = self->register_module("value", torch::nn::Linear(qkv));
  attn_out_ = group(*attention, "output")->register_module("dense", torch::nn::Linear(h, h));
  inter_ = group(*this, "intermediate")->register_module("dense", torch::nn::Linear(h, m));
  out_ = group(*this, "output")->register_module("dense", torch::nn::Linear(m, h));
  norm_after_ = register_module("layernorm_after", layer_norm(h, opt.layer_norm_eps));
}

torch::Tensor ViTLayerImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), t = x.size(1), heads = opt_.num_attention_heads, d = opt_.hidden_size / heads;
  const torch::Tensor y = norm_before_(x);
  auto split = [&](const torch::Tensor& z) { return z.view({b, t, heads, d}).transpose(1, 2); };
  const torch::Tensor q = split(query_(y)), k = split(key_(y)), v = split(value_(y));
  const torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d));
  const torch::Tensor probs = torch::softmax(scores, -1);
  const torch::Tensor ctx = torch::matmul(probs, v).transpose(1, 2).reshape({b, t, heads * d});
  const torch::Tensor h = x + attn_out_(ctx);
  return h + out_(hf_activation(inter_(norm_after_(h)), opt_.hidden_act));
}

ViTModelImpl::ViTModelImpl(const ViTOptions& opt) : opt_(opt) {
  auto embeddings = group(*this, "embeddings");
  cls_token_ = embeddings->register_parameter("cls_token", torch::zeros({1, 1, opt.hidden_size}));
  position_embeddings_ = embeddings->register_parameter("position_embeddings",
                                                        torch::zeros({1, opt.num_patches() + 1, opt.hidden_size}));
  projection_ = group(*embeddings, "patch_embeddings")
                    ->register_module("projection", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                        opt.num_channels, opt.hidden_size, opt.patch_size)
                                                                          .stride(opt.patch_size)));
  layers_ = group(*this, "encoder")->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < opt.num_hidden_layers; ++i) layers_->push_back(ViTLayer(opt));
  final_norm_ = register_module("layernorm", layer_norm(opt.hidden_size, opt.layer_norm_eps));
}

torch::Tensor ViTModelImpl::forward(const torch::Tensor& pixel_values) {
  if (pixel_values.dim() != 4 || pixel_values.size(1) != opt_.num_channels || pixel_values.size(2) != opt_.image_size ||
      pixel_values.size(3) != opt_.image_size)
    throw Error("ViTModel: pixel_values must be [batch, " + std::to_string(opt_.num_channels) + ", " +
                std::to_string(opt_.image_size) + ", " + std::to_string(opt_.image_size) + "], got " +
                c10::str(pixel_values.sizes()));
  const int64_t b = pixel_values.size(0);
  const torch::Tensor x = pixel_values.to(cls_token_.device(), cls_token_.scalar_type());
  const torch::Tensor patches = projection_(x).flatten(2).transpose(1, 2);  // [B, N, H]
  torch::Tensor h = torch::cat({cls_token_.expand({b, 1, opt_.hidden_size}), patches}, 1) + position_embeddings_;
  for (const auto& layer : *layers_) h = layer->as<ViTLayer>()->forward(h);
  return final_norm_(h);
}

ViTModel load_vit_model(const std::string& dir) {
  const ViTOptions opt = ViTOptions::from_config_json(dir + "/config.json");
  ViTModel model(opt);
  load_module_weights(*model, dir + "/model.safetensors", "vit.");
  model->eval();
  return model;
}

}  // namespace spir
