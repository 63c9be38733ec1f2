#include "features/bert.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_file.h"
#include "features/hf_checkpoint.h"
#include "tensor/safetensors_torch.h"

namespace spir {
using hf::group;
using hf::layer_norm;
using hf::read_field;

BertOptions BertOptions::from_config_json(const std::string& path) {
  const nlohmann::json j = read_json(path);
  BertOptions o;
  read_field(j, path, "vocab_size", &o.vocab_size, true);
  read_field(j, path, "hidden_size", &o.hidden_size, true);
  read_field(j, path, "num_hidden_layers", &o.num_hidden_layers, true);
  read_field(j, path, "num_attention_heads", &o.num_attention_heads, true);
  read_field(j, path, "intermediate_size", &o.intermediate_size, true);
  read_field(j, path, "max_position_embeddings", &o.max_position_embeddings, false);
  read_field(j, path, "type_vocab_size", &o.type_vocab_size, false);
  read_field(j, path, "layer_norm_eps", &o.layer_norm_eps, false);
  read_field(j, path, "hidden_act", &o.hidden_act, false);
  if (o.num_attention_heads <= 0 || o.hidden_size % o.num_attention_heads != 0)
    throw Error(path + ": field 'num_attention_heads': " + std::to_string(o.num_attention_heads) +
                " does not divide hidden_size " + std::to_string(o.hidden_size));
  if (j.contains("position_embedding_type") && j["position_embedding_type"] != "absolute")
    throw Error(path + ": field 'position_embedding_type': only \"absolute\" is supported");
  hf_activation(torch::zeros({1}), o.hidden_act);  // rejects an unknown activation now, naming it
  return o;
}

torch::Tensor hf_activation(const torch::Tensor& x, const std::string& name) {
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  throw Error("unsupported hidden_act '" + name + "' (gelu, gelu_new, gelu_pytorch_tanh, relu)");
}

BertLayerImpl::BertLayerImpl(const BertOptions& opt) : opt_(opt) {
  const int64_t h = opt.hidden_size, m = opt.intermediate_size;
  auto attention = group(*this, "attention");
  auto self = group(*attention, "self");
  query_ = self->register_module("query", torch::nn::Linear(h, h));
  key_ = self->register_module("key", torch::nn::Linear(h, h));
  value_ = self->register_module("value", torch::nn::Linear(h, h));
  auto attn_output = group(*attention, "output");
  attn_out_ = attn_output->register_module("dense", torch::nn::Linear(h, h));
  attn_norm_ = attn_output->register_module("LayerNorm", layer_norm(h, opt.layer_norm_eps));
  auto intermediate = group(*this, "intermediate");
  inter_ = intermediate->register_module("dense", torch::nn::Linear(h, m));
  auto output = group(*this, "output");
  out_ = output->register_module("dense", torch::nn::Linear(m, h));
  out_norm_ = output->register_module("LayerNorm", layer_norm(h, opt.layer_norm_eps));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
  const int64_t b = x.size(0), t = x.size(1), heads = opt_.num_attention_heads, d = opt_.hidden_size / heads;
  auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads, d}).transpose(1, 2); };
  const torch::Tensor q = split(query_(x)), k = split(key_(x)), v = split(value_(x));
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d));
  if (additive_mask.defined()) scores = scores + additive_mask;
  const torch::Tensor ctx = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({b, t, heads * d});
  const torch::Tensor a = attn_norm_(attn_out_(ctx) + x);
  return out_norm_(out_(hf_activation(inter_(a), opt_.hidden_act)) + a);
}

BertModelImpl::BertModelImpl(const BertOptions& opt) : opt_(opt) {
  auto embeddings = group(*this, "embeddings");
  word_ = embeddings->register_module("word_embeddings", torch::nn::Embedding(opt.vocab_size, opt.hidden_size));
  position_ = embeddings->register_module("position_embeddings",
                                          torch::nn::Embedding(opt.max_position_embeddings, opt.hidden_size));
  token_type_ = embeddings->register_module("token_type_embeddings",
                                            torch::nn::Embedding(opt.type_vocab_size, opt.hidden_size));
  emb_norm_ = embeddings->register_module("LayerNorm", layer_norm(opt.hidden_size, opt.layer_norm_eps));
  auto encoder = group(*this, "encoder");
  layers_ = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < opt.num_hidden_layers; ++i) layers_->push_back(BertLayer(opt));
}

std::vector<torch::Tensor> BertModelImpl::hidden_states(const torch::Tensor& input_ids,
                                                        const torch::Tensor& attention_mask,
                                                        const torch::Tensor& token_type_ids) {
  if (input_ids.dim() != 2) throw Error("BertModel: input_ids must be [batch, tokens]");
  const int64_t b = input_ids.size(0), t = input_ids.size(1);
  if (t > opt_.max_position_embeddings)
    throw Error("BertModel: " + std::to_string(t) + " tokens exceed max_position_embeddings " +
                std::to_string(opt_.max_position_embeddings));
  const auto dev = word_->weight.device();
  const torch::Tensor ids = input_ids.to(dev, torch::kLong);
  const torch::Tensor types = token_type_ids.defined() ? token_type_ids.to(dev, torch::kLong)
                                                       : torch::zeros({b, t}, ids.options());
  const torch::Tensor pos = torch::arange(t, ids.options()).unsqueeze(0);
  std::vector<torch::Tensor> out;
  out.push_back(emb_norm_(word_(ids) + position_(pos) + token_type_(types)));
  torch::Tensor additive;
  if (attention_mask.defined()) {
    const auto& h = out.back();
    const torch::Tensor m = attention_mask.to(dev, h.scalar_type()).view({b, 1, 1, t});
    additive = (1.0 - m) * std::numeric_limits<float>::lowest();
  }
  for (const auto& layer : *layers_) out.push_back(layer->as<BertLayer>()->forward(out.back(), additive));
  return out;
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                     const torch::Tensor& token_type_ids) {
  return hidden_states(input_ids, attention_mask, token_type_ids).back();
}

BertModel load_bert_model(const std::string& dir) {
  const BertOptions opt = BertOptions::from_config_json(dir + "/config.json");
  BertModel model(opt);
  load_module_weights(*model, dir + "/model.safetensors", "bert.");
  model->eval();
  return model;
}

torch::Tensor masked_mean_pool(const torch::Tensor& hidden, const torch::Tensor& mask) {
  const torch::Tensor m = mask.to(hidden.device(), hidden.scalar_type()).unsqueeze(-1);
  return (hidden * m).sum(1) / m.sum(1).clamp_min(1.0);
}

}  // namespace spir
