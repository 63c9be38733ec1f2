// Forward + backward throughput and peak memory of the default small language model of `spir llm pretrain`
// (Qwen2 architecture: hidden 256, 4 layers, 4 heads, 2 key/value heads, intermediate 704, vocab 8192, tied
// embeddings), on random token batches of batch × seq_len. Modes, each best run in its own process so that peak
// RSS belongs to one configuration:
//   gqa        the default model (grouped-query attention, 2 kv heads); also a per-component breakdown
//   mha        the reference: the same model with 4 kv heads (plain multi-head attention, no grouped-query sharing)
//   generate   greedy decoding of batch prompts of seq_len tokens, steps new tokens each: llm/generate.h (key/value
//              cache, one new token per step) against the reference that reads the whole sequence again per token
//   usage: bench_lm [gqa|mha|generate] [batch=16] [seq_len=256] [steps=5] [threads=2]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/process.h"
#include "llm/generate.h"
#include "llm/lm_pretrain.h"
#include "llm/qwen2.h"
#include "tensor/torch_info.h"

using namespace spir;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Mean seconds per run of f over reps runs, after one warm-up run.
template <class F>
double time_mean(int reps, F f) {
  f();
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) f();
  return since(t0) / reps;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "gqa";
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 16;
  const int64_t seq = argc > 3 ? std::atoll(argv[3]) : 256;
  const int steps = argc > 4 ? std::atoi(argv[4]) : 5;
  const int threads = configure_torch_threads(argc > 5 ? std::atoi(argv[5]) : 2);
  if (mode != "gqa" && mode != "mha" && mode != "generate") {
    std::fprintf(stderr, "usage: bench_lm [gqa|mha|generate] [batch] [seq_len] [steps] [threads]\n");
    return 2;
  }
  LmPretrainOptions lo;  // the defaults of `spir llm pretrain`
  if (mode == "mha") lo.num_kv_heads = lo.num_heads;
  Qwen2Options o = lm_model_options(lo, lo.vocab_size);
  torch::manual_seed(7);
  Qwen2ForCausalLM model(o);
  model->train();
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  const torch::Tensor rows = torch::randint(0, o.vocab_size, {batch, seq + 1}, torch::kLong);
  const torch::Tensor input = rows.slice(1, 0, seq), target = rows.slice(1, 1, seq + 1);
  const double tokens = double(batch * seq);
  if (mode == "generate") {
    model->eval();
    std::vector<std::vector<int32_t>> prompts;
    for (int64_t b = 0; b < batch; ++b) {
      const torch::Tensor r = rows[b].slice(0, 0, seq - b % 7);  // different lengths, as real prompts have
      prompts.emplace_back(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.size(0));
    }
    auto t0 = Clock::now();
    const auto cached = greedy_generate(model, prompts, {}, -1, steps);
    const double t_cached = since(t0);
    t0 = Clock::now();
    std::vector<std::vector<int32_t>> plain(prompts.size());
    {
      torch::NoGradGuard ng;
      for (size_t b = 0; b < prompts.size(); ++b) {  // the reference: one prompt at a time, no cache
        std::vector<int64_t> seq_ids(prompts[b].begin(), prompts[b].end());
        for (int i = 0; i < steps; ++i) {
          const torch::Tensor ids = torch::tensor(seq_ids, torch::kLong).view({1, -1});
          seq_ids.push_back(model->forward(ids).logits[0][-1].argmax().item<int64_t>());
          plain[b].push_back(static_cast<int32_t>(seq_ids.back()));
        }
      }
    }
    const double t_plain = since(t0);
    std::printf("bench_lm generate: %lld parameters; %lld prompts of %lld-%lld tokens, %d new tokens each\n",
                (long long)params, (long long)batch, (long long)(seq - std::min<int64_t>(batch - 1, 6)), (long long)seq, steps);
    std::printf("  cached batch (llm/generate.h): %.2f s, %.1f new tokens/s\n", t_cached, double(batch * steps) / t_cached);
    std::printf("  reference (no cache, one prompt at a time): %.2f s, %.1f new tokens/s\n", t_plain, double(batch * steps) / t_plain);
    std::printf("  ratio %.1fx; same ids: %s; threads %d, peak RSS %.0f MiB\n", t_plain / t_cached,
                cached == plain ? "yes" : "NO", threads, peak_rss_mib());
    return cached == plain ? 0 : 1;
  }
  std::printf("bench_lm %s: %s; %lld parameters (hidden %lld, %lld layers, %lld heads, %lld kv heads, intermediate "
              "%lld, vocab %lld); batch %lld x seq_len %lld = %.0f tokens per step, %d timed steps\n",
              mode.c_str(), torch_build_summary().c_str(), (long long)params, (long long)o.hidden_size,
              (long long)o.num_hidden_layers, (long long)o.num_attention_heads, (long long)o.num_key_value_heads,
              (long long)o.intermediate_size, (long long)o.vocab_size, (long long)batch, (long long)seq, tokens, steps);

  auto loss_of = [&](const torch::Tensor& in, const torch::Tensor& tg) {
    const torch::Tensor logits = model->forward(in).logits;
    return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), tg.reshape({-1}));
  };
  // Forward + backward of the whole model with the cross-entropy loss.
  const double fb = time_mean(steps, [&] {
    model->zero_grad();
    loss_of(input, target).backward();
  });
  // Forward only, no autograd graph.
  const double fwd = time_mean(steps, [&] {
    torch::NoGradGuard ng;
    loss_of(input, target);
  });
  // A full training step: forward + backward + gradient clip + AdamW update.
  torch::optim::AdamW adamw(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.1));
  const double step = time_mean(steps, [&] {
    adamw.zero_grad();
    loss_of(input, target).backward();
    torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
    adamw.step();
  });
  std::printf("  forward+backward: %.3f s/step, %.0f tokens/s\n", fb, tokens / fb);
  std::printf("  forward only:     %.3f s/step, %.0f tokens/s\n", fwd, tokens / fwd);
  std::printf("  train step (fwd+bwd+clip+AdamW): %.3f s/step, %.0f tokens/s\n", step, tokens / step);

  // Breakdown, each part forward + backward on its own input (a leaf that requires grad).
  const torch::Tensor h = torch::randn({batch, seq, o.hidden_size}).mul_(0.02).requires_grad_(true);
  const torch::Tensor pos = torch::arange(seq, torch::kLong).unsqueeze(0).expand({batch, seq});
  auto [cos, sin] = qwen2_rotary_cos_sin(pos, o.head_dim(), o.rope_theta);
  const torch::Tensor allowed = torch::ones({seq, seq}, torch::kBool).tril().view({1, 1, seq, seq});
  auto layer = (*model->model->layers)[0]->as<Qwen2DecoderLayer>();
  const double t_attn = time_mean(steps, [&] {
    model->zero_grad();
    layer->self_attn->forward(layer->input_layernorm(h), cos, sin, allowed).sum().backward();
  });
  const double t_mlp = time_mean(steps, [&] {
    model->zero_grad();
    layer->mlp->forward(layer->post_attention_layernorm(h)).sum().backward();
  });
  const double t_layer = time_mean(steps, [&] {
    model->zero_grad();
    layer->forward(h, cos, sin, allowed).sum().backward();
  });
  const double t_head = time_mean(steps, [&] {
    model->zero_grad();
    const torch::Tensor logits = torch::linear(model->model->norm(h), model->lm_head_weight());
    torch::nn::functional::cross_entropy(logits.reshape({-1, o.vocab_size}), target.reshape({-1})).backward();
  });
  std::printf("  breakdown (fwd+bwd, s/step): one decoder layer %.3f (attention %.3f, MLP %.3f) x %lld layers; "
              "final norm + LM head + cross-entropy %.3f; rest (embedding, rotary, mask, glue) %.3f\n",
              t_layer, t_attn, t_mlp, (long long)o.num_hidden_layers, t_head,
              fb - t_layer * double(o.num_hidden_layers) - t_head);
  std::printf("  threads %d, peak RSS %.0f MiB\n", threads, peak_rss_mib());
  return 0;
}
