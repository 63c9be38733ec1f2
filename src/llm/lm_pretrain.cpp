// Pretraining of the default language model: BPE, packing, AdamW with warm-up and cosine decay, held-out loss.
#include "llm/lm_pretrain.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/error.h"
#include "core/json_file.h"
#include "core/process.h"
#include "core/progress.h"
#include "core/rng.h"
#include "llm/bpe_tokenizer.h"
#include "llm/bpe_trainer.h"

namespace spir {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Documents → one token stream, each document followed by <|endoftext|>.
std::vector<int32_t> encode_stream(const BpeTokenizer& tok, const std::vector<std::string>& docs, int32_t eot,
                                   const char* label, bool progress) {
  std::vector<int32_t> out;
  Progress prog(label, int64_t(docs.size()), "documents");
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto ids = tok.encode(docs[i]);
    out.insert(out.end(), ids.begin(), ids.end());
    out.push_back(eot);
    if (progress) prog.update(int64_t(i + 1));
  }
  if (progress) prog.finish(int64_t(docs.size()));
  return out;
}

// Rows [n, len] of stream windows starting at starts[i] (each len tokens), as int64.
torch::Tensor windows(const std::vector<int32_t>& stream, const std::vector<int64_t>& starts, int64_t len) {
  torch::Tensor t = torch::empty({int64_t(starts.size()), len}, torch::kLong);
  auto a = t.accessor<int64_t, 2>();
  for (size_t i = 0; i < starts.size(); ++i)
    for (int64_t j = 0; j < len; ++j) a[int64_t(i)][j] = stream[size_t(starts[i] + j)];
  return t;
}

// Mean next-token cross-entropy of rows [n, T+1] (inputs [:, :-1], targets [:, 1:]).
torch::Tensor lm_loss(Qwen2ForCausalLM& model, const torch::Tensor& rows) {
  const int64_t t = rows.size(1) - 1;
  const torch::Tensor input = rows.slice(1, 0, t), target = rows.slice(1, 1, t + 1);
  const torch::Tensor logits = model->forward(input).logits;
  return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), target.reshape({-1}));
}

// Held-out loss over fixed sequences, evaluated in batches without gradients.
double heldout_loss(Qwen2ForCausalLM& model, const std::vector<int32_t>& stream, const std::vector<int64_t>& starts,
                    int64_t len, int64_t batch) {
  torch::NoGradGuard no_grad;
  model->eval();
  double sum = 0;
  int64_t n = 0;
  for (size_t b = 0; b < starts.size(); b += size_t(batch)) {
    std::vector<int64_t> part(starts.begin() + long(b), starts.begin() + long(std::min(starts.size(), b + size_t(batch))));
    const torch::Tensor rows = windows(stream, part, len);
    const int64_t k = rows.size(0) * (len - 1);
    sum += lm_loss(model, rows).item<double>() * double(k);
    n += k;
  }
  model->train();
  return n > 0 ? sum / double(n) : NAN;
}

// Held-out cross-entropy of the add-one unigram distribution of the train stream, over the same targets.
double unigram_ce(const std::vector<int32_t>& train, const std::vector<int32_t>& held,
                  const std::vector<int64_t>& starts, int64_t len, int64_t vocab) {
  std::vector<double> count(size_t(vocab), 1.0);
  for (int32_t id : train) count[size_t(id)] += 1;
  const double total = double(train.size()) + double(vocab);
  double sum = 0;
  int64_t n = 0;
  for (int64_t s : starts)
    for (int64_t j = 1; j < len; ++j) {
      sum -= std::log(count[size_t(held[size_t(s + j)])] / total);
      ++n;
    }
  return n > 0 ? sum / double(n) : NAN;
}

// tokenizer_config.json in Qwen2's layout with the chat special tokens and a ChatML chat template.
nlohmann::ordered_json tokenizer_config(const BpeModel& m, int64_t max_len) {
  nlohmann::ordered_json decoder = nlohmann::ordered_json::object();
  for (size_t i = 0; i < m.special_tokens.size(); ++i)
    decoder[std::to_string(m.vocab.size() + i)] = {{"content", m.special_tokens[i]}, {"lstrip", false},
                                                   {"normalized", false}, {"rstrip", false},
                                                   {"single_word", false}, {"special", true}};
  nlohmann::ordered_json j;
  j["add_prefix_space"] = false;
  j["added_tokens_decoder"] = std::move(decoder);
  j["additional_special_tokens"] = {"<|im_start|>", "<|im_end|>"};
  j["bos_token"] = nullptr;
  j["chat_template"] =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
      "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  j["clean_up_tokenization_spaces"] = false;
  j["eos_token"] = "<|endoftext|>";
  j["errors"] = "replace";
  j["model_max_length"] = max_len;
  j["pad_token"] = "<|endoftext|>";
  j["split_special_tokens"] = false;
  j["tokenizer_class"] = "Qwen2Tokenizer";
  j["unk_token"] = nullptr;
  return j;
}

void write_ordered(const std::string& path, const nlohmann::ordered_json& j) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << j.dump(2, ' ', /*ensure_ascii=*/false) << "\n";
    if (!f) throw Error(path + ": cannot write");
  }
  std::filesystem::rename(tmp, path);
}

// lr at step s (0-based): linear warm-up to the peak, then cosine decay to peak × min_ratio at the last step.
double lr_at(int64_t s, int64_t steps, int64_t warmup, double peak, double min_ratio) {
  if (s < warmup) return peak * double(s + 1) / double(warmup);
  const double span = double(std::max<int64_t>(1, steps - warmup));
  const double p = std::min(1.0, double(s - warmup) / span);
  return peak * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(M_PI * p)));
}

void check_options(const LmPretrainOptions& o) {
  auto bad = [](const std::string& field, const std::string& msg) { throw Error("llm pretrain: " + field + ": " + msg); };
  if (o.vocab_size < 256 + 3 + 1) bad("--vocab-size", "must exceed the 256 byte symbols and 3 special tokens");
  if (o.hidden_size <= 0 || o.num_layers < 1 || o.intermediate_size <= 0) bad("--hidden/--layers", "must be positive");
  if (o.num_heads <= 0 || o.hidden_size % o.num_heads != 0)
    bad("--heads", std::to_string(o.num_heads) + " does not divide --hidden " + std::to_string(o.hidden_size));
  if ((o.hidden_size / o.num_heads) % 2 != 0) bad("--heads", "the head size hidden/heads must be even (rotary)");
  if (o.num_kv_heads <= 0 || o.num_heads % o.num_kv_heads != 0)
    bad("--kv-heads", std::to_string(o.num_kv_heads) + " does not divide --heads " + std::to_string(o.num_heads));
  if (o.seq_len < 2) bad("--seq-len", "must be at least 2");
  if (o.seq_len > o.max_position_embeddings) bad("--seq-len", "exceeds max_position_embeddings");
  if (o.batch < 1) bad("--batch", "must be positive");
  if (o.steps < 1) bad("--steps", "must be positive");
  if (!(o.lr > 0)) bad("--lr", "must be positive");
}

}  // namespace

Qwen2Options lm_model_options(const LmPretrainOptions& opt, int64_t vocab) {
  Qwen2Options o;
  o.vocab_size = vocab;
  o.hidden_size = opt.hidden_size;
  o.intermediate_size = opt.intermediate_size;
  o.num_hidden_layers = opt.num_layers;
  o.num_attention_heads = opt.num_heads;
  o.num_key_value_heads = opt.num_kv_heads;
  o.rms_norm_eps = 1e-6;
  o.rope_theta = opt.rope_theta;
  o.max_position_embeddings = opt.max_position_embeddings;
  o.tie_word_embeddings = true;
  o.torch_dtype = "float32";
  return o;
}

LmPretrainResult pretrain_lm_on_documents(const std::vector<std::string>& train_docs,
                                          const std::vector<std::string>& heldout_docs, const std::string& out_dir,
                                          const LmPretrainOptions& opt) {
  check_options(opt);
  if (train_docs.empty()) throw Error("llm pretrain: no training documents");
  if (heldout_docs.empty()) throw Error("llm pretrain: no held-out documents");
  const auto t0 = Clock::now();
  std::filesystem::create_directories(out_dir);
  LmPretrainResult r;
  r.out_dir = out_dir;
  r.train_documents = int64_t(train_docs.size());
  r.heldout_documents = int64_t(heldout_docs.size());

  // 1. Vocabulary (train documents only).
  BpeTrainerOptions bo;
  bo.vocab_size = opt.vocab_size - 3;
  bo.min_frequency = opt.min_frequency;
  bo.progress = opt.progress;
  const BpeModel bpe = train_bpe(train_docs, bo);
  r.bpe_seconds = bpe.seconds;
  const std::string tok_path = out_dir + "/tokenizer.json";
  write_bpe_tokenizer_json(bpe, tok_path);
  const BpeTokenizer tok = BpeTokenizer::from_file(tok_path);
  r.vocab_size = int64_t(tok.vocab_size());
  const int32_t eot = tok.token_id("<|endoftext|>");

  // 2. Token streams; fixed held-out windows; train windows of seq_len + 1 tokens at stride seq_len.
  const std::vector<int32_t> train = encode_stream(tok, train_docs, eot, "encoding train documents", opt.progress);
  const std::vector<int32_t> held = encode_stream(tok, heldout_docs, eot, "encoding held-out documents", opt.progress);
  r.train_tokens = int64_t(train.size());
  r.heldout_tokens = int64_t(held.size());
  const int64_t T = opt.seq_len, len = T + 1;
  std::vector<int64_t> train_starts;
  for (int64_t s = 0; s + len <= int64_t(train.size()); s += T) train_starts.push_back(s);
  if (train_starts.empty())
    throw Error("llm pretrain: the train stream has " + std::to_string(train.size()) + " tokens, fewer than --seq-len " +
                std::to_string(T) + " + 1");
  const int64_t eval_len = std::min<int64_t>(len, int64_t(held.size()));
  if (eval_len < 2) throw Error("llm pretrain: the held-out stream has fewer than 2 tokens");
  std::vector<int64_t> held_starts;
  for (int64_t s = 0; s + eval_len <= int64_t(held.size()) && int64_t(held_starts.size()) < opt.eval_sequences;
       s += eval_len - 1)
    held_starts.push_back(s);
  r.unigram_heldout_ce = unigram_ce(train, held, held_starts, eval_len, r.vocab_size);
  spdlog::info("llm pretrain: {} train tokens ({} sequences of {}), {} held-out tokens ({} evaluated), unigram "
               "held-out cross-entropy {:.3f} nats",
               train.size(), train_starts.size(), T, held.size(), int64_t(held_starts.size()) * (eval_len - 1),
               r.unigram_heldout_ce);

  // 3. Model and optimiser.
  torch::manual_seed(opt.seed);
  Qwen2ForCausalLM model(lm_model_options(opt, r.vocab_size));
  model->train();
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : model->named_parameters()) {
    r.parameters += p.value().numel();
    (p.value().dim() >= 2 ? decay : no_decay).push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(opt.lr).betas({0.9, 0.95}).eps(1e-8).weight_decay(opt.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(opt.lr).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.0)));
  torch::optim::AdamW adamw(groups, torch::optim::AdamWOptions(opt.lr));
  const int64_t warmup = opt.warmup_steps >= 0 ? std::max<int64_t>(1, opt.warmup_steps)
                                               : std::max<int64_t>(1, opt.steps / 20);
  spdlog::info("llm pretrain: Qwen2 model with {} parameters (hidden {}, {} layers, {} heads, {} kv heads, "
               "intermediate {}, vocab {}); {} steps of {} x {} tokens, lr {} (warm-up {})",
               r.parameters, opt.hidden_size, opt.num_layers, opt.num_heads, opt.num_kv_heads, opt.intermediate_size,
               r.vocab_size, opt.steps, opt.batch, T, opt.lr, warmup);

  // 4. Training.
  r.initial_heldout_loss = heldout_loss(model, held, held_starts, eval_len, opt.batch);
  r.curve.push_back({0, NAN, r.initial_heldout_loss, 0.0});
  spdlog::info("llm pretrain: step 0 held-out loss {:.4f} (perplexity {:.1f})", r.initial_heldout_loss,
               std::exp(r.initial_heldout_loss));
  Rng rng(opt.seed ^ 0x9E3779B97F4A7C15ull);
  std::vector<int64_t> order(train_starts.size());
  std::iota(order.begin(), order.end(), 0);
  size_t cursor = order.size();  // forces a shuffle before the first batch
  double train_sum = 0;
  int64_t train_n = 0;
  double train_secs = 0;
  Progress prog("llm pretrain", opt.steps * opt.batch * T, "tokens");
  for (int64_t step = 0; step < opt.steps; ++step) {
    std::vector<int64_t> starts;
    while (int64_t(starts.size()) < opt.batch) {
      if (cursor >= order.size()) {
        for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng.below(i))]);
        cursor = 0;
      }
      starts.push_back(train_starts[size_t(order[cursor++])]);
    }
    const torch::Tensor rows = windows(train, starts, len);
    const double lr = lr_at(step, opt.steps, warmup, opt.lr, opt.min_lr_ratio);
    for (auto& g : adamw.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    const auto ts = Clock::now();
    adamw.zero_grad();
    const torch::Tensor loss = lm_loss(model, rows);
    loss.backward();
    if (opt.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), opt.grad_clip);
    adamw.step();
    const double l = loss.item<double>();
    train_secs += seconds_since(ts);
    if (!std::isfinite(l)) throw Error("llm pretrain: the training loss is not finite at step " + std::to_string(step + 1) +
                                       " (lower --lr)");
    train_sum += l;
    ++train_n;
    r.tokens_trained += opt.batch * T;
    if (opt.progress) prog.update(r.tokens_trained);
    const bool last = step + 1 == opt.steps;
    if (last || (opt.eval_every > 0 && (step + 1) % opt.eval_every == 0)) {
      LmCurvePoint p;
      p.step = step + 1;
      p.train_loss = train_sum / double(train_n);
      p.heldout_loss = heldout_loss(model, held, held_starts, eval_len, opt.batch);
      p.lr = lr;
      r.curve.push_back(p);
      train_sum = 0;
      train_n = 0;
      spdlog::info("llm pretrain: step {}/{} train loss {:.4f}, held-out loss {:.4f} (perplexity {:.1f}), lr {:.2e}, "
                   "{:.0f} tokens/s",
                   p.step, opt.steps, p.train_loss, p.heldout_loss, std::exp(p.heldout_loss), lr,
                   double(r.tokens_trained) / std::max(train_secs, 1e-9));
    }
  }
  if (opt.progress) prog.finish(r.tokens_trained);
  r.train_seconds = train_secs;
  r.tokens_per_second = double(r.tokens_trained) / std::max(train_secs, 1e-9);
  r.final_heldout_loss = r.curve.back().heldout_loss;
  r.final_train_loss = r.curve.back().train_loss;

  // 5. The Hugging Face folder.
  model->eval();
  save_qwen2(model, out_dir);
  write_ordered(out_dir + "/tokenizer_config.json", tokenizer_config(bpe, opt.max_position_embeddings));
  nlohmann::ordered_json gen;
  gen["bos_token_id"] = eot;
  gen["eos_token_id"] = {tok.token_id("<|im_end|>"), eot};
  gen["pad_token_id"] = eot;
  gen["do_sample"] = false;
  gen["max_new_tokens"] = 32;
  write_ordered(out_dir + "/generation_config.json", gen);
  r.seconds = seconds_since(t0);
  r.peak_rss_mib = peak_rss_mib();

  nlohmann::ordered_json j;
  j["options"] = {{"vocab_size", opt.vocab_size},   {"min_frequency", opt.min_frequency},
                  {"hidden_size", opt.hidden_size}, {"num_layers", opt.num_layers},
                  {"num_heads", opt.num_heads},     {"num_kv_heads", opt.num_kv_heads},
                  {"intermediate_size", opt.intermediate_size}, {"rope_theta", opt.rope_theta},
                  {"seq_len", T},                   {"batch", opt.batch},
                  {"steps", opt.steps},             {"lr", opt.lr},
                  {"min_lr_ratio", opt.min_lr_ratio}, {"warmup_steps", warmup},
                  {"weight_decay", opt.weight_decay}, {"grad_clip", opt.grad_clip},
                  {"eval_every", opt.eval_every},   {"eval_sequences", opt.eval_sequences},
                  {"seed", opt.seed},               {"threads", torch::get_num_threads()}};
  j["corpus"] = {{"train_documents", r.train_documents}, {"heldout_documents", r.heldout_documents},
                 {"train_tokens", r.train_tokens},       {"heldout_tokens", r.heldout_tokens},
                 {"heldout_tokens_evaluated", int64_t(held_starts.size()) * (eval_len - 1)},
                 {"bpe_pretokens", bpe.pretokens_total}, {"bpe_pretokens_distinct", bpe.pretokens_unique},
                 {"bpe_merges", int64_t(bpe.merges.size())}, {"vocab_size", r.vocab_size}};
  j["parameters"] = r.parameters;
  j["initial_heldout_loss"] = r.initial_heldout_loss;
  j["final_train_loss"] = r.final_train_loss;
  j["final_heldout_loss"] = r.final_heldout_loss;
  j["final_heldout_perplexity"] = std::exp(r.final_heldout_loss);
  j["unigram_heldout_cross_entropy"] = r.unigram_heldout_ce;
  j["tokens_trained"] = r.tokens_trained;
  j["tokens_per_second"] = r.tokens_per_second;
  j["bpe_seconds"] = r.bpe_seconds;
  j["train_seconds"] = r.train_seconds;
  j["seconds"] = r.seconds;
  j["peak_rss_mib"] = r.peak_rss_mib;
  nlohmann::ordered_json curve = nlohmann::ordered_json::array();
  for (const auto& p : r.curve)
    curve.push_back({{"step", p.step},
                     {"train_loss", std::isfinite(p.train_loss) ? nlohmann::ordered_json(p.train_loss) : nullptr},
                     {"heldout_loss", p.heldout_loss},
                     {"heldout_perplexity", std::exp(p.heldout_loss)},
                     {"lr", p.lr}});
  j["curve"] = std::move(curve);
  write_ordered(out_dir + "/pretrain.json", j);
  spdlog::info("llm pretrain: wrote {} (held-out loss {:.4f} → {:.4f}, unigram {:.4f}; {:.0f} tokens/s; {:.1f} s; "
               "peak RSS {:.0f} MiB)",
               out_dir, r.initial_heldout_loss, r.final_heldout_loss, r.unigram_heldout_ce, r.tokens_per_second,
               r.seconds, r.peak_rss_mib);
  r.model = model;
  return r;
}

LmPretrainResult pretrain_lm(const std::string& dataset_dir, const std::string& out_dir, const LmPretrainOptions& opt) {
  check_options(opt);
  const Dataset d = load_dataset(dataset_dir);
  LmCorpus c = build_lm_corpus(d, opt.corpus);
  spdlog::info("llm pretrain: {} train documents ({:.1f} MB), {} held-out (val) documents, {} test videos not read",
               c.train.size(), double(c.train_bytes) / 1e6, c.heldout.size(), c.test_videos_skipped);
  if (c.train.empty())
    throw Error(dataset_dir + "/samples.csv: no train-split samples with a video (run 'spir annotate' first)");
  if (c.heldout.empty()) {
    const size_t k = std::max<size_t>(1, c.train.size() / 20);
    if (c.train.size() < 2) throw Error(dataset_dir + ": too few train documents to hold some out");
    spdlog::warn("llm pretrain: the val split is empty; holding out the last {} train documents", k);
    c.heldout.assign(c.train.end() - long(k), c.train.end());
    c.train.resize(c.train.size() - k);
  }
  return pretrain_lm_on_documents(c.train, c.heldout, out_dir, opt);
}

}  // namespace spir
