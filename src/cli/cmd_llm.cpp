// spir llm pretrain: the offline default language model (byte-level BPE + a small Qwen2-architecture model trained
// on the dataset's train-split text), saved as a Hugging Face folder.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "llm/lm_pretrain.h"
#include "tensor/torch_info.h"

namespace spir {

void add_llm_command(CLI::App& app) {
  auto* llm = app.add_subcommand("llm", "Language models for NetGPT (paper 4.2-4.4)");
  llm->require_subcommand(1);

  auto opt = std::make_shared<LmPretrainOptions>();
  auto dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  auto* cmd = llm->add_subcommand(
      "pretrain",
      "Learn a byte-level BPE vocabulary on the dataset's train-split text (titles, descriptions, comments in the\n"
      "prompt's JSON layout) and train a small Qwen2-architecture model on it by next-token prediction; writes a\n"
      "Hugging Face folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json,\n"
      "generation_config.json) and pretrain.json (losses, perplexity, tokens/s). The val split is the held-out set;\n"
      "the test split is never read.");
  cmd->add_option("dataset", *dir, "dataset folder written by 'spir annotate'")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", *out, "output folder (created; files in it are replaced)")->required();
  cmd->add_option("--vocab-size", opt->vocab_size, "tokens in all: 256 bytes + merges + 3 special tokens")
      ->check(CLI::Range(int64_t(260), int64_t(1) << 20))->capture_default_str();
  cmd->add_option("--min-frequency", opt->min_frequency, "BPE: least count of a merged pair")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--hidden", opt->hidden_size, "hidden size")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--layers", opt->num_layers, "decoder layers")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--heads", opt->num_heads, "attention heads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--kv-heads", opt->num_kv_heads, "key/value heads (grouped-query attention)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--intermediate", opt->intermediate_size, "SwiGLU intermediate size")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seq-len", opt->seq_len, "tokens per packed training sequence")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 16))->capture_default_str();
  cmd->add_option("--steps", opt->steps, "optimiser steps (tokens trained = steps x batch x seq-len)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch", opt->batch, "sequences per step")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lr", opt->lr, "peak AdamW learning rate (linear warm-up, cosine decay to 10%)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--warmup", opt->warmup_steps, "warm-up steps (-1: 5% of --steps)")->capture_default_str();
  cmd->add_option("--eval-every", opt->eval_every, "held-out evaluation every N steps")->capture_default_str();
  cmd->add_option("--max-comments", opt->corpus.max_comments, "comments per document (chosen at random when more)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--seed", opt->seed, "seed of initialisation, batch order and comment choice")->capture_default_str();
  cmd->add_option("--threads", *threads, "LibTorch threads (default: OMP_NUM_THREADS, else every core)")
      ->check(CLI::PositiveNumber);
  cmd->callback([opt, dir, out, threads] {
    if (*threads > 0) configure_torch_threads(*threads);
    opt->corpus.seed = opt->seed;
    const LmPretrainResult r = pretrain_lm(*dir, *out, *opt);
    std::printf("wrote %s: %lld parameters, vocab %lld, %lld tokens trained at %.0f tokens/s; held-out loss %.4f -> "
                "%.4f (perplexity %.1f; unigram %.4f); %.1f s (BPE %.1f s), peak RSS %.0f MiB\n",
                r.out_dir.c_str(), (long long)r.parameters, (long long)r.vocab_size, (long long)r.tokens_trained,
                r.tokens_per_second, r.initial_heldout_loss, r.final_heldout_loss, std::exp(r.final_heldout_loss),
                r.unigram_heldout_ce, r.seconds, r.bpe_seconds, r.peak_rss_mib);
  });
}

}  // namespace spir
