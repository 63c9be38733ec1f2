#include "train/checkpoint.h"

#include <filesystem>

#include "core/error.h"

namespace spir {

namespace fs = std::filesystem;

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optim, const CheckpointState& st) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  torch::serialize::OutputArchive optim_archive;
  optim.save(optim_archive);
  archive.write("optimizer", optim_archive);
  archive.write("next_epoch", torch::tensor(st.next_epoch));
  archive.write("best_epoch", torch::tensor(st.best_epoch));
  archive.write("bad_epochs", torch::tensor(st.bad_epochs));
  archive.write("best_val_mae", torch::tensor(st.best_val_mae, torch::kFloat64));
  archive.write("rng_state", at::detail::getDefaultCPUGenerator().get_state());
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  fs::rename(tmp, path);
}

void load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optim, CheckpointState& st) {
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  model.load(archive);
  torch::serialize::InputArchive optim_archive;
  archive.read("optimizer", optim_archive);
  optim.load(optim_archive);
  auto read = [&](const char* key) {  // a fresh tensor per key: read() into a defined tensor would resize it
    torch::Tensor t;
    archive.read(key, t);
    return t;
  };
  st.next_epoch = read("next_epoch").item<int64_t>();
  st.best_epoch = read("best_epoch").item<int64_t>();
  st.bad_epochs = read("bad_epochs").item<int64_t>();
  st.best_val_mae = read("best_val_mae").item<double>();
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
  generator.set_state(read("rng_state"));
}

void save_parameters(const std::string& path, torch::nn::Module& model) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  archive.save_to(path + ".tmp");
  fs::rename(path + ".tmp", path);
}

void load_parameters(const std::string& path, torch::nn::Module& model) {
  if (!fs::exists(path)) throw Error(path + ": no saved parameters");
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  model.load(archive);
}

}  // namespace spir
