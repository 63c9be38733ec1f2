#include "train/llm_trainer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "core/error.h"
#include "data/dataset.h"
#include "eval/metrics.h"
#include "eval/predictions.h"
#include "features/node_features.h"
#include "llm/bpe_tokenizer.h"
#include "llm/generate.h"
#include "llm/lora.h"
#include "llm/netgpt.h"
#include "llm/prompt.h"
#include "llm/qwen2.h"
#include "models/rgcn.h"
#include "tensor/safetensors_torch.h"

namespace spir {

namespace fs = std::filesystem;

std::string llm_run_name(const LlmTrainOptions& opt) {
  return opt.ablation.empty() ? opt.model : opt.model + "-" + opt.ablation;
}

// ---------------------------------------------------------------------------------------------------------------
// Stage-1 embeddings

torch::Tensor graph_embeddings(const std::string& ds_dir, const std::string& rgcn_name) {
  const std::string dir = model_dir(ds_dir, rgcn_name);
  const std::string best = dir + "/best.pt", cache = dir + "/embeddings.safetensors";
  if (!fs::exists(best))
    throw Error(best + " is missing: train stage 1 first (spir train " + ds_dir + " --model rgcn)");
  std::ostringstream stamp;
  stamp << fs::file_size(best) << ":" << fs::last_write_time(best).time_since_epoch().count();
  if (fs::exists(cache)) {
    auto file = SafetensorsFile::open(cache);
    auto it = file->metadata().find("source_stamp");
    if (it != file->metadata().end() && it->second == stamp.str() && file->contains("embedding"))
      return safetensors_tensor(file, "embedding", /*to_float32=*/true).clone();
  }
  const nlohmann::json info = load_model_info(dir);
  RgcnOptions ro;
  if (!info.contains("hidden") || !info["hidden"].is_number_integer())
    throw Error(dir + "/model.json: field 'hidden': missing or not an integer");
  ro.hidden = info["hidden"].get<int64_t>();
  ro.dropout = 0;
  const std::string order = info.value("order", std::string("ctime"));
  const std::string ablation = info.value("ablation", std::string());
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = load_dataset(ds_dir);
  const PropagationGraph g = build_graph(d.set, d.samples, {parse_graph_order(order)});
  const NodeFeatures f = load_features(ds_dir, g);
  const GraphModelInputs in = make_graph_model_inputs(g, f, Ablation::parse(ablation));
  Rgcn model(in, ro);
  torch::serialize::InputArchive archive;
  archive.load_from(best);
  model->load(archive);
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor emb = model->forward(in).embedding.to(torch::kFloat32).contiguous();  // Eq. 8
  save_safetensors(cache, {{"embedding", emb}}, {{"source", best}, {"source_stamp", stamp.str()}});
  spdlog::info("graph embeddings: {} x {} from {} in {:.1f} s, cached in {}", emb.size(0), emb.size(1), best,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), cache);
  return emb;
}

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Checkpoints

// Where a run stands: the phase (0 = LoRA training, 2 = stage 2, 3 = stage 3, 4 = training done), the epoch and the
// batches done in it, and the seconds spent per phase so far.
struct RunState {
  int64_t phase = 0, epoch = 0, step = 0;
  double seconds[5] = {0, 0, 0, 0, 0};
  double last_loss[5] = {0, 0, 0, 0, 0};
};

std::string archive_key(const std::string& name) {
  std::string k = name;
  for (char& c : k)
    if (c == '.') c = '_';
  return "p_" + k;
}

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

void save_checkpoint(const std::string& path, const NamedTensors& params, torch::optim::Optimizer* optim,
                     const RunState& st) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, t] : params) archive.write(archive_key(name), t.detach().cpu());
  if (optim) {
    torch::serialize::OutputArchive oa;
    optim->save(oa);
    archive.write("optimizer", oa);
  }
  archive.write("has_optimizer", torch::tensor(static_cast<int64_t>(optim != nullptr)));
  archive.write("phase", torch::tensor(st.phase));
  archive.write("epoch", torch::tensor(st.epoch));
  archive.write("step", torch::tensor(st.step));
  archive.write("seconds", torch::tensor(std::vector<double>(st.seconds, st.seconds + 5), torch::kFloat64));
  archive.write("last_loss", torch::tensor(std::vector<double>(st.last_loss, st.last_loss + 5), torch::kFloat64));
  archive.write("rng_state", at::detail::getDefaultCPUGenerator().get_state());
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  fs::rename(tmp, path);  // atomic: a kill leaves the previous checkpoint or the new one
}

// Reads the parameters and the run state; the optimizer state is read by load_optimizer once it exists.
RunState load_checkpoint(const std::string& path, const NamedTensors& params, torch::serialize::InputArchive& archive) {
  archive.load_from(path);
  auto read = [&](const std::string& key) {
    torch::Tensor t;
    archive.read(key, t);
    return t;
  };
  {
    torch::NoGradGuard no_grad;
    for (const auto& [name, t] : params) {
      const torch::Tensor src = read(archive_key(name));
      if (src.sizes() != t.sizes()) throw Error(path + ": tensor '" + name + "' has another shape than the model's");
      torch::Tensor dst = t;
      dst.copy_(src);
    }
  }
  RunState st;
  st.phase = read("phase").item<int64_t>();
  st.epoch = read("epoch").item<int64_t>();
  st.step = read("step").item<int64_t>();
  const torch::Tensor s = read("seconds").contiguous(), l = read("last_loss").contiguous();
  for (int i = 0; i < 5; ++i) st.seconds[i] = s.data_ptr<double>()[i], st.last_loss[i] = l.data_ptr<double>()[i];
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(read("rng_state"));
  return st;
}

bool checkpoint_has_optimizer(torch::serialize::InputArchive& archive) {
  torch::Tensor t;
  archive.read("has_optimizer", t);
  return t.item<int64_t>() != 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Data

std::vector<Split> parse_splits(const std::string& s) {
  std::vector<Split> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part == "train") out.push_back(Split::kTrain);
    else if (part == "val") out.push_back(Split::kVal);
    else if (part == "test") out.push_back(Split::kTest);
    else if (!part.empty()) throw Error("--predict: unknown split '" + part + "' (train, val, test)");
  }
  return out;
}

// A seeded random subset of ids (all when n is 0 or at least their number), in id order.
std::vector<int64_t> subset(std::vector<int64_t> ids, int64_t n, uint64_t seed) {
  if (n <= 0 || static_cast<int64_t>(ids.size()) <= n) return ids;
  std::mt19937_64 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.resize(static_cast<size_t>(n));
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Everything a training phase needs to read a sample.
struct Corpus {
  const Dataset* d = nullptr;
  const BpeTokenizer* tok = nullptr;
  PromptTokens tokens;
  PromptOptions prompt;
  torch::Tensor graph;  // [V, d_g] or undefined
  std::map<int64_t, EncodedPrompt> cache;
  int64_t truncated = 0;

  const EncodedPrompt& prompt_of(int64_t id) {
    auto it = cache.find(id);
    if (it != cache.end()) return it->second;
    EncodedPrompt p = encode_prompt(*tok, *d, d->samples.at(static_cast<size_t>(id)), prompt);
    truncated += p.truncated;
    return cache.emplace(id, std::move(p)).first->second;
  }
  int level_of(int64_t id) const { return d->samples.at(static_cast<size_t>(id)).level; }
  // The batch of these samples' instructions; with responses when with_response (stage 2, LoRA).
  TokenBatch batch(const std::vector<int64_t>& ids, bool with_response) {
    std::vector<std::vector<int32_t>> ins, res;
    for (int64_t id : ids) {
      ins.push_back(prompt_of(id).ids);
      if (with_response) res.push_back(encode_response(*tok, tokens, level_of(id)));
    }
    TokenBatch b = make_token_batch(ins, res);
    if (graph.defined()) b.graph = graph.index_select(0, torch::tensor(ids, torch::kLong));
    return b;
  }
};

// The shuffled order of one epoch: a function of (seed, phase, epoch) only, so a resumed epoch sees the same order.
std::vector<int64_t> epoch_order(const std::vector<int64_t>& ids, uint64_t seed, int64_t phase, int64_t epoch) {
  std::vector<int64_t> order = ids;
  std::mt19937_64 rng(seed * 1000003u + static_cast<uint64_t>(phase) * 7919u + static_cast<uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

std::vector<torch::Tensor> trainable(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

std::string fmt_count(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Training

LlmTrainResult train_llm_model(const std::string& ds_dir, const LlmTrainOptions& opt) {
  const bool netgpt = opt.model == "netgpt";
  if (!netgpt && opt.model != "llm") throw Error("LLM model '" + opt.model + "' is unknown (netgpt, llm)");
  if (!opt.ablation.empty() && !(netgpt && opt.ablation == "SLF"))
    throw Error("ablation '" + opt.ablation + "' does not apply to " + opt.model + " (netgpt: SLF)");
  if (opt.llm_dir.empty()) throw Error("--llm DIR is required (a Qwen2 folder, e.g. from spir llm pretrain)");
  if (opt.batch_size <= 0 || opt.eval_batch_size <= 0) throw Error("batch sizes must be positive");
  torch::Device device(torch::kCPU);
  if (opt.device == "cuda") {
    if (!torch::cuda::is_available())
      throw Error("--device cuda: this LibTorch has no CUDA support or no GPU is visible (use --device cpu)");
    device = torch::Device(torch::kCUDA);
  } else if (opt.device != "cpu") {
    throw Error("--device '" + opt.device + "' is unknown (cpu, cuda)");
  }
  const auto t_start = std::chrono::steady_clock::now();
  const std::string name = llm_run_name(opt);
  LlmTrainResult result;
  result.dir = model_dir(ds_dir, name);
  fs::create_directories(result.dir);
  const std::string checkpoint = result.dir + "/checkpoint.pt";
  const std::string curves = curves_path(ds_dir, name);

  // Data: labelled samples by split.
  const Dataset d = load_dataset(ds_dir);
  std::vector<int64_t> train_all, val_all;
  double level_sum = 0;
  for (const Sample& s : d.samples) {
    if (s.level < 0) continue;
    if (s.split == Split::kTrain) train_all.push_back(s.id), level_sum += s.level;
    else if (s.split == Split::kVal) val_all.push_back(s.id);
  }
  for (size_t i = 0; i < d.samples.size(); ++i)
    if (d.samples[i].id != static_cast<int64_t>(i)) throw Error(ds_dir + "/samples.csv: sample ids must be 0..n-1 in order");
  if (train_all.empty()) throw Error(ds_dir + ": no labelled train sample");
  const double train_mean = level_sum / static_cast<double>(train_all.size());
  const std::vector<int64_t> train_ids = subset(train_all, opt.max_train_samples, opt.seed);
  const std::vector<int64_t> val_ids = subset(val_all, opt.max_val_samples, opt.seed + 1);
  const std::vector<Split> pred_splits = parse_splits(opt.predict_splits);
  torch::Tensor stage1_embeddings;
  std::vector<int64_t> pred_ids;
  for (const Sample& s : d.samples)
    if (s.level >= 0 && std::find(pred_splits.begin(), pred_splits.end(), s.split) != pred_splits.end()) pred_ids.push_back(s.id);

  // Stage-1 embeddings first: computing them (on a cache miss) builds an RGCN, which draws from the RNG; the seed
  // below must leave the projector's and predictor's initial values the same whether or not the cache was warm.
  if (netgpt) stage1_embeddings = graph_embeddings(ds_dir, opt.rgcn);

  // The LLM and tokenizer, with the prompt's special tokens added.
  torch::manual_seed(static_cast<int64_t>(opt.seed));
  BpeTokenizer tok = BpeTokenizer::from_file(opt.llm_dir + "/tokenizer.json");
  Corpus corpus;
  corpus.d = &d;
  corpus.tok = &tok;
  corpus.tokens = add_prompt_tokens(tok);
  corpus.prompt.graph = netgpt;
  corpus.prompt.max_comments = opt.max_comments;
  corpus.prompt.max_tokens = opt.max_prompt_tokens;
  corpus.prompt.seed = opt.seed;
  Qwen2ForCausalLM llm = load_qwen2(opt.llm_dir);
  const int64_t old_vocab = llm->options().vocab_size;
  if (static_cast<int64_t>(tok.vocab_size()) > old_vocab) llm->resize_token_embeddings(static_cast<int64_t>(tok.vocab_size()));
  llm->to(device);
  spdlog::info("train {}: LLM {} ({} layers, hidden {}, vocabulary {} -> {}), device {}", name, opt.llm_dir,
               llm->options().num_hidden_layers, llm->options().hidden_size, old_vocab, llm->options().vocab_size,
               opt.device);

  NetGpt net{nullptr};
  LoraAdapters lora{nullptr};
  NamedTensors stored;  // what a checkpoint holds
  if (netgpt) {
    corpus.graph = stage1_embeddings;
    if (corpus.graph.size(0) != static_cast<int64_t>(d.samples.size()))
      throw Error(model_dir(ds_dir, opt.rgcn) + "/embeddings.safetensors: " + std::to_string(corpus.graph.size(0)) +
                  " rows for " + std::to_string(d.samples.size()) + " samples (retrain stage 1 on this dataset)");
    net = NetGpt(llm, corpus.graph.size(1), corpus.tokens);
    stored = net->stored_parameters(opt.last_layers);
  } else {
    LoraOptions lo;
    lo.rank = opt.lora_rank;
    lo.alpha = opt.lora_alpha;
    lora = LoraAdapters(llm, lo);
    lora->to(device);
    for (const auto& item : lora->named_parameters()) stored.emplace_back("lora." + item.key(), item.value());
  }

  RunState st;
  st.phase = netgpt ? (opt.ablation == "SLF" ? 3 : 2) : 0;
  torch::serialize::InputArchive resume_archive;
  bool resumed_optimizer = false;
  if (opt.resume && fs::exists(checkpoint)) {
    st = load_checkpoint(checkpoint, stored, resume_archive);
    resumed_optimizer = checkpoint_has_optimizer(resume_archive);
    spdlog::info("train {}: resumed from {} at phase {}, epoch {}, step {}", name, checkpoint, st.phase, st.epoch + 1, st.step);
  } else if (fs::exists(curves)) {
    fs::remove(curves);
  }

  // Training curves (Figure 9) over the train subset, from the stage-3 predictions made while training.
  std::map<int64_t, double> running_pred;
  int64_t steps_this_call = 0;
  bool stopped = false;
  ParameterCounts counts;

  // One phase: epochs of shuffled mini-batches; loss_fn returns the loss of a batch (and may record predictions).
  auto run_phase = [&](int64_t phase, int epochs, double lr, torch::nn::Module& module,
                       const std::function<torch::Tensor(const std::vector<int64_t>&, int64_t&)>& loss_fn,
                       const std::function<void(int64_t)>& end_of_epoch) {
    if (st.phase != phase) return;
    std::vector<torch::Tensor> params = trainable(module);
    counts = count_parameters(module);
    spdlog::info("train {} phase {}: {} trainable parameters, {} frozen; {} train samples, {} epochs, batch {}, lr {}", name,
                 phase == 0 ? std::string("LoRA") : "stage " + std::to_string(phase), fmt_count(counts.trainable),
                 fmt_count(counts.frozen), train_ids.size(), epochs, opt.batch_size, lr);
    torch::optim::AdamW optim(params, torch::optim::AdamWOptions(lr).weight_decay(opt.weight_decay));
    if (resumed_optimizer) {
      torch::serialize::InputArchive oa;
      resume_archive.read("optimizer", oa);
      optim.load(oa);
      resumed_optimizer = false;
    }
    const int64_t bs = opt.batch_size;
    const int64_t steps_per_epoch = (static_cast<int64_t>(train_ids.size()) + bs - 1) / bs;
    for (; st.epoch < epochs; ++st.epoch, st.step = 0) {
      const std::vector<int64_t> order = epoch_order(train_ids, opt.seed, phase, st.epoch);
      auto t_log = std::chrono::steady_clock::now();
      int64_t tokens_since = 0;
      double loss_sum = 0;
      int64_t loss_n = 0;
      module.train();
      for (; st.step < steps_per_epoch; ++st.step) {
        if (opt.stop_after_steps > 0 && steps_this_call == opt.stop_after_steps) {
          stopped = true;
          return;
        }
        const auto t_step = std::chrono::steady_clock::now();
        const size_t from = static_cast<size_t>(st.step * bs);
        const std::vector<int64_t> ids(order.begin() + static_cast<std::ptrdiff_t>(from),
                                       order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), from + static_cast<size_t>(bs))));
        int64_t tokens = 0;
        const torch::Tensor loss = loss_fn(ids, tokens);
        optim.zero_grad();
        loss.backward();
        if (opt.clip_norm > 0) torch::nn::utils::clip_grad_norm_(params, opt.clip_norm);
        optim.step();
        const double l = loss.item<double>();
        loss_sum += l, ++loss_n;
        st.last_loss[phase] = l;
        tokens_since += tokens;
        ++steps_this_call;
        st.seconds[phase] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_step).count();
        if ((st.step + 1) % std::max<int64_t>(opt.log_every, 1) == 0 || st.step + 1 == steps_per_epoch) {
          const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_log).count();
          spdlog::info("train {} phase {} epoch {}/{} step {}/{}: loss {:.4f} (epoch mean {:.4f}), {:.0f} tokens/s", name,
                       phase, st.epoch + 1, epochs, st.step + 1, steps_per_epoch, l, loss_sum / static_cast<double>(loss_n),
                       dt > 0 ? static_cast<double>(tokens_since) / dt : 0.0);
          t_log = std::chrono::steady_clock::now();
          tokens_since = 0;
        }
        if (opt.checkpoint_steps > 0 && steps_this_call % opt.checkpoint_steps == 0 && st.step + 1 < steps_per_epoch) {
          RunState next = st;
          ++next.step;
          save_checkpoint(checkpoint, stored, &optim, next);
        }
      }
      if (end_of_epoch) end_of_epoch(st.epoch);
      RunState next = st;
      ++next.epoch;
      next.step = 0;
      if (next.epoch >= epochs) {  // phase done: the next one starts with a fresh optimizer
        next.phase = phase == 0 ? 4 : phase + 1;
        next.epoch = 0;
        save_checkpoint(checkpoint, stored, nullptr, next);
      } else {
        save_checkpoint(checkpoint, stored, &optim, next);
      }
    }
    st.phase = phase == 0 ? 4 : phase + 1;
    st.epoch = 0;
    st.step = 0;
  };

  std::vector<Prediction> preds;
  nlohmann::json stage_counts = nlohmann::json::object();
  if (netgpt) {
    // Stage 2 (Eq. 10-11): only the projector and the graph start/end embeddings train.
    net->set_stage(NetGptStage::kLanguage, opt.last_layers);
    const ParameterCounts c2 = count_parameters(*net);
    stage_counts["stage2"] = {{"trainable", c2.trainable}, {"frozen", c2.frozen}};
    run_phase(2, opt.stage2_epochs, opt.stage2_lr, *net,
              [&](const std::vector<int64_t>& ids, int64_t& tokens) {
                const TokenBatch b = corpus.batch(ids, /*with_response=*/true);
                tokens = b.tokens;
                return net->language_loss(b);
              }, nullptr);
    // Stage 3 (Eq. 13-14): the predictor, the projector, graph start/end and the last k decoder layers.
    net->set_stage(NetGptStage::kPredictor, opt.last_layers);
    const ParameterCounts c3 = count_parameters(*net);
    stage_counts["stage3"] = {{"trainable", c3.trainable}, {"frozen", c3.frozen}};
    if (!stopped) {
      run_phase(3, opt.stage3_epochs, opt.stage3_lr, *net,
                [&](const std::vector<int64_t>& ids, int64_t& tokens) {
                  const TokenBatch b = corpus.batch(ids, /*with_response=*/false);
                  tokens = b.tokens;
                  const torch::Tensor pred = net->predict(b);
                  const torch::Tensor y = torch::tensor(std::vector<float>([&] {
                                                          std::vector<float> v;
                                                          for (int64_t id : ids) v.push_back(static_cast<float>(corpus.level_of(id)));
                                                          return v;
                                                        }()))
                                              .to(pred.device());
                  const torch::Tensor p = pred.detach().to(torch::kFloat64).cpu().contiguous();
                  for (size_t k = 0; k < ids.size(); ++k) running_pred[ids[k]] = p.data_ptr<double>()[k];
                  return torch::nn::functional::smooth_l1_loss(pred, y);  // Eq. 14
                },
                [&](int64_t epoch) {
                  // Figure 9 curves from this epoch's training predictions; the val subset's MAE for the log.
                  std::vector<ScoredSample> rows;
                  for (const auto& [id, p] : running_pred) {
                    const Sample& s = d.samples[static_cast<size_t>(id)];
                    rows.push_back({s.level, p, s.observed_days, d.set.videos[static_cast<size_t>(s.video)].platform});
                  }
                  append_curve_points(curves, curve_points_at(epoch + 1, rows));
                  if (val_ids.empty()) return;
                  torch::NoGradGuard no_grad;
                  net->eval();
                  double err = 0;
                  for (size_t i = 0; i < val_ids.size(); i += static_cast<size_t>(opt.eval_batch_size)) {
                    const std::vector<int64_t> ids(val_ids.begin() + static_cast<std::ptrdiff_t>(i),
                                                   val_ids.begin() + static_cast<std::ptrdiff_t>(std::min(val_ids.size(), i + static_cast<size_t>(opt.eval_batch_size))));
                    const torch::Tensor p = net->predict(corpus.batch(ids, false)).cpu().to(torch::kFloat64).contiguous();
                    for (size_t k = 0; k < ids.size(); ++k) err += std::abs(p.data_ptr<double>()[k] - corpus.level_of(ids[k]));
                  }
                  net->train();
                  result.val_mae = err / static_cast<double>(val_ids.size());
                  spdlog::info("train {} stage 3 epoch {}: val MAE {:.4f} on {} val samples", name, epoch + 1, result.val_mae,
                               val_ids.size());
                });
    }
  } else {
    const ParameterCounts cl = count_parameters(*llm) , ca = count_parameters(*lora);
    stage_counts["lora"] = {{"trainable", ca.trainable}, {"frozen", cl.frozen}};
    // LoRA counts: the adapters train, the whole base model is frozen.
    torch::nn::Module both;  // a view over the base model and the adapters, for the counts and the optimizer
    both.register_module("llm", llm.ptr());
    both.register_module("lora", lora.ptr());
    run_phase(0, opt.lora_epochs, opt.lora_lr, both,
              [&](const std::vector<int64_t>& ids, int64_t& tokens) {
                const TokenBatch b = corpus.batch(ids, /*with_response=*/true);
                tokens = b.tokens;
                lora->refresh();  // the merged weights are part of this step's graph
                const Qwen2Output out = llm->model->forward(llm->embed(b.ids.to(device)), b.mask.to(device));
                return response_lm_loss(out.last_hidden_state, llm->lm_head_weight(), b.labels);
              }, nullptr);
  }
  result.trainable_parameters = counts.trainable;
  result.frozen_parameters = counts.frozen;
  result.stage2_seconds = st.seconds[2];
  result.stage3_seconds = st.seconds[3];
  result.lora_seconds = st.seconds[0];
  result.stage2_last_loss = st.last_loss[2];
  result.stage3_last_loss = st.last_loss[3];
  result.lora_last_loss = st.last_loss[0];
  if (stopped) return result;  // interrupted on purpose: no predictions yet

  // Predictions for every labelled sample of the chosen splits, in batches of similar prompt length.
  const auto t_pred = std::chrono::steady_clock::now();
  std::vector<int64_t> order = pred_ids;
  for (int64_t id : order) corpus.prompt_of(id);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return corpus.prompt_of(a).ids.size() < corpus.prompt_of(b).ids.size();
  });
  std::vector<int32_t> draft;  // the tokens every response starts with
  std::vector<int32_t> tokens_response;
  {
    draft = tok.encode(response_text(0));
    for (int y = 1; y <= 9; ++y) {
      const std::vector<int32_t> r = tok.encode(response_text(y));
      size_t k = 0;
      while (k < draft.size() && k < r.size() && draft[k] == r[k]) ++k;
      draft.resize(k);
    }
  }
  const int64_t max_new = opt.max_new_tokens > 0 ? opt.max_new_tokens
                                                 : static_cast<int64_t>(encode_response(tok, corpus.tokens, 9).size()) + 4;
  int64_t done = 0, pred_tokens = 0;
  auto t_log = std::chrono::steady_clock::now();
  if (net) net->eval();
  llm->eval();
  if (lora) {
    torch::NoGradGuard no_grad;
    lora->refresh();  // the trained adapters, merged once for every generation pass
  }
  std::string example_output;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(opt.eval_batch_size)) {
    const std::vector<int64_t> ids(order.begin() + static_cast<std::ptrdiff_t>(i),
                                   order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + static_cast<size_t>(opt.eval_batch_size))));
    if (netgpt) {
      torch::NoGradGuard no_grad;
      const TokenBatch b = corpus.batch(ids, false);
      pred_tokens += b.tokens;
      const torch::Tensor p = net->predict(b).cpu().to(torch::kFloat64).contiguous();
      for (size_t k = 0; k < ids.size(); ++k) preds.push_back({ids[k], p.data_ptr<double>()[k]});
    } else {
      std::vector<std::vector<int32_t>> prompts;
      for (int64_t id : ids) prompts.push_back(corpus.prompt_of(id).ids), pred_tokens += static_cast<int64_t>(prompts.back().size());
      const auto gen = greedy_generate(llm, prompts, draft, corpus.tokens.im_end, max_new);
      for (size_t k = 0; k < ids.size(); ++k) {
        const std::string text = tok.decode(gen[k], /*skip_special=*/true);
        if (example_output.empty()) example_output = text;
        const int level = parse_level(text);
        if (level < 0) ++result.parse_failures;
        preds.push_back({ids[k], level < 0 ? train_mean : static_cast<double>(level)});
      }
    }
    done += static_cast<int64_t>(ids.size());
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_log).count();
    if (dt > 10 || done == static_cast<int64_t>(order.size())) {
      spdlog::info("predict {}: {}/{} samples, {:.0f} prompt tokens/s", name, done, order.size(),
                   static_cast<double>(pred_tokens) / std::max(dt, 1e-9));
      t_log = std::chrono::steady_clock::now();
      pred_tokens = 0;
    }
  }
  std::sort(preds.begin(), preds.end(), [](const Prediction& a, const Prediction& b) { return a.sample_id < b.sample_id; });
  save_predictions(result.dir + "/predictions.csv", preds);
  result.predict_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_pred).count();
  result.predictions = static_cast<int64_t>(preds.size());
  result.finished = true;
  if (!netgpt && result.parse_failures > 0)
    spdlog::warn("predict {}: {} of {} generated answers had no level 0-9; they count as the train mean {:.4f}", name,
                 result.parse_failures, preds.size(), train_mean);

  nlohmann::json info = {{"model", opt.model},
                         {"input", netgpt ? "Graph+Text" : "Text"},
                         {"ablation", opt.ablation},
                         {"llm", opt.llm_dir},
                         {"llm_layers", llm->options().num_hidden_layers},
                         {"llm_hidden", llm->options().hidden_size},
                         {"device", opt.device},
                         {"batch_size", opt.batch_size},
                         {"train_samples", train_ids.size()},
                         {"train_samples_available", train_all.size()},
                         {"predicted_splits", opt.predict_splits},
                         {"predictions", result.predictions},
                         {"max_prompt_tokens", opt.max_prompt_tokens},
                         {"max_comments", opt.max_comments},
                         {"prompts_truncated", corpus.truncated},
                         {"prompts_encoded", corpus.cache.size()},
                         {"parameters", stage_counts},
                         {"trainable_parameters", result.trainable_parameters},
                         {"frozen_parameters", result.frozen_parameters},
                         {"predict_seconds", result.predict_seconds},
                         {"seed", opt.seed},
                         {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count()}};
  if (netgpt) {
    info["rgcn"] = opt.rgcn;
    info["d_graph"] = corpus.graph.size(1);
    info["last_layers"] = opt.last_layers;
    info["stage2_epochs"] = opt.ablation == "SLF" ? 0 : opt.stage2_epochs;
    info["stage3_epochs"] = opt.stage3_epochs;
    info["stage2_lr"] = opt.stage2_lr;
    info["stage3_lr"] = opt.stage3_lr;
    info["stage2_seconds"] = result.stage2_seconds;
    info["stage3_seconds"] = result.stage3_seconds;
    info["stage2_last_loss"] = result.stage2_last_loss;
    info["stage3_last_loss"] = result.stage3_last_loss;
    info["val_mae_subset"] = result.val_mae;
  } else {
    info["lora_rank"] = opt.lora_rank;
    info["lora_alpha"] = opt.lora_alpha;
    info["lora_targets"] = lora->options().targets;
    info["lora_epochs"] = opt.lora_epochs;
    info["lora_lr"] = opt.lora_lr;
    info["lora_seconds"] = result.lora_seconds;
    info["lora_last_loss"] = result.lora_last_loss;
    info["parse_failures"] = result.parse_failures;
    info["parse_failure_prediction"] = "train mean level";
    info["train_mean_level"] = train_mean;
    info["example_output"] = example_output;
  }
  save_model_info(result.dir, info);
  return result;
}

}  // namespace spir
