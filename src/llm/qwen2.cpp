#include "llm/qwen2.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>

#include "core/error.h"
#include "core/json_file.h"
#include "features/hf_checkpoint.h"
#include "tensor/safetensors_torch.h"

namespace spir {
using hf::read_field;

namespace {

std::string shape_str(const torch::Tensor& t) { return c10::str(t.sizes()); }

const char* dtype_config_name(torch::ScalarType t) {
  switch (t) {
    case torch::kBFloat16: return "bfloat16";
    case torch::kHalf: return "float16";
    case torch::kDouble: return "float64";
    default: return "float32";
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Options

Qwen2Options Qwen2Options::from_config_json(const std::string& path) {
  const nlohmann::json j = read_json(path);
  Qwen2Options o;
  // Defaults for absent optional fields follow Hugging Face's Qwen2Config.
  o.vocab_size = 151936;
  o.num_key_value_heads = -1;
  o.rope_theta = 10000.0;
  o.max_position_embeddings = 32768;
  o.tie_word_embeddings = false;
  read_field(j, path, "vocab_size", &o.vocab_size, true);
  read_field(j, path, "hidden_size", &o.hidden_size, true);
  read_field(j, path, "intermediate_size", &o.intermediate_size, true);
  read_field(j, path, "num_hidden_layers", &o.num_hidden_layers, true);
  read_field(j, path, "num_attention_heads", &o.num_attention_heads, true);
  read_field(j, path, "num_key_value_heads", &o.num_key_value_heads, false);
  read_field(j, path, "rms_norm_eps", &o.rms_norm_eps, false);
  read_field(j, path, "rope_theta", &o.rope_theta, false);
  read_field(j, path, "max_position_embeddings", &o.max_position_embeddings, false);
  read_field(j, path, "tie_word_embeddings", &o.tie_word_embeddings, false);
  read_field(j, path, "torch_dtype", &o.torch_dtype, false);
  if (o.num_key_value_heads < 0) o.num_key_value_heads = o.num_attention_heads;
  auto bad = [&](const char* field, const std::string& msg) { throw Error(path + ": field '" + field + "': " + msg); };
  if (o.vocab_size <= 0) bad("vocab_size", "must be positive");
  if (o.hidden_size <= 0) bad("hidden_size", "must be positive");
  if (o.intermediate_size <= 0) bad("intermediate_size", "must be positive");
  if (o.num_hidden_layers < 0) bad("num_hidden_layers", "must not be negative");
  if (o.num_attention_heads <= 0 || o.hidden_size % o.num_attention_heads != 0)
    bad("num_attention_heads", std::to_string(o.num_attention_heads) + " does not divide hidden_size " +
                                   std::to_string(o.hidden_size));
  if (o.head_dim() % 2 != 0) bad("num_attention_heads", "head size " + std::to_string(o.head_dim()) + " is odd");
  if (o.num_key_value_heads <= 0 || o.num_attention_heads % o.num_key_value_heads != 0)
    bad("num_key_value_heads", std::to_string(o.num_key_value_heads) + " does not divide num_attention_heads " +
                                   std::to_string(o.num_attention_heads));
  if (!(o.rope_theta > 0)) bad("rope_theta", "must be positive");
  std::string act = "silu";
  read_field(j, path, "hidden_act", &act, false);
  if (act != "silu") bad("hidden_act", "only \"silu\" is supported, not \"" + act + "\"");
  bool sliding = false;
  read_field(j, path, "use_sliding_window", &sliding, false);
  if (sliding) bad("use_sliding_window", "sliding-window attention is not supported");
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) bad("rope_scaling", "rope scaling is not supported");
  return o;
}

nlohmann::json Qwen2Options::to_config_json() const {
  nlohmann::json j;
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["model_type"] = "qwen2";
  j["attention_dropout"] = 0.0;
  j["hidden_act"] = "silu";
  j["initializer_range"] = 0.02;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["max_window_layers"] = num_hidden_layers;
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  j["rope_scaling"] = nullptr;
  j["max_position_embeddings"] = max_position_embeddings;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["torch_dtype"] = torch_dtype;
  j["use_cache"] = false;
  j["use_sliding_window"] = false;
  return j;
}

// ---------------------------------------------------------------------------------------------------------------
// Layers

Qwen2RMSNormImpl::Qwen2RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor Qwen2RMSNormImpl::forward(const torch::Tensor& x) {
  const torch::Tensor xf = x.to(torch::kFloat32);
  const torch::Tensor var = xf.pow(2).mean(-1, /*keepdim=*/true);
  return weight * (xf * torch::rsqrt(var + eps_)).to(x.scalar_type());
}

std::pair<torch::Tensor, torch::Tensor> qwen2_rotary_cos_sin(const torch::Tensor& position_ids, int64_t head_dim,
                                                             double theta) {
  const auto fopt = torch::TensorOptions().dtype(torch::kFloat32).device(position_ids.device());
  // inv_freq[i] = 1 / theta^(2i / head_dim), computed in float32 like the reference.
  const torch::Tensor exponent = torch::arange(0, head_dim, 2, fopt.dtype(torch::kLong)).to(torch::kFloat32) /
                                 static_cast<double>(head_dim);
  const torch::Tensor inv_freq = 1.0 / torch::pow(theta, exponent);
  const torch::Tensor freqs = position_ids.to(torch::kFloat32).unsqueeze(-1) * inv_freq;  // [B, T, d/2]
  const torch::Tensor emb = torch::cat({freqs, freqs}, -1);                               // [B, T, d]
  return {emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)};
}

torch::Tensor qwen2_apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const torch::Tensor rotated = torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

Qwen2AttentionImpl::Qwen2AttentionImpl(const Qwen2Options& opt) : opt_(opt) {
  const int64_t h = opt.hidden_size, d = opt.head_dim();
  q_proj = register_module("q_proj", torch::nn::Linear(torch::nn::LinearOptions(h, opt.num_attention_heads * d)));
  k_proj = register_module("k_proj", torch::nn::Linear(torch::nn::LinearOptions(h, opt.num_key_value_heads * d)));
  v_proj = register_module("v_proj", torch::nn::Linear(torch::nn::LinearOptions(h, opt.num_key_value_heads * d)));
  o_proj = register_module("o_proj",
                           torch::nn::Linear(torch::nn::LinearOptions(opt.num_attention_heads * d, h).bias(false)));
}

torch::Tensor Qwen2AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                          const torch::Tensor& allowed, Qwen2LayerCache* cache) {
  const int64_t b = x.size(0), t = x.size(1), heads = opt_.num_attention_heads, kv = opt_.num_key_value_heads;
  const int64_t d = opt_.head_dim();
  torch::Tensor q = q_proj(x).view({b, t, heads, d}).transpose(1, 2);
  torch::Tensor k = k_proj(x).view({b, t, kv, d}).transpose(1, 2);
  torch::Tensor v = v_proj(x).view({b, t, kv, d}).transpose(1, 2);
  const torch::Tensor c = cos.to(q.scalar_type()), s = sin.to(q.scalar_type());
  q = qwen2_apply_rotary(q, c, s);
  k = qwen2_apply_rotary(k, c, s);
  if (cache) {  // earlier tokens first: key column j is token j of the whole sequence
    if (cache->key.defined()) {
      k = torch::cat({cache->key, k}, 2);
      v = torch::cat({cache->value, v}, 2);
    }
    cache->key = k;
    cache->value = v;
  }
  if (kv != heads) {  // query head i uses key/value head i / (heads / kv)
    k = k.repeat_interleave(heads / kv, 1);
    v = v.repeat_interleave(heads / kv, 1);
  }
  torch::Tensor scores = torch::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(d));
  // A finite fill keeps fully masked rows (padding queries) free of NaN: they become uniform and are ignored.
  scores = scores.masked_fill(allowed.logical_not(), std::numeric_limits<float>::lowest());
  const torch::Tensor probs = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
  const torch::Tensor ctx = torch::matmul(probs, v).transpose(1, 2).reshape({b, t, heads * d});
  return o_proj(ctx);
}

Qwen2MLPImpl::Qwen2MLPImpl(const Qwen2Options& opt) {
  const int64_t h = opt.hidden_size, m = opt.intermediate_size;
  gate_proj = register_module("gate_proj", torch::nn::Linear(torch::nn::LinearOptions(h, m).bias(false)));
  up_proj = register_module("up_proj", torch::nn::Linear(torch::nn::LinearOptions(h, m).bias(false)));
  down_proj = register_module("down_proj", torch::nn::Linear(torch::nn::LinearOptions(m, h).bias(false)));
}

torch::Tensor Qwen2MLPImpl::forward(const torch::Tensor& x) {
  return down_proj(torch::silu(gate_proj(x)) * up_proj(x));
}

Qwen2DecoderLayerImpl::Qwen2DecoderLayerImpl(const Qwen2Options& opt) {
  self_attn = register_module("self_attn", Qwen2Attention(opt));
  mlp = register_module("mlp", Qwen2MLP(opt));
  input_layernorm = register_module("input_layernorm", Qwen2RMSNorm(opt.hidden_size, opt.rms_norm_eps));
  post_attention_layernorm =
      register_module("post_attention_layernorm", Qwen2RMSNorm(opt.hidden_size, opt.rms_norm_eps));
}

torch::Tensor Qwen2DecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                             const torch::Tensor& sin, const torch::Tensor& allowed,
                                             Qwen2LayerCache* cache) {
  const torch::Tensor h = x + self_attn(input_layernorm(x), cos, sin, allowed, cache);
  return h + mlp(post_attention_layernorm(h));
}

// ---------------------------------------------------------------------------------------------------------------
// Backbone

Qwen2ModelImpl::Qwen2ModelImpl(const Qwen2Options& opt) : opt_(opt) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(opt.vocab_size, opt.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < opt.num_hidden_layers; ++i) layers->push_back(Qwen2DecoderLayer(opt));
  norm = register_module("norm", Qwen2RMSNorm(opt.hidden_size, opt.rms_norm_eps));
}

Qwen2Output Qwen2ModelImpl::forward(const torch::Tensor& inputs_embeds, const torch::Tensor& attention_mask,
                                    const torch::Tensor& position_ids, bool output_hidden_states,
                                    Qwen2KVCache* cache) {
  if (inputs_embeds.dim() != 3 || inputs_embeds.size(2) != opt_.hidden_size)
    throw Error("Qwen2: inputs_embeds must be [batch, tokens, " + std::to_string(opt_.hidden_size) + "], got " +
                shape_str(inputs_embeds));
  const int64_t b = inputs_embeds.size(0), t = inputs_embeds.size(1);
  const int64_t past = cache ? cache->length() : 0, total = past + t;
  if (cache && past > 0 && cache->layers[0].key.size(0) != b)
    throw Error("Qwen2: the cache holds " + std::to_string(cache->layers[0].key.size(0)) + " rows, the input " +
                std::to_string(b));
  const auto dev = inputs_embeds.device();
  const auto lopt = torch::TensorOptions().dtype(torch::kLong).device(dev);
  torch::Tensor pos;
  if (position_ids.defined()) {
    if (position_ids.dim() != 2 || position_ids.size(1) != t || (position_ids.size(0) != b && position_ids.size(0) != 1))
      throw Error("Qwen2: position_ids shape " + shape_str(position_ids) + " does not match the input [" +
                  std::to_string(b) + ", " + std::to_string(t) + "]");
    pos = position_ids.to(lopt).expand({b, t});
  } else {
    pos = torch::arange(past, total, lopt).unsqueeze(0).expand({b, t});
  }
  auto [cos, sin] = qwen2_rotary_cos_sin(pos, opt_.head_dim(), opt_.rope_theta);
  // New token i (token past + i of the sequence) may see tokens 0..past+i.
  torch::Tensor allowed = torch::ones({t, total}, lopt.dtype(torch::kBool)).tril(past).view({1, 1, t, total});
  if (attention_mask.defined()) {
    if (attention_mask.dim() != 2 || attention_mask.size(0) != b || attention_mask.size(1) != total)
      throw Error("Qwen2: attention_mask shape " + shape_str(attention_mask) + " does not match the " +
                  (cache ? "cached and new tokens [" : "input [") + std::to_string(b) + ", " + std::to_string(total) +
                  "]");
    allowed = allowed.logical_and(attention_mask.to(dev).ne(0).view({b, 1, 1, total}));
  }
  if (cache && cache->layers.empty()) cache->layers.resize(layers->size());
  Qwen2Output out;
  torch::Tensor h = inputs_embeds;
  if (output_hidden_states) out.hidden_states.push_back(h);
  const size_t n = layers->size();
  for (size_t i = 0; i < n; ++i) {
    h = (*layers)[i]->as<Qwen2DecoderLayer>()->forward(h, cos, sin, allowed, cache ? &cache->layers[i] : nullptr);
    if (output_hidden_states) {
      out.layer_outputs.push_back(h);
      if (i + 1 < n) out.hidden_states.push_back(h);
    }
  }
  out.last_hidden_state = norm(h);
  if (output_hidden_states) out.hidden_states.push_back(out.last_hidden_state);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Causal LM

Qwen2ForCausalLMImpl::Qwen2ForCausalLMImpl(const Qwen2Options& opt) : opt_(opt) {
  model = register_module("model", Qwen2Model(opt));
  if (!opt.tie_word_embeddings)
    lm_head =
        register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(opt.hidden_size, opt.vocab_size).bias(false)));
  // Hugging Face's initialisation: normal(0, 0.02) weights, zero biases (norm scales stay 1).
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const std::string& name = p.key();
    if (name.find("norm.weight") != std::string::npos) continue;
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0)
      p.value().zero_();
    else
      p.value().normal_(0.0, 0.02);
  }
}

torch::Tensor Qwen2ForCausalLMImpl::lm_head_weight() const {
  return lm_head ? lm_head->weight : model->embed_tokens->weight;
}

torch::Tensor Qwen2ForCausalLMImpl::embed(const torch::Tensor& input_ids) {
  if (!input_ids.defined() || input_ids.dim() != 2)
    throw Error("Qwen2: input_ids must be [batch, tokens]" +
                (input_ids.defined() ? ", got " + shape_str(input_ids) : std::string()));
  const torch::Tensor& w = model->embed_tokens->weight;
  const torch::Tensor ids = input_ids.to(w.device(), torch::kLong);
  if (ids.numel() > 0) {
    const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
    if (lo < 0 || hi >= w.size(0))
      throw Error("Qwen2: input_ids: token id " + std::to_string(lo < 0 ? lo : hi) + " is outside the vocabulary [0, " +
                  std::to_string(w.size(0)) + ")");
  }
  return model->embed_tokens(ids);
}

Qwen2Output Qwen2ForCausalLMImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                          const torch::Tensor& position_ids, const torch::Tensor& inputs_embeds,
                                          bool output_hidden_states, Qwen2KVCache* cache) {
  const torch::Tensor& w = model->embed_tokens->weight;
  const torch::Tensor emb = inputs_embeds.defined() ? inputs_embeds.to(w.device(), w.scalar_type()) : embed(input_ids);
  Qwen2Output out = model->forward(emb, attention_mask, position_ids, output_hidden_states, cache);
  out.logits = torch::linear(out.last_hidden_state, lm_head_weight()).to(torch::kFloat32);
  return out;
}

void Qwen2ForCausalLMImpl::resize_token_embeddings(int64_t n) {
  if (n <= 0) throw Error("Qwen2: resize_token_embeddings: size " + std::to_string(n) + " must be positive");
  torch::NoGradGuard no_grad;
  auto resize = [n](torch::Tensor& w) {
    const int64_t keep = std::min<int64_t>(n, w.size(0));
    torch::Tensor nw = w.mean(0, /*keepdim=*/true).expand({n, w.size(1)}).clone();
    nw.slice(0, 0, keep).copy_(w.slice(0, 0, keep));
    w.set_data(nw);  // same parameter object: registrations (and tying) stay intact
  };
  resize(model->embed_tokens->weight);
  model->embed_tokens->options.num_embeddings(n);
  if (lm_head) {
    resize(lm_head->weight);
    lm_head->options.out_features(n);
  }
  opt_.vocab_size = n;
}

torch::Tensor Qwen2ForCausalLMImpl::generate(const torch::Tensor& ids, int64_t max_new_tokens, int64_t eos_id) {
  if (!ids.defined() || ids.dim() != 2 || ids.size(1) == 0)
    throw Error("Qwen2: generate: ids must be a non-empty [batch, tokens] tensor");
  torch::NoGradGuard no_grad;
  const auto dev = model->embed_tokens->weight.device();
  torch::Tensor seq = ids.to(dev, torch::kLong);
  const int64_t b = seq.size(0);
  torch::Tensor done = torch::zeros({b}, torch::TensorOptions().dtype(torch::kBool).device(dev));
  std::vector<torch::Tensor> produced;
  Qwen2KVCache cache;
  for (int64_t step = 0; step < max_new_tokens; ++step) {
    // The first pass reads the prompt; each later one only the token just produced.
    const torch::Tensor in = step == 0 ? seq : produced.back();
    const torch::Tensor h = model->forward(embed(in), {}, {}, false, &cache).last_hidden_state.select(1, -1);
    torch::Tensor next = torch::linear(h, lm_head_weight()).argmax(-1);  // [B]
    if (eos_id >= 0) {
      next = torch::where(done, torch::full_like(next, eos_id), next);
      done = done.logical_or(next.eq(eos_id));
    }
    produced.push_back(next.unsqueeze(1));
    if (eos_id >= 0 && done.all().item<bool>()) break;
  }
  if (produced.empty()) return torch::zeros({b, 0}, seq.options());
  return torch::cat(produced, 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Loading and saving

Qwen2ForCausalLM load_qwen2(const std::string& dir, torch::Dtype dtype) {
  namespace fs = std::filesystem;
  const Qwen2Options opt = Qwen2Options::from_config_json(dir + "/config.json");
  // Where each tensor lives: one file, or the shards of an index.
  std::map<std::string, std::shared_ptr<const SafetensorsFile>> where;
  std::string source;  // the file named in errors
  const std::string single = dir + "/model.safetensors", index = dir + "/model.safetensors.index.json";
  if (fs::exists(single)) {
    source = single;
    auto file = SafetensorsFile::open(single);
    for (const auto& name : file->names()) where[name] = file;
  } else if (fs::exists(index)) {
    source = index;
    const nlohmann::json j = read_json(index);
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      throw Error(index + ": field 'weight_map': missing or not an object");
    std::map<std::string, std::shared_ptr<const SafetensorsFile>> shards;
    for (const auto& item : j["weight_map"].items()) {
      if (!item.value().is_string())
        throw Error(index + ": field 'weight_map." + item.key() + "': not a file name");
      const std::string shard = item.value().get<std::string>();
      auto& file = shards[shard];
      if (!file) file = SafetensorsFile::open(dir + "/" + shard);
      if (!file->contains(item.key()))
        throw Error(dir + "/" + shard + ": tensor '" + item.key() + "' is missing (listed in " + index + ")");
      where[item.key()] = file;
    }
  } else {
    throw Error(dir + ": no model.safetensors or model.safetensors.index.json");
  }
  Qwen2ForCausalLM model(opt);
  {
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_parameters(/*recurse=*/true)) {
      const std::string& key = item.key();
      auto it = where.find(key);
      if (it == where.end()) throw Error(source + ": tensor '" + key + "' is missing from the checkpoint");
      const torch::Tensor src = safetensors_tensor(it->second, key);
      torch::Tensor& dst = item.value();
      if (src.sizes() != dst.sizes())
        throw Error(it->second->path() + ": tensor '" + key + "': shape " + shape_str(src) +
                    " but the config implies " + shape_str(dst));
      dst.copy_(src.to(torch::kFloat32));
    }
  }
  if (dtype != torch::kFloat32) model->to(dtype);
  model->eval();
  return model;
}

void save_qwen2(const Qwen2ForCausalLM& model, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : model->named_parameters(/*recurse=*/true)) tensors[item.key()] = item.value().detach();
  Qwen2Options opt = model->options();
  opt.torch_dtype = dtype_config_name(model->model->embed_tokens->weight.scalar_type());
  write_json(dir + "/config.json", opt.to_config_json());
  save_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
}

}  // namespace spir
