// Training of NetGPT stages 2 and 3 (paper 4.2-4.4) and of the LLM-only baseline (paper 5.1: the same prompt without
// graph tokens, LoRA on the attention projections, cross-entropy on the response, the level parsed from greedy
// output). Mini-batches of right-padded prompts, AdamW, an atomic checkpoint (parameters that train, optimizer,
// RNG, position) after every epoch and every checkpoint_steps steps, --resume; predictions.csv / model.json /
// curves.csv as src/eval/predictions.h describes.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace spir {

struct LlmTrainOptions {
  std::string model = "netgpt";     // "netgpt" (stages 2 + 3) or "llm" (LLM-only baseline with LoRA)
  std::string ablation;             // netgpt: "" or "SLF" (skip stage 2, Table VI)
  std::string llm_dir;              // Hugging Face Qwen2 folder (config.json, *.safetensors, tokenizer.json)
  std::string rgcn = "rgcn";        // stage-1 run under DS/models/ whose best.pt gives f'_v
  std::string device = "cpu";       // "cpu" or "cuda"
  int stage2_epochs = 1, stage3_epochs = 2;  // netgpt
  int lora_epochs = 2;              // llm
  int batch_size = 4;
  int eval_batch_size = 8;          // predictions (no gradients)
  int64_t max_train_samples = 2000; // random seeded subset of the labelled train split; 0 = all
  int64_t max_val_samples = 500;    // validation subset scored after every stage-3 epoch (log only); 0 = all
  std::string predict_splits = "train,val,test";  // labelled samples that get a prediction
  int64_t max_prompt_tokens = 4000; // paper 5.1
  int max_comments = 50;            // paper 5.1
  int64_t last_layers = 4;          // stage 3: trainable last decoder layers (paper 5.1)
  int64_t lora_rank = 8;
  double lora_alpha = 16;
  double stage2_lr = 1e-3, stage3_lr = 1e-4, lora_lr = 2e-4, weight_decay = 0.01;
  double clip_norm = 1.0;           // gradient-norm clip (0 = none)
  int64_t checkpoint_steps = 0;     // > 0: also checkpoint every this many optimizer steps
  int64_t log_every = 10;           // progress line every this many steps
  int64_t max_new_tokens = 0;       // llm generation cap; 0 = response length + 4
  uint64_t seed = 7;
  bool resume = false;              // continue from DS/models/<name>/checkpoint.pt
  int64_t stop_after_steps = 0;     // > 0: stop (as if killed) after this many steps of this call; for tests
};

struct LlmTrainResult {
  std::string dir;                          // DS/models/<name>
  double stage2_seconds = 0, stage3_seconds = 0, lora_seconds = 0, predict_seconds = 0;
  double stage2_last_loss = 0, stage3_last_loss = 0, lora_last_loss = 0;
  double val_mae = -1;                      // netgpt: stage-3 val MAE on the val subset after the last epoch
  int64_t predictions = 0, parse_failures = 0;
  int64_t trainable_parameters = 0, frozen_parameters = 0;  // of the last stage
  bool finished = false;                    // false when stopped by stop_after_steps
};

// The folder name of a run: "netgpt", "netgpt-SLF", "llm".
std::string llm_run_name(const LlmTrainOptions& opt);

// f'_v of every video node ([V, d_g], Eq. 8) from DS/models/<rgcn>/best.pt (with the hidden size, order and
// ablation of its model.json) in eval mode, cached in DS/models/<rgcn>/embeddings.safetensors (recomputed when
// best.pt changed).
torch::Tensor graph_embeddings(const std::string& ds_dir, const std::string& rgcn_name);

// Trains and writes DS/models/<name>/{checkpoint.pt, predictions.csv, model.json, curves.csv (netgpt)}.
LlmTrainResult train_llm_model(const std::string& ds_dir, const LlmTrainOptions& opt);

}  // namespace spir
