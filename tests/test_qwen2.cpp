// The Qwen2 decoder against the reference fixtures in ../shared/fixtures/qwen2, plus checkpoint round trips (sharded,
// untied, bf16), causal masking, vocabulary resizing, a naive single-layer reference and the key/value cache.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_file.h"
#include "llm/generate.h"
#include "llm/qwen2.h"
#include "tensor/safetensors_torch.h"
#include "test_util.h"

namespace fs = std::filesystem;
using spir::Qwen2ForCausalLM;
using spir::Qwen2Options;
using spir::testing::ScratchDir;

namespace {

const std::string kModelDir = std::string(SPIR_SHARED_DIR) + "/fixtures/qwen2/tiny-qwen2-fp32-tied";
const std::string kGoldenDir = std::string(SPIR_SHARED_DIR) + "/fixtures/qwen2/golden";

#define SKIP_WITHOUT_FIXTURES()                                                                       \
  if (!fs::exists(kModelDir + "/config.json") || !fs::exists(kGoldenDir + "/inputs.json"))            \
  GTEST_SKIP() << "Qwen2 fixtures not found under " << SPIR_SHARED_DIR "/fixtures/qwen2"

std::map<std::string, torch::Tensor> golden() {
  return spir::load_safetensors(kGoldenDir + "/tiny-qwen2-fp32-tied.safetensors", /*to_float32=*/false);
}

const torch::Tensor& gold(const std::map<std::string, torch::Tensor>& g, const std::string& key) {
  auto it = g.find(key);
  if (it == g.end()) throw std::runtime_error("golden tensor missing: " + key);
  return it->second;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e30;
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

std::vector<int64_t> to_vec(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kLong).contiguous().view(-1);
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// A small random configuration for round-trip tests (GQA: 4 query heads, 2 key/value heads).
Qwen2Options tiny_options(bool tied) {
  Qwen2Options o;
  o.vocab_size = 40;
  o.hidden_size = 32;
  o.intermediate_size = 48;
  o.num_hidden_layers = 2;
  o.num_attention_heads = 4;
  o.num_key_value_heads = 2;
  o.rms_norm_eps = 1e-6;
  o.rope_theta = 10000.0;
  o.max_position_embeddings = 64;
  o.tie_word_embeddings = tied;
  return o;
}

// A model with weights large enough that attention is far from uniform; norm scales randomised too.
Qwen2ForCausalLM random_model(const Qwen2Options& o, uint64_t seed) {
  torch::manual_seed(seed);
  Qwen2ForCausalLM m(o);
  torch::NoGradGuard no_grad;
  for (auto& p : m->named_parameters()) {
    if (p.key().find("norm") != std::string::npos)
      p.value().uniform_(0.5, 1.5);
    else
      p.value().normal_(0.0, 0.3);
  }
  m->eval();
  return m;
}

torch::Tensor random_ids(int64_t b, int64_t t, int64_t vocab, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(vocab, {b, t}, torch::kLong);
}

}  // namespace

// Each golden sequence gives the reference logits, final-normed state, hidden states and layer outputs within 1e-4.
TEST(Qwen2Fixture, MatchesGoldenSequences) {
  SKIP_WITHOUT_FIXTURES();
  auto model = spir::load_qwen2(kModelDir);
  const auto g = golden();
  torch::NoGradGuard no_grad;
  for (const std::string seq : {"seq1", "seq7", "seq33"}) {
    const torch::Tensor ids = gold(g, seq + ".input_ids").to(torch::kLong).view({1, -1});
    const auto out = model->forward(ids, {}, {}, {}, /*output_hidden_states=*/true);
    const double d_logits = max_abs_diff(out.logits[0], gold(g, seq + ".logits"));
    EXPECT_LT(d_logits, 1e-4) << seq;
    EXPECT_LT(max_abs_diff(out.last_hidden_state[0], gold(g, seq + ".last_hidden_state")), 1e-4) << seq;
    ASSERT_EQ(out.hidden_states.size(), 3u);
    ASSERT_EQ(out.layer_outputs.size(), 2u);
    for (int i = 0; i < 3; ++i)
      EXPECT_LT(max_abs_diff(out.hidden_states[i][0], gold(g, seq + ".hidden_states." + std::to_string(i))), 1e-4)
          << seq << " hidden_states." << i;
    for (int i = 0; i < 2; ++i)
      EXPECT_LT(max_abs_diff(out.layer_outputs[i][0], gold(g, seq + ".layer_outputs." + std::to_string(i))), 1e-4)
          << seq << " layer_outputs." << i;
    std::cout << "[ qwen2 ] " << seq << " logits max abs diff " << d_logits << "\n";
  }
}

// Right-padded and left-padded batches (left with position_ids) give the reference logits at every real token.
TEST(Qwen2Fixture, PaddedBatchesMatchAtRealTokens) {
  SKIP_WITHOUT_FIXTURES();
  auto model = spir::load_qwen2(kModelDir);
  const auto g = golden();
  torch::NoGradGuard no_grad;
  for (const std::string name : {"right_padded", "left_padded"}) {
    const torch::Tensor ids = gold(g, name + ".input_ids").to(torch::kLong);
    const torch::Tensor mask = gold(g, name + ".attention_mask").to(torch::kLong);
    torch::Tensor pos;
    if (name == "left_padded") pos = gold(g, name + ".position_ids").to(torch::kLong);
    const auto out = model->forward(ids, mask, pos);
    const torch::Tensor real = mask.ne(0);
    const torch::Tensor ours = out.logits.index({real}), ref = gold(g, name + ".logits").index({real});
    const double d = max_abs_diff(ours, ref);
    EXPECT_LT(d, 1e-4) << name;
    EXPECT_EQ(ours.size(0), real.sum().item<int64_t>());
    std::cout << "[ qwen2 ] " << name << " real-token logits max abs diff " << d << "\n";
  }
}

// Greedy decoding after seq7 reproduces the 12 reference tokens exactly.
TEST(Qwen2Fixture, GreedyIdsMatchExactly) {
  SKIP_WITHOUT_FIXTURES();
  auto model = spir::load_qwen2(kModelDir);
  const auto g = golden();
  const torch::Tensor ids = gold(g, "seq7.input_ids").to(torch::kLong).view({1, -1});
  const std::vector<int64_t> want = to_vec(gold(g, "seq7.greedy_ids"));
  EXPECT_EQ(to_vec(model->generate(ids, static_cast<int64_t>(want.size()))), want);
}

// The chat-prompt ids give the reference last-position logits and greedy ids (one of which has no token).
TEST(Qwen2Fixture, EndToEndPromptLogitsAndGreedyIds) {
  SKIP_WITHOUT_FIXTURES();
  auto model = spir::load_qwen2(kModelDir);
  const auto g = golden();
  const nlohmann::json inputs = spir::read_json(kGoldenDir + "/inputs.json");
  const torch::Tensor ids = gold(g, "e2e.input_ids").to(torch::kLong).view({1, -1});
  EXPECT_EQ(to_vec(ids), inputs["e2e"]["input_ids"].get<std::vector<int64_t>>());
  torch::Tensor last;
  {
    torch::NoGradGuard no_grad;
    last = model->forward(ids).logits[0][-1];
  }
  const double d = max_abs_diff(last, gold(g, "e2e.logits_last").view(-1));
  EXPECT_LT(d, 1e-4);
  EXPECT_EQ(last.argmax().item<int64_t>(), inputs["e2e"]["argmax_last"].get<int64_t>());
  const std::vector<int64_t> want = to_vec(gold(g, "e2e.greedy_ids"));
  EXPECT_EQ(want, inputs["e2e"]["greedy_ids"].get<std::vector<int64_t>>());
  EXPECT_EQ(to_vec(model->generate(ids, static_cast<int64_t>(want.size()))), want);
  std::cout << "[ qwen2 ] e2e last logits max abs diff " << d << "\n";
}

// Passing the embedding rows as inputs_embeds gives the same logits as passing the ids.
TEST(Qwen2Fixture, InputsEmbedsEqualIds) {
  SKIP_WITHOUT_FIXTURES();
  auto model = spir::load_qwen2(kModelDir);
  const auto g = golden();
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = gold(g, "seq33.input_ids").to(torch::kLong).view({1, -1});
  const torch::Tensor a = model->forward(ids).logits;
  const torch::Tensor b = model->forward({}, {}, {}, model->embed(ids)).logits;
  EXPECT_TRUE(torch::equal(a, b));
}

// The same tensors saved as one file or as an index with two shards load into models with bitwise-equal logits.
TEST(Qwen2Checkpoint, ShardedEqualsUnsharded) {
  ScratchDir tmp("qwen2_shard");
  auto m = random_model(tiny_options(true), 1);
  const std::string one = tmp.path("one"), two = tmp.path("two");
  spir::save_qwen2(m, one);
  fs::create_directories(two);
  fs::copy_file(one + "/config.json", two + "/config.json");
  const auto tensors = spir::load_safetensors(one + "/model.safetensors");
  EXPECT_EQ(tensors.count("lm_head.weight"), 0u);  // tied: the head is not stored
  std::map<std::string, torch::Tensor> a, b;
  nlohmann::json index;
  index["metadata"]["total_size"] = 0;
  size_t i = 0;
  for (const auto& [name, t] : tensors) {
    const bool first = (i++ % 2) == 0;
    (first ? a : b)[name] = t;
    index["weight_map"][name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  spir::save_safetensors(two + "/model-00001-of-00002.safetensors", a);
  spir::save_safetensors(two + "/model-00002-of-00002.safetensors", b);
  spir::write_json(two + "/model.safetensors.index.json", index);
  auto m1 = spir::load_qwen2(one), m2 = spir::load_qwen2(two);
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = random_ids(2, 9, 40, 2);
  const torch::Tensor l1 = m1->forward(ids).logits, l2 = m2->forward(ids).logits;
  EXPECT_TRUE(torch::equal(l1, l2));
  EXPECT_LT(max_abs_diff(l1, m->forward(ids).logits), 1e-5);
  // A shard that lacks a tensor the index names is an error naming the shard and the tensor.
  spir::save_safetensors(two + "/model-00002-of-00002.safetensors", {});
  try {
    spir::load_qwen2(two);
    ADD_FAILURE() << "expected spir::Error";
  } catch (const spir::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00002-of-00002.safetensors"), std::string::npos) << e.what();
  }
}

// An untied checkpoint stores lm_head.weight and loads it; without it, loading names the missing tensor.
TEST(Qwen2Checkpoint, UntiedHeadRoundTrips) {
  ScratchDir tmp("qwen2_untied");
  auto m = random_model(tiny_options(false), 3);
  spir::save_qwen2(m, tmp.path("m"));
  auto tensors = spir::load_safetensors(tmp.path("m/model.safetensors"));
  ASSERT_EQ(tensors.count("lm_head.weight"), 1u);
  EXPECT_FALSE(torch::equal(tensors["lm_head.weight"], tensors["model.embed_tokens.weight"]));
  EXPECT_EQ(spir::read_json(tmp.path("m/config.json"))["tie_word_embeddings"], false);
  auto loaded = spir::load_qwen2(tmp.path("m"));
  ASSERT_TRUE(loaded->lm_head);
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = random_ids(1, 7, 40, 4);
  EXPECT_TRUE(torch::equal(loaded->forward(ids).logits, m->forward(ids).logits));
  std::map<std::string, torch::Tensor> without;
  for (const auto& [k, v] : tensors)
    if (k != "lm_head.weight") without[k] = v.clone();
  spir::save_safetensors(tmp.path("m/model.safetensors"), without);
  try {
    spir::load_qwen2(tmp.path("m"));
    ADD_FAILURE() << "expected spir::Error";
  } catch (const spir::Error& e) {
    EXPECT_NE(std::string(e.what()).find("lm_head.weight"), std::string::npos) << e.what();
  }
}

// bf16 weights load converted to float32, equal to the rounded originals, and give the same logits as those.
TEST(Qwen2Checkpoint, Bf16WeightsLoadAsFloat32) {
  ScratchDir tmp("qwen2_bf16");
  auto m = random_model(tiny_options(true), 5);
  m->to(torch::kBFloat16);
  spir::save_qwen2(m, tmp.path("m"));
  EXPECT_EQ(spir::read_json(tmp.path("m/config.json"))["torch_dtype"], "bfloat16");
  auto file = spir::SafetensorsFile::open(tmp.path("m/model.safetensors"));
  EXPECT_EQ(file->get("model.norm.weight").dtype, spir::SafeDType::BF16);
  auto loaded = spir::load_qwen2(tmp.path("m"));
  m->to(torch::kFloat32);  // bf16 → f32 is exact, so these are the rounded weights
  for (const auto& p : loaded->named_parameters()) EXPECT_EQ(p.value().scalar_type(), torch::kFloat32) << p.key();
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = random_ids(1, 6, 40, 6);
  EXPECT_TRUE(torch::equal(loaded->forward(ids).logits, m->forward(ids).logits));
}

// Changing a later token leaves every earlier position's logits unchanged (and changes the last one).
TEST(Qwen2Model, CausalMaskHidesLaterTokens) {
  auto m = random_model(tiny_options(true), 7);
  torch::NoGradGuard no_grad;
  torch::Tensor ids = random_ids(1, 10, 40, 8);
  const torch::Tensor a = m->forward(ids).logits;
  ids[0][9] = (ids[0][9].item<int64_t>() + 1) % 40;
  ids[0][6] = (ids[0][6].item<int64_t>() + 3) % 40;
  const torch::Tensor b = m->forward(ids).logits;
  EXPECT_LT(max_abs_diff(a.slice(1, 0, 6), b.slice(1, 0, 6)), 1e-6);
  EXPECT_GT(max_abs_diff(a.slice(1, 6), b.slice(1, 6)), 1e-3);
}

// Resizing keeps the old embedding rows, fills new rows with the mean row, keeps the head tied and widens logits.
TEST(Qwen2Model, ResizeTokenEmbeddingsKeepsRowsAndTying) {
  auto m = random_model(tiny_options(true), 9);
  const torch::Tensor old = m->model->embed_tokens->weight.detach().clone();
  const int64_t params_before = static_cast<int64_t>(m->parameters().size());
  m->resize_token_embeddings(45);
  const torch::Tensor& w = m->model->embed_tokens->weight;
  ASSERT_EQ(w.size(0), 45);
  EXPECT_TRUE(torch::equal(w.slice(0, 0, 40), old));
  for (int64_t r = 40; r < 45; ++r) EXPECT_LT(max_abs_diff(w[r], old.mean(0)), 1e-6);
  EXPECT_EQ(m->lm_head_weight().data_ptr(), w.data_ptr());
  EXPECT_EQ(static_cast<int64_t>(m->parameters().size()), params_before);
  EXPECT_EQ(m->options().vocab_size, 45);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(m->forward(torch::tensor({{1, 44}}, torch::kLong)).logits.size(2), 45);
  // Untied: the head grows too, old rows kept.
  auto u = random_model(tiny_options(false), 10);
  const torch::Tensor head = u->lm_head->weight.detach().clone();
  u->resize_token_embeddings(42);
  EXPECT_TRUE(torch::equal(u->lm_head->weight.slice(0, 0, 40), head));
  EXPECT_EQ(u->forward(torch::tensor({{41}}, torch::kLong)).logits.size(2), 42);
}

// One decoder layer (GQA, rotary from explicit position_ids) equals a scalar-loop reference written from the spec.
TEST(Qwen2Model, OneLayerMatchesNaiveReference) {
  Qwen2Options o = tiny_options(true);
  o.num_hidden_layers = 1;
  o.rope_theta = 100.0;  // faster rotation, so positions matter
  auto m = random_model(o, 11);
  const int64_t t = 6, h = o.hidden_size, nh = o.num_attention_heads, nkv = o.num_key_value_heads, d = h / nh;
  const torch::Tensor ids = random_ids(1, t, o.vocab_size, 12);
  const torch::Tensor pos = torch::arange(3, 3 + t, torch::kLong).view({1, t});
  torch::Tensor ours;
  {
    torch::NoGradGuard no_grad;
    ours = m->forward(ids, {}, pos, {}, true).layer_outputs.at(0)[0].to(torch::kFloat64);
  }
  auto P = [&](const std::string& name) { return m->named_parameters()[name].detach().to(torch::kFloat64); };
  const std::string L = "model.layers.0.";
  const torch::Tensor x = P("model.embed_tokens.weight").index_select(0, ids[0]);  // [t, h]
  auto rms = [&](const torch::Tensor& v, const torch::Tensor& w) {
    torch::Tensor out = torch::empty_like(v);
    for (int64_t i = 0; i < v.size(0); ++i) {
      double ss = 0;
      for (int64_t j = 0; j < v.size(1); ++j) ss += v[i][j].item<double>() * v[i][j].item<double>();
      const double inv = 1.0 / std::sqrt(ss / v.size(1) + o.rms_norm_eps);
      for (int64_t j = 0; j < v.size(1); ++j) out[i][j] = v[i][j].item<double>() * inv * w[j].item<double>();
    }
    return out;
  };
  auto lin = [](const torch::Tensor& v, const torch::Tensor& w) { return torch::matmul(v, w.t()); };
  const torch::Tensor a = rms(x, P(L + "input_layernorm.weight"));
  torch::Tensor q = lin(a, P(L + "self_attn.q_proj.weight")) + P(L + "self_attn.q_proj.bias");
  torch::Tensor k = lin(a, P(L + "self_attn.k_proj.weight")) + P(L + "self_attn.k_proj.bias");
  const torch::Tensor v = lin(a, P(L + "self_attn.v_proj.weight")) + P(L + "self_attn.v_proj.bias");
  // Rotary: within each head, element i pairs with i + d/2 and turns by angle pos * theta^(-2i/d).
  auto rotate = [&](torch::Tensor y, int64_t heads) {
    torch::Tensor out = y.clone();
    for (int64_t s = 0; s < t; ++s)
      for (int64_t hd = 0; hd < heads; ++hd)
        for (int64_t i = 0; i < d / 2; ++i) {
          const double ang = (3 + s) * std::pow(o.rope_theta, -2.0 * i / d);
          const double x1 = y[s][hd * d + i].item<double>(), x2 = y[s][hd * d + i + d / 2].item<double>();
          out[s][hd * d + i] = x1 * std::cos(ang) - x2 * std::sin(ang);
          out[s][hd * d + i + d / 2] = x2 * std::cos(ang) + x1 * std::sin(ang);
        }
    return out;
  };
  q = rotate(q, nh);
  k = rotate(k, nkv);
  torch::Tensor ctx = torch::zeros({t, h}, torch::kFloat64);
  for (int64_t hd = 0; hd < nh; ++hd) {
    const int64_t kh = hd / (nh / nkv);
    for (int64_t i = 0; i < t; ++i) {
      std::vector<double> s(i + 1);
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0;
        for (int64_t e = 0; e < d; ++e) dot += q[i][hd * d + e].item<double>() * k[j][kh * d + e].item<double>();
        s[j] = dot / std::sqrt(static_cast<double>(d));
        mx = std::max(mx, s[j]);
      }
      for (auto& z : s) sum += (z = std::exp(z - mx));
      for (int64_t e = 0; e < d; ++e) {
        double acc = 0;
        for (int64_t j = 0; j <= i; ++j) acc += s[j] / sum * v[j][kh * d + e].item<double>();
        ctx[i][hd * d + e] = acc;
      }
    }
  }
  const torch::Tensor h1 = x + lin(ctx, P(L + "self_attn.o_proj.weight"));
  const torch::Tensor b = rms(h1, P(L + "post_attention_layernorm.weight"));
  const torch::Tensor g = lin(b, P(L + "mlp.gate_proj.weight")), u = lin(b, P(L + "mlp.up_proj.weight"));
  const torch::Tensor ref = h1 + lin(g / (1 + torch::exp(-g)) * u, P(L + "mlp.down_proj.weight"));
  const double diff = max_abs_diff(ours, ref);
  EXPECT_LT(diff / (1.0 + ref.abs().max().item<double>()), 1e-5) << "max abs diff " << diff;
  std::cout << "[ qwen2 ] naive one-layer reference max abs diff " << diff << " (max |ref| "
            << ref.abs().max().item<double>() << ")\n";
}

// A config that omits a required field, or asks for an unsupported feature, is an error naming file and field.
TEST(Qwen2Checkpoint, BadConfigNamesField) {
  ScratchDir tmp("qwen2_cfg");
  nlohmann::json j = tiny_options(true).to_config_json();
  j.erase("hidden_size");
  spir::write_json(tmp.path("config.json"), j);
  try {
    Qwen2Options::from_config_json(tmp.path("config.json"));
    ADD_FAILURE() << "expected spir::Error";
  } catch (const spir::Error& e) {
    EXPECT_NE(std::string(e.what()).find("hidden_size"), std::string::npos) << e.what();
  }
  j = tiny_options(true).to_config_json();
  j["num_key_value_heads"] = 3;
  spir::write_json(tmp.path("config.json"), j);
  EXPECT_THROW(Qwen2Options::from_config_json(tmp.path("config.json")), spir::Error);
}

namespace {

// Plain greedy decoding of one prompt without a cache: the whole sequence is read again for every new token.
std::vector<int32_t> uncached_greedy(Qwen2ForCausalLM& m, const std::vector<int32_t>& prompt, int32_t eos, int64_t max_new) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> seq(prompt.begin(), prompt.end());
  std::vector<int32_t> out;
  while (static_cast<int64_t>(out.size()) < max_new) {
    const torch::Tensor ids = torch::tensor(seq, torch::kLong).view({1, -1});
    const int32_t next = static_cast<int32_t>(m->forward(ids).logits[0][-1].argmax().item<int64_t>());
    out.push_back(next);
    seq.push_back(next);
    if (next == eos) break;
  }
  return out;
}

}  // namespace

// A left-padded batch read in three pieces through the cache (mask covering cached + new tokens, explicit
// positions) gives the one-shot logits at every real token.
TEST(Qwen2Cache, PiecewiseForwardEqualsOneShot) {
  auto m = random_model(tiny_options(false), 21);
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = random_ids(2, 9, 40, 22);
  torch::Tensor mask = torch::ones({2, 9}, torch::kLong);
  mask[1].slice(0, 0, 3).fill_(0);  // row 1: three padding tokens on the left
  const torch::Tensor pos = (mask.cumsum(1) - 1).clamp_min(0);
  const torch::Tensor whole = m->forward(ids, mask, pos).logits;
  spir::Qwen2KVCache cache;
  std::vector<torch::Tensor> pieces;
  for (auto [lo, hi] : {std::pair<int64_t, int64_t>{0, 5}, {5, 6}, {6, 9}}) {
    pieces.push_back(m->forward(ids.slice(1, lo, hi), mask.slice(1, 0, hi), pos.slice(1, lo, hi), {}, false, &cache).logits);
    EXPECT_EQ(cache.length(), hi);
  }
  const torch::Tensor joined = torch::cat(pieces, 1);
  const torch::Tensor real = mask.ne(0);
  EXPECT_LT(max_abs_diff(joined.index({real}), whole.index({real})), 1e-5);
}

// Without padding, default positions continue after the cached tokens: two pieces equal one pass.
TEST(Qwen2Cache, DefaultPositionsContinueTheCache) {
  auto m = random_model(tiny_options(true), 23);
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = random_ids(1, 8, 40, 24);
  const torch::Tensor whole = m->forward(ids).logits;
  spir::Qwen2KVCache cache;
  const torch::Tensor a = m->forward(ids.slice(1, 0, 6), {}, {}, {}, false, &cache).logits;
  const torch::Tensor b = m->forward(ids.slice(1, 6), {}, {}, {}, false, &cache).logits;
  EXPECT_LT(max_abs_diff(torch::cat({a, b}, 1), whole), 1e-5);
}

// generate() (cached) produces exactly the ids of plain uncached greedy decoding.
TEST(Qwen2Cache, CachedGenerateEqualsUncachedGreedy) {
  auto m = random_model(tiny_options(true), 25);
  const std::vector<int32_t> prompt = {3, 17, 5, 29, 11};
  const std::vector<int32_t> want = uncached_greedy(m, prompt, -1, 12);
  const torch::Tensor got = m->generate(torch::tensor(std::vector<int64_t>(prompt.begin(), prompt.end())).view({1, -1}), 12);
  ASSERT_EQ(got.size(1), 12);
  for (int64_t j = 0; j < 12; ++j) EXPECT_EQ(got[0][j].item<int64_t>(), want[static_cast<size_t>(j)]) << "token " << j;
}

// Batched greedy_generate of prompts of different lengths, with a draft that one row follows fully, one row
// leaves early and one stops at eos, equals decoding each prompt alone without a cache.
TEST(Qwen2Cache, BatchedDraftGenerationEqualsEachPromptAlone) {
  auto m = random_model(tiny_options(true), 27);
  const std::vector<std::vector<int32_t>> prompts = {{4, 9, 33}, {1, 2, 3, 4, 5, 6, 7}, {12, 30, 8, 19, 25}, {38}};
  const int64_t max_new = 10;
  // The draft: the first 4 greedy tokens of prompt 0, so row 0 keeps it whole; eos: row 2's 3rd greedy token.
  const std::vector<int32_t> ref0 = uncached_greedy(m, prompts[0], -1, max_new);
  const std::vector<int32_t> draft(ref0.begin(), ref0.begin() + 4);
  const int32_t eos = uncached_greedy(m, prompts[2], -1, max_new)[2];
  const auto got = spir::greedy_generate(m, prompts, draft, eos, max_new);
  ASSERT_EQ(got.size(), prompts.size());
  int stopped_at_eos = 0;
  for (size_t r = 0; r < prompts.size(); ++r) {
    const std::vector<int32_t> want = uncached_greedy(m, prompts[r], eos, max_new);
    EXPECT_EQ(got[r], want) << "prompt " << r;
    stopped_at_eos += !want.empty() && want.back() == eos;
  }
  EXPECT_GE(stopped_at_eos, 1);
  // Without a draft the result is the same.
  EXPECT_EQ(spir::greedy_generate(m, prompts, {}, eos, max_new), got);
}
