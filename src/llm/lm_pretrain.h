// The offline default language model: a byte-level BPE vocabulary learned on the dataset's text and a small
// Qwen2-architecture model trained on it by next-token prediction, saved as a Hugging Face folder (config.json,
// model.safetensors, tokenizer.json, tokenizer_config.json, generation_config.json) that load_qwen2 and
// BpeTokenizer::from_file read like real Qwen2 weights.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "llm/lm_corpus.h"
#include "llm/qwen2.h"

namespace spir {

struct LmPretrainOptions {
  int64_t vocab_size = 8192;        // tokens in all: BPE tokens + <|endoftext|>, <|im_start|>, <|im_end|>
  int64_t min_frequency = 2;        // BPE: the least count of a pair that is merged
  int64_t hidden_size = 256;        // model width
  int64_t num_layers = 4;           // decoder layers
  int64_t num_heads = 4;            // attention heads
  int64_t num_kv_heads = 2;         // key/value heads (grouped-query attention)
  int64_t intermediate_size = 704;  // SwiGLU width
  double rope_theta = 10000.0;      // rotary base
  int64_t max_position_embeddings = 4096;
  int64_t seq_len = 256;            // tokens per packed training sequence
  int64_t batch = 8;                // sequences per step
  int64_t steps = 100;              // optimiser steps (tokens trained = steps × batch × seq_len; ~4 min on 2 cores)
  double lr = 2e-3;                 // peak AdamW learning rate
  double min_lr_ratio = 0.1;        // cosine decay ends at lr × min_lr_ratio
  int64_t warmup_steps = -1;        // linear warm-up; < 0: 5% of steps (at least 1)
  double weight_decay = 0.1;        // on matrices and embeddings only (not norms, not biases)
  double grad_clip = 1.0;           // global gradient-norm clip (<= 0: none)
  int64_t eval_every = 50;          // held-out evaluation every this many steps (and at 0 and the end)
  int64_t eval_sequences = 32;      // held-out sequences per evaluation (the first ones of the held-out stream)
  uint64_t seed = 7;                // model initialisation and batch order
  bool progress = true;             // progress lines
  LmCorpusOptions corpus;           // how documents are built from a dataset
};

// One evaluation point of the learning curve.
struct LmCurvePoint {
  int64_t step = 0;
  double train_loss = NAN;    // mean training loss of the steps since the previous point (NaN at step 0)
  double heldout_loss = NAN;  // mean next-token cross-entropy (nats) on the held-out sequences
  double lr = 0;
};

struct LmPretrainResult {
  std::string out_dir;
  Qwen2ForCausalLM model{nullptr};  // the trained model (also saved in out_dir)
  int64_t parameters = 0;
  int64_t vocab_size = 0;           // tokenizer and model rows
  int64_t train_documents = 0, heldout_documents = 0;
  int64_t train_tokens = 0, heldout_tokens = 0;  // tokens of the encoded streams
  int64_t tokens_trained = 0;       // input tokens over all steps
  double initial_heldout_loss = NAN, final_heldout_loss = NAN, final_train_loss = NAN;
  double unigram_heldout_ce = NAN;  // held-out cross-entropy of the train unigram distribution (add-one), nats
  double bpe_seconds = 0, train_seconds = 0, seconds = 0;
  double tokens_per_second = 0;     // training steps only (forward + backward + update)
  double peak_rss_mib = 0;
  std::vector<LmCurvePoint> curve;
};

// The Qwen2 configuration of the options for a vocabulary of vocab rows (tied embeddings, float32).
Qwen2Options lm_model_options(const LmPretrainOptions& opt, int64_t vocab);

// Learns the BPE on train_docs, trains the model on the packed train stream (documents joined by <|endoftext|>),
// evaluates on heldout_docs, and writes out_dir (model, tokenizer files, pretrain.json with the curve).
LmPretrainResult pretrain_lm_on_documents(const std::vector<std::string>& train_docs,
                                          const std::vector<std::string>& heldout_docs, const std::string& out_dir,
                                          const LmPretrainOptions& opt);

// The same on a dataset folder: train-split documents train, val-split documents are held out (when the val split
// is empty, the last 5% of the train documents are held out instead); the test split is never read.
LmPretrainResult pretrain_lm(const std::string& dataset_dir, const std::string& out_dir, const LmPretrainOptions& opt);

}  // namespace spir
