// Training checkpoints shared by the trainers: parameters, optimizer state, the global torch RNG and the
// early-stopping state in one file, written atomically (a kill leaves the previous checkpoint or the new one).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace spir {

// Everything besides parameters and optimizer state that must survive a kill to continue exactly.
struct CheckpointState {
  int64_t next_epoch = 0, best_epoch = -1, bad_epochs = 0;
  double best_val_mae = 1e30;
};

// Writes path atomically (path.tmp, then rename).
void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optim, const CheckpointState& st);
// Restores model, optimizer, the global CPU generator and st from path.
void load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optim, CheckpointState& st);

// Parameters only (best.pt), atomically; and back.
void save_parameters(const std::string& path, torch::nn::Module& model);
void load_parameters(const std::string& path, torch::nn::Module& model);

}  // namespace spir
